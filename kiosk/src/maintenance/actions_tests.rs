//! Staff actions on a real SQLite file with real (sealed) submissions.

use chrono::NaiveDate;
use drivers::idcard::{CardType, Gender, IdCard, Validity};

use super::*;
use crate::crypto::DataKey;
use crate::maintenance::test_support::submission;
use crate::outbox::{enqueue, status, Disposition};

/// A store with `n` entries, the first `quarantined` of them rejected by the platform.
fn store_with(n: usize, quarantined: usize) -> (tempfile::TempDir, Store, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
    let key = DataKey::from_bytes([7; 32]);
    let ids: Vec<String> = (0..n)
        .map(|_| {
            enqueue(&mut store, &key, &submission(), chrono::Utc::now())
                .unwrap()
                .id
        })
        .collect();
    let items: Vec<(String, Disposition)> = ids[..quarantined]
        .iter()
        .map(|id| {
            (
                id.clone(),
                Disposition::Quarantined {
                    code: "matter_disabled".into(),
                    reason: "matter 310104010001 is not accepted".into(),
                },
            )
        })
        .collect();
    entries::settle(&mut store, &items, chrono::Utc::now()).unwrap();
    (dir, store, ids)
}

#[test]
fn retrying_quarantined_entries_makes_them_pending_and_is_audited() {
    let (_d, mut store, _ids) = store_with(3, 2);
    assert_eq!(status(&store).unwrap().quarantined, 2);
    assert_eq!(retry_quarantined(&mut store, 1_000).unwrap(), 2);
    let s = status(&store).unwrap();
    assert_eq!((s.pending, s.quarantined), (3, 0));
    let row = &AuditLog::new(&store).recent(1).unwrap()[0];
    assert_eq!(
        (
            row.action.as_str(),
            row.outcome.as_str(),
            row.detail.as_str()
        ),
        ("retry_quarantined", "success", "retried=2 failed=0")
    );
}

#[test]
fn the_export_lists_quarantined_entries_without_personal_data() {
    let (_d, store, ids) = store_with(3, 2);
    let out = tempfile::tempdir().unwrap();
    let now = 1_800_000_000_000;
    let done = export_quarantined(&store, "XH-0001", out.path(), now).unwrap();
    assert_eq!(
        done.file_name(),
        "quarantined-XH-0001-20270115T080000Z.json"
    );
    assert_eq!(done.entries, 2);
    let text = std::fs::read_to_string(&done.path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["id"], ids[0].as_str());
    assert_eq!(entries[0]["reject_code"], "matter_disabled");
    for secret in ["张三丰", "11010519491231002X", "13800138000"] {
        assert!(!text.contains(secret), "export holds {secret}");
    }
    // Nothing else in the folder: no half-written file left behind.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
    let row = &AuditLog::new(&store).recent(1).unwrap()[0];
    assert_eq!(
        (row.action.as_str(), row.detail.as_str()),
        (
            "export_quarantined",
            "entries=2 file=quarantined-XH-0001-20270115T080000Z.json"
        )
    );
}

fn config_with(data: &Path, export_dir: &str, mount_required: bool) -> Config {
    let mut c = Config {
        kiosk_id: "XH-0001".into(),
        data_dir: data.to_path_buf(),
        ..Config::default()
    };
    c.maintenance.export_dir = export_dir.into();
    c.maintenance.export_mount_required = mount_required;
    c
}

#[test]
fn the_default_export_folder_is_created_under_the_data_folder() {
    let (d, store, _) = store_with(2, 2);
    let config = config_with(d.path(), "exports", false);
    let done = export_quarantined_to_config(&store, &config, 1_800_000_000_000).unwrap();
    assert_eq!(done.entries, 2);
    assert_eq!(done.path.parent().unwrap(), d.path().join("exports"));
    assert!(done.path.is_file());
}

