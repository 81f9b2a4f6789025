//! The notify protocol against real unix datagram sockets standing in for systemd.

use std::os::unix::net::{SocketAddr, UnixDatagram};

use super::*;

fn recv(sock: &UnixDatagram) -> String {
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

/// The way systemd runs the kiosk: the variables in the environment, a path socket.
#[test]
fn ready_watchdog_and_stopping_reach_the_socket_named_in_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let systemd = UnixDatagram::bind(&path).unwrap();
    // nextest runs each test in a process of its own; no other test reads these variables.
    std::env::set_var("NOTIFY_SOCKET", &path);
    std::env::set_var("WATCHDOG_USEC", "30000000");
    std::env::set_var("WATCHDOG_PID", std::process::id().to_string());

    assert_eq!(watchdog_interval(), Some(Duration::from_secs(15)));
    assert!(notify_ready("Home; outbox 0 pending").unwrap());
    assert_eq!(recv(&systemd), "READY=1\nSTATUS=Home; outbox 0 pending");
    assert!(ping().unwrap());
    assert_eq!(recv(&systemd), "WATCHDOG=1");
    assert!(notify_stopping().unwrap());
    assert_eq!(recv(&systemd), "STOPPING=1");
}

#[test]
fn an_abstract_socket_works_too() {
    let name = format!("hall-kiosk-test-{}", std::process::id());
    let addr = {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(name.as_bytes()).unwrap()
    };
    let systemd = UnixDatagram::bind_addr(&addr).unwrap();
    let n = Notifier::from_vars(Some(&format!("@{name}")), Some("4000000"), None, 1);
    assert!(n.is_active());
    assert!(n.status("sync backing off\nsecond line").unwrap());
    assert_eq!(recv(&systemd), "STATUS=sync backing off second line");
    assert!(n.ping().unwrap());
    assert_eq!(recv(&systemd), "WATCHDOG=1");
}

#[test]
fn pings_are_throttled_to_half_the_watchdog_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let systemd = UnixDatagram::bind(&path).unwrap();
    systemd.set_nonblocking(true).unwrap();
    let n = Notifier::from_vars(path.to_str(), Some("10000000"), Some("77"), 77);
    let t0 = Instant::now();
    assert!(n.ping_if_due(t0).unwrap());
    assert!(!n.ping_if_due(t0 + Duration::from_secs(4)).unwrap());
    assert!(n.ping_if_due(t0 + Duration::from_secs(5)).unwrap());
    let mut buf = [0u8; 64];
    let mut got = 0;
    while systemd.recv(&mut buf).is_ok() {
        got += 1;
    }
    assert_eq!(got, 2);
}

#[test]
fn outside_systemd_nothing_is_sent_and_nothing_fails() {
    let n = Notifier::from_vars(None, None, None, 1);
    assert!(!n.is_active());
    assert!(!n.ready("x").unwrap());
    assert!(!n.ping().unwrap());
    assert_eq!(n.watchdog_interval(), None);
}

#[test]
fn the_watchdog_is_ignored_when_it_belongs_to_another_process_or_is_malformed() {
    assert_eq!(parse_watchdog(Some("30000000"), Some("12"), 13), None);
    assert_eq!(parse_watchdog(Some("30000000"), Some("x"), 13), None);
    assert_eq!(parse_watchdog(Some("0"), None, 13), None);
    assert_eq!(parse_watchdog(Some("-5"), None, 13), None);
    assert_eq!(parse_watchdog(None, Some("13"), 13), None);
    assert_eq!(
        parse_watchdog(Some("30000000"), None, 13),
        Some(Duration::from_secs(30))
    );
    assert_eq!(parse_target("vsock:2:1234"), None);
    assert_eq!(parse_target("@"), None);
    assert_eq!(
        parse_target("/run/systemd/notify"),
        Some(NotifyTarget::Path("/run/systemd/notify".into()))
    );
}

#[test]
fn a_vanished_socket_is_an_error_not_a_panic() {
    let n = Notifier::from_vars(Some("/nonexistent/notify"), None, None, 1);
    assert!(n.ready("x").is_err());
}
