//! The exposition of a report built from a real (empty) store, with devices and sync set.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::config::Config;
use crate::maintenance::collect::{build, Facts};
use crate::maintenance::report::{DeviceReport, PrinterReport, SyncCountersReport, SyncReport};
use crate::maintenance::AppFacts;
use crate::store::Store;

fn report() -> StatusReport {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        kiosk_id: "XH-\"7\"".into(),
        ..Config::default()
    };
    let store = Store::open(&config).unwrap();
    let now = 1_800_000_000_000;
    let facts = AppFacts {
        pid: std::process::id(),
        started_at_ms: now - 90_000,
        updated_at_ms: now,
        devices: BTreeMap::from([(
            "printer".to_string(),
            DeviceReport {
                state: DeviceState::Busy,
                last_error: None,
                health: None,
                counters: BTreeMap::from([("prints_ok".into(), 12), ("fail_paper_out".into(), 1)]),
                observed_at_ms: Some(now),
            },
        )]),
        printer: Some(PrinterReport {
            online: true,
            paper: "near_end".into(),
            cover_open: false,
            error: None,
            observed_at_ms: now,
        }),
        sync: Some(SyncReport {
            configured: true,
            source: "engine".into(),
            last_success_ms: Some(now - 1_500),
            counters: Some(SyncCountersReport {
                accepted: 40,
                ..SyncCountersReport::default()
            }),
            ..SyncReport::default()
        }),
    };
    let net = dir.path().join("no-net");
    build(&config, &store, Facts::Live(facts), &net, now).unwrap()
}

fn value(samples: &[(String, f64)], key: &str) -> f64 {
    samples
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no sample {key}"))
        .1
}

#[test]
fn every_family_has_help_and_type_and_counters_end_in_total() {
    let text = render(&report());
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut helped = BTreeSet::new();
    let mut last_family = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap().to_string();
            assert!(helped.insert(name.clone()), "family {name} written twice");
            last_family = name;
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
            assert_eq!(name, last_family, "TYPE right after its HELP");
            typed.insert(name.to_string(), kind.to_string());
        } else {
            let name = line.split(['{', ' ']).next().unwrap();
            assert_eq!(name, last_family, "sample {line:?} outside its family");
        }
    }
    for (name, kind) in &typed {
        assert!(name.starts_with("hall_kiosk_"), "{name}");
        assert_eq!(
            kind == "counter",
            name.ends_with("_total"),
            "{name} is a {kind}"
        );
    }
    assert!(typed.contains_key("hall_kiosk_outbox_pending"));
}

#[test]
fn the_numbers_are_those_of_the_report() {
    let r = report();
    let text = render(&r);
    let samples = parse_samples(&text).unwrap();
    assert_eq!(value(&samples, "hall_kiosk_outbox_pending"), 0.0);
    assert_eq!(value(&samples, "hall_kiosk_uptime_seconds"), 90.0);
    assert_eq!(value(&samples, "hall_kiosk_app_running"), 1.0);
    assert_eq!(
        value(&samples, "hall_kiosk_sync_last_success_timestamp_seconds"),
        1_799_999_998.5
    );
    assert_eq!(value(&samples, "hall_kiosk_sync_accepted_total"), 40.0);
    assert_eq!(value(&samples, "hall_kiosk_central_reachable"), 1.0);
    assert_eq!(
        value(
            &samples,
            r#"hall_kiosk_device_state{device="printer",state="busy"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            r#"hall_kiosk_device_state{device="printer",state="idle"}"#
        ),
        0.0
    );
    assert_eq!(
        value(
            &samples,
            r#"hall_kiosk_device_counter_total{device="printer",counter="prints_ok"}"#
        ),
        12.0
    );
    assert_eq!(
        value(&samples, r#"hall_kiosk_printer_paper{level="near_end"}"#),
        1.0
    );
    let info = format!(
        r#"hall_kiosk_info{{kiosk_id="XH-\"7\"",version="{}"}}"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(value(&samples, &info), 1.0);
    assert_eq!(
        value(&samples, "hall_kiosk_data_disk_avail_bytes"),
        r.disk.free_bytes.unwrap() as f64
    );
    // Absent facts are absent samples, not zeros: no catalog yet, no next attempt.
    assert!(!text.contains("hall_kiosk_catalog_version"));
    assert!(!text.contains("hall_kiosk_sync_next_attempt_timestamp_seconds"));
}

#[test]
fn malformed_lines_are_named() {
    assert!(parse_samples("a 1\nb\n").unwrap_err().contains("\"b\""));
    assert!(parse_samples("a x").unwrap_err().contains("bad value"));
    assert_eq!(
        parse_samples("# c\n\na 2.5\n").unwrap(),
        vec![("a".to_string(), 2.5)]
    );
}
