//! Sans-IO framing of the SAM protocol: requests are encoded to bytes, replies are decoded
//! from a byte stream that may arrive split at any byte, preceded by garbage, or corrupted.
//! No port, no clock: [`Decoder::push`] bytes in, [`Decoder::next_event`] frames out.
//!
//! ```text
//! request : AA AA AA 96 69 | LEN_H LEN_L | CMD PARA | DATA...    | CHK
//! response: AA AA AA 96 69 | LEN_H LEN_L | SW1 SW2 SW3 | DATA... | CHK
//! ```
//! LEN (big-endian) counts every byte after itself, CHK included; CHK is the XOR of every byte
//! from LEN_H to the last data byte.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

use super::sw3::Sw3;

pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
/// Bytes before the counted part: preamble + the two length bytes.
pub const HEADER_LEN: usize = 7;
/// Smallest legal reply LEN: SW1 SW2 SW3 CHK.
pub const MIN_REPLY_LEN: usize = 4;
/// Largest legal reply LEN: the 2321-byte read with a 1024-byte fingerprint, less the header.
pub const MAX_REPLY_LEN: usize = 2321 - HEADER_LEN;

/// XOR of `bytes`: the frame checksum when given LEN_H..last data byte.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Baud rates the reader can switch to with `60 nn` (nn = the index here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaudCode {
    B115200 = 0,
    B57600 = 1,
    B38400 = 2,
    B19200 = 3,
    B9600 = 4,
}

impl BaudCode {
    pub fn from_rate(rate: u32) -> Option<BaudCode> {
        Some(match rate {
            115_200 => BaudCode::B115200,
            57_600 => BaudCode::B57600,
            38_400 => BaudCode::B38400,
            19_200 => BaudCode::B19200,
            9_600 => BaudCode::B9600,
            _ => return None,
        })
    }

    pub fn rate(self) -> u32 {
        match self {
            BaudCode::B115200 => 115_200,
            BaudCode::B57600 => 57_600,
            BaudCode::B38400 => 38_400,
            BaudCode::B19200 => 19_200,
            BaudCode::B9600 => 9_600,
        }
    }
}

/// The commands of the spec's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    ResetSam,
    SamStatus,
    ReadSamId,
    FindCard,
    SelectCard,
    /// Text + photo (30 01).
    ReadTextPhoto,
    /// Additional address (30 03).
    ReadExtraAddress,
    /// Text + photo + fingerprint (30 10).
    ReadTextPhotoFingerprint,
    SetBaud(BaudCode),
}

impl Command {
    /// The CMD and PARA bytes.
    pub fn code(self) -> (u8, u8) {
        match self {
            Command::ResetSam => (0x10, 0xFF),
            Command::SamStatus => (0x11, 0xFF),
            Command::ReadSamId => (0x12, 0xFF),
            Command::FindCard => (0x20, 0x01),
            Command::SelectCard => (0x20, 0x02),
            Command::ReadTextPhoto => (0x30, 0x01),
            Command::ReadExtraAddress => (0x30, 0x03),
            Command::ReadTextPhotoFingerprint => (0x30, 0x10),
            Command::SetBaud(b) => (0x60, b as u8),
        }
    }

    /// A short name for errors and logs.
    pub fn name(self) -> &'static str {
        match self {
            Command::ResetSam => "reset SAM",
            Command::SamStatus => "SAM status",
            Command::ReadSamId => "read SAM id",
            Command::FindCard => "find card",
            Command::SelectCard => "select card",
            Command::ReadTextPhoto => "read text and photo",
            Command::ReadExtraAddress => "read additional address",
            Command::ReadTextPhotoFingerprint => "read text, photo and fingerprint",
            Command::SetBaud(_) => "set baud rate",
        }
    }

    /// The complete request frame.
    pub fn encode(self) -> Vec<u8> {
        let (cmd, para) = self.code();
        encode_request(cmd, para, &[])
    }
}

