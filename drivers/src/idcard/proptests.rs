//! Property tests of the SAM reply decoder and the card text parser: arbitrary bytes and
//! arbitrary mutations of valid frames (bit flips, truncation, splicing, length-field lies)
//! never panic and are refused with a specific error; valid frames (the spec's byte vectors
//! and generated ones) survive any split into chunks; what an encoder writes decodes back.
//!
//! Case counts are small so `cargo test -p drivers` stays quick; run long with e.g.
//! `PROPTEST_CASES=100000 cargo test -p drivers --lib idcard::proptests`.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::codec::{
    checksum, encode_request, Decoder, FrameError, Reply, HEADER_LEN, MAX_REPLY_LEN, MIN_REPLY_LEN,
    PREAMBLE,
};
use super::reply::{self, ReplyError, SamId, PHOTO_LEN, TEXT_LEN};
use super::sw3::Sw3;
use super::text::{self, TextError, TYPE_OFFSET};
use super::CardType;

/// `cases` unless `PROPTEST_CASES` is set (then that wins, for long runs).
fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// The reply frames the spec writes out byte for byte.
fn spec_replies() -> Vec<Vec<u8>> {
    [
        "AA AA AA 96 69 00 04 00 00 90 94",
        "AA AA AA 96 69 00 04 00 00 80 84",
        "AA AA AA 96 69 00 04 00 00 81 85",
        "AA AA AA 96 69 00 04 00 00 41 45",
        "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97",
    ]
    .iter()
    .map(|s| hex(s))
    .collect()
}

/// A reply frame written from the spec's layout, independently of the decoder.
fn reply_frame(sw1: u8, sw2: u8, sw3: u8, data: &[u8]) -> Vec<u8> {
    let len = (3 + data.len() + 1) as u16;
    let mut f = PREAMBLE.to_vec();
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(&[sw1, sw2, sw3]);
    f.extend_from_slice(data);
    let chk = f[5..].iter().fold(0u8, |a, b| a ^ b);
    f.push(chk);
    f
}

/// Every event of `bytes` pushed in pieces of the given sizes (cycled), draining after each.
fn decode_chunked(bytes: &[u8], sizes: &[usize]) -> (Vec<Result<Reply, FrameError>>, Decoder) {
    let mut d = Decoder::new();
    let mut events = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < bytes.len() {
        let n = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(1)
            .max(1);
        let end = (at + n).min(bytes.len());
        d.push(&bytes[at..end]);
        events.extend(std::iter::from_fn(|| d.next_event()));
        at = end;
        i += 1;
    }
    (events, d)
}

/// Data bytes that hold no preamble (so a corrupted frame cannot hide a real one inside).
fn data_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_filter("no preamble inside", |d| {
        !d.windows(PREAMBLE.len()).any(|w| w == PREAMBLE)
    })
}

fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..64, 1..16)
}

