//! The ID card driver against the simulated reader over real pseudo-terminals: every deck
//! card read and checked against the deck, every fault, a card taken off mid-read, the PTY
//! closing and coming back (in process and as a separate `device-sim` process), and
//! `kiosk probe idcard`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use device_sim::idcard::{CardKind, Deck, Fault, SimConfig, SimHandle, Simulator};
use drivers::device::{Device, DeviceState, SharedCounters};
use drivers::idcard::{
    CardEvent, IdCardReader, PhotoDecoder, PhotoDecoders, Poller, ReaderConfig, ReaderError, Sw3,
};

const TODAY: (i32, u32, u32) = (2026, 1, 1);

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).unwrap()
}

fn sim(pace: bool, link: Option<PathBuf>) -> SimHandle {
    let mut cfg = SimConfig::new(Deck::builtin().unwrap());
    cfg.pace = pace;
    cfg.link = link;
    let s = Simulator::start(cfg).unwrap();
    s.remove();
    s
}

/// A reader on `port`, opened, claimed and enabled, with short timeouts so fault tests stay
/// quick (a silent reader costs 300 ms, not 3.5 s).
fn reader(port: &Path) -> IdCardReader {
    let mut cfg = ReaderConfig::new(port.to_string_lossy().into_owned());
    cfg.timeouts.find = Duration::from_millis(300);
    cfg.timeouts.select = Duration::from_millis(300);
    cfg.timeouts.read = Duration::from_millis(600);
    cfg.timeouts.read_fingerprint = Duration::from_millis(800);
    cfg.poll_interval = Duration::from_millis(40);
    cfg.reopen_initial = Duration::from_millis(40);
    cfg.reopen_max = Duration::from_millis(400);
    let mut r = IdCardReader::new(cfg, SharedCounters::in_memory());
    r.open().unwrap();
    r.claim().unwrap();
    r.enable().unwrap();
    r
}

fn ymd(s: &str) -> String {
    format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..8])
}

#[test]
fn the_driver_reads_every_deck_card_as_the_deck_says() {
    let sim = sim(true, None);
    let mut r = reader(&sim.slave_path());
    r.config_mut().read_extra_address = true;
    r.config_mut().read_fingerprint = true;
    let decoders = PhotoDecoders::default();
    let deck = Deck::builtin().unwrap();
    assert!(deck.cards.len() >= 8);
    for c in &deck.cards {
        let spec = &c.spec;
        sim.put(&spec.id).unwrap();
        let card = r.read_card().unwrap_or_else(|e| panic!("{}: {e}", spec.id));
        let s = card.summary(today());
        let kind = match spec.kind {
            CardKind::Resident => "resident",
            CardKind::Permit => "permit",
            CardKind::Foreign2017 => "foreign_2017",
            CardKind::Foreign2023 => "foreign_2023",
        };
        assert_eq!(s.card_type, kind, "{}", spec.id);
        assert_eq!(s.name, spec.name, "{}", spec.id);
        assert_eq!(s.gender_code, spec.gender);
        assert_eq!(s.birth_date, ymd(&spec.birth_date));
        assert_eq!(s.id_number, spec.id_number);
        assert_eq!(s.valid_from, ymd(&spec.valid_from));
        let until = if spec.valid_until == "长期" {
            "long_term".to_string()
        } else {
            ymd(&spec.valid_until)
        };
        assert_eq!(s.valid_until, until, "{}", spec.id);
        assert_eq!(s.expired, spec.id == "resident-expired", "{}", spec.id);
        assert_eq!(
            s.id_number_valid,
            spec.id != "bad-check-digit",
            "{}",
            spec.id
        );
        assert_eq!(s.address, spec.address.clone().unwrap_or_default());
        assert_eq!(s.extra_address, spec.extra_address);
        assert_eq!(s.name_en, spec.name_en, "{}", spec.id);
        assert_eq!(s.nationality, spec.nationality);
        assert_eq!(s.nation_code, spec.nation);
        assert_eq!(s.pass_number, spec.pass_number);
        assert_eq!(s.fingerprint_len, spec.fingerprint);
        assert_eq!(card.photo, c.photo.to_vec());
        let portrait = decoders.decode(&card.photo).unwrap();
        assert_eq!((portrait.width, portrait.height), (102, 126));
    }
    let long = deck
        .cards
        .iter()
        .find(|c| c.spec.valid_until == "长期")
        .unwrap();
    assert_eq!(long.spec.id, "resident-long-term");
    assert_eq!(r.counters().get("reads_ok"), deck.cards.len() as u64);
}

#[test]
fn a_card_taken_off_mid_read_gives_a_clean_error() {
    let sim = sim(true, None);
    let mut r = reader(&sim.slave_path());
    sim.put("resident-zhang").unwrap();
    sim.set_faults(vec![Fault::RemoveMidRead], true);
    let e = r.read_card().unwrap_err();
    assert!(matches!(e, ReaderError::ReadFailed(Sw3::ReadFailed)), "{e}");
    assert_eq!(r.state(), DeviceState::Idle, "recoverable");
    assert!(matches!(r.read_card(), Err(ReaderError::NoCard)));
    sim.put("resident-zhang").unwrap();
    r.read_card().unwrap();
    let c = r.counters();
    assert_eq!(
        (c.get("fail_read"), c.get("fail_no_card"), c.get("reads_ok")),
        (1, 1, 1)
    );
}

