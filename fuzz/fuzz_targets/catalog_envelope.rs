//! The signed catalog path (kiosk::catalog::trust). First byte even: the input is an envelope
//! as it comes from the network. Odd: the input is a catalog payload an insider signs with
//! the trusted key (so the fuzzer reaches the catalog checks behind the signature).
#![no_main]
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use kiosk::catalog::trust::{self, Installed, Policy, TrustedKey, TrustedKeys};
use libfuzzer_sys::fuzz_target;

fn setup() -> &'static (SigningKey, TrustedKeys, Policy) {
    static S: OnceLock<(SigningKey, TrustedKeys, Policy)> = OnceLock::new();
    S.get_or_init(|| {
        let key = SigningKey::from_bytes(&[7; 32]);
        let keys = TrustedKeys::new(vec![TrustedKey {
            key_id: "admin-2026".into(),
            key: key.verifying_key(),
        }]);
        let now = DateTime::parse_from_rfc3339("2026-11-27T03:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let policy = Policy {
            now,
            grace_s: 24 * 3600,
            max_bytes: 1024 * 1024,
            installed: Some(Installed {
                version: 4,
                matters: 3,
            }),
        };
        (key, keys, policy)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let (key, keys, policy) = setup();
    let inspection = if mode & 1 == 0 {
        trust::inspect_envelope(bytes, keys, policy)
    } else {
        let envelope = trust::sign(bytes, "admin-2026", key);
        let Ok(envelope) = serde_json::to_vec(&envelope) else {
            return;
        };
        let _ = kiosk::catalog::parse(bytes);
        trust::inspect_envelope(&envelope, keys, policy)
    };
    // Accepted only with no refusal; refused always with at least one reason.
    assert_eq!(inspection.accepted(), inspection.refusals.is_empty());
    for r in &inspection.refusals {
        let _ = (r.code(), r.to_string());
    }
});
