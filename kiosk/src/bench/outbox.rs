//! The outbox: durable enqueue latency next to a bare SQLite insert with the same durability
//! (WAL, `synchronous = FULL`), the same connection settings AND the same checkpoint policy,
//! measured interleaved in the same run on the same disk (target <= 1.3x at p50 and p99);
//! and the drain of a 10,000-entry backlog over mutual TLS ([`drain`]).
//!
//! Checkpoint policy: the kiosk's connections never checkpoint inside a commit
//! (`store::wal`); the sync engine does, between citizens (after each push, on its 30 s
//! timer), and its tick restarts the WAL so the next citizen's commit writes at its start.
//! Here the loop runs that tick on the kiosk's file and on the peer's every
//! [`TICK_EVERY`] iterations, untimed and between the commits, so both WALs are reused as on
//! a kiosk (2000 commits back to back with no tick would instead grow both WALs to the
//! truncation bound, a regime no kiosk sees: it would measure ext4 allocating WAL blocks).
//! A thread also runs the tick on both files every [`MAINTAIN_EVERY`], so commits overlap
//! checkpoints far more often than on a kiosk. The three are measured in rotating order. A
//! third connection, a bare insert with SQLite's default policy (a checkpoint inside the
//! commit that crosses 1000 WAL pages, what a plain WAL + FULL application gets), is
//! measured in the same loop for information.
//!
//! What a FULL commit costs is mostly its `fsync`, and that grows with the WAL frames (pages)
//! it syncs. The peer's row and key index are two pages; an enqueue writes three (its row
//! keyed by seq, the id index, the waiting-entries index: the v6 schema). The frames each
//! commit wrote are counted from the WAL index and printed in the note. The rest of the
//! difference is the enqueue's own work: JSON, SHA-256, the seal, an explicit transaction.

mod drain;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{percentile, BenchRow};
use crate::config::Config;
use crate::crypto::DataKey;
use crate::outbox::{self, Applicant, NewSubmission};
use crate::store::{wal, Store};

const ENQUEUES: usize = 3000;
/// Iterations not counted: they warm the page cache, the statement caches and the files'
/// first growth.
const WARM_UP: usize = 100;
/// The loop runs the engine's tick on the kiosk's and the peer's file every this many
/// iterations (the engine ticks after every push, so on a kiosk after about every citizen).
const TICK_EVERY: usize = 25;
/// How often the background stand-in for the engine also runs the tick, beside the commits.
const MAINTAIN_EVERY: Duration = Duration::from_millis(1000);

pub fn run(_config: &Config) -> anyhow::Result<Vec<BenchRow>> {
    let mut rows = enqueue_vs_bare_insert()?;
    rows.extend(drain::run()?);
    Ok(rows)
}

fn submission(i: usize) -> NewSubmission {
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
        form: BTreeMap::from([
            ("phone".to_string(), format!("138{:08}", i % 100_000_000)),
            (
                "address".to_string(),
                "上海市徐汇区漕溪北路336号".to_string(),
            ),
            ("reason".to_string(), "申请补办".to_string()),
        ]),
        attachments: vec![],
    }
}

/// The peer's file: a UUID-keyed table with a payload blob (a rowid table and its key index,
/// two pages an insert), on a connection set up as `Store` sets up the kiosk's (WAL, FULL,
/// foreign keys, secure delete, busy timeout, default page size). `auto_checkpoint: false`
/// gives it the kiosk's checkpoint policy too.
fn bare_db(path: &Path, auto_checkpoint: bool) -> anyhow::Result<rusqlite::Connection> {
    let bare = rusqlite::Connection::open(path)?;
    bare.busy_timeout(Duration::from_secs(5))?;
    bare.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    bare.pragma_update(None, "synchronous", "FULL")?;
    bare.pragma_update(None, "foreign_keys", "ON")?;
    bare.pragma_update(None, "secure_delete", "ON")?;
    if !auto_checkpoint {
        wal::disable_auto_checkpoint(&bare)?;
    }
    // `meta` as in the kiosk's file: the maintenance tick's restart write goes there.
    bare.execute_batch(
        "CREATE TABLE t (id TEXT PRIMARY KEY, payload BLOB NOT NULL);
         CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )?;
    Ok(bare)
}

fn page_size(c: &rusqlite::Connection) -> anyhow::Result<u64> {
    Ok(c.query_row("PRAGMA page_size", [], |r| r.get(0))?)
}

