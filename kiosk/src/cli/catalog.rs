//! `kiosk catalog ...`: the installed matter catalog.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use super::{print_json, Ctx};
use crate::catalog::{self, SearchIndex};

#[derive(Debug, Subcommand)]
pub enum CatalogCmd {
    /// Counts: matters (person, business), departments, bundles, version.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Search matters and bundles (hanzi, pinyin, initials, English, codes).
    Search {
        query: String,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// One matter or bundle as stored.
    Show {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Write the installed catalog as the JSON admins edit, diff and sign.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a signed catalog envelope offline: exits 0 only when this kiosk would accept it.
    Verify {
        envelope: PathBuf,
        /// A trusted public key `ID.pub` (repeatable). Default: the config's trusted keys.
        #[arg(long = "trusted-key", value_name = "FILE.pub")]
        trusted_keys: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Installed, staged and stale state of the catalog, last refusal and rollback.
    Health {
        #[arg(long)]
        json: bool,
    },
    /// Make the staged catalog active now (what the touch app does at Home; use with it
    /// stopped).
    Switch,
}

#[path = "catalog_update.rs"]
mod update;

pub fn run(ctx: &Ctx, cmd: CatalogCmd) -> anyhow::Result<ExitCode> {
    // These read or change the stored versions themselves.
    match cmd {
        CatalogCmd::Verify {
            envelope,
            trusted_keys,
            json,
        } => return update::verify(ctx, &envelope, &trusted_keys, json),
        CatalogCmd::Health { json } => return update::health(ctx, json),
        CatalogCmd::Switch => return update::switch(ctx),
        _ => {}
    }
    let mut store = ctx.open_store()?;
    let cat = catalog::load_active(&mut store)?;
    match cmd {
        CatalogCmd::Stats { json } => {
            let s = cat.stats();
            if json {
                print_json(&s)?;
            } else {
                println!("catalog version {} ({})", s.version, s.notice);
                println!(
                    "{} matters: {} for persons, {} for businesses",
                    s.matters, s.person, s.business
                );
                println!(
                    "{} departments, {} themes, {} one-thing bundles",
                    s.departments, s.themes, s.bundles
                );
                println!("issued {}, expires {}", s.issued_at, s.expires_at);
            }
        }
        CatalogCmd::Search { query, limit, json } => {
            let hits = SearchIndex::new(&cat).search(&query, limit);
            if json {
                print_json(&hits)?;
            } else if hits.is_empty() {
                println!("nothing found for {query:?}");
            } else {
                for h in hits {
                    let kind = match h.entry_type {
                        catalog::search::EntryType::Matter => "matter",
                        catalog::search::EntryType::Bundle => "bundle",
                    };
                    println!("{:<13} {:<6} {}  {}", h.code, kind, h.name_zh, h.name_en);
                }
            }
        }
        CatalogCmd::Show { code, json } => {
            let value = if let Some(m) = cat.matter(&code) {
                serde_json::to_value(m)?
            } else if let Some(b) = cat.bundle(&code) {
                serde_json::to_value(b)?
            } else {
                anyhow::bail!(
                    "no matter or bundle has the code {code:?} in catalog version {}",
                    cat.version
                );
            };
            if json {
                print_json(&value)?;
            } else {
                println!("{}", serde_json::to_string_pretty(&value)?);
            }
        }
        CatalogCmd::Export { out } => {
            let json = serde_json::to_vec_pretty(&cat)?;
            std::fs::write(&out, json)
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("wrote catalog version {} to {}", cat.version, out.display());
        }
        CatalogCmd::Verify { .. } | CatalogCmd::Health { .. } | CatalogCmd::Switch => {}
    }
    Ok(ExitCode::SUCCESS)
}
