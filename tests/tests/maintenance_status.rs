//! `kiosk status --json` and the metrics endpoint (`kiosk metrics --serve`, real TCP on
//! 127.0.0.1) report the same numbers from the same kiosk data; and the staff PIN lockout
//! holds across separate `kiosk` processes.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use drivers::device::SharedCounters;
use kiosk::config::Config;
use kiosk::maintenance::{counter_file, metrics, AppFacts};
use kiosk::outbox::{enqueue, entries, Applicant, Disposition, NewSubmission};

fn submission() -> NewSubmission {
    NewSubmission {
        matter_code: "310104010001".into(),
        situation: "01".into(),
        catalog_version: 1,
        applicant: Applicant {
            id_type: "resident".into(),
            id_number: "320124198808240056".into(),
            name: "李四".into(),
            verified_by: "card+face".into(),
        },
        form: BTreeMap::new(),
        attachments: vec![],
    }
}

/// Three queued submissions (one quarantined by the platform) and a printer that printed
/// three receipts, written through the library into the data folder the binaries read.
fn seed(data: &Path) -> Config {
    let config = Config {
        data_dir: data.to_path_buf(),
        ..Config::default()
    };
    let mut store = kiosk::store::Store::open(&config).unwrap();
    let key =
        kiosk::crypto::DataKey::load_or_create(&config.data_path(&config.security.data_key_file))
            .unwrap();
    let ids: Vec<String> = (0..3)
        .map(|_| {
            enqueue(&mut store, &key, &submission(), chrono::Utc::now())
                .unwrap()
                .id
        })
        .collect();
    let rejected = Disposition::Quarantined {
        code: "matter_disabled".into(),
        reason: "matter not accepted".into(),
    };
    entries::settle(
        &mut store,
        &[(ids[0].clone(), rejected)],
        chrono::Utc::now(),
    )
    .unwrap();
    let printer = SharedCounters::persistent(counter_file(&config, "printer"));
    for _ in 0..3 {
        printer.incr("prints_ok");
    }
    config
}

/// Kills the server this test started when the test ends, pass or fail.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    body.to_string()
}

fn sample(samples: &[(String, f64)], key: &str) -> Option<f64> {
    samples.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// Ages are computed at each request, a second or two apart.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 2.0
}

