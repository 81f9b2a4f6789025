//! Installing signed catalogs on a kiosk: verify an envelope and stage it
//! ([`stage_envelope`]), switch to it only when the session is back at Home
//! ([`switch_at_home`] / [`switch_if_staged`]), roll back a catalog that does not load, and
//! report the catalog's health (staleness, last rollback, last refusal) for diagnostics and
//! the heartbeat ([`catalog_health`]).
//!
//! Fast path: the sync engine stages with a [`StagedHandoff`] ([`stage_envelope_with`]) and
//! the app switches with the same one ([`switch_at_home_with`]): the catalog parsed during
//! verification is handed over and the switch is a pointer flip, no read-back, no parse.
//! Without a matching hand-over (another process staged it, or after a restart) the switch
//! reads the staged row back, checks its hash and parses it, rolling back when that fails.
//! The stored bytes of an active catalog are checked again at every start
//! ([`load_active_or_roll_back`]), which rolls back too.
//!
//! The store's slots (`store::catalog_slots`) do the atomic moves; this file decides when.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::handoff::StagedHandoff;
use super::model::Catalog;
use super::trust::{self, Installed, Policy, Refusal, RefusalView, TrustedKeys};
use crate::config::CatalogConfig;
use crate::session::{Session, Step};
use crate::store::{CatalogRow, CatalogSlot, Store};

/// `meta` key of the last automatic rollback (JSON [`CatalogRollback`]).
pub const META_ROLLBACK: &str = "catalog_rollback";
/// `meta` key of the last refused envelope (JSON [`RefusalRecord`]).
pub const META_REFUSAL: &str = "catalog_last_refusal";

/// What the kiosk has, for the checks of a new envelope: the highest version ever stored
/// (a rolled-back or staged one counts, so neither can come back) and the active matter count.
pub fn installed(store: &Store) -> anyhow::Result<Option<Installed>> {
    let Some(version) = store.highest_catalog_version()? else {
        return Ok(None);
    };
    Ok(Some(Installed {
        version,
        matters: active_matter_count(store)?,
    }))
}

/// Matters in the active catalog, as counted when it was stored (the multi-megabyte payload
/// is neither read nor parsed here). Unknown counts as none.
fn active_matter_count(store: &Store) -> anyhow::Result<usize> {
    let n = store
        .catalog_info(CatalogSlot::Active)?
        .and_then(|i| i.matters);
    Ok(n.map_or(0, |n| usize::try_from(n).unwrap_or(0)))
}

/// The `have` of `GET /v1/catalog?have=N`: the highest version stored (0 when none), so a
/// staged or rolled-back version is not downloaded again.
pub fn have_version(store: &Store) -> anyhow::Result<u64> {
    Ok(store.highest_catalog_version()?.unwrap_or(0))
}

/// The verification policy for this kiosk now.
pub fn policy(store: &Store, config: &CatalogConfig, now: DateTime<Utc>) -> anyhow::Result<Policy> {
    Ok(Policy {
        now,
        grace_s: config.expiry_grace_s,
        max_bytes: config.max_envelope_bytes,
        installed: installed(store)?,
    })
}

/// What happened to an envelope handed to [`stage_envelope`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageOutcome {
    /// Verified and stored in the staged slot; it becomes active at the next return to Home.
    Staged {
        version: u64,
        matters: usize,
        signer: String,
    },
    /// Refused; the installed catalog stays. Every reason is listed.
    Refused(Vec<Refusal>),
}

/// A refused envelope, kept in `meta` for diagnostics and the heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalRecord {
    pub at: String,
    pub refusals: Vec<RefusalView>,
}

/// An automatic rollback, kept in `meta` for diagnostics and the heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogRollback {
    pub at: String,
    pub failed_version: u64,
    pub restored_version: Option<u64>,
    /// For staff (diagnostics); never sent to the platform (it may quote catalog text).
    pub reason: String,
    /// Why, as a code: `unreadable`, `changed_on_disk` or `invalid` (`""` in records
    /// written before codes existed).
    #[serde(default)]
    pub code: String,
}

/// Why a stored catalog did not load.
struct LoadFailure {
    code: &'static str,
    error: anyhow::Error,
}

