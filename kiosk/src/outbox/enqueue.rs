//! Queuing a submission: one immediate transaction writes the submission rows (each its own
//! outbox entry, keyed by its `seq`), so after a crash a submission is either fully queued or
//! absent. The transaction writes three b-tree pages a submission and no counter (see the v6
//! migration): that is what a FULL commit syncs, on the citizen's path.

use rusqlite::{params, TransactionBehavior};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::payload::{NewSubmission, SealedPayload};
use crate::crypto::DataKey;
use crate::store::{now_ms, Store, StoreError};

/// What the caller gets back: the idempotency key and the kiosk's sequence number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Enqueued {
    pub id: String,
    pub seq: u64,
}

/// The highest seq ever used: the highest row's, or a deleted one's (`seq_floor`, kept by a
/// trigger on delete). Read inside the writing transaction, so two enqueues cannot both use
/// the same next seq.
pub(crate) const LAST_SEQ_SQL: &str = "SELECT MAX(
        COALESCE((SELECT MAX(seq) FROM submissions), 0),
        COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq_floor'), 0))";

/// Writes `sub` durably (the commit returns only after `fsync`) and returns its id and seq.
/// `now` is the creation time in RFC 3339 UTC (the caller's clock, so tests can fix it).
pub fn enqueue(
    store: &mut Store,
    key: &DataKey,
    sub: &NewSubmission,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Enqueued> {
    let mut done = enqueue_all(store, key, std::slice::from_ref(sub), now)?;
    done.pop()
        .ok_or_else(|| anyhow::anyhow!("enqueue wrote nothing"))
}

/// Writes several submissions in ONE transaction (a "one thing" bundle makes one submission
/// per member matter): all of them are queued, or none is.
pub fn enqueue_all(
    store: &mut Store,
    key: &DataKey,
    subs: &[NewSubmission],
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Vec<Enqueued>> {
    // Seal outside the transaction: the write lock is held only for the inserts.
    let mut sealed_rows = Vec::with_capacity(subs.len());
    for sub in subs {
        let id = uuid::Uuid::now_v7().to_string();
        let payload = SealedPayload {
            applicant: sub.applicant.clone(),
            form: sub.form.clone(),
            attachments: sub.attachments.clone(),
        };
        let plain = Zeroizing::new(serde_json::to_vec(&payload)?);
        let hash = hex::encode(Sha256::digest(plain.as_slice()));
        let sealed = key.seal(id.as_bytes(), &plain)?;
        sealed_rows.push((id, hash, sealed));
    }
    let created_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let conn = store.conn_mut();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::from)?;
    // Cached statements: preparing them is a measurable part of an enqueue on a fast disk
    // (see `kiosk bench --only outbox`).
    let last: i64 = tx
        .prepare_cached(LAST_SEQ_SQL)
        .map_err(StoreError::from)?
        .query_row([], |r| r.get(0))
        .map_err(StoreError::from)?;
    let first = last.max(0) as u64 + 1;
    let now_ms = now_ms();
    let mut out = Vec::with_capacity(subs.len());
    for (seq, (sub, (id, hash, sealed))) in (first..).zip(subs.iter().zip(sealed_rows)) {
        tx.prepare_cached(
            "INSERT INTO submissions (seq, id, state, attempts, next_attempt_ms, updated_ms,
                 matter_code, situation, catalog_version, created_at, payload_sha256, payload)
             VALUES (?1, ?2, 'pending', 0, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(StoreError::from)?
        .execute(params![
            seq as i64,
            id,
            now_ms,
            sub.matter_code,
            sub.situation,
            sub.catalog_version as i64,
            created_at,
            hash,
            sealed
        ])
        .map_err(StoreError::from)?;
        tracing::info!(submission = %id, seq, matter = %sub.matter_code, "submission queued");
        out.push(Enqueued { id, seq });
    }
    tx.commit().map_err(StoreError::from)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::{Applicant, NewSubmission};
    use std::collections::BTreeMap;

    pub(crate) fn sample() -> NewSubmission {
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

    #[test]
    fn seq_is_monotonic_and_payload_is_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
        let key = DataKey::from_bytes([7; 32]);
        let a = enqueue(&mut store, &key, &sample(), chrono::Utc::now()).unwrap();
        let b = enqueue(&mut store, &key, &sample(), chrono::Utc::now()).unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        assert_ne!(a.id, b.id);
        assert_eq!(uuid::Uuid::parse_str(&a.id).unwrap().get_version_num(), 7);
        let sealed: Vec<u8> = store
            .conn()
            .query_row(
                "SELECT payload FROM submissions WHERE id = ?1",
                [&a.id],
                |r| r.get(0),
            )
            .unwrap();
        let plain = key.open(a.id.as_bytes(), &sealed).unwrap();
        let back: SealedPayload = serde_json::from_slice(&plain).unwrap();
        assert_eq!(back.applicant.id_number, "11010519491231002X");
        let state: String = store
            .conn()
            .query_row(
                "SELECT state FROM outbox WHERE submission_id = ?1",
                [&a.id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(state, "pending");
    }

    #[test]
    fn seq_is_never_reused_even_after_rows_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
        let key = DataKey::from_bytes([7; 32]);
        let a = enqueue(&mut store, &key, &sample(), chrono::Utc::now()).unwrap();
        let b = enqueue(&mut store, &key, &sample(), chrono::Utc::now()).unwrap();
        // The highest row goes: its seq must not come back (it is on a printed receipt).
        store
            .conn()
            .execute("DELETE FROM submissions WHERE seq = ?1", [b.seq as i64])
            .unwrap();
        let c = enqueue(&mut store, &key, &sample(), chrono::Utc::now()).unwrap();
        assert_eq!((a.seq, b.seq, c.seq), (1, 2, 3));
        // Every row goes (retention), the file is reopened: still no reuse.
        store.conn().execute("DELETE FROM submissions", []).unwrap();
        drop(store);
        let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
        let d = enqueue(&mut store, &key, &sample(), chrono::Utc::now()).unwrap();
        assert_eq!(d.seq, 4);
        assert_eq!(crate::outbox::status(&store).unwrap().last_seq, 4);
    }

    /// A bundle is one transaction: consecutive seqs, all rows or none.
    #[test]
    fn a_bundle_gets_consecutive_seqs_in_one_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
        let key = DataKey::from_bytes([7; 32]);
        enqueue(&mut store, &key, &sample(), chrono::Utc::now()).unwrap();
        let q = enqueue_all(
            &mut store,
            &key,
            &[sample(), sample(), sample()],
            chrono::Utc::now(),
        )
        .unwrap();
        let seqs: Vec<u64> = q.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![2, 3, 4]);
        // A failing bundle (the second id collides) leaves nothing behind.
        store
            .conn()
            .execute_batch(
                "CREATE TEMP TRIGGER fail_second BEFORE INSERT ON main.submissions
                 WHEN NEW.seq = 6 BEGIN SELECT RAISE(ABORT, 'injected'); END;",
            )
            .unwrap();
        let err = enqueue_all(&mut store, &key, &[sample(), sample()], chrono::Utc::now());
        assert!(err.is_err());
        let n: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 4, "the first of the failed bundle was rolled back");
    }
}
