//! The printer as a device, and the print job: check status first, refuse on paper out,
//! cover open or an error with the reason, send, check again, report. A receipt id that was
//! sent before is never sent again by a retry (see [`super::ledger`]).

use std::collections::VecDeque;
use std::io;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde::Serialize;
use zeroize::Zeroize;

use crate::device::{
    Counters, Device, DeviceCore, DeviceState, LifecycleError, SharedCounters, StatusEvent,
};

use super::commands;
use super::document::Receipt;
use super::encoder::{EncodeError, Encoder, EncoderOptions};
use super::ledger::{valid_receipt_id, LedgerError, LedgerState, PrintLedger};
use super::raster::LineRasterizer;
use super::status::{
    PaperLevel, PrinterStatus, Refusal, StatusError, StatusKind, StatusMessage, StatusStream,
};
use super::transport::{Target, Transport};

/// The device's name in events, health output and counters.
pub const DEVICE_NAME: &str = "printer";

#[derive(Debug, Clone, Copy)]
pub struct PrinterOptions {
    /// Bounds connecting and each write.
    pub io_timeout: Duration,
    /// How long to wait for each real-time status reply.
    pub status_timeout: Duration,
    /// Ask for automatic status back (`GS a`) on open, for live events.
    pub auto_status_back: bool,
    pub encoder: EncoderOptions,
}

