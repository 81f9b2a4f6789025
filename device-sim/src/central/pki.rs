//! `device-sim central init-pki DIR`: the simulated platform's certificate authority, its
//! server certificate (127.0.0.1 and localhost), one client certificate a kiosk id and an
//! admin token. Running it again on the same folder keeps what exists and adds what is
//! missing (e.g. a new kiosk id), so a kiosk's files never change under it.
//!
//! Layout of DIR:
//! - `ca.pem`, `ca.key`: the CA (the kiosk's `central.ca_file` is `ca.pem`)
//! - `server.pem`, `server.key`: the platform's certificate
//! - `clients/<KIOSK_ID>.pem`, `clients/<KIOSK_ID>.key`: a kiosk's client identity
//! - `admin.token`: the bearer token for `POST /v1/admin/...`

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rand::RngCore;
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

/// The CA's subject; kept constant so a CA rebuilt from `ca.key` issues certificates that
/// chain to the `ca.pem` written the first time.
const CA_COMMON_NAME: &str = "hall-kiosk simulated central CA";

/// Paths of the files in a PKI folder.
#[derive(Debug, Clone)]
pub struct PkiPaths {
    pub dir: PathBuf,
}

impl PkiPaths {
    pub fn new(dir: &Path) -> PkiPaths {
        PkiPaths {
            dir: dir.to_path_buf(),
        }
    }
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    pub fn ca_key(&self) -> PathBuf {
        self.dir.join("ca.key")
    }
    pub fn server_cert(&self) -> PathBuf {
        self.dir.join("server.pem")
    }
    pub fn server_key(&self) -> PathBuf {
        self.dir.join("server.key")
    }
    pub fn client_cert(&self, kiosk_id: &str) -> PathBuf {
        self.dir.join("clients").join(format!("{kiosk_id}.pem"))
    }
    pub fn client_key(&self, kiosk_id: &str) -> PathBuf {
        self.dir.join("clients").join(format!("{kiosk_id}.key"))
    }
    pub fn admin_token(&self) -> PathBuf {
        self.dir.join("admin.token")
    }

    /// Reads the admin token (trimmed).
    pub fn read_admin_token(&self) -> anyhow::Result<String> {
        let path = self.admin_token();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read admin token {}", path.display()))?;
        let token = text.trim().to_string();
        if token.is_empty() {
            bail!("admin token {} is empty", path.display());
        }
        Ok(token)
    }
}

/// What `init_pki` did, for the command's output.
#[derive(Debug, Default, serde::Serialize)]
pub struct PkiReport {
    pub dir: PathBuf,
    pub created: Vec<PathBuf>,
    pub kept: Vec<PathBuf>,
}

/// Creates (or completes) the PKI in `dir` for the given kiosk ids.
pub fn init_pki(dir: &Path, kiosk_ids: &[String]) -> anyhow::Result<PkiReport> {
    for id in kiosk_ids {
        check_kiosk_id(id)?;
    }
    let paths = PkiPaths::new(dir);
    std::fs::create_dir_all(dir.join("clients"))
        .with_context(|| format!("cannot create PKI folder {}", dir.display()))?;
    let mut report = PkiReport {
        dir: dir.to_path_buf(),
        ..PkiReport::default()
    };

    let (ca, ca_key) = load_or_create_ca(&paths, &mut report)?;

    if paths.server_cert().exists() && paths.server_key().exists() {
        report.kept.push(paths.server_cert());
    } else {
        let key = KeyPair::generate()?;
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "hall-kiosk simulated central");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &ca, &ca_key)?;
        write_public(&paths.server_cert(), cert.pem().as_bytes())?;
        write_private(&paths.server_key(), key.serialize_pem().as_bytes())?;
        report.created.push(paths.server_cert());
    }

    for id in kiosk_ids {
        if paths.client_cert(id).exists() && paths.client_key(id).exists() {
            report.kept.push(paths.client_cert(id));
            continue;
        }
        let (pem, key_pem) = issue_client(&ca, &ca_key, id)?;
        write_public(&paths.client_cert(id), pem.as_bytes())?;
        write_private(&paths.client_key(id), key_pem.as_bytes())?;
        report.created.push(paths.client_cert(id));
    }

    if paths.admin_token().exists() {
        report.kept.push(paths.admin_token());
    } else {
        let mut raw = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        write_private(
            &paths.admin_token(),
            format!("{}\n", hex::encode(raw)).as_bytes(),
        )?;
        report.created.push(paths.admin_token());
    }
    Ok(report)
}

