//! The storage thread checkpoints the WAL when idle if no sync engine does (no platform
//! configured), on a real SQLite file; with a platform it leaves that to the engine.

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension};

use super::*;
use crate::store::wal;

/// A store whose WAL holds more than the truncation bound, none of it checkpointed.
fn store_with_a_big_wal(dir: &std::path::Path) -> Store {
    let store = Store::open_path(&dir.join("k.db")).unwrap();
    let tx = store.conn().unchecked_transaction().unwrap();
    let detail = "x".repeat(1024 * 1024);
    let rows = wal::WAL_TRUNCATE_ABOVE_BYTES / (1024 * 1024) + 1;
    for i in 0..rows {
        tx.execute(
            "INSERT INTO device_events (device, state, detail, at_ms) VALUES ('printer', 'ok', ?1, ?2)",
            rusqlite::params![detail, i as i64],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    assert!(wal_bytes(store.path()) > wal::WAL_TRUNCATE_ABOVE_BYTES);
    store
}

fn wal_bytes(db: &std::path::Path) -> u64 {
    std::fs::metadata(wal::wal_path(db))
        .map(|m| m.len())
        .unwrap_or(0)
}

fn start(store: Store, central_url: &str) -> (StorageWorker, Receiver<FlowEvent>) {
    let (sink, events) = EventSink::new(Arc::new(|| {}));
    let dir = store.path().parent().unwrap().to_path_buf();
    let setup = StorageSetup {
        store,
        key: Arc::new(DataKey::from_bytes([7; 32])),
        printer: String::new(),
        ledger_path: dir.join("print-ledger.json"),
        counters_dir: dir.clone(),
        hall_name: "test hall".into(),
        receipt_prefix: "XH0001".into(),
        central_url: central_url.into(),
        config: crate::config::Config::default(),
        facts: crate::maintenance::SharedFacts::new(crate::maintenance::AppFacts::new(0)),
        handoff: crate::catalog::StagedHandoff::new(),
    };
    let worker = StorageWorker::start_with_idle(setup, sink, Duration::from_millis(10)).unwrap();
    (worker, events)
}

/// When the idle tick last restarted the WAL (its restart write), read by another connection.
fn checkpointed_at(conn: &Connection) -> Option<String> {
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'wal_checkpoint_at'",
        [],
        |r| r.get(0),
    )
    .optional()
    .unwrap()
}

/// A round trip through the worker: every command before it has been handled.
fn round_trip(worker: &StorageWorker, events: &Receiver<FlowEvent>) {
    worker.send(StorageCmd::Status {
        query: 7,
        number: "XH0001000001".into(),
    });
    loop {
        match events.recv_timeout(Duration::from_secs(30)).unwrap() {
            FlowEvent::Status { query: 7, .. } => return,
            _ => continue,
        }
    }
}

#[test]
fn without_a_platform_the_idle_storage_thread_checkpoints_and_truncates_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_a_big_wal(dir.path());
    let db = store.path().to_path_buf();
    // Kept open for the whole test, so the WAL cannot be checkpointed by a last close.
    let watcher = Connection::open(&db).unwrap();
    assert_eq!(checkpointed_at(&watcher), None);
    let (worker, events) = start(store, "");
    // Waits for the tick (a condition, not a time: the deadline only stops a hang).
    let deadline = Instant::now() + Duration::from_secs(30);
    while checkpointed_at(&watcher).is_none() {
        assert!(Instant::now() < deadline, "no idle WAL tick");
        std::thread::sleep(Duration::from_millis(10));
    }
    round_trip(&worker, &events);
    // Truncated past the bound, then only the tick's own restart write.
    let left = wal_bytes(&db);
    assert!(left < 64 * 1024, "WAL still {left} bytes");
    let (busy, frames, done): (i64, i64, i64) = watcher
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(busy, 0);
    assert!(
        frames <= 3 && done == frames,
        "{frames} frames, {done} done"
    );
    let n: i64 = watcher
        .query_row("SELECT COUNT(*) FROM device_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as u64, wal::WAL_TRUNCATE_ABOVE_BYTES / (1024 * 1024) + 1);
    drop(worker);
}

#[test]
fn with_a_platform_the_engine_checkpoints_not_the_storage_thread() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_a_big_wal(dir.path());
    let db = store.path().to_path_buf();
    let before = wal_bytes(&db);
    let watcher = Connection::open(&db).unwrap();
    let (worker, events) = start(store, "https://127.0.0.1:9");
    // Many idle periods of 10 ms pass; each round trip proves the loop is running.
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(20));
        round_trip(&worker, &events);
    }
    assert_eq!(checkpointed_at(&watcher), None);
    assert_eq!(wal_bytes(&db), before);
    drop(worker);
}
