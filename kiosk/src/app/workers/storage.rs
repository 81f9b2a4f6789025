//! The database and the printer for the app, on one thread: queue a visit's submissions
//! (one durable transaction), print its receipt, store its rating, answer status queries,
//! and switch in a staged catalog when the kiosk is back at Home. The printer sits here
//! because a receipt is printed only after its submission is safely on disk.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use drivers::printer::{standard_receipt, JobOutcome, ReceiptInput};
use rusqlite::OptionalExtension;
use serde::Serialize;
use zeroize::Zeroizing;

use super::{EventSink, FlowEvent, Submitted};
use crate::crypto::DataKey;
use crate::outbox::NewSubmission;
use crate::session::SubmitError;
use crate::store::Store;

/// What the flow asks of the storage thread.
pub enum StorageCmd {
    Submit {
        visit: u64,
        subs: Vec<NewSubmission>,
        receipt: ReceiptJob,
    },
    Rate {
        visit_id: String,
        target: String,
        level: u8,
    },
    Status {
        query: u64,
        number: String,
    },
    /// The kiosk is at Home: switch in a staged catalog, if any.
    AtHome,
    /// The diagnostics screen's work.
    Staff(super::staff::StaffCmd),
}

/// What the printed receipt needs besides the receipt number (personal parts wiped on drop).
pub struct ReceiptJob {
    pub matter_name: String,
    pub applicant_name: Zeroizing<String>,
    pub id_number: Zeroizing<String>,
    pub next_steps: Vec<String>,
}

/// A submission as the kiosk knows it (no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalStatus {
    pub receipt_no: String,
    pub matter_code: String,
    /// `pending`, `in_flight`, `acked`, `quarantined`.
    pub state: String,
    /// The platform's number once it has the submission.
    pub platform_receipt: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// Settings of the storage thread.
pub struct StorageSetup {
    pub store: Store,
    pub key: Arc<DataKey>,
    /// Empty: no printer (receipts are shown as a QR on screen).
    pub printer: String,
    pub ledger_path: std::path::PathBuf,
    pub counters_dir: std::path::PathBuf,
    pub hall_name: String,
    /// Prefix of local receipt numbers: the kiosk id's letters and digits.
    pub receipt_prefix: String,
    /// Base URL of the platform; the receipt QR points at the submission's status there.
    pub central_url: String,
    /// For the diagnostics screen (PIN policy, status report).
    pub config: crate::config::Config,
    /// The running app's facts: the printer's reports go in, the diagnostics report reads
    /// them (with the other workers' devices and the sync engine).
    pub facts: crate::maintenance::SharedFacts,
    /// The catalog the sync engine parsed when it staged it (the switch is a pointer flip).
    pub handoff: crate::catalog::StagedHandoff,
}

pub struct StorageWorker {
    tx: Option<Sender<StorageCmd>>,
    thread: Option<JoinHandle<()>>,
}

/// Without a platform no sync engine runs, and it is the engine that checkpoints the WAL
/// (`store::wal`). Then this thread runs the same tick once nothing has come for this long:
/// between citizens, never inside one's commit. An idle kiosk's ticks do nothing (the tick
/// skips when nothing was written since its last one).
const IDLE_WAL_TICK: Duration = Duration::from_secs(30);

impl StorageWorker {
    pub fn start(setup: StorageSetup, sink: EventSink) -> anyhow::Result<StorageWorker> {
        StorageWorker::start_with_idle(setup, sink, IDLE_WAL_TICK)
    }

    /// As [`StorageWorker::start`], with the quiet time before a WAL tick (tests use a short one).
    pub(crate) fn start_with_idle(
        setup: StorageSetup,
        sink: EventSink,
        idle: Duration,
    ) -> anyhow::Result<StorageWorker> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("storage".into())
            .spawn(move || run(setup, rx, sink, idle))?;
        Ok(StorageWorker {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn send(&self, cmd: StorageCmd) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(cmd);
        }
    }
}

