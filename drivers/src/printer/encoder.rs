//! Sans-IO encoder: a [`Receipt`] in, ESC/POS bytes out. Text goes out in GB18030 in Chinese
//! mode; a character the printer cannot print is an error naming it (or, when a rasterizer is
//! given, its line goes out as an image), never a silent '?'.

use encoding_rs::GB18030;

use super::commands as cmd;
use super::document::{Align, Block, Receipt, TextStyle};
use super::raster::{LineRasterizer, RasterError};

/// Paper widths at 203 dpi.
pub const PAPER_80MM_DOTS: u16 = 576;
pub const PAPER_58MM_DOTS: u16 = 384;
/// Font A half-width cell: 12 dots.
const HALF_WIDTH_DOTS: u16 = 12;

/// What to do with characters that need a 4-byte GB18030 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FourByteChars {
    /// Report them (most printers only know the 2-byte areas and would print '?').
    #[default]
    Refuse,
    /// Print their whole line as a raster image (needs a [`LineRasterizer`]).
    Raster,
    /// Send the 4-byte code: for printers known to carry full GB18030 fonts.
    Send,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderOptions {
    pub paper_dots: u16,
    pub four_byte: FourByteChars,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions {
            paper_dots: PAPER_80MM_DOTS,
            four_byte: FourByteChars::Refuse,
        }
    }
}

impl EncoderOptions {
    /// Half-width characters on one line at size 1 (48 on 80 mm paper).
    pub fn chars_per_line(&self) -> usize {
        usize::from(self.paper_dots / HALF_WIDTH_DOTS)
    }
}

/// Why a receipt could not be encoded. `line` is the 1-based block number, `column` the
/// 1-based character within it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    #[error("receipt line {line}, character {column}: U+{code_point:04X} needs a 4-byte GB18030 code, which this printer cannot print (use the raster fallback)")]
    FourByte {
        line: usize,
        column: usize,
        code_point: u32,
    },
    #[error("receipt line {line}, character {column}: U+{code_point:04X} has no GB18030 code")]
    Unmappable {
        line: usize,
        column: usize,
        code_point: u32,
    },
    /// Control characters would be read as printer commands (or break the line).
    #[error("receipt line {line}, character {column}: control character U+{code_point:04X} cannot be printed")]
    Control {
        line: usize,
        column: usize,
        code_point: u32,
    },
    #[error("receipt line {line}: QR payload of {len} bytes is too long")]
    QrTooLong { line: usize, len: usize },
    #[error("receipt line {line}: raster fallback failed: {source}")]
    Raster { line: usize, source: RasterError },
}

/// The style commands last sent, so only changes go out.
struct Modes {
    align: Align,
    bold: bool,
    size: (u8, u8),
}

impl Modes {
    /// What `ESC @` leaves behind.
    fn after_init() -> Modes {
        Modes {
            align: Align::Left,
            bold: false,
            size: (1, 1),
        }
    }

    fn set_align(&mut self, out: &mut Vec<u8>, align: Align) {
        if self.align != align {
            out.extend_from_slice(&cmd::align(align));
            self.align = align;
        }
    }

    fn set_style(&mut self, out: &mut Vec<u8>, style: &TextStyle) {
        self.set_align(out, style.align);
        if self.bold != style.bold {
            out.extend_from_slice(&cmd::bold(style.bold));
            self.bold = style.bold;
        }
        let size = (style.width.clamp(1, 8), style.height.clamp(1, 8));
        if self.size != size {
            out.extend_from_slice(&cmd::char_size(size.0, size.1));
            // Chinese characters follow FS ! on many models, GS ! on others: send both.
            out.extend_from_slice(&cmd::chinese_print_mode(size.0 > 1, size.1 > 1, false));
            self.size = size;
        }
    }
}

/// Turns receipts into bytes. Holds no connection: the caller writes the bytes.
pub struct Encoder<'r> {
    options: EncoderOptions,
    rasterizer: Option<&'r dyn LineRasterizer>,
}