impl Default for PrinterOptions {
    fn default() -> Self {
        PrinterOptions {
            io_timeout: Duration::from_secs(5),
            status_timeout: Duration::from_millis(1500),
            auto_status_back: false,
            encoder: EncoderOptions::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PrinterError {
    #[error("cannot open printer {target}: {source}")]
    Open { target: String, source: io::Error },
    #[error("printer {target} is not open")]
    NotOpen { target: String },
    #[error("printer {target} does not answer (no reply to status request DLE EOT {n} within {timeout_ms} ms)")]
    NoAnswer {
        target: String,
        n: u8,
        timeout_ms: u64,
    },
    #[error("printer {target}: {source}")]
    Io { target: String, source: io::Error },
    #[error("printer {target}: {source}")]
    Status { target: String, source: StatusError },
    #[error("printer refused the job: {0}")]
    Refused(Refusal),
    #[error("receipt cannot be printed: {0}")]
    Encode(#[from] EncodeError),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("receipt {id}: an earlier attempt broke off while sending, so part of it may be on paper; it is not printed again automatically (reprint it explicitly)")]
    OutcomeUnknown { id: String },
}

impl PrinterError {
    /// Counter key for a failure (`fail_<key>`).
    fn key(&self) -> String {
        match self {
            PrinterError::Open { .. } | PrinterError::NotOpen { .. } => "open".into(),
            PrinterError::NoAnswer { .. } => "no_answer".into(),
            PrinterError::Io { .. } => "io".into(),
            PrinterError::Status { .. } => "bad_status".into(),
            PrinterError::Refused(r) => r.key(),
            PrinterError::Encode(_) => "encode".into(),
            PrinterError::Lifecycle(_) => "lifecycle".into(),
            PrinterError::Ledger(_) => "ledger".into(),
            PrinterError::OutcomeUnknown { .. } => "outcome_unknown".into(),
        }
    }
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    /// Sent, and the printer reported no problem afterwards.
    Printed,
    /// This receipt id was sent before; nothing was sent now.
    AlreadyPrinted,
    /// Sent, but the printer stopped (paper ran out, cover opened): it finishes the receipt
    /// once staff fix the cause. `stopped_by` says why.
    Interrupted,
    /// Sent, but the printer did not answer the status check afterwards.
    Unconfirmed,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrintReport {
    pub receipt_id: String,
    pub outcome: JobOutcome,
    pub stopped_by: Option<Refusal>,
    pub bytes_sent: usize,
    pub status_before: Option<PrinterStatus>,
    pub status_after: Option<PrinterStatus>,
    /// Things staff should see soon (paper near end).
    pub warnings: Vec<String>,
}

/// The receipt printer: a [`DeviceCore`] plus a transport, the status decoder and the ledger.
pub struct Printer {
    core: DeviceCore,
    target: Target,
    options: PrinterOptions,
    transport: Option<Box<dyn Transport>>,
    stream: StatusStream,
    replies: VecDeque<u8>,
    ledger: PrintLedger,
    rasterizer: Option<Box<dyn LineRasterizer>>,
    last_status: Option<PrinterStatus>,
    last_auto_status: Option<PrinterStatus>,
}

impl Printer {
    pub fn new(
        target: Target,
        options: PrinterOptions,
        counters: SharedCounters,
        ledger: PrintLedger,
    ) -> Printer {
        Printer {
            core: DeviceCore::new(DEVICE_NAME, counters),
            target,
            options,
            transport: None,
            stream: StatusStream::default(),
            replies: VecDeque::new(),
            ledger,
            rasterizer: None,
            last_status: None,
            last_auto_status: None,
        }
    }

    /// Opens, claims and enables in one go: what the kiosk and the CLI want.
    pub fn connect(
        target: Target,
        options: PrinterOptions,
        counters: SharedCounters,
        ledger: PrintLedger,
    ) -> Result<Printer, PrinterError> {
        let mut p = Printer::new(target, options, counters, ledger);
        p.open_printer()?;
        p.core.claim()?;
        p.core.enable()?;
        Ok(p)
    }

    /// Draws lines with characters the printer lacks as images (with
    /// [`super::encoder::FourByteChars::Raster`]).
    pub fn with_rasterizer(mut self, rasterizer: Box<dyn LineRasterizer>) -> Printer {
        self.rasterizer = Some(rasterizer);
        self
    }

    pub fn subscribe(&mut self) -> Receiver<StatusEvent> {
        self.core.subscribe()
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn last_status(&self) -> Option<PrinterStatus> {
        self.last_status
    }

    /// The latest automatic status back block, when `auto_status_back` is on.
    pub fn last_auto_status(&self) -> Option<PrinterStatus> {
        self.last_auto_status
    }

    /// Opens the transport; with `auto_status_back`, turns it on.
    pub fn open_printer(&mut self) -> Result<(), PrinterError> {
        let transport = self
            .target
            .open(self.options.io_timeout)
            .map_err(|source| {
                self.core.counters.incr("fail_open");
                PrinterError::Open {
                    target: self.target.to_string(),
                    source,
                }
            })?;
        self.attach(transport)
    }

    /// Uses an already open transport (a test's pipe, a vendor bridge).
    pub fn attach(&mut self, transport: Box<dyn Transport>) -> Result<(), PrinterError> {
        self.transport = Some(transport);
        self.stream = StatusStream::default();
        self.replies.clear();
        if self.options.auto_status_back {
            self.send(&commands::auto_status_back(0x0F))?;
        }
        self.core.opened();
        Ok(())
    }

    /// Asks `DLE EOT 1..4` and decodes the four replies.
    pub fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        match self.query_status() {
            Ok(s) => Ok(s),
            Err(e) => {
                self.core.counters.incr(&format!("fail_{}", e.key()));
                Err(e)
            }
        }
    }

    /// Reads what the printer sent on its own (automatic status back) and returns the newest
    /// status if it changed; sends an event for each change.
    pub fn poll_events(&mut self) -> Result<Option<PrinterStatus>, PrinterError> {
        let before = self.last_auto_status;
        self.drain()?;
        Ok(self.last_auto_status.filter(|s| Some(*s) != before))
    }

    /// Prints `receipt` unless its id was sent before.
    pub fn print(&mut self, receipt: &Receipt) -> Result<PrintReport, PrinterError> {
        self.run_job(receipt, false)
    }

    /// Prints `receipt` even if it was sent before: staff's explicit reprint.
    pub fn reprint(&mut self, receipt: &Receipt) -> Result<PrintReport, PrinterError> {
        self.run_job(receipt, true)
    }

    fn run_job(&mut self, receipt: &Receipt, reprint: bool) -> Result<PrintReport, PrinterError> {
        let id = receipt.id().to_string();
        if !valid_receipt_id(&id) {
            return Err(LedgerError::BadId(id).into());
        }
        if !reprint {
            match self.ledger.state(&id) {
                Some(LedgerState::Sent) => {
                    self.core.counters.incr("retries_skipped");
                    tracing::info!(receipt = %id, "receipt was printed before; not printing it again");
                    return Ok(PrintReport {
                        receipt_id: id,
                        outcome: JobOutcome::AlreadyPrinted,
                        stopped_by: None,
                        bytes_sent: 0,
                        status_before: None,
                        status_after: None,
                        warnings: Vec::new(),
                    });
                }
                Some(LedgerState::Sending) => {
                    self.core.counters.incr("retries_refused");
                    return Err(PrinterError::OutcomeUnknown { id });
                }
                None => {}
            }
        }
        self.core.begin("print")?;
        let result = self.send_job(receipt, &id);
        if let Err(e) = &result {
            let key = e.key();
            match e {
                // The receipt is at fault, not the printer.
                PrinterError::Encode(_) | PrinterError::Ledger(_) => self
                    .core
                    .fail_recoverable(&key, "receipt could not be prepared"),
                _ => self.core.fail(&key, e.to_string()),
            }
        }
        result
    }

    fn send_job(&mut self, receipt: &Receipt, id: &str) -> Result<PrintReport, PrinterError> {
        let mut bytes = {
            let mut encoder = Encoder::new(self.options.encoder);
            if let Some(r) = &self.rasterizer {
                encoder = encoder.with_rasterizer(r.as_ref());
            }
            encoder.encode(receipt)?
        };
        let before = self.query_status()?;
        if let Some(reason) = before.refusal() {
            tracing::warn!(receipt = %id, reason = %reason.key(), "print job refused");
            return Err(PrinterError::Refused(reason));
        }
        self.ledger.mark_sending(id)?;
        let sent = self.send(&bytes);
        let bytes_sent = bytes.len();
        bytes.zeroize();
        sent?;
        let mut warnings = Vec::new();
        if let Err(e) = self.ledger.mark_sent(id) {
            // Still "sending" in the ledger: a retry refuses, which is the safe side.
            warnings.push(format!("could not record the receipt as printed: {e}"));
        }
        let (outcome, stopped_by, after) = match self.query_status() {
            Ok(s) => match s.refusal() {
                Some(r) => (JobOutcome::Interrupted, Some(r), Some(s)),
                None => (JobOutcome::Printed, None, Some(s)),
            },
            Err(e) => {
                warnings.push(format!("no status after printing: {e}"));
                (JobOutcome::Unconfirmed, None, None)
            }
        };
        if after.map(|s| s.paper) == Some(PaperLevel::NearEnd) {
            warnings.push("paper near end: change the roll soon".into());
            self.core.notify("paper near end");
        }
        match (outcome, stopped_by) {
            (JobOutcome::Printed, _) => self.core.succeed("prints_ok"),
            (_, Some(r)) => self.core.fail(
                &format!("stopped_{}", r.key()),
                format!("printer stopped during a receipt: {r}"),
            ),
            _ => self
                .core
                .fail("unconfirmed", "printer did not answer after a receipt"),
        }
        tracing::info!(receipt = %id, outcome = ?outcome, bytes = bytes_sent, "print job done");
        Ok(PrintReport {
            receipt_id: id.to_string(),
            outcome,
            stopped_by,
            bytes_sent,
            status_before: Some(before),
            status_after: after,
            warnings,
        })
    }

    fn target_name(&self) -> String {
        self.target.to_string()
    }

    fn transport(&mut self) -> Result<&mut Box<dyn Transport>, PrinterError> {
        let target = self.target_name();
        self.transport
            .as_mut()
            .ok_or(PrinterError::NotOpen { target })
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        let target = self.target_name();
        self.transport()?
            .send(bytes)
            .map_err(|source| PrinterError::Io { target, source })
    }

    /// Reads until `timeout` passes with nothing, sorting the bytes into replies and blocks.
    fn read_some(&mut self, timeout: Duration) -> Result<bool, PrinterError> {
        let target = self.target_name();
        let mut buf = [0u8; 64];
        let got = self
            .transport()?
            .recv(&mut buf, timeout)
            .map_err(|source| PrinterError::Io { target, source })?;
        let Some(n) = got else { return Ok(false) };
        for &b in &buf[..n] {
            match self.stream.push(b) {
                Some(StatusMessage::RealTime(r)) => self.replies.push_back(r),
                Some(StatusMessage::AutoStatus(block)) => self.on_auto_status(block),
                Some(StatusMessage::Stray(_)) => self.core.counters.incr("stray_bytes"),
                None => {}
            }
        }
        Ok(true)
    }

    /// Takes in whatever is waiting, dropping stale replies.
    fn drain(&mut self) -> Result<(), PrinterError> {
        while self.read_some(Duration::ZERO)? {}
        self.replies.clear();
        Ok(())
    }

    fn on_auto_status(&mut self, block: [u8; 4]) {
        match PrinterStatus::from_auto_status(block) {
            Ok(s) => {
                if self.last_auto_status != Some(s) {
                    self.core.notify(s.summary());
                }
                self.last_auto_status = Some(s);
            }
            Err(_) => self.core.counters.incr("bad_status_blocks"),
        }
    }

    fn query_status(&mut self) -> Result<PrinterStatus, PrinterError> {
        self.drain()?;
        let mut replies = [0u8; 4];
        for (slot, kind) in replies.iter_mut().zip(StatusKind::ALL) {
            self.send(&commands::status_query(kind.n()))?;
            *slot = self.wait_reply(kind.n())?;
        }
        let status =
            PrinterStatus::from_real_time(replies).map_err(|source| PrinterError::Status {
                target: self.target_name(),
                source,
            })?;
        self.last_status = Some(status);
        Ok(status)
    }

    fn wait_reply(&mut self, n: u8) -> Result<u8, PrinterError> {
        let timeout = self.options.status_timeout;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.replies.pop_front() {
                return Ok(r);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(PrinterError::NoAnswer {
                    target: self.target_name(),
                    n,
                    timeout_ms: timeout.as_millis() as u64,
                });
            }
            self.read_some(deadline - now)?;
        }
    }
}

impl Device for Printer {
    fn name(&self) -> &str {
        self.core.name()
    }

    fn open(&mut self) -> anyhow::Result<()> {
        Ok(self.open_printer()?)
    }

    fn claim(&mut self) -> anyhow::Result<()> {
        Ok(self.core.claim()?)
    }

    fn enable(&mut self) -> anyhow::Result<()> {
        Ok(self.core.enable()?)
    }

    fn release(&mut self) -> anyhow::Result<()> {
        self.core.release();
        Ok(())
    }

    fn close(&mut self) {
        if self.options.auto_status_back && self.transport.is_some() {
            // Best effort: a printer that is gone needs no switching off.
            let _ = self.send(&commands::auto_status_back(0));
        }
        self.transport = None;
        self.core.closed();
    }

    fn state(&self) -> DeviceState {
        self.core.state()
    }

    fn check_health(&mut self) -> String {
        if self.transport.is_none() {
            return format!("printer {}: closed", self.target);
        }
        match self.status() {
            Ok(s) => format!("printer {}: {}", self.target, s.summary()),
            Err(e) => e.to_string(),
        }
    }

    fn counters(&self) -> Counters {
        self.core.counters.snapshot()
    }

    fn last_error(&self) -> Option<String> {
        self.core.last_error()
    }
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
