//! Queuing a submission: one immediate transaction writes the submission, its outbox entry
//! and the next `seq`, so after a crash either all three exist or none does.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
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
    let mut seq: u64 = tx
        .prepare_cached("SELECT value FROM meta WHERE key = 'next_seq'")
        .map_err(StoreError::from)?
        .query_row([], |r| r.get::<_, String>(0))
        .optional()
        .map_err(StoreError::from)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let now_ms = now_ms();
    let mut out = Vec::with_capacity(subs.len());
    for (sub, (id, hash, sealed)) in subs.iter().zip(sealed_rows) {
        tx.prepare_cached(
            "INSERT INTO submissions (id, seq, matter_code, situation, catalog_version, created_at,
                 payload, payload_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(StoreError::from)?
        .execute(params![
            id,
            seq as i64,
            sub.matter_code,
            sub.situation,
            sub.catalog_version as i64,
            created_at,
            sealed,
            hash
        ])
        .map_err(StoreError::from)?;
        tx.prepare_cached(
            "INSERT INTO outbox (submission_id, seq, state, attempts, next_attempt_ms, updated_ms)
             VALUES (?1, ?2, 'pending', 0, ?3, ?3)",
        )
        .map_err(StoreError::from)?
        .execute(params![id, seq as i64, now_ms])
        .map_err(StoreError::from)?;
        tracing::info!(submission = %id, seq, matter = %sub.matter_code, "submission queued");
        out.push(Enqueued { id, seq });
        seq += 1;
    }
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('next_seq', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .map_err(StoreError::from)?
    .execute([seq.to_string()])
    .map_err(StoreError::from)?;
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
        store
            .conn()
            .execute_batch("DELETE FROM outbox; DELETE FROM submissions;")
            .unwrap();
        let b = enqueue(&mut store, &key, &sample(), chrono::Utc::now()).unwrap();
        assert_eq!(b.seq, a.seq + 1);
    }
}
