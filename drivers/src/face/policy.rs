//! The verification policy, sans-IO: observations with timestamps in, prompts and decisions
//! out. No camera, no clock, no models: the session feeds it, tests drive it directly.
//!
//! One attempt has two phases:
//! 1. Match: frontal, sharp frames are compared with the card photo; the best score over up
//!    to `match_frames` good frames within `match_budget` decides. When no frame was usable
//!    the attempt ends in a retry with the most frequent hint, which costs no attempt.
//! 2. Challenge: a random head turn ([`LivenessCheck`]) by the same person.
//!
//! A failed match or challenge counts; after `max_attempts` failures the citizen is offered
//! the matter's non-face alternative or staff help. The score never leaves this module
//! except through [`VerifyPolicy::engineering_score`], which the citizen's screen never uses.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

use super::embed::{cosine, Embedding};
use super::liveness::{Challenge, LivenessCheck, LivenessConfig, LivenessFailure, LivenessVerdict};
use super::quality::{self, Observation, QualityConfig, QualityIssue};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolicyConfig {
    /// Cosine needed to call the live face the card holder (OpenCV's SFace value 0.363).
    pub threshold: f32,
    /// Failed attempts before the citizen is offered another way.
    pub max_attempts: u32,
    /// Time to collect frames for the 1:1 match.
    pub match_budget: Duration,
    /// Good frames after which the match is decided even if the budget is not used up.
    pub match_frames: usize,
    /// Good frames needed before a match ends the match phase early (one lucky frame is not
    /// enough).
    pub min_frames: usize,
    pub quality: QualityConfig,
    pub liveness: LivenessConfig,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            threshold: 0.363,
            max_attempts: 3,
            match_budget: Duration::from_secs(4),
            match_frames: 5,
            min_frames: 2,
            quality: QualityConfig::default(),
            liveness: LivenessConfig::default(),
        }
    }
}

/// A hint the citizen sees when a frame or an attempt could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hint {
    NoFace,
    SeveralFaces,
    LookAtCamera,
    MoveCloser,
    HoldStill,
}

impl From<QualityIssue> for Hint {
    fn from(q: QualityIssue) -> Self {
        match q {
            QualityIssue::NoFace => Hint::NoFace,
            QualityIssue::SeveralFaces => Hint::SeveralFaces,
            QualityIssue::TooSmall => Hint::MoveCloser,
            QualityIssue::NotFrontal => Hint::LookAtCamera,
            QualityIssue::Blurred => Hint::HoldStill,
        }
    }
}

/// What the screen shows while an attempt runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "prompt", content = "detail")]
pub enum Prompt {
    /// Look at the camera (the attempt's opening prompt, and all is well so far).
    LookAtCamera,
    /// Fix this and keep going.
    Hint(Hint),
    /// Turn the head this way.
    Turn(Challenge),
}

/// Why an attempt failed: for counters and logs only. Serialises as its [`code`].
///
/// [`code`]: FailReason::code
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    /// The live face is not the card's holder.
    NoMatch,
    Liveness(LivenessFailure),
}

impl FailReason {
    /// A short code for counters (`fail_no_match`, `fail_liveness_no_turn`...).
    pub fn code(self) -> &'static str {
        match self {
            FailReason::NoMatch => "no_match",
            FailReason::Liveness(LivenessFailure::NoTurn) => "liveness_no_turn",
            FailReason::Liveness(LivenessFailure::WrongDirection) => "liveness_wrong_direction",
            FailReason::Liveness(LivenessFailure::IdentityChanged) => "liveness_identity_changed",
        }
    }
}

/// The end of one attempt, as the UI sees it: pass, fail, retry with a hint, or another way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum AttemptOutcome {
    Pass,
    Fail {
        reason: FailReason,
        attempts_left: u32,
    },
    /// Nothing usable was seen; costs no attempt.
    Retry {
        hint: Hint,
    },
    /// Too many failures: offer the matter's non-face alternative or staff help.
    UseAlternative,
}

