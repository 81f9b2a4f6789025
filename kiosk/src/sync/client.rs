//! The HTTPS edge of sync: a reqwest client over rustls with TLS 1.3 only, this kiosk's client
//! certificate, and only the configured CA as trust anchor (no system or built-in roots).
//! Requests return the raw status, `Retry-After` and body; the protocol core interprets them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::config::Config;

/// A response as bytes.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

/// The platform's endpoint with this kiosk's TLS identity.
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    base: String,
}

/// The TLS files a config names (relative paths are under `data_dir`).
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    pub fn from_config(config: &Config) -> anyhow::Result<TlsFiles> {
        let c = &config.central;
        let need = |p: &Option<PathBuf>, key: &str| -> anyhow::Result<PathBuf> {
            match p {
                Some(p) => Ok(config.data_path(p)),
                None => bail!("central.{key} is not set: mutual TLS needs it"),
            }
        };
        Ok(TlsFiles {
            ca: need(&c.ca_file, "ca_file")?,
            cert: need(&c.client_cert, "client_cert")?,
            key: need(&c.client_key, "client_key")?,
        })
    }
}

impl Transport {
    pub fn from_config(config: &Config) -> anyhow::Result<Transport> {
        let url = config.central.url.trim_end_matches('/');
        if url.is_empty() {
            bail!("central.url is empty: this kiosk has no platform to sync with");
        }
        if !url.starts_with("https://") {
            bail!("central.url must be https:// (the contract is HTTPS only), got {url:?}");
        }
        let files = TlsFiles::from_config(config)?;
        let ca_pem = std::fs::read(&files.ca)
            .with_context(|| format!("cannot read central.ca_file {}", files.ca.display()))?;
        let mut identity_pem = std::fs::read(&files.cert)
            .with_context(|| format!("cannot read central.client_cert {}", files.cert.display()))?;
        let key_pem =
            zeroize::Zeroizing::new(std::fs::read(&files.key).with_context(|| {
                format!("cannot read central.client_key {}", files.key.display())
            })?);
        identity_pem.push(b'\n');
        identity_pem.extend_from_slice(&key_pem);
        let identity_pem = zeroize::Zeroizing::new(identity_pem);
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .min_tls_version(reqwest::tls::Version::TLS_1_3)
            .https_only(true)
            .http1_only()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(config.sync.request_timeout_s.max(1)))
            .pool_idle_timeout(Duration::from_secs(50))
            .identity(reqwest::Identity::from_pem(&identity_pem).with_context(|| {
                format!(
                    "central.client_cert {} / client_key {} are not a PEM certificate and key",
                    files.cert.display(),
                    files.key.display()
                )
            })?);
        let cas = reqwest::Certificate::from_pem_bundle(&ca_pem)
            .with_context(|| format!("central.ca_file {} is not PEM", files.ca.display()))?;
        if cas.is_empty() {
            bail!(
                "central.ca_file {} holds no certificate",
                files.ca.display()
            );
        }
        for ca in cas {
            builder = builder.add_root_certificate(ca);
        }
        let client = builder.build().context("cannot build the HTTPS client")?;
        Ok(Transport {
            client,
            base: url.to_string(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// POSTs a JSON body. The body moves into the HTTP stack (which keeps its own buffers).
    pub async fn post_json(
        &self,
        path: &str,
        body: Vec<u8>,
        max_response: usize,
    ) -> anyhow::Result<RawResponse> {
        let req = self
            .client
            .post(format!("{}{}", self.base, path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        read(req.send().await.map_err(describe)?, max_response).await
    }

    pub async fn get(&self, path: &str, max_response: usize) -> anyhow::Result<RawResponse> {
        let req = self.client.get(format!("{}{}", self.base, path));
        read(req.send().await.map_err(describe)?, max_response).await
    }
}

async fn read(mut resp: reqwest::Response, max: usize) -> anyhow::Result<RawResponse> {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(describe)? {
        if body.len() + chunk.len() > max {
            bail!("response is larger than {max} bytes");
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawResponse {
        status,
        retry_after,
        body,
    })
}

/// The whole cause chain in one line (reqwest hides the TLS reason in its sources), so the
/// diagnostics screen says "invalid peer certificate: UnknownIssuer" and not just "error
/// sending request".
fn describe(e: reqwest::Error) -> anyhow::Error {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    anyhow::anyhow!(text)
}
