//! The local metrics endpoint: a small HTTP/1.1 server on tokio, bound to loopback only.
//! `GET /metrics` is the Prometheus exposition, `GET /status.json` the same report as
//! `kiosk status --json`. One request a connection (`Connection: close`), requests bounded
//! in size and time, reports collected on the blocking pool (SQLite).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

use super::collect::StatusCollector;
use super::metrics;
use super::report::StatusReport;

/// Largest request head read.
const MAX_REQUEST: usize = 8 * 1024;
/// Time a client gets to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; more wait.
const MAX_CONNECTIONS: usize = 8;

/// Anything that can produce a report on demand.
pub trait StatusSource: Send + Sync + 'static {
    fn report(&self) -> anyhow::Result<StatusReport>;
}

impl StatusSource for StatusCollector {
    fn report(&self) -> anyhow::Result<StatusReport> {
        self.collect(crate::store::now_ms())
    }
}

/// A running endpoint. Dropping it stops the server (as does [`MetricsServer::shutdown`]).
pub struct MetricsServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `127.0.0.1:port` (0 picks a free port) and serves on a thread of its own with a
    /// one-thread tokio runtime, so the app's UI loop and the sync engine are untouched.
    /// Binding errors (port taken) come back here, before any thread starts.
    pub fn start(port: u16, source: Arc<dyn StatusSource>) -> anyhow::Result<MetricsServer> {
        MetricsServer::start_on(SocketAddr::from(([127, 0, 0, 1], port)), source)
    }

    /// As [`start`](Self::start) on a given loopback address; anything else is refused (the
    /// kiosk never exposes a port to the hall's network).
    pub fn start_on(
        addr: SocketAddr,
        source: Arc<dyn StatusSource>,
    ) -> anyhow::Result<MetricsServer> {
        if !addr.ip().is_loopback() {
            anyhow::bail!("the metrics endpoint listens on loopback only, not {addr}");
        }
        let std_listener = std::net::TcpListener::bind(addr)
            .with_context(|| format!("cannot listen on {addr} for metrics"))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the metrics runtime")?;
        let thread = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(std_listener) {
                        Ok(listener) => serve(listener, source, stopped).await,
                        Err(e) => tracing::error!(error = %e, "metrics listener failed"),
                    }
                });
            })
            .context("cannot start the metrics thread")?;
        tracing::info!(%addr, "metrics endpoint listening");
        Ok(MetricsServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in progress finish, and waits for the thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    /// Serves until the process ends (for `kiosk metrics --serve`).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn stop_now(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Accepts connections until `stop` turns true. Usable inside an existing runtime too.
pub async fn serve(
    listener: TcpListener,
    source: Arc<dyn StatusSource>,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let Ok(permit) = permits.clone().acquire_owned().await else { break };
                    let source = source.clone();
                    tokio::spawn(async move {
                        if let Err(e) = handle(stream, source).await {
                            tracing::debug!(error = %e, "metrics connection ended with an error");
                        }
                        drop(permit);
                    });
                }
                Err(e) => {
                    // Out of descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "metrics accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

async fn handle(mut stream: TcpStream, source: Arc<dyn StatusSource>) -> std::io::Result<()> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => {
            respond(
                &mut stream,
                431,
                "text/plain",
                b"request too large\n",
                false,
            )
            .await?;
            // Read what the client still sends: closing with unread bytes would reset the
            // connection and the client might lose the answer.
            let mut sink = [0u8; 4096];
            let drain = async {
                while stream.read(&mut sink).await? > 0 {}
                std::io::Result::Ok(())
            };
            let _ = tokio::time::timeout(READ_TIMEOUT, drain).await;
            return Ok(());
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return respond(&mut stream, 408, "text/plain", b"request timeout\n", false).await
        }
    };
    let (method, path) = match parse_request_line(&head) {
        Some(x) => x,
        None => return respond(&mut stream, 400, "text/plain", b"bad request\n", false).await,
    };
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        return respond(&mut stream, 405, "text/plain", b"only GET\n", false).await;
    }
    let route = path.split('?').next().unwrap_or("");
    if route != "/metrics" && route != "/status.json" {
        return respond(
            &mut stream,
            404,
            "text/plain",
            b"try /metrics or /status.json\n",
            head_only,
        )
        .await;
    }
    let report = tokio::task::spawn_blocking(move || source.report()).await;
    match report {
        Ok(Ok(r)) if route == "/metrics" => {
            let body = metrics::render(&r);
            respond(
                &mut stream,
                200,
                metrics::CONTENT_TYPE,
                body.as_bytes(),
                head_only,
            )
            .await
        }
        Ok(Ok(r)) => {
            let body = serde_json::to_vec_pretty(&r).unwrap_or_default();
            respond(&mut stream, 200, "application/json", &body, head_only).await
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %format!("{e:#}"), "status report failed");
            let body = format!("status unavailable: {e:#}\n");
            respond(&mut stream, 503, "text/plain", body.as_bytes(), head_only).await
        }
        Err(_) => {
            respond(
                &mut stream,
                500,
                "text/plain",
                b"status collection panicked\n",
                head_only,
            )
            .await
        }
    }
}

/// Reads up to the blank line ending the head; `None` when it exceeds [`MAX_REQUEST`].
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n") {
            return Ok(Some(buf));
        }
        if buf.len() > MAX_REQUEST {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            // Closed early: answer what we have if it holds a request line.
            return Ok(Some(buf));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `GET /metrics HTTP/1.1` -> (`GET`, `/metrics`).
fn parse_request_line(head: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(head).ok()?;
    let line = text.lines().next()?;
    let mut parts = line.split(' ');
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let version = parts.next()?;
    (version.starts_with("HTTP/1.") && path.starts_with('/') && parts.next().is_none())
        .then_some((method, path))
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        stream.write_all(body).await?;
    }
    stream.shutdown().await
}

#[cfg(test)]
#[path = "metrics_server_tests.rs"]
mod tests;
