//! Bit images for `GS v 0`, and the fallback that draws a text line as an image when the
//! printer cannot encode one of its characters (rare name characters that need 4-byte
//! GB18030 print as '?' on many models).

use std::path::Path;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};

use super::document::{Align, TextStyle};

/// Dots of one character cell at size 1 (font A: 12 x 24, Chinese 24 x 24).
pub const CELL_HEIGHT: u32 = 24;
/// Blank dots between rendered lines, so an image line sits like a text line.
const LINE_GAP: u32 = 6;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RasterError {
    #[error("image is {0} dots wide; 1..=65535*8 allowed")]
    BadWidth(usize),
    #[error("image has {0} rows; 1..=65535 allowed")]
    BadHeight(usize),
    #[error("image row {row} has {got} dots, expected {expected}")]
    RaggedRow {
        row: usize,
        got: usize,
        expected: usize,
    },
    #[error("font file {path}: {reason}")]
    Font { path: String, reason: String },
    #[error("the fallback font has no glyph for U+{0:04X}")]
    NoGlyph(u32),
}

/// A 1-bit image in printer order: rows top to bottom, MSB = leftmost dot, 1 = black.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RasterImage {
    width_bytes: u16,
    height: u16,
    data: Vec<u8>,
}

impl RasterImage {
    /// Packs rows of dots (true = black). Every row must be `width` dots long.
    pub fn from_rows(width: usize, rows: &[Vec<bool>]) -> Result<RasterImage, RasterError> {
        if width == 0 || width > usize::from(u16::MAX) * 8 {
            return Err(RasterError::BadWidth(width));
        }
        if rows.is_empty() || rows.len() > usize::from(u16::MAX) {
            return Err(RasterError::BadHeight(rows.len()));
        }
        let width_bytes = width.div_ceil(8);
        let mut data = vec![0u8; width_bytes * rows.len()];
        for (y, row) in rows.iter().enumerate() {
            if row.len() != width {
                return Err(RasterError::RaggedRow {
                    row: y,
                    got: row.len(),
                    expected: width,
                });
            }
            for (x, _) in row.iter().enumerate().filter(|(_, black)| **black) {
                data[y * width_bytes + x / 8] |= 0x80 >> (x % 8);
            }
        }
        Ok(RasterImage {
            width_bytes: width_bytes as u16,
            height: rows.len() as u16,
            data,
        })
    }

    pub fn width_bytes(&self) -> u16 {
        self.width_bytes
    }

    pub fn height(&self) -> u16 {
        self.height
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Whether the dot at (x, y) is black; false outside the image.
    pub fn dot(&self, x: usize, y: usize) -> bool {
        let wb = usize::from(self.width_bytes);
        if x >= wb * 8 || y >= usize::from(self.height) {
            return false;
        }
        self.data[y * wb + x / 8] & (0x80 >> (x % 8)) != 0
    }
}

/// Draws one text line as a full-width image (alignment applied inside the image).
pub trait LineRasterizer: Send + Sync {
    fn rasterize_line(
        &self,
        text: &str,
        style: &TextStyle,
        paper_dots: u16,
    ) -> Result<RasterImage, RasterError>;
}

/// A [`LineRasterizer`] with TrueType/OpenType fonts read at run time, tried in order for
/// each character: e.g. Debian's `fonts-droid-fallback` (CJK with Extension A, no Latin)
/// then DejaVu Sans for Latin.
pub struct FontRasterizer {
    fonts: Vec<FontVec>,
}

impl std::fmt::Debug for FontRasterizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FontRasterizer({} fonts)", self.fonts.len())
    }
}

/// Debian's CJK font (fonts-droid-fallback) and a Latin font (fonts-dejavu-core).
pub const DEFAULT_FONTS: [&str; 2] = [
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
];

impl FontRasterizer {
    pub fn from_files<P: AsRef<Path>>(paths: &[P]) -> Result<FontRasterizer, RasterError> {
        let mut fonts = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let err = |reason: String| RasterError::Font {
                path: path.display().to_string(),
                reason,
            };
            let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
            fonts.push(FontVec::try_from_vec(bytes).map_err(|e| err(e.to_string()))?);
        }
        if fonts.is_empty() {
            return Err(RasterError::Font {
                path: String::new(),
                reason: "no font given".into(),
            });
        }
        Ok(FontRasterizer { fonts })
    }

    /// The first font that has a glyph for `c`.
    fn font_for(&self, c: char) -> Option<&FontVec> {
        self.fonts.iter().find(|f| f.glyph_id(c).0 != 0)
    }
}

