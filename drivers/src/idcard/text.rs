//! The 256-byte text block: UCS-2 little-endian, space-padded, laid out per card type. The
//! type is the character at offset 248: space = resident card, `J` = Hong Kong / Macao /
//! Taiwan residence permit, `I` = foreigner permanent residence card (2017), `Y` = foreigner
//! permanent residence card (2023).
//!
//! The layouts are data ([`Layout`]) so a correction touches one table. The `Y` layout comes
//! from a single public source (the spec marks it so): its fields mirror the resident layout
//! (Chinese name 0, gender 30, renewal count 32, birth 36, English name 52 + 220, number 122,
//! validity 188/204, nationality 242, link to the previous card's number 250).

use chrono::NaiveDate;

use super::card::{CardType, Validity};
use super::codes::{Gender, Nation};
use super::reply::TEXT_LEN;

/// Offset of the card-type character.
pub const TYPE_OFFSET: usize = 248;

/// A field: byte offset and byte length in the text block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub offset: usize,
    pub len: usize,
}

const fn f(offset: usize, len: usize) -> Field {
    Field { offset, len }
}

/// Where each field sits for one card type. `None`: the type has no such field.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub name: Field,
    pub name_en: Option<Field>,
    /// Second half of a long English name (2023 card: characters 36-46).
    pub name_en_more: Option<Field>,
    pub gender: Field,
    pub nation: Option<Field>,
    pub nationality: Option<Field>,
    pub birth_date: Field,
    pub address: Option<Field>,
    pub id_number: Field,
    pub issuer: Option<Field>,
    pub valid_from: Field,
    pub valid_until: Field,
    pub pass_number: Option<Field>,
    /// Issue count (permit) or renewal count (2023 card).
    pub issue_count: Option<Field>,
    pub card_version: Option<Field>,
    /// Authority code (2017 card).
    pub authority_code: Option<Field>,
    /// Link to the holder's previous card number (2023 card).
    pub previous_number: Option<Field>,
}

pub const RESIDENT: Layout = Layout {
    name: f(0, 30),
    name_en: None,
    name_en_more: None,
    gender: f(30, 2),
    nation: Some(f(32, 4)),
    nationality: None,
    birth_date: f(36, 16),
    address: Some(f(52, 70)),
    id_number: f(122, 36),
    issuer: Some(f(158, 30)),
    valid_from: f(188, 16),
    valid_until: f(204, 16),
    pass_number: None,
    issue_count: None,
    card_version: None,
    authority_code: None,
    previous_number: None,
};

pub const PERMIT: Layout = Layout {
    nation: None,
    pass_number: Some(f(220, 18)),
    issue_count: Some(f(238, 4)),
    ..RESIDENT
};

pub const FOREIGN_2017: Layout = Layout {
    name: f(158, 30),
    name_en: Some(f(0, 120)),
    name_en_more: None,
    gender: f(120, 2),
    nation: None,
    nationality: Some(f(152, 6)),
    birth_date: f(220, 16),
    address: None,
    id_number: f(122, 30),
    issuer: None,
    valid_from: f(188, 16),
    valid_until: f(204, 16),
    pass_number: None,
    issue_count: None,
    card_version: Some(f(236, 4)),
    authority_code: Some(f(240, 8)),
    previous_number: None,
};

pub const FOREIGN_2023: Layout = Layout {
    name: f(0, 30),
    name_en: Some(f(52, 70)),
    name_en_more: Some(f(220, 22)),
    gender: f(30, 2),
    nation: None,
    nationality: Some(f(242, 6)),
    birth_date: f(36, 16),
    address: None,
    id_number: f(122, 36),
    issuer: None,
    valid_from: f(188, 16),
    valid_until: f(204, 16),
    pass_number: None,
    issue_count: Some(f(32, 4)),
    card_version: None,
    authority_code: None,
    previous_number: Some(f(250, 6)),
};

pub fn layout(card_type: CardType) -> &'static Layout {
    match card_type {
        CardType::Resident => &RESIDENT,
        CardType::Permit => &PERMIT,
        CardType::Foreign2017 => &FOREIGN_2017,
        CardType::Foreign2023 => &FOREIGN_2023,
    }
}

