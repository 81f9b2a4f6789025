//! The diagnostics screen's binding: five taps on the top-left corner within three seconds
//! open the PIN pad (any visit is ended and wiped first); the PIN goes to the storage thread
//! (Argon2 and the lockout live there); once in, the screen shows the status report and
//! offers the staff actions. Every entry and action is in the audit log; nothing personal is
//! shown (a test card read shows only the card type and whether the check digit is valid).

use std::time::{Duration, Instant};

use drivers::idcard::IdCard;
use slint::ComponentHandle;
use ui::{App, AppWindow, Page, Staff, StaffFact};
use zeroize::Zeroizing;

use super::{models, Flow};
use crate::app::i18n::{tr, tr_args};
use crate::app::workers::face::FaceCmd;
use crate::app::workers::staff::{StaffAnswer, StaffCmd};
use crate::app::workers::StorageCmd;
use crate::maintenance::audit::StaffAction;
use crate::maintenance::gate::PinCheck;
use crate::maintenance::report::StatusReport;

const TAPS: usize = 5;
const TAP_WINDOW: Duration = Duration::from_secs(3);
const PIN_MAX: usize = 12;
/// How often the open diagnostics screen refreshes its facts.
pub(super) const REFRESH: Duration = Duration::from_secs(2);

#[derive(Default)]
pub(crate) struct StaffState {
    pub(crate) taps: Vec<Instant>,
    pub(crate) pin: Zeroizing<String>,
    pub(crate) maintenance: bool,
    pub(crate) unlocked: bool,
    pub(crate) last_refresh: Option<Instant>,
    pub(crate) waiting_card: bool,
}

fn staff(cmd: StaffCmd) -> StorageCmd {
    StorageCmd::Staff(cmd)
}

impl Flow {
    pub(super) fn corner_tapped(&self) {
        let now = self.now();
        let enough = {
            let mut st = self.state.borrow_mut();
            st.staff
                .taps
                .retain(|t| now.saturating_duration_since(*t) < TAP_WINDOW);
            st.staff.taps.push(now);
            st.staff.taps.len() >= TAPS
        };
        if enough {
            self.state.borrow_mut().staff.taps.clear();
            self.go_home();
            self.with_window(|w| {
                let s = w.global::<Staff>();
                s.set_unlocked(false);
                s.set_pin_dots(Default::default());
                s.set_pin_message(Default::default());
                w.global::<App>().set_page(Page::Diagnostics);
            });
        }
    }

    pub(super) fn on_diagnostics(&self) -> bool {
        self.window
            .upgrade()
            .is_some_and(|w| w.global::<App>().get_page() == Page::Diagnostics)
    }

    pub(super) fn pin_key(&self, w: &AppWindow, key: &str) {
        let n = {
            let mut st = self.state.borrow_mut();
            if st.staff.pin.len() < PIN_MAX
                && key.len() == 1
                && key.bytes().all(|b| b.is_ascii_digit())
            {
                st.staff.pin.push_str(key);
            }
            st.staff.pin.len()
        };
        w.global::<Staff>().set_pin_dots("•".repeat(n).into());
    }

    pub(super) fn pin_backspace(&self, w: &AppWindow) {
        let n = {
            let mut st = self.state.borrow_mut();
            st.staff.pin.pop();
            st.staff.pin.len()
        };
        w.global::<Staff>().set_pin_dots("•".repeat(n).into());
    }

    pub(super) fn pin_submit(&self, w: &AppWindow) {
        let pin = std::mem::take(&mut self.state.borrow_mut().staff.pin);
        w.global::<Staff>().set_pin_dots(Default::default());
        self.services.storage.send(staff(StaffCmd::Pin(pin)));
    }

    pub(super) fn staff_cmd(&self, cmd: StaffCmd) {
        if self.state.borrow().staff.unlocked {
            self.services.storage.send(staff(cmd));
        }
    }

