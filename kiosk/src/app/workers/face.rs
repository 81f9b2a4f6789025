//! Face verification for the app: a thread that owns the face engine and the camera. The
//! flow asks it to begin (with the card's photo blob) and to retry; it answers with the
//! prompts the citizen should see and each attempt's outcome. The similarity score never
//! leaves this thread's policy; frames and the card photo are wiped when dropped.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use drivers::camera::Camera;
use drivers::device::{Device, DeviceState};
use drivers::face::session::run_camera_attempt;
use drivers::face::{EngineConfig, FaceEngine, PolicyConfig, Prompt, RgbRef, VerifyPolicy};
use drivers::idcard::{PhotoDecoder, PhotoDecoders};
use zeroize::Zeroizing;

use super::{EventSink, FaceUpdate, FlowEvent};

/// What the flow asks of the face thread.
pub enum FaceCmd {
    /// A new visit reached the face step: enrol the card photo and run the first attempt.
    Begin {
        visit: u64,
        photo: Zeroizing<Vec<u8>>,
    },
    /// The citizen pressed "try again".
    Retry { visit: u64 },
    /// The visit ended: forget its reference.
    End,
}

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
    while let Ok(cmd) = rx.recv() {
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
