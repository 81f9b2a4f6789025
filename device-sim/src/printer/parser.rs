//! The simulator's own ESC/POS parser, written from `shared/specs/escpos-receipt-printer.md`
//! (not from the driver). Bytes go in one at a time; a command comes out as soon as its last
//! byte arrives, so a command split across reads is fine.

use encoding_rs::GB18030;

/// Model-dependent behaviour the spec leaves open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelOptions {
    /// Power up in Chinese mode (most Chinese printers do).
    pub chinese_at_start: bool,
    /// `ESC @` leaves Chinese mode (models differ).
    pub init_leaves_chinese: bool,
    /// The font holds the 4-byte GB18030 areas; without them such characters print as '?'.
    pub four_byte_gb18030: bool,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            chinese_at_start: true,
            init_leaves_chinese: false,
            four_byte_gb18030: false,
        }
    }
}

/// QR functions of `GS ( k` with cn = 0x31.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrCommand {
    /// 49 model 1, 50 model 2, 51 micro.
    Model(u8),
    ModuleSize(u8),
    /// 48 L, 49 M, 50 Q, 51 H.
    ErrorLevel(u8),
    Store(Vec<u8>),
    Print,
    Other {
        function: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Init,
    /// 0 left, 1 centre, 2 right.
    Align(u8),
    Bold(bool),
    /// Multipliers 1..=8.
    CharSize {
        width: u8,
        height: u8,
    },
    FeedLines(u8),
    /// `feed` is `Some(n)` for function B.
    Cut {
        partial: bool,
        feed: Option<u8>,
    },
    International(u8),
    ChineseOn,
    ChineseOff,
    ChinesePrintMode {
        double_width: bool,
        double_height: bool,
        underline: bool,
    },
    Qr(QrCommand),
    Raster {
        mode: u8,
        width_bytes: u16,
        height: u16,
        data: Vec<u8>,
    },
    /// `DLE EOT n`.
    RealTimeStatus(u8),
    /// `GS a n`.
    AutoStatusBack(u8),
    /// A printable character; `wide` for double-byte (24-dot) characters.
    Text {
        ch: char,
        wide: bool,
    },
    LineFeed,
    CarriageReturn,
    /// Bytes the printer does not understand (printed as nothing, or '?' for bad text).
    Unknown {
        bytes: Vec<u8>,
        why: &'static str,
    },
}

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const DLE: u8 = 0x10;

/// The result of looking at the bytes gathered so far.
enum Step {
    More,
    Done(Command),
}

#[derive(Debug)]
pub struct Parser {
    buf: Vec<u8>,
    chinese: bool,
    model: ModelOptions,
}

impl Parser {
    pub fn new(model: ModelOptions) -> Parser {
        Parser {
            buf: Vec::new(),
            chinese: model.chinese_at_start,
            model,
        }
    }

    pub fn chinese_mode(&self) -> bool {
        self.chinese
    }

    /// True between commands (nothing half-read).
    pub fn is_idle(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn push(&mut self, byte: u8) -> Option<Command> {
        self.buf.push(byte);
        match self.step() {
            Step::More => None,
            Step::Done(cmd) => {
                self.buf.clear();
                match cmd {
                    Command::ChineseOn => self.chinese = true,
                    Command::ChineseOff => self.chinese = false,
                    Command::Init if self.model.init_leaves_chinese => self.chinese = false,
                    _ => {}
                }
                Some(cmd)
            }
        }
    }

    /// Convenience for tests: every command in `bytes`.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Command> {
        bytes.iter().filter_map(|b| self.push(*b)).collect()
    }

    fn step(&self) -> Step {
        let b = &self.buf;
        match b[0] {
            ESC => esc(b),
            GS => gs(b),
            FS => fs(b),
            DLE => dle(b),
            0x0A => Step::Done(Command::LineFeed),
            0x0D => Step::Done(Command::CarriageReturn),
            0x20..=0x7E => Step::Done(Command::Text {
                ch: char::from(b[0]),
                wide: false,
            }),
            0x00..=0x1F | 0x7F => unknown(b, "control byte"),
            _ if self.chinese => self.chinese_char(),
            _ => unknown(b, "byte above 0x7F outside Chinese mode"),
        }
    }

    fn chinese_char(&self) -> Step {
        let b = &self.buf;
        if !(0x81..=0xFE).contains(&b[0]) {
            return unknown(b, "not a GB lead byte");
        }
        if b.len() < 2 {
            return Step::More;
        }
        let four = (0x30..=0x39).contains(&b[1]);
        if four && self.model.four_byte_gb18030 {
            if b.len() < 4 {
                return Step::More;
            }
            return decode_gb(&b[..4]);
        }
        if four {
            // A 2-byte-only font reads the pair as a code it does not have.
            return Step::Done(Command::Text {
                ch: '?',
                wide: true,
            });
        }
        decode_gb(&b[..2])
    }
}

fn decode_gb(bytes: &[u8]) -> Step {
    let (text, had_errors) = GB18030.decode_without_bom_handling(bytes);
    let mut chars = text.chars();
    match (had_errors, chars.next(), chars.next()) {
        (false, Some(ch), None) => Step::Done(Command::Text { ch, wide: true }),
        _ => Step::Done(Command::Text {
            ch: '?',
            wide: true,
        }),
    }
}

fn unknown(bytes: &[u8], why: &'static str) -> Step {
    Step::Done(Command::Unknown {
        bytes: bytes.to_vec(),
        why,
    })
}

