//! Face verification (1:1): is the person at the camera the holder of the card just read?
//!
//! - [`detect`]: YuNet face detector on tract (boxes + 5 landmarks).
//! - [`align`]: the 5-point similarity transform onto the ArcFace 112x112 template.
//! - [`embed`]: SFace recogniser on tract (128-d embedding) and cosine similarity.
//! - [`quality`]: gates on a live frame (one face, big enough, frontal, sharp) and the head
//!   geometry (yaw, roll, pitch proxies) from landmarks.
//! - [`engine`]: the three models glued together: analyse a frame, enrol the card photo,
//!   compare two stills (the engineering command).
//! - [`policy`] and [`liveness`]: the sans-IO decision machine (observations + timestamps in,
//!   prompts and decisions out): best of several frames, attempts limit, head-turn challenge.
//! - [`session`]: the edge that feeds a camera's frames through the engine into the policy.
//!
//! Everything runs on the calling thread, on the CPU; tract's multi-threaded matrix code is
//! behind a cargo feature we do not enable, so one verification uses one core. Pictures and
//! embeddings are never written anywhere and are zeroized once the decision is made.

pub mod align;
pub mod detect;
pub mod embed;
pub mod engine;
pub mod fast_ops;
pub mod image;
pub mod liveness;
pub mod models;
pub mod policy;
pub mod quality;
pub mod session;

use std::path::{Path, PathBuf};

use tract_onnx::prelude::*;
use zeroize::Zeroize;

pub use align::{align_face, ALIGNED_SIZE};
pub use detect::{Detection, Detector, DetectorConfig};
pub use embed::{cosine, Embedding, Recognizer};
pub use engine::{EngineConfig, FaceEngine, StillDecision, StillReport};
pub use image::RgbRef;
pub use liveness::{Challenge, LivenessConfig};
pub use models::{resolve_models_dir, ModelPaths};
pub use policy::{AttemptOutcome, FailReason, Hint, PolicyConfig, Prompt, Step, VerifyPolicy};
pub use quality::{HeadPose, Observation, QualityConfig, QualityIssue, Subject};

/// Everything that can go wrong in face verification, in words an engineer can act on.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("face model {path} is missing ({cause}); run {script} (or scripts/setup.sh) to fetch it", script = models::FETCH_SCRIPT)]
    ModelMissing { path: PathBuf, cause: String },
    #[error("face model {path} has SHA-256 {got}, expected {expected}; delete it and run {script}", script = models::FETCH_SCRIPT)]
    ModelChecksum {
        path: PathBuf,
        expected: String,
        got: String,
    },
    #[error("face model {path} cannot be loaded: {cause}")]
    ModelLoad { path: PathBuf, cause: String },
    #[error("face inference failed: {0}")]
    Inference(String),
    #[error("bad picture: {0}")]
    BadImage(String),
}

impl FaceError {
    fn model(path: &Path, e: impl std::fmt::Display) -> FaceError {
        FaceError::ModelLoad {
            path: path.to_path_buf(),
            cause: format!("{e:#}"),
        }
    }
}

/// A tract plan with fixed input shapes, built once and reused.
pub(crate) type Plan = Arc<TypedRunnableModel>;

/// A plan's reusable execution state (buffers survive from run to run).
pub(crate) struct PlanState(TypedSimpleState);

impl PlanState {
    pub(crate) fn new(plan: &Plan) -> Result<PlanState, FaceError> {
        TypedSimpleState::new(plan)
            .map(PlanState)
            .map_err(|e| FaceError::Inference(format!("cannot start a plan: {e}")))
    }
}

/// Runs a plan on one input, then zeroizes that input (it is a picture of a face). Of the
/// intermediate activations, those our operators read last (the input of every 3x3
/// convolution, including the normalised picture SFace's first layer reads) and their own
/// scratch copies are wiped by them (`fast_ops`); the rest are tract's buffers (matrix
/// product inputs and outputs, packed panels), which tract frees without wiping.
pub(crate) fn run_and_wipe(
    state: &mut PlanState,
    input: Tensor,
    what: &str,
) -> Result<TVec<TValue>, FaceError> {
    let input = Arc::new(input);
    let result = state.0.run(tvec!(TValue::from_const(Arc::clone(&input))));
    if let Ok(mut t) = Arc::try_unwrap(input) {
        t.as_bytes_mut().zeroize();
    }
    result.map_err(|e| FaceError::Inference(format!("{what}: {e}")))
}
