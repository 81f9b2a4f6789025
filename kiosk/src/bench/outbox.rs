//! The outbox: durable enqueue latency next to a bare SQLite insert with the same durability
//! (WAL, `synchronous = FULL`) AND the same checkpoint policy, measured interleaved in the
//! same run on the same disk (target <= 1.3x at p50 and p99); and the drain rate of a
//! 10,000-entry backlog over mutual TLS to the in-process platform simulator on 127.0.0.1
//! (target >= 5,000 a second), with peak memory.
//!
//! Checkpoint policy: the kiosk's connections never checkpoint inside a commit
//! (`store::wal`); the sync engine does it in the background. Here a thread stands in for
//! the engine and runs the same maintenance tick on the kiosk's file and on the peer's file
//! every [`MAINTAIN_EVERY`] (more often than the engine's 30 s idle timer, so the commits
//! measured overlap checkpoints more, not less). The three are measured in rotating order. A third connection, a bare insert with
//! SQLite's default policy (a checkpoint inside the commit that crosses 1000 WAL pages, what
//! a plain WAL + FULL application gets), is measured in the same loop for information. An
//! enqueue writes about eight pages (submission, outbox entry, their indexes, the seq counter)
//! where the bare insert writes two: with auto-checkpoint on, it paid for a checkpoint about
//! four times as often, which was the p99 gap.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use device_sim::central::{init_pki, PkiPaths, Server, ServerConfig};

use super::{percentile, BenchRow};
use crate::config::Config;
use crate::crypto::DataKey;
use crate::outbox::{self, Applicant, NewSubmission};
use crate::store::{wal, Store};
use crate::sync::SyncEngine;

const ENQUEUES: usize = 2000;
const BACKLOG: usize = 10_000;
/// How often the stand-in for the engine runs the WAL maintenance tick: 30 times as often
/// as the engine's idle timer, so that the run (a few seconds) includes checkpoints and
/// truncations running beside the commits measured.
const MAINTAIN_EVERY: Duration = Duration::from_millis(1000);

pub fn run(_config: &Config) -> anyhow::Result<Vec<BenchRow>> {
    let mut rows = enqueue_vs_bare_insert()?;
    rows.extend(drain_backlog()?);
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

/// A bare WAL + FULL table for the peer inserts; `auto_checkpoint: false` gives it the
/// kiosk's policy.
fn bare_db(path: &Path, auto_checkpoint: bool) -> anyhow::Result<rusqlite::Connection> {
    let bare = rusqlite::Connection::open(path)?;
    bare.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    bare.pragma_update(None, "synchronous", "FULL")?;
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
    let kiosk_db = dir.join("kiosk.db");
    let mut store = Store::open_path(&kiosk_db)?;
    let key = DataKey::from_bytes([7; 32]);
    let same = bare_db(&dir.join("bare.db"), false)?;
    let default = bare_db(&dir.join("bare-default.db"), true)?;
    let stop = Arc::new(AtomicBool::new(false));
    let ticks = Arc::new(AtomicU64::new(0));
    let maint = maintainer(
        vec![kiosk_db.clone(), dir.join("bare.db")],
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
    let measured = (|| -> anyhow::Result<()> {
        for i in 0..ENQUEUES + 20 {
            let sub = submission(i);
            let mut enqueue = || -> anyhow::Result<f64> {
                let t = Instant::now();
                outbox::enqueue(&mut store, &key, &sub, chrono::Utc::now())?;
                Ok(ms(t))
            };
            // The order rotates, so none of the three always follows the same neighbour's
            // fsync.
            let (e, b, d) = match i % 3 {
                0 => {
                    let e = enqueue()?;
                    (e, insert(&same)?, insert(&default)?)
                }
                1 => {
                    let b = insert(&same)?;
                    let d = insert(&default)?;
                    (enqueue()?, b, d)
                }
                _ => {
                    let d = insert(&default)?;
                    let e = enqueue()?;
                    (e, insert(&same)?, d)
                }
            };
            // The first few warm the page cache and the statement caches.
            if i >= 20 {
                enq.push(e);
                ins.push(b);
                def.push(d);
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
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    let policy = format!(
        "peer: bare INSERT, WAL + synchronous=FULL, same checkpoint policy as the kiosk \
         (wal_autocheckpoint=0; a background thread ran the engine's maintenance tick on \
         both files every {} ms, {ticks} ticks); {ENQUEUES} samples each, interleaved",
        MAINTAIN_EVERY.as_millis()
    );
    let default_note = "information: the same bare INSERT with SQLite's default policy \
         (auto-checkpoint inside the commit at 1000 WAL pages), measured in the same loop";
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

/// Fills an outbox with 10,000 submissions, then lets the engine push them all to the
/// simulator over mutual TLS and times it.
fn drain_backlog() -> anyhow::Result<Vec<BenchRow>> {
    let dir = tempfile_dir("outbox-drain")?;
    let pki_dir = dir.join("pki");
    init_pki(&pki_dir, &["XH-0001".to_string()])?;
    let pki = PkiPaths::new(&pki_dir);
    let sim = Server::start(ServerConfig::new(&pki_dir, &dir.join("central.db")))?;
    let mut config = Config {
        kiosk_id: "XH-0001".into(),
        data_dir: dir.join("kiosk"),
        ..Config::default()
    };
    config.central.url = sim.url();
    config.central.ca_file = Some(pki.ca_cert());
    config.central.client_cert = Some(pki.client_cert("XH-0001"));
    config.central.client_key = Some(pki.client_key("XH-0001"));
    let mut store = Store::open(&config)?;
    let key = Arc::new(DataKey::load_or_create(
        &config.data_path(&config.security.data_key_file),
    )?);
    let subs: Vec<NewSubmission> = (0..BACKLOG).map(submission).collect();
    for chunk in subs.chunks(500) {
        outbox::enqueue_all(&mut store, &key, chunk, chrono::Utc::now())?;
    }
    // The backlog built up over hours offline, while the engine's idle timer checkpointed it.
    store.maintain_wal(crate::store::wal::WAL_TRUNCATE_ABOVE_BYTES)?;
    let mut engine = SyncEngine::new(&config, Store::open(&config)?, key)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let t = Instant::now();
    let report = rt.block_on(engine.push(false));
    let secs = t.elapsed().as_secs_f64();
    let left = outbox::status(&store)?;
    anyhow::ensure!(
        report.errors.is_empty() && left.pending + left.in_flight == 0,
        "the backlog did not drain: {:?} {left:?}",
        report.errors
    );
    let stored = sim.stats()?.submissions;
    anyhow::ensure!(
        stored as usize == BACKLOG,
        "the platform stored {stored} of {BACKLOG}"
    );
    let rate = BACKLOG as f64 / secs;
    let tick_ms = engine.handle().snapshot().wal_tick_ms as f64;
    drop(rt);
    drop(sim);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    let peak_mib = peak_rss_kib().context("cannot read VmHWM")? as f64 / 1024.0;
    Ok(vec![
        BenchRow::new("outbox_drain_10k_mtls_rate", rate, "1/s")
            .target(">= 5000/s", rate >= 5000.0),
        BenchRow::new(
            "outbox_drain_10k_batches",
            f64::from(report.batches),
            "count",
        ),
        BenchRow::new("outbox_drain_10k_wal_tick", tick_ms, "ms")
            .note("the engine's WAL checkpoint after the drain (inside the drain time above)"),
        BenchRow::new("peak_rss_vmhwm", peak_mib, "MiB"),
    ])
}

/// The process's peak resident set (`VmHWM` in /proc/self/status), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
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
