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
    /// Size of the kiosk's screen in logical pixels (the kiosk's is 1080x1920 portrait).
    #[arg(long, value_name = "WxH", default_value = "1080x1920")]
    pub size: String,
    /// Scale of the window on this screen (0.5 shows the 1080x1920 kiosk in 540x960).
    #[arg(long, default_value_t = 0.5)]
    pub scale: f32,
    /// No window: one simulated citizen walks through a print-type matter, and every step is
    /// rendered into a PNG (the default when there is no display).
    #[arg(long)]
    pub headless: bool,
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
    let dir = match args.dir.clone() {
        Some(d) => d,
        None if data_dir_given => ctx.config.data_dir.clone(),
        None => std::env::temp_dir().join("hall-kiosk-demo"),
    };
    if args.headless {
        return headless(ctx, &dir);
    }
    if let Err(e) = check_display() {
        eprintln!("{e:#}");
        eprintln!("kiosk demo: running the headless walkthrough instead");
        return headless(ctx, &dir);
    }
    let (w, h) = args
        .size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<f32>().ok()?, h.parse::<f32>().ok()?)))
        .context("--size must look like 540x960")?;
    if std::env::var_os("SLINT_SCALE_FACTOR").is_none() {
        // Read by Slint's backend when it creates the windows (below).
        std::env::set_var("SLINT_SCALE_FACTOR", args.scale.to_string());
    }
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

/// The walkthrough without a window (see `app::demo::walkthrough`).
fn headless(ctx: &Ctx, dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let shots = crate::app::render::Offscreen::init()?;
    let demo = Rc::new(Demo::start(&ctx.config, dir, &faces_dir())?);
    let kiosk = Kiosk::assemble(&demo.config, demo.extras(), false)?;
    println!("kiosk demo (headless): a citizen does a print-type matter on simulated devices");
    let screens = dir.join("screens");
    let walk = crate::app::demo::walkthrough::run(&demo, &kiosk, &shots, &screens)?;
    println!("receipt number: {}", walk.receipt_no);
    if let Some(png) = &walk.receipt_png {
        println!("printed receipt: {}", png.display());
    }
    println!(
        "delivered to the central platform simulator over mutual TLS: {}",
        if walk.delivered { "yes" } else { "not yet" }
    );
    drop(kiosk);
    Ok(if walk.delivered {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
