//! The printer simulator's ESC/POS parser. First byte: the model options (three bits).
#![no_main]
use device_sim::printer::parser::{ModelOptions, Parser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&bits, bytes)) = data.split_first() else {
        return;
    };
    let mut p = Parser::new(ModelOptions {
        chinese_at_start: bits & 1 != 0,
        init_leaves_chinese: bits & 2 != 0,
        four_byte_gb18030: bits & 4 != 0,
    });
    let _ = p.feed(bytes);
});
