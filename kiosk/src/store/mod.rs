//! The kiosk's one SQLite file: installed catalog versions, submissions and their outbox
//! state, ratings and device events. WAL journal with `synchronous = FULL`, so a submission
//! that was acknowledged to the citizen survives a power cut at any instant.
//!
//! Automatic WAL checkpoints are off on every connection opened here: the sync engine (or,
//! without a platform, the app's storage thread when idle) checkpoints instead (`wal`), so a
//! citizen's commit never pays for one.
//!
//! Since schema v6 a submission and its outbox entry are one row of `submissions`, keyed by
//! its `seq`; `outbox` is a read-only view of the sending columns (see `migrations`).
//!
//! Only `kiosk` touches this module (never `ui`, never a driver).

mod catalog_slots;
pub mod migrations;
pub mod wal;

use anyhow::Context;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::{Path, PathBuf};

pub use catalog_slots::{CatalogInfo, CatalogRow, CatalogSlot};

use crate::config::Config;

/// Errors worth telling apart on screen and in diagnostics.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the disk is full: cannot write to the kiosk database ({0})")]
    DiskFull(String),
    #[error("the kiosk database is read-only ({0})")]
    ReadOnly(String),
    #[error("the kiosk database is busy ({0})")]
    Busy(String),
    #[error("the kiosk database is corrupt ({0})")]
    Corrupt(String),
    #[error("database schema version {found} is newer than this build understands ({latest}); refusing to touch it")]
    TooNew { found: u32, latest: u32 },
    #[error(transparent)]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        classify(e)
    }
}

/// Sorts SQLite's error codes into the causes the kiosk reacts to differently.
pub fn classify(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => StoreError::DiskFull(e.to_string()),
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly(e.to_string()),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            StoreError::Busy(e.to_string())
        }
        Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => {
            StoreError::Corrupt(e.to_string())
        }
        _ => StoreError::Sqlite(e),
    }
}

/// An open, migrated database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The WAL maintenance tick's memory (used by the sync engine's connection).
    wal_ticker: wal::Ticker,
}

impl Store {
    /// Opens the database in the config's data folder (creating the folder), and migrates.
    pub fn open(config: &Config) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
        Store::open_path(&config.db_path())
    }

    /// Opens (or creates) the database file at `path` and brings its schema up to date.
    pub fn open_path(path: &Path) -> anyhow::Result<Store> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open database {}", path.display()))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            wal_ticker: wal::Ticker::new(wal::STORE_RESTART_WRITE),
        };
        store
            .configure()
            .with_context(|| format!("cannot configure database {}", path.display()))?;
        store
            .migrate()
            .with_context(|| format!("cannot migrate database {}", path.display()))?;
        Ok(store)
    }

    fn configure(&mut self) -> Result<(), StoreError> {
        self.conn.busy_timeout(wal::BUSY_TIMEOUT)?;
        // WAL lets the sync task read while a submission is written; FULL makes every commit
        // durable before it returns (the citizen has been told "submitted").
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode = %mode, "SQLite refused WAL mode");
        }
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted personal data is overwritten in the file, not just unlinked from the b-tree.
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        // No checkpoint inside a commit: the sync engine runs them (`wal`).
        wal::disable_auto_checkpoint(&self.conn)?;
        Ok(())
    }

    /// The maintenance tick (`wal::maintain`): a passive checkpoint, the WAL truncated when
    /// it is larger than `truncate_above` bytes, and the WAL's restart made here rather than
    /// in a citizen's commit. Does nothing when nothing was written since such a restart.
    pub fn maintain_wal(&mut self, truncate_above: u64) -> Result<wal::WalReport, StoreError> {
        self.wal_ticker.tick(&self.conn, &self.path, truncate_above)
    }

    /// The last tick, at shutdown: everything into the database file and the WAL truncated
    /// to zero bytes (no restart write).
    pub fn maintain_wal_final(&mut self) -> Result<wal::WalReport, StoreError> {
        self.wal_ticker.final_tick(&self.conn, &self.path)
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))?)
    }

    /// Applies every migration the file has not seen, each in its own transaction.
    pub fn migrate(&mut self) -> Result<(), StoreError> {
        migrate_to(&mut self.conn, migrations::latest())
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `PRAGMA integrity_check`: "ok" or the problems SQLite found.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows.join("; "))
    }
}

/// Migrates `conn` up to `target` (used with the latest version at start-up, and with earlier
/// versions by the tests that build old databases).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<(), StoreError> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let latest = migrations::latest();
    if found > latest {
        return Err(StoreError::TooNew { found, latest });
    }
    for version in found..target.min(latest) {
        let tx = conn.transaction()?;
        tx.execute_batch(migrations::MIGRATIONS[version as usize])?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
        tracing::info!(version = version + 1, "database migrated");
    }
    Ok(())
}

