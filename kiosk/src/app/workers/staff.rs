//! The staff's diagnostics work on the storage thread (it owns the store and the printer):
//! the PIN check with its lockout (Argon2 is slow on purpose, so never on the UI thread),
//! the status report, a test print, restarting the printer, retrying and exporting
//! quarantined items, maintenance mode, and the audit log line for each. Nothing here
//! touches personal data.

use drivers::printer::{standard_receipt, JobOutcome, ReceiptInput};
use zeroize::Zeroizing;

use super::printer::PrinterSlot;
use crate::config::Config;
use crate::maintenance::audit::{AuditLog, Outcome, StaffAction};
use crate::maintenance::collect::{build, Facts};
use crate::maintenance::gate::{PinCheck, StaffGate};
use crate::maintenance::report::StatusReport;
use crate::maintenance::SharedFacts;
use crate::store::{now_ms, Store};

/// What the diagnostics screen asks for.
pub enum StaffCmd {
    Pin(Zeroizing<String>),
    Report,
    TestPrint,
    Retry,
    /// Export the quarantined items into `maintenance.export_dir`.
    Export,
    Maintenance(bool),
    /// Close and reopen the printer (handled by the storage thread, which owns it; the
    /// card reader is restarted by its own worker).
    RestartPrinter,
    /// Record an action done elsewhere (sync now, test card read, reader restart, leave).
    Audit(StaffAction, bool, String),
}

/// The answers.
#[derive(Debug)]
pub enum StaffAnswer {
    Pin(PinCheck),
    Report(Box<StatusReport>),
    /// An action's result: which, whether it worked, and a short detail (no personal data).
    Done(StaffAction, bool, String),
    MaintenanceMode(bool),
    /// The quarantined items were written: the file's name, its folder and how many.
    Exported {
        file: String,
        dir: String,
        entries: usize,
    },
    /// A device worker closed and reopened its device (not yet audited: the flow has the
    /// storage thread write the line).
    Restarted {
        device: String,
        ok: bool,
        detail: String,
    },
}

pub(super) struct StaffDesk {
    pub config: Config,
    /// The running app's facts (devices, sync) for the report.
    pub facts: SharedFacts,
}

impl StaffDesk {
    fn audit(&self, store: &Store, action: StaffAction, ok: bool, detail: &str) {
        let outcome = if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        if let Err(e) = AuditLog::new(store).record(now_ms(), action, outcome, detail) {
            tracing::error!(error = %e, "audit log write failed");
        }
    }

    pub fn handle(
        &self,
        cmd: StaffCmd,
        store: &mut Store,
        printer: &mut PrinterSlot,
    ) -> Option<StaffAnswer> {
        match cmd {
            StaffCmd::Pin(pin) => {
                let gate = match StaffGate::from_config(&self.config.maintenance) {
                    Ok(g) => g,
                    Err(e) => {
                        tracing::error!(error = %e, "staff PIN hash in the config is unusable");
                        return Some(StaffAnswer::Pin(PinCheck::NotConfigured));
                    }
                };
                // try_enter writes the audit line and the lockout state itself.
                match gate.try_enter(store, &pin, now_ms()) {
                    Ok(check) => Some(StaffAnswer::Pin(check)),
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "PIN check failed");
                        Some(StaffAnswer::Pin(PinCheck::NotConfigured))
                    }
                }
            }
            StaffCmd::Report => {
                // The printer's health as of now (the other devices' workers publish theirs).
                printer.look();
                let facts = Facts::Live(self.facts.snapshot());
                match build(
                    &self.config,
                    store,
                    facts,
                    std::path::Path::new("/sys/class/net"),
                    now_ms(),
                ) {
                    Ok(r) => Some(StaffAnswer::Report(Box::new(r))),
                    Err(e) => Some(StaffAnswer::Done(
                        StaffAction::DiagnosticsEntry,
                        false,
                        format!("{e:#}"),
                    )),
                }
            }
            StaffCmd::TestPrint => {
                let no = format!("TEST{}", chrono::Local::now().format("%Y%m%d%H%M%S"));
                let time = chrono::Local::now().format("%Y-%m-%d %H:%M").to_string();
                let receipt = standard_receipt(&ReceiptInput {
                    hall_name: &self.config.hall_name,
                    matter_name: "打印机测试",
                    receipt_no: &no,
                    time: &time,
                    next_steps: &["打印测试：中文、二维码、切纸"],
                    applicant_name: "",
                    id_number: "",
                    qr_payload: &no,
                });
                let (ok, detail) = match printer.print(&receipt) {
                    Ok(JobOutcome::Printed) => (true, format!("{no} printed")),
                    Ok(other) => (false, format!("{no}: {other:?}")),
                    Err(e) => (false, e),
                };
                self.audit(store, StaffAction::TestPrint, ok, &detail);
                Some(StaffAnswer::Done(StaffAction::TestPrint, ok, detail))
            }
            StaffCmd::Retry => {
                // retry_quarantined writes its own audit line (with the counts).
                let r = crate::maintenance::actions::retry_quarantined(store, now_ms());
                let (ok, detail) = match r {
                    Ok(n) => (true, format!("{n} item(s) queued again")),
                    Err(e) => (false, format!("{e:#}")),
                };
                Some(StaffAnswer::Done(StaffAction::RetryQuarantined, ok, detail))
            }
            StaffCmd::Export => {
                // Audited inside, success or failure (with the reason's first words).
                let r = crate::maintenance::actions::export_quarantined_to_config(
                    store,
                    &self.config,
                    now_ms(),
                );
                Some(match r {
                    Ok(done) => StaffAnswer::Exported {
                        file: done.file_name(),
                        dir: done
                            .path
                            .parent()
                            .map(|d| d.display().to_string())
                            .unwrap_or_default(),
                        entries: done.entries,
                    },
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "export of quarantined items failed");
                        StaffAnswer::Done(StaffAction::ExportQuarantined, false, format!("{e:#}"))
                    }
                })
            }
            StaffCmd::Maintenance(on) => {
                let action = if on {
                    StaffAction::MaintenanceModeOn
                } else {
                    StaffAction::MaintenanceModeOff
                };
                match crate::maintenance::mode::set(store, on, now_ms()) {
                    Ok(_) => {
                        self.audit(store, action, true, "");
                        Some(StaffAnswer::MaintenanceMode(on))
                    }
                    Err(e) => {
                        let detail = format!("{e:#}");
                        self.audit(store, action, false, &detail);
                        Some(StaffAnswer::Done(action, false, detail))
                    }
                }
            }
            StaffCmd::RestartPrinter => {
                let (ok, detail) = match printer.restart() {
                    Ok(d) => (true, d),
                    Err(e) => (false, e),
                };
                let detail = format!("{}: {detail}", super::printer::NAME);
                self.audit(store, StaffAction::RestartDevice, ok, &detail);
                Some(StaffAnswer::Done(StaffAction::RestartDevice, ok, detail))
            }
            StaffCmd::Audit(action, ok, detail) => {
                self.audit(store, action, ok, &detail);
                None
            }
        }
    }
}