#[test]
fn every_fault_gives_its_own_error_and_the_reader_recovers() {
    let sim = sim(false, None);
    let mut r = reader(&sim.slave_path());
    sim.put("permit-hk").unwrap();
    type Expect = fn(&ReaderError) -> bool;
    let cases: Vec<(Fault, Expect)> = vec![
        (Fault::NoCard, |e| matches!(e, ReaderError::NoCard)),
        (Fault::SelectFail, |e| {
            matches!(e, ReaderError::SelectFailed(Sw3::SelectFailed))
        }),
        (Fault::ReadFail, |e| {
            matches!(e, ReaderError::ReadFailed(Sw3::ReadFailed))
        }),
        (Fault::BadChecksum, |e| {
            matches!(e, ReaderError::Corrupt { .. })
        }),
        (Fault::Silence, |e| matches!(e, ReaderError::Timeout { .. })),
        (Fault::Truncate, |e| {
            matches!(e, ReaderError::Timeout { .. })
        }),
    ];
    for (fault, expected) in cases {
        sim.set_faults(vec![fault], false);
        let e = r.read_card().unwrap_err();
        assert!(expected(&e), "{fault}: got {e}");
        assert!(!e.to_string().contains('\n'));
        sim.set_faults(vec![], false);
        r.read_card()
            .unwrap_or_else(|e| panic!("after {fault}: {e}"));
    }
    // Noise on the line and replies in many pieces are absorbed.
    sim.set_faults(vec![Fault::Garbage, Fault::Split], false);
    for _ in 0..3 {
        assert_eq!(r.read_card().unwrap().id_number, "810000199408230021");
    }
    // Every SW3 code the spec lists arrives intact at the driver.
    for code in drivers::idcard::sw3::ALL_KNOWN
        .into_iter()
        .filter(|c| *c != 0x90)
    {
        sim.set_faults(vec![Fault::Status(code)], true);
        match r.read_card() {
            Err(ReaderError::ReadFailed(sw3)) => assert_eq!(sw3.byte(), code),
            Err(ReaderError::NoCard) => assert_eq!(code, 0x80),
            other => panic!("{code:02X}: {other:?}"),
        }
    }
}

fn wait_for(p: &Poller, what: &str, matches: impl Fn(&CardEvent) -> bool) -> CardEvent {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match p.events().recv_timeout(left) {
            Ok(e) if matches(&e) => return e,
            Ok(_) => continue,
            Err(_) => panic!("no {what} event"),
        }
    }
}

fn inserted_id(e: CardEvent) -> String {
    match e {
        CardEvent::Inserted(card) => card.id_number.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_poller_reports_cards_and_survives_the_pty_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("idreader");
    let sim = sim(true, Some(link.clone()));
    let mut r = reader(&link);
    let status = r.core_mut().subscribe();
    let poller = Poller::spawn(r);
    wait_for(&poller, "ready", |e| matches!(e, CardEvent::ReaderReady));
    sim.put("resident-long-term").unwrap();
    let e = wait_for(&poller, "inserted", |e| matches!(e, CardEvent::Inserted(_)));
    assert_eq!(inserted_id(e), "11010519491231002X");
    sim.remove();
    wait_for(&poller, "removed", |e| matches!(e, CardEvent::Removed));
    sim.put("foreign-2023").unwrap();
    wait_for(&poller, "inserted", |e| matches!(e, CardEvent::Inserted(_)));

    // The PTY goes away and a new one appears behind the same path.
    let old = sim.slave_path();
    assert_ne!(sim.replug().unwrap(), old);
    wait_for(&poller, "lost", |e| {
        matches!(e, CardEvent::ReaderLost { .. })
    });
    wait_for(&poller, "ready again", |e| {
        matches!(e, CardEvent::ReaderReady)
    });
    let e = wait_for(&poller, "inserted again", |e| {
        matches!(e, CardEvent::Inserted(_))
    });
    assert_eq!(inserted_id(e), "931124198505060028");

    let details: Vec<String> = status.try_iter().map(|e| e.detail).collect();
    assert!(details.iter().any(|d| d == "card inserted"), "{details:?}");
    assert!(details.iter().any(|d| d == "card removed"), "{details:?}");
    let reader = poller.reader();
    poller.stop();
    let mut r = reader.lock().unwrap();
    assert!(r
        .check_health()
        .contains("SAM id 05.01-20240101-0001234567-0089012345"));
    assert!(r.counters().get("fail_port_lost") >= 1);
}

/// `device-sim idcard` as a process: its first stdout line is the slave path.
struct SimProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    slave: PathBuf,
}

