//! Which catalog is active, which is staged for the next return to Home, which is kept for
//! rollback. `catalog_versions` holds one small row a version (the slot is a pointer);
//! `catalog_payloads` holds each payload once, keyed by version (schema v4), so moving a
//! version between slots rewrites a few hundred bytes, not megabytes. The verification of
//! signed envelopes lives in `kiosk::catalog::trust`; this file only stores and switches.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

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

/// One stored catalog version, without its payload (cheap to read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogInfo {
    pub version: u64,
    pub source: String,
    pub installed_at: String,
    /// SHA-256 (hex) of `catalog_json`, checked whenever the payload is loaded.
    pub sha256: String,
    /// The catalog's `expires_at`, copied when it was stored (`None`: unreadable).
    pub expires_at: Option<String>,
    /// Its number of matters (`None`: unknown).
    pub matters: Option<u64>,
}

/// One stored catalog version with its payload.
#[derive(Debug, Clone)]
pub struct CatalogRow {
    pub version: u64,
    pub source: String,
    pub installed_at: String,
    pub sha256: String,
    pub expires_at: Option<String>,
    pub matters: Option<u64>,
    /// The catalog JSON exactly as verified (the envelope's payload, byte for byte).
    pub catalog_json: Vec<u8>,
    /// The signed envelope without its payload: `{"payloadType": .., "signatures": [..]}`
    /// (`None` for the bundled sample). [`CatalogRow::envelope`] puts it back together.
    pub envelope_header: Option<Vec<u8>>,
}

impl CatalogRow {
    /// A row for `catalog_json` with its SHA-256 computed; no expiry, count or envelope
    /// (set those fields when known).
    pub fn new(
        version: u64,
        source: &str,
        installed_at: &str,
        catalog_json: Vec<u8>,
    ) -> CatalogRow {
        use sha2::Digest as _;
        CatalogRow {
            version,
            source: source.into(),
            installed_at: installed_at.into(),
            sha256: hex::encode(sha2::Sha256::digest(&catalog_json)),
            expires_at: None,
            matters: None,
            catalog_json,
            envelope_header: None,
        }
    }

    pub fn info(&self) -> CatalogInfo {
        CatalogInfo {
            version: self.version,
            source: self.source.clone(),
            installed_at: self.installed_at.clone(),
            sha256: self.sha256.clone(),
            expires_at: self.expires_at.clone(),
            matters: self.matters,
        }
    }

    /// The DSSE envelope this catalog came in (header + payload), for audits and re-checks:
    /// its signatures verify against the stored payload. `None` when there is no header.
    pub fn envelope(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let header: serde_json::Value =
            serde_json::from_slice(self.envelope_header.as_deref()?).ok()?;
        let mut env = header.as_object()?.clone();
        env.insert(
            "payload".into(),
            base64::engine::general_purpose::STANDARD
                .encode(&self.catalog_json)
                .into(),
        );
        serde_json::to_vec(&env).ok()
    }
}

const INFO_COLUMNS: &str = "version, source, installed_at, sha256, expires_at, matters";

fn info_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<CatalogInfo> {
    Ok(CatalogInfo {
        version: r.get::<_, i64>(0)? as u64,
        source: r.get(1)?,
        installed_at: r.get(2)?,
        sha256: r.get(3)?,
        expires_at: r.get(4)?,
        matters: r.get::<_, Option<i64>>(5)?.map(|n| n.max(0) as u64),
    })
}

