//! Byte vectors taken from the spec's tables.

use super::*;

fn parse(bytes: &[u8]) -> Vec<Command> {
    Parser::new(ModelOptions::default()).feed(bytes)
}

fn one(bytes: &[u8]) -> Command {
    let mut cmds = parse(bytes);
    assert_eq!(cmds.len(), 1, "{bytes:02X?} gave {cmds:?}");
    cmds.remove(0)
}

#[test]
fn core_table() {
    assert_eq!(one(&[0x1B, 0x40]), Command::Init);
    for (n, want) in [(0, 0), (48, 0), (1, 1), (49, 1), (2, 2), (50, 2)] {
        assert_eq!(one(&[0x1B, 0x61, n]), Command::Align(want));
    }
    assert!(matches!(one(&[0x1B, 0x61, 3]), Command::Unknown { .. }));
    assert_eq!(one(&[0x1B, 0x45, 1]), Command::Bold(true));
    assert_eq!(
        one(&[0x1B, 0x45, 0xFE]),
        Command::Bold(false),
        "lowest bit only"
    );
    assert_eq!(one(&[0x1B, 0x45, 0x03]), Command::Bold(true));
    assert_eq!(
        one(&[0x1D, 0x21, 0x00]),
        Command::CharSize {
            width: 1,
            height: 1
        }
    );
    assert_eq!(
        one(&[0x1D, 0x21, 0x11]),
        Command::CharSize {
            width: 2,
            height: 2
        }
    );
    assert_eq!(
        one(&[0x1D, 0x21, 0x70]),
        Command::CharSize {
            width: 8,
            height: 1
        }
    );
    assert_eq!(
        one(&[0x1D, 0x21, 0x07]),
        Command::CharSize {
            width: 1,
            height: 8
        }
    );
    assert!(matches!(one(&[0x1D, 0x21, 0x80]), Command::Unknown { .. }));
    assert_eq!(one(&[0x1B, 0x64, 5]), Command::FeedLines(5));
    assert_eq!(one(&[0x1B, 0x52, 0x0F]), Command::International(15));
}

#[test]
fn cut_functions() {
    assert_eq!(
        one(&[0x1D, 0x56, 0]),
        Command::Cut {
            partial: false,
            feed: None
        }
    );
    assert_eq!(
        one(&[0x1D, 0x56, 48]),
        Command::Cut {
            partial: false,
            feed: None
        }
    );
    assert_eq!(
        one(&[0x1D, 0x56, 1]),
        Command::Cut {
            partial: true,
            feed: None
        }
    );
    assert_eq!(
        one(&[0x1D, 0x56, 49]),
        Command::Cut {
            partial: true,
            feed: None
        }
    );
    assert_eq!(
        one(&[0x1D, 0x56, 65, 7]),
        Command::Cut {
            partial: false,
            feed: Some(7)
        }
    );
    assert_eq!(
        one(&[0x1D, 0x56, 66, 0]),
        Command::Cut {
            partial: true,
            feed: Some(0)
        }
    );
}

