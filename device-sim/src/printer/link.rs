//! The simulator's connections: a pseudo-terminal (a serial printer; its slave path is also
//! usable as a USB printer-class "device file") or a raw TCP port like 9100. One I/O thread
//! moves bytes between the connection and the [`Engine`].

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};

use super::engine::Engine;

/// How often the I/O thread looks at the stop flag and at status produced by control calls.
const TICK: Duration = Duration::from_millis(20);

/// What the I/O thread and the control side share.
pub struct Shared {
    pub engine: Mutex<Engine>,
    /// Signalled whenever bytes arrived (tests wait on it for receipts).
    pub changed: Condvar,
    pub stop: AtomicBool,
}

impl Shared {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn feed(&self, bytes: &[u8]) {
        self.lock().receive(bytes);
        self.changed.notify_all();
    }
}

/// The host side of a PTY with the link symlink pointing at its slave.
pub struct Pty {
    master: File,
    /// Held open so the master never sees EIO when a driver closes and reopens the slave, and
    /// so the raw mode set here stays.
    _slave: OwnedFd,
    pub slave_path: PathBuf,
}

/// Opens a PTY in raw mode and points `link` at its slave (replacing an old symlink).
pub fn open_pty(link: &Path) -> anyhow::Result<Pty> {
    let pty = nix::pty::openpty(None, None).context("cannot open a pseudo-terminal")?;
    let mut t = tcgetattr(pty.slave.as_fd()).context("tcgetattr on the PTY")?;
    cfmakeraw(&mut t);
    tcsetattr(pty.slave.as_fd(), SetArg::TCSANOW, &t).context("raw mode on the PTY")?;
    let slave_path = nix::unistd::ttyname(pty.slave.as_fd()).context("name of the PTY")?;
    match std::fs::symlink_metadata(link) {
        Ok(m) if m.file_type().is_symlink() => std::fs::remove_file(link)
            .with_context(|| format!("cannot replace {}", link.display()))?,
        Ok(_) => bail!(
            "{} exists and is not a symlink; refusing to replace it",
            link.display()
        ),
        Err(_) => {}
    }
    std::os::unix::fs::symlink(&slave_path, link).with_context(|| {
        format!(
            "cannot create the link {} -> {}",
            link.display(),
            slave_path.display()
        )
    })?;
    let master = File::from(pty.master);
    set_nonblocking(master.as_raw_fd())?;
    Ok(Pty {
        master,
        _slave: pty.slave,
        slave_path,
    })
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: plain fcntl on a descriptor we own.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits up to `timeout` for `fd` to be readable (or hung up).
fn readable(fd: RawFd, timeout: Duration) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as i32) };
    r > 0
}

/// Writes what fits; a host that does not read loses status bytes, as with a real printer.
fn write_out(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let mut rest = bytes;
    while !rest.is_empty() {
        match w.write(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub fn serve_pty(shared: &Shared, mut pty: Pty) {
    let mut buf = [0u8; 4096];
    while !shared.stop.load(Ordering::Relaxed) {
        if readable(pty.master.as_raw_fd(), TICK) {
            match pty.master.read(&mut buf) {
                Ok(n) if n > 0 => shared.feed(&buf[..n]),
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                // EIO while no slave is open: cannot happen while we hold one, but do not spin.
                Err(_) => std::thread::sleep(TICK),
            }
        }
        let out = shared.lock().take_outgoing();
        if !out.is_empty() {
            if let Err(e) = write_out(&mut pty.master, &out) {
                tracing::warn!(error = %e, "printer simulator: cannot write to the PTY");
            }
        }
    }
}

pub fn bind_tcp(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// One connection at a time, like a port-9100 printer; others wait in the backlog.
pub fn serve_tcp(shared: &Shared, listener: TcpListener) {
    while !shared.stop.load(Ordering::Relaxed) {
        if !readable(listener.as_raw_fd(), TICK) {
            // Status made while nobody is connected goes nowhere.
            shared.lock().take_outgoing();
            continue;
        }
        match listener.accept() {
            Ok((stream, peer)) => {
                tracing::debug!(%peer, "printer simulator: connection");
                shared.lock().take_outgoing();
                if let Err(e) = serve_connection(shared, stream) {
                    tracing::debug!(error = %e, "printer simulator: connection ended");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                tracing::warn!(error = %e, "printer simulator: accept failed");
                std::thread::sleep(TICK);
            }
        }
    }
}

fn serve_connection(shared: &Shared, mut stream: TcpStream) -> io::Result<()> {
    stream.set_nonblocking(true)?;
    let mut buf = [0u8; 4096];
    while !shared.stop.load(Ordering::Relaxed) {
        if readable(stream.as_raw_fd(), TICK) {
            match stream.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => shared.feed(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        let out = shared.lock().take_outgoing();
        if !out.is_empty() {
            write_out(&mut stream, &out)?;
        }
    }
    Ok(())
}
