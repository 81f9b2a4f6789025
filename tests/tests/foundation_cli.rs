//! The foundation's command line, run as a citizen-facing tool would: the real `kiosk`
//! binary on a fresh data folder (a real SQLite file).

use e2e::{kiosk, kiosk_json};

#[test]
fn catalog_stats_reports_the_halls_offer() {
    let dir = tempfile::tempdir().unwrap();
    let s = kiosk_json(dir.path(), &["catalog", "stats", "--json"]);
    assert_eq!(s["matters"], 673);
    assert_eq!(s["person"], 296);
    assert_eq!(s["business"], 377);
    assert!(s["departments"].as_u64().unwrap() >= 15);
    assert!(s["bundles"].as_u64().unwrap() >= 25);
    assert!(s["version"].as_u64().unwrap() >= 1);
    assert!(
        dir.path().join("kiosk.db").exists(),
        "the store was created"
    );
}

#[test]
fn every_form_of_the_restaurant_query_puts_the_bundle_or_a_member_first() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = kiosk_json(dir.path(), &["catalog", "search", "开办饭店", "--json"]);
    let bundle_code = bundle[0]["code"].as_str().unwrap().to_string();
    assert_eq!(bundle[0]["type"], "bundle");
    assert_eq!(bundle[0]["name_zh"], "开办饭店");
    let shown = kiosk_json(dir.path(), &["catalog", "show", &bundle_code, "--json"]);
    let members: Vec<String> = shown["matters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    for q in ["kbfd", "kai ban fan dian", "开办饭店", "restaurant"] {
        let hits = kiosk_json(dir.path(), &["catalog", "search", q, "--json"]);
        let first = hits[0]["code"].as_str().unwrap();
        assert!(
            first == bundle_code || members.iter().any(|m| m == first),
            "{q:?} put {first} first: {hits}"
        );
        for h in hits.as_array().unwrap() {
            for key in ["code", "type", "name_zh", "name_en"] {
                assert!(h.get(key).is_some(), "{key} missing in {h}");
            }
        }
    }
}

#[test]
fn search_limit_and_show_of_a_matter() {
    let dir = tempfile::tempdir().unwrap();
    let hits = kiosk_json(
        dir.path(),
        &["catalog", "search", "证", "--limit", "3", "--json"],
    );
    assert_eq!(hits.as_array().unwrap().len(), 3);
    let code = hits[0]["code"].as_str().unwrap();
    let m = kiosk_json(dir.path(), &["catalog", "show", code, "--json"]);
    assert_eq!(m["code"], code);
    assert!(!m["form"]["fields"].as_array().unwrap().is_empty());
    let out = kiosk(dir.path(), &["catalog", "show", "310104999999", "--json"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("310104999999"), "{err}");
}

#[test]
fn outbox_status_of_a_fresh_kiosk_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let s = kiosk_json(dir.path(), &["outbox", "status", "--json"]);
    for key in ["pending", "in_flight", "acked", "quarantined"] {
        assert_eq!(s[key], 0, "{key}");
    }
    assert!(s["oldest_pending_s"].is_null());
}

#[test]
fn a_broken_config_file_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kiosk.toml");
    std::fs::write(&cfg, "kiosk_idd = 'typo'\n").unwrap();
    let out = kiosk(
        dir.path(),
        &["--config", cfg.to_str().unwrap(), "catalog", "stats"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kiosk.toml") && err.contains("kiosk_idd"),
        "{err}"
    );
}
