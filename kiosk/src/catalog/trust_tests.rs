use super::*;
use crate::catalog::test_support::{admin, catalog, edit_payload, envelope, json, keys, policy};

const NOW: &str = "2026-11-27T03:00:00Z";
const LATER: &str = "2027-06-30T00:00:00Z";

fn codes(refusals: &[Refusal]) -> Vec<&'static str> {
    refusals.iter().map(Refusal::code).collect()
}

/// Verifies and returns only the refusals (panics when accepted).
fn refused(bytes: &[u8], keys: &TrustedKeys, policy: &Policy) -> Vec<Refusal> {
    match verify_envelope(bytes, keys, policy) {
        Ok(v) => panic!("accepted version {}", v.catalog.version),
        Err(r) => r,
    }
}

#[test]
fn pae_matches_the_dsse_definition() {
    // The example of the DSSE specification (protocol.md).
    assert_eq!(
        pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
    );
    assert_eq!(
        pae(PAYLOAD_TYPE, b"{}"),
        b"DSSEv1 39 application/vnd.hall-kiosk.catalog+json 2 {}".to_vec()
    );
}

#[test]
fn a_signed_newer_catalog_is_accepted_with_its_signer_and_exact_bytes() {
    let (key, trusted) = admin(7, "admin-2026");
    let c = catalog(5, LATER);
    let payload = json(&c);
    let env = envelope(&payload, "admin-2026", &key);
    let v = verify_envelope(&env, &keys(&[trusted]), &policy(NOW, Some((4, 673)))).unwrap();
    assert_eq!(v.signer, "admin-2026");
    assert_eq!(v.catalog, c);
    assert_eq!(v.catalog_json, payload);
    assert_eq!(
        v.payload_sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&payload))
    );
    // The header plus the payload is the envelope again (stored once, rebuilt on demand).
    let header: serde_json::Value = serde_json::from_slice(&v.envelope_header).unwrap();
    let mut whole: serde_json::Value = serde_json::from_slice(&env).unwrap();
    whole.as_object_mut().unwrap().remove("payload");
    assert_eq!(header, whole);
}

#[test]
fn one_changed_payload_byte_is_a_bad_signature() {
    let (key, trusted) = admin(7, "admin-2026");
    let env = envelope(&json(&catalog(5, LATER)), "admin-2026", &key);
    // Change one byte of the catalog JSON, keeping it valid JSON: only the signature fails.
    let tampered = edit_payload(&env, |p| {
        let at = p.windows(7).position(|w| w == b"SAMPLE ").unwrap();
        p[at] = b'X';
    });
    let r = refused(&tampered, &keys(&[trusted]), &policy(NOW, Some((4, 673))));
    assert_eq!(codes(&r), ["bad_signature"], "{r:?}");
    assert!(r[0].to_string().contains("admin-2026"));
}

#[test]
fn a_signature_by_an_unknown_key_is_refused_naming_the_key() {
    let (_, trusted) = admin(7, "admin-2026");
    let (stranger, _) = admin(9, "mallory");
    let env = envelope(&json(&catalog(5, LATER)), "mallory", &stranger);
    let r = refused(&env, &keys(&[trusted]), &policy(NOW, None));
    assert_eq!(codes(&r), ["unknown_key"]);
    let text = r[0].to_string();
    assert!(
        text.contains("mallory") && text.contains("admin-2026"),
        "{text}"
    );
    // An unknown key that claims a trusted key id is a bad signature.
    let env = envelope(&json(&catalog(5, LATER)), "admin-2026", &stranger);
    let (_, trusted) = admin(7, "admin-2026");
    assert_eq!(
        codes(&refused(&env, &keys(&[trusted]), &policy(NOW, None))),
        ["bad_signature"]
    );
}

