//! `kiosk staff ...`: the staff PIN, the audit log and maintenance mode from the command
//! line (over SSH, or before the first start).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use zeroize::Zeroizing;

use super::{print_json, Ctx};
use crate::maintenance::{
    self, mode, pin_config, AuditLog, Outcome, PinCheck, StaffAction, StaffGate,
};

#[derive(Debug, Subcommand)]
pub enum StaffCmd {
    /// Hash a new staff PIN (read from stdin: twice, hidden, on a terminal; one line from a
    /// pipe) and print the `[maintenance]` lines for the config.
    SetPin {
        /// Write the hash into the `--config` file instead (comments and other keys kept).
        #[arg(long)]
        write: bool,
    },
    /// Check a PIN (from stdin) exactly as the diagnostics screen does: it counts towards
    /// the lockout and is audited. Exits 0 only when the PIN is right.
    CheckPin {
        #[arg(long)]
        json: bool,
    },
    /// The latest audit rows, newest first (no personal data).
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Switch maintenance mode (the citizen screen shows "under maintenance"); audited.
    MaintenanceMode {
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

pub fn run(ctx: &Ctx, cmd: StaffCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        StaffCmd::SetPin { write } => set_pin(ctx, write),
        StaffCmd::CheckPin { json } => check_pin(ctx, json),
        StaffCmd::Audit { limit, json } => {
            let store = ctx.open_store()?;
            let rows = AuditLog::new(&store).recent(limit)?;
            if json {
                print_json(&rows)?;
            } else {
                for r in rows {
                    println!("{}  {:<22} {:<8} {}", r.at, r.action, r.outcome, r.detail);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        StaffCmd::MaintenanceMode { state } => {
            let mut store = ctx.open_store()?;
            let m = mode::set(&mut store, state == "on", crate::store::now_ms())?;
            println!("maintenance mode {}", if m.on { "on" } else { "off" });
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn set_pin(ctx: &Ctx, write: bool) -> anyhow::Result<ExitCode> {
    let pin = if std::io::stdin().is_terminal() {
        let first = read_hidden("new staff PIN: ")?;
        maintenance::pin::check_pin_format(&first)?;
        let second = read_hidden("again: ")?;
        anyhow::ensure!(*first == *second, "the two PINs differ; nothing changed");
        first
    } else {
        read_line()?
    };
    let hash = maintenance::hash_pin(&pin)?;
    if !write {
        println!("[maintenance]");
        println!("staff_pin_hash = \"{}\"", hash.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    let path = ctx
        .config_path
        .as_deref()
        .context("--write needs --config FILE: the file to put the hash in")?;
    pin_config::write_pin_hash(path, &hash)?;
    eprintln!("staff PIN hash written to {}", path.display());
    // Best effort: the data folder may not exist yet on a machine being prepared.
    match ctx.open_store() {
        Ok(store) => {
            AuditLog::new(&store).record(
                crate::store::now_ms(),
                StaffAction::PinChanged,
                Outcome::Success,
                "",
            )?;
        }
        Err(e) => eprintln!("note: not audited ({e:#})"),
    }
    Ok(ExitCode::SUCCESS)
}

fn check_pin(ctx: &Ctx, json: bool) -> anyhow::Result<ExitCode> {
    let gate = StaffGate::from_config(&ctx.config.maintenance)?;
    let pin = if std::io::stdin().is_terminal() {
        read_hidden("staff PIN: ")?
    } else {
        read_line()?
    };
    let mut store = ctx.open_store()?;
    let check = gate.try_enter(&mut store, &pin, crate::store::now_ms())?;
    if json {
        print_json(&check)?;
    } else {
        match check {
            PinCheck::Granted => println!("PIN accepted"),
            PinCheck::Wrong { remaining } => println!("wrong PIN; {remaining} attempt(s) left"),
            PinCheck::Locked { until_ms } => println!(
                "locked until {}",
                crate::outbox::entries::ms_to_rfc3339(until_ms).unwrap_or_default()
            ),
            PinCheck::NotConfigured => {
                println!("no staff PIN configured (maintenance.staff_pin_hash)")
            }
        }
    }
    Ok(if check == PinCheck::Granted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One line from stdin without its line end.
fn read_line() -> anyhow::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line)?;
    let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    Ok(trimmed)
}

/// Prompts on stderr and reads a line from the terminal with echo off.
fn read_hidden(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let saved = tcgetattr(&stdin).context("cannot read the terminal settings")?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet).context("cannot turn echo off")?;
    let line = read_line();
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    eprintln!();
    line
}
