//! The endpoint over real TCP on 127.0.0.1 with a collector on a real store.

use std::io::{Read, Write};

use super::*;
use crate::config::Config;
use crate::store::Store;

fn collector() -> (tempfile::TempDir, Arc<dyn StatusSource>) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let store = Store::open(&config).unwrap();
    (dir, Arc::new(StatusCollector::offline(config, store)))
}

/// Sends `request` raw and returns (status code, head, body).
fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    (code, head.to_string(), body.to_string())
}

#[test]
fn metrics_and_status_json_are_served_over_tcp() {
    let (_d, source) = collector();
    let server = MetricsServer::start(0, source).unwrap();
    let addr = server.local_addr();
    assert!(addr.ip().is_loopback());

    let (code, head, body) = exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(code, 200, "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(len, body.len());
    let samples = metrics::parse_samples(&body).unwrap();
    assert!(samples.contains(&("hall_kiosk_outbox_pending".to_string(), 0.0)));

    let (code, _, body) = exchange(addr, b"GET /status.json HTTP/1.0\r\n\r\n");
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["outbox"]["pending"], 0);
    assert!(v.get("uptime_s").is_some());

    let (code, head, body) = exchange(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n");
    assert_eq!((code, body.as_str()), (200, ""), "{head}");
    server.shutdown();
    assert!(std::net::TcpStream::connect(addr).is_err(), "stopped");
}

#[test]
fn wrong_requests_get_clear_statuses() {
    let (_d, source) = collector();
    let server = MetricsServer::start(0, source).unwrap();
    let addr = server.local_addr();
    assert_eq!(exchange(addr, b"GET / HTTP/1.1\r\n\r\n").0, 404);
    assert_eq!(exchange(addr, b"POST /metrics HTTP/1.1\r\n\r\n").0, 405);
    assert_eq!(exchange(addr, b"\x16\x03\x01 hello\r\n\r\n").0, 400);
    let huge = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    assert_eq!(exchange(addr, huge.as_bytes()).0, 431);
}

struct Broken;

impl StatusSource for Broken {
    fn report(&self) -> anyhow::Result<StatusReport> {
        anyhow::bail!("the kiosk database is busy")
    }
}

#[test]
fn a_failing_report_is_a_503_naming_the_cause() {
    let server = MetricsServer::start(0, Arc::new(Broken)).unwrap();
    let (code, _, body) = exchange(server.local_addr(), b"GET /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(code, 503);
    assert!(body.contains("database is busy"), "{body}");
}

#[test]
fn only_loopback_addresses_are_accepted() {
    let (_d, source) = collector();
    let err = MetricsServer::start_on("0.0.0.0:0".parse().unwrap(), source)
        .err()
        .unwrap();
    assert!(err.to_string().contains("loopback only"), "{err}");
}

#[test]
fn a_taken_port_is_an_error_at_start() {
    let (_d, source) = collector();
    let first = MetricsServer::start(0, source.clone()).unwrap();
    let port = first.local_addr().port();
    let err = MetricsServer::start(port, source).err().unwrap();
    assert!(
        format!("{err:#}").contains(&format!("127.0.0.1:{port}")),
        "{err:#}"
    );
}
