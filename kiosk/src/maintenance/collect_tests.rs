//! The report from a real store, real counter files and a real state file.

use drivers::device::SharedCounters;

use super::*;
use crate::crypto::DataKey;
use crate::maintenance::test_support::submission;
use crate::outbox::{enqueue, Disposition};

const NOW: i64 = 1_800_000_000_000;

struct Kiosk {
    _dir: tempfile::TempDir,
    config: Config,
    store: Store,
    ids: Vec<String>,
    net: PathBuf,
}

/// Three submissions: one quarantined, one waiting after a failed attempt, one fresh; and a
/// printer counter file with two prints.
fn kiosk() -> Kiosk {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    let mut store = Store::open(&config).unwrap();
    let key = DataKey::from_bytes([9; 32]);
    let ids: Vec<String> = (0..3)
        .map(|_| {
            enqueue(&mut store, &key, &submission(), chrono::Utc::now())
                .unwrap()
                .id
        })
        .collect();
    let now = chrono::DateTime::from_timestamp_millis(NOW - 5_000).unwrap();
    entries::settle(
        &mut store,
        &[
            (
                ids[0].clone(),
                Disposition::Quarantined {
                    code: "form_invalid".into(),
                    reason: "field phone does not match".into(),
                },
            ),
            (
                ids[1].clone(),
                Disposition::Retry {
                    next_attempt_ms: NOW + 30_000,
                    error: "connection refused".into(),
                },
            ),
        ],
        now,
    )
    .unwrap();
    let counters = SharedCounters::persistent(counter_file(&config, "printer"));
    counters.incr("prints_ok");
    counters.incr("prints_ok");
    let net = dir.path().join("net");
    std::fs::create_dir_all(net.join("eth0")).unwrap();
    std::fs::write(net.join("eth0/operstate"), "up\n").unwrap();
    Kiosk {
        _dir: dir,
        config,
        store,
        ids,
        net,
    }
}

fn printer_facts(pid: u32, updated_at_ms: i64) -> AppFacts {
    AppFacts {
        pid,
        started_at_ms: NOW - 3_600_000,
        updated_at_ms,
        devices: BTreeMap::from([(
            "printer".to_string(),
            DeviceReport {
                state: DeviceState::Error,
                last_error: Some("cover open: close the printer cover".into()),
                health: Some("printer serial:/dev/ttyS0: online, paper ok, cover open".into()),
                counters: BTreeMap::from([("prints_ok".to_string(), 1)]),
                observed_at_ms: Some(updated_at_ms),
            },
        )]),
        printer: Some(PrinterReport {
            online: true,
            paper: "near_end".into(),
            cover_open: true,
            error: None,
            observed_at_ms: updated_at_ms,
        }),
        sync: Some(SyncReport {
            configured: true,
            source: "engine".into(),
            state: Some("backing_off".into()),
            consecutive_failures: Some(3),
            ..SyncReport::default()
        }),
    }
}

#[test]
fn without_the_app_the_store_and_files_still_give_a_full_report() {
    let k = kiosk();
    let r = build(&k.config, &k.store, Facts::StateFile(None), &k.net, NOW).unwrap();
    assert_eq!(r.app.state, AppRun::NotRunning);
    assert_eq!(r.uptime_s, None);
    let c = &r.outbox.counts;
    assert_eq!(
        (c.pending, c.in_flight, c.quarantined, c.acked),
        (2, 0, 1, 0)
    );
    assert_eq!(r.outbox.quarantined_items.len(), 1);
    let q = &r.outbox.quarantined_items[0];
    assert_eq!(q.id, k.ids[0]);
    assert_eq!(q.reject_code.as_deref(), Some("form_invalid"));
    assert_eq!(q.reason.as_deref(), Some("field phone does not match"));
    // The printer is known from its counter file alone.
    let p = &r.devices["printer"];
    assert_eq!(p.state, DeviceState::Closed);
    assert_eq!(p.counters["prints_ok"], 2);
    // Sync as recorded: the head entry's error and its next attempt.
    assert_eq!(r.sync.source, "store");
    assert_eq!(r.sync.last_error.as_deref(), Some("connection refused"));
    assert_eq!(r.sync.last_error_ms, Some(NOW - 5_000));
    assert_eq!(r.sync.next_attempt_ms, Some(NOW + 30_000));
    assert_eq!(r.sync.last_success_ms, None);
    assert_eq!(r.catalog_version, None);
    assert_eq!(r.network.interfaces.len(), 1);
    assert!(r.disk.free_bytes.is_some());
    assert!(r
        .warnings
        .iter()
        .any(|w| w == "the kiosk app is not running"));
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("1 submission(s) quarantined")));
    // The JSON has the keys other tools rely on.
    let v = serde_json::to_value(&r).unwrap();
    for key in [
        "devices",
        "outbox",
        "sync",
        "catalog_version",
        "uptime_s",
        "maintenance_mode",
    ] {
        assert!(v.get(key).is_some(), "no {key} in {v}");
    }
    assert_eq!(v["outbox"]["pending"], 2);
    assert_eq!(v["devices"]["printer"]["state"], "closed");
}

