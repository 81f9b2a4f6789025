//! The sync engine: claims outbox entries, sends them in batches over mutual TLS and records
//! what the platform answered. The decisions come from `protocol` (bytes to outcomes) and
//! `backoff` (delays); this file moves data between the store, the data key and the network.
//!
//! Crash safety: entries are marked `in_flight` in a committed transaction before a request
//! leaves, and settled in another after the answer. A kill between the two leaves them
//! `in_flight`; they are claimed again first and resent with the same ids, and the platform
//! answers `duplicate` with the first receipt number.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;

use super::backoff::Backoff;
use super::client::Transport;
use super::progress::{Shared, SyncHandle, SyncState};
use super::protocol::{self, ItemOutcome, Outgoing, MAX_BATCH_ITEMS, MAX_REQUEST_BYTES};
use crate::config::Config;
use crate::crypto::DataKey;
use crate::outbox::entries::{self, Claimed, Disposition};
use crate::outbox::SealedPayload;
use crate::store::{now_ms, Store};

/// Largest batch reply read (100 results are a few kilobytes).
const MAX_BATCH_RESPONSE: usize = 4 * 1024 * 1024;

/// Where a catalog pull hands what it fetched (issue 7's catalog update plugs in here).
pub trait CatalogSink: Send {
    /// The version to send as `have=` (the newest installed or staged).
    fn have_version(&mut self, store: &mut Store) -> anyhow::Result<u64>;
    /// A DSSE envelope the platform sent (not yet verified). Returns a short description of
    /// what was done with it, for `kiosk sync once`.
    fn on_envelope(&mut self, store: &mut Store, envelope: &[u8]) -> anyhow::Result<String>;
}

/// A submission the platform rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedItem {
    pub id: String,
    pub seq: u64,
    pub code: String,
    pub reason: String,
}

/// What pushing did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    /// Batch requests sent.
    pub batches: u32,
    /// Submissions sent (counting each send).
    pub sent: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<RejectedItem>,
    /// Submissions put back for a later attempt.
    pub retried: u64,
    pub quarantined_locally: u64,
    pub errors: Vec<String>,
    /// The last `Retry-After` the platform sent, in seconds.
    pub retry_after_s: Option<u64>,
    /// A local error (database, encoding) stopped the push, not the platform.
    #[serde(skip)]
    pub local_failure: bool,
}

impl PushReport {
    fn absorb(&mut self, other: PushReport) {
        self.batches += other.batches;
        self.sent += other.sent;
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.rejected.extend(other.rejected);
        self.retried += other.retried;
        self.quarantined_locally += other.quarantined_locally;
        self.errors.extend(other.errors);
        self.retry_after_s = other.retry_after_s.or(self.retry_after_s);
        self.local_failure |= other.local_failure;
    }
}

/// The engine. Build it with [`SyncEngine::new`], take a [`SyncHandle`], then `run` it on a
/// tokio runtime (or [`SyncEngine::spawn_thread`]).
pub struct SyncEngine {
    pub(super) kiosk_id: String,
    pub(super) batch_size: usize,
    pub(super) heartbeat_every: Option<Duration>,
    pub(super) retention_days: u32,
    pub(super) max_envelope_bytes: usize,
    /// `catalog.expiry_grace_s`, for the heartbeat's staleness.
    pub(super) catalog_grace_s: u64,
    /// The WAL is truncated above this size at a maintenance tick (`store::wal`).
    pub(super) wal_truncate_above: u64,
    pub(super) backoff: Backoff,
    pub(super) transport: Transport,
    pub(super) db: Arc<Mutex<Store>>,
    pub(super) key: Arc<DataKey>,
    pub(super) shared: Arc<Shared>,
    pub(super) rng: StdRng,
    pub(super) catalog: Option<Arc<Mutex<Box<dyn CatalogSink>>>>,
    /// The heartbeat's [ext] maintenance facts (`sync::heartbeat`).
    pub(super) heartbeat_facts: Option<Arc<dyn super::heartbeat::HeartbeatFacts>>,
    pub(super) started: Instant,
    /// The platform asked for quiet until then (ms since the epoch; 0: no request).
    pub(super) retry_after_until_ms: i64,
}

/// How one batch went.
enum Step {
    /// Nothing was due.
    Nothing,
    /// A request (or only local decisions) completed; more may follow.
    Done(PushReport),
    /// The request failed: stop pushing for now.
    Failed(PushReport),
}

