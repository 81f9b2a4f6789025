//! systemd's notify protocol (`sd_notify(3)`), raw: one datagram of `KEY=VALUE` lines to the
//! unix socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
//! With `Type=notify` the unit is "started" only after [`Notifier::ready`]; with
//! `WatchdogSec=` systemd kills and restarts the kiosk when no [`Notifier::ping`] arrives in
//! time, so the app pings from its UI event loop: a hung UI stops the pings.
//!
//! Outside systemd (no `NOTIFY_SOCKET`) every call does nothing and returns `Ok(false)`.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Where the notifications go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyTarget {
    Path(PathBuf),
    /// Abstract namespace (`@name` in the variable), without the leading NUL.
    Abstract(Vec<u8>),
}

/// The parsed environment plus the socket. Build it once at start-up.
#[derive(Debug)]
pub struct Notifier {
    target: Option<NotifyTarget>,
    socket: Option<UnixDatagram>,
    watchdog: Option<Duration>,
    last_ping: Mutex<Option<Instant>>,
}

impl Notifier {
    /// From `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` of this process.
    pub fn from_env() -> Notifier {
        let var = |k: &str| std::env::var(k).ok();
        Notifier::from_vars(
            var("NOTIFY_SOCKET").as_deref(),
            var("WATCHDOG_USEC").as_deref(),
            var("WATCHDOG_PID").as_deref(),
            std::process::id(),
        )
    }

    /// From the variables' values (pure apart from creating the unbound socket).
    pub fn from_vars(
        notify_socket: Option<&str>,
        watchdog_usec: Option<&str>,
        watchdog_pid: Option<&str>,
        my_pid: u32,
    ) -> Notifier {
        let target = notify_socket.and_then(parse_target);
        let socket = match &target {
            Some(_) => match UnixDatagram::unbound() {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot create the systemd notify socket");
                    None
                }
            },
            None => None,
        };
        Notifier {
            target,
            socket,
            watchdog: parse_watchdog(watchdog_usec, watchdog_pid, my_pid),
            last_ping: Mutex::new(None),
        }
    }

    /// Whether systemd is listening.
    pub fn is_active(&self) -> bool {
        self.target.is_some() && self.socket.is_some()
    }

    /// Sends one message (`READY=1`, `STATUS=...`...). `Ok(false)` outside systemd.
    pub fn notify(&self, message: &str) -> io::Result<bool> {
        let (Some(target), Some(socket)) = (&self.target, &self.socket) else {
            return Ok(false);
        };
        let addr = match target {
            NotifyTarget::Path(p) => SocketAddr::from_pathname(p)?,
            NotifyTarget::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                SocketAddr::from_abstract_name(name)?
            }
        };
        socket.send_to_addr(message.as_bytes(), &addr)?;
        Ok(true)
    }

    /// Start-up is done: the kiosk is on Home with its outbox and devices open.
    pub fn ready(&self, status: &str) -> io::Result<bool> {
        self.notify(&format!("READY=1\nSTATUS={}", one_line(status)))
    }

    /// Tells systemd the kiosk is stopping on purpose (no restart for a clean stop).
    pub fn stopping(&self) -> io::Result<bool> {
        self.notify("STOPPING=1")
    }

    /// A line for `systemctl status` (no personal data).
    pub fn status(&self, status: &str) -> io::Result<bool> {
        self.notify(&format!("STATUS={}", one_line(status)))
    }

    /// Keeps the watchdog fed. Call it from the UI event loop, at least every
    /// [`watchdog_interval`](Self::watchdog_interval).
    pub fn ping(&self) -> io::Result<bool> {
        if self.watchdog.is_none() {
            return Ok(false);
        }
        self.notify("WATCHDOG=1")
    }

    /// Pings only when the last ping is older than the interval, so the app may call it on
    /// every event-loop turn. `now` is the caller's clock.
    pub fn ping_if_due(&self, now: Instant) -> io::Result<bool> {
        let Some(every) = self.watchdog_interval() else {
            return Ok(false);
        };
        let mut last = self.last_ping.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| now.saturating_duration_since(t) < every) {
            return Ok(false);
        }
        *last = Some(now);
        drop(last);
        self.ping()
    }

    /// `WatchdogSec=` as systemd passed it, when the watchdog is for this process.
    pub fn watchdog_timeout(&self) -> Option<Duration> {
        self.watchdog
    }

    /// How often to ping: half the timeout, as `sd_watchdog_enabled(3)` advises.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|t| t / 2)
    }
}

fn parse_target(v: &str) -> Option<NotifyTarget> {
    if let Some(name) = v.strip_prefix('@') {
        (!name.is_empty()).then(|| NotifyTarget::Abstract(name.as_bytes().to_vec()))
    } else if v.starts_with('/') {
        Some(NotifyTarget::Path(PathBuf::from(v)))
    } else {
        // vsock: and relative paths are not for a kiosk service; ignore them.
        None
    }
}

fn parse_watchdog(usec: Option<&str>, pid: Option<&str>, my_pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|u| *u > 0)?;
    if let Some(pid) = pid {
        // The watchdog belongs to another process (e.g. cage, when it is the main PID).
        if pid.trim().parse::<u32>().ok()? != my_pid {
            return None;
        }
    }
    Some(Duration::from_micros(usec))
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn global() -> &'static Notifier {
    static N: OnceLock<Notifier> = OnceLock::new();
    N.get_or_init(Notifier::from_env)
}

/// [`Notifier::ready`] on the process-wide notifier (from the environment at first use).
pub fn notify_ready(status: &str) -> io::Result<bool> {
    global().ready(status)
}

/// [`Notifier::watchdog_interval`] of the process-wide notifier.
pub fn watchdog_interval() -> Option<Duration> {
    global().watchdog_interval()
}

/// [`Notifier::ping`] on the process-wide notifier.
pub fn ping() -> io::Result<bool> {
    global().ping()
}

/// [`Notifier::ping_if_due`] on the process-wide notifier.
pub fn ping_if_due(now: Instant) -> io::Result<bool> {
    global().ping_if_due(now)
}

/// [`Notifier::stopping`] on the process-wide notifier.
pub fn notify_stopping() -> io::Result<bool> {
    global().stopping()
}

#[cfg(test)]
#[path = "systemd_tests.rs"]
mod tests;