impl<'r> Encoder<'r> {
    pub fn new(options: EncoderOptions) -> Encoder<'r> {
        Encoder {
            options,
            rasterizer: None,
        }
    }

    /// Lines with 4-byte characters become images drawn by `rasterizer` (with
    /// [`FourByteChars::Raster`]).
    pub fn with_rasterizer(mut self, rasterizer: &'r dyn LineRasterizer) -> Encoder<'r> {
        self.rasterizer = Some(rasterizer);
        self
    }

    pub fn options(&self) -> &EncoderOptions {
        &self.options
    }

    /// The whole job: init, China set, Chinese mode, the blocks.
    pub fn encode(&self, receipt: &Receipt) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(1024);
        out.extend_from_slice(&cmd::init());
        out.extend_from_slice(&cmd::international_china());
        // Whether ESC @ leaves Chinese mode is model-dependent: enter it explicitly.
        out.extend_from_slice(&cmd::chinese_on());
        let mut modes = Modes::after_init();
        for (i, block) in receipt.blocks.iter().enumerate() {
            self.encode_block(&mut out, &mut modes, i + 1, block)?;
        }
        Ok(out)
    }

    fn encode_block(
        &self,
        out: &mut Vec<u8>,
        modes: &mut Modes,
        line: usize,
        block: &Block,
    ) -> Result<(), EncodeError> {
        match block {
            Block::Text { text, style } => match encode_text(text, line, self.options.four_byte) {
                Ok(bytes) => {
                    modes.set_style(out, style);
                    out.extend_from_slice(&bytes);
                    out.push(cmd::LF);
                }
                Err(e @ EncodeError::FourByte { .. }) => {
                    let rasterizer = match (self.options.four_byte, self.rasterizer) {
                        (FourByteChars::Raster, Some(r)) => r,
                        _ => return Err(e),
                    };
                    // Other characters of the line may still be wrong (controls): check them.
                    encode_text(text, line, FourByteChars::Send)?;
                    let image = rasterizer
                        .rasterize_line(text, style, self.options.paper_dots)
                        .map_err(|source| EncodeError::Raster { line, source })?;
                    // The image is paper-wide with the alignment drawn in.
                    modes.set_align(out, Align::Left);
                    out.extend_from_slice(&cmd::raster(&image));
                }
                Err(e) => return Err(e),
            },
            Block::Qr {
                data,
                level,
                module_size,
                align,
            } => {
                let store = cmd::qr_store(data.as_bytes()).ok_or(EncodeError::QrTooLong {
                    line,
                    len: data.len(),
                })?;
                modes.set_align(out, *align);
                out.extend_from_slice(&cmd::qr_model2());
                out.extend_from_slice(&cmd::qr_module_size(*module_size));
                out.extend_from_slice(&cmd::qr_error_level(*level));
                out.extend_from_slice(&store);
                out.extend_from_slice(&cmd::qr_print());
            }
            Block::Rule => {
                modes.set_style(out, &TextStyle::default());
                out.extend(std::iter::repeat_n(b'-', self.options.chars_per_line()));
                out.push(cmd::LF);
            }
            Block::Feed(n) => out.extend_from_slice(&cmd::feed_lines(*n)),
            Block::Cut(c) => out.extend_from_slice(&cmd::cut(*c)),
        }
        Ok(())
    }
}