#[test]
fn equal_and_lower_versions_are_rollbacks() {
    let (key, trusted) = admin(7, "admin-2026");
    let keys = keys(&[trusted]);
    for v in [5, 4, 1] {
        let env = envelope(&json(&catalog(v, LATER)), "admin-2026", &key);
        let r = refused(&env, &keys, &policy(NOW, Some((5, 673))));
        assert_eq!(codes(&r), ["version_not_newer"], "version {v}");
        assert!(r[0]
            .to_string()
            .contains(&format!("version {v} is not newer than version 5")));
    }
}

#[test]
fn expiry_is_refused_past_the_grace_and_accepted_within_it() {
    let (key, trusted) = admin(7, "admin-2026");
    let keys = keys(&[trusted]);
    let env = envelope(
        &json(&catalog(5, "2026-11-26T12:00:00Z")),
        "admin-2026",
        &key,
    );
    // Expired 15 h before NOW: inside the one-day grace.
    assert!(verify_envelope(&env, &keys, &policy(NOW, None)).is_ok());
    // With a one-hour grace it is refused.
    let mut strict = policy(NOW, None);
    strict.grace_s = 3600;
    let r = refused(&env, &keys, &strict);
    assert_eq!(codes(&r), ["expired"]);
    assert!(r[0].to_string().contains("2026-11-26T12:00:00Z"));
}

#[test]
fn a_truncated_body_is_refused_as_truncated() {
    let (key, trusted) = admin(7, "admin-2026");
    let env = envelope(&json(&catalog(5, LATER)), "admin-2026", &key);
    for cut in [1, env.len() / 2, env.len() - 1] {
        let r = refused(
            &env[..cut],
            &keys(std::slice::from_ref(&trusted)),
            &policy(NOW, None),
        );
        assert_eq!(codes(&r), ["truncated"], "cut at {cut}");
    }
}

#[test]
fn a_50_mb_body_is_refused_by_size_before_it_is_parsed() {
    let (_, trusted) = admin(7, "admin-2026");
    // Not JSON at all: had it been parsed, a JSON error would be reported too.
    let body = vec![b'x'; 50 * 1024 * 1024];
    let r = refused(&body, &keys(&[trusted]), &policy(NOW, None));
    assert_eq!(codes(&r), ["too_large"]);
    assert!(r[0].to_string().contains("52428800 bytes"), "{}", r[0]);
}

#[test]
fn invalid_json_and_non_envelopes_are_refused() {
    let (_, trusted) = admin(7, "admin-2026");
    let keys = keys(&[trusted]);
    let p = policy(NOW, None);
    assert_eq!(
        codes(&refused(b"<html>502</html>", &keys, &p)),
        ["invalid_json"]
    );
    assert_eq!(
        codes(&refused(b"{\"payloadType\" \"x\"}", &keys, &p)),
        ["invalid_json"]
    );
    assert_eq!(
        codes(&refused(b"{\"hello\": 1}", &keys, &p)),
        ["not_an_envelope"]
    );
    assert_eq!(codes(&refused(b"", &keys, &p)), ["truncated"]);
}

#[test]
fn a_wrong_payload_type_is_refused_even_when_signed() {
    let (key, trusted) = admin(7, "admin-2026");
    let payload = json(&catalog(5, LATER));
    // Signed correctly over the wrong type: the type alone is the reason.
    let sig = ed25519_dalek::Signer::sign(&key, &pae("application/json", &payload));
    let env = serde_json::to_vec(&Envelope {
        payload_type: "application/json".into(),
        payload: B64.encode(&payload),
        signatures: vec![EnvelopeSignature {
            keyid: "admin-2026".into(),
            sig: B64.encode(sig.to_bytes()),
        }],
    })
    .unwrap();
    let r = refused(&env, &keys(&[trusted]), &policy(NOW, None));
    assert_eq!(codes(&r), ["wrong_payload_type"]);
}

