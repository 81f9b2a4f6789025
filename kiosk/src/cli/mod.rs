//! The `kiosk` command line. Every command honours `--config FILE` and `--data-dir DIR`.
//! One file per command group; each has an `Args`/`Cmd` type and a `run` function.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

mod admin;
mod bench;
mod bench_child;
mod catalog;
mod demo;
mod face;
mod outbox;
mod print_test;
mod probe;
mod probe_idcard;
mod probe_printer;
mod run;
mod screenshot;
mod staff;
mod status;
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
    /// Processes that benchmarks start and measure (not for people).
    #[command(subcommand, hide = true)]
    BenchChild(bench_child::BenchChildCmd),
    /// Render a page of the touch app off-screen into a PNG (no display needed).
    Screenshot(screenshot::Args),
    /// Central admins: signing keys, catalog diff, sign and publish.
    #[command(subcommand)]
    Admin(admin::AdminCmd),
    /// Start the touch app on the configured devices.
    Run(run::Args),
    /// Start the touch app with every device simulated, and a simulator panel.
    Demo(demo::Args),
    /// Sync with the central platform (one push/pull cycle).
    #[command(subcommand)]
    Sync(sync::SyncCmd),
    /// Devices, outbox, sync, catalog, disk, network, uptime: from the store and files, app
    /// running or not.
    Status(status::Args),
    /// The same numbers in the Prometheus text format, once or served on 127.0.0.1.
    Metrics(status::MetricsArgs),
    /// Staff PIN, audit log, maintenance mode.
    #[command(subcommand)]
    Staff(staff::StaffCmd),
}

/// What every command gets: the effective configuration.
pub struct Ctx {
    pub config: Config,
    /// The `--config` file, if one was given.
    pub config_path: Option<PathBuf>,
}

impl Ctx {
    pub fn from_cli(cli: &Cli) -> anyhow::Result<Ctx> {
        let mut config = Config::load(cli.config.as_deref())?;
        if let Some(dir) = &cli.data_dir {
            config.data_dir = dir.clone();
        }
        Ok(Ctx {
            config,
            config_path: cli.config.clone(),
        })
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
    let cli = Cli::parse();
    // The app logs its life (devices, sync, visits: never personal data) at info; the
    // engineers' commands keep stderr quiet unless RUST_LOG says otherwise.
    if matches!(cli.command, Command::Run(_) | Command::Demo(_)) {
        crate::logging::init_with_default("info");
    } else {
        crate::logging::init();
    }
    let data_dir_given = cli.data_dir.is_some();
    let result = Ctx::from_cli(&cli).and_then(|ctx| run(ctx, cli.command, data_dir_given));
    match result {
        Ok(code) => code,
        Err(e) => {
            // One line a cause, outermost first: what an engineer at the kiosk needs.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(ctx: Ctx, command: Command, data_dir_given: bool) -> anyhow::Result<ExitCode> {
    match command {
        Command::Catalog(cmd) => catalog::run(&ctx, cmd),
        Command::Outbox(cmd) => outbox::run(&ctx, cmd),
        Command::Probe(cmd) => probe::run(&ctx, cmd),
        Command::PrintTest(args) => print_test::run(&ctx, args),
        Command::Face(cmd) => face::run(&ctx, cmd),
        Command::Bench(args) => bench::run(&ctx, args),
        Command::BenchChild(cmd) => bench_child::run(&ctx, cmd),
        Command::Screenshot(args) => screenshot::run(&ctx, args),
        Command::Admin(cmd) => admin::run(&ctx, cmd),
        Command::Sync(cmd) => sync::run(&ctx, cmd),
        Command::Run(args) => run::run(&ctx, args),
        Command::Demo(args) => demo::run(&ctx, args, data_dir_given),
        Command::Status(args) => status::run(&ctx, args),
        Command::Metrics(args) => status::run_metrics(&ctx, args),
        Command::Staff(cmd) => staff::run(&ctx, cmd),
    }
}