impl AttemptOutcome {
    /// Counter for the diagnostics screen: `verify_pass`, `verify_fail_no_match`,
    /// `verify_retry_no_face`, `verify_alternative`...
    pub fn counter_key(&self) -> String {
        match self {
            AttemptOutcome::Pass => "verify_pass".into(),
            AttemptOutcome::Fail { reason, .. } => format!("verify_fail_{}", reason.code()),
            AttemptOutcome::Retry { hint } => format!("verify_retry_{}", hint.code()),
            AttemptOutcome::UseAlternative => "verify_alternative".into(),
        }
    }
}

impl Hint {
    pub fn code(self) -> &'static str {
        match self {
            Hint::NoFace => "no_face",
            Hint::SeveralFaces => "several_faces",
            Hint::LookAtCamera => "look_at_camera",
            Hint::MoveCloser => "move_closer",
            Hint::HoldStill => "hold_still",
        }
    }
}

impl Serialize for FailReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Continue(Prompt),
    Done(AttemptOutcome),
}

#[derive(Debug)]
enum Phase {
    Idle,
    Matching(Matching),
    Challenge(LivenessCheck),
}

#[derive(Debug)]
struct Matching {
    started: Duration,
    challenge: Challenge,
    best: Option<(f32, Embedding)>,
    good: usize,
    issues: HashMap<QualityIssue, u32>,
}

/// The decision machine for one citizen's session (one card photo).
#[derive(Debug)]
pub struct VerifyPolicy {
    config: PolicyConfig,
    reference: Embedding,
    failures: u32,
    phase: Phase,
    last_score: Option<f32>,
}

impl VerifyPolicy {
    /// `reference` is the card photo's embedding; it is wiped when the policy is dropped.
    pub fn new(config: PolicyConfig, reference: Embedding) -> VerifyPolicy {
        VerifyPolicy {
            config,
            reference,
            failures: 0,
            phase: Phase::Idle,
            last_score: None,
        }
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn exhausted(&self) -> bool {
        self.failures >= self.config.max_attempts
    }

    /// Whether the head-turn challenge is running: its frames want the finer detection
    /// ([`super::FaceEngine::observe_turn`]).
    pub fn in_challenge(&self) -> bool {
        matches!(self.phase, Phase::Challenge(_))
    }

    /// Best score of the last attempt's match phase. For engineering tools and tests only:
    /// the citizen is never shown a score.
    pub fn engineering_score(&self) -> Option<f32> {
        self.last_score
    }

    /// Starts an attempt at `now` with a challenge the caller drew at random.
    pub fn begin_attempt(&mut self, now: Duration, challenge: Challenge) -> Step {
        if self.exhausted() {
            self.phase = Phase::Idle;
            return Step::Done(AttemptOutcome::UseAlternative);
        }
        self.last_score = None;
        self.phase = Phase::Matching(Matching {
            started: now,
            challenge,
            best: None,
            good: 0,
            issues: HashMap::new(),
        });
        Step::Continue(Prompt::LookAtCamera)
    }

    /// Feeds one analysed frame taken at `now`.
    pub fn on_observation(&mut self, now: Duration, obs: Observation) -> Step {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Idle => Step::Done(self.idle_outcome()),
            Phase::Matching(m) => self.matching(now, m, obs),
            Phase::Challenge(c) => self.challenge(now, c, obs),
        }
    }

