//! A stand-in for the session flow, for UI tests: it answers the adapters' callbacks the way
//! `kiosk::session` will (move pages, fill models, validate fields, wipe on Home), so a test
//! can drive the real Slint app by accessible labels and check the UI's side of the contract.
//! It is deliberately simple; the real flow's rules are tested in `kiosk::session`.
#![allow(dead_code)]

pub mod dump;
pub mod matters;

use std::cell::RefCell;
use std::rc::Rc;

use i_slint_backend_testing::ElementHandle;
use kiosk::app::{i18n, keyboard, sample, wipe};
use slint::{ComponentHandle, Model, ModelRc, VecModel};
use ui::*;

use matters::{fields_for, validate, TestMatter, MATTERS};

/// Seconds without a touch before the idle warning, and before the wipe (the flow's 70 s).
pub const IDLE_WARN_AT: u32 = 55;
pub const IDLE_WIPE_AT: u32 = 70;

#[derive(Default)]
pub struct FlowState {
    pub locale: String,
    pub matter: Option<&'static TestMatter>,
    pub situation: Option<String>,
    pub idle: u32,
    /// Every callback the UI fired, with its arguments, in order.
    pub log: Vec<String>,
    pub fields: Option<Rc<VecModel<FormField>>>,
}

pub struct Harness {
    pub window: AppWindow,
    pub state: Rc<RefCell<FlowState>>,
}

impl Harness {
    /// Creates the window on the testing backend and connects the stand-in flow.
    pub fn new() -> Harness {
        i_slint_backend_testing::init_no_event_loop();
        let window = AppWindow::new().unwrap();
        window
            .window()
            .set_size(slint::LogicalSize::new(1080.0, 1920.0));
        i18n::install(&window);
        keyboard::install(&window);
        let state = Rc::new(RefCell::new(FlowState {
            locale: "zh-CN".into(),
            ..Default::default()
        }));
        let h = Harness { window, state };
        h.connect();
        go_home(&h.window, &h.state);
        h
    }

