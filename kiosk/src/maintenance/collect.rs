//! Builds a [`StatusReport`] from its sources: the store (outbox, catalog, maintenance mode,
//! sync as recorded), the device counter files, the machine (disk, interfaces) and the app's
//! own facts, live inside the app or from its state file outside it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use drivers::device::{CounterFile, DeviceState};
use rusqlite::OptionalExtension;

use super::app_state::{self, AppFacts, SharedFacts};
use super::report::*;
use super::{host, mode};
use crate::config::Config;
use crate::outbox::{self, entries, EntryState};
use crate::store::Store;

/// Free space under which the report warns (SQLite needs room to write a submission).
pub const DISK_LOW_BYTES: u64 = 1024 * 1024 * 1024;
/// Age of the oldest unsent submission past which the report warns.
pub const BACKLOG_WARN_S: u64 = 3600;

/// Where a device's persistent counters live: `<data_dir>/counters/<device>.json`. The app
/// gives each driver `SharedCounters::persistent(counter_file(&config, "printer"))`, and
/// `kiosk status` reads the same files while the app is stopped.
pub fn counter_file(config: &Config, device: &str) -> CounterFile {
    CounterFile::new(counters_dir(config).join(format!("{device}.json")))
}

fn counters_dir(config: &Config) -> PathBuf {
    config.data_dir.join("counters")
}

/// Where the app's own facts come from.
pub enum Facts {
    /// Inside the app, as they are now.
    Live(AppFacts),
    /// Outside the app: its state file, if one was found.
    StateFile(Option<AppFacts>),
}

/// Collects reports again and again from one store connection: for the diagnostics screen,
/// the metrics endpoint and `kiosk status`.
pub struct StatusCollector {
    config: Config,
    store: Mutex<Store>,
    live: Option<SharedFacts>,
    sys_class_net: PathBuf,
}

impl StatusCollector {
    /// Inside the app: device and sync facts come from `facts`, which the app keeps current.
    pub fn live(config: Config, store: Store, facts: SharedFacts) -> StatusCollector {
        StatusCollector {
            config,
            store: Mutex::new(store),
            live: Some(facts),
            sys_class_net: PathBuf::from("/sys/class/net"),
        }
    }

