//! Assembles the touch app from a configuration: the store, the data key, the catalog, the
//! workers for the configured devices, the sync engine, the window and the flow. `kiosk run`
//! shows it on the configured devices; `kiosk demo` first starts simulators and points the
//! configuration at them; UI tests build it on Slint's testing backend.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use drivers::camera::Camera;
use drivers::device::{CounterFile, SharedCounters};
use drivers::face::{resolve_models_dir, EngineConfig, PolicyConfig, Prompt};
use drivers::idcard::PhotoDecoders;
use slint::ComponentHandle;
use ui::AppWindow;

use super::flow::{Clock, Flow, Services};
use super::workers::card::CardWorker;
use super::workers::face::{FaceSetup, FaceWorker};
use super::workers::storage::{receipt_prefix, StorageSetup};
use super::workers::{EventSink, StorageWorker};
use crate::config::Config;
use crate::crypto::DataKey;
use crate::maintenance::heartbeat::MaintenanceFacts;
use crate::maintenance::{AppFacts, MetricsServer, SharedFacts, StatusCollector, SyncReport};
use crate::session::Timeouts;
use crate::store::Store;

/// Options that are not in the configuration file.
#[derive(Default)]
pub struct Extras {
    /// A camera to use instead of `devices.camera.source` (the demo's scene).
    pub camera: Option<Camera>,
    /// Told every face prompt (the demo's simulated citizen follows them).
    pub face_observer: Option<Arc<dyn Fn(Prompt) + Send + Sync>>,
    /// The clock (tests use a settable one).
    pub clock: Option<Clock>,
    /// Do not start the sync engine even when a platform is configured.
    pub no_sync: bool,
}

/// A running kiosk app.
pub struct Kiosk {
    pub window: AppWindow,
    pub flow: Rc<Flow>,
    pub sync: Option<crate::sync::SyncHandle>,
    /// The app's live facts (device reports, sync), as the diagnostics screen, the metrics,
    /// `app-state.json` and the heartbeat see them.
    pub facts: SharedFacts,
    sync_thread: Option<std::thread::JoinHandle<()>>,
    _timer: slint::Timer,
    _metrics: Option<MetricsServer>,
}

thread_local! {
    /// The flow of this UI thread, for wake-ups from the workers.
    static CURRENT: RefCell<Weak<Flow>> = const { RefCell::new(Weak::new()) };
}

/// Applies the workers' answers on the UI thread (called through Slint's event loop).
fn pump_current() {
    if let Some(flow) = CURRENT.with(|c| c.borrow().upgrade()) {
        flow.pump();
    }
}

/// Where device counters live.
pub fn counters_dir(config: &Config) -> std::path::PathBuf {
    config.data_dir.join("counters")
}

