//! WAL checkpoints, taken out of the citizen's commit.
//!
//! SQLite's default runs a checkpoint inside whichever commit pushes the WAL past 1000 pages:
//! the committing connection then copies ~4 MB into the database file and `fsync`s it before
//! its `COMMIT` returns. An enqueue wrote about eight pages then (three since schema v6), so
//! the citizen's "submit" paid for that every ~125 submissions (`kiosk bench --only outbox`,
//! p99). So every connection `Store` opens has auto-checkpoint off (`wal_autocheckpoint = 0`),
//! and the sync engine, which runs for the whole life of the kiosk whenever a platform is
//! configured, online or not, checkpoints instead ([`maintain`]): after it settles a batch,
//! on its idle timer and at shutdown. Without a platform no engine runs, and the app's storage
//! thread runs the same tick when it has been idle (`app::workers::storage`).
//!
//! After a complete checkpoint the next commit restarts the WAL from its start, and SQLite
//! syncs the new WAL header before that commit's frames: two `fsync`s instead of one. So the
//! tick makes that next write itself (`restart_write`, a one-row update of `meta`), and the
//! citizen's following commit appends with a single `fsync` as usual. Until anyone writes
//! again the WAL holds only that write, and the ticks in between do nothing ([`Mark`]), so
//! an idle kiosk does not keep checkpointing its own restart write.
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

/// The `restart_write` of `Store` connections: records when the WAL was last checkpointed.
pub const STORE_RESTART_WRITE: &str = "INSERT INTO meta (key, value)
     VALUES ('wal_checkpoint_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
     ON CONFLICT(key) DO UPDATE SET value = excluded.value";

/// Whether anything was written since a tick: `PRAGMA data_version` changes when another
/// connection commits, `total_changes` when this one changes a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    data_version: i64,
    total_changes: u64,
}

impl Mark {
    pub fn now(conn: &Connection) -> Result<Mark, StoreError> {
        Ok(Mark {
            data_version: conn.query_row("PRAGMA data_version", [], |r| r.get(0))?,
            total_changes: conn.total_changes(),
        })
    }
}

/// What [`maintain`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WalReport {
    pub passive: Checkpoint,
    /// A `TRUNCATE` checkpoint ran (the WAL was above the bound) and finished.
    pub truncated: bool,
    /// The restart write ran (the WAL restarted on the tick's write, not a citizen's).
    pub restarted: bool,
    /// Nothing was written since the last tick's restart write: nothing to do.
    pub skipped: bool,
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
/// larger than `truncate_above` bytes, then, when the WAL will restart, `restart_write` (see
/// the module docs; `None` at shutdown, to leave the WAL empty). Never blocks a writer for
/// more than [`TRUNCATE_WAIT`] beyond the restart write's own commit.
pub fn maintain(
    conn: &Connection,
    db_path: &Path,
    truncate_above: u64,
    restart_write: Option<&str>,
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
    let mut restarted = false;
    if let Some(sql) = restart_write {
        if truncated || (passive.complete() && passive.wal_frames > 0) {
            conn.execute(sql, [])?;
            restarted = true;
        }
    }
    Ok(WalReport {
        passive,
        truncated,
        restarted,
        skipped: false,
        wal_bytes: file_len(&wal),
    })
}

/// [`maintain`] with its memory, for one connection that runs the ticks: skips a tick when
/// nothing was written since its last restart write (see [`Mark`]).
#[derive(Debug, Clone)]
pub struct Ticker {
    restart_write: &'static str,
    mark: Option<Mark>,
}

impl Ticker {
    /// `restart_write` needs a `meta (key TEXT PRIMARY KEY, value TEXT)` table when it is
    /// [`STORE_RESTART_WRITE`].
    pub fn new(restart_write: &'static str) -> Ticker {
        Ticker {
            restart_write,
            mark: None,
        }
    }

    pub fn tick(
        &mut self,
        conn: &Connection,
        db_path: &Path,
        truncate_above: u64,
    ) -> Result<WalReport, StoreError> {
        if let Some(mark) = self.mark {
            if Mark::now(conn)? == mark {
                return Ok(WalReport {
                    skipped: true,
                    wal_bytes: file_len(&wal_path(db_path)),
                    ..WalReport::default()
                });
            }
        }
        let r = maintain(conn, db_path, truncate_above, Some(self.restart_write))?;
        self.mark = if r.restarted && r.wal_bytes <= truncate_above {
            Some(Mark::now(conn)?)
        } else {
            None
        };
        Ok(r)
    }

