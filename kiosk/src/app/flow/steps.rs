//! What each step of the visit does up to the review: the answers to the citizen's actions
//! (from `connect.rs`) and to the workers' events (from `Flow::pump`). Submitting and after:
//! `outcome.rs`.

use std::rc::Rc;

use drivers::face::{AttemptOutcome, Challenge, Hint, Prompt};
use drivers::idcard::{CardEvent, IdCard};
use drivers::printer::{mask_id_number, mask_name};
use slint::{ComponentHandle, Model, VecModel};
use ui::{App, AppWindow, CardState, ErrorKind, FaceHint, Page};
use zeroize::Zeroizing;

use super::{models, Flow};
use crate::app::i18n::tr_args;
use crate::app::workers::face::FaceCmd;
use crate::app::workers::FaceUpdate;
use crate::catalog::{FieldKind, IdentityLevel};
use crate::session::{CardHolder, FaceOutcome, FlowError, Step};

/// How many matters a search shows at most.
const SEARCH_LIMIT: usize = 50;

impl Flow {
    // ----- Home, search, guide -----

    pub(super) fn search(&self, query: &str) {
        let locale = self.locale();
        let items = {
            let st = self.state.borrow();
            st.search
                .search(query, SEARCH_LIMIT)
                .iter()
                .filter_map(|h| models::item(&st.catalog, &h.code, &locale))
                .collect::<Vec<_>>()
        };
        self.with_window(|w| {
            let c = w.global::<ui::Catalog>();
            c.set_results_title(Default::default());
            c.set_results(models::model(items));
            w.global::<App>().set_page(Page::Search);
        });
    }

    pub(super) fn theme(&self, code: &str) {
        let locale = self.locale();
        let (name, items) = models::theme(&self.state.borrow().catalog, code, &locale);
        self.with_window(|w| {
            let c = w.global::<ui::Catalog>();
            c.set_results_title(name);
            c.set_results(models::model(items));
            w.global::<App>().set_page(Page::Search);
        });
    }

