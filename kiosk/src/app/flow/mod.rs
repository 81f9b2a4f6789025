//! The session binding: the one place where the touch UI, the session state machine
//! ([`crate::session`]) and the devices meet. It runs on the UI thread and never blocks:
//! UI callbacks move the session and send commands to the workers ([`super::workers`]);
//! the workers' answers come back as [`FlowEvent`]s that [`Flow::pump`] applies. Returning
//! Home wipes every adapter that showed personal data ([`super::wipe::wipe`]) and the visit
//! in the session.
//!
//! The clock is injected ([`Clock`]) so the idle timeout is tested without sleeping.

mod connect;
pub mod models;
mod outcome;
mod preview;
mod staff;
mod steps;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::{ComponentHandle, Model, VecModel};
use ui::{App, AppWindow, FormField, Page};

use super::workers::face::{FaceCmd, FaceWorker};
use super::workers::{FlowEvent, StorageCmd, StorageWorker};
use super::{i18n, wipe};
use crate::catalog::{Catalog, SearchIndex};
use crate::session::{Session, Tick, Timeouts};

/// The time as the flow sees it.
pub type Clock = Rc<dyn Fn() -> Instant>;

/// The workers the flow talks to. `face` is absent when face matching is not configured
/// (matters that need it then show the "face check unavailable" page).
pub struct Services {
    pub storage: StorageWorker,
    pub face: Option<FaceWorker>,
    /// Kept alive for as long as the flow runs.
    pub card: Option<super::workers::card::CardWorker>,
    pub sync: Option<crate::sync::SyncHandle>,
    /// Maintenance mode as stored when the app started (citizens see "under maintenance").
    pub maintenance_at_start: bool,
}

/// How long the rating's "thank you" stays before Home.
const THANKS_FOR: Duration = Duration::from_secs(4);

pub(crate) struct State {
    session: Session,
    catalog: Arc<Catalog>,
    search: SearchIndex,
    locale: String,
    /// Number of the current visit; answers for an older one are dropped.
    visit_no: u64,
    /// Number of the last status query.
    query_no: u64,
    /// Number of the last camera preview asked for on the diagnostics screen.
    preview_no: u64,
    form: Option<Rc<VecModel<FormField>>>,
    /// Fields whose problem the citizen should see now (after an edit or a "Next").
    shown_errors: std::collections::BTreeSet<String>,
    card_failures: i32,
    face_attempt: i32,
    /// Last touch on pages that are not session steps (search, status query).
    last_touch: Instant,
    /// After the rating: go Home at this time.
    home_at: Option<Instant>,
    /// A card laid on the reader during the guide, before the card page: used as soon as
    /// the page opens. Dropped (zeroized) when it is taken off or the visit ends.
    early_card: Option<Box<drivers::idcard::IdCard>>,
    staff: staff::StaffState,
    /// Whether the pinyin index build was started (see `touched`).
    ime_started: bool,
}

/// The binding. Create it with [`Flow::install`], keep the `Rc`.
pub struct Flow {
    window: slint::Weak<AppWindow>,
    state: RefCell<State>,
    events: Receiver<FlowEvent>,
    services: Services,
    clock: Clock,
}

impl Flow {
    /// Connects every adapter callback and shows Home.
    pub fn install(
        window: &AppWindow,
        catalog: Arc<Catalog>,
        timeouts: Timeouts,
        services: Services,
        events: Receiver<FlowEvent>,
        clock: Clock,
    ) -> Rc<Flow> {
        i18n::install(window);
        super::keyboard::install(window);
        let now = clock();
        let search = SearchIndex::new(&catalog);
        let flow = Rc::new(Flow {
            window: window.as_weak(),
            state: RefCell::new(State {
                session: Session::new(timeouts, now),
                catalog,
                search,
                locale: i18n::DEFAULT_LOCALE.to_string(),
                visit_no: 0,
                query_no: 0,
                preview_no: 0,
                form: None,
                shown_errors: Default::default(),
                card_failures: 0,
                face_attempt: 0,
                last_touch: now,
                home_at: None,
                early_card: None,
                staff: staff::StaffState {
                    maintenance: services.maintenance_at_start,
                    ..Default::default()
                },
                ime_started: false,
            }),
            events,
            services,
            clock,
        });
        connect::connect(&flow, window);
        flow.go_home();
        flow
    }

