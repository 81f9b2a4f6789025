//! `kiosk probe idcard|printer`: engineers' checks of one device.

use std::process::ExitCode;

use clap::Subcommand;

use super::Ctx;

#[derive(Debug, Subcommand)]
pub enum ProbeCmd {
    /// Read one ID card and print it.
    Idcard(super::probe_idcard::Args),
    /// Print the receipt printer's status.
    Printer(super::probe_printer::Args),
}

pub fn run(ctx: &Ctx, cmd: ProbeCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        ProbeCmd::Idcard(args) => super::probe_idcard::run(ctx, args),
        ProbeCmd::Printer(args) => super::probe_printer::run(ctx, args),
    }
}
