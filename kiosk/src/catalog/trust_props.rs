//! Property tests of the signed catalog path: the DSSE envelope (`trust`), the catalog JSON
//! (`model` through `catalog::parse`) and staging (`update`). Arbitrary bytes and mutated
//! envelopes (bit flips, truncation, splicing, size lies) never panic and are refused with
//! specific `Refusal`s; what `trust::sign` writes verifies back to the same catalog and the
//! same bytes; no mutation ever gets a payload accepted that the admin did not sign.
//!
//! Case counts are small so `cargo test -p kiosk` stays quick; run long with e.g.
//! `PROPTEST_CASES=20000 cargo test -p kiosk --lib catalog::trust_props`.

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use super::model::Catalog;
use super::test_support::{admin, json, keys, policy};
use super::trust::{self, inspect_envelope, verify_envelope, Refusal, TrustedKeys};
use super::update::{self, StageOutcome};
use crate::config::CatalogConfig;

const NOW: &str = "2026-11-27T03:00:00Z";
const LATER: &str = "2027-06-30T00:00:00Z";
const KEY_ID: &str = "admin-2026";

/// `cases` unless `PROPTEST_CASES` is set (then that wins, for long runs).
fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c
}

/// A small valid catalog (three matters of the bundled sample): enough for every check,
/// small enough that a case costs microseconds, not a 673-matter parse.
fn small_catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| {
        let mut c = super::sample::generate().unwrap();
        c.matters.truncate(3);
        c.bundles.clear();
        c.issued_at = "2026-11-01T00:00:00Z".into();
        c.expires_at = LATER.into();
        c.version = 5;
        assert!(super::check::problems(&c).is_empty());
        c
    })
}

fn trusted() -> TrustedKeys {
    keys(&[admin(7, KEY_ID).1])
}

/// A valid signed envelope over `payload`.
fn signed(payload: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&trust::sign(payload, KEY_ID, &admin(7, KEY_ID).0)).unwrap()
}

/// The one valid envelope the mutation properties start from, and its payload.
fn valid() -> &'static (Vec<u8>, Vec<u8>) {
    static V: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    V.get_or_init(|| {
        let payload = json(small_catalog());
        (signed(&payload), payload)
    })
}

const CODES: [&str; 15] = [
    "too_large",
    "truncated",
    "invalid_json",
    "not_an_envelope",
    "wrong_payload_type",
    "payload_not_base64",
    "no_signature",
    "malformed_signature",
    "unknown_key",
    "bad_signature",
    "payload_not_json",
    "version_not_newer",
    "expired",
    "schema",
    "counts_not_sane",
];