proptest! {
    #![proptest_config(config(128))]

    /// Any bytes, any split: the same events as one push (the decoder is a pure function
    /// of the stream), no panic, and every rejection is one of the two framing errors.
    #[test]
    fn any_stream_decodes_the_same_whatever_the_split(
        bytes in proptest::collection::vec(any::<u8>(), 0..3000),
        sizes in chunk_sizes(),
    ) {
        let (whole, d1) = decode_chunked(&bytes, &[bytes.len().max(1)]);
        let (split, d2) = decode_chunked(&bytes, &sizes);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(d1.buffered(), d2.buffered());
        prop_assert!(d2.buffered() < HEADER_LEN + MAX_REPLY_LEN);
        for e in &split {
            match e {
                Ok(r) => prop_assert!(r.data.len() + 4 <= MAX_REPLY_LEN),
                Err(FrameError::LengthOutOfRange { len, max }) => {
                    prop_assert_eq!(*max, MAX_REPLY_LEN);
                    prop_assert!(!(MIN_REPLY_LEN..=MAX_REPLY_LEN).contains(len));
                }
                Err(FrameError::BadChecksum { computed, found }) => {
                    prop_assert_ne!(computed, found)
                }
            }
        }
    }

    /// The spec's reply vectors and generated frames, back to back, split anywhere: each
    /// decodes once, in order, with nothing skipped and nothing left over.
    #[test]
    fn valid_frames_survive_any_split(
        generated in proptest::collection::vec(
            (any::<u8>(), any::<u8>(), any::<u8>(), data_bytes(600)), 0..6),
        spec_order in proptest::collection::vec(0usize..5, 0..6),
        sizes in chunk_sizes(),
    ) {
        let spec = spec_replies();
        let mut frames: Vec<Vec<u8>> = spec_order.iter().map(|&i| spec[i].clone()).collect();
        frames.extend(generated.iter().map(|(a, b, c, d)| reply_frame(*a, *b, *c, d)));
        let stream = frames.concat();
        let (events, d) = decode_chunked(&stream, &sizes);
        prop_assert_eq!(events.len(), frames.len());
        for (event, frame) in events.iter().zip(&frames) {
            let reply = event.as_ref().map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!((reply.sw1, reply.sw2), (frame[7], frame[8]));
            prop_assert_eq!(reply.sw3.byte(), frame[9]);
            prop_assert_eq!(&reply.data[..], &frame[10..frame.len() - 1]);
        }
        prop_assert_eq!(d.skipped_bytes(), 0);
        prop_assert_eq!(d.buffered(), 0);
    }

    /// Round trip through the crate's own encoder: a request frame has the reply's framing
    /// (LEN, CHK), so with at least one data byte it decodes to CMD, PARA, DATA.
    #[test]
    fn encode_request_then_decode_is_identity(
        cmd in any::<u8>(), para in any::<u8>(), data in data_bytes(400).prop_filter(
            "a reply needs SW3", |d| !d.is_empty()),
        sizes in chunk_sizes(),
    ) {
        let frame = encode_request(cmd, para, &data);
        prop_assert_eq!(checksum(&frame[PREAMBLE.len()..]), 0, "CHK makes the XOR zero");
        let (events, _) = decode_chunked(&frame, &sizes);
        prop_assert_eq!(events.len(), 1);
        let r = events[0].as_ref().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!((r.sw1, r.sw2, r.sw3), (cmd, para, Sw3::from_byte(data[0])));
        prop_assert_eq!(&r.data[..], &data[1..]);
    }

    /// One flipped bit after the length field (SW, data or CHK): the XOR checksum always
    /// catches it, the first event is `BadChecksum`, and no frame is accepted.
    #[test]
    fn a_bit_flip_in_the_body_is_a_bad_checksum(
        data in data_bytes(300), at in any::<prop::sample::Index>(), bit in 0u8..8,
    ) {
        let mut frame = reply_frame(0, 0, 0x90, &data);
        let i = HEADER_LEN + at.index(frame.len() - HEADER_LEN);
        frame[i] ^= 1 << bit;
        let (events, _) = decode_chunked(&frame, &[frame.len()]);
        prop_assert!(
            matches!(events.first(), Some(Err(FrameError::BadChecksum { .. }))),
            "{:?}", events
        );
        prop_assert!(events.iter().all(Result::is_err), "{:?}", events);
    }

    /// A length field that lies: above the bound it is refused at once with the claimed
    /// length; below the minimum likewise; a larger legal claim waits for bytes that never
    /// come (no event, no panic); any other lie is refused or, at worst, frames other bytes,
    /// but never hands back the original data.
    #[test]
    fn a_lying_length_field_never_yields_the_frame(
        data in data_bytes(200), claimed in any::<u16>(),
    ) {
        let mut frame = reply_frame(0, 0, 0x90, &data);
        let true_len = frame.len() - HEADER_LEN;
        prop_assume!(usize::from(claimed) != true_len);
        frame[5..7].copy_from_slice(&claimed.to_be_bytes());
        let (events, d) = decode_chunked(&frame, &[frame.len()]);
        let claimed = usize::from(claimed);
        if !(MIN_REPLY_LEN..=MAX_REPLY_LEN).contains(&claimed) {
            prop_assert_eq!(
                events.first(),
                Some(&Err(FrameError::LengthOutOfRange { len: claimed, max: MAX_REPLY_LEN }))
            );
        } else if claimed > true_len {
            prop_assert!(events.is_empty(), "{:?}", events);
            prop_assert_eq!(d.buffered(), frame.len());
        }
        for r in events.iter().flatten() {
            prop_assert_ne!(&r.data[..], &data[..]);
        }
    }

    /// A frame cut short is held (no event) until more bytes come; then a whole frame pushed
    /// after it is still found once the decoder has resynchronised past the stump.
    #[test]
    fn a_truncated_frame_waits_and_a_later_frame_is_found(
        data in data_bytes(300), keep in any::<prop::sample::Index>(), next in data_bytes(50),
    ) {
        let frame = reply_frame(0, 0, 0x90, &data);
        let cut = keep.index(frame.len());
        let (events, d) = decode_chunked(&frame[..cut], &[frame.len()]);
        // Once the preamble is whole, the bytes after it are read as the length field.
        let preamble_is_whole = cut >= PREAMBLE.len();
        prop_assert!(events.is_empty(), "{:?}", events);
        prop_assert_eq!(d.buffered(), cut, "a stump of a frame is kept, not dropped");
        // The stump, padding, then a frame: the stump's claimed length (at most the true one)
        // ends inside the padding, fails its checksum (or frames other bytes by a lucky
        // match), and the decoder resynchronises one byte later.
        let mut stream = frame[..cut].to_vec();
        stream.extend(std::iter::repeat_n(0u8, if preamble_is_whole { frame.len() } else { 0 }));
        let last = reply_frame(0, 0, 0x80, &next);
        stream.extend_from_slice(&last);
        let (events, _) = decode_chunked(&stream, &[7, 13]);
        let found = events.iter().any(|e| matches!(e, Ok(r) if r.sw3 == Sw3::NoCard && r.data[..] == next[..]));
        prop_assert!(found, "{:?}", events);
    }

    /// Pieces of valid frames spliced together, preamble-heavy noise between them: no panic,
    /// bounded buffer, and only specific framing errors.
    #[test]
    fn spliced_frames_never_panic(
        parts in proptest::collection::vec((data_bytes(100), any::<prop::sample::Index>(),
                                            any::<prop::sample::Index>()), 1..8),
        noise in proptest::collection::vec(prop_oneof![
            Just(PREAMBLE.to_vec()), Just(vec![0xAA]), Just(vec![0x00, 0x04]),
            proptest::collection::vec(any::<u8>(), 0..6)], 0..8),
        sizes in chunk_sizes(),
    ) {
        let mut stream = Vec::new();
        for (i, (data, a, b)) in parts.iter().enumerate() {
            let f = reply_frame(0, 0, 0x90, data);
            let (x, y) = (a.index(f.len() + 1), b.index(f.len() + 1));
            stream.extend_from_slice(&f[x.min(y)..x.max(y)]);
            if let Some(n) = noise.get(i) {
                stream.extend_from_slice(n);
            }
        }
        let (_, d) = decode_chunked(&stream, &sizes);
        prop_assert!(d.buffered() < HEADER_LEN + MAX_REPLY_LEN);
    }
}

