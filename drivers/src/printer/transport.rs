//! Where the bytes go: a serial port (RS-232 or USB-CDC), raw TCP (port 9100), or a USB
//! printer-class device file (`/dev/usb/lpN`). All three read with a deadline, so a silent
//! printer is a clear error instead of a hang.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Default baud rate for `serial:PATH` without `@BAUD`.
pub const DEFAULT_BAUD: u32 = 115_200;
/// The raw printing port of network printers.
pub const DEFAULT_TCP_PORT: u16 = 9100;

/// A byte pipe to the printer.
pub trait Transport: Send {
    /// Writes every byte (or fails).
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Reads what is there within `timeout`: `Ok(None)` when nothing came, `Ok(Some(n))` with
    /// n > 0 bytes; a closed connection is an error.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>>;
}

/// Where the printer is, as written in the config and on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `serial:PATH` or `serial:PATH@BAUD`.
    Serial { path: PathBuf, baud: u32 },
    /// `tcp:HOST:PORT` (`tcp:HOST` means port 9100).
    Tcp { host: String, port: u16 },
    /// `file:PATH`: a USB printer-class device such as `/dev/usb/lp0`.
    File { path: PathBuf },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "printer target `{given}`: {reason} (expected serial:PATH[@BAUD], tcp:HOST:PORT or file:PATH)"
)]
pub struct TargetError {
    pub given: String,
    pub reason: &'static str,
}

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(s: &str) -> Result<Target, TargetError> {
        let err = |reason| TargetError {
            given: s.to_string(),
            reason,
        };
        let (scheme, rest) = s.split_once(':').ok_or_else(|| err("no scheme"))?;
        if rest.is_empty() {
            return Err(err("nothing after the scheme"));
        }
        match scheme {
            "serial" => {
                let (path, baud) = match rest.rsplit_once('@') {
                    Some((p, b)) => (p, b.parse().map_err(|_| err("baud rate is not a number"))?),
                    None => (rest, DEFAULT_BAUD),
                };
                if path.is_empty() || baud == 0 {
                    return Err(err("empty path or zero baud rate"));
                }
                Ok(Target::Serial {
                    path: PathBuf::from(path),
                    baud,
                })
            }
            "tcp" => {
                let (host, port) = match rest.rsplit_once(':') {
                    // An IPv6 literal in brackets: [::1]:9100.
                    Some((h, p)) if !h.ends_with(':') => {
                        (h, p.parse().map_err(|_| err("port is not a number"))?)
                    }
                    _ => (rest, DEFAULT_TCP_PORT),
                };
                if host.is_empty() || port == 0 {
                    return Err(err("empty host or port 0"));
                }
                Ok(Target::Tcp {
                    host: host
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_string(),
                    port,
                })
            }
            "file" => Ok(Target::File {
                path: PathBuf::from(rest),
            }),
            _ => Err(err("unknown scheme")),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Serial { path, baud } => write!(f, "serial:{}@{baud}", path.display()),
            Target::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            Target::File { path } => write!(f, "file:{}", path.display()),
        }
    }
}

