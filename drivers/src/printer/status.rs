//! Printer status, decoded bit by bit: the four real-time `DLE EOT n` bytes and the 4-byte
//! automatic status back (`GS a`) block. Sans-IO: bytes in, typed status out.

use serde::Serialize;

/// The four real-time status requests (`DLE EOT n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Printer = 1,
    OfflineCause = 2,
    Error = 3,
    Paper = 4,
}

impl StatusKind {
    pub const ALL: [StatusKind; 4] = [
        StatusKind::Printer,
        StatusKind::OfflineCause,
        StatusKind::Error,
        StatusKind::Paper,
    ];

    pub fn n(self) -> u8 {
        self as u8
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatusError {
    #[error("reply 0x{byte:02X} to DLE EOT {n} lacks the fixed pattern 0xx1xx10")]
    RealTimePattern { n: u8, byte: u8 },
    #[error("automatic status block starts with 0x{byte:02X}, not the pattern 0xx1xx00")]
    AutoStatusPattern { byte: u8 },
}

fn bit(b: u8, n: u8) -> bool {
    b & (1 << n) != 0
}

/// Real-time replies have bits 0, 7 = 0 and 1, 4 = 1.
pub fn is_real_time_reply(b: u8) -> bool {
    b & 0b1001_0011 == 0b0001_0010
}

/// The first byte of an automatic status block has bits 0, 1, 7 = 0 and 4 = 1.
pub fn is_auto_status_start(b: u8) -> bool {
    b & 0b1001_0011 == 0b0001_0000
}

fn check(kind: StatusKind, b: u8) -> Result<u8, StatusError> {
    if is_real_time_reply(b) {
        Ok(b)
    } else {
        Err(StatusError::RealTimePattern {
            n: kind.n(),
            byte: b,
        })
    }
}

/// `DLE EOT 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PrinterByte {
    pub drawer: bool,
    pub offline: bool,
    pub waiting_for_recovery: bool,
    pub feed_button: bool,
}

impl PrinterByte {
    pub fn decode(b: u8) -> Result<PrinterByte, StatusError> {
        let b = check(StatusKind::Printer, b)?;
        Ok(PrinterByte {
            drawer: bit(b, 2),
            offline: bit(b, 3),
            waiting_for_recovery: bit(b, 5),
            feed_button: bit(b, 6),
        })
    }
}

/// `DLE EOT 2`: why the printer is offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct OfflineCause {
    pub cover_open: bool,
    pub feeding_by_button: bool,
    pub stopped_by_paper_end: bool,
    pub error: bool,
}

impl OfflineCause {
    pub fn decode(b: u8) -> Result<OfflineCause, StatusError> {
        let b = check(StatusKind::OfflineCause, b)?;
        Ok(OfflineCause {
            cover_open: bit(b, 2),
            feeding_by_button: bit(b, 3),
            stopped_by_paper_end: bit(b, 5),
            error: bit(b, 6),
        })
    }
}

/// `DLE EOT 3` (and byte 2 of the automatic block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ErrorFlags {
    pub recoverable: bool,
    pub autocutter: bool,
    pub unrecoverable: bool,
    pub auto_recoverable: bool,
}

impl ErrorFlags {
    pub fn decode(b: u8) -> Result<ErrorFlags, StatusError> {
        Ok(Self::from_bits(check(StatusKind::Error, b)?))
    }

    fn from_bits(b: u8) -> ErrorFlags {
        ErrorFlags {
            recoverable: bit(b, 2),
            autocutter: bit(b, 3),
            unrecoverable: bit(b, 5),
            auto_recoverable: bit(b, 6),
        }
    }

    /// The most serious error, if any.
    pub fn worst(&self) -> Option<PrinterFault> {
        if self.unrecoverable {
            Some(PrinterFault::Unrecoverable)
        } else if self.autocutter {
            Some(PrinterFault::Autocutter)
        } else if self.recoverable {
            Some(PrinterFault::Recoverable)
        } else if self.auto_recoverable {
            Some(PrinterFault::AutoRecoverable)
        } else {
            None
        }
    }
}

/// How much paper is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperLevel {
    Ok,
    NearEnd,
    Out,
}

impl std::fmt::Display for PaperLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PaperLevel::Ok => "ok",
            PaperLevel::NearEnd => "near_end",
            PaperLevel::Out => "out",
        })
    }
}

