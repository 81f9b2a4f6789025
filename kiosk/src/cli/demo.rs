//! `kiosk demo`: the touch app with every device simulated in-process, and the simulator
//! panel (see `app::demo`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

use anyhow::Context;
use slint::ComponentHandle;

use super::Ctx;
use crate::app::demo::{faces_dir, Demo, Panel};
use crate::app::runner::Kiosk;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder for the demo's data (kiosk database, printed receipts, platform database).
    /// Default: `hall-kiosk-demo` in the system's temporary folder, or `--data-dir`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Window size of the kiosk screen, e.g. 540x960 (half of the kiosk's 1080x1920).
    #[arg(long, value_name = "WxH", default_value = "540x960")]
    pub size: String,
}

/// A clear message instead of a backend panic when there is no screen to show a window on.
pub fn check_display() -> anyhow::Result<()> {
    let has = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
    if !(has("DISPLAY") || has("WAYLAND_DISPLAY")) {
        anyhow::bail!(
            "no display: the touch app needs a screen (DISPLAY or WAYLAND_DISPLAY). On a \
             machine without one, `kiosk screenshot --all DIR` renders every page off-screen, \
             and `scripts/test.sh` drives the app headless"
        );
    }
    Ok(())
}

pub fn run(ctx: &Ctx, args: Args, data_dir_given: bool) -> anyhow::Result<ExitCode> {
    check_display()?;
    let dir = match args.dir {
        Some(d) => d,
        None if data_dir_given => ctx.config.data_dir.clone(),
        None => std::env::temp_dir().join("hall-kiosk-demo"),
    };
    let (w, h) = args
        .size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<f32>().ok()?, h.parse::<f32>().ok()?)))
        .context("--size must look like 540x960")?;
    let demo = Rc::new(Demo::start(&ctx.config, &dir, &faces_dir())?);
    let kiosk = Kiosk::assemble(&demo.config, demo.extras(), true)?;
    kiosk
        .window
        .window()
        .set_size(slint::LogicalSize::new(w, h));
    let panel = Panel::new(demo.clone(), kiosk.sync.clone())?;
    println!("kiosk demo: data in {}", dir.display());
    println!(
        "kiosk demo: printed receipts appear in {}",
        demo.receipts_dir.display()
    );
    println!(
        "kiosk demo: put a card on the reader from the simulator panel (\"{}\" carries the test photo)",
        crate::app::demo::HOLDER_CARD
    );
    panel.window.show()?;
    kiosk.window.show()?;
    slint::run_event_loop_until_quit().context("the UI event loop failed")?;
    drop(kiosk);
    Ok(ExitCode::SUCCESS)
}
