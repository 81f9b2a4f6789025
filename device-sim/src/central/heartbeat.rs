//! What the platform makes of a heartbeat (`docs/central-api.md`): the checks of the
//! optional `[ext]` objects ("Heartbeat catalog", "Heartbeat maintenance"), and
//! [`KioskSeen`], a kiosk as its last heartbeat described it, shown by
//! `device-sim central stats --json` under `kiosks.<id>`.
//!
//! Every `[ext]` member is optional and may be null; unknown members are ignored (later
//! kiosks may add more); a member of the wrong type is refused with its name.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// A kiosk as its last heartbeat described it. The `catalog_*` fields come from the
/// optional `catalog` object, the maintenance fields from the "Heartbeat maintenance"
/// members; `None` (or empty) when the kiosk did not send them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KioskSeen {
    pub heartbeats: u64,
    pub last_heartbeat_at: String,
    pub app_version: Option<String>,
    pub uptime_s: Option<u64>,
    pub catalog_version: Option<u64>,
    pub catalog_stale: Option<bool>,
    pub catalog_expires_at: Option<String>,
    pub catalog_staged_version: Option<u64>,
    pub catalog_rollback_failed_version: Option<u64>,
    pub catalog_last_refusal: Vec<String>,
    pub outbox_pending: Option<u64>,
    pub outbox_in_flight: Option<u64>,
    pub outbox_quarantined: Option<u64>,
    pub outbox_oldest_pending_s: Option<u64>,
    pub maintenance_mode: Option<bool>,
    pub disk_free_bytes: Option<u64>,
    pub warnings: Vec<String>,
    /// The contract's `devices`: name -> `ok`, `paper_near_end`...
    pub devices: BTreeMap<String, String>,
    /// The `[ext]` `device_reports`: state, last error, health text, counters.
    pub device_reports: BTreeMap<String, SeenDevice>,
}

/// One device of the `[ext]` `device_reports`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeenDevice {
    pub state: String,
    pub last_error: Option<String>,
    pub health: Option<String>,
    pub counters: BTreeMap<String, u64>,
    pub observed_at: Option<String>,
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn texts(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn counts(v: Option<&Value>) -> BTreeMap<String, u64> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_u64().map(|n| (k.clone(), n)))
                .collect()
        })
        .unwrap_or_default()
}

