//! The maintenance facts the heartbeat carries to the platform (`docs/central-api.md`,
//! "[ext] Heartbeat maintenance"): the same [`StatusReport`] the diagnostics screen, `kiosk
//! status` and the metrics show, cut down to states, codes, counts and device texts. The
//! catalog's free-text warnings stay home (they may quote catalog content; the heartbeat's
//! `catalog` object carries its codes).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::app_state::{self, SharedFacts};
use super::collect::{build, Facts};
use super::report::{rfc3339, StatusReport};
use crate::config::Config;
use crate::store::Store;
use crate::sync::heartbeat::{HeartbeatFacts, HeartbeatMaintenance};
use crate::sync::protocol::HeartbeatDevice;

impl StatusReport {
    /// The heartbeat's maintenance facts from this report (free texts are scrubbed by the
    /// sync engine when it sends them).
    pub fn heartbeat_maintenance(&self) -> HeartbeatMaintenance {
        let catalog_texts = &self.catalog.warnings;
        HeartbeatMaintenance {
            devices: self.heartbeat_devices(),
            maintenance_mode: self.maintenance_mode,
            in_flight: self.outbox.counts.in_flight,
            disk_free_bytes: self.disk.free_bytes,
            warnings: self
                .warnings
                .iter()
                .filter(|w| !catalog_texts.contains(w))
                .cloned()
                .collect(),
            device_reports: self
                .devices
                .iter()
                .map(|(name, d)| {
                    let report = HeartbeatDevice {
                        state: d.state.to_string(),
                        last_error: d.last_error.clone(),
                        health: d.health.clone(),
                        counters: d.counters.clone(),
                        observed_at: d.observed_at_ms.and_then(rfc3339),
                    };
                    (name.clone(), report)
                })
                .collect::<BTreeMap<_, _>>(),
        }
    }
}

/// The sync engine's [`HeartbeatFacts`]: the running app's live facts, or (any other
/// engine, e.g. `kiosk sync once`) the app's state file, judged as `kiosk status` does.
pub struct MaintenanceFacts {
    config: Config,
    live: Option<SharedFacts>,
    sys_class_net: PathBuf,
}

impl MaintenanceFacts {
    /// Inside the app.
    pub fn live(config: Config, facts: SharedFacts) -> MaintenanceFacts {
        MaintenanceFacts {
            config,
            live: Some(facts),
            sys_class_net: PathBuf::from("/sys/class/net"),
        }
    }

    /// Outside the app: reads `<data_dir>/app-state.json` at every heartbeat.
    pub fn from_state_file(config: Config) -> MaintenanceFacts {
        MaintenanceFacts {
            config,
            live: None,
            sys_class_net: PathBuf::from("/sys/class/net"),
        }
    }
}

impl HeartbeatFacts for MaintenanceFacts {
    fn collect(&self, store: &Store, now_ms: i64) -> anyhow::Result<HeartbeatMaintenance> {
        let facts = match &self.live {
            Some(f) => Facts::Live(f.snapshot()),
            None => Facts::StateFile(app_state::read(&self.config)),
        };
        let report = build(&self.config, store, facts, &self.sys_class_net, now_ms)?;
        Ok(report.heartbeat_maintenance())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maintenance::app_state::AppFacts;
    use crate::maintenance::report::DeviceReport;
    use drivers::device::DeviceState;

    #[test]
    fn live_device_reports_and_maintenance_mode_reach_the_heartbeat_facts() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let mut store = Store::open(&config).unwrap();
        crate::maintenance::mode::set(&mut store, true, 1_000).unwrap();
        let now = crate::store::now_ms();
        let facts = SharedFacts::new(AppFacts::new(now - 5_000));
        facts.set_device(
            "id_reader",
            DeviceReport {
                state: DeviceState::Error,
                last_error: Some("reader lost: Broken pipe".into()),
                health: Some("id_reader: error on /dev/ttyUSB0 at 115200 baud".into()),
                counters: BTreeMap::from([("reads_ok".to_string(), 7)]),
                observed_at_ms: Some(now),
            },
            now,
        );
        let m = MaintenanceFacts::live(config, facts)
            .collect(&store, now)
            .unwrap();
        assert!(m.maintenance_mode);
        assert_eq!(m.devices["id_reader"], "error");
        let r = &m.device_reports["id_reader"];
        assert_eq!(r.state, "error");
        assert_eq!(r.last_error.as_deref(), Some("reader lost: Broken pipe"));
        assert_eq!(r.counters["reads_ok"], 7);
        assert!(r.observed_at.as_deref().is_some_and(|t| t.ends_with('Z')));
        assert!(
            m.warnings
                .iter()
                .any(|w| w.contains("maintenance mode is on")),
            "{:?}",
            m.warnings
        );
        assert!(m.warnings.iter().any(|w| w.starts_with("id_reader:")));
        assert!(m.disk_free_bytes.is_some());
    }
}
