//! State transitions of outbox entries, each in one transaction:
//! - `claim_batch`: the lowest-seq unsent entries become `in_flight` (attempts + 1) before
//!   anything is sent. After a crash `in_flight` entries are simply claimed again and resent
//!   with the same ids; the platform deduplicates.
//! - `settle`: what the platform answered: `acked` (personal payload deleted, receipt number
//!   and hash kept), `quarantined` (with the platform's code and reason), or back to `pending`
//!   with the next attempt time and the error.
//! - `retry` (staff), `make_due` (network back), `purge_acked` (retention), `list`.
//!
//! Sending order is strict: only the head (lowest seq not yet acknowledged or quarantined)
//! decides whether a batch may go; entries behind it never overtake it.
//!
//! Every query on the sending path reads the waiting entries through the partial index
//! `submissions_waiting` (see the v6 migration), never the acknowledged history: the `state IN
//! ('pending', 'in_flight')` term is written out exactly as in the index, which is what lets
//! SQLite use it. `tests::sending_path_queries_use_the_indexes` checks the plans.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::EntryState;
use crate::store::{Store, StoreError};

/// An entry claimed for sending: its metadata and sealed payload (opened by the caller).
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub seq: u64,
    pub matter_code: String,
    pub situation: String,
    pub catalog_version: u64,
    pub created_at: String,
    /// `None` only if the row was damaged: the caller quarantines it.
    pub sealed: Option<Vec<u8>>,
    /// Sends so far, including this one.
    pub attempts: u32,
}

/// What became of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// The platform has it (accepted, or a duplicate carrying the first receipt number).
    Acked { receipt_no: String },
    /// The platform will never accept it as it is; kept for staff.
    Quarantined { code: String, reason: String },
    /// Try again at `next_attempt_ms`.
    Retry { next_attempt_ms: i64, error: String },
    /// Claimed but not sent (did not fit in the request): back to pending as it was.
    Unsent,
}

/// One line of `kiosk outbox list` (no personal data: the payload is never read here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryRow {
    pub id: String,
    pub seq: u64,
    pub state: EntryState,
    pub matter_code: String,
    pub situation: String,
    pub catalog_version: u64,
    pub created_at: String,
    pub attempts: u32,
    /// RFC 3339 UTC; only for entries still to be sent.
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub reject_code: Option<String>,
    pub receipt_no: Option<String>,
    pub acked_at: Option<String>,
    /// SHA-256 of the sealed personal payload's plaintext (kept after it is deleted).
    pub payload_sha256: String,
    /// Whether the personal payload is still on disk (sealed).
    pub has_payload: bool,
}