#[test]
fn a_fresh_state_file_of_a_live_process_gives_uptime_devices_and_the_engine() {
    let k = kiosk();
    app_state::write(&k.config, &printer_facts(std::process::id(), NOW - 2_000)).unwrap();
    let collector = StatusCollector::offline(k.config.clone(), k.store);
    let mut r = collector.collect(NOW).unwrap();
    // `collect` reads the real /sys/class/net; the rest is what this test set up.
    r.network.interfaces.clear();
    assert_eq!(r.app.state, AppRun::Running);
    assert_eq!(r.app.facts_source, "state_file");
    assert_eq!(r.app.facts_age_s, Some(2));
    assert_eq!(r.uptime_s, Some(3600));
    let p = &r.devices["printer"];
    assert_eq!(p.state, DeviceState::Error);
    assert_eq!(
        p.counters["prints_ok"], 2,
        "the counter file is fresher than the state file"
    );
    assert_eq!(r.printer.as_ref().unwrap().paper, "near_end");
    assert_eq!(r.sync.source, "engine");
    assert_eq!(r.sync.consecutive_failures, Some(3));
    assert!(r.warnings.iter().any(|w| w == "printer: cover open"));
    assert!(r
        .warnings
        .iter()
        .any(|w| w.starts_with("printer: cover open: close")));
    let hb = r.heartbeat_devices();
    assert_eq!(hb["printer"], "cover_open");
    assert_eq!(hb.len(), 1);
}

#[test]
fn a_state_file_of_a_dead_process_reports_closed_devices_and_no_uptime() {
    let k = kiosk();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let facts = printer_facts(dead, NOW - 1_000);
    let r = build(
        &k.config,
        &k.store,
        Facts::StateFile(Some(facts)),
        &k.net,
        NOW,
    )
    .unwrap();
    assert_eq!(r.app.state, AppRun::NotRunning);
    assert_eq!(r.uptime_s, None);
    let p = &r.devices["printer"];
    assert_eq!(p.state, DeviceState::Closed);
    assert_eq!(
        p.last_error.as_deref(),
        Some("cover open: close the printer cover")
    );
    assert_eq!(
        r.sync.source, "store",
        "a dead engine's progress is not reported as current"
    );
}

#[test]
fn an_old_state_file_of_a_live_process_is_unresponsive() {
    let k = kiosk();
    let facts = printer_facts(std::process::id(), NOW - app_state::STALE_AFTER_MS - 1_000);
    let r = build(
        &k.config,
        &k.store,
        Facts::StateFile(Some(facts)),
        &k.net,
        NOW,
    )
    .unwrap();
    assert_eq!(r.app.state, AppRun::Unresponsive);
    assert!(r.warnings[0].contains("may be hung"), "{:?}", r.warnings);
}

#[test]
fn live_facts_and_maintenance_mode_inside_the_app() {
    let mut k = kiosk();
    mode::set(&mut k.store, true, NOW - 10).unwrap();
    let shared = SharedFacts::new(printer_facts(std::process::id(), NOW));
    shared.set_device(
        "id_reader",
        DeviceReport {
            state: DeviceState::Idle,
            last_error: None,
            health: Some("reader ok".into()),
            counters: BTreeMap::new(),
            observed_at_ms: Some(NOW),
        },
        NOW,
    );
    let collector = StatusCollector::live(k.config.clone(), k.store, shared);
    let r = collector.collect(NOW + 1_000).unwrap();
    assert_eq!(r.app.facts_source, "live");
    assert!(r.maintenance_mode);
    assert_eq!(r.devices.len(), 2);
    assert_eq!(
        r.devices["printer"].counters["prints_ok"], 1,
        "inside the app the driver's own counters are used"
    );
    assert_eq!(r.uptime_s, Some(3601));
    assert!(r
        .warnings
        .iter()
        .any(|w| w.starts_with("maintenance mode is on")));
    let hb = r.heartbeat_devices();
    assert_eq!(
        (hb["id_reader"].as_str(), hb["printer"].as_str()),
        ("ok", "cover_open")
    );
}

#[test]
fn reachability_follows_the_last_contact() {
    let mut s = SyncReport {
        configured: true,
        ..SyncReport::default()
    };
    assert_eq!(reachable(&s), None);
    s.last_error_ms = Some(10);
    assert_eq!(reachable(&s), Some(false));
    s.last_success_ms = Some(20);
    assert_eq!(reachable(&s), Some(true));
    s.configured = false;
    assert_eq!(reachable(&s), None);
}
