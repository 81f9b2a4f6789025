//! Encryption of personal data at rest: ChaCha20-Poly1305 (AEAD) with a 32-byte key kept in a
//! file only the kiosk user can read. Each sealed value carries its random 96-bit nonce; the
//! additional data binds it to its row (the submission id), so a ciphertext copied onto
//! another row does not open.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;

/// The data key. Its bytes are wiped from memory when dropped.
pub struct DataKey {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        DataKey {
            key: Zeroizing::new(bytes),
        }
    }

    /// Loads the key file, creating it (mode 0600, 32 random bytes) when it does not exist.
    /// Refuses a key file that group or others can read, or of the wrong size.
    pub fn load_or_create(path: &Path) -> anyhow::Result<DataKey> {
        match std::fs::metadata(path) {
            Ok(meta) => {
                check_private(path, &meta)?;
                let bytes = Zeroizing::new(
                    std::fs::read(path)
                        .with_context(|| format!("cannot read data key {}", path.display()))?,
                );
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    anyhow::anyhow!(
                        "data key {} must hold exactly 32 bytes, it holds {}",
                        path.display(),
                        bytes.len()
                    )
                })?;
                Ok(DataKey::from_bytes(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path),
            Err(e) => Err(e).with_context(|| format!("cannot stat data key {}", path.display())),
        }
    }

    /// Encrypts `plaintext`, bound to `aad`. Output: nonce || ciphertext+tag.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(self.key.as_slice()));
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts what [`DataKey::seal`] produced with the same `aad`. The plaintext is wiped
    /// when the returned buffer drops.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> anyhow::Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + 16 {
            bail!("sealed value is too short ({} bytes)", sealed.len());
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(self.key.as_slice()));
        let pt = cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| {
                anyhow::anyhow!(
                    "sealed value does not open with this data key (wrong key or tampered row)"
                )
            })?;
        Ok(Zeroizing::new(pt))
    }
}

fn create(path: &Path) -> anyhow::Result<DataKey> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create folder for data key {}", path.display()))?;
    }
    let mut key = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(key.as_mut_slice());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create data key {}", path.display()))?;
    file.write_all(key.as_slice())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "created a new data key");
    Ok(DataKey::from_bytes(*key))
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "data key {} is readable by other users (mode {:o}); run: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &std::fs::Metadata) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper_detection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/data.key");
        let key = DataKey::load_or_create(&path).unwrap();
        let sealed = key
            .seal(b"row-1", "张三丰 11010519491231002X".as_bytes())
            .unwrap();
        assert!(!sealed
            .windows(18)
            .any(|w| w == "11010519491231002X".as_bytes()));
        let again = DataKey::load_or_create(&path).unwrap();
        assert_eq!(
            again.open(b"row-1", &sealed).unwrap().as_slice(),
            "张三丰 11010519491231002X".as_bytes()
        );
        assert!(again.open(b"row-2", &sealed).is_err(), "bound to its row");
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(again.open(b"row-1", &bad).is_err(), "tamper detected");
        assert!(again.open(b"row-1", &sealed[..10]).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_private_and_others_readable_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.key");
        DataKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = DataKey::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn wrong_size_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.key");
        std::fs::write(&path, b"short").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert!(DataKey::load_or_create(&path)
            .unwrap_err()
            .to_string()
            .contains("exactly 32 bytes"));
    }
}
