//! The reader's side of the framing, written from the spec on its own (the driver's codec is
//! not imported): requests in, replies out.
//!
//! ```text
//! request : AA AA AA 96 69 | LEN_H LEN_L | CMD PARA | DATA...      | CHK
//! response: AA AA AA 96 69 | LEN_H LEN_L | SW1 SW2 SW3 | DATA...   | CHK
//! ```

/// The frame preamble.
pub const SYNC: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
/// Requests are short; anything claiming more is a length error (SW3 11).
pub const MAX_REQUEST_LEN: usize = 64;

/// XOR over `bytes`.
pub fn xor(bytes: &[u8]) -> u8 {
    let mut x = 0u8;
    for b in bytes {
        x ^= *b;
    }
    x
}

/// A reply frame with SW1 SW2 = 00 00.
pub fn reply(sw3: u8, data: &[u8]) -> Vec<u8> {
    let len = 3 + data.len() + 1;
    let mut out = Vec::with_capacity(7 + len);
    out.extend_from_slice(&SYNC);
    out.push((len >> 8) as u8);
    out.push((len & 0xFF) as u8);
    out.extend_from_slice(&[0x00, 0x00, sw3]);
    out.extend_from_slice(data);
    let chk = xor(&out[5..]);
    out.push(chk);
    out
}

/// What arrived from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Request {
        cmd: u8,
        para: u8,
        data: Vec<u8>,
    },
    /// A frame whose checksum did not match (answer SW3 10).
    BadChecksum,
    /// A frame whose length is impossible (answer SW3 11).
    BadLength,
}

/// Collects request bytes and cuts frames out of them.
#[derive(Debug, Default)]
pub struct RequestParser {
    buf: Vec<u8>,
}

impl RequestParser {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn clear(&mut self) {
        self.buf.clear();
    }

    pub fn next_request(&mut self) -> Option<Incoming> {
        // Find the preamble; keep a tail that may be its beginning.
        let start = (0..self.buf.len()).find(|&i| {
            let n = (self.buf.len() - i).min(SYNC.len());
            self.buf[i..i + n] == SYNC[..n]
        });
        match start {
            Some(i) => {
                self.buf.drain(..i);
            }
            None => {
                self.buf.clear();
                return None;
            }
        }
        if self.buf.len() < 7 {
            return None;
        }
        let len = (usize::from(self.buf[5]) << 8) | usize::from(self.buf[6]);
        if !(3..=MAX_REQUEST_LEN).contains(&len) {
            self.buf.drain(..1);
            return Some(Incoming::BadLength);
        }
        if self.buf.len() < 7 + len {
            return None;
        }
        let frame: Vec<u8> = self.buf.drain(..7 + len).collect();
        if xor(&frame[5..6 + len]) != frame[6 + len] {
            return Some(Incoming::BadChecksum);
        }
        Some(Incoming::Request {
            cmd: frame[7],
            para: frame[8],
            data: frame[9..6 + len].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Vec<u8> {
        s.split(' ')
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect()
    }

    #[test]
    fn spec_requests_parse() {
        for (frame, cmd, para) in [
            ("AA AA AA 96 69 00 03 10 FF EC", 0x10, 0xFF),
            ("AA AA AA 96 69 00 03 11 FF ED", 0x11, 0xFF),
            ("AA AA AA 96 69 00 03 12 FF EE", 0x12, 0xFF),
            ("AA AA AA 96 69 00 03 20 01 22", 0x20, 0x01),
            ("AA AA AA 96 69 00 03 20 02 21", 0x20, 0x02),
            ("AA AA AA 96 69 00 03 30 01 32", 0x30, 0x01),
            ("AA AA AA 96 69 00 03 30 03 30", 0x30, 0x03),
            ("AA AA AA 96 69 00 03 30 10 23", 0x30, 0x10),
            ("AA AA AA 96 69 00 03 60 00 63", 0x60, 0x00),
        ] {
            let mut p = RequestParser::default();
            p.push(&bytes(frame));
            assert_eq!(
                p.next_request(),
                Some(Incoming::Request {
                    cmd,
                    para,
                    data: vec![]
                }),
                "{frame}"
            );
            assert!(p.is_empty());
        }
    }

    #[test]
    fn spec_replies_encode() {
        assert_eq!(reply(0x90, &[]), bytes("AA AA AA 96 69 00 04 00 00 90 94"));
        assert_eq!(reply(0x80, &[]), bytes("AA AA AA 96 69 00 04 00 00 80 84"));
        assert_eq!(reply(0x81, &[]), bytes("AA AA AA 96 69 00 04 00 00 81 85"));
        assert_eq!(reply(0x41, &[]), bytes("AA AA AA 96 69 00 04 00 00 41 45"));
        assert_eq!(
            reply(0x9F, &[0; 4]),
            bytes("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")
        );
        assert_eq!(
            &reply(0x90, &[0; 8])[..10],
            &bytes("AA AA AA 96 69 00 0C 00 00 90")[..]
        );
        let read = reply(0x90, &[0; 1284]);
        assert_eq!(read.len(), 1295);
        assert_eq!(&read[5..7], &[0x05, 0x08]);
    }

    #[test]
    fn split_garbled_and_bad_requests() {
        let mut p = RequestParser::default();
        let frame = bytes("AA AA AA 96 69 00 03 20 01 22");
        p.push(&[0x13, 0xAA, 0xAA]);
        assert_eq!(p.next_request(), None);
        for b in &frame {
            p.push(&[*b]);
        }
        assert!(matches!(
            p.next_request(),
            Some(Incoming::Request { cmd: 0x20, .. })
        ));
        p.push(&bytes("AA AA AA 96 69 00 03 20 01 23"));
        assert_eq!(p.next_request(), Some(Incoming::BadChecksum));
        p.push(&bytes("AA AA AA 96 69 40 00"));
        assert_eq!(p.next_request(), Some(Incoming::BadLength));
        p.push(&frame);
        let mut got = Vec::new();
        while let Some(x) = p.next_request() {
            got.push(x);
        }
        assert!(matches!(
            got.last(),
            Some(Incoming::Request { para: 0x01, .. })
        ));
    }
}
