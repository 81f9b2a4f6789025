//! The deck: synthetic cards in a TOML file (`device-sim idcard --cards FILE`).
//!
//! ```toml
//! initial = "resident-zhang"        # optional: the card on the reader at start
//!
//! [[card]]
//! id = "resident-zhang"             # what `put <id>` names
//! type = "resident"                 # resident | permit | foreign_2017 | foreign_2023
//! name = "张伟"
//! gender = "1"                      # GB/T 2261.1: 0 unknown, 1 male, 2 female, 9 unspecified
//! nation = "01"                     # resident only (GB 3304)
//! birth_date = "19880824"
//! address = "江苏省南京市溧水县永阳镇示例路1号"
//! extra_address = "幸福里8号"        # optional: answer to 30 03 (else SW3 91)
//! id_number = "320124198808240056"
//! issuer = "溧水县公安局"
//! valid_from = "20160510"
//! valid_until = "20360510"          # or "长期"
//! photo = "photos/zhang.jpg"        # optional, relative to this file; else a synthetic face
//! fingerprint = 1024                # optional: 0 (default), 512 or 1024 bytes for 30 10
//! # permit: pass_number, issue_count. foreign_2017: name_en, nationality, card_version,
//! # authority_code. foreign_2023: name_en (up to 46), nationality, issue_count (renewals),
//! # previous_number.
//! ```
//! Only synthetic identities belong in a deck.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use super::photo;
use super::text;

/// The deck that ships with the simulator (`device-sim/decks/synthetic.toml`).
pub const BUILTIN_DECK: &str = include_str!("../../decks/synthetic.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum CardKind {
    #[serde(rename = "resident")]
    Resident,
    #[serde(rename = "permit")]
    Permit,
    #[serde(rename = "foreign_2017")]
    Foreign2017,
    #[serde(rename = "foreign_2023")]
    Foreign2023,
}

/// One card as written in the deck.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSpec {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: CardKind,
    pub name: String,
    pub gender: String,
    pub nation: Option<String>,
    pub birth_date: String,
    pub address: Option<String>,
    pub extra_address: Option<String>,
    pub id_number: String,
    pub issuer: Option<String>,
    pub valid_from: String,
    pub valid_until: String,
    pub pass_number: Option<String>,
    pub issue_count: Option<String>,
    pub name_en: Option<String>,
    pub nationality: Option<String>,
    pub card_version: Option<String>,
    pub authority_code: Option<String>,
    pub previous_number: Option<String>,
    pub photo: Option<PathBuf>,
    #[serde(default)]
    pub fingerprint: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeckFile {
    initial: Option<String>,
    #[serde(default)]
    card: Vec<CardSpec>,
}

/// A card ready to answer reads: its blocks are built once at load.
#[derive(Debug, Clone)]
pub struct SimCard {
    pub spec: CardSpec,
    pub text: [u8; 256],
    pub photo: [u8; 1024],
    pub fingerprint: Vec<u8>,
    /// 70 bytes for 30 03, when the card has an additional address.
    pub extra_address: Option<Vec<u8>>,
    /// Whether the photo came from a file (false: synthetic face).
    pub photo_from_file: bool,
}

/// The loaded deck, in file order.
#[derive(Debug, Clone, Default)]
pub struct Deck {
    pub cards: Vec<SimCard>,
    pub initial: Option<String>,
}

impl Deck {
    /// Loads a deck file; photo paths are relative to it.
    pub fn load(path: &Path) -> Result<Deck> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read deck {}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Deck::parse(&text, dir).with_context(|| format!("deck {}", path.display()))
    }

    /// The built-in deck; its photos (if any) resolve against the source tree's `decks/`.
    pub fn builtin() -> Result<Deck> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("decks");
        Deck::parse(BUILTIN_DECK, &dir).context("built-in deck")
    }

    pub fn parse(toml_text: &str, base_dir: &Path) -> Result<Deck> {
        let file: DeckFile = toml::from_str(toml_text)?;
        let mut seen = BTreeMap::new();
        let mut cards = Vec::new();
        for spec in file.card {
            if seen.insert(spec.id.clone(), ()).is_some() {
                bail!("card id {:?} appears twice", spec.id);
            }
            let card =
                load_card(spec.clone(), base_dir).with_context(|| format!("card {:?}", spec.id))?;
            cards.push(card);
        }
        if let Some(initial) = &file.initial {
            if !seen.contains_key(initial) {
                bail!("initial card {initial:?} is not in the deck");
            }
        }
        Ok(Deck {
            cards,
            initial: file.initial,
        })
    }

    pub fn get(&self, id: &str) -> Option<&SimCard> {
        self.cards.iter().find(|c| c.spec.id == id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.cards.iter().map(|c| c.spec.id.as_str()).collect()
    }
}

fn is_date(s: &str) -> bool {
    s.len() == 8
        && s.bytes().all(|b| b.is_ascii_digit())
        && chrono::NaiveDate::parse_from_str(s, "%Y%m%d").is_ok()
}

