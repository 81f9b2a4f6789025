//! The door to the diagnostics screen: the staff PIN checked against its hash, behind the
//! persisted lockout, with every attempt in the audit log. The lockout row and the audit row
//! are written in one transaction, so a crash cannot give back an attempt.

use rusqlite::TransactionBehavior;
use serde::Serialize;

use super::audit::{self, Outcome, StaffAction};
use super::lockout::{self, LockoutPolicy, LockoutState};
use super::pin::{PinError, PinHash};
use crate::config::MaintenanceConfig;
use crate::store::Store;

/// What became of one PIN attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PinCheck {
    /// Right PIN: show the diagnostics screen.
    Granted,
    /// Wrong PIN; `remaining` attempts before the lock.
    Wrong { remaining: u32 },
    /// Refused until `until_ms` (Unix milliseconds): this attempt was the last allowed one,
    /// or the screen was already locked (then the PIN was not even checked).
    Locked { until_ms: i64 },
    /// No PIN is configured (`maintenance.staff_pin_hash` is empty): nobody can enter.
    NotConfigured,
}

/// The PIN hash and the lockout policy from the config.
#[derive(Debug, Clone)]
pub struct StaffGate {
    hash: Option<PinHash>,
    policy: LockoutPolicy,
}

impl StaffGate {
    /// An empty hash gives a gate nobody can pass ([`PinCheck::NotConfigured`]); a malformed
    /// one is an error, so a typo in the config is reported instead of locking staff out
    /// silently.
    pub fn from_config(c: &MaintenanceConfig) -> Result<StaffGate, PinError> {
        let hash = match c.staff_pin_hash.trim() {
            "" => None,
            phc => Some(PinHash::parse(phc)?),
        };
        Ok(StaffGate {
            hash,
            policy: LockoutPolicy::from_config(c),
        })
    }

    pub fn new(hash: Option<PinHash>, policy: LockoutPolicy) -> StaffGate {
        StaffGate { hash, policy }
    }

    pub fn policy(&self) -> LockoutPolicy {
        self.policy
    }

    /// Checks one PIN at `now_ms` (Unix milliseconds), updates the lockout and writes the
    /// audit row. Store errors are errors (the screen should say the kiosk is faulty); every
    /// PIN outcome is an `Ok`.
    pub fn try_enter(&self, store: &mut Store, pin: &str, now_ms: i64) -> anyhow::Result<PinCheck> {
        let tx = store
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let before = lockout::load(&tx)?.at(&self.policy, now_ms);
        let (after, check) = match (&self.hash, before.locked_until_ms) {
            (None, _) => (before, PinCheck::NotConfigured),
            (Some(_), Some(until_ms)) => (before, PinCheck::Locked { until_ms }),
            (Some(hash), None) => {
                if hash.matches(pin) {
                    (before.after_success(), PinCheck::Granted)
                } else {
                    let after = before.after_failure(&self.policy, now_ms);
                    let check = match after.locked_until_ms {
                        Some(until_ms) => PinCheck::Locked { until_ms },
                        None => PinCheck::Wrong {
                            remaining: after.remaining(&self.policy, now_ms),
                        },
                    };
                    (after, check)
                }
            }
        };
        let (outcome, detail) = match check {
            PinCheck::Granted => (Outcome::Success, String::new()),
            PinCheck::Wrong { remaining } => {
                (Outcome::Failure, format!("wrong_pin remaining={remaining}"))
            }
            PinCheck::Locked { until_ms } => (
                Outcome::Locked,
                format!(
                    "locked_until={}",
                    crate::outbox::entries::ms_to_rfc3339(until_ms).unwrap_or_default()
                ),
            ),
            PinCheck::NotConfigured => (Outcome::Failure, "no_pin_configured".to_string()),
        };
        lockout::save(&tx, &after, now_ms)?;
        audit::insert(&tx, now_ms, StaffAction::DiagnosticsEntry, outcome, &detail)?;
        tx.commit()?;
        match check {
            PinCheck::Granted => tracing::info!("diagnostics entered with the staff PIN"),
            PinCheck::Wrong { remaining } => tracing::warn!(remaining, "wrong staff PIN"),
            PinCheck::Locked { until_ms } => tracing::warn!(until_ms, "staff PIN locked out"),
            PinCheck::NotConfigured => {
                tracing::warn!("diagnostics refused: no staff PIN configured")
            }
        }
        Ok(check)
    }

