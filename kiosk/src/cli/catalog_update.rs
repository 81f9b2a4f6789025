//! `kiosk catalog verify | health | switch`: signed catalog updates seen from the kiosk.
//! (A submodule of `cli::catalog`; these commands do not load the active catalog first.)

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::{print_json, Ctx};
use crate::catalog::trust::{self, Installed, Policy, Refusal, RefusalView, TrustedKeys};
use crate::catalog::update;
use crate::store::Store;

/// The shape of `kiosk catalog verify --json` (add fields, never rename).
#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub accepted: bool,
    pub version: Option<u64>,
    pub matters: Option<usize>,
    pub signer: Option<String>,
    pub issued_at: Option<String>,
    pub expires_at: Option<String>,
    /// Highest version stored on this kiosk (`None`: nothing installed, or no database here).
    pub installed_version: Option<u64>,
    pub trusted_keys: Vec<String>,
    pub refusals: Vec<RefusalView>,
}

/// The kiosk's installed state, without creating a database where there is none (an admin
/// verifying on their own machine).
fn installed_here(ctx: &Ctx) -> anyhow::Result<Option<Installed>> {
    if !ctx.config.db_path().exists() {
        return Ok(None);
    }
    update::installed(&ctx.open_store()?)
}

/// Keys from `--trusted-key`, else the config's `catalog.trusted_keys`.
fn trusted_keys(ctx: &Ctx, flags: &[PathBuf]) -> anyhow::Result<TrustedKeys> {
    if !flags.is_empty() {
        return TrustedKeys::load(flags);
    }
    let paths: Vec<PathBuf> = ctx
        .config
        .catalog
        .trusted_keys
        .iter()
        .map(|p| ctx.config.data_path(p))
        .collect();
    TrustedKeys::load(&paths)
}

/// Reads at most `max + 1` bytes: a huge file is refused by size without being read whole.
fn read_limited(path: &Path, max: u64) -> anyhow::Result<(Vec<u8>, u64)> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let size = f.metadata()?.len();
    let mut bytes = Vec::new();
    f.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((bytes, size))
}

pub fn verify(
    ctx: &Ctx,
    envelope: &Path,
    flags: &[PathBuf],
    json: bool,
) -> anyhow::Result<ExitCode> {
    let keys = trusted_keys(ctx, flags)?;
    let installed = installed_here(ctx)?;
    let max = ctx.config.catalog.max_envelope_bytes;
    let policy = Policy {
        now: chrono::Utc::now(),
        grace_s: ctx.config.catalog.expiry_grace_s,
        max_bytes: max,
        installed,
    };
    let (bytes, size) = read_limited(envelope, max)?;
    let report = if size > max {
        // Not read past the limit, so say the file's real size.
        VerifyReport {
            accepted: false,
            version: None,
            matters: None,
            signer: None,
            issued_at: None,
            expires_at: None,
            installed_version: installed.map(|i| i.version),
            trusted_keys: keys.ids().iter().map(|s| s.to_string()).collect(),
            refusals: vec![RefusalView::from(&Refusal::TooLarge { size, max })],
        }
    } else {
        let i = trust::inspect_envelope(&bytes, &keys, &policy);
        VerifyReport {
            accepted: i.accepted(),
            version: i.version,
            matters: i.matters,
            signer: i.signer.clone(),
            issued_at: i.issued_at.clone(),
            expires_at: i.expires_at.clone(),
            installed_version: installed.map(|i| i.version),
            trusted_keys: keys.ids().iter().map(|s| s.to_string()).collect(),
            refusals: i.refusals.iter().map(RefusalView::from).collect(),
        }
    };
    if json {
        print_json(&report)?;
    } else {
        print_report(envelope, &report);
    }
    Ok(if report.accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(path: &Path, r: &VerifyReport) {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!("envelope   {}", path.display());
    println!(
        "version    {} (installed here: {})",
        r.version.map_or("-".into(), |v| v.to_string()),
        r.installed_version.map_or("none".into(), |v| v.to_string())
    );
    println!(
        "matters    {}",
        r.matters.map_or("-".into(), |v| v.to_string())
    );
    println!("signer     {}", show(&r.signer));
    println!("issued     {}", show(&r.issued_at));
    println!("expires    {}", show(&r.expires_at));
    println!(
        "trusting   {}",
        if r.trusted_keys.is_empty() {
            "no key (configure catalog.trusted_keys or pass --trusted-key)".into()
        } else {
            r.trusted_keys.join(", ")
        }
    );
    if r.accepted {
        println!("ACCEPTED: this kiosk would install it");
    } else {
        println!("REFUSED ({} reason(s)):", r.refusals.len());
        for x in &r.refusals {
            println!("  - {}: {}", x.code, x.message);
        }
    }
}

pub fn health(ctx: &Ctx, json: bool) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store()?;
    let h = update::catalog_health(
        &store,
        chrono::Utc::now(),
        ctx.config.catalog.expiry_grace_s,
    )?;
    if json {
        print_json(&h)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "active     {}",
        h.version.map_or("none".into(), |v| v.to_string())
    );
    println!("expires    {}", h.expires_at.as_deref().unwrap_or("-"));
    println!(
        "staged     {}",
        h.staged_version.map_or("none".into(), |v| format!(
            "{v} (switches at the next return to Home)"
        ))
    );
    if let Some(r) = &h.last_refusal {
        let codes: Vec<&str> = r.refusals.iter().map(|x| x.code.as_str()).collect();
        println!("refused    at {}: {}", r.at, codes.join(", "));
    }
    for w in h.warnings() {
        println!("WARNING    {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// What the touch app does at every return to Home, for engineers with the app stopped (a
/// running app keeps the catalog it loaded until its own next switch or restart).
pub fn switch(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let mut store: Store = ctx.open_store()?;
    let before = crate::catalog::load_active(&mut store)?.version;
    let staged = store
        .catalog_info(crate::store::CatalogSlot::Staged)?
        .map(|r| r.version);
    match (update::switch_if_staged(&mut store)?, staged) {
        (Some(c), _) => {
            println!(
                "switched from catalog version {before} to {} ({} matters)",
                c.version,
                c.matters.len()
            );
        }
        (None, Some(failed)) => {
            let h = update::catalog_health(
                &store,
                chrono::Utc::now(),
                ctx.config.catalog.expiry_grace_s,
            )?;
            let reason = h.last_rollback.map(|r| r.reason).unwrap_or_default();
            anyhow::bail!(
                "staged catalog version {failed} did not load; version {before} stays: {reason}"
            );
        }
        (None, None) => println!("nothing staged; catalog version {before} stays"),
    }
    Ok(ExitCode::SUCCESS)
}
