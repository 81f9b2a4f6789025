//! A card as the kiosk uses it: typed fields, the ID number check, expiry, and the JSON
//! summary (`kiosk probe idcard --json`). Everything here is personal data: wiped on drop,
//! never printed by `Debug`.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::codes::{Gender, Nation};
use super::id_number;
use super::reply::RawCard;
use super::text::{self, TextError};

/// The four card types the reader returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardType {
    /// Resident identity card (type mark: space).
    Resident,
    /// Hong Kong / Macao / Taiwan residence permit (`J`).
    Permit,
    /// Foreigner permanent residence card, 2017 (`I`).
    Foreign2017,
    /// Foreigner permanent residence card, 2023 (`Y`).
    Foreign2023,
}

impl CardType {
    /// JSON form: `resident`, `permit`, `foreign_2017`, `foreign_2023`.
    pub fn key(self) -> &'static str {
        match self {
            CardType::Resident => "resident",
            CardType::Permit => "permit",
            CardType::Foreign2017 => "foreign_2017",
            CardType::Foreign2023 => "foreign_2023",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CardType::Resident => "居民身份证",
            CardType::Permit => "港澳台居民居住证",
            CardType::Foreign2017 => "外国人永久居留身份证",
            CardType::Foreign2023 => "外国人永久居留身份证（2023版）",
        }
    }
}

/// The valid-until field: a date or `长期` (long term, never expires).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Date(NaiveDate),
    LongTerm,
}

impl Validity {
    /// A card is valid through its valid-until day and expired from the day after.
    pub fn is_expired(self, today: NaiveDate) -> bool {
        match self {
            Validity::LongTerm => false,
            Validity::Date(until) => today > until,
        }
    }

    /// JSON form: `YYYY-MM-DD` or `long_term`.
    pub fn key(self) -> String {
        match self {
            Validity::LongTerm => "long_term".into(),
            Validity::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

/// One card read. Strings are trimmed; fields a card type lacks are empty.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct IdCard {
    #[zeroize(skip)]
    pub card_type: CardType,
    /// Chinese name (may be empty on a foreigner card).
    pub name: String,
    /// English name (foreigner cards).
    pub name_en: String,
    #[zeroize(skip)]
    pub gender: Gender,
    /// Nation (resident cards only).
    pub nation: Option<Nation>,
    /// ISO 3166-1 alpha-3 nationality (foreigner cards).
    pub nationality: String,
    #[zeroize(skip)]
    pub birth_date: NaiveDate,
    pub address: String,
    /// From `read additional address` (30 03), when it was asked for and the card has one.
    pub extra_address: String,
    /// ID number; the permanent residence number on foreigner cards.
    pub id_number: String,
    /// Issuing authority; the authority code on the 2017 foreigner card; empty on the 2023 one.
    pub issuer: String,
    #[zeroize(skip)]
    pub valid_from: NaiveDate,
    #[zeroize(skip)]
    pub valid_until: Validity,
    /// Pass number (residence permit).
    pub pass_number: String,
    /// Issue count (permit) or renewal count (2023 foreigner card).
    pub issue_count: String,
    /// Card version (2017 foreigner card).
    pub card_version: String,
    /// Link to the previous card's number (2023 foreigner card).
    pub previous_number: String,
    /// The 1024-byte photo blob, opaque (WLT on a real card). See [`super::photo`].
    pub photo: Vec<u8>,
    /// Fingerprint data from the 30 10 read; empty otherwise.
    pub fingerprint: Vec<u8>,
}

impl fmt::Debug for IdCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdCard")
            .field("card_type", &self.card_type)
            .field("photo_len", &self.photo.len())
            .field("fingerprint_len", &self.fingerprint.len())
            .finish_non_exhaustive()
    }
}

impl IdCard {
    /// Parses the text and keeps the photo and fingerprint.
    pub fn from_raw(raw: &RawCard) -> Result<IdCard, TextError> {
        let t = text::parse_text(&raw.text)?;
        Ok(IdCard {
            card_type: t.card_type,
            name: t.name,
            name_en: t.name_en,
            gender: t.gender,
            nation: t.nation,
            nationality: t.nationality,
            birth_date: t.birth_date,
            address: t.address,
            extra_address: String::new(),
            id_number: t.id_number,
            issuer: t.issuer,
            valid_from: t.valid_from,
            valid_until: t.valid_until,
            pass_number: t.pass_number,
            issue_count: t.issue_count,
            card_version: t.card_version,
            previous_number: t.previous_number,
            photo: raw.photo.to_vec(),
            fingerprint: raw.fingerprint.to_vec(),
        })
    }

    /// Whether the number passes its card type's check: GB 11643 for resident cards, permits
    /// and the 2023 foreigner card; the 15-character shape for the 2017 foreigner card.
    pub fn id_number_valid(&self) -> bool {
        match self.card_type {
            CardType::Foreign2017 => id_number::is_valid_foreign_2017(&self.id_number),
            _ => id_number::is_valid(&self.id_number),
        }
    }