impl Store {
    /// The version in `slot` without its payload, if any.
    pub fn catalog_info(&self, slot: CatalogSlot) -> Result<Option<CatalogInfo>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {INFO_COLUMNS} FROM catalog_versions
                     WHERE slot = ?1 ORDER BY version DESC LIMIT 1"
                ),
                [slot.as_str()],
                info_from,
            )
            .optional()?)
    }

    /// The catalog in `slot` with its payload, if any. A version whose payload is gone
    /// (retired versions lose theirs) is an error, never "no catalog".
    pub fn catalog_in(&self, slot: CatalogSlot) -> Result<Option<CatalogRow>, StoreError> {
        let Some(info) = self.catalog_info(slot)? else {
            return Ok(None);
        };
        let payload: Option<(Vec<u8>, Option<Vec<u8>>)> = self
            .conn
            .query_row(
                "SELECT catalog_json, envelope_header FROM catalog_payloads WHERE version = ?1",
                [info.version as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((catalog_json, envelope_header)) = payload else {
            return Err(StoreError::Corrupt(format!(
                "catalog version {} ({}) has no stored payload",
                info.version,
                slot.as_str()
            )));
        };
        Ok(Some(CatalogRow {
            version: info.version,
            source: info.source,
            installed_at: info.installed_at,
            sha256: info.sha256,
            expires_at: info.expires_at,
            matters: info.matters,
            catalog_json,
            envelope_header,
        }))
    }

    /// Stores a catalog as the active one (first start, or a direct install by staff).
    /// The previously active one becomes `previous`; an older `previous` is retired.
    pub fn install_active_catalog(&mut self, row: &CatalogRow) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        without_secure_delete(&tx, |c| {
            c.execute(
                "UPDATE catalog_versions SET slot = 'retired' WHERE slot = 'previous'",
                [],
            )?;
            c.execute(
                "UPDATE catalog_versions SET slot = 'previous' WHERE slot = 'active'",
                [],
            )?;
            insert_row(c, row, CatalogSlot::Active)?;
            prune_retired_payloads(c)
        })?;
        tx.commit()?;
        Ok(())
    }

    /// Stores a verified catalog in the staged slot, replacing any earlier staged one. The
    /// payloads of retired versions are dropped here (off the switch at Home).
    pub fn stage_catalog(&mut self, row: &CatalogRow) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        without_secure_delete(&tx, |c| {
            c.execute("DELETE FROM catalog_versions WHERE slot = 'staged'", [])?;
            insert_row(c, row, CatalogSlot::Staged)?;
            prune_retired_payloads(c)
        })?;
        tx.commit()?;
        Ok(())
    }

    /// Makes the staged catalog active in one transaction (active -> previous, previous ->
    /// retired): three small rows change, no payload is touched. Returns the new active
    /// version, or `None` when nothing was staged.
    pub fn switch_to_staged(&mut self) -> Result<Option<u64>, StoreError> {
        // Immediate: the read and the moves see one state even with the engine writing.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
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
        move_staged_to_active(&tx, version)?;
        tx.commit()?;
        Ok(Some(version as u64))
    }

    /// [`Store::switch_to_staged`] only if the staged row is still `version` with payload
    /// hash `sha256` (checked in the same transaction). `false`: nothing changed.
    pub fn switch_to_staged_version(
        &mut self,
        version: u64,
        sha256: &str,
    ) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let same: Option<i64> = tx
            .query_row(
                "SELECT version FROM catalog_versions
                 WHERE slot = 'staged' AND version = ?1 AND sha256 = ?2",
                params![version as i64, sha256],
                |r| r.get(0),
            )
            .optional()?;
        let Some(version) = same else {
            return Ok(false);
        };
        move_staged_to_active(&tx, version)?;
        tx.commit()?;
        Ok(true)
    }

    /// Puts the previous catalog back as active after the active one failed to load; the
    /// failed one is retired. Returns the restored version.
    pub fn roll_back_catalog(&mut self) -> Result<Option<u64>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
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

/// active -> previous, previous -> retired, `version` (staged) -> active: three small rows.
fn move_staged_to_active(conn: &Connection, version: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE catalog_versions SET slot = 'retired' WHERE slot = 'previous'",
        [],
    )?;
    conn.execute(
        "UPDATE catalog_versions SET slot = 'previous' WHERE slot = 'active'",
        [],
    )?;
    conn.execute(
        "UPDATE catalog_versions SET slot = 'active' WHERE version = ?1",
        [version],
    )?;
    Ok(())
}

/// Runs `f` with `secure_delete` off on this connection, then turns it back on. Catalogs are
/// public data: overwriting a freed multi-megabyte payload with zeros would only add writes.
/// (Personal data is never deleted inside `f`.)
fn without_secure_delete<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.pragma_update(None, "secure_delete", "OFF")?;
    let result = f(conn);
    let restored = conn.pragma_update(None, "secure_delete", "ON");
    let value = result?;
    restored?;
    Ok(value)
}

fn prune_retired_payloads(conn: &Connection) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM catalog_payloads
         WHERE version IN (SELECT version FROM catalog_versions WHERE slot = 'retired')",
        [],
    )?;
    Ok(())
}

