//! Property tests of the simulator's ESC/POS parser: any bytes, any split, any model never
//! panic and every byte it cannot use is reported with a reason; command sequences written
//! from the spec's tables (the encoder below, independent of the driver) parse back to the
//! same commands whatever the split; mutated receipts (bit flips, truncation, splicing,
//! lying length fields) are read without a panic.
//!
//! Case counts are small so `cargo test -p device-sim` stays quick; run long with e.g.
//! `PROPTEST_CASES=100000 cargo test -p device-sim --lib printer::parser::props`.

use encoding_rs::GB18030;
use proptest::prelude::*;

use super::*;

/// `cases` unless `PROPTEST_CASES` is set (then that wins, for long runs).
fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c
}

fn models() -> impl Strategy<Value = ModelOptions> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(a, b, c)| ModelOptions {
        chinese_at_start: a,
        init_leaves_chinese: b,
        four_byte_gb18030: c,
    })
}

/// Feeds `bytes` in pieces of the given sizes (cycled).
fn feed_chunked(p: &mut Parser, bytes: &[u8], sizes: &[usize]) -> Vec<Command> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < bytes.len() {
        let n = sizes[i % sizes.len()].max(1);
        let end = (at + n).min(bytes.len());
        out.extend(p.feed(&bytes[at..end]));
        at = end;
        i += 1;
    }
    out
}

/// A command as the spec's tables write it (only the forms that parse back unchanged).
fn encode(cmd: &Command) -> Vec<u8> {
    match cmd {
        Command::Init => vec![0x1B, 0x40],
        Command::Align(n) => vec![0x1B, 0x61, *n],
        Command::Bold(b) => vec![0x1B, 0x45, u8::from(*b)],
        Command::CharSize { width, height } => vec![0x1D, 0x21, (width - 1) << 4 | (height - 1)],
        Command::FeedLines(n) => vec![0x1B, 0x64, *n],
        Command::Cut {
            partial,
            feed: None,
        } => vec![0x1D, 0x56, u8::from(*partial)],
        Command::Cut {
            partial,
            feed: Some(n),
        } => vec![0x1D, 0x56, if *partial { 66 } else { 65 }, *n],
        Command::International(n) => vec![0x1B, 0x52, *n],
        Command::ChineseOn => vec![0x1C, 0x26],
        Command::ChineseOff => vec![0x1C, 0x2E],
        Command::ChinesePrintMode {
            double_width,
            double_height,
            underline,
        } => vec![
            0x1C,
            0x21,
            u8::from(*double_width) << 2
                | u8::from(*double_height) << 3
                | u8::from(*underline) << 7,
        ],
        Command::Qr(q) => {
            let params: Vec<u8> = match q {
                QrCommand::Model(n) => vec![0x31, 0x41, *n, 0x00],
                QrCommand::ModuleSize(n) => vec![0x31, 0x43, *n],
                QrCommand::ErrorLevel(n) => vec![0x31, 0x45, *n],
                QrCommand::Store(data) => [&[0x31, 0x50, 0x30][..], data].concat(),
                QrCommand::Print => vec![0x31, 0x51, 0x30],
                QrCommand::Other { function } => vec![0x31, *function],
            };
            let len = params.len() as u16;
            let mut out = vec![0x1D, 0x28, 0x6B];
            out.extend_from_slice(&len.to_le_bytes());
            out.extend(params);
            out
        }
        Command::Raster {
            mode,
            width_bytes,
            height,
            data,
        } => {
            let mut out = vec![0x1D, 0x76, 0x30, *mode];
            out.extend_from_slice(&width_bytes.to_le_bytes());
            out.extend_from_slice(&height.to_le_bytes());
            out.extend_from_slice(data);
            out
        }
        Command::RealTimeStatus(n) => vec![0x10, 0x04, *n],
        Command::AutoStatusBack(n) => vec![0x1D, 0x61, *n],
        Command::Text { ch, wide: false } => vec![*ch as u8],
        Command::Text { ch, wide: true } => {
            let mut buf = [0u8; 4];
            let (bytes, _, _) = GB18030.encode(ch.encode_utf8(&mut buf));
            bytes.into_owned()
        }
        Command::LineFeed => vec![0x0A],
        Command::CarriageReturn => vec![0x0D],
        Command::Unknown { bytes, .. } => bytes.clone(),
    }
}