/// Encodes any request frame (the table's commands carry no data, but the frame allows it).
pub fn encode_request(cmd: u8, para: u8, data: &[u8]) -> Vec<u8> {
    // LEN counts CMD PARA DATA CHK. Requests are tiny; clamp rather than wrap on absurd input.
    let len = u16::try_from(data.len() + 3).unwrap_or(u16::MAX);
    let mut frame = Vec::with_capacity(HEADER_LEN + usize::from(len));
    frame.extend_from_slice(&PREAMBLE);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.push(cmd);
    frame.push(para);
    frame.extend_from_slice(data);
    let chk = checksum(&frame[PREAMBLE.len()..]);
    frame.push(chk);
    frame
}

/// One decoded reply. The data may be personal (card text, photo), so it is wiped on drop and
/// never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    pub sw1: u8,
    pub sw2: u8,
    pub sw3: Sw3,
    pub data: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("sw1", &format_args!("{:02X}", self.sw1))
            .field("sw2", &format_args!("{:02X}", self.sw2))
            .field("sw3", &self.sw3)
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// Why bytes that looked like a frame were rejected. The decoder has already resynchronised
/// when it reports one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame length {len} is outside {MIN_REPLY_LEN}..={max}")]
    LengthOutOfRange { len: usize, max: usize },
    #[error("frame checksum is {found:02X}, the bytes give {computed:02X}")]
    BadChecksum { computed: u8, found: u8 },
}

