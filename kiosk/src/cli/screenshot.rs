//! `kiosk screenshot`: renders a page off-screen with synthetic sample data into a PNG, with no
//! display (Slint's software renderer). For docs and checks.
//!
//!     kiosk screenshot --page home --out home.png [--locale en-US] [--elder] [--size 1920x1080]
//!     kiosk screenshot --list
//!     kiosk screenshot --all docs/screenshots [--scale 0.5]   # every page: zh-CN, en-US, elder

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Parser;
use slint::ComponentHandle;

use super::Ctx;
use crate::app::{i18n, keyboard, render::Offscreen, sample};

#[derive(Debug, Parser)]
pub struct Args {
    /// Page to render (see --list).
    #[arg(long, value_name = "NAME", required_unless_present_any = ["list", "all"])]
    pub page: Option<String>,
    /// PNG file to write.
    #[arg(long, value_name = "FILE.png", required_unless_present_any = ["list", "all"])]
    pub out: Option<PathBuf>,
    /// Locale: zh-CN (default), en-US or zh-HK.
    #[arg(long, default_value = i18n::DEFAULT_LOCALE)]
    pub locale: String,
    /// Elder mode (larger text and touch targets).
    #[arg(long)]
    pub elder: bool,
    /// Window size in logical pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1080x1920", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Pixel scale of the PNG (0.5 renders a 1080x1920 page into 540x960 pixels).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f32,
    /// List the page names and exit.
    #[arg(long)]
    pub list: bool,
    /// Render every page in zh-CN, en-US and elder mode (zh-CN) into this folder.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["page", "out"])]
    pub all: Option<PathBuf>,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("size {s:?} is not WIDTHxHEIGHT"))?;
    let w: u32 = w
        .trim()
        .parse()
        .map_err(|_| format!("width {w:?} is not a number"))?;
    let h: u32 = h
        .trim()
        .parse()
        .map_err(|_| format!("height {h:?} is not a number"))?;
    if !(200..=8000).contains(&w) || !(200..=8000).contains(&h) {
        return Err(format!("size {w}x{h} is outside 200..8000"));
    }
    Ok((w, h))
}

pub fn run(_ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        for (name, what) in sample::PAGES {
            println!("{name:<14} {what}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !(0.1..=4.0).contains(&args.scale) {
        bail!("--scale {} is outside 0.1..4", args.scale);
    }
    let offscreen = Offscreen::init()?;
    if let Some(dir) = &args.all {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let (w, h) = args.size;
        for (page, _) in sample::PAGES {
            for (locale, elder, tag) in [
                ("zh-CN", false, "zh-CN"),
                ("en-US", false, "en-US"),
                ("zh-CN", true, "elder"),
            ] {
                let out = dir.join(format!("{page}-{tag}-{w}x{h}.png"));
                shoot(&offscreen, page, locale, elder, args.size, args.scale, &out)?;
                println!("{}", out.display());
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(page), Some(out)) = (&args.page, &args.out) else {
        bail!("--page and --out are required (or --list, or --all DIR)");
    };
    shoot(
        &offscreen,
        page,
        &args.locale,
        args.elder,
        args.size,
        args.scale,
        out,
    )?;
    println!("{}", out.display());
    Ok(ExitCode::SUCCESS)
}

fn shoot(
    offscreen: &Offscreen,
    page: &str,
    locale: &str,
    elder: bool,
    (w, h): (u32, u32),
    scale: f32,
    out: &Path,
) -> anyhow::Result<()> {
    let window = ui::AppWindow::new().context("creating the UI")?;
    i18n::install(&window);
    keyboard::install(&window);
    window.global::<ui::Theme>().set_elder(elder);
    sample::show(&window, page, locale)?;
    let img = offscreen.render(&window, w, h, scale)?;
    img.save_with_format(out, image::ImageFormat::Png)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}
