//! `kiosk demo --headless` (and `kiosk demo` on a machine without a screen): one citizen
//! walks through a print-type matter on the simulated devices, start to finish, with the app
//! rendered off-screen after every step into PNGs. It presses the same adapter callbacks the
//! touch screen fires, so what it shows is the kiosk's real flow, devices and sync.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use slint::{ComponentHandle, Model};
use ui::{App, Card, CardState, Form, Guide, Page, Receipt, ReceiptState};

use super::{Demo, HOLDER_CARD};
use crate::app::render::Offscreen;
use crate::app::runner::Kiosk;

/// The matter the walkthrough does (个人社保缴费记录打印: card and face, then a printed receipt).
pub const WALK_MATTER: &str = "310104030702";

/// What the walkthrough produced.
#[derive(Debug)]
pub struct Walk {
    pub screens: Vec<PathBuf>,
    pub receipt_no: String,
    pub receipt_png: Option<PathBuf>,
    pub delivered: bool,
}

struct Walker<'a> {
    kiosk: &'a Kiosk,
    shots: &'a Offscreen,
    out: &'a Path,
    screens: Vec<PathBuf>,
}

impl Walker<'_> {
    fn w(&self) -> &ui::AppWindow {
        &self.kiosk.window
    }

    fn shot(&mut self, name: &str) -> anyhow::Result<()> {
        self.kiosk.flow.pump();
        // The kiosk's portrait screen, at half scale to keep the files small.
        let img = self.shots.render(self.w(), 1080, 1920, 0.5)?;
        let path = self
            .out
            .join(format!("{:02}-{name}.png", self.screens.len() + 1));
        img.save(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("  {}", path.display());
        self.screens.push(path);
        Ok(())
    }

    /// Pumps the workers' answers until `cond` holds.
    fn wait(
        &self,
        what: &str,
        secs: u64,
        cond: impl Fn(&ui::AppWindow) -> bool,
    ) -> anyhow::Result<()> {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            self.kiosk.flow.pump();
            if cond(self.w()) {
                return Ok(());
            }
            let page = self.w().global::<App>().get_page();
            if page == Page::Error {
                bail!(
                    "the kiosk shows its error page ({:?}) while waiting for {what}",
                    self.w().global::<App>().get_error_kind()
                );
            }
            if Instant::now() > end {
                bail!("timed out waiting for {what} (page {page:?})");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Runs the walkthrough, writing screens into `out`.
pub fn run(demo: &Rc<Demo>, kiosk: &Kiosk, shots: &Offscreen, out: &Path) -> anyhow::Result<Walk> {
    std::fs::create_dir_all(out)?;
    let mut walker = Walker {
        kiosk,
        shots,
        out,
        screens: Vec::new(),
    };
    let w = kiosk.window.clone_strong();
    walker.shot("home")?;
    w.global::<ui::Catalog>()
        .invoke_matter_selected(WALK_MATTER.into());
    walker.shot("guide")?;
    w.global::<Guide>().invoke_start();
    walker.shot("put-your-card")?;
    demo.reader
        .put(HOLDER_CARD)
        .map_err(|e| anyhow::anyhow!("demo reader: {e}"))?;
    walker.wait("the card", 30, |w| {
        w.global::<Card>().get_state() == CardState::Read
    })?;
    walker.shot("look-at-the-camera")?;
    walker.wait("the face check", 120, |w| {
        w.global::<App>().get_page() == Page::Form
    })?;
    walker.shot("form-prefilled")?;
    let fields = w.global::<Form>().get_fields();
    let phone = fields
        .iter()
        .position(|f| f.id == "phone")
        .context("the matter's form has no phone field")?;
    w.global::<Form>()
        .invoke_field_edited(phone as i32, "phone".into(), "13800138000".into());
    walker.shot("form-filled")?;
    w.global::<Form>().invoke_submit();
    walker.wait("the review", 5, |w| {
        w.global::<App>().get_page() == Page::Review
    })?;
    walker.shot("review")?;
    w.global::<Form>().invoke_confirm();
    walker.wait("the receipt", 30, |w| {
        w.global::<App>().get_page() == Page::Receipt
            && w.global::<Receipt>().get_state() != ReceiptState::Printing
    })?;
    let receipt_no = w.global::<Receipt>().get_number().to_string();
    walker.shot("receipt")?;
    w.global::<Receipt>().invoke_done();
    w.global::<ui::Rating>().invoke_rate(5);
    walker.shot("rating")?;
    w.global::<ui::Rating>().invoke_finish();
    walker.shot("home-again")?;

    let receipt_png = demo
        .printer
        .wait_for_receipts(1, Duration::from_secs(10))
        .ok()
        .and_then(|r| r.last().map(|r| r.png.clone()));
    let end = Instant::now() + Duration::from_secs(30);
    let mut delivered = false;
    while Instant::now() < end {
        delivered = demo
            .central
            .submissions_of(&demo.config.kiosk_id)
            .map(|s| !s.is_empty())
            .unwrap_or(false);
        if delivered {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(Walk {
        screens: walker.screens,
        receipt_no,
        receipt_png,
        delivered,
    })
}
