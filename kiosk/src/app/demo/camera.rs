//! The demo's camera: a scene instead of a lens. It shows the card holder, someone else or
//! nobody (chosen on the simulator panel), built from the fetched test photos, and its
//! simulated citizen follows the kiosk's prompts: asked to turn, the head starts turning that
//! way after a reaction time and turns over about a second (a synthetic turn: the columns
//! around the nose are remapped the way a 3-D head's nose moves against its eyes). Frames
//! come paced at the configured rate.
//!
//! Preparing the turned pictures needs the nose position, which the demo takes once from the
//! face detector; the verification itself runs untouched on these frames.
//!
//! On the status page the citizen can also hold up a printed receipt: the scene then shows
//! the printer simulator's rendering of it (its PNG), so the QR the kiosk reads is the one
//! the printer drew from the ESC/POS bytes.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use drivers::camera::files::load_picture;
use drivers::camera::{CameraError, Frame, FrameSource};
use drivers::face::{Challenge, FaceEngine, HeadPose, Prompt};

/// Who stands in front of the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Holder,
    Someone,
    Nobody,
    /// A printed receipt held up to the camera (see [`Scene::hold_up`]).
    Receipt,
}

/// One person's pictures: looking ahead, and turning left and right in three steps.
struct Person {
    frontal: Frame,
    left: Vec<Frame>,
    right: Vec<Frame>,
}

struct SceneState {
    who: Who,
    turn: Option<(Challenge, Instant)>,
    /// The receipt held up, fitted to the frame.
    receipt: Option<Frame>,
}

/// The scene, shared by the camera (reading) and the panel and prompt observer (writing).
pub struct Scene {
    holder: Option<Person>,
    someone: Option<Person>,
    nobody: Frame,
    state: Mutex<SceneState>,
}

/// Size of the demo's camera frames (a kiosk camera's view of one person).
const WIDTH: u32 = 455;
const HEIGHT: u32 = 568;
/// How far the head turns in each step, in eye distances.
const TURN_STEPS: [f32; 3] = [0.25, 0.45, 0.65];
/// Time between the turn's steps.
const STEP_TIME: Duration = Duration::from_millis(300);
/// Time a citizen takes to start turning once asked (people need a few hundred
/// milliseconds; the kiosk takes the challenge's first frame as the frontal baseline).
const REACTION: Duration = Duration::from_millis(400);

impl Scene {
    /// Builds the scene from `faces_dir` (obama.jpg as the holder, biden.jpg as someone
    /// else). Without the photos or the models the scene still runs, showing nobody.
    pub fn load(faces_dir: &Path, models_dir: &Path) -> Scene {
        let engine = FaceEngine::load(models_dir, Default::default()).ok();
        let mut engine = engine;
        let mut person = |file: &str, keep: f32| -> Option<Person> {
            let picture = load_picture(&faces_dir.join(file)).ok()?;
            let frontal = fit(&picture, keep, WIDTH, HEIGHT)?;
            let e = engine.as_mut()?;
            let d = *e.detect(frontal.view()).ok()?.first()?;
            let eyes = HeadPose::from_landmarks(&d.landmarks)?.eye_distance;
            let nose = d.landmarks[2][0];
            let steps = |sign: f32| {
                TURN_STEPS
                    .iter()
                    .filter_map(|a| turned(&frontal, nose, eyes, sign * eyes * a))
                    .collect::<Vec<_>>()
            };
            // A positive shift moves the nose to the picture's right: the subject turns to
            // their left.
            let left = steps(1.0);
            let right = steps(-1.0);
            Some(Person {
                frontal,
                left,
                right,
            })
        };
        // obama.jpg is a head-and-shoulders portrait; biden.jpg a full figure, of which the
        // upper part frames the face at a kiosk camera's size.
        let holder = person("obama.jpg", 1.0);
        let someone = person("biden.jpg", 0.45);
        let nobody = Frame::new(
            WIDTH as usize,
            HEIGHT as usize,
            vec![200; (WIDTH * HEIGHT * 3) as usize],
            Duration::ZERO,
        )
        .unwrap_or_else(|_| unreachable_frame());
        Scene {
            holder,
            someone,
            nobody,
            state: Mutex::new(SceneState {
                who: Who::Holder,
                turn: None,
                receipt: None,
            }),
        }
    }

    /// Whether the photos and models were there (else the camera only ever shows nobody).
    pub fn has_people(&self) -> bool {
        self.holder.is_some() && self.someone.is_some()
    }

    fn state(&self) -> MutexGuard<'_, SceneState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_who(&self, who: Who) {
        self.state().who = who;
    }

    pub fn who(&self) -> Who {
        self.state().who
    }

    /// The citizen holds `picture` (a printed receipt) up to the camera, at arm's length:
    /// the whole paper fitted into the frame on the grey background.
    pub fn hold_up(&self, picture: &Frame) -> anyhow::Result<()> {
        let framed = letterbox(picture, WIDTH, HEIGHT)
            .ok_or_else(|| anyhow::anyhow!("the receipt picture cannot be framed"))?;
        let mut st = self.state();
        st.receipt = Some(framed);
        st.who = Who::Receipt;
        Ok(())
    }

    /// The simulated citizen hears a prompt: turns when asked, looks ahead otherwise.
    pub fn prompt(&self, p: Prompt) {
        let mut st = self.state();
        match p {
            Prompt::Turn(c) => {
                if st.turn.map(|(t, _)| t) != Some(c) {
                    st.turn = Some((c, Instant::now()));
                }
            }
            _ => st.turn = None,
        }
    }

    fn frame_at(&self, at: Duration) -> Frame {
        let st = self.state();
        let person = match st.who {
            Who::Holder => self.holder.as_ref(),
            Who::Someone => self.someone.as_ref(),
            Who::Nobody => None,
            Who::Receipt => {
                return match &st.receipt {
                    Some(r) => r.retimed(at),
                    None => self.nobody.retimed(at),
                }
            }
        };
        let Some(p) = person else {
            return self.nobody.retimed(at);
        };
        match st.turn {
            None => p.frontal.retimed(at),
            Some((c, since)) => {
                let Some(turning) = since.elapsed().checked_sub(REACTION) else {
                    return p.frontal.retimed(at);
                };
                let steps = if c == Challenge::TurnLeft {
                    &p.left
                } else {
                    &p.right
                };
                let i = (turning.as_millis() / STEP_TIME.as_millis().max(1)) as usize;
                match steps.get(i.min(steps.len().saturating_sub(1))) {
                    Some(f) => f.retimed(at),
                    None => p.frontal.retimed(at),
                }
            }
        }
    }
}

