//! `kiosk status [--json]` and `kiosk metrics [--serve] [--port N]`: the kiosk's status from
//! the store, the device counter files and the running app's state file
//! (`maintenance::app_state`), so it works whether the app runs or not.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use super::{print_json, Ctx};
use crate::maintenance::metrics;
use crate::maintenance::report::{AppRun, StatusReport};
use crate::maintenance::{MetricsServer, StatusCollector};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The whole report as JSON (`devices`, `outbox`, `sync`, `catalog_version`, `uptime_s`...).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    /// Serve `GET /metrics` and `GET /status.json` on 127.0.0.1 until stopped, instead of
    /// printing the exposition once. The app serves the same endpoint itself; this is for a
    /// kiosk whose app is stopped, and for tests.
    #[arg(long)]
    pub serve: bool,
    /// Port on 127.0.0.1 [default: maintenance.metrics_port]; 0 picks a free one.
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
}

fn collector(ctx: &Ctx) -> anyhow::Result<StatusCollector> {
    Ok(StatusCollector::offline(
        ctx.config.clone(),
        ctx.open_store()?,
    ))
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let report = collector(ctx)?.collect(crate::store::now_ms())?;
    if args.json {
        print_json(&report)?;
    } else {
        print_text(&report);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_metrics(ctx: &Ctx, args: MetricsArgs) -> anyhow::Result<ExitCode> {
    let collector = collector(ctx)?;
    if !args.serve {
        print!(
            "{}",
            metrics::render(&collector.collect(crate::store::now_ms())?)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let port = args.port.unwrap_or(ctx.config.maintenance.metrics_port);
    let server = MetricsServer::start(port, Arc::new(collector))?;
    // First line on stdout: where it listens (port 0 picks one; scripts read it).
    println!("listening on http://{}/metrics", server.local_addr());
    std::io::stdout().flush()?;
    server.wait();
    Ok(ExitCode::SUCCESS)
}

fn print_text(r: &StatusReport) {
    let app = match r.app.state {
        AppRun::Running => format!(
            "running (pid {}, up {} s)",
            r.app.pid.unwrap_or(0),
            r.uptime_s.unwrap_or(0)
        ),
        AppRun::Unresponsive => format!("unresponsive (pid {})", r.app.pid.unwrap_or(0)),
        AppRun::NotRunning => "not running".into(),
    };
    println!("kiosk {} version {}: app {app}", r.kiosk_id, r.app_version);
    if r.maintenance_mode {
        println!("MAINTENANCE MODE");
    }
    for w in &r.warnings {
        println!("! {w}");
    }
    for (name, d) in &r.devices {
        let counters: Vec<String> = d.counters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("device {name}: {} [{}]", d.state, counters.join(" "));
        if let Some(h) = &d.health {
            println!("  health: {h}");
        }
        if let Some(e) = &d.last_error {
            println!("  last error: {e}");
        }
    }
    if let Some(p) = &r.printer {
        println!(
            "printer: paper {}, cover {}",
            p.paper,
            if p.cover_open { "open" } else { "closed" }
        );
    }
    let o = &r.outbox.counts;
    println!(
        "outbox: {} pending, {} in flight, {} quarantined, {} acknowledged",
        o.pending, o.in_flight, o.quarantined, o.acked
    );
    for q in &r.outbox.quarantined_items {
        println!(
            "  quarantined {} ({}): {} {}",
            q.id,
            q.matter_code,
            q.reject_code.as_deref().unwrap_or("-"),
            q.reason.as_deref().unwrap_or("")
        );
    }
    let s = &r.sync;
    println!(
        "sync ({}): last success {}, next attempt {}{}",
        s.source,
        s.last_success_at.as_deref().unwrap_or("never"),
        s.next_attempt_at.as_deref().unwrap_or("-"),
        s.last_error
            .as_ref()
            .map(|e| format!(", last error: {e}"))
            .unwrap_or_default()
    );
    println!(
        "catalog: version {}{}",
        r.catalog_version.map_or("-".into(), |v| v.to_string()),
        if r.catalog.stale { " (STALE)" } else { "" }
    );
    if let (Some(free), Some(total)) = (r.disk.free_bytes, r.disk.total_bytes) {
        println!(
            "disk: {} MiB free of {} MiB ({})",
            free >> 20,
            total >> 20,
            r.disk.path
        );
    }
    let ifs: Vec<String> = r
        .network
        .interfaces
        .iter()
        .map(|i| format!("{} {}", i.name, i.operstate))
        .collect();
    println!(
        "network: {}",
        if ifs.is_empty() {
            "-".into()
        } else {
            ifs.join(", ")
        }
    );
}
