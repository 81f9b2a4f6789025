//! Staff actions of the diagnostics screen that are not a device call: retry or export the
//! quarantined outbox entries (into `maintenance.export_dir`), and the test card read's
//! verdict. Each writes its audit row.
//! (Test print, sync now, restart a device and the camera preview act on objects the app
//! holds; the app records those with [`super::AuditLog::record`].)

use std::path::{Path, PathBuf};

use anyhow::Context;
use drivers::idcard::IdCard;
use serde::Serialize;

use super::audit::{AuditLog, Outcome, StaffAction};
use crate::config::Config;
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

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub path: PathBuf,
    /// Quarantined entries in the file.
    pub entries: usize,
}

impl Exported {
    /// The file's name (what staff look for on the stick).
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Writes `quarantined-<kiosk>-<UTC time>.json` into `dir` (a USB stick, say) and says where
/// and how many. Written to a temporary name first and renamed, so a pulled stick never
/// holds a half file under the final name. Audited, success or failure.
pub fn export_quarantined(
    store: &Store,
    kiosk_id: &str,
    dir: &Path,
    now_ms: i64,
) -> anyhow::Result<Exported> {
    audited_export(store, now_ms, || write_export(store, kiosk_id, dir, now_ms))
}

/// The export of the diagnostics screen: into the configured `maintenance.export_dir`,
/// checked first ([`export_dir`]) so staff read why nothing was written.
pub fn export_quarantined_to_config(
    store: &Store,
    config: &Config,
    now_ms: i64,
) -> anyhow::Result<Exported> {
    audited_export(store, now_ms, || {
        let dir = export_dir(config)?;
        write_export(store, &config.kiosk_id, &dir, now_ms)
    })
}

fn audited_export(
    store: &Store,
    now_ms: i64,
    export: impl FnOnce() -> anyhow::Result<Exported>,
) -> anyhow::Result<Exported> {
    let result = export();
    let (outcome, detail) = match &result {
        Ok(e) => (
            Outcome::Success,
            format!("entries={} file={}", e.entries, e.file_name()),
        ),
        Err(e) => (
            Outcome::Failure,
            format!("error={}", first_words(&format!("{e:#}"))),
        ),
    };
    AuditLog::new(store).record(now_ms, StaffAction::ExportQuarantined, outcome, &detail)?;
    result
}

/// The configured export folder, ready to write into. A relative `export_dir` lives under
/// the data folder and is created; an absolute one (a USB stick's mount point) must exist,
/// and with `export_mount_required` must be a mounted file system of its own, so a missing
/// stick is reported instead of filling the mount-point folder on the kiosk's own disk.
pub fn export_dir(config: &Config) -> anyhow::Result<PathBuf> {
    let m = &config.maintenance;
    let dir = config.data_path(&m.export_dir);
    if m.export_dir.is_relative() {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the export folder {}", dir.display()))?;
    } else if !dir.exists() {
        anyhow::bail!(
            "export folder {} not found: is the USB stick plugged in and mounted?",
            dir.display()
        );
    }
    anyhow::ensure!(
        dir.is_dir(),
        "export path {} is not a folder",
        dir.display()
    );
    if m.export_mount_required && !is_mount_point(&dir) {
        anyhow::bail!(
            "export folder {} is not a mounted drive: is the USB stick plugged in and mounted?",
            dir.display()
        );
    }
    Ok(dir)
}

/// A folder is a mount point when it sits on another device than its parent (or is `/`).
fn is_mount_point(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(canonical) = dir.canonicalize() else {
        return false;
    };
    let Some(parent) = canonical.parent() else {
        return true;
    };
    match (std::fs::metadata(&canonical), std::fs::metadata(parent)) {
        (Ok(a), Ok(b)) => a.dev() != b.dev(),
        _ => false,
    }
}

fn write_export(
    store: &Store,
    kiosk_id: &str,
    dir: &Path,
    now_ms: i64,
) -> anyhow::Result<Exported> {
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
    Ok(Exported { path, entries: n })
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
