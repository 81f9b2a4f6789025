//! `device-sim idcard`: a SAM ID card reader (GA/T 467) on a real pseudo-terminal, written
//! from `idcard-sam-protocol.md` alone (it does not import the driver).
//!
//! It prints the PTY slave path as the first line of stdout (and points `--link PATH` at it),
//! then answers the protocol like a reader: real frames, the baud rate's timing, SW3 codes,
//! find/select/read sequencing, a deck of synthetic cards. Control it with one-line commands
//! on stdin or on the `--control` Unix socket (see [`control`]): `put <card-id>`, `remove`,
//! `fault <...> [once]`, `list`, `status`, `replug`, `quit`.
//!
//! In-process use (tests, the kiosk demo, the benchmark):
//! ```no_run
//! use device_sim::idcard::{Deck, SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::new(Deck::builtin()?))?;
//! sim.put("resident-zhang").map_err(anyhow::Error::msg)?;
//! let port = sim.port_path(); // give this to the driver
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Modules: [`frame`] (request parser, reply encoder), [`engine`] (reader behaviour and
//! faults, no I/O), [`deck`] (TOML cards), [`text`] (the 256-byte text block per card type),
//! [`photo`] (the `HKSIMPH1` test encoding, NOT WLT), [`pty`] (PTY and symlink), [`server`]
//! (the paced I/O thread and [`SimHandle`]), [`control`] (the command lines).

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

pub mod control;
pub mod deck;
pub mod engine;
pub mod frame;
pub mod photo;
pub mod pty;
pub mod server;
pub mod text;

pub use deck::{CardKind, CardSpec, Deck, SimCard};
pub use engine::{Fault, ReaderTraits};
pub use server::{SimConfig, SimHandle, Simulator};

/// Arguments of `device-sim idcard`.
#[derive(Debug, clap::Args)]
#[command(after_help = control::HELP)]
pub struct Args {
    /// Make PATH a symlink to the PTY slave (it follows `replug`; removed on exit).
    #[arg(long, value_name = "PATH")]
    pub link: Option<PathBuf>,
    /// Line rate the replies are paced at (10 bits a byte).
    #[arg(long, value_name = "N", default_value_t = 115_200)]
    pub baud: u32,
    /// Deck of synthetic cards (TOML). Default: the built-in deck (decks/synthetic.toml).
    #[arg(long, value_name = "FILE")]
    pub cards: Option<PathBuf>,
    /// Put this card on the reader at start (default: the deck's `initial`).
    #[arg(long, value_name = "CARD_ID")]
    pub card: Option<String>,
    /// Also take control commands on this Unix socket.
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// Start with these faults, as `fault` takes them (e.g. `garbage,split`).
    #[arg(long, value_name = "FAULTS")]
    pub fault: Option<String>,
    /// Send replies at once instead of at the baud rate's pace.
    #[arg(long)]
    pub no_pace: bool,
    /// Seed of the garbage generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    TERMINATE.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() -> Result<()> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { sigaction(sig, &action) }.context("cannot install signal handler")?;
    }
    Ok(())
}

/// Runs the simulator until `quit`, SIGTERM or SIGINT.
pub fn run(args: Args) -> Result<()> {
    let deck = match &args.cards {
        Some(path) => Deck::load(path)?,
        None => Deck::builtin()?,
    };
    let mut config = SimConfig::new(deck);
    config.baud = args.baud;
    config.pace = !args.no_pace;
    config.link = args.link.clone();
    config.initial_card = args.card.clone();
    config.seed = args.seed;
    install_signal_handlers()?;
    let sim = Arc::new(Simulator::start(config)?);
    if let Some(spec) = &args.fault {
        let answer = control::execute(&sim, &format!("fault {spec}"));
        if answer.line.starts_with("error") {
            anyhow::bail!("--fault {spec}: {}", answer.line);
        }
    }
    let quit = Arc::new(AtomicBool::new(false));
    if let Some(path) = &args.control {
        let q = Arc::clone(&quit);
        control::listen(Arc::clone(&sim), path, move || {
            q.store(true, Ordering::SeqCst)
        })?;
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", sim.slave_path().display())?;
        out.flush()?;
    }
    // Commands from stdin on their own thread, so signals and socket `quit` end the wait
    // below even while stdin blocks. End of stdin is not a stop: `device-sim idcard &` runs on.
    {
        let sim = Arc::clone(&sim);
        let q = Arc::clone(&quit);
        std::thread::Builder::new()
            .name("idcard-sim-stdin".into())
            .spawn(move || {
                if control::serve_lines(&sim, std::io::stdin().lock(), std::io::stdout()) {
                    q.store(true, Ordering::SeqCst);
                }
            })?;
    }
    while !quit.load(Ordering::SeqCst) && !TERMINATE.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
    if let Some(path) = &args.control {
        let _ = std::fs::remove_file(path);
    }
    // Stops the server thread and removes the link; the stdin thread ends with the process.
    sim.stop();
    Ok(())
}
