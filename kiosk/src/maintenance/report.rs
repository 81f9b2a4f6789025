//! The shape of the kiosk's status: what the diagnostics screen shows, `kiosk status --json`
//! prints and the metrics endpoint exports. Other tools read the JSON: add fields, never
//! rename. Times are Unix milliseconds (`*_ms`) with an RFC 3339 twin (`*_at`) where staff
//! read them. No personal data anywhere.

use std::collections::BTreeMap;

use drivers::device::DeviceState;
use drivers::printer::PrinterStatus;
use serde::{Deserialize, Serialize};

use crate::outbox::OutboxStatus;
use crate::sync::{SyncCounters, SyncProgress, SyncState};

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub kiosk_id: String,
    pub generated_at_ms: i64,
    pub app_version: String,
    /// Whether the kiosk app runs, and where the device and sync facts came from.
    pub app: AppInfo,
    /// Seconds since the app started; `null` when it does not run.
    pub uptime_s: Option<u64>,
    pub maintenance_mode: bool,
    /// By device name (`id_reader`, `printer`, `camera`).
    pub devices: BTreeMap<String, DeviceReport>,
    /// The printer's paper and cover, as last seen.
    pub printer: Option<PrinterReport>,
    pub outbox: OutboxReport,
    pub sync: SyncReport,
    /// The active catalog version (`null` before the first start).
    pub catalog_version: Option<u64>,
    pub catalog: CatalogReport,
    pub network: NetworkReport,
    pub disk: DiskReport,
    /// What staff should look at, in words, most urgent first.
    pub warnings: Vec<String>,
}

impl StatusReport {
    /// Device states in the heartbeat's words (`docs/central-api.md`: `"printer":
    /// "paper_near_end"`): `ok` for idle or busy, else the state; for the printer, a paper or
    /// cover problem wins. The heartbeat takes them through `maintenance::heartbeat`.
    pub fn heartbeat_devices(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .devices
            .iter()
            .map(|(name, d)| {
                let word = match d.state {
                    DeviceState::Idle | DeviceState::Busy => "ok".to_string(),
                    other => other.to_string(),
                };
                (name.clone(), word)
            })
            .collect();
        if let Some(p) = &self.printer {
            let problem = if p.paper == "out" {
                Some("paper_out")
            } else if p.cover_open {
                Some("cover_open")
            } else if p.paper == "near_end" {
                Some("paper_near_end")
            } else {
                None
            };
            if let Some(w) = problem {
                out.insert("printer".into(), w.into());
            }
        }
        out
    }
}

/// `running`: the app's state file is fresh and its process is alive; `unresponsive`: the
/// process is alive but has not written its state for a while (hung; the watchdog will
/// restart it); `not_running`: no state file or no such process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppRun {
    Running,
    Unresponsive,
    NotRunning,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    pub state: AppRun,
    pub pid: Option<u32>,
    pub started_at_ms: Option<i64>,
    /// Age of the facts only the app knows (device states, sync engine): 0 when collected
    /// inside the app, the state file's age otherwise.
    pub facts_age_s: Option<u64>,
    /// `live` (inside the app), `state_file` (`kiosk status` reading the app's file), `none`.
    pub facts_source: &'static str,
}

/// One device as the diagnostics screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceReport {
    pub state: DeviceState,
    pub last_error: Option<String>,
    /// `check_health` text from the last check (`null` when never checked).
    pub health: Option<String>,
    /// Persistent counters (`reads_ok`, `fail_timeout`, ...), since the counters file began.
    pub counters: BTreeMap<String, u64>,
    /// When state and health were observed.
    pub observed_at_ms: Option<i64>,
}

impl DeviceReport {
    /// Reads a device the app holds. Calls `check_health`, which may talk to the device
    /// (the printer answers four status queries): call it from the thread that owns the
    /// device, not from the UI thread.
    pub fn observe(device: &mut dyn drivers::device::Device, now_ms: i64) -> DeviceReport {
        let health = device.check_health();
        DeviceReport {
            state: device.state(),
            last_error: device.last_error(),
            health: Some(health),
            counters: device.counters().values,
            observed_at_ms: Some(now_ms),
        }
    }
}