    pub(super) fn sync_now(&self, w: &AppWindow) {
        if !self.state.borrow().staff.unlocked {
            return;
        }
        let ok = match &self.services.sync {
            Some(s) => {
                s.network_changed();
                true
            }
            None => false,
        };
        let detail = if ok {
            ""
        } else {
            "no central platform configured"
        };
        self.services.storage.send(staff(StaffCmd::Audit(
            StaffAction::SyncNow,
            ok,
            detail.into(),
        )));
        self.show_result(w, StaffAction::SyncNow, ok, detail);
        // The outbox figures follow shortly.
        self.state.borrow_mut().staff.last_refresh = None;
    }

    /// "Export quarantined": the storage thread writes the file into the configured folder
    /// and answers with its name and count, or the reason (no USB stick, read-only...).
    pub(super) fn export_quarantined(&self, w: &AppWindow) {
        if !self.state.borrow().staff.unlocked {
            return;
        }
        w.global::<Staff>().set_action_result(Default::default());
        self.services.storage.send(staff(StaffCmd::Export));
    }

    /// "Restart printer" / "Restart card reader": the device's owner closes and reopens it
    /// (the storage thread the printer, the card worker the reader) and answers.
    pub(super) fn restart_device(&self, w: &AppWindow, device: &str) {
        if !self.state.borrow().staff.unlocked {
            return;
        }
        let locale = self.locale();
        w.global::<Staff>()
            .set_action_result(tr_args(&locale, "staff-restarting", &[("device", device)]).into());
        match device {
            "printer" => self.services.storage.send(staff(StaffCmd::RestartPrinter)),
            "id_reader" => match &self.services.card {
                Some(card) => card.restart(),
                None => self.on_staff(StaffAnswer::Restarted {
                    device: device.into(),
                    ok: false,
                    detail: "no ID card reader configured (devices.id_reader.port)".into(),
                }),
            },
            "camera" => match &self.services.face {
                Some(face) => face.send(FaceCmd::Restart),
                None => self.on_staff(StaffAnswer::Restarted {
                    device: device.into(),
                    ok: false,
                    detail: "no camera configured (devices.camera.source)".into(),
                }),
            },
            other => tracing::warn!(device = other, "restart asked for an unknown device"),
        }
    }

    pub(super) fn test_card(&self, w: &AppWindow) {
        if !self.state.borrow().staff.unlocked {
            return;
        }
        self.state.borrow_mut().staff.waiting_card = true;
        let locale = self.locale();
        w.global::<Staff>()
            .set_action_result(tr(&locale, "staff-card-wait").into());
    }

    /// A card arrived while the diagnostics screen is open: only its type and whether the
    /// check digit is valid are shown (the card is dropped, hence wiped, right here).
    pub(super) fn staff_card(&self, card: Box<IdCard>) {
        let waiting = std::mem::take(&mut self.state.borrow_mut().staff.waiting_card);
        if !waiting {
            return;
        }
        let kind = card.card_type.label_zh();
        let valid = card.id_number_valid();
        drop(card);
        let locale = self.locale();
        let text = tr_args(
            &locale,
            "staff-card-result",
            &[
                ("type", kind),
                (
                    "valid",
                    &tr(
                        &locale,
                        if valid {
                            "staff-check-ok"
                        } else {
                            "staff-check-bad"
                        },
                    ),
                ),
            ],
        );
        self.services.storage.send(staff(StaffCmd::Audit(
            StaffAction::TestCardRead,
            true,
            format!(
                "type {kind}, check digit {}",
                if valid { "valid" } else { "invalid" }
            ),
        )));
        self.with_window(|w| w.global::<Staff>().set_action_result(text.into()));
    }

    pub(super) fn leave_diagnostics(&self) {
        let was_in = std::mem::take(&mut self.state.borrow_mut().staff.unlocked);
        if was_in {
            self.services.storage.send(staff(StaffCmd::Audit(
                StaffAction::DiagnosticsExit,
                true,
                String::new(),
            )));
        }
        self.state.borrow_mut().staff.pin = Zeroizing::new(String::new());
        self.go_home();
    }

