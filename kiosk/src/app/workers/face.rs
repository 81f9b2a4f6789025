//! Face verification for the app: a thread that owns the face engine and the camera. The
//! flow asks it to begin (with the card's photo blob) and to retry; it answers with the
//! prompts the citizen should see and each attempt's outcome. The similarity score never
//! leaves this thread's policy; frames and the card photo are wiped when dropped.
//!
//! The same thread owns the camera for the status page's QR scan (the citizen holds up the
//! printed receipt) and for the diagnostics screen's preview with face boxes: one owner, so
//! a scan, a preview and a face check can never fight over the device.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use drivers::camera::qr::{scan_for_qr, ScanEnd};
use drivers::camera::Camera;
use drivers::device::{Device, DeviceState};
use drivers::face::session::run_camera_attempt;
use drivers::face::{EngineConfig, FaceEngine, PolicyConfig, Prompt, RgbRef, VerifyPolicy};
use drivers::idcard::{PhotoDecoder, PhotoDecoders};
use zeroize::Zeroizing;

use super::preview::annotate;
use super::staff::StaffAnswer;
use super::{EventSink, FaceUpdate, FlowEvent, PreviewUpdate, ScanFailure};
use crate::app::qr::receipt_number;
use crate::maintenance::{DeviceReport, SharedFacts};

/// What the flow asks of the face thread.
pub enum FaceCmd {
    /// A new visit reached the face step: enrol the card photo and run the first attempt.
    Begin {
        visit: u64,
        photo: Zeroizing<Vec<u8>>,
    },
    /// The citizen pressed "try again".
    Retry {
        visit: u64,
    },
    /// The visit ended: forget its reference (and stop a scan).
    End,
    /// The status page wants a receipt QR read; answered with [`FlowEvent::Scanned`].
    Scan {
        query: u64,
    },
    /// The citizen typed the number instead: stop looking.
    StopScan,
    /// The diagnostics screen shows the camera: stream annotated pictures until
    /// [`FaceCmd::StopPreview`] (or any other command), at most [`PREVIEW_BUDGET`].
    Preview {
        tag: u64,
    },
    StopPreview,
    /// Staff restart the camera from the diagnostics screen: release, close, open, claim,
    /// enable, one test frame; answered with `StaffAnswer::Restarted`.
    Restart,
}

/// A forgotten preview stops by itself after this long (it costs a core).
const PREVIEW_BUDGET: Duration = Duration::from_secs(120);
/// How often the camera's report is refreshed in the app's facts while nothing happens.
const REPORT_EVERY: Duration = Duration::from_secs(10);
/// Pictures sent to the screen per second (the detector runs only on those).
const PREVIEW_FPS: u32 = 4;
/// Width of the preview pictures.
const PREVIEW_WIDTH: u32 = 320;
/// The camera's name in the app's facts and the staff answers.
pub const CAMERA: &str = "camera";

/// How long the camera looks for a receipt QR before the page asks for the number instead.
/// Wall-clock time here: a simulated camera that was idle delivers its backlog of frame
/// times in a burst, which would spend a frame-time budget in a moment.
const SCAN_BUDGET: Duration = Duration::from_secs(20);

/// Everything the face thread needs.
pub struct FaceSetup {
    pub models_dir: PathBuf,
    pub engine: EngineConfig,
    pub policy: PolicyConfig,
    pub camera: Camera,
    pub decoders: PhotoDecoders,
    /// Told every prompt too (the demo's simulated citizen follows the prompts with it).
    pub observer: Option<Arc<dyn Fn(Prompt) + Send + Sync>>,
    /// Where the camera's device report goes (diagnostics, metrics, heartbeat).
    pub facts: SharedFacts,
}

/// The running face thread; dropping it stops the thread after the current attempt.
pub struct FaceWorker {
    tx: Option<Sender<FaceCmd>>,
    thread: Option<JoinHandle<()>>,
}

impl FaceWorker {
    pub fn start(setup: FaceSetup, sink: EventSink) -> anyhow::Result<FaceWorker> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("face".into())
            .spawn(move || run(setup, rx, sink))?;
        Ok(FaceWorker {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn send(&self, cmd: FaceCmd) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(cmd);
        }
    }
}

