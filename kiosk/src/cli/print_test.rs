//! `kiosk print-test [--printer TARGET]`: prints a test receipt (Chinese text, masked
//! synthetic applicant, QR) through the real print job, status check included.

use std::process::ExitCode;

use drivers::printer::{
    standard_receipt, FontRasterizer, FourByteChars, JobOutcome, PrintLedger, PrinterOptions,
    ReceiptInput, DEFAULT_FONTS,
};
use serde::Serialize;

use super::probe_printer::{connect, resolve_target};
use super::Ctx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FourByte {
    /// Refuse the receipt and name the character.
    Refuse,
    /// Print that line as an image (fonts-droid-fallback + DejaVu).
    Raster,
    /// Send the 4-byte code (printers with full GB18030 fonts).
    Send,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the printer is: serial:PATH[@BAUD], tcp:HOST:PORT or file:PATH
    /// [default: devices.printer.target from the config].
    #[arg(long, value_name = "TARGET")]
    pub printer: Option<String>,
    /// Receipt number (also the job's id) [default: TEST + local date and time].
    #[arg(long, value_name = "NO")]
    pub receipt_no: Option<String>,
    /// What the QR code holds [default: the status address of the receipt number].
    #[arg(long, value_name = "TEXT")]
    pub qr: Option<String>,
    /// An extra line, e.g. to try a rare name character.
    #[arg(long, value_name = "TEXT")]
    pub extra_line: Option<String>,
    /// Characters that need 4-byte GB18030.
    #[arg(long, value_enum, default_value = "refuse")]
    pub four_byte: FourByte,
    /// Print the job report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Milliseconds to wait for each status reply.
    #[arg(long, value_name = "MS", default_value_t = 1500)]
    pub timeout_ms: u64,
}

#[derive(Debug, Serialize)]
struct TestJson<'a> {
    target: String,
    qr_payload: &'a str,
    #[serde(flatten)]
    report: &'a drivers::printer::PrintReport,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let target = resolve_target(ctx, args.printer.as_deref())?;
    let now = chrono::Local::now();
    let receipt_no = args
        .receipt_no
        .clone()
        .unwrap_or_else(|| format!("TEST{}", now.format("%Y%m%d%H%M%S")));
    let qr = args.qr.clone().unwrap_or_else(|| {
        let base = ctx.config.central.url.trim_end_matches('/');
        if base.is_empty() {
            format!("hall-kiosk:print-test:{receipt_no}")
        } else {
            format!("{base}/v1/submissions/{receipt_no}")
        }
    });
    let mut steps = vec!["打印测试：中文、二维码、切纸", "请核对字迹清晰、二维码可扫"];
    if let Some(extra) = &args.extra_line {
        steps.push(extra);
    }
    let time = now.format("%Y-%m-%d %H:%M").to_string();
    // A synthetic applicant (valid check digit), masked on paper like a real one.
    let receipt = standard_receipt(&ReceiptInput {
        hall_name: &ctx.config.hall_name,
        matter_name: "打印机测试",
        receipt_no: &receipt_no,
        time: &time,
        next_steps: &steps,
        applicant_name: "张小三",
        id_number: "11010519491231002X",
        qr_payload: &qr,
    });

    let mut options = PrinterOptions::default();
    options.encoder.four_byte = match args.four_byte {
        FourByte::Refuse => FourByteChars::Refuse,
        FourByte::Raster => FourByteChars::Raster,
        FourByte::Send => FourByteChars::Send,
    };
    let mut printer = connect(
        target.clone(),
        args.timeout_ms,
        PrintLedger::in_memory(),
        options,
    )?;
    if args.four_byte == FourByte::Raster {
        printer = printer.with_rasterizer(Box::new(FontRasterizer::from_files(&DEFAULT_FONTS)?));
    }
    let report = printer.print(&receipt)?;
    if args.json {
        super::print_json(&TestJson {
            target: target.to_string(),
            qr_payload: &qr,
            report: &report,
        })?;
    } else {
        println!(
            "test receipt {} on printer {target}: {:?}, {} bytes",
            report.receipt_id, report.outcome, report.bytes_sent
        );
        for w in &report.warnings {
            println!("warning: {w}");
        }
    }
    match (report.outcome, report.stopped_by) {
        (JobOutcome::Printed, _) => Ok(ExitCode::SUCCESS),
        (_, Some(reason)) => {
            eprintln!("error: the printer stopped during the receipt: {reason}; it finishes once that is fixed");
            Ok(ExitCode::FAILURE)
        }
        _ => {
            eprintln!("error: the printer did not confirm the receipt (no status after printing)");
            Ok(ExitCode::FAILURE)
        }
    }
}
