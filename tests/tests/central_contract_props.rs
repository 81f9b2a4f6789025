//! The central API across both sides, written independently (the kiosk's `sync::protocol`
//! and the simulator's `central::handlers`): whatever the submissions hold, a batch the kiosk
//! encodes is accepted by the platform with a receipt number per id, the kiosk decodes the
//! answer to exactly those outcomes, and sending the same batch again (a lost
//! acknowledgement) gives `duplicate` with the same numbers. No sockets: bodies go from one
//! pure function to the other, so only the JSON contract is under test.
//!
//! Run longer with `PROPTEST_CASES=2000 cargo test -p e2e --test central_contract_props`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use device_sim::central::faults::{FaultConfig, Faults};
use device_sim::central::handlers::{Platform, Reply};
use device_sim::central::http::Request;
use device_sim::central::store::SimStore;
use kiosk::outbox::{Applicant, Attachment, SealedPayload};
use kiosk::sync::protocol::{decode_batch_response, encode_batch, ItemOutcome, Outgoing};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const KIOSK: &str = "XH-0001";

fn cases(default: u32) -> Config {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = default;
    }
    c
}

fn post(p: &Platform, body: &[u8]) -> (u16, Vec<u8>) {
    let req = Request {
        method: "POST".into(),
        path: "/v1/submissions/batch".into(),
        query: None,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_vec(),
        keep_alive: true,
    };
    match p.handle(&req, Some(KIOSK)) {
        Reply::Respond(r) => (r.status, r.body),
        Reply::Drop => (0, Vec::new()),
    }
}

fn outgoing(
    i: usize,
    seq: u64,
    name: String,
    form: BTreeMap<String, String>,
    att: &[u8],
) -> Outgoing {
    let sha = {
        use sha2::Digest as _;
        hex_lower(&sha2::Sha256::digest(att))
    };
    Outgoing {
        id: format!("0190f5e4-{seq:08}-{i}"),
        seq,
        matter_code: "310104010001".into(),
        situation: "01".into(),
        catalog_version: 3,
        created_at: "2026-11-27T03:12:09Z".into(),
        payload: SealedPayload {
            applicant: Applicant {
                id_type: "resident".into(),
                id_number: "320124198808240056".into(),
                name,
                verified_by: "card+face".into(),
            },
            form,
            attachments: vec![Attachment {
                name: "photo.jpg".into(),
                sha256: sha,
                bytes_b64: base64::engine::general_purpose::STANDARD.encode(att),
            }],
        },
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_kiosk_batch_is_accepted_once_and_duplicate_after() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform {
        store: Mutex::new(SimStore::open(&dir.path().join("central.db")).unwrap()),
        faults: Arc::new(Faults::new(FaultConfig::default())),
        admin_token: "unused".into(),
        admin_keys: Vec::new(),
    };
    let next_seq = std::cell::Cell::new(1u64);
    let strategy = proptest::collection::vec(
        (
            "[\\PC]{1,12}",
            proptest::collection::btree_map("[a-z_]{1,10}", "[\\PC]{0,40}", 0..5),
            proptest::collection::vec(any::<u8>(), 0..64),
        ),
        1..10,
    );
    let mut runner = TestRunner::new(cases(48));
    runner
        .run(&strategy, |items| {
            let out: Vec<Outgoing> = items
                .into_iter()
                .enumerate()
                .map(|(i, (name, form, att))| {
                    let seq = next_seq.get();
                    next_seq.set(seq + 1);
                    outgoing(i, seq, name, form, &att)
                })
                .collect();
            let batch = encode_batch(KIOSK, &out, 8 * 1024 * 1024)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(batch.sent.len(), out.len());
            let ids: Vec<String> = out.iter().map(|o| o.id.clone()).collect();
            let now = chrono::Utc::now();

            let (status, body) = post(&p, &batch.body);
            prop_assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            let first = decode_batch_response(&ids, status, None, &body, now);
            prop_assert_eq!(first.error, None);
            let mut receipts = Vec::new();
            for (id, outcome) in &first.items {
                match outcome {
                    ItemOutcome::Accepted { receipt_no } => receipts.push(receipt_no.clone()),
                    other => prop_assert!(false, "{id}: {other:?}"),
                }
            }

            let (status, body) = post(&p, &batch.body);
            let again = decode_batch_response(&ids, status, None, &body, now);
            for ((id, outcome), receipt) in again.items.iter().zip(&receipts) {
                prop_assert_eq!(
                    outcome,
                    &ItemOutcome::Duplicate {
                        receipt_no: receipt.clone()
                    },
                    "{}",
                    id
                );
            }
            // What the platform stored is what the citizen entered.
            let store = p.store.lock().unwrap();
            for o in &out {
                let stored = store
                    .submission(&o.id)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?
                    .unwrap_or_default();
                prop_assert_eq!(
                    stored["applicant"]["name"].as_str(),
                    Some(o.payload.applicant.name.as_str())
                );
                let form: BTreeMap<String, String> =
                    serde_json::from_value(stored["form"].clone()).unwrap_or_default();
                prop_assert_eq!(&form, &o.payload.form);
            }
            Ok(())
        })
        .unwrap();
}