impl LoadFailure {
    fn unreadable(error: impl Into<anyhow::Error>) -> LoadFailure {
        LoadFailure {
            code: "unreadable",
            error: error.into(),
        }
    }
}

/// Verifies `bytes` (the body of `GET /v1/catalog`) and stages the catalog it carries.
/// Store errors are errors; a refused envelope is an outcome (and is recorded in `meta`).
pub fn stage_envelope(
    store: &mut Store,
    bytes: &[u8],
    keys: &TrustedKeys,
    config: &CatalogConfig,
    now: DateTime<Utc>,
) -> anyhow::Result<StageOutcome> {
    stage_envelope_with(store, bytes, keys, config, now, None)
}

/// [`stage_envelope`], and when it is staged, offers the parsed catalog to `handoff` so the
/// switch at Home does not parse it again.
pub fn stage_envelope_with(
    store: &mut Store,
    bytes: &[u8],
    keys: &TrustedKeys,
    config: &CatalogConfig,
    now: DateTime<Utc>,
    handoff: Option<&StagedHandoff>,
) -> anyhow::Result<StageOutcome> {
    let policy = policy(store, config, now)?;
    match trust::verify_envelope(bytes, keys, &policy) {
        Ok(v) => {
            let version = v.catalog.version;
            let matters = v.catalog.matters.len();
            let sha256 = v.payload_sha256.clone();
            store.stage_catalog(&CatalogRow {
                version,
                source: format!("central, signed by {}", v.signer),
                installed_at: rfc3339(now),
                sha256: sha256.clone(),
                expires_at: Some(v.catalog.expires_at.clone()),
                matters: Some(matters as u64),
                catalog_json: v.catalog_json,
                envelope_header: Some(v.envelope_header),
            })?;
            if let Some(h) = handoff {
                h.offer(version, sha256, v.catalog);
            }
            delete_meta(store, META_REFUSAL)?;
            tracing::info!(version, matters, signer = %v.signer, "catalog staged for the next return to Home");
            Ok(StageOutcome::Staged {
                version,
                matters,
                signer: v.signer,
            })
        }
        Err(refusals) => {
            let record = RefusalRecord {
                at: rfc3339(now),
                refusals: refusals.iter().map(RefusalView::from).collect(),
            };
            set_meta(store, META_REFUSAL, &serde_json::to_string(&record)?)?;
            let codes: Vec<&str> = refusals.iter().map(Refusal::code).collect();
            tracing::warn!(reasons = ?codes, "catalog envelope refused; the installed catalog stays");
            Ok(StageOutcome::Refused(refusals))
        }
    }
}

/// Switches to the staged catalog only when the session is at Home; mid-visit it does nothing
/// (the citizen keeps the catalog and form they started with). See [`switch_if_staged`].
pub fn switch_at_home(session: &Session, store: &mut Store) -> anyhow::Result<Option<Catalog>> {
    if session.step() != Step::Home {
        return Ok(None);
    }
    switch_if_staged(store)
}

/// [`switch_at_home`] taking the catalog parsed at staging time from `handoff` when it is
/// the one staged: then the switch is only the store's pointer flip.
pub fn switch_at_home_with(
    session: &Session,
    store: &mut Store,
    handoff: &StagedHandoff,
) -> anyhow::Result<Option<Catalog>> {
    if session.step() != Step::Home {
        return Ok(None);
    }
    switch_staged(store, Some(handoff))
}

/// Call on every return to Home. When a catalog is staged: makes it active (the old one is
/// kept as `previous`), loads it and returns it for the app to use from now on. When it does
/// not load, the previous one is restored, the failure is recorded under [`META_ROLLBACK`]
/// and `None` is returned (keep the catalog in use). `None` too when nothing was staged.
pub fn switch_if_staged(store: &mut Store) -> anyhow::Result<Option<Catalog>> {
    switch_staged(store, None)
}