#[test]
fn chinese_mode_and_gb18030() {
    assert_eq!(one(&[0x1C, 0x26]), Command::ChineseOn);
    assert_eq!(one(&[0x1C, 0x2E]), Command::ChineseOff);
    assert_eq!(
        one(&[0x1C, 0x21, 0x8C]),
        Command::ChinesePrintMode {
            double_width: true,
            double_height: true,
            underline: true
        }
    );
    assert_eq!(
        one(&[0x1C, 0x21, 0x04]),
        Command::ChinesePrintMode {
            double_width: true,
            double_height: false,
            underline: false
        }
    );
    // 中文 in GB18030: D6 D0 CE C4 (power-up is Chinese mode).
    let text: String = parse(&[0xD6, 0xD0, b'A', 0xCE, 0xC4])
        .into_iter()
        .map(|c| match c {
            Command::Text { ch, .. } => ch,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(text, "中A文");
    // Wide for double-byte, narrow for ASCII.
    assert_eq!(
        parse(&[0xD6, 0xD0])[0],
        Command::Text {
            ch: '中',
            wide: true
        }
    );
    assert_eq!(
        parse(b"A")[0],
        Command::Text {
            ch: 'A',
            wide: false
        }
    );
}

#[test]
fn leaving_chinese_mode_changes_how_bytes_read() {
    let mut p = Parser::new(ModelOptions::default());
    assert!(p.chinese_mode());
    let cmds = p.feed(&[0x1C, 0x2E, 0xD6, 0xD0]);
    assert_eq!(cmds.len(), 3);
    assert!(matches!(cmds[1], Command::Unknown { .. }));
    let cmds = p.feed(&[0x1C, 0x26, 0xD6, 0xD0]);
    assert_eq!(
        cmds[1],
        Command::Text {
            ch: '中',
            wide: true
        }
    );
}

#[test]
fn init_and_chinese_mode_is_a_model_option() {
    let mut keeps = Parser::new(ModelOptions::default());
    keeps.feed(&[0x1B, 0x40]);
    assert!(keeps.chinese_mode());
    let mut leaves = Parser::new(ModelOptions {
        init_leaves_chinese: true,
        ..ModelOptions::default()
    });
    leaves.feed(&[0x1B, 0x40]);
    assert!(!leaves.chinese_mode());
    let ascii = Parser::new(ModelOptions {
        chinese_at_start: false,
        ..ModelOptions::default()
    });
    assert!(!ascii.chinese_mode());
}

#[test]
fn four_byte_characters_depend_on_the_model() {
    // 𠮷 U+20BB7 = 95 34 B2 35 in GB18030.
    let bytes = [0x95, 0x34, 0xB2, 0x35];
    let texts = |model| -> String {
        Parser::new(model)
            .feed(&bytes)
            .into_iter()
            .filter_map(|c| match c {
                Command::Text { ch, .. } => Some(ch),
                _ => None,
            })
            .collect()
    };
    assert_eq!(texts(ModelOptions::default()), "??");
    assert_eq!(
        texts(ModelOptions {
            four_byte_gb18030: true,
            ..ModelOptions::default()
        }),
        "𠮷"
    );
}

#[test]
fn qr_steps() {
    assert_eq!(
        one(&[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 50, 0x00]),
        Command::Qr(QrCommand::Model(50))
    );
    assert_eq!(
        one(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 8]),
        Command::Qr(QrCommand::ModuleSize(8))
    );
    for level in 48..=51 {
        assert_eq!(
            one(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, level]),
            Command::Qr(QrCommand::ErrorLevel(level))
        );
    }
    // pL + 256 pH = len(data) + 3.
    assert_eq!(
        one(&[0x1D, 0x28, 0x6B, 0x06, 0x00, 0x31, 0x50, 0x30, b'a', b'b', b'c']),
        Command::Qr(QrCommand::Store(b"abc".to_vec()))
    );
    assert_eq!(
        one(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]),
        Command::Qr(QrCommand::Print)
    );
}

#[test]
fn long_qr_store_uses_the_high_length_byte() {
    let data = vec![b'z'; 400]; // 403 = 0x0193
    let mut bytes = vec![0x1D, 0x28, 0x6B, 0x93, 0x01, 0x31, 0x50, 0x30];
    bytes.extend(&data);
    bytes.push(b'!');
    let cmds = parse(&bytes);
    assert_eq!(cmds[0], Command::Qr(QrCommand::Store(data)));
    assert_eq!(
        cmds[1],
        Command::Text {
            ch: '!',
            wide: false
        }
    );
}

#[test]
fn raster_image() {
    let cmds = parse(&[
        0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00, 0x80, 0x01, 0xFF, 0x00, b'x',
    ]);
    assert_eq!(
        cmds[0],
        Command::Raster {
            mode: 0,
            width_bytes: 2,
            height: 2,
            data: vec![0x80, 0x01, 0xFF, 0x00]
        }
    );
    assert_eq!(
        cmds[1],
        Command::Text {
            ch: 'x',
            wide: false
        }
    );
    assert!(
        matches!(
            parse(&[0x1D, 0x76, 0x30, 0, 1, 0, 0x00, 0x09])[0],
            Command::Unknown { .. }
        ),
        "2304 rows"
    );
}

#[test]
fn status_commands() {
    for n in 1..=4 {
        assert_eq!(one(&[0x10, 0x04, n]), Command::RealTimeStatus(n));
    }
    assert!(matches!(one(&[0x10, 0x04, 5]), Command::Unknown { .. }));
    assert_eq!(one(&[0x1D, 0x61, 0xFF]), Command::AutoStatusBack(0xFF));
    assert_eq!(one(&[0x1D, 0x61, 0x00]), Command::AutoStatusBack(0));
}

#[test]
fn commands_split_across_reads() {
    let mut p = Parser::new(ModelOptions::default());
    assert_eq!(p.feed(&[0x1D, 0x28]), vec![]);
    assert!(!p.is_idle());
    assert_eq!(p.feed(&[0x6B, 0x03, 0x00, 0x31]), vec![]);
    assert_eq!(
        p.feed(&[0x43, 4, 0x0A]),
        vec![Command::Qr(QrCommand::ModuleSize(4)), Command::LineFeed]
    );
    assert!(p.is_idle());
}

#[test]
fn garbage_never_panics() {
    let mut p = Parser::new(ModelOptions {
        four_byte_gb18030: true,
        ..ModelOptions::default()
    });
    let mut x: u32 = 12345;
    for _ in 0..100_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        p.push((x >> 16) as u8);
    }
}
