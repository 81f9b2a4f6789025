//! Counts per state for `kiosk outbox status`, the diagnostics screen and the heartbeat.

use serde::Serialize;

use super::enqueue::LAST_SEQ_SQL;
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
    /// The highest seq ever queued (0 when none), even when retention deleted its row.
    pub last_seq: u64,
}

/// Counts from the indexes alone (the waiting and quarantined ones have their own; acked is
/// the rest), in one statement so the figures are of one snapshot.
pub fn status(store: &Store) -> Result<OutboxStatus, StoreError> {
    let conn = store.conn();
    let (total, pending, in_flight, quarantined, oldest, last_seq) =
        conn.prepare_cached(&status_sql())?.query_row([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
    let count = |n: i64| n.max(0) as u64;
    let oldest_pending_s = oldest.and_then(|t| {
        let created = chrono::DateTime::parse_from_rfc3339(&t).ok()?;
        let age_ms = now_ms() - created.timestamp_millis();
        Some((age_ms.max(0) / 1000) as u64)
    });
    Ok(OutboxStatus {
        pending: count(pending),
        in_flight: count(in_flight),
        acked: count(total - pending - in_flight - quarantined),
        quarantined: count(quarantined),
        oldest_pending_s,
        last_seq: count(last_seq),
    })
}

pub(super) fn status_sql() -> String {
    format!(
        "SELECT
            (SELECT COUNT(*) FROM submissions),
            (SELECT COUNT(*) FROM submissions
             WHERE state IN ('pending', 'in_flight') AND state = 'pending'),
            (SELECT COUNT(*) FROM submissions
             WHERE state IN ('pending', 'in_flight') AND state = 'in_flight'),
            (SELECT COUNT(*) FROM submissions WHERE state = 'quarantined'),
            (SELECT created_at FROM submissions
             WHERE state IN ('pending', 'in_flight') ORDER BY seq LIMIT 1),
            ({LAST_SEQ_SQL})"
    )
}