/// Text blocks: padded UCS-2 with the given strings at the given offsets.
fn text_block(fields: &[(usize, &str)]) -> [u8; TEXT_LEN] {
    let mut b = [0u8; TEXT_LEN];
    for pair in b.chunks_mut(2) {
        pair.copy_from_slice(&[0x20, 0x00]);
    }
    for (offset, s) in fields {
        for (i, u) in s.encode_utf16().enumerate() {
            b[offset + 2 * i..offset + 2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
    }
    b
}

/// A string of `1..=max` characters from `chars`, with no padding at either end.
fn field_text(chars: &'static str, max: usize) -> impl Strategy<Value = String> {
    let pool: Vec<char> = chars.chars().collect();
    proptest::collection::vec(proptest::sample::select(pool), 1..=max)
        .prop_map(|v| v.into_iter().collect::<String>())
        .prop_filter("no padding at the ends", |s| {
            !s.starts_with([' ', '\u{3000}']) && !s.ends_with([' ', '\u{3000}'])
        })
}

fn date_strategy() -> impl Strategy<Value = NaiveDate> {
    (1900i32..2100, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

const HANZI: &str = "张王李赵陈刘杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董";
const ADDRESS: &str = "上海市徐汇区漕溪北路示例号弄室 0123456789";
const DIGITS: &str = "0123456789";

proptest! {
    #![proptest_config(config(128))]

    /// Any 256 bytes with any type mark: parsed or refused with a specific `TextError`.
    #[test]
    fn any_text_block_parses_or_is_a_specific_error(
        bytes in proptest::collection::vec(any::<u8>(), TEXT_LEN),
        mark in prop_oneof![Just(None), Just(Some(b' ')), Just(Some(b'J')),
                            Just(Some(b'I')), Just(Some(b'Y'))],
    ) {
        let mut block = [0u8; TEXT_LEN];
        block.copy_from_slice(&bytes);
        if let Some(m) = mark {
            block[TYPE_OFFSET] = m;
            block[TYPE_OFFSET + 1] = 0;
        }
        match text::parse_text(&block) {
            Ok(t) => prop_assert!(!t.id_number.is_empty()),
            Err(TextError::UnknownCardType(u)) => {
                prop_assert!(mark.is_none() && ![0x00, 0x20, 0x4A, 0x49, 0x59].contains(&u))
            }
            Err(TextError::BadDate(what)) => prop_assert!(what.ends_with("date")),
            Err(TextError::Empty(what)) => prop_assert_eq!(what, "ID number"),
        }
    }

    /// A resident card written field by field parses back to the same values (the block
    /// builder is the encoder; `parse_text` the decoder).
    #[test]
    fn resident_text_round_trips(
        name in field_text(HANZI, 15),
        gender in prop::sample::select(vec!['0', '1', '2', '9']),
        nation in 1u32..=56,
        birth in date_strategy(),
        address in field_text(ADDRESS, 35),
        number in field_text(DIGITS, 18),
        from in date_strategy(),
        until in prop_oneof![Just(None), date_strategy().prop_map(Some)],
        permit in any::<bool>(),
    ) {
        let birth_s = birth.format("%Y%m%d").to_string();
        let from_s = from.format("%Y%m%d").to_string();
        let until_s = until.map_or("长期".to_string(), |d| d.format("%Y%m%d").to_string());
        let nation_s = format!("{nation:02}");
        let g = gender.to_string();
        let mut fields = vec![
            (0, name.as_str()), (30, g.as_str()), (36, birth_s.as_str()),
            (52, address.as_str()), (122, number.as_str()), (158, "示例公安局"),
            (188, from_s.as_str()), (204, until_s.as_str()),
        ];
        if permit {
            fields.extend([(220, "H60123456"), (238, "01"), (TYPE_OFFSET, "J")]);
        } else {
            fields.push((32, nation_s.as_str()));
        }
        let t = text::parse_text(&text_block(&fields)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(t.card_type, if permit { CardType::Permit } else { CardType::Resident });
        prop_assert_eq!(&t.name, &name);
        prop_assert_eq!(t.gender.code(), gender);
        prop_assert_eq!(t.birth_date, birth);
        prop_assert_eq!(&t.address, &address);
        prop_assert_eq!(&t.id_number, &number);
        prop_assert_eq!(t.valid_from, from);
        prop_assert_eq!(t.valid_until.key(), until.map_or("long_term".into(),
            |d| d.format("%Y-%m-%d").to_string()));
        if permit {
            prop_assert_eq!(t.pass_number, "H60123456");
            prop_assert_eq!(t.nation, None);
        } else {
            prop_assert_eq!(t.nation.map(|n| n.code), Some(nation_s.clone()));
        }
    }

    /// One field of a valid block overwritten with arbitrary UCS-2 units: parsed, or refused
    /// naming the field that broke (never another one, never a panic).
    #[test]
    fn a_corrupted_field_is_named_in_the_error(
        which in 0usize..4, units in proptest::collection::vec(any::<u16>(), 18),
    ) {
        let mut block = text_block(&[
            (0, "张伟"), (30, "1"), (32, "01"), (36, "19880824"), (52, "示例路1号"),
            (122, "320124198808240056"), (158, "示例公安局"), (188, "20160510"),
            (204, "20360510"),
        ]);
        let (offset, chars, what) = [(36, 8, "birth date"), (188, 8, "valid-from date"),
                                     (204, 8, "valid-until date"), (122, 18, "ID number")][which];
        for (i, u) in units.iter().take(chars).enumerate() {
            block[offset + 2 * i..offset + 2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
        match text::parse_text(&block) {
            Ok(_) => {}
            Err(TextError::BadDate(w)) | Err(TextError::Empty(w)) => prop_assert_eq!(w, what),
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    /// Read reply data: arbitrary bytes are refused with the specific error for the first
    /// field that is wrong, never a panic.
    #[test]
    fn any_read_data_is_parsed_or_a_specific_error(
        data in proptest::collection::vec(any::<u8>(), 0..2400), fp in any::<bool>(),
    ) {
        match reply::parse_read(&data, fp) {
            Ok(raw) => {
                prop_assert_eq!(raw.photo.len(), PHOTO_LEN);
                prop_assert_eq!(data.len(), if fp { 6 } else { 4 } + TEXT_LEN + PHOTO_LEN
                    + raw.fingerprint.len());
            }
            Err(ReplyError::WrongSize { got, .. }) => prop_assert_eq!(got, data.len()),
            Err(ReplyError::TextLength(n)) => prop_assert_ne!(n, TEXT_LEN),
            Err(ReplyError::PhotoLength(n)) => prop_assert_ne!(n, PHOTO_LEN),
            Err(ReplyError::FingerprintLength(n)) => prop_assert!(![1024, 512, 0].contains(&n)),
        }
    }

    /// A read reply built to the spec parses back into the same blocks; each length field
    /// that lies is refused with its own error; a wrong total is `WrongSize`.
    #[test]
    fn read_data_round_trips_and_lies_are_specific(
        text in proptest::collection::vec(any::<u8>(), TEXT_LEN),
        photo in proptest::collection::vec(any::<u8>(), PHOTO_LEN),
        fp_len in prop::sample::select(vec![0usize, 512, 1024]),
        lie in 0usize..4, bogus in any::<u16>(), delta in 1usize..40,
    ) {
        let fp: Vec<u8> = (0..fp_len).map(|i| (i * 31 % 251) as u8).collect();
        let mut data = Vec::new();
        data.extend_from_slice(&(TEXT_LEN as u16).to_be_bytes());
        data.extend_from_slice(&(PHOTO_LEN as u16).to_be_bytes());
        data.extend_from_slice(&(fp_len as u16).to_be_bytes());
        data.extend_from_slice(&text);
        data.extend_from_slice(&photo);
        data.extend_from_slice(&fp);
        let raw = reply::parse_read(&data, true).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&raw.text[..], &text[..]);
        prop_assert_eq!(&raw.photo[..], &photo[..]);
        prop_assert_eq!(&raw.fingerprint[..], &fp[..]);
        let b = usize::from(bogus);
        let mut bad = data.clone();
        let expected = match lie {
            0 if b != TEXT_LEN => {
                bad[0..2].copy_from_slice(&bogus.to_be_bytes());
                ReplyError::TextLength(b)
            }
            1 if b != PHOTO_LEN => {
                bad[2..4].copy_from_slice(&bogus.to_be_bytes());
                ReplyError::PhotoLength(b)
            }
            2 if ![0, 512, 1024].contains(&b) => {
                bad[4..6].copy_from_slice(&bogus.to_be_bytes());
                ReplyError::FingerprintLength(b)
            }
            _ => {
                bad.truncate(bad.len() - delta.min(bad.len() - 6));
                let got = bad.len();
                let refused = matches!(reply::parse_read(&bad, true),
                    Err(ReplyError::WrongSize { got: g, .. }) if g == got);
                prop_assert!(refused);
                return Ok(());
            }
        };
        prop_assert_eq!(reply::parse_read(&bad, true).err(), Some(expected));
    }

    /// SAM id: 16 little-endian bytes round trip; any other size is `WrongSize`.
    #[test]
    fn sam_id_round_trips(
        major in any::<u16>(), minor in any::<u16>(), date in any::<u32>(),
        hi in any::<u32>(), lo in any::<u32>(), extra in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut d = Vec::new();
        d.extend_from_slice(&major.to_le_bytes());
        d.extend_from_slice(&minor.to_le_bytes());
        d.extend_from_slice(&date.to_le_bytes());
        d.extend_from_slice(&hi.to_le_bytes());
        d.extend_from_slice(&lo.to_le_bytes());
        let id = SamId::parse(&d).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(id, SamId { major, minor, date, serial_hi: hi, serial_lo: lo });
        if !extra.is_empty() {
            let mut longer = d.clone();
            longer.extend_from_slice(&extra);
            let is_wrong_size = matches!(SamId::parse(&longer), Err(ReplyError::WrongSize { .. }));
            prop_assert!(is_wrong_size);
            let cut = extra.len() % 16;
            let is_wrong_size = matches!(SamId::parse(&d[..cut]), Err(ReplyError::WrongSize { .. }));
            prop_assert!(is_wrong_size);
        }
    }

    /// The additional address: any bytes parse or are `WrongSize`; UCS-2 text round trips.
    #[test]
    fn extra_address_round_trips(
        address in field_text(ADDRESS, 35), junk in proptest::collection::vec(any::<u8>(), 0..90),
    ) {
        let mut d: Vec<u8> = address.encode_utf16().flat_map(u16::to_le_bytes).collect();
        while d.len() < 70 {
            d.extend_from_slice(&[0x20, 0x00]);
        }
        prop_assert_eq!(reply::parse_extra_address(&d).map_err(|e| e.to_string()), Ok(address));
        match reply::parse_extra_address(&junk) {
            Ok(_) => prop_assert!(junk.len() <= 70 && junk.len() % 2 == 0),
            Err(ReplyError::WrongSize { got, .. }) => prop_assert_eq!(got, junk.len()),
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }
}