fn insert_row(conn: &Connection, row: &CatalogRow, slot: CatalogSlot) -> Result<(), StoreError> {
    // Storing a version again (staff reinstalling) replaces it; its old payload goes with it.
    conn.execute(
        "DELETE FROM catalog_versions WHERE version = ?1",
        [row.version as i64],
    )?;
    conn.execute(
        "INSERT INTO catalog_versions
             (version, slot, source, installed_at, sha256, expires_at, matters)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            row.version as i64,
            slot.as_str(),
            row.source,
            row.installed_at,
            row.sha256,
            row.expires_at,
            row.matters.map(|n| n as i64),
        ],
    )?;
    conn.execute(
        "INSERT INTO catalog_payloads (version, catalog_json, envelope_header)
         VALUES (?1, ?2, ?3)",
        params![row.version as i64, row.catalog_json, row.envelope_header],
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
            expires_at: Some("2027-11-01T00:00:00Z".into()),
            matters: Some(0),
            catalog_json: format!("{{\"version\":{v}}}").into_bytes(),
            envelope_header: None,
        }
    }

    fn version(s: &Store, slot: CatalogSlot) -> Option<u64> {
        s.catalog_info(slot).unwrap().map(|i| i.version)
    }

    fn payloads(s: &Store) -> Vec<i64> {
        let mut stmt = s
            .conn()
            .prepare("SELECT version FROM catalog_payloads ORDER BY version")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn stage_switch_and_roll_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open_path(&dir.path().join("k.db")).unwrap();
        assert!(s.catalog_in(CatalogSlot::Active).unwrap().is_none());
        s.install_active_catalog(&row(1)).unwrap();
        assert_eq!(s.switch_to_staged().unwrap(), None, "nothing staged");
        s.stage_catalog(&row(2)).unwrap();
        assert_eq!(version(&s, CatalogSlot::Active), Some(1));
        assert_eq!(s.switch_to_staged().unwrap(), Some(2));
        let active = s.catalog_in(CatalogSlot::Active).unwrap().unwrap();
        assert_eq!(active.version, 2);
        assert_eq!(active.catalog_json, b"{\"version\":2}");
        assert_eq!(
            active.info(),
            s.catalog_info(CatalogSlot::Active).unwrap().unwrap()
        );
        assert_eq!(version(&s, CatalogSlot::Previous), Some(1));
        s.stage_catalog(&row(3)).unwrap();
        s.switch_to_staged().unwrap();
        // Only one previous is kept: 1 is retired, 2 is previous.
        assert_eq!(version(&s, CatalogSlot::Previous), Some(2));
        assert_eq!(version(&s, CatalogSlot::Retired), Some(1));
        assert_eq!(s.roll_back_catalog().unwrap(), Some(2));
        assert_eq!(version(&s, CatalogSlot::Active), Some(2));
        assert_eq!(s.highest_catalog_version().unwrap(), Some(3));
    }

    #[test]
    fn each_payload_is_stored_once_and_retired_ones_are_dropped_at_the_next_stage() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open_path(&dir.path().join("k.db")).unwrap();
        s.install_active_catalog(&row(1)).unwrap();
        for v in [2, 3] {
            s.stage_catalog(&row(v)).unwrap();
            s.switch_to_staged().unwrap();
        }
        // 1 was retired by the last switch; the switch itself touched no payload.
        assert_eq!(payloads(&s), [1, 2, 3]);
        s.stage_catalog(&row(4)).unwrap();
        assert_eq!(payloads(&s), [2, 3, 4]);
        // The retired version keeps its pointer row (history) but cannot be loaded.
        assert_eq!(version(&s, CatalogSlot::Retired), Some(1));
        let err = s.catalog_in(CatalogSlot::Retired).unwrap_err().to_string();
        assert!(err.contains("has no stored payload"), "{err}");
        // A staged version replaced by a newer one takes its payload with it.
        s.stage_catalog(&row(5)).unwrap();
        assert_eq!(payloads(&s), [2, 3, 5]);
        // secure_delete is back on for personal data.
        let on: i64 = s
            .conn()
            .query_row("PRAGMA secure_delete", [], |r| r.get(0))
            .unwrap();
        assert_eq!(on, 1);
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn the_envelope_is_put_back_together_from_header_and_payload() {
        let mut r = row(2);
        assert_eq!(r.envelope(), None);
        r.envelope_header =
            Some(br#"{"payloadType":"t","signatures":[{"keyid":"k","sig":"AA=="}]}"#.to_vec());
        let env: serde_json::Value = serde_json::from_slice(&r.envelope().unwrap()).unwrap();
        assert_eq!(env["payloadType"], "t");
        assert_eq!(env["signatures"][0]["keyid"], "k");
        assert_eq!(env["payload"], "eyJ2ZXJzaW9uIjoyfQ==");
    }
}
