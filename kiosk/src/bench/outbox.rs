//! The outbox: durable enqueue latency next to a bare SQLite insert with the same durability
//! (WAL, `synchronous = FULL`), measured interleaved in the same run on the same disk
//! (target <= 1.3x at p50 and p99). An enqueue writes about eight pages (the submission, its
//! outbox entry, their indexes, the seq counter) where the bare insert writes two, and on a
//! disk whose fsync cost grows with the data written that difference is most of the gap; and the drain rate of a 10,000-entry backlog over mutual TLS to the
//! in-process platform simulator on 127.0.0.1 (target >= 5,000 a second), with peak memory.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use device_sim::central::{init_pki, PkiPaths, Server, ServerConfig};

use super::{percentile, BenchRow};
use crate::config::Config;
use crate::crypto::DataKey;
use crate::outbox::{self, Applicant, NewSubmission};
use crate::store::Store;
use crate::sync::SyncEngine;

const ENQUEUES: usize = 2000;
const BACKLOG: usize = 10_000;

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

/// Both measured on the same disk, alternating, so drift and cache effects hit both alike.
fn enqueue_vs_bare_insert() -> anyhow::Result<Vec<BenchRow>> {
    let dir = tempfile_dir("outbox-enqueue")?;
    let mut store = Store::open_path(&dir.join("kiosk.db"))?;
    let key = DataKey::from_bytes([7; 32]);
    let bare = rusqlite::Connection::open(dir.join("bare.db"))?;
    bare.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    bare.pragma_update(None, "synchronous", "FULL")?;
    bare.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, payload BLOB NOT NULL)")?;
    // A blob the size of a sealed payload (plaintext JSON + nonce + tag).
    let size = serde_json::to_vec(&outbox::SealedPayload {
        applicant: submission(0).applicant.clone(),
        form: submission(0).form.clone(),
        attachments: vec![],
    })?
    .len()
        + 28;
    let blob = vec![0x5au8; size];
    let (mut enq, mut ins) = (Vec::with_capacity(ENQUEUES), Vec::with_capacity(ENQUEUES));
    for i in 0..ENQUEUES + 20 {
        let sub = submission(i);
        let t = Instant::now();
        outbox::enqueue(&mut store, &key, &sub, chrono::Utc::now())?;
        let e = t.elapsed().as_secs_f64() * 1000.0;
        let id = uuid::Uuid::now_v7().to_string();
        let t = Instant::now();
        bare.execute(
            "INSERT INTO t (id, payload) VALUES (?1, ?2)",
            rusqlite::params![id, blob],
        )?;
        let b = t.elapsed().as_secs_f64() * 1000.0;
        // The first few warm the page cache and the statement caches.
        if i >= 20 {
            enq.push(e);
            ins.push(b);
        }
    }
    enq.sort_by(f64::total_cmp);
    ins.sort_by(f64::total_cmp);
    let (e50, e99) = (percentile(&enq, 50.0), percentile(&enq, 99.0));
    let (b50, b99) = (percentile(&ins, 50.0), percentile(&ins, 99.0));
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(vec![
        BenchRow::new("outbox_enqueue_p50", e50, "ms")
            .peer("bare_insert_sync_full_p50", b50)
            .target("<= 1.3x", e50 <= 1.3 * b50),
        BenchRow::new("outbox_enqueue_p99", e99, "ms")
            .peer("bare_insert_sync_full_p99", b99)
            .target("<= 1.3x", e99 <= 1.3 * b99),
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