/// Why a text block could not be read. Messages name the field, never its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("unknown card type mark U+{0:04X} at text offset 248")]
    UnknownCardType(u32),
    #[error("the {0} is not a YYYYMMDD date")]
    BadDate(&'static str),
    #[error("the {0} is empty")]
    Empty(&'static str),
}

/// Decodes UCS-2 little-endian and trims the padding (spaces, ideographic spaces, NULs) at
/// both ends. Odd trailing bytes and unpaired surrogates become U+FFFD, never a panic.
pub fn decode_ucs2(bytes: &[u8]) -> String {
    decode_ucs2_raw(bytes).trim_matches(is_padding).to_string()
}

fn is_padding(c: char) -> bool {
    matches!(c, ' ' | '\u{3000}' | '\0')
}

fn decode_ucs2_raw(bytes: &[u8]) -> String {
    let units = bytes.chunks(2).map(|p| match p {
        [lo, hi] => u16::from_le_bytes([*lo, *hi]),
        _ => 0xFFFD,
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

fn slice(text: &[u8; TEXT_LEN], field: Field) -> &[u8] {
    text.get(field.offset..field.offset + field.len)
        .unwrap_or(&[])
}

fn get(text: &[u8; TEXT_LEN], field: Field) -> String {
    decode_ucs2(slice(text, field))
}

fn get_opt(text: &[u8; TEXT_LEN], field: Option<Field>) -> String {
    field.map(|f| get(text, f)).unwrap_or_default()
}

/// The card type from offset 248. A NUL there is read as the resident card too: the field is
/// reserved on resident cards and some encoders leave it zero.
pub fn card_type(text: &[u8; TEXT_LEN]) -> Result<CardType, TextError> {
    let unit = u16::from_le_bytes([text[TYPE_OFFSET], text[TYPE_OFFSET + 1]]);
    match unit {
        0x0020 | 0x0000 => Ok(CardType::Resident),
        0x004A => Ok(CardType::Permit),
        0x0049 => Ok(CardType::Foreign2017),
        0x0059 => Ok(CardType::Foreign2023),
        other => Err(TextError::UnknownCardType(u32::from(other))),
    }
}

fn date(text: &[u8; TEXT_LEN], field: Field, what: &'static str) -> Result<NaiveDate, TextError> {
    let s = get(text, field);
    parse_date(&s).ok_or(TextError::BadDate(what))
}

/// `YYYYMMDD` (exactly eight ASCII digits) to a date.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

/// `长期` (long term) or a date.
pub fn parse_validity(s: &str) -> Option<Validity> {
    if s == "长期" {
        return Some(Validity::LongTerm);
    }
    parse_date(s).map(Validity::Date)
}

/// Every field of the text block, decoded.
#[derive(Debug)]
pub struct TextFields {
    pub card_type: CardType,
    pub name: String,
    pub name_en: String,
    pub gender: Gender,
    pub nation: Option<Nation>,
    pub nationality: String,
    pub birth_date: NaiveDate,
    pub address: String,
    pub id_number: String,
    pub issuer: String,
    pub valid_from: NaiveDate,
    pub valid_until: Validity,
    pub pass_number: String,
    pub issue_count: String,
    pub card_version: String,
    pub previous_number: String,
}

pub fn parse_text(text: &[u8; TEXT_LEN]) -> Result<TextFields, TextError> {
    let card_type = card_type(text)?;
    let l = layout(card_type);
    let name_en = match (l.name_en, l.name_en_more) {
        // A long name continues in the second field: join before trimming, so a space at the
        // seam survives.
        (Some(a), Some(b)) => {
            let mut raw = decode_ucs2_raw(slice(text, a));
            raw.push_str(&decode_ucs2_raw(slice(text, b)));
            raw.trim_matches(is_padding).to_string()
        }
        (Some(a), None) => get(text, a),
        _ => String::new(),
    };
    let gender_s = get(text, l.gender);
    let gender = Gender::from_code(gender_s.chars().next().unwrap_or('0'));
    let id_number = get(text, l.id_number);
    if id_number.is_empty() {
        return Err(TextError::Empty("ID number"));
    }
    let valid_until =
        parse_validity(&get(text, l.valid_until)).ok_or(TextError::BadDate("valid-until date"))?;
    let issuer = match (l.issuer, l.authority_code) {
        (Some(f), _) | (None, Some(f)) => get(text, f),
        (None, None) => String::new(),
    };
    Ok(TextFields {
        card_type,
        name: get(text, l.name),
        name_en,
        gender,
        nation: l.nation.map(|f| Nation::from_code(&get(text, f))),
        nationality: get_opt(text, l.nationality),
        birth_date: date(text, l.birth_date, "birth date")?,
        address: get_opt(text, l.address),
        id_number,
        issuer,
        valid_from: date(text, l.valid_from, "valid-from date")?,
        valid_until,
        pass_number: get_opt(text, l.pass_number),
        issue_count: get_opt(text, l.issue_count),
        card_version: get_opt(text, l.card_version),
        previous_number: get_opt(text, l.previous_number),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A text block built field by field, the way the spec's table reads.
    pub(crate) struct Builder([u8; TEXT_LEN]);

    impl Builder {
        pub(crate) fn new() -> Builder {
            let mut b = [0u8; TEXT_LEN];
            for pair in b.chunks_mut(2) {
                pair.copy_from_slice(&[0x20, 0x00]);
            }
            Builder(b)
        }
        pub(crate) fn put(mut self, offset: usize, s: &str) -> Builder {
            for (i, u) in s.encode_utf16().enumerate() {
                self.0[offset + 2 * i..offset + 2 * i + 2].copy_from_slice(&u.to_le_bytes());
            }
            self
        }
        pub(crate) fn build(self) -> [u8; TEXT_LEN] {
            self.0
        }
    }

    pub(crate) fn resident() -> [u8; TEXT_LEN] {
        Builder::new()
            .put(0, "张伟")
            .put(30, "1")
            .put(32, "01")
            .put(36, "19880824")
            .put(52, "江苏省南京市溧水县永阳镇示例路1号")
            .put(122, "320124198808240056")
            .put(158, "溧水县公安局")
            .put(188, "20160510")
            .put(204, "20360510")
            .build()
    }

    #[test]
    fn field_tables_cover_the_block_without_overlap() {
        for (name, l) in [
            ("resident", RESIDENT),
            ("permit", PERMIT),
            ("foreign_2017", FOREIGN_2017),
            ("foreign_2023", FOREIGN_2023),
        ] {
            let mut fields = vec![
                Some(l.name),
                l.name_en,
                l.name_en_more,
                Some(l.gender),
                l.nation,
                l.nationality,
                Some(l.birth_date),
                l.address,
                Some(l.id_number),
                l.issuer,
                Some(l.valid_from),
                Some(l.valid_until),
                l.pass_number,
                l.issue_count,
                l.card_version,
                l.authority_code,
                l.previous_number,
                Some(f(TYPE_OFFSET, 2)),
            ];
            fields.retain(Option::is_some);
            let mut used = [false; TEXT_LEN];
            for fl in fields.into_iter().flatten() {
                assert!(fl.offset + fl.len <= TEXT_LEN, "{name}");
                for (i, u) in used.iter_mut().enumerate().skip(fl.offset).take(fl.len) {
                    assert!(!*u, "{name}: byte {i} used twice");
                    *u = true;
                }
            }
        }
    }

    #[test]
    fn resident_card() {
        let t = parse_text(&resident()).unwrap();
        assert_eq!(t.card_type, CardType::Resident);
        assert_eq!(t.name, "张伟");
        assert_eq!(t.gender, Gender::Male);
        assert_eq!(t.nation.as_ref().unwrap().name, Some("汉"));
        assert_eq!(t.birth_date, NaiveDate::from_ymd_opt(1988, 8, 24).unwrap());
        assert_eq!(t.address, "江苏省南京市溧水县永阳镇示例路1号");
        assert_eq!(t.id_number, "320124198808240056");
        assert_eq!(t.issuer, "溧水县公安局");
        assert_eq!(
            t.valid_until,
            Validity::Date(NaiveDate::from_ymd_opt(2036, 5, 10).unwrap())
        );
        assert!(t.name_en.is_empty() && t.pass_number.is_empty());
    }

    #[test]
    fn long_term_validity() {
        let text = Builder::from(resident()).put(204, "长期      ").build();
        assert_eq!(parse_text(&text).unwrap().valid_until, Validity::LongTerm);
        assert_eq!(parse_validity("长期"), Some(Validity::LongTerm));
        assert_eq!(parse_validity("长"), None);
    }

    impl From<[u8; TEXT_LEN]> for Builder {
        fn from(b: [u8; TEXT_LEN]) -> Builder {
            Builder(b)
        }
    }

    #[test]
    fn permit_j() {
        let text = Builder::from(resident())
            .put(0, "陈嘉欣")
            .put(30, "2")
            .put(32, "  ")
            .put(122, "810000199408230021")
            .put(220, "H60123456")
            .put(238, "01")
            .put(248, "J")
            .build();
        let t = parse_text(&text).unwrap();
        assert_eq!(t.card_type, CardType::Permit);
        assert_eq!(t.gender, Gender::Female);
        assert_eq!(t.nation, None);
        assert_eq!(t.pass_number, "H60123456");
        assert_eq!(t.issue_count, "01");
    }

    #[test]
    fn foreign_2017_i() {
        let text = Builder::new()
            .put(0, "TESTER, ALEX SAMPLE")
            .put(120, "1")
            .put(122, "CAN310090010158")
            .put(152, "CAN")
            .put(158, "泰斯特")
            .put(188, "20170601")
            .put(204, "20270601")
            .put(220, "19900101")
            .put(236, "01")
            .put(240, "1500")
            .put(248, "I")
            .build();
        let t = parse_text(&text).unwrap();
        assert_eq!(t.card_type, CardType::Foreign2017);
        assert_eq!(t.name_en, "TESTER, ALEX SAMPLE");
        assert_eq!(t.name, "泰斯特");
        assert_eq!(t.nationality, "CAN");
        assert_eq!(t.id_number, "CAN310090010158");
        assert_eq!(t.birth_date, NaiveDate::from_ymd_opt(1990, 1, 1).unwrap());
        assert_eq!(t.card_version, "01");
        assert_eq!(t.issuer, "1500", "the authority code stands for the issuer");
        assert!(t.address.is_empty());
    }

    #[test]
    fn foreign_2023_y_with_a_long_english_name() {
        // 40 characters: 35 in the first field, the rest at 220, which starts with a space.
        let full = "MONTGOMERY-VANDERBILT, ALEXANDRA JO ANNE";
        let (a, b) = full.split_at(35);
        let text = Builder::new()
            .put(0, "蒙哥马利")
            .put(30, "2")
            .put(32, "00")
            .put(36, "19850506")
            .put(52, a)
            .put(122, "931124198505060023")
            .put(188, "20230901")
            .put(204, "20330901")
            .put(220, b)
            .put(242, "CAN")
            .put(248, "Y")
            .build();
        let t = parse_text(&text).unwrap();
        assert_eq!(t.card_type, CardType::Foreign2023);
        assert_eq!(t.name_en, full);
        assert_eq!(t.nationality, "CAN");
        assert_eq!(t.issue_count, "00");
        assert!(t.issuer.is_empty());
    }

    #[test]
    fn unknown_type_and_bad_dates_are_specific_errors() {
        let text = Builder::from(resident()).put(248, "Q").build();
        assert_eq!(
            parse_text(&text).unwrap_err(),
            TextError::UnknownCardType(0x51)
        );
        let text = Builder::from(resident()).put(36, "19880231").build();
        assert_eq!(
            parse_text(&text).unwrap_err(),
            TextError::BadDate("birth date")
        );
        let text = Builder::from(resident()).put(204, "2036O510").build();
        assert_eq!(
            parse_text(&text).unwrap_err(),
            TextError::BadDate("valid-until date")
        );
        let text = Builder::from(resident())
            .put(122, "                  ")
            .build();
        assert_eq!(
            parse_text(&text).unwrap_err(),
            TextError::Empty("ID number")
        );
        assert!(!TextError::BadDate("birth date")
            .to_string()
            .contains("1988"));
    }

    #[test]
    fn nul_type_mark_reads_as_resident() {
        let mut text = resident();
        text[248] = 0;
        text[249] = 0;
        assert_eq!(card_type(&text), Ok(CardType::Resident));
    }

    #[test]
    fn address_trimming() {
        // Leading/trailing ASCII and ideographic spaces and NULs go; inner text stays.
        let mut raw: Vec<u8> = "\u{3000} 上海市徐汇区 示例路 8 号\u{3000}"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        raw.extend_from_slice(&[0, 0, 0x20, 0]);
        assert_eq!(decode_ucs2(&raw), "上海市徐汇区 示例路 8 号");
        assert_eq!(decode_ucs2(&[0x20, 0x00, 0x41]), "\u{FFFD}", "odd byte");
        assert_eq!(
            decode_ucs2(&[0x00, 0xD8, 0x41, 0x00]),
            "\u{FFFD}A",
            "lone surrogate"
        );
    }

    #[test]
    fn any_text_block_parses_or_errors_without_panicking() {
        let mut state = 0x1234_5678u32;
        for _ in 0..2000 {
            let mut b = [0u8; TEXT_LEN];
            for byte in b.iter_mut() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                *byte = state as u8;
            }
            for mark in [b' ', b'J', b'I', b'Y'] {
                b[248] = mark;
                b[249] = 0;
                let _ = parse_text(&b);
            }
        }
    }
}
