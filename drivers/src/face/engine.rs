//! The face engine: detector + recogniser + quality gates. It turns pictures into
//! [`Observation`]s for the policy, enrols the card photo, and compares two stills for the
//! engineering command. It makes no decisions over time; that is the policy's job.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::align::align_face;
use super::detect::{Detection, Detector, DetectorConfig};
use super::embed::{cosine, Embedding, Recognizer};
use super::image::RgbRef;
use super::models::ModelPaths;
use super::quality::{self, HeadPose, Observation, QualityConfig, QualityIssue, Subject};
use super::FaceError;

/// Pictures whose longer side is below this (the card's 102x126 photo) get a black border
/// before detection, so a face that fills the picture is not cut by its edges.
const SMALL_PICTURE: usize = 256;
const SMALL_PICTURE_BORDER: usize = 16;

/// The size the card photo is detected at: small photos get a border on every side.
fn id_canvas_size(photo: RgbRef<'_>) -> (usize, usize) {
    if photo.width().max(photo.height()) >= SMALL_PICTURE {
        (photo.width(), photo.height())
    } else {
        (
            photo.width() + 2 * SMALL_PICTURE_BORDER,
            photo.height() + 2 * SMALL_PICTURE_BORDER,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineConfig {
    pub detector: DetectorConfig,
    pub quality: QualityConfig,
    /// Use our 3x3 convolution and PReLU operators ([`super::fast_ops`]) instead of tract's.
    /// On by default in optimised builds; off in debug builds, where our crate is compiled
    /// without optimisation and the hand-written loops would be slower than tract's
    /// (optimised) generic ones. A test checks both give the same outputs.
    pub fast_ops: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            detector: DetectorConfig::default(),
            quality: QualityConfig::default(),
            fast_ops: !cfg!(debug_assertions),
        }
    }
}

/// The loaded models. Not `Sync`: one engine per thread that verifies.
pub struct FaceEngine {
    detector: Detector,
    recognizer: Recognizer,
    config: EngineConfig,
}

impl std::fmt::Debug for FaceEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceEngine")
            .field("detector", &self.detector)
            .finish()
    }
}

/// Result of comparing two stills (`kiosk face verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StillDecision {
    Pass,
    Fail,
    /// No face in the live picture.
    NoFace,
    SeveralFaces,
    MoveCloser,
    LookAtCamera,
    HoldStill,
    /// The card photo shows no detectable face: the card or the decoder is at fault.
    NoFaceOnIdPhoto,
}

impl From<QualityIssue> for StillDecision {
    fn from(q: QualityIssue) -> Self {
        match q {
            QualityIssue::NoFace => StillDecision::NoFace,
            QualityIssue::SeveralFaces => StillDecision::SeveralFaces,
            QualityIssue::TooSmall => StillDecision::MoveCloser,
            QualityIssue::NotFrontal => StillDecision::LookAtCamera,
            QualityIssue::Blurred => StillDecision::HoldStill,
        }
    }
}

/// The engineering view of one comparison: the score is here, never on the citizen's screen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StillReport {
    pub decision: StillDecision,
    /// Cosine similarity when both pictures had a usable face.
    pub score: Option<f32>,
    /// Compute time of the comparison (detect both, align, embed both, cosine) in ms.
    pub ms: f64,
}

impl FaceEngine {
    /// Loads both models from `models_dir` after checking their SHA-256.
    pub fn load(models_dir: &Path, config: EngineConfig) -> Result<FaceEngine, FaceError> {
        let paths = ModelPaths::in_dir(models_dir);
        paths.verify()?;
        Ok(FaceEngine {
            detector: Detector::load(&paths.yunet, config.detector, config.fast_ops)?,
            recognizer: Recognizer::load(&paths.sface, config.fast_ops)?,
            config,
        })
    }

    pub fn config(&self) -> EngineConfig {
        self.config
    }

    /// Builds the detector plan for frames of this size now rather than on the first frame.
    pub fn warm_up(&mut self, width: usize, height: usize) -> Result<(), FaceError> {
        let (_, _, pw, ph) = self.detector.input_size(width, height);
        self.detector.prepare(pw, ph)
    }

    /// [`FaceEngine::warm_up`] for a camera: also the plan of the head-turn challenge's
    /// finer detection.
    pub fn warm_up_camera(&mut self, width: usize, height: usize) -> Result<(), FaceError> {
        self.warm_up(width, height)?;
        let turn = self.config.detector.turn_max_side;
        let (_, _, pw, ph) = super::detect::input_size(width, height, turn);
        self.detector.prepare(pw, ph)
    }

    /// Builds the detector plans `verify_stills` will need for these two pictures, so its
    /// time is the comparison's alone.
    pub fn prepare_stills(
        &mut self,
        id_photo: RgbRef<'_>,
        live: RgbRef<'_>,
    ) -> Result<(), FaceError> {
        let (w, h) = id_canvas_size(id_photo);
        self.warm_up(w, h)?;
        self.warm_up(live.width(), live.height())
    }

