//! The drain: a 10,000-entry backlog pushed by the sync engine to the platform simulator over
//! mutual TLS (target >= 5,000 a second), next to its peer measured in the same run: the
//! same submissions, in the same batches, posted raw over the same kind of mutual-TLS client
//! to a second simulator, with none of the outbox's bookkeeping (no claim or settle
//! transaction, no decryption, no WAL tick; bodies encoded before the clock starts). Half of
//! the raw batches go before the drain and half after, so drift of the shared disk hits both.
//! The ratio is what the bookkeeping costs.
//!
//! Memory: the process's peak resident set during the drain (`VmHWM`, reset just before it
//! through `/proc/self/clear_refs`), next to its resident set just before.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use device_sim::central::{init_pki, PkiPaths, Server, ServerConfig};

use super::{submission, tempfile_dir, BenchRow};
use crate::config::Config;
use crate::crypto::DataKey;
use crate::outbox::{self, NewSubmission, SealedPayload};
use crate::store::{wal, Store};
use crate::sync::client::Transport;
use crate::sync::protocol::{self, ItemOutcome, Outgoing, MAX_BATCH_ITEMS, MAX_REQUEST_BYTES};
use crate::sync::SyncEngine;

const BACKLOG: usize = 10_000;
/// What the drain may add to the process's resident set (the engine's batches, the TLS client,
/// and the simulator, which runs in this process too). About 6 MiB was measured on the
/// development VM; the bound leaves room for allocator noise but not for a drain that keeps
/// what it sent.
const RSS_GROWTH_BOUND_MIB: f64 = 16.0;
/// The WAL tick after a drain may take this share of the drain at most.
const WAL_TICK_SHARE: f64 = 0.05;
const MAX_BATCH_RESPONSE: usize = 4 * 1024 * 1024;

/// One raw request of the peer: the ids it carries and its body (synthetic, but wiped like
/// the engine's).
struct RawBatch {
    ids: Vec<String>,
    body: zeroize::Zeroizing<Vec<u8>>,
}

