//! Builds a card's 256-byte text block from the spec's layout tables (UCS-2 little-endian,
//! space-padded), on its own: nothing here comes from the driver.

use anyhow::{bail, Result};

use super::deck::{CardKind, CardSpec};

/// The block being filled: starts as all spaces (`20 00`).
struct Block([u8; 256]);

impl Block {
    fn new() -> Block {
        let mut b = [0u8; 256];
        for i in (0..256).step_by(2) {
            b[i] = 0x20;
        }
        Block(b)
    }

    /// Writes `value` at `offset`; it must fit in `len` bytes.
    fn set(&mut self, what: &str, offset: usize, len: usize, value: &str) -> Result<()> {
        let units: Vec<u16> = value.encode_utf16().collect();
        if units.len() * 2 > len {
            bail!(
                "{what} has {} characters, the card field holds {}",
                units.len(),
                len / 2
            );
        }
        for (i, u) in units.iter().enumerate() {
            let [lo, hi] = u.to_le_bytes();
            self.0[offset + 2 * i] = lo;
            self.0[offset + 2 * i + 1] = hi;
        }
        Ok(())
    }
}

/// The text block of one card.
pub fn build(card: &CardSpec) -> Result<[u8; 256]> {
    let mut b = Block::new();
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    match card.kind {
        CardKind::Resident | CardKind::Permit => {
            b.set("name", 0, 30, &card.name)?;
            b.set("gender", 30, 2, &card.gender)?;
            if card.kind == CardKind::Resident {
                b.set("nation", 32, 4, &s(&card.nation))?;
            }
            b.set("birth_date", 36, 16, &card.birth_date)?;
            b.set("address", 52, 70, &s(&card.address))?;
            b.set("id_number", 122, 36, &card.id_number)?;
            b.set("issuer", 158, 30, &s(&card.issuer))?;
            b.set("valid_from", 188, 16, &card.valid_from)?;
            b.set("valid_until", 204, 16, &card.valid_until)?;
            if card.kind == CardKind::Permit {
                b.set("pass_number", 220, 18, &s(&card.pass_number))?;
                b.set("issue_count", 238, 4, &s(&card.issue_count))?;
                b.set("type", 248, 2, "J")?;
            }
        }
        CardKind::Foreign2017 => {
            b.set("name_en", 0, 120, &s(&card.name_en))?;
            b.set("gender", 120, 2, &card.gender)?;
            b.set("id_number", 122, 30, &card.id_number)?;
            b.set("nationality", 152, 6, &s(&card.nationality))?;
            b.set("name", 158, 30, &card.name)?;
            b.set("valid_from", 188, 16, &card.valid_from)?;
            b.set("valid_until", 204, 16, &card.valid_until)?;
            b.set("birth_date", 220, 16, &card.birth_date)?;
            b.set("card_version", 236, 4, &s(&card.card_version))?;
            b.set("authority_code", 240, 8, &s(&card.authority_code))?;
            b.set("type", 248, 2, "I")?;
        }
        CardKind::Foreign2023 => {
            // The English name runs 35 characters at 52 and up to 11 more at 220.
            let name_en: Vec<char> = s(&card.name_en).chars().collect();
            let cut = name_en.len().min(35);
            let first: String = name_en[..cut].iter().collect();
            let rest: String = name_en[cut..].iter().collect();
            b.set("name", 0, 30, &card.name)?;
            b.set("gender", 30, 2, &card.gender)?;
            b.set("renewal_count", 32, 4, &s(&card.issue_count))?;
            b.set("birth_date", 36, 16, &card.birth_date)?;
            b.set("name_en", 52, 70, &first)?;
            b.set("id_number", 122, 36, &card.id_number)?;
            b.set("valid_from", 188, 16, &card.valid_from)?;
            b.set("valid_until", 204, 16, &card.valid_until)?;
            b.set("name_en (characters 36-46)", 220, 22, &rest)?;
            b.set("nationality", 242, 6, &s(&card.nationality))?;
            b.set("type", 248, 2, "Y")?;
            b.set("previous_number", 250, 6, &s(&card.previous_number))?;
        }
    }
    Ok(b.0)
}

