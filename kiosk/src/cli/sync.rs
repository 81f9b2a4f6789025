//! `kiosk sync once [--json] [--force]`: one push/pull cycle with the central platform,
//! printing what it did. `kiosk sync churn` (hidden) is the crash test's child: it queues
//! submissions and syncs them continuously until it is killed.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;

use super::{print_json, Ctx};
use crate::crypto::DataKey;
use crate::outbox::{self, Applicant, NewSubmission};
use crate::sync::SyncEngine;

#[derive(Debug, Subcommand)]
pub enum SyncCmd {
    /// One cycle: send what is due, pull the catalog (when configured), send a heartbeat,
    /// apply retention. Exit status 1 when the platform could not be reached.
    Once {
        /// Send everything waiting now, ignoring backoff and Retry-After (staff override).
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
    /// Test harness: queue a synthetic submission every N ms while the sync engine runs;
    /// prints `queued ID SEQ` after each durable commit. Runs until killed, or after
    /// `--count` submissions waits for the outbox to drain and exits.
    #[command(hide = true)]
    Churn {
        #[arg(long, default_value_t = 5)]
        every_ms: u64,
        #[arg(long)]
        count: Option<u64>,
    },
}

pub fn run(ctx: &Ctx, cmd: SyncCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        SyncCmd::Once { force, json } => once(ctx, force, json),
        SyncCmd::Churn { every_ms, count } => churn(ctx, every_ms, count),
    }
}

fn once(ctx: &Ctx, force: bool, json: bool) -> anyhow::Result<ExitCode> {
    let mut engine = SyncEngine::open(&ctx.config)?;
    // The pull half: verify and stage what the platform publishes (catalog::pull).
    engine.set_catalog_sink(Box::new(crate::catalog::pull::CatalogPull::from_config(
        &ctx.config,
    )?));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(engine.cycle(force));
    if json {
        print_json(&report)?;
    } else {
        let p = &report.push;
        println!(
            "sent {} in {} batch(es): {} accepted, {} duplicate(s), {} rejected, {} to retry",
            p.sent,
            p.batches,
            p.accepted,
            p.duplicates,
            p.rejected.len(),
            p.retried
        );
        for r in &p.rejected {
            println!(
                "  quarantined seq {} ({}): {}: {}",
                r.seq, r.id, r.code, r.reason
            );
        }
        if p.quarantined_locally > 0 {
            println!("  quarantined locally: {}", p.quarantined_locally);
        }
        for e in &p.errors {
            println!("  error: {e}");
        }
        if let Some(s) = p.retry_after_s {
            println!("  the platform asked to wait {s} s (Retry-After)");
        }
        println!("catalog: {}", report.catalog);
        println!("heartbeat: {}", report.heartbeat);
        if report.purged > 0 {
            println!("retention: deleted {} acknowledged entries", report.purged);
        }
        let o = &report.outbox;
        println!(
            "outbox: {} pending, {} in flight, {} acknowledged, {} quarantined",
            o.pending, o.in_flight, o.acked, o.quarantined
        );
        if let Some(at) = &report.next_attempt_at {
            println!("next attempt at {at}");
        }
    }
    Ok(if report.push.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn churn(ctx: &Ctx, every_ms: u64, count: Option<u64>) -> anyhow::Result<ExitCode> {
    let config = &ctx.config;
    let key_path = config.data_path(&config.security.data_key_file);
    let key = Arc::new(DataKey::load_or_create(&key_path)?);
    let engine = SyncEngine::new(config, crate::store::Store::open(config)?, key.clone())?;
    let handle = engine.handle();
    let sync_thread = engine.spawn_thread()?;
    let mut store = crate::store::Store::open(config)?;
    let sub = NewSubmission {
        matter_code: "310104010001".into(),
        situation: "01".into(),
        catalog_version: 1,
        applicant: Applicant {
            id_type: "resident".into(),
            id_number: "320124198808240056".into(),
            name: "测试".into(),
            verified_by: "card+face".into(),
        },
        form: BTreeMap::from([("phone".to_string(), "13800138000".to_string())]),
        attachments: vec![],
    };
    let stdout = std::io::stdout();
    let mut n = 0u64;
    while count.is_none_or(|c| n < c) {
        let q = outbox::enqueue(&mut store, &key, &sub, chrono::Utc::now())?;
        // Printed only after the commit returned: every line names a durable submission.
        {
            let mut out = stdout.lock();
            writeln!(out, "queued {} {}", q.id, q.seq)?;
            out.flush()?;
        }
        handle.wake();
        n += 1;
        std::thread::sleep(Duration::from_millis(every_ms));
    }
    // With --count: wait for the engine to drain the outbox, then stop.
    loop {
        let s = outbox::status(&store)?;
        if s.pending + s.in_flight == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    handle.shutdown();
    let _ = sync_thread.join();
    Ok(ExitCode::SUCCESS)
}
