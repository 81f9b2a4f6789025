//! SW3, the reader's own status byte in every reply (spec table "SW3 codes").

use std::fmt;

/// The reader's status. Codes the spec does not list keep their byte in [`Sw3::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sw3 {
    /// 90: success.
    Success,
    /// 91: the card has no such item (e.g. no additional address).
    NoSuchItem,
    /// 9F: find card succeeded.
    FindOk,
    /// 10: the reader saw a checksum error in our request.
    RequestChecksum,
    /// 11: the reader saw a length error in our request.
    RequestLength,
    /// 21: command error.
    CommandError,
    /// 23: unauthorised operation.
    Unauthorised,
    /// 24: unrecognised error.
    Unrecognised,
    /// 31: the card failed to authenticate the SAM.
    CardAuthSamFailed,
    /// 32: the SAM failed to authenticate the card.
    SamAuthCardFailed,
    /// 33: information verification error.
    InfoVerifyFailed,
    /// 37: fingerprint verification error.
    FingerprintVerifyFailed,
    /// 3F: information length error.
    InfoLength,
    /// 40: unrecognised card type.
    UnknownCardType,
    /// 41: card read failed.
    ReadFailed,
    /// 47: get-random failed.
    RandomFailed,
    /// 60: SAM self-test failed.
    SamSelfTestFailed,
    /// 66: SAM not authorised.
    SamNotAuthorised,
    /// 80: find card failed (no card).
    NoCard,
    /// 81: select card failed.
    SelectFailed,
    /// A code the spec does not list.
    Other(u8),
}

/// Every code the spec lists, in table order (tests and the simulator's fault menu use it).
pub const ALL_KNOWN: [u8; 20] = [
    0x90, 0x91, 0x9F, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x37, 0x3F, 0x40, 0x41, 0x47,
    0x60, 0x66, 0x80, 0x81,
];

impl Sw3 {
    pub fn from_byte(b: u8) -> Sw3 {
        match b {
            0x90 => Sw3::Success,
            0x91 => Sw3::NoSuchItem,
            0x9F => Sw3::FindOk,
            0x10 => Sw3::RequestChecksum,
            0x11 => Sw3::RequestLength,
            0x21 => Sw3::CommandError,
            0x23 => Sw3::Unauthorised,
            0x24 => Sw3::Unrecognised,
            0x31 => Sw3::CardAuthSamFailed,
            0x32 => Sw3::SamAuthCardFailed,
            0x33 => Sw3::InfoVerifyFailed,
            0x37 => Sw3::FingerprintVerifyFailed,
            0x3F => Sw3::InfoLength,
            0x40 => Sw3::UnknownCardType,
            0x41 => Sw3::ReadFailed,
            0x47 => Sw3::RandomFailed,
            0x60 => Sw3::SamSelfTestFailed,
            0x66 => Sw3::SamNotAuthorised,
            0x80 => Sw3::NoCard,
            0x81 => Sw3::SelectFailed,
            other => Sw3::Other(other),
        }
    }

    pub fn byte(self) -> u8 {
        match self {
            Sw3::Success => 0x90,
            Sw3::NoSuchItem => 0x91,
            Sw3::FindOk => 0x9F,
            Sw3::RequestChecksum => 0x10,
            Sw3::RequestLength => 0x11,
            Sw3::CommandError => 0x21,
            Sw3::Unauthorised => 0x23,
            Sw3::Unrecognised => 0x24,
            Sw3::CardAuthSamFailed => 0x31,
            Sw3::SamAuthCardFailed => 0x32,
            Sw3::InfoVerifyFailed => 0x33,
            Sw3::FingerprintVerifyFailed => 0x37,
            Sw3::InfoLength => 0x3F,
            Sw3::UnknownCardType => 0x40,
            Sw3::ReadFailed => 0x41,
            Sw3::RandomFailed => 0x47,
            Sw3::SamSelfTestFailed => 0x60,
            Sw3::SamNotAuthorised => 0x66,
            Sw3::NoCard => 0x80,
            Sw3::SelectFailed => 0x81,
            Sw3::Other(b) => b,
        }
    }

    /// The meaning in words, for engineers and the diagnostics screen.
    pub fn meaning(self) -> &'static str {
        match self {
            Sw3::Success => "success",
            Sw3::NoSuchItem => "card has no such item",
            Sw3::FindOk => "find card success",
            Sw3::RequestChecksum => "checksum error in the request",
            Sw3::RequestLength => "length error in the request",
            Sw3::CommandError => "command error",
            Sw3::Unauthorised => "unauthorised operation",
            Sw3::Unrecognised => "unrecognised error",
            Sw3::CardAuthSamFailed => "card failed to authenticate SAM",
            Sw3::SamAuthCardFailed => "SAM failed to authenticate card",
            Sw3::InfoVerifyFailed => "information verification error",
            Sw3::FingerprintVerifyFailed => "fingerprint verification error",
            Sw3::InfoLength => "information length error",
            Sw3::UnknownCardType => "unrecognised card type",
            Sw3::ReadFailed => "card read failed",
            Sw3::RandomFailed => "get-random failed",
            Sw3::SamSelfTestFailed => "SAM self-test failed",
            Sw3::SamNotAuthorised => "SAM not authorised",
            Sw3::NoCard => "find card failed (no card)",
            Sw3::SelectFailed => "select card failed",
            Sw3::Other(_) => "code not in the SAM specification",
        }
    }

    /// Whether the reply means the command did what was asked (90 for most, 9F for find).
    pub fn is_ok(self) -> bool {
        matches!(self, Sw3::Success | Sw3::FindOk)
    }
}

impl fmt::Display for Sw3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SW3 {:02X} ({})", self.byte(), self.meaning())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_round_trips_and_has_its_own_meaning() {
        let mut meanings = std::collections::HashSet::new();
        for b in ALL_KNOWN {
            let s = Sw3::from_byte(b);
            assert!(!matches!(s, Sw3::Other(_)), "{b:02X} is in the spec table");
            assert_eq!(s.byte(), b);
            assert!(meanings.insert(s.meaning()), "{b:02X} shares a meaning");
        }
        assert_eq!(meanings.len(), 20);
    }

    #[test]
    fn unlisted_codes_keep_their_byte() {
        for b in 0..=255u8 {
            if !ALL_KNOWN.contains(&b) {
                assert_eq!(Sw3::from_byte(b), Sw3::Other(b));
                assert_eq!(Sw3::from_byte(b).byte(), b);
            }
        }
    }

    #[test]
    fn only_success_and_find_ok_are_ok() {
        let ok: Vec<u8> = ALL_KNOWN
            .iter()
            .copied()
            .filter(|b| Sw3::from_byte(*b).is_ok())
            .collect();
        assert_eq!(ok, vec![0x90, 0x9F]);
        assert_eq!(
            Sw3::from_byte(0x41).to_string(),
            "SW3 41 (card read failed)"
        );
    }
}
