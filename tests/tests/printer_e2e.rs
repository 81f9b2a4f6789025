//! Receipt printer end to end: the driver (and the `kiosk` commands) against the printer
//! simulator over a real PTY and real TCP. The simulator parses ESC/POS on its own; here the
//! QR code is also read back from the rendered PNG, which proves the drawing, not just the
//! parse.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use device_sim::printer::{Link, Paper, RenderedReceipt, SimConfig, Simulator};
use drivers::device::SharedCounters;
use drivers::printer::{
    standard_receipt, JobOutcome, PaperLevel, PrintLedger, Printer, PrinterError, PrinterOptions,
    Receipt, ReceiptInput, Refusal, Target,
};

const WAIT: Duration = Duration::from_secs(20);
const QR: &str = "https://example.invalid/v1/submissions/XH20261127000042";

fn sim_pty(dir: &Path) -> Simulator {
    let config = SimConfig::new(Link::Pty(dir.join("printer.link")), dir.join("out"));
    Simulator::start(config).unwrap()
}

fn sim_tcp(dir: &Path) -> Simulator {
    let config = SimConfig::new(Link::Tcp("127.0.0.1:0".parse().unwrap()), dir.join("out"));
    Simulator::start(config).unwrap()
}

fn receipt(no: &str) -> Receipt {
    let steps = [
        "3个工作日内短信通知审核结果",
        "审核通过后凭本回执到3号窗口领取",
    ];
    standard_receipt(&ReceiptInput {
        hall_name: "徐汇区行政服务中心",
        matter_name: "居住证签注",
        receipt_no: no,
        time: "2026-11-27 14:05",
        next_steps: &steps,
        applicant_name: "张小三",
        id_number: "11010519491231002X",
        qr_payload: QR,
    })
}

fn connect(target: &str, ledger: PrintLedger) -> Printer {
    let target: Target = target.parse().unwrap();
    Printer::connect(
        target,
        PrinterOptions::default(),
        SharedCounters::in_memory(),
        ledger,
    )
    .unwrap()
}

/// Reads every QR code drawn in the PNG.
fn qr_in_png(png: &Path) -> Vec<String> {
    let img = image::open(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .map(|g| g.decode().expect("QR in the PNG decodes").1)
        .collect()
}

/// The receipt on disk says what was sent: text file, QR file and the QR drawn in the PNG.
fn check_rendered(r: &RenderedReceipt, qr: &str) {
    let text = std::fs::read_to_string(&r.txt).unwrap();
    for line in [
        "办事回执",
        "徐汇区行政服务中心",
        "事项：居住证签注",
        "申请人：张*三",
        "证件号码：1101**********002X",
        "1. 3个工作日内短信通知审核结果",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "`{line}` missing from:\n{text}"
        );
    }
    assert!(
        !text.contains("张小三") && !text.contains("19491231"),
        "unmasked data on paper"
    );
    assert!(!text.contains('?'), "a character did not decode:\n{text}");
    assert_eq!(std::fs::read_to_string(&r.qr_txt).unwrap().trim_end(), qr);
    let png = image::open(&r.png).unwrap();
    assert_eq!(png.width(), 576, "80 mm paper at 203 dpi");
    assert_eq!(qr_in_png(&r.png), vec![qr.to_string()]);
    assert!(
        r.notes.is_empty(),
        "the simulator saw unknown commands: {:?}",
        r.notes
    );
}

#[test]
fn receipt_over_a_serial_pty_renders_chinese_text_and_the_qr() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_pty(dir.path());
    let mut printer = connect(&sim.target(), PrintLedger::in_memory());
    let report = printer.print(&receipt("XH20261127000042")).unwrap();
    assert_eq!(report.outcome, JobOutcome::Printed);
    let receipts = sim.wait_for_receipts(1, WAIT).unwrap();
    check_rendered(&receipts[0], QR);
}

#[test]
fn receipt_over_tcp_renders_chinese_text_and_the_qr() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_tcp(dir.path());
    let mut printer = connect(&sim.target(), PrintLedger::in_memory());
    assert_eq!(
        printer.print(&receipt("XH20261127000043")).unwrap().outcome,
        JobOutcome::Printed
    );
    check_rendered(&sim.wait_for_receipts(1, WAIT).unwrap()[0], QR);
}

#[test]
fn usb_printer_class_device_file_works_on_the_pty_path() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_pty(dir.path());
    let target = format!("file:{}", sim.link_path().unwrap().display());
    let mut printer = connect(&target, PrintLedger::in_memory());
    assert_eq!(printer.status().unwrap().paper, PaperLevel::Ok);
    assert_eq!(
        printer.print(&receipt("XH20261127000044")).unwrap().outcome,
        JobOutcome::Printed
    );
    check_rendered(&sim.wait_for_receipts(1, WAIT).unwrap()[0], QR);
}