fn load_card(spec: CardSpec, base_dir: &Path) -> Result<SimCard> {
    if spec.id.is_empty() || spec.id.contains(char::is_whitespace) {
        bail!("card ids are one word");
    }
    for (what, value) in [
        ("birth_date", &spec.birth_date),
        ("valid_from", &spec.valid_from),
    ] {
        if !is_date(value) {
            bail!("{what} is not a YYYYMMDD date");
        }
    }
    if spec.valid_until != "长期" && !is_date(&spec.valid_until) {
        bail!("valid_until is neither a YYYYMMDD date nor 长期");
    }
    if ![0, 512, 1024].contains(&spec.fingerprint) {
        bail!("fingerprint is 0, 512 or 1024 bytes");
    }
    let text = text::build(&spec)?;
    let extra_address = spec
        .extra_address
        .as_deref()
        .map(text::extra_address)
        .transpose()?;
    let (image, photo_from_file) = match &spec.photo {
        Some(rel) => {
            let path = base_dir.join(rel);
            match image::open(&path) {
                Ok(img) => (img, true),
                Err(e) => {
                    tracing::warn!(card = %spec.id, path = %path.display(), error = %e, "photo not loaded; using a synthetic face");
                    (photo::synthetic_face(&spec.id), false)
                }
            }
        }
        None => (photo::synthetic_face(&spec.id), false),
    };
    let photo = photo::encode(&image)?;
    let fingerprint = synthetic_fingerprint(&spec.id, spec.fingerprint);
    Ok(SimCard {
        spec,
        text,
        photo,
        fingerprint,
        extra_address,
        photo_from_file,
    })
}

/// Deterministic filler bytes standing in for fingerprint templates.
fn synthetic_fingerprint(seed: &str, len: usize) -> Vec<u8> {
    let mut x = seed.bytes().fold(0x811C_9DC5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GB 11643 check, written here for the test only.
    fn check_ok(id: &str) -> bool {
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        const C: &[u8; 11] = b"10X98765432";
        let b = id.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
            return false;
        }
        let s: u32 = b[..17]
            .iter()
            .zip(W)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        C[(s % 11) as usize] == b[17]
    }

    #[test]
    fn the_builtin_deck_has_what_the_tests_need() {
        let deck = Deck::builtin().unwrap();
        let kinds: Vec<CardKind> = deck.cards.iter().map(|c| c.spec.kind).collect();
        for k in [
            CardKind::Resident,
            CardKind::Permit,
            CardKind::Foreign2017,
            CardKind::Foreign2023,
        ] {
            assert!(kinds.contains(&k), "{k:?} missing");
        }
        assert!(deck.cards.iter().any(|c| c.spec.valid_until == "长期"));
        assert!(
            deck.cards
                .iter()
                .any(|c| c.spec.valid_until.as_str() < "20200101"),
            "an expired card"
        );
        let bad: Vec<&str> = deck
            .cards
            .iter()
            .filter(|c| c.spec.kind != CardKind::Foreign2017 && !check_ok(&c.spec.id_number))
            .map(|c| c.spec.id.as_str())
            .collect();
        assert_eq!(
            bad,
            vec!["bad-check-digit"],
            "only the deliberate card fails"
        );
        let permit = deck
            .cards
            .iter()
            .find(|c| c.spec.kind == CardKind::Permit)
            .unwrap();
        assert!(permit.spec.id_number.starts_with("810000"));
        assert!(deck.cards.iter().any(|c| c.extra_address.is_some()));
        assert!(deck.cards.iter().any(|c| c.fingerprint.len() == 1024));
        assert!(deck.initial.is_some());
    }

    #[test]
    fn deck_errors_name_the_card_and_field() {
        let base = r#"
            [[card]]
            id = "x"
            type = "resident"
            name = "测试"
            gender = "1"
            birth_date = "19900101"
            id_number = "11010519491231002X"
            valid_from = "20100101"
            valid_until = "20300101"
        "#;
        assert!(Deck::parse(base, Path::new(".")).is_ok());
        let e = format!(
            "{:#}",
            Deck::parse(&base.replace("19900101", "19900230"), Path::new(".")).unwrap_err()
        );
        assert!(e.contains("card \"x\"") && e.contains("birth_date"), "{e}");
        let e = format!(
            "{:#}",
            Deck::parse(&format!("{base}\ncolour = 1"), Path::new(".")).unwrap_err()
        );
        assert!(e.contains("colour"), "{e}");
        let e = format!(
            "{:#}",
            Deck::parse(&format!("initial = \"y\"\n{base}"), Path::new(".")).unwrap_err()
        );
        assert!(e.contains("initial card"), "{e}");
    }

    #[test]
    fn a_missing_photo_file_falls_back_to_a_synthetic_face() {
        let toml = r#"
            [[card]]
            id = "p"
            type = "resident"
            name = "测试"
            gender = "2"
            birth_date = "19900101"
            id_number = "11010519491231002X"
            valid_from = "20100101"
            valid_until = "20300101"
            photo = "no/such/file.jpg"
            fingerprint = 512
        "#;
        let deck = Deck::parse(toml, Path::new("/nonexistent")).unwrap();
        let card = deck.get("p").unwrap();
        assert!(!card.photo_from_file);
        assert_eq!(&card.photo[..8], b"HKSIMPH1");
        assert_eq!(card.fingerprint.len(), 512);
    }

    #[test]
    fn a_photo_file_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let img = image::RgbImage::from_fn(300, 400, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        img.save(dir.path().join("face.png")).unwrap();
        let toml = r#"
            [[card]]
            id = "p"
            type = "resident"
            name = "测试"
            gender = "2"
            birth_date = "19900101"
            id_number = "11010519491231002X"
            valid_from = "20100101"
            valid_until = "20300101"
            photo = "face.png"
        "#;
        let deck = Deck::parse(toml, dir.path()).unwrap();
        assert!(deck.get("p").unwrap().photo_from_file);
    }
}
