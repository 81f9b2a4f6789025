//! Masking of personal data printed on receipts: enough for the citizen to recognise their
//! own receipt, too little for anyone who finds it.

/// `张小三` -> `张*三`, `张三` -> `张*`, `欧阳娜娜` -> `欧**娜`; one character -> `*`.
/// Characters, not bytes: works for any script; spaces and dots count as characters.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => {
            let mut s = String::with_capacity(name.len());
            s.push(chars[0]);
            s.extend(std::iter::repeat_n('*', n - 2));
            s.push(chars[n - 1]);
            s
        }
    }
}

/// `11010519491231002X` -> `1101**********002X`: the first four (province and city) and the
/// last four characters stay, the birth date and sequence are hidden. Shorter numbers
/// (passports, permits) keep at most a quarter at each end.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    let keep = (n / 4).min(4);
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep || i >= n - keep { *c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(mask_name("张小三"), "张*三");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("李"), "*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name(" 王五 "), "王*");
        assert_eq!(mask_name("阿依古丽·买买提"), "阿******提");
    }

    #[test]
    fn id_numbers() {
        assert_eq!(mask_id_number("11010519491231002X"), "1101**********002X");
        assert_eq!(mask_id_number("320124198808240056"), "3201**********0056");
        assert_eq!(mask_id_number("810000199408230021"), "8100**********0021");
        // 15-digit first-generation number.
        assert_eq!(mask_id_number("110105491231002"), "110*********002");
        assert_eq!(mask_id_number("E12345678"), "E1*****78");
        assert_eq!(mask_id_number("AB"), "**");
        assert_eq!(mask_id_number(""), "");
    }
}
