//! The card text parser: the read reply's data split into blocks, the 256-byte text parsed
//! into an `IdCard` and summarised (ID number check, expiry). First byte: fingerprint or not.
#![no_main]
use drivers::idcard::reply::{parse_read, TEXT_LEN};
use drivers::idcard::{text, IdCard};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    if let Ok(block) = <&[u8; TEXT_LEN]>::try_from(bytes.get(..TEXT_LEN).unwrap_or_default()) {
        let _ = text::parse_text(block);
    }
    if let Ok(raw) = parse_read(bytes, mode & 1 == 1) {
        if let Ok(card) = IdCard::from_raw(&raw) {
            let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
            let _ = card.summary(today);
            let _ = card.id_number_valid();
        }
    }
});