#[test]
fn a_missing_or_unmounted_usb_folder_is_refused_with_its_reason_and_audited() {
    let (d, store, _) = store_with(1, 1);
    // An absolute folder that does not exist: the stick is not there; nothing is created.
    let usb = d.path().join("media-usb");
    let config = config_with(d.path(), usb.to_str().unwrap(), false);
    let err = export_quarantined_to_config(&store, &config, 0).unwrap_err();
    assert!(
        format!("{err:#}").contains("not found: is the USB stick plugged in"),
        "{err:#}"
    );
    assert!(
        !usb.exists(),
        "the export must not create a mount point's folder"
    );
    let row = &AuditLog::new(&store).recent(1).unwrap()[0];
    assert_eq!(
        (row.action.as_str(), row.outcome.as_str()),
        ("export_quarantined", "failure")
    );
    assert!(row.detail.contains("not found"), "{}", row.detail);

    // The folder exists but is a plain folder on the kiosk's disk (the empty mount point).
    std::fs::create_dir(&usb).unwrap();
    let strict = config_with(d.path(), usb.to_str().unwrap(), true);
    let err = export_quarantined_to_config(&store, &strict, 0).unwrap_err();
    assert!(
        format!("{err:#}").contains("is not a mounted drive"),
        "{err:#}"
    );
    assert_eq!(std::fs::read_dir(&usb).unwrap().count(), 0);
    // Without the mount rule the same folder takes the export.
    let done = export_quarantined_to_config(&store, &config, 0).unwrap();
    assert_eq!(
        (done.entries, done.path.parent().unwrap()),
        (1, usb.as_path())
    );
    // `/` is a mount point of its own (the rule accepts real mounts).
    assert!(super::is_mount_point(Path::new("/")));
}

#[test]
fn an_export_to_a_missing_folder_fails_and_is_audited_as_a_failure() {
    let (_d, store, _) = store_with(1, 1);
    let err = export_quarantined(&store, "XH-0001", Path::new("/nonexistent/usb"), 0).unwrap_err();
    assert!(format!("{err:#}").contains("/nonexistent/usb"), "{err:#}");
    let row = &AuditLog::new(&store).recent(1).unwrap()[0];
    assert_eq!(
        (row.action.as_str(), row.outcome.as_str()),
        ("export_quarantined", "failure")
    );
}

fn card(id_number: &str) -> IdCard {
    IdCard {
        card_type: CardType::Resident,
        name: "张三".into(),
        name_en: String::new(),
        gender: Gender::Male,
        nation: None,
        nationality: String::new(),
        birth_date: NaiveDate::from_ymd_opt(1949, 12, 31).unwrap(),
        address: "北京市东城区".into(),
        extra_address: String::new(),
        id_number: id_number.into(),
        issuer: "北京市公安局".into(),
        valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        valid_until: Validity::LongTerm,
        pass_number: String::new(),
        issue_count: String::new(),
        card_version: String::new(),
        previous_number: String::new(),
        photo: vec![],
        fingerprint: vec![],
    }
}

#[test]
fn the_test_card_read_shows_only_the_type_and_the_check_digit_verdict() {
    let good = CardCheck::of(&card("11010519491231002X"));
    assert_eq!(
        good,
        CardCheck {
            card_type: "resident",
            check_digit_valid: true
        }
    );
    let bad = CardCheck::of(&card("110105194912310021"));
    assert!(!bad.check_digit_valid);
    let json = serde_json::to_string(&good).unwrap();
    assert_eq!(json, r#"{"card_type":"resident","check_digit_valid":true}"#);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_path(&dir.path().join("k.db")).unwrap();
    bad.record(&store, 5).unwrap();
    let row = &AuditLog::new(&store).recent(1).unwrap()[0];
    assert_eq!(
        (
            row.action.as_str(),
            row.outcome.as_str(),
            row.detail.as_str()
        ),
        (
            "test_card_read",
            "failure",
            "resident check_digit_valid=false"
        )
    );
}
