//! The kiosk's work that must never run on the UI thread: the card reader's poll loop, the
//! face engine and camera, the database and the printer. Each runs on a thread of its own,
//! takes commands on a channel and answers with [`FlowEvent`]s that the UI thread drains
//! (`app::flow::Flow::pump`). Results of a visit carry the visit's number, so an answer that
//! arrives after the citizen left is dropped instead of reaching the next citizen.

pub mod card;
pub mod face;
pub mod preview;
pub mod printer;
pub mod staff;
pub mod storage;

use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;

use drivers::face::{AttemptOutcome, Prompt};
use drivers::idcard::CardEvent;

use crate::catalog::Catalog;
use crate::outbox::Enqueued;

pub use storage::{LocalStatus, ReceiptJob, StorageCmd, StorageWorker};

/// What comes back to the UI thread.
#[derive(Debug)]
pub enum FlowEvent {
    Card(CardEvent),
    Face {
        visit: u64,
        update: FaceUpdate,
    },
    /// The submissions are durably queued (or why not).
    Submitted {
        visit: u64,
        result: Result<Submitted, crate::session::SubmitError>,
    },
    /// The receipt came out of the printer, or could not (then it is shown as a QR).
    Printed {
        visit: u64,
        printed: bool,
    },
    /// The answer to a status query typed or scanned on the status page.
    Status {
        query: u64,
        answer: Option<LocalStatus>,
    },
    /// The camera read a receipt QR on the status page (the receipt number), or why not.
    Scanned {
        query: u64,
        result: Result<String, ScanFailure>,
    },
    /// The diagnostics screen's camera preview.
    Preview {
        tag: u64,
        update: PreviewUpdate,
    },
    /// A staged catalog was switched in at Home.
    CatalogSwitched(Arc<Catalog>),
    /// An answer for the diagnostics screen.
    Staff(staff::StaffAnswer),
}

/// A face attempt's progress.
#[derive(Debug)]
pub enum FaceUpdate {
    Prompt(Prompt),
    Outcome(AttemptOutcome),
    /// Face matching cannot run (models missing, camera gone, card photo unusable).
    Unavailable(String),
}

/// Why a receipt QR scan gave no number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanFailure {
    /// The camera looked for the whole budget and saw no receipt code.
    NothingSeen,
    /// No camera (none configured, unplugged, failed).
    Unavailable(String),
}

/// The camera preview's progress.
#[derive(Debug)]
pub enum PreviewUpdate {
    Frame(preview::PreviewFrame),
    /// The preview stopped: asked to, its time ran out, or the camera failed (why).
    Ended(Option<String>),
}

/// A visit's submissions as queued.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub queued: Vec<Enqueued>,
    /// The number printed on the receipt and typed on the status page.
    pub receipt_no: String,
    /// `YYYY-MM-DD HH:MM`, local time.
    pub at: String,
}

/// How a worker hands an event to the UI thread: it sends on the channel, then calls `wake`
/// (in the app: schedule a pump on Slint's event loop; in tests: nothing, the test pumps).
#[derive(Clone)]
pub struct EventSink {
    tx: Sender<FlowEvent>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl EventSink {
    pub fn new(wake: Arc<dyn Fn() + Send + Sync>) -> (EventSink, Receiver<FlowEvent>) {
        let (tx, rx) = std::sync::mpsc::channel();
        (EventSink { tx, wake }, rx)
    }

    /// Sends; false when the UI is gone (the worker should stop).
    pub fn send(&self, event: FlowEvent) -> bool {
        if self.tx.send(event).is_err() {
            return false;
        }
        (self.wake)();
        true
    }
}
