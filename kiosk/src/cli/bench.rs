//! `kiosk bench [--json] [--only NAME]`: runs the benchmarks and prints one table.

use std::process::ExitCode;

use super::Ctx;
use crate::bench;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array of rows instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Run only the benchmark groups with these names (repeatable).
    #[arg(long)]
    pub only: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let mut rows = Vec::new();
    for b in bench::all() {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == b.name) {
            continue;
        }
        eprintln!("running benchmark {} ...", b.name);
        rows.extend((b.run)(&ctx.config)?);
    }
    if args.json {
        super::print_json(&rows)?;
    } else {
        println!(
            "{:<44} {:>12} {:<6} {:<34} {:>12} {:>8} {:<14} ok",
            "name", "value", "unit", "peer", "peer value", "ratio", "target"
        );
        for r in &rows {
            println!(
                "{:<44} {:>12.3} {:<6} {:<34} {:>12} {:>8} {:<14} {}",
                r.name,
                r.value,
                r.unit,
                r.peer,
                r.peer_value.map(|v| format!("{v:.3}")).unwrap_or_default(),
                r.ratio.map(|v| format!("{v:.3}x")).unwrap_or_default(),
                r.target,
                if r.ok { "yes" } else { "NO" }
            );
        }
        let notes: Vec<_> = rows.iter().filter(|r| !r.note.is_empty()).collect();
        if !notes.is_empty() {
            println!();
            for r in notes {
                println!("{}: {}", r.name, r.note);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
