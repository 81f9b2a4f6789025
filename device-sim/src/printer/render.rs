//! Draws what the printer prints onto a 576-dot (80 mm at 203 dpi) page: text with a CJK
//! font, QR codes, raster images. One page per cut; the page also keeps the decoded text and
//! the QR payloads.

use std::path::Path;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use anyhow::Context;
use image::GrayImage;

/// Printable width of 80 mm paper at 203 dpi.
pub const PAGE_DOTS: u32 = 576;
/// Character cell height at size 1 (Font A 12 x 24, Chinese 24 x 24).
const CELL: u32 = 24;
/// Default line spacing: a line of size-1 text advances this many dots.
const LINE_PITCH: u32 = 30;
/// White paper above the first line and below the last.
const MARGIN: u32 = 16;
/// A page longer than this (about 2 m) is cut off: a stuck job, not a receipt.
const MAX_PAGE_DOTS: u32 = 16_000;

/// The CJK font (Debian's fonts-droid-fallback has no Latin letters) and a Latin one.
pub struct Fonts {
    cjk: FontVec,
    latin: Option<FontVec>,
}

fn load_font(path: &Path, what: &str) -> anyhow::Result<FontVec> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "{what} font {} not found: install fonts-droid-fallback / fonts-dejavu-core or pass --font / --latin-font",
            path.display()
        )
    })?;
    FontVec::try_from_vec(bytes).map_err(|e| anyhow::anyhow!("{what} font {}: {e}", path.display()))
}

impl Fonts {
    /// The CJK font must load; a missing Latin font only leaves Latin letters to the CJK font.
    pub fn load(cjk: &Path, latin: Option<&Path>) -> anyhow::Result<Fonts> {
        Ok(Fonts {
            cjk: load_font(cjk, "CJK")?,
            latin: latin.map(|p| load_font(p, "Latin")).transpose()?,
        })
    }

    fn pick(&self, c: char) -> &FontVec {
        match &self.latin {
            Some(latin) if self.cjk.glyph_id(c).0 == 0 => latin,
            _ => &self.cjk,
        }
    }
}

/// How a character looks, from ESC E, GS ! and FS !.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub bold: bool,
    pub width: u8,
    pub height: u8,
    pub cn_double_width: bool,
    pub cn_double_height: bool,
    pub underline: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            bold: false,
            width: 1,
            height: 1,
            cn_double_width: false,
            cn_double_height: false,
            underline: false,
        }
    }
}

impl Style {
    /// Cell size in dots. Double-byte characters take the larger of GS ! and FS !.
    fn cell(&self, wide: bool) -> (u32, u32) {
        let (mut w, mut h) = (u32::from(self.width), u32::from(self.height));
        if wide {
            w = w.max(if self.cn_double_width { 2 } else { 1 });
            h = h.max(if self.cn_double_height { 2 } else { 1 });
            (CELL * w, CELL * h)
        } else {
            (CELL / 2 * w, CELL * h)
        }
    }
}

struct Glyph {
    ch: char,
    wide: bool,
    style: Style,
}

/// One receipt being printed.
pub struct Page {
    canvas: Vec<u8>,
    y: u32,
    line: Vec<Glyph>,
    line_width: u32,
    line_text: String,
    pub text: Vec<String>,
    pub qr_payloads: Vec<String>,
    pub notes: Vec<String>,
}

impl Default for Page {
    fn default() -> Self {
        Page::new()
    }
}