#[test]
fn status_json_and_the_metrics_endpoint_report_the_same_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let catalog = e2e::kiosk_json(&data, &["catalog", "stats", "--json"]);
    let version = catalog["version"].as_u64().unwrap();
    let config = seed(&data);
    let on = e2e::kiosk(&data, &["staff", "maintenance-mode", "on"]);
    assert!(
        on.status.success(),
        "{}",
        String::from_utf8_lossy(&on.stderr)
    );
    // The app's state file as a running app writes it; this test process is the live pid.
    let now = kiosk::store::now_ms();
    let mut facts = AppFacts::new(now - 3_600_000);
    facts.updated_at_ms = now;
    kiosk::maintenance::app_state::write(&config, &facts).unwrap();

    let mut child = Command::new(e2e::bin("kiosk"))
        .arg("--data-dir")
        .arg(&data)
        .args(["metrics", "--serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let server = Server(child);
    let addr = first
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|s| s.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    let scraped = get(&addr, "/metrics");
    let m = metrics::parse_samples(&scraped).unwrap();
    let status = e2e::kiosk_json(&data, &["status", "--json"]);
    let served_json: serde_json::Value = serde_json::from_str(&get(&addr, "/status.json")).unwrap();
    drop(server);

    for key in ["devices", "outbox", "sync", "catalog_version", "uptime_s"] {
        assert!(
            status.get(key).is_some(),
            "kiosk status --json lacks {key}: {status}"
        );
    }
    let o = &status["outbox"];
    assert_eq!(
        (o["pending"].as_u64(), o["quarantined"].as_u64()),
        (Some(2), Some(1))
    );
    for (metric, field) in [
        ("hall_kiosk_outbox_pending", "pending"),
        ("hall_kiosk_outbox_in_flight", "in_flight"),
        ("hall_kiosk_outbox_acked", "acked"),
        ("hall_kiosk_outbox_quarantined", "quarantined"),
        ("hall_kiosk_submissions_queued_total", "last_seq"),
    ] {
        assert_eq!(
            sample(&m, metric),
            o[field].as_f64(),
            "{metric} vs outbox.{field}"
        );
        assert_eq!(
            served_json["outbox"][field], o[field],
            "/status.json outbox.{field}"
        );
    }
    let oldest = o["oldest_pending_s"].as_f64().unwrap();
    assert!(close(
        sample(&m, "hall_kiosk_outbox_oldest_pending_seconds").unwrap(),
        oldest
    ));

    assert_eq!(status["catalog_version"].as_u64(), Some(version));
    assert_eq!(
        sample(&m, "hall_kiosk_catalog_version"),
        Some(version as f64)
    );
    assert_eq!(status["maintenance_mode"], true);
    assert_eq!(sample(&m, "hall_kiosk_maintenance_mode"), Some(1.0));

    assert_eq!(status["app"]["state"], "running");
    assert_eq!(sample(&m, "hall_kiosk_app_running"), Some(1.0));
    let uptime = status["uptime_s"].as_f64().unwrap();
    assert!(close(uptime, 3600.0), "{uptime}");
    assert!(close(
        sample(&m, "hall_kiosk_uptime_seconds").unwrap(),
        uptime
    ));

    assert_eq!(status["devices"]["printer"]["counters"]["prints_ok"], 3);
    assert_eq!(
        sample(
            &m,
            r#"hall_kiosk_device_counter_total{device="printer",counter="prints_ok"}"#
        ),
        Some(3.0)
    );
    assert_eq!(
        status["devices"]["printer"]["state"], "closed",
        "no device reported by the app"
    );
    assert_eq!(served_json["devices"], status["devices"]);
    assert_eq!(served_json["sync"], status["sync"]);
    assert_eq!(status["sync"]["source"], "store");
    assert_eq!(
        status["outbox"]["quarantined_items"][0]["reject_code"],
        "matter_disabled"
    );
    assert_eq!(
        status["outbox"]["quarantined_items"],
        served_json["outbox"]["quarantined_items"]
    );

    // Neither output carries the applicant.
    for text in [scraped.as_str(), &status.to_string()] {
        assert!(!text.contains("320124198808240056") && !text.contains("李四"));
    }
}

fn kiosk_with_stdin(
    config: &Path,
    data: &Path,
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    let mut child = Command::new(e2e::bin("kiosk"))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_pin_lockout_holds_across_kiosk_processes_and_every_attempt_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("kiosk.toml");
    std::fs::write(
        &config,
        "kiosk_id = \"XH-0009\"\n\n[maintenance]\n# staff_pin_hash = \"\"\nmetrics_port = 0\n",
    )
    .unwrap();

    let set = kiosk_with_stdin(&config, &data, &["staff", "set-pin", "--write"], "482913\n");
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("staff_pin_hash = \"$argon2id$"), "{text}");
    assert!(!text.contains("482913"));
    assert!(text.contains("metrics_port = 0"));

    let check = |pin: &str| {
        let out = kiosk_with_stdin(
            &config,
            &data,
            &["staff", "check-pin", "--json"],
            &format!("{pin}\n"),
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.success(), v)
    };
    assert!(check("482913").0);
    for remaining in [4, 3, 2, 1] {
        let (ok, v) = check("000000");
        assert!(!ok);
        assert_eq!(v["result"], "wrong");
        assert_eq!(v["remaining"], remaining);
    }
    let (ok, v) = check("000000");
    assert!(!ok);
    assert_eq!(v["result"], "locked");
    // A new process, the right PIN: still locked.
    let (ok, v) = check("482913");
    assert!(!ok);
    assert_eq!(v["result"], "locked");

    let audit = e2e::kiosk_json(&data, &["staff", "audit", "--json"]);
    let rows = audit.as_array().unwrap();
    let outcomes: Vec<&str> = rows
        .iter()
        .rev()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["success", "success", "failure", "failure", "failure", "failure", "locked", "locked"]
    );
    assert_eq!(rows.last().unwrap()["action"], "pin_changed");
    assert!(!audit.to_string().contains("482913") && !audit.to_string().contains("000000"));
}
