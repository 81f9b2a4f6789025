//! `kiosk face verify --id-photo A --live B [--json]`: compares a card photo with a live
//! still, for engineers checking a camera or a threshold. It prints the similarity score,
//! which the citizen's screen never shows. No liveness here: that needs a camera sequence.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use drivers::camera::files::load_picture;
use drivers::face::{resolve_models_dir, EngineConfig, FaceEngine, StillReport};
use serde::Serialize;

use super::Ctx;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum FaceCmd {
    /// Compare a card photo with a live picture; prints decision, score and time.
    Verify {
        /// The card photo (BMP/PNG/JPEG), e.g. the reader's decoded 102x126 picture.
        #[arg(long, value_name = "FILE")]
        id_photo: PathBuf,
        /// The live picture (a camera frame saved as PNG/JPEG).
        #[arg(long, value_name = "FILE")]
        live: PathBuf,
        /// Pass threshold (cosine); default from the configuration.
        #[arg(long)]
        threshold: Option<f32>,
        /// Print JSON: {"decision", "score", "ms", "threshold"}.
        #[arg(long)]
        json: bool,
    },
}

/// What `face verify --json` prints.
#[derive(Debug, Serialize)]
struct VerifyOutput {
    #[serde(flatten)]
    report: StillReport,
    threshold: f32,
}

/// The models folder this configuration uses: `devices.face.models_dir` (relative to the
/// data folder), unless `KIOSK_MODELS_DIR` is set or a dev checkout's `models/` is found.
pub fn models_dir(config: &Config) -> PathBuf {
    resolve_models_dir(&config.data_path(&config.devices.face.models_dir))
}

/// Loads the face engine with the configuration's models.
pub fn load_engine(config: &Config) -> anyhow::Result<FaceEngine> {
    let dir = models_dir(config);
    FaceEngine::load(&dir, EngineConfig::default())
        .with_context(|| format!("cannot load the face models from {}", dir.display()))
}

pub fn run(ctx: &Ctx, cmd: FaceCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        FaceCmd::Verify {
            id_photo,
            live,
            threshold,
            json,
        } => verify(ctx, &id_photo, &live, threshold, json),
    }
}

fn verify(
    ctx: &Ctx,
    id_photo: &Path,
    live: &Path,
    threshold: Option<f32>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let threshold = threshold.unwrap_or(ctx.config.devices.face.threshold);
    anyhow::ensure!(
        threshold.is_finite() && (-1.0..=1.0).contains(&threshold),
        "threshold {threshold} is not a cosine between -1 and 1"
    );
    let id = load_picture(id_photo).context("card photo")?;
    let live = load_picture(live).context("live picture")?;
    let mut engine = load_engine(&ctx.config)?;
    // Plans are built once per picture size; build them before the clock starts.
    engine.prepare_stills(id.view(), live.view())?;
    let report = engine.verify_stills(id.view(), live.view(), threshold)?;
    // Pictures are wiped here (Frame zeroizes on drop); the report holds no face data.
    drop((id, live));
    if json {
        super::print_json(&VerifyOutput { report, threshold })?;
    } else {
        let decision = serde_json::to_value(report.decision)?;
        println!("decision: {}", decision.as_str().unwrap_or("?"));
        match report.score {
            Some(s) => println!("score:    {s:.4} (threshold {threshold:.3})"),
            None => println!("score:    none (no usable face)"),
        }
        println!("time:     {:.1} ms", report.ms);
    }
    Ok(ExitCode::SUCCESS)
}