    /// Outside the app: reads the app's state file at every collection.
    pub fn offline(config: Config, store: Store) -> StatusCollector {
        StatusCollector {
            config,
            store: Mutex::new(store),
            live: None,
            sys_class_net: PathBuf::from("/sys/class/net"),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The report at `now_ms` (Unix milliseconds).
    pub fn collect(&self, now_ms: i64) -> anyhow::Result<StatusReport> {
        let facts = match &self.live {
            Some(f) => Facts::Live(f.snapshot()),
            None => Facts::StateFile(app_state::read(&self.config)),
        };
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        build(&self.config, &store, facts, &self.sys_class_net, now_ms)
    }
}

/// One report. `sys_class_net` is normally `/sys/class/net`.
pub fn build(
    config: &Config,
    store: &Store,
    facts: Facts,
    sys_class_net: &Path,
    now_ms: i64,
) -> anyhow::Result<StatusReport> {
    let (app, facts) = app_info(facts, now_ms);
    let running = app.state != AppRun::NotRunning;

    let mut devices = facts
        .as_ref()
        .map(|f| f.devices.clone())
        .unwrap_or_default();
    if !running {
        // No process holds the devices; what they last said stays, with its time.
        for d in devices.values_mut() {
            d.state = DeviceState::Closed;
        }
    }
    if app.facts_source != "live" {
        merge_counter_files(&counters_dir(config), &mut devices);
    }

    let configured = !config.central.url.trim().is_empty();
    let sync = match facts.as_ref().and_then(|f| f.sync.clone()) {
        Some(s) if running => s,
        _ => sync_from_store(store, configured)?,
    };

    let counts = outbox::status(store)?;
    let quarantined_items = entries::list(store, Some(EntryState::Quarantined), 1000)?
        .into_iter()
        .map(|e| QuarantinedItem {
            id: e.id,
            seq: e.seq,
            matter_code: e.matter_code,
            created_at: e.created_at,
            reject_code: e.reject_code,
            reason: e.last_error,
        })
        .collect();

    let now = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(now_ms)
        .ok_or_else(|| anyhow::anyhow!("the clock is out of range ({now_ms} ms)"))?;
    let health = crate::catalog::update::catalog_health(store, now, config.catalog.expiry_grace_s)?;
    let catalog = CatalogReport {
        version: health.version,
        expires_at: health.expires_at.clone(),
        stale: health.stale,
        staged_version: health.staged_version,
        warnings: health.warnings(),
    };

    let network = NetworkReport {
        interfaces: host::interfaces(sys_class_net),
        central_reachable: reachable(&sync),
    };
    let mut report = StatusReport {
        kiosk_id: config.kiosk_id.clone(),
        generated_at_ms: now_ms,
        app_version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_s: match (running, app.started_at_ms) {
            (true, Some(t)) => Some(u64::try_from((now_ms - t) / 1000).unwrap_or(0)),
            _ => None,
        },
        app,
        maintenance_mode: mode::get(store)?.on,
        devices,
        printer: facts.and_then(|f| f.printer),
        outbox: OutboxReport {
            counts,
            quarantined_items,
        },
        sync,
        catalog_version: catalog.version,
        catalog,
        network,
        disk: host::disk(&config.data_dir),
        warnings: Vec::new(),
    };
    report.warnings = super::warnings::of(&report);
    Ok(report)
}

fn app_info(facts: Facts, now_ms: i64) -> (AppInfo, Option<AppFacts>) {
    match facts {
        Facts::Live(f) => (
            AppInfo {
                state: AppRun::Running,
                pid: Some(f.pid),
                started_at_ms: Some(f.started_at_ms),
                facts_age_s: Some(0),
                facts_source: "live",
            },
            Some(f),
        ),
        Facts::StateFile(Some(f)) => {
            let state = app_state::judge(&f, app_state::pid_alive(f.pid), now_ms);
            (
                AppInfo {
                    state,
                    pid: Some(f.pid),
                    started_at_ms: Some(f.started_at_ms),
                    facts_age_s: Some(
                        u64::try_from((now_ms - f.updated_at_ms) / 1000).unwrap_or(0),
                    ),
                    facts_source: "state_file",
                },
                Some(f),
            )
        }
        Facts::StateFile(None) => (
            AppInfo {
                state: AppRun::NotRunning,
                pid: None,
                started_at_ms: None,
                facts_age_s: None,
                facts_source: "none",
            },
            None,
        ),
    }
}

/// Counter files are written at every count, so they are fresher than any state file.
fn merge_counter_files(dir: &Path, devices: &mut BTreeMap<String, DeviceReport>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        if path.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        let Some(name) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let counters = CounterFile::new(&path).load().values;
        devices
            .entry(name)
            .and_modify(|d| d.counters = counters.clone())
            .or_insert(DeviceReport {
                state: DeviceState::Closed,
                last_error: None,
                health: None,
                counters,
                observed_at_ms: None,
            });
    }
}

/// Sync as the store records it: the newest acknowledgement, and the head entry's last
/// error and next attempt.
fn sync_from_store(store: &Store, configured: bool) -> anyhow::Result<SyncReport> {
    let conn = store.conn();
    let last_acked: Option<String> = conn.query_row(
        "SELECT MAX(acked_at) FROM submissions WHERE acked_at IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    let last_success_ms = last_acked
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.timestamp_millis());
    let head: Option<(Option<String>, i64, i64)> = conn
        .query_row(
            "SELECT last_error, updated_ms, next_attempt_ms FROM outbox
             WHERE state IN ('pending', 'in_flight') ORDER BY seq LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (last_error, last_error_ms, next_attempt_ms) = match head {
        Some((Some(e), at, next)) => (Some(e), Some(at), Some(next)),
        Some((None, _, next)) => (None, None, Some(next)),
        None => (None, None, None),
    };
    Ok(SyncReport {
        configured,
        source: "store".into(),
        state: None,
        last_success_ms,
        last_success_at: last_success_ms.and_then(rfc3339),
        last_error,
        last_error_ms,
        next_attempt_ms,
        next_attempt_at: next_attempt_ms.and_then(rfc3339),
        consecutive_failures: None,
        counters: None,
    })
}

/// The last contact decides: a success newer than the last error means reachable.
fn reachable(sync: &SyncReport) -> Option<bool> {
    if !sync.configured {
        return None;
    }
    match (sync.last_success_ms, sync.last_error_ms) {
        (Some(ok), Some(err)) => Some(ok >= err),
        (Some(_), None) => Some(true),
        (None, Some(_)) => Some(false),
        (None, None) => None,
    }
}

#[cfg(test)]
#[path = "collect_tests.rs"]
mod tests;
