//! The peer of the app benchmark: headless Chromium showing the same Home as a static page
//! (`home_page`). Started the way a web kiosk would be, minus everything that would reach the
//! network or the user's profile: a profile folder of the benchmark's own, no extensions,
//! no background networking, no sync, no component updates, no crash reporter.
//!
//! Cold start = spawn to the screenshot PNG complete on disk (its IEND trailer written); the
//! time to exit is reported too. Idle = started without `--screenshot` (it stays up), ready
//! once its DevTools endpoint on 127.0.0.1 lists the page under the page's title, then
//! measured like the app (`procmem::settled` over the whole process tree).

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::procmem::{self, Group, TreeMemory};

/// Longest a Chromium start may take before the benchmark gives up.
const DEADLINE: Duration = Duration::from_secs(60);
/// The last 8 bytes of every PNG: the IEND chunk's type and CRC.
const PNG_TRAILER: [u8; 8] = [b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

/// A Chromium binary to run.
pub struct Chromium {
    pub exe: PathBuf,
    pub version: String,
}

/// Finds `chromium`, `chromium-browser` or `google-chrome` on PATH. Debian's `chromium` is
/// a shell launcher that adds flags and `exec`s /usr/lib/chromium/chromium; the real binary
/// is used when it is there, so the peer does not pay for the shell.
pub fn find() -> Option<Chromium> {
    let path = std::env::var_os("PATH")?;
    let exe = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())?;
    let direct = Path::new("/usr/lib/chromium/chromium");
    let exe = if exe == Path::new("/usr/bin/chromium") && direct.is_file() {
        direct.to_path_buf()
    } else {
        exe
    };
    let version = Command::new(&exe)
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|v| !v.is_empty())?;
    Some(Chromium { exe, version })
}

/// The figures of one cold start, in milliseconds from spawn.
pub struct ColdStart {
    pub png_ms: f64,
    pub exit_ms: f64,
}

/// One idle measurement.
pub struct Idle {
    pub ready_ms: f64,
    pub memory: TreeMemory,
}

