//! The kiosk's side of the central API (kiosk::sync::protocol): what the platform answers.
//! Bytes 0-1: HTTP status; byte 2: how many ids were sent; then a Retry-After line, then
//! the body.
#![no_main]
use kiosk::sync::protocol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]) % 1000;
    let ids: Vec<String> = (0..data[2] % 8).map(|i| format!("id-{i}")).collect();
    let rest = &data[3..];
    let (retry, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (std::str::from_utf8(&rest[..i]).ok(), &rest[i + 1..]),
        None => (None, rest),
    };
    let now = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
    let out = protocol::decode_batch_response(&ids, status, retry, body, now);
    assert_eq!(out.items.len(), ids.len());
    let _ = protocol::decode_heartbeat_response(status, retry, body, now);
    let _ = protocol::decode_catalog_response(status, body.to_vec());
    if let Some(r) = retry {
        let _ = protocol::parse_retry_after(r, now);
    }
});