impl SyncEngine {
    /// An engine on its own connection to the kiosk's database (open a second `Store` for
    /// it: the session flow keeps its own for enqueueing).
    pub fn new(config: &Config, store: Store, key: Arc<DataKey>) -> anyhow::Result<SyncEngine> {
        let transport = Transport::from_config(config)?;
        Ok(SyncEngine {
            kiosk_id: config.kiosk_id.clone(),
            batch_size: config.sync.batch_size.clamp(1, MAX_BATCH_ITEMS),
            heartbeat_every: (config.sync.heartbeat_s > 0)
                .then(|| Duration::from_secs(config.sync.heartbeat_s)),
            retention_days: config.security.acked_retention_days,
            max_envelope_bytes: config.catalog.max_envelope_bytes.min(usize::MAX as u64) as usize,
            catalog_grace_s: config.catalog.expiry_grace_s,
            wal_truncate_above: crate::store::wal::WAL_TRUNCATE_ABOVE_BYTES,
            backoff: Backoff::from_secs(config.sync.backoff_min_s, config.sync.backoff_max_s),
            transport,
            db: Arc::new(Mutex::new(store)),
            key,
            shared: Arc::new(Shared::new()),
            rng: StdRng::from_entropy(),
            catalog: None,
            // Outside the app the facts come from the app's state file; the app replaces
            // this with its live facts.
            heartbeat_facts: Some(Arc::new(
                crate::maintenance::heartbeat::MaintenanceFacts::from_state_file(config.clone()),
            )),
            started: Instant::now(),
            retry_after_until_ms: 0,
        })
    }

    /// Opens the database and the data key named by the config, then [`SyncEngine::new`].
    pub fn open(config: &Config) -> anyhow::Result<SyncEngine> {
        let store = Store::open(config)?;
        let key = DataKey::load_or_create(&config.data_path(&config.security.data_key_file))?;
        SyncEngine::new(config, store, Arc::new(key))
    }

    pub fn handle(&self) -> SyncHandle {
        SyncHandle {
            shared: self.shared.clone(),
        }
    }

    /// Plugs in the catalog pull (issue 7). Without it, no catalog is fetched.
    pub fn set_catalog_sink(&mut self, sink: Box<dyn CatalogSink>) {
        self.catalog = Some(Arc::new(Mutex::new(sink)));
    }

