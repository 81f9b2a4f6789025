//! WAL checkpoints, taken out of the citizen's commit.
//!
//! SQLite's default runs a checkpoint inside whichever commit pushes the WAL past 1000 pages:
//! the committing connection then copies ~4 MB into the database file and `fsync`s it before
//! its `COMMIT` returns. An enqueue writes about eight pages, so the citizen's "submit" paid
//! for that every ~125 submissions (`kiosk bench --only outbox`, p99). So every connection
//! `Store` opens has auto-checkpoint off (`wal_autocheckpoint = 0`), and the sync engine,
//! which runs for the whole life of the kiosk online or not, checkpoints instead
//! ([`maintain`]): after it settles a batch, on its idle timer and at shutdown.
//!
//! Durability is unchanged: a commit is durable once its WAL frames are synced
//! (`synchronous = FULL`); a checkpoint only moves committed pages into the main file.
//! A process that opens a `Store` and exits still leaves no WAL behind: SQLite checkpoints
//! when the last connection closes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;

/// Above this size the WAL file is truncated to zero after a complete checkpoint. Below it
/// the file is kept and reused from its start (growing a file costs every later `fsync` a
/// metadata update, so a WAL that fits is not shrunk each time).
pub const WAL_TRUNCATE_ABOVE_BYTES: u64 = 16 * 1024 * 1024;

/// How long a `TRUNCATE` checkpoint may wait for a writer or a reader. It holds the write
/// lock while it waits, so a citizen's commit would wait too: keep it short and try again at
/// the next tick rather than stall a submission.
const TRUNCATE_WAIT: Duration = Duration::from_millis(50);

/// The busy timeout `Store` connections normally use (restored after a `TRUNCATE`).
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What a checkpoint did, in SQLite's words (`PRAGMA wal_checkpoint`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Checkpoint {
    /// A writer or reader prevented the checkpoint from finishing.
    pub busy: bool,
    /// Frames in the WAL.
    pub wal_frames: i64,
    /// Frames copied into the database file (all of them when the checkpoint is complete).
    pub checkpointed_frames: i64,
}

impl Checkpoint {
    /// Everything in the WAL is in the database file now.
    pub fn complete(&self) -> bool {
        !self.busy && self.checkpointed_frames >= self.wal_frames
    }
}

/// What [`maintain`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WalReport {
    pub passive: Checkpoint,
    /// A `TRUNCATE` checkpoint ran (the WAL was above the bound) and finished.
    pub truncated: bool,
    /// The WAL file's size afterwards, in bytes (0 when there is none).
    pub wal_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Copies what it can without waiting for anyone and without blocking writers.
    Passive,
    /// Waits (briefly, see [`TRUNCATE_WAIT`]) for writers and readers, checkpoints
    /// everything and truncates the WAL file to zero bytes.
    Truncate,
}

/// Turns SQLite's automatic checkpoints off for `conn` (see the module docs).
pub fn disable_auto_checkpoint(conn: &Connection) -> Result<(), StoreError> {
    // Returns the new value as a row; query it rather than `pragma_update`, which rejects rows.
    conn.query_row("PRAGMA wal_autocheckpoint = 0", [], |r| r.get::<_, i64>(0))?;
    Ok(())
}

/// Runs one checkpoint on `conn`.
pub fn checkpoint(conn: &Connection, mode: Mode) -> Result<Checkpoint, StoreError> {
    let sql = match mode {
        Mode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
        Mode::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
    };
    if mode == Mode::Truncate {
        conn.busy_timeout(TRUNCATE_WAIT)?;
    }
    let result = conn.query_row(sql, [], |r| {
        Ok(Checkpoint {
            busy: r.get::<_, i64>(0)? != 0,
            wal_frames: r.get(1)?,
            checkpointed_frames: r.get(2)?,
        })
    });
    if mode == Mode::Truncate {
        conn.busy_timeout(BUSY_TIMEOUT)?;
    }
    Ok(result?)
}

