//! Active liveness: a random head-turn challenge, judged from landmark geometry across frames
//! (sans-IO: subjects and timestamps in, a verdict out).
//!
//! The citizen is asked to turn the head left or right. We pass when the yaw (nose offset
//! from the face's centre line, in eye distances; see [`HeadPose::yaw`]) moves from its
//! baseline by at least `min_turn` in the asked direction, within the time budget, while
//! every frame stays the same person (embedding close to the matched frontal frame) and the
//! face does not jump across the picture. The baseline is the challenge's first usable frame,
//! taken before the citizen has reacted to the prompt (people need a few hundred
//! milliseconds; the next camera frame comes within a tenth of a second), so every yaw of a
//! challenge comes from the same detection and only the motion counts.
//!
//! What it stops: a printed photo held still or waved, a photo turned or bent sideways (a
//! flat picture squeezed sideways keeps its yaw ratio), a still picture on a screen, and a
//! recorded clip turning the wrong way or at the wrong time. What it does not stop: a replayed
//! video of the holder turning the right way, a 3-D mask, or a deep-fake fed to the camera;
//! those need certified presentation-attack detection hardware (e.g. IR/depth cameras).
//!
//! [`HeadPose::yaw`]: super::quality::HeadPose::yaw

use std::time::Duration;

use rand::Rng;
use serde::Serialize;

use super::embed::{cosine, Embedding};
use super::quality::Subject;

/// The direction the citizen is asked to turn, in the citizen's own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Challenge {
    TurnLeft,
    TurnRight,
}

impl Challenge {
    /// A fresh random challenge per attempt, so a clip recorded for one cannot be planned.
    pub fn random(rng: &mut impl Rng) -> Challenge {
        if rng.gen_bool(0.5) {
            Challenge::TurnLeft
        } else {
            Challenge::TurnRight
        }
    }

