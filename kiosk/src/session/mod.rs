//! The citizen's session as a state machine with no UI, no device and no clock inside: the
//! app feeds it what happened (a touch, a card read, a face decision, a tick of the clock)
//! and shows what it says. Every personal datum of the visit lives in [`Visit`], which is
//! zeroized and dropped on cancel, timeout and the return to Home.
//!
//! Steps: Home -> Guide (matter chosen, pick a situation) -> Card -> Face -> Form -> Review
//! -> Submitting -> Receipt -> Rating -> Home, skipping Card and Face when the matter's
//! identity level does not need them.

mod submit;
mod visit;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use submit::{submit, SubmitError};
pub use visit::{CardHolder, Target, Visit};

use crate::catalog::{Catalog, FieldError, IdentityLevel};
use crate::outbox::{Applicant, Enqueued, NewSubmission};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Home,
    Guide,
    Card,
    Face,
    Form,
    Review,
    Submitting,
    Receipt,
    Rating,
}

/// What the face check said (the policy in `drivers::face` decides; the session only counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceOutcome {
    Pass,
    Fail,
}

/// Why the session went back to Home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Cancelled,
    TimedOut,
    Finished,
}

/// An action that does not fit the current step, or data that does not fit the form.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlowError {
    #[error("cannot {action} at step {step:?}")]
    WrongStep { action: &'static str, step: Step },
    #[error("no matter or bundle {0} in the catalog")]
    UnknownTarget(String),
    #[error("no situation {0} for this matter")]
    UnknownSituation(String),
    #[error("field {0} came from the ID card and cannot be changed")]
    FieldLocked(String),
    #[error("no field {0} in this form")]
    UnknownField(String),
    #[error("the form has {} problem(s)", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("this visit has already been rated")]
    AlreadyRated,
    #[error("a rating is 1 to 5, not {0}")]
    BadRating(u8),
    #[error("the face check failed {0} times; use another way to prove identity")]
    FaceLockedOut(u32),
}

/// Timeouts of a step.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub step: Duration,
    pub warning: Duration,
    /// Face failures allowed before the citizen is offered the non-face way.
    pub max_face_failures: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            step: Duration::from_secs(70),
            warning: Duration::from_secs(15),
            max_face_failures: 3,
        }
    }
}

impl Timeouts {
    pub fn from_config(c: &crate::config::Config) -> Timeouts {
        Timeouts {
            step: Duration::from_secs(c.session.step_timeout_s),
            warning: Duration::from_secs(c.session.warning_s.min(c.session.step_timeout_s)),
            max_face_failures: c.devices.face.max_attempts,
        }
    }
}

/// What a clock tick found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Nothing to show.
    Quiet,
    /// Show the idle warning with this many whole seconds left.
    Warning { seconds_left: u64 },
    /// The session timed out and went Home; everything personal was wiped.
    TimedOut,
}

/// The session.
#[derive(Debug)]
pub struct Session {
    step: Step,
    timeouts: Timeouts,
    /// The last touch (or step change): the timeout counts from here.
    last_activity: Instant,
    visit: Option<Visit>,
    ended: Option<EndReason>,
}

impl Session {
    pub fn new(timeouts: Timeouts, now: Instant) -> Session {
        Session {
            step: Step::Home,
            timeouts,
            last_activity: now,
            visit: None,
            ended: None,
        }
    }

