//! The engine's other duties and its loop: heartbeats, the catalog pull hook, retention, one
//! full cycle for `kiosk sync once`, and `run`, which waits for work, a wake-up, a network
//! change or the next due time.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::engine::{PushReport, SyncEngine};
use super::progress::SyncState;
use super::protocol::{self, CatalogAnswer};
use crate::outbox::entries;
use crate::outbox::OutboxStatus;
use crate::store::now_ms;

/// Retention runs this often while the engine runs.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// The WAL maintenance tick runs at least this often, whatever else happens (submissions
/// queued while the network is down are checkpointed by this timer).
const WAL_EVERY: Duration = Duration::from_secs(30);
/// After a local error (disk full, database busy), wait this long before trying again.
const LOCAL_ERROR_PAUSE: Duration = Duration::from_secs(5);

/// What one `kiosk sync once` did.
#[derive(Debug, Clone, Serialize)]
pub struct CycleReport {
    #[serde(flatten)]
    pub push: PushReport,
    /// `ok`, or `failed: ...`.
    pub heartbeat: String,
    /// `not_configured`, `not_modified`, what the catalog hook did, or `failed: ...`.
    pub catalog: String,
    /// Acknowledged entries deleted by retention.
    pub purged: usize,
    /// When the head of the outbox will be tried next (RFC 3339), if anything waits.
    pub next_attempt_at: Option<String>,
    pub outbox: OutboxStatus,
}

impl SyncEngine {
    /// One push/pull cycle: send what is due (`force`: everything, ignoring backoff), fetch
    /// the catalog through the hook, send a heartbeat, apply retention.
    pub async fn cycle(&mut self, force: bool) -> CycleReport {
        let purged = self.purge().await;
        let push = self.push(force).await;
        let catalog = self.pull_catalog().await;
        let heartbeat = match self.heartbeat().await {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("failed: {e}"),
        };
        let outbox = self
            .with_store(|s| Ok(crate::outbox::status(s)?))
            .await
            .unwrap_or_default();
        let next_attempt_at = self
            .handle()
            .snapshot()
            .next_attempt_ms
            .and_then(entries::ms_to_rfc3339);
        CycleReport {
            push,
            heartbeat,
            catalog,
            purged,
            next_attempt_at,
            outbox,
        }
    }

    /// `GET /v1/catalog?have=N` through the catalog hook; without a hook, nothing.
    pub async fn pull_catalog(&mut self) -> String {
        let Some(sink) = self.catalog.clone() else {
            return "not_configured".into();
        };
        let s1 = sink.clone();
        let have = self
            .with_store(move |s| s1.lock().unwrap_or_else(|e| e.into_inner()).have_version(s))
            .await;
        let have = match have {
            Ok(h) => h,
            Err(e) => return format!("failed: {e:#}"),
        };
        self.shared.update(|p| p.counters.catalog_checks += 1);
        let answer = match self
            .transport
            .get(&protocol::catalog_path(have), self.max_envelope_bytes)
            .await
        {
            Ok(r) => protocol::decode_catalog_response(r.status, r.body),
            Err(e) => CatalogAnswer::Failed(format!("{e:#}")),
        };
        match answer {
            CatalogAnswer::NotModified => "not_modified".into(),
            CatalogAnswer::Failed(e) => format!("failed: {e}"),
            CatalogAnswer::Envelope(bytes) => {
                let done = self
                    .with_store(move |s| {
                        sink.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .on_envelope(s, &bytes)
                    })
                    .await;
                // A staged catalog is megabytes of WAL: checkpoint it now, not at Home.
                self.maintain_wal().await;
                match done {
                    Ok(what) => what,
                    Err(e) => format!("failed: {e:#}"),
                }
            }
        }
    }

    /// Deletes acknowledged entries past retention.
    pub async fn purge(&mut self) -> usize {
        let days = self.retention_days;
        match self
            .with_store(move |s| Ok(entries::purge_acked(s, days, chrono::Utc::now())?))
            .await
        {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(
                        purged = n,
                        "acknowledged submissions past retention deleted"
                    );
                }
                n
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "retention purge failed");
                0
            }
        }
    }

    /// Runs until [`super::SyncHandle::shutdown`]: pushes whenever the head of the outbox is
    /// due, sends heartbeats, pulls the catalog, applies retention, and sleeps in between,
    /// waking at once on `wake()` or `network_changed()`.
    pub async fn run(mut self) {
        self.shared.update(|p| p.state = SyncState::Idle);
        let mut next_heartbeat = Instant::now();
        let mut next_purge = Instant::now();
        let mut next_wal = Instant::now() + WAL_EVERY;
        let mut pushing_failed = false;
        while !self.is_shutting_down() {
            if self.shared.network_changed.swap(false, Ordering::SeqCst) {
                self.bring_forward("network changed").await;
            }
            if Instant::now() >= next_purge {
                self.purge().await;
                next_purge = Instant::now() + PURGE_EVERY;
            }
            let report = self.push(false).await;
            if report.batches > 0 || !report.errors.is_empty() {
                pushing_failed = !report.errors.is_empty();
            }
            if Instant::now() >= next_wal {
                self.maintain_wal().await;
                next_wal = Instant::now() + WAL_EVERY;
            }
            if let Some(every) = self.heartbeat_every {
                if Instant::now() >= next_heartbeat {
                    let ok = self.heartbeat().await.is_ok();
                    self.pull_catalog().await;
                    next_heartbeat = Instant::now() + every;
                    // The platform answers again after pushes failed: the network is back.
                    if ok && pushing_failed {
                        pushing_failed = false;
                        self.bring_forward("platform reachable again").await;
                        continue;
                    }
                }
            }
            let snapshot = self.handle().snapshot();
            let now = now_ms();
            let mut sleep = self
                .heartbeat_every
                .map(|_| next_heartbeat.saturating_duration_since(Instant::now()))
                .unwrap_or(PURGE_EVERY)
                .min(next_purge.saturating_duration_since(Instant::now()))
                .min(next_wal.saturating_duration_since(Instant::now()));
            if let Some(at) = snapshot.next_attempt_ms {
                sleep = sleep.min(Duration::from_millis((at - now).max(0) as u64));
            }
            if report.local_failure {
                sleep = sleep.max(LOCAL_ERROR_PAUSE);
            }
            if sleep.is_zero() && snapshot.next_attempt_ms.is_some_and(|at| at <= now) {
                // Due now but nothing was sent (e.g. Retry-After still running): avoid a busy
                // loop on clock edges.
                sleep = Duration::from_millis(10);
            }
            tokio::select! {
                _ = self.shared.notify.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
        // Clean shutdown: everything into the database file and the WAL truncated.
        self.maintain_wal_final().await;
        self.shared.update(|p| p.state = SyncState::Stopped);
    }

    /// Makes waiting entries due now (but not before a platform Retry-After).
    async fn bring_forward(&mut self, why: &'static str) {
        let at = now_ms().max(self.retry_after_until_ms);
        match self
            .with_store(move |s| Ok(entries::make_due(s, at)?))
            .await
        {
            Ok(n) => tracing::info!(entries = n, why, "retrying waiting submissions now"),
            Err(e) => tracing::error!(error = %format!("{e:#}"), "cannot bring entries forward"),
        }
    }

    /// Runs the engine on a thread of its own with a single-threaded tokio runtime (for a
    /// caller that is not async, like the UI).
    pub fn spawn_thread(self) -> anyhow::Result<std::thread::JoinHandle<()>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(std::thread::Builder::new()
            .name("kiosk-sync".into())
            .spawn(move || rt.block_on(self.run()))?)
    }
}
