//! `device-sim printer`: an ESC/POS receipt printer that renders each receipt to a PNG on an
//! 80 mm (576-dot) page, with the decoded text and the QR payload beside it, and answers
//! `DLE EOT` / `GS a` from a paper / cover / cutter state that can change at run time.
//!
//! Written from `shared/specs/escpos-receipt-printer.md` alone: [`parser`] (bytes to
//! commands), [`state`] (status bytes), [`render`] (page drawing), [`engine`] (the printer
//! without I/O), [`link`] (PTY and TCP), [`control`] (stdin commands). Tests and the demo use
//! [`Simulator`] in-process.

pub mod control;
pub mod engine;
pub mod link;
pub mod parser;
pub mod render;
pub mod state;

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;

pub use engine::RenderedReceipt;
pub use parser::ModelOptions;
pub use state::{Paper, PrinterState};

use control::Control;
use link::Shared;

/// Debian's `fonts-droid-fallback` (Apache-2.0): CJK, no Latin letters.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf";
/// Debian's `fonts-dejavu-core`: the Latin letters and digits.
pub const DEFAULT_LATIN_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Cover {
    Open,
    Closed,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = control::HELP,
    group(clap::ArgGroup::new("connection").required(true).args(["link", "tcp"]))
)]
pub struct Args {
    /// Serial printer: open a pseudo-terminal and make PATH a symlink to it. Drivers use it
    /// as `serial:PATH`, or as `file:PATH` like a USB printer-class device.
    #[arg(long, value_name = "PATH")]
    pub link: Option<PathBuf>,
    /// Network printer: listen on ADDR, e.g. 127.0.0.1:9100 (port 0 picks a free port; the
    /// address is printed).
    #[arg(long, value_name = "ADDR")]
    pub tcp: Option<SocketAddr>,
    /// Folder for receipt-NNNN.png, receipt-NNNN.txt (decoded text) and receipt-NNNN.qr.txt.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Paper sensor at start: ok, near_end or out.
    #[arg(long, default_value = "ok", value_parser = |s: &str| s.parse::<Paper>())]
    pub paper: Paper,
    /// Cover at start.
    #[arg(long, value_enum, default_value = "closed")]
    pub cover: Cover,
    /// Paper runs out after N printed lines.
    #[arg(long, value_name = "N")]
    pub paper_out_after: Option<u32>,
    /// CJK font (TrueType/OpenType) for the PNGs.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_FONT)]
    pub font: PathBuf,
    /// Font for Latin letters and digits [default: DejaVu Sans Mono when installed].
    #[arg(long, value_name = "PATH")]
    pub latin_font: Option<PathBuf>,
    /// Model option: the font has the 4-byte GB18030 areas (otherwise they print as '?').
    #[arg(long)]
    pub four_byte_gb18030: bool,
    /// Model option: ESC @ leaves Chinese mode.
    #[arg(long)]
    pub init_leaves_chinese: bool,
    /// Model option: power up outside Chinese mode.
    #[arg(long)]
    pub ascii_at_start: bool,
}

/// Where the simulator listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A PTY with this symlink to its slave.
    Pty(PathBuf),
    /// A TCP address (port 0: any free port).
    Tcp(SocketAddr),
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub link: Link,
    pub out_dir: PathBuf,
    pub font: PathBuf,
    pub latin_font: Option<PathBuf>,
    pub state: PrinterState,
    pub model: ModelOptions,
}

impl SimConfig {
    /// Default fonts, state and model on the given connection.
    pub fn new(link: Link, out_dir: impl Into<PathBuf>) -> SimConfig {
        SimConfig {
            link,
            out_dir: out_dir.into(),
            font: PathBuf::from(DEFAULT_FONT),
            latin_font: Some(PathBuf::from(DEFAULT_LATIN_FONT)).filter(|p| p.exists()),
            state: PrinterState::default(),
            model: ModelOptions::default(),
        }
    }
}

/// A running simulator. Dropping it stops the I/O thread and removes the PTY link.
pub struct Simulator {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    link_path: Option<PathBuf>,
    slave_path: Option<PathBuf>,
    tcp_addr: Option<SocketAddr>,
}

