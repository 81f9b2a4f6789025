//! Counts per state for `kiosk outbox status`, the diagnostics screen and the heartbeat.

use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::store::{now_ms, Store, StoreError};

/// The shape of `kiosk outbox status --json` (other tools read it: add fields, never rename).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxStatus {
    pub pending: u64,
    pub in_flight: u64,
    pub acked: u64,
    pub quarantined: u64,
    /// Age in seconds of the oldest entry not yet acknowledged (pending or in flight).
    pub oldest_pending_s: Option<u64>,
    /// The highest seq ever queued (0 when none).
    pub last_seq: u64,
}

pub fn status(store: &Store) -> Result<OutboxStatus, StoreError> {
    let conn = store.conn();
    let mut out = OutboxStatus::default();
    let mut stmt = conn.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (state, n) = row?;
        let n = n.max(0) as u64;
        match state.as_str() {
            "pending" => out.pending = n,
            "in_flight" => out.in_flight = n,
            "acked" => out.acked = n,
            "quarantined" => out.quarantined = n,
            _ => {}
        }
    }
    let oldest: Option<String> = conn
        .query_row(
            "SELECT s.created_at FROM outbox o JOIN submissions s ON s.id = o.submission_id
             WHERE o.state IN ('pending', 'in_flight') ORDER BY o.seq LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    out.oldest_pending_s = oldest.and_then(|t| {
        let created = chrono::DateTime::parse_from_rfc3339(&t).ok()?;
        let age_ms = now_ms() - created.timestamp_millis();
        Some((age_ms.max(0) / 1000) as u64)
    });
    out.last_seq = conn
        .query_row("SELECT COALESCE(MAX(seq), 0) FROM submissions", [], |r| {
            r.get::<_, i64>(0)
        })?
        .max(0) as u64;
    Ok(out)
}
