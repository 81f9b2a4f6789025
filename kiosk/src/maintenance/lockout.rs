//! The PIN lockout as a pure state machine (no clock, no I/O: `now_ms` comes in), and its
//! one-row table in the store, so restarting the kiosk does not hand out fresh attempts.
//!
//! Rules: `max_failures` wrong PINs in a row lock the screen for `lock_ms` from the last
//! one; while locked, a PIN is not even checked; when the lock has run out the count starts
//! again from zero; a right PIN clears the count. A clock set backwards never stretches a
//! lock beyond `lock_ms` from "now".

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::config::MaintenanceConfig;

/// How many wrong PINs lock the screen, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub lock_ms: i64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failures: 5,
            lock_ms: 15 * 60 * 1000,
        }
    }
}

impl LockoutPolicy {
    pub fn from_config(c: &MaintenanceConfig) -> LockoutPolicy {
        LockoutPolicy {
            // 0 would mean "never let anyone try": treat it as 1.
            max_failures: c.pin_max_failures.max(1),
            lock_ms: i64::try_from(c.pin_lockout_s.saturating_mul(1000)).unwrap_or(i64::MAX),
        }
    }
}

/// Wrong PINs so far and, when locked, until when (Unix milliseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LockoutState {
    pub failures: u32,
    pub locked_until_ms: Option<i64>,
}

impl LockoutState {
    /// The state as it stands at `now_ms`: an expired lock is lifted (count back to zero),
    /// and a lock that reaches further than `lock_ms` past `now_ms` (the clock went back) is
    /// cut to that.
    pub fn at(self, policy: &LockoutPolicy, now_ms: i64) -> LockoutState {
        match self.locked_until_ms {
            Some(until) if now_ms >= until => LockoutState::default(),
            Some(until) => LockoutState {
                failures: self.failures,
                locked_until_ms: Some(until.min(now_ms.saturating_add(policy.lock_ms))),
            },
            None => self,
        }
    }

    /// `Some(until)` while attempts are refused.
    pub fn locked_until(self, policy: &LockoutPolicy, now_ms: i64) -> Option<i64> {
        self.at(policy, now_ms).locked_until_ms
    }

    /// After a wrong PIN at `now_ms` (only called when not locked).
    pub fn after_failure(self, policy: &LockoutPolicy, now_ms: i64) -> LockoutState {
        let current = self.at(policy, now_ms);
        let failures = current.failures.saturating_add(1);
        LockoutState {
            failures,
            locked_until_ms: (failures >= policy.max_failures)
                .then(|| now_ms.saturating_add(policy.lock_ms)),
        }
    }

    /// After the right PIN.
    pub fn after_success(self) -> LockoutState {
        LockoutState::default()
    }

    /// Attempts left before the lock, at `now_ms`.
    pub fn remaining(self, policy: &LockoutPolicy, now_ms: i64) -> u32 {
        let s = self.at(policy, now_ms);
        if s.locked_until_ms.is_some() {
            0
        } else {
            policy.max_failures.saturating_sub(s.failures)
        }
    }
}

/// Reads the persisted state (the `staff_lockout` row; none yet is a clean state).
pub fn load(conn: &Connection) -> rusqlite::Result<LockoutState> {
    Ok(conn
        .query_row(
            "SELECT failures, locked_until_ms FROM staff_lockout WHERE id = 1",
            [],
            |r| {
                Ok(LockoutState {
                    failures: r.get::<_, i64>(0)?.clamp(0, i64::from(u32::MAX)) as u32,
                    locked_until_ms: r.get(1)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

pub fn save(conn: &Connection, state: &LockoutState, now_ms: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO staff_lockout (id, failures, locked_until_ms, updated_ms) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET failures = excluded.failures,
             locked_until_ms = excluded.locked_until_ms, updated_ms = excluded.updated_ms",
        params![i64::from(state.failures), state.locked_until_ms, now_ms],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn policy() -> LockoutPolicy {
        LockoutPolicy::default()
    }

    #[test]
    fn five_failures_lock_for_fifteen_minutes_then_the_count_restarts() {
        let p = policy();
        let t0 = 1_800_000_000_000;
        let mut s = LockoutState::default();
        for i in 0..4 {
            s = s.after_failure(&p, t0 + i * 1000);
            assert_eq!(
                s.locked_until(&p, t0 + i * 1000),
                None,
                "after {} failures",
                i + 1
            );
        }
        assert_eq!(s.remaining(&p, t0 + 4000), 1);
        s = s.after_failure(&p, t0 + 4000);
        let until = t0 + 4000 + 15 * MIN;
        assert_eq!(s.locked_until(&p, t0 + 4000), Some(until));
        assert_eq!(s.locked_until(&p, until - 1), Some(until));
        assert_eq!(s.remaining(&p, until - 1), 0);
        // Expired: no lock, five fresh attempts.
        assert_eq!(s.locked_until(&p, until), None);
        assert_eq!(s.remaining(&p, until), 5);
        let s = s.after_failure(&p, until + 1);
        assert_eq!(s.failures, 1);
        assert_eq!(s.locked_until_ms, None);
    }

    #[test]
    fn a_right_pin_clears_the_count() {
        let p = policy();
        let s = LockoutState::default()
            .after_failure(&p, 0)
            .after_failure(&p, 1)
            .after_success();
        assert_eq!(s, LockoutState::default());
        assert_eq!(s.remaining(&p, 2), 5);
    }

    #[test]
    fn a_clock_set_back_does_not_stretch_the_lock() {
        let p = policy();
        let s = LockoutState {
            failures: 5,
            locked_until_ms: Some(1_900_000_000_000),
        };
        // "Now" jumped a year back: still locked, but for 15 minutes at most from now.
        let now = 1_860_000_000_000;
        assert_eq!(s.locked_until(&p, now), Some(now + 15 * MIN));
    }

    #[test]
    fn the_policy_comes_from_the_config() {
        let mut c = MaintenanceConfig::default();
        assert_eq!(LockoutPolicy::from_config(&c), LockoutPolicy::default());
        c.pin_max_failures = 0;
        c.pin_lockout_s = 60;
        let p = LockoutPolicy::from_config(&c);
        assert_eq!((p.max_failures, p.lock_ms), (1, 60_000));
    }
}