    /// Time passed with no frame (a stalled camera): ends a phase whose budget ran out.
    pub fn on_tick(&mut self, now: Duration) -> Step {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Idle => Step::Done(self.idle_outcome()),
            Phase::Matching(m) => {
                if now.saturating_sub(m.started) > self.config.match_budget {
                    self.decide_match(now, m)
                } else {
                    self.phase = Phase::Matching(m);
                    Step::Continue(Prompt::LookAtCamera)
                }
            }
            Phase::Challenge(mut c) => match c.on_time(now) {
                LivenessVerdict::Pending => {
                    let ch = c.challenge();
                    self.phase = Phase::Challenge(c);
                    Step::Continue(Prompt::Turn(ch))
                }
                v => self.end_challenge(v),
            },
        }
    }

    fn idle_outcome(&self) -> AttemptOutcome {
        if self.exhausted() {
            AttemptOutcome::UseAlternative
        } else {
            // Frames outside an attempt are a caller bug; nothing is decided from them.
            AttemptOutcome::Retry {
                hint: Hint::LookAtCamera,
            }
        }
    }

    fn matching(&mut self, now: Duration, mut m: Matching, obs: Observation) -> Step {
        let usable = match obs {
            Observation::Rejected(issue) => Err(issue),
            Observation::Face(s) => quality::check_for_match(&s, &self.config.quality).map(|_| s),
        };
        let prompt = match usable {
            Err(issue) => {
                *m.issues.entry(issue).or_insert(0) += 1;
                Prompt::Hint(issue.into())
            }
            Ok(s) => {
                let score = cosine(&self.reference, &s.embedding);
                m.good += 1;
                if m.best.as_ref().is_none_or(|(b, _)| score > *b) {
                    m.best = Some((score, s.embedding));
                }
                Prompt::LookAtCamera
            }
        };
        let matched = m
            .best
            .as_ref()
            .is_some_and(|(b, _)| *b >= self.config.threshold);
        let expired = now.saturating_sub(m.started) > self.config.match_budget;
        if (matched && m.good >= self.config.min_frames)
            || m.good >= self.config.match_frames
            || expired
        {
            return self.decide_match(now, m);
        }
        self.phase = Phase::Matching(m);
        Step::Continue(prompt)
    }

    fn decide_match(&mut self, now: Duration, mut m: Matching) -> Step {
        let Some((best, anchor)) = m.best.take() else {
            // Nothing usable: tell the citizen the most frequent problem; no attempt spent.
            let hint = m
                .issues
                .iter()
                .max_by_key(|(issue, n)| (**n, std::cmp::Reverse(**issue as u8)))
                .map(|(issue, _)| Hint::from(*issue))
                .unwrap_or(Hint::NoFace);
            return Step::Done(AttemptOutcome::Retry { hint });
        };
        self.last_score = Some(best);
        if best < self.config.threshold {
            return Step::Done(self.fail(FailReason::NoMatch));
        }
        let check = LivenessCheck::new(m.challenge, anchor, now, self.config.liveness);
        self.phase = Phase::Challenge(check);
        Step::Continue(Prompt::Turn(m.challenge))
    }

    fn challenge(&mut self, now: Duration, mut c: LivenessCheck, obs: Observation) -> Step {
        let (verdict, prompt) = match obs {
            Observation::Face(s) if quality::check_for_turn(&s, &self.config.quality).is_ok() => {
                (c.on_subject(now, &s), Prompt::Turn(c.challenge()))
            }
            Observation::Rejected(QualityIssue::SeveralFaces) => {
                (c.on_time(now), Prompt::Hint(Hint::SeveralFaces))
            }
            // Blurred or tilted while turning, or the face lost for a moment: only time counts.
            _ => (c.on_time(now), Prompt::Turn(c.challenge())),
        };
        if verdict == LivenessVerdict::Pending {
            self.phase = Phase::Challenge(c);
            return Step::Continue(prompt);
        }
        self.end_challenge(verdict)
    }

    fn end_challenge(&mut self, verdict: LivenessVerdict) -> Step {
        match verdict {
            LivenessVerdict::Passed => Step::Done(AttemptOutcome::Pass),
            LivenessVerdict::Failed(f) => Step::Done(self.fail(FailReason::Liveness(f))),
            LivenessVerdict::Pending => Step::Continue(Prompt::LookAtCamera),
        }
    }

    fn fail(&mut self, reason: FailReason) -> AttemptOutcome {
        self.failures += 1;
        if self.exhausted() {
            AttemptOutcome::UseAlternative
        } else {
            AttemptOutcome::Fail {
                reason,
                attempts_left: self.config.max_attempts - self.failures,
            }
        }
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
