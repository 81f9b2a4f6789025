//! What the simulated reader answers: card state (on/off, found, selected), the SAM, faults.
//! No I/O: a request in, a [`Plan`] out (the bytes and how to put them on the wire); the
//! server does the pacing.
//!
//! Sequencing, as the spec has it: a read needs a select, a select needs a find that saw the
//! card. Otherwise select answers 81 and read answers 41. After a read the next read starts
//! again from find.

use std::fmt;

use rand::{Rng, SeedableRng};

use super::deck::Deck;
use super::frame::{self, Incoming, SYNC};

/// A fault to inject on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Find answers 80 although a card is on.
    NoCard,
    /// Select answers 81.
    SelectFail,
    /// Read answers 41.
    ReadFail,
    /// The card is taken off during the read: the read answers 41, the card is gone.
    RemoveMidRead,
    /// Reads answer this SW3 (plain status frame).
    Status(u8),
    /// Random bytes (never a whole preamble) before every reply.
    Garbage,
    /// Replies go out in many small writes.
    Split,
    /// Replies carry a wrong checksum.
    BadChecksum,
    /// No reply at all.
    Silence,
    /// Only the first half of the reply.
    Truncate,
}

impl Fault {
    /// Parses one fault name as the control commands write it.
    pub fn parse(s: &str) -> Result<Fault, String> {
        Ok(match s {
            "no_card" => Fault::NoCard,
            "select_fail" => Fault::SelectFail,
            "read_fail" => Fault::ReadFail,
            "remove_mid_read" => Fault::RemoveMidRead,
            "garbage" => Fault::Garbage,
            "split" => Fault::Split,
            "bad_checksum" => Fault::BadChecksum,
            "silence" => Fault::Silence,
            "truncate" => Fault::Truncate,
            other => match other.strip_prefix("status=") {
                Some(hex) => Fault::Status(
                    u8::from_str_radix(hex, 16)
                        .map_err(|_| format!("status={hex}: not a hex byte"))?,
                ),
                None => return Err(format!("unknown fault {other:?}")),
            },
        })
    }

    /// Whether this fault touches the reply to `cmd`.
    fn applies_to(self, cmd: u8, para: u8) -> bool {
        let is_read = cmd == 0x30 && (para == 0x01 || para == 0x10);
        match self {
            Fault::NoCard => (cmd, para) == (0x20, 0x01),
            Fault::SelectFail => (cmd, para) == (0x20, 0x02),
            Fault::ReadFail | Fault::RemoveMidRead | Fault::Status(_) => is_read,
            Fault::Garbage
            | Fault::Split
            | Fault::BadChecksum
            | Fault::Silence
            | Fault::Truncate => true,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::NoCard => f.write_str("no_card"),
            Fault::SelectFail => f.write_str("select_fail"),
            Fault::ReadFail => f.write_str("read_fail"),
            Fault::RemoveMidRead => f.write_str("remove_mid_read"),
            Fault::Status(b) => write!(f, "status={b:02X}"),
            Fault::Garbage => f.write_str("garbage"),
            Fault::Split => f.write_str("split"),
            Fault::BadChecksum => f.write_str("bad_checksum"),
            Fault::Silence => f.write_str("silence"),
            Fault::Truncate => f.write_str("truncate"),
        }
    }
}

/// How to send one reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Everything to put on the wire, garbage included, truncation applied. Empty: silence.
    pub bytes: Vec<u8>,
    /// Send in many small writes.
    pub split: bool,
    /// Wait this long (in wire-time units of the reply) before the first byte, as a reader
    /// busy reading the card would.
    pub delay_bytes: usize,
    /// Switch the line to this rate after the reply (set-baud).
    pub new_baud: Option<u32>,
}

