//! The staff audit log: every attempt to enter diagnostics (right PIN, wrong PIN, refused
//! while locked) and every staff action, with time, action and outcome. Never personal data:
//! the detail is a short code (a device name, an outbox id, a refusal code), and
//! [`sanitize_detail`] drops anything that is not plain ASCII and blanks long digit runs, so
//! even a careless caller cannot write a name or an ID number here.

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::store::{Store, StoreError};

/// Rows kept; older ones are deleted as new ones arrive (a kiosk makes a few a day).
pub const KEEP_ROWS: i64 = 100_000;
/// Longest detail kept, in bytes.
pub const DETAIL_MAX: usize = 120;

/// What staff did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffAction {
    /// A PIN was entered at the diagnostics screen.
    DiagnosticsEntry,
    DiagnosticsExit,
    TestPrint,
    TestCardRead,
    CameraPreview,
    SyncNow,
    RetryQuarantined,
    ExportQuarantined,
    RestartDevice,
    MaintenanceModeOn,
    MaintenanceModeOff,
    /// `kiosk staff set-pin --write` replaced the PIN hash in the config.
    PinChanged,
}

impl StaffAction {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffAction::DiagnosticsEntry => "diagnostics_entry",
            StaffAction::DiagnosticsExit => "diagnostics_exit",
            StaffAction::TestPrint => "test_print",
            StaffAction::TestCardRead => "test_card_read",
            StaffAction::CameraPreview => "camera_preview",
            StaffAction::SyncNow => "sync_now",
            StaffAction::RetryQuarantined => "retry_quarantined",
            StaffAction::ExportQuarantined => "export_quarantined",
            StaffAction::RestartDevice => "restart_device",
            StaffAction::MaintenanceModeOn => "maintenance_mode_on",
            StaffAction::MaintenanceModeOff => "maintenance_mode_off",
            StaffAction::PinChanged => "pin_changed",
        }
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    /// Refused because the PIN lockout is on (this attempt caused it, or it already was).
    Locked,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Locked => "locked",
        }
    }
}

/// One row as read back (`action` and `outcome` as stored, so rows written by a newer build
/// still read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at_ms: i64,
    /// RFC 3339 UTC.
    pub at: String,
    pub action: String,
    pub outcome: String,
    pub detail: String,
}

/// The audit log in the kiosk's store.
pub struct AuditLog<'s> {
    store: &'s Store,
}

impl<'s> AuditLog<'s> {
    pub fn new(store: &'s Store) -> AuditLog<'s> {
        AuditLog { store }
    }

    /// Appends one row (committed when this returns) and gives back its id.
    pub fn record(
        &self,
        at_ms: i64,
        action: StaffAction,
        outcome: Outcome,
        detail: &str,
    ) -> Result<i64, StoreError> {
        Ok(insert(self.store.conn(), at_ms, action, outcome, detail)?)
    }

    /// The latest `n` rows, newest first.
    pub fn recent(&self, n: usize) -> Result<Vec<AuditRecord>, StoreError> {
        let mut stmt = self.store.conn().prepare(
            "SELECT id, at_ms, action, outcome, detail FROM staff_audit
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(n).unwrap_or(i64::MAX)], |r| {
            let at_ms: i64 = r.get(1)?;
            Ok(AuditRecord {
                id: r.get(0)?,
                at_ms,
                at: crate::outbox::entries::ms_to_rfc3339(at_ms).unwrap_or_default(),
                action: r.get(2)?,
                outcome: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The insert itself, usable inside a caller's transaction (the PIN check writes the lockout
/// and the audit row in one).
pub(crate) fn insert(
    conn: &Connection,
    at_ms: i64,
    action: StaffAction,
    outcome: Outcome,
    detail: &str,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO staff_audit (at_ms, action, outcome, detail) VALUES (?1, ?2, ?3, ?4)",
        params![
            at_ms,
            action.as_str(),
            outcome.as_str(),
            sanitize_detail(detail)
        ],
    )?;
    let id = conn.last_insert_rowid();
    conn.execute(
        "DELETE FROM staff_audit WHERE id <= ?1",
        [id.saturating_sub(KEEP_ROWS)],
    )?;
    Ok(id)
}

/// Keeps printable ASCII only (names are hanzi: they go), cuts at [`DETAIL_MAX`], and blanks
/// every run of 15 or more digits (an ID number's length, with or without its `X`).
pub fn sanitize_detail(detail: &str) -> String {
    let ascii: String = detail
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .collect();
    let mut out = String::with_capacity(ascii.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().filter(char::is_ascii_digit).count() >= 15 {
            out.push_str("[number removed]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in ascii.chars() {
        let continues_number = c.is_ascii_digit() || (matches!(c, 'X' | 'x') && !run.is_empty());
        if continues_number {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    let mut cut = out.len().min(DETAIL_MAX);
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_path(&dir.path().join("k.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn records_come_back_newest_first_with_time_action_and_outcome() {
        let (_d, store) = store();
        let log = AuditLog::new(&store);
        let t = 1_800_000_000_000;
        log.record(t, StaffAction::DiagnosticsEntry, Outcome::Success, "")
            .unwrap();
        log.record(
            t + 1000,
            StaffAction::TestPrint,
            Outcome::Failure,
            "paper_out",
        )
        .unwrap();
        log.record(t + 2000, StaffAction::SyncNow, Outcome::Success, "")
            .unwrap();
        let recent = log.recent(2).unwrap();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].action, "sync_now");
        assert_eq!(recent[1].action, "test_print");
        assert_eq!(recent[1].outcome, "failure");
        assert_eq!(recent[1].detail, "paper_out");
        assert_eq!(recent[1].at, "2027-01-15T08:00:01.000Z");
        assert_eq!(log.recent(10).unwrap().len(), 3);
    }

    #[test]
    fn the_log_survives_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        {
            let store = Store::open_path(&path).unwrap();
            AuditLog::new(&store)
                .record(5, StaffAction::MaintenanceModeOn, Outcome::Success, "")
                .unwrap();
        }
        let store = Store::open_path(&path).unwrap();
        let rows = AuditLog::new(&store).recent(5).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].action, "maintenance_mode_on");
    }

    #[test]
    fn personal_data_cannot_get_into_a_detail() {
        assert_eq!(
            sanitize_detail("card 11010519491231002X read by 张三"),
            "card [number removed] read by "
        );
        assert_eq!(sanitize_detail("320124198808240056"), "[number removed]");
        // Short numbers and ids stay: they are codes, not people.
        assert_eq!(
            sanitize_detail("entry 0190f5e4-0000-7000-8000-000000000001 retry"),
            "entry 0190f5e4-0000-7000-8000-000000000001 retry"
        );
        assert_eq!(
            sanitize_detail("printer\nfail_cover_open"),
            "printerfail_cover_open"
        );
        assert_eq!(sanitize_detail(&"a".repeat(500)).len(), DETAIL_MAX);
        let (_d, store) = store();
        let log = AuditLog::new(&store);
        log.record(
            1,
            StaffAction::TestCardRead,
            Outcome::Success,
            "resident 810000199408230021 李四",
        )
        .unwrap();
        let row = &log.recent(1).unwrap()[0];
        assert!(!row.detail.contains("810000199408230021"), "{}", row.detail);
        assert!(!row.detail.contains('李'), "{}", row.detail);
    }
}