/// `DLE EOT 4`: bits 2+3 near end, bits 5+6 paper end. Either bit of a pair counts (models
/// differ in setting one or both).
pub fn decode_paper(b: u8) -> Result<PaperLevel, StatusError> {
    let b = check(StatusKind::Paper, b)?;
    Ok(if b & 0b0110_0000 != 0 {
        PaperLevel::Out
    } else if b & 0b0000_1100 != 0 {
        PaperLevel::NearEnd
    } else {
        PaperLevel::Ok
    })
}

/// An error state the printer reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterFault {
    Unrecoverable,
    Autocutter,
    Recoverable,
    AutoRecoverable,
}

impl std::fmt::Display for PrinterFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PrinterFault::Unrecoverable => "unrecoverable",
            PrinterFault::Autocutter => "autocutter",
            PrinterFault::Recoverable => "recoverable",
            PrinterFault::AutoRecoverable => "auto_recoverable",
        })
    }
}

/// Why a job must not start (or stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "fault")]
pub enum Refusal {
    PaperOut,
    CoverOpen,
    Fault(PrinterFault),
    Offline,
}

impl Refusal {
    /// Short key for counters and events: `paper_out`, `cover_open`, `fault_autocutter`...
    pub fn key(&self) -> String {
        match self {
            Refusal::PaperOut => "paper_out".into(),
            Refusal::CoverOpen => "cover_open".into(),
            Refusal::Fault(f) => format!("fault_{f}"),
            Refusal::Offline => "offline".into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::PaperOut => f.write_str("paper out: load a new paper roll"),
            Refusal::CoverOpen => f.write_str("cover open: close the printer cover"),
            Refusal::Fault(PrinterFault::Autocutter) => {
                f.write_str("autocutter error: clear the paper jam at the cutter")
            }
            Refusal::Fault(PrinterFault::Unrecoverable) => f.write_str(
                "unrecoverable printer error: switch the printer off and on, then call service",
            ),
            Refusal::Fault(kind) => write!(f, "printer error ({kind})"),
            Refusal::Offline => f.write_str("printer is offline"),
        }
    }
}

/// What the kiosk needs to know, from either source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PrinterStatus {
    pub online: bool,
    pub cover_open: bool,
    pub paper: PaperLevel,
    /// The most serious error, `None` when there is none.
    pub error: Option<PrinterFault>,
    pub errors: ErrorFlags,
    pub feed_button: bool,
    pub waiting_for_recovery: bool,
}

impl PrinterStatus {
    /// From the replies to `DLE EOT 1, 2, 3, 4`, in that order.
    pub fn from_real_time(replies: [u8; 4]) -> Result<PrinterStatus, StatusError> {
        let printer = PrinterByte::decode(replies[0])?;
        let cause = OfflineCause::decode(replies[1])?;
        let errors = ErrorFlags::decode(replies[2])?;
        let mut paper = decode_paper(replies[3])?;
        if cause.stopped_by_paper_end {
            paper = PaperLevel::Out;
        }
        Ok(PrinterStatus {
            online: !printer.offline,
            cover_open: cause.cover_open,
            paper,
            error: errors.worst(),
            errors,
            feed_button: printer.feed_button || cause.feeding_by_button,
            waiting_for_recovery: printer.waiting_for_recovery,
        })
    }

    /// From an automatic status back block: byte 1 offline/cover/feeding, byte 2 errors,
    /// byte 3 paper sensors (bits 0-1 near end, 2-3 paper end).
    pub fn from_auto_status(block: [u8; 4]) -> Result<PrinterStatus, StatusError> {
        let b1 = block[0];
        if !is_auto_status_start(b1) {
            return Err(StatusError::AutoStatusPattern { byte: b1 });
        }
        let errors = ErrorFlags::from_bits(block[1]);
        let paper = if block[2] & 0b1100 != 0 {
            PaperLevel::Out
        } else if block[2] & 0b0011 != 0 {
            PaperLevel::NearEnd
        } else {
            PaperLevel::Ok
        };
        Ok(PrinterStatus {
            online: !bit(b1, 3),
            cover_open: bit(b1, 5),
            paper,
            error: errors.worst(),
            errors,
            feed_button: bit(b1, 6),
            waiting_for_recovery: false,
        })
    }

    /// Why a job must not start now, most urgent first; `None` when printing may go ahead.
    /// Paper near end is only a warning.
    pub fn refusal(&self) -> Option<Refusal> {
        if self.paper == PaperLevel::Out {
            Some(Refusal::PaperOut)
        } else if self.cover_open {
            Some(Refusal::CoverOpen)
        } else if let Some(f) = self.error.filter(|f| *f != PrinterFault::AutoRecoverable) {
            Some(Refusal::Fault(f))
        } else if !self.online {
            Some(Refusal::Offline)
        } else {
            None
        }
    }