/// The reader's settings that the spec leaves *unconfirmed*.
#[derive(Debug, Clone)]
pub struct ReaderTraits {
    /// Data bytes after SW3 in the select reply (8 zeros in every trace seen).
    pub select_data_len: usize,
    /// The 16 bytes of the SAM id: u16 LE, u16 LE, u32 LE, u32 LE, u32 LE.
    pub sam_id: (u16, u16, u32, u32, u32),
}

impl Default for ReaderTraits {
    fn default() -> Self {
        ReaderTraits {
            select_data_len: 8,
            sam_id: (5, 1, 20_240_101, 1_234_567, 89_012_345),
        }
    }
}

/// The simulated reader.
pub struct Engine {
    pub deck: Deck,
    pub traits: ReaderTraits,
    on_reader: Option<String>,
    found: bool,
    selected: bool,
    faults: Vec<Fault>,
    once: bool,
    rng: rand::rngs::StdRng,
    /// Replies sent, for `status`.
    pub replies: u64,
}

const BAUDS: [u32; 5] = [115_200, 57_600, 38_400, 19_200, 9_600];

impl Engine {
    pub fn new(deck: Deck, traits: ReaderTraits, seed: u64) -> Engine {
        Engine {
            deck,
            traits,
            on_reader: None,
            found: false,
            selected: false,
            faults: Vec::new(),
            once: false,
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            replies: 0,
        }
    }

    /// Puts a deck card on the reader (replacing any card there).
    pub fn put(&mut self, id: &str) -> Result<(), String> {
        if self.deck.get(id).is_none() {
            return Err(format!("no card {id:?} in the deck"));
        }
        self.on_reader = Some(id.to_string());
        self.found = false;
        self.selected = false;
        Ok(())
    }

    pub fn remove(&mut self) {
        self.on_reader = None;
        self.found = false;
        self.selected = false;
    }

    pub fn card_on_reader(&self) -> Option<&str> {
        self.on_reader.as_deref()
    }

    /// Replaces the fault set; `once`: cleared after the first reply it changes.
    pub fn set_faults(&mut self, faults: Vec<Fault>, once: bool) {
        self.faults = faults;
        self.once = once;
    }

    pub fn faults(&self) -> (&[Fault], bool) {
        (&self.faults, self.once)
    }

    /// Power cycle (PTY replugged, reset): card state kept, find/select forgotten.
    pub fn reset_link(&mut self) {
        self.found = false;
        self.selected = false;
    }

    fn has(&self, f: Fault, cmd: u8, para: u8) -> bool {
        self.faults.contains(&f) && f.applies_to(cmd, para)
    }

