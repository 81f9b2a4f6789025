//! `kiosk bench-child ...` (hidden): the processes that benchmarks start and measure from
//! outside, so that a figure covers a whole fresh process (loading the binary included).
//!
//! `kiosk bench-child app-first-frame --dir DIR [--png FILE]` assembles the real touch app
//! (store, catalog, workers, flow, window) with no devices and no sync, on the software
//! renderer off-screen (as `kiosk screenshot`), renders Home once at 1080x1920, optionally
//! writes that frame as a PNG (like `chromium --screenshot`, the benchmark's peer), prints
//!
//!     phase NAME MICROS        (one per step, in order)
//!     first-frame MICROS       (since the process started, from /proc/self/stat)
//!
//! and then idles like the app's event loop (its timers keep running) until killed. The
//! parent (`bench::app`) times spawn-to-line itself and reads the idle memory from /proc.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::Ctx;
use crate::app::render::Offscreen;
use crate::app::runner::{Extras, Kiosk};
use crate::config::Config;

/// The portrait kiosk screen.
const WIDTH: u32 = 1080;
const HEIGHT: u32 = 1920;
/// The longest the idle loop sleeps between timer checks.
const MAX_IDLE_SLEEP: Duration = Duration::from_secs(1);

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
    let offscreen = Offscreen::init()?;
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
    let frame = offscreen.render(&kiosk.window, WIDTH, HEIGHT, 1.0)?;
    let t = phase(&mut out, "render", t)?;
    if let Some(png) = &args.png {
        frame
            .save_with_format(png, image::ImageFormat::Png)
            .with_context(|| format!("writing {}", png.display()))?;
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
