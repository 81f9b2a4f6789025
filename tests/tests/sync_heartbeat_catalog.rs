//! The heartbeat's [ext] `catalog` object end to end: a real engine posts heartbeats over
//! mutual TLS to the simulated platform, which checks the object and shows, per kiosk, the
//! catalog version, staleness, staged version, last rollback and last refusal it was told.
//! Free texts never leave the kiosk: a rollback whose reason quotes an ID-number-shaped
//! string still gets its heartbeat accepted (the platform refuses anything shaped like one).

mod sync_support;

use kiosk::catalog::{self, sample, update};
use kiosk::store::{CatalogRow, Store};
use sync_support::*;

fn row(version: u64, json: Vec<u8>, expires_at: Option<&str>) -> CatalogRow {
    CatalogRow {
        expires_at: expires_at.map(str::to_string),
        ..CatalogRow::new(version, "test", "2026-11-27T00:00:00Z", json)
    }
}

/// Sends one heartbeat and returns the body the platform stored.
fn beat(env: &Env) -> serde_json::Value {
    let mut engine = env.engine();
    rt().block_on(engine.heartbeat())
        .expect("the platform accepts the heartbeat");
    env.sim.last_heartbeat(KIOSK).unwrap().unwrap()
}

#[test]
fn the_platform_sees_the_catalog_version_staleness_and_staged_version() {
    let env = Env::new(Default::default());
    let mut store: Store = env.store();
    catalog::load_active(&mut store).unwrap();

    let hb = beat(&env);
    assert_eq!(hb["catalog_version"], 1);
    assert_eq!(
        hb["catalog"],
        serde_json::json!({"stale": false, "expires_at": "2027-11-01T00:00:00Z",
            "staged_version": null, "last_rollback": null, "last_refusal": []})
    );

    // A catalog past its expiry and the grace (7 days by default) is served, and reported.
    let mut old = sample::generate().unwrap();
    old.version = 2;
    old.expires_at = "2026-01-01T00:00:00Z".into();
    store
        .install_active_catalog(&row(
            2,
            serde_json::to_vec(&old).unwrap(),
            Some(&old.expires_at),
        ))
        .unwrap();
    let mut next = sample::generate().unwrap();
    next.version = 3;
    store
        .stage_catalog(&row(
            3,
            serde_json::to_vec(&next).unwrap(),
            Some(&next.expires_at),
        ))
        .unwrap();
    let hb = beat(&env);
    assert_eq!(hb["catalog_version"], 2);
    assert_eq!(hb["catalog"]["stale"], true);
    assert_eq!(hb["catalog"]["expires_at"], "2026-01-01T00:00:00Z");
    assert_eq!(hb["catalog"]["staged_version"], 3);

    // The platform's own view, as `device-sim central stats --json` prints it.
    let seen = &env.sim.stats().unwrap().kiosks[KIOSK];
    assert_eq!(seen.catalog_version, Some(2));
    assert_eq!(seen.catalog_stale, Some(true));
    assert_eq!(seen.catalog_staged_version, Some(3));
    assert_eq!(seen.heartbeats, 2);
}

#[test]
fn a_rollback_and_a_refusal_reach_the_platform_as_codes_without_their_texts() {
    let env = Env::new(Default::default());
    let mut store: Store = env.store();
    catalog::load_active(&mut store).unwrap();
    // Valid JSON that is not a catalog; serde's message quotes the string it found.
    let broken = format!(r#"{{"version": 2, "matters": "{SYNTHETIC_ID}"}}"#).into_bytes();
    store.stage_catalog(&row(2, broken, None)).unwrap();
    assert!(update::switch_if_staged(&mut store).unwrap().is_none());
    let local = update::catalog_health(&store, chrono::Utc::now(), 0).unwrap();
    let reason = local.last_rollback.as_ref().unwrap().reason.clone();
    assert!(
        reason.contains(SYNTHETIC_ID),
        "the test needs a reason that quotes it: {reason}"
    );
    let refused = update::stage_envelope(
        &mut store,
        b"{not json",
        &Default::default(),
        &Default::default(),
        chrono::Utc::now(),
    )
    .unwrap();
    assert!(matches!(refused, update::StageOutcome::Refused(_)));

    let hb = beat(&env);
    assert_eq!(hb["catalog_version"], 1);
    let r = &hb["catalog"]["last_rollback"];
    assert_eq!(
        (&r["failed_version"], &r["restored_version"], &r["code"]),
        (
            &serde_json::json!(2),
            &serde_json::json!(1),
            &serde_json::json!("invalid")
        )
    );
    assert!(r.get("reason").is_none(), "{hb}");
    assert_eq!(
        hb["catalog"]["last_refusal"],
        serde_json::json!(["invalid_json"])
    );
    assert!(!hb.to_string().contains(SYNTHETIC_ID));
    let seen = &env.sim.stats().unwrap().kiosks[KIOSK];
    assert_eq!(seen.catalog_rollback_failed_version, Some(2));
    assert_eq!(seen.catalog_last_refusal, ["invalid_json"]);
}
