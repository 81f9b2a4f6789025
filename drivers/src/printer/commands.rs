//! The ESC/POS commands the kiosk uses, one function each, byte for byte as in
//! `shared/specs/escpos-receipt-printer.md`. Nothing here does I/O.

use super::document::{Align, Cut, QrLevel};
use super::raster::RasterImage;

pub const ESC: u8 = 0x1B;
pub const GS: u8 = 0x1D;
pub const FS: u8 = 0x1C;
pub const DLE: u8 = 0x10;
pub const EOT: u8 = 0x04;
/// Print the line buffer and feed one line.
pub const LF: u8 = 0x0A;

/// Largest raster block height in one `GS v 0` (the spec's 1..2303).
pub const RASTER_MAX_ROWS: u16 = 2303;

/// `ESC @`: clears the buffer and the modes.
pub fn init() -> [u8; 2] {
    [ESC, 0x40]
}

/// `ESC a n`.
pub fn align(a: Align) -> [u8; 3] {
    let n = match a {
        Align::Left => 0,
        Align::Center => 1,
        Align::Right => 2,
    };
    [ESC, 0x61, n]
}

/// `ESC E n`: only the lowest bit counts.
pub fn bold(on: bool) -> [u8; 3] {
    [ESC, 0x45, u8::from(on)]
}

/// `GS ! n`: high nibble width - 1, low nibble height - 1 (multipliers 1..=8).
pub fn char_size(width: u8, height: u8) -> [u8; 3] {
    let w = width.clamp(1, 8) - 1;
    let h = height.clamp(1, 8) - 1;
    [GS, 0x21, (w << 4) | h]
}

/// `ESC d n`: print and feed `n` lines.
pub fn feed_lines(n: u8) -> [u8; 3] {
    [ESC, 0x64, n]
}

/// `GS V m` (function A) or `GS V m n` (function B).
pub fn cut(c: Cut) -> Vec<u8> {
    match c {
        Cut::Full => vec![GS, 0x56, 0],
        Cut::Partial => vec![GS, 0x56, 1],
        Cut::FeedFull(n) => vec![GS, 0x56, 65, n],
        Cut::FeedPartial(n) => vec![GS, 0x56, 66, n],
    }
}

/// `ESC R 15`: international character set China.
pub fn international_china() -> [u8; 3] {
    [ESC, 0x52, 0x0F]
}

/// `FS &`: Chinese mode on (bytes 0x81..0xFE start a double-byte GB character).
pub fn chinese_on() -> [u8; 2] {
    [FS, 0x26]
}

/// `FS .`: Chinese mode off.
pub fn chinese_off() -> [u8; 2] {
    [FS, 0x2E]
}

/// `FS ! n`: Chinese print mode; bit 2 double width, bit 3 double height, bit 7 underline.
pub fn chinese_print_mode(double_width: bool, double_height: bool, underline: bool) -> [u8; 3] {
    let n =
        (u8::from(double_width) << 2) | (u8::from(double_height) << 3) | (u8::from(underline) << 7);
    [FS, 0x21, n]
}

/// `GS ( k` header: pL pH then cn = 0x31 (QR).
fn qr_header(param_len: usize) -> [u8; 5] {
    let len = param_len as u16;
    [GS, 0x28, 0x6B, (len & 0xFF) as u8, (len >> 8) as u8]
}

/// QR model 2: `1D 28 6B 04 00 31 41 32 00`.
pub fn qr_model2() -> [u8; 9] {
    [GS, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 50, 0x00]
}

/// QR module size in dots, 1..=16.
pub fn qr_module_size(dots: u8) -> [u8; 8] {
    [GS, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, dots.clamp(1, 16)]
}

/// QR error correction: 48 L, 49 M, 50 Q, 51 H.
pub fn qr_error_level(level: QrLevel) -> [u8; 8] {
    let n = match level {
        QrLevel::L => 48,
        QrLevel::M => 49,
        QrLevel::Q => 50,
        QrLevel::H => 51,
    };
    [GS, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, n]
}

/// Largest QR payload the store command can carry (pL + 256 pH = len + 3 <= 65535); a QR
/// code itself holds at most 7089 characters, far less.
pub const QR_MAX_DATA: usize = 65535 - 3;

/// QR store: `1D 28 6B pL pH 31 50 30 data`, pL + 256*pH = len(data) + 3. `None` when the
/// data is too long for the length field.
pub fn qr_store(data: &[u8]) -> Option<Vec<u8>> {
    if data.len() > QR_MAX_DATA {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() + 8);
    out.extend_from_slice(&qr_header(data.len() + 3));
    out.extend_from_slice(&[0x31, 0x50, 0x30]);
    out.extend_from_slice(data);
    Some(out)
}

/// QR print: `1D 28 6B 03 00 31 51 30`.
pub fn qr_print() -> [u8; 8] {
    [GS, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]
}

/// `GS v 0 m xL xH yL yH data`, normal density (m = 0). Images taller than the spec's 2303
/// rows go out as several commands one under the other.
pub fn raster(image: &RasterImage) -> Vec<u8> {
    let x = image.width_bytes();
    let mut out = Vec::with_capacity(image.data().len() + 8);
    let mut row = 0u16;
    while row < image.height() {
        let rows = (image.height() - row).min(RASTER_MAX_ROWS);
        out.extend_from_slice(&[
            GS,
            0x76,
            0x30,
            0,
            (x & 0xFF) as u8,
            (x >> 8) as u8,
            (rows & 0xFF) as u8,
            (rows >> 8) as u8,
        ]);
        let start = usize::from(row) * usize::from(x);
        let end = start + usize::from(rows) * usize::from(x);
        out.extend_from_slice(&image.data()[start..end]);
        row += rows;
    }
    out
}

