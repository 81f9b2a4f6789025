//! Property tests of the kiosk's side of the central API (`protocol`): arbitrary responses
//! never panic and always give one outcome per id sent, in order, with a reason whenever an
//! id stays unknown; responses written to the contract decode to exactly the outcomes they
//! state; request bodies decode back to the items they were built from, within the byte
//! limit, in `seq` order.
//!
//! Case counts are small so `cargo test -p kiosk` stays quick; run long with e.g.
//! `PROPTEST_CASES=20000 cargo test -p kiosk --lib sync::protocol_props`.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::protocol::*;
use crate::outbox::{Applicant, Attachment, SealedPayload};

/// `cases` unless `PROPTEST_CASES` is set (then that wins, for long runs).
fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-27T03:12:09Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

fn ids(n: usize, salt: u32) -> Vec<String> {
    (0..n).map(|i| format!("0190f5e4-{salt:08x}-{i}")).collect()
}

/// What the platform may say about one id, and the contract JSON for it (`None`: the
/// response leaves the id out).
#[derive(Debug, Clone)]
enum Said {
    Accepted(String),
    Duplicate(String),
    Rejected(String, String),
    Missing,
    /// A status this build does not know.
    Strange(String),
}

fn said() -> impl Strategy<Value = Said> {
    prop_oneof![
        "XH[0-9]{14}".prop_map(Said::Accepted),
        "XH[0-9]{14}".prop_map(Said::Duplicate),
        ("[a-z_]{1,20}", "[ -~\u{4e00}-\u{4e20}]{1,60}").prop_map(|(c, r)| Said::Rejected(c, r)),
        Just(Said::Missing),
        "[a-z]{1,10}"
            .prop_filter("not a contract status", |s| {
                !["accepted", "duplicate", "rejected"].contains(&s.as_str())
            })
            .prop_map(Said::Strange),
    ]
}

fn expected(s: &Said) -> ItemOutcome {
    match s {
        Said::Accepted(r) => ItemOutcome::Accepted {
            receipt_no: r.clone(),
        },
        Said::Duplicate(r) => ItemOutcome::Duplicate {
            receipt_no: r.clone(),
        },
        Said::Rejected(code, reason) => ItemOutcome::Rejected {
            code: code.clone(),
            reason: reason.clone(),
        },
        Said::Missing | Said::Strange(_) => ItemOutcome::Unknown,
    }
}

fn result_json(id: &str, s: &Said) -> Option<Value> {
    Some(match s {
        Said::Accepted(r) => json!({"id": id, "status": "accepted", "receipt_no": r}),
        Said::Duplicate(r) => json!({"id": id, "status": "duplicate", "receipt_no": r}),
        Said::Rejected(c, r) => json!({"id": id, "status": "rejected", "code": c, "reason": r}),
        Said::Strange(st) => json!({"id": id, "status": st, "receipt_no": "XH1"}),
        Said::Missing => return None,
    })
}