/// Waits for `n` bytes in total, then decides with `f`.
fn need(b: &[u8], n: usize, f: impl FnOnce(&[u8]) -> Command) -> Step {
    if b.len() < n {
        Step::More
    } else {
        Step::Done(f(b))
    }
}

fn esc(b: &[u8]) -> Step {
    let Some(&c) = b.get(1) else {
        return Step::More;
    };
    match c {
        0x40 => Step::Done(Command::Init),
        0x61 => need(b, 3, |b| match b[2] {
            0 | 48 => Command::Align(0),
            1 | 49 => Command::Align(1),
            2 | 50 => Command::Align(2),
            _ => Command::Unknown {
                bytes: b.to_vec(),
                why: "ESC a with a bad alignment",
            },
        }),
        0x45 => need(b, 3, |b| Command::Bold(b[2] & 1 == 1)),
        0x64 => need(b, 3, |b| Command::FeedLines(b[2])),
        0x52 => need(b, 3, |b| Command::International(b[2])),
        _ => unknown(b, "ESC command outside the kiosk subset"),
    }
}

fn gs(b: &[u8]) -> Step {
    let Some(&c) = b.get(1) else {
        return Step::More;
    };
    match c {
        0x21 => need(b, 3, |b| {
            let (w, h) = (b[2] >> 4, b[2] & 0x0F);
            if w > 7 || h > 7 {
                Command::Unknown {
                    bytes: b.to_vec(),
                    why: "GS ! multiplier above 8",
                }
            } else {
                Command::CharSize {
                    width: w + 1,
                    height: h + 1,
                }
            }
        }),
        0x56 => {
            let Some(&m) = b.get(2) else {
                return Step::More;
            };
            match m {
                0 | 48 => Step::Done(Command::Cut {
                    partial: false,
                    feed: None,
                }),
                1 | 49 => Step::Done(Command::Cut {
                    partial: true,
                    feed: None,
                }),
                65 | 66 => need(b, 4, |b| Command::Cut {
                    partial: m == 66,
                    feed: Some(b[3]),
                }),
                _ => unknown(b, "GS V with a bad mode"),
            }
        }
        0x61 => need(b, 3, |b| Command::AutoStatusBack(b[2])),
        0x28 => gs_paren(b),
        0x76 => gs_raster(b),
        _ => unknown(b, "GS command outside the kiosk subset"),
    }
}

/// `GS ( k pL pH cn fn ...`: pL + 256 pH parameter bytes follow pH.
fn gs_paren(b: &[u8]) -> Step {
    let Some(&k) = b.get(2) else {
        return Step::More;
    };
    if k != 0x6B {
        return unknown(b, "GS ( other than k");
    }
    if b.len() < 5 {
        return Step::More;
    }
    let len = usize::from(b[3]) + 256 * usize::from(b[4]);
    if b.len() < 5 + len {
        return Step::More;
    }
    let p = &b[5..];
    if len < 2 || p[0] != 0x31 {
        return unknown(b, "GS ( k for a symbol other than QR");
    }
    let cmd = match (p[1], len) {
        (0x41, 4) => QrCommand::Model(p[2]),
        (0x43, 3) => QrCommand::ModuleSize(p[2]),
        (0x45, 3) => QrCommand::ErrorLevel(p[2]),
        (0x50, _) if len >= 3 && p[2] == 0x30 => QrCommand::Store(p[3..].to_vec()),
        (0x51, 3) if p[2] == 0x30 => QrCommand::Print,
        (f, _) => QrCommand::Other { function: f },
    };
    Step::Done(Command::Qr(cmd))
}

/// `GS v 0 m xL xH yL yH d1..dk`, k = x * y.
fn gs_raster(b: &[u8]) -> Step {
    if b.len() < 8 {
        return Step::More;
    }
    if b[2] != 0x30 {
        return unknown(b, "GS v other than 0");
    }
    let x = u16::from(b[4]) | u16::from(b[5]) << 8;
    let y = u16::from(b[6]) | u16::from(b[7]) << 8;
    if x == 0 || y == 0 || y > 2303 || x > 255 {
        // The size is out of range: the header is skipped and the data reads as text.
        return unknown(b, "GS v 0 size out of range");
    }
    let k = usize::from(x) * usize::from(y);
    if b.len() < 8 + k {
        return Step::More;
    }
    Step::Done(Command::Raster {
        mode: b[3],
        width_bytes: x,
        height: y,
        data: b[8..].to_vec(),
    })
}

fn fs(b: &[u8]) -> Step {
    let Some(&c) = b.get(1) else {
        return Step::More;
    };
    match c {
        0x26 => Step::Done(Command::ChineseOn),
        0x2E => Step::Done(Command::ChineseOff),
        0x21 => need(b, 3, |b| Command::ChinesePrintMode {
            double_width: b[2] & 0x04 != 0,
            double_height: b[2] & 0x08 != 0,
            underline: b[2] & 0x80 != 0,
        }),
        _ => unknown(b, "FS command outside the kiosk subset"),
    }
}

fn dle(b: &[u8]) -> Step {
    let Some(&c) = b.get(1) else {
        return Step::More;
    };
    if c != 0x04 {
        return unknown(b, "DLE command other than EOT");
    }
    need(b, 3, |b| match b[2] {
        1..=4 => Command::RealTimeStatus(b[2]),
        _ => Command::Unknown {
            bytes: b.to_vec(),
            why: "DLE EOT with n outside 1..4",
        },
    })
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "parser_props.rs"]
mod props;