    pub(super) fn choose(&self, code: &str) {
        let now = self.now();
        let result = {
            let mut st = self.state.borrow_mut();
            let catalog = st.catalog.clone();
            st.session.choose(&catalog, code, now)
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "matter not chosen");
            return;
        }
        let locale = self.locale();
        self.with_window(|w| {
            self.show_guide_models(w, code, &locale);
            let st = self.state.borrow();
            let app = w.global::<App>();
            if let Some(item) = models::item(&st.catalog, code, &locale) {
                app.set_matter_name(item.name);
            }
            let identity = st.session.visit().map(|v| v.identity);
            let count = match identity {
                Some(IdentityLevel::CardFace) => 6,
                Some(IdentityLevel::Card) => 5,
                _ => 4,
            };
            app.set_step(1);
            app.set_step_count(count);
            w.global::<ui::Guide>().set_selected_situation(-1);
            app.set_page(Page::Guide);
        });
    }

    pub(super) fn show_guide_models(&self, w: &AppWindow, code: &str, locale: &str) {
        let Some(g) = models::guide(&self.state.borrow().catalog, code, locale) else {
            return;
        };
        let guide = w.global::<ui::Guide>();
        guide.set_matter(g.matter);
        guide.set_materials(models::model(g.materials));
        guide.set_situations(models::model(g.situations));
    }

    /// Guide "Start": with the situation chosen on the page (or the only one).
    pub(super) fn start(&self, w: &AppWindow) {
        let guide = w.global::<ui::Guide>();
        let chosen = guide.get_selected_situation();
        let situations = guide.get_situations();
        let now = self.now();
        let result = {
            let mut st = self.state.borrow_mut();
            let situation = if situations.row_count() == 0 {
                st.session
                    .visit()
                    .and_then(|v| v.situations.first().cloned())
                    .unwrap_or_else(|| "01".into())
            } else {
                match usize::try_from(chosen)
                    .ok()
                    .and_then(|i| situations.row_data(i))
                {
                    Some(s) => s.id.to_string(),
                    None => return,
                }
            };
            st.session.choose_situation(&situation, now)
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot start");
            return;
        }
        self.show_step(w);
    }

    /// Shows the page of the session's step (after it moved).
    fn show_step(&self, w: &AppWindow) {
        let (step, identity) = {
            let st = self.state.borrow();
            (st.session.step(), st.session.visit().map(|v| v.identity))
        };
        let app = w.global::<App>();
        let with_card = matches!(
            identity,
            Some(IdentityLevel::Card | IdentityLevel::CardFace)
        );
        let with_face = identity == Some(IdentityLevel::CardFace);
        match step {
            Step::Card if self.services.card.is_none() => {
                app.set_error_kind(ErrorKind::DeviceUnavailable);
                app.set_page(Page::Error);
            }
            Step::Card => {
                let card = w.global::<ui::Card>();
                card.set_state(CardState::Waiting);
                app.set_step(2);
                app.set_page(Page::Card);
                let early = self.state.borrow_mut().early_card.take();
                if let Some(c) = early {
                    self.card_read(w, c);
                }
            }
            Step::Face => {
                app.set_step(3);
                app.set_page(Page::Face);
            }
            Step::Form => {
                self.refill_form(w, &self.locale());
                w.global::<ui::Form>().set_focused(-1);
                app.set_step(2 + i32::from(with_card) + i32::from(with_face));
                app.set_page(Page::Form);
            }
            Step::Review => {
                app.set_step(3 + i32::from(with_card) + i32::from(with_face));
                app.set_page(Page::Review);
            }
            _ => {}
        }
    }

    /// Header "Back": one step back where that makes sense; a visit's identity steps go
    /// back to the guide with a fresh visit (nothing of the card is kept).
    pub(super) fn back(&self, w: &AppWindow) {
        let page = w.global::<App>().get_page();
        match page {
            Page::Review => {
                let now = self.now();
                let ok = self.state.borrow_mut().session.back_to_form(now).is_ok();
                if ok {
                    self.show_step(w);
                }
            }
            Page::Card | Page::Face | Page::Form => {
                let code = self
                    .state
                    .borrow()
                    .session
                    .visit()
                    .map(|v| v.target.code().to_string());
                if let Some(code) = code {
                    let now = self.now();
                    self.state.borrow_mut().session.cancel(now);
                    self.state.borrow_mut().visit_no += 1;
                    if let Some(face) = &self.services.face {
                        face.send(FaceCmd::End);
                    }
                    self.choose(&code);
                }
            }
            Page::Search | Page::StatusQuery | Page::Guide | Page::Error => self.go_home(),
            _ => {}
        }
    }

    // ----- ID card -----

    pub(super) fn on_card(&self, event: CardEvent) {
        let step = self.step();
        if let Some(sync) = &self.services.sync {
            match &event {
                CardEvent::ReaderReady => sync.set_device_state("id_reader", "ready"),
                CardEvent::ReaderLost { .. } => sync.set_device_state("id_reader", "lost"),
                _ => {}
            }
        }
        let Some(w) = self.window.upgrade() else {
            return;
        };
        let card = w.global::<ui::Card>();
        match event {
            CardEvent::Inserted(c) if step == Step::Card => self.card_read(&w, c),
            CardEvent::Inserted(c) if step == Step::Guide => {
                self.state.borrow_mut().early_card = Some(c);
            }
            CardEvent::Removed | CardEvent::ReaderLost { .. } if step != Step::Card => {
                self.state.borrow_mut().early_card = None;
            }
            CardEvent::ReadFailed { cause, .. } if step == Step::Card => {
                tracing::info!(cause, "card read failed");
                self.card_failed(&w);
            }
            CardEvent::ReaderLost { .. } if step == Step::Card => {
                w.global::<App>()
                    .set_error_kind(ErrorKind::DeviceUnavailable);
                w.global::<App>().set_page(Page::Error);
            }
            CardEvent::Removed if step == Step::Card && card.get_state() == CardState::Reading => {
                card.set_state(CardState::Waiting);
            }
            _ => {}
        }
    }

    fn card_failed(&self, w: &AppWindow) {
        let n = {
            let mut st = self.state.borrow_mut();
            st.card_failures += 1;
            st.card_failures
        };
        let card = w.global::<ui::Card>();
        card.set_failures(n);
        card.set_state(CardState::Failed);
    }

    fn card_read(&self, w: &AppWindow, card: Box<IdCard>) {
        let today = chrono::Local::now().date_naive();
        if card.is_expired(today) || !card.id_number_valid() {
            tracing::info!(
                expired = card.is_expired(today),
                check_digit_ok = card.id_number_valid(),
                "card refused"
            );
            self.card_failed(w);
            return;
        }
        let holder = holder_of(&card);
        let masked_name = mask_name(&holder.name);
        let masked_id = mask_id_number(&holder.id_number);
        let photo = Zeroizing::new(card.photo.clone());
        drop(card);
        let now = self.now();
        let result = self.state.borrow_mut().session.card_read(holder, now);
        if let Err(e) = result {
            tracing::warn!(error = %e, "card not taken");
            return;
        }
        let c = w.global::<ui::Card>();
        c.set_state(CardState::Read);
        c.set_holder_name(masked_name.into());
        c.set_id_masked(masked_id.into());
        if self.step() == Step::Face {
            let face = w.global::<ui::Face>();
            face.set_hint(FaceHint::Starting);
            let max = self.state.borrow().session.timeouts().max_face_failures;
            face.set_max_attempts(max as i32);
            face.set_attempt(1);
            face.set_offer_alternative(false);
            self.state.borrow_mut().face_attempt = 1;
            match &self.services.face {
                Some(worker) => worker.send(FaceCmd::Begin {
                    visit: self.state.borrow().visit_no,
                    photo,
                }),
                None => {
                    w.global::<App>().set_error_kind(ErrorKind::FaceUnavailable);
                    w.global::<App>().set_page(Page::Error);
                    return;
                }
            }
        }
        self.show_step(w);
    }

    // ----- face -----

    pub(super) fn on_face(&self, update: FaceUpdate) {
        let Some(w) = self.window.upgrade() else {
            return;
        };
        if self.step() != Step::Face {
            return;
        }
        let face = w.global::<ui::Face>();
        match update {
            FaceUpdate::Prompt(p) => face.set_hint(hint_of(p)),
            FaceUpdate::Unavailable(why) => {
                tracing::warn!(why = %why, "face matching unavailable");
                w.global::<App>().set_error_kind(ErrorKind::FaceUnavailable);
                w.global::<App>().set_page(Page::Error);
            }
            FaceUpdate::Outcome(outcome) => {
                // The outcome's code only: never the score.
                tracing::info!(outcome = %outcome.counter_key(), "face attempt");
                let now = self.now();
                match outcome {
                    AttemptOutcome::Pass => {
                        face.set_hint(FaceHint::Matched);
                        let r = self
                            .state
                            .borrow_mut()
                            .session
                            .face_decided(FaceOutcome::Pass, now);
                        if r.is_ok() {
                            self.show_step(&w);
                        }
                    }
                    AttemptOutcome::Fail { .. } => {
                        face.set_hint(FaceHint::NotMatched);
                        let mut st = self.state.borrow_mut();
                        let _ = st.session.face_decided(FaceOutcome::Fail, now);
                        let locked = st.session.face_locked_out();
                        drop(st);
                        face.set_offer_alternative(locked);
                    }
                    AttemptOutcome::Retry { hint } => {
                        // Nothing usable was seen: show why and look again (costs nothing).
                        face.set_hint(hint_of(Prompt::Hint(hint)));
                        if let Some(worker) = &self.services.face {
                            worker.send(FaceCmd::Retry {
                                visit: self.state.borrow().visit_no,
                            });
                        }
                    }
                    AttemptOutcome::UseAlternative => face.set_offer_alternative(true),
                }
            }
        }
    }

    pub(super) fn face_retry(&self, w: &AppWindow) {
        if self.step() != Step::Face || self.state.borrow().session.face_locked_out() {
            return;
        }
        let attempt = {
            let mut st = self.state.borrow_mut();
            st.face_attempt += 1;
            st.face_attempt
        };
        let face = w.global::<ui::Face>();
        face.set_attempt(attempt);
        face.set_hint(FaceHint::LookAtCamera);
        if let Some(worker) = &self.services.face {
            worker.send(FaceCmd::Retry {
                visit: self.state.borrow().visit_no,
            });
        }
    }

    // ----- form -----

    /// Rebuilds the form rows from the visit (labels in `locale`, values as stored).
    pub(super) fn refill_form(&self, w: &AppWindow, locale: &str) {
        let rows = {
            let st = self.state.borrow();
            let Some(v) = st.session.visit() else {
                return;
            };
            let errors = st.session.form_errors();
            v.form
                .fields
                .iter()
                .map(|f| {
                    let value = v.values.get(&f.id).map(String::as_str).unwrap_or("");
                    let error = errors
                        .iter()
                        .find(|e| e.field == f.id && st.shown_errors.contains(&f.id))
                        .map(|e| models::field_message(locale, e.code))
                        .unwrap_or_default();
                    models::form_row(f, value, v.locked.contains(&f.id), &error, locale)
                })
                .collect::<Vec<_>>()
        };
        let existing = self.state.borrow().form.clone();
        match existing {
            Some(model) if model.row_count() == rows.len() => {
                for (i, row) in rows.into_iter().enumerate() {
                    model.set_row_data(i, row);
                }
            }
            _ => {
                let model = Rc::new(VecModel::from(rows));
                self.state.borrow_mut().form = Some(model.clone());
                w.global::<ui::Form>().set_fields(model.into());
            }
        }
        let summary = w.global::<ui::Form>().get_summary_error();
        if !summary.is_empty() {
            self.set_summary(w, locale);
        }
    }

    fn set_summary(&self, w: &AppWindow, locale: &str) {
        let n = {
            let st = self.state.borrow();
            st.session
                .form_errors()
                .iter()
                .filter(|e| st.shown_errors.contains(&e.field))
                .count()
        };
        let text = if n == 0 {
            String::new()
        } else {
            tr_args(locale, "form-summary-errors", &[("count", &n.to_string())])
        };
        w.global::<ui::Form>().set_summary_error(text.into());
    }

    /// One field's new value from the keyboard or a choice button. The session is the only
    /// writer: it refuses locked fields, and the row is rebuilt from what it stored.
    pub(super) fn field_edited(&self, w: &AppWindow, index: i32, id: &str, value: &str) {
        let locale = self.locale();
        let stored = {
            let st = self.state.borrow();
            let Some(field) = st.session.visit().and_then(|v| v.form.field(id)) else {
                return;
            };
            if field.kind == FieldKind::Choice {
                match value
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| field.choices.get(i))
                {
                    Some(c) => c.value.clone(),
                    None => return,
                }
            } else if field.kind == FieldKind::IdNumber {
                value.trim().to_ascii_uppercase()
            } else {
                value.trim().to_string()
            }
        };
        let now = self.now();
        let result = self.state.borrow_mut().session.edit(id, &stored, now);
        match result {
            Ok(()) => {}
            Err(FlowError::FieldLocked(_)) => return,
            Err(e) => {
                tracing::warn!(error = %e, "edit refused");
                return;
            }
        }
        {
            let mut st = self.state.borrow_mut();
            if stored.is_empty() {
                st.shown_errors.remove(id);
            } else {
                st.shown_errors.insert(id.to_string());
            }
        }
        let row = {
            let st = self.state.borrow();
            let Some(v) = st.session.visit() else {
                return;
            };
            let Some(field) = v.form.field(id) else {
                return;
            };
            let error = if stored.is_empty() {
                String::new()
            } else {
                field
                    .check(&stored)
                    .err()
                    .map(|e| models::field_message(&locale, e.code))
                    .unwrap_or_default()
            };
            models::form_row(field, &stored, v.locked.contains(id), &error, &locale)
        };
        let model = self.state.borrow().form.clone();
        if let (Some(model), Ok(i)) = (model, usize::try_from(index)) {
            if model.row_data(i).is_some_and(|r| r.id == id) {
                model.set_row_data(i, row);
            }
        }
        if !w.global::<ui::Form>().get_summary_error().is_empty() {
            self.set_summary(w, &locale);
        }
    }

    /// Form "Next": every problem shows beside its field, or on to the review.
    pub(super) fn submit_form(&self, w: &AppWindow) {
        let now = self.now();
        let locale = self.locale();
        let result = self.state.borrow_mut().session.review(now);
        match result {
            Ok(()) => {
                let form = w.global::<ui::Form>();
                form.set_summary_error(Default::default());
                form.set_focused(-1);
                self.show_step(w);
            }
            Err(FlowError::Invalid(errors)) => {
                {
                    let mut st = self.state.borrow_mut();
                    st.shown_errors
                        .extend(errors.iter().map(|e| e.field.clone()));
                }
                self.refill_form(w, &locale);
                self.set_summary(w, &locale);
            }
            Err(e) => tracing::warn!(error = %e, "cannot review"),
        }
    }

    pub(super) fn edit_again(&self, w: &AppWindow) {
        let now = self.now();
        if self.state.borrow_mut().session.back_to_form(now).is_ok() {
            self.show_step(w);
        }
    }
}