#[test]
fn bad_base64_missing_and_malformed_signatures_and_non_json_payloads() {
    let (key, trusted) = admin(7, "admin-2026");
    let keys = keys(&[trusted]);
    let p = policy(NOW, None);
    let good = envelope(&json(&catalog(5, LATER)), "admin-2026", &key);
    let mut env: Envelope = serde_json::from_slice(&good).unwrap();

    let mut e = env.clone();
    e.payload = "not base64!".into();
    assert_eq!(
        codes(&refused(&serde_json::to_vec(&e).unwrap(), &keys, &p)),
        ["payload_not_base64"]
    );

    let mut e = env.clone();
    e.signatures.clear();
    assert_eq!(
        codes(&refused(&serde_json::to_vec(&e).unwrap(), &keys, &p)),
        ["no_signature"]
    );

    let mut e = env.clone();
    e.signatures[0].sig = B64.encode([1u8; 10]);
    assert_eq!(
        codes(&refused(&serde_json::to_vec(&e).unwrap(), &keys, &p)),
        ["malformed_signature"]
    );

    let not_json = envelope(b"version: 5", "admin-2026", &key);
    assert_eq!(codes(&refused(&not_json, &keys, &p)), ["payload_not_json"]);

    // A second, bad signature next to a good one does not matter.
    env.signatures.push(EnvelopeSignature {
        keyid: "other".into(),
        sig: "!!".into(),
    });
    assert!(verify_envelope(&serde_json::to_vec(&env).unwrap(), &keys, &p).is_ok());
}

#[test]
fn key_rotation_two_trusted_keys_either_signs() {
    let (old, old_pub) = admin(7, "admin-2026");
    let (new, new_pub) = admin(8, "admin-2027");
    let both = keys(&[old_pub, new_pub.clone()]);
    let payload = json(&catalog(5, LATER));
    for (key, id) in [(&old, "admin-2026"), (&new, "admin-2027")] {
        let v = verify_envelope(&envelope(&payload, id, key), &both, &policy(NOW, None)).unwrap();
        assert_eq!(v.signer, id);
    }
    // During the change-over admins sign with both; a kiosk that already dropped the old key
    // accepts on the new signature alone.
    let mut env = sign(&payload, "admin-2026", &old);
    env.signatures
        .extend(sign(&payload, "admin-2027", &new).signatures);
    let bytes = serde_json::to_vec(&env).unwrap();
    let v = verify_envelope(&bytes, &keys(&[new_pub]), &policy(NOW, None)).unwrap();
    assert_eq!(v.signer, "admin-2027");
    // A kiosk that trusts neither names both.
    let (_, stranger) = admin(9, "admin-2099");
    let r = refused(&bytes, &keys(&[stranger]), &policy(NOW, None));
    assert_eq!(codes(&r), ["unknown_key", "unknown_key"]);
}

#[test]
fn every_reason_is_reported_at_once() {
    let (stranger, _) = admin(9, "mallory");
    let (_, trusted) = admin(7, "admin-2026");
    let mut c = catalog(3, "2026-01-01T00:00:00Z");
    c.matters[1].code = c.matters[0].code.clone();
    let env = envelope(&json(&c), "mallory", &stranger);
    let inspection = inspect_envelope(&env, &keys(&[trusted]), &policy(NOW, Some((4, 673))));
    assert!(!inspection.accepted());
    assert_eq!(inspection.version, Some(3));
    assert_eq!(inspection.matters, Some(673));
    assert_eq!(inspection.signer, None);
    assert_eq!(
        codes(&inspection.refusals),
        ["unknown_key", "version_not_newer", "expired", "schema"]
    );
    assert!(inspection.refusals[3]
        .to_string()
        .contains("code is used twice"));
}

#[test]
fn a_catalog_of_the_wrong_shape_still_reports_version_and_expiry() {
    let (key, trusted) = admin(7, "admin-2026");
    let payload = br#"{"version": 2, "expires_at": "2020-01-01T00:00:00Z", "matters": []}"#;
    let env = envelope(payload, "admin-2026", &key);
    let i = inspect_envelope(&env, &keys(&[trusted]), &policy(NOW, Some((4, 673))));
    assert_eq!(i.signer.as_deref(), Some("admin-2026"));
    assert_eq!(
        codes(&i.refusals),
        ["schema", "version_not_newer", "expired"]
    );
    assert!(
        i.refusals[0].to_string().contains("missing field"),
        "{}",
        i.refusals[0]
    );
}