impl KioskSeen {
    pub fn from_heartbeat(body: &Value, heartbeats: u64, at: String) -> KioskSeen {
        let c = body.get("catalog");
        let field = |k: &str| c.and_then(|c| c.get(k));
        let outbox = |k: &str| body.get("outbox").and_then(|o| o.get(k));
        KioskSeen {
            heartbeats,
            last_heartbeat_at: at,
            app_version: text(body.get("app_version")),
            uptime_s: body.get("uptime_s").and_then(Value::as_u64),
            catalog_version: body.get("catalog_version").and_then(Value::as_u64),
            catalog_stale: field("stale").and_then(Value::as_bool),
            catalog_expires_at: text(field("expires_at")),
            catalog_staged_version: field("staged_version").and_then(Value::as_u64),
            catalog_rollback_failed_version: field("last_rollback")
                .and_then(|r| r.get("failed_version"))
                .and_then(Value::as_u64),
            catalog_last_refusal: texts(field("last_refusal")),
            outbox_pending: outbox("pending").and_then(Value::as_u64),
            outbox_in_flight: outbox("in_flight").and_then(Value::as_u64),
            outbox_quarantined: outbox("quarantined").and_then(Value::as_u64),
            outbox_oldest_pending_s: outbox("oldest_pending_s").and_then(Value::as_u64),
            maintenance_mode: body.get("maintenance_mode").and_then(Value::as_bool),
            disk_free_bytes: body.get("disk_free_bytes").and_then(Value::as_u64),
            warnings: texts(body.get("warnings")),
            devices: body
                .get("devices")
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            device_reports: body
                .get("device_reports")
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .map(|(name, d)| {
                            let seen = SeenDevice {
                                state: text(d.get("state")).unwrap_or_default(),
                                last_error: text(d.get("last_error")),
                                health: text(d.get("health")),
                                counters: counts(d.get("counters")),
                                observed_at: text(d.get("observed_at")),
                            };
                            (name.clone(), seen)
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

type Check = fn(&Value) -> bool;

/// `key` of `obj` is missing, null or passes `ok`.
fn optional(obj: &serde_json::Map<String, Value>, key: &str, ok: Check) -> Result<(), String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(v) if ok(v) => Ok(()),
        Some(_) => Err(format!("'{key}' has the wrong type")),
    }
}

fn strings(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
}

/// The heartbeat's optional `catalog` object, checked field by field.
pub fn check_catalog(c: &Value) -> Result<(), String> {
    let Some(obj) = c.as_object() else {
        return Err("must be an object".into());
    };
    optional(obj, "stale", Value::is_boolean)?;
    optional(obj, "expires_at", Value::is_string)?;
    optional(obj, "staged_version", Value::is_u64)?;
    optional(obj, "last_rollback", Value::is_object)?;
    optional(obj, "last_refusal", strings)?;
    if let Some(r) = obj.get("last_rollback").and_then(Value::as_object) {
        if !r.get("failed_version").is_some_and(Value::is_u64) {
            return Err("'last_rollback.failed_version' is missing or not a number".into());
        }
    }
    Ok(())
}

/// The "Heartbeat maintenance" members of a heartbeat `body` (an object whose contract
/// fields were already checked): `maintenance_mode`, `disk_free_bytes`, `warnings`,
/// `outbox.in_flight` and `device_reports`.
pub fn check_maintenance(body: &Value) -> Result<(), String> {
    let Some(obj) = body.as_object() else {
        return Err("the heartbeat must be an object".into());
    };
    optional(obj, "maintenance_mode", Value::is_boolean)?;
    optional(obj, "disk_free_bytes", Value::is_u64)?;
    optional(obj, "warnings", strings)?;
    optional(obj, "device_reports", Value::is_object)?;
    if let Some(outbox) = obj.get("outbox").and_then(Value::as_object) {
        optional(outbox, "in_flight", Value::is_u64).map_err(|e| format!("outbox: {e}"))?;
    }
    let reports = obj.get("device_reports").and_then(Value::as_object);
    for (name, d) in reports.into_iter().flatten() {
        let Some(d) = d.as_object() else {
            return Err(format!("device_reports.{name} must be an object"));
        };
        let fail = |e: String| format!("device_reports.{name}: {e}");
        if !d.get("state").is_some_and(Value::is_string) {
            return Err(fail("'state' is missing or not a string".into()));
        }
        optional(d, "last_error", Value::is_string).map_err(fail)?;
        optional(d, "health", Value::is_string).map_err(fail)?;
        optional(d, "observed_at", Value::is_string).map_err(fail)?;
        optional(d, "counters", |c| {
            c.as_object().is_some_and(|o| o.values().all(Value::is_u64))
        })
        .map_err(fail)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract() -> Value {
        json!({"kiosk_id": "XH-0001", "app_version": "0.3.0", "catalog_version": 17,
               "outbox": {"pending": 12, "quarantined": 0, "oldest_pending_s": 3600},
               "devices": {"id_reader": "ok", "printer": "paper_near_end", "camera": "ok"},
               "uptime_s": 86400})
    }

    #[test]
    fn the_contract_shape_passes_and_is_seen_without_maintenance_facts() {
        let hb = contract();
        assert_eq!(check_maintenance(&hb), Ok(()));
        let seen = KioskSeen::from_heartbeat(&hb, 1, "t".into());
        assert_eq!(seen.outbox_pending, Some(12));
        assert_eq!(seen.devices["printer"], "paper_near_end");
        assert_eq!(
            (
                seen.maintenance_mode,
                seen.outbox_in_flight,
                seen.disk_free_bytes
            ),
            (None, None, None)
        );
        assert!(seen.device_reports.is_empty() && seen.warnings.is_empty());
    }

    #[test]
    fn maintenance_members_are_checked_by_type_and_kept() {
        let mut hb = contract();
        hb["maintenance_mode"] = json!(true);
        hb["disk_free_bytes"] = json!(1_073_741_824u64);
        hb["warnings"] = json!(["printer: paper near end"]);
        hb["outbox"]["in_flight"] = json!(2);
        hb["device_reports"] = json!({"printer": {"state": "idle", "last_error": null,
            "health": "printer tcp:127.0.0.1:9100: online, paper near end",
            "counters": {"prints_ok": 3}, "observed_at": "2026-11-27T03:00:00Z"}});
        assert_eq!(check_maintenance(&hb), Ok(()));
        let seen = KioskSeen::from_heartbeat(&hb, 2, "t".into());
        assert_eq!(seen.maintenance_mode, Some(true));
        assert_eq!(seen.outbox_in_flight, Some(2));
        assert_eq!(seen.disk_free_bytes, Some(1 << 30));
        assert_eq!(seen.warnings, ["printer: paper near end"]);
        let p = &seen.device_reports["printer"];
        assert_eq!((p.state.as_str(), p.counters["prints_ok"]), ("idle", 3));
        assert_eq!(p.last_error, None);

        for (path, bad, why) in [
            ("maintenance_mode", json!("yes"), "'maintenance_mode'"),
            ("disk_free_bytes", json!(-1), "'disk_free_bytes'"),
            ("warnings", json!([1]), "'warnings'"),
            ("device_reports", json!([]), "'device_reports'"),
        ] {
            let mut b = hb.clone();
            b[path] = bad;
            let err = check_maintenance(&b).unwrap_err();
            assert!(err.contains(why), "{path}: {err}");
        }
        let mut b = hb.clone();
        b["outbox"]["in_flight"] = json!("2");
        assert!(check_maintenance(&b).unwrap_err().contains("in_flight"));
        let mut b = hb.clone();
        b["device_reports"]["printer"]["state"] = json!(null);
        assert!(check_maintenance(&b)
            .unwrap_err()
            .contains("device_reports.printer"));
        let mut b = hb;
        b["device_reports"]["printer"]["counters"] = json!({"prints_ok": "3"});
        assert!(check_maintenance(&b).unwrap_err().contains("'counters'"));
    }
}
