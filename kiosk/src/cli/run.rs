//! `kiosk run [--config FILE]`: the touch app on the configured devices.

use std::process::ExitCode;

use slint::ComponentHandle;

use super::Ctx;
use crate::app::runner::{Extras, Kiosk};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Start in a window instead of full screen (for engineers; the kiosk runs full screen).
    #[arg(long)]
    pub windowed: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    super::demo::check_display()?;
    let kiosk = Kiosk::assemble(&ctx.config, Extras::default(), true)?;
    kiosk.window.window().set_fullscreen(!args.windowed);
    tracing::info!(kiosk = %ctx.config.kiosk_id, "kiosk app started");
    kiosk.run()?;
    Ok(ExitCode::SUCCESS)
}
