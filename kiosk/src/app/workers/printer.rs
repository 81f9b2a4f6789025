//! The receipt printer as the storage thread holds it: connected at the first need, dropped
//! after a failure so the next job reconnects (the port may have gone and come back),
//! restarted by staff through the device model (release, close, open, claim, enable), and
//! reported to the app's facts ([`SharedFacts`]) after every job, restart and diagnostics
//! look, so the diagnostics screen, `app-state.json`, the metrics and the heartbeat see the
//! printer as the running app does.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use drivers::device::{CounterFile, Device, DeviceState, SharedCounters};
use drivers::printer::{JobOutcome, PrintLedger, Printer, PrinterOptions, Receipt, Target};

use crate::maintenance::report::{DeviceReport, PrinterReport};
use crate::maintenance::SharedFacts;
use crate::store::now_ms;

/// The device's name in reports and counters.
pub const NAME: &str = "printer";

/// A diagnostics look connects an unconnected printer at most this often (a TCP printer
/// that is off may take the whole I/O timeout to refuse).
const CONNECT_EVERY: Duration = Duration::from_secs(15);

pub struct PrinterSlot {
    printer: Option<Printer>,
    /// Empty: no printer configured (receipts are shown as a QR on screen).
    target: String,
    ledger: PathBuf,
    counters_dir: PathBuf,
    facts: SharedFacts,
    last_connect: Option<Instant>,
    /// Why the last connection or job failed (cleared by the next success).
    last_failure: Option<String>,
}

impl PrinterSlot {
    pub fn new(
        target: String,
        ledger: PathBuf,
        counters_dir: PathBuf,
        facts: SharedFacts,
    ) -> PrinterSlot {
        let slot = PrinterSlot {
            printer: None,
            target,
            ledger,
            counters_dir,
            facts,
            last_connect: None,
            last_failure: None,
        };
        slot.publish(None);
        slot
    }

    pub fn configured(&self) -> bool {
        !self.target.is_empty()
    }

    /// Prints, connecting first when needed; after a failure the connection is dropped so
    /// the next job reconnects. The report that follows costs no I/O (the job has just read
    /// the printer's status).
    pub fn print(&mut self, receipt: &Receipt) -> Result<JobOutcome, String> {
        let result = self.print_inner(receipt);
        match &result {
            Ok(_) => self.last_failure = None,
            Err(e) => self.last_failure = Some(e.clone()),
        }
        self.publish(None);
        result
    }

    fn print_inner(&mut self, receipt: &Receipt) -> Result<JobOutcome, String> {
        if !self.configured() {
            return Err("no printer configured".into());
        }
        if self.printer.is_none() {
            self.printer = Some(self.connect()?);
        }
        let Some(printer) = self.printer.as_mut() else {
            return Err("printer not available".into());
        };
        match printer.print(receipt) {
            Ok(report) => Ok(report.outcome),
            Err(e) => {
                self.printer = None;
                Err(e.to_string())
            }
        }
    }

    /// Staff's restart: releases and closes the port, then opens, claims and enables it
    /// again (a new connection when there was none). Returns a short detail either way.
    pub fn restart(&mut self) -> Result<String, String> {
        if !self.configured() {
            return Err("no printer configured".into());
        }
        let result = match self.printer.as_mut() {
            Some(p) => {
                // Best effort: a printer that is gone has nothing to release.
                let _ = p.release();
                p.close();
                let reopened = p.open().and_then(|()| p.claim()).and_then(|()| p.enable());
                reopened.map_err(|e| format!("printer not available: {e:#}"))
            }
            None => self.connect().map(|p| self.printer = Some(p)),
        };
        match &result {
            Ok(()) => self.last_failure = None,
            Err(e) => {
                self.printer = None;
                self.last_failure = Some(e.clone());
            }
        }
        let health = self.observe_now();
        result.map(|()| format!("printer reopened: {}", health.unwrap_or_default()))
    }

    /// For the diagnostics screen: asks a connected printer for its health (four status
    /// queries), or tries to connect one that is not (at most every [`CONNECT_EVERY`]).
    pub fn look(&mut self) {
        if !self.configured() {
            return;
        }
        if self.printer.is_none()
            && self
                .last_connect
                .is_none_or(|t| t.elapsed() >= CONNECT_EVERY)
        {
            match self.connect() {
                Ok(p) => {
                    self.printer = Some(p);
                    self.last_failure = None;
                }
                Err(e) => self.last_failure = Some(e),
            }
        }
        self.observe_now();
    }

    /// `check_health` (device I/O) and publish; returns the health text.
    fn observe_now(&mut self) -> Option<String> {
        let now = now_ms();
        let report = self.printer.as_mut().map(|p| DeviceReport::observe(p, now));
        let health = report.as_ref().and_then(|r| r.health.clone());
        self.publish(report);
        health
    }

    /// Opens, claims and enables the configured printer.
    fn connect(&mut self) -> Result<Printer, String> {
        self.last_connect = Some(Instant::now());
        let connect = || -> anyhow::Result<Printer> {
            let target: Target = self.target.parse()?;
            let counters = SharedCounters::persistent(self.counter_file());
            let ledger = PrintLedger::open(&self.ledger)?;
            Ok(Printer::connect(
                target,
                PrinterOptions::default(),
                counters,
                ledger,
            )?)
        };
        connect().map_err(|e| format!("printer not available: {e:#}"))
    }

    fn counter_file(&self) -> CounterFile {
        CounterFile::new(self.counters_dir.join(format!("{NAME}.json")))
    }

    /// Puts the printer's report (and its paper and cover) into the facts. `observed`: a
    /// report just taken with `check_health`; otherwise one is made without I/O from what the
    /// printer last said.
    fn publish(&self, observed: Option<DeviceReport>) {
        if !self.configured() {
            return;
        }
        let now = now_ms();
        let report = match (&self.printer, observed) {
            (Some(_), Some(r)) => r,
            (Some(p), None) => DeviceReport {
                state: p.state(),
                last_error: p.last_error(),
                health: p
                    .last_status()
                    .map(|s| format!("{NAME} {}: {}", p.target(), s.summary())),
                counters: p.counters().values,
                observed_at_ms: Some(now),
            },
            // Not connected: closed, or in error with the reason it could not be reached.
            (None, _) => DeviceReport {
                state: if self.last_failure.is_some() {
                    DeviceState::Error
                } else {
                    DeviceState::Closed
                },
                last_error: self.last_failure.clone(),
                health: Some(format!(
                    "{NAME} {}: not connected{}",
                    self.target,
                    if self.last_connect.is_none() {
                        " yet (connects at the first print)"
                    } else {
                        ""
                    }
                )),
                counters: self.counter_file().load().values,
                observed_at_ms: Some(now),
            },
        };
        self.facts.set_device(NAME, report, now);
        if let Some(status) = self.printer.as_ref().and_then(|p| p.last_status()) {
            self.facts
                .set_printer(PrinterReport::from_status(&status, now), now);
        }
    }
}