#[test]
fn a_retried_job_is_not_printed_twice() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_path = dir.path().join("data/printer/printed.log");
    let sim = sim_tcp(dir.path());
    let mut printer = connect(&sim.target(), PrintLedger::open(&ledger_path).unwrap());
    assert_eq!(
        printer.print(&receipt("XH20261127000045")).unwrap().outcome,
        JobOutcome::Printed
    );
    sim.wait_for_receipts(1, WAIT).unwrap();
    let bytes = sim.bytes_received();
    // The caller retries (a timeout on its side, a double tap)...
    assert_eq!(
        printer.print(&receipt("XH20261127000045")).unwrap().outcome,
        JobOutcome::AlreadyPrinted
    );
    drop(printer);
    // ...or the kiosk restarts and retries.
    let mut again = connect(&sim.target(), PrintLedger::open(&ledger_path).unwrap());
    let report = again.print(&receipt("XH20261127000045")).unwrap();
    assert_eq!(
        (report.outcome, report.bytes_sent),
        (JobOutcome::AlreadyPrinted, 0)
    );
    assert_eq!(sim.bytes_received(), bytes, "nothing reached the printer");
    // A new receipt still prints.
    assert_eq!(
        again.print(&receipt("XH20261127000046")).unwrap().outcome,
        JobOutcome::Printed
    );
    let receipts = sim.wait_for_receipts(2, WAIT).unwrap();
    assert_eq!(receipts.len(), 2);
    assert!(receipts[1].text.contains("回执编号：XH20261127000046"));
}

#[test]
fn paper_running_out_mid_receipt_stops_and_resumes_without_a_reprint() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_pty(dir.path());
    sim.paper_out_after(Some(4));
    let mut printer = connect(&sim.target(), PrintLedger::in_memory());
    let report = printer.print(&receipt("XH20261127000047")).unwrap();
    assert_eq!(report.outcome, JobOutcome::Interrupted);
    assert_eq!(report.stopped_by, Some(Refusal::PaperOut));
    assert!(sim.receipts().is_empty());
    // The kiosk retries: refused as already sent, the printer holds the rest.
    assert_eq!(
        printer.print(&receipt("XH20261127000047")).unwrap().outcome,
        JobOutcome::AlreadyPrinted
    );
    assert!(matches!(
        printer.print(&receipt("XH20261127000048")),
        Err(PrinterError::Refused(Refusal::PaperOut))
    ));
    // Staff load paper: the held receipt finishes, once.
    sim.set_paper(Paper::Ok);
    let receipts = sim.wait_for_receipts(1, WAIT).unwrap();
    check_rendered(&receipts[0], QR);
    assert_eq!(printer.status().unwrap().paper, PaperLevel::Ok);
    assert_eq!(sim.receipts().len(), 1);
}

fn probe(data: &Path, target: &str) -> serde_json::Value {
    e2e::kiosk_json(data, &["probe", "printer", "--printer", target, "--json"])
}

#[test]
fn paper_out_and_cover_open_are_probed_and_refuse_print_test() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sim = sim_tcp(dir.path());
    let target = sim.target();

    let ok = probe(&data, &target);
    assert_eq!(ok["online"], true);
    assert_eq!(ok["cover_open"], false);
    assert_eq!(ok["paper"], "ok");
    assert_eq!(ok["error"], serde_json::Value::Null);

    sim.set_paper(Paper::Out);
    let out = probe(&data, &target);
    assert_eq!(
        (out["paper"].as_str(), out["online"].as_bool()),
        (Some("out"), Some(false))
    );
    assert_eq!(out["ready"], false);
    let run = e2e::kiosk(&data, &["print-test", "--printer", &target]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("refused") && err.contains("paper out"),
        "{err}"
    );

    sim.set_paper(Paper::NearEnd);
    sim.set_cover_open(true);
    let open = probe(&data, &target);
    assert_eq!(
        (open["cover_open"].as_bool(), open["paper"].as_str()),
        (Some(true), Some("near_end"))
    );
    let run = e2e::kiosk(&data, &["print-test", "--printer", &target]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success() && err.contains("cover open"), "{err}");
    assert!(sim.receipts().is_empty(), "nothing printed while refused");
    assert_eq!(sim.held_bytes(), 0, "no receipt bytes were sent");

    sim.set_cover_open(false);
    let printed = e2e::kiosk_json(&data, &["print-test", "--printer", &target, "--json"]);
    assert_eq!(printed["outcome"], "printed");
    assert!(printed["warnings"][0]
        .as_str()
        .unwrap()
        .contains("near end"));
    let qr = printed["qr_payload"].as_str().unwrap();
    let r = &sim.wait_for_receipts(1, WAIT).unwrap()[0];
    assert_eq!(qr_in_png(&r.png), vec![qr.to_string()]);
    assert!(
        r.text.contains("打印机测试") && r.text.contains("申请人：张*三"),
        "{}",
        r.text
    );
}