    /// The last tick, at shutdown: everything into the database file and the WAL truncated
    /// to zero bytes (no restart write).
    pub fn final_tick(
        &mut self,
        conn: &Connection,
        db_path: &Path,
    ) -> Result<WalReport, StoreError> {
        self.mark = None;
        maintain(conn, db_path, 0, None)
    }
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

    /// `rows` commits of one ~1 KB row each.
    fn write_pages(store: &Store, rows: usize) {
        commits(store, rows, 1, 1000);
    }

    /// `n` commits of `rows` rows of `size` bytes each.
    fn commits(store: &Store, n: usize, rows: usize, size: usize) {
        for i in 0..n {
            let tx = store.conn().unchecked_transaction().unwrap();
            for j in 0..rows {
                tx.execute(
                    "INSERT INTO device_events (device, state, detail, at_ms) VALUES ('printer', 'ok', ?1, ?2)",
                    rusqlite::params![format!("{:0size$}", i * rows + j), i as i64],
                )
                .unwrap();
            }
            tx.commit().unwrap();
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
        // Past SQLite's 1000-page default in small commits (one page a row): with
        // auto-checkpoint on, a commit would have checkpointed and the WAL would have
        // restarted, so it would hold fewer than 1000 frames now.
        commits(&store, 300, 4, 3500);
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
        let r = maintain(store.conn(), store.path(), size + 1, None).unwrap();
        assert!(r.passive.complete() && !r.truncated, "{r:?}");
        assert_eq!(r.wal_bytes, size);
        // Above it: truncated to nothing.
        write_pages(&store, 10);
        let r = maintain(store.conn(), store.path(), 1024, None).unwrap();
        assert!(r.truncated && !r.restarted, "{r:?}");
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
        let r = maintain(store.conn(), store.path(), 0, None).unwrap();
        assert!(!r.truncated, "{r:?}");
        assert!(r.wal_bytes > 0);
        reader.conn().execute_batch("COMMIT").unwrap();
        let r = maintain(store.conn(), store.path(), 0, None).unwrap();
        assert!(r.truncated, "{r:?}");
        // The short wait is restored to the normal one.
        let t: i64 = store
            .conn()
            .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
            .unwrap();
        assert_eq!(t, BUSY_TIMEOUT.as_millis() as i64);
    }

    /// The tick makes the write that restarts the WAL, so the WAL holds just that write
    /// afterwards (not yet checkpointed), and a citizen's next commit only appends.
    #[test]
    fn after_a_complete_checkpoint_the_tick_restarts_the_wal_itself() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
        write_pages(&store, 100);
        let r = store.maintain_wal(WAL_TRUNCATE_ABOVE_BYTES).unwrap();
        assert!(r.passive.complete() && r.restarted, "{r:?}");
        let at: String = store
            .conn()
            .query_row(
                "SELECT value FROM meta WHERE key = 'wal_checkpoint_at'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(at.ends_with('Z'), "{at}");
        // The restart write is all the WAL holds now: a frame or two, not the 100 rows.
        let c = checkpoint(store.conn(), Mode::Passive).unwrap();
        assert!((1..=3).contains(&c.wal_frames), "{c:?}");
        // Nothing written since: the next ticks do nothing (an idle kiosk does not churn).
        for _ in 0..2 {
            let r = store.maintain_wal(WAL_TRUNCATE_ABOVE_BYTES).unwrap();
            assert!(r.skipped && !r.restarted, "{r:?}");
        }
        // Another connection (the citizen's) commits: the next tick works again.
        let citizen = Store::open_path(store.path()).unwrap();
        write_pages(&citizen, 1);
        let r = store.maintain_wal(WAL_TRUNCATE_ABOVE_BYTES).unwrap();
        assert!(!r.skipped && r.restarted, "{r:?}");
        // So does a write on the tick's own connection.
        write_pages(&store, 1);
        let r = store.maintain_wal(WAL_TRUNCATE_ABOVE_BYTES).unwrap();
        assert!(!r.skipped && r.restarted, "{r:?}");
        // At shutdown: no restart write, the WAL left empty.
        let r = store.maintain_wal_final().unwrap();
        assert!(r.truncated && !r.restarted, "{r:?}");
        assert_eq!(wal_bytes(&store), 0);
    }
}