    /// Answers one request.
    pub fn handle(&mut self, incoming: Incoming) -> Plan {
        let (cmd, para) = match &incoming {
            Incoming::Request { cmd, para, .. } => (*cmd, *para),
            Incoming::BadChecksum => return self.finish(0, 0, frame::reply(0x10, &[]), 0, None),
            Incoming::BadLength => return self.finish(0, 0, frame::reply(0x11, &[]), 0, None),
        };
        let mut delay_bytes = 0;
        let mut new_baud = None;
        let card = self.on_reader.clone();
        let frame = match (cmd, para) {
            (0x10, 0xFF) => {
                self.reset_link();
                frame::reply(0x90, &[])
            }
            (0x11, 0xFF) => frame::reply(0x90, &[]),
            (0x12, 0xFF) => {
                let (a, b, c, d, e) = self.traits.sam_id;
                let mut data = Vec::with_capacity(16);
                data.extend_from_slice(&a.to_le_bytes());
                data.extend_from_slice(&b.to_le_bytes());
                data.extend_from_slice(&c.to_le_bytes());
                data.extend_from_slice(&d.to_le_bytes());
                data.extend_from_slice(&e.to_le_bytes());
                frame::reply(0x90, &data)
            }
            (0x20, 0x01) => {
                if card.is_some() && !self.has(Fault::NoCard, cmd, para) {
                    self.found = true;
                    frame::reply(0x9F, &[0; 4])
                } else {
                    self.found = false;
                    frame::reply(0x80, &[])
                }
            }
            (0x20, 0x02) => {
                if card.is_some() && self.found && !self.has(Fault::SelectFail, cmd, para) {
                    self.selected = true;
                    frame::reply(0x90, &vec![0; self.traits.select_data_len])
                } else {
                    self.selected = false;
                    frame::reply(0x81, &[])
                }
            }
            (0x30, 0x01) | (0x30, 0x10) => {
                let with_fp = para == 0x10;
                let ready = card.is_some() && self.selected;
                self.found = false;
                self.selected = false;
                let full_len = if with_fp { 2321 } else { 1295 };
                if let Some(Fault::Status(code)) = self
                    .faults
                    .iter()
                    .copied()
                    .find(|f| matches!(f, Fault::Status(_)))
                {
                    frame::reply(code, &[])
                } else if ready && self.has(Fault::RemoveMidRead, cmd, para) {
                    // The card leaves while the reader is reading it: it answers after part
                    // of the read's time, with "card read failed".
                    self.remove();
                    delay_bytes = full_len / 2;
                    frame::reply(0x41, &[])
                } else if !ready || self.has(Fault::ReadFail, cmd, para) {
                    frame::reply(0x41, &[])
                } else {
                    self.read_reply(card.as_deref().unwrap_or_default(), with_fp)
                }
            }
            (0x30, 0x03) => match card.as_deref().and_then(|id| self.deck.get(id)) {
                None => frame::reply(0x41, &[]),
                Some(c) => match &c.extra_address {
                    Some(data) => frame::reply(0x90, data),
                    None => frame::reply(0x91, &[]),
                },
            },
            (0x60, n) if usize::from(n) < BAUDS.len() => {
                new_baud = Some(BAUDS[usize::from(n)]);
                frame::reply(0x90, &[])
            }
            _ => frame::reply(0x21, &[]),
        };
        self.finish(cmd, para, frame, delay_bytes, new_baud)
    }

    fn read_reply(&self, id: &str, with_fp: bool) -> Vec<u8> {
        let Some(c) = self.deck.get(id) else {
            return frame::reply(0x41, &[]);
        };
        let mut data = Vec::with_capacity(2310);
        data.extend_from_slice(&256u16.to_be_bytes());
        data.extend_from_slice(&1024u16.to_be_bytes());
        if with_fp {
            data.extend_from_slice(&(c.fingerprint.len() as u16).to_be_bytes());
        }
        data.extend_from_slice(&c.text);
        data.extend_from_slice(&c.photo);
        if with_fp {
            data.extend_from_slice(&c.fingerprint);
        }
        frame::reply(0x90, &data)
    }

    /// Applies the line faults and the `once` rule.
    fn finish(
        &mut self,
        cmd: u8,
        para: u8,
        mut frame: Vec<u8>,
        delay_bytes: usize,
        new_baud: Option<u32>,
    ) -> Plan {
        let touched = self.faults.iter().any(|f| f.applies_to(cmd, para));
        self.replies += 1;
        let mut plan = Plan {
            delay_bytes,
            new_baud,
            split: self.has(Fault::Split, cmd, para),
            bytes: Vec::new(),
        };
        if self.has(Fault::BadChecksum, cmd, para) {
            if let Some(last) = frame.last_mut() {
                *last ^= 0x5A;
            }
        }
        if self.has(Fault::Truncate, cmd, para) {
            frame.truncate(frame.len() / 2);
        }
        if self.has(Fault::Garbage, cmd, para) {
            plan.bytes = self.garbage();
        }
        if self.has(Fault::Silence, cmd, para) {
            plan.bytes.clear();
            plan.new_baud = None;
        } else {
            plan.bytes.extend_from_slice(&frame);
        }
        if touched && self.once {
            self.faults.clear();
            self.once = false;
        }
        plan
    }

