//! Facts only the running app knows (device states and health, the printer's last status,
//! the sync engine's progress, when it started), shared between its threads and written to
//! `<data_dir>/app-state.json` so `kiosk status` in another process can report them.
//!
//! Honesty rules for readers of the file: the facts are as old as `updated_at_ms` says; the
//! app counts as running only while its pid is alive AND the file is fresher than
//! [`STALE_AFTER_MS`] (the app rewrites it every [`WRITE_EVERY`]); a live pid with an old
//! file is reported `unresponsive`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::report::{AppRun, DeviceReport, PrinterReport, SyncReport};
use crate::config::Config;

/// File name under the data folder.
pub const FILE_NAME: &str = "app-state.json";
/// How often the app should call [`SharedFacts::save`].
pub const WRITE_EVERY: Duration = Duration::from_secs(10);
/// Older than this, the facts no longer prove the app is alive.
pub const STALE_AFTER_MS: i64 = 3 * 10_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppFacts {
    pub pid: u32,
    pub started_at_ms: i64,
    pub updated_at_ms: i64,
    pub devices: BTreeMap<String, DeviceReport>,
    pub printer: Option<PrinterReport>,
    pub sync: Option<SyncReport>,
}

impl AppFacts {
    /// Facts of this process, started at `started_at_ms`.
    pub fn new(started_at_ms: i64) -> AppFacts {
        AppFacts {
            pid: std::process::id(),
            started_at_ms,
            updated_at_ms: started_at_ms,
            ..AppFacts::default()
        }
    }
}

pub fn path(config: &Config) -> PathBuf {
    config.data_dir.join(FILE_NAME)
}

/// The app's facts behind a lock, for the UI loop (writer) and the metrics server (reader).
#[derive(Debug, Clone)]
pub struct SharedFacts {
    inner: Arc<Mutex<AppFacts>>,
}

impl SharedFacts {
    pub fn new(facts: AppFacts) -> SharedFacts {
        SharedFacts {
            inner: Arc::new(Mutex::new(facts)),
        }
    }

    /// Changes the facts under the lock (never held across I/O).
    pub fn update(&self, now_ms: i64, f: impl FnOnce(&mut AppFacts)) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g);
        g.updated_at_ms = now_ms;
    }

    pub fn set_device(&self, name: &str, report: DeviceReport, now_ms: i64) {
        self.update(now_ms, |f| {
            f.devices.insert(name.to_string(), report);
        });
    }

    pub fn set_printer(&self, report: PrinterReport, now_ms: i64) {
        self.update(now_ms, |f| f.printer = Some(report));
    }

    pub fn set_sync(&self, report: SyncReport, now_ms: i64) {
        self.update(now_ms, |f| f.sync = Some(report));
    }

    pub fn snapshot(&self) -> AppFacts {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stamps the facts with `now_ms` and writes the state file atomically (temp + rename).
    /// Call it every [`WRITE_EVERY`] from the app's loop: it is the proof of life
    /// `kiosk status` relies on.
    pub fn save(&self, config: &Config, now_ms: i64) -> anyhow::Result<()> {
        let facts = {
            let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            g.updated_at_ms = now_ms;
            g.clone()
        };
        write(config, &facts)
    }
}

pub fn write(config: &Config, facts: &AppFacts) -> anyhow::Result<()> {
    let path = path(config);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(facts)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))
}

/// Reads the state file, if any. A damaged file reads as none (and is logged): the status
/// must still come out.
pub fn read(config: &Config) -> Option<AppFacts> {
    let path = path(config);
    let bytes = std::fs::read(&path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "app state file is unreadable");
            None
        }
    }
}

/// Whether the facts belong to a live app at `now_ms`, given whether their pid is alive.
pub fn judge(facts: &AppFacts, pid_alive: bool, now_ms: i64) -> AppRun {
    if !pid_alive {
        AppRun::NotRunning
    } else if now_ms.saturating_sub(facts.updated_at_ms) > STALE_AFTER_MS {
        AppRun::Unresponsive
    } else {
        AppRun::Running
    }
}

/// Whether a process with this pid exists (signal 0: no signal is sent). EPERM means it
/// exists under another user, which still counts.
pub fn pid_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None) {
        Ok(()) => true,
        Err(e) => e == nix::errno::Errno::EPERM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drivers::device::DeviceState;

    #[test]
    fn facts_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        assert_eq!(read(&config), None);
        let shared = SharedFacts::new(AppFacts::new(1_000));
        shared.set_device(
            "printer",
            DeviceReport {
                state: DeviceState::Error,
                last_error: Some("cover open: close the printer cover".into()),
                health: Some("printer tcp:127.0.0.1:9100: online, paper ok".into()),
                counters: BTreeMap::from([("prints_ok".to_string(), 3)]),
                observed_at_ms: Some(2_000),
            },
            2_000,
        );
        shared.save(&config, 3_000).unwrap();
        let back = read(&config).unwrap();
        assert_eq!(back.updated_at_ms, 3_000);
        assert_eq!(back.pid, std::process::id());
        assert_eq!(back.devices["printer"].state, DeviceState::Error);
        assert_eq!(back, shared.snapshot());
        std::fs::write(path(&config), b"{broken").unwrap();
        assert_eq!(read(&config), None);
    }

    #[test]
    fn a_live_pid_with_old_facts_is_unresponsive_and_a_dead_one_not_running() {
        let f = AppFacts {
            updated_at_ms: 100_000,
            ..AppFacts::default()
        };
        assert_eq!(judge(&f, true, 100_000 + STALE_AFTER_MS), AppRun::Running);
        assert_eq!(
            judge(&f, true, 100_001 + STALE_AFTER_MS),
            AppRun::Unresponsive
        );
        assert_eq!(judge(&f, false, 100_000), AppRun::NotRunning);
        assert!(pid_alive(std::process::id()));
        assert!(!pid_alive(0));
        assert!(!pid_alive(u32::MAX));
    }
}
