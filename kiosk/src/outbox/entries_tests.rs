//! Outbox state transitions on a real SQLite file.

use std::collections::BTreeMap;

use super::*;
use crate::crypto::DataKey;
use crate::outbox::{enqueue, status, Applicant, NewSubmission};

fn sample() -> NewSubmission {
    NewSubmission {
        matter_code: "310104010001".into(),
        situation: "01".into(),
        catalog_version: 1,
        applicant: Applicant {
            id_type: "resident".into(),
            id_number: "11010519491231002X".into(),
            name: "张三丰".into(),
            verified_by: "card+face".into(),
        },
        form: BTreeMap::from([("phone".to_string(), "13800138000".to_string())]),
        attachments: vec![],
    }
}

fn setup(n: usize) -> (tempfile::TempDir, Store, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
    let key = DataKey::from_bytes([7; 32]);
    let ids = (0..n)
        .map(|_| {
            enqueue(&mut store, &key, &sample(), chrono::Utc::now())
                .unwrap()
                .id
        })
        .collect();
    (dir, store, ids)
}

fn state_of(store: &Store, id: &str) -> String {
    store
        .conn()
        .query_row(
            "SELECT state FROM outbox WHERE submission_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

fn far_future() -> i64 {
    i64::MAX / 2
}

#[test]
fn claims_in_seq_order_and_marks_in_flight() {
    let (_d, mut store, ids) = setup(5);
    let c = claim_batch(&mut store, 3, far_future(), false).unwrap();
    assert_eq!(c.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(c[0].id, ids[0]);
    assert!(c.iter().all(|c| c.attempts == 1 && c.sealed.is_some()));
    assert_eq!(state_of(&store, &ids[0]), "in_flight");
    let sync: i64 = store
        .conn()
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2, "FULL again after the claim");
    assert_eq!(state_of(&store, &ids[3]), "pending");
    // A crash now: the in-flight entries are claimed again, with the same ids, first.
    let again = claim_batch(&mut store, 10, far_future(), false).unwrap();
    assert_eq!(again.len(), 5);
    assert_eq!(again[0].id, ids[0]);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[4].attempts, 1);
}

#[test]
fn a_head_in_backoff_holds_everything_behind_it_unless_forced() {
    let (_d, mut store, ids) = setup(3);
    let now = 1_000_000;
    let c = claim_batch(&mut store, 1, i64::MAX / 2, false).unwrap();
    settle(
        &mut store,
        &[(
            c[0].id.clone(),
            Disposition::Retry {
                next_attempt_ms: now + 5000,
                error: "503".into(),
            },
        )],
        chrono::Utc::now(),
    )
    .unwrap();
    assert_eq!(head_due_at(&store).unwrap(), Some(now + 5000));
    assert!(
        claim_batch(&mut store, 10, now, false).unwrap().is_empty(),
        "strict order"
    );
    assert_eq!(
        state_of(&store, &ids[1]),
        "pending",
        "nothing claimed behind the head"
    );
    assert_eq!(
        claim_batch(&mut store, 10, now + 5000, false)
            .unwrap()
            .len(),
        3
    );
    settle(
        &mut store,
        &ids.iter()
            .map(|id| {
                (
                    id.clone(),
                    Disposition::Retry {
                        next_attempt_ms: now + 9000,
                        error: "timeout".into(),
                    },
                )
            })
            .collect::<Vec<_>>(),
        chrono::Utc::now(),
    )
    .unwrap();
    assert_eq!(
        claim_batch(&mut store, 10, now, true).unwrap().len(),
        3,
        "forced"
    );
}

#[test]
fn ack_deletes_the_payload_and_keeps_receipt_and_hash() {
    let (_d, mut store, ids) = setup(2);
    let hash_before: String = store
        .conn()
        .query_row(
            "SELECT payload_sha256 FROM submissions WHERE id = ?1",
            [&ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    claim_batch(&mut store, 2, far_future(), false).unwrap();
    settle(
        &mut store,
        &[
            (
                ids[0].clone(),
                Disposition::Acked {
                    receipt_no: "XH20261127000001".into(),
                },
            ),
            (
                ids[1].clone(),
                Disposition::Quarantined {
                    code: "form_invalid".into(),
                    reason: "field 'phone' is not a mainland mobile number".into(),
                },
            ),
        ],
        chrono::Utc::now(),
    )
    .unwrap();
    let rows = list(&store, None, 10).unwrap();
    assert_eq!(rows[0].state, EntryState::Acked);
    assert_eq!(rows[0].receipt_no.as_deref(), Some("XH20261127000001"));
    assert!(!rows[0].has_payload);
    assert_eq!(rows[0].payload_sha256, hash_before);
    assert!(rows[0].acked_at.is_some());
    assert_eq!(rows[0].next_attempt_at, None);
    assert_eq!(rows[1].state, EntryState::Quarantined);
    assert_eq!(rows[1].reject_code.as_deref(), Some("form_invalid"));
    assert!(rows[1].last_error.as_deref().unwrap().contains("phone"));
    assert!(rows[1].has_payload, "kept for staff");
    assert_eq!(
        head_due_at(&store).unwrap(),
        None,
        "a quarantined entry blocks nothing"
    );
    let s = status(&store).unwrap();
    assert_eq!((s.acked, s.quarantined, s.pending), (1, 1, 0));
    assert_eq!(
        list(&store, Some(EntryState::Quarantined), 10)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn retry_requeues_quarantined_and_refuses_acked_or_unknown() {
    let (_d, mut store, ids) = setup(2);
    claim_batch(&mut store, 2, far_future(), false).unwrap();
    settle(
        &mut store,
        &[
            (
                ids[0].clone(),
                Disposition::Acked {
                    receipt_no: "R1".into(),
                },
            ),
            (
                ids[1].clone(),
                Disposition::Quarantined {
                    code: "c".into(),
                    reason: "r".into(),
                },
            ),
        ],
        chrono::Utc::now(),
    )
    .unwrap();
    assert_eq!(
        retry(&mut store, &ids[1], 42).unwrap(),
        EntryState::Quarantined
    );
    assert_eq!(state_of(&store, &ids[1]), "pending");
    assert_eq!(head_due_at(&store).unwrap(), Some(42));
    assert!(matches!(
        retry(&mut store, &ids[0], 42),
        Err(RetryError::AlreadyAcked(_, r)) if r == "R1"
    ));
    assert!(matches!(
        retry(&mut store, "nope", 42),
        Err(RetryError::Unknown(_))
    ));
}

#[test]
fn unsent_entries_go_back_as_they_were() {
    let (_d, mut store, ids) = setup(2);
    claim_batch(&mut store, 2, far_future(), false).unwrap();
    settle(
        &mut store,
        &[(ids[1].clone(), Disposition::Unsent)],
        chrono::Utc::now(),
    )
    .unwrap();
    let rows = list(&store, None, 10).unwrap();
    assert_eq!((rows[0].state, rows[0].attempts), (EntryState::InFlight, 1));
    assert_eq!((rows[1].state, rows[1].attempts), (EntryState::Pending, 0));
}

#[test]
fn make_due_brings_waiting_entries_forward_only() {
    let (_d, mut store, ids) = setup(2);
    let base = crate::store::now_ms();
    claim_batch(&mut store, 2, far_future(), false).unwrap();
    settle(
        &mut store,
        &[(
            ids[0].clone(),
            Disposition::Retry {
                next_attempt_ms: base + 100_000,
                error: "x".into(),
            },
        )],
        chrono::Utc::now(),
    )
    .unwrap();
    // ids[1] is due since it was queued (about `base`): only ids[0] moves.
    assert_eq!(make_due(&mut store, base + 50_000).unwrap(), 1);
    assert_eq!(head_due_at(&store).unwrap(), Some(base + 50_000));
    assert_eq!(
        make_due(&mut store, base + 70_000).unwrap(),
        0,
        "never pushed later"
    );
}

#[test]
fn purge_removes_only_acked_rows_older_than_retention() {
    let (_d, mut store, ids) = setup(3);
    claim_batch(&mut store, 3, far_future(), false).unwrap();
    let long_ago = chrono::Utc::now() - chrono::Duration::days(100);
    settle(
        &mut store,
        &[(
            ids[0].clone(),
            Disposition::Acked {
                receipt_no: "R1".into(),
            },
        )],
        long_ago,
    )
    .unwrap();
    settle(
        &mut store,
        &[(
            ids[1].clone(),
            Disposition::Acked {
                receipt_no: "R2".into(),
            },
        )],
        chrono::Utc::now(),
    )
    .unwrap();
    assert_eq!(purge_acked(&mut store, 90, chrono::Utc::now()).unwrap(), 1);
    let left: Vec<String> = list(&store, None, 10)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, vec![ids[1].clone(), ids[2].clone()]);
    assert_eq!(purge_acked(&mut store, 90, chrono::Utc::now()).unwrap(), 0);
    assert_eq!(
        purge_acked(
            &mut store,
            0,
            chrono::Utc::now() + chrono::Duration::seconds(2)
        )
        .unwrap(),
        1
    );
    // The last one too: the file is empty, and still no seq comes back.
    settle(
        &mut store,
        &[(
            ids[2].clone(),
            Disposition::Acked {
                receipt_no: "R3".into(),
            },
        )],
        long_ago,
    )
    .unwrap();
    assert_eq!(purge_acked(&mut store, 90, chrono::Utc::now()).unwrap(), 1);
    assert!(list(&store, None, 10).unwrap().is_empty());
    let key = DataKey::from_bytes([7; 32]);
    let next = enqueue(&mut store, &key, &sample(), chrono::Utc::now()).unwrap();
    assert_eq!(next.seq, 4);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

fn plan(store: &Store, sql: &str) -> String {
    let mut stmt = store
        .conn()
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    // Parameters bound to a number (their values do not change the plan).
    let n = stmt.parameter_count();
    let lines: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(vec![0i64; n]), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    lines.join("\n")
}

/// The sync engine's queries find the waiting entries through the partial index, so a
/// long acknowledged history (90 days by default) is never scanned on the sending path, and
/// the enqueue's bookkeeping pays for exactly that one index.
#[test]
fn sending_path_queries_use_the_indexes() {
    let (_d, store, _) = setup(1);
    for sql in [HEAD_DUE_SQL, CLAIM_SQL, MAKE_DUE_SQL] {
        let p = plan(&store, sql);
        assert!(p.contains("submissions_waiting"), "{sql}\n{p}");
        assert!(!p.contains("TEMP B-TREE"), "no sort: {sql}\n{p}");
    }
    let p = plan(&store, &crate::outbox::status::status_sql());
    assert!(p.contains("submissions_waiting"), "{p}");
    assert!(p.contains("submissions_quarantined"), "{p}");
    // The counts come from the indexes alone.
    assert_eq!(p.matches("COVERING INDEX submissions_").count(), 3, "{p}");
    for line in p.lines() {
        assert!(
            line != "SCAN submissions",
            "status never scans the table itself: {p}"
        );
    }
    for state in [
        EntryState::Pending,
        EntryState::InFlight,
        EntryState::Quarantined,
    ] {
        list(&store, Some(state), 10).unwrap();
    }
    // An enqueue writes the row and two index entries: these are all the indexes there are.
    let indexes: Vec<String> = store
        .conn()
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'submissions' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        indexes,
        vec![
            "sqlite_autoindex_submissions_1",
            "submissions_quarantined",
            "submissions_waiting"
        ]
    );
}
