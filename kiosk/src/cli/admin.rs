//! `kiosk admin ...`: what central admins run on their own machine to change the catalog.
//! keygen (an Ed25519 signing key), diff (what a new catalog changes), sign (a DSSE envelope)
//! and publish (to the platform, which serves it to the fleet). The wire format is in
//! `docs/central-api.md`; signing and verifying are in `kiosk::catalog::trust`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use base64::Engine as _;
use clap::Subcommand;
use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use super::{print_json, Ctx};
use crate::catalog::{self, diff, trust, Catalog};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Create a catalog signing key: DIR/ID.key (secret, mode 0600) and DIR/ID.pub (give it to
    /// kiosks as `catalog.trusted_keys` and to the platform).
    Keygen {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Key id, e.g. `admin-2026` (letters, digits, - _ .). It names the files.
        #[arg(long, value_name = "ID")]
        key_id: String,
    },
    /// Sign a catalog JSON file as it is (its `version` must already be the new one).
    Sign {
        catalog: PathBuf,
        /// The secret key file `ID.key` (the key id is its file stem).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        #[arg(long, value_name = "ENVELOPE.json")]
        out: PathBuf,
    },
    /// Publish a signed envelope to the central platform (`POST /v1/admin/catalog`).
    Publish {
        envelope: PathBuf,
        /// Base URL of the platform, e.g. `https://central.example:8443`.
        #[arg(long, value_name = "URL")]
        central: String,
        /// Admin bearer token (or the environment variable, which keeps it out of `ps`).
        #[arg(
            long,
            env = "HALL_KIOSK_ADMIN_TOKEN",
            hide_env_values = true,
            value_name = "T"
        )]
        token: String,
        /// The only CA trusted for the platform's certificate (PEM). Default: the config's
        /// `central.ca_file`.
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
    },
    /// What NEW changes compared with OLD: matters added, withdrawn, changed, form fields.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Ctx, cmd: AdminCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        AdminCmd::Keygen { out, key_id } => keygen(&out, &key_id),
        AdminCmd::Sign { catalog, key, out } => sign(&catalog, &key, &out),
        AdminCmd::Publish {
            envelope,
            central,
            token,
            ca,
        } => {
            let ca = ca
                .or_else(|| ctx.config.central.ca_file.clone())
                .context("publishing needs --ca FILE (or central.ca_file in the config)")?;
            publish(&envelope, &central, &token, &ca)
        }
        AdminCmd::Diff { old, new, json } => {
            let d = diff::diff(&read_catalog(&old)?, &read_catalog(&new)?);
            if json {
                print_json(&d)?;
            } else {
                print!("{}", d.render());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn keygen(dir: &Path, key_id: &str) -> anyhow::Result<ExitCode> {
    if !trust::valid_key_id(key_id) {
        bail!("key id {key_id:?} must be 1-64 letters, digits, '-', '_' or '.' (not starting with '.')");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let secret = dir.join(format!("{key_id}.key"));
    let public = dir.join(format!("{key_id}.pub"));
    for p in [&secret, &public] {
        if p.exists() {
            bail!(
                "{} exists; a key is never overwritten (pick another key id)",
                p.display()
            );
        }
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let seed = Zeroizing::new(format!("{}\n", B64.encode(key.to_bytes())));
    write_private(&secret, seed.as_bytes())?;
    std::fs::write(
        &public,
        format!("{}\n", B64.encode(key.verifying_key().as_bytes())),
    )
    .with_context(|| format!("cannot write {}", public.display()))?;
    println!(
        "created {} (secret: keep it off kiosks and out of backups you do not control)",
        secret.display()
    );
    println!(
        "created {} (trust it on kiosks: catalog.trusted_keys; on the platform: --admin-key)",
        public.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Creates a file only its owner can read; refuses to replace one.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Reads `ID.key`: base64 of the 32-byte seed, readable by its owner only.
fn read_signing_key(path: &Path) -> anyhow::Result<(String, SigningKey)> {
    let key_id = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    if !trust::valid_key_id(&key_id) {
        bail!(
            "{}: the file stem {key_id:?} is not a usable key id",
            path.display()
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .with_context(|| format!("cannot read signing key {}", path.display()))?;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "signing key {} is readable by others (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read signing key {}", path.display()))?,
    );
    let raw = Zeroizing::new(
        B64.decode(text.trim())
            .with_context(|| format!("signing key {} is not base64", path.display()))?,
    );
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(raw.as_slice().try_into().map_err(|_| {
        anyhow::anyhow!(
            "signing key {} must be a 32-byte seed once decoded, it is {} bytes",
            path.display(),
            raw.len()
        )
    })?);
    Ok((key_id, SigningKey::from_bytes(&seed)))
}

fn sign(catalog_path: &Path, key_path: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let json = std::fs::read(catalog_path)
        .with_context(|| format!("cannot read {}", catalog_path.display()))?;
    // A catalog that kiosks would refuse is not signed: fix it first.
    let cat = catalog::parse(&json)
        .with_context(|| format!("{} cannot be signed", catalog_path.display()))?;
    let (key_id, key) = read_signing_key(key_path)?;
    let envelope = trust::sign(&json, &key_id, &key);
    // Check the envelope with the key's own public half before anyone else sees it.
    let own = trust::TrustedKeys::new(vec![trust::TrustedKey {
        key_id: key_id.clone(),
        key: key.verifying_key(),
    }]);
    let mut bytes = serde_json::to_vec_pretty(&envelope)?;
    bytes.push(b'\n');
    let policy = trust::Policy {
        now: chrono::Utc::now(),
        grace_s: 0,
        max_bytes: u64::MAX,
        installed: None,
    };
    let inspection = trust::inspect_envelope(&bytes, &own, &policy);
    for r in &inspection.refusals {
        match r {
            trust::Refusal::Expired { .. } => {
                eprintln!("warning: {r}; kiosks past their grace will refuse it")
            }
            other => bail!("the signed envelope does not verify: {other}"),
        }
    }
    let kiosk_limit = crate::config::CatalogConfig::default().max_envelope_bytes;
    if bytes.len() as u64 > kiosk_limit {
        eprintln!(
            "warning: the envelope is {} bytes, more than kiosks accept by default ({kiosk_limit}); raise catalog.max_envelope_bytes on the fleet first",
            bytes.len()
        );
    }
    std::fs::write(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "signed catalog version {} ({} matters, expires {}) with key {key_id} -> {}",
        cat.version,
        cat.matters.len(),
        cat.expires_at,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn read_catalog(path: &Path) -> anyhow::Result<Catalog> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a catalog JSON file", path.display()))
}

/// The version an envelope carries (read without verifying: the platform verifies).
fn envelope_version(bytes: &[u8]) -> anyhow::Result<u64> {
    let env: trust::Envelope =
        serde_json::from_slice(bytes).context("the file is not a DSSE envelope")?;
    let payload = B64
        .decode(env.payload.as_bytes())
        .context("payload is not base64")?;
    let v: serde_json::Value =
        serde_json::from_slice(&payload).context("payload is not catalog JSON")?;
    v.get("version")
        .and_then(serde_json::Value::as_u64)
        .context("the catalog has no numeric version")
}

fn publish(envelope: &Path, central: &str, token: &str, ca: &Path) -> anyhow::Result<ExitCode> {
    let body =
        std::fs::read(envelope).with_context(|| format!("cannot read {}", envelope.display()))?;
    let version = envelope_version(&body).with_context(|| format!("{}", envelope.display()))?;
    let base = central.trim_end_matches('/');
    if !base.starts_with("https://") {
        bail!("--central must be an https:// URL (the admin token never travels in clear)");
    }
    let url = format!("{base}/v1/admin/catalog");
    let pem = std::fs::read(ca).with_context(|| format!("cannot read CA file {}", ca.display()))?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("{} is not a PEM certificate", ca.display()))?;
    if roots.is_empty() {
        bail!("{} holds no certificate", ca.display());
    }
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .https_only(true)
        .timeout(Duration::from_secs(60));
    for r in roots {
        builder = builder.add_root_certificate(r);
    }
    let client = builder.build().context("cannot build the HTTPS client")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (status, text) = rt.block_on(async {
        let resp = client
            .post(&url)
            .bearer_auth(token.trim())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        anyhow::Ok((status, text))
    })?;
    let detail = error_text(&text);
    match status {
        200 | 201 => {
            println!("published catalog version {version} to {base}");
            Ok(ExitCode::SUCCESS)
        }
        409 => bail!("the platform refused version {version}: it already has this version or a newer one (409 {detail})"),
        400 => bail!("the platform refused the envelope (400): {detail}; is the signing key among the platform's trusted admin keys?"),
        401 | 403 => bail!("the platform refused the admin token ({status} {detail})"),
        _ => bail!("the platform answered {status}: {detail}"),
    }
}

/// The `error` field of a JSON error body, or the body itself.
fn error_text(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or_else(|| body.chars().take(300).collect())
}
