//! The simulated platform's own SQLite file: stored submissions (one row an id, ever), the
//! published catalogs, the last heartbeat of each kiosk and event counters. `stats` reads it
//! from another process while the server runs (WAL).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;

pub use super::heartbeat::KioskSeen;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS submissions (
    id          TEXT PRIMARY KEY,
    kiosk_id    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    receipt_no  TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL,
    matter_code TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_kiosk ON submissions(kiosk_id, seq);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS catalogs (
    version      INTEGER PRIMARY KEY,
    envelope     BLOB NOT NULL,
    published_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS heartbeats (
    kiosk_id    TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    count       INTEGER NOT NULL
);
"#;

/// Names of the event counters.
pub mod counter {
    pub const DUPLICATES_SEEN: &str = "duplicates_seen";
    pub const REJECTED_SEEN: &str = "rejected_seen";
    pub const BATCHES: &str = "batches";
    pub const FAULTS_UNAVAILABLE: &str = "faults_unavailable";
    pub const FAULTS_DROPPED: &str = "faults_dropped";
    pub const OUT_OF_ORDER: &str = "out_of_order";
}

/// One submission of a batch, as the handler validated it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub id: String,
    pub seq: u64,
    pub matter_code: String,
    /// The whole submission object (stored as received).
    pub body: serde_json::Value,
    /// Set when validation or the reject pattern refuses it: (code, reason).
    pub refusal: Option<(String, String)>,
}

/// What the platform answers for one submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ItemResult {
    Accepted {
        id: String,
        receipt_no: String,
    },
    Duplicate {
        id: String,
        receipt_no: String,
    },
    Rejected {
        id: String,
        code: String,
        reason: String,
    },
}

/// A stored submission's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredSubmission {
    pub id: String,
    pub seq: u64,
    pub receipt_no: String,
}

/// `device-sim central stats --json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Distinct submission ids stored.
    pub submissions: u64,
    /// Submissions sent again after they were stored (answered `duplicate`).
    pub duplicates_seen: u64,
    pub rejected_seen: u64,
    pub batches: u64,
    /// Distinct ids stored per kiosk.
    pub by_kiosk: BTreeMap<String, u64>,
    pub heartbeats: u64,
    pub faults_unavailable: u64,
    pub faults_dropped: u64,
    /// Submissions first stored after a higher seq of the same kiosk (a retried quarantined
    /// item does this legitimately; a healthy outbox never does otherwise).
    pub out_of_order: u64,
    pub catalog_version: Option<u64>,
    /// What each kiosk said in its last heartbeat.
    pub kiosks: BTreeMap<String, KioskSeen>,
}

pub struct SimStore {
    conn: Connection,
}

