//! Test helpers for signed catalogs: deterministic admin keys, catalogs at a chosen version
//! and expiry, envelopes signed over real bytes. Test-only.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;

use super::model::Catalog;
use super::sample;
use super::trust::{self, Installed, Policy, TrustedKey, TrustedKeys};

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A deterministic admin key and its trusted public half.
pub fn admin(seed: u8, key_id: &str) -> (SigningKey, TrustedKey) {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let trusted = TrustedKey {
        key_id: key_id.to_string(),
        key: key.verifying_key(),
    };
    (key, trusted)
}

pub fn keys(list: &[TrustedKey]) -> TrustedKeys {
    TrustedKeys::new(list.to_vec())
}

/// The bundled catalog at `version`, expiring at `expires_at`.
pub fn catalog(version: u64, expires_at: &str) -> Catalog {
    let mut c = sample::generate().unwrap();
    c.version = version;
    c.issued_at = "2026-11-01T00:00:00Z".into();
    c.expires_at = expires_at.into();
    c
}

pub fn json(c: &Catalog) -> Vec<u8> {
    serde_json::to_vec(c).unwrap()
}

/// An envelope over `payload` signed by `key` under `key_id`.
pub fn envelope(payload: &[u8], key_id: &str, key: &SigningKey) -> Vec<u8> {
    serde_json::to_vec(&trust::sign(payload, key_id, key)).unwrap()
}

pub fn time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

/// A policy at `now` with a one-day grace and a 16 MiB limit.
pub fn policy(now: &str, installed: Option<(u64, usize)>) -> Policy {
    Policy {
        now: time(now),
        grace_s: 24 * 3600,
        max_bytes: 16 * 1024 * 1024,
        installed: installed.map(|(version, matters)| Installed { version, matters }),
    }
}

/// Decodes an envelope's payload, lets `edit` change it, and re-encodes it (the signature is
/// left as it was).
pub fn edit_payload(envelope: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut env: trust::Envelope = serde_json::from_slice(envelope).unwrap();
    let mut payload = B64.decode(env.payload.as_bytes()).unwrap();
    edit(&mut payload);
    env.payload = B64.encode(&payload);
    serde_json::to_vec(&env).unwrap()
}
