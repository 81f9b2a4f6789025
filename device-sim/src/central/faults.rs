//! Faults the simulated platform injects, so the kiosk's sync is tested against the failures
//! a real network and a busy platform produce:
//! - `fail_rate`: a request is answered 503 with `Retry-After` before anything is stored;
//! - `latency_ms`: every kiosk request waits this long before it is answered;
//! - `drop_after_commit_rate`: a batch is stored and committed, then the connection is cut
//!   before the reply (the "ack lost" case: the kiosk must resend, the platform deduplicates);
//! - `reject_matching`: a submission whose form matches the pattern is rejected.
//!
//! Random faults come from a seeded RNG (`--seed`), and tests can script exact faults for the
//! next batch requests. Everything here is adjustable while the server runs.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
/// Re-exported so callers can build `reject_matching` without depending on `regex`.
pub use regex::Regex;

/// The fault settings (the command-line flags).
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// Probability (0..=1) that a kiosk request gets 503 + Retry-After.
    pub fail_rate: f64,
    /// Seconds sent in `Retry-After` with a random 503.
    pub retry_after_s: u64,
    /// Added to every kiosk request before it is answered.
    pub latency_ms: u64,
    /// Probability (0..=1) that a committed batch's reply is never sent.
    pub drop_after_commit_rate: f64,
    /// Submissions whose form matches are rejected (`form_invalid`).
    pub reject_matching: Option<Regex>,
    /// RNG seed for reproducible faults; `None`: from the OS.
    pub seed: Option<u64>,
}

/// A fault forced on the next batch request, whatever the rates say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptedFault {
    /// 503 with this `Retry-After` (seconds), before anything is stored.
    Unavailable { retry_after_s: u64 },
    /// Store and commit, then cut the connection without replying.
    DropAfterCommit,
    /// Answer normally.
    None,
}

/// What happens to one batch request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchFault {
    Unavailable { retry_after_s: u64 },
    DropAfterCommit,
    None,
}

/// The live fault state shared by all connections.
pub struct Faults {
    config: Mutex<FaultConfig>,
    rng: Mutex<StdRng>,
    script: Mutex<VecDeque<ScriptedFault>>,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        Faults {
            config: Mutex::new(config),
            rng: Mutex::new(rng),
            script: Mutex::new(VecDeque::new()),
        }
    }

    /// Replaces the settings (keeps the RNG and the script).
    pub fn set(&self, config: FaultConfig) {
        *lock(&self.config) = config;
    }

    pub fn get(&self) -> FaultConfig {
        lock(&self.config).clone()
    }

    /// Forces `fault` on the next batch request not already scripted.
    pub fn script(&self, fault: ScriptedFault) {
        lock(&self.script).push_back(fault);
    }

    /// The latency to add before answering a kiosk request.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(lock(&self.config).latency_ms)
    }

    /// Whether a non-batch kiosk request (heartbeat, catalog, status) gets a random 503, and
    /// with which Retry-After.
    pub fn unavailable(&self) -> Option<u64> {
        let cfg = lock(&self.config);
        if cfg.fail_rate > 0.0 && lock(&self.rng).gen_bool(cfg.fail_rate.clamp(0.0, 1.0)) {
            Some(cfg.retry_after_s)
        } else {
            None
        }
    }

    /// Decides the fault for a batch request: the script first, then the random rates.
    pub fn for_batch(&self) -> BatchFault {
        if let Some(s) = lock(&self.script).pop_front() {
            return match s {
                ScriptedFault::Unavailable { retry_after_s } => {
                    BatchFault::Unavailable { retry_after_s }
                }
                ScriptedFault::DropAfterCommit => BatchFault::DropAfterCommit,
                ScriptedFault::None => BatchFault::None,
            };
        }
        let cfg = lock(&self.config);
        let mut rng = lock(&self.rng);
        if cfg.fail_rate > 0.0 && rng.gen_bool(cfg.fail_rate.clamp(0.0, 1.0)) {
            return BatchFault::Unavailable {
                retry_after_s: cfg.retry_after_s,
            };
        }
        if cfg.drop_after_commit_rate > 0.0
            && rng.gen_bool(cfg.drop_after_commit_rate.clamp(0.0, 1.0))
        {
            return BatchFault::DropAfterCommit;
        }
        BatchFault::None
    }

    /// Why a form is rejected, if it matches the pattern: the first field whose value
    /// matches, or the whole form as compact JSON.
    pub fn rejection(&self, form: &serde_json::Value) -> Option<String> {
        let cfg = lock(&self.config);
        let re = cfg.reject_matching.as_ref()?;
        if let Some(map) = form.as_object() {
            for (field, value) in map {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if re.is_match(&text) {
                    return Some(format!(
                        "field '{field}' is not accepted by the platform (matches /{}/)",
                        re.as_str()
                    ));
                }
            }
        }
        re.is_match(&form.to_string()).then(|| {
            format!(
                "form is not accepted by the platform (matches /{}/)",
                re.as_str()
            )
        })
    }
}

/// A poisoned lock only means another connection panicked mid-update of plain settings;
/// the values are still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_comes_before_rates() {
        let f = Faults::new(FaultConfig {
            fail_rate: 1.0,
            retry_after_s: 3,
            seed: Some(1),
            ..FaultConfig::default()
        });
        f.script(ScriptedFault::DropAfterCommit);
        f.script(ScriptedFault::None);
        assert_eq!(f.for_batch(), BatchFault::DropAfterCommit);
        assert_eq!(f.for_batch(), BatchFault::None);
        assert_eq!(f.for_batch(), BatchFault::Unavailable { retry_after_s: 3 });
        assert_eq!(f.unavailable(), Some(3));
    }

    #[test]
    fn seeded_rates_are_reproducible_and_roughly_right() {
        let cfg = FaultConfig {
            fail_rate: 0.2,
            drop_after_commit_rate: 0.25,
            seed: Some(42),
            ..FaultConfig::default()
        };
        let run = || {
            let f = Faults::new(cfg.clone());
            (0..1000).map(|_| f.for_batch()).collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let unavailable = a
            .iter()
            .filter(|x| matches!(x, BatchFault::Unavailable { .. }))
            .count();
        let dropped = a
            .iter()
            .filter(|x| **x == BatchFault::DropAfterCommit)
            .count();
        assert!((120..280).contains(&unavailable), "{unavailable}");
        assert!((120..280).contains(&dropped), "{dropped}");
    }

    #[test]
    fn rejection_names_the_matching_field() {
        let f = Faults::new(FaultConfig {
            reject_matching: Some(Regex::new("^000").unwrap()),
            ..FaultConfig::default()
        });
        let form = serde_json::json!({"name": "x", "phone": "00012345678"});
        assert!(f.rejection(&form).unwrap().contains("field 'phone'"));
        assert_eq!(f.rejection(&serde_json::json!({"phone": "138"})), None);
        let none = Faults::new(FaultConfig::default());
        assert_eq!(none.rejection(&form), None);
    }
}
