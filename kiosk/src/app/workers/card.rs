//! The ID card reader for the app: the driver's poll thread ([`drivers::idcard::Poller`])
//! plus a thread that forwards its events to the UI thread. The forwarding thread also
//! keeps the reader's report in the app's facts (state, last error, `check_health` text,
//! counters: at start, whenever the link comes or goes, and every [`LOOK_EVERY`]), and
//! carries out staff's restart from the diagnostics screen, so neither ever waits on the UI
//! thread.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use drivers::device::{CounterFile, Device, SharedCounters};
use drivers::idcard::{CardEvent, IdCardReader, Poller, ReaderConfig};

use super::staff::StaffAnswer;
use super::{EventSink, FlowEvent};
use crate::config::IdReaderConfig;
use crate::maintenance::report::DeviceReport;
use crate::maintenance::SharedFacts;
use crate::store::now_ms;

/// The device's name in reports and counters.
pub const NAME: &str = "id_reader";

/// How often the reader's health is asked for while nothing happens (two SAM commands).
pub const LOOK_EVERY: Duration = Duration::from_secs(10);

/// What the flow asks of the reader's thread.
enum CardCmd {
    Restart,
}

/// The running reader; dropping it stops both threads.
pub struct CardWorker {
    stop: Arc<AtomicBool>,
    cmds: Sender<CardCmd>,
    thread: Option<JoinHandle<()>>,
}

impl CardWorker {
    /// Starts polling the reader on `config.port` (the port may be absent at start: the
    /// poller keeps trying to open it and reports `ReaderLost`/`ReaderReady`).
    pub fn start(
        config: &IdReaderConfig,
        counters_dir: &Path,
        sink: EventSink,
        facts: SharedFacts,
    ) -> anyhow::Result<CardWorker> {
        anyhow::ensure!(
            !config.port.is_empty(),
            "no ID card reader port: set devices.id_reader.port (or run `kiosk demo`)"
        );
        let mut rc = ReaderConfig::new(config.port.clone());
        rc.baud = config.baud;
        rc.poll_interval = Duration::from_millis(config.poll_ms.max(20));
        let counters =
            SharedCounters::persistent(CounterFile::new(counters_dir.join(format!("{NAME}.json"))));
        let reader = IdCardReader::new(rc, counters);
        let poller = Poller::spawn(reader);
        let stop = Arc::new(AtomicBool::new(false));
        let (cmds, cmd_rx) = std::sync::mpsc::channel();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("card-events".into())
            .spawn(move || forward(poller, sink, flag, cmd_rx, facts))?;
        Ok(CardWorker {
            stop,
            cmds,
            thread: Some(thread),
        })
    }

    /// Staff's restart: closes the port and opens, claims and enables the reader again, on
    /// the reader's own thread. Returns at once; the result comes back as
    /// [`StaffAnswer::Restarted`].
    pub fn restart(&self) {
        let _ = self.cmds.send(CardCmd::Restart);
    }
}

fn forward(
    poller: Poller,
    sink: EventSink,
    stop: Arc<AtomicBool>,
    cmds: Receiver<CardCmd>,
    facts: SharedFacts,
) {
    let reader = poller.reader();
    let mut next_look = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        while let Ok(cmd) = cmds.try_recv() {
            match cmd {
                CardCmd::Restart => {
                    let result = restart(&reader);
                    look(&reader, &facts);
                    next_look = Instant::now() + LOOK_EVERY;
                    let (ok, detail) = match result {
                        Ok(d) => (true, d),
                        Err(e) => (false, e),
                    };
                    tracing::info!(ok, "staff restarted the ID card reader");
                    let answer = StaffAnswer::Restarted {
                        device: NAME.into(),
                        ok,
                        detail,
                    };
                    if !sink.send(FlowEvent::Staff(answer)) {
                        break;
                    }
                }
            }
        }
        match poller.events().recv_timeout(Duration::from_millis(100)) {
            Ok(event) => {
                // The link came or went: the report follows at once, not at the next look.
                let link = matches!(event, CardEvent::ReaderReady | CardEvent::ReaderLost { .. });
                if !sink.send(FlowEvent::Card(event)) {
                    break;
                }
                if link {
                    next_look = Instant::now();
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if Instant::now() >= next_look {
            look(&reader, &facts);
            next_look = Instant::now() + LOOK_EVERY;
        }
    }
    poller.stop();
}

/// Publishes the reader's report (`check_health` asks the SAM when the port is open).
fn look(reader: &Mutex<IdCardReader>, facts: &SharedFacts) {
    let now = now_ms();
    let report = {
        let mut r = reader.lock().unwrap_or_else(|p| p.into_inner());
        DeviceReport::observe(&mut *r, now)
    };
    facts.set_device(NAME, report, now);
}

/// Release, close, open, claim, enable (the device model's order), then one SAM status
/// query to prove the reader answers. The poller carries on with the reopened port; when
/// this fails the port stays closed and the poller reopens it with its backoff.
fn restart(reader: &Mutex<IdCardReader>) -> Result<String, String> {
    let mut r = reader.lock().unwrap_or_else(|p| p.into_inner());
    r.core().counters.incr("staff_restarts");
    // Release cannot fail for the reader; a reader that is gone has nothing to release.
    let _ = r.release();
    r.close();
    let port = r.config().port.clone();
    r.open()
        .and_then(|()| r.claim())
        .and_then(|()| r.enable())
        .map_err(|e| format!("{e:#}"))?;
    r.sam_status()
        .map_err(|e| format!("{port} reopened, but the reader does not answer: {e}"))?;
    Ok(format!("{port} reopened, SAM ok"))
}

impl Drop for CardWorker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