/// Milliseconds since the Unix epoch (the store's clock column unit).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn fresh_database_is_at_latest_version_in_wal_with_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_path(&dir.path().join("k.db")).unwrap();
        assert_eq!(store.schema_version().unwrap(), migrations::latest());
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = store
            .conn()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "FULL");
        let t = tables(store.conn());
        for want in [
            "catalog_payloads",
            "catalog_versions",
            "device_events",
            "meta",
            "ratings",
            "submissions",
        ] {
            assert!(t.contains(&want.to_string()), "missing table {want}");
        }
        let view: String = store
            .conn()
            .query_row(
                "SELECT type FROM sqlite_master WHERE name = 'outbox'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(view, "view", "outbox: the sending columns of submissions");
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }

    /// Builds a database at every earlier schema version with a row of data in it, then opens
    /// it with this build: the schema must reach the latest version and the data must survive.
    #[test]
    fn migrates_from_every_earlier_version_keeping_data() {
        for start in 0..migrations::latest() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("old.db");
            {
                let mut conn = Connection::open(&path).unwrap();
                migrate_to(&mut conn, start).unwrap();
                let v: u32 = conn
                    .query_row("PRAGMA user_version", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(v, start);
                if start >= 1 {
                    conn.execute_batch(
                        "INSERT INTO submissions (id, seq, matter_code, situation, catalog_version,
                             created_at, payload, payload_sha256)
                         VALUES ('0190f5e4-0000-7000-8000-000000000001', 1, '310104010001', '01',
                             1, '2026-11-27T03:12:09Z', x'00', 'ab');
                         INSERT INTO outbox (submission_id, seq, state, next_attempt_ms, updated_ms)
                         VALUES ('0190f5e4-0000-7000-8000-000000000001', 1, 'pending', 0, 0);
                         INSERT INTO submissions (id, seq, matter_code, situation, catalog_version,
                             created_at, payload, payload_sha256, receipt_no)
                         VALUES ('0190f5e4-0000-7000-8000-000000000002', 2, '310104010001', '02',
                             1, '2026-11-27T03:13:00Z', NULL, 'cd', 'P-2');
                         INSERT INTO outbox (submission_id, seq, state, attempts, next_attempt_ms,
                             last_error, updated_ms)
                         VALUES ('0190f5e4-0000-7000-8000-000000000002', 2, 'acked', 3, 0,
                             NULL, 77);
                         -- Seqs 3 to 6 were used and their rows purged.
                         INSERT INTO meta (key, value) VALUES ('next_seq', '7');",
                    )
                    .unwrap();
                }
                if start >= 2 {
                    conn.execute(
                        "INSERT INTO ratings (visit_id, level, created_at) VALUES ('v1', 5, 'now')",
                        [],
                    )
                    .unwrap();
                }
                if (1..4).contains(&start) {
                    // Catalog rows in the v1 layout: payload and whole envelope in the row.
                    let env = serde_json::json!({
                        "payloadType": "application/vnd.hall-kiosk.catalog+json",
                        "payload": B64.encode(CATALOG_V2),
                        "signatures": [{"keyid": "admin-2026", "sig": "AAAA"}],
                    })
                    .to_string();
                    conn.execute(
                        "INSERT INTO catalog_versions
                             (version, slot, source, installed_at, sha256, catalog_json, envelope)
                         VALUES (1, 'retired', 'bundled-sample', 'then', 'x', CAST('{}' AS BLOB), NULL),
                                (2, 'active', 'central', 'then', 'y', ?1, CAST(?2 AS BLOB)),
                                (3, 'staged', 'test', 'then', 'z', CAST('not json' AS BLOB), NULL)",
                        rusqlite::params![CATALOG_V2, env],
                    )
                    .unwrap();
                }
            }
            let store = Store::open_path(&path).unwrap();
            assert_eq!(
                store.schema_version().unwrap(),
                migrations::latest(),
                "from v{start}"
            );
            let n: i64 = store
                .conn()
                .query_row(
                    "SELECT COUNT(*) FROM outbox WHERE state = 'pending'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, i64::from(start >= 1), "outbox rows kept from v{start}");
            let r: i64 = store
                .conn()
                .query_row("SELECT COUNT(*) FROM ratings", [], |r| r.get(0))
                .unwrap();
            assert_eq!(r, i64::from(start >= 2), "ratings kept from v{start}");
            // v3 columns exist and are usable on migrated rows.
            store
                .conn()
                .execute("UPDATE submissions SET reject_code = NULL", [])
                .unwrap();
            if start >= 1 {
                check_submissions_merged_with_their_entries(&store);
            }
            check_seq_continues(store.path(), if start >= 1 { 7 } else { 1 });
            if (1..4).contains(&start) {
                check_catalogs_moved_out_of_the_slot_rows(&store);
            }
            assert_eq!(store.integrity_check().unwrap(), "ok");
        }
    }

    /// v6: each submission and its outbox entry in one row keyed by seq; the old counter kept
    /// as the floor.
    fn check_submissions_merged_with_their_entries(store: &Store) {
        type Row = (
            i64,
            String,
            String,
            i64,
            i64,
            Option<Vec<u8>>,
            Option<String>,
        );
        let rows: Vec<Row> = store
            .conn()
            .prepare(
                "SELECT seq, id, state, attempts, updated_ms, payload, receipt_no
                 FROM submissions ORDER BY seq",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (
                    1,
                    "0190f5e4-0000-7000-8000-000000000001".into(),
                    "pending".into(),
                    0,
                    0,
                    Some(vec![0]),
                    None
                ),
                (
                    2,
                    "0190f5e4-0000-7000-8000-000000000002".into(),
                    "acked".into(),
                    3,
                    77,
                    None,
                    Some("P-2".into())
                ),
            ]
        );
        // Readers of the old join still get the same answer through the view.
        let n: i64 = store
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM submissions s JOIN outbox o ON o.submission_id = s.id
                 WHERE o.seq = s.seq",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 2);
        let tables = tables(store.conn());
        assert!(
            !tables.contains(&"submissions_v6".to_string()),
            "{tables:?}"
        );
    }

    /// The next submission gets `want`: above every row and every seq ever handed out.
    fn check_seq_continues(path: &Path, want: u64) {
        let mut store = Store::open_path(path).unwrap();
        let key = crate::crypto::DataKey::from_bytes([7; 32]);
        let sub = crate::outbox::NewSubmission {
            matter_code: "310104010001".into(),
            situation: "01".into(),
            catalog_version: 1,
            applicant: crate::outbox::Applicant {
                id_type: "resident".into(),
                id_number: "11010519491231002X".into(),
                name: "张三丰".into(),
                verified_by: "card+face".into(),
            },
            form: Default::default(),
            attachments: vec![],
        };
        let q = crate::outbox::enqueue(&mut store, &key, &sub, chrono::Utc::now()).unwrap();
        assert_eq!(q.seq, want);
    }

    const CATALOG_V2: &[u8] =
        br#"{"version": 2, "expires_at": "2027-11-01T00:00:00Z", "matters": [{}, {}]}"#;
    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    /// v4: payloads in their own table, once; the envelope kept as its header; expiry and
    /// counts on the pointer rows; the retired payload dropped.
    fn check_catalogs_moved_out_of_the_slot_rows(store: &Store) {
        let active = store.catalog_in(CatalogSlot::Active).unwrap().unwrap();
        assert_eq!(active.version, 2);
        assert_eq!(active.catalog_json, CATALOG_V2);
        assert_eq!(active.expires_at.as_deref(), Some("2027-11-01T00:00:00Z"));
        assert_eq!(active.matters, Some(2));
        let header: serde_json::Value =
            serde_json::from_slice(active.envelope_header.as_deref().unwrap()).unwrap();
        assert_eq!(
            header,
            serde_json::json!({
                "payloadType": "application/vnd.hall-kiosk.catalog+json",
                "signatures": [{"keyid": "admin-2026", "sig": "AAAA"}],
            })
        );
        let env: serde_json::Value = serde_json::from_slice(&active.envelope().unwrap()).unwrap();
        assert_eq!(env["payload"], B64.encode(CATALOG_V2));
        let staged = store.catalog_in(CatalogSlot::Staged).unwrap().unwrap();
        assert_eq!(
            (staged.version, staged.expires_at, staged.matters),
            (3, None, None)
        );
        assert_eq!(staged.catalog_json, b"not json");
        let retired = store.catalog_info(CatalogSlot::Retired).unwrap().unwrap();
        assert_eq!(retired.version, 1);
        assert!(
            store.catalog_in(CatalogSlot::Retired).is_err(),
            "payload dropped"
        );
        assert_eq!(store.highest_catalog_version().unwrap(), Some(3));
        let columns: Vec<String> = store
            .conn()
            .prepare("SELECT name FROM pragma_table_info('catalog_versions')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            !columns
                .iter()
                .any(|c| c == "catalog_json" || c == "envelope"),
            "{columns:?}"
        );
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", migrations::latest() + 1)
                .unwrap();
        }
        let err = Store::open_path(&path).err().unwrap();
        assert!(
            format!("{err:#}").contains("newer than this build"),
            "{err:#}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_database_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.db");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let err = Store::open_path(&path).err().unwrap();
        let text = format!("{err:#}");
        assert!(
            text.contains("not a database") || text.contains("corrupt"),
            "{text}"
        );
    }
}