fn hint_of(p: Prompt) -> FaceHint {
    match p {
        Prompt::LookAtCamera => FaceHint::LookAtCamera,
        Prompt::Turn(Challenge::TurnLeft) => FaceHint::TurnLeft,
        Prompt::Turn(Challenge::TurnRight) => FaceHint::TurnRight,
        Prompt::Hint(Hint::NoFace) => FaceHint::NoFace,
        Prompt::Hint(Hint::SeveralFaces) => FaceHint::SeveralFaces,
        Prompt::Hint(Hint::LookAtCamera) => FaceHint::LookAtCamera,
        Prompt::Hint(Hint::MoveCloser) => FaceHint::MoveCloser,
        Prompt::Hint(Hint::HoldStill) => FaceHint::HoldStill,
    }
}

/// What the flow keeps of a card: the fields forms prefill from (wiped with the visit).
fn holder_of(card: &IdCard) -> CardHolder {
    let name = if card.name.is_empty() {
        card.name_en.clone()
    } else {
        card.name.clone()
    };
    CardHolder {
        id_type: card.card_type.key().to_string(),
        name,
        id_number: card.id_number.clone(),
        gender: card.gender.label_zh().to_string(),
        nation: card
            .nation
            .as_ref()
            .and_then(|n| n.name)
            .unwrap_or_default()
            .to_string(),
        birth_date: card.birth_date.format("%Y-%m-%d").to_string(),
        address: card.full_address(),
    }
}