    /// One line for the diagnostics screen.
    pub fn summary(&self) -> String {
        format!(
            "{}, paper {}, cover {}, error {}",
            if self.online { "online" } else { "offline" },
            self.paper,
            if self.cover_open { "open" } else { "closed" },
            self.error
                .map(|e| e.to_string())
                .unwrap_or_else(|| "none".into())
        )
    }
}

/// What arrives from the printer, sorted out of one byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMessage {
    /// A reply to `DLE EOT n`.
    RealTime(u8),
    /// An automatic status back block.
    AutoStatus([u8; 4]),
    /// A byte that fits neither (line noise, a model's extra answer).
    Stray(u8),
}

/// Splits the bytes from the printer: real-time replies (`0xx1xx10`) and automatic status
/// blocks (first byte `0xx1xx00`, then three bytes) differ in bit 1 of their first byte.
#[derive(Debug, Default)]
pub struct StatusStream {
    block: Vec<u8>,
}

impl StatusStream {
    pub fn push(&mut self, b: u8) -> Option<StatusMessage> {
        if !self.block.is_empty() {
            self.block.push(b);
            if self.block.len() == 4 {
                let block = [self.block[0], self.block[1], self.block[2], self.block[3]];
                self.block.clear();
                return Some(StatusMessage::AutoStatus(block));
            }
            return None;
        }
        if is_real_time_reply(b) {
            Some(StatusMessage::RealTime(b))
        } else if is_auto_status_start(b) {
            self.block.push(b);
            None
        } else {
            Some(StatusMessage::Stray(b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_ok_byte_is_0x12_for_every_kind() {
        assert_eq!(PrinterByte::decode(0x12).unwrap(), PrinterByte::default());
        assert_eq!(OfflineCause::decode(0x12).unwrap(), OfflineCause::default());
        assert_eq!(ErrorFlags::decode(0x12).unwrap(), ErrorFlags::default());
        assert_eq!(decode_paper(0x12).unwrap(), PaperLevel::Ok);
        let s = PrinterStatus::from_real_time([0x12; 4]).unwrap();
        assert!(s.online && !s.cover_open && s.error.is_none());
        assert_eq!(s.paper, PaperLevel::Ok);
        assert_eq!(s.refusal(), None);
    }

    #[test]
    fn spec_examples_decode_by_bit() {
        // n=2 cover open 0x16: bit 2.
        let c = OfflineCause::decode(0x16).unwrap();
        assert!(c.cover_open && !c.feeding_by_button && !c.stopped_by_paper_end && !c.error);
        // n=4 near end 0x1E: bits 2+3.
        assert_eq!(decode_paper(0x1E).unwrap(), PaperLevel::NearEnd);
        // n=4 paper out 0x72 or 0x7E: bits 5+6 (with or without near end).
        assert_eq!(decode_paper(0x72).unwrap(), PaperLevel::Out);
        assert_eq!(decode_paper(0x7E).unwrap(), PaperLevel::Out);
    }

    #[test]
    fn single_bits_are_read_on_their_own() {
        // Each documented bit alone on top of the fixed pattern.
        assert!(PrinterByte::decode(0x12 | 1 << 2).unwrap().drawer);
        assert!(PrinterByte::decode(0x12 | 1 << 3).unwrap().offline);
        assert!(
            PrinterByte::decode(0x12 | 1 << 5)
                .unwrap()
                .waiting_for_recovery
        );
        assert!(PrinterByte::decode(0x12 | 1 << 6).unwrap().feed_button);
        assert!(
            OfflineCause::decode(0x12 | 1 << 3)
                .unwrap()
                .feeding_by_button
        );
        assert!(
            OfflineCause::decode(0x12 | 1 << 5)
                .unwrap()
                .stopped_by_paper_end
        );
        assert!(OfflineCause::decode(0x12 | 1 << 6).unwrap().error);
        let e = |b: u8| ErrorFlags::decode(0x12 | 1 << b).unwrap();
        assert!(e(2).recoverable && !e(2).autocutter);
        assert!(e(3).autocutter && !e(3).unrecoverable);
        assert!(e(5).unrecoverable && !e(5).auto_recoverable);
        assert!(e(6).auto_recoverable && !e(6).recoverable);
        // One bit of a pair is enough.
        assert_eq!(decode_paper(0x12 | 1 << 2).unwrap(), PaperLevel::NearEnd);
        assert_eq!(decode_paper(0x12 | 1 << 6).unwrap(), PaperLevel::Out);
    }

    #[test]
    fn bytes_without_the_fixed_pattern_are_refused() {
        for b in [0x00, 0x10, 0x13, 0x02, 0x92, 0xFF] {
            assert_eq!(
                PrinterByte::decode(b),
                Err(StatusError::RealTimePattern { n: 1, byte: b })
            );
        }
        assert!(
            decode_paper(0x38).is_err(),
            "an automatic-status byte is not a reply"
        );
    }

    #[test]
    fn combined_status_and_refusals() {
        // Cover open: printer offline (0x1A), cause cover open (0x16).
        let s = PrinterStatus::from_real_time([0x1A, 0x16, 0x12, 0x12]).unwrap();
        assert!(!s.online && s.cover_open);
        assert_eq!(s.refusal(), Some(Refusal::CoverOpen));
        // Paper out wins over cover open.
        let s = PrinterStatus::from_real_time([0x1A, 0x36, 0x12, 0x72]).unwrap();
        assert_eq!(s.paper, PaperLevel::Out);
        assert_eq!(s.refusal(), Some(Refusal::PaperOut));
        // Stopped by paper end alone still means out.
        let s = PrinterStatus::from_real_time([0x1A, 0x32, 0x12, 0x12]).unwrap();
        assert_eq!(s.paper, PaperLevel::Out);
        // Near end prints, with the level reported.
        let s = PrinterStatus::from_real_time([0x12, 0x12, 0x12, 0x1E]).unwrap();
        assert_eq!((s.paper, s.refusal()), (PaperLevel::NearEnd, None));
        // Autocutter error refuses; an auto-recoverable error does not.
        let s = PrinterStatus::from_real_time([0x12, 0x52, 0x1A, 0x12]).unwrap();
        assert_eq!(s.error, Some(PrinterFault::Autocutter));
        assert_eq!(s.refusal(), Some(Refusal::Fault(PrinterFault::Autocutter)));
        let s = PrinterStatus::from_real_time([0x12, 0x12, 0x52, 0x12]).unwrap();
        assert_eq!(s.error, Some(PrinterFault::AutoRecoverable));
        assert_eq!(s.refusal(), None);
        // Offline for no listed cause.
        let s = PrinterStatus::from_real_time([0x1A, 0x12, 0x12, 0x12]).unwrap();
        assert_eq!(s.refusal(), Some(Refusal::Offline));
        assert!(Refusal::PaperOut.to_string().contains("paper out"));
        assert!(Refusal::CoverOpen.to_string().contains("cover open"));
    }

    #[test]
    fn auto_status_examples_from_the_spec() {
        let open = PrinterStatus::from_auto_status([0x38, 0x00, 0x00, 0x00]).unwrap();
        assert!(open.cover_open && !open.online);
        let closed = PrinterStatus::from_auto_status([0x10, 0x00, 0x00, 0x00]).unwrap();
        assert!(!closed.cover_open && closed.online);
        assert_eq!(closed.paper, PaperLevel::Ok);
        // Byte 1 bit 6 feeding; byte 2 bits 2, 3, 5, 6; byte 3 bits 0-1 and 2-3.
        assert!(
            PrinterStatus::from_auto_status([0x50, 0, 0, 0])
                .unwrap()
                .feed_button
        );
        let e = |b: u8| {
            PrinterStatus::from_auto_status([0x10, 1 << b, 0, 0])
                .unwrap()
                .errors
        };
        assert!(e(2).recoverable && e(3).autocutter && e(5).unrecoverable && e(6).auto_recoverable);
        assert_eq!(
            PrinterStatus::from_auto_status([0x10, 0, 0x01, 0])
                .unwrap()
                .paper,
            PaperLevel::NearEnd
        );
        assert_eq!(
            PrinterStatus::from_auto_status([0x10, 0, 0x0F, 0])
                .unwrap()
                .paper,
            PaperLevel::Out
        );
        assert_eq!(
            PrinterStatus::from_auto_status([0x12, 0, 0, 0]),
            Err(StatusError::AutoStatusPattern { byte: 0x12 })
        );
    }

    #[test]
    fn stream_separates_replies_from_blocks() {
        let mut s = StatusStream::default();
        let got: Vec<StatusMessage> = [0x38, 0x00, 0x12, 0x00, 0x16, 0xFF]
            .into_iter()
            .filter_map(|b| s.push(b))
            .collect();
        assert_eq!(
            got,
            vec![
                StatusMessage::AutoStatus([0x38, 0x00, 0x12, 0x00]),
                StatusMessage::RealTime(0x16),
                StatusMessage::Stray(0xFF)
            ]
        );
    }
}
