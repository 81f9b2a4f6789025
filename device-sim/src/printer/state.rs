//! The simulated printer's condition (paper, cover, cutter) and the status bytes it answers
//! with, composed bit by bit from the spec's tables.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    Ok,
    NearEnd,
    Out,
}

impl FromStr for Paper {
    type Err = String;
    fn from_str(s: &str) -> Result<Paper, String> {
        match s {
            "ok" => Ok(Paper::Ok),
            "near_end" | "near-end" => Ok(Paper::NearEnd),
            "out" => Ok(Paper::Out),
            _ => Err(format!("paper state `{s}`: expected ok, near_end or out")),
        }
    }
}

impl fmt::Display for Paper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Paper::Ok => "ok",
            Paper::NearEnd => "near_end",
            Paper::Out => "out",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PrinterState {
    pub paper: Paper,
    pub cover_open: bool,
    /// The autocutter jammed (an error that stops printing until cleared).
    pub cutter_error: bool,
    /// Paper runs out after this many more printed lines.
    pub lines_until_out: Option<u32>,
    /// `GS a` with n != 0 was received.
    pub auto_status: bool,
}

impl Default for PrinterState {
    fn default() -> Self {
        PrinterState {
            paper: Paper::Ok,
            cover_open: false,
            cutter_error: false,
            lines_until_out: None,
            auto_status: false,
        }
    }
}

fn bit(on: bool, n: u8) -> u8 {
    u8::from(on) << n
}

/// Fixed bits of every real-time reply: `0xx1xx10`.
const REAL_TIME_FIXED: u8 = 0b0001_0010;
/// Fixed bits of the first automatic status byte: `0xx1xx00`.
const AUTO_FIXED: u8 = 0b0001_0000;

impl PrinterState {
    pub fn offline(&self) -> bool {
        self.cover_open || self.paper == Paper::Out || self.cutter_error
    }

    /// Whether the print engine runs (it stops while offline and goes on afterwards).
    pub fn can_print(&self) -> bool {
        !self.offline()
    }

    /// One line of paper used; runs the paper out when the countdown ends.
    pub fn line_used(&mut self) {
        if let Some(n) = self.lines_until_out {
            if n <= 1 {
                self.lines_until_out = None;
                self.paper = Paper::Out;
            } else {
                self.lines_until_out = Some(n - 1);
            }
        }
    }

    /// The reply to `DLE EOT n` (n = 1..4).
    pub fn real_time(&self, n: u8) -> Option<u8> {
        let out = self.paper == Paper::Out;
        let near = self.paper != Paper::Ok;
        let bits = match n {
            // bit 3 offline, bit 5 waiting for recovery (after an error).
            1 => bit(self.offline(), 3) | bit(self.cutter_error, 5),
            // bit 2 cover open, bit 5 stopped by paper end, bit 6 error.
            2 => bit(self.cover_open, 2) | bit(out, 5) | bit(self.cutter_error, 6),
            // bit 3 autocutter error.
            3 => bit(self.cutter_error, 3),
            // bits 2+3 near end (the near-end sensor is empty when the roll is out too),
            // bits 5+6 paper end: near end 0x1E, out 0x7E.
            4 => bit(near, 2) | bit(near, 3) | bit(out, 5) | bit(out, 6),
            _ => return None,
        };
        Some(REAL_TIME_FIXED | bits)
    }

    /// The 4-byte automatic status back block.
    pub fn auto_status_block(&self) -> [u8; 4] {
        let out = self.paper == Paper::Out;
        let near = self.paper != Paper::Ok;
        [
            AUTO_FIXED | bit(self.offline(), 3) | bit(self.cover_open, 5),
            bit(self.cutter_error, 3),
            if near { 0b0011 } else { 0 } | if out { 0b1100 } else { 0 },
            0,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_match_the_spec_examples() {
        let mut s = PrinterState::default();
        for n in 1..=4 {
            assert_eq!(s.real_time(n), Some(0x12), "all ok is 0x12");
        }
        assert_eq!(s.real_time(0), None);
        s.cover_open = true;
        assert_eq!(s.real_time(2), Some(0x16));
        assert_eq!(s.real_time(1).unwrap() & 0x08, 0x08, "offline");
        s.cover_open = false;
        s.paper = Paper::NearEnd;
        assert_eq!(s.real_time(4), Some(0x1E));
        s.paper = Paper::Out;
        assert_eq!(s.real_time(4), Some(0x7E));
        assert_eq!(s.real_time(2).unwrap() & 0x20, 0x20, "stopped by paper end");
    }

    #[test]
    fn auto_status_matches_the_spec_examples() {
        let mut s = PrinterState::default();
        assert_eq!(&s.auto_status_block()[..2], &[0x10, 0x00]);
        s.cover_open = true;
        assert_eq!(&s.auto_status_block()[..2], &[0x38, 0x00]);
        s.cover_open = false;
        s.paper = Paper::Out;
        assert_eq!(s.auto_status_block()[2], 0x0F);
        s.paper = Paper::NearEnd;
        assert_eq!(s.auto_status_block()[2], 0x03);
        s.paper = Paper::Ok;
        s.cutter_error = true;
        assert_eq!(s.auto_status_block()[1], 0x08);
        assert_eq!(s.real_time(3), Some(0x1A));
    }

    #[test]
    fn paper_runs_out_after_the_countdown() {
        let mut s = PrinterState {
            lines_until_out: Some(2),
            ..PrinterState::default()
        };
        s.line_used();
        assert!(s.can_print());
        s.line_used();
        assert_eq!(s.paper, Paper::Out);
        assert!(!s.can_print());
        assert_eq!(s.lines_until_out, None);
    }

    #[test]
    fn paper_words_parse() {
        assert_eq!("near_end".parse::<Paper>().unwrap(), Paper::NearEnd);
        assert!("empty".parse::<Paper>().is_err());
    }
}