/// A client certificate (PEM) and its key (PEM) for `kiosk_id`: CN and first DNS SAN are
/// the kiosk id, extended key usage clientAuth.
pub fn issue_client(
    ca: &Certificate,
    ca_key: &KeyPair,
    kiosk_id: &str,
) -> anyhow::Result<(String, String)> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, kiosk_id);
    params.subject_alt_names = vec![SanType::DnsName(kiosk_id.to_string().try_into()?)];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, ca, ca_key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Loads the CA key and rebuilds its certificate object (same subject and key, so what it
/// signs chains to the existing `ca.pem`), or creates both.
pub fn load_or_create_ca(
    paths: &PkiPaths,
    report: &mut PkiReport,
) -> anyhow::Result<(Certificate, KeyPair)> {
    let existing = paths.ca_key().exists() && paths.ca_cert().exists();
    let key = if existing {
        let pem = std::fs::read_to_string(paths.ca_key())
            .with_context(|| format!("cannot read {}", paths.ca_key().display()))?;
        KeyPair::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM private key", paths.ca_key().display()))?
    } else {
        KeyPair::generate()?
    };
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, CA_COMMON_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key)?;
    if existing {
        report.kept.push(paths.ca_cert());
    } else {
        write_public(&paths.ca_cert(), cert.pem().as_bytes())?;
        write_private(&paths.ca_key(), key.serialize_pem().as_bytes())?;
        report.created.push(paths.ca_cert());
    }
    Ok((cert, key))
}

/// Kiosk ids become file names and certificate names: keep them to a safe alphabet.
fn check_kiosk_id(id: &str) -> anyhow::Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !id.starts_with('.');
    if !ok {
        bail!("kiosk id {id:?} must be 1-64 characters of A-Z, a-z, 0-9, '-', '_', '.'");
    }
    Ok(())
}

fn write_public(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Private keys and the token are readable by the owner only (the kiosk refuses others).
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_everything_then_keeps_it_and_adds_new_kiosks() {
        let dir = tempfile::tempdir().unwrap();
        let first = init_pki(dir.path(), &["XH-0001".into()]).unwrap();
        assert_eq!(first.created.len(), 4, "{first:?}");
        let paths = PkiPaths::new(dir.path());
        let ca_before = std::fs::read(paths.ca_cert()).unwrap();
        let client_before = std::fs::read(paths.client_cert("XH-0001")).unwrap();
        let token = paths.read_admin_token().unwrap();
        assert_eq!(token.len(), 48);

        let second = init_pki(dir.path(), &["XH-0001".into(), "XH-0002".into()]).unwrap();
        assert_eq!(second.created, vec![paths.client_cert("XH-0002")]);
        assert_eq!(std::fs::read(paths.ca_cert()).unwrap(), ca_before);
        assert_eq!(
            std::fs::read(paths.client_cert("XH-0001")).unwrap(),
            client_before
        );
        assert_eq!(paths.read_admin_token().unwrap(), token);

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for p in [
                paths.ca_key(),
                paths.client_key("XH-0002"),
                paths.admin_token(),
            ] {
                let mode = std::fs::metadata(&p).unwrap().permissions().mode();
                assert_eq!(mode & 0o077, 0, "{} is private", p.display());
            }
        }
    }

    #[test]
    fn unsafe_kiosk_ids_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["", "../x", ".hidden", "a b", "x/y"] {
            assert!(init_pki(dir.path(), &[bad.to_string()]).is_err(), "{bad:?}");
        }
    }
}
