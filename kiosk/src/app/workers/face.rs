//! Face verification for the app: a thread that owns the face engine and the camera. The
//! flow asks it to begin (with the card's photo blob) and to retry; it answers with the
//! prompts the citizen should see and each attempt's outcome. The similarity score never
//! leaves this thread's policy; frames and the card photo are wiped when dropped.
//!
//! The same thread owns the camera for the status page's QR scan (the citizen holds up the
//! printed receipt): one owner, so a scan and a face check can never fight over the device.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use drivers::camera::qr::{scan_for_qr, ScanEnd};
use drivers::camera::Camera;
use drivers::device::{Device, DeviceState};
use drivers::face::session::run_camera_attempt;
use drivers::face::{EngineConfig, FaceEngine, PolicyConfig, Prompt, RgbRef, VerifyPolicy};
use drivers::idcard::{PhotoDecoder, PhotoDecoders};
use zeroize::Zeroizing;

use super::{EventSink, FaceUpdate, FlowEvent, ScanFailure};
use crate::app::qr::receipt_number;

/// What the flow asks of the face thread.
pub enum FaceCmd {
    /// A new visit reached the face step: enrol the card photo and run the first attempt.
    Begin {
        visit: u64,
        photo: Zeroizing<Vec<u8>>,
    },
    /// The citizen pressed "try again".
    Retry { visit: u64 },
    /// The visit ended: forget its reference (and stop a scan).
    End,
    /// The status page wants a receipt QR read; answered with [`FlowEvent::Scanned`].
    Scan { query: u64 },
    /// The citizen typed the number instead: stop looking.
    StopScan,
}

/// How long the camera looks for a receipt QR before the page asks for the number instead
/// (frame time, so a file camera in tests times out the same way).
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
    loop {
        let cmd = match next.take() {
            Some(c) => c,
            None => match rx.recv() {
                Ok(c) => c,
                Err(_) => break,
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
            FaceCmd::StopScan => {}
        }
    }
}

impl State {
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
        let mut stop = || match rx.try_recv() {
            Ok(FaceCmd::StopScan | FaceCmd::End) | Err(TryRecvError::Disconnected) => true,
            Ok(other) => {
                interrupted = Some(other);
                true
            }
            Err(TryRecvError::Empty) => false,
        };
        let accept = |text: &str| receipt_number(text).is_some();
        let end = scan_for_qr(&mut self.setup.camera, SCAN_BUDGET, &accept, &mut stop);
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