/// Why `retry` refused.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("no outbox entry with id {0}")]
    Unknown(String),
    #[error("entry {0} was already acknowledged by the platform (receipt {1})")]
    AlreadyAcked(String, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(super) const HEAD_DUE_SQL: &str = "SELECT next_attempt_ms FROM submissions
     WHERE state IN ('pending', 'in_flight') ORDER BY seq LIMIT 1";

pub(super) const CLAIM_SQL: &str = "SELECT id, seq, attempts, next_attempt_ms, matter_code,
        situation, catalog_version, created_at, payload
     FROM submissions WHERE state IN ('pending', 'in_flight')
     ORDER BY seq LIMIT ?1";

pub(super) const MAKE_DUE_SQL: &str = "UPDATE submissions SET next_attempt_ms = ?1
     WHERE state IN ('pending', 'in_flight') AND next_attempt_ms > ?1";

/// `next_attempt_ms` of the head entry (lowest seq pending or in flight), if any.
pub fn head_due_at(store: &Store) -> Result<Option<i64>, StoreError> {
    Ok(store
        .conn()
        .query_row(HEAD_DUE_SQL, [], |r| r.get(0))
        .optional()?)
}

/// Claims up to `limit` entries in seq order, if the head is due at `now_ms` (or `force`).
///
/// The claim is committed without its own fsync (`synchronous = NORMAL` for this one
/// transaction): a claim lost in a power cut leaves the entries `pending`, and they are sent
/// exactly as an `in_flight` entry would be, with the same ids. The settle that follows is a
/// FULL commit, and WAL frames reach the disk in order, so it makes the claim durable too.
/// This halves the fsyncs a batch costs.
pub fn claim_batch(
    store: &mut Store,
    limit: usize,
    now_ms: i64,
    force: bool,
) -> Result<Vec<Claimed>, StoreError> {
    store.conn().pragma_update(None, "synchronous", "NORMAL")?;
    let claimed = claim_in_tx(store, limit, now_ms, force);
    let restored = store.conn().pragma_update(None, "synchronous", "FULL");
    let claimed = claimed?;
    restored?;
    Ok(claimed)
}

fn claim_in_tx(
    store: &mut Store,
    limit: usize,
    now_ms: i64,
    force: bool,
) -> Result<Vec<Claimed>, StoreError> {
    let tx = store
        .conn_mut()
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut claimed = Vec::new();
    {
        let mut stmt = tx.prepare_cached(CLAIM_SQL)?;
        let mut rows = stmt.query([limit as i64])?;
        let mut first = true;
        while let Some(r) = rows.next()? {
            let next_attempt_ms: i64 = r.get(3)?;
            if first && !force && next_attempt_ms > now_ms {
                break;
            }
            first = false;
            claimed.push(Claimed {
                id: r.get(0)?,
                seq: r.get::<_, i64>(1)?.max(0) as u64,
                attempts: r.get::<_, i64>(2)?.clamp(0, i64::from(u32::MAX - 1)) as u32 + 1,
                matter_code: r.get(4)?,
                situation: r.get(5)?,
                catalog_version: r.get::<_, i64>(6)?.max(0) as u64,
                created_at: r.get(7)?,
                sealed: r.get(8)?,
            });
        }
    }
    {
        let mut upd = tx.prepare_cached(
            "UPDATE submissions SET state = 'in_flight', attempts = attempts + 1, updated_ms = ?2
             WHERE seq = ?1",
        )?;
        for c in &claimed {
            upd.execute(params![c.seq as i64, now_ms])?;
        }
    }
    tx.commit()?;
    Ok(claimed)
}

/// Records the platform's answers (and local decisions) in one transaction.
pub fn settle(
    store: &mut Store,
    items: &[(String, Disposition)],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let now_ms = now.timestamp_millis();
    let acked_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let tx = store
        .conn_mut()
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        // Deleting the payload with secure_delete on overwrites its pages.
        let mut ack = tx.prepare_cached(
            "UPDATE submissions SET state = 'acked', payload = NULL, receipt_no = ?2,
                 acked_at = ?3, last_error = NULL, reject_code = NULL, updated_ms = ?4
             WHERE id = ?1",
        )?;
        let mut quarantine = tx.prepare_cached(
            "UPDATE submissions SET state = 'quarantined', reject_code = ?2, last_error = ?3,
                 updated_ms = ?4 WHERE id = ?1 AND state != 'acked'",
        )?;
        let mut retry = tx.prepare_cached(
            "UPDATE submissions SET state = 'pending', next_attempt_ms = ?2, last_error = ?3,
                 updated_ms = ?4 WHERE id = ?1 AND state != 'acked'",
        )?;
        let mut unsent = tx.prepare_cached(
            "UPDATE submissions SET state = 'pending', attempts = MAX(attempts - 1, 0),
                 updated_ms = ?2
             WHERE id = ?1 AND state = 'in_flight'",
        )?;
        for (id, d) in items {
            match d {
                Disposition::Acked { receipt_no } => {
                    ack.execute(params![id, receipt_no, acked_at, now_ms])?;
                }
                Disposition::Quarantined { code, reason } => {
                    quarantine.execute(params![id, code, reason, now_ms])?;
                }
                Disposition::Retry {
                    next_attempt_ms,
                    error,
                } => {
                    retry.execute(params![id, next_attempt_ms, error, now_ms])?;
                }
                Disposition::Unsent => {
                    unsent.execute(params![id, now_ms])?;
                }
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// Staff asks for an entry to be sent again (after fixing what the platform rejected, or to
/// skip a long backoff). It becomes pending and due now.
pub fn retry(store: &mut Store, id: &str, now_ms: i64) -> Result<EntryState, RetryError> {
    let tx = store
        .conn_mut()
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::from)?;
    let row: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT state, receipt_no FROM submissions WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(StoreError::from)?;
    let Some((state, receipt)) = row else {
        return Err(RetryError::Unknown(id.to_string()));
    };
    if state == EntryState::Acked.as_str() {
        return Err(RetryError::AlreadyAcked(
            id.to_string(),
            receipt.unwrap_or_default(),
        ));
    }
    tx.execute(
        "UPDATE submissions SET state = 'pending', next_attempt_ms = ?2, reject_code = NULL,
             updated_ms = ?2 WHERE id = ?1",
        params![id, now_ms],
    )
    .map_err(StoreError::from)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(EntryState::parse(&state).unwrap_or(EntryState::Pending))
}

/// Makes every waiting entry due at `at_ms` at the latest (the network came back). Returns
/// how many entries were brought forward.
pub fn make_due(store: &mut Store, at_ms: i64) -> Result<usize, StoreError> {
    Ok(store.conn().execute(MAKE_DUE_SQL, [at_ms])?)
}

/// Deletes acknowledged entries (receipt number and hash included) acknowledged more than
/// `retention_days` ago. Returns how many were deleted.
pub fn purge_acked(
    store: &mut Store,
    retention_days: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, StoreError> {
    let cutoff = (now - chrono::Duration::days(i64::from(retention_days)))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // acked_at is always written in the same RFC 3339 UTC form, so text order is time order.
    // One statement, so one transaction; the delete trigger keeps the highest seq deleted,
    // so no seq is handed out again.
    Ok(store.conn().execute(
        "DELETE FROM submissions
         WHERE state = 'acked' AND acked_at IS NOT NULL AND acked_at < ?1",
        [&cutoff],
    )?)
}

/// Entries in seq order, optionally of one state, at most `limit`.
pub fn list(
    store: &Store,
    state: Option<EntryState>,
    limit: usize,
) -> Result<Vec<EntryRow>, StoreError> {
    // The state is a literal from the enum, not a parameter: SQLite picks a partial index
    // only for a WHERE clause it can see implies the index's.
    let filter = match state {
        None => "1",
        Some(EntryState::Pending) => "state IN ('pending', 'in_flight') AND state = 'pending'",
        Some(EntryState::InFlight) => "state IN ('pending', 'in_flight') AND state = 'in_flight'",
        Some(EntryState::Quarantined) => "state = 'quarantined'",
        Some(EntryState::Acked) => "state = 'acked'",
    };
    let mut stmt = store.conn().prepare_cached(&format!(
        "SELECT id, seq, state, matter_code, situation, catalog_version, created_at, attempts,
                next_attempt_ms, last_error, reject_code, receipt_no, acked_at, payload_sha256,
                payload IS NOT NULL
         FROM submissions WHERE {filter}
         ORDER BY seq LIMIT ?1"
    ))?;
    let rows = stmt.query_map(params![limit.min(i64::MAX as usize) as i64], |r| {
        let state_text: String = r.get(2)?;
        let state = EntryState::parse(&state_text).unwrap_or(EntryState::Pending);
        let next_ms: i64 = r.get(8)?;
        let waiting = matches!(state, EntryState::Pending | EntryState::InFlight);
        Ok(EntryRow {
            id: r.get(0)?,
            seq: r.get::<_, i64>(1)?.max(0) as u64,
            state,
            matter_code: r.get(3)?,
            situation: r.get(4)?,
            catalog_version: r.get::<_, i64>(5)?.max(0) as u64,
            created_at: r.get(6)?,
            attempts: r.get::<_, i64>(7)?.clamp(0, i64::from(u32::MAX)) as u32,
            next_attempt_at: waiting.then(|| ms_to_rfc3339(next_ms)).flatten(),
            last_error: r.get(9)?,
            reject_code: r.get(10)?,
            receipt_no: r.get(11)?,
            acked_at: r.get(12)?,
            payload_sha256: r.get(13)?,
            has_payload: r.get(14)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Milliseconds since the epoch as RFC 3339 UTC.
pub fn ms_to_rfc3339(ms: i64) -> Option<String> {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

#[cfg(test)]
#[path = "entries_tests.rs"]
mod tests;