impl Drop for StorageWorker {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The local receipt number of a submission: the kiosk's prefix and the outbox sequence.
pub fn receipt_number(prefix: &str, seq: u64) -> String {
    format!("{prefix}{seq:06}")
}

/// The letters and digits of a kiosk id, upper-cased (`XH-0001` -> `XH0001`).
pub fn receipt_prefix(kiosk_id: &str) -> String {
    kiosk_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

struct Worker {
    setup: StorageSetup,
    printer: super::printer::PrinterSlot,
    sink: EventSink,
}

fn run(setup: StorageSetup, rx: Receiver<StorageCmd>, sink: EventSink, idle: Duration) {
    let printer = super::printer::PrinterSlot::new(
        setup.printer.clone(),
        setup.ledger_path.clone(),
        setup.counters_dir.clone(),
        setup.facts.clone(),
    );
    let mut w = Worker {
        setup,
        printer,
        sink,
    };
    loop {
        let cmd = match rx.recv_timeout(idle) {
            Ok(cmd) => cmd,
            Err(RecvTimeoutError::Timeout) => {
                w.idle();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match cmd {
            StorageCmd::Submit {
                visit,
                subs,
                receipt,
            } => w.submit(visit, subs, receipt),
            StorageCmd::Rate {
                visit_id,
                target,
                level,
            } => {
                if let Err(e) = w.rate(&visit_id, &target, level) {
                    tracing::error!(error = %format!("{e:#}"), "cannot store a rating");
                }
            }
            StorageCmd::Status { query, number } => {
                let answer = match lookup(&w.setup.store, &w.setup.receipt_prefix, &number) {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "status lookup failed");
                        None
                    }
                };
                w.sink.send(FlowEvent::Status { query, answer });
            }
            StorageCmd::Staff(cmd) => {
                let desk = super::staff::StaffDesk {
                    config: w.setup.config.clone(),
                    facts: w.setup.facts.clone(),
                };
                if let Some(answer) = desk.handle(cmd, &mut w.setup.store, &mut w.printer) {
                    w.sink.send(FlowEvent::Staff(answer));
                }
            }
            StorageCmd::AtHome => {
                match crate::catalog::update::switch_staged(
                    &mut w.setup.store,
                    Some(&w.setup.handoff),
                ) {
                    Ok(Some(catalog)) => {
                        tracing::info!(version = catalog.version, "catalog switched in at Home");
                        w.sink.send(FlowEvent::CatalogSwitched(Arc::new(catalog)));
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %format!("{e:#}"), "catalog switch failed"),
                }
            }
        }
    }
}

impl Worker {
    /// Nothing to do for a while: the WAL tick, when no sync engine does it.
    fn idle(&mut self) {
        if !self.setup.central_url.is_empty() {
            return;
        }
        let bound = crate::store::wal::WAL_TRUNCATE_ABOVE_BYTES;
        match self.setup.store.maintain_wal(bound) {
            Ok(r) if r.truncated => tracing::info!(
                frames = r.passive.wal_frames,
                "WAL checkpointed and truncated"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; tried again when idle"),
        }
    }

    fn submit(&mut self, visit: u64, subs: Vec<NewSubmission>, receipt: ReceiptJob) {
        let now = chrono::Utc::now();
        let result = crate::outbox::enqueue_all(&mut self.setup.store, &self.setup.key, &subs, now);
        drop(subs);
        let queued = match result {
            Ok(q) => q,
            Err(e) => {
                // The session's own classification (disk full, read-only, busy...).
                let failure = SubmitError::from_queue_error(&e);
                tracing::error!(error = %failure, "submission not queued");
                self.sink.send(FlowEvent::Submitted {
                    visit,
                    result: Err(failure),
                });
                return;
            }
        };
        let seq = queued.first().map(|q| q.seq).unwrap_or_default();
        let receipt_no = receipt_number(&self.setup.receipt_prefix, seq);
        let at = now
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M")
            .to_string();
        tracing::info!(entries = queued.len(), seq, "visit queued");
        self.sink.send(FlowEvent::Submitted {
            visit,
            result: Ok(Submitted {
                queued,
                receipt_no: receipt_no.clone(),
                at: at.clone(),
            }),
        });
        let printed = self.print(&receipt, &receipt_no, &at);
        self.sink.send(FlowEvent::Printed { visit, printed });
    }

    fn qr_payload(&self, receipt_no: &str) -> String {
        crate::app::qr::payload(&self.setup.central_url, receipt_no)
    }

    /// Prints the receipt; false when there is no printer or it could not print (the
    /// citizen then gets the QR on screen).
    fn print(&mut self, job: &ReceiptJob, receipt_no: &str, at: &str) -> bool {
        let qr = self.qr_payload(receipt_no);
        let steps: Vec<&str> = job.next_steps.iter().map(String::as_str).collect();
        let receipt = standard_receipt(&ReceiptInput {
            hall_name: &self.setup.hall_name,
            matter_name: &job.matter_name,
            receipt_no,
            time: at,
            next_steps: &steps,
            applicant_name: &job.applicant_name,
            id_number: &job.id_number,
            qr_payload: &qr,
        });
        match self.printer.print(&receipt) {
            Ok(outcome) => outcome == JobOutcome::Printed,
            Err(e) => {
                tracing::warn!(error = %e, "receipt not printed");
                false
            }
        }
    }

    fn rate(&mut self, visit_id: &str, target: &str, level: u8) -> anyhow::Result<()> {
        self.setup.store.conn().execute(
            "INSERT OR IGNORE INTO ratings (visit_id, matter_code, level, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                visit_id,
                target,
                level,
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ],
        )?;
        Ok(())
    }
}

/// Finds a submission by the number on its receipt (the kiosk's own, or the platform's).
pub fn lookup(store: &Store, prefix: &str, number: &str) -> anyhow::Result<Option<LocalStatus>> {
    let number = number.trim().to_ascii_uppercase();
    let number = number.rsplit('/').next().unwrap_or_default().to_string();
    if number.is_empty() {
        return Ok(None);
    }
    let seq: Option<i64> = number
        .strip_prefix(prefix)
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse().ok());
    let row = store
        .conn()
        .query_row(
            "SELECT s.seq, s.matter_code, o.state, s.receipt_no, s.created_at
             FROM submissions s JOIN outbox o ON o.submission_id = s.id
             WHERE s.seq = ?1 OR s.receipt_no = ?2",
            rusqlite::params![seq.unwrap_or(-1), number],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    Ok(row.map(
        |(seq, matter_code, state, platform_receipt, created_at)| LocalStatus {
            receipt_no: receipt_number(prefix, seq.max(0) as u64),
            matter_code,
            state,
            platform_receipt,
            created_at,
        },
    ))
}

#[cfg(test)]
#[path = "storage_idle_tests.rs"]
mod idle_tests;