/// `DLE EOT n`: real-time status, n = 1 printer, 2 offline cause, 3 error, 4 roll paper.
pub fn status_query(n: u8) -> [u8; 3] {
    [DLE, EOT, n]
}

/// `GS a n`: automatic status back; 0 turns it off. The kiosk asks for every kind
/// (drawer, online/offline, error, paper sensor: bits 0..3).
pub fn auto_status_back(n: u8) -> [u8; 3] {
    [GS, 0x61, n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_commands_match_the_spec() {
        assert_eq!(init(), [0x1B, 0x40]);
        assert_eq!(align(Align::Left), [0x1B, 0x61, 0]);
        assert_eq!(align(Align::Center), [0x1B, 0x61, 1]);
        assert_eq!(align(Align::Right), [0x1B, 0x61, 2]);
        assert_eq!(bold(true), [0x1B, 0x45, 1]);
        assert_eq!(bold(false), [0x1B, 0x45, 0]);
        assert_eq!(char_size(1, 1), [0x1D, 0x21, 0x00]);
        assert_eq!(char_size(2, 2), [0x1D, 0x21, 0x11]);
        assert_eq!(char_size(3, 1), [0x1D, 0x21, 0x20]);
        assert_eq!(char_size(1, 8), [0x1D, 0x21, 0x07]);
        assert_eq!(char_size(8, 8), [0x1D, 0x21, 0x77]);
        assert_eq!(
            char_size(0, 9),
            [0x1D, 0x21, 0x07],
            "out of range is clamped"
        );
        assert_eq!(feed_lines(3), [0x1B, 0x64, 3]);
        assert_eq!(international_china(), [0x1B, 0x52, 0x0F]);
    }

    #[test]
    fn cut_functions_a_and_b() {
        assert_eq!(cut(Cut::Full), vec![0x1D, 0x56, 0]);
        assert_eq!(cut(Cut::Partial), vec![0x1D, 0x56, 1]);
        assert_eq!(cut(Cut::FeedFull(10)), vec![0x1D, 0x56, 65, 10]);
        assert_eq!(cut(Cut::FeedPartial(4)), vec![0x1D, 0x56, 66, 4]);
    }

    #[test]
    fn chinese_mode_commands() {
        assert_eq!(chinese_on(), [0x1C, 0x26]);
        assert_eq!(chinese_off(), [0x1C, 0x2E]);
        assert_eq!(chinese_print_mode(false, false, false), [0x1C, 0x21, 0]);
        assert_eq!(chinese_print_mode(true, false, false), [0x1C, 0x21, 0x04]);
        assert_eq!(chinese_print_mode(false, true, false), [0x1C, 0x21, 0x08]);
        assert_eq!(chinese_print_mode(true, true, true), [0x1C, 0x21, 0x8C]);
    }

    #[test]
    fn qr_steps_match_the_spec() {
        assert_eq!(
            qr_model2(),
            [0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]
        );
        assert_eq!(
            qr_module_size(6),
            [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 6]
        );
        assert_eq!(qr_module_size(0)[7], 1);
        assert_eq!(qr_module_size(99)[7], 16);
        assert_eq!(qr_error_level(QrLevel::L)[7], 48);
        assert_eq!(qr_error_level(QrLevel::M)[7], 49);
        assert_eq!(qr_error_level(QrLevel::Q)[7], 50);
        assert_eq!(
            qr_error_level(QrLevel::H),
            [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 51]
        );
        assert_eq!(
            qr_store(b"AB").unwrap(),
            vec![0x1D, 0x28, 0x6B, 0x05, 0x00, 0x31, 0x50, 0x30, b'A', b'B']
        );
        assert_eq!(qr_print(), [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
    }

    #[test]
    fn qr_store_length_uses_both_bytes() {
        let data = vec![b'x'; 300];
        let bytes = qr_store(&data).unwrap();
        // 303 = 0x012F
        assert_eq!(
            &bytes[..8],
            &[0x1D, 0x28, 0x6B, 0x2F, 0x01, 0x31, 0x50, 0x30]
        );
        assert_eq!(bytes.len(), 8 + 300);
        assert!(qr_store(&vec![0; QR_MAX_DATA + 1]).is_none());
        assert!(qr_store(&vec![0; QR_MAX_DATA]).is_some());
    }

    #[test]
    fn raster_header_and_data() {
        // 16 dots wide (2 bytes), 2 rows; MSB is the leftmost dot.
        let mut first = vec![false; 16];
        first[0] = true;
        first[15] = true;
        let img = RasterImage::from_rows(16, &[first, vec![false; 16]]).unwrap();
        assert_eq!(
            raster(&img),
            vec![0x1D, 0x76, 0x30, 0x00, 2, 0, 2, 0, 0x80, 0x01, 0x00, 0x00]
        );
    }

    #[test]
    fn tall_raster_is_split_at_2303_rows() {
        let rows = vec![vec![true; 8]; 2304];
        let img = RasterImage::from_rows(8, &rows).unwrap();
        let bytes = raster(&img);
        assert_eq!(&bytes[..8], &[0x1D, 0x76, 0x30, 0, 1, 0, 0xFF, 0x08]);
        let second = 8 + 2303;
        assert_eq!(
            &bytes[second..second + 8],
            &[0x1D, 0x76, 0x30, 0, 1, 0, 1, 0]
        );
        assert_eq!(bytes.len(), 8 + 2303 + 8 + 1);
    }

    #[test]
    fn status_commands() {
        for n in 1..=4 {
            assert_eq!(status_query(n), [0x10, 0x04, n]);
        }
        assert_eq!(auto_status_back(0x0F), [0x1D, 0x61, 0x0F]);
        assert_eq!(auto_status_back(0), [0x1D, 0x61, 0]);
    }
}