    fn show_result(&self, w: &AppWindow, action: StaffAction, ok: bool, detail: &str) {
        let locale = self.locale();
        let what = match action {
            StaffAction::TestPrint => tr(&locale, "staff-test-print"),
            StaffAction::SyncNow => tr(&locale, "staff-sync-now"),
            StaffAction::RetryQuarantined => tr(&locale, "staff-retry"),
            StaffAction::RestartDevice => tr(&locale, "staff-restart"),
            StaffAction::ExportQuarantined => tr(&locale, "staff-export"),
            StaffAction::MaintenanceModeOn | StaffAction::MaintenanceModeOff => {
                tr(&locale, "staff-maintenance")
            }
            other => other.as_str().to_string(),
        };
        let what = if detail.is_empty() {
            what
        } else {
            format!("{what} ({detail})")
        };
        let key = if ok { "staff-done" } else { "staff-failed" };
        w.global::<Staff>()
            .set_action_result(tr_args(&locale, key, &[("what", &what)]).into());
    }

    pub(super) fn on_staff(&self, answer: StaffAnswer) {
        let Some(w) = self.window.upgrade() else {
            return;
        };
        let locale = self.locale();
        let s = w.global::<Staff>();
        match answer {
            StaffAnswer::Pin(check) => match check {
                PinCheck::Granted => {
                    self.state.borrow_mut().staff.unlocked = true;
                    s.set_pin_message(Default::default());
                    s.set_unlocked(true);
                    self.services.storage.send(staff(StaffCmd::Report));
                }
                PinCheck::Wrong { remaining } => s.set_pin_message(
                    tr_args(
                        &locale,
                        "staff-wrong-pin",
                        &[("left", &remaining.to_string())],
                    )
                    .into(),
                ),
                PinCheck::Locked { until_ms } => {
                    let until = chrono::DateTime::from_timestamp_millis(until_ms)
                        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
                        .unwrap_or_default();
                    s.set_pin_message(
                        tr_args(&locale, "staff-locked", &[("until", &until)]).into(),
                    );
                }
                PinCheck::NotConfigured => s.set_pin_message(tr(&locale, "staff-no-pin").into()),
            },
            StaffAnswer::Report(r) => {
                if self.state.borrow().staff.unlocked && self.on_diagnostics() {
                    let (devices, facts) = staff_facts(&r, &locale);
                    s.set_devices(models::model(devices));
                    s.set_facts(models::model(facts));
                    s.set_maintenance_mode(r.maintenance_mode);
                    self.state.borrow_mut().staff.maintenance = r.maintenance_mode;
                }
            }
            StaffAnswer::Done(action, ok, detail) => {
                self.show_result(&w, action, ok, &detail);
                self.state.borrow_mut().staff.last_refresh = None;
            }
            StaffAnswer::Exported { file, dir, entries } => {
                let text = tr_args(
                    &locale,
                    "staff-exported",
                    &[
                        ("count", &entries.to_string()),
                        ("file", &file),
                        ("dir", &dir),
                    ],
                );
                s.set_action_result(text.into());
                self.state.borrow_mut().staff.last_refresh = None;
            }
            StaffAnswer::Restarted { device, ok, detail } => {
                // A device worker did it; the storage thread writes the audit line.
                let detail = format!("{device}: {detail}");
                self.services.storage.send(staff(StaffCmd::Audit(
                    StaffAction::RestartDevice,
                    ok,
                    detail.clone(),
                )));
                self.show_result(&w, StaffAction::RestartDevice, ok, &detail);
                self.state.borrow_mut().staff.last_refresh = None;
            }
            StaffAnswer::MaintenanceMode(on) => {
                self.state.borrow_mut().staff.maintenance = on;
                s.set_maintenance_mode(on);
                let action = if on {
                    StaffAction::MaintenanceModeOn
                } else {
                    StaffAction::MaintenanceModeOff
                };
                self.show_result(&w, action, true, "");
            }
        }
    }

