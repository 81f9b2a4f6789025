//! The simulated central platform (`docs/central-api.md`), written from the contract without
//! the kiosk's code: HTTPS with client certificates, submissions deduplicated by id, receipt
//! status, the signed catalog, heartbeats, and injected faults.
//!
//! - `device-sim central init-pki DIR [--kiosk ID]...`: CA, server and client certificates,
//!   admin token (`pki.rs`).
//! - `device-sim central --listen ADDR --pki DIR --db FILE [faults]`: the server
//!   (`server.rs` I/O, `http.rs` codec, `handlers.rs` endpoints, `heartbeat.rs` what a
//!   heartbeat may carry and what is kept of it, `store.rs` SQLite,
//!   `faults.rs`, `catalog.rs` envelope checks, `x509.rs` kiosk id from the certificate).
//! - `device-sim central stats --db FILE [--json]`: counters.
//!
//! In-process use (tests, benches, the demo): [`Server::start`] returns a handle with the
//! address, the live fault settings and the stats.

pub mod catalog;
pub mod faults;
pub mod handlers;
pub mod heartbeat;
pub mod http;
pub mod pki;
#[cfg(test)]
mod props;
pub mod server;
pub mod store;
pub mod x509;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Subcommand;

pub use catalog::{load_admin_key, pae, AdminKey, CATALOG_PAYLOAD_TYPE};
pub use faults::{FaultConfig, Faults, ScriptedFault};
pub use heartbeat::{KioskSeen, SeenDevice};
pub use pki::{init_pki, PkiPaths};
pub use server::{Server, ServerConfig, ServerHandle};
pub use store::{Stats, StoredSubmission};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Option<CentralCmd>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum CentralCmd {
    /// Create the CA, the server certificate (127.0.0.1, localhost), a client certificate a
    /// kiosk id and the admin token in DIR (keeps what exists).
    InitPki {
        dir: PathBuf,
        /// Kiosk id to issue a client certificate for (repeatable).
        #[arg(long = "kiosk", value_name = "ID", default_values_t = ["XH-0001".to_string()])]
        kiosks: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print the counters of a simulator database.
    Stats {
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// Serving flags (used when no sub-subcommand is given).
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8443", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// PKI folder made by `init-pki`.
    #[arg(long, value_name = "DIR")]
    pub pki: Option<PathBuf>,
    /// The simulator's SQLite file.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Probability (0..1) that a kiosk request is answered 503 with Retry-After.
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    pub fail_rate: f64,
    /// Seconds sent in Retry-After with a random 503.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub retry_after_s: u64,
    /// Milliseconds added before every kiosk request is answered.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub latency_ms: u64,
    /// Probability (0..1) that a batch is committed and the connection cut before the reply.
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    pub drop_after_commit_rate: f64,
    /// Reject submissions whose form (a field value, or the whole form as JSON) matches.
    #[arg(long, value_name = "REGEX")]
    pub reject_matching: Option<String>,
    /// Trusted catalog signing key: base64 raw Ed25519 public key; key id = file stem.
    #[arg(long = "admin-key", value_name = "FILE.pub")]
    pub admin_keys: Vec<PathBuf>,
    /// Seed for the random faults (reproducible runs).
    #[arg(long)]
    pub seed: Option<u64>,
}

impl ServeArgs {
    /// The server configuration these flags describe.
    pub fn to_config(&self) -> anyhow::Result<ServerConfig> {
        let (Some(pki), Some(db)) = (&self.pki, &self.db) else {
            bail!("serving needs --pki DIR and --db FILE (see `device-sim central --help`)");
        };
        for (name, rate) in [
            ("--fail-rate", self.fail_rate),
            ("--drop-after-commit-rate", self.drop_after_commit_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                bail!("{name} must be between 0 and 1, got {rate}");
            }
        }
        let reject_matching = match &self.reject_matching {
            Some(p) => {
                Some(regex::Regex::new(p).with_context(|| format!("--reject-matching {p:?}"))?)
            }
            None => None,
        };
        let admin_keys = self
            .admin_keys
            .iter()
            .map(|p| load_admin_key(p))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut config = ServerConfig::new(pki, db);
        config.listen = self.listen;
        config.admin_keys = admin_keys;
        config.faults = FaultConfig {
            fail_rate: self.fail_rate,
            retry_after_s: self.retry_after_s,
            latency_ms: self.latency_ms,
            drop_after_commit_rate: self.drop_after_commit_rate,
            reject_matching,
            seed: self.seed,
        };
        Ok(config)
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.cmd {
        Some(CentralCmd::InitPki { dir, kiosks, json }) => {
            let report = init_pki(&dir, &kiosks)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for p in &report.created {
                    println!("created {}", p.display());
                }
                for p in &report.kept {
                    println!("kept    {}", p.display());
                }
            }
            Ok(())
        }
        Some(CentralCmd::Stats { db, json }) => {
            if !db.exists() {
                bail!("no simulator database at {}", db.display());
            }
            let stats = store::SimStore::open(&db)?.stats()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                println!("submissions        {}", stats.submissions);
                println!("duplicates seen    {}", stats.duplicates_seen);
                println!("rejected seen      {}", stats.rejected_seen);
                println!("batches            {}", stats.batches);
                println!("503s injected      {}", stats.faults_unavailable);
                println!("replies dropped    {}", stats.faults_dropped);
                println!("heartbeats         {}", stats.heartbeats);
                for (k, n) in &stats.by_kiosk {
                    println!("  {k:<16} {n}");
                }
                for (k, seen) in &stats.kiosks {
                    let show = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
                    println!(
                        "kiosk {k}: {} heartbeat(s), last {}; catalog {}{}{}",
                        seen.heartbeats,
                        seen.last_heartbeat_at,
                        show(seen.catalog_version),
                        if seen.catalog_stale == Some(true) {
                            " STALE"
                        } else {
                            ""
                        },
                        seen.catalog_staged_version
                            .map_or(String::new(), |v| format!(", {v} staged")),
                    );
                    if seen.maintenance_mode == Some(true) {
                        println!("  maintenance mode on");
                    }
                    for (name, d) in &seen.device_reports {
                        println!(
                            "  {name:<10} {}{}",
                            d.state,
                            d.last_error
                                .as_ref()
                                .map_or(String::new(), |e| format!(": {e}"))
                        );
                    }
                    for w in &seen.warnings {
                        println!("  warning: {w}");
                    }
                }
            }
            Ok(())
        }
        None => serve(&args.serve),
    }
}

fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let handle = Server::start(args.to_config()?)?;
    // Scripts read this line to learn the port when `--listen 127.0.0.1:0` was given.
    println!("listening on {}", handle.url());
    use std::io::Write;
    std::io::stdout().flush()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
        anyhow::Ok(())
    })?;
    handle.shutdown();
    Ok(())
}
