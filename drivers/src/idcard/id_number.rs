//! Citizen ID numbers (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit sequence
//! (odd male, even female) and a check character by ISO 7064 MOD 11-2. Residence permits
//! (regions 810000 / 820000 / 830000) and the 2023 foreigner card (leading 9) use the same rule.

/// Weights of positions 1..17.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character by S mod 11.
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Why an ID number is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("an ID number has 18 characters, this one has {0}")]
    Length(usize),
    #[error("the first 17 characters of an ID number are digits")]
    NotDigits,
    #[error("the check character is {found}, the digits give {expected}")]
    CheckDigit { expected: char, found: char },
    #[error("the birth date inside the ID number is not a real date")]
    BirthDate,
}

/// The check character for the first 17 digits, or `None` when they are not 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    let digits: Vec<u32> = first17
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    if digits.len() != 17 {
        return None;
    }
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    Some(CHECK[(sum % 11) as usize])
}

/// Checks length, digits, the check character and the embedded birth date.
pub fn validate(id: &str) -> Result<(), IdNumberError> {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() != 18 {
        return Err(IdNumberError::Length(chars.len()));
    }
    let first17: String = chars[..17].iter().collect();
    let expected = check_char(&first17).ok_or(IdNumberError::NotDigits)?;
    let found = chars[17].to_ascii_uppercase();
    if found != expected {
        return Err(IdNumberError::CheckDigit { expected, found });
    }
    let birth = &first17[6..14];
    if chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
        return Err(IdNumberError::BirthDate);
    }
    Ok(())
}

pub fn is_valid(id: &str) -> bool {
    validate(id).is_ok()
}

/// The 2017 foreigner card's 15-character number: three letters (nationality) and twelve
/// digits. The spec gives no check rule for it, so only its shape is checked.
pub fn is_valid_foreign_2017(number: &str) -> bool {
    let b = number.as_bytes();
    b.len() == 15
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && b[3..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_examples() {
        for ok in [
            "11010519491231002X",
            "810000199408230021",
            "320124198808240056",
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            validate("37070419881216001X"),
            Err(IdNumberError::CheckDigit {
                expected: '2',
                found: 'X'
            })
        );
        assert!(is_valid("370704198812160012"), "the corrected number");
    }

    #[test]
    fn every_remainder_maps_to_its_check_char() {
        // Vary the sequence digits of a fixed prefix; the sums cover every remainder.
        let mut seen = std::collections::HashSet::new();
        for seq in 0..100 {
            let base = format!("31010119900101{seq:03}");
            let c = check_char(&base).unwrap();
            assert!(is_valid(&format!("{base}{c}")));
            seen.insert(c);
        }
        assert_eq!(seen.len(), 11, "all eleven check characters occur");
    }

    #[test]
    fn lowercase_x_is_accepted() {
        assert!(is_valid("11010519491231002x"));
    }

    #[test]
    fn malformed_numbers_get_specific_errors() {
        assert_eq!(validate(""), Err(IdNumberError::Length(0)));
        assert_eq!(validate("1101051949123100"), Err(IdNumberError::Length(16)));
        assert_eq!(
            validate("1101051949123100AX"),
            Err(IdNumberError::NotDigits)
        );
        assert_eq!(
            validate("１１０１０５１９４９１２３１００２Ｘ"),
            Err(IdNumberError::NotDigits)
        );
        // Right check digit, impossible birth date (Feb 30).
        let base = "11010519490230002";
        let c = check_char(base).unwrap();
        assert_eq!(
            validate(&format!("{base}{c}")),
            Err(IdNumberError::BirthDate)
        );
        assert_eq!(check_char("123"), None);
    }

    #[test]
    fn foreign_2017_numbers_are_shape_checked() {
        assert!(is_valid_foreign_2017("CAN310090010158"));
        assert!(!is_valid_foreign_2017("CA3310090010158"));
        assert!(!is_valid_foreign_2017("CAN31009001015"));
    }
}
