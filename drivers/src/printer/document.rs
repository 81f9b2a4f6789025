//! The receipt as a document: a list of blocks (text lines, QR, rule, feed, cut), independent
//! of ESC/POS. The encoder turns it into bytes; tests and the kiosk build it with
//! [`ReceiptBuilder`].

use zeroize::Zeroize;

/// Horizontal placement of a line, QR or image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// How a text line looks. Width and height are multipliers 1..=8 (ESC/POS `GS !`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextStyle {
    pub align: Align,
    pub bold: bool,
    pub width: u8,
    pub height: u8,
}

impl Default for TextStyle {
    fn default() -> Self {
        TextStyle {
            align: Align::Left,
            bold: false,
            width: 1,
            height: 1,
        }
    }
}

impl TextStyle {
    pub fn centered(mut self) -> Self {
        self.align = Align::Center;
        self
    }
    pub fn right(mut self) -> Self {
        self.align = Align::Right;
        self
    }
    pub fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    /// Both multipliers, clamped to 1..=8.
    pub fn size(mut self, width: u8, height: u8) -> Self {
        self.width = width.clamp(1, 8);
        self.height = height.clamp(1, 8);
        self
    }
}

/// QR error correction level (share of the code that may be damaged: 7, 15, 25, 30 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QrLevel {
    L,
    #[default]
    M,
    Q,
    H,
}

/// How the paper is cut at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// `GS V 0`: cut at once.
    Full,
    /// `GS V 1`: cut at once, leaving one point uncut.
    Partial,
    /// `GS V 65 n`: feed `n` dots (the gap to the cutter) then cut fully.
    FeedFull(u8),
    /// `GS V 66 n`: feed then cut partially.
    FeedPartial(u8),
}

/// One element of a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// One line of text; the printer wraps it when it is wider than the paper.
    Text {
        text: String,
        style: TextStyle,
    },
    /// A QR code, model 2.
    Qr {
        data: String,
        level: QrLevel,
        /// Dots per module, 1..=16.
        module_size: u8,
        align: Align,
    },
    /// A full-width line of '-' characters.
    Rule,
    /// Blank lines.
    Feed(u8),
    Cut(Cut),
}

/// A receipt ready to print. `id` is what makes printing idempotent: a job with an id that was
/// printed before is not printed again (see [`super::job`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    id: String,
    pub blocks: Vec<Block>,
}

impl Receipt {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn builder(id: impl Into<String>) -> ReceiptBuilder {
        ReceiptBuilder {
            receipt: Receipt {
                id: id.into(),
                blocks: Vec::new(),
            },
        }
    }

    /// Every text of the receipt (lines and QR payloads), for tests and previews.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Text { text, .. } => Some(text.as_str()),
            Block::Qr { data, .. } => Some(data.as_str()),
            _ => None,
        })
    }
}

/// Receipts carry masked personal data; wipe the text anyway once the receipt is gone.
impl Drop for Receipt {
    fn drop(&mut self) {
        for block in &mut self.blocks {
            match block {
                Block::Text { text, .. } => text.zeroize(),
                Block::Qr { data, .. } => data.zeroize(),
                _ => {}
            }
        }
    }
}

/// Builds a [`Receipt`] block by block.
#[derive(Debug)]
pub struct ReceiptBuilder {
    receipt: Receipt,
}

impl ReceiptBuilder {
    /// A plain left-aligned line.
    pub fn line(self, text: impl Into<String>) -> Self {
        self.styled(text, TextStyle::default())
    }

    pub fn styled(mut self, text: impl Into<String>, style: TextStyle) -> Self {
        self.receipt.blocks.push(Block::Text {
            text: text.into(),
            style,
        });
        self
    }

    /// A QR code with the given error level, centred, 6 dots per module (about 3 cm for a
    /// short URL, which phones read easily).
    pub fn qr(self, data: impl Into<String>, level: QrLevel) -> Self {
        self.qr_with(data, level, 6, Align::Center)
    }

    pub fn qr_with(
        mut self,
        data: impl Into<String>,
        level: QrLevel,
        module_size: u8,
        align: Align,
    ) -> Self {
        self.receipt.blocks.push(Block::Qr {
            data: data.into(),
            level,
            module_size: module_size.clamp(1, 16),
            align,
        });
        self
    }

    pub fn rule(mut self) -> Self {
        self.receipt.blocks.push(Block::Rule);
        self
    }

    pub fn feed(mut self, lines: u8) -> Self {
        self.receipt.blocks.push(Block::Feed(lines));
        self
    }

    pub fn cut(mut self, cut: Cut) -> Self {
        self.receipt.blocks.push(Block::Cut(cut));
        self
    }

    pub fn build(self) -> Receipt {
        self.receipt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_keeps_order_and_clamps_sizes() {
        let r = Receipt::builder("R1")
            .styled("标题", TextStyle::default().centered().bold().size(9, 0))
            .rule()
            .qr_with("https://example.invalid/q", QrLevel::H, 40, Align::Right)
            .feed(2)
            .cut(Cut::FeedPartial(3))
            .build();
        assert_eq!(r.id(), "R1");
        assert_eq!(r.blocks.len(), 5);
        match &r.blocks[0] {
            Block::Text { style, .. } => {
                assert_eq!((style.width, style.height), (8, 1));
                assert!(style.bold);
                assert_eq!(style.align, Align::Center);
            }
            other => panic!("not text: {other:?}"),
        }
        assert!(matches!(
            r.blocks[2],
            Block::Qr {
                module_size: 16,
                ..
            }
        ));
        assert_eq!(
            r.texts().collect::<Vec<_>>(),
            vec!["标题", "https://example.invalid/q"]
        );
    }
}