/// A refusal list is specific: non-empty, known codes, each with a message.
fn check_refusals(refusals: &[Refusal]) -> Result<(), TestCaseError> {
    prop_assert!(!refusals.is_empty(), "refused without a reason");
    for r in refusals {
        prop_assert!(CODES.contains(&r.code()), "{r:?}");
        prop_assert!(!r.to_string().is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    /// Arbitrary bytes: never accepted, never a panic, always specific reasons.
    #[test]
    fn arbitrary_bytes_are_refused_specifically(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let p = policy(NOW, Some((4, 3)));
        let i = inspect_envelope(&bytes, &trusted(), &p);
        prop_assert!(!i.accepted());
        check_refusals(&i.into_result().err().unwrap_or_default())?;
    }

    /// JSON-shaped noise (the case serde sees most): the same.
    #[test]
    fn envelope_shaped_noise_is_refused_specifically(
        payload_type in prop_oneof![Just(trust::PAYLOAD_TYPE.to_string()), "[ -~]{0,20}"],
        payload in prop_oneof![Just(base64_of(b"{}")), "[A-Za-z0-9+/=]{0,40}"],
        sigs in proptest::collection::vec(("[a-z0-9-]{0,12}", "[A-Za-z0-9+/=]{0,100}"), 0..3),
    ) {
        let env = serde_json::json!({
            "payloadType": payload_type, "payload": payload,
            "signatures": sigs.iter().map(|(k, s)| serde_json::json!({"keyid": k, "sig": s}))
                .collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec(&env).unwrap();
        let r = verify_envelope(&bytes, &trusted(), &policy(NOW, None));
        prop_assert!(r.is_err());
        check_refusals(&r.err().unwrap_or_default())?;
    }

    /// Round trip: any version and expiry, signed by the trusted key, verifies back to the
    /// same catalog and the same payload bytes, and names its signer.
    #[test]
    fn signed_catalogs_verify_back_to_themselves(
        version in 5u64..u64::MAX / 2, days in 1i64..4000, installed in 0u64..5,
    ) {
        let mut c = small_catalog().clone();
        c.version = version;
        c.expires_at = (super::test_support::time(NOW) + chrono::Duration::days(days))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let payload = json(&c);
        let env = signed(&payload);
        let v = verify_envelope(&env, &trusted(), &policy(NOW, Some((installed, 3))))
            .map_err(|r| TestCaseError::fail(format!("{r:?}")))?;
        prop_assert_eq!(&v.catalog, &c);
        prop_assert_eq!(&v.catalog_json, &payload);
        prop_assert_eq!(v.signer, KEY_ID);
    }

    /// Bit flips, a cut and a splice of the valid envelope: never a panic; refused with
    /// specific reasons, or (a flip in an unsigned part, such as the `keyid` name) accepted
    /// with exactly the payload the admin signed, never another.
    #[test]
    fn mutated_envelopes_never_accept_other_payloads(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
        splice in proptest::option::of((any::<prop::sample::Index>(), any::<prop::sample::Index>(),
                                        any::<prop::sample::Index>())),
    ) {
        let (env, payload) = valid();
        let mut m = env.clone();
        for (at, bit) in &flips {
            let i = at.index(m.len());
            m[i] ^= 1 << bit;
        }
        if let Some((a, b, at)) = &splice {
            let (a, b) = (a.index(env.len()), b.index(env.len()));
            let piece = env[a.min(b)..a.max(b)].to_vec();
            let at = at.index(m.len());
            m.splice(at..at, piece);
        }
        if let Some(c) = cut {
            m.truncate(c.index(m.len()));
        }
        match verify_envelope(&m, &trusted(), &policy(NOW, Some((4, 3)))) {
            Ok(v) => prop_assert_eq!(&v.catalog_json, payload),
            Err(r) => check_refusals(&r)?,
        }
    }

    /// Every strict prefix of an envelope is refused as `truncated`, and nothing else.
    #[test]
    fn a_cut_envelope_is_truncated(cut in any::<prop::sample::Index>()) {
        let (env, _) = valid();
        let r = verify_envelope(&env[..cut.index(env.len())], &trusted(), &policy(NOW, None));
        let codes: Vec<&str> = r.err().unwrap_or_default().iter().map(Refusal::code).collect();
        prop_assert_eq!(codes, vec!["truncated"]);
    }

    /// A body larger than the limit is refused as `too_large` before it is read (even when
    /// it would otherwise verify), with the real size and the limit.
    #[test]
    fn oversize_is_refused_unread(limit_cut in 1usize..2000) {
        let (env, _) = valid();
        let mut p = policy(NOW, None);
        p.max_bytes = env.len().saturating_sub(limit_cut) as u64;
        let r = verify_envelope(env, &trusted(), &p).err().unwrap_or_default();
        prop_assert_eq!(r, vec![Refusal::TooLarge { size: env.len() as u64, max: p.max_bytes }]);
    }

    /// What an insider could sign: arbitrary payload bytes, or the catalog with a field
    /// removed or of the wrong type. The signature verifies, the payload is still refused
    /// (`payload_not_json` / `schema`), naming the field when one is missing.
    #[test]
    fn signed_garbage_payloads_are_refused(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        field in prop::sample::select(vec!["format", "version", "issued_at", "expires_at",
                                           "departments", "themes", "matters"]),
        drop in any::<bool>(),
    ) {
        let r = verify_envelope(&signed(&bytes), &trusted(), &policy(NOW, None));
        prop_assert!(r.is_err());
        let refusals = r.err().unwrap_or_default();
        check_refusals(&refusals)?;
        let signature_ok = refusals.iter().all(|r| !matches!(r,
            Refusal::BadSignature { .. } | Refusal::UnknownKey { .. }));
        prop_assert!(signature_ok, "{:?}", refusals);

        let mut v = serde_json::to_value(small_catalog()).unwrap();
        if drop {
            v.as_object_mut().unwrap().remove(field);
        } else {
            v[field] = serde_json::json!({"not": "this"});
        }
        let payload = serde_json::to_vec(&v).unwrap();
        let refusals = verify_envelope(&signed(&payload), &trusted(), &policy(NOW, None))
            .err().unwrap_or_default();
        check_refusals(&refusals)?;
        let schema = refusals.iter().find_map(|r| match r {
            Refusal::Schema(p) => Some(p.join("; ")),
            _ => None,
        });
        prop_assert!(schema.is_some(), "{refusals:?}");
        if drop {
            prop_assert!(schema.unwrap_or_default().contains(field), "{refusals:?}");
        }
        // The model parser on its own says the same, in words.
        let e = super::parse(&payload).err().map(|e| format!("{e:#}")).unwrap_or_default();
        prop_assert!(!e.is_empty());
    }

    /// `catalog::parse` on arbitrary bytes: an error with a message, never a panic.
    #[test]
    fn the_model_parser_refuses_noise(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let e = super::parse(&bytes).err().map(|e| format!("{e:#}")).unwrap_or_default();
        prop_assert!(e.contains("not valid") || e.contains("problem"), "{e}");
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Staging on a real store: noise and mutated envelopes are refused, recorded for
/// diagnostics with their codes, and leave nothing staged; the untouched envelope stages.
#[test]
fn staging_refuses_noise_and_records_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = crate::store::Store::open_path(&dir.path().join("k.db")).unwrap();
    let now = super::test_support::time(NOW);
    let cfg = CatalogConfig::default();
    let store_cell = std::cell::RefCell::new(&mut store);
    let strategy = (
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..3),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(config(32));
    runner
        .run(&strategy, |(noise, flips, use_noise)| {
            let bytes = if use_noise {
                noise
            } else {
                let mut m = valid().0.clone();
                for (at, bit) in &flips {
                    let i = at.index(m.len());
                    m[i] ^= 1 << bit;
                }
                m
            };
            let mut store = store_cell.borrow_mut();
            let staged_before = update::catalog_health(&store, now, 0)
                .map_err(|e| TestCaseError::fail(e.to_string()))?
                .staged_version;
            match update::stage_envelope(&mut store, &bytes, &trusted(), &cfg, now) {
                Ok(StageOutcome::Refused(r)) => {
                    check_refusals(&r)?;
                    let health = update::catalog_health(&store, now, 0)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(health.staged_version, staged_before, "nothing staged");
                    let recorded = health.last_refusal.map(|x| x.refusals).unwrap_or_default();
                    prop_assert_eq!(recorded.len(), r.len());
                    for (view, refusal) in recorded.iter().zip(&r) {
                        prop_assert_eq!(view.code.as_str(), refusal.code());
                    }
                }
                // Only a flip in an unsigned name can stage, and then the signed catalog.
                Ok(StageOutcome::Staged { version, .. }) => {
                    prop_assert!(!use_noise);
                    prop_assert_eq!(version, small_catalog().version);
                }
                Err(e) => return Err(TestCaseError::fail(format!("store error: {e:#}"))),
            }
            Ok(())
        })
        .unwrap();
    // A newer, untouched envelope still stages after all that noise.
    let mut c = small_catalog().clone();
    c.version = 6;
    let outcome = update::stage_envelope(&mut store, &signed(&json(&c)), &trusted(), &cfg, now);
    assert!(
        matches!(outcome, Ok(StageOutcome::Staged { version: 6, .. })),
        "{outcome:?}"
    );
}
