//! The SAM reply decoder (drivers::idcard::codec) fed in chunks, then every frame's data
//! through the reply parsers. First byte: the chunk size.
#![no_main]
use drivers::idcard::codec::Decoder;
use drivers::idcard::reply::{parse_extra_address, parse_read, SamId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, bytes)) = data.split_first() else {
        return;
    };
    let mut d = Decoder::new();
    for piece in bytes.chunks(usize::from(chunk).max(1)) {
        d.push(piece);
        while let Some(event) = d.next_event() {
            if let Ok(reply) = event {
                let _ = parse_read(&reply.data, false);
                let _ = parse_read(&reply.data, true);
                let _ = SamId::parse(&reply.data);
                let _ = parse_extra_address(&reply.data);
            }
        }
    }
});
