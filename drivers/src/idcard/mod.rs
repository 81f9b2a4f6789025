//! The resident ID card reader (SAM protocol, GA/T 467) and its cards.
//!
//! - [`codec`]: sans-IO framing: request encoder, reply decoder (resync, bounds, checksum).
//! - [`sw3`]: the reader's status codes.
//! - [`reply`]: the data of read, SAM id and additional-address replies.
//! - [`text`]: the 256-byte text block, per card type; [`codes`]: gender and nation tables.
//! - [`card`]: [`IdCard`], expiry, the JSON [`CardSummary`]; [`id_number`]: GB 11643.
//! - [`photo`]: the [`PhotoDecoder`] trait, the simulator's test encoding, the vendor adapter.
//! - [`reader`]: the driver over `serialport`; [`poller`]: the poll loop with card events and
//!   reopen-with-backoff.

pub mod card;
pub mod codec;
pub mod codes;
pub mod id_number;
pub mod photo;
pub mod poller;
#[cfg(test)]
mod proptests;
pub mod reader;
pub mod reply;
pub mod sw3;
pub mod text;

pub use card::{CardSummary, CardType, IdCard, Validity};
pub use codes::{Gender, Nation};
pub use photo::{
    CommandDecoder, PhotoDecoder, PhotoDecoders, PhotoError, Portrait, SimTestDecoder,
};
pub use poller::{CardEvent, Poller};
pub use reader::{IdCardReader, ReaderConfig, ReaderError, Timeouts};
pub use reply::SamId;
pub use sw3::Sw3;
