//! The running simulator: a thread that reads requests from the PTY master, asks the
//! [`Engine`] for the reply and writes it at the configured baud rate's pace (10 bits a byte,
//! 8N1), so a driver sees real timing and replies arriving in pieces.
//!
//! Timing model: a reply starts when the request would have finished arriving (its first byte
//! plus its own wire time); each chunk of about one millisecond of bytes is written when its
//! last byte would have arrived. A full read therefore takes the wire floor plus the driver's
//! own overhead, which is what the benchmark measures.

use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::deck::Deck;
use super::engine::{Engine, Fault, Plan, ReaderTraits};
use super::frame::{Incoming, RequestParser};
use super::pty::{self, Pty};

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub deck: Deck,
    /// Line rate for pacing (the PTY itself ignores it).
    pub baud: u32,
    /// Pace bytes at the baud rate (false: replies go out at once).
    pub pace: bool,
    /// Make this path a symlink to the PTY slave (and follow replugs).
    pub link: Option<PathBuf>,
    /// Card on the reader at start (else the deck's `initial`).
    pub initial_card: Option<String>,
    pub traits: ReaderTraits,
    /// Seed of the garbage generator.
    pub seed: u64,
    /// Extra time per reply, as a reader talking to the card over RF would take.
    pub processing: Duration,
}

impl SimConfig {
    pub fn new(deck: Deck) -> SimConfig {
        SimConfig {
            deck,
            baud: 115_200,
            pace: true,
            link: None,
            initial_card: None,
            traits: ReaderTraits::default(),
            seed: 1,
            processing: Duration::ZERO,
        }
    }
}

struct Shared {
    engine: Mutex<Engine>,
    baud: AtomicU32,
    slave_path: Mutex<PathBuf>,
    replug: AtomicBool,
    stop: AtomicBool,
    generation: AtomicU64,
    pace: bool,
    processing: Duration,
    link: Option<PathBuf>,
}

