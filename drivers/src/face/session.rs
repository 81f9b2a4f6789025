//! The edge of face verification: frames from a camera (or any frame function) go through
//! the engine into the sans-IO policy until it decides. Each frame is dropped, hence wiped,
//! as soon as the engine has analysed it; the observation's embedding is wiped once the
//! policy has used it.

use rand::Rng;

use super::engine::FaceEngine;
use super::liveness::Challenge;
use super::policy::{AttemptOutcome, Prompt, Step, VerifyPolicy};
use super::FaceError;
use crate::camera::{Camera, CameraError, Frame};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Camera(#[from] CameraError),
    #[error(transparent)]
    Face(#[from] FaceError),
}

/// Runs one attempt: frames from `next_frame` until the policy decides. `on_prompt` is told
/// each time the prompt for the citizen changes.
pub fn run_attempt(
    next_frame: &mut dyn FnMut() -> Result<Frame, CameraError>,
    engine: &mut FaceEngine,
    policy: &mut VerifyPolicy,
    challenge: Challenge,
    on_prompt: &mut dyn FnMut(Prompt),
) -> Result<AttemptOutcome, SessionError> {
    let mut shown: Option<Prompt> = None;
    let mut show = |p: Prompt, on_prompt: &mut dyn FnMut(Prompt)| {
        if shown != Some(p) {
            shown = Some(p);
            on_prompt(p);
        }
    };
    let mut frame = next_frame()?;
    // Both detection plans (the match's and the challenge's) are built before the clock
    // matters; after the first attempt this costs nothing.
    engine.warm_up_camera(frame.width(), frame.height())?;
    // The attempt's clock is the camera's: it starts with the first frame.
    match policy.begin_attempt(frame.at(), challenge) {
        Step::Done(outcome) => return Ok(outcome),
        Step::Continue(p) => show(p, on_prompt),
    }
    loop {
        let at = frame.at();
        let observation = if policy.in_challenge() {
            engine.observe_turn(frame.view())?
        } else {
            engine.observe(frame.view())?
        };
        drop(frame);
        match policy.on_observation(at, observation) {
            Step::Done(outcome) => return Ok(outcome),
            Step::Continue(p) => show(p, on_prompt),
        }
        frame = next_frame()?;
    }
}

/// One attempt on a kiosk camera with a fresh random challenge: streams for the attempt,
/// counts the outcome (`verify_pass`, `verify_fail_no_match`, ...) on the camera's counters.
pub fn run_camera_attempt(
    camera: &mut Camera,
    engine: &mut FaceEngine,
    policy: &mut VerifyPolicy,
    rng: &mut impl Rng,
    on_prompt: &mut dyn FnMut(Prompt),
) -> Result<AttemptOutcome, SessionError> {
    if policy.exhausted() {
        return Ok(AttemptOutcome::UseAlternative);
    }
    camera
        .start_stream()
        .map_err(|e| CameraError::Capture(format!("{e:#}")))?;
    let challenge = Challenge::random(rng);
    let result = run_attempt(
        &mut || camera.next_frame(),
        engine,
        policy,
        challenge,
        on_prompt,
    );
    camera.stop_stream();
    if let Ok(outcome) = &result {
        camera.count(&outcome.counter_key());
    }
    result
}
