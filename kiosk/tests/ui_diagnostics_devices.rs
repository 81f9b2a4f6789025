//! The diagnostics screen's device and outbox actions through the real binding, on the demo
//! simulators: exporting the quarantined items into the configured folder (and the reason
//! when the USB stick is not there); restarting the ID card reader (and the reason when it
//! cannot be reopened); and the live device reports reaching the screen, the metrics
//! endpoint's `/status.json` and `/metrics`, and the platform's copy of the heartbeat.

mod binding;

use std::io::{Read, Write};
use std::time::Duration;

use binding::Rig;
use kiosk::maintenance::AuditLog;
use kiosk::outbox::{entries, Disposition};
use slint::ComponentHandle;
use ui::Staff;

fn rig(tune: impl FnOnce(&mut kiosk::config::Config)) -> Rig {
    Rig::with_staff_pin(tune)
}

fn unlock(r: &Rig) {
    r.unlock_diagnostics();
}

fn result(r: &Rig) -> String {
    r.w().global::<Staff>().get_action_result().to_string()
}

/// Waits for the answer to an action (the screen first says what is under way, if
/// anything).
fn wait_result(r: &Rig, what: &str, busy: &str) -> String {
    r.wait_until(what, 30, |r| {
        let s = result(r);
        !s.is_empty() && (busy.is_empty() || s != busy)
    });
    result(r)
}

/// The device lines of the screen, `name: value`.
fn devices(r: &Rig) -> String {
    r.staff_lines(true)
}

fn audit(r: &Rig, action: &str) -> Vec<(String, String)> {
    let store = kiosk::store::Store::open(&r.demo.config).unwrap();
    AuditLog::new(&store)
        .recent(50)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == action)
        .map(|a| (a.outcome, a.detail))
        .collect()
}

/// Queues `n` submissions and has the platform's refusal quarantine them (the network is
/// cut first, so the sync engine leaves them alone).
fn quarantine(r: &Rig, n: usize) -> Vec<String> {
    let ids = r.queue_offline(n);
    let config = &r.demo.config;
    let mut store = kiosk::store::Store::open(config).unwrap();
    let refused: Vec<(String, Disposition)> = ids
        .iter()
        .map(|id| {
            (
                id.clone(),
                Disposition::Quarantined {
                    code: "matter_disabled".into(),
                    reason: "matter 310104030702 is not accepted".into(),
                },
            )
        })
        .collect();
    entries::settle(&mut store, &refused, chrono::Utc::now()).unwrap();
    ids
}

#[test]
fn exporting_quarantined_items_shows_the_file_and_count_or_why_not() {
    let usb_root = tempfile::tempdir().unwrap();
    let stick = usb_root.path().join("usb");
    let export_dir = stick.clone();
    let r = rig(move |c| c.maintenance.export_dir = export_dir);
    let ids = quarantine(&r, 2);
    unlock(&r);

    // The stick is not there: the screen says so, and nothing is created in its place.
    r.click(&r.tr("staff-export"));
    let text = wait_result(&r, "the export's answer", "");
    assert!(text.starts_with("失败"), "{text}");
    assert!(
        text.contains("not found: is the USB stick plugged in"),
        "{text}"
    );
    assert!(!stick.exists());

    // Plugged in: the file's name and the count.
    std::fs::create_dir(&stick).unwrap();
    r.w()
        .global::<Staff>()
        .set_action_result(Default::default());
    r.click(&r.tr("staff-export"));
    let text = wait_result(&r, "the export's answer", "");
    let files: Vec<_> = std::fs::read_dir(&stick)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("quarantined-XH-0001-"), "{files:?}");
    assert!(text.starts_with("已导出 2 条"), "{text}");
    assert!(text.contains(&files[0]), "{text}");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stick.join(&files[0])).unwrap()).unwrap();
    let exported: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(exported, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!v.to_string().contains("13800138000"), "no form values");

    // Both attempts are in the audit log, the failure with its reason.
    let rows = audit(&r, "export_quarantined");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "success");
    assert!(rows[0].1.contains("entries=2"), "{rows:?}");
    assert_eq!(rows[1].0, "failure");
    assert!(rows[1].1.contains("not found"), "{rows:?}");
}

