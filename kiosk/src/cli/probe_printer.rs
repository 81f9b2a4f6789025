//! `kiosk probe printer [--printer TARGET] [--json]`: the receipt printer's live status
//! (DLE EOT 1..4), for engineers.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use drivers::device::SharedCounters;
use drivers::printer::{PrintLedger, Printer, PrinterOptions, PrinterStatus, Target};
use serde::Serialize;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the printer is: serial:PATH[@BAUD], tcp:HOST:PORT or file:PATH
    /// [default: devices.printer.target from the config].
    #[arg(long, value_name = "TARGET")]
    pub printer: Option<String>,
    /// Print JSON: target, online, cover_open, paper (ok|near_end|out), error, ready, refusal.
    #[arg(long)]
    pub json: bool,
    /// Milliseconds to wait for each status reply.
    #[arg(long, value_name = "MS", default_value_t = 1500)]
    pub timeout_ms: u64,
}

/// The printer the command talks to: `--printer`, else the config's target.
pub(super) fn resolve_target(ctx: &Ctx, given: Option<&str>) -> anyhow::Result<Target> {
    let text = match given {
        Some(t) => t.to_string(),
        None if !ctx.config.devices.printer.target.is_empty() => ctx.config.devices.printer.target.clone(),
        None => anyhow::bail!("no printer given: pass --printer serial:PATH|tcp:HOST:PORT|file:PATH or set devices.printer.target in the config"),
    };
    Ok(text.parse()?)
}

/// Connects for one engineer's command: counters in memory (the running kiosk owns the
/// persistent ones).
pub(super) fn connect(
    target: Target,
    timeout_ms: u64,
    ledger: PrintLedger,
    options: PrinterOptions,
) -> anyhow::Result<Printer> {
    let options = PrinterOptions {
        status_timeout: Duration::from_millis(timeout_ms),
        ..options
    };
    Printer::connect(target, options, SharedCounters::in_memory(), ledger)
        .map_err(anyhow::Error::from)
}

#[derive(Debug, Serialize)]
struct ProbeJson {
    target: String,
    #[serde(flatten)]
    status: PrinterStatus,
    /// A job may start now.
    ready: bool,
    /// Why a job would be refused, in words.
    refusal: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let target = resolve_target(ctx, args.printer.as_deref())?;
    let mut printer = connect(
        target.clone(),
        args.timeout_ms,
        PrintLedger::in_memory(),
        PrinterOptions::default(),
    )?;
    let status = printer
        .status()
        .with_context(|| format!("cannot read the status of printer {target}"))?;
    let refusal = status.refusal();
    if args.json {
        super::print_json(&ProbeJson {
            target: target.to_string(),
            status,
            ready: refusal.is_none(),
            refusal: refusal.map(|r| r.to_string()),
        })?;
    } else {
        println!("printer {target}: {}", status.summary());
        match refusal {
            None => println!("ready to print"),
            Some(r) => println!("a print job would be refused: {r}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