/// Paper and cover, from the printer's last status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterReport {
    pub online: bool,
    /// `ok`, `near_end`, `out`.
    pub paper: String,
    pub cover_open: bool,
    /// The worst error (`autocutter`, `unrecoverable`, ...), `null` when none.
    pub error: Option<String>,
    pub observed_at_ms: i64,
}

impl PrinterReport {
    pub fn from_status(s: &PrinterStatus, now_ms: i64) -> PrinterReport {
        PrinterReport {
            online: s.online,
            paper: s.paper.to_string(),
            cover_open: s.cover_open,
            error: s.error.map(|e| e.to_string()),
            observed_at_ms: now_ms,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxReport {
    #[serde(flatten)]
    pub counts: OutboxStatus,
    pub quarantined_items: Vec<QuarantinedItem>,
}

/// A quarantined entry with the platform's reason (no personal data: metadata only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantinedItem {
    pub id: String,
    pub seq: u64,
    pub matter_code: String,
    pub created_at: String,
    pub reject_code: Option<String>,
    pub reason: Option<String>,
}

/// Sync as the engine sees it (inside the app) or as the store shows it (`kiosk status`
/// with the app stopped: last acknowledgement, the head entry's error and next attempt).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// A central URL is configured.
    pub configured: bool,
    /// `engine` or `store`.
    pub source: String,
    /// The engine's state (`idle`, `sending`, `backing_off`...); `null` from the store.
    pub state: Option<String>,
    pub last_success_ms: Option<i64>,
    pub last_success_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_ms: Option<i64>,
    pub next_attempt_ms: Option<i64>,
    pub next_attempt_at: Option<String>,
    pub consecutive_failures: Option<u32>,
    /// The engine's counters since it started (`null` from the store).
    pub counters: Option<SyncCountersReport>,
}

/// [`SyncCounters`] in a form that reads back from the app's state file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCountersReport {
    pub batches_ok: u64,
    pub batches_failed: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub retried: u64,
    pub heartbeats_ok: u64,
    pub heartbeats_failed: u64,
    pub bytes_sent: u64,
}

impl From<&SyncCounters> for SyncCountersReport {
    fn from(c: &SyncCounters) -> Self {
        SyncCountersReport {
            batches_ok: c.batches_ok,
            batches_failed: c.batches_failed,
            accepted: c.accepted,
            duplicates: c.duplicates,
            rejected: c.rejected,
            retried: c.retried,
            heartbeats_ok: c.heartbeats_ok,
            heartbeats_failed: c.heartbeats_failed,
            bytes_sent: c.bytes_sent,
        }
    }
}

impl SyncReport {
    /// From the engine's snapshot (`SyncHandle::snapshot()`), inside the app.
    pub fn from_engine(p: &SyncProgress, configured: bool) -> SyncReport {
        let state = match p.state {
            SyncState::Starting => "starting",
            SyncState::Idle => "idle",
            SyncState::Sending => "sending",
            SyncState::BackingOff => "backing_off",
            SyncState::Stopped => "stopped",
        };
        SyncReport {
            configured,
            source: "engine".into(),
            state: Some(state.into()),
            last_success_ms: p.last_success_ms,
            last_success_at: p.last_success_ms.and_then(rfc3339),
            last_error: p.last_error.clone(),
            last_error_ms: p.last_error_ms,
            next_attempt_ms: p.next_attempt_ms,
            next_attempt_at: p.next_attempt_ms.and_then(rfc3339),
            consecutive_failures: Some(p.consecutive_failures),
            counters: Some(SyncCountersReport::from(&p.counters)),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CatalogReport {
    pub version: Option<u64>,
    pub expires_at: Option<String>,
    /// Past its expiry plus the grace: the kiosk serves it, central must publish a new one.
    pub stale: bool,
    pub staged_version: Option<u64>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetworkReport {
    /// Interfaces other than loopback, with the kernel's `operstate`.
    pub interfaces: Vec<InterfaceReport>,
    /// Whether the last contact with the platform worked (`null`: none yet, or no URL).
    pub central_reachable: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceReport {
    pub name: String,
    /// `up`, `down`, `dormant`, `unknown`...
    pub operstate: String,
    pub up: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiskReport {
    pub path: String,
    /// Bytes an unprivileged writer may still use (`f_bavail`).
    pub free_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
}

pub(crate) fn rfc3339(ms: i64) -> Option<String> {
    crate::outbox::entries::ms_to_rfc3339(ms)
}
