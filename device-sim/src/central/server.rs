//! The simulated platform's HTTPS server: tokio + tokio-rustls + the small HTTP/1.1 codec in
//! `http.rs`. Client certificates are verified against the simulator's CA; the kiosk id is
//! read from the verified certificate. Latency is added here, and a connection is cut here
//! when the handler says the reply is lost.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::catalog::AdminKey;
use super::faults::{FaultConfig, Faults};
use super::handlers::{Platform, Reply};
use super::http::{parse_request, Response};
use super::pki::PkiPaths;
use super::store::{SimStore, Stats, StoredSubmission};
use super::x509;

/// The contract's request size limit.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// A connection with no complete request for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How to run the simulated platform.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `127.0.0.1:0` picks a free port (see [`ServerHandle::addr`]).
    pub listen: SocketAddr,
    /// Folder made by `init-pki`.
    pub pki_dir: PathBuf,
    /// The simulator's SQLite file.
    pub db: PathBuf,
    pub faults: FaultConfig,
    pub admin_keys: Vec<AdminKey>,
    pub max_body_bytes: usize,
}

impl ServerConfig {
    pub fn new(pki_dir: &Path, db: &Path) -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            pki_dir: pki_dir.to_path_buf(),
            db: db.to_path_buf(),
            faults: FaultConfig::default(),
            admin_keys: Vec::new(),
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

/// Starts servers.
pub struct Server;

impl Server {
    /// Binds, then serves on a thread of its own (its own tokio runtime), so tests, benches
    /// and the demo can use it from sync or async code alike. Stops when the handle drops.
    pub fn start(config: ServerConfig) -> anyhow::Result<ServerHandle> {
        let paths = PkiPaths::new(&config.pki_dir);
        let tls = tls_config(&paths)?;
        let faults = Arc::new(Faults::new(config.faults.clone()));
        let platform = Arc::new(Platform {
            store: Mutex::new(SimStore::open(&config.db)?),
            faults: faults.clone(),
            admin_token: paths.read_admin_token()?,
            admin_keys: config.admin_keys.clone(),
        });
        let std_listener = std::net::TcpListener::bind(config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("central-sim")
            .enable_all()
            .build()?;
        let serving = platform.clone();
        let max_body = config.max_body_bytes;
        let thread = std::thread::Builder::new()
            .name("central-sim".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(std_listener) {
                        Ok(listener) => {
                            let acceptor = TlsAcceptor::from(Arc::new(tls));
                            tokio::select! {
                                _ = accept_loop(listener, acceptor, serving, max_body) => {}
                                _ = stop_rx => {}
                            }
                        }
                        Err(e) => tracing::error!(error = %e, "simulator cannot use its socket"),
                    }
                });
                // Connections still open are dropped with the runtime.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        tracing::info!(%addr, "central simulator listening");
        Ok(ServerHandle {
            addr,
            faults,
            platform,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A running simulator. Dropping it stops the server.
pub struct ServerHandle {
    addr: SocketAddr,
    faults: Arc<Faults>,
    platform: Arc<Platform>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT`: the kiosk's `central.url`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The live fault settings (adjust them, or script the next batches).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub fn stats(&self) -> anyhow::Result<Stats> {
        self.store().stats()
    }

    /// Stored submissions of a kiosk in the order first stored.
    pub fn submissions_of(&self, kiosk_id: &str) -> anyhow::Result<Vec<StoredSubmission>> {
        self.store().submissions_of(kiosk_id)
    }

    /// A stored submission as the kiosk sent it.
    pub fn submission(&self, id: &str) -> anyhow::Result<Option<serde_json::Value>> {
        self.store().submission(id)
    }

    pub fn last_heartbeat(&self, kiosk_id: &str) -> anyhow::Result<Option<serde_json::Value>> {
        self.store().last_heartbeat(kiosk_id)
    }

    fn store(&self) -> std::sync::MutexGuard<'_, SimStore> {
        self.platform
            .store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Stops accepting and waits for the server thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    platform: Arc<Platform>,
    max_body: usize,
) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                let platform = platform.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection(stream, acceptor, platform, max_body).await {
                        tracing::debug!(%peer, error = %format!("{e:#}"), "connection ended");
                    }
                });
            }
            Err(e) => {
                // Out of descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection(
    stream: TcpStream,
    acceptor: TlsAcceptor,
    platform: Arc<Platform>,
    max_body: usize,
) -> anyhow::Result<()> {
    let mut tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
        .await
        .context("TLS handshake timed out")?
        .context("TLS handshake failed")?;
    let kiosk: Option<String> = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| x509::kiosk_id(c.as_ref()).ok());
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match parse_request(&buf, max_body) {
            Ok(Some((req, used))) => {
                buf.drain(..used);
                let keep_alive = req.keep_alive;
                if Platform::is_kiosk_route(&req.path) {
                    let latency = platform.faults.latency();
                    if !latency.is_zero() {
                        tokio::time::sleep(latency).await;
                    }
                }
                let p = platform.clone();
                let who = kiosk.clone();
                let reply = tokio::task::spawn_blocking(move || p.handle(&req, who.as_deref()))
                    .await
                    .context("handler panicked")?;
                match reply {
                    Reply::Respond(resp) => {
                        tls.write_all(&resp.to_bytes(keep_alive)).await?;
                        tls.flush().await?;
                        if !keep_alive {
                            break;
                        }
                    }
                    // The ack-lost fault: the batch is committed, the reply never leaves.
                    // Dropping the stream closes the socket without a TLS close_notify.
                    Reply::Drop => return Ok(()),
                }
            }
            Ok(None) => {
                let n = tokio::time::timeout(IDLE_TIMEOUT, tls.read(&mut chunk))
                    .await
                    .context("idle connection")??;
                if n == 0 {
                    return Ok(());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e) => {
                let resp = Response::error(e.status, &e.message);
                tls.write_all(&resp.to_bytes(false)).await?;
                tls.flush().await?;
                break;
            }
        }
    }
    tls.shutdown().await?;
    Ok(())
}

/// TLS 1.3 and 1.2, the server certificate from the PKI folder, client certificates verified
/// against the CA. A connection without a client certificate is let through TLS but gets 401
/// on every kiosk endpoint (admin endpoints authenticate with the bearer token instead).
fn tls_config(paths: &PkiPaths) -> anyhow::Result<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in read_certs(&paths.ca_cert())? {
        roots
            .add(cert)
            .with_context(|| format!("bad CA certificate in {}", paths.ca_cert().display()))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .context("cannot build the client certificate verifier")?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            read_certs(&paths.server_cert())?,
            read_key(&paths.server_key())?,
        )
        .context("server certificate and key do not match")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn read_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path).with_context(|| {
        format!(
            "cannot read {} (run `device-sim central init-pki DIR` first)",
            path.display()
        )
    })?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} is not PEM", path.display()))?;
    if certs.is_empty() {
        bail!("{} holds no certificate", path.display());
    }
    Ok(certs)
}

fn read_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .with_context(|| format!("{} is not PEM", path.display()))?
        .with_context(|| format!("{} holds no private key", path.display()))
}
