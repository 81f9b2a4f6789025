//! The simulated platform's side of the central API (device_sim::central): HTTP requests
//! parsed from raw bytes and answered by the endpoints, as a kiosk with a client
//! certificate (first byte bit 0) and/or with the admin token (bit 1).
#![no_main]
use std::sync::{Arc, Mutex, OnceLock};

use device_sim::central::faults::{FaultConfig, Faults};
use device_sim::central::handlers::{Platform, Reply};
use device_sim::central::http::parse_request;
use device_sim::central::store::SimStore;
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "fuzz-admin-token";

fn platform() -> &'static Platform {
    static P: OnceLock<Platform> = OnceLock::new();
    P.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("hall-kiosk-fuzz-{}", std::process::id()));
        let store = SimStore::open(&dir.join("central.db")).expect("simulator database");
        Platform {
            store: Mutex::new(store),
            faults: Arc::new(Faults::new(FaultConfig::default())),
            admin_token: TOKEN.into(),
            admin_keys: Vec::new(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&who, bytes)) = data.split_first() else {
        return;
    };
    let mut buf = bytes;
    while let Ok(Some((mut req, used))) = parse_request(buf, 64 * 1024) {
        if who & 2 != 0 {
            req.headers
                .push(("authorization".into(), format!("Bearer {TOKEN}")));
        }
        let peer = (who & 1 != 0).then_some("XH-0001");
        if let Reply::Respond(resp) = platform().handle(&req, peer) {
            let _ = resp.to_bytes(req.keep_alive);
        }
        if used == 0 {
            break;
        }
        buf = &buf[used..];
    }
});
