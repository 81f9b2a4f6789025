//! Receipt printer (ESC/POS over serial, raw TCP 9100 or a USB printer-class device file),
//! after `shared/specs/escpos-receipt-printer.md`.
//!
//! - [`document`]: the receipt model and builder; [`standard`]: the kiosk's own receipt.
//! - [`commands`] and [`encoder`]: sans-IO, receipt in, bytes out (GB18030 Chinese, QR, cut);
//!   [`raster`]: bit images and the fallback for characters the printer lacks.
//! - [`status`]: `DLE EOT` replies and `GS a` blocks decoded bit by bit.
//! - [`transport`]: the three connections; [`job`]: the device and the print job;
//!   [`ledger`]: the record that keeps a retry from printing twice.
//! - [`mask`]: masking of names and ID numbers.

pub mod commands;
pub mod document;
pub mod encoder;
pub mod job;
pub mod ledger;
pub mod mask;
pub mod raster;
pub mod standard;
pub mod status;
pub mod transport;

pub use document::{Align, Block, Cut, QrLevel, Receipt, ReceiptBuilder, TextStyle};
pub use encoder::{EncodeError, Encoder, EncoderOptions, FourByteChars};
pub use job::{JobOutcome, PrintReport, Printer, PrinterError, PrinterOptions};
pub use ledger::PrintLedger;
pub use mask::{mask_id_number, mask_name};
pub use raster::{FontRasterizer, LineRasterizer, RasterImage, DEFAULT_FONTS};
pub use standard::{standard_receipt, ReceiptInput};
pub use status::{PaperLevel, PrinterFault, PrinterStatus, Refusal};
pub use transport::{Target, Transport};