pub(super) fn run() -> anyhow::Result<Vec<BenchRow>> {
    let dir = tempfile_dir("outbox-drain")?;
    let result = measure(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(dir: &std::path::Path) -> anyhow::Result<Vec<BenchRow>> {
    let pki_dir = dir.join("pki");
    init_pki(&pki_dir, &["XH-0001".to_string()])?;
    let pki = PkiPaths::new(&pki_dir);
    let sim = Server::start(ServerConfig::new(&pki_dir, &dir.join("central.db")))?;
    let raw_sim = Server::start(ServerConfig::new(&pki_dir, &dir.join("central-raw.db")))?;
    let mut config = Config {
        kiosk_id: "XH-0001".into(),
        data_dir: dir.join("kiosk"),
        ..Config::default()
    };
    config.central.url = sim.url();
    config.central.ca_file = Some(pki.ca_cert());
    config.central.client_cert = Some(pki.client_cert("XH-0001"));
    config.central.client_key = Some(pki.client_key("XH-0001"));
    let batch = config.sync.batch_size.clamp(1, MAX_BATCH_ITEMS);

    let mut store = Store::open(&config)?;
    let key = Arc::new(DataKey::load_or_create(
        &config.data_path(&config.security.data_key_file),
    )?);
    let subs: Vec<NewSubmission> = (0..BACKLOG).map(submission).collect();
    for chunk in subs.chunks(500) {
        outbox::enqueue_all(&mut store, &key, chunk, chrono::Utc::now())?;
    }
    // The backlog built up over hours offline, while the idle timer checkpointed it.
    store.maintain_wal(wal::WAL_TRUNCATE_ABOVE_BYTES)?;

    let raw = raw_batches(&config.kiosk_id, &subs, batch)?;
    drop(subs);
    let raw_transport = Transport::from_config(&Config {
        central: crate::config::CentralConfig {
            url: raw_sim.url(),
            ..config.central.clone()
        },
        ..config.clone()
    })?;
    let mut engine = SyncEngine::new(&config, Store::open(&config)?, key)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    let (first, second) = raw.split_at(raw.len() / 2);
    let raw_secs_1 = rt.block_on(post_raw(&raw_transport, first))?;
    let peak_reset = reset_peak_rss();
    let rss_before_mib = proc_status_kib("VmRSS:").context("cannot read VmRSS")? as f64 / 1024.0;
    let t = Instant::now();
    let report = rt.block_on(engine.push(false));
    let secs = t.elapsed().as_secs_f64();
    let peak_mib = proc_status_kib("VmHWM:").context("cannot read VmHWM")? as f64 / 1024.0;
    let raw_secs_2 = rt.block_on(post_raw(&raw_transport, second))?;

    let left = outbox::status(&store)?;
    anyhow::ensure!(
        report.errors.is_empty() && left.pending + left.in_flight == 0,
        "the backlog did not drain: {:?} {left:?}",
        report.errors
    );
    for (name, s) in [("engine's", &sim), ("raw peer's", &raw_sim)] {
        let stored = s.stats()?.submissions;
        anyhow::ensure!(
            stored as usize == BACKLOG,
            "the {name} platform stored {stored} of {BACKLOG}"
        );
    }
    let rate = BACKLOG as f64 / secs;
    let raw_rate = BACKLOG as f64 / (raw_secs_1 + raw_secs_2);
    let tick_ms = engine.handle().snapshot().wal_tick_ms as f64;
    let fewest = BACKLOG.div_ceil(batch);
    let growth_ok = peak_mib <= rss_before_mib + RSS_GROWTH_BOUND_MIB;
    let rss_note = if peak_reset {
        "peak resident set of this process during the drain (VmHWM, reset just before it via \
         /proc/self/clear_refs); peer: its resident set (VmRSS) just before the drain. The \
         simulator, the TLS stacks and the engine all run in this process"
    } else {
        "peak resident set of this process since it started (VmHWM; /proc/self/clear_refs \
         could not reset it, so earlier benchmark groups count too); peer: its resident set \
         (VmRSS) just before the drain"
    };
    Ok(vec![
        BenchRow::new("outbox_drain_10k_mtls_rate", rate, "1/s")
            .peer("raw_mtls_post_same_batches_rate", raw_rate)
            .target(">= 5000/s", rate >= 5000.0)
            .note(&format!(
                "the engine drained {BACKLOG} queued submissions (claim, decrypt, encode, POST, \
                 settle, WAL tick) to the simulator over mutual TLS; peer: the same \
                 submissions in the same {fewest} batches of {batch}, encoded beforehand and \
                 POSTed raw (answer decoded, nothing recorded on the kiosk) by the same mutual-TLS client to a \
                 second simulator, half before and half after the drain"
            )),
        BenchRow::new(
            "outbox_drain_10k_batches",
            f64::from(report.batches),
            "count",
        )
        .peer("fewest_requests_at_batch_limit", fewest as f64)
        .target(
            "= peer",
            report.batches as usize == fewest,
        )
        .note(&format!(
            "requests the drain made; peer: {BACKLOG} / batch size {batch}, rounded up (more \
             would mean a retried or split batch)"
        )),
        BenchRow::new("outbox_drain_10k_wal_tick", tick_ms, "ms")
            .peer("drain_time", secs * 1000.0)
            .target(
                &format!("<= {WAL_TICK_SHARE}x"),
                tick_ms <= WAL_TICK_SHARE * secs * 1000.0,
            )
            .note(
                "the engine's WAL checkpoint after the drain (passive checkpoint and restart \
                 write, inside the drain time); peer: the whole drain",
            ),
        BenchRow::new("peak_rss_vmhwm", peak_mib, "MiB")
            .peer("rss_before_drain", rss_before_mib)
            .target(&format!("<= peer + {RSS_GROWTH_BOUND_MIB} MiB"), growth_ok)
            .note(rss_note),
    ])
}

/// The peer's requests: each batch encoded exactly as the engine encodes it (same ids
/// scheme, seqs, fields and payloads), before any clock starts.
fn raw_batches(
    kiosk_id: &str,
    subs: &[NewSubmission],
    batch: usize,
) -> anyhow::Result<Vec<RawBatch>> {
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let items: Vec<Outgoing> = subs
        .iter()
        .enumerate()
        .map(|(i, s)| Outgoing {
            id: uuid::Uuid::now_v7().to_string(),
            seq: i as u64 + 1,
            matter_code: s.matter_code.clone(),
            situation: s.situation.clone(),
            catalog_version: s.catalog_version,
            created_at: created_at.clone(),
            payload: SealedPayload {
                applicant: s.applicant.clone(),
                form: s.form.clone(),
                attachments: s.attachments.clone(),
            },
        })
        .collect();
    let mut out = Vec::new();
    for chunk in items.chunks(batch) {
        let encoded = protocol::encode_batch(kiosk_id, chunk, MAX_REQUEST_BYTES)?;
        anyhow::ensure!(
            encoded.sent.len() == chunk.len(),
            "a raw batch did not fit one request"
        );
        out.push(RawBatch {
            ids: encoded.sent.iter().map(|&i| chunk[i].id.clone()).collect(),
            body: encoded.body,
        });
    }
    Ok(out)
}

/// POSTs the batches one after another, as the engine does; every item must be accepted.
/// Returns the seconds it took.
async fn post_raw(transport: &Transport, batches: &[RawBatch]) -> anyhow::Result<f64> {
    let t = Instant::now();
    for b in batches {
        let r = transport
            .post_json("/v1/submissions/batch", b.body.to_vec(), MAX_BATCH_RESPONSE)
            .await?;
        let outcome = protocol::decode_batch_response(
            &b.ids,
            r.status,
            r.retry_after.as_deref(),
            &r.body,
            chrono::Utc::now(),
        );
        anyhow::ensure!(
            outcome
                .items
                .iter()
                .all(|(_, o)| matches!(o, ItemOutcome::Accepted { .. })),
            "the raw peer's batch was not accepted: {:?}",
            outcome.error
        );
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Resets `VmHWM` to the current resident set (Linux 4.0+). False when it cannot.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A `/proc/self/status` line's value, in KiB.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