    /// Makes the backoff jitter reproducible (tests).
    pub fn seed_rng(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// Runs `f` on the engine's database connection off the async threads.
    pub(super) async fn with_store<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> anyhow::Result<T> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = db.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut store)
        })
        .await
        .context("database task failed")?
    }

    /// Sends batch after batch while the head of the outbox is due (`force`: ignore backoff
    /// and Retry-After), until the outbox is drained or a request fails.
    pub async fn push(&mut self, force: bool) -> PushReport {
        let mut report = PushReport::default();
        loop {
            if self.is_shutting_down() {
                break;
            }
            if !force && now_ms() < self.retry_after_until_ms {
                break;
            }
            match self.push_batch(force).await {
                Step::Nothing => break,
                Step::Done(r) => report.absorb(r),
                Step::Failed(r) => {
                    report.absorb(r);
                    break;
                }
            }
        }
        // Settled entries (acknowledged, quarantined or put back after a failure, online or
        // not) were written: move the WAL into the database file now, off the citizen's path.
        if report.batches > 0 || report.quarantined_locally > 0 {
            self.maintain_wal().await;
        }
        self.refresh_waiting().await;
        report
    }

    /// The WAL maintenance tick (`store::wal::maintain`): a passive checkpoint, and a
    /// truncation when the WAL is above the bound. The citizen's connection never
    /// checkpoints, so this (after settling, after staging a catalog, on the idle timer and
    /// at shutdown) is what keeps the WAL bounded, with or without a network.
    pub async fn maintain_wal(&self) -> Option<crate::store::wal::WalReport> {
        let truncate_above = self.wal_truncate_above;
        self.wal_tick(move |s| s.maintain_wal(truncate_above)).await
    }

    /// The shutdown tick: the WAL checkpointed and truncated to zero bytes.
    pub(super) async fn maintain_wal_final(&self) -> Option<crate::store::wal::WalReport> {
        self.wal_tick(|s| s.maintain_wal_final()).await
    }

    async fn wal_tick<F>(&self, tick: F) -> Option<crate::store::wal::WalReport>
    where
        F: FnOnce(&mut Store) -> Result<crate::store::wal::WalReport, crate::store::StoreError>
            + Send
            + 'static,
    {
        let started = Instant::now();
        match self.with_store(move |s| Ok(tick(s)?)).await {
            Ok(r) => {
                let took = started.elapsed().as_millis() as u64;
                self.shared.update(|p| {
                    if !r.skipped {
                        p.counters.wal_checkpoints += 1;
                        p.wal_tick_ms = took;
                    }
                    p.wal_bytes = r.wal_bytes;
                });
                if r.truncated {
                    tracing::info!(
                        frames = r.passive.wal_frames,
                        "WAL checkpointed and truncated"
                    );
                }
                Some(r)
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "WAL checkpoint failed");
                None
            }
        }
    }

    /// The WAL size above which a maintenance tick truncates it (tests use small bounds).
    pub fn set_wal_truncate_above(&mut self, bytes: u64) {
        self.wal_truncate_above = bytes;
    }

    pub(super) fn is_shutting_down(&self) -> bool {
        self.shared
            .shutdown
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn push_batch(&mut self, force: bool) -> Step {
        let limit = self.batch_size;
        let key = self.key.clone();
        let claimed = self
            .with_store(move |s| {
                let claimed = entries::claim_batch(s, limit, now_ms(), force)?;
                Ok(open_claimed(&key, claimed))
            })
            .await;
        let Opened {
            items,
            attempts,
            mut local,
        } = match claimed {
            Ok(c) => c,
            Err(e) => return self.local_failure(format!("cannot read the outbox: {e:#}")),
        };
        if items.is_empty() && local.is_empty() {
            return Step::Nothing;
        }
        self.shared.update(|p| p.state = SyncState::Sending);
        let mut report = PushReport {
            quarantined_locally: local.len() as u64,
            ..PushReport::default()
        };
        let encoded = match protocol::encode_batch(&self.kiosk_id, &items, MAX_REQUEST_BYTES) {
            Ok(e) => e,
            Err(e) => return self.local_failure(format!("cannot encode a batch: {e:#}")),
        };
        for &i in &encoded.too_large {
            report.quarantined_locally += 1;
            local.push((
                items[i].id.clone(),
                Disposition::Quarantined {
                    code: "too_large".into(),
                    reason: format!(
                        "the submission alone exceeds the platform's {MAX_REQUEST_BYTES}-byte request limit"
                    ),
                },
            ));
        }
        for &i in &encoded.unsent {
            local.push((items[i].id.clone(), Disposition::Unsent));
        }
        let sent_ids: Vec<String> = encoded.sent.iter().map(|&i| items[i].id.clone()).collect();
        let seq_of = |id: &str| items.iter().find(|o| o.id == id).map_or(0, |o| o.seq);
        let head_attempts = encoded
            .sent
            .first()
            .and_then(|&i| attempts.get(i).copied())
            .unwrap_or(1);
        let mut failed = false;
        if !sent_ids.is_empty() {
            report.batches = 1;
            report.sent = sent_ids.len() as u64;
            let bytes = encoded.body.len() as u64;
            // The body holds personal data: hand reqwest a copy and wipe ours when dropped.
            let body = encoded.body.to_vec();
            drop(encoded);
            let answer = self
                .transport
                .post_json("/v1/submissions/batch", body, MAX_BATCH_RESPONSE)
                .await;
            let now = chrono::Utc::now();
            let outcome = match answer {
                Ok(r) => protocol::decode_batch_response(
                    &sent_ids,
                    r.status,
                    r.retry_after.as_deref(),
                    &r.body,
                    now,
                ),
                Err(e) => protocol::BatchOutcome::all_unknown(&sent_ids, format!("{e:#}"), None),
            };
            let request_failed = outcome
                .items
                .iter()
                .all(|(_, o)| *o == ItemOutcome::Unknown);
            failed = outcome.error.is_some();
            let delay = self
                .backoff
                .delay(head_attempts, outcome.retry_after, &mut self.rng);
            let next_attempt_ms = now.timestamp_millis() + delay.as_millis() as i64;
            if let Some(ra) = outcome.retry_after {
                report.retry_after_s = Some(ra.as_secs());
                self.retry_after_until_ms = now.timestamp_millis() + ra.as_millis() as i64;
            }
            let error = outcome.error.clone().unwrap_or_default();
            for (id, o) in outcome.items {
                let d = match o {
                    ItemOutcome::Accepted { receipt_no } => {
                        report.accepted += 1;
                        Disposition::Acked { receipt_no }
                    }
                    ItemOutcome::Duplicate { receipt_no } => {
                        report.duplicates += 1;
                        Disposition::Acked { receipt_no }
                    }
                    ItemOutcome::Rejected { code, reason } => {
                        tracing::warn!(submission = %id, code = %code, "platform rejected a submission; quarantined");
                        report.rejected.push(RejectedItem {
                            id: id.clone(),
                            seq: seq_of(&id),
                            code: code.clone(),
                            reason: reason.clone(),
                        });
                        Disposition::Quarantined { code, reason }
                    }
                    ItemOutcome::Unknown => {
                        report.retried += 1;
                        Disposition::Retry {
                            next_attempt_ms,
                            error: error.clone(),
                        }
                    }
                };
                local.push((id, d));
            }
            if failed {
                tracing::warn!(error = %error, retry_in_ms = delay.as_millis() as u64, "batch not acknowledged");
                report.errors.push(error.clone());
            }
            self.shared.update(|p| {
                p.counters.bytes_sent += bytes;
                if request_failed {
                    p.counters.batches_failed += 1;
                    p.consecutive_failures = p.consecutive_failures.saturating_add(1);
                } else {
                    p.counters.batches_ok += 1;
                    p.last_success_ms = Some(now.timestamp_millis());
                    p.consecutive_failures = 0;
                }
                if failed {
                    p.last_error = Some(error.clone());
                    p.last_error_ms = Some(now.timestamp_millis());
                    p.next_attempt_ms = Some(next_attempt_ms);
                }
                if let Some(ra) = outcome.retry_after {
                    p.last_retry_after_s = Some(ra.as_secs());
                    p.retry_after_until_ms = Some(now.timestamp_millis() + ra.as_millis() as i64);
                }
            });
        }
        let to_settle = local;
        if let Err(e) = self
            .with_store(move |s| Ok(entries::settle(s, &to_settle, chrono::Utc::now())?))
            .await
        {
            // The answers are lost with this error; the entries stay in flight and are sent
            // again (the platform deduplicates).
            return self.local_failure(format!("cannot record the platform's answer: {e:#}"));
        }
        self.shared.update(|p| {
            p.counters.accepted += report.accepted;
            p.counters.duplicates += report.duplicates;
            p.counters.rejected += report.rejected.len() as u64;
            p.counters.retried += report.retried;
            p.counters.quarantined_locally += report.quarantined_locally;
        });
        if failed {
            Step::Failed(report)
        } else {
            Step::Done(report)
        }
    }

    /// A local problem (disk full, database busy): recorded, and pushing stops for now.
    fn local_failure(&self, error: String) -> Step {
        tracing::error!(error = %error, "sync stopped by a local error");
        self.shared.update(|p| {
            p.last_error = Some(error.clone());
            p.last_error_ms = Some(now_ms());
        });
        Step::Failed(PushReport {
            errors: vec![error],
            local_failure: true,
            ..PushReport::default()
        })
    }

    /// Counts waiting and quarantined entries and the head's next attempt for the snapshot.
    pub(super) async fn refresh_waiting(&self) {
        let counts = self
            .with_store(|s| {
                let st = crate::outbox::status(s)?;
                let head = entries::head_due_at(s)?;
                Ok((st, head))
            })
            .await;
        if let Ok((st, head)) = counts {
            let retry_after = self.retry_after_until_ms;
            self.shared.update(|p| {
                p.waiting = st.pending + st.in_flight;
                p.quarantined = st.quarantined;
                p.next_attempt_ms = head.map(|h| h.max(retry_after));
                p.state = match head {
                    None => SyncState::Idle,
                    Some(h) if h.max(retry_after) > now_ms() => SyncState::BackingOff,
                    Some(_) => SyncState::Sending,
                };
            });
        }
    }
}

