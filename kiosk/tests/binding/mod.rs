//! A whole kiosk for UI tests through the real binding: `kiosk demo`'s simulators (reader on
//! a PTY, printer on a PTY rendering PNGs, the camera scene from the fetched test photos, the
//! central simulator over mutual TLS), the real store, workers, sync engine and flow, and
//! the real Slint app on the testing backend. The test drives it by accessible labels and
//! plays the world (a card on the reader, who the camera sees); time is a settable clock.
//! Needs `scripts/setup.sh` (face models and test photos).
#![allow(dead_code)]

#[path = "../common/dump.rs"]
pub mod dump;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use i_slint_backend_testing::ElementHandle;
use kiosk::app::demo::{faces_dir, Demo};
use kiosk::app::i18n;
use kiosk::app::runner::Kiosk;
use kiosk::config::Config;
use slint::{ComponentHandle, Model};
use ui::*;

/// The holder's card in the demo deck (synthetic identity; the photo is the test photo).
pub const HOLDER_NAME: &str = "张伟";
pub const HOLDER_ID: &str = "320124198808240056";

pub struct Rig {
    pub demo: Rc<Demo>,
    pub kiosk: Kiosk,
    pub clock: Rc<Cell<Instant>>,
    pub dir: tempfile::TempDir,
}

impl Rig {
    pub fn new() -> Rig {
        Rig::with(|_| {})
    }