/// The maintenance tick: a `PASSIVE` checkpoint, then a `TRUNCATE` when the WAL file is
/// larger than `truncate_above` bytes. Never blocks a writer for more than [`TRUNCATE_WAIT`].
pub fn maintain(
    conn: &Connection,
    db_path: &Path,
    truncate_above: u64,
) -> Result<WalReport, StoreError> {
    let passive = checkpoint(conn, Mode::Passive)?;
    let wal = wal_path(db_path);
    let mut truncated = false;
    if file_len(&wal) > truncate_above {
        match checkpoint(conn, Mode::Truncate) {
            Ok(c) => truncated = c.complete(),
            // Someone held the lock past the short wait: the next tick tries again.
            Err(StoreError::Busy(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(WalReport {
        passive,
        truncated,
        wal_bytes: file_len(&wal),
    })
}

/// `<db>-wal`, where SQLite keeps the WAL of `db_path`.
pub fn wal_path(db_path: &Path) -> PathBuf {
    let mut s = db_path.as_os_str().to_os_string();
    s.push("-wal");
    PathBuf::from(s)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn wal_bytes(store: &Store) -> u64 {
        file_len(&wal_path(store.path()))
    }

    fn write_pages(store: &Store, rows: usize) {
        for i in 0..rows {
            store
                .conn()
                .execute(
                    "INSERT INTO device_events (device, state, detail, at_ms) VALUES ('printer', 'ok', ?1, ?2)",
                    rusqlite::params![format!("{i:01000}"), i as i64],
                )
                .unwrap();
        }
    }

    #[test]
    fn store_connections_never_checkpoint_inside_a_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_path(&dir.path().join("k.db")).unwrap();
        let n: i64 = store
            .conn()
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        // Far past SQLite's 1000-page default: with auto-checkpoint on, the WAL would have
        // been reset and reused and would stay near 4 MB.
        write_pages(&store, 6000);
        let before = wal_bytes(&store);
        assert!(before > 5 * 1024 * 1024, "WAL {before} bytes");
        let c = checkpoint(store.conn(), Mode::Passive).unwrap();
        assert!(c.complete(), "{c:?}");
        assert!(c.wal_frames > 1000, "{c:?}");
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn maintain_truncates_only_above_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_path(&dir.path().join("k.db")).unwrap();
        write_pages(&store, 300);
        let size = wal_bytes(&store);
        assert!(size > 0);
        // Below the bound: checkpointed, the file kept for reuse.
        let r = maintain(store.conn(), store.path(), size + 1).unwrap();
        assert!(r.passive.complete() && !r.truncated, "{r:?}");
        assert_eq!(r.wal_bytes, size);
        // Above it: truncated to nothing.
        write_pages(&store, 10);
        let r = maintain(store.conn(), store.path(), 1024).unwrap();
        assert!(r.truncated, "{r:?}");
        assert_eq!(r.wal_bytes, 0);
        assert_eq!(wal_bytes(&store), 0);
        let n: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM device_events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 310, "every committed row is in the database file");
    }

    #[test]
    fn a_reader_holding_a_snapshot_makes_truncate_give_up_quickly_not_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let store = Store::open_path(&path).unwrap();
        write_pages(&store, 50);
        let reader = Store::open_path(&path).unwrap();
        reader.conn().execute_batch("BEGIN").unwrap();
        let _: i64 = reader
            .conn()
            .query_row("SELECT COUNT(*) FROM device_events", [], |r| r.get(0))
            .unwrap();
        write_pages(&store, 50);
        let r = maintain(store.conn(), store.path(), 0).unwrap();
        assert!(!r.truncated, "{r:?}");
        assert!(r.wal_bytes > 0);
        reader.conn().execute_batch("COMMIT").unwrap();
        let r = maintain(store.conn(), store.path(), 0).unwrap();
        assert!(r.truncated, "{r:?}");
        // The short wait is restored to the normal one.
        let t: i64 = store
            .conn()
            .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
            .unwrap();
        assert_eq!(t, BUSY_TIMEOUT.as_millis() as i64);
    }
}