#[test]
fn probe_over_serial_reports_the_cutter_error() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_pty(dir.path());
    sim.set_cutter_error(true);
    let status = probe(&dir.path().join("data"), &sim.target());
    assert_eq!(status["error"], "autocutter");
    assert_eq!(status["online"], false);
}

#[test]
fn a_printer_that_does_not_answer_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("tcp:{}", listener.local_addr().unwrap());
    let run = e2e::kiosk(
        &dir.path().join("data"),
        &[
            "probe",
            "printer",
            "--printer",
            &target,
            "--timeout-ms",
            "300",
        ],
    );
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && err.contains("does not answer"),
        "{err}"
    );
    drop(listener);
}

#[test]
fn rare_characters_are_refused_by_default_and_printed_as_an_image_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sim = sim_tcp(dir.path());
    let target = sim.target();
    // U+3400 needs 4 bytes in GB18030.
    let run = e2e::kiosk(
        &data,
        &[
            "print-test",
            "--printer",
            &target,
            "--extra-line",
            "姓名：㐀",
        ],
    );
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && err.contains("U+3400") && err.contains("4-byte"),
        "{err}"
    );
    assert_eq!(
        sim.bytes_received(),
        0,
        "refused before touching the printer"
    );
    let run = e2e::kiosk(
        &data,
        &[
            "print-test",
            "--printer",
            &target,
            "--extra-line",
            "姓名：㐀",
            "--four-byte",
            "raster",
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r = &sim.wait_for_receipts(1, WAIT).unwrap()[0];
    assert!(
        r.text.contains("[image 576x30]") && !r.text.contains('?'),
        "{}",
        r.text
    );
}

#[test]
fn the_standalone_simulator_changes_state_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(e2e::bin("device-sim"))
        .args(["printer", "--tcp", "127.0.0.1:0", "--out"])
        .arg(dir.path().join("out"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    let addr = ready
        .strip_prefix("printer simulator ready: tcp ")
        .expect(&ready)
        .to_string();
    let target = format!("tcp:{addr}");
    let printed = e2e::kiosk_json(&data, &["print-test", "--printer", &target, "--json"]);
    assert_eq!(printed["outcome"], "printed");
    writeln!(stdin, "cover open").unwrap();
    // Wait for the simulator's answer, so the change has happened.
    assert!(lines
        .by_ref()
        .map(|l| l.unwrap())
        .any(|l| l == "cover open"));
    assert_eq!(probe(&data, &target)["cover_open"], true);
    writeln!(stdin, "quit").unwrap();
    assert!(child.wait().unwrap().success());
    let out = dir.path().join("out");
    let qr = std::fs::read_to_string(out.join("receipt-0001.qr.txt")).unwrap();
    assert_eq!(qr.trim_end(), printed["qr_payload"].as_str().unwrap());
    assert_eq!(
        qr_in_png(&out.join("receipt-0001.png")),
        vec![qr.trim_end().to_string()]
    );
}

#[test]
fn automatic_status_back_reports_the_cover_as_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_pty(dir.path());
    let options = PrinterOptions {
        auto_status_back: true,
        ..PrinterOptions::default()
    };
    let target: Target = sim.target().parse().unwrap();
    let mut printer = Printer::connect(
        target,
        options,
        SharedCounters::in_memory(),
        PrintLedger::in_memory(),
    )
    .unwrap();
    let events = printer.subscribe();
    // Waits (bounded) for the block the simulator sends on its own.
    let next_change = |printer: &mut Printer| {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(s) = printer.poll_events().unwrap() {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no automatic status block"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let first = next_change(&mut printer);
    assert!(!first.cover_open && first.online, "the block sent at once");
    sim.set_cover_open(true);
    let open = next_change(&mut printer);
    assert!(open.cover_open && !open.online);
    sim.set_cover_open(false);
    sim.set_paper(Paper::NearEnd);
    let mut latest = next_change(&mut printer);
    while latest.paper != PaperLevel::NearEnd {
        latest = next_change(&mut printer);
    }
    assert!(!latest.cover_open);
    assert!(events.try_iter().any(|e| e.detail.contains("cover open")));
}
