//! The simulated printer without I/O: bytes from the host in, status bytes out, receipts
//! written to the output folder at each cut.
//!
//! Like a real printer, the print engine stops while the cover is open, the paper is out or
//! the cutter jammed: bytes wait in a buffer and print once the cause is fixed. Real-time
//! status requests (`DLE EOT n`) are still answered at once from that buffer.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde::Serialize;

use super::parser::{Command, ModelOptions, Parser, QrCommand};
use super::render::{Fonts, Page, Style};
use super::state::{Paper, PrinterState};

/// One cut receipt on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedReceipt {
    pub number: u32,
    pub png: PathBuf,
    pub txt: PathBuf,
    pub qr_txt: PathBuf,
    /// The decoded text, one printed line per line.
    pub text: String,
    pub qr_payloads: Vec<String>,
    /// Commands the simulator did not understand, QR codes it could not draw...
    pub notes: Vec<String>,
}

/// Called with each receipt once its files are written.
pub type ReceiptCallback = Box<dyn Fn(&RenderedReceipt) + Send>;

struct QrSetup {
    level: qrcode::EcLevel,
    module: u8,
    data: Option<Vec<u8>>,
}

pub struct Engine {
    parser: Parser,
    state: PrinterState,
    style: Style,
    align: u8,
    qr: QrSetup,
    page: Page,
    fonts: Arc<Fonts>,
    out_dir: PathBuf,
    next_number: u32,
    receipts: Vec<RenderedReceipt>,
    /// Bytes held while the engine is stopped.
    held: VecDeque<u8>,
    /// Bytes for the host (status replies, automatic status blocks).
    outgoing: Vec<u8>,
    bytes_received: u64,
    last_auto_block: Option<[u8; 4]>,
    on_receipt: Option<ReceiptCallback>,
}

impl Engine {
    pub fn new(
        fonts: Arc<Fonts>,
        out_dir: &Path,
        model: ModelOptions,
        state: PrinterState,
    ) -> anyhow::Result<Engine> {
        std::fs::create_dir_all(out_dir)
            .with_context(|| format!("cannot create output folder {}", out_dir.display()))?;
        Ok(Engine {
            parser: Parser::new(model),
            state,
            style: Style::default(),
            align: 0,
            qr: QrSetup {
                level: qrcode::EcLevel::M,
                module: 3,
                data: None,
            },
            page: Page::new(),
            fonts,
            next_number: first_free_number(out_dir),
            out_dir: out_dir.to_path_buf(),
            receipts: Vec::new(),
            held: VecDeque::new(),
            outgoing: Vec::new(),
            bytes_received: 0,
            last_auto_block: None,
            on_receipt: None,
        })
    }

    /// Called with each receipt once its files are written.
    pub fn set_on_receipt(&mut self, f: ReceiptCallback) {
        self.on_receipt = Some(f);
    }

    pub fn state(&self) -> PrinterState {
        self.state
    }

    pub fn receipts(&self) -> &[RenderedReceipt] {
        &self.receipts
    }

    pub fn bytes_received(&self) -> u64 {
        self.bytes_received
    }

    /// Bytes waiting for the engine to run again.
    pub fn held_bytes(&self) -> usize {
        self.held.len()
    }

