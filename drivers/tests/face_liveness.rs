//! Active liveness end to end: picture sequences go through the file-backed camera, the real
//! models and the policy. A head that turns the asked way passes; a still photo, a photo
//! turned like a sheet of paper, a turn the wrong way and a change of person fail.
//! Needs `scripts/setup.sh` (models + photos).

mod support;

use std::time::Duration;

use drivers::camera::{Camera, FileSource, Frame, FrameSource};
use drivers::device::{Device, SharedCounters};
use drivers::face::liveness::LivenessFailure;
use drivers::face::session::{run_attempt, run_camera_attempt};
use drivers::face::{
    AttemptOutcome, Challenge, FaceEngine, FailReason, HeadPose, LivenessConfig, PolicyConfig,
    Prompt, VerifyPolicy,
};
use support::*;

/// Frames a second the test camera claims; the policy runs on these timestamps.
const FPS: u32 = 4;

fn config() -> PolicyConfig {
    PolicyConfig {
        liveness: LivenessConfig {
            // Shorter than a citizen gets, to keep the number of inferences small.
            budget: Duration::from_secs(2),
            ..LivenessConfig::default()
        },
        ..PolicyConfig::default()
    }
}

/// obama.jpg at about kiosk-camera scale (face ~120 px wide, frontal).
fn live() -> Frame {
    resized(&photo("obama.jpg"), 455, 568)
}

/// The policy for a session whose card photo is obama2.jpg.
fn policy(e: &mut FaceEngine) -> VerifyPolicy {
    let reference = e
        .enrol_id_photo(photo("obama2.jpg").view())
        .unwrap()
        .unwrap();
    VerifyPolicy::new(config(), reference)
}

/// `frame` with its head turned by `amount` eye distances (+: nose to the picture's right,
/// which is the subject turning to their left).
fn turn(e: &mut FaceEngine, frame: &Frame, amount: f32) -> Frame {
    let d = e.detect(frame.view()).unwrap()[0];
    let eyes = HeadPose::from_landmarks(&d.landmarks).unwrap().eye_distance;
    turned(frame, d.landmarks[2][0], eyes, eyes * amount)
}

/// Runs one attempt over the pictures, written to a folder and read back by the
/// file-backed camera (looping, so a sequence that ends early keeps showing itself).
fn attempt(
    e: &mut FaceEngine,
    frames: &[Frame],
    challenge: Challenge,
) -> (AttemptOutcome, Vec<Prompt>) {
    let dir = tempfile::tempdir().unwrap();
    write_sequence(dir.path(), frames);
    let mut source = FileSource::from_path(dir.path(), FPS)
        .unwrap()
        .unpaced()
        .looping(true);
    source.open().unwrap();
    let mut policy = policy(e);
    let mut prompts = Vec::new();
    let outcome = run_attempt(
        &mut || source.next_frame(),
        e,
        &mut policy,
        challenge,
        &mut |p| prompts.push(p),
    )
    .unwrap();
    (outcome, prompts)
}

#[test]
fn a_head_turning_the_asked_way_passes() {
    let mut e = engine();
    let base = live();
    let frames = vec![
        base.retimed(Duration::ZERO),
        base.retimed(Duration::ZERO),
        // The challenge's first frame: the citizen has not reacted yet.
        base.retimed(Duration::ZERO),
        turn(&mut e, &base, 0.25),
        turn(&mut e, &base, 0.45),
        turn(&mut e, &base, 0.65),
    ];
    let (outcome, prompts) = attempt(&mut e, &frames, Challenge::TurnLeft);
    assert_eq!(outcome, AttemptOutcome::Pass);
    assert_eq!(
        prompts,
        vec![Prompt::LookAtCamera, Prompt::Turn(Challenge::TurnLeft)]
    );
}

#[test]
fn the_same_turn_fails_when_the_other_way_was_asked() {
    let mut e = engine();
    let base = live();
    let frames = vec![
        base.retimed(Duration::ZERO),
        base.retimed(Duration::ZERO),
        // The challenge's first frame: the citizen has not reacted yet.
        base.retimed(Duration::ZERO),
        turn(&mut e, &base, 0.65),
    ];
    let (outcome, _) = attempt(&mut e, &frames, Challenge::TurnRight);
    assert_eq!(
        outcome,
        AttemptOutcome::Fail {
            reason: FailReason::Liveness(LivenessFailure::WrongDirection),
            attempts_left: 2
        }
    );
}