#[test]
fn counts_must_be_sane() {
    let (key, trusted) = admin(7, "admin-2026");
    let keys = keys(&[trusted]);
    let mut empty = catalog(5, LATER);
    empty.matters.clear();
    empty.bundles.clear();
    let r = refused(
        &envelope(&json(&empty), "admin-2026", &key),
        &keys,
        &policy(NOW, None),
    );
    // Reported once, as a count problem (not also as a schema problem).
    assert_eq!(codes(&r), ["counts_not_sane"], "{r:?}");

    let mut third = catalog(5, LATER);
    third.bundles.clear();
    third.matters.truncate(200);
    let env = envelope(&json(&third), "admin-2026", &key);
    let r = refused(&env, &keys, &policy(NOW, Some((4, 673))));
    assert_eq!(codes(&r), ["counts_not_sane"]);
    assert!(
        r[0].to_string().contains("fewer than half of the 673"),
        "{}",
        r[0]
    );
    // The same catalog on a kiosk with nothing installed is fine.
    assert!(verify_envelope(&env, &keys, &policy(NOW, None)).is_ok());
}

#[test]
fn the_no_matters_wording_matches_the_checker() {
    let mut c = catalog(1, LATER);
    c.matters.clear();
    c.bundles.clear();
    assert_eq!(check::problems(&c), vec![NO_MATTERS_PROBLEM.to_string()]);
}

#[test]
fn public_key_files_load_with_their_stem_as_key_id() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = admin(7, "x");
    let path = dir.path().join("admin-2026.pub");
    std::fs::write(
        &path,
        format!("{}\n", B64.encode(key.verifying_key().as_bytes())),
    )
    .unwrap();
    let k = load_public_key(&path).unwrap();
    assert_eq!(k.key_id, "admin-2026");
    assert_eq!(k.key, key.verifying_key());

    std::fs::write(&path, "c2hvcnQ=").unwrap();
    assert!(load_public_key(&path)
        .unwrap_err()
        .to_string()
        .contains("32 bytes"));
    std::fs::write(&path, "%%%").unwrap();
    assert!(load_public_key(&path)
        .unwrap_err()
        .to_string()
        .contains("not base64"));
    let missing = dir.path().join("nope.pub");
    assert!(format!("{:#}", load_public_key(&missing).unwrap_err()).contains("cannot read"));
    let odd = dir.path().join("a b.pub");
    std::fs::write(&odd, B64.encode(key.verifying_key().as_bytes())).unwrap();
    assert!(load_public_key(&odd)
        .unwrap_err()
        .to_string()
        .contains("key id"));
}

#[test]
fn refusal_codes_are_distinct() {
    let all = [
        Refusal::TooLarge { size: 1, max: 0 },
        Refusal::Truncated(String::new()),
        Refusal::InvalidJson(String::new()),
        Refusal::NotAnEnvelope(String::new()),
        Refusal::WrongPayloadType {
            found: String::new(),
        },
        Refusal::PayloadNotBase64(String::new()),
        Refusal::NoSignature,
        Refusal::MalformedSignature {
            index: 0,
            keyid: String::new(),
        },
        Refusal::UnknownKey {
            keyid: String::new(),
            trusted: String::new(),
        },
        Refusal::BadSignature {
            keyid: String::new(),
        },
        Refusal::PayloadNotJson(String::new()),
        Refusal::VersionNotNewer {
            version: 1,
            installed: 1,
        },
        Refusal::Expired {
            expires_at: String::new(),
            now: String::new(),
            grace_s: 0,
        },
        Refusal::Schema(vec![]),
        Refusal::CountsNotSane {
            matters: 0,
            why: String::new(),
        },
    ];
    let set: std::collections::HashSet<_> = all.iter().map(Refusal::code).collect();
    assert_eq!(set.len(), all.len());
}