    pub fn take_outgoing(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.outgoing)
    }

    /// Bytes from the host.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.bytes_received += bytes.len() as u64;
        for &b in bytes {
            if self.state.can_print() && self.held.is_empty() {
                self.process(b);
            } else {
                self.hold(b);
            }
        }
    }

    /// Changes the simulated condition at run time; the engine resumes when it can.
    pub fn update_state(&mut self, f: impl FnOnce(&mut PrinterState)) {
        f(&mut self.state);
        self.state_changed();
        self.resume();
    }

    pub fn set_paper(&mut self, paper: Paper) {
        self.update_state(|s| s.paper = paper);
    }

    fn hold(&mut self, b: u8) {
        self.held.push_back(b);
        // Real-time requests are answered even while the engine is stopped.
        let n = self.held.len();
        if n >= 3 {
            let tail = [self.held[n - 3], self.held[n - 2], self.held[n - 1]];
            if let [0x10, 0x04, q @ 1..=4] = tail {
                if let Some(r) = self.state.real_time(q) {
                    self.outgoing.push(r);
                }
                self.held.truncate(n - 3);
            }
        }
    }

    fn resume(&mut self) {
        while self.state.can_print() {
            let Some(b) = self.held.pop_front() else {
                break;
            };
            self.process(b);
        }
    }

    fn state_changed(&mut self) {
        if self.state.auto_status {
            let block = self.state.auto_status_block();
            if self.last_auto_block != Some(block) {
                self.outgoing.extend_from_slice(&block);
                self.last_auto_block = Some(block);
            }
        }
    }

    fn process(&mut self, b: u8) {
        if let Some(cmd) = self.parser.push(b) {
            self.execute(cmd);
        }
    }

    fn line_used(&mut self, lines: u32) {
        for _ in 0..lines {
            self.state.line_used();
        }
        self.state_changed();
    }

    fn execute(&mut self, cmd: Command) {
        let fonts = Arc::clone(&self.fonts);
        match cmd {
            Command::Init => {
                self.style = Style::default();
                self.align = 0;
                self.page.clear_line();
            }
            Command::Align(a) => self.align = a,
            Command::Bold(on) => self.style.bold = on,
            Command::CharSize { width, height } => {
                self.style.width = width;
                self.style.height = height;
            }
            Command::ChinesePrintMode {
                double_width,
                double_height,
                underline,
            } => {
                self.style.cn_double_width = double_width;
                self.style.cn_double_height = double_height;
                self.style.underline = underline;
            }
            Command::Text { ch, wide } => {
                self.page.add_char(&fonts, ch, wide, self.style, self.align)
            }
            Command::LineFeed => {
                self.page.line_feed(&fonts, self.align);
                self.line_used(1);
            }
            Command::FeedLines(n) => {
                self.page.feed(&fonts, self.align, n);
                self.line_used(u32::from(n));
            }
            Command::Cut { .. } => self.cut(),
            Command::Qr(q) => self.qr(q),
            Command::Raster {
                width_bytes,
                height,
                data,
                ..
            } => {
                self.page.raster(width_bytes, height, &data, self.align);
                self.line_used(1);
            }
            Command::RealTimeStatus(n) => {
                if let Some(r) = self.state.real_time(n) {
                    self.outgoing.push(r);
                }
            }
            Command::AutoStatusBack(n) => {
                self.state.auto_status = n != 0;
                self.last_auto_block = None;
                // "A 4-byte block at once and on every change."
                self.state_changed();
            }
            Command::International(_)
            | Command::ChineseOn
            | Command::ChineseOff
            | Command::CarriageReturn => {}
            Command::Unknown { bytes, why } => {
                tracing::debug!(?bytes, why, "printer simulator: command not understood");
                if bytes.first().is_some_and(|b| *b >= 0x80) {
                    // Text the printer cannot decode prints as '?'.
                    self.page
                        .add_char(&fonts, '?', false, self.style, self.align);
                }
                self.page.notes.push(format!("{why}: {bytes:02X?}"));
            }
        }
    }

    fn qr(&mut self, q: QrCommand) {
        match q {
            QrCommand::Model(50) => {}
            QrCommand::Model(m) => self
                .page
                .notes
                .push(format!("QR model {m} drawn as model 2")),
            QrCommand::ModuleSize(n) if (1..=16).contains(&n) => self.qr.module = n,
            QrCommand::ErrorLevel(48) => self.qr.level = qrcode::EcLevel::L,
            QrCommand::ErrorLevel(49) => self.qr.level = qrcode::EcLevel::M,
            QrCommand::ErrorLevel(50) => self.qr.level = qrcode::EcLevel::Q,
            QrCommand::ErrorLevel(51) => self.qr.level = qrcode::EcLevel::H,
            QrCommand::Store(data) => self.qr.data = Some(data),
            QrCommand::Print => match &self.qr.data {
                Some(data) => {
                    let data = data.clone();
                    self.page
                        .qr(&data, self.qr.level, self.qr.module, self.align);
                    self.line_used(1);
                }
                None => self.page.notes.push("QR print without stored data".into()),
            },
            other => self
                .page
                .notes
                .push(format!("QR command ignored: {other:?}")),
        }
    }

    fn cut(&mut self) {
        if self.page.is_blank() {
            return;
        }
        let page = std::mem::take(&mut self.page);
        let (image, text, qr_payloads, notes) = page.finish(&self.fonts);
        let number = self.next_number;
        self.next_number += 1;
        let base = self.out_dir.join(format!("receipt-{number:04}"));
        let receipt = RenderedReceipt {
            number,
            png: base.with_extension("png"),
            txt: base.with_extension("txt"),
            qr_txt: base.with_extension("qr.txt"),
            text,
            qr_payloads,
            notes,
        };
        let written = image
            .save(&receipt.png)
            .map_err(anyhow::Error::from)
            .and_then(|_| Ok(std::fs::write(&receipt.txt, &receipt.text)?))
            .and_then(|_| {
                let mut qr = receipt.qr_payloads.join("\n");
                if !qr.is_empty() {
                    qr.push('\n');
                }
                Ok(std::fs::write(&receipt.qr_txt, qr)?)
            });
        if let Err(e) = written {
            tracing::error!(error = %e, "printer simulator cannot write receipt {number}");
        }
        if let Some(f) = &self.on_receipt {
            f(&receipt);
        }
        self.receipts.push(receipt);
    }
}

/// Numbers go on from the files already in the folder, so a restart never overwrites.
fn first_free_number(dir: &Path) -> u32 {
    let highest = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("receipt-")?
                .strip_suffix(".png")?
                .parse::<u32>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    highest + 1
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