#[test]
fn a_photo_turned_like_a_sheet_of_paper_fails() {
    let mut e = engine();
    let base = live();
    // Squeezing the whole picture sideways is what turning a flat print does: the nose keeps
    // its place between the eyes, so the yaw ratio does not move.
    let frames = vec![
        base.retimed(Duration::ZERO),
        base.retimed(Duration::ZERO),
        // The challenge's first frame: the citizen has not reacted yet.
        base.retimed(Duration::ZERO),
        squeezed(&base, 0.9),
        squeezed(&base, 0.8),
        squeezed(&base, 0.75),
    ];
    let (outcome, _) = attempt(&mut e, &frames, Challenge::TurnLeft);
    assert_eq!(
        outcome,
        AttemptOutcome::Fail {
            reason: FailReason::Liveness(LivenessFailure::NoTurn),
            attempts_left: 2
        }
    );
}

#[test]
fn someone_else_turning_fails() {
    let mut e = engine();
    let base = live();
    let other = on_canvas(&resized(&photo("biden.jpg"), 250, 568), 455, 568);
    let frames = vec![
        base.retimed(Duration::ZERO),
        base.retimed(Duration::ZERO),
        // The challenge's first frame: the citizen has not reacted yet.
        base.retimed(Duration::ZERO),
        turn(&mut e, &other, 0.65),
    ];
    let (outcome, _) = attempt(&mut e, &frames, Challenge::TurnLeft);
    assert_eq!(
        outcome,
        AttemptOutcome::Fail {
            reason: FailReason::Liveness(LivenessFailure::IdentityChanged),
            attempts_left: 2
        }
    );
}

#[test]
fn a_static_photo_fails_the_challenge_on_the_kiosk_camera() {
    let mut e = engine();
    let dir = tempfile::tempdir().unwrap();
    write_sequence(dir.path(), &[live()]);
    // The kiosk's camera device over a file source showing one still, again and again.
    let source = FileSource::from_path(dir.path(), FPS)
        .unwrap()
        .unpaced()
        .looping(true);
    let counters = SharedCounters::in_memory();
    let mut camera = Camera::new(Box::new(source), counters.clone());
    camera.open().unwrap();
    camera.claim().unwrap();
    camera.enable().unwrap();
    let mut policy = policy(&mut e);
    let mut rng = rand::thread_rng();
    let mut prompts = Vec::new();
    let outcome = run_camera_attempt(&mut camera, &mut e, &mut policy, &mut rng, &mut |p| {
        prompts.push(p)
    })
    .unwrap();
    assert_eq!(
        outcome,
        AttemptOutcome::Fail {
            reason: FailReason::Liveness(LivenessFailure::NoTurn),
            attempts_left: 2
        }
    );
    assert!(
        matches!(prompts.last(), Some(Prompt::Turn(_))),
        "the citizen was asked to turn: {prompts:?}"
    );
    assert!(
        policy.engineering_score().unwrap() > 0.363,
        "the still matched the card; only liveness stopped it"
    );
    let c = counters.snapshot();
    assert_eq!(c.get("verify_fail_liveness_no_turn"), 1);
    assert_eq!(c.get("streams_ok"), 1);
}

#[test]
fn challenge_frames_are_detected_at_full_size_and_match_frames_at_half() {
    use drivers::face::{EngineConfig, Observation};
    let frame = live();
    let yaw = |o: Observation| match o {
        Observation::Face(s) => s.pose.yaw,
        other => panic!("no face: {other:?}"),
    };
    let mut half = engine();
    assert_eq!(half.config().detector.max_side, 320);
    let mut full = FaceEngine::load(
        &models_dir(),
        EngineConfig {
            detector: drivers::face::DetectorConfig {
                max_side: 640,
                ..Default::default()
            },
            ..EngineConfig::default()
        },
    )
    .unwrap();
    let at_full = yaw(full.observe(frame.view()).unwrap());
    assert_eq!(yaw(half.observe_turn(frame.view()).unwrap()), at_full);
    assert_ne!(
        yaw(half.observe(frame.view()).unwrap()),
        at_full,
        "the match's frames are detected at half size"
    );
}