impl Target {
    /// Opens the connection. `timeout` bounds connecting and each write.
    pub fn open(&self, timeout: Duration) -> io::Result<Box<dyn Transport>> {
        match self {
            Target::Serial { path, baud } => {
                let port = serialport::new(path.to_string_lossy(), *baud)
                    .timeout(timeout)
                    .open_native()
                    .map_err(io::Error::from)?;
                Ok(Box::new(FdTransport { inner: port }))
            }
            Target::Tcp { host, port } => {
                let mut last =
                    io::Error::new(io::ErrorKind::NotFound, "host name resolves to no address");
                for addr in (host.as_str(), *port).to_socket_addrs()? {
                    match TcpStream::connect_timeout(&addr, timeout) {
                        Ok(stream) => {
                            stream.set_nodelay(true)?;
                            stream.set_write_timeout(Some(timeout))?;
                            return Ok(Box::new(FdTransport { inner: stream }));
                        }
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
            Target::File { path } => {
                // O_NOCTTY: a tty path used as a file must not become our controlling terminal.
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_NOCTTY)
                    .open(path)?;
                Ok(Box::new(FdTransport { inner: file }))
            }
        }
    }
}

/// Any readable/writable file descriptor: serial port, socket, device file. Reads wait with
/// `poll(2)` so every kind gets the same deadline handling.
struct FdTransport<T> {
    inner: T,
}

impl<T: Read + Write + AsRawFd + Send> Transport for FdTransport<T> {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_all(bytes)?;
        self.inner.flush()
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        if !poll_readable(self.inner.as_raw_fd(), timeout)? {
            return Ok(None);
        }
        match self.inner.read(buf) {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the printer closed the connection",
            )),
            Ok(n) => Ok(Some(n)),
            // serialport reports "nothing yet" as a timeout.
            Err(e)
                if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// Waits until `fd` has data (or hang-up/error, which the following read reports).
fn poll_readable(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    loop {
        // SAFETY: one valid pollfd, count 1.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(r > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_print() {
        assert_eq!(
            "serial:/dev/ttyUSB0".parse::<Target>().unwrap(),
            Target::Serial {
                path: "/dev/ttyUSB0".into(),
                baud: DEFAULT_BAUD
            }
        );
        assert_eq!(
            "serial:/dev/ttyS1@9600".parse::<Target>().unwrap(),
            Target::Serial {
                path: "/dev/ttyS1".into(),
                baud: 9600
            }
        );
        assert_eq!(
            "tcp:192.168.1.50:9100".parse::<Target>().unwrap(),
            Target::Tcp {
                host: "192.168.1.50".into(),
                port: 9100
            }
        );
        assert_eq!(
            "tcp:printer.local".parse::<Target>().unwrap(),
            Target::Tcp {
                host: "printer.local".into(),
                port: 9100
            }
        );
        assert_eq!(
            "tcp:[::1]:9101".parse::<Target>().unwrap(),
            Target::Tcp {
                host: "::1".into(),
                port: 9101
            }
        );
        assert_eq!(
            "file:/dev/usb/lp0".parse::<Target>().unwrap(),
            Target::File {
                path: "/dev/usb/lp0".into()
            }
        );
        for t in [
            "serial:/dev/ttyS1@9600",
            "tcp:10.0.0.2:9100",
            "tcp:[::1]:9101",
            "file:/dev/usb/lp0",
        ] {
            assert_eq!(t.parse::<Target>().unwrap().to_string(), t);
        }
    }

    #[test]
    fn bad_targets_say_what_is_wrong() {
        for bad in [
            "",
            "/dev/ttyUSB0",
            "usb:/dev/x",
            "serial:",
            "tcp:host:port",
            "serial:/x@fast",
            "tcp::9100",
        ] {
            let e = bad.parse::<Target>().unwrap_err();
            assert!(e.to_string().contains("expected serial:PATH"), "{bad}: {e}");
        }
    }

    #[test]
    fn tcp_transport_reads_with_a_deadline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = Target::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        let mut t = target.open(Duration::from_secs(5)).unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(t.recv(&mut buf, Duration::from_millis(10)).unwrap(), None);
        t.send(&[0x10, 0x04, 0x01]).unwrap();
        let mut got = [0u8; 3];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(got, [0x10, 0x04, 0x01]);
        peer.write_all(&[0x12]).unwrap();
        assert_eq!(t.recv(&mut buf, Duration::from_secs(5)).unwrap(), Some(1));
        assert_eq!(buf[0], 0x12);
        drop(peer);
        assert!(
            t.recv(&mut buf, Duration::from_secs(5)).is_err(),
            "closed is an error"
        );
    }

    #[test]
    fn missing_device_file_fails_to_open() {
        let t = Target::File {
            path: "/nonexistent/usb/lp9".into(),
        };
        assert!(t.open(Duration::from_secs(1)).is_err());
    }
}