/// [`switch_if_staged`], using the parsed catalog in `handoff` when it matches the staged
/// version and payload hash.
pub fn switch_staged(
    store: &mut Store,
    handoff: Option<&StagedHandoff>,
) -> anyhow::Result<Option<Catalog>> {
    if let Some(h) = handoff {
        if let Some(staged) = store.catalog_info(CatalogSlot::Staged)? {
            if let Some(catalog) = h.take(staged.version, &staged.sha256) {
                // The flip checks, in its own transaction, that the staged row is still the
                // one the catalog was verified as (another process may have staged a newer).
                if store.switch_to_staged_version(staged.version, &staged.sha256)? {
                    tracing::info!(
                        version = staged.version,
                        "switched to the new catalog at Home (parsed at staging)"
                    );
                    return Ok(Some(catalog));
                }
            }
        }
    }
    let Some(version) = store.switch_to_staged()? else {
        return Ok(None);
    };
    // Any failure to read the row back counts as "does not load" and is rolled back.
    let loaded = match store.catalog_in(CatalogSlot::Active) {
        Ok(Some(row)) => load_row(&row),
        Ok(None) => Err(LoadFailure::unreadable(anyhow::anyhow!(
            "no active catalog after the switch"
        ))),
        Err(e) => Err(LoadFailure::unreadable(e)),
    };
    match loaded {
        Ok(catalog) => {
            tracing::info!(version, "switched to the new catalog at Home");
            Ok(Some(catalog))
        }
        Err(failure) => match roll_back(store, version, &failure)? {
            Some(_) => Ok(None),
            None => anyhow::bail!(
                "catalog version {version} does not load and there is no previous catalog to restore: {:#}",
                failure.error
            ),
        },
    }
}

/// Loads the active catalog, checking its stored bytes against the hash they were verified
/// with. One that does not load is rolled back to the previous version (recorded under
/// [`META_ROLLBACK`]), which is loaded instead. `None` when no catalog is installed.
pub fn load_active_or_roll_back(store: &mut Store) -> anyhow::Result<Option<Catalog>> {
    // Each rollback empties the previous slot, so this ends after at most two attempts.
    loop {
        let Some(info) = store.catalog_info(CatalogSlot::Active)? else {
            return Ok(None);
        };
        let loaded = match store.catalog_in(CatalogSlot::Active) {
            Ok(Some(row)) => load_row(&row),
            Ok(None) => Err(LoadFailure::unreadable(anyhow::anyhow!(
                "the active catalog disappeared while loading"
            ))),
            Err(e) => Err(LoadFailure::unreadable(e)),
        };
        match loaded {
            Ok(catalog) => return Ok(Some(catalog)),
            Err(failure) => {
                if roll_back(store, info.version, &failure)?.is_none() {
                    anyhow::bail!(
                        "installed catalog version {} does not load: {:#}",
                        info.version,
                        failure.error
                    );
                }
            }
        }
    }
}

/// Restores the previous catalog after `failed_version` did not load and records why.
fn roll_back(
    store: &mut Store,
    failed_version: u64,
    failure: &LoadFailure,
) -> anyhow::Result<Option<u64>> {
    let restored = store.roll_back_catalog()?;
    let record = CatalogRollback {
        at: rfc3339(Utc::now()),
        failed_version,
        restored_version: restored,
        reason: format!("{:#}", failure.error),
        code: failure.code.to_string(),
    };
    set_meta(store, META_ROLLBACK, &serde_json::to_string(&record)?)?;
    tracing::error!(version = failed_version, restored = ?restored, code = failure.code, "catalog does not load; rolled back");
    Ok(restored)
}

/// Loads a stored row: the bytes must still be the ones verified (hash) and parse.
fn load_row(row: &CatalogRow) -> Result<Catalog, LoadFailure> {
    let hash = hex::encode(Sha256::digest(&row.catalog_json));
    if hash != row.sha256 {
        return Err(LoadFailure {
            code: "changed_on_disk",
            error: anyhow::anyhow!(
                "stored catalog version {} changed on disk (sha256 {hash}, expected {})",
                row.version,
                row.sha256
            ),
        });
    }
    super::parse(&row.catalog_json).map_err(|error| LoadFailure {
        code: "invalid",
        error,
    })
}

