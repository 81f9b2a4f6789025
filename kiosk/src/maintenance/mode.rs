//! Maintenance mode: staff take the kiosk out of service (the citizen screen shows "under
//! maintenance"). Kept in the store's `meta` table, so it survives a restart (a kiosk the
//! watchdog restarts mid-repair must not reopen to citizens) and `kiosk status` sees it
//! without the app. Each switch is audited in the same transaction.

use rusqlite::{OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::audit::{self, Outcome, StaffAction};
use crate::store::Store;

/// `meta` key holding the JSON [`MaintenanceMode`].
pub const META_KEY: &str = "maintenance_mode";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceMode {
    pub on: bool,
    /// When it was last switched (Unix milliseconds).
    pub since_ms: Option<i64>,
}

/// The current mode (off when never set, or when the row cannot be read: a damaged row must
/// not keep every citizen away; staff see the warning in the log).
pub fn get(store: &Store) -> anyhow::Result<MaintenanceMode> {
    let text: Option<String> = store
        .conn()
        .query_row("SELECT value FROM meta WHERE key = ?1", [META_KEY], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(match text {
        None => MaintenanceMode::default(),
        Some(t) => serde_json::from_str(&t).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "maintenance mode row is unreadable; treating it as off");
            MaintenanceMode::default()
        }),
    })
}

/// Switches the mode at `now_ms` and writes the audit row (`maintenance_mode_on`/`_off`).
pub fn set(store: &mut Store, on: bool, now_ms: i64) -> anyhow::Result<MaintenanceMode> {
    let mode = MaintenanceMode {
        on,
        since_ms: Some(now_ms),
    };
    let tx = store
        .conn_mut()
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [META_KEY, &serde_json::to_string(&mode)?],
    )?;
    let action = if on {
        StaffAction::MaintenanceModeOn
    } else {
        StaffAction::MaintenanceModeOff
    };
    audit::insert(&tx, now_ms, action, Outcome::Success, "")?;
    tx.commit()?;
    tracing::info!(on, "maintenance mode switched");
    Ok(mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maintenance::audit::AuditLog;

    #[test]
    fn the_mode_survives_a_restart_and_is_audited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        {
            let mut store = Store::open_path(&path).unwrap();
            assert!(!get(&store).unwrap().on);
            set(&mut store, true, 1000).unwrap();
        }
        let mut store = Store::open_path(&path).unwrap();
        assert_eq!(
            get(&store).unwrap(),
            MaintenanceMode {
                on: true,
                since_ms: Some(1000)
            }
        );
        set(&mut store, false, 2000).unwrap();
        assert!(!get(&store).unwrap().on);
        let actions: Vec<String> = AuditLog::new(&store)
            .recent(5)
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        assert_eq!(actions, ["maintenance_mode_off", "maintenance_mode_on"]);
    }

    #[test]
    fn a_damaged_row_reads_as_off() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_path(&dir.path().join("k.db")).unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, '{not json')",
                [META_KEY],
            )
            .unwrap();
        assert!(!get(&store).unwrap().on);
    }
}
