//! `kiosk outbox ...`: the submission outbox.

use std::process::ExitCode;

use clap::Subcommand;

use super::{print_json, Ctx};
use crate::outbox::{self, EntryState};

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// Counts per state and the age of the oldest unsent submission.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Entries in seq order: state, attempts, next attempt, error, receipt (no personal data).
    List {
        /// Only entries in this state: pending, in_flight, acked, quarantined.
        #[arg(long, value_parser = parse_state)]
        state: Option<EntryState>,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Send an entry again: a quarantined one after staff fixed the cause, or a pending one
    /// now instead of at the end of its backoff.
    Retry {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Queue a submission as the touch flow would (same validation, same transaction), for
    /// staff-assisted entry and scripted tests. Prints the id and seq.
    Add(outbox_add::AddArgs),
}

fn parse_state(s: &str) -> Result<EntryState, String> {
    EntryState::parse(s)
        .ok_or_else(|| format!("unknown state {s:?}: pending, in_flight, acked or quarantined"))
}

pub fn run(ctx: &Ctx, cmd: OutboxCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        OutboxCmd::Status { json } => {
            let store = ctx.open_store()?;
            let s = outbox::status(&store)?;
            if json {
                print_json(&s)?;
            } else {
                println!("pending      {}", s.pending);
                println!("in flight    {}", s.in_flight);
                println!("acknowledged {}", s.acked);
                println!("quarantined  {}", s.quarantined);
                match s.oldest_pending_s {
                    Some(age) => println!("oldest unsent {age} s ago"),
                    None => println!("nothing waiting to be sent"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OutboxCmd::List { state, limit, json } => {
            let store = ctx.open_store()?;
            let rows = outbox::entries::list(&store, state, limit)?;
            if json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("no entries");
            } else {
                println!(
                    "{:>6}  {:<36}  {:<11}  {:>3}  {:<24}  error",
                    "seq", "id", "state", "try", "next attempt / receipt"
                );
                for r in &rows {
                    let when = match r.state {
                        EntryState::Acked => r.receipt_no.clone().unwrap_or_default(),
                        _ => r.next_attempt_at.clone().unwrap_or_default(),
                    };
                    let error = match (&r.reject_code, &r.last_error) {
                        (Some(c), Some(e)) => format!("{c}: {e}"),
                        (None, Some(e)) => e.clone(),
                        (Some(c), None) => c.clone(),
                        (None, None) => String::new(),
                    };
                    println!(
                        "{:>6}  {:<36}  {:<11}  {:>3}  {:<24}  {}",
                        r.seq,
                        r.id,
                        r.state.as_str(),
                        r.attempts,
                        when,
                        error
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OutboxCmd::Retry { id, json } => {
            let mut store = ctx.open_store()?;
            let was = outbox::entries::retry(&mut store, &id, crate::store::now_ms())?;
            if json {
                print_json(&serde_json::json!({"id": id, "was": was, "now": EntryState::Pending}))?;
            } else {
                println!("{id}: {} -> pending, due now", was.as_str());
            }
            Ok(ExitCode::SUCCESS)
        }
        OutboxCmd::Add(args) => outbox_add::run(ctx, args),
    }
}

// `kiosk outbox add` has a file of its own (validation against the catalog).
#[path = "outbox_add.rs"]
mod outbox_add;
