//! `kiosk bench-child ...` (hidden): the processes that benchmarks start and measure from
//! outside, so that a figure covers a whole fresh process (loading the binary included).
//!
//! `kiosk bench-child app-first-frame --dir DIR [--png FILE]` assembles the real touch app
//! (store, catalog, workers, flow, window) with no devices and no sync, on Slint's software
//! renderer off-screen (the platform of `kiosk screenshot`: a `MinimalSoftwareWindow`, no
//! display), draws Home at 1080x1920 the way an event loop draws its first frame, optionally
//! writes that frame as a PNG (like `chromium --screenshot`, the benchmark's peer), prints
//!
//!     phase NAME MICROS        (one per step, in order)
//!     first-frame MICROS       (since the process started, from /proc/self/stat)
//!
//! and then idles like the app's event loop (its timers keep running) until killed. The
//! parent (`bench::app`) times spawn-to-line itself and reads the idle memory from /proc.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize, PlatformError, Rgb8Pixel, SharedPixelBuffer};

use super::Ctx;
use crate::app::runner::{Extras, Kiosk};
use crate::config::Config;

/// The portrait kiosk screen.
const WIDTH: u32 = 1080;
const HEIGHT: u32 = 1920;
/// The longest the idle loop sleeps between timer checks.
const MAX_IDLE_SLEEP: Duration = Duration::from_secs(1);
/// Draws before giving up on a frame that keeps asking to be redrawn.
const MAX_FIRST_DRAWS: usize = 4;

/// The off-screen platform: the app's one window is a pixel buffer kept at hand here.
struct FramePlatform {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for FramePlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchChildCmd {
    /// Start the app off-screen, render Home once, print `first-frame MICROS`, then idle.
    AppFirstFrame(AppFirstFrameArgs),
}

#[derive(Debug, clap::Args)]
pub struct AppFirstFrameArgs {
    /// Data folder of this app instance (created and filled on first use).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Also encode the first frame as a PNG into this file before reporting it.
    #[arg(long, value_name = "FILE.png")]
    pub png: Option<PathBuf>,
    /// Exit after the first frame instead of idling (for profiling).
    #[arg(long)]
    pub exit: bool,
}

pub fn run(_ctx: &Ctx, cmd: BenchChildCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchChildCmd::AppFirstFrame(args) => app_first_frame(args),
    }
}

/// The app with nothing attached: no reader, printer, camera or central platform. The
/// user's `--config` is ignored on purpose so every run measures the same thing.
fn bare_config(dir: PathBuf) -> Config {
    let mut config = Config {
        data_dir: dir,
        ..Config::default()
    };
    config.devices.id_reader.port.clear();
    config.devices.printer.target.clear();
    config.devices.camera.source.clear();
    config.central.url.clear();
    config
}

fn app_first_frame(args: AppFirstFrameArgs) -> anyhow::Result<ExitCode> {
    let config = bare_config(args.dir);
    let mut out = std::io::stdout().lock();
    let phase = |out: &mut std::io::StdoutLock, name: &str, since: Instant| {
        writeln!(out, "phase {name} {}", since.elapsed().as_micros()).map(|()| Instant::now())
    };

    let t = Instant::now();
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(FramePlatform {
        window: window.clone(),
    }))
    .map_err(|e| anyhow!("cannot set up off-screen rendering: {e}"))?;
    let t = phase(&mut out, "platform", t)?;
    let kiosk = Kiosk::assemble(
        &config,
        Extras {
            no_sync: true,
            ..Extras::default()
        },
        false,
    )
    .context("assembling the app")?;
    let t = phase(&mut out, "assemble", t)?;
    // Held until the process ends: a screen keeps its frame too.
    let frame = first_frame(&window, &kiosk)?;
    let t = phase(&mut out, "render", t)?;
    if let Some(png) = &args.png {
        write_png(&frame, png)?;
        phase(&mut out, "png", t)?;
    }
    let since_start = micros_since_process_start()
        .map(|us| us.to_string())
        .unwrap_or_else(|| "unknown".into());
    writeln!(out, "first-frame {since_start}")?;
    out.flush()?;
    drop(out);
    if args.exit {
        return Ok(ExitCode::SUCCESS);
    }
    // What the event loop does with nothing to draw: run the timers (the flow's 250 ms pump
    // and tick) and sleep until the next one.
    loop {
        slint::platform::update_timers_and_animations();
        let wait = slint::platform::duration_until_next_timer_update()
            .unwrap_or(MAX_IDLE_SLEEP)
            .min(MAX_IDLE_SLEEP);
        std::thread::sleep(wait);
        std::hint::black_box(&frame);
    }
}

/// Shows the window and draws like an event loop's first turns: run the timers, draw what is
/// dirty, again only if that draw changed something. (`kiosk screenshot` always draws twice
/// and copies the frame into an image, which suits pictures for the docs, not a first frame.)
fn first_frame(
    window: &MinimalSoftwareWindow,
    kiosk: &Kiosk,
) -> anyhow::Result<SharedPixelBuffer<Rgb8Pixel>> {
    window.set_size(PhysicalSize::new(WIDTH, HEIGHT));
    kiosk
        .window
        .show()
        .context("showing the window off-screen")?;
    let mut frame = SharedPixelBuffer::<Rgb8Pixel>::new(WIDTH, HEIGHT);
    for _ in 0..MAX_FIRST_DRAWS {
        slint::platform::update_timers_and_animations();
        let drew = window.draw_if_needed(|renderer| {
            renderer.render(frame.make_mut_slice(), WIDTH as usize);
        });
        if !drew {
            break;
        }
    }
    Ok(frame)
}

/// The frame as a PNG, with the `image` crate's default compression (as `kiosk screenshot`).
fn write_png(frame: &SharedPixelBuffer<Rgb8Pixel>, path: &Path) -> anyhow::Result<()> {
    use image::ImageEncoder;
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    image::codecs::png::PngEncoder::new(&mut writer)
        .write_image(
            frame.as_bytes(),
            frame.width(),
            frame.height(),
            image::ExtendedColorType::Rgb8,
        )
        .with_context(|| format!("encoding {}", path.display()))?;
    writer
        .flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Microseconds since this process started: boot-time clock now minus the start time in
/// /proc/self/stat (clock ticks since boot, so only to 1/CLK_TCK, usually 10 ms).
fn micros_since_process_start() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at field 3 (state);
    // starttime is field 22.
    let rest = &stat[stat.rfind(')')? + 2..];
    let start_ticks: u64 = rest.split_whitespace().nth(19)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks_per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks_per_s <= 0 {
        return None;
    }
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now) } != 0 {
        return None;
    }
    let now_us = now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1000;
    let start_us = start_ticks * 1_000_000 / ticks_per_s as u64;
    now_us.checked_sub(start_us)
}