impl SimStore {
    pub fn open(path: &Path) -> anyhow::Result<SimStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create folder {}", dir.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open simulator database {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
        // NORMAL: a simulator crash may lose the last commits, never corrupt the file. The
        // tests kill the kiosk, not the simulator.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("cannot create tables in {}", path.display()))?;
        Ok(SimStore { conn })
    }

    /// Stores a batch in one transaction: an id seen before is a duplicate with its first
    /// receipt number, a refused one is rejected (and not stored), the rest are accepted.
    pub fn apply_batch(
        &mut self,
        kiosk_id: &str,
        items: &[Incoming],
    ) -> anyhow::Result<Vec<ItemResult>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now_rfc3339();
        let mut results = Vec::with_capacity(items.len());
        let (mut dups, mut rejected, mut out_of_order) = (0i64, 0i64, 0i64);
        for item in items {
            let existing: Option<String> = tx
                .query_row(
                    "SELECT receipt_no FROM submissions WHERE id = ?1",
                    [&item.id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(receipt_no) = existing {
                dups += 1;
                results.push(ItemResult::Duplicate {
                    id: item.id.clone(),
                    receipt_no,
                });
                continue;
            }
            if let Some((code, reason)) = &item.refusal {
                rejected += 1;
                results.push(ItemResult::Rejected {
                    id: item.id.clone(),
                    code: code.clone(),
                    reason: reason.clone(),
                });
                continue;
            }
            let max_seq: Option<i64> = tx.query_row(
                "SELECT MAX(seq) FROM submissions WHERE kiosk_id = ?1",
                [kiosk_id],
                |r| r.get(0),
            )?;
            if max_seq.is_some_and(|m| m > item.seq as i64) {
                out_of_order += 1;
            }
            let next: i64 = tx.query_row(
                "SELECT COALESCE(MAX(rowid), 0) + 1 FROM submissions",
                [],
                |r| r.get(0),
            )?;
            let receipt_no = receipt_number(kiosk_id, &now, next);
            tx.execute(
                "INSERT INTO submissions (id, kiosk_id, seq, receipt_no, status, matter_code,
                     body, received_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'received', ?5, ?6, ?7, ?7)",
                params![
                    item.id,
                    kiosk_id,
                    item.seq as i64,
                    receipt_no,
                    item.matter_code,
                    item.body.to_string(),
                    now
                ],
            )?;
            results.push(ItemResult::Accepted {
                id: item.id.clone(),
                receipt_no,
            });
        }
        bump(&tx, counter::DUPLICATES_SEEN, dups)?;
        bump(&tx, counter::REJECTED_SEEN, rejected)?;
        bump(&tx, counter::OUT_OF_ORDER, out_of_order)?;
        bump(&tx, counter::BATCHES, 1)?;
        tx.commit()?;
        Ok(results)
    }

    pub fn bump(&mut self, name: &str, by: i64) -> anyhow::Result<()> {
        bump(&self.conn, name, by)
    }

    /// `(status, updated_at)` of a receipt number.
    pub fn status(&self, receipt_no: &str) -> anyhow::Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT status, updated_at FROM submissions WHERE receipt_no = ?1",
                [receipt_no],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Sets a receipt's status; false when the receipt is unknown.
    pub fn set_status(&mut self, receipt_no: &str, status: &str) -> anyhow::Result<bool> {
        let n = self.conn.execute(
            "UPDATE submissions SET status = ?1, updated_at = ?2 WHERE receipt_no = ?3",
            params![status, now_rfc3339(), receipt_no],
        )?;
        Ok(n == 1)
    }

    /// The newest published catalog: (version, envelope bytes).
    pub fn latest_catalog(&self) -> anyhow::Result<Option<(u64, Vec<u8>)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT version, envelope FROM catalogs ORDER BY version DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?)
    }

    /// Publishes a catalog version. `Ok(false)`: not greater than the newest.
    pub fn publish_catalog(&mut self, version: u64, envelope: &[u8]) -> anyhow::Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let latest: Option<i64> =
            tx.query_row("SELECT MAX(version) FROM catalogs", [], |r| r.get(0))?;
        if latest.is_some_and(|l| l as u64 >= version) {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO catalogs (version, envelope, published_at) VALUES (?1, ?2, ?3)",
            params![version as i64, envelope, now_rfc3339()],
        )?;
        tx.commit()?;
        Ok(true)
    }

    pub fn record_heartbeat(&mut self, kiosk_id: &str, body: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO heartbeats (kiosk_id, body, received_at, count) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT(kiosk_id) DO UPDATE SET body = excluded.body,
                 received_at = excluded.received_at, count = count + 1",
            params![kiosk_id, body, now_rfc3339()],
        )?;
        Ok(())
    }

    /// The last heartbeat body a kiosk sent.
    pub fn last_heartbeat(&self, kiosk_id: &str) -> anyhow::Result<Option<serde_json::Value>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM heartbeats WHERE kiosk_id = ?1",
                [kiosk_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
    }

    /// Stored submissions of a kiosk in the order they were first stored.
    pub fn submissions_of(&self, kiosk_id: &str) -> anyhow::Result<Vec<StoredSubmission>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, seq, receipt_no FROM submissions WHERE kiosk_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([kiosk_id], |r| {
            Ok(StoredSubmission {
                id: r.get(0)?,
                seq: r.get::<_, i64>(1)?.max(0) as u64,
                receipt_no: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A stored submission as received.
    pub fn submission(&self, id: &str) -> anyhow::Result<Option<serde_json::Value>> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM submissions WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
    }

    pub fn stats(&self) -> anyhow::Result<Stats> {
        let c = |name: &str| -> anyhow::Result<u64> {
            let v: Option<i64> = self
                .conn
                .query_row("SELECT value FROM counters WHERE name = ?1", [name], |r| {
                    r.get(0)
                })
                .optional()?;
            Ok(v.unwrap_or(0).max(0) as u64)
        };
        let mut by_kiosk = BTreeMap::new();
        let mut stmt = self
            .conn
            .prepare("SELECT kiosk_id, COUNT(*) FROM submissions GROUP BY kiosk_id")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (k, n) = row?;
            by_kiosk.insert(k, n.max(0) as u64);
        }
        let submissions: i64 =
            self.conn
                .query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))?;
        let heartbeats: i64 =
            self.conn
                .query_row("SELECT COALESCE(SUM(count), 0) FROM heartbeats", [], |r| {
                    r.get(0)
                })?;
        let mut kiosks = BTreeMap::new();
        let mut stmt = self
            .conn
            .prepare("SELECT kiosk_id, body, received_at, count FROM heartbeats")?;
        for row in stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })? {
            let (k, body, at, n) = row?;
            let body = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
            kiosks.insert(k, KioskSeen::from_heartbeat(&body, n.max(0) as u64, at));
        }
        Ok(Stats {
            submissions: submissions.max(0) as u64,
            duplicates_seen: c(counter::DUPLICATES_SEEN)?,
            rejected_seen: c(counter::REJECTED_SEEN)?,
            batches: c(counter::BATCHES)?,
            by_kiosk,
            heartbeats: heartbeats.max(0) as u64,
            faults_unavailable: c(counter::FAULTS_UNAVAILABLE)?,
            faults_dropped: c(counter::FAULTS_DROPPED)?,
            out_of_order: c(counter::OUT_OF_ORDER)?,
            catalog_version: self.latest_catalog()?.map(|(v, _)| v),
            kiosks,
        })
    }
}