impl Shared {
    fn engine(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn slave(&self) -> MutexGuard<'_, PathBuf> {
        self.slave_path.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Entry point for tests, the demo and the CLI.
pub struct Simulator;

impl Simulator {
    /// Opens the PTY, puts the initial card on, starts the server thread.
    pub fn start(config: SimConfig) -> Result<SimHandle> {
        let pty = pty::open()?;
        if let Some(link) = &config.link {
            pty::set_link(link, &pty.slave_path)?;
        }
        let mut engine = Engine::new(config.deck, config.traits, config.seed);
        if let Some(id) = config.initial_card.or_else(|| engine.deck.initial.clone()) {
            engine.put(&id).map_err(anyhow::Error::msg)?;
        }
        let shared = Arc::new(Shared {
            engine: Mutex::new(engine),
            baud: AtomicU32::new(config.baud.max(1)),
            slave_path: Mutex::new(pty.slave_path.clone()),
            replug: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            pace: config.pace,
            processing: config.processing,
            link: config.link,
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("idcard-sim".into())
            .spawn(move || serve(s, pty))
            .context("cannot start the simulator thread")?;
        Ok(SimHandle {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }
}

/// A running simulator. Dropping it stops the thread and removes the symlink.
pub struct SimHandle {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl SimHandle {
    /// The PTY slave the driver opens (changes on [`SimHandle::replug`]).
    pub fn slave_path(&self) -> PathBuf {
        self.shared.slave().clone()
    }

    pub fn link(&self) -> Option<&Path> {
        self.shared.link.as_deref()
    }

    /// The path to give a driver: the symlink when there is one, else the slave.
    pub fn port_path(&self) -> PathBuf {
        self.link()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.slave_path())
    }

    pub fn put(&self, id: &str) -> Result<(), String> {
        self.shared.engine().put(id)
    }

    pub fn remove(&self) {
        self.shared.engine().remove();
    }

    pub fn card_on_reader(&self) -> Option<String> {
        self.shared.engine().card_on_reader().map(str::to_string)
    }

    pub fn card_ids(&self) -> Vec<String> {
        self.shared
            .engine()
            .deck
            .ids()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// Replaces the active faults; `once` clears them after the first reply they change.
    pub fn set_faults(&self, faults: Vec<Fault>, once: bool) {
        self.shared.engine().set_faults(faults, once);
    }

    pub fn faults(&self) -> (Vec<Fault>, bool) {
        let e = self.shared.engine();
        let (f, once) = e.faults();
        (f.to_vec(), once)
    }

    pub fn baud(&self) -> u32 {
        self.shared.baud.load(Ordering::Relaxed)
    }

    /// Replies sent so far.
    pub fn replies(&self) -> u64 {
        self.shared.engine().replies
    }

    /// Closes the PTY (the driver's port goes away) and opens a new one; the symlink follows.
    /// Returns the new slave path once it is up.
    pub fn replug(&self) -> Result<PathBuf> {
        let before = self.shared.generation.load(Ordering::SeqCst);
        self.shared.replug.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.shared.generation.load(Ordering::SeqCst) == before {
            if Instant::now() > deadline || !self.is_running() {
                bail!("the simulator did not reopen its PTY");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(self.slave_path())
    }

    fn is_running(&self) -> bool {
        let t = self.thread.lock().unwrap_or_else(|p| p.into_inner());
        t.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the simulator: the PTY closes and the symlink goes. Later calls do nothing.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
            if let Some(link) = &self.shared.link {
                pty::remove_link(link, &self.slave_path());
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wire(bytes: usize, baud: u32) -> Duration {
    Duration::from_secs_f64(bytes as f64 * 10.0 / f64::from(baud))
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

fn serve(shared: Arc<Shared>, mut pty: Pty) {
    let mut parser = RequestParser::default();
    let mut first_byte_at: Option<Instant> = None;
    let mut buf = [0u8; 512];
    while !shared.stop.load(Ordering::SeqCst) {
        if shared.replug.load(Ordering::SeqCst) {
            match replug(&shared, &mut pty) {
                Ok(()) => {
                    parser.clear();
                    first_byte_at = None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot reopen the PTY; retrying");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            continue;
        }
        let fd = pty.master.as_raw_fd();
        match read_some(fd, &mut buf) {
            Input::Bytes(n) => {
                if parser.is_empty() {
                    first_byte_at = Some(Instant::now());
                }
                parser.push(&buf[..n]);
            }
            Input::Nothing => continue,
            Input::NoHost => {
                // Nobody has the slave open: forget half-received requests and wait.
                parser.clear();
                first_byte_at = None;
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        }
        while let Some(incoming) = parser.next_request() {
            let req_len = match &incoming {
                Incoming::Request { data, .. } => 10 + data.len(),
                _ => 10,
            };
            let baud = shared.baud.load(Ordering::Relaxed);
            let arrived = first_byte_at.unwrap_or_else(Instant::now);
            let plan = shared.engine().handle(incoming);
            let start = if shared.pace {
                arrived + wire(req_len, baud) + shared.processing
            } else {
                Instant::now() + shared.processing
            };
            send(&shared, fd, &plan, baud, start);
            if let Some(b) = plan.new_baud {
                shared.baud.store(b, Ordering::Relaxed);
            }
            first_byte_at = (!parser.is_empty()).then(Instant::now);
        }
    }
}

fn replug(shared: &Shared, pty: &mut Pty) -> Result<()> {
    let new = pty::open()?;
    // Dropping the old master hangs up the driver's side.
    *pty = new;
    if let Some(link) = &shared.link {
        pty::set_link(link, &pty.slave_path)?;
    }
    *shared.slave() = pty.slave_path.clone();
    shared.engine().reset_link();
    shared.replug.store(false, Ordering::SeqCst);
    shared.generation.fetch_add(1, Ordering::SeqCst);
    tracing::info!(slave = %pty.slave_path.display(), "PTY replugged");
    Ok(())
}

enum Input {
    Bytes(usize),
    Nothing,
    NoHost,
}

/// Waits up to 50 ms for request bytes.
fn read_some(fd: RawFd, buf: &mut [u8]) -> Input {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, a short timeout.
    let r = unsafe { libc::poll(&mut pfd, 1, 50) };
    if r <= 0 {
        return Input::Nothing;
    }
    if pfd.revents & libc::POLLIN == 0 {
        return Input::NoHost;
    }
    // SAFETY: reading into a buffer we own, at most its length.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n > 0 {
        return Input::Bytes(n as usize);
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EAGAIN) | Some(libc::EINTR) => Input::Nothing,
        // EIO: the slave closed.
        _ => Input::NoHost,
    }
}

/// Writes all of `bytes`; false when the host went away or stopped reading for 2 s.
fn write_all(fd: RawFd, mut bytes: &[u8]) -> bool {
    let mut stalled_since: Option<Instant> = None;
    while !bytes.is_empty() {
        // SAFETY: writing from a slice we own, at most its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n > 0 {
            bytes = &bytes[n as usize..];
            stalled_since = None;
            continue;
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EINTR) => {
                let since = *stalled_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(2) {
                    return false;
                }
                let mut pfd = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd, a short timeout.
                unsafe { libc::poll(&mut pfd, 1, 20) };
            }
            _ => return false,
        }
    }
    true
}

/// Puts a reply on the wire as planned.
fn send(shared: &Shared, fd: RawFd, plan: &Plan, baud: u32, start: Instant) {
    let bytes = &plan.bytes;
    if bytes.is_empty() {
        return;
    }
    let t0 = if shared.pace {
        start + wire(plan.delay_bytes, baud)
    } else {
        start
    };
    sleep_until(t0);
    // About one millisecond of bytes a write when pacing.
    let chunk = if shared.pace {
        (baud as usize / 10 / 1000).max(1)
    } else {
        bytes.len()
    };
    let mut split_state = 0x9E37_79B9u32 ^ bytes.len() as u32;
    let mut sent = 0;
    while sent < bytes.len() {
        if shared.stop.load(Ordering::Relaxed) || shared.replug.load(Ordering::Relaxed) {
            return;
        }
        let n = if plan.split {
            split_state ^= split_state << 13;
            split_state ^= split_state >> 17;
            split_state ^= split_state << 5;
            1 + (split_state % 7) as usize
        } else {
            chunk
        }
        .min(bytes.len() - sent);
        if shared.pace {
            sleep_until(t0 + wire(sent + n, baud));
        } else if plan.split && sent > 0 {
            std::thread::sleep(Duration::from_micros(300));
        }
        if !write_all(fd, &bytes[sent..sent + n]) {
            return;
        }
        sent += n;
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::os::fd::OwnedFd;

    use super::*;

    /// The host side: the slave opened raw, blocking, with a read timeout via poll.
    struct Host(std::fs::File);

    impl Host {
        fn open(path: &Path) -> Host {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .unwrap();
            let fd: OwnedFd = f.try_clone().unwrap().into();
            let mut t = nix::sys::termios::tcgetattr(&fd).unwrap();
            nix::sys::termios::cfmakeraw(&mut t);
            nix::sys::termios::tcsetattr(&fd, nix::sys::termios::SetArg::TCSANOW, &t).unwrap();
            Host(f)
        }

        /// Sends a request and collects bytes until `done` says so (or 5 s pass).
        fn ask_until(&mut self, req: &[u8], done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
            self.0.write_all(req).unwrap();
            let mut got = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut buf = [0u8; 4096];
            while !done(&got) && Instant::now() < deadline {
                let mut pfd = libc::pollfd {
                    fd: self.0.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                if unsafe { libc::poll(&mut pfd, 1, 100) } > 0 {
                    let n = self.0.read(&mut buf).unwrap();
                    got.extend_from_slice(&buf[..n]);
                }
            }
            got
        }

        fn ask(&mut self, req: &[u8], want: usize) -> Vec<u8> {
            self.ask_until(req, |got| got.len() >= want)
        }
    }

    const FIND: [u8; 10] = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22];

    fn start(pace: bool) -> SimHandle {
        let mut cfg = SimConfig::new(Deck::builtin().unwrap());
        cfg.pace = pace;
        Simulator::start(cfg).unwrap()
    }

    #[test]
    fn answers_over_a_real_pty_and_survives_the_host_reopening() {
        let sim = start(false);
        let id = sim.card_ids()[0].clone();
        sim.put(&id).unwrap();
        for _ in 0..3 {
            let mut host = Host::open(&sim.slave_path());
            let got = host.ask(&FIND, 15);
            assert_eq!(&got[..], &super::super::frame::reply(0x9F, &[0; 4])[..]);
            drop(host); // master reads now fail with EIO until the next open
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    #[test]
    fn replug_moves_the_link_and_hangs_up_the_old_slave() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("reader");
        let mut cfg = SimConfig::new(Deck::builtin().unwrap());
        cfg.pace = false;
        cfg.link = Some(link.clone());
        let sim = Simulator::start(cfg).unwrap();
        let old = sim.slave_path();
        assert_eq!(std::fs::read_link(&link).unwrap(), old);
        let mut host = Host::open(&link);
        assert_eq!(host.ask(&FIND, 15).len(), 15);
        let new = sim.replug().unwrap();
        assert_ne!(new, old);
        assert_eq!(std::fs::read_link(&link).unwrap(), new);
        let mut again = Host::open(&link);
        assert_eq!(
            again.ask(&FIND, 15)[9],
            0x9F,
            "the deck's initial card is still on"
        );
        drop(sim);
        assert!(
            std::fs::symlink_metadata(&link).is_err(),
            "link removed on stop"
        );
    }

    #[test]
    fn split_and_garbage_arrive_as_the_same_frame() {
        let sim = start(false);
        sim.remove();
        sim.set_faults(vec![Fault::Split, Fault::Garbage], false);
        let mut host = Host::open(&sim.slave_path());
        let want = super::super::frame::reply(0x80, &[]);
        let got = host.ask_until(&FIND, |g| g.ends_with(&want));
        assert!(got.ends_with(&want), "{got:02X?}");
        assert!(got.len() > 11);
    }
}