    pub fn step(&self) -> Step {
        self.step
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    pub fn visit(&self) -> Option<&Visit> {
        self.visit.as_ref()
    }

    /// Why the last visit ended (until the next one starts).
    pub fn last_end(&self) -> Option<EndReason> {
        self.ended
    }

    fn visit_mut(&mut self, action: &'static str) -> Result<&mut Visit, FlowError> {
        let step = self.step;
        self.visit
            .as_mut()
            .ok_or(FlowError::WrongStep { action, step })
    }

    fn expect(&self, action: &'static str, steps: &[Step]) -> Result<(), FlowError> {
        if steps.contains(&self.step) {
            Ok(())
        } else {
            Err(FlowError::WrongStep {
                action,
                step: self.step,
            })
        }
    }

    fn go(&mut self, step: Step, now: Instant) {
        self.step = step;
        self.last_activity = now;
    }

    /// Any touch on the screen: extends the step's time.
    pub fn touch(&mut self, now: Instant) {
        self.last_activity = now;
    }

    /// The clock: shows the warning, or ends the visit when the step has been idle too long.
    /// Home has no timeout (nothing to protect there).
    pub fn tick(&mut self, now: Instant) -> Tick {
        if self.step == Step::Home {
            return Tick::Quiet;
        }
        let idle = now.saturating_duration_since(self.last_activity);
        if idle >= self.timeouts.step {
            self.end(EndReason::TimedOut, now);
            return Tick::TimedOut;
        }
        let left = self.timeouts.step - idle;
        if left <= self.timeouts.warning {
            // Round up: "15 s left" at the moment the warning appears.
            let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            return Tick::Warning { seconds_left: secs };
        }
        Tick::Quiet
    }

    /// Cancel from any step: back to Home, visit wiped.
    pub fn cancel(&mut self, now: Instant) {
        if self.step != Step::Home {
            self.end(EndReason::Cancelled, now);
        }
    }

    fn end(&mut self, reason: EndReason, now: Instant) {
        if let Some(mut v) = self.visit.take() {
            v.wipe();
        }
        self.ended = Some(reason);
        self.go(Step::Home, now);
    }

    /// The citizen picked a matter or bundle (from Home, search or a theme).
    pub fn choose(&mut self, catalog: &Catalog, code: &str, now: Instant) -> Result<(), FlowError> {
        self.expect("choose a matter", &[Step::Home, Step::Guide])?;
        let visit = Visit::start(catalog, code)
            .ok_or_else(|| FlowError::UnknownTarget(code.to_string()))?;
        if let Some(mut old) = self.visit.replace(visit) {
            old.wipe();
        }
        self.ended = None;
        self.go(Step::Guide, now);
        Ok(())
    }

    /// The citizen picked a situation in the guide and goes on.
    pub fn choose_situation(&mut self, situation: &str, now: Instant) -> Result<(), FlowError> {
        self.expect("choose a situation", &[Step::Guide])?;
        let v = self.visit_mut("choose a situation")?;
        if !v.situations.iter().any(|s| s == situation) {
            return Err(FlowError::UnknownSituation(situation.to_string()));
        }
        v.situation = situation.to_string();
        let next = match v.identity {
            IdentityLevel::None => Step::Form,
            IdentityLevel::Card | IdentityLevel::CardFace => Step::Card,
        };
        self.go(next, now);
        Ok(())
    }

    /// The reader read a card. Prefills (and locks) the form fields that come from the card.
    pub fn card_read(&mut self, holder: CardHolder, now: Instant) -> Result<(), FlowError> {
        self.expect("read a card", &[Step::Card])?;
        let v = self.visit_mut("read a card")?;
        v.set_card(holder);
        let next = if v.identity == IdentityLevel::CardFace {
            Step::Face
        } else {
            Step::Form
        };
        self.go(next, now);
        Ok(())
    }

    /// The face policy decided. Pass goes to the form; the last allowed failure leaves the
    /// citizen on the Face step with `face_locked_out`, where the UI offers the alternative.
    pub fn face_decided(&mut self, outcome: FaceOutcome, now: Instant) -> Result<(), FlowError> {
        self.expect("decide on the face", &[Step::Face])?;
        let max = self.timeouts.max_face_failures;
        let v = self.visit_mut("decide on the face")?;
        if v.face_failures >= max {
            return Err(FlowError::FaceLockedOut(v.face_failures));
        }
        match outcome {
            FaceOutcome::Pass => {
                v.verified_by = "card+face".into();
                self.go(Step::Form, now);
            }
            FaceOutcome::Fail => {
                v.face_failures += 1;
                self.touch(now);
            }
        }
        Ok(())
    }

    /// Whether the citizen used up the face attempts (the UI offers the non-face way).
    pub fn face_locked_out(&self) -> bool {
        self.visit
            .as_ref()
            .is_some_and(|v| v.face_failures >= self.timeouts.max_face_failures)
    }

    /// A form field changed.
    pub fn edit(&mut self, field: &str, value: &str, now: Instant) -> Result<(), FlowError> {
        self.expect("edit the form", &[Step::Form])?;
        let v = self.visit_mut("edit the form")?;
        if v.form.field(field).is_none() {
            return Err(FlowError::UnknownField(field.to_string()));
        }
        if v.locked.contains(field) {
            return Err(FlowError::FieldLocked(field.to_string()));
        }
        v.set_value(field, value);
        self.touch(now);
        Ok(())
    }

    /// Problems of the form as filled now (shown beside the fields).
    pub fn form_errors(&self) -> Vec<FieldError> {
        match &self.visit {
            Some(v) => v.form.validate(&v.values).err().unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// Form -> Review, only when the form is valid.
    pub fn review(&mut self, now: Instant) -> Result<(), FlowError> {
        self.expect("review", &[Step::Form])?;
        let errors = self.form_errors();
        if !errors.is_empty() {
            return Err(FlowError::Invalid(errors));
        }
        self.go(Step::Review, now);
        Ok(())
    }

    /// Review -> back to the form to change something.
    pub fn back_to_form(&mut self, now: Instant) -> Result<(), FlowError> {
        self.expect("go back to the form", &[Step::Review])?;
        self.go(Step::Form, now);
        Ok(())
    }

    /// Review -> Submitting. Returns what to queue (one submission per matter; a bundle gives
    /// one per member matter, all written in one transaction by the caller).
    pub fn begin_submit(
        &mut self,
        catalog_version: u64,
        now: Instant,
    ) -> Result<Vec<NewSubmission>, FlowError> {
        self.expect("submit", &[Step::Review])?;
        let v = self.visit_mut("submit")?;
        let errors = v.form.validate(&v.values).err().unwrap_or_default();
        if !errors.is_empty() {
            return Err(FlowError::Invalid(errors));
        }
        let applicant = v.applicant();
        let subs = v
            .members
            .iter()
            .map(|(code, fields)| NewSubmission {
                matter_code: code.clone(),
                situation: v.situation.clone(),
                catalog_version,
                applicant: applicant.clone(),
                form: fields
                    .iter()
                    .filter_map(|f| v.values.get(f).map(|val| (f.clone(), val.clone())))
                    .collect::<BTreeMap<_, _>>(),
                attachments: vec![],
            })
            .collect();
        self.go(Step::Submitting, now);
        Ok(subs)
    }

    /// The submissions are durably queued: show the receipt.
    pub fn submitted(&mut self, queued: Vec<Enqueued>, now: Instant) -> Result<(), FlowError> {
        self.expect("finish submitting", &[Step::Submitting])?;
        let v = self.visit_mut("finish submitting")?;
        v.queued = queued;
        self.go(Step::Receipt, now);
        Ok(())
    }

    /// Queuing failed (disk full, read-only disk): back to Review, nothing lost on screen,
    /// the UI shows why.
    pub fn submit_failed(&mut self, now: Instant) -> Result<(), FlowError> {
        self.expect("report a failed submission", &[Step::Submitting])?;
        self.go(Step::Review, now);
        Ok(())
    }

    /// Receipt -> Rating.
    pub fn to_rating(&mut self, now: Instant) -> Result<(), FlowError> {
        self.expect("go to rating", &[Step::Receipt])?;
        self.go(Step::Rating, now);
        Ok(())
    }

    /// One rating a visit (1..=5), then Home. Returns the visit id and the target code to
    /// store with the rating.
    pub fn rate(&mut self, level: u8, now: Instant) -> Result<(String, String), FlowError> {
        self.expect("rate", &[Step::Rating])?;
        if !(1..=5).contains(&level) {
            return Err(FlowError::BadRating(level));
        }
        let v = self.visit_mut("rate")?;
        if v.rated {
            return Err(FlowError::AlreadyRated);
        }
        v.rated = true;
        let out = (v.id.clone(), v.target.code().to_string());
        self.end(EndReason::Finished, now);
        Ok(out)
    }

    /// Leave the receipt or rating without rating: Home.
    pub fn finish(&mut self, now: Instant) -> Result<(), FlowError> {
        self.expect("finish", &[Step::Receipt, Step::Rating])?;
        self.end(EndReason::Finished, now);
        Ok(())
    }
}

/// What the applicant object of a submission says for a visit without a card.
pub fn anonymous_applicant() -> Applicant {
    Applicant {
        id_type: "none".into(),
        id_number: String::new(),
        name: String::new(),
        verified_by: "none".into(),
    }
}

#[cfg(test)]
mod tests;
