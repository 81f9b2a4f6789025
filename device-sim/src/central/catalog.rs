//! Checking a catalog envelope before the simulated platform publishes it: a DSSE envelope
//! whose Ed25519 signature over the pre-authentication encoding verifies against one of the
//! trusted admin keys (`--admin-key FILE.pub`, base64 of the raw 32-byte public key; key id =
//! file stem), carrying a catalog JSON with a numeric `version`.

use std::path::Path;

use anyhow::{bail, Context};
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;

/// The DSSE payload type of a catalog.
pub const CATALOG_PAYLOAD_TYPE: &str = "application/vnd.hall-kiosk.catalog+json";

/// A trusted admin public key.
#[derive(Debug, Clone)]
pub struct AdminKey {
    pub keyid: String,
    pub key: VerifyingKey,
}

/// Loads `FILE.pub` (base64 of the raw 32-byte key); the key id is the file stem.
pub fn load_admin_key(path: &Path) -> anyhow::Result<AdminKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read admin key {}", path.display()))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .with_context(|| format!("admin key {} is not base64", path.display()))?;
    let bytes: [u8; 32] = raw.as_slice().try_into().map_err(|_| {
        anyhow::anyhow!(
            "admin key {} must be 32 bytes once decoded, it is {}",
            path.display(),
            raw.len()
        )
    })?;
    let key = VerifyingKey::from_bytes(&bytes)
        .with_context(|| format!("admin key {} is not an Ed25519 public key", path.display()))?;
    let keyid = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    if keyid.is_empty() {
        bail!(
            "admin key {} has no file stem to use as key id",
            path.display()
        );
    }
    Ok(AdminKey { keyid, key })
}

/// The DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "payloadType")]
    payload_type: String,
    payload: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    #[serde(default)]
    keyid: String,
    sig: String,
}

/// Checks the envelope and returns the catalog version it carries.
pub fn verify_envelope(bytes: &[u8], keys: &[AdminKey]) -> anyhow::Result<u64> {
    let env: Envelope = serde_json::from_slice(bytes).context("the body is not a DSSE envelope")?;
    if env.payload_type != CATALOG_PAYLOAD_TYPE {
        bail!(
            "payloadType is {:?}, expected {CATALOG_PAYLOAD_TYPE:?}",
            env.payload_type
        );
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.decode(&env.payload).context("payload is not base64")?;
    let message = pae(&env.payload_type, &payload);
    let verified = env.signatures.iter().any(|s| {
        let Ok(sig_bytes) = b64.decode(&s.sig) else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(&sig_bytes) else {
            return false;
        };
        // The key id is a hint: a named trusted key is tried, an unnamed signature is tried
        // against every trusted key.
        keys.iter()
            .filter(|k| s.keyid.is_empty() || k.keyid == s.keyid)
            .any(|k| k.key.verify_strict(&message, &sig).is_ok())
    });
    if !verified {
        bail!("signature does not verify against the platform's trusted admin keys");
    }
    let catalog: serde_json::Value =
        serde_json::from_slice(&payload).context("payload is not catalog JSON")?;
    catalog
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .context("catalog JSON has no numeric version")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    pub(crate) fn envelope(signer: &SigningKey, keyid: &str, catalog: &str) -> Vec<u8> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let sig = signer.sign(&pae(CATALOG_PAYLOAD_TYPE, catalog.as_bytes()));
        serde_json::json!({
            "payloadType": CATALOG_PAYLOAD_TYPE,
            "payload": b64.encode(catalog),
            "signatures": [{"keyid": keyid, "sig": b64.encode(sig.to_bytes())}],
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn pae_matches_the_dsse_definition() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn verifies_trusted_signatures_only() {
        let signer = SigningKey::from_bytes(&[9; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let keys = vec![AdminKey {
            keyid: "admin-2026".into(),
            key: signer.verifying_key(),
        }];
        let cat = r#"{"version":5,"issued_at":"2026-11-27T00:00:00Z","expires_at":"2027-11-27T00:00:00Z","matters":[]}"#;
        assert_eq!(
            verify_envelope(&envelope(&signer, "admin-2026", cat), &keys).unwrap(),
            5
        );
        assert_eq!(
            verify_envelope(&envelope(&signer, "", cat), &keys).unwrap(),
            5
        );
        let err = verify_envelope(&envelope(&other, "admin-2026", cat), &keys).unwrap_err();
        assert!(err.to_string().contains("does not verify"), "{err}");
        assert!(verify_envelope(&envelope(&signer, "someone-else", cat), &keys).is_err());
        assert!(verify_envelope(b"{}", &keys).is_err());
        assert!(
            verify_envelope(&envelope(&signer, "admin-2026", "{}"), &keys)
                .unwrap_err()
                .to_string()
                .contains("no numeric version")
        );
    }

    #[test]
    fn loads_a_pub_file_with_its_stem_as_key_id() {
        let dir = tempfile::tempdir().unwrap();
        let signer = SigningKey::from_bytes(&[9; 32]);
        let path = dir.path().join("admin-2026.pub");
        let b64 = base64::engine::general_purpose::STANDARD;
        std::fs::write(
            &path,
            format!("{}\n", b64.encode(signer.verifying_key().as_bytes())),
        )
        .unwrap();
        let k = load_admin_key(&path).unwrap();
        assert_eq!(k.keyid, "admin-2026");
        assert_eq!(k.key, signer.verifying_key());
        std::fs::write(&path, "c2hvcnQ=").unwrap();
        assert!(load_admin_key(&path)
            .unwrap_err()
            .to_string()
            .contains("32 bytes"));
    }
}
