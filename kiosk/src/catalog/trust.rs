//! Signed catalog envelopes (`docs/central-api.md`, "Catalog"): a DSSE envelope whose Ed25519
//! signature over the pre-authentication encoding (PAE) must come from a trusted admin key.
//!
//! Sans-IO: bytes, keys and a policy (installed version, clock, grace, size limit) in; a
//! verified catalog, or every reason for refusal, out. The kiosk's sync, `kiosk catalog
//! verify` and the benchmark all call [`inspect_envelope`] / [`verify_envelope`].
//!
//! Order of checks: the size limit comes first and stops everything (a 50 MB body is never
//! parsed); an envelope that is not JSON stops everything else (nothing more to read). After
//! that every check runs, so an admin sees all that is wrong with a catalog in one go.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::check;
use super::model::Catalog;

/// The DSSE payload type of a catalog envelope.
pub const PAYLOAD_TYPE: &str = "application/vnd.hall-kiosk.catalog+json";

/// A new catalog with fewer matters than this fraction of the installed one's is refused: an
/// admin withdrawing half the hall's matters at once is far more likely an export mistake.
pub const MIN_MATTER_FRACTION: f64 = 0.5;

/// The words `check::problems` uses for an empty catalog (a test keeps the two in step).
const NO_MATTERS_PROBLEM: &str = "the catalog has no matters";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP len(type) SP type SP len(payload) SP payload` (lengths in ASCII decimal).
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

/// The envelope as it travels (field names are the contract's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Base64 of the catalog JSON.
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default)]
    pub keyid: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub sig: String,
}

/// Signs `catalog_json` exactly as given (the bytes the admin diffed are the bytes signed).
pub fn sign(catalog_json: &[u8], key_id: &str, key: &SigningKey) -> Envelope {
    let sig = key.sign(&pae(PAYLOAD_TYPE, catalog_json));
    Envelope {
        payload_type: PAYLOAD_TYPE.to_string(),
        payload: B64.encode(catalog_json),
        signatures: vec![EnvelopeSignature {
            keyid: key_id.to_string(),
            sig: B64.encode(sig.to_bytes()),
        }],
    }
}

/// One public key trusted to sign catalogs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub key_id: String,
    pub key: VerifyingKey,
}

/// The keys a kiosk trusts. Several at once is how keys rotate: ship the new `.pub` to the
/// fleet, sign with the new key, then drop the old one from the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
}

impl TrustedKeys {
    pub fn new(keys: Vec<TrustedKey>) -> TrustedKeys {
        TrustedKeys { keys }
    }

    /// Loads `ID.pub` files (the key id of each is its file stem).
    pub fn load(paths: &[PathBuf]) -> anyhow::Result<TrustedKeys> {
        let keys = paths
            .iter()
            .map(|p| load_public_key(p))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(TrustedKeys { keys })
    }

    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.key_id.as_str()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Keys to try for a signature: the named one, or all when the signature names none.
    fn candidates<'a>(&'a self, keyid: &'a str) -> impl Iterator<Item = &'a TrustedKey> + 'a {
        self.keys
            .iter()
            .filter(move |k| keyid.is_empty() || k.key_id == keyid)
    }
}

/// A key id is a file stem that also travels in envelopes: keep it plain.
pub fn valid_key_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !id.starts_with('.')
}

/// Reads an `ID.pub` file: base64 of the raw 32-byte Ed25519 public key.
pub fn load_public_key(path: &Path) -> anyhow::Result<TrustedKey> {
    let key_id = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    if !valid_key_id(&key_id) {
        bail!(
            "public key {}: the file stem {key_id:?} is not a usable key id (letters, digits, - _ .)",
            path.display()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read public key {}", path.display()))?;
    let raw = B64
        .decode(text.trim())
        .with_context(|| format!("public key {} is not base64", path.display()))?;
    let bytes: [u8; 32] = raw.as_slice().try_into().map_err(|_| {
        anyhow::anyhow!(
            "public key {} must be 32 bytes once decoded, it is {}",
            path.display(),
            raw.len()
        )
    })?;
    let key = VerifyingKey::from_bytes(&bytes)
        .with_context(|| format!("public key {} is not an Ed25519 key", path.display()))?;
    Ok(TrustedKey { key_id, key })
}

/// What the kiosk has now, for the rollback and sanity checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Installed {
    /// The highest version ever stored (a newer one is required).
    pub version: u64,
    /// Matters in the active catalog.
    pub matters: usize,
}

/// Everything the checks need besides the bytes and the keys.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub now: DateTime<Utc>,
    /// Seconds past `expires_at` still accepted (kiosk clocks drift).
    pub grace_s: u64,
    pub max_bytes: u64,
    /// `None` on a kiosk with nothing installed (or when verifying away from a kiosk).
    pub installed: Option<Installed>,
}

/// One reason an envelope is refused. Each is its own variant with a stable [`Refusal::code`]
/// (for `--json`, logs and the heartbeat) and a message an admin can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the envelope is {size} bytes, more than the {max} allowed; it was not read")]
    TooLarge { size: u64, max: u64 },
    #[error("the envelope ends early (truncated): {0}")]
    Truncated(String),
    #[error("the envelope is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the JSON is not a DSSE envelope: {0}")]
    NotAnEnvelope(String),
    #[error("payloadType is {found:?}, expected \"application/vnd.hall-kiosk.catalog+json\"")]
    WrongPayloadType { found: String },
    #[error("the payload is not base64: {0}")]
    PayloadNotBase64(String),
    #[error("the envelope carries no signature")]
    NoSignature,
    #[error("signature {index} (key id {keyid:?}) is not a base64 Ed25519 signature")]
    MalformedSignature { index: usize, keyid: String },
    #[error("signed by key id {keyid:?}, which this kiosk does not trust (trusted: {trusted})")]
    UnknownKey { keyid: String, trusted: String },
    #[error("the signature by trusted key {keyid:?} does not match the payload (tampered, or signed by another key)")]
    BadSignature { keyid: String },
    #[error("the payload is not catalog JSON: {0}")]
    PayloadNotJson(String),
    #[error(
        "catalog version {version} is not newer than version {installed} already on this kiosk"
    )]
    VersionNotNewer { version: u64, installed: u64 },
    #[error(
        "the catalog expired at {expires_at}, more than the {grace_s} s grace before now ({now})"
    )]
    Expired {
        expires_at: String,
        now: String,
        grace_s: u64,
    },
    #[error("the catalog breaks the schema: {}", .0.join("; "))]
    Schema(Vec<String>),
    #[error("the catalog has {matters} matters, {why}")]
    CountsNotSane { matters: usize, why: String },
}

impl Refusal {
    /// A stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Truncated(_) => "truncated",
            Refusal::InvalidJson(_) => "invalid_json",
            Refusal::NotAnEnvelope(_) => "not_an_envelope",
            Refusal::WrongPayloadType { .. } => "wrong_payload_type",
            Refusal::PayloadNotBase64(_) => "payload_not_base64",
            Refusal::NoSignature => "no_signature",
            Refusal::MalformedSignature { .. } => "malformed_signature",
            Refusal::UnknownKey { .. } => "unknown_key",
            Refusal::BadSignature { .. } => "bad_signature",
            Refusal::PayloadNotJson(_) => "payload_not_json",
            Refusal::VersionNotNewer { .. } => "version_not_newer",
            Refusal::Expired { .. } => "expired",
            Refusal::Schema(_) => "schema",
            Refusal::CountsNotSane { .. } => "counts_not_sane",
        }
    }
}

/// `{code, message}` for JSON output and the heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalView {
    pub code: String,
    pub message: String,
}

impl From<&Refusal> for RefusalView {
    fn from(r: &Refusal) -> Self {
        RefusalView {
            code: r.code().to_string(),
            message: r.to_string(),
        }
    }
}

/// A catalog that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedCatalog {
    pub catalog: Catalog,
    /// The payload exactly as signed (stored and exported byte for byte).
    pub catalog_json: Vec<u8>,
    /// SHA-256 of `catalog_json`, hex (the store checks the payload against it on load).
    pub payload_sha256: String,
    /// The envelope without its payload (`{"payloadType", "signatures"}` as JSON): stored
    /// next to `catalog_json` so the payload is kept once and the envelope can be rebuilt.
    pub envelope_header: Vec<u8>,
    /// Key id of the trusted key whose signature verified.
    pub signer: String,
}

/// What reading an envelope found, accepted or not (what `kiosk catalog verify` prints).
#[derive(Debug, Clone)]
pub struct Inspection {
    pub version: Option<u64>,
    pub matters: Option<usize>,
    pub signer: Option<String>,
    pub issued_at: Option<String>,
    pub expires_at: Option<String>,
    pub refusals: Vec<Refusal>,
    verified: Option<VerifiedCatalog>,
}

impl Inspection {
    fn new() -> Inspection {
        Inspection {
            version: None,
            matters: None,
            signer: None,
            issued_at: None,
            expires_at: None,
            refusals: Vec::new(),
            verified: None,
        }
    }

    pub fn accepted(&self) -> bool {
        self.refusals.is_empty() && self.verified.is_some()
    }

    pub fn into_result(self) -> Result<VerifiedCatalog, Vec<Refusal>> {
        match self.verified {
            Some(v) if self.refusals.is_empty() => Ok(v),
            _ => Err(self.refusals),
        }
    }
}

/// Verifies an envelope: accepted only with no refusal at all.
pub fn verify_envelope(
    bytes: &[u8],
    keys: &TrustedKeys,
    policy: &Policy,
) -> Result<VerifiedCatalog, Vec<Refusal>> {
    inspect_envelope(bytes, keys, policy).into_result()
}

/// Runs every check and reports what it found (see the module comment for the order).
pub fn inspect_envelope(bytes: &[u8], keys: &TrustedKeys, policy: &Policy) -> Inspection {
    let mut out = Inspection::new();
    let size = bytes.len() as u64;
    if size > policy.max_bytes {
        out.refusals.push(Refusal::TooLarge {
            size,
            max: policy.max_bytes,
        });
        return out;
    }
    let env: Envelope = match serde_json::from_slice(bytes) {
        Ok(e) => e,
        Err(e) => {
            out.refusals.push(match e.classify() {
                serde_json::error::Category::Eof => Refusal::Truncated(e.to_string()),
                serde_json::error::Category::Data => Refusal::NotAnEnvelope(e.to_string()),
                _ => Refusal::InvalidJson(e.to_string()),
            });
            return out;
        }
    };
    if env.payload_type != PAYLOAD_TYPE {
        out.refusals.push(Refusal::WrongPayloadType {
            found: env.payload_type.clone(),
        });
    }
    let payload = match B64.decode(env.payload.as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            out.refusals.push(Refusal::PayloadNotBase64(e.to_string()));
            return out;
        }
    };
    // The signature (SHA-512 over the whole payload) and the parse and checks of the catalog
    // are independent and each ~10 ms for the bundled catalog: run them side by side. The
    // signature's refusals still come first in the list.
    let before = out.refusals.len();
    let (signer, sig_refusals, sha256, catalog) = std::thread::scope(|scope| {
        let sig = scope.spawn(|| {
            let mut refusals = Vec::new();
            let signer = check_signatures(&env, &payload, keys, &mut refusals);
            // The parse is the longer of the two: the digest fits in its shadow.
            let sha256 = hex::encode(Sha256::digest(&payload));
            (signer, refusals, sha256)
        });
        let catalog = read_catalog(&payload, policy, &mut out);
        let (signer, refusals, sha256) = sig
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (signer, refusals, sha256, catalog)
    });
    out.signer = signer;
    out.refusals.splice(before..before, sig_refusals);
    if let (Some(catalog), Some(signer)) = (catalog, out.signer.clone()) {
        if out.refusals.is_empty() {
            out.verified = Some(VerifiedCatalog {
                catalog,
                catalog_json: payload,
                payload_sha256: sha256,
                envelope_header: envelope_header(&env),
                signer,
            });
        }
    }
    out
}

/// The envelope minus its payload, as JSON.
fn envelope_header(env: &Envelope) -> Vec<u8> {
    #[derive(Serialize)]
    struct Header<'a> {
        #[serde(rename = "payloadType")]
        payload_type: &'a str,
        signatures: &'a [EnvelopeSignature],
    }
    // Serializing two strings and a list cannot fail; an empty header would only lose the
    // audit copy, never a verification.
    serde_json::to_vec(&Header {
        payload_type: &env.payload_type,
        signatures: &env.signatures,
    })
    .unwrap_or_default()
}

/// Returns the key id of the first trusted signature that verifies. When none does, says why
/// for each signature (unknown key, bad signature, malformed).
fn check_signatures(
    env: &Envelope,
    payload: &[u8],
    keys: &TrustedKeys,
    refusals: &mut Vec<Refusal>,
) -> Option<String> {
    if env.signatures.is_empty() {
        refusals.push(Refusal::NoSignature);
        return None;
    }
    // The signature covers the payload type the envelope states, as DSSE defines.
    let message = pae(&env.payload_type, payload);
    let mut why = Vec::new();
    for (index, s) in env.signatures.iter().enumerate() {
        let sig = B64
            .decode(s.sig.as_bytes())
            .ok()
            .and_then(|b| Signature::from_slice(&b).ok());
        let Some(sig) = sig else {
            why.push(Refusal::MalformedSignature {
                index,
                keyid: s.keyid.clone(),
            });
            continue;
        };
        let mut tried = false;
        for k in keys.candidates(&s.keyid) {
            tried = true;
            if k.key.verify_strict(&message, &sig).is_ok() {
                return Some(k.key_id.clone());
            }
        }
        why.push(if tried {
            Refusal::BadSignature {
                keyid: s.keyid.clone(),
            }
        } else {
            Refusal::UnknownKey {
                keyid: s.keyid.clone(),
                trusted: if keys.is_empty() {
                    "none configured".into()
                } else {
                    keys.ids().join(", ")
                },
            }
        });
    }
    refusals.extend(why);
    None
}

/// Parses the payload and runs the catalog checks, filling in what it learns.
fn read_catalog(payload: &[u8], policy: &Policy, out: &mut Inspection) -> Option<Catalog> {
    let catalog: Catalog = match serde_json::from_slice(payload) {
        Ok(c) => c,
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            // Valid JSON of the wrong shape: still report its version and expiry checks.
            out.refusals.push(Refusal::Schema(vec![e.to_string()]));
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(payload) {
                let version = v.get("version").and_then(serde_json::Value::as_u64);
                let expires = v.get("expires_at").and_then(serde_json::Value::as_str);
                out.version = version;
                out.expires_at = expires.map(str::to_string);
                out.matters = v.get("matters").and_then(|m| m.as_array()).map(Vec::len);
                check_version_and_expiry(version, expires, policy, &mut out.refusals);
            }
            return None;
        }
        Err(e) => {
            out.refusals.push(Refusal::PayloadNotJson(e.to_string()));
            return None;
        }
    };
    out.version = Some(catalog.version);
    out.matters = Some(catalog.matters.len());
    out.issued_at = Some(catalog.issued_at.clone());
    out.expires_at = Some(catalog.expires_at.clone());
    check_version_and_expiry(
        Some(catalog.version),
        Some(&catalog.expires_at),
        policy,
        &mut out.refusals,
    );
    // "No matters" is reported once, as a count problem below.
    let problems: Vec<String> = check::problems(&catalog)
        .into_iter()
        .filter(|p| p != NO_MATTERS_PROBLEM)
        .collect();
    if !problems.is_empty() {
        out.refusals.push(Refusal::Schema(problems));
    }
    if let Some(why) = counts_not_sane(catalog.matters.len(), policy.installed) {
        out.refusals.push(Refusal::CountsNotSane {
            matters: catalog.matters.len(),
            why,
        });
    }
    Some(catalog)
}

fn check_version_and_expiry(
    version: Option<u64>,
    expires_at: Option<&str>,
    policy: &Policy,
    refusals: &mut Vec<Refusal>,
) {
    if let (Some(version), Some(installed)) = (version, policy.installed) {
        if version <= installed.version {
            refusals.push(Refusal::VersionNotNewer {
                version,
                installed: installed.version,
            });
        }
    }
    // An unparsable time is a schema problem (reported by `check`), not an expiry.
    let expiry = expires_at.and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    if let (Some(t), Some(text)) = (expiry, expires_at) {
        if is_past_grace(t.with_timezone(&Utc), policy.now, policy.grace_s) {
            refusals.push(Refusal::Expired {
                expires_at: text.to_string(),
                now: policy
                    .now
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                grace_s: policy.grace_s,
            });
        }
    }
}

/// Whether `now` is later than `expires_at` plus the grace period.
pub fn is_past_grace(expires_at: DateTime<Utc>, now: DateTime<Utc>, grace_s: u64) -> bool {
    let grace = chrono::Duration::seconds(i64::try_from(grace_s).unwrap_or(i64::MAX / 1000));
    match expires_at.checked_add_signed(grace) {
        Some(limit) => now > limit,
        None => false,
    }
}

fn counts_not_sane(matters: usize, installed: Option<Installed>) -> Option<String> {
    if matters == 0 {
        return Some("a catalog needs at least one".into());
    }
    let installed = installed?.matters;
    if (matters as f64) < (installed as f64) * MIN_MATTER_FRACTION {
        return Some(format!(
            "fewer than half of the {installed} installed (an incomplete export?)"
        ));
    }
    None
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
