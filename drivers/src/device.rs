//! The device model every driver shares, after UnifiedPOS / CEN-XFS: a device is opened,
//! claimed (exclusive use), enabled, and released; it is in one of four states; it reports
//! status events on a channel; `check_health` returns text for the diagnostics screen; and it
//! keeps persistent counters (reads ok, failures by cause) that survive restarts.
//!
//! Drivers embed a [`DeviceCore`] and implement [`Device`] by delegating to it, so the
//! lifecycle rules live in one place.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The four states of the UnifiedPOS model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Not opened (or closed again).
    Closed,
    /// Opened and ready for the next operation.
    Idle,
    /// An operation is under way.
    Busy,
    /// The last operation failed in a way that needs recovery (reopen, staff).
    Error,
}

impl fmt::Display for DeviceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceState::Closed => "closed",
            DeviceState::Idle => "idle",
            DeviceState::Busy => "busy",
            DeviceState::Error => "error",
        })
    }
}

/// A change worth telling the kiosk about: state changes, card inserted, paper near end...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// The device's name, e.g. `id_reader`.
    pub device: String,
    pub state: DeviceState,
    /// What happened, in words for staff; never personal data.
    pub detail: String,
    #[serde(with = "system_time_secs")]
    pub at: SystemTime,
}

mod system_time_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        s.serialize_f64(secs)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let secs = f64::deserialize(d)?;
        Ok(UNIX_EPOCH + Duration::from_secs_f64(secs.max(0.0)))
    }
}

/// Errors of the lifecycle itself (driver-specific errors wrap their own causes).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LifecycleError {
    #[error("{device}: cannot {action} while {state}")]
    WrongState {
        device: String,
        action: &'static str,
        state: DeviceState,
    },
    #[error("{device}: not claimed; claim the device before enabling it")]
    NotClaimed { device: String },
    #[error("{device}: not enabled")]
    NotEnabled { device: String },
}

/// Counters that survive restarts: `reads_ok`, `fail_timeout`, `fail_checksum`... Keys are
/// the driver's own; the diagnostics screen shows them all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub values: BTreeMap<String, u64>,
}

impl Counters {
    pub fn get(&self, key: &str) -> u64 {
        self.values.get(key).copied().unwrap_or(0)
    }
}

/// Where counters persist. A JSON file per device written atomically (temp file + rename),
/// so a power cut leaves either the old or the new counts, never a torn file.
#[derive(Debug, Clone)]
pub struct CounterFile {
    path: PathBuf,
}

impl CounterFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CounterFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the counts; a missing file is zero counts, a corrupt one is reported and reset
    /// (counters are diagnostics, never worth refusing to start over).
    pub fn load(&self) -> Counters {
        match std::fs::read(&self.path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(path = %self.path.display(), error = %e, "device counter file is corrupt; starting from zero");
                    Counters::default()
                }
            },
            Err(_) => Counters::default(),
        }
    }

    pub fn save(&self, counters: &Counters) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(counters).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, &self.path)
    }
}

/// A shareable handle on a device's counters, so a health thread and the driver see the same.
#[derive(Debug, Clone)]
pub struct SharedCounters {
    inner: Arc<Mutex<Counters>>,
    file: Option<CounterFile>,
}

impl SharedCounters {
    pub fn in_memory() -> Self {
        SharedCounters {
            inner: Arc::new(Mutex::new(Counters::default())),
            file: None,
        }
    }

    pub fn persistent(file: CounterFile) -> Self {
        let counts = file.load();
        SharedCounters {
            inner: Arc::new(Mutex::new(counts)),
            file: Some(file),
        }
    }

    /// Adds one to `key` and persists. A failed save is logged, not fatal: the device works on.
    pub fn incr(&self, key: &str) {
        let snapshot = {
            let mut c = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            *c.values.entry(key.to_string()).or_insert(0) += 1;
            c.clone()
        };
        if let Some(file) = &self.file {
            if let Err(e) = file.save(&snapshot) {
                tracing::warn!(path = %file.path().display(), error = %e, "cannot persist device counters");
            }
        }
    }