    /// +1 when the asked turn raises the yaw. The subject's left is the picture's right in an
    /// unmirrored camera frame, and positive yaw is the nose towards the picture's right.
    fn yaw_sign(self) -> f32 {
        match self {
            Challenge::TurnLeft => 1.0,
            Challenge::TurnRight => -1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LivenessConfig {
    /// Time to complete the turn once asked.
    pub budget: Duration,
    /// Yaw change (eye distances) that counts as a turn: 0.18 is about 20 degrees.
    pub min_turn: f32,
    /// Cosine each challenge frame must keep with the matched frontal frame.
    pub same_person: f32,
    /// Largest move of the face centre between two frames, in face widths.
    pub max_jump: f32,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        LivenessConfig {
            budget: Duration::from_secs(6),
            min_turn: 0.18,
            same_person: 0.5,
            max_jump: 0.5,
        }
    }
}

/// Why a challenge failed (for counters and logs; the citizen just sees "fail").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LivenessFailure {
    /// No turn within the budget (a still photo or screen).
    NoTurn,
    /// Turned the other way.
    WrongDirection,
    /// The face stopped being the matched person, or jumped.
    IdentityChanged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LivenessVerdict {
    Pending,
    Passed,
    Failed(LivenessFailure),
}

/// One running challenge.
#[derive(Debug)]
pub struct LivenessCheck {
    challenge: Challenge,
    /// The first usable frame's yaw.
    baseline_yaw: Option<f32>,
    anchor: Embedding,
    started: Duration,
    last_centre: Option<[f32; 2]>,
    config: LivenessConfig,
    verdict: LivenessVerdict,
}

impl LivenessCheck {
    /// Starts a challenge at `now` with the best-matching frame's embedding (the anchor every
    /// frame must stay close to).
    pub fn new(
        challenge: Challenge,
        anchor: Embedding,
        now: Duration,
        config: LivenessConfig,
    ) -> LivenessCheck {
        LivenessCheck {
            challenge,
            baseline_yaw: None,
            anchor,
            started: now,
            last_centre: None,
            config,
            verdict: LivenessVerdict::Pending,
        }
    }

    pub fn challenge(&self) -> Challenge {
        self.challenge
    }

    /// Judges one frame with a usable face.
    pub fn on_subject(&mut self, now: Duration, s: &Subject) -> LivenessVerdict {
        if self.verdict != LivenessVerdict::Pending {
            return self.verdict;
        }
        if self.timed_out(now) {
            return self.finish(LivenessVerdict::Failed(LivenessFailure::NoTurn));
        }
        let b = s.detection.bbox;
        let centre = [b[0] + b[2] / 2.0, b[1] + b[3] / 2.0];
        if let Some(last) = self.last_centre {
            let jump = ((centre[0] - last[0]).powi(2) + (centre[1] - last[1]).powi(2)).sqrt();
            if jump > self.config.max_jump * b[2].max(1.0) {
                return self.finish(LivenessVerdict::Failed(LivenessFailure::IdentityChanged));
            }
        }
        self.last_centre = Some(centre);
        if cosine(&self.anchor, &s.embedding) < self.config.same_person {
            return self.finish(LivenessVerdict::Failed(LivenessFailure::IdentityChanged));
        }
        let baseline = *self.baseline_yaw.get_or_insert(s.pose.yaw);
        let turned = (s.pose.yaw - baseline) * self.challenge.yaw_sign();
        if turned >= self.config.min_turn {
            self.finish(LivenessVerdict::Passed)
        } else if turned <= -self.config.min_turn {
            self.finish(LivenessVerdict::Failed(LivenessFailure::WrongDirection))
        } else {
            LivenessVerdict::Pending
        }
    }

    /// Judges the passing of time (a frame without a usable face, or no frame at all).
    pub fn on_time(&mut self, now: Duration) -> LivenessVerdict {
        if self.verdict == LivenessVerdict::Pending && self.timed_out(now) {
            return self.finish(LivenessVerdict::Failed(LivenessFailure::NoTurn));
        }
        self.verdict
    }

    fn timed_out(&self, now: Duration) -> bool {
        now.saturating_sub(self.started) > self.config.budget
    }

    fn finish(&mut self, v: LivenessVerdict) -> LivenessVerdict {
        self.verdict = v;
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::detect::Detection;
    use crate::face::quality::HeadPose;

    fn subject(yaw: f32, x: f32, emb: &[f32]) -> Subject {
        Subject {
            detection: Detection {
                bbox: [x, 100.0, 150.0, 190.0],
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
            embedding: Embedding::from_raw(emb).unwrap(),
        }
    }

    fn check(ch: Challenge) -> LivenessCheck {
        let anchor = Embedding::from_raw(&[1.0, 0.0]).unwrap();
        LivenessCheck::new(ch, anchor, Duration::ZERO, LivenessConfig::default())
    }

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn turning_the_asked_way_passes() {
        let mut c = check(Challenge::TurnLeft);
        assert_eq!(
            c.on_subject(ms(100), &subject(0.05, 200.0, &[1.0, 0.1])),
            LivenessVerdict::Pending
        );
        assert_eq!(
            c.on_subject(ms(200), &subject(0.12, 205.0, &[1.0, 0.1])),
            LivenessVerdict::Pending
        );
        assert_eq!(
            c.on_subject(ms(300), &subject(0.25, 210.0, &[1.0, 0.2])),
            LivenessVerdict::Passed
        );
    }

    #[test]
    fn turning_right_lowers_the_yaw() {
        let mut c = check(Challenge::TurnRight);
        c.on_subject(ms(100), &subject(0.02, 200.0, &[1.0, 0.0]));
        assert_eq!(
            c.on_subject(ms(300), &subject(-0.2, 200.0, &[1.0, 0.1])),
            LivenessVerdict::Passed
        );
    }

    #[test]
    fn turning_the_other_way_fails() {
        let mut c = check(Challenge::TurnRight);
        c.on_subject(ms(100), &subject(0.02, 200.0, &[1.0, 0.0]));
        assert_eq!(
            c.on_subject(ms(300), &subject(0.25, 200.0, &[1.0, 0.0])),
            LivenessVerdict::Failed(LivenessFailure::WrongDirection)
        );
        // The verdict sticks.
        assert_eq!(
            c.on_subject(ms(400), &subject(-0.3, 200.0, &[1.0, 0.0])),
            LivenessVerdict::Failed(LivenessFailure::WrongDirection)
        );
    }

    #[test]
    fn only_motion_from_the_first_frame_counts() {
        // A face already turned when the challenge starts (a photo of a turned head) gives
        // the baseline; holding it there is no turn.
        let mut c = check(Challenge::TurnLeft);
        for t in [100, 200, 300] {
            assert_eq!(
                c.on_subject(ms(t), &subject(0.3, 200.0, &[1.0, 0.0])),
                LivenessVerdict::Pending
            );
        }
        assert_eq!(
            c.on_subject(ms(400), &subject(0.5, 200.0, &[1.0, 0.0])),
            LivenessVerdict::Passed
        );
    }

    #[test]
    fn a_still_face_times_out() {
        let mut c = check(Challenge::TurnLeft);
        for t in (0..=6000).step_by(500) {
            assert_eq!(
                c.on_subject(ms(t), &subject(0.02, 200.0, &[1.0, 0.0])),
                LivenessVerdict::Pending
            );
        }
        assert_eq!(
            c.on_subject(ms(6100), &subject(0.02, 200.0, &[1.0, 0.0])),
            LivenessVerdict::Failed(LivenessFailure::NoTurn)
        );
    }

    #[test]
    fn no_frames_time_out_too() {
        let mut c = check(Challenge::TurnLeft);
        assert_eq!(c.on_time(ms(5000)), LivenessVerdict::Pending);
        assert_eq!(
            c.on_time(ms(6001)),
            LivenessVerdict::Failed(LivenessFailure::NoTurn)
        );
    }

    #[test]
    fn another_person_turning_fails() {
        let mut c = check(Challenge::TurnLeft);
        assert_eq!(
            c.on_subject(ms(300), &subject(0.3, 200.0, &[0.0, 1.0])),
            LivenessVerdict::Failed(LivenessFailure::IdentityChanged)
        );
    }

    #[test]
    fn a_jumping_face_fails() {
        let mut c = check(Challenge::TurnLeft);
        c.on_subject(ms(100), &subject(0.02, 100.0, &[1.0, 0.0]));
        assert_eq!(
            c.on_subject(ms(200), &subject(0.3, 400.0, &[1.0, 0.0])),
            LivenessVerdict::Failed(LivenessFailure::IdentityChanged)
        );
    }

    #[test]
    fn random_challenges_use_both_directions() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let picks: Vec<Challenge> = (0..64).map(|_| Challenge::random(&mut rng)).collect();
        assert!(picks.contains(&Challenge::TurnLeft) && picks.contains(&Challenge::TurnRight));
    }
}