    /// A rig whose kiosk configuration `tune` adjusts first (e.g. a staff PIN).
    pub fn with(tune: impl FnOnce(&mut Config)) -> Rig {
        i_slint_backend_testing::init_no_event_loop();
        kiosk::logging::init();
        let faces = faces_dir();
        assert!(
            faces.join("obama.jpg").is_file(),
            "test photos missing in {}: run scripts/setup.sh",
            faces.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let mut base = Config::default();
        // Tests run side by side: no fixed port.
        base.maintenance.metrics_port = 0;
        tune(&mut base);
        let demo = Rc::new(Demo::start(&base, dir.path(), &faces).unwrap());
        assert!(
            demo.scene.has_people(),
            "face models or photos missing: run scripts/setup.sh"
        );
        let clock = Rc::new(Cell::new(Instant::now()));
        let c = clock.clone();
        let mut extras = demo.extras();
        extras.clock = Some(Rc::new(move || c.get()));
        let kiosk = Kiosk::assemble(&demo.config, extras, false).unwrap();
        kiosk
            .window
            .window()
            .set_size(slint::LogicalSize::new(1080.0, 1920.0));
        Rig {
            demo,
            kiosk,
            clock,
            dir,
        }
    }

    pub fn w(&self) -> &AppWindow {
        &self.kiosk.window
    }

    /// Lets `d` pass on the flow's clock and ticks.
    pub fn advance(&self, d: Duration) {
        self.clock.set(self.clock.get() + d);
        self.kiosk.flow.pump();
        self.kiosk.flow.tick();
    }

    /// Pumps the workers' answers until `cond` holds (real time; fails after `secs`).
    pub fn wait_until(&self, what: &str, secs: u64, cond: impl Fn(&Rig) -> bool) {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            self.kiosk.flow.pump();
            if cond(self) {
                return;
            }
            assert!(
                Instant::now() < end,
                "timed out waiting for {what}; page {:?}",
                self.page()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Lets real time pass (workers keep running) while pumping their answers.
    pub fn pause_real(&self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.kiosk.flow.pump();
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_page(&self, page: Page, secs: u64) {
        self.wait_until(&format!("page {page:?}"), secs, |r| {
            let now = r.page();
            assert!(
                now != Page::Error || page == Page::Error,
                "error page ({:?}) while waiting for {page:?}",
                r.w().global::<App>().get_error_kind()
            );
            now == page
        });
    }

    pub fn page(&self) -> Page {
        self.w().global::<App>().get_page()
    }

    pub fn tr(&self, key: &str) -> String {
        i18n::tr(&self.w().global::<Fl>().get_lang(), key)
    }

    pub fn find_all(&self, label: &str) -> Vec<ElementHandle> {
        ElementHandle::find_by_accessible_label(self.w(), label).collect()
    }

    /// The element labelled `label` a citizen would act on (a button or field rather than
    /// the text inside it).
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

    pub fn click(&self, label: &str) {
        self.find(label).invoke_accessible_default_action();
        self.kiosk.flow.pump();
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.click(k);
        }
    }

    /// Types digits on the keypad of the field labelled `label`.
    pub fn type_digits(&self, label: &str, digits: &str) {
        self.find(label).invoke_accessible_default_action();
        for d in digits.chars() {
            self.click(&d.to_string());
        }
        self.click(&self.tr("kb-done"));
    }

    pub fn field(&self, id: &str) -> FormField {
        self.w()
            .global::<Form>()
            .get_fields()
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("no field {id}"))
    }

    /// Puts the holder's card on the reader and waits for the flow to take it.
    pub fn put_holder_card(&self) {
        // A new card for the reader: off long enough for its poll (300 ms) to notice, then on.
        self.lift_card();
        self.demo.reader.put(kiosk::app::demo::HOLDER_CARD).unwrap();
        self.wait_until("the card read", 30, |r| {
            r.w().global::<Card>().get_state() == CardState::Read
        });
    }

    /// Takes any card off the reader and waits until the reader's poll has seen it go.
    pub fn lift_card(&self) {
        self.demo.reader.remove();
        std::thread::sleep(Duration::from_millis(700));
        self.kiosk.flow.pump();
    }

    /// Asserts nothing of the citizen is left in any adapter.
    pub fn assert_nothing_personal_left(&self, extra: &[&str]) {
        let text = dump::all_text(self.w());
        let masked = [
            drivers::printer::mask_name(HOLDER_NAME),
            drivers::printer::mask_id_number(HOLDER_ID),
        ];
        for personal in [
            HOLDER_NAME,
            HOLDER_ID,
            masked[0].as_str(),
            masked[1].as_str(),
        ]
        .iter()
        .chain(extra.iter())
        {
            assert!(
                !text.contains(personal),
                "{personal:?} left on screen after the visit"
            );
        }
    }
}

/// The staff PIN the diagnostics tests configure (`Rig::with_staff_pin`).
pub const STAFF_PIN: &str = "482916";

impl Rig {
    /// A rig whose config holds the hash of [`STAFF_PIN`], `tune` applied after.
    pub fn with_staff_pin(tune: impl FnOnce(&mut Config)) -> Rig {
        let hash = kiosk::maintenance::hash_pin(STAFF_PIN).unwrap();
        Rig::with(|c| {
            c.maintenance.staff_pin_hash = hash.as_str().to_string();
            tune(c);
        })
    }

    /// Five taps on the corner, the PIN, and wait for the diagnostics. The window is made
    /// tall enough to show the whole page (staff scroll it; the test finds only what is in
    /// view).
    pub fn unlock_diagnostics(&self) {
        self.w()
            .window()
            .set_size(slint::LogicalSize::new(1080.0, 3600.0));
        let corner = self.tr("staff-corner");
        for _ in 0..5 {
            self.click(&corner);
        }
        assert_eq!(self.page(), Page::Diagnostics);
        for d in STAFF_PIN.chars() {
            self.click(&d.to_string());
        }
        self.click(&self.tr("staff-enter"));
        self.wait_until("the diagnostics", 60, |r| {
            r.w().global::<Staff>().get_unlocked()
        });
    }

    /// Cuts the network and queues `n` anonymous submissions straight into the store (as
    /// earlier visits would have); returns their ids. The sync engine leaves them alone
    /// until the cable is plugged back in.
    pub fn queue_offline(&self, n: usize) -> Vec<String> {
        self.demo.cable.set_up(false);
        let config = &self.demo.config;
        let mut store = kiosk::store::Store::open(config).unwrap();
        let key = kiosk::crypto::DataKey::load_or_create(
            &config.data_path(&config.security.data_key_file),
        )
        .unwrap();
        let sub = kiosk::outbox::NewSubmission {
            matter_code: "310104030702".into(),
            situation: "01".into(),
            catalog_version: 1,
            applicant: kiosk::session::anonymous_applicant(),
            form: [("phone".to_string(), "13800138000".to_string())].into(),
            attachments: vec![],
        };
        (0..n)
            .map(|_| {
                kiosk::outbox::enqueue(&mut store, &key, &sub, chrono::Utc::now())
                    .unwrap()
                    .id
            })
            .collect()
    }

    /// The diagnostics screen's lines as `label: value`: the devices, or the other facts.
    pub fn staff_lines(&self, devices: bool) -> String {
        let s = self.w().global::<Staff>();
        let lines = if devices {
            s.get_devices()
        } else {
            s.get_facts()
        };
        lines
            .iter()
            .map(|f| format!("{}: {}", f.label, f.value))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