impl Simulator {
    pub fn start(config: SimConfig) -> anyhow::Result<Simulator> {
        let fonts = Arc::new(render::Fonts::load(
            &config.font,
            config.latin_font.as_deref(),
        )?);
        let engine = engine::Engine::new(fonts, &config.out_dir, config.model, config.state)?;
        let shared = Arc::new(Shared {
            engine: Mutex::new(engine),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let mut sim = Simulator {
            shared: Arc::clone(&shared),
            thread: None,
            link_path: None,
            slave_path: None,
            tcp_addr: None,
        };
        let thread = match config.link {
            Link::Pty(path) => {
                let pty = link::open_pty(&path)?;
                sim.slave_path = Some(pty.slave_path.clone());
                sim.link_path = Some(path);
                std::thread::Builder::new()
                    .name("printer-sim-pty".into())
                    .spawn(move || link::serve_pty(&shared, pty))?
            }
            Link::Tcp(addr) => {
                let listener = link::bind_tcp(addr)?;
                sim.tcp_addr = Some(listener.local_addr()?);
                std::thread::Builder::new()
                    .name("printer-sim-tcp".into())
                    .spawn(move || link::serve_tcp(&shared, listener))?
            }
        };
        sim.thread = Some(thread);
        Ok(sim)
    }

    /// The symlink to the PTY (serial or device-file printers).
    pub fn link_path(&self) -> Option<&Path> {
        self.link_path.as_deref()
    }

    /// The PTY's real path, e.g. `/dev/pts/3`.
    pub fn slave_path(&self) -> Option<&Path> {
        self.slave_path.as_deref()
    }

    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp_addr
    }

    /// The driver's target string: `serial:LINK` or `tcp:HOST:PORT`.
    pub fn target(&self) -> String {
        match (&self.link_path, self.tcp_addr) {
            (Some(p), _) => format!("serial:{}", p.display()),
            (None, Some(a)) => format!("tcp:{a}"),
            (None, None) => String::new(),
        }
    }

    pub fn state(&self) -> PrinterState {
        self.shared.lock().state()
    }

    pub fn set_paper(&self, paper: Paper) {
        self.shared.lock().update_state(|s| s.paper = paper);
    }

    pub fn set_cover_open(&self, open: bool) {
        self.shared.lock().update_state(|s| s.cover_open = open);
    }

    pub fn set_cutter_error(&self, on: bool) {
        self.shared.lock().update_state(|s| s.cutter_error = on);
    }

    /// Paper runs out after `lines` more printed lines (`None`: never).
    pub fn paper_out_after(&self, lines: Option<u32>) {
        self.shared
            .lock()
            .update_state(|s| s.lines_until_out = lines);
    }

    pub fn receipts(&self) -> Vec<RenderedReceipt> {
        self.shared.lock().receipts().to_vec()
    }

    pub fn bytes_received(&self) -> u64 {
        self.shared.lock().bytes_received()
    }

    /// Bytes waiting while the engine is stopped (paper out, cover open).
    pub fn held_bytes(&self) -> usize {
        self.shared.lock().held_bytes()
    }

    /// Calls `f` with each receipt as it is written.
    pub fn on_receipt(&self, f: impl Fn(&RenderedReceipt) + Send + 'static) {
        self.shared.lock().set_on_receipt(Box::new(f));
    }

    /// Waits until at least `n` receipts exist, or fails after `timeout`.
    pub fn wait_for_receipts(
        &self,
        n: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<RenderedReceipt>> {
        let deadline = Instant::now() + timeout;
        let mut engine = self.shared.lock();
        loop {
            if engine.receipts().len() >= n {
                return Ok(engine.receipts().to_vec());
            }
            let now = Instant::now();
            if now >= deadline {
                anyhow::bail!(
                    "printer simulator: {} receipt(s) after {timeout:?}, expected {n} ({} bytes received, {} held)",
                    engine.receipts().len(),
                    engine.bytes_received(),
                    engine.held_bytes()
                );
            }
            engine = self
                .shared
                .changed
                .wait_timeout(engine, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Stops the I/O thread (also done on drop).
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let (Some(link), Some(slave)) = (&self.link_path, &self.slave_path) {
            if std::fs::read_link(link).ok().as_deref() == Some(slave.as_path()) {
                let _ = std::fs::remove_file(link);
            }
        }
    }

    /// Applies a run-time command and returns the answer for the operator.
    pub fn control(&self, cmd: &Control) -> String {
        match cmd {
            Control::Paper(p) => {
                self.set_paper(*p);
                format!("paper {p}")
            }
            Control::Cover { open } => {
                self.set_cover_open(*open);
                format!("cover {}", if *open { "open" } else { "closed" })
            }
            Control::PaperOutAfter(n) => {
                self.paper_out_after(*n);
                match n {
                    Some(n) => format!("paper runs out after {n} more lines"),
                    None => "paper countdown off".into(),
                }
            }
            Control::CutterError(on) => {
                self.set_cutter_error(*on);
                format!("cutter error {}", if *on { "on" } else { "off" })
            }
            Control::Status => {
                let s = self.state();
                let replies: Vec<String> = (1..=4)
                    .filter_map(|n| s.real_time(n).map(|b| format!("0x{b:02X}")))
                    .collect();
                format!(
                    "paper {}, cover {}, cutter error {}, lines until out {}, held bytes {}; DLE EOT 1..4 = {}",
                    s.paper,
                    if s.cover_open { "open" } else { "closed" },
                    s.cutter_error,
                    s.lines_until_out.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
                    self.held_bytes(),
                    replies.join(" ")
                )
            }
            Control::Receipts => {
                let list: Vec<String> = self
                    .receipts()
                    .iter()
                    .map(|r| format!("{} {}", r.number, r.png.display()))
                    .collect();
                if list.is_empty() {
                    "no receipts yet".into()
                } else {
                    list.join("\n")
                }
            }
            Control::Help => control::HELP.into(),
            Control::Quit => "bye".into(),
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let link = match (&args.link, args.tcp) {
        (Some(p), _) => Link::Pty(p.clone()),
        (None, Some(a)) => Link::Tcp(a),
        (None, None) => anyhow::bail!("give --link PATH or --tcp ADDR"),
    };
    let mut config = SimConfig::new(link, &args.out);
    config.font = args.font.clone();
    if let Some(latin) = &args.latin_font {
        config.latin_font = Some(latin.clone());
    }
    config.state = PrinterState {
        paper: args.paper,
        cover_open: args.cover == Cover::Open,
        lines_until_out: args.paper_out_after.filter(|n| *n > 0),
        ..PrinterState::default()
    };
    config.model = ModelOptions {
        chinese_at_start: !args.ascii_at_start,
        init_leaves_chinese: args.init_leaves_chinese,
        four_byte_gb18030: args.four_byte_gb18030,
    };
    let mut sim = Simulator::start(config).context("cannot start the printer simulator")?;
    sim.on_receipt(|r| {
        println!("receipt {}: {}", r.number, r.png.display());
        let _ = std::io::stdout().flush();
    });
    match (sim.link_path(), sim.slave_path(), sim.tcp_addr()) {
        (Some(link), Some(slave), _) => println!(
            "printer simulator ready: serial {} -> {}",
            link.display(),
            slave.display()
        ),
        (_, _, Some(addr)) => println!("printer simulator ready: tcp {addr}"),
        _ => {}
    }
    println!(
        "receipts go to {}; type `help` for commands",
        args.out.display()
    );
    std::io::stdout().flush()?;

    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match control::parse(&line) {
            Ok(Control::Quit) => {
                sim.stop();
                return Ok(());
            }
            Ok(cmd) => println!("{}", sim.control(&cmd)),
            Err(e) => println!("error: {e}"),
        }
        std::io::stdout().flush()?;
    }
    // Stdin closed (run in the background): serve until killed.
    loop {
        std::thread::park();
    }
}