fn unreachable_frame() -> Frame {
    // 1x1 grey: only if the fixed-size buffer above were ever wrong.
    Frame::new(1, 1, vec![200; 3], Duration::ZERO).unwrap_or_else(|_| std::process::abort())
}

/// The top `keep` (0..=1) of the picture, resized to `w` x `h`: the framing of one person at
/// arm's length (a full-figure photo keeps only its upper part).
fn fit(f: &Frame, keep: f32, w: u32, h: u32) -> Option<Frame> {
    let img = image::RgbImage::from_raw(
        f.width() as u32,
        f.height() as u32,
        f.view().data().to_vec(),
    )?;
    let ch = ((img.height() as f32 * keep.clamp(0.1, 1.0)) as u32).max(1);
    let top = image::imageops::crop_imm(&img, 0, 0, img.width(), ch).to_image();
    let out = image::imageops::resize(&top, w, h, image::imageops::FilterType::Triangle);
    Frame::new(w as usize, h as usize, out.into_raw(), Duration::ZERO).ok()
}

/// `f` scaled to fit inside `w` x `h` (aspect kept), centred on the scene's grey.
fn letterbox(f: &Frame, w: u32, h: u32) -> Option<Frame> {
    let img = image::RgbImage::from_raw(
        f.width() as u32,
        f.height() as u32,
        f.view().data().to_vec(),
    )?;
    let scale = (w as f32 / img.width() as f32).min(h as f32 / img.height() as f32);
    let (sw, sh) = (
        ((img.width() as f32 * scale) as u32).clamp(1, w),
        ((img.height() as f32 * scale) as u32).clamp(1, h),
    );
    let small = image::imageops::resize(&img, sw, sh, image::imageops::FilterType::Triangle);
    let mut out = image::RgbImage::from_pixel(w, h, image::Rgb([200, 200, 200]));
    image::imageops::overlay(
        &mut out,
        &small,
        i64::from((w - sw) / 2),
        i64::from((h - sh) / 2),
    );
    Frame::new(w as usize, h as usize, out.into_raw(), Duration::ZERO).ok()
}

/// A synthetic head turn (see the module docs): columns between `nose_x ± half_width` are
/// remapped so the nose column moves by `shift` while the band's edges stay put.
fn turned(f: &Frame, nose_x: f32, half_width: f32, shift: f32) -> Option<Frame> {
    if shift.abs() >= half_width {
        return None;
    }
    let (w, h) = (f.width(), f.height());
    let src = f.view().data();
    let (l, r, c) = (nose_x - half_width, nose_x + half_width, nose_x + shift);
    let src_x = |x: f32| -> f32 {
        if x <= l || x >= r {
            x
        } else if x <= c {
            l + (x - l) * (nose_x - l) / (c - l)
        } else {
            nose_x + (x - c) * (r - nose_x) / (r - c)
        }
    };
    let mut out = vec![0u8; w * h * 3];
    for x in 0..w {
        let sx = src_x(x as f32 + 0.5) - 0.5;
        let x0 = sx.floor().clamp(0.0, (w - 1) as f32) as usize;
        let x1 = (x0 + 1).min(w - 1);
        let t = (sx - x0 as f32).clamp(0.0, 1.0);
        for y in 0..h {
            for k in 0..3 {
                let a = f32::from(src[(y * w + x0) * 3 + k]);
                let b = f32::from(src[(y * w + x1) * 3 + k]);
                out[(y * w + x) * 3 + k] = (a * (1.0 - t) + b * t).round() as u8;
            }
        }
    }
    Frame::new(w, h, out, Duration::ZERO).ok()
}

/// The scene as a frame source for [`drivers::camera::Camera`].
pub struct SceneCamera {
    scene: Arc<Scene>,
    fps: u32,
    started: Option<Instant>,
    count: u64,
}

impl SceneCamera {
    pub fn new(scene: Arc<Scene>, fps: u32) -> SceneCamera {
        SceneCamera {
            scene,
            fps: fps.max(1),
            started: None,
            count: 0,
        }
    }
}

impl FrameSource for SceneCamera {
    fn describe(&self) -> String {
        format!("demo scene at {} fps", self.fps)
    }

    fn open(&mut self) -> Result<(), CameraError> {
        self.started = Some(Instant::now());
        self.count = 0;
        Ok(())
    }

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let started = self.started.ok_or(CameraError::NotOpen)?;
        let due = Duration::from_secs_f64(self.count as f64 / f64::from(self.fps));
        let elapsed = started.elapsed();
        if due > elapsed {
            std::thread::sleep(due - elapsed);
        }
        self.count += 1;
        Ok(self.scene.frame_at(due))
    }

    fn close(&mut self) {
        self.started = None;
    }

    fn is_open(&self) -> bool {
        self.started.is_some()
    }
}
