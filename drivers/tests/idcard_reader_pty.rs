//! The reader driver on a real pseudo-terminal with a scripted peer: the exact request frames
//! of the spec go out on the wire, the spec's reply frames come back as results, a silent
//! peer is a timeout and a vanished peer is a lost port.

use std::io::{Read, Write};
use std::time::Duration;

use drivers::device::{Device, SharedCounters};
use drivers::idcard::codec::BaudCode;
use drivers::idcard::{IdCardReader, ReaderConfig, ReaderError};
use serialport::{SerialPort, TTYPort};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// A PTY whose master the test holds, and a driver opened on its slave.
fn setup() -> (TTYPort, IdCardReader) {
    let (mut master, slave) = TTYPort::pair().unwrap();
    let path = slave.name().unwrap();
    drop(slave);
    master.set_timeout(Duration::from_secs(2)).unwrap();
    let mut cfg = ReaderConfig::new(path);
    cfg.timeouts.find = Duration::from_millis(200);
    let mut r = IdCardReader::new(cfg, SharedCounters::in_memory());
    r.open().unwrap();
    r.claim().unwrap();
    r.enable().unwrap();
    (master, r)
}

/// Reads one 10-byte request from the master, then writes `reply`.
fn answer(mut master: TTYPort, reply: Vec<u8>) -> std::thread::JoinHandle<(TTYPort, Vec<u8>)> {
    std::thread::spawn(move || {
        let mut req = [0u8; 10];
        master.read_exact(&mut req).unwrap();
        // Split the reply in two writes, as a UART would deliver it.
        let (a, b) = reply.split_at(reply.len() / 2);
        master.write_all(a).unwrap();
        master.flush().unwrap();
        std::thread::sleep(Duration::from_millis(5));
        master.write_all(b).unwrap();
        (master, req.to_vec())
    })
}

#[test]
fn requests_and_replies_are_the_spec_frames() {
    let (master, mut r) = setup();
    let t = answer(master, hex("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"));
    assert!(r.find_card().unwrap());
    let (master, req) = t.join().unwrap();
    assert_eq!(req, hex("AA AA AA 96 69 00 03 20 01 22"));

    let t = answer(master, hex("AA AA AA 96 69 00 04 00 00 80 84"));
    assert!(!r.find_card().unwrap(), "80: no card");
    let (master, _) = t.join().unwrap();

    let t = answer(master, hex("AA AA AA 96 69 00 04 00 00 81 85"));
    assert!(matches!(r.select_card(), Err(ReaderError::SelectFailed(_))));
    let (master, req) = t.join().unwrap();
    assert_eq!(req, hex("AA AA AA 96 69 00 03 20 02 21"));

    let t = answer(master, hex("AA AA AA 96 69 00 04 00 00 90 94"));
    r.reset_sam().unwrap();
    let (master, req) = t.join().unwrap();
    assert_eq!(req, hex("AA AA AA 96 69 00 03 10 FF EC"));

    let t = answer(master, hex("AA AA AA 96 69 00 04 00 00 90 94"));
    r.sam_status().unwrap();
    let (master, req) = t.join().unwrap();
    assert_eq!(req, hex("AA AA AA 96 69 00 03 11 FF ED"));

    let t = answer(master, hex("AA AA AA 96 69 00 04 00 00 41 45"));
    assert!(matches!(
        r.read_selected(false),
        Err(ReaderError::ReadFailed(_))
    ));
    let (master, req) = t.join().unwrap();
    assert_eq!(req, hex("AA AA AA 96 69 00 03 30 01 32"));

    let t = answer(master, hex("AA AA AA 96 69 00 04 00 00 91 95"));
    assert_eq!(
        r.read_extra_address().unwrap(),
        None,
        "91: no additional address"
    );
    let (master, req) = t.join().unwrap();
    assert_eq!(req, hex("AA AA AA 96 69 00 03 30 03 30"));

    let t = answer(master, hex("AA AA AA 96 69 00 04 00 00 90 94"));
    r.set_reader_baud(BaudCode::B115200).unwrap();
    let (_master, req) = t.join().unwrap();
    assert_eq!(req, hex("AA AA AA 96 69 00 03 60 00 63"));
}

#[test]
fn a_silent_peer_is_a_timeout_and_a_closed_one_a_lost_port() {
    let (master, mut r) = setup();
    let e = r.find_card().unwrap_err();
    assert!(
        matches!(
            e,
            ReaderError::Timeout {
                command: "find card",
                ms: 200
            }
        ),
        "{e}"
    );
    assert_eq!(r.consecutive_timeouts(), 1);
    drop(master);
    let e = r.find_card().unwrap_err();
    assert!(e.is_port_gone(), "{e}");
    assert!(!r.is_port_open());
}
