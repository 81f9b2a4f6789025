//! Rows of `catalog_versions`: which catalog is active, which is staged for the next return
//! to Home, which is kept for rollback. The verification of signed envelopes lives in
//! `kiosk::catalog::trust`; this file only stores and switches.

use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogSlot {
    Active,
    Staged,
    Previous,
    Retired,
}

impl CatalogSlot {
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogSlot::Active => "active",
            CatalogSlot::Staged => "staged",
            CatalogSlot::Previous => "previous",
            CatalogSlot::Retired => "retired",
        }
    }
}

/// One stored catalog version.
#[derive(Debug, Clone)]
pub struct CatalogRow {
    pub version: u64,
    pub source: String,
    pub installed_at: String,
    pub sha256: String,
    pub catalog_json: Vec<u8>,
    pub envelope: Option<Vec<u8>>,
}

impl Store {
    /// The catalog in `slot`, if any.
    pub fn catalog_in(&self, slot: CatalogSlot) -> Result<Option<CatalogRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT version, source, installed_at, sha256, catalog_json, envelope
                 FROM catalog_versions WHERE slot = ?1 ORDER BY version DESC LIMIT 1",
                [slot.as_str()],
                |r| {
                    Ok(CatalogRow {
                        version: r.get::<_, i64>(0)? as u64,
                        source: r.get(1)?,
                        installed_at: r.get(2)?,
                        sha256: r.get(3)?,
                        catalog_json: r.get(4)?,
                        envelope: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// Stores a catalog as the active one (first start, or a direct install by staff).
    /// The previously active one becomes `previous`; an older `previous` is retired.
    pub fn install_active_catalog(&mut self, row: &CatalogRow) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE catalog_versions SET slot = 'retired' WHERE slot = 'previous'",
            [],
        )?;
        tx.execute(
            "UPDATE catalog_versions SET slot = 'previous' WHERE slot = 'active'",
            [],
        )?;
        insert_row(&tx, row, CatalogSlot::Active)?;
        tx.commit()?;
        Ok(())
    }

    /// Stores a verified catalog in the staged slot, replacing any earlier staged one.
    pub fn stage_catalog(&mut self, row: &CatalogRow) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM catalog_versions WHERE slot = 'staged'", [])?;
        insert_row(&tx, row, CatalogSlot::Staged)?;
        tx.commit()?;
        Ok(())
    }

    /// Makes the staged catalog active in one transaction (active -> previous, previous ->
    /// retired). Returns the new active version, or `None` when nothing was staged.
    pub fn switch_to_staged(&mut self) -> Result<Option<u64>, StoreError> {
        let tx = self.conn.transaction()?;
        let staged: Option<i64> = tx
            .query_row(
                "SELECT version FROM catalog_versions WHERE slot = 'staged'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let Some(version) = staged else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE catalog_versions SET slot = 'retired' WHERE slot = 'previous'",
            [],
        )?;
        tx.execute(
            "UPDATE catalog_versions SET slot = 'previous' WHERE slot = 'active'",
            [],
        )?;
        tx.execute(
            "UPDATE catalog_versions SET slot = 'active' WHERE version = ?1",
            [version],
        )?;
        tx.commit()?;
        Ok(Some(version as u64))
    }

    /// Puts the previous catalog back as active after the active one failed to load; the
    /// failed one is retired. Returns the restored version.
    pub fn roll_back_catalog(&mut self) -> Result<Option<u64>, StoreError> {
        let tx = self.conn.transaction()?;
        let previous: Option<i64> = tx
            .query_row(
                "SELECT version FROM catalog_versions WHERE slot = 'previous'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let Some(version) = previous else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE catalog_versions SET slot = 'retired' WHERE slot = 'active'",
            [],
        )?;
        tx.execute(
            "UPDATE catalog_versions SET slot = 'active' WHERE version = ?1",
            [version],
        )?;
        tx.commit()?;
        Ok(Some(version as u64))
    }

    /// The highest version ever stored (any slot): a catalog must be newer than this.
    pub fn highest_catalog_version(&self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT MAX(version) FROM catalog_versions", [], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .map(|v| v as u64))
    }
}

fn insert_row(
    tx: &rusqlite::Transaction<'_>,
    row: &CatalogRow,
    slot: CatalogSlot,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT OR REPLACE INTO catalog_versions
             (version, slot, source, installed_at, sha256, catalog_json, envelope)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            row.version as i64,
            slot.as_str(),
            row.source,
            row.installed_at,
            row.sha256,
            row.catalog_json,
            row.envelope
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: u64) -> CatalogRow {
        CatalogRow {
            version: v,
            source: "test".into(),
            installed_at: "2026-11-27T00:00:00Z".into(),
            sha256: format!("{v:064}"),
            catalog_json: format!("{{\"version\":{v}}}").into_bytes(),
            envelope: None,
        }
    }

    #[test]
    fn stage_switch_and_roll_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open_path(&dir.path().join("k.db")).unwrap();
        assert!(s.catalog_in(CatalogSlot::Active).unwrap().is_none());
        s.install_active_catalog(&row(1)).unwrap();
        assert_eq!(s.switch_to_staged().unwrap(), None, "nothing staged");
        s.stage_catalog(&row(2)).unwrap();
        assert_eq!(
            s.catalog_in(CatalogSlot::Active).unwrap().unwrap().version,
            1
        );
        assert_eq!(s.switch_to_staged().unwrap(), Some(2));
        assert_eq!(
            s.catalog_in(CatalogSlot::Active).unwrap().unwrap().version,
            2
        );
        assert_eq!(
            s.catalog_in(CatalogSlot::Previous)
                .unwrap()
                .unwrap()
                .version,
            1
        );
        s.stage_catalog(&row(3)).unwrap();
        s.switch_to_staged().unwrap();
        // Only one previous is kept: 1 is retired, 2 is previous.
        assert_eq!(
            s.catalog_in(CatalogSlot::Previous)
                .unwrap()
                .unwrap()
                .version,
            2
        );
        assert_eq!(s.roll_back_catalog().unwrap(), Some(2));
        assert_eq!(
            s.catalog_in(CatalogSlot::Active).unwrap().unwrap().version,
            2
        );
        assert_eq!(s.highest_catalog_version().unwrap(), Some(3));
    }
}
