//! The heartbeat's [ext] maintenance members end to end (`docs/central-api.md`, "Heartbeat
//! maintenance"): the `kiosk` binary's `sync once` posts a heartbeat over mutual TLS to the
//! simulated platform carrying maintenance mode, the outbox with its in-flight count, free
//! disk, warnings and each device's state, last error and health as the running app last
//! wrote them (`app-state.json`); the platform checks them and shows them per kiosk in
//! `device-sim central stats --json`. The app's live facts travel the same way; without the
//! facts the heartbeat is exactly the contract's; free texts shaped like an ID number never
//! leave the kiosk.

mod sync_support;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;

use drivers::device::DeviceState;
use kiosk::maintenance::heartbeat::MaintenanceFacts;
use kiosk::maintenance::{app_state, AppFacts, DeviceReport, PrinterReport, SharedFacts};
use kiosk::outbox::{entries, Disposition};
use kiosk::store::now_ms;
use sync_support::*;

fn json_of(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Three queued submissions, the first refused by the platform (quarantined), and
/// maintenance mode on.
fn seed(env: &Env) {
    let ids: Vec<String> = env
        .enqueue(&["13800138000", "13800138001", "13800138002"])
        .into_iter()
        .map(|e| e.id)
        .collect();
    let mut store = env.store();
    let refused = Disposition::Quarantined {
        code: "matter_disabled".into(),
        reason: "matter not accepted".into(),
    };
    entries::settle(&mut store, &[(ids[0].clone(), refused)], chrono::Utc::now()).unwrap();
    kiosk::maintenance::mode::set(&mut store, true, now_ms()).unwrap();
}

/// What a running app with an open printer cover and a working reader writes.
fn app_facts() -> AppFacts {
    let now = now_ms();
    let mut facts = AppFacts::new(now - 60_000);
    facts.updated_at_ms = now;
    facts.devices.insert(
        "printer".into(),
        DeviceReport {
            state: DeviceState::Error,
            last_error: Some("cover open: close the printer cover".into()),
            health: Some("printer serial:/dev/ttyS1: online, paper ok, cover open".into()),
            counters: BTreeMap::from([("prints_ok".to_string(), 41)]),
            observed_at_ms: Some(now),
        },
    );
    facts.devices.insert(
        "id_reader".into(),
        DeviceReport {
            state: DeviceState::Idle,
            // A driver's message that quotes a card number must not reach the platform.
            last_error: Some(format!("unexpected text for {SYNTHETIC_ID}")),
            health: Some("id_reader: idle on /dev/ttyUSB0 at 115200 baud; SAM ok".into()),
            counters: BTreeMap::from([("reads_ok".to_string(), 7)]),
            observed_at_ms: Some(now),
        },
    );
    facts.printer = Some(PrinterReport {
        online: true,
        paper: "ok".into(),
        cover_open: true,
        error: None,
        observed_at_ms: now,
    });
    facts
}

#[test]
fn kiosk_sync_once_carries_the_apps_maintenance_facts_to_the_platform() {
    let env = Env::new(Default::default());
    seed(&env);
    // The app (this process stands in for it: its pid is alive) wrote its facts just now.
    app_state::write(&env.config, &app_facts()).unwrap();
    let cfg = env.write_config();

    let once = json_of(
        Command::new(e2e::bin("kiosk"))
            .arg("--config")
            .arg(&cfg)
            .args(["sync", "once", "--json"]),
    );
    assert_eq!(once["heartbeat"], "ok", "{once}");

    let hb = env.sim.last_heartbeat(KIOSK).unwrap().unwrap();
    // The contract's fields, as before.
    assert_eq!(hb["devices"]["printer"], "cover_open", "{hb}");
    assert_eq!(hb["devices"]["id_reader"], "ok");
    // The [ext] members.
    assert_eq!(hb["maintenance_mode"], true);
    assert_eq!(hb["outbox"]["quarantined"], 1);
    assert_eq!(hb["outbox"]["in_flight"], 0);
    assert!(hb["disk_free_bytes"].as_u64().unwrap() > 0);
    let warnings: Vec<&str> = hb["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("maintenance mode is on")),
        "{warnings:?}"
    );
    assert!(warnings.contains(&"printer: cover open"), "{warnings:?}");
    let printer = &hb["device_reports"]["printer"];
    assert_eq!(printer["state"], "error");
    assert_eq!(printer["last_error"], "cover open: close the printer cover");
    assert_eq!(printer["counters"]["prints_ok"], 41);
    assert!(printer["observed_at"].as_str().unwrap().ends_with('Z'));
    let reader = &hb["device_reports"]["id_reader"];
    assert_eq!(reader["last_error"], "unexpected text for #");
    assert!(!hb.to_string().contains(SYNTHETIC_ID), "{hb}");

    // The platform's view, from the command line.
    let stats = json_of(
        Command::new(e2e::bin("device-sim"))
            .args(["central", "stats", "--json", "--db"])
            .arg(env.dir.path().join("central.db")),
    );
    let seen = &stats["kiosks"][KIOSK];
    assert_eq!(seen["maintenance_mode"], true, "{stats}");
    // `sync once` sent the two waiting ones before the heartbeat.
    assert_eq!(seen["outbox_pending"], 0);
    assert_eq!(seen["outbox_in_flight"], 0);
    assert_eq!(seen["outbox_quarantined"], 1);
    assert_eq!(seen["devices"]["printer"], "cover_open");
    assert_eq!(seen["device_reports"]["printer"]["state"], "error");
    assert_eq!(
        seen["device_reports"]["id_reader"]["health"],
        "id_reader: idle on /dev/ttyUSB0 at 115200 baud; SAM ok"
    );
    assert!(seen["disk_free_bytes"].as_u64().unwrap() > 0);
    assert!(seen["warnings"].as_array().unwrap().len() >= 2);
}

#[test]
fn the_apps_live_facts_travel_and_without_them_the_heartbeat_is_the_contracts() {
    let env = Env::new(Default::default());
    let mut engine = env.engine();

    // Inside the app: the live facts, as the workers publish them.
    let live = SharedFacts::new(AppFacts::new(now_ms()));
    live.set_device(
        "id_reader",
        DeviceReport {
            state: DeviceState::Error,
            last_error: Some("reader lost: Broken pipe".into()),
            health: Some("id_reader: error on /dev/ttyUSB0 at 115200 baud".into()),
            counters: BTreeMap::from([("fail_port_lost".to_string(), 1)]),
            observed_at_ms: Some(now_ms()),
        },
        now_ms(),
    );
    engine.set_heartbeat_facts(Some(Arc::new(MaintenanceFacts::live(
        env.config.clone(),
        live,
    ))));
    rt().block_on(engine.heartbeat()).unwrap();
    let hb = env.sim.last_heartbeat(KIOSK).unwrap().unwrap();
    assert_eq!(hb["devices"]["id_reader"], "error");
    assert_eq!(
        hb["device_reports"]["id_reader"]["last_error"],
        "reader lost: Broken pipe"
    );
    assert_eq!(hb["maintenance_mode"], false);
    assert!(hb["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w == "id_reader: reader lost: Broken pipe"));

    // No facts: exactly the contract's members, which every platform understands.
    engine.set_heartbeat_facts(None);
    rt().block_on(engine.heartbeat()).unwrap();
    let hb = env.sim.last_heartbeat(KIOSK).unwrap().unwrap();
    for ext in [
        "maintenance_mode",
        "disk_free_bytes",
        "warnings",
        "device_reports",
    ] {
        assert!(hb.get(ext).is_none(), "{ext} in {hb}");
    }
    for contract in [
        "kiosk_id",
        "app_version",
        "catalog_version",
        "outbox",
        "devices",
        "uptime_s",
    ] {
        assert!(hb.get(contract).is_some(), "{contract} missing in {hb}");
    }
    assert!(hb["outbox"].get("in_flight").is_none(), "{hb}");
    // The platform forgets what it was told before: the kiosk sent nothing of it now.
    let seen = &env.sim.stats().unwrap().kiosks[KIOSK];
    assert_eq!(seen.maintenance_mode, None);
    assert!(seen.device_reports.is_empty());
    assert_eq!(seen.heartbeats, 2);
}