    fn now(&self) -> Instant {
        (self.clock)()
    }

    fn with_window(&self, f: impl FnOnce(&AppWindow)) {
        if let Some(w) = self.window.upgrade() {
            f(&w);
        }
    }

    fn locale(&self) -> String {
        self.state.borrow().locale.clone()
    }

    /// The session's step (for tests and the diagnostics).
    pub fn step(&self) -> crate::session::Step {
        self.state.borrow().session.step()
    }

    /// The catalog citizens see now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.state.borrow().catalog.clone()
    }

    /// Applies every answer the workers have sent. Returns how many there were.
    pub fn pump(&self) -> usize {
        let mut n = 0;
        while let Ok(event) = self.events.try_recv() {
            n += 1;
            self.apply(event);
        }
        n
    }

    fn apply(&self, event: FlowEvent) {
        match event {
            FlowEvent::Card(drivers::idcard::CardEvent::Inserted(c)) if self.on_diagnostics() => {
                self.staff_card(c)
            }
            FlowEvent::Card(e) => self.on_card(e),
            FlowEvent::Staff(answer) => self.on_staff(answer),
            FlowEvent::Face { visit, update } => {
                if visit == self.state.borrow().visit_no {
                    self.on_face(update);
                }
            }
            FlowEvent::Submitted { visit, result } => {
                if visit == self.state.borrow().visit_no {
                    self.on_submitted(result);
                }
            }
            FlowEvent::Printed { visit, printed } => {
                if visit == self.state.borrow().visit_no {
                    self.on_printed(printed);
                }
            }
            FlowEvent::Status { query, answer } => {
                if query == self.state.borrow().query_no {
                    self.on_status(answer);
                }
            }
            FlowEvent::Scanned { query, result } => {
                if query == self.state.borrow().query_no {
                    self.on_scanned(result);
                }
            }
            FlowEvent::Preview { tag, update } => self.on_preview(tag, update),
            FlowEvent::CatalogSwitched(catalog) => {
                {
                    let mut st = self.state.borrow_mut();
                    st.search = SearchIndex::new(&catalog);
                    st.catalog = catalog;
                }
                if self.step() == crate::session::Step::Home {
                    let locale = self.locale();
                    self.with_window(|w| self.fill_home(w, &locale));
                }
            }
        }
    }

    /// The clock ticked (every second in the app): the idle warning, the timeout, and the
    /// return Home after the rating.
    pub fn tick(&self) {
        let now = self.now();
        let home_due = self.state.borrow().home_at.is_some_and(|at| now >= at);
        if home_due {
            self.go_home();
            return;
        }
        self.staff_tick(now);
        let Some(w) = self.window.upgrade() else {
            return;
        };
        let app = w.global::<App>();
        let page = app.get_page();
        let tick = {
            let mut st = self.state.borrow_mut();
            if st.session.step() != crate::session::Step::Home {
                st.session.tick(now)
            } else if matches!(
                page,
                Page::Search | Page::StatusQuery | Page::Error | Page::Diagnostics
            ) {
                // Pages outside a visit time out the same way.
                let idle = now.saturating_duration_since(st.last_touch);
                let t = st.session.timeouts();
                let (limit, warn) = (t.step.max(Duration::from_secs(1)), t.warning);
                if idle >= limit {
                    Tick::TimedOut
                } else if limit - idle <= warn {
                    let left = limit - idle;
                    Tick::Warning {
                        seconds_left: left.as_secs() + u64::from(left.subsec_nanos() > 0),
                    }
                } else {
                    Tick::Quiet
                }
            } else {
                Tick::Quiet
            }
        };
        match tick {
            Tick::Quiet => app.set_idle_warning(false),
            Tick::Warning { seconds_left } => {
                app.set_idle_warning(true);
                app.set_idle_seconds_left(seconds_left.min(i32::MAX as u64) as i32);
            }
            Tick::TimedOut => {
                tracing::info!("visit timed out; wiping");
                self.go_home();
            }
        }
    }

    /// A touch anywhere: the idle time starts again. The first touch also starts building
    /// the pinyin keyboard's index (about a second and 30 MiB, on a thread): not at start-up,
    /// so the app comes up fast and idles small, but before the citizen can reach a keyboard.
    fn touched(&self) {
        if !self.state.borrow().ime_started {
            self.state.borrow_mut().ime_started = true;
            super::ime::warm_up();
        }
        let now = self.now();
        let mut st = self.state.borrow_mut();
        st.session.touch(now);
        st.last_touch = now;
        drop(st);
        self.with_window(|w| w.global::<App>().set_idle_warning(false));
    }

    /// Ends the visit (if any), wipes every adapter and the visit, shows a fresh Home in
    /// the default language, and lets a staged catalog switch in.
    pub fn go_home(&self) {
        let now = self.now();
        {
            let mut st = self.state.borrow_mut();
            st.session.cancel(now);
            st.visit_no += 1;
            st.query_no += 1;
            st.form = None;
            st.shown_errors.clear();
            st.card_failures = 0;
            st.face_attempt = 0;
            st.home_at = None;
            st.early_card = None;
            st.last_touch = now;
            st.locale = i18n::DEFAULT_LOCALE.to_string();
        }
        if let Some(face) = &self.services.face {
            face.send(FaceCmd::End);
        }
        let maintenance = self.state.borrow().staff.maintenance;
        self.state.borrow_mut().staff.unlocked = false;
        self.with_window(|w| {
            wipe::wipe(w);
            self.fill_home(w, i18n::DEFAULT_LOCALE);
            if maintenance {
                w.global::<App>().set_page(Page::Maintenance);
            }
        });
        self.services.storage.send(StorageCmd::AtHome);
    }

    fn fill_home(&self, w: &AppWindow, locale: &str) {
        let home = models::home(&self.state.borrow().catalog, locale);
        let c = w.global::<ui::Catalog>();
        c.set_person_themes(models::model(home.person_themes));
        c.set_business_themes(models::model(home.business_themes));
        c.set_popular(models::model(home.popular));
        c.set_bundles(models::model(home.bundles));
    }

    /// Switches the language and rebuilds every display-ready text; the visit and what the
    /// citizen typed stay.
    fn set_language(&self, locale: &str) {
        let locale = i18n::offered(locale).to_string();
        self.state.borrow_mut().locale = locale.clone();
        self.with_window(|w| {
            i18n::set_locale(w, &locale);
            self.fill_home(w, &locale);
            self.refresh_visit_texts(w, &locale);
        });
    }

    /// The next language after the current one (the header's language button).
    fn next_language(&self) {
        let current = self.locale();
        let offered = i18n::LOCALES_OFFERED;
        let at = offered.iter().position(|l| *l == current).unwrap_or(0);
        self.set_language(offered[(at + 1) % offered.len()]);
    }

    /// Every text of the current page that depends on the language.
    fn refresh_visit_texts(&self, w: &AppWindow, locale: &str) {
        let code = {
            let st = self.state.borrow();
            st.session.visit().map(|v| v.target.code().to_string())
        };
        let Some(code) = code else {
            // Search results, if any, follow the language too.
            let q = w.global::<ui::Catalog>().get_query();
            if w.global::<App>().get_page() == Page::Search && !q.is_empty() {
                self.search(&q);
            }
            return;
        };
        self.show_guide_models(w, &code, locale);
        if let Some(item) = models::item(&self.state.borrow().catalog, &code, locale) {
            w.global::<App>().set_matter_name(item.name);
        }
        self.refill_form(w, locale);
        let r = w.global::<ui::Receipt>();
        if !r.get_number().is_empty() {
            r.set_promised_limit(models::promised_limit(
                &self.state.borrow().catalog,
                &code,
                locale,
            ));
        }
    }
}

/// The model rows as the UI holds them now (for tests).
pub fn rows(model: &VecModel<FormField>) -> Vec<FormField> {
    (0..model.row_count())
        .filter_map(|i| model.row_data(i))
        .collect()
}
