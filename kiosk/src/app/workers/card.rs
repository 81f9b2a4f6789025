//! The ID card reader for the app: the driver's poll thread ([`drivers::idcard::Poller`])
//! plus a thread that forwards its events to the UI thread.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use drivers::device::{CounterFile, SharedCounters};
use drivers::idcard::{IdCardReader, Poller, ReaderConfig};

use super::{EventSink, FlowEvent};
use crate::config::IdReaderConfig;

/// The running reader; dropping it stops both threads.
pub struct CardWorker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CardWorker {
    /// Starts polling the reader on `config.port` (the port may be absent at start: the
    /// poller keeps trying to open it and reports `ReaderLost`/`ReaderReady`).
    pub fn start(
        config: &IdReaderConfig,
        counters_dir: &Path,
        sink: EventSink,
    ) -> anyhow::Result<CardWorker> {
        anyhow::ensure!(
            !config.port.is_empty(),
            "no ID card reader port: set devices.id_reader.port (or run `kiosk demo`)"
        );
        let mut rc = ReaderConfig::new(config.port.clone());
        rc.baud = config.baud;
        rc.poll_interval = Duration::from_millis(config.poll_ms.max(20));
        let counters =
            SharedCounters::persistent(CounterFile::new(counters_dir.join("id_reader.json")));
        let reader = IdCardReader::new(rc, counters);
        let poller = Poller::spawn(reader);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("card-events".into())
            .spawn(move || forward(poller, sink, flag))?;
        Ok(CardWorker {
            stop,
            thread: Some(thread),
        })
    }
}

fn forward(poller: Poller, sink: EventSink, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        match poller.events().recv_timeout(Duration::from_millis(100)) {
            Ok(event) => {
                if !sink.send(FlowEvent::Card(event)) {
                    break;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    poller.stop();
}

impl Drop for CardWorker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
