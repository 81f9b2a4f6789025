//! `POST /v1/heartbeat`: the contract's counts, versions and device states, plus the
//! optional `[ext]` objects of `docs/central-api.md`: the catalog's health ("Heartbeat
//! catalog") and the maintenance facts ("Heartbeat maintenance": maintenance mode, in-flight
//! count, free disk, warnings, each device's state, last error, health text and counters).
//!
//! The maintenance facts come through a [`HeartbeatFacts`] hook run on the engine's store
//! connection: the app plugs in its live facts, every other engine (`kiosk sync once|run`)
//! reads the app's state file (`maintenance::heartbeat`). Free texts leave the kiosk only
//! through [`scrub`]: bounded, with anything shaped like an ID number blanked.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::engine::SyncEngine;
use super::protocol::{self, Heartbeat, HeartbeatDevice, HeartbeatOutbox};
use crate::catalog::update::{self, HeartbeatCatalog};
use crate::store::{now_ms, CatalogSlot, Store};

/// The heartbeat reply is `{}`.
const MAX_SMALL_RESPONSE: usize = 64 * 1024;
/// A free text in the heartbeat is cut to this many characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// At most this many warnings travel (the most urgent come first).
pub const MAX_WARNINGS: usize = 20;
/// A run of this many digits or more is blanked: ID numbers have 18 (or 17 and an `X`),
/// while the device texts' own numbers (ports, bauds, counts, SAM ids in groups of ten)
/// are shorter.
const LONG_DIGIT_RUN: usize = 15;

/// The maintenance facts of one heartbeat, as the kiosk knows them now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatMaintenance {
    /// The contract's `devices`: `ok`, `closed`, `error`, `paper_out`...
    pub devices: BTreeMap<String, String>,
    pub maintenance_mode: bool,
    pub in_flight: u64,
    pub disk_free_bytes: Option<u64>,
    pub warnings: Vec<String>,
    pub device_reports: BTreeMap<String, HeartbeatDevice>,
}

/// Where the engine gets the maintenance facts from. Runs on the engine's database thread
/// with its connection.
pub trait HeartbeatFacts: Send + Sync {
    fn collect(&self, store: &Store, now_ms: i64) -> anyhow::Result<HeartbeatMaintenance>;
}

