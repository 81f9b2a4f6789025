//! `device-sim`: simulated devices and central platform for tests, the demo and engineers.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "device-sim",
    version,
    about = "Simulated kiosk devices and central platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A SAM ID card reader on a pseudo-terminal.
    Idcard(device_sim::idcard::Args),
    /// An ESC/POS receipt printer that renders receipts to PNG.
    Printer(device_sim::printer::Args),
    /// The central platform over mutual TLS (submissions, catalog, heartbeat), with faults.
    Central(device_sim::central::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Idcard(args) => device_sim::idcard::run(args),
        Command::Printer(args) => device_sim::printer::run(args),
        Command::Central(args) => device_sim::central::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