/// Frames in the WAL now: `mxFrame` of the WAL index header, at byte 16 of `<db>-shm`,
/// in native byte order (SQLite's `WalIndexHdr`). Counts what a commit wrote exactly, where
/// the file's length would miss the frames written over a restarted WAL.
fn wal_frames(db: &Path) -> u64 {
    let mut shm = db.as_os_str().to_os_string();
    shm.push("-shm");
    let mut hdr = [0u8; 20];
    let read = std::fs::File::open(shm).and_then(|mut f| {
        use std::io::Read as _;
        f.read_exact(&mut hdr)
    });
    match read {
        Ok(()) => u64::from(u32::from_ne_bytes([hdr[16], hdr[17], hdr[18], hdr[19]])),
        Err(_) => 0,
    }
}

/// The engine's stand-in: the maintenance tick on each file every [`MAINTAIN_EVERY`] until
/// stopped. Counts the ticks.
fn maintainer(
    paths: Vec<std::path::PathBuf>,
    stop: Arc<AtomicBool>,
    ticks: Arc<AtomicU64>,
) -> anyhow::Result<std::thread::JoinHandle<anyhow::Result<()>>> {
    let conns = paths
        .iter()
        .map(|p| {
            let c = rusqlite::Connection::open(p)?;
            c.busy_timeout(Duration::from_secs(5))?;
            Ok((c, p.clone(), wal::Ticker::new(wal::STORE_RESTART_WRITE)))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(std::thread::spawn(move || {
        let mut conns = conns;
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(MAINTAIN_EVERY);
            for (c, p, ticker) in &mut conns {
                ticker.tick(c, p, wal::WAL_TRUNCATE_ABOVE_BYTES)?;
            }
            ticks.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }))
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// All three measured on the same disk, alternating, so drift and cache effects hit them alike.
fn enqueue_vs_bare_insert() -> anyhow::Result<Vec<BenchRow>> {
    let dir = tempfile_dir("outbox-enqueue")?;
    let result = enqueue_in(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn enqueue_in(dir: &Path) -> anyhow::Result<Vec<BenchRow>> {
    let kiosk_db = dir.join("kiosk.db");
    let bare_path = dir.join("bare.db");
    let mut store = Store::open_path(&kiosk_db)?;
    let key = DataKey::from_bytes([7; 32]);
    let same = bare_db(&bare_path, false)?;
    let default = bare_db(&dir.join("bare-default.db"), true)?;
    let pages = page_size(store.conn())?;
    anyhow::ensure!(
        pages == page_size(&same)?,
        "the peer's page size differs from the kiosk's"
    );
    // The loop's own tick on the peer's file (the kiosk's is `Store::maintain_wal`).
    let mut same_ticker = wal::Ticker::new(wal::STORE_RESTART_WRITE);
    let stop = Arc::new(AtomicBool::new(false));
    let ticks = Arc::new(AtomicU64::new(0));
    let maint = maintainer(
        vec![kiosk_db.clone(), bare_path.clone()],
        stop.clone(),
        ticks.clone(),
    )?;
    // A blob the size of a sealed payload (plaintext JSON + nonce + tag).
    let size = serde_json::to_vec(&outbox::SealedPayload {
        applicant: submission(0).applicant.clone(),
        form: submission(0).form.clone(),
        attachments: vec![],
    })?
    .len()
        + 28;
    let blob = vec![0x5au8; size];
    let insert = |c: &rusqlite::Connection| -> anyhow::Result<f64> {
        let id = uuid::Uuid::now_v7().to_string();
        let t = Instant::now();
        c.prepare_cached("INSERT INTO t (id, payload) VALUES (?1, ?2)")?
            .execute(rusqlite::params![id, blob])?;
        Ok(ms(t))
    };
    let (mut enq, mut ins, mut def) = (vec![], vec![], vec![]);
    // WAL frames the commits wrote, and how many commits were counted (one that follows a
    // WAL restart, when the frame count starts again, is not).
    let (mut enq_frames, mut ins_frames, mut enq_n, mut ins_n) = (0u64, 0u64, 0u64, 0u64);
    let grew = |path: &Path, before: u64, frames: &mut u64, n: &mut u64| {
        let after = wal_frames(path);
        if after > before {
            *frames += after - before;
            *n += 1;
        }
    };
    let measured = (|| -> anyhow::Result<()> {
        for i in 0..ENQUEUES + WARM_UP {
            let sub = submission(i);
            let mut enqueue = || -> anyhow::Result<f64> {
                let before = wal_frames(&kiosk_db);
                let t = Instant::now();
                outbox::enqueue(&mut store, &key, &sub, chrono::Utc::now())?;
                let took = ms(t);
                grew(&kiosk_db, before, &mut enq_frames, &mut enq_n);
                Ok(took)
            };
            let (e, b, d);
            // The order rotates, so none of the three always follows the same neighbour's
            // fsync. `enqueue` is the only closure holding the store, so the peer's insert
            // is timed with its own before/after size reads around it.
            let before_same = wal_frames(&bare_path);
            match i % 3 {
                0 => {
                    e = enqueue()?;
                    b = insert(&same)?;
                    d = insert(&default)?;
                }
                1 => {
                    b = insert(&same)?;
                    d = insert(&default)?;
                    e = enqueue()?;
                }
                _ => {
                    d = insert(&default)?;
                    e = enqueue()?;
                    b = insert(&same)?;
                }
            }
            grew(&bare_path, before_same, &mut ins_frames, &mut ins_n);
            if i >= WARM_UP {
                enq.push(e);
                ins.push(b);
                def.push(d);
            }
            // Between citizens, as the engine does (untimed).
            if i % TICK_EVERY == TICK_EVERY - 1 {
                store.maintain_wal(wal::WAL_TRUNCATE_ABOVE_BYTES)?;
                same_ticker.tick(&same, &bare_path, wal::WAL_TRUNCATE_ABOVE_BYTES)?;
            }
        }
        Ok(())
    })();
    stop.store(true, Ordering::SeqCst);
    let maintained = maint
        .join()
        .map_err(|_| anyhow::anyhow!("the maintenance thread panicked"))?;
    measured?;
    maintained?;
    let ticks = ticks.load(Ordering::SeqCst);
    for v in [&mut enq, &mut ins, &mut def] {
        v.sort_by(f64::total_cmp);
    }
    let p = |v: &[f64], q: f64| percentile(v, q);
    let (e50, e99) = (p(&enq, 50.0), p(&enq, 99.0));
    let (b50, b99) = (p(&ins, 50.0), p(&ins, 99.0));
    let (d50, d99) = (p(&def, 50.0), p(&def, 99.0));
    let per_commit = |frames: u64, n: u64| frames as f64 / n.max(1) as f64;
    let policy = format!(
        "enqueue: outbox::enqueue timed whole (JSON, SHA-256, ChaCha20-Poly1305 seal, BEGIN \
         IMMEDIATE, INSERT, COMMIT), {:.2} WAL frames a commit; peer: one autocommit INSERT \
         of a UUID-keyed row with a {size}-byte blob into t(id TEXT PRIMARY KEY, payload \
         BLOB), {:.2} frames a commit; both WAL, synchronous=FULL, page_size {pages}, \
         foreign_keys and secure_delete on, wal_autocheckpoint=0, the engine's WAL tick on \
         both files between commits every {TICK_EVERY} iterations and from a thread every {} \
         ms ({ticks} ticks); {ENQUEUES} samples each after {WARM_UP} warm-up, interleaved in \
         rotating order",
        per_commit(enq_frames, enq_n),
        per_commit(ins_frames, ins_n),
        MAINTAIN_EVERY.as_millis()
    );
    let default_note = "information: the same bare INSERT with SQLite's default policy \
         (auto-checkpoint inside the commit at 1000 WAL pages, no tick), measured in the same \
         loop; no target (the kiosk never checkpoints in a commit: the peer above is the \
         like-for-like one)";
    Ok(vec![
        BenchRow::new("outbox_enqueue_p50", e50, "ms")
            .peer("bare_insert_full_bgckpt_p50", b50)
            .target("<= 1.3x", e50 <= 1.3 * b50)
            .note(&policy),
        BenchRow::new("outbox_enqueue_p99", e99, "ms")
            .peer("bare_insert_full_bgckpt_p99", b99)
            .target("<= 1.3x", e99 <= 1.3 * b99)
            .note(&policy),
        BenchRow::new("outbox_enqueue_p50_vs_autockpt", e50, "ms")
            .peer("bare_insert_full_autockpt_p50", d50)
            .note(default_note),
        BenchRow::new("outbox_enqueue_p99_vs_autockpt", e99, "ms")
            .peer("bare_insert_full_autockpt_p99", d99)
            .note(default_note),
    ])
}

/// A fresh folder under the system temp dir (removed by the caller).
fn tempfile_dir(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "hall-kiosk-bench-{name}-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