    /// The lockout as it stands (for the keypad: "locked until 14:32", "2 attempts left").
    pub fn lockout(&self, store: &Store, now_ms: i64) -> anyhow::Result<LockoutState> {
        Ok(lockout::load(store.conn())?.at(&self.policy, now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maintenance::audit::AuditLog;
    use crate::maintenance::pin::hash_pin;

    const MIN: i64 = 60_000;
    const T0: i64 = 1_800_000_000_000;

    fn gate() -> StaffGate {
        StaffGate::new(Some(hash_pin("482913").unwrap()), LockoutPolicy::default())
    }

    #[test]
    fn five_wrong_pins_lock_even_the_right_one_out_across_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let gate = gate();
        {
            let mut store = Store::open_path(&path).unwrap();
            for (i, left) in [4, 3, 2, 1].into_iter().enumerate() {
                let now = T0 + i as i64 * 1000;
                assert_eq!(
                    gate.try_enter(&mut store, "000001", now).unwrap(),
                    PinCheck::Wrong { remaining: left }
                );
            }
            assert_eq!(
                gate.try_enter(&mut store, "000001", T0 + 4000).unwrap(),
                PinCheck::Locked {
                    until_ms: T0 + 4000 + 15 * MIN
                }
            );
        }
        // The kiosk restarts: the lock is still there, and the right PIN does not open it.
        let mut store = Store::open_path(&path).unwrap();
        let until = T0 + 4000 + 15 * MIN;
        assert_eq!(
            gate.try_enter(&mut store, "482913", T0 + 10 * MIN).unwrap(),
            PinCheck::Locked { until_ms: until }
        );
        assert_eq!(
            gate.lockout(&store, until - 1).unwrap().locked_until_ms,
            Some(until)
        );
        // Fifteen minutes after the fifth failure the right PIN works again.
        assert_eq!(
            gate.try_enter(&mut store, "482913", until).unwrap(),
            PinCheck::Granted
        );
        assert_eq!(
            gate.lockout(&store, until).unwrap(),
            LockoutState::default()
        );

        let log = AuditLog::new(&store).recent(20).unwrap();
        let outcomes: Vec<&str> = log.iter().rev().map(|r| r.outcome.as_str()).collect();
        assert_eq!(
            outcomes,
            ["failure", "failure", "failure", "failure", "locked", "locked", "success"]
        );
        assert!(log.iter().all(|r| r.action == "diagnostics_entry"));
        assert!(log
            .iter()
            .all(|r| !r.detail.contains("000001") && !r.detail.contains("482913")));
    }

    #[test]
    fn a_right_pin_resets_the_count() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
        let gate = gate();
        for _ in 0..4 {
            gate.try_enter(&mut store, "111112", T0).unwrap();
        }
        assert_eq!(
            gate.try_enter(&mut store, "482913", T0).unwrap(),
            PinCheck::Granted
        );
        assert_eq!(
            gate.try_enter(&mut store, "111112", T0).unwrap(),
            PinCheck::Wrong { remaining: 4 }
        );
    }

    #[test]
    fn no_configured_pin_lets_nobody_in_and_a_bad_hash_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
        let gate = StaffGate::from_config(&MaintenanceConfig::default()).unwrap();
        assert_eq!(
            gate.try_enter(&mut store, "", T0).unwrap(),
            PinCheck::NotConfigured
        );
        let rows = AuditLog::new(&store).recent(1).unwrap();
        assert_eq!(
            (rows[0].outcome.as_str(), rows[0].detail.as_str()),
            ("failure", "no_pin_configured")
        );
        let bad = MaintenanceConfig {
            staff_pin_hash: "482913".into(),
            ..MaintenanceConfig::default()
        };
        assert!(matches!(
            StaffGate::from_config(&bad),
            Err(PinError::BadHash(_))
        ));
    }
}