fn item(id: &str, seq: u64, name: &str, form: BTreeMap<String, String>, att: usize) -> Outgoing {
    Outgoing {
        id: id.into(),
        seq,
        matter_code: "310104001001".into(),
        situation: "01".into(),
        catalog_version: 17,
        created_at: "2026-11-27T03:12:09Z".into(),
        payload: SealedPayload {
            applicant: Applicant {
                id_type: "resident".into(),
                id_number: "11010519491231002X".into(),
                name: name.into(),
                verified_by: "card+face".into(),
            },
            form,
            attachments: (0..att)
                .map(|i| Attachment {
                    name: format!("a{i}.jpg"),
                    sha256: "ab".repeat(32),
                    bytes_b64: "QUJD".repeat(i * 40),
                })
                .collect(),
        },
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Any status, header and body: one outcome per id sent, in order; a non-200 or a body
    /// that is not the contract's JSON makes every id unknown with a reason naming it; any
    /// unknown id comes with a reason; `Retry-After` is bounded.
    #[test]
    fn any_response_gives_one_outcome_per_id(
        n in 0usize..6, salt in any::<u32>(), status in prop_oneof![Just(200u16), 100u16..600],
        retry in proptest::option::of(prop_oneof!["[0-9]{1,25}", "[ -~]{0,40}"]),
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "\\{\"results\":\\[(\\{\"id\":\"[a-z0-9-]{0,30}\",\"status\":\"[a-z]{0,9}\"\\},?){0,3}\\]\\}"
                .prop_map(String::into_bytes),
        ],
    ) {
        let sent = ids(n, salt);
        let out = decode_batch_response(&sent, status, retry.as_deref(), &body, now());
        let got: Vec<&String> = out.items.iter().map(|(id, _)| id).collect();
        prop_assert_eq!(got, sent.iter().collect::<Vec<_>>());
        if status != 200 {
            prop_assert!(out.items.iter().all(|(_, o)| *o == ItemOutcome::Unknown));
            let e = out.error.clone().unwrap_or_default();
            prop_assert!(e.contains(&status.to_string()), "{}", e);
        }
        if out.items.iter().any(|(_, o)| *o == ItemOutcome::Unknown) {
            prop_assert!(out.error.as_deref().is_some_and(|e| !e.is_empty()));
        }
        if let Some(d) = out.retry_after {
            prop_assert!(d <= MAX_RETRY_AFTER);
        }
    }

    /// Round trip: a 200 written to the contract (results in any order, extra ids the kiosk
    /// did not send, repeated ids) decodes to exactly what it says for each id sent.
    #[test]
    fn contract_responses_decode_to_what_they_say(
        outcomes in proptest::collection::vec(said(), 0..8),
        salt in any::<u32>(), extra in 0usize..3, repeat in any::<bool>(), rotate in 0usize..8,
    ) {
        let sent = ids(outcomes.len(), salt);
        let mut results: Vec<Value> = sent.iter().zip(&outcomes)
            .filter_map(|(id, s)| result_json(id, s)).collect();
        for i in 0..extra {
            results.push(json!({"id": format!("not-sent-{i}"), "status": "accepted",
                                "receipt_no": "XH0"}));
        }
        if repeat && !results.is_empty() {
            // A second answer for an id does not override the first.
            let mut again = results[0].clone();
            again["status"] = json!("accepted");
            again["receipt_no"] = json!("XH-second");
            results.push(again);
        }
        let r = if results.is_empty() { 0 } else { rotate % results.len() };
        results.rotate_left(r);
        // Rotation may bring the repeat first: the first answer in the body is the one kept.
        let body = serde_json::to_vec(&json!({ "results": results })).unwrap();
        let out = decode_batch_response(&sent, 200, None, &body, now());
        let mut first: BTreeMap<String, ItemOutcome> = BTreeMap::new();
        for v in &results {
            let id = v["id"].as_str().unwrap().to_string();
            let s = match (v["status"].as_str(), v["receipt_no"].as_str()) {
                (Some("accepted"), Some(r)) => Said::Accepted(r.into()),
                (Some("duplicate"), Some(r)) => Said::Duplicate(r.into()),
                (Some("rejected"), _) => Said::Rejected(
                    v["code"].as_str().unwrap().into(), v["reason"].as_str().unwrap().into()),
                (Some(other), _) => Said::Strange(other.into()),
                _ => Said::Missing,
            };
            first.entry(id).or_insert_with(|| expected(&s));
        }
        for (id, outcome) in &out.items {
            prop_assert_eq!(outcome, first.get(id).unwrap_or(&ItemOutcome::Unknown));
        }
        let unknown = out.items.iter().filter(|(_, o)| *o == ItemOutcome::Unknown).count();
        prop_assert_eq!(out.error.is_some(), unknown > 0);
        prop_assert_eq!(out.retry_after, None);
    }

    /// Round trip of the request encoder: the body is JSON of the contract's shape holding
    /// exactly the sent items, in order, within the limit; every item is sent, left for
    /// later, or set aside as too large, and those left for later all come after the sent.
    #[test]
    fn batch_bodies_decode_back_to_their_items(
        forms in proptest::collection::vec((
            "[ -~\u{4e00}-\u{4e40}]{0,12}",
            proptest::collection::btree_map("[a-z_]{1,8}", "[ -~\u{4e00}-\u{4e40}\"\\\\]{0,30}", 0..4),
            0usize..4,
        ), 0..12),
        max_bytes in 200usize..6000,
        kiosk in "[A-Z]{2}-[0-9]{4}",
    ) {
        let items: Vec<Outgoing> = forms.iter().enumerate()
            .map(|(i, (name, form, att))| item(&format!("id-{i}"), i as u64 + 1, name, form.clone(), *att))
            .collect();
        let b = encode_batch(&kiosk, &items, max_bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(b.body.len() <= max_bytes);
        let mut all: Vec<usize> = b.sent.iter().chain(&b.too_large).chain(&b.unsent).copied().collect();
        all.sort_unstable();
        prop_assert_eq!(all, (0..items.len()).collect::<Vec<_>>());
        if let (Some(last_sent), Some(first_unsent)) = (b.sent.last(), b.unsent.first()) {
            prop_assert!(last_sent < first_unsent);
        }
        let v: Value = serde_json::from_slice(&b.body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(v["kiosk_id"].as_str(), Some(kiosk.as_str()));
        let subs = v["submissions"].as_array().cloned().unwrap_or_default();
        prop_assert_eq!(subs.len(), b.sent.len());
        for (s, &i) in subs.iter().zip(&b.sent) {
            let it = &items[i];
            prop_assert_eq!(s["id"].as_str(), Some(it.id.as_str()));
            prop_assert_eq!(s["seq"].as_u64(), Some(it.seq));
            prop_assert_eq!(s["catalog_version"].as_u64(), Some(it.catalog_version));
            let back: SealedPayload = serde_json::from_value(json!({
                "applicant": s["applicant"], "form": s["form"], "attachments": s["attachments"],
            })).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&back.applicant, &it.payload.applicant);
            prop_assert_eq!(&back.form, &it.payload.form);
            prop_assert_eq!(&back.attachments, &it.payload.attachments);
        }
    }

    /// `Retry-After`: never a panic, never more than the cap; delta-seconds read exactly.
    #[test]
    fn retry_after_is_bounded(text in "[ -~]{0,40}", secs in any::<u64>()) {
        if let Some(d) = parse_retry_after(&text, now()) {
            prop_assert!(d <= MAX_RETRY_AFTER);
        }
        prop_assert_eq!(
            parse_retry_after(&secs.to_string(), now()),
            Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
        );
    }

    /// Heartbeat and catalog answers: any status and body give a specific outcome that
    /// names the status when it is not the expected one.
    #[test]
    fn heartbeat_and_catalog_answers_are_specific(
        status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..200),
        error in "[ -~]{0,300}",
    ) {
        let json_body = serde_json::to_vec(&json!({ "error": error })).unwrap();
        for b in [&body, &json_body] {
            match decode_heartbeat_response(status, None, b, now()) {
                Ok(()) => prop_assert_eq!(status, 200),
                Err((why, _)) => prop_assert!(why.contains(&status.to_string())),
            }
            match decode_catalog_response(status, b.clone()) {
                CatalogAnswer::NotModified => prop_assert_eq!(status, 304),
                CatalogAnswer::Envelope(e) => {
                    prop_assert_eq!(status, 200);
                    prop_assert_eq!(&e, b);
                }
                CatalogAnswer::Failed(why) => prop_assert!(!why.is_empty()),
            }
        }
        // The platform's own reason is quoted, bounded.
        if status != 200 {
            let why = decode_heartbeat_response(status, None, &json_body, now()).unwrap_err().0;
            let quoted: String = error.chars().take(200).collect();
            prop_assert!(why.ends_with(&quoted), "{}", why);
        }
    }
}