/// Bounds a free text for the heartbeat and blanks any run of 15 or more digits (with an
/// `X` that follows it): whatever a device or the network said, nothing shaped like an ID
/// number leaves the kiosk.
pub fn scrub(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len().min(MAX_TEXT_CHARS * 3));
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i - start >= LONG_DIGIT_RUN {
                if i < chars.len() && matches!(chars[i], 'X' | 'x') {
                    i += 1;
                }
                out.push('#');
            } else {
                out.extend(&chars[start..i]);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    if out.chars().count() > MAX_TEXT_CHARS {
        let mut cut: String = out.chars().take(MAX_TEXT_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        out
    }
}

/// Fills the heartbeat's `[ext]` maintenance fields. The facts' device words win over the
/// ones set with `SyncHandle::set_device_state` (they come from the devices' own reports);
/// devices only the latter know stay.
pub fn apply(hb: &mut Heartbeat, m: HeartbeatMaintenance) {
    for (name, word) in m.devices {
        hb.devices.insert(name, word);
    }
    hb.outbox.in_flight = Some(m.in_flight);
    hb.maintenance_mode = Some(m.maintenance_mode);
    hb.disk_free_bytes = m.disk_free_bytes;
    hb.warnings = Some(
        m.warnings
            .iter()
            .take(MAX_WARNINGS)
            .map(|w| scrub(w))
            .collect(),
    );
    hb.device_reports = Some(
        m.device_reports
            .into_iter()
            .map(|(name, d)| {
                let d = HeartbeatDevice {
                    last_error: d.last_error.as_deref().map(scrub),
                    health: d.health.as_deref().map(scrub),
                    ..d
                };
                (name, d)
            })
            .collect(),
    );
}

impl SyncEngine {
    /// Replaces where the heartbeat's maintenance facts come from (the app: its live facts).
    /// `None`: heartbeats carry only the contract's fields and the catalog object.
    pub fn set_heartbeat_facts(&mut self, facts: Option<Arc<dyn HeartbeatFacts>>) {
        self.heartbeat_facts = facts;
    }

    /// `POST /v1/heartbeat` with counts, versions, codes and device states only.
    pub async fn heartbeat(&mut self) -> Result<(), String> {
        let grace_s = self.catalog_grace_s;
        let hook = self.heartbeat_facts.clone();
        let facts = self
            .with_store(move |s| {
                let st = crate::outbox::status(s)?;
                let catalog = s.catalog_info(CatalogSlot::Active)?.map_or(0, |r| r.version);
                // [ext] staleness, staged version, last rollback and refusal (no free text).
                let health = match update::catalog_health(s, chrono::Utc::now(), grace_s) {
                    Ok(h) => Some(HeartbeatCatalog::from(&h)),
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "catalog health unreadable; heartbeat sent without it");
                        None
                    }
                };
                // [ext] maintenance facts; the heartbeat still goes without them.
                let maintenance = hook.and_then(|h| match h.collect(s, now_ms()) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "maintenance facts unreadable; heartbeat sent without them");
                        None
                    }
                });
                Ok((st, catalog, health, maintenance))
            })
            .await;
        let (st, catalog_version, catalog, maintenance) = facts.map_err(|e| format!("{e:#}"))?;
        let devices = self
            .shared
            .devices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut hb = Heartbeat {
            kiosk_id: self.kiosk_id.clone(),
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            catalog_version,
            outbox: HeartbeatOutbox {
                pending: st.pending + st.in_flight,
                quarantined: st.quarantined,
                oldest_pending_s: st.oldest_pending_s,
                in_flight: None,
            },
            devices,
            uptime_s: self.started.elapsed().as_secs(),
            catalog,
            maintenance_mode: None,
            disk_free_bytes: None,
            warnings: None,
            device_reports: None,
        };
        if let Some(m) = maintenance {
            apply(&mut hb, m);
        }
        let body = protocol::encode_heartbeat(&hb).map_err(|e| e.to_string())?;
        let result = match self
            .transport
            .post_json("/v1/heartbeat", body, MAX_SMALL_RESPONSE)
            .await
        {
            Ok(r) => protocol::decode_heartbeat_response(
                r.status,
                r.retry_after.as_deref(),
                &r.body,
                chrono::Utc::now(),
            )
            .map_err(|(e, _)| e),
            Err(e) => Err(format!("{e:#}")),
        };
        self.shared.update(|p| match &result {
            Ok(()) => {
                p.counters.heartbeats_ok += 1;
                p.last_heartbeat_ms = Some(now_ms());
            }
            Err(_) => p.counters.heartbeats_failed += 1,
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_blanks_id_shaped_runs_and_bounds_the_text() {
        assert_eq!(
            scrub("card 11010519491231002X refused"),
            "card # refused",
            "17 digits and an X"
        );
        assert_eq!(scrub("id 320124198808240056."), "id #.");
        // A device's own numbers stay: ports, bauds, counts, SAM ids in groups.
        let health = "id_reader: idle on /dev/ttyUSB0 at 115200 baud; SAM id 05.01-20101119-0000000001-1234567890; reads ok 12";
        assert_eq!(scrub(health), health);
        let long = "é".repeat(500);
        let cut = scrub(&long);
        assert_eq!(cut.chars().count(), MAX_TEXT_CHARS);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn apply_fills_the_ext_fields_and_lets_device_reports_win() {
        let mut hb = Heartbeat {
            kiosk_id: "XH-0001".into(),
            app_version: "0.3.0".into(),
            catalog_version: 1,
            outbox: HeartbeatOutbox {
                pending: 3,
                quarantined: 1,
                oldest_pending_s: Some(5),
                in_flight: None,
            },
            devices: BTreeMap::from([
                ("id_reader".to_string(), "ready".to_string()),
                ("camera".to_string(), "ok".to_string()),
            ]),
            uptime_s: 9,
            catalog: None,
            maintenance_mode: None,
            disk_free_bytes: None,
            warnings: None,
            device_reports: None,
        };
        let warnings: Vec<String> = (0..30).map(|i| format!("warning {i}")).collect();
        apply(
            &mut hb,
            HeartbeatMaintenance {
                devices: BTreeMap::from([("id_reader".to_string(), "error".to_string())]),
                maintenance_mode: true,
                in_flight: 2,
                disk_free_bytes: Some(1 << 30),
                warnings,
                device_reports: BTreeMap::from([(
                    "id_reader".to_string(),
                    HeartbeatDevice {
                        state: "error".into(),
                        last_error: Some("reader lost: 110105194912310021".into()),
                        health: None,
                        counters: BTreeMap::from([("reads_ok".to_string(), 4)]),
                        observed_at: None,
                    },
                )]),
            },
        );
        assert_eq!(hb.devices["id_reader"], "error");
        assert_eq!(hb.devices["camera"], "ok");
        assert_eq!(hb.outbox.in_flight, Some(2));
        assert_eq!(hb.maintenance_mode, Some(true));
        assert_eq!(hb.warnings.as_ref().unwrap().len(), MAX_WARNINGS);
        let reports = hb.device_reports.as_ref().unwrap();
        assert_eq!(
            reports["id_reader"].last_error.as_deref(),
            Some("reader lost: #")
        );
        let body = String::from_utf8(protocol::encode_heartbeat(&hb).unwrap()).unwrap();
        assert!(!body.contains("110105194912310021"), "{body}");
    }
}