    /// 3 to 40 random bytes with preamble fragments mixed in, never a whole preamble.
    fn garbage(&mut self) -> Vec<u8> {
        loop {
            let n = self.rng.gen_range(3..=40);
            let mut g: Vec<u8> = Vec::with_capacity(n + 4);
            while g.len() < n {
                if self.rng.gen_bool(0.3) {
                    let k = self.rng.gen_range(1..SYNC.len());
                    g.extend_from_slice(&SYNC[..k]);
                } else {
                    g.push(self.rng.gen());
                }
            }
            if !g.windows(SYNC.len()).any(|w| w == SYNC) {
                return g;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::new(Deck::builtin().unwrap(), ReaderTraits::default(), 7)
    }

    fn req(cmd: u8, para: u8) -> Incoming {
        Incoming::Request {
            cmd,
            para,
            data: vec![],
        }
    }

    fn sw3(plan: &Plan) -> u8 {
        plan.bytes[9]
    }

    fn first_card(e: &Engine) -> String {
        e.deck.cards[0].spec.id.clone()
    }

    #[test]
    fn find_select_read_in_order() {
        let mut e = engine();
        assert_eq!(sw3(&e.handle(req(0x20, 0x01))), 0x80, "no card yet");
        let id = first_card(&e);
        e.put(&id).unwrap();
        assert_eq!(sw3(&e.handle(req(0x30, 0x01))), 0x41, "read before select");
        assert_eq!(sw3(&e.handle(req(0x20, 0x02))), 0x81, "select before find");
        let find = e.handle(req(0x20, 0x01));
        assert_eq!(find.bytes, frame::reply(0x9F, &[0; 4]));
        let select = e.handle(req(0x20, 0x02));
        assert_eq!(select.bytes.len(), 19);
        let read = e.handle(req(0x30, 0x01));
        assert_eq!(read.bytes.len(), 1295);
        assert_eq!(
            &read.bytes[14..270],
            &e.deck.cards[0].text[..],
            "text at offset 14"
        );
        assert_eq!(&read.bytes[270..278], b"HKSIMPH1", "photo at offset 270");
        assert_eq!(
            sw3(&e.handle(req(0x30, 0x01))),
            0x41,
            "next read starts from find"
        );
    }

    #[test]
    fn fingerprint_read_sizes() {
        let mut e = engine();
        let with_fp = e
            .deck
            .cards
            .iter()
            .find(|c| c.fingerprint.len() == 1024)
            .unwrap()
            .spec
            .id
            .clone();
        let without = e
            .deck
            .cards
            .iter()
            .find(|c| c.fingerprint.is_empty())
            .unwrap()
            .spec
            .id
            .clone();
        for (id, len) in [(with_fp, 2321), (without, 1297)] {
            e.put(&id).unwrap();
            e.handle(req(0x20, 0x01));
            e.handle(req(0x20, 0x02));
            let read = e.handle(req(0x30, 0x10));
            assert_eq!(read.bytes.len(), len, "{id}");
            assert_eq!(
                &read.bytes[16..18],
                &e.deck.get(&id).unwrap().text[..2],
                "text at 16"
            );
        }
    }

    #[test]
    fn sam_commands_and_errors() {
        let mut e = engine();
        assert_eq!(e.handle(req(0x11, 0xFF)).bytes, frame::reply(0x90, &[]));
        assert_eq!(e.handle(req(0x10, 0xFF)).bytes, frame::reply(0x90, &[]));
        let id = e.handle(req(0x12, 0xFF));
        assert_eq!(id.bytes.len(), 27);
        assert_eq!(&id.bytes[5..7], &[0x00, 0x14]);
        assert_eq!(sw3(&e.handle(req(0x42, 0x00))), 0x21, "unknown command");
        assert_eq!(sw3(&e.handle(Incoming::BadChecksum)), 0x10);
        assert_eq!(sw3(&e.handle(Incoming::BadLength)), 0x11);
        let baud = e.handle(req(0x60, 0x04));
        assert_eq!(baud.new_baud, Some(9_600));
        assert_eq!(sw3(&e.handle(req(0x60, 0x05))), 0x21);
    }

    #[test]
    fn extra_address_or_91() {
        let mut e = engine();
        let with = e
            .deck
            .cards
            .iter()
            .find(|c| c.extra_address.is_some())
            .unwrap()
            .spec
            .id
            .clone();
        let without = e
            .deck
            .cards
            .iter()
            .find(|c| c.extra_address.is_none())
            .unwrap()
            .spec
            .id
            .clone();
        e.put(&with).unwrap();
        let r = e.handle(req(0x30, 0x03));
        assert_eq!((sw3(&r), r.bytes.len()), (0x90, 81));
        e.put(&without).unwrap();
        assert_eq!(sw3(&e.handle(req(0x30, 0x03))), 0x91);
    }

    fn read_sequence(e: &mut Engine) -> Vec<Plan> {
        vec![
            e.handle(req(0x20, 0x01)),
            e.handle(req(0x20, 0x02)),
            e.handle(req(0x30, 0x01)),
        ]
    }

    #[test]
    fn card_faults() {
        let mut e = engine();
        let id = first_card(&e);
        e.put(&id).unwrap();
        e.set_faults(vec![Fault::NoCard], false);
        assert_eq!(sw3(&read_sequence(&mut e)[0]), 0x80);
        e.set_faults(vec![Fault::SelectFail], false);
        assert_eq!(sw3(&read_sequence(&mut e)[1]), 0x81);
        e.set_faults(vec![Fault::ReadFail], true);
        assert_eq!(sw3(&read_sequence(&mut e)[2]), 0x41);
        assert_eq!(e.faults().0, &[], "once: cleared after use");
        assert_eq!(read_sequence(&mut e)[2].bytes.len(), 1295);
        e.set_faults(vec![Fault::Status(0x33)], false);
        assert_eq!(sw3(&read_sequence(&mut e)[2]), 0x33);
        e.set_faults(vec![Fault::RemoveMidRead], false);
        let r = read_sequence(&mut e);
        assert_eq!((sw3(&r[2]), r[2].delay_bytes), (0x41, 1295 / 2));
        assert_eq!(e.card_on_reader(), None, "the card is gone");
        assert_eq!(sw3(&read_sequence(&mut e)[0]), 0x80);
    }

    #[test]
    fn line_faults() {
        let mut e = engine();
        let clean = e.handle(req(0x11, 0xFF)).bytes;
        e.set_faults(vec![Fault::BadChecksum], false);
        let bad = e.handle(req(0x11, 0xFF)).bytes;
        assert_eq!(bad.len(), clean.len());
        assert_ne!(bad.last(), clean.last());
        e.set_faults(vec![Fault::Garbage, Fault::Split], false);
        for _ in 0..50 {
            let p = e.handle(req(0x11, 0xFF));
            assert!(p.split);
            assert!(p.bytes.ends_with(&clean));
            let g = &p.bytes[..p.bytes.len() - clean.len()];
            assert!((3..=44).contains(&g.len()));
            assert!(!g.windows(5).any(|w| w == SYNC));
        }
        e.set_faults(vec![Fault::Silence], false);
        assert!(e.handle(req(0x11, 0xFF)).bytes.is_empty());
        e.set_faults(vec![Fault::Truncate], false);
        assert_eq!(e.handle(req(0x11, 0xFF)).bytes.len(), clean.len() / 2);
    }

    #[test]
    fn fault_names_round_trip() {
        for name in [
            "no_card",
            "select_fail",
            "read_fail",
            "remove_mid_read",
            "garbage",
            "split",
            "bad_checksum",
            "silence",
            "truncate",
            "status=3F",
        ] {
            assert_eq!(Fault::parse(name).unwrap().to_string(), name);
        }
        assert!(Fault::parse("status=ZZ").is_err());
        assert!(Fault::parse("meltdown").is_err());
    }
}