    /// All faces in a picture, best first (engineering and tests).
    pub fn detect(&mut self, img: RgbRef<'_>) -> Result<Vec<Detection>, FaceError> {
        self.detector.detect(img)
    }

    /// Aligns and embeds one detected face.
    pub fn embed_detection(
        &mut self,
        img: RgbRef<'_>,
        det: &Detection,
    ) -> Result<Option<(Embedding, f32)>, FaceError> {
        let Some(aligned) = align_face(img, &det.landmarks) else {
            return Ok(None);
        };
        let sharpness = aligned.sharpness();
        let emb = self.recognizer.embed(&aligned)?;
        Ok(Some((emb, sharpness)))
    }

    /// Analyses one live frame: the screening gates first (no embedding is computed for a
    /// frame with no face, several faces or a small one), then pose, focus and embedding.
    pub fn observe(&mut self, frame: RgbRef<'_>) -> Result<Observation, FaceError> {
        let faces = self.detector.detect(frame)?;
        self.analyse(frame, faces)
    }

    /// [`FaceEngine::observe`] for a frame of the head-turn challenge: the face is detected
    /// at `turn_max_side` (full size for a kiosk camera) for landmarks fine enough to see
    /// the turn (see [`DetectorConfig::turn_max_side`]).
    pub fn observe_turn(&mut self, frame: RgbRef<'_>) -> Result<Observation, FaceError> {
        let faces = self
            .detector
            .detect_within(frame, self.config.detector.turn_max_side)?;
        self.analyse(frame, faces)
    }

    fn analyse(
        &mut self,
        frame: RgbRef<'_>,
        faces: Vec<Detection>,
    ) -> Result<Observation, FaceError> {
        let idx = match quality::screen(&faces, &self.config.quality) {
            Ok(i) => i,
            Err(issue) => return Ok(Observation::Rejected(issue)),
        };
        let det = faces[idx];
        let Some(pose) = HeadPose::from_landmarks(&det.landmarks) else {
            return Ok(Observation::Rejected(QualityIssue::NotFrontal));
        };
        match self.embed_detection(frame, &det)? {
            Some((embedding, sharpness)) => Ok(Observation::Face(Subject {
                detection: det,
                pose,
                sharpness,
                embedding,
            })),
            None => Ok(Observation::Rejected(QualityIssue::NotFrontal)),
        }
    }

    /// The embedding of the card photo, or `None` when no face is found on it. Small photos
    /// get a black border first; no quality gates apply (the photo is what the card holds).
    pub fn enrol_id_photo(&mut self, photo: RgbRef<'_>) -> Result<Option<Embedding>, FaceError> {
        if photo.width().max(photo.height()) >= SMALL_PICTURE {
            return self.embed_best(photo);
        }
        let b = SMALL_PICTURE_BORDER;
        let (w, h) = id_canvas_size(photo);
        let mut canvas = zeroize::Zeroizing::new(vec![0u8; w * h * 3]);
        let row = photo.width() * 3;
        for y in 0..photo.height() {
            let dst = ((y + b) * w + b) * 3;
            canvas[dst..dst + row].copy_from_slice(&photo.data()[y * row..(y + 1) * row]);
        }
        self.embed_best(RgbRef::new(w, h, &canvas)?)
    }

    fn embed_best(&mut self, img: RgbRef<'_>) -> Result<Option<Embedding>, FaceError> {
        let faces = self.detector.detect(img)?;
        // The card photo has one face; should the detector see more, the largest is it.
        match faces.iter().max_by(|a, b| a.area().total_cmp(&b.area())) {
            Some(det) => Ok(self.embed_detection(img, det)?.map(|(e, _)| e)),
            None => Ok(None),
        }
    }

    /// Compares a card photo with one live still under the live-frame quality gates and the
    /// given threshold. No liveness: that needs a sequence of frames (see the policy).
    pub fn verify_stills(
        &mut self,
        id_photo: RgbRef<'_>,
        live: RgbRef<'_>,
        threshold: f32,
    ) -> Result<StillReport, FaceError> {
        let start = Instant::now();
        let report = |decision, score| StillReport {
            decision,
            score,
            ms: start.elapsed().as_secs_f64() * 1000.0,
        };
        let Some(reference) = self.enrol_id_photo(id_photo)? else {
            return Ok(report(StillDecision::NoFaceOnIdPhoto, None));
        };
        let subject = match self.observe(live)? {
            Observation::Rejected(issue) => return Ok(report(issue.into(), None)),
            Observation::Face(s) => s,
        };
        let score = cosine(&reference, &subject.embedding);
        let decision = match quality::check_for_match(&subject, &self.config.quality) {
            Err(issue) => issue.into(),
            Ok(()) if score >= threshold => StillDecision::Pass,
            Ok(()) => StillDecision::Fail,
        };
        Ok(report(decision, Some(score)))
    }
}