impl Drop for FaceWorker {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct State {
    setup: FaceSetup,
    engine: Option<FaceEngine>,
    /// The current visit and its policy (holds the card photo's embedding).
    current: Option<(u64, VerifyPolicy)>,
    sink: EventSink,
}

fn run(setup: FaceSetup, rx: Receiver<FaceCmd>, sink: EventSink) {
    let mut st = State {
        setup,
        engine: None,
        current: None,
        sink,
    };
    // A command that arrived during a scan and ended it, to be handled next.
    let mut next: Option<FaceCmd> = None;
    st.report();
    loop {
        let cmd = match next.take() {
            Some(c) => c,
            None => match rx.recv_timeout(REPORT_EVERY) {
                Ok(c) => c,
                Err(RecvTimeoutError::Timeout) => {
                    st.report();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            },
        };
        match cmd {
            FaceCmd::Begin { visit, photo } => {
                st.current = None;
                match st.enrol(&photo) {
                    Ok(policy) => {
                        st.current = Some((visit, policy));
                        st.attempt(visit);
                    }
                    Err(why) => st.tell(visit, FaceUpdate::Unavailable(why)),
                }
            }
            FaceCmd::Retry { visit } => {
                if st.current.as_ref().is_some_and(|(v, _)| *v == visit) {
                    st.attempt(visit);
                }
            }
            FaceCmd::End => st.current = None,
            FaceCmd::Scan { query } => next = st.scan(query, &rx),
            FaceCmd::Preview { tag } => next = st.preview(tag, &rx),
            FaceCmd::Restart => st.restart(),
            FaceCmd::StopScan | FaceCmd::StopPreview => {}
        }
        st.report();
    }
}

impl State {
    /// Publishes the camera's state, last error, health text and counters.
    fn report(&mut self) {
        let now = crate::store::now_ms();
        let report = DeviceReport::observe(&mut self.setup.camera, now);
        self.setup.facts.set_device(CAMERA, report, now);
    }

    /// Reopens the camera the way the device model asks and proves it with one frame.
    fn restart(&mut self) {
        let cam = &mut self.setup.camera;
        cam.count("staff_restarts");
        let _ = cam.release();
        cam.close();
        let result = cam
            .open()
            .and_then(|()| cam.claim())
            .and_then(|()| cam.enable())
            .and_then(|()| cam.start_stream())
            .map_err(|e| format!("{e:#}"))
            .and_then(|()| {
                let frame = cam.next_frame().map_err(|e| format!("reopened, but {e}"));
                cam.stop_stream();
                frame.map(|f| format!("reopened, one {}x{} frame", f.width(), f.height()))
            });
        let (ok, detail) = match result {
            Ok(d) => (true, d),
            Err(e) => (false, e),
        };
        tracing::info!(ok, "staff restarted the camera");
        self.sink.send(FlowEvent::Staff(StaffAnswer::Restarted {
            device: CAMERA.into(),
            ok,
            detail,
        }));
    }

    fn tell(&self, visit: u64, update: FaceUpdate) {
        self.sink.send(FlowEvent::Face { visit, update });
    }

    fn engine(&mut self) -> Result<&mut FaceEngine, String> {
        if self.engine.is_none() {
            let engine = FaceEngine::load(&self.setup.models_dir, self.setup.engine)
                .map_err(|e| format!("face models: {e}"))?;
            self.engine = Some(engine);
        }
        self.engine
            .as_mut()
            .ok_or_else(|| "face engine not loaded".to_string())
    }

    /// Opens, claims and enables the camera unless it is ready (at the first attempt, and
    /// again after a failure put it in error: an unplugged camera that came back).
    fn ready_camera(&mut self) -> anyhow::Result<()> {
        let cam = &mut self.setup.camera;
        if cam.state() == DeviceState::Error {
            cam.close();
        }
        if cam.state() == DeviceState::Closed {
            cam.open()?;
        }
        if !cam.core_mut().is_claimed() {
            cam.claim()?;
        }
        if !cam.core_mut().is_enabled() {
            cam.enable()?;
        }
        Ok(())
    }

    /// Looks for a receipt QR until one is read, the budget passes, or another command
    /// arrives (returned, to be handled next).
    fn scan(&mut self, query: u64, rx: &Receiver<FaceCmd>) -> Option<FaceCmd> {
        let tell = |sink: &EventSink, result| sink.send(FlowEvent::Scanned { query, result });
        if let Err(e) = self.ready_camera() {
            tell(
                &self.sink,
                Err(ScanFailure::Unavailable(format!("camera: {e:#}"))),
            );
            return None;
        }
        let mut interrupted = None;
        let deadline = Instant::now() + SCAN_BUDGET;
        let mut timed_out = false;
        let mut stop = || match rx.try_recv() {
            Ok(FaceCmd::StopScan | FaceCmd::End) | Err(TryRecvError::Disconnected) => true,
            Ok(other) => {
                interrupted = Some(other);
                true
            }
            Err(TryRecvError::Empty) => {
                timed_out = Instant::now() >= deadline;
                timed_out
            }
        };
        let accept = |text: &str| receipt_number(text).is_some();
        // The budget is the wall-clock deadline above; no frame-time budget.
        let end =
            scan_for_qr(&mut self.setup.camera, Duration::MAX, &accept, &mut stop).map(|end| {
                match end {
                    ScanEnd::Stopped if timed_out => ScanEnd::TimedOut,
                    other => other,
                }
            });
        match end {
            Ok(ScanEnd::Found(text)) => {
                if let Some(number) = receipt_number(&text) {
                    tracing::info!("status page: receipt QR read");
                    tell(&self.sink, Ok(number));
                }
            }
            Ok(ScanEnd::TimedOut) => {
                tracing::info!("status page: no receipt QR seen");
                tell(&self.sink, Err(ScanFailure::NothingSeen));
            }
            Ok(ScanEnd::Stopped) => {}
            Err(e) => {
                tell(
                    &self.sink,
                    Err(ScanFailure::Unavailable(format!("camera: {e:#}"))),
                );
            }
        }
        interrupted
    }

    /// Streams preview pictures with face boxes to the diagnostics screen until another
    /// command arrives (returned, to be handled next) or the budget passes.
    fn preview(&mut self, tag: u64, rx: &Receiver<FaceCmd>) -> Option<FaceCmd> {
        let tell = |sink: &EventSink, update| sink.send(FlowEvent::Preview { tag, update });
        if let Err(e) = self
            .ready_camera()
            .and_then(|()| self.setup.camera.start_stream())
        {
            tell(
                &self.sink,
                PreviewUpdate::Ended(Some(format!("camera: {e:#}"))),
            );
            return None;
        }
        // Without the models the preview still shows the picture, without boxes.
        let _ = self.engine();
        let mut interrupted = None;
        let started = Instant::now();
        let mut next_due = Duration::ZERO;
        let ended = loop {
            match rx.try_recv() {
                Ok(FaceCmd::StopPreview) | Err(TryRecvError::Disconnected) => break None,
                Ok(other) => {
                    interrupted = Some(other);
                    break None;
                }
                Err(TryRecvError::Empty) => {}
            }
            let frame = match self.setup.camera.next_frame() {
                Ok(f) => f,
                Err(e) => break Some(format!("camera: {e}")),
            };
            let at = started.elapsed();
            if at >= PREVIEW_BUDGET {
                break None;
            }
            if at < next_due {
                continue;
            }
            next_due = at + Duration::from_millis(1000 / u64::from(PREVIEW_FPS));
            let faces = match self.engine.as_mut() {
                Some(e) => e.detect(frame.view()).unwrap_or_default(),
                None => Vec::new(),
            };
            let picture = annotate(&frame, &faces, PREVIEW_WIDTH);
            if !tell(&self.sink, PreviewUpdate::Frame(picture)) {
                break None;
            }
        };
        self.setup.camera.stop_stream();
        tell(&self.sink, PreviewUpdate::Ended(ended));
        interrupted
    }

    /// The card photo's embedding as the reference of a new policy.
    fn enrol(&mut self, blob: &[u8]) -> Result<VerifyPolicy, String> {
        let portrait = self
            .setup
            .decoders
            .decode(blob)
            .map_err(|e| format!("card photo: {e}"))?;
        let policy_config = self.setup.policy;
        let engine = self.engine()?;
        let view = RgbRef::new(
            portrait.width as usize,
            portrait.height as usize,
            portrait.rgb(),
        )
        .map_err(|e| format!("card photo: {e}"))?;
        let reference = engine
            .enrol_id_photo(view)
            .map_err(|e| format!("card photo: {e}"))?
            .ok_or_else(|| "no usable face on the card photo".to_string())?;
        Ok(VerifyPolicy::new(policy_config, reference))
    }

    fn attempt(&mut self, visit: u64) {
        let Some((_, mut policy)) = self.current.take() else {
            return;
        };
        let sink = self.sink.clone();
        let observer = self.setup.observer.clone();
        let mut on_prompt = |p: Prompt| {
            if let Some(o) = &observer {
                o(p);
            }
            sink.send(FlowEvent::Face {
                visit,
                update: FaceUpdate::Prompt(p),
            });
        };
        if let Err(e) = self.engine() {
            self.tell(visit, FaceUpdate::Unavailable(e));
            return;
        }
        if let Err(e) = self.ready_camera() {
            self.tell(visit, FaceUpdate::Unavailable(format!("camera: {e:#}")));
            return;
        }
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        let result = run_camera_attempt(
            &mut self.setup.camera,
            engine,
            &mut policy,
            &mut rand::thread_rng(),
            &mut on_prompt,
        )
        .map_err(|e| e.to_string());
        match result {
            Ok(outcome) => {
                self.current = Some((visit, policy));
                self.tell(visit, FaceUpdate::Outcome(outcome));
            }
            Err(e) => self.tell(visit, FaceUpdate::Unavailable(e)),
        }
    }
}