/// GB18030 bytes of one line, checking every character the printer could misread.
pub fn encode_text(
    text: &str,
    line: usize,
    four_byte: FourByteChars,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(text.len());
    let mut utf8 = [0u8; 4];
    for (i, c) in text.chars().enumerate() {
        let column = i + 1;
        let code_point = u32::from(c);
        if c.is_control() {
            return Err(EncodeError::Control {
                line,
                column,
                code_point,
            });
        }
        if c.is_ascii() {
            out.push(c as u8);
            continue;
        }
        let (bytes, _, had_errors) = GB18030.encode(c.encode_utf8(&mut utf8));
        if had_errors {
            return Err(EncodeError::Unmappable {
                line,
                column,
                code_point,
            });
        }
        if bytes.len() == 4 && four_byte != FourByteChars::Send {
            return Err(EncodeError::FourByte {
                line,
                column,
                code_point,
            });
        }
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::document::{Cut, QrLevel};
    use crate::printer::raster::RasterImage;

    #[test]
    fn chinese_text_is_gb18030_two_byte() {
        // 中 = D6 D0, 文 = CE C4, 张 = D5 C5 (GB2312 area).
        assert_eq!(
            encode_text("中文A张", 1, FourByteChars::Refuse).unwrap(),
            vec![0xD6, 0xD0, 0xCE, 0xC4, b'A', 0xD5, 0xC5]
        );
        // Full-width colon and the ideographic full stop.
        assert_eq!(
            encode_text("：。", 1, FourByteChars::Refuse).unwrap(),
            vec![0xA3, 0xBA, 0xA1, 0xA3]
        );
        // 䶮 (U+4DAE, a rare name character) is in GB18030's 2-byte area.
        assert_eq!(
            encode_text("䶮", 1, FourByteChars::Refuse).unwrap().len(),
            2
        );
    }

    #[test]
    fn four_byte_character_is_reported_not_replaced() {
        // 𠮷 U+20BB7 (CJK Extension B) needs 4 bytes in GB18030.
        let err = encode_text("吉𠮷", 7, FourByteChars::Refuse).unwrap_err();
        assert_eq!(
            err,
            EncodeError::FourByte {
                line: 7,
                column: 2,
                code_point: 0x20BB7
            }
        );
        assert!(err.to_string().contains("U+20BB7"), "{err}");
        let sent = encode_text("𠮷", 1, FourByteChars::Send).unwrap();
        assert_eq!(sent, vec![0x95, 0x34, 0xB2, 0x35]);
    }

    #[test]
    fn control_characters_cannot_smuggle_commands() {
        let err = encode_text("张\u{1B}@", 3, FourByteChars::Send).unwrap_err();
        assert!(matches!(
            err,
            EncodeError::Control {
                line: 3,
                column: 2,
                code_point: 0x1B
            }
        ));
        assert!(encode_text("a\nb", 1, FourByteChars::Send).is_err());
        assert!(encode_text("\u{85}", 1, FourByteChars::Send).is_err());
    }

    #[test]
    fn receipt_bytes_are_exact() {
        let r = Receipt::builder("R1")
            .styled("回执", TextStyle::default().centered().bold().size(2, 2))
            .line("A")
            .rule()
            .qr_with("Q1", QrLevel::H, 4, Align::Center)
            .feed(2)
            .cut(Cut::FeedPartial(3))
            .build();
        let opts = EncoderOptions {
            paper_dots: PAPER_58MM_DOTS,
            ..EncoderOptions::default()
        };
        let bytes = Encoder::new(opts).encode(&r).unwrap();
        let mut want: Vec<u8> = vec![0x1B, 0x40, 0x1B, 0x52, 0x0F, 0x1C, 0x26];
        want.extend([
            0x1B, 0x61, 1, 0x1B, 0x45, 1, 0x1D, 0x21, 0x11, 0x1C, 0x21, 0x0C,
        ]);
        want.extend([0xBB, 0xD8, 0xD6, 0xB4, 0x0A]); // 回执
        want.extend([
            0x1B, 0x61, 0, 0x1B, 0x45, 0, 0x1D, 0x21, 0x00, 0x1C, 0x21, 0x00,
        ]);
        want.extend([b'A', 0x0A]);
        want.extend(std::iter::repeat_n(b'-', 32)); // 384 / 12
        want.push(0x0A);
        want.extend([0x1B, 0x61, 1]);
        want.extend([0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
        want.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 4]);
        want.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 51]);
        want.extend([0x1D, 0x28, 0x6B, 0x05, 0x00, 0x31, 0x50, 0x30, b'Q', b'1']);
        want.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
        want.extend([0x1B, 0x64, 2, 0x1D, 0x56, 66, 3]);
        assert_eq!(bytes, want);
    }

    #[test]
    fn unencodable_line_stops_the_whole_receipt() {
        let r = Receipt::builder("R2")
            .line("申请人：𠮷*")
            .cut(Cut::Full)
            .build();
        let err = Encoder::new(EncoderOptions::default())
            .encode(&r)
            .unwrap_err();
        assert!(matches!(
            err,
            EncodeError::FourByte {
                line: 1,
                column: 5,
                ..
            }
        ));
    }

    /// Draws a fixed pattern so the test sees exactly where the image lands.
    struct Stripe;
    impl LineRasterizer for Stripe {
        fn rasterize_line(
            &self,
            _t: &str,
            _s: &TextStyle,
            paper: u16,
        ) -> Result<RasterImage, RasterError> {
            let mut row = vec![false; usize::from(paper)];
            row[0] = true;
            RasterImage::from_rows(usize::from(paper), &[row])
        }
    }

    #[test]
    fn raster_fallback_prints_the_line_as_an_image() {
        let r = Receipt::builder("R3")
            .styled("𠮷", TextStyle::default().centered())
            .build();
        let opts = EncoderOptions {
            paper_dots: 16,
            four_byte: FourByteChars::Raster,
        };
        let bytes = Encoder::new(opts)
            .with_rasterizer(&Stripe)
            .encode(&r)
            .unwrap();
        assert_eq!(
            &bytes[7..],
            &[0x1D, 0x76, 0x30, 0, 2, 0, 1, 0, 0x80, 0x00],
            "left-aligned (alignment is inside the image), GS v 0 2x1"
        );
        // Raster policy without a rasterizer still reports the character.
        assert!(Encoder::new(opts).encode(&r).is_err());
        // A control character on the same line is still refused.
        let bad = Receipt::builder("R4").line("𠮷\u{1B}").build();
        assert!(matches!(
            Encoder::new(opts).with_rasterizer(&Stripe).encode(&bad),
            Err(EncodeError::Control { .. })
        ));
    }
}