/// The catalog's state for diagnostics and the heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogHealth {
    /// The active version (`None` before the first start).
    pub version: Option<u64>,
    pub expires_at: Option<String>,
    /// Past `expires_at` plus the grace: the kiosk keeps serving, staff see a warning.
    pub stale: bool,
    /// Verified and waiting for the next return to Home.
    pub staged_version: Option<u64>,
    pub last_rollback: Option<CatalogRollback>,
    pub last_refusal: Option<RefusalRecord>,
}

impl CatalogHealth {
    /// The line staff see in diagnostics, when there is something to say.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.stale {
            out.push(format!(
                "catalog stale: version {} expired at {}; ask central admins to publish a new one",
                self.version.map_or("-".into(), |v| v.to_string()),
                self.expires_at.as_deref().unwrap_or("-")
            ));
        }
        if let Some(r) = &self.last_rollback {
            out.push(format!(
                "catalog version {} did not load and was rolled back at {}: {}",
                r.failed_version, r.at, r.reason
            ));
        }
        out
    }
}

/// The heartbeat's optional `catalog` object (a project extension of the contract, see
/// `docs/central-api.md`): codes, versions and times only. Free texts (a rollback's reason,
/// a refusal's message) stay on the kiosk: they may quote catalog content, and the platform
/// refuses a heartbeat with anything shaped like an ID number in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeartbeatCatalog {
    pub stale: bool,
    pub expires_at: Option<String>,
    pub staged_version: Option<u64>,
    /// `{at, failed_version, restored_version, code}` of the last automatic rollback.
    pub last_rollback: Option<HeartbeatRollback>,
    /// Codes of the last refused envelope, e.g. `["bad_signature"]`.
    pub last_refusal: Vec<String>,
}

/// A rollback as the heartbeat reports it (no free text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeartbeatRollback {
    pub at: String,
    pub failed_version: u64,
    pub restored_version: Option<u64>,
    pub code: String,
}

impl From<&CatalogHealth> for HeartbeatCatalog {
    fn from(h: &CatalogHealth) -> Self {
        HeartbeatCatalog {
            stale: h.stale,
            expires_at: h.expires_at.clone(),
            staged_version: h.staged_version,
            last_rollback: h.last_rollback.as_ref().map(|r| HeartbeatRollback {
                at: r.at.clone(),
                failed_version: r.failed_version,
                restored_version: r.restored_version,
                code: r.code.clone(),
            }),
            last_refusal: h
                .last_refusal
                .as_ref()
                .map(|r| r.refusals.iter().map(|x| x.code.clone()).collect())
                .unwrap_or_default(),
        }
    }
}

/// Reads the catalog's health. `grace_s` is the configured expiry grace.
pub fn catalog_health(
    store: &Store,
    now: DateTime<Utc>,
    grace_s: u64,
) -> anyhow::Result<CatalogHealth> {
    // The pointer rows carry the expiry: the payload is not read (this runs every heartbeat).
    let active = store.catalog_info(CatalogSlot::Active)?;
    let expires_at = active.as_ref().and_then(|i| i.expires_at.clone());
    // An unreadable expiry on an installed catalog is reported as stale: staff should look.
    let stale = active.is_some()
        && match expires_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        {
            Some(t) => trust::is_past_grace(t.with_timezone(&Utc), now, grace_s),
            None => true,
        };
    Ok(CatalogHealth {
        version: active.as_ref().map(|r| r.version),
        expires_at,
        stale,
        staged_version: store.catalog_info(CatalogSlot::Staged)?.map(|i| i.version),
        last_rollback: get_meta(store, META_ROLLBACK)?.and_then(|t| serde_json::from_str(&t).ok()),
        last_refusal: get_meta(store, META_REFUSAL)?.and_then(|t| serde_json::from_str(&t).ok()),
    })
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn get_meta(store: &Store, key: &str) -> anyhow::Result<Option<String>> {
    Ok(store
        .conn()
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

fn set_meta(store: &Store, key: &str, value: &str) -> anyhow::Result<()> {
    store.conn().execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

fn delete_meta(store: &Store, key: &str) -> anyhow::Result<()> {
    store
        .conn()
        .execute("DELETE FROM meta WHERE key = ?1", [key])?;
    Ok(())
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