    fn connect(&self) {
        let w = &self.window;
        // Connects one callback: logs it with its arguments, then runs the flow's answer.
        macro_rules! on {
            ($global:ident . $cb:ident ( $($arg:ident),* ) => $body:expr) => {{
                let weak = w.as_weak();
                let st = self.state.clone();
                w.global::<$global>().$cb(move |$($arg),*| {
                    let w = weak.upgrade().unwrap();
                    let entry = format!(
                        concat!(stringify!($global), ".", stringify!($cb) $(, " ", stringify!($arg), "={:?}")*)
                        $(, $arg.clone())*
                    );
                    st.borrow_mut().log.push(entry);
                    let body = $body;
                    body(&w, &st);
                });
            }};
        }
        on!(App.on_touched() => |w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            st.borrow_mut().idle = 0;
            w.global::<App>().set_idle_warning(false);
        });
        on!(App.on_idle_continue() => |w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            st.borrow_mut().idle = 0;
            w.global::<App>().set_idle_warning(false);
        });
        on!(App.on_cancel() => |w: &AppWindow, st: &Rc<RefCell<FlowState>>| go_home(w, st));
        on!(App.on_back() => |w: &AppWindow, _st: &Rc<RefCell<FlowState>>| {
            let app = w.global::<App>();
            let back = match app.get_page() {
                Page::Guide | Page::Search | Page::StatusQuery => Page::Home,
                Page::Card | Page::Face => Page::Guide,
                Page::Form => Page::Guide,
                Page::Review => Page::Form,
                p => p,
            };
            app.set_page(back);
        });
        on!(App.on_language_requested(locale) => move |w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            set_language(w, st, i18n::offered(&locale))
        });
        on!(App.on_next_language_requested() => |w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            let current = st.borrow().locale.clone();
            let at = i18n::LOCALES_OFFERED.iter().position(|l| *l == current).unwrap_or(0);
            let next = i18n::LOCALES_OFFERED[(at + 1) % i18n::LOCALES_OFFERED.len()];
            set_language(w, st, next);
        });
        on!(App.on_elder_requested(on) => move |w: &AppWindow, _st: &Rc<RefCell<FlowState>>| {
            w.global::<Theme>().set_elder(on)
        });
        on!(Catalog.on_matter_selected(code) => move |w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            if let Some(m) = MATTERS.iter().find(|m| m.code == code.as_str()) {
                st.borrow_mut().matter = Some(m);
                show_guide(w, st);
            }
        });
        on!(Catalog.on_theme_selected(id) => move |w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            let locale = st.borrow().locale.clone();
            let c = w.global::<Catalog>();
            let items: Vec<MatterItem> =
                MATTERS.iter().filter(|m| m.theme == id.as_str()).map(|m| m.item(&locale)).collect();
            c.set_results_title(id.clone());
            c.set_results(ModelRc::new(VecModel::from(items)));
            w.global::<App>().set_page(Page::Search);
        });
        on!(Catalog.on_search(query) => move |w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            let locale = st.borrow().locale.clone();
            let c = w.global::<Catalog>();
            let items: Vec<MatterItem> = MATTERS
                .iter()
                .map(|m| m.item(&locale))
                .filter(|m| !query.is_empty() && m.name.contains(query.as_str()))
                .collect();
            c.set_results_title(Default::default());
            c.set_results(ModelRc::new(VecModel::from(items)));
            w.global::<App>().set_page(Page::Search);
        });
        on!(Catalog.on_status_requested() => |w: &AppWindow, _st: &Rc<RefCell<FlowState>>| {
            w.global::<App>().set_page(Page::StatusQuery)
        });
        on!(Guide.on_situation_selected(id) => move |_w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            st.borrow_mut().situation = Some(id.to_string())
        });
        on!(Guide.on_start() => |w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            let m = st.borrow().matter.unwrap();
            let app = w.global::<App>();
            app.set_step(2);
            app.set_page(if m.card { Page::Card } else { Page::Form });
            if !m.card {
                show_form(w, st, false);
            }
        });
        on!(Face.on_retry() => |w: &AppWindow, _st: &Rc<RefCell<FlowState>>| {
            w.global::<Face>().set_hint(FaceHint::LookAtCamera)
        });
        on!(Form.on_field_edited(index, id, value) => move |w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            let locale = st.borrow().locale.clone();
            let model = st.borrow().fields.clone().unwrap();
            let i = index as usize;
            if let Some(mut row) = model.row_data(i) {
                if row.id != id || row.locked {
                    st.borrow_mut().log.push(format!("VIOLATION: edit of {id} at {i} (locked: {})", row.locked));
                    return;
                }
                row.value = value.clone();
                row.error = validate(&locale, &row).into();
                model.set_row_data(i, row);
            }
            let _ = w;
        });
        on!(Form.on_submit() => |w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            let locale = st.borrow().locale.clone();
            let model = st.borrow().fields.clone().unwrap();
            let mut bad = 0;
            for i in 0..model.row_count() {
                let mut row = model.row_data(i).unwrap();
                row.error = validate(&locale, &row).into();
                bad += usize::from(!row.error.is_empty());
                model.set_row_data(i, row);
            }
            let form = w.global::<Form>();
            if bad == 0 {
                form.set_summary_error(Default::default());
                form.set_focused(-1);
                w.global::<App>().set_page(Page::Review);
            } else {
                let n = bad.to_string();
                form.set_summary_error(i18n::tr_args(&locale, "form-summary-errors", &[("count", &n)]).into());
            }
        });
        on!(Form.on_edit() => |w: &AppWindow, _st: &Rc<RefCell<FlowState>>| w.global::<App>().set_page(Page::Form));
        on!(Form.on_confirm() => |w: &AppWindow, _st: &Rc<RefCell<FlowState>>| {
            w.global::<Receipt>().set_stage(SubmitStage::Saving);
            w.global::<App>().set_page(Page::Submitting);
        });
        on!(Receipt.on_done() => |w: &AppWindow, _st: &Rc<RefCell<FlowState>>| w.global::<App>().set_page(Page::Rating));
        on!(Rating.on_rate(level) => move |w: &AppWindow, _st: &Rc<RefCell<FlowState>>| {
            let r = w.global::<Rating>();
            if r.get_level() == 0 {
                r.set_level(level);
            }
        });
        on!(Rating.on_finish() => |w: &AppWindow, st: &Rc<RefCell<FlowState>>| go_home(w, st));
        on!(StatusQuery.on_query(number) => move |w: &AppWindow, st: &Rc<RefCell<FlowState>>| {
            let locale = st.borrow().locale.clone();
            let q = w.global::<StatusQuery>();
            if number.as_str() == sample::SAMPLE_RECEIPT {
                q.set_state(StatusState::Found);
                q.set_result(StatusResult {
                    receipt_number: number.clone(),
                    matter_name: MATTERS[1].item(&locale).name,
                    status_label: i18n::tr(&locale, "status-in-review").into(),
                    severity: 0,
                    submitted_at: "2024-05-01 23:05".into(),
                    updated_at: "2024-05-02 09:30".into(),
                });
            } else {
                q.set_state(StatusState::NotFound);
            }
        });
    }

    // ----- what devices and timers would do (the test plays them) -----

    /// The card reader read the synthetic card.
    pub fn card_read(&self) {
        let card = self.window.global::<Card>();
        card.set_state(CardState::Read);
        card.set_holder_name("张*丰".into());
        card.set_id_masked("110105********002X".into());
        let m = self.state.borrow().matter.unwrap();
        let app = self.window.global::<App>();
        app.set_step(3);
        if m.face {
            app.set_page(Page::Face);
        } else {
            show_form(&self.window, &self.state, true);
        }
    }

    pub fn face_hint(&self, hint: FaceHint, attempt: i32) {
        let face = self.window.global::<Face>();
        face.set_hint(hint);
        face.set_attempt(attempt);
    }

    pub fn face_matched(&self) {
        self.window.global::<Face>().set_hint(FaceHint::Matched);
        show_form(&self.window, &self.state, true);
    }

    /// The submission was stored; the printer printed (or could not).
    pub fn submitted(&self, printed: bool) {
        let locale = self.state.borrow().locale.clone();
        let r = self.window.global::<Receipt>();
        r.set_number(sample::SAMPLE_RECEIPT.into());
        r.set_submitted_at("2024-05-01 23:05".into());
        r.set_promised_limit(i18n::tr_args(&locale, "limit-working-days", &[("days", "5")]).into());
        if printed {
            r.set_state(ReceiptState::Printed);
        } else {
            r.set_state(ReceiptState::ShownOnScreen);
            r.set_qr(kiosk::app::qr::image(sample::SAMPLE_RECEIPT).unwrap());
        }
        self.window.global::<App>().set_page(Page::Receipt);
    }

    /// `seconds` pass without a touch: warning at 55 s, wipe at 70 s.
    pub fn idle_for(&self, seconds: u32) {
        for _ in 0..seconds {
            let idle = {
                let mut st = self.state.borrow_mut();
                st.idle += 1;
                st.idle
            };
            let app = self.window.global::<App>();
            if app.get_page() == Page::Home {
                continue;
            }
            if idle >= IDLE_WIPE_AT {
                go_home(&self.window, &self.state);
            } else if idle >= IDLE_WARN_AT {
                app.set_idle_warning(true);
                app.set_idle_seconds_left((IDLE_WIPE_AT - idle) as i32);
            }
        }
    }

    // ----- driving the UI by accessible labels -----

    pub fn locale(&self) -> String {
        self.state.borrow().locale.clone()
    }

    /// The message `key` in the UI's current language.
    pub fn tr(&self, key: &str) -> String {
        i18n::tr(&self.locale(), key)
    }

    pub fn find_all(&self, label: &str) -> Vec<ElementHandle> {
        ElementHandle::find_by_accessible_label(&self.window, label).collect()
    }

    /// The element labelled `label` that a citizen would act on: a button or field rather
    /// than the text inside it (a Text's accessible label is its text, too).
    pub fn find(&self, label: &str) -> ElementHandle {
        let found = self.find_all(label);
        assert!(
            !found.is_empty(),
            "no element labelled {label:?} on page {:?}",
            self.page()
        );
        let actionable = found.iter().position(|e| {
            !matches!(
                e.accessible_role(),
                Some(i_slint_backend_testing::AccessibleRole::Text) | None
            )
        });
        found.into_iter().nth(actionable.unwrap_or(0)).unwrap()
    }

    pub fn exists(&self, label: &str) -> bool {
        !self.find_all(label).is_empty()
    }

    /// Presses the element labelled `label` (its accessible default action).
    pub fn click(&self, label: &str) {
        self.find(label).invoke_accessible_default_action();
    }

    /// Presses on-screen keyboard keys by their labels, one after the other.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.click(k);
        }
    }

    pub fn page(&self) -> Page {
        self.window.global::<App>().get_page()
    }

    pub fn field(&self, id: &str) -> FormField {
        let fields = self.window.global::<Form>().get_fields();
        fields
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("no field {id}"))
    }

    pub fn log_contains(&self, entry: &str) -> bool {
        self.state.borrow().log.iter().any(|l| l == entry)
    }

    /// Fails the test if the UI ever broke the contract (e.g. edited a locked field).
    pub fn assert_no_violations(&self) {
        let log = &self.state.borrow().log;
        let bad: Vec<&String> = log.iter().filter(|l| l.starts_with("VIOLATION")).collect();
        assert!(bad.is_empty(), "{bad:?}");
    }
}

