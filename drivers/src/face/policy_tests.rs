//! Unit tests of the verification policy with synthetic observations (no models needed).

use std::time::Duration;

use super::*;
use crate::face::detect::Detection;
use crate::face::liveness::LivenessFailure;
use crate::face::quality::{HeadPose, Subject};

/// Reference embedding: the card holder is the x axis.
fn reference() -> Embedding {
    Embedding::from_raw(&[1.0, 0.0, 0.0]).unwrap()
}

/// A live face whose cosine with the reference is `score` (a unit vector in the x-y plane),
/// with the given yaw.
fn face(score: f32, yaw: f32) -> Observation {
    let y = (1.0 - score * score).max(0.0).sqrt();
    Observation::Face(Subject {
        detection: Detection {
            bbox: [200.0, 100.0, 160.0, 200.0],
            landmarks: [[0.0; 2]; 5],
            score: 0.95,
        },
        pose: HeadPose {
            yaw,
            roll_deg: 0.0,
            pitch: 0.5,
            eye_distance: 60.0,
        },
        sharpness: 200.0,
        embedding: Embedding::from_raw(&[score, y, 0.0]).unwrap(),
    })
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn policy() -> VerifyPolicy {
    VerifyPolicy::new(PolicyConfig::default(), reference())
}

#[test]
fn matching_face_that_turns_as_asked_passes() {
    let mut p = policy();
    assert_eq!(
        p.begin_attempt(ms(0), Challenge::TurnLeft),
        Step::Continue(Prompt::LookAtCamera)
    );
    assert_eq!(
        p.on_observation(ms(100), face(0.7, 0.01)),
        Step::Continue(Prompt::LookAtCamera)
    );
    assert_eq!(
        p.on_observation(ms(200), face(0.8, 0.03)),
        Step::Continue(Prompt::Turn(Challenge::TurnLeft)),
        "two good frames above the threshold start the challenge"
    );
    assert_eq!(
        p.on_observation(ms(300), face(0.7, 0.1)),
        Step::Continue(Prompt::Turn(Challenge::TurnLeft))
    );
    assert_eq!(
        p.on_observation(ms(400), face(0.6, 0.3)),
        Step::Done(AttemptOutcome::Pass)
    );
    assert_eq!(p.failures(), 0);
    assert_eq!(p.engineering_score(), Some(0.8));
}

#[test]
fn different_person_fails_after_the_best_of_several_frames() {
    let mut p = policy();
    p.begin_attempt(ms(0), Challenge::TurnRight);
    for i in 1..5 {
        assert_eq!(
            p.on_observation(ms(i * 100), face(0.2, 0.0)),
            Step::Continue(Prompt::LookAtCamera)
        );
    }
    assert_eq!(
        p.on_observation(ms(500), face(0.3, 0.0)),
        Step::Done(AttemptOutcome::Fail {
            reason: FailReason::NoMatch,
            attempts_left: 2
        })
    );
    assert_eq!(p.engineering_score(), Some(0.3));
}

#[test]
fn one_good_frame_among_poor_ones_is_enough_to_go_on() {
    let mut p = policy();
    p.begin_attempt(ms(0), Challenge::TurnRight);
    p.on_observation(ms(100), face(0.2, 0.0));
    p.on_observation(ms(200), face(0.1, 0.0));
    assert_eq!(
        p.on_observation(ms(300), face(0.5, 0.0)),
        Step::Continue(Prompt::Turn(Challenge::TurnRight))
    );
}

#[test]
fn three_failures_then_the_alternative_is_offered() {
    let mut p = policy();
    let mut outcomes = Vec::new();
    for attempt in 0..3u64 {
        let t0 = attempt * 10_000;
        p.begin_attempt(ms(t0), Challenge::TurnLeft);
        let mut last = Step::Continue(Prompt::LookAtCamera);
        for i in 1..=5 {
            last = p.on_observation(ms(t0 + i * 100), face(0.1, 0.0));
        }
        outcomes.push(last);
    }
    assert_eq!(
        outcomes,
        vec![
            Step::Done(AttemptOutcome::Fail {
                reason: FailReason::NoMatch,
                attempts_left: 2
            }),
            Step::Done(AttemptOutcome::Fail {
                reason: FailReason::NoMatch,
                attempts_left: 1
            }),
            Step::Done(AttemptOutcome::UseAlternative),
        ]
    );
    assert!(p.exhausted());
    assert_eq!(
        p.begin_attempt(ms(40_000), Challenge::TurnLeft),
        Step::Done(AttemptOutcome::UseAlternative),
        "no fourth attempt"
    );
    assert_eq!(
        p.on_observation(ms(40_100), face(0.9, 0.0)),
        Step::Done(AttemptOutcome::UseAlternative),
        "a matching face after the limit changes nothing"
    );
}

#[test]
fn unusable_frames_give_live_hints_then_a_retry_that_costs_nothing() {
    let mut p = policy();
    p.begin_attempt(ms(0), Challenge::TurnLeft);
    assert_eq!(
        p.on_observation(ms(100), Observation::Rejected(QualityIssue::NoFace)),
        Step::Continue(Prompt::Hint(Hint::NoFace))
    );
    assert_eq!(
        p.on_observation(ms(200), Observation::Rejected(QualityIssue::SeveralFaces)),
        Step::Continue(Prompt::Hint(Hint::SeveralFaces))
    );
    assert_eq!(
        p.on_observation(ms(300), Observation::Rejected(QualityIssue::TooSmall)),
        Step::Continue(Prompt::Hint(Hint::MoveCloser))
    );
    assert_eq!(
        p.on_observation(ms(400), face(0.9, 0.4)),
        Step::Continue(Prompt::Hint(Hint::LookAtCamera)),
        "a turned face is not used for the match"
    );
    assert_eq!(
        p.on_observation(ms(500), Observation::Rejected(QualityIssue::SeveralFaces)),
        Step::Continue(Prompt::Hint(Hint::SeveralFaces))
    );
    assert_eq!(
        p.on_observation(ms(4100), Observation::Rejected(QualityIssue::SeveralFaces)),
        Step::Done(AttemptOutcome::Retry {
            hint: Hint::SeveralFaces
        }),
        "the most frequent problem is the hint"
    );
    assert_eq!(p.failures(), 0);
    assert_eq!(p.engineering_score(), None);
}

#[test]
fn a_still_photo_that_matches_fails_the_challenge() {
    let mut p = policy();
    p.begin_attempt(ms(0), Challenge::TurnLeft);
    p.on_observation(ms(100), face(0.8, 0.02));
    assert_eq!(
        p.on_observation(ms(200), face(0.8, 0.02)),
        Step::Continue(Prompt::Turn(Challenge::TurnLeft))
    );
    let mut t = 200;
    let last = loop {
        t += 100;
        match p.on_observation(ms(t), face(0.8, 0.02)) {
            Step::Continue(prompt) => assert_eq!(prompt, Prompt::Turn(Challenge::TurnLeft)),
            done => break done,
        }
        assert!(t < 20_000, "the challenge never ended");
    };
    assert_eq!(
        last,
        Step::Done(AttemptOutcome::Fail {
            reason: FailReason::Liveness(LivenessFailure::NoTurn),
            attempts_left: 2
        })
    );
    assert!(t > 6000, "the citizen had the whole budget ({t} ms)");
}

#[test]
fn turning_the_wrong_way_fails() {
    let mut p = policy();
    p.begin_attempt(ms(0), Challenge::TurnRight);
    p.on_observation(ms(100), face(0.8, 0.0));
    assert!(!p.in_challenge());
    p.on_observation(ms(200), face(0.8, 0.0));
    assert!(p.in_challenge(), "two matching frames start the challenge");
    // The challenge's first frame, before the citizen reacts, is its baseline.
    p.on_observation(ms(250), face(0.8, 0.01));
    assert_eq!(
        p.on_observation(ms(300), face(0.7, 0.3)),
        Step::Done(AttemptOutcome::Fail {
            reason: FailReason::Liveness(LivenessFailure::WrongDirection),
            attempts_left: 2
        })
    );
}

#[test]
fn a_stalled_camera_ends_the_phase_on_tick() {
    let mut p = policy();
    p.begin_attempt(ms(0), Challenge::TurnRight);
    assert_eq!(p.on_tick(ms(1000)), Step::Continue(Prompt::LookAtCamera));
    assert_eq!(
        p.on_tick(ms(4001)),
        Step::Done(AttemptOutcome::Retry { hint: Hint::NoFace })
    );
    p.begin_attempt(ms(5000), Challenge::TurnRight);
    p.on_observation(ms(5100), face(0.8, 0.0));
    p.on_observation(ms(5200), face(0.8, 0.0));
    assert_eq!(
        p.on_tick(ms(8000)),
        Step::Continue(Prompt::Turn(Challenge::TurnRight))
    );
    assert_eq!(
        p.on_tick(ms(11_300)),
        Step::Done(AttemptOutcome::Fail {
            reason: FailReason::Liveness(LivenessFailure::NoTurn),
            attempts_left: 2
        })
    );
}

#[test]
fn outcomes_serialise_without_any_score() {
    let json = serde_json::to_string(&AttemptOutcome::Fail {
        reason: FailReason::NoMatch,
        attempts_left: 1,
    })
    .unwrap();
    assert_eq!(
        json,
        r#"{"outcome":"fail","reason":"no_match","attempts_left":1}"#
    );
    assert_eq!(
        serde_json::to_string(&Prompt::Turn(Challenge::TurnLeft)).unwrap(),
        r#"{"prompt":"turn","detail":"turn_left"}"#
    );
}