/// The reply decoder: a byte buffer and a scan for the preamble. Call [`Decoder::next_event`]
/// until it returns `None` after every [`Decoder::push`]; the buffer then holds less than one
/// maximal frame, so memory stays bounded whatever the peer sends.
pub struct Decoder {
    buf: Vec<u8>,
    max_len: usize,
    skipped: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::with_max_len(MAX_REPLY_LEN)
    }

    /// A decoder with a different LEN bound (never below the smallest legal reply).
    pub fn with_max_len(max_len: usize) -> Decoder {
        Decoder {
            buf: Vec::with_capacity(HEADER_LEN + MAX_REPLY_LEN),
            max_len: max_len.max(MIN_REPLY_LEN),
            skipped: 0,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Forgets buffered bytes (before a new request: a late reply to the last one is stale).
    pub fn reset(&mut self) {
        self.buf.zeroize();
        self.buf.clear();
    }

    /// Bytes buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Bytes thrown away while looking for a preamble (garbage, rejected frames), ever.
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped
    }

    /// The next complete frame, or a rejected one, or `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<Result<Reply, FrameError>> {
        if !self.align_to_preamble() || self.buf.len() < HEADER_LEN {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([self.buf[5], self.buf[6]]));
        if !(MIN_REPLY_LEN..=self.max_len).contains(&len) {
            // Not a frame we accept: skip this preamble's first byte and look again, so a
            // real frame hidden after a false preamble is still found.
            self.consume(1);
            return Some(Err(FrameError::LengthOutOfRange {
                len,
                max: self.max_len,
            }));
        }
        let total = HEADER_LEN + len;
        if self.buf.len() < total {
            return None;
        }
        let computed = checksum(&self.buf[PREAMBLE.len()..total - 1]);
        let found = self.buf[total - 1];
        if computed != found {
            self.consume(1);
            return Some(Err(FrameError::BadChecksum { computed, found }));
        }
        let reply = Reply {
            sw1: self.buf[HEADER_LEN],
            sw2: self.buf[HEADER_LEN + 1],
            sw3: Sw3::from_byte(self.buf[HEADER_LEN + 2]),
            data: Zeroizing::new(self.buf[HEADER_LEN + 3..total - 1].to_vec()),
        };
        // Consumed as a frame, not counted as skipped.
        self.drop_front(total);
        Some(Ok(reply))
    }

    /// Drops bytes before the first preamble. Keeps a tail that could be the start of one.
    /// Returns whether the buffer now starts with a full preamble.
    fn align_to_preamble(&mut self) -> bool {
        if let Some(pos) = self.buf.windows(PREAMBLE.len()).position(|w| w == PREAMBLE) {
            self.consume(pos);
            return true;
        }
        // No full preamble: keep the longest suffix that is a prefix of one.
        let keep = (1..PREAMBLE.len())
            .rev()
            .find(|&k| k <= self.buf.len() && self.buf[self.buf.len() - k..] == PREAMBLE[..k])
            .unwrap_or(0);
        let drop = self.buf.len() - keep;
        self.consume(drop);
        false
    }

    /// Skips `n` bytes as garbage.
    fn consume(&mut self, n: usize) {
        self.skipped += n as u64;
        self.drop_front(n);
    }

    /// Removes the first `n` bytes and wipes the vacated tail (it held card data).
    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        if n == 0 {
            return;
        }
        let len = self.buf.len();
        self.buf.copy_within(n.., 0);
        self.buf[len - n..].zeroize();
        self.buf.truncate(len - n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    fn decode_all(bytes: &[u8]) -> Vec<Result<Reply, FrameError>> {
        let mut d = Decoder::new();
        d.push(bytes);
        std::iter::from_fn(|| d.next_event()).collect()
    }

    /// A reply built by hand from the spec's layout, independent of the decoder.
    fn reply_frame(sw3: u8, data: &[u8]) -> Vec<u8> {
        let len = (3 + data.len() + 1) as u16;
        let mut f = PREAMBLE.to_vec();
        f.extend_from_slice(&len.to_be_bytes());
        f.extend_from_slice(&[0, 0, sw3]);
        f.extend_from_slice(data);
        let chk = f[5..].iter().fold(0u8, |a, b| a ^ b);
        f.push(chk);
        f
    }

    #[test]
    fn every_request_matches_the_spec_frame() {
        let table = [
            (Command::ResetSam, "AA AA AA 96 69 00 03 10 FF EC"),
            (Command::SamStatus, "AA AA AA 96 69 00 03 11 FF ED"),
            (Command::ReadSamId, "AA AA AA 96 69 00 03 12 FF EE"),
            (Command::FindCard, "AA AA AA 96 69 00 03 20 01 22"),
            (Command::SelectCard, "AA AA AA 96 69 00 03 20 02 21"),
            (Command::ReadTextPhoto, "AA AA AA 96 69 00 03 30 01 32"),
            (Command::ReadExtraAddress, "AA AA AA 96 69 00 03 30 03 30"),
            (
                Command::ReadTextPhotoFingerprint,
                "AA AA AA 96 69 00 03 30 10 23",
            ),
            (
                Command::SetBaud(BaudCode::B115200),
                "AA AA AA 96 69 00 03 60 00 63",
            ),
        ];
        for (cmd, frame) in table {
            assert_eq!(cmd.encode(), hex(frame), "{}", cmd.name());
        }
    }

    #[test]
    fn baud_codes_follow_the_spec_order() {
        let rates = [115_200, 57_600, 38_400, 19_200, 9_600];
        for (i, rate) in rates.into_iter().enumerate() {
            let code = BaudCode::from_rate(rate).unwrap();
            assert_eq!(code as usize, i);
            assert_eq!(code.rate(), rate);
            assert_eq!(Command::SetBaud(code).code(), (0x60, i as u8));
        }
        assert_eq!(BaudCode::from_rate(4800), None);
    }

    #[test]
    fn the_spec_example_replies_decode() {
        let cases = [
            ("AA AA AA 96 69 00 04 00 00 90 94", Sw3::Success, 0),
            ("AA AA AA 96 69 00 04 00 00 80 84", Sw3::NoCard, 0),
            ("AA AA AA 96 69 00 04 00 00 81 85", Sw3::SelectFailed, 0),
            ("AA AA AA 96 69 00 04 00 00 41 45", Sw3::ReadFailed, 0),
            (
                "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97",
                Sw3::FindOk,
                4,
            ),
        ];
        for (frame, sw3, data_len) in cases {
            let events = decode_all(&hex(frame));
            assert_eq!(events.len(), 1, "{frame}");
            let reply = events[0].as_ref().unwrap();
            assert_eq!((reply.sw1, reply.sw2, reply.sw3), (0, 0, sw3));
            assert_eq!(reply.data.len(), data_len);
        }
    }

    #[test]
    fn select_and_read_replies_have_the_spec_lengths() {
        let select = reply_frame(0x90, &[0; 8]);
        assert_eq!(&select[..10], &hex("AA AA AA 96 69 00 0C 00 00 90")[..]);
        let r = decode_all(&select).remove(0).unwrap();
        assert_eq!(r.data.len(), 8);

        let mut data = vec![0x01, 0x00, 0x04, 0x00];
        data.extend((0..1280).map(|i| (i % 251) as u8));
        let read = reply_frame(0x90, &data);
        assert_eq!(read.len(), 1295);
        assert_eq!(&read[5..7], &[0x05, 0x08]);
        let r = decode_all(&read).remove(0).unwrap();
        assert_eq!(&r.data[..], &data[..]);

        let mut fp = vec![0x01, 0x00, 0x04, 0x00, 0x04, 0x00];
        fp.extend(std::iter::repeat_n(0x5A, 2304));
        let read = reply_frame(0x90, &fp);
        assert_eq!(read.len(), 2321, "the largest legal reply");
        assert_eq!(decode_all(&read).remove(0).unwrap().data.len(), 2310);
    }

    #[test]
    fn every_sw3_code_arrives_intact() {
        for b in super::super::sw3::ALL_KNOWN {
            let r = decode_all(&reply_frame(b, &[])).remove(0).unwrap();
            assert_eq!(r.sw3.byte(), b);
        }
    }

    #[test]
    fn a_frame_split_at_every_byte_decodes_once() {
        let mut data = vec![0x01, 0x00, 0x04, 0x00];
        data.extend((0..1280).map(|i| (i * 7 % 256) as u8));
        let frame = reply_frame(0x90, &data);
        for cut in 0..=frame.len() {
            let mut d = Decoder::new();
            d.push(&frame[..cut]);
            let first: Vec<_> = std::iter::from_fn(|| d.next_event()).collect();
            d.push(&frame[cut..]);
            let second: Vec<_> = std::iter::from_fn(|| d.next_event()).collect();
            let all: Vec<_> = first.into_iter().chain(second).collect();
            assert_eq!(all.len(), 1, "cut at {cut}");
            assert_eq!(&all[0].as_ref().unwrap().data[..], &data[..]);
        }
    }

    #[test]
    fn byte_by_byte_feeding_works() {
        let frame = reply_frame(0x9F, &[0, 0, 0, 0]);
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for b in &frame {
            d.push(std::slice::from_ref(b));
            got.extend(std::iter::from_fn(|| d.next_event()));
        }
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].as_ref().unwrap().sw3, Sw3::FindOk);
    }

    #[test]
    fn garbage_before_a_frame_is_skipped_and_counted() {
        // Garbage that holds partial preambles, so the scan cannot take the first AA it sees.
        let garbage = hex("00 AA AA 13 AA AA AA 96 FF AA 96 69 AA AA");
        let mut stream = garbage.clone();
        stream.extend(reply_frame(0x90, &[]));
        let mut d = Decoder::new();
        d.push(&stream);
        let events: Vec<_> = std::iter::from_fn(|| d.next_event()).collect();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].as_ref().unwrap().sw3, Sw3::Success);
        assert_eq!(d.skipped_bytes(), garbage.len() as u64);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn a_corrupt_checksum_is_reported_and_the_next_frame_still_decodes() {
        let mut bad = reply_frame(0x90, &[1, 2, 3]);
        let last = bad.len() - 1;
        bad[last] ^= 0x01;
        let mut stream = bad;
        stream.extend(reply_frame(0x80, &[]));
        let events = decode_all(&stream);
        assert!(matches!(events[0], Err(FrameError::BadChecksum { .. })));
        assert_eq!(
            events.last().unwrap().as_ref().unwrap().sw3,
            Sw3::NoCard,
            "resynchronised on the next preamble"
        );
    }

    #[test]
    fn a_corrupt_data_byte_fails_the_checksum() {
        let mut frame = reply_frame(0x90, &[0x10; 20]);
        frame[15] ^= 0x40;
        let events = decode_all(&frame);
        assert!(matches!(events[0], Err(FrameError::BadChecksum { .. })));
        assert!(events.iter().all(|e| e.is_err()));
    }

    #[test]
    fn lengths_outside_the_bounds_are_rejected_without_waiting() {
        for len in [0u16, 1, 3, (MAX_REPLY_LEN + 1) as u16, 0xFFFF] {
            let mut frame = PREAMBLE.to_vec();
            frame.extend_from_slice(&len.to_be_bytes());
            let events = decode_all(&frame);
            assert_eq!(
                events,
                vec![Err(FrameError::LengthOutOfRange {
                    len: len as usize,
                    max: MAX_REPLY_LEN
                })],
                "len {len}"
            );
        }
        // A frame claiming a huge length must not hide the valid frame behind it.
        let mut stream = PREAMBLE.to_vec();
        stream.extend_from_slice(&[0xFF, 0xFF]);
        stream.extend(reply_frame(0x90, &[]));
        let events = decode_all(&stream);
        assert_eq!(events.last().unwrap().as_ref().unwrap().sw3, Sw3::Success);
    }

    #[test]
    fn a_tighter_bound_can_be_configured() {
        let mut d = Decoder::with_max_len(8);
        d.push(&reply_frame(0x90, &[0; 8]));
        assert!(matches!(
            d.next_event(),
            Some(Err(FrameError::LengthOutOfRange { len: 12, max: 8 }))
        ));
    }

    #[test]
    fn the_buffer_stays_bounded_on_endless_garbage() {
        let mut d = Decoder::new();
        for i in 0..10_000u32 {
            d.push(&[(i % 200) as u8, 0xAA]);
            while d.next_event().is_some() {}
            assert!(d.buffered() < PREAMBLE.len());
        }
    }

    #[test]
    fn debug_output_never_shows_the_data() {
        let r = decode_all(&reply_frame(0x90, b"SECRET")).remove(0).unwrap();
        let text = format!("{r:?}");
        assert!(text.contains("data_len: 6"), "{text}");
        assert!(!text.contains("83"), "{text}");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Any bytes, pushed in any chunks: no panic, and the buffer stays bounded.
            #[test]
            fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..6000),
                                    chunk in 1usize..700) {
                let mut d = Decoder::new();
                for piece in bytes.chunks(chunk) {
                    d.push(piece);
                    while d.next_event().is_some() {}
                    prop_assert!(d.buffered() < HEADER_LEN + MAX_REPLY_LEN);
                }
            }

            /// Preamble-rich noise (the hard case for resynchronisation) never panics either.
            #[test]
            fn decoder_survives_preamble_noise(parts in proptest::collection::vec(
                prop_oneof![
                    Just(PREAMBLE.to_vec()),
                    Just(vec![0xAA]),
                    Just(vec![0x00, 0x04]),
                    Just(vec![0x09, 0x0A]),
                    proptest::collection::vec(any::<u8>(), 0..8),
                ], 0..400)) {
                let bytes: Vec<u8> = parts.concat();
                let mut d = Decoder::new();
                d.push(&bytes);
                while d.next_event().is_some() {}
                prop_assert!(d.buffered() < HEADER_LEN + MAX_REPLY_LEN);
            }

            /// A valid frame after arbitrary garbage is always found, whatever the split.
            #[test]
            fn frame_after_garbage_is_found(garbage in proptest::collection::vec(any::<u8>(), 0..64),
                                            data in proptest::collection::vec(any::<u8>(), 0..300),
                                            cut in 0usize..400) {
                let frame = reply_frame(0x90, &data);
                let mut stream = garbage;
                stream.extend_from_slice(&frame);
                let cut = cut.min(stream.len());
                let mut d = Decoder::new();
                let mut got = Vec::new();
                d.push(&stream[..cut]);
                got.extend(std::iter::from_fn(|| d.next_event()));
                d.push(&stream[cut..]);
                got.extend(std::iter::from_fn(|| d.next_event()));
                let frames: Vec<_> = got.into_iter().filter_map(Result::ok).collect();
                prop_assert!(frames.iter().any(|r| r.data[..] == data[..]));
            }
        }
    }
}