fn set_language(w: &AppWindow, st: &Rc<RefCell<FlowState>>, locale: &str) {
    st.borrow_mut().locale = locale.to_string();
    i18n::set_locale(w, locale);
    sample::fill_home(w, locale);
    // Refill the display-ready models in the new language; typed values stay.
    if st.borrow().matter.is_some() {
        show_guide_models(w, st);
        w.global::<App>()
            .set_matter_name(st.borrow().matter.unwrap().name(locale));
        if let Some(model) = st.borrow().fields.clone() {
            for i in 0..model.row_count() {
                let mut row = model.row_data(i).unwrap();
                if let Some(fresh) = fields_for(locale).into_iter().find(|f| f.id == row.id) {
                    row.label = fresh.label;
                    row.choices = fresh.choices;
                    row.error = if row.error.is_empty() {
                        row.error
                    } else {
                        validate(locale, &row).into()
                    };
                }
                model.set_row_data(i, row);
            }
        }
    }
}

fn go_home(w: &AppWindow, st: &Rc<RefCell<FlowState>>) {
    wipe::wipe(w);
    {
        let mut s = st.borrow_mut();
        s.locale = i18n::DEFAULT_LOCALE.into();
        s.matter = None;
        s.situation = None;
        s.idle = 0;
        s.fields = None;
    }
    sample::fill_home(w, i18n::DEFAULT_LOCALE);
}