    pub fn is_expired(&self, today: NaiveDate) -> bool {
        self.valid_until.is_expired(today)
    }

    /// Address and additional address, joined.
    pub fn full_address(&self) -> String {
        format!("{}{}", self.address, self.extra_address)
    }

    /// SHA-256 of the photo blob, hex.
    pub fn photo_sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.photo))
    }

    pub fn summary(&self, today: NaiveDate) -> CardSummary {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        CardSummary {
            card_type: self.card_type.key().into(),
            name: self.name.clone(),
            name_en: opt(&self.name_en),
            gender: self.gender.key().into(),
            gender_code: self.gender.code().to_string(),
            nation: self
                .nation
                .as_ref()
                .map(|n| n.name.map(str::to_string).unwrap_or_else(|| n.code.clone())),
            nation_code: self.nation.as_ref().map(|n| n.code.clone()),
            nationality: opt(&self.nationality),
            birth_date: self.birth_date.format("%Y-%m-%d").to_string(),
            address: self.address.clone(),
            extra_address: opt(&self.extra_address),
            id_number: self.id_number.clone(),
            id_number_valid: self.id_number_valid(),
            issuer: self.issuer.clone(),
            valid_from: self.valid_from.format("%Y-%m-%d").to_string(),
            valid_until: self.valid_until.key(),
            expired: self.is_expired(today),
            pass_number: opt(&self.pass_number),
            issue_count: opt(&self.issue_count),
            card_version: opt(&self.card_version),
            photo_sha256: self.photo_sha256(),
            fingerprint_len: self.fingerprint.len(),
        }
    }
}

/// The JSON shape of a card (`kiosk probe idcard --json`). Optional fields are left out when
/// the card type has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct CardSummary {
    /// `resident`, `permit`, `foreign_2017`, `foreign_2023`.
    pub card_type: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// `male`, `female`, `unknown`, `unspecified`, `other`.
    pub gender: String,
    pub gender_code: String,
    /// Nation name (resident cards), e.g. `汉`; the code when outside the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nation_code: Option<String>,
    /// ISO 3166-1 alpha-3 (foreigner cards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_address: Option<String>,
    pub id_number: String,
    pub id_number_valid: bool,
    pub issuer: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD` or `long_term`.
    pub valid_until: String,
    pub expired: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_count: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_version: Option<String>,
    pub photo_sha256: String,
    pub fingerprint_len: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idcard::text::tests::{resident, Builder};
    use zeroize::Zeroizing;

    fn raw(text: [u8; 256]) -> RawCard {
        RawCard {
            text: Zeroizing::new(text),
            photo: Zeroizing::new(vec![0x57; 1024]),
            fingerprint: Zeroizing::new(Vec::new()),
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn expiry_is_inclusive_of_the_last_day_and_long_term_never_expires() {
        let until = Validity::Date(day(2036, 5, 10));
        assert!(!until.is_expired(day(2036, 5, 10)));
        assert!(until.is_expired(day(2036, 5, 11)));
        assert!(!Validity::LongTerm.is_expired(day(9999, 12, 31)));
    }

    #[test]
    fn summary_of_a_resident_card() {
        let card = IdCard::from_raw(&raw(resident())).unwrap();
        let s = card.summary(day(2025, 1, 1));
        assert_eq!(s.card_type, "resident");
        assert_eq!(s.gender, "male");
        assert_eq!(s.nation.as_deref(), Some("汉"));
        assert_eq!(s.nation_code.as_deref(), Some("01"));
        assert_eq!(s.birth_date, "1988-08-24");
        assert_eq!(s.valid_until, "2036-05-10");
        assert!(s.id_number_valid);
        assert!(!s.expired);
        assert_eq!(s.photo_sha256.len(), 64);
        let json = serde_json::to_value(&s).unwrap();
        assert!(json.get("name_en").is_none(), "absent fields are left out");
        assert!(card.summary(day(2036, 5, 11)).expired);
    }

    #[test]
    fn a_bad_check_digit_is_reported_not_rejected() {
        let text = Builder::from(resident())
            .put(122, "37070419881216001X")
            .build();
        let card = IdCard::from_raw(&raw(text)).unwrap();
        assert!(!card.id_number_valid());
    }

    #[test]
    fn debug_shows_no_personal_data() {
        let card = IdCard::from_raw(&raw(resident())).unwrap();
        let text = format!("{card:?}");
        assert!(!text.contains("张伟") && !text.contains("320124"), "{text}");
    }

    #[test]
    fn long_term_summary() {
        let text = Builder::from(resident()).put(204, "长期      ").build();
        let s = IdCard::from_raw(&raw(text))
            .unwrap()
            .summary(day(2099, 1, 1));
        assert_eq!(s.valid_until, "long_term");
        assert!(!s.expired);
    }
}