impl SimProcess {
    fn start(args: &[&str]) -> SimProcess {
        let mut child = Command::new(e2e::bin("device-sim"))
            .arg("idcard")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let slave = PathBuf::from(line.trim());
        assert!(slave.starts_with("/dev/pts"), "first line: {line:?}");
        SimProcess {
            child,
            stdin,
            stdout,
            slave,
        }
    }

    fn command(&mut self, cmd: &str) -> String {
        writeln!(self.stdin, "{cmd}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim().to_string()
    }

    fn terminate(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        assert!(self.child.wait().unwrap().success());
    }
}

#[test]
fn the_poller_survives_the_simulator_process_going_and_coming_back() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("idreader");
    let link_s = link.to_str().unwrap();
    let first = SimProcess::start(&["--link", link_s, "--card", "resident-shanghai"]);
    assert_eq!(std::fs::read_link(&link).unwrap(), first.slave);
    let poller = Poller::spawn(reader(&link));
    let e = wait_for(&poller, "inserted", |e| matches!(e, CardEvent::Inserted(_)));
    assert_eq!(inserted_id(e), "310104199203150012");
    first.terminate();
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "the link goes with the process"
    );
    wait_for(&poller, "lost", |e| {
        matches!(e, CardEvent::ReaderLost { .. })
    });
    let second = SimProcess::start(&["--link", link_s, "--card", "permit-hk"]);
    wait_for(&poller, "ready", |e| matches!(e, CardEvent::ReaderReady));
    let e = wait_for(&poller, "inserted", |e| matches!(e, CardEvent::Inserted(_)));
    assert_eq!(inserted_id(e), "810000199408230021");
    poller.stop();
    second.terminate();
}

#[test]
fn the_simulator_process_takes_control_commands() {
    let mut p = SimProcess::start(&["--no-pace"]);
    let list = p.command("list");
    assert!(
        list.starts_with("ok ") && list.contains("*resident-zhang"),
        "{list}"
    );
    assert_eq!(
        p.command("put foreign-2017"),
        "ok card foreign-2017 on the reader"
    );
    assert_eq!(
        p.command("fault garbage,split once"),
        "ok faults: garbage,split once"
    );
    let mut r = reader(&p.slave);
    assert_eq!(r.read_card().unwrap().id_number, "CAN310090010158");
    assert!(p.command("status").contains("faults=none"), "once: used up");
    assert!(p.command("bogus").starts_with("error:"));
    assert_eq!(p.command("remove"), "ok no card on the reader");
    assert!(matches!(r.read_card(), Err(ReaderError::NoCard)));
    assert_eq!(p.command("quit"), "ok bye");
    assert!(p.child.wait().unwrap().success());
}

fn probe(port: &Path) -> std::process::Output {
    let data = tempfile::tempdir().unwrap();
    e2e::kiosk(
        data.path(),
        &[
            "probe",
            "idcard",
            "--port",
            port.to_str().unwrap(),
            "--json",
        ],
    )
}

#[test]
fn kiosk_probe_idcard_prints_the_card_or_one_line_why_not() {
    let sim = sim(true, None);
    sim.put("resident-shanghai").unwrap();
    let out = probe(&sim.slave_path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["card_type"], "resident");
    assert_eq!(v["name"], "李明");
    assert_eq!(v["gender"], "male");
    assert_eq!(v["nation"], "回");
    assert_eq!(v["birth_date"], "1992-03-15");
    assert_eq!(v["address"], "上海市徐汇区示例路100弄5号602室");
    assert_eq!(v["id_number"], "310104199203150012");
    assert_eq!(v["id_number_valid"], true);
    assert_eq!(v["issuer"], "上海市公安局徐汇分局");
    assert_eq!(v["valid_from"], "2020-03-15");
    assert_eq!(v["valid_until"], "2030-03-15");
    assert_eq!(v["photo_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(v["photo_decoder"], "sim_test_encoding");
    assert_eq!(v["face_match_available"], true);

    sim.put("resident-long-term").unwrap();
    let v: serde_json::Value = serde_json::from_slice(&probe(&sim.slave_path()).stdout).unwrap();
    assert_eq!(
        (v["valid_until"].as_str(), v["expired"].as_bool()),
        (Some("long_term"), Some(false))
    );
    sim.put("resident-expired").unwrap();
    let v: serde_json::Value = serde_json::from_slice(&probe(&sim.slave_path()).stdout).unwrap();
    assert_eq!(v["expired"], true);

    for (setup, reason) in [
        (None, "no card on the reader"),
        (Some(Fault::Silence), "did not answer find card"),
        (Some(Fault::BadChecksum), "corrupt reply to find card"),
    ] {
        match setup {
            None => sim.remove(),
            Some(f) => {
                sim.put("resident-zhang").unwrap();
                sim.set_faults(vec![f], false);
            }
        }
        let out = probe(&sim.slave_path());
        assert!(!out.status.success(), "{reason}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(reason), "{reason}: {err}");
        assert!(out.stdout.is_empty());
        sim.set_faults(vec![], false);
    }
    let out = probe(Path::new("/dev/nonexistent-reader"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open the reader port"));
}
