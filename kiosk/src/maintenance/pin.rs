//! The staff PIN: a salted, slow Argon2id hash kept as a PHC string in the config
//! (`maintenance.staff_pin_hash`), never the PIN itself.
//!
//! Cost: 19 MiB and 2 passes (the OWASP minimum for Argon2id). A PIN has little entropy, so
//! the hash alone would not stop an attacker holding the config file for long; what protects
//! the screen is the lockout (`lockout.rs`), and the config file is readable only by root
//! and the kiosk's user.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest and longest PIN accepted by `kiosk staff set-pin`.
pub const PIN_MIN_DIGITS: usize = 6;
pub const PIN_MAX_DIGITS: usize = 12;

/// Why a PIN or a stored hash was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("the PIN must be {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits (it has {0} characters)")]
    Length(usize),
    #[error("the PIN must be digits only (the touch keypad has no letters)")]
    NotDigits,
    #[error("the PIN must not be one digit repeated or a plain run such as 123456")]
    Trivial,
    #[error("maintenance.staff_pin_hash is not an Argon2 PHC string ({0}); set it again with `kiosk staff set-pin`")]
    BadHash(String),
    #[error("cannot hash the PIN: {0}")]
    Hashing(String),
}

/// A parsed, usable PHC string.
#[derive(Clone, PartialEq, Eq)]
pub struct PinHash {
    phc: String,
}

impl std::fmt::Debug for PinHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash is not secret like the PIN, but it is an offline-guessing target: keep it
        // out of logs and panics.
        f.write_str("PinHash(..)")
    }
}

impl PinHash {
    /// Checks that `phc` is an Argon2 PHC string this build can verify against.
    pub fn parse(phc: &str) -> Result<PinHash, PinError> {
        let phc = phc.trim();
        let parsed = PasswordHash::new(phc).map_err(|e| PinError::BadHash(e.to_string()))?;
        if Algorithm::try_from(parsed.algorithm).is_err() {
            return Err(PinError::BadHash(format!(
                "algorithm {} is not Argon2",
                parsed.algorithm
            )));
        }
        if parsed.salt.is_none() || parsed.hash.is_none() {
            return Err(PinError::BadHash("no salt or no hash".into()));
        }
        Ok(PinHash {
            phc: phc.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.phc
    }

    /// Whether `pin` matches. Constant-time in the hash comparison (argon2's verifier).
    pub fn matches(&self, pin: &str) -> bool {
        match PasswordHash::new(&self.phc) {
            Ok(h) => Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// Refuses PINs staff should not choose: wrong length, non-digits, `000000`, `123456`.
pub fn check_pin_format(pin: &str) -> Result<(), PinError> {
    let n = pin.chars().count();
    if !(PIN_MIN_DIGITS..=PIN_MAX_DIGITS).contains(&n) {
        return Err(PinError::Length(n));
    }
    if !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PinError::NotDigits);
    }
    let d: Vec<i16> = pin.bytes().map(|b| i16::from(b - b'0')).collect();
    let steps: Vec<i16> = d.windows(2).map(|w| w[1] - w[0]).collect();
    let constant_step = steps.windows(2).all(|w| w[0] == w[1]);
    if constant_step && matches!(steps.first(), Some(-1..=1)) {
        return Err(PinError::Trivial);
    }
    Ok(())
}

/// Hashes a new PIN with a fresh random salt: the PHC string for the config.
pub fn hash_pin(pin: &str) -> Result<PinHash, PinError> {
    check_pin_format(pin)?;
    let salt = SaltString::generate(&mut OsRng);
    let phc = hasher()?
        .hash_password(pin.as_bytes(), &salt)
        .map_err(|e| PinError::Hashing(e.to_string()))?
        .to_string();
    PinHash::parse(&phc)
}

fn hasher() -> Result<Argon2<'static>, PinError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| PinError::Hashing(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_pin_verifies_and_a_wrong_one_does_not() {
        let h = hash_pin("482913").unwrap();
        assert!(
            h.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            h.as_str()
        );
        assert!(h.matches("482913"));
        assert!(!h.matches("482914"));
        assert!(!h.matches(""));
        // Salted: the same PIN twice gives two different strings, both valid.
        let again = hash_pin("482913").unwrap();
        assert_ne!(h.as_str(), again.as_str());
        assert!(again.matches("482913"));
        // Round trip through the config text.
        assert!(PinHash::parse(h.as_str()).unwrap().matches("482913"));
        assert_eq!(format!("{h:?}"), "PinHash(..)");
    }

    #[test]
    fn weak_or_malformed_pins_are_refused() {
        assert_eq!(check_pin_format("1234"), Err(PinError::Length(4)));
        assert_eq!(check_pin_format("1234567890123"), Err(PinError::Length(13)));
        assert_eq!(check_pin_format("12a456"), Err(PinError::NotDigits));
        assert_eq!(check_pin_format("４８２９１３"), Err(PinError::NotDigits));
        for trivial in ["000000", "123456", "987654", "5555555"] {
            assert_eq!(
                check_pin_format(trivial),
                Err(PinError::Trivial),
                "{trivial}"
            );
        }
        assert_eq!(check_pin_format("135790"), Ok(()));
        assert!(hash_pin("111111").is_err());
    }

    #[test]
    fn hashes_that_are_not_argon2_phc_strings_are_refused() {
        for bad in [
            "",
            "482913",
            "$2b$12$abcdefghijklmnopqrstuv",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        ] {
            assert!(
                matches!(PinHash::parse(bad), Err(PinError::BadHash(_))),
                "{bad:?} accepted"
            );
        }
    }
}