impl Page {
    pub fn new() -> Page {
        Page {
            canvas: Vec::new(),
            y: MARGIN,
            line: Vec::new(),
            line_width: 0,
            line_text: String::new(),
            text: Vec::new(),
            qr_payloads: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Nothing printed yet (a cut on a blank page makes no receipt).
    pub fn is_blank(&self) -> bool {
        self.text.is_empty()
            && self.qr_payloads.is_empty()
            && self.line.is_empty()
            && self.canvas.is_empty()
    }

    /// Drops the unprinted line (ESC @ clears the buffer).
    pub fn clear_line(&mut self) {
        self.line.clear();
        self.line_width = 0;
        self.line_text.clear();
    }

    pub fn add_char(&mut self, fonts: &Fonts, ch: char, wide: bool, style: Style, align: u8) {
        let (w, _) = style.cell(wide);
        if self.line_width + w > PAGE_DOTS && !self.line.is_empty() {
            // The printer wraps a line wider than the paper.
            self.draw_line(fonts, align);
        }
        self.line.push(Glyph { ch, wide, style });
        self.line_width += w;
        self.line_text.push(ch);
    }

    /// LF: prints the buffered line (an empty one feeds one line).
    pub fn line_feed(&mut self, fonts: &Fonts, align: u8) {
        if self.line.is_empty() {
            self.y += LINE_PITCH;
        } else {
            self.draw_line(fonts, align);
        }
        self.text.push(std::mem::take(&mut self.line_text));
    }

    /// ESC d n: prints the buffer, then feeds n lines.
    pub fn feed(&mut self, fonts: &Fonts, align: u8, n: u8) {
        if !self.line.is_empty() {
            self.line_feed(fonts, align);
        }
        self.y += LINE_PITCH * u32::from(n);
    }

    fn ensure_rows(&mut self, bottom: u32) -> bool {
        if bottom > MAX_PAGE_DOTS {
            if !self.notes.iter().any(|n| n.starts_with("page longer")) {
                self.notes.push(format!(
                    "page longer than {MAX_PAGE_DOTS} dots: the rest is not drawn"
                ));
            }
            return false;
        }
        let need = (bottom as usize) * PAGE_DOTS as usize;
        if self.canvas.len() < need {
            self.canvas.resize(need, 255);
        }
        true
    }

    fn black(&mut self, x: i64, y: i64) {
        if x >= 0 && y >= 0 && (x as u32) < PAGE_DOTS {
            let i = (y as usize) * PAGE_DOTS as usize + x as usize;
            if let Some(p) = self.canvas.get_mut(i) {
                *p = 0;
            }
        }
    }

    fn draw_line(&mut self, fonts: &Fonts, align: u8) {
        let line = std::mem::take(&mut self.line);
        let width = std::mem::take(&mut self.line_width);
        let height = line
            .iter()
            .map(|g| g.style.cell(g.wide).1)
            .max()
            .unwrap_or(CELL);
        let pitch = LINE_PITCH.max(height + LINE_PITCH - CELL);
        let top = self.y;
        self.y += pitch;
        if !self.ensure_rows(top + pitch) {
            return;
        }
        let mut x = offset(align, width);
        for g in &line {
            let (cw, ch) = g.style.cell(g.wide);
            // Characters sit on a common bottom line.
            let cell_top = top + height - ch;
            self.draw_glyph(fonts, g, x, cell_top, cw, ch);
            if g.style.underline {
                for dx in 0..cw {
                    self.black(i64::from(x + dx), i64::from(top + height + 1));
                }
            }
            x += cw;
        }
    }

    fn draw_glyph(&mut self, fonts: &Fonts, g: &Glyph, x: u32, top: u32, cw: u32, ch: u32) {
        let font = fonts.pick(g.ch);
        let id = font.glyph_id(g.ch);
        let mut scale = PxScale {
            x: ch as f32,
            y: ch as f32,
        };
        // Fit the glyph's advance into its cell (narrow for half-width characters).
        let adv = font.as_scaled(scale).h_advance(id);
        if adv > 0.0 {
            scale.x *= (cw as f32 / adv).min(if g.wide { 1.0 } else { 1.2 });
        }
        let scaled = font.as_scaled(scale);
        let adv = scaled.h_advance(id);
        let left = x as f32 + ((cw as f32 - adv) / 2.0).max(0.0);
        let baseline = top as f32
            + scaled.ascent() * (ch as f32 / (scaled.ascent() - scaled.descent()).max(1.0));
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(left, baseline));
        let Some(outline) = font.outline_glyph(glyph) else {
            return;
        };
        let b = outline.px_bounds();
        let mut dots = Vec::new();
        outline.draw(|gx, gy, cov| {
            if cov >= 0.5 {
                dots.push((
                    b.min.x as i64 + i64::from(gx),
                    b.min.y as i64 + i64::from(gy),
                ));
            }
        });
        for (px, py) in dots {
            self.black(px, py);
            if g.style.bold {
                self.black(px + 1, py);
            }
        }
    }

    /// Draws a QR code (model 2) of `data` with `module` dots per module.
    pub fn qr(&mut self, data: &[u8], level: qrcode::EcLevel, module: u8, align: u8) {
        let code = match qrcode::QrCode::with_error_correction_level(data, level) {
            Ok(c) => c,
            Err(e) => {
                self.notes.push(format!("QR not printed: {e}"));
                return;
            }
        };
        let m = u32::from(module.max(1));
        let n = code.width() as u32;
        if n * m > PAGE_DOTS {
            self.notes.push(format!(
                "QR not printed: {n} modules x {m} dots is wider than the paper"
            ));
            return;
        }
        // Quiet zone of four modules where the paper allows.
        let quiet = (4 * m).min((PAGE_DOTS - n * m) / 2);
        let side = n * m + 2 * quiet;
        let top = self.y;
        self.y += side;
        self.qr_payloads
            .push(String::from_utf8_lossy(data).into_owned());
        self.text.push("[QR]".into());
        if !self.ensure_rows(top + side) {
            return;
        }
        let left = offset(align, side) + quiet;
        for (i, color) in code.to_colors().into_iter().enumerate() {
            if color != qrcode::Color::Dark {
                continue;
            }
            let (mx, my) = (i as u32 % n, i as u32 / n);
            for dy in 0..m {
                for dx in 0..m {
                    self.black(
                        i64::from(left + mx * m + dx),
                        i64::from(top + quiet + my * m + dy),
                    );
                }
            }
        }
    }

    /// Draws a `GS v 0` bit image (MSB leftmost, 1 = black).
    pub fn raster(&mut self, width_bytes: u16, height: u16, data: &[u8], align: u8) {
        let w = u32::from(width_bytes) * 8;
        let h = u32::from(height);
        let top = self.y;
        self.y += h;
        self.text.push(format!("[image {w}x{h}]"));
        if !self.ensure_rows(top + h) {
            return;
        }
        let left = offset(align, w.min(PAGE_DOTS));
        for (i, byte) in data.iter().enumerate() {
            let row = i as u32 / u32::from(width_bytes);
            let col = (i as u32 % u32::from(width_bytes)) * 8;
            for bit in 0..8 {
                if byte & (0x80 >> bit) != 0 {
                    self.black(i64::from(left + col + bit), i64::from(top + row));
                }
            }
        }
    }

    /// The finished page as an image (white paper, black dots) and its text.
    pub fn finish(mut self, fonts: &Fonts) -> (GrayImage, String, Vec<String>, Vec<String>) {
        if !self.line.is_empty() {
            // Cutting prints what is in the buffer first.
            self.line_feed(fonts, 0);
        }
        let height = (self.y + MARGIN).min(MAX_PAGE_DOTS);
        self.canvas
            .resize(height as usize * PAGE_DOTS as usize, 255);
        let image = GrayImage::from_raw(PAGE_DOTS, height, self.canvas)
            .unwrap_or_else(|| GrayImage::new(PAGE_DOTS, 1));
        let mut text = self.text.join("\n");
        text.push('\n');
        (image, text, self.qr_payloads, self.notes)
    }
}

/// Left edge of something `width` dots wide under alignment 0 left, 1 centre, 2 right.
fn offset(align: u8, width: u32) -> u32 {
    let free = PAGE_DOTS.saturating_sub(width);
    match align {
        1 => free / 2,
        2 => free,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CJK: &str = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf";
    const LATIN: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

    fn fonts() -> Fonts {
        Fonts::load(Path::new(CJK), Some(Path::new(LATIN))).unwrap()
    }

    fn black_in(img: &GrayImage, x0: u32, x1: u32, y0: u32, y1: u32) -> usize {
        (y0..y1.min(img.height()))
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0[0] < 128)
            .count()
    }

    #[test]
    fn text_lands_where_alignment_puts_it() {
        let f = fonts();
        let mut p = Page::new();
        for c in "中文".chars() {
            p.add_char(&f, c, true, Style::default(), 2);
        }
        p.line_feed(&f, 2);
        p.add_char(&f, 'A', false, Style::default(), 0);
        p.line_feed(&f, 0);
        let (img, text, qr, _) = p.finish(&f);
        assert_eq!(img.width(), PAGE_DOTS);
        assert_eq!(text, "中文\nA\n");
        assert!(qr.is_empty());
        // Right-aligned Chinese: the last 48 dots of the first line.
        assert!(black_in(&img, 528, 576, MARGIN, MARGIN + 30) > 50);
        assert_eq!(black_in(&img, 0, 500, MARGIN, MARGIN + 30), 0);
        // The Latin 'A' from the Latin font, at the left of line two.
        assert!(black_in(&img, 0, 12, MARGIN + 30, MARGIN + 60) > 10);
    }

    #[test]
    fn long_lines_wrap_at_the_paper_edge() {
        let f = fonts();
        let mut p = Page::new();
        for _ in 0..30 {
            p.add_char(&f, '国', true, Style::default(), 0);
        }
        p.line_feed(&f, 0);
        let (img, text, _, _) = p.finish(&f);
        assert_eq!(text.trim_end().chars().count(), 30, "one logical line");
        // 24 characters fill the first row; the second row holds 6.
        assert!(black_in(&img, 0, 24 * 6, MARGIN + 30, MARGIN + 60) > 100);
        assert_eq!(black_in(&img, 24 * 6 + 2, 576, MARGIN + 30, MARGIN + 60), 0);
    }

    #[test]
    fn double_size_takes_double_cells() {
        let s = Style {
            width: 2,
            height: 2,
            ..Style::default()
        };
        assert_eq!(s.cell(true), (48, 48));
        assert_eq!(s.cell(false), (24, 48));
        let cn = Style {
            cn_double_width: true,
            ..Style::default()
        };
        assert_eq!(cn.cell(true), (48, 24));
        assert_eq!(
            cn.cell(false),
            (12, 24),
            "FS ! only touches Chinese characters"
        );
    }

    #[test]
    fn raster_bits_become_dots() {
        let f = fonts();
        let mut p = Page::new();
        p.raster(1, 2, &[0x81, 0x00], 0);
        let (img, text, _, _) = p.finish(&f);
        assert_eq!(text, "[image 8x2]\n");
        assert!(img.get_pixel(0, MARGIN).0[0] == 0 && img.get_pixel(7, MARGIN).0[0] == 0);
        assert_eq!(img.get_pixel(1, MARGIN).0[0], 255);
        assert_eq!(img.get_pixel(0, MARGIN + 1).0[0], 255);
    }

    #[test]
    fn missing_font_is_a_clear_error() {
        let err = Fonts::load(Path::new("/nonexistent/cjk.ttf"), None)
            .err()
            .unwrap();
        assert!(
            format!("{err:#}").contains("fonts-droid-fallback"),
            "{err:#}"
        );
    }
}