impl Kiosk {
    /// Builds everything. `wake_event_loop`: workers wake Slint's event loop to deliver
    /// their answers at once (false on the testing backend, where the test pumps).
    pub fn assemble(
        config: &Config,
        extras: Extras,
        wake_event_loop: bool,
    ) -> anyhow::Result<Kiosk> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "cannot create the data folder {}",
                config.data_dir.display()
            )
        })?;
        let counters = counters_dir(config);
        std::fs::create_dir_all(&counters)?;
        let key = Arc::new(DataKey::load_or_create(
            &config.data_path(&config.security.data_key_file),
        )?);
        let mut store = Store::open(config)?;
        let catalog = Arc::new(crate::catalog::load_active(&mut store)?);
        let maintenance_at_start = crate::maintenance::mode::get(&store)
            .map(|m| m.on)
            .unwrap_or(false);

        let wake: Arc<dyn Fn() + Send + Sync> = if wake_event_loop {
            Arc::new(|| {
                let _ = slint::invoke_from_event_loop(pump_current);
            })
        } else {
            Arc::new(|| {})
        };
        let (sink, events) = EventSink::new(wake);
        // What only the running app knows (each device's report, the sync engine), for the
        // diagnostics screen, `kiosk status`, the metrics endpoint and the heartbeat: the
        // workers publish into it; it is written to `<data_dir>/app-state.json` every 10 s.
        let facts = SharedFacts::new(AppFacts::new(crate::store::now_ms()));

        let handoff = crate::catalog::StagedHandoff::new();
        let storage = StorageWorker::start(
            StorageSetup {
                store,
                key: key.clone(),
                printer: config.devices.printer.target.clone(),
                ledger_path: config.data_dir.join("print-ledger.json"),
                counters_dir: counters.clone(),
                hall_name: config.hall_name.clone(),
                receipt_prefix: receipt_prefix(&config.kiosk_id),
                central_url: config.central.url.clone(),
                config: config.clone(),
                facts: facts.clone(),
                handoff: handoff.clone(),
            },
            sink.clone(),
        )?;
        let card = if config.devices.id_reader.port.is_empty() {
            tracing::warn!(
                "no ID card reader configured: matters that need a card are unavailable"
            );
            None
        } else {
            Some(CardWorker::start(
                &config.devices.id_reader,
                &counters,
                sink.clone(),
                facts.clone(),
            )?)
        };
        let face = face_worker(
            config,
            &counters,
            extras.camera,
            extras.face_observer,
            sink.clone(),
            &facts,
        )?;

        let (sync, sync_thread) = if config.central.url.is_empty() || extras.no_sync {
            (None, None)
        } else {
            let mut engine =
                crate::sync::SyncEngine::new(config, Store::open(config)?, key.clone())?;
            // The pull half: verify and stage what the platform publishes; the parsed catalog
            // is handed to the storage thread for the switch at Home.
            engine.set_catalog_sink(Box::new(
                crate::catalog::pull::CatalogPull::from_config(config)?
                    .with_handoff(handoff.clone()),
            ));
            // The heartbeat carries the live maintenance facts (device reports, warnings).
            engine.set_heartbeat_facts(Some(Arc::new(MaintenanceFacts::live(
                config.clone(),
                facts.clone(),
            ))));
            let handle = engine.handle();
            (Some(handle), Some(engine.spawn_thread()?))
        };

        let window = AppWindow::new().context("cannot create the window")?;
        let clock: Clock = extras.clock.unwrap_or_else(|| Rc::new(Instant::now));
        let flow = Flow::install(
            &window,
            catalog,
            Timeouts::from_config(config),
            Services {
                storage,
                face,
                card,
                sync: sync.clone(),
                maintenance_at_start,
            },
            events,
            clock,
        );
        CURRENT.with(|c| *c.borrow_mut() = Rc::downgrade(&flow));

        let metrics = if config.maintenance.metrics_port == 0 {
            None
        } else {
            let collector =
                StatusCollector::live(config.clone(), Store::open(config)?, facts.clone());
            // Citizens come first: a taken port costs the metrics, not the kiosk.
            match MetricsServer::start(config.maintenance.metrics_port, Arc::new(collector)) {
                Ok(m) => Some(m),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "metrics endpoint not started");
                    None
                }
            }
        };
        let state_config = config.clone();
        let state_sync = sync.clone();
        let state_facts = facts.clone();
        let mut next_save = Instant::now();
        // systemd (Type=notify): ready once the window exists, and the watchdog pinged from
        // the UI event loop itself, so a hung UI stops the pings and systemd restarts it.
        let notifier = crate::maintenance::Notifier::from_env();
        if let Err(e) = notifier.ready("kiosk app running") {
            tracing::warn!(error = %e, "cannot tell systemd the app is ready");
        }
        let timer = slint::Timer::default();
        let weak = Rc::downgrade(&flow);
        let every = Duration::from_millis(250);
        timer.start(slint::TimerMode::Repeated, every, move || {
            if let Some(flow) = weak.upgrade() {
                flow.pump();
                flow.tick();
            }
            if let Err(e) = notifier.ping_if_due(Instant::now()) {
                tracing::warn!(error = %e, "watchdog ping failed");
            }
            // The engine's progress at every tick (a lock and a copy), so the diagnostics
            // screen and the metrics read it current; the file every 10 s.
            if let Some(s) = &state_sync {
                let now = crate::store::now_ms();
                state_facts.set_sync(SyncReport::from_engine(&s.snapshot(), true), now);
            }
            if Instant::now() >= next_save {
                next_save = Instant::now() + Duration::from_secs(10);
                let now = crate::store::now_ms();
                if let Err(e) = state_facts.save(&state_config, now) {
                    tracing::warn!(error = %format!("{e:#}"), "cannot write the app state file");
                }
            }
        });
        Ok(Kiosk {
            window,
            flow,
            sync,
            facts,
            sync_thread,
            _timer: timer,
            _metrics: metrics,
        })
    }

    /// Shows the window and runs Slint's event loop until the window closes.
    pub fn run(self) -> anyhow::Result<()> {
        self.window.run().context("the UI event loop failed")?;
        Ok(())
    }
}

impl Drop for Kiosk {
    fn drop(&mut self) {
        if let Some(s) = &self.sync {
            s.shutdown();
        }
        if let Some(t) = self.sync_thread.take() {
            let _ = t.join();
        }
    }
}

fn face_worker(
    config: &Config,
    counters: &std::path::Path,
    camera: Option<Camera>,
    observer: Option<Arc<dyn Fn(Prompt) + Send + Sync>>,
    sink: EventSink,
    facts: &SharedFacts,
) -> anyhow::Result<Option<FaceWorker>> {
    let cam = &config.devices.camera;
    let camera = match camera {
        Some(c) => c,
        None if cam.source.is_empty() => {
            tracing::warn!("no camera configured: matters that need a face check are unavailable");
            return Ok(None);
        }
        None => Camera::from_spec(
            &cam.source,
            cam.fps,
            SharedCounters::persistent(CounterFile::new(counters.join("camera.json"))),
        )
        .with_context(|| format!("camera {}", cam.source))?,
    };
    let models_dir = resolve_models_dir(&config.data_path(&config.devices.face.models_dir));
    if !models_dir.join(drivers::face::models::YUNET_FILE).is_file() {
        tracing::warn!(
            dir = %models_dir.display(),
            "face models missing (run scripts/fetch-models.sh): face checks will be unavailable"
        );
    }
    let policy = PolicyConfig {
        threshold: config.devices.face.threshold,
        max_attempts: config.devices.face.max_attempts,
        ..PolicyConfig::default()
    };
    let worker = FaceWorker::start(
        FaceSetup {
            models_dir,
            engine: EngineConfig::default(),
            policy,
            camera,
            decoders: PhotoDecoders::from_config(&config.devices.id_reader.photo_decoder_command),
            observer,
            facts: facts.clone(),
        },
        sink,
    )?;
    Ok(Some(worker))
}
