//! Staff actions of the diagnostics screen that are not a device call: retry or export the
//! quarantined outbox entries, and the test card read's verdict. Each writes its audit row.
//! (Test print, sync now, restart a device and the camera preview act on objects the app
//! holds; the app records those with [`super::AuditLog::record`].)

use std::path::{Path, PathBuf};

use anyhow::Context;
use drivers::idcard::IdCard;
use serde::Serialize;

use super::audit::{AuditLog, Outcome, StaffAction};
use crate::outbox::{entries, EntryRow, EntryState};
use crate::store::Store;

/// Quarantined entries read at most (the screen and the export; a kiosk has a handful).
pub const QUARANTINE_LIMIT: usize = 10_000;

/// Puts every quarantined entry back to pending, due now, and says how many. The platform
/// refused them once: staff retry after the cause was fixed centrally (a matter re-enabled,
/// a form rule relaxed).
pub fn retry_quarantined(store: &mut Store, now_ms: i64) -> anyhow::Result<usize> {
    let ids: Vec<String> = entries::list(store, Some(EntryState::Quarantined), QUARANTINE_LIMIT)?
        .into_iter()
        .map(|e| e.id)
        .collect();
    let mut done = 0;
    let mut failed = 0;
    for id in &ids {
        match entries::retry(store, id, now_ms) {
            Ok(_) => done += 1,
            Err(e) => {
                failed += 1;
                tracing::warn!(id = %id, error = %e, "retry of a quarantined entry failed");
            }
        }
    }
    let outcome = if failed == 0 {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    AuditLog::new(store).record(
        now_ms,
        StaffAction::RetryQuarantined,
        outcome,
        &format!("retried={done} failed={failed}"),
    )?;
    Ok(done)
}

/// The export file: entry metadata, the platform's codes and reasons. No personal payload
/// (it stays sealed in the store): staff hand this to the central team to find the cause.
#[derive(Debug, Serialize)]
pub struct QuarantineExport {
    pub kiosk_id: String,
    pub exported_at: String,
    pub entries: Vec<EntryRow>,
}

/// Writes `quarantined-<kiosk>-<UTC time>.json` into `dir` (a USB stick, say) and returns
/// its path. Written to a temporary name first and renamed, so a pulled stick never holds a
/// half file under the final name.
pub fn export_quarantined(
    store: &Store,
    kiosk_id: &str,
    dir: &Path,
    now_ms: i64,
) -> anyhow::Result<PathBuf> {
    let result = write_export(store, kiosk_id, dir, now_ms);
    let (outcome, detail) = match &result {
        Ok((_, n)) => (Outcome::Success, format!("entries={n}")),
        Err(e) => (
            Outcome::Failure,
            format!("error={}", first_words(&format!("{e:#}"))),
        ),
    };
    AuditLog::new(store).record(now_ms, StaffAction::ExportQuarantined, outcome, &detail)?;
    result.map(|(path, _)| path)
}

fn write_export(
    store: &Store,
    kiosk_id: &str,
    dir: &Path,
    now_ms: i64,
) -> anyhow::Result<(PathBuf, usize)> {
    let entries = entries::list(store, Some(EntryState::Quarantined), QUARANTINE_LIMIT)?;
    let n = entries.len();
    let stamp = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(now_ms)
        .context("the clock is out of range")?;
    let export = QuarantineExport {
        kiosk_id: kiosk_id.to_string(),
        exported_at: stamp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        entries,
    };
    let safe_id: String = kiosk_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = format!(
        "quarantined-{safe_id}-{}.json",
        stamp.format("%Y%m%dT%H%M%SZ")
    );
    let path = dir.join(name);
    let tmp = path.with_extension("json.part");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&export)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot rename to {}", path.display()))?;
    Ok((path, n))
}

/// An error's first few words for the audit detail (paths and codes, never data).
fn first_words(s: &str) -> String {
    s.split_whitespace().take(8).collect::<Vec<_>>().join(" ")
}

/// What the test card read may show: the card type and whether the number's check digit is
/// valid. Never who the card belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CardCheck {
    /// `resident`, `permit`, `foreign_2017`, `foreign_2023`.
    pub card_type: &'static str,
    pub check_digit_valid: bool,
}

impl CardCheck {
    pub fn of(card: &IdCard) -> CardCheck {
        CardCheck {
            card_type: card.card_type.key(),
            check_digit_valid: card.id_number_valid(),
        }
    }

    /// Records the test read in the audit log (`test_card_read`, the type and the verdict).
    pub fn record(&self, store: &Store, now_ms: i64) -> anyhow::Result<()> {
        AuditLog::new(store).record(
            now_ms,
            StaffAction::TestCardRead,
            if self.check_digit_valid {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            &format!(
                "{} check_digit_valid={}",
                self.card_type, self.check_digit_valid
            ),
        )?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "actions_tests.rs"]
mod tests;