impl Chromium {
    /// The command with the flags both measurements share.
    fn command(&self, profile: &Path) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1080,1920",
            "--force-device-scale-factor=1",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-domain-reliability",
            "--disable-breakpad",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdin(Stdio::null());
        cmd
    }

    /// One cold start with `--screenshot`.
    pub fn cold_start(&self, profile: &Path, page: &Path, png: &Path) -> anyhow::Result<ColdStart> {
        let _ = std::fs::remove_file(png);
        let mut cmd = self.command(profile);
        cmd.arg(format!("--screenshot={}", png.display()))
            .arg(file_url(page))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let start = Instant::now();
        let group = Group::spawn(cmd).context("starting chromium")?;
        let mut png_ms = None;
        loop {
            if png_ms.is_none() && png_complete(png) {
                png_ms = Some(ms_since(start));
            }
            if group.exited() {
                let exit_ms = ms_since(start);
                let png_ms = match png_ms {
                    Some(ms) => ms,
                    None if png_complete(png) => exit_ms,
                    None => bail!("chromium exited without writing {}", png.display()),
                };
                return Ok(ColdStart { png_ms, exit_ms });
            }
            if start.elapsed() > DEADLINE {
                bail!("chromium did not finish the screenshot within {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Starts Chromium on the page, waits until the page is loaded, and measures the tree.
    pub fn idle(&self, profile: &Path, page: &Path, title: &str) -> anyhow::Result<Idle> {
        let mut cmd = self.command(profile);
        cmd.arg("--remote-debugging-port=0")
            .arg(file_url(page))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let mut group = Group::spawn(cmd).context("starting chromium")?;
        let stderr = group.child().stderr.take().context("chromium's stderr")?;
        let port = devtools_port(stderr)?;
        loop {
            if page_loaded(port, title) {
                break;
            }
            if start.elapsed() > DEADLINE {
                bail!("chromium did not load the page within {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let ready_ms = ms_since(start);
        let memory = procmem::settled(group.pid()).context("chromium's memory from /proc")?;
        Ok(Idle { ready_ms, memory })
    }
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

fn file_url(page: &Path) -> String {
    format!("file://{}", page.display())
}

/// Whether `png` is fully written: it ends with the IEND chunk.
fn png_complete(png: &Path) -> bool {
    let Ok(mut file) = std::fs::File::open(png) else {
        return false;
    };
    let mut tail = [0u8; PNG_TRAILER.len()];
    let at_tail = file.seek(SeekFrom::End(-(PNG_TRAILER.len() as i64)));
    at_tail.is_ok() && file.read_exact(&mut tail).is_ok() && tail == PNG_TRAILER
}

/// Reads Chromium's stderr until it says `DevTools listening on ws://127.0.0.1:PORT/...`,
/// then keeps draining it on the same thread so Chromium never blocks on a full pipe.
fn devtools_port(stderr: impl Read + Send + 'static) -> anyhow::Result<u16> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !sent {
                if let Some(port) = parse_devtools_line(&line) {
                    let _ = tx.send(port);
                    sent = true;
                }
            }
        }
    });
    rx.recv_timeout(DEADLINE)
        .context("chromium did not announce its DevTools port")
}

fn parse_devtools_line(line: &str) -> Option<u16> {
    let rest = line.split("DevTools listening on ws://").nth(1)?;
    let host_port = rest.split('/').next()?;
    host_port.rsplit(':').next()?.parse().ok()
}

/// Whether the DevTools list shows a page target with `title` (the document is parsed).
fn page_loaded(port: u16, title: &str) -> bool {
    let Some(body) = http_get(port, "/json/list") else {
        return false;
    };
    let Ok(targets) = serde_json::from_str::<Vec<serde_json::Value>>(&body) else {
        return false;
    };
    targets
        .iter()
        .any(|t| t["type"] == "page" && t["title"] == title)
}

/// A plain HTTP/1.1 GET on 127.0.0.1; the body, or `None` on any failure. Chromium keeps
/// the connection open, so the body is read to its Content-Length.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).ok()?;
        response.extend_from_slice(&buf[..n]);
        if let Some(body) = complete_body(&response) {
            return Some(body);
        }
        if n == 0 {
            return None;
        }
    }
}

/// The body of a complete `200` response (headers and Content-Length bytes), else `None`.
fn complete_body(response: &[u8]) -> Option<String> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&response[..end]).ok()?;
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    let length: usize = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())
            .flatten()
    })?;
    let body = response.get(end + 4..end + 4 + length)?;
    String::from_utf8(body.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_devtools_port_is_read_from_chromiums_line() {
        let line = "DevTools listening on ws://127.0.0.1:38123/devtools/browser/5b1e-4c";
        assert_eq!(parse_devtools_line(line), Some(38123));
        assert_eq!(parse_devtools_line("[1:1:ERROR:dbus] Failed"), None);
    }

    #[test]
    fn a_response_is_complete_at_its_content_length() {
        let full =
            b"HTTP/1.1 200 OK\r\nContent-Length:5\r\nContent-Type:application/json\r\n\r\n[ 1 ]";
        assert_eq!(complete_body(full).as_deref(), Some("[ 1 ]"));
        assert_eq!(complete_body(&full[..full.len() - 1]), None);
        assert_eq!(
            complete_body(b"HTTP/1.1 404 Not Found\r\nContent-Length:0\r\n\r\n"),
            None
        );
    }

    #[test]
    fn a_png_counts_only_once_its_trailer_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("x.png");
        assert!(!png_complete(&png));
        let img = image::RgbImage::new(4, 4);
        img.save_with_format(&png, image::ImageFormat::Png).unwrap();
        assert!(png_complete(&png));
        let bytes = std::fs::read(&png).unwrap();
        std::fs::write(&png, &bytes[..bytes.len() - 3]).unwrap();
        assert!(!png_complete(&png));
    }
}