/// Hanzi whose GB18030 form is two bytes (the common receipt text).
const HANZI: &str = "受理编号上海市徐汇区政务服务中心申请人办理事项回执请妥善保管";

fn command() -> impl Strategy<Value = Command> {
    let hanzi: Vec<char> = HANZI.chars().collect();
    prop_oneof![
        Just(Command::Init),
        (0u8..3).prop_map(Command::Align),
        any::<bool>().prop_map(Command::Bold),
        (1u8..=8, 1u8..=8).prop_map(|(width, height)| Command::CharSize { width, height }),
        any::<u8>().prop_map(Command::FeedLines),
        (any::<bool>(), proptest::option::of(any::<u8>()))
            .prop_map(|(partial, feed)| Command::Cut { partial, feed }),
        any::<u8>().prop_map(Command::International),
        Just(Command::ChineseOn),
        Just(Command::ChineseOff),
        (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(w, h, u)| {
            Command::ChinesePrintMode {
                double_width: w,
                double_height: h,
                underline: u,
            }
        }),
        any::<u8>().prop_map(|n| Command::Qr(QrCommand::Model(n))),
        (1u8..=16).prop_map(|n| Command::Qr(QrCommand::ModuleSize(n))),
        (48u8..=51).prop_map(|n| Command::Qr(QrCommand::ErrorLevel(n))),
        proptest::collection::vec(any::<u8>(), 0..300)
            .prop_map(|d| Command::Qr(QrCommand::Store(d))),
        Just(Command::Qr(QrCommand::Print)),
        (any::<u8>(), 1u16..=8, 1u16..=8).prop_flat_map(|(mode, x, y)| {
            proptest::collection::vec(any::<u8>(), usize::from(x * y)).prop_map(move |data| {
                Command::Raster {
                    mode,
                    width_bytes: x,
                    height: y,
                    data,
                }
            })
        }),
        (1u8..=4).prop_map(Command::RealTimeStatus),
        any::<u8>().prop_map(Command::AutoStatusBack),
        (0x20u8..=0x7E).prop_map(|b| Command::Text {
            ch: char::from(b),
            wide: false
        }),
        proptest::sample::select(hanzi).prop_map(|ch| Command::Text { ch, wide: true }),
        Just(Command::LineFeed),
        Just(Command::CarriageReturn),
    ]
}

/// The commands as the parser must report them: a wide character outside Chinese mode is
/// preceded by `FS &` (the encoder enters the mode it needs, as the driver does).
fn with_modes(cmds: Vec<Command>, model: ModelOptions) -> Vec<Command> {
    let mut chinese = model.chinese_at_start;
    let mut out = Vec::with_capacity(cmds.len());
    for c in cmds {
        match &c {
            Command::Text { wide: true, .. } if !chinese => {
                out.push(Command::ChineseOn);
                chinese = true;
            }
            Command::ChineseOn => chinese = true,
            Command::ChineseOff => chinese = false,
            Command::Init if model.init_leaves_chinese => chinese = false,
            _ => {}
        }
        out.push(c);
    }
    out
}

fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..40, 1..12)
}

/// A receipt as the kiosk prints one, for the mutation properties.
fn receipt() -> Vec<u8> {
    let mut r = vec![0x1B, 0x40, 0x1C, 0x26, 0x1B, 0x61, 1, 0x1D, 0x21, 0x11];
    let (title, _, _) = GB18030.encode("受理回执");
    r.extend_from_slice(&title);
    r.extend_from_slice(&[0x0A, 0x1D, 0x21, 0x00, 0x1B, 0x61, 0]);
    r.extend_from_slice(b"No. XH0001-20261127-0001\n");
    r.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 50, 0x00]);
    r.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 6]);
    r.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 49]);
    let qr = b"https://example.invalid/r/XH0001-20261127-0001";
    r.extend_from_slice(&[
        0x1D,
        0x28,
        0x6B,
        (qr.len() + 3) as u8,
        0x00,
        0x31,
        0x50,
        0x30,
    ]);
    r.extend_from_slice(qr);
    r.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
    r.extend_from_slice(&[
        0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00, 0xF0, 0x0F, 0xAA, 0x55,
    ]);
    r.extend_from_slice(&[0x1B, 0x64, 3, 0x1D, 0x56, 66, 0, 0x10, 0x04, 4]);
    r
}