    /// On the clock: the open diagnostics screen refreshes its facts.
    pub(super) fn staff_tick(&self, now: Instant) {
        let due = {
            let st = self.state.borrow();
            st.staff.unlocked && st.staff.last_refresh.is_none_or(|t| now >= t + REFRESH)
        };
        if due && self.on_diagnostics() {
            self.state.borrow_mut().staff.last_refresh = Some(now);
            self.services.storage.send(staff(StaffCmd::Report));
        }
    }
}

fn fact(label: String, value: String, ok: bool) -> StaffFact {
    StaffFact {
        label: label.into(),
        value: value.into(),
        ok,
    }
}

/// The report as lines (technical values: the screen is for engineers).
fn staff_facts(r: &StatusReport, locale: &str) -> (Vec<StaffFact>, Vec<StaffFact>) {
    let devices = r
        .devices
        .iter()
        .map(|(name, d)| {
            let state = serde_json::to_value(d.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| format!("{:?}", d.state));
            let mut value = state;
            if let Some(h) = &d.health {
                value.push_str(&format!(" · {h}"));
            }
            if let Some(e) = &d.last_error {
                value.push_str(&format!(" · {e}"));
            }
            let counters: Vec<String> =
                d.counters.iter().map(|(k, v)| format!("{k} {v}")).collect();
            if !counters.is_empty() {
                value.push_str(&format!(" · {}", counters.join(", ")));
            }
            fact(
                name.clone(),
                value,
                d.state != drivers::device::DeviceState::Error,
            )
        })
        .collect();
    let o = &r.outbox.counts;
    let mut facts = vec![fact(
        tr(locale, "staff-outbox"),
        format!(
            "pending {}, in flight {}, quarantined {}, acked {}{}",
            o.pending,
            o.in_flight,
            o.quarantined,
            o.acked,
            o.oldest_pending_s
                .map(|s| format!(", oldest {s} s"))
                .unwrap_or_default()
        ),
        o.quarantined == 0,
    )];
    // One short line each (the export has the full records): seq, matter, code: reason.
    for q in &r.outbox.quarantined_items {
        facts.push(fact(
            tr(locale, "staff-quarantined"),
            format!(
                "#{} · {} · {}: {} · {}",
                q.seq,
                q.matter_code,
                q.reject_code.as_deref().unwrap_or("-"),
                q.reason.as_deref().unwrap_or("-"),
                q.id
            ),
            false,
        ));
    }
    let sy = &r.sync;
    facts.push(fact(
        tr(locale, "staff-sync"),
        format!(
            "{} · last success {} · last error {} · next {}",
            sy.state.clone().unwrap_or_else(|| "-".into()),
            sy.last_success_at.clone().unwrap_or_else(|| "-".into()),
            sy.last_error.clone().unwrap_or_else(|| "-".into()),
            sy.next_attempt_at.clone().unwrap_or_else(|| "-".into()),
        ),
        sy.last_error.is_none(),
    ));
    facts.push(fact(
        tr(locale, "staff-catalog"),
        format!(
            "v{}{}",
            r.catalog.version.unwrap_or_default(),
            if r.catalog.stale { " · stale" } else { "" }
        ),
        !r.catalog.stale,
    ));
    facts.push(fact(
        tr(locale, "staff-network"),
        match r.network.central_reachable {
            Some(true) => "central reachable".into(),
            Some(false) => "central unreachable".into(),
            None => "-".into(),
        },
        r.network.central_reachable != Some(false),
    ));
    facts.push(fact(
        tr(locale, "staff-disk"),
        r.disk
            .free_bytes
            .map(|b| format!("{} MiB free", b / (1024 * 1024)))
            .unwrap_or_else(|| "-".into()),
        r.disk.free_bytes.is_none_or(|b| b > 200 * 1024 * 1024),
    ));
    facts.push(fact(
        tr(locale, "staff-version"),
        format!("{} · {} s", r.app_version, r.uptime_s.unwrap_or_default()),
        true,
    ));
    for w in &r.warnings {
        facts.push(fact(tr(locale, "staff-warning"), w.clone(), false));
    }
    (devices, facts)
}