#[test]
fn restarting_the_card_reader_reopens_it_or_says_why_not() {
    let r = rig(|_| {});
    unlock(&r);
    // The reader's live report reaches the screen: state, health (the SAM answered), counters.
    r.wait_until("the reader's report", 30, |r| {
        r.advance(Duration::from_secs(3));
        devices(r).contains("id_reader: idle") && devices(r).contains("SAM ok")
    });

    // While the reader's thread works, the screen says so; then it shows the answer.
    let busy = kiosk::app::i18n::tr_args(
        &r.w().global::<ui::Fl>().get_lang(),
        "staff-restarting",
        &[("device", "id_reader")],
    );
    r.click(&r.tr("staff-restart-reader"));
    let text = wait_result(&r, "the restart's answer", &busy);
    assert!(text.starts_with("完成"), "{text}");
    assert!(
        text.contains("id_reader") && text.contains("SAM ok"),
        "{text}"
    );
    // The restart is counted with the reader's counters, and reading still works.
    r.wait_until("the restart counted", 30, |r| {
        r.advance(Duration::from_secs(3));
        devices(r).contains("staff_restarts 1")
    });

    // The reader is gone (unplugged): the restart fails and says why.
    r.demo.reader.stop();
    r.w()
        .global::<Staff>()
        .set_action_result(Default::default());
    r.click(&r.tr("staff-restart-reader"));
    let text = wait_result(&r, "the restart's answer", &busy);
    assert!(text.starts_with("失败"), "{text}");
    assert!(text.contains("cannot open the reader port"), "{text}");
    r.wait_until("the reader reported in error or closed", 30, |r| {
        r.advance(Duration::from_secs(3));
        let d = devices(r);
        !d.contains("id_reader: idle")
    });

    let store = kiosk::store::Store::open(&r.demo.config).unwrap();
    let rows = || -> Vec<(String, String)> {
        AuditLog::new(&store)
            .recent(50)
            .unwrap()
            .into_iter()
            .filter(|a| a.action == "restart_device")
            .map(|a| (a.outcome, a.detail))
            .collect()
    };
    r.wait_until("both restarts in the audit log", 10, |_| rows().len() == 2);
    let rows = rows();
    assert_eq!(rows[0].0, "failure", "{rows:?}");
    assert!(rows[0].1.starts_with("id_reader: "), "{rows:?}");
    assert_eq!(rows[1].0, "success", "{rows:?}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    body.to_string()
}

#[test]
fn live_device_reports_reach_the_metrics_endpoint_and_the_platform() {
    let port = free_port();
    let r = rig(move |c| c.maintenance.metrics_port = port);
    // A test print makes the printer report its paper and cover.
    unlock(&r);
    r.click(&r.tr("staff-test-print"));
    let text = wait_result(&r, "the test print", "");
    assert!(text.starts_with("完成"), "{text}");

    r.wait_until("the reader's live report", 30, |r| {
        r.kiosk
            .facts
            .snapshot()
            .devices
            .get("id_reader")
            .and_then(|d| d.health.clone())
            .is_some_and(|h| h.contains("SAM ok"))
    });
    let status: serde_json::Value = serde_json::from_str(&get(port, "/status.json")).unwrap();
    assert_eq!(status["app"]["facts_source"], "live");
    let reader = &status["devices"]["id_reader"];
    assert_eq!(reader["state"], "idle", "{status}");
    assert!(reader["health"].as_str().unwrap().contains("SAM ok"));
    let printer = &status["devices"]["printer"];
    assert_eq!(printer["state"], "idle", "{status}");
    assert!(printer["counters"]["prints_ok"].as_u64().unwrap() >= 1);
    assert_eq!(status["printer"]["paper"], "ok");
    assert_eq!(status["printer"]["cover_open"], false);
    let metrics = get(port, "/metrics");
    for line in [
        r#"hall_kiosk_device_state{device="id_reader",state="idle"} 1"#,
        r#"hall_kiosk_device_state{device="printer",state="idle"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} not in\n{metrics}");
    }

    // The platform hears the same through the heartbeat (every 10 s in the demo).
    r.wait_until("a heartbeat with the device reports", 40, |r| {
        r.demo
            .central
            .last_heartbeat(&r.demo.config.kiosk_id)
            .unwrap()
            .is_some_and(|hb| {
                hb["device_reports"]["id_reader"]["state"] == "idle"
                    && hb["device_reports"]["printer"]["state"] == "idle"
            })
    });
    let seen = &r.demo.central.stats().unwrap().kiosks[&r.demo.config.kiosk_id];
    assert_eq!(seen.devices["id_reader"], "ok");
    assert_eq!(seen.maintenance_mode, Some(false));
    assert!(seen.device_reports["id_reader"]
        .health
        .as_deref()
        .is_some_and(|h| h.contains("SAM ok")));
}
