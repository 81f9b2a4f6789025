//! What the sync engine shares with the rest of the kiosk: a cheap, cloneable [`SyncHandle`]
//! that any thread (the UI's included) can call without blocking: wake the engine after a
//! submission, tell it the network changed, set device states for the heartbeat, read a
//! snapshot of progress for the diagnostics screen.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::Notify;

/// Counters since the engine started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncCounters {
    /// Batch requests that got a 200.
    pub batches_ok: u64,
    /// Batch requests that failed (no answer, 5xx, 4xx).
    pub batches_failed: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Submissions put back for another attempt.
    pub retried: u64,
    /// Submissions quarantined locally (unreadable, too large).
    pub quarantined_locally: u64,
    pub heartbeats_ok: u64,
    pub heartbeats_failed: u64,
    pub catalog_checks: u64,
    pub bytes_sent: u64,
    /// WAL maintenance ticks run (`store::wal`).
    pub wal_checkpoints: u64,
}

/// What the engine is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Not started yet.
    #[default]
    Starting,
    /// Nothing to send.
    Idle,
    Sending,
    /// Waiting for the next attempt after a failure.
    BackingOff,
    Stopped,
}

/// A snapshot for the diagnostics screen. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncProgress {
    pub state: SyncState,
    /// Last batch the platform answered with 200.
    pub last_success_ms: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_ms: Option<i64>,
    /// When the head of the outbox will be tried next (None: nothing waiting).
    pub next_attempt_ms: Option<i64>,
    /// The platform asked not to be contacted before this (Retry-After).
    pub retry_after_until_ms: Option<i64>,
    /// The last `Retry-After` received, in seconds.
    pub last_retry_after_s: Option<u64>,
    pub consecutive_failures: u32,
    pub last_heartbeat_ms: Option<i64>,
    /// Entries waiting (pending or in flight) when last counted.
    pub waiting: u64,
    pub quarantined: u64,
    /// Size of the database's WAL file after the last maintenance tick, in bytes.
    pub wal_bytes: u64,
    /// How long the last maintenance tick that did something took, in milliseconds.
    pub wal_tick_ms: u64,
    pub counters: SyncCounters,
}

pub(crate) struct Shared {
    pub notify: Notify,
    pub progress: Mutex<SyncProgress>,
    pub network_changed: AtomicBool,
    pub shutdown: AtomicBool,
    pub devices: Mutex<BTreeMap<String, String>>,
}

impl Shared {
    pub fn new() -> Shared {
        Shared {
            notify: Notify::new(),
            progress: Mutex::new(SyncProgress::default()),
            network_changed: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            devices: Mutex::new(BTreeMap::new()),
        }
    }

    /// Updates the progress under its lock (never held across an await).
    pub fn update(&self, f: impl FnOnce(&mut SyncProgress)) {
        let mut p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut p);
    }
}

/// The engine's remote control. Clone freely; every method returns at once.
#[derive(Clone)]
pub struct SyncHandle {
    pub(crate) shared: Arc<Shared>,
}

impl SyncHandle {
    /// A submission was queued: look at the outbox now (a head in backoff still waits).
    pub fn wake(&self) {
        self.shared.notify.notify_one();
    }

    /// The network came back (or changed): retry waiting entries now instead of at the end
    /// of their backoff. A platform `Retry-After` is still honoured.
    pub fn network_changed(&self) {
        self.shared.network_changed.store(true, Ordering::SeqCst);
        self.shared.notify.notify_one();
    }

    /// Device states for the heartbeat, e.g. `printer` -> `paper_near_end`.
    pub fn set_device_state(&self, device: &str, state: &str) {
        let mut d = self
            .shared
            .devices
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        d.insert(device.to_string(), state.to_string());
    }

    pub fn snapshot(&self) -> SyncProgress {
        self.shared
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Asks the engine's `run` loop to return (after the request in progress, if any).
    pub fn shutdown(&self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.notify.notify_one();
    }
}