/// The additional address (30 03 reply data): 70 bytes of UCS-2, space-padded.
pub fn extra_address(value: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(70);
    for u in value.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    if out.len() > 70 {
        bail!("extra_address holds at most 35 characters");
    }
    while out.len() < 70 {
        out.extend_from_slice(&[0x20, 0x00]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ucs2(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    fn spec(kind: CardKind) -> CardSpec {
        CardSpec {
            id: "t".into(),
            kind,
            name: "李四".into(),
            gender: "1".into(),
            nation: Some("01".into()),
            birth_date: "19491231".into(),
            address: Some("北京市朝阳区示例街1号".into()),
            extra_address: None,
            id_number: "11010519491231002X".into(),
            issuer: Some("北京市公安局朝阳分局".into()),
            valid_from: "20100301".into(),
            valid_until: "长期".into(),
            pass_number: Some("H60123456".into()),
            issue_count: Some("01".into()),
            name_en: Some("TESTER, ALEX SAMPLE".into()),
            nationality: Some("CAN".into()),
            card_version: Some("01".into()),
            authority_code: Some("1500".into()),
            previous_number: None,
            photo: None,
            fingerprint: 0,
        }
    }

    #[test]
    fn resident_fields_sit_at_the_spec_offsets() {
        let t = build(&spec(CardKind::Resident)).unwrap();
        assert_eq!(&t[0..4], &ucs2("李四")[..]);
        assert_eq!(&t[4..6], &[0x20, 0x00], "space padded");
        assert_eq!(&t[30..32], &ucs2("1")[..]);
        assert_eq!(&t[32..36], &ucs2("01")[..]);
        assert_eq!(&t[122..158], &ucs2("11010519491231002X")[..]);
        // 长期 = U+957F U+671F.
        assert_eq!(&t[204..208], &[0x7F, 0x95, 0x1F, 0x67]);
        assert_eq!(&t[248..250], &[0x20, 0x00], "type mark: space");
    }

    #[test]
    fn permit_and_foreign_marks() {
        let j = build(&spec(CardKind::Permit)).unwrap();
        assert_eq!(&j[248..250], b"J\0");
        assert_eq!(&j[32..36], &[0x20, 0, 0x20, 0], "permit has no nation");
        assert_eq!(&j[220..238], &ucs2("H60123456")[..]);
        let mut c = spec(CardKind::Foreign2017);
        c.id_number = "CAN310090010158".into();
        let i = build(&c).unwrap();
        assert_eq!(&i[122..152], &ucs2("CAN310090010158")[..]);
        assert_eq!(&i[248..250], b"I\0");
        assert_eq!(&i[152..158], &ucs2("CAN")[..]);
        assert_eq!(&i[220..236], &ucs2("19491231")[..]);
        let y = build(&spec(CardKind::Foreign2023)).unwrap();
        assert_eq!(&y[248..250], b"Y\0");
        assert_eq!(&y[242..248], &ucs2("CAN")[..]);
    }

    #[test]
    fn long_english_name_continues_at_220() {
        let mut c = spec(CardKind::Foreign2023);
        let name = "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHI KLMNO";
        c.name_en = Some(name.into());
        let y = build(&c).unwrap();
        assert_eq!(&y[52..122], &ucs2(&name[..35])[..]);
        assert_eq!(&y[220..232], &ucs2(" KLMNO")[..]);
    }

    #[test]
    fn overlong_fields_are_refused() {
        let mut c = spec(CardKind::Resident);
        c.name = "一二三四五六七八九十一二三四五六".into();
        let e = build(&c).unwrap_err().to_string();
        assert!(e.contains("name has 16 characters"), "{e}");
    }

    #[test]
    fn extra_address_is_70_bytes() {
        let a = extra_address("幸福路8号").unwrap();
        assert_eq!(a.len(), 70);
        assert!(extra_address(&"一".repeat(36)).is_err());
    }
}