fn bump(conn: &Connection, name: &str, by: i64) -> anyhow::Result<()> {
    if by == 0 {
        return Ok(());
    }
    conn.execute(
        "INSERT INTO counters (name, value) VALUES (?1, ?2)
         ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
        params![name, by],
    )?;
    Ok(())
}

/// `XH20261127000042`: the kiosk id's letters before the first '-', the UTC date, and a
/// platform-wide counter.
pub fn receipt_number(kiosk_id: &str, now_rfc3339: &str, counter: i64) -> String {
    let prefix: String = kiosk_id
        .split('-')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .take(4)
        .collect::<String>()
        .to_ascii_uppercase();
    let prefix = if prefix.is_empty() {
        "HK".into()
    } else {
        prefix
    };
    let date: String = now_rfc3339
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(8)
        .collect();
    format!("{prefix}{date}{counter:06}")
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, seq: u64, refusal: Option<(&str, &str)>) -> Incoming {
        Incoming {
            id: id.into(),
            seq,
            matter_code: "310104010001".into(),
            body: serde_json::json!({"id": id, "seq": seq}),
            refusal: refusal.map(|(c, r)| (c.into(), r.into())),
        }
    }

    #[test]
    fn dedupes_by_id_with_the_first_receipt_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SimStore::open(&dir.path().join("c.db")).unwrap();
        let first = s
            .apply_batch(
                "XH-0001",
                &[
                    item("a", 1, None),
                    item("b", 2, Some(("form_invalid", "no"))),
                ],
            )
            .unwrap();
        let ItemResult::Accepted { receipt_no, .. } = &first[0] else {
            panic!("{first:?}")
        };
        assert!(
            receipt_no.starts_with("XH") && receipt_no.ends_with("000001"),
            "{receipt_no}"
        );
        assert!(matches!(&first[1], ItemResult::Rejected { code, .. } if code == "form_invalid"));
        let again = s
            .apply_batch(
                "XH-0001",
                &[item("a", 1, Some(("x", "y"))), item("c", 3, None)],
            )
            .unwrap();
        assert_eq!(
            again[0],
            ItemResult::Duplicate {
                id: "a".into(),
                receipt_no: receipt_no.clone()
            },
            "a stored id is a duplicate even if it would now be refused"
        );
        let late = s.apply_batch("XH-0001", &[item("b", 2, None)]).unwrap();
        assert!(matches!(late[0], ItemResult::Accepted { .. }));
        let st = s.stats().unwrap();
        assert_eq!(st.submissions, 3);
        assert_eq!(st.duplicates_seen, 1);
        assert_eq!(st.rejected_seen, 1);
        assert_eq!(st.batches, 3);
        assert_eq!(st.out_of_order, 1, "b (seq 2) stored after c (seq 3)");
        assert_eq!(st.by_kiosk.get("XH-0001"), Some(&3));
        let order: Vec<(String, u64)> = s
            .submissions_of("XH-0001")
            .unwrap()
            .into_iter()
            .map(|x| (x.id, x.seq))
            .collect();
        assert_eq!(
            order,
            vec![("a".into(), 1), ("c".into(), 3), ("b".into(), 2)]
        );
        assert_eq!(s.status(receipt_no).unwrap().unwrap().0, "received");
        assert!(s.set_status(receipt_no, "approved").unwrap());
        assert_eq!(s.status(receipt_no).unwrap().unwrap().0, "approved");
        assert!(!s.set_status("nope", "approved").unwrap());
    }

    #[test]
    fn catalog_versions_must_increase() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SimStore::open(&dir.path().join("c.db")).unwrap();
        assert_eq!(s.latest_catalog().unwrap(), None);
        assert!(s.publish_catalog(3, b"three").unwrap());
        assert!(!s.publish_catalog(3, b"again").unwrap());
        assert!(!s.publish_catalog(2, b"older").unwrap());
        assert_eq!(s.latest_catalog().unwrap(), Some((3, b"three".to_vec())));
    }

    #[test]
    fn receipt_numbers() {
        assert_eq!(
            receipt_number("XH-0001", "2026-11-27T03:12:09Z", 42),
            "XH20261127000042"
        );
        assert_eq!(
            receipt_number("0001", "2026-11-27T03:12:09Z", 1),
            "HK20261127000001"
        );
    }
}
