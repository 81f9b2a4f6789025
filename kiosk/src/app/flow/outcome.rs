//! The end of a visit: submit (the storage thread queues and prints), receipt, rating, and
//! the status query by receipt number or by the receipt's QR. Split from `steps.rs`, which
//! handles the steps before.

use slint::ComponentHandle;
use ui::{App, AppWindow, ErrorKind, Page, ReceiptState, StatusResult, StatusState, SubmitStage};
use zeroize::Zeroizing;

use super::{models, Flow};
use crate::app::i18n::{tr, tr_args};
use crate::app::workers::face::FaceCmd;
use crate::app::workers::{LocalStatus, ReceiptJob, ScanFailure, StorageCmd, Submitted};
use crate::session::SubmitError;

impl Flow {
    // ----- submit, receipt, rating -----

    /// Review "Submit": the submissions go to the storage thread; the page says "saving".
    pub(super) fn confirm(&self, w: &AppWindow) {
        let now = self.now();
        let (subs, job, visit) = {
            let mut st = self.state.borrow_mut();
            let version = st.catalog.version;
            let subs = match st.session.begin_submit(version, now) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot submit");
                    return;
                }
            };
            let Some(v) = st.session.visit() else {
                return;
            };
            let code = v.target.code().to_string();
            let card = v.card.as_ref();
            let job = ReceiptJob {
                matter_name: models::item(&st.catalog, &code, "zh-CN")
                    .map(|i| i.name.to_string())
                    .unwrap_or(code.clone()),
                applicant_name: Zeroizing::new(card.map(|c| c.name.clone()).unwrap_or_default()),
                id_number: Zeroizing::new(card.map(|c| c.id_number.clone()).unwrap_or_default()),
                next_steps: vec![
                    tr("zh-CN", "receipt-step-keep"),
                    tr_args(
                        "zh-CN",
                        "receipt-step-promise",
                        &[(
                            "limit",
                            &models::promised_limit(&st.catalog, &code, "zh-CN"),
                        )],
                    ),
                ],
            };
            (subs, job, st.visit_no)
        };
        w.global::<ui::Receipt>().set_stage(SubmitStage::Saving);
        w.global::<App>().set_step(0);
        w.global::<App>().set_page(Page::Submitting);
        self.services.storage.send(StorageCmd::Submit {
            visit,
            subs,
            receipt: job,
        });
    }

    pub(super) fn on_submitted(&self, result: Result<Submitted, SubmitError>) {
        let Some(w) = self.window.upgrade() else {
            return;
        };
        let now = self.now();
        match result {
            Ok(done) => {
                let ok = self
                    .state
                    .borrow_mut()
                    .session
                    .submitted(done.queued.clone(), now)
                    .is_ok();
                if !ok {
                    return;
                }
                if let Some(sync) = &self.services.sync {
                    sync.wake();
                }
                let locale = self.locale();
                let code = self
                    .state
                    .borrow()
                    .session
                    .visit()
                    .map(|v| v.target.code().to_string())
                    .unwrap_or_default();
                let r = w.global::<ui::Receipt>();
                r.set_stage(SubmitStage::Printing);
                r.set_number(done.receipt_no.as_str().into());
                r.set_submitted_at(done.at.as_str().into());
                r.set_promised_limit(models::promised_limit(
                    &self.state.borrow().catalog,
                    &code,
                    &locale,
                ));
                r.set_state(ReceiptState::Printing);
                w.global::<App>().set_page(Page::Receipt);
            }
            Err(failure) => {
                let _ = self.state.borrow_mut().session.submit_failed(now);
                let app = w.global::<App>();
                app.set_error_kind(match failure {
                    SubmitError::StorageFull(_) | SubmitError::StorageReadOnly(_) => {
                        ErrorKind::DiskFull
                    }
                    _ => ErrorKind::DeviceUnavailable,
                });
                app.set_page(Page::Error);
            }
        }
    }

    pub(super) fn on_printed(&self, printed: bool) {
        let Some(w) = self.window.upgrade() else {
            return;
        };
        let r = w.global::<ui::Receipt>();
        if printed {
            r.set_state(ReceiptState::Printed);
        } else {
            let number = r.get_number();
            if let Some(img) = crate::app::qr::image(&number) {
                r.set_qr(img);
            }
            r.set_state(ReceiptState::ShownOnScreen);
        }
    }

    pub(super) fn to_rating(&self, w: &AppWindow) {
        let now = self.now();
        if self.state.borrow_mut().session.to_rating(now).is_ok() {
            w.global::<ui::Rating>().set_level(0);
            w.global::<App>().set_page(Page::Rating);
        }
    }

    /// One rating a visit: stored, thanked, then Home after a moment.
    pub(super) fn rate(&self, w: &AppWindow, level: i32) {
        let now = self.now();
        let Ok(level) = u8::try_from(level) else {
            return;
        };
        let result = self.state.borrow_mut().session.rate(level, now);
        match result {
            Ok((visit_id, target)) => {
                w.global::<ui::Rating>().set_level(i32::from(level));
                self.services.storage.send(StorageCmd::Rate {
                    visit_id,
                    target,
                    level,
                });
                // The session is Home already (visit wiped); the page thanks, then wipes.
                self.state.borrow_mut().home_at = Some(now + super::THANKS_FOR);
            }
            Err(e) => tracing::info!(error = %e, "rating refused"),
        }
    }

    // ----- status query -----

    pub(super) fn status_query(&self, w: &AppWindow, number: &str) {
        let q = w.global::<ui::StatusQuery>();
        if number.trim().is_empty() {
            q.set_state(StatusState::NotFound);
            return;
        }
        if let Some(face) = &self.services.face {
            face.send(FaceCmd::StopScan);
        }
        let query = {
            let mut st = self.state.borrow_mut();
            st.query_no += 1;
            st.query_no
        };
        q.set_state(StatusState::Searching);
        self.services.storage.send(StorageCmd::Status {
            query,
            number: number.to_string(),
        });
    }

    /// "Scan the receipt QR": the camera (owned by the face thread) looks for a receipt code.
    pub(super) fn status_scan(&self, w: &AppWindow) {
        let q = w.global::<ui::StatusQuery>();
        let Some(face) = &self.services.face else {
            q.set_state(StatusState::ScanFailed);
            return;
        };
        let query = {
            let mut st = self.state.borrow_mut();
            st.query_no += 1;
            st.query_no
        };
        q.set_number(Default::default());
        q.set_state(StatusState::Scanning);
        face.send(FaceCmd::Scan { query });
    }

    /// A scan's answer: a receipt number is looked up as if typed; otherwise the page asks
    /// for the number.
    pub(super) fn on_scanned(&self, result: Result<String, ScanFailure>) {
        self.with_window(|w| {
            let q = w.global::<ui::StatusQuery>();
            match result {
                Ok(number) => {
                    q.set_number(number.as_str().into());
                    self.status_query(w, &number);
                }
                Err(why) => {
                    if let ScanFailure::Unavailable(e) = &why {
                        tracing::warn!(error = %e, "status page: QR scan unavailable");
                    }
                    q.set_state(StatusState::ScanFailed);
                }
            }
        });
    }

    pub(super) fn on_status(&self, answer: Option<LocalStatus>) {
        let locale = self.locale();
        self.with_window(|w| {
            let q = w.global::<ui::StatusQuery>();
            let Some(a) = answer else {
                q.set_state(StatusState::NotFound);
                return;
            };
            let (key, severity) = match a.state.as_str() {
                "acked" => ("status-accepted", 0),
                "quarantined" => ("status-needs-action", 2),
                _ => ("status-queued", 0),
            };
            let name = models::item(&self.state.borrow().catalog, &a.matter_code, &locale)
                .map(|i| i.name)
                .unwrap_or_else(|| a.matter_code.as_str().into());
            let at = chrono::DateTime::parse_from_rfc3339(&a.created_at)
                .map(|t| {
                    t.with_timezone(&chrono::Local)
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default();
            q.set_result(StatusResult {
                receipt_number: a.receipt_no.as_str().into(),
                matter_name: name,
                status_label: tr(&locale, key).into(),
                severity,
                submitted_at: at.as_str().into(),
                updated_at: at.into(),
            });
            q.set_state(StatusState::Found);
        });
    }
}