impl LineRasterizer for FontRasterizer {
    fn rasterize_line(
        &self,
        text: &str,
        style: &TextStyle,
        paper_dots: u16,
    ) -> Result<RasterImage, RasterError> {
        let w = u32::from(style.width.clamp(1, 8));
        let h = u32::from(style.height.clamp(1, 8));
        let scale = PxScale {
            x: (CELL_HEIGHT * w) as f32,
            y: (CELL_HEIGHT * h) as f32,
        };
        let paper = f32::from(paper_dots.max(8));
        let ascent = self.fonts[0].as_scaled(scale).ascent();

        // Lay the glyphs out, wrapping like the printer does when a line is too wide.
        let mut lines: Vec<Vec<(&FontVec, ab_glyph::GlyphId, f32)>> = vec![Vec::new()];
        let mut widths = vec![0f32];
        for c in text.chars() {
            let font = match self.font_for(c) {
                Some(f) => f,
                None if c.is_whitespace() => &self.fonts[0],
                None => return Err(RasterError::NoGlyph(u32::from(c))),
            };
            let id = font.glyph_id(c);
            let adv = font.as_scaled(scale).h_advance(id);
            let last = widths.len() - 1;
            if widths[last] + adv > paper && !lines[last].is_empty() {
                lines.push(Vec::new());
                widths.push(0.0);
            }
            let last = widths.len() - 1;
            lines[last].push((font, id, widths[last]));
            widths[last] += adv;
        }

        let line_h = CELL_HEIGHT * h + LINE_GAP;
        let width = usize::from(paper_dots.max(8));
        let mut rows = vec![vec![false; width]; (line_h as usize) * lines.len()];
        for (i, (glyphs, line_w)) in lines.iter().zip(&widths).enumerate() {
            let offset = match style.align {
                Align::Left => 0.0,
                Align::Center => ((paper - line_w) / 2.0).max(0.0),
                Align::Right => (paper - line_w).max(0.0),
            };
            let baseline = (i as u32 * line_h) as f32 + ascent;
            for (font, id, x) in glyphs {
                let glyph =
                    id.with_scale_and_position(scale, ab_glyph::point(offset + x, baseline));
                let Some(outline) = font.outline_glyph(glyph) else {
                    continue;
                };
                let b = outline.px_bounds();
                outline.draw(|gx, gy, cov| {
                    if cov < 0.5 {
                        return;
                    }
                    let px = b.min.x as i64 + i64::from(gx);
                    let py = b.min.y as i64 + i64::from(gy);
                    for dx in 0..=i64::from(style.bold) {
                        let x = px + dx;
                        if x >= 0 && py >= 0 && (x as usize) < width && (py as usize) < rows.len() {
                            rows[py as usize][x as usize] = true;
                        }
                    }
                });
            }
        }
        RasterImage::from_rows(width, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_msb_first() {
        let mut row = vec![false; 10];
        row[0] = true;
        row[9] = true;
        let img = RasterImage::from_rows(10, &[row]).unwrap();
        assert_eq!(img.width_bytes(), 2);
        assert_eq!(img.height(), 1);
        assert_eq!(img.data(), &[0x80, 0x40]);
        assert!(img.dot(0, 0) && img.dot(9, 0) && !img.dot(1, 0) && !img.dot(99, 99));
    }

    #[test]
    fn bad_shapes_are_reported() {
        assert_eq!(
            RasterImage::from_rows(0, &[vec![]]),
            Err(RasterError::BadWidth(0))
        );
        assert_eq!(
            RasterImage::from_rows(8, &[]),
            Err(RasterError::BadHeight(0))
        );
        assert!(matches!(
            RasterImage::from_rows(8, &[vec![false; 8], vec![false; 7]]),
            Err(RasterError::RaggedRow { row: 1, got: 7, .. })
        ));
    }

    #[test]
    fn missing_font_file_is_a_clear_error() {
        let err = FontRasterizer::from_files(&["/nonexistent/font.ttf"]).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/font.ttf"), "{err}");
    }

    /// Uses the fonts the setup script installs (fonts-droid-fallback, fonts-dejavu-core).
    #[test]
    fn rare_name_character_is_drawn_with_the_system_fonts() {
        let r = FontRasterizer::from_files(&DEFAULT_FONTS).unwrap();
        // U+3400 (CJK Extension A) needs 4 bytes in GB18030; '*' comes from the Latin font.
        let style = TextStyle::default();
        let img = r.rasterize_line("㐀*", &style, 576).unwrap();
        assert_eq!((img.width_bytes(), img.height()), (72, 30));
        let black_in = |x0: usize, x1: usize| {
            (0..30)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .filter(|&(x, y)| img.dot(x, y))
                .count()
        };
        assert!(black_in(0, 24) > 20, "the CJK glyph is drawn");
        assert!(black_in(24, 40) > 3, "the asterisk is drawn");
        assert_eq!(black_in(60, 576), 0, "nothing beyond the text");
        let centred = r.rasterize_line("㐀", &style.centered(), 576).unwrap();
        assert!((0..30).any(|y| (276..300).any(|x| centred.dot(x, y))));
        assert!(!(0..30).any(|y| (0..200).any(|x| centred.dot(x, y))));
        assert_eq!(
            r.rasterize_line("\u{20BB7}", &style, 576),
            Err(RasterError::NoGlyph(0x20BB7))
        );
    }
}
