//! Job logic against a scripted transport that answers `DLE EOT` like a printer. The real
//! printer simulator over PTY and TCP is exercised in `tests/tests/printer_e2e.rs`.

use std::sync::{Arc, Mutex};

use super::*;
use crate::printer::document::Cut;
use crate::printer::status::PaperLevel;

#[derive(Default)]
struct Script {
    /// Replies to DLE EOT 1..4.
    replies: [u8; 4],
    /// Replies once a receipt (a write longer than a status request) has gone out.
    replies_after_job: Option<[u8; 4]>,
    silent: bool,
    fail_big_writes: bool,
    written: Vec<u8>,
    jobs: usize,
    outgoing: VecDeque<u8>,
}

#[derive(Clone, Default)]
struct Scripted(Arc<Mutex<Script>>);

impl Transport for Scripted {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut s = self.0.lock().unwrap();
        if bytes.len() > 3 && s.fail_big_writes {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "cable pulled"));
        }
        s.written.extend_from_slice(bytes);
        match bytes {
            [0x10, 0x04, n @ 1..=4] if !s.silent => {
                let r = s.replies[usize::from(*n) - 1];
                s.outgoing.push_back(r);
            }
            [0x1D, 0x61, n] if *n != 0 => {
                let block = [0x10, 0x00, 0x00, 0x00];
                s.outgoing.extend(block);
            }
            _ if bytes.len() > 3 => {
                s.jobs += 1;
                if let Some(r) = s.replies_after_job {
                    s.replies = r;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<Option<usize>> {
        let mut s = self.0.lock().unwrap();
        let mut n = 0;
        while n < buf.len() {
            match s.outgoing.pop_front() {
                Some(b) => {
                    buf[n] = b;
                    n += 1;
                }
                None => break,
            }
        }
        Ok((n > 0).then_some(n))
    }
}

const OK: [u8; 4] = [0x12, 0x12, 0x12, 0x12];
const PAPER_OUT: [u8; 4] = [0x1A, 0x32, 0x12, 0x72];
const COVER_OPEN: [u8; 4] = [0x1A, 0x16, 0x12, 0x12];

fn printer(script: &Scripted, ledger: PrintLedger) -> Printer {
    let options = PrinterOptions {
        status_timeout: Duration::from_millis(50),
        ..PrinterOptions::default()
    };
    let target: Target = "tcp:127.0.0.1:9100".parse().unwrap();
    let mut p = Printer::new(target, options, SharedCounters::in_memory(), ledger);
    p.attach(Box::new(script.clone())).unwrap();
    p.core.claim().unwrap();
    p.core.enable().unwrap();
    p
}

fn receipt(id: &str) -> Receipt {
    Receipt::builder(id)
        .line("徐汇区行政服务中心")
        .qr("https://example.invalid/s/XH1", Default::default())
        .cut(Cut::FeedPartial(3))
        .build()
}

fn script(replies: [u8; 4]) -> Scripted {
    let s = Scripted::default();
    s.0.lock().unwrap().replies = replies;
    s
}

#[test]
fn prints_after_a_clean_status() {
    let s = script(OK);
    let mut p = printer(&s, PrintLedger::in_memory());
    let report = p.print(&receipt("XH1")).unwrap();
    assert_eq!(report.outcome, JobOutcome::Printed);
    assert!(report.bytes_sent > 20);
    let written = s.0.lock().unwrap().written.clone();
    // Four status requests, then the receipt, then four more.
    assert_eq!(
        &written[..12],
        &[0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 3, 0x10, 0x04, 4]
    );
    assert_eq!(&written[12..14], &[0x1B, 0x40]);
    assert_eq!(s.0.lock().unwrap().jobs, 1);
    assert_eq!(p.state(), DeviceState::Idle);
    assert_eq!(p.counters().get("prints_ok"), 1);
}

#[test]
fn paper_out_and_cover_open_refuse_before_sending() {
    for (replies, want, key) in [
        (PAPER_OUT, Refusal::PaperOut, "fail_paper_out"),
        (COVER_OPEN, Refusal::CoverOpen, "fail_cover_open"),
    ] {
        let s = script(replies);
        let mut p = printer(&s, PrintLedger::in_memory());
        let err = p.print(&receipt("XH2")).unwrap_err();
        assert!(
            matches!(err, PrinterError::Refused(r) if r == want),
            "{err}"
        );
        assert!(
            err.to_string().starts_with("printer refused the job: "),
            "{err}"
        );
        assert_eq!(s.0.lock().unwrap().jobs, 0, "nothing printed");
        assert_eq!(p.state(), DeviceState::Error);
        assert_eq!(p.counters().get(key), 1);
        // Fixed: the same receipt prints (a refusal is not a send).
        s.0.lock().unwrap().replies = OK;
        assert_eq!(
            p.print(&receipt("XH2")).unwrap().outcome,
            JobOutcome::Printed
        );
    }
}

#[test]
fn a_retry_never_prints_twice_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("printed.log");
    let s = script(OK);
    let mut p = printer(&s, PrintLedger::open(&path).unwrap());
    assert_eq!(
        p.print(&receipt("XH3")).unwrap().outcome,
        JobOutcome::Printed
    );
    assert_eq!(
        p.print(&receipt("XH3")).unwrap().outcome,
        JobOutcome::AlreadyPrinted
    );
    drop(p);
    let mut again = printer(&s, PrintLedger::open(&path).unwrap());
    let report = again.print(&receipt("XH3")).unwrap();
    assert_eq!(
        (report.outcome, report.bytes_sent),
        (JobOutcome::AlreadyPrinted, 0)
    );
    assert_eq!(s.0.lock().unwrap().jobs, 1);
    assert_eq!(again.counters().get("retries_skipped"), 1);
    // Staff's explicit reprint does print.
    assert_eq!(
        again.reprint(&receipt("XH3")).unwrap().outcome,
        JobOutcome::Printed
    );
    assert_eq!(s.0.lock().unwrap().jobs, 2);
}

#[test]
fn a_send_that_broke_off_is_not_retried_automatically() {
    let s = script(OK);
    s.0.lock().unwrap().fail_big_writes = true;
    let mut p = printer(&s, PrintLedger::in_memory());
    let err = p.print(&receipt("XH4")).unwrap_err();
    assert!(matches!(err, PrinterError::Io { .. }), "{err}");
    s.0.lock().unwrap().fail_big_writes = false;
    let err = p.print(&receipt("XH4")).unwrap_err();
    assert!(matches!(err, PrinterError::OutcomeUnknown { .. }), "{err}");
    assert!(err.to_string().contains("reprint"), "{err}");
    assert_eq!(s.0.lock().unwrap().jobs, 0);
}

#[test]
fn a_silent_printer_is_a_clear_error() {
    let s = script(OK);
    s.0.lock().unwrap().silent = true;
    let mut p = printer(&s, PrintLedger::in_memory());
    let err = p.status().unwrap_err();
    assert!(err.to_string().contains("does not answer"), "{err}");
    assert!(matches!(
        p.print(&receipt("XH5")),
        Err(PrinterError::NoAnswer { n: 1, .. })
    ));
    assert_eq!(s.0.lock().unwrap().jobs, 0);
    assert_eq!(p.counters().get("fail_no_answer"), 2);
}

#[test]
fn paper_running_out_during_the_job_is_reported() {
    let s = script(OK);
    s.0.lock().unwrap().replies_after_job = Some(PAPER_OUT);
    let mut p = printer(&s, PrintLedger::in_memory());
    let report = p.print(&receipt("XH6")).unwrap();
    assert_eq!(report.outcome, JobOutcome::Interrupted);
    assert_eq!(report.stopped_by, Some(Refusal::PaperOut));
    assert_eq!(report.status_after.unwrap().paper, PaperLevel::Out);
    assert_eq!(p.state(), DeviceState::Error);
    // The receipt is in the printer's buffer: a retry must not send it again.
    assert_eq!(
        p.print(&receipt("XH6")).unwrap().outcome,
        JobOutcome::AlreadyPrinted
    );
}

#[test]
fn near_end_prints_with_a_warning() {
    let s = script([0x12, 0x12, 0x12, 0x1E]);
    let mut p = printer(&s, PrintLedger::in_memory());
    let events = p.subscribe();
    let report = p.print(&receipt("XH7")).unwrap();
    assert_eq!(report.outcome, JobOutcome::Printed);
    assert!(report.warnings.iter().any(|w| w.contains("near end")));
    assert!(events.try_iter().any(|e| e.detail.contains("near end")));
}

#[test]
fn unencodable_receipts_touch_nothing() {
    let s = script(OK);
    let mut p = printer(&s, PrintLedger::in_memory());
    let r = Receipt::builder("XH8").line("申请人：𠮷*").build();
    let before = s.0.lock().unwrap().written.len();
    let err = p.print(&r).unwrap_err();
    assert!(
        matches!(err, PrinterError::Encode(EncodeError::FourByte { .. })),
        "{err}"
    );
    assert_eq!(s.0.lock().unwrap().written.len(), before);
    assert_eq!(p.state(), DeviceState::Idle);
    assert_eq!(p.counters().get("fail_encode"), 1);
}

#[test]
fn automatic_status_back_becomes_events() {
    let s = script(OK);
    let options = PrinterOptions {
        auto_status_back: true,
        status_timeout: Duration::from_millis(50),
        ..PrinterOptions::default()
    };
    let mut p = Printer::new(
        "file:/dev/null".parse().unwrap(),
        options,
        SharedCounters::in_memory(),
        PrintLedger::in_memory(),
    );
    let events = p.subscribe();
    p.attach(Box::new(s.clone())).unwrap();
    assert!(s.0.lock().unwrap().written.ends_with(&[0x1D, 0x61, 0x0F]));
    let first = p.poll_events().unwrap().unwrap();
    assert!(!first.cover_open);
    s.0.lock()
        .unwrap()
        .outgoing
        .extend([0x38, 0x00, 0x00, 0x00]);
    let open = p.poll_events().unwrap().unwrap();
    assert!(open.cover_open && !open.online);
    assert_eq!(p.poll_events().unwrap(), None, "no change, no news");
    let details: Vec<String> = events.try_iter().map(|e| e.detail).collect();
    assert!(
        details.iter().any(|d| d.contains("cover open")),
        "{details:?}"
    );
    // Blocks mixed with real-time replies do not confuse the status query.
    s.0.lock()
        .unwrap()
        .outgoing
        .extend([0x10, 0x00, 0x00, 0x00]);
    assert_eq!(p.status().unwrap().paper, PaperLevel::Ok);
    p.close();
    assert!(s.0.lock().unwrap().written.ends_with(&[0x1D, 0x61, 0x00]));
}

#[test]
fn bad_receipt_ids_are_refused() {
    let s = script(OK);
    let mut p = printer(&s, PrintLedger::in_memory());
    assert!(matches!(
        p.print(&receipt("bad id")),
        Err(PrinterError::Ledger(_))
    ));
}