proptest! {
    #![proptest_config(config(256))]

    /// Any bytes, any model, any split: the same commands as byte by byte, no panic, and
    /// every unusable byte run is reported with its bytes and a reason.
    #[test]
    fn any_bytes_parse_the_same_whatever_the_split(
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        model in models(), sizes in chunk_sizes(),
    ) {
        let mut one = Parser::new(model);
        let whole: Vec<Command> = bytes.iter().filter_map(|b| one.push(*b)).collect();
        let mut p = Parser::new(model);
        let split = feed_chunked(&mut p, &bytes, &sizes);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(one.is_idle(), p.is_idle());
        prop_assert_eq!(one.chinese_mode(), p.chinese_mode());
        for c in &split {
            if let Command::Unknown { bytes, why } = c {
                prop_assert!(!bytes.is_empty());
                prop_assert!(!why.is_empty());
            }
        }
    }

    /// Round trip: commands encoded from the spec's tables parse back to themselves, in
    /// order, on every model, split anywhere, and the parser ends idle.
    #[test]
    fn encoded_commands_parse_back(
        cmds in proptest::collection::vec(command(), 0..40),
        model in models(), sizes in chunk_sizes(),
    ) {
        let expected = with_modes(cmds, model);
        let bytes: Vec<u8> = expected.iter().flat_map(encode).collect();
        let mut p = Parser::new(model);
        let got = feed_chunked(&mut p, &bytes, &sizes);
        prop_assert_eq!(got, expected);
        prop_assert!(p.is_idle());
    }

    /// A receipt with bit flips, a cut, and a splice of its own pieces: never a panic, and
    /// every unusable run still comes with a reason.
    #[test]
    fn mutated_receipts_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..6),
        cut in any::<prop::sample::Index>(),
        splice in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        model in models(),
    ) {
        let mut r = receipt();
        for (at, bit) in flips {
            let i = at.index(r.len());
            r[i] ^= 1 << bit;
        }
        let (a, b) = (splice.0.index(r.len()), splice.1.index(r.len()));
        let piece = r[a.min(b)..a.max(b)].to_vec();
        r.truncate(cut.index(r.len() + 1));
        r.extend_from_slice(&piece);
        let mut p = Parser::new(model);
        for c in p.feed(&r) {
            if let Command::Unknown { why, .. } = c {
                prop_assert!(!why.is_empty());
            }
        }
    }

    /// Length fields that lie: a `GS ( k` or `GS v 0` claiming more bytes than follow keeps
    /// the parser waiting (nothing emitted, not idle), and the full count completes it; a
    /// raster size out of range is refused at once with its reason.
    #[test]
    fn lying_lengths_wait_or_are_refused(
        claimed in 4u16..2000, present in 0usize..2000,
        x in any::<u16>(), y in any::<u16>(),
    ) {
        let present = present.min(usize::from(claimed) - 1);
        let mut p = Parser::new(ModelOptions::default());
        let mut bytes = vec![0x1D, 0x28, 0x6B];
        bytes.extend_from_slice(&claimed.to_le_bytes());
        bytes.extend_from_slice(&[0x31, 0x50, 0x30]);
        bytes.extend(std::iter::repeat_n(b'a', present.saturating_sub(3)));
        let early = p.feed(&bytes);
        prop_assert!(early.is_empty(), "{:?}", early);
        prop_assert!(!p.is_idle());
        let rest = usize::from(claimed) - present.max(3);
        let done = p.feed(&vec![b'b'; rest]);
        prop_assert_eq!(done.len(), 1);
        prop_assert!(matches!(&done[0], Command::Qr(QrCommand::Store(d)) if d.len() + 3 == usize::from(claimed)));
        prop_assert!(p.is_idle());

        let mut p = Parser::new(ModelOptions::default());
        let mut raster = vec![0x1D, 0x76, 0x30, 0x00];
        raster.extend_from_slice(&x.to_le_bytes());
        raster.extend_from_slice(&y.to_le_bytes());
        let got = p.feed(&raster);
        if x == 0 || y == 0 || x > 255 || y > 2303 {
            prop_assert_eq!(got, vec![Command::Unknown {
                bytes: raster.clone(),
                why: "GS v 0 size out of range",
            }]);
            prop_assert!(p.is_idle());
        } else {
            prop_assert!(got.is_empty());
            prop_assert!(!p.is_idle());
        }
    }
}