fn show_guide_models(w: &AppWindow, st: &Rc<RefCell<FlowState>>) {
    let locale = st.borrow().locale.clone();
    let m = st.borrow().matter.unwrap();
    let g = w.global::<Guide>();
    g.set_matter(m.guide(&locale));
    g.set_materials(ModelRc::new(VecModel::from(m.materials(&locale))));
    g.set_situations(ModelRc::new(VecModel::from(m.situations(&locale))));
}

fn show_guide(w: &AppWindow, st: &Rc<RefCell<FlowState>>) {
    show_guide_models(w, st);
    let locale = st.borrow().locale.clone();
    let m = st.borrow().matter.unwrap();
    let app = w.global::<App>();
    app.set_matter_name(m.name(&locale));
    app.set_step(1);
    app.set_step_count(if m.face { 6 } else { 5 });
    w.global::<Guide>().set_selected_situation(-1);
    app.set_page(Page::Guide);
}

/// The form, prefilled from the synthetic card when `from_card` (those fields locked).
fn show_form(w: &AppWindow, st: &Rc<RefCell<FlowState>>, from_card: bool) {
    let locale = st.borrow().locale.clone();
    let m = st.borrow().matter.unwrap();
    let rows: Vec<FormField> = fields_for(&locale)
        .into_iter()
        .filter(|f| m.fields.contains(&f.id.as_str()))
        .map(|mut f| {
            if from_card {
                match f.id.as_str() {
                    "name" => f.value = sample::SAMPLE_NAME.into(),
                    "id_number" => f.value = sample::SAMPLE_ID.into(),
                    _ => {}
                }
                f.locked = matches!(f.id.as_str(), "name" | "id_number");
            }
            f
        })
        .collect();
    let model = Rc::new(VecModel::from(rows));
    st.borrow_mut().fields = Some(model.clone());
    let form = w.global::<Form>();
    form.set_fields(ModelRc::from(model));
    form.set_focused(-1);
    let app = w.global::<App>();
    app.set_step(if m.face { 4 } else { 3 });
    app.set_page(Page::Form);
}
