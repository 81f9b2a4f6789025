//! The `kiosk` command line. Every command honours `--config FILE` and `--data-dir DIR`.
//! One file per command group; each has an `Args`/`Cmd` type and a `run` function.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

mod admin;
mod bench;
mod catalog;
mod face;
mod outbox;
mod print_test;
mod probe;
mod probe_idcard;
mod probe_printer;
mod screenshot;
mod sync;

#[derive(Debug, Parser)]
#[command(
    name = "kiosk",
    version,
    about = "Self-service kiosk runtime for 24-hour government service halls"
)]
pub struct Cli {
    /// Configuration file (TOML). Without it, built-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data folder (database, keys, counters). Overrides `data_dir` in the config.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The matter catalog: stats, search, show.
    #[command(subcommand)]
    Catalog(catalog::CatalogCmd),
    /// The submission outbox.
    #[command(subcommand)]
    Outbox(outbox::OutboxCmd),
    /// Read one card or the printer's status (for engineers).
    #[command(subcommand)]
    Probe(probe::ProbeCmd),
    /// Print a test receipt with Chinese text and a QR code.
    PrintTest(print_test::Args),
    /// Face verification (engineers only: prints the score).
    #[command(subcommand)]
    Face(face::FaceCmd),
    /// Run the benchmarks and print one table (figure, peer, ratio, target).
    Bench(bench::Args),
    /// Render a page of the touch app off-screen into a PNG (no display needed).
    Screenshot(screenshot::Args),
    /// Central admins: signing keys, catalog diff, sign and publish.
    #[command(subcommand)]
    Admin(admin::AdminCmd),
    /// Sync with the central platform (one push/pull cycle).
    #[command(subcommand)]
    Sync(sync::SyncCmd),
}

/// What every command gets: the effective configuration.
pub struct Ctx {
    pub config: Config,
}

impl Ctx {
    pub fn from_cli(cli: &Cli) -> anyhow::Result<Ctx> {
        let mut config = Config::load(cli.config.as_deref())?;
        if let Some(dir) = &cli.data_dir {
            config.data_dir = dir.clone();
        }
        Ok(Ctx { config })
    }

    /// Opens (creating and migrating when needed) the kiosk's database.
    pub fn open_store(&self) -> anyhow::Result<crate::store::Store> {
        crate::store::Store::open(&self.config)
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub fn main() -> ExitCode {
    crate::logging::init();
    let cli = Cli::parse();
    let result = Ctx::from_cli(&cli).and_then(|ctx| run(ctx, cli.command));
    match result {
        Ok(code) => code,
        Err(e) => {
            // One line a cause, outermost first: what an engineer at the kiosk needs.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(ctx: Ctx, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Catalog(cmd) => catalog::run(&ctx, cmd),
        Command::Outbox(cmd) => outbox::run(&ctx, cmd),
        Command::Probe(cmd) => probe::run(&ctx, cmd),
        Command::PrintTest(args) => print_test::run(&ctx, args),
        Command::Face(cmd) => face::run(&ctx, cmd),
        Command::Bench(args) => bench::run(&ctx, args),
        Command::Screenshot(args) => screenshot::run(&ctx, args),
        Command::Admin(cmd) => admin::run(&ctx, cmd),
        Command::Sync(cmd) => sync::run(&ctx, cmd),
    }
}
