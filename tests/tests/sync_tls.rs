//! Mutual TLS between the kiosk and the simulated platform on 127.0.0.1, both directions:
//! the platform refuses a client certificate from another CA, the kiosk refuses a platform
//! certificate its configured CA did not issue, and a certificate for another kiosk id is
//! refused by the platform (403). A correct setup goes through (the control).

mod sync_support;

use device_sim::central::{self, FaultConfig, PkiPaths};
use kiosk::outbox;
use sync_support::*;

/// A second, unrelated PKI (another CA) in the same temp folder.
fn other_pki(env: &Env) -> PkiPaths {
    let dir = env.dir.path().join("other-pki");
    central::init_pki(&dir, &[KIOSK.into()]).unwrap();
    PkiPaths::new(&dir)
}

fn push_once(config: &kiosk::config::Config) -> kiosk::sync::PushReport {
    let rt = rt();
    let mut engine = engine_for(config);
    rt.block_on(engine.push(true))
}

#[test]
fn correct_mutual_tls_goes_through() {
    let env = Env::new(FaultConfig::default());
    env.enqueue(&["13800000001"]);
    let report = push_once(&env.config);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.accepted, 1);
    assert_eq!(env.sim.stats().unwrap().by_kiosk.get(KIOSK), Some(&1));
}

#[test]
fn a_client_certificate_from_another_ca_is_refused() {
    let env = Env::new(FaultConfig::default());
    let other = other_pki(&env);
    let mut config = env.config.clone();
    config.central.client_cert = Some(other.client_cert(KIOSK));
    config.central.client_key = Some(other.client_key(KIOSK));
    env.enqueue(&["13800000001"]);
    let report = push_once(&config);
    assert_eq!(report.accepted, 0);
    assert_eq!(report.retried, 1);
    let error = report.errors.join(" | ");
    assert!(!error.is_empty());
    assert!(
        error.to_lowercase().contains("alert")
            || error.to_lowercase().contains("certificate")
            || error.to_lowercase().contains("connection"),
        "the TLS refusal should show: {error}"
    );
    assert_eq!(
        env.sim.stats().unwrap().submissions,
        0,
        "nothing reached the platform"
    );
    let s = outbox::status(&env.store()).unwrap();
    assert_eq!(s.pending, 1, "kept for a later attempt: {s:?}");
}

#[test]
fn a_platform_certificate_from_an_untrusted_ca_is_refused_by_the_kiosk() {
    let env = Env::new(FaultConfig::default());
    let other = other_pki(&env);
    let mut config = env.config.clone();
    // The kiosk trusts only the other CA: the simulator's certificate is not from it.
    config.central.ca_file = Some(other.ca_cert());
    env.enqueue(&["13800000001"]);
    let report = push_once(&config);
    assert_eq!(report.accepted, 0);
    let error = report.errors.join(" | ");
    assert!(
        error.contains("UnknownIssuer") || error.to_lowercase().contains("certificate"),
        "the kiosk should say why: {error}"
    );
    assert_eq!(env.sim.stats().unwrap().submissions, 0);
    assert_eq!(env.sim.stats().unwrap().batches, 0);
}

#[test]
fn a_certificate_for_another_kiosk_is_refused_with_403() {
    let env = Env::new(FaultConfig::default());
    let mut config = env.config.clone();
    config.central.client_cert = Some(env.pki.client_cert("XH-0002"));
    config.central.client_key = Some(env.pki.client_key("XH-0002"));
    env.enqueue(&["13800000001"]);
    let report = push_once(&config);
    assert_eq!(report.accepted, 0);
    assert!(
        report.errors.join(" ").contains("403"),
        "{:?}",
        report.errors
    );
    assert_eq!(env.sim.stats().unwrap().submissions, 0);
}

#[test]
fn the_kiosk_refuses_to_start_without_its_tls_files() {
    let env = Env::new(FaultConfig::default());
    let mut config = env.config.clone();
    config.central.client_key = None;
    let err = kiosk::sync::SyncEngine::new(&config, env.store(), env.key())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("client_key"), "{err}");
    let mut config = env.config.clone();
    config.central.url = config.central.url.replace("https://", "http://");
    let err = kiosk::sync::SyncEngine::new(&config, env.store(), env.key())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("https"), "{err}");
}

#[test]
fn heartbeat_reaches_the_platform_without_personal_data() {
    let env = Env::new(FaultConfig::default());
    env.enqueue(&["13800000001", "13800000002"]);
    let rt = rt();
    let mut engine = env.engine();
    engine
        .handle()
        .set_device_state("printer", "paper_near_end");
    rt.block_on(engine.heartbeat()).unwrap();
    let hb = env.sim.last_heartbeat(KIOSK).unwrap().unwrap();
    assert_eq!(hb["kiosk_id"], KIOSK);
    assert_eq!(hb["outbox"]["pending"], 2);
    assert_eq!(hb["devices"]["printer"], "paper_near_end");
    let text = hb.to_string();
    assert!(!text.contains(SYNTHETIC_ID) && !text.contains("张三丰"));
    assert_eq!(engine.handle().snapshot().counters.heartbeats_ok, 1);
}
