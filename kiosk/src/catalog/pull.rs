//! The sync engine's catalog hook ([`crate::sync::CatalogSink`]): asks for versions newer
//! than any stored one, verifies what the platform sends and stages it for the next return
//! to Home. Plug it in with `engine.set_catalog_sink(Box::new(CatalogPull::from_config(..)?))`;
//! in the app, add `.with_handoff(h.clone())` and switch with
//! `update::switch_at_home_with(.., &h)` so the switch does not parse the catalog again.

use super::handoff::StagedHandoff;
use super::trust::{Refusal, TrustedKeys};
use super::update::{self, StageOutcome};
use crate::config::{CatalogConfig, Config};
use crate::store::Store;
use crate::sync::CatalogSink;

/// Verifies and stages pulled catalog envelopes.
pub struct CatalogPull {
    keys: TrustedKeys,
    config: CatalogConfig,
    handoff: Option<StagedHandoff>,
}

impl CatalogPull {
    pub fn new(keys: TrustedKeys, config: CatalogConfig) -> CatalogPull {
        CatalogPull {
            keys,
            config,
            handoff: None,
        }
    }

    /// Offers every catalog it stages, already parsed, to `handoff` (the app's side of it
    /// switches without parsing).
    pub fn with_handoff(mut self, handoff: StagedHandoff) -> CatalogPull {
        self.handoff = Some(handoff);
        self
    }

    /// Trusts the config's `catalog.trusted_keys` (relative paths are under `data_dir`).
    /// With none configured every envelope is refused as signed by an unknown key, which
    /// diagnostics and `kiosk sync once` show.
    pub fn from_config(config: &Config) -> anyhow::Result<CatalogPull> {
        let paths: Vec<_> = config
            .catalog
            .trusted_keys
            .iter()
            .map(|p| config.data_path(p))
            .collect();
        Ok(CatalogPull::new(
            TrustedKeys::load(&paths)?,
            config.catalog.clone(),
        ))
    }
}

impl CatalogSink for CatalogPull {
    fn have_version(&mut self, store: &mut Store) -> anyhow::Result<u64> {
        update::have_version(store)
    }

    fn on_envelope(&mut self, store: &mut Store, envelope: &[u8]) -> anyhow::Result<String> {
        Ok(
            match update::stage_envelope_with(
                store,
                envelope,
                &self.keys,
                &self.config,
                chrono::Utc::now(),
                self.handoff.as_ref(),
            )? {
                StageOutcome::Staged {
                    version,
                    matters,
                    signer,
                } => format!(
                    "staged version {version} ({matters} matters, signed by {signer}); it switches in at the next return to Home"
                ),
                StageOutcome::Refused(r) => {
                    let codes: Vec<&str> = r.iter().map(Refusal::code).collect();
                    format!("refused: {}", codes.join(", "))
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;
    use crate::catalog;
    use crate::catalog::test_support::*;

    #[test]
    fn the_hook_asks_past_stored_versions_and_stages_or_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
        catalog::load_active(&mut store).unwrap();
        let (key, trusted) = admin(7, "admin-2026");
        let mut pull = CatalogPull::new(keys(&[trusted]), CatalogConfig::default());
        assert_eq!(pull.have_version(&mut store).unwrap(), 1);
        let future = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
        let env = envelope(&json(&catalog(2, &future)), "admin-2026", &key);
        let said = pull.on_envelope(&mut store, &env).unwrap();
        assert!(
            said.starts_with("staged version 2 (673 matters, signed by admin-2026)"),
            "{said}"
        );
        assert_eq!(pull.have_version(&mut store).unwrap(), 2);
        let said = pull.on_envelope(&mut store, &env).unwrap();
        assert_eq!(said, "refused: version_not_newer");
    }

    #[test]
    fn with_a_handoff_the_staged_catalog_is_waiting_parsed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
        catalog::load_active(&mut store).unwrap();
        let (key, trusted) = admin(7, "admin-2026");
        let handoff = StagedHandoff::new();
        let mut pull = CatalogPull::new(keys(&[trusted]), CatalogConfig::default())
            .with_handoff(handoff.clone());
        let future = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
        let env = envelope(&json(&catalog(2, &future)), "admin-2026", &key);
        pull.on_envelope(&mut store, &env).unwrap();
        assert_eq!(handoff.ready_version(), Some(2));
        let c = update::switch_staged(&mut store, Some(&handoff))
            .unwrap()
            .unwrap();
        assert_eq!(c.version, 2);
        assert_eq!(handoff.ready_version(), None);
    }

    #[test]
    fn from_config_loads_the_trusted_keys_under_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = admin(7, "x");
        std::fs::write(
            dir.path().join("admin-2026.pub"),
            B64.encode(key.verifying_key().as_bytes()),
        )
        .unwrap();
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        config.catalog.trusted_keys = vec!["admin-2026.pub".into()];
        let pull = CatalogPull::from_config(&config).unwrap();
        assert_eq!(pull.keys.ids(), ["admin-2026"]);
        config.catalog.trusted_keys = vec!["missing.pub".into()];
        assert!(CatalogPull::from_config(&config).is_err());
    }
}
