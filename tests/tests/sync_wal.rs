//! The WAL stays bounded while the network is down: the citizen's connection never runs a
//! checkpoint inside a commit (so its WAL grows past SQLite's 1000-page default), and the sync
//! engine's maintenance tick, which runs on the offline path too, checkpoints and truncates
//! it. Real SQLite files, a real engine; the platform is a port nobody listens on.

mod sync_support;

use std::path::Path;

use kiosk::store::wal::{wal_path, WAL_TRUNCATE_ABOVE_BYTES};
use sync_support::*;

/// After a tick that truncated it, the WAL holds only the tick's own restart write (the WAL
/// header and a page or two).
const AFTER_TRUNCATE: u64 = 64 * 1024;

fn wal_bytes(db: &Path) -> u64 {
    std::fs::metadata(wal_path(db)).map_or(0, |m| m.len())
}

/// A kiosk config whose platform is unreachable (connection refused on 127.0.0.1).
fn offline_env() -> Env {
    let mut env = Env::new(Default::default());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The listener is dropped here: nothing accepts on that port any more.
    env.config.central.url = format!("https://127.0.0.1:{port}");
    env
}

/// Queues submissions one by one, as citizens do, until the WAL is past `bytes`.
fn enqueue_until_wal_above(env: &Env, store: &mut kiosk::store::Store, bytes: u64) -> usize {
    let key = env.key();
    let mut n = 0;
    while wal_bytes(store.path()) <= bytes {
        kiosk::outbox::enqueue(store, &key, &submission("13800138000"), chrono::Utc::now())
            .unwrap();
        n += 1;
        assert!(
            n < 5000,
            "the WAL does not grow: {}",
            wal_bytes(store.path())
        );
    }
    n
}

fn pending(store: &kiosk::store::Store) -> u64 {
    kiosk::outbox::status(store).unwrap().pending
}

#[test]
fn offline_the_engines_tick_bounds_the_wal_the_citizen_connection_let_grow() {
    let env = offline_env();
    let mut citizen = env.store();
    let db = citizen.path().to_path_buf();
    // Past the truncation bound, and 4x past where SQLite's default auto-checkpoint (1000
    // pages, ~4 MB) would have reset the WAL inside some citizen's commit.
    let queued = enqueue_until_wal_above(&env, &mut citizen, WAL_TRUNCATE_ABOVE_BYTES);
    assert!(wal_bytes(&db) > WAL_TRUNCATE_ABOVE_BYTES);

    let mut engine = env.engine();
    let rt = rt();
    let report = rt.block_on(engine.push(false));
    assert!(!report.errors.is_empty(), "the platform is unreachable");
    assert_eq!(report.accepted, 0);
    // The failed batch was settled (back to pending with a backoff) and the tick ran.
    let after = wal_bytes(&db);
    assert!(after <= AFTER_TRUNCATE, "WAL {after} bytes after the tick");
    let snap = engine.handle().snapshot();
    assert!(snap.counters.wal_checkpoints >= 1);
    assert_eq!(snap.wal_bytes, after);
    assert_eq!(pending(&citizen), queued as u64, "nothing lost");
    assert_eq!(citizen.integrity_check().unwrap(), "ok");

    // While the first entry backs off nothing is sent and nothing settled; the tick alone
    // (what the idle timer runs) still bounds the WAL.
    let more = enqueue_until_wal_above(&env, &mut citizen, WAL_TRUNCATE_ABOVE_BYTES);
    let r = rt.block_on(engine.maintain_wal()).unwrap();
    assert!(r.passive.complete() && r.truncated && r.restarted, "{r:?}");
    assert!(wal_bytes(&db) <= AFTER_TRUNCATE);
    assert_eq!(pending(&citizen), (queued + more) as u64);
}

#[test]
fn the_running_engine_checkpoints_offline_and_truncates_the_wal_at_shutdown() {
    let env = offline_env();
    let mut citizen = env.store();
    let db = citizen.path().to_path_buf();
    let key = env.key();
    let engine = env.engine();
    let handle = engine.handle();
    let thread = engine.spawn_thread().unwrap();
    let mut queued = 0u64;
    for _ in 0..300 {
        kiosk::outbox::enqueue(
            &mut citizen,
            &key,
            &submission("13800138000"),
            chrono::Utc::now(),
        )
        .unwrap();
        handle.wake();
        queued += 1;
    }
    // Let it try (and fail) at least once before stopping it: a condition, not a timing.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while handle.snapshot().counters.batches_failed == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the engine never tried"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    handle.shutdown();
    thread.join().unwrap();
    let snap = handle.snapshot();
    assert!(snap.counters.batches_failed >= 1, "it tried, offline");
    assert!(snap.counters.wal_checkpoints >= 1, "{snap:?}");
    // The citizen's connection is still open, so SQLite's own checkpoint-on-close has not
    // run: the engine's shutdown tick truncated the WAL.
    assert_eq!(wal_bytes(&db), 0);
    assert_eq!(pending(&citizen), queued);
    assert_eq!(citizen.integrity_check().unwrap(), "ok");
}