    pub fn snapshot(&self) -> Counters {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The lifecycle every device follows. Drivers implement this on top of a [`DeviceCore`].
pub trait Device: Send {
    /// Stable name used in events, health output and counters (`id_reader`, `printer`, `camera`).
    fn name(&self) -> &str;
    /// Opens the transport (port, socket, camera). Closed -> Idle.
    fn open(&mut self) -> anyhow::Result<()>;
    /// Takes exclusive use of an opened device.
    fn claim(&mut self) -> anyhow::Result<()>;
    /// Lets the device deliver data and events. Needs a claim.
    fn enable(&mut self) -> anyhow::Result<()>;
    /// Gives up the claim (and disables); the device stays open.
    fn release(&mut self) -> anyhow::Result<()>;
    /// Closes the transport. Any state -> Closed.
    fn close(&mut self);
    fn state(&self) -> DeviceState;
    /// One paragraph for the diagnostics screen: what the device says about itself now.
    fn check_health(&mut self) -> String;
    fn counters(&self) -> Counters;
    /// The last error in words, if any, for the diagnostics screen.
    fn last_error(&self) -> Option<String>;
}

/// The shared state machine drivers embed. It enforces the order open, claim, enable and
/// sends a [`StatusEvent`] on every state change.
#[derive(Debug)]
pub struct DeviceCore {
    name: String,
    state: DeviceState,
    claimed: bool,
    enabled: bool,
    last_error: Option<String>,
    events: Option<Sender<StatusEvent>>,
    pub counters: SharedCounters,
}

impl DeviceCore {
    pub fn new(name: impl Into<String>, counters: SharedCounters) -> Self {
        DeviceCore {
            name: name.into(),
            state: DeviceState::Closed,
            claimed: false,
            enabled: false,
            last_error: None,
            events: None,
            counters,
        }
    }

    /// Creates the channel the kiosk listens on and returns its receiving end.
    pub fn subscribe(&mut self) -> Receiver<StatusEvent> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.events = Some(tx);
        rx
    }

    /// Sends events to an existing channel (several devices can share one).
    pub fn set_event_sender(&mut self, tx: Sender<StatusEvent>) {
        self.events = Some(tx);
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn state(&self) -> DeviceState {
        self.state
    }

    pub fn is_claimed(&self) -> bool {
        self.claimed
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error.clone()
    }

    /// Sends an event that is not a state change (card inserted, paper near end...).
    pub fn notify(&self, detail: impl Into<String>) {
        if let Some(tx) = &self.events {
            // A receiver that went away is not the device's problem.
            let _ = tx.send(StatusEvent {
                device: self.name.clone(),
                state: self.state,
                detail: detail.into(),
                at: SystemTime::now(),
            });
        }
    }

    fn set_state(&mut self, state: DeviceState, detail: &str) {
        if self.state != state {
            self.state = state;
            self.notify(detail.to_string());
        }
    }

    pub fn opened(&mut self) {
        self.last_error = None;
        self.set_state(DeviceState::Idle, "opened");
    }

    pub fn check_claim(&self) -> Result<(), LifecycleError> {
        match self.state {
            DeviceState::Closed => Err(LifecycleError::WrongState {
                device: self.name.clone(),
                action: "claim",
                state: self.state,
            }),
            _ => Ok(()),
        }
    }

    pub fn claim(&mut self) -> Result<(), LifecycleError> {
        self.check_claim()?;
        self.claimed = true;
        Ok(())
    }

    pub fn enable(&mut self) -> Result<(), LifecycleError> {
        if self.state == DeviceState::Closed {
            return Err(LifecycleError::WrongState {
                device: self.name.clone(),
                action: "enable",
                state: self.state,
            });
        }
        if !self.claimed {
            return Err(LifecycleError::NotClaimed {
                device: self.name.clone(),
            });
        }
        self.enabled = true;
        Ok(())
    }

    pub fn release(&mut self) {
        self.enabled = false;
        self.claimed = false;
    }

    pub fn closed(&mut self) {
        self.enabled = false;
        self.claimed = false;
        self.set_state(DeviceState::Closed, "closed");
    }

    /// Checks the device may run an operation now and marks it busy.
    pub fn begin(&mut self, action: &'static str) -> Result<(), LifecycleError> {
        match self.state {
            DeviceState::Closed | DeviceState::Busy => Err(LifecycleError::WrongState {
                device: self.name.clone(),
                action,
                state: self.state,
            }),
            DeviceState::Idle | DeviceState::Error => {
                if !self.enabled {
                    return Err(LifecycleError::NotEnabled {
                        device: self.name.clone(),
                    });
                }
                self.set_state(DeviceState::Busy, action);
                Ok(())
            }
        }
    }

    /// Ends an operation that succeeded: counts `ok_counter`, back to idle.
    pub fn succeed(&mut self, ok_counter: &str) {
        self.counters.incr(ok_counter);
        self.last_error = None;
        self.set_state(DeviceState::Idle, "done");
    }

    /// Ends an operation that failed with a cause the device recovers from by itself (no card,
    /// timeout): counts `fail_<cause>`, back to idle.
    pub fn fail_recoverable(&mut self, cause: &str, message: impl Into<String>) {
        self.counters.incr(&format!("fail_{cause}"));
        self.last_error = Some(message.into());
        self.set_state(DeviceState::Idle, cause);
    }

    /// Ends an operation that failed so the device needs recovery (port gone, cover open):
    /// counts `fail_<cause>`, state error.
    pub fn fail(&mut self, cause: &str, message: impl Into<String>) {
        self.counters.incr(&format!("fail_{cause}"));
        let message = message.into();
        self.last_error = Some(message.clone());
        self.set_state(DeviceState::Error, &message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_order_is_enforced() {
        let mut core = DeviceCore::new("printer", SharedCounters::in_memory());
        let rx = core.subscribe();
        assert!(core.claim().is_err(), "claim before open");
        core.opened();
        assert_eq!(core.state(), DeviceState::Idle);
        assert!(matches!(
            core.enable(),
            Err(LifecycleError::NotClaimed { .. })
        ));
        assert!(matches!(
            core.begin("print"),
            Err(LifecycleError::NotEnabled { .. })
        ));
        core.claim().unwrap();
        core.enable().unwrap();
        core.begin("print").unwrap();
        assert_eq!(core.state(), DeviceState::Busy);
        assert!(
            core.begin("print").is_err(),
            "busy devices take no second job"
        );
        core.fail("cover_open", "cover open");
        assert_eq!(core.state(), DeviceState::Error);
        assert_eq!(core.last_error().as_deref(), Some("cover open"));
        core.begin("print").unwrap();
        core.succeed("prints_ok");
        assert_eq!(core.last_error(), None);
        core.closed();
        let states: Vec<DeviceState> = rx.try_iter().map(|e| e.state).collect();
        assert_eq!(
            states,
            vec![
                DeviceState::Idle,
                DeviceState::Busy,
                DeviceState::Error,
                DeviceState::Busy,
                DeviceState::Idle,
                DeviceState::Closed
            ]
        );
        let c = core.counters.snapshot();
        assert_eq!(c.get("prints_ok"), 1);
        assert_eq!(c.get("fail_cover_open"), 1);
    }

    #[test]
    fn counters_persist_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let file = CounterFile::new(dir.path().join("counters/id_reader.json"));
        let c = SharedCounters::persistent(file.clone());
        c.incr("reads_ok");
        c.incr("reads_ok");
        c.incr("fail_timeout");
        let again = SharedCounters::persistent(file);
        assert_eq!(again.snapshot().get("reads_ok"), 2);
        assert_eq!(again.snapshot().get("fail_timeout"), 1);
    }

    #[test]
    fn corrupt_counter_file_starts_from_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(&path, b"{not json").unwrap();
        let c = SharedCounters::persistent(CounterFile::new(&path));
        assert_eq!(c.snapshot(), Counters::default());
    }
}