/// Opens the sealed payloads of claimed entries. Entries that cannot be opened (damaged row,
/// wrong key) are quarantined locally instead of blocking the outbox.
fn open_claimed(key: &DataKey, claimed: Vec<Claimed>) -> Opened {
    let mut out = Vec::with_capacity(claimed.len());
    let mut attempts = Vec::with_capacity(claimed.len());
    let mut local = Vec::new();
    for c in claimed {
        let quarantine = |code: &str, reason: &str| Disposition::Quarantined {
            code: code.into(),
            reason: reason.into(),
        };
        let Some(sealed) = c.sealed.as_deref() else {
            local.push((
                c.id.clone(),
                quarantine("payload_missing", "the sealed payload is gone"),
            ));
            continue;
        };
        let payload = key
            .open(c.id.as_bytes(), sealed)
            .ok()
            .and_then(|plain| serde_json::from_slice::<SealedPayload>(&plain).ok());
        let Some(payload) = payload else {
            tracing::error!(submission = %c.id, "sealed payload does not open; quarantined");
            local.push((
                c.id.clone(),
                quarantine(
                    "unreadable",
                    "the sealed payload does not open with this kiosk's data key",
                ),
            ));
            continue;
        };
        attempts.push(c.attempts);
        out.push(Outgoing {
            id: c.id,
            seq: c.seq,
            matter_code: c.matter_code,
            situation: c.situation,
            catalog_version: c.catalog_version,
            created_at: c.created_at,
            payload,
        });
    }
    Opened {
        items: out,
        attempts,
        local,
    }
}

/// Claimed entries opened for sending, how often each has been sent, and the ones decided
/// locally (quarantined because they cannot be opened).
struct Opened {
    items: Vec<Outgoing>,
    attempts: Vec<u32>,
    local: Vec<(String, Disposition)>,
}
