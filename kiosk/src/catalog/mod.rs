//! The matter catalog: the model (`model`, `form`), its invariants (`check`), the bundled
//! sample (`sample`), search (`search`), and loading the active catalog from the store.
//! Signed updates: `trust` (DSSE envelope verification, sans-IO), `update` (stage, switch at
//! Home, rollback, staleness), `diff` (what changed, in words for admins).

pub mod check;
pub mod diff;
pub mod form;
pub mod handoff;
pub mod model;
pub mod pull;
pub mod sample;
pub mod search;
#[cfg(test)]
mod test_support;
pub mod trust;
#[cfg(test)]
mod trust_props;
pub mod update;

pub use form::{CardField, Field, FieldError, FieldErrorCode, FieldKind, FormSchema};
pub use handoff::StagedHandoff;
pub use model::*;
pub use search::{SearchHit, SearchIndex};

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::store::{CatalogRow, Store};

/// Parses catalog JSON and checks its invariants.
pub fn parse(json: &[u8]) -> anyhow::Result<Catalog> {
    let catalog: Catalog = serde_json::from_slice(json).context("catalog JSON is not valid")?;
    let problems = check::problems(&catalog);
    if !problems.is_empty() {
        anyhow::bail!(
            "catalog version {} has {} problem(s): {}",
            catalog.version,
            problems.len(),
            problems.join("; ")
        );
    }
    Ok(catalog)
}

/// The catalog citizens see now. Its stored bytes are checked against the hash they were
/// verified with; one that does not load is rolled back to the previous version
/// (`update::load_active_or_roll_back`). On first start (no catalog stored yet) the bundled
/// sample is generated and installed as the active catalog.
pub fn load_active(store: &mut Store) -> anyhow::Result<Catalog> {
    if let Some(catalog) = update::load_active_or_roll_back(store)? {
        return Ok(catalog);
    }
    let catalog = sample::generate()?;
    let json = serde_json::to_vec(&catalog)?;
    store.install_active_catalog(&CatalogRow {
        version: catalog.version,
        source: "bundled-sample".into(),
        installed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        sha256: hex::encode(Sha256::digest(&json)),
        expires_at: Some(catalog.expires_at.clone()),
        matters: Some(catalog.matters.len() as u64),
        catalog_json: json,
        envelope_header: None,
    })?;
    tracing::info!(
        version = catalog.version,
        "installed the bundled sample catalog"
    );
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CatalogSlot;

    #[test]
    fn first_load_installs_the_sample_and_later_loads_read_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
        let first = load_active(&mut store).unwrap();
        let row = store.catalog_in(CatalogSlot::Active).unwrap().unwrap();
        assert_eq!(row.source, "bundled-sample");
        let again = load_active(&mut store).unwrap();
        assert_eq!(first, again);
    }

    #[test]
    fn invalid_json_and_broken_catalogs_are_refused_with_reasons() {
        assert!(parse(b"{").unwrap_err().to_string().contains("not valid"));
        let mut c = sample::generate().unwrap();
        c.matters.clear();
        let err = parse(&serde_json::to_vec(&c).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("has no matters"), "{err}");
    }
}
