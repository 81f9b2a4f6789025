use std::time::Instant;

use super::*;
use crate::catalog::form::{Field, FieldKind};
use crate::catalog::test_support::{self, *};
use crate::catalog::{self, IdentityLevel, MatterKind};
use crate::config::CatalogConfig;
use crate::crypto::DataKey;
use crate::session::{self, CardHolder, Timeouts};

const NOW: &str = "2026-11-27T03:00:00Z";
const LATER: &str = "2027-06-30T00:00:00Z";

struct Kiosk {
    _dir: tempfile::TempDir,
    store: Store,
    keys: TrustedKeys,
    admin: ed25519_dalek::SigningKey,
    config: CatalogConfig,
}

/// A kiosk on a real SQLite file with the bundled catalog (version 1) installed.
fn kiosk() -> Kiosk {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_path(&dir.path().join("kiosk.db")).unwrap();
    catalog::load_active(&mut store).unwrap();
    let (admin, trusted) = admin(7, "admin-2026");
    Kiosk {
        _dir: dir,
        store,
        keys: keys(&[trusted]),
        admin,
        config: CatalogConfig {
            expiry_grace_s: 24 * 3600,
            ..CatalogConfig::default()
        },
    }
}

impl Kiosk {
    fn push(&mut self, c: &catalog::Catalog) -> StageOutcome {
        let env = envelope(&json(c), "admin-2026", &self.admin);
        self.push_bytes(&env)
    }

    fn push_bytes(&mut self, bytes: &[u8]) -> StageOutcome {
        stage_envelope(&mut self.store, bytes, &self.keys, &self.config, time(NOW)).unwrap()
    }

    fn active(&self) -> u64 {
        self.store
            .catalog_in(CatalogSlot::Active)
            .unwrap()
            .unwrap()
            .version
    }

    fn slot(&self, slot: CatalogSlot) -> Option<u64> {
        self.store.catalog_info(slot).unwrap().map(|r| r.version)
    }

    fn push_with(&mut self, c: &catalog::Catalog, handoff: &StagedHandoff) -> StageOutcome {
        let env = envelope(&json(c), "admin-2026", &self.admin);
        stage_envelope_with(
            &mut self.store,
            &env,
            &self.keys,
            &self.config,
            time(NOW),
            Some(handoff),
        )
        .unwrap()
    }

    /// Changes the staged payload in the file (still valid JSON, not the verified bytes).
    fn damage_staged_payload(&self) {
        let n = self
            .store
            .conn()
            .execute(
                "UPDATE catalog_payloads
                     SET catalog_json = CAST(replace(catalog_json, 'SAMPLE', 'SIMPLE') AS BLOB)
                 WHERE version = (SELECT version FROM catalog_versions WHERE slot = 'staged')",
                [],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
}

fn holder() -> CardHolder {
    CardHolder {
        id_type: "resident".into(),
        name: "张三丰".into(),
        id_number: "11010519491231002X".into(),
        gender: "男".into(),
        nation: "汉".into(),
        birth_date: "1949-12-31".into(),
        address: "上海市徐汇区漕溪北路336号".into(),
    }
}

#[test]
fn a_valid_update_is_staged_and_becomes_active_only_on_switch() {
    let mut k = kiosk();
    let outcome = k.push(&catalog(2, LATER));
    assert_eq!(
        outcome,
        StageOutcome::Staged {
            version: 2,
            matters: 673,
            signer: "admin-2026".into()
        }
    );
    assert_eq!(k.active(), 1, "staging does not switch");
    assert_eq!(k.slot(CatalogSlot::Staged), Some(2));
    let row = k.store.catalog_in(CatalogSlot::Staged).unwrap().unwrap();
    assert_eq!(row.source, "central, signed by admin-2026");
    assert_eq!(row.expires_at.as_deref(), Some(LATER));
    assert_eq!(row.matters, Some(673));
    // The envelope is kept as its header; rebuilt around the stored payload, it verifies.
    let rebuilt = row.envelope().expect("the envelope's signatures are kept");
    let again =
        trust::verify_envelope(&rebuilt, &k.keys, &test_support::policy(NOW, None)).unwrap();
    assert_eq!(again.catalog_json, row.catalog_json);
    assert_eq!(again.signer, "admin-2026");

    let new = switch_if_staged(&mut k.store).unwrap().unwrap();
    assert_eq!(new.version, 2);
    assert_eq!(k.active(), 2);
    assert_eq!(k.slot(CatalogSlot::Previous), Some(1));
    assert_eq!(catalog::load_active(&mut k.store).unwrap().version, 2);
    assert!(
        switch_if_staged(&mut k.store).unwrap().is_none(),
        "nothing staged any more"
    );
}

#[test]
fn the_previous_version_stays_for_one_more_switch() {
    let mut k = kiosk();
    for v in [2, 3] {
        assert!(matches!(
            k.push(&catalog(v, LATER)),
            StageOutcome::Staged { .. }
        ));
        switch_if_staged(&mut k.store).unwrap().unwrap();
    }
    assert_eq!(k.active(), 3);
    assert_eq!(k.slot(CatalogSlot::Previous), Some(2));
    assert_eq!(k.slot(CatalogSlot::Retired), Some(1));
}

#[test]
fn refused_envelopes_leave_the_installed_catalog_working_and_are_recorded() {
    let mut k = kiosk();
    let good = envelope(&json(&catalog(2, LATER)), "admin-2026", &k.admin);
    let tampered = edit_payload(&good, |p| {
        let at = p.windows(7).position(|w| w == b"SAMPLE ").unwrap();
        p[at] ^= 1;
    });
    let (stranger, _) = admin(9, "mallory");
    let unknown = envelope(&json(&catalog(2, LATER)), "mallory", &stranger);
    let old = envelope(&json(&catalog(1, LATER)), "admin-2026", &k.admin);
    let expired = envelope(
        &json(&catalog(2, "2026-01-01T00:00:00Z")),
        "admin-2026",
        &k.admin,
    );
    let huge = vec![b' '; k.config.max_envelope_bytes as usize + 1];
    let cases: [(&[u8], &str); 7] = [
        (&tampered, "bad_signature"),
        (&unknown, "unknown_key"),
        (&old, "version_not_newer"),
        (&expired, "expired"),
        (&good[..good.len() / 3], "truncated"),
        (&huge, "too_large"),
        (b"{not json", "invalid_json"),
    ];
    for (bytes, code) in cases {
        match k.push_bytes(bytes) {
            StageOutcome::Refused(r) => {
                assert_eq!(r.iter().map(Refusal::code).collect::<Vec<_>>(), [code]);
            }
            other => panic!("{code}: {other:?}"),
        }
        assert_eq!(k.slot(CatalogSlot::Staged), None, "{code}: nothing staged");
        assert!(switch_if_staged(&mut k.store).unwrap().is_none());
        assert_eq!(
            catalog::load_active(&mut k.store).unwrap().version,
            1,
            "{code}"
        );
        let health = catalog_health(&k.store, time(NOW), 3600).unwrap();
        let rec = health.last_refusal.unwrap();
        assert_eq!(rec.refusals[0].code, code);
        assert_eq!(rec.at, NOW);
    }
    // A good one afterwards is staged and clears the recorded refusal.
    assert!(matches!(
        k.push_bytes(&good),
        StageOutcome::Staged { version: 2, .. }
    ));
    assert!(catalog_health(&k.store, time(NOW), 3600)
        .unwrap()
        .last_refusal
        .is_none());
}

#[test]
fn a_staged_or_rolled_back_version_cannot_come_back() {
    let mut k = kiosk();
    assert!(matches!(
        k.push(&catalog(3, LATER)),
        StageOutcome::Staged { .. }
    ));
    assert_eq!(
        have_version(&k.store).unwrap(),
        3,
        "have= asks past the staged one"
    );
    // A lower one than the staged one is a rollback even though only 1 is active.
    assert!(matches!(
        k.push(&catalog(2, LATER)),
        StageOutcome::Refused(_)
    ));
    assert!(matches!(
        k.push(&catalog(4, LATER)),
        StageOutcome::Staged { version: 4, .. }
    ));
    assert_eq!(
        k.slot(CatalogSlot::Staged),
        Some(4),
        "the newer one replaces the staged one"
    );
}

/// Drives a real session: while the citizen is mid-form, a staged catalog that changes their
/// form is not switched in; their submission carries the version and form they used; the
/// switch happens on the return to Home.
#[test]
fn the_catalog_switches_only_at_home_never_mid_session() {
    let mut k = kiosk();
    let mut in_use = catalog::load_active(&mut k.store).unwrap();
    let code = in_use
        .matters
        .iter()
        .find(|m| m.identity == IdentityLevel::Card && m.kind == MatterKind::Apply)
        .map(|m| m.code.clone())
        .unwrap();
    // Version 2 adds a required field to that matter's form.
    let mut v2 = catalog(2, LATER);
    let m = v2.matters.iter_mut().find(|m| m.code == code).unwrap();
    m.form.fields.push(Field {
        id: "new_field".into(),
        label_zh: "新增字段".into(),
        label_en: "New field".into(),
        kind: FieldKind::Text,
        required: true,
        min_len: None,
        max_len: None,
        min: None,
        max: None,
        choices: vec![],
        example: "示例".into(),
        prefill: None,
    });

    let t = Instant::now();
    let mut s = session::Session::new(Timeouts::default(), t);
    s.choose(&in_use, &code, t).unwrap();
    s.choose_situation("01", t).unwrap();
    s.card_read(holder(), t).unwrap();
    assert_eq!(s.step(), Step::Form);

    // The update arrives while the citizen fills the form.
    assert!(matches!(
        k.push(&v2),
        StageOutcome::Staged { version: 2, .. }
    ));
    let fields: Vec<(String, String)> = s
        .visit()
        .unwrap()
        .form
        .fields
        .iter()
        .filter(|f| !s.visit().unwrap().locked.contains(&f.id))
        .map(|f| (f.id.clone(), f.example.clone()))
        .collect();
    for (id, ex) in fields {
        s.edit(&id, &ex, t).unwrap();
        // The app calls this on every step; mid-visit it must do nothing.
        assert!(switch_at_home(&s, &mut k.store).unwrap().is_none());
    }
    assert_eq!(k.active(), 1);
    assert_eq!(
        s.edit("new_field", "x", t),
        Err(session::FlowError::UnknownField("new_field".into()))
    );
    s.review(t).unwrap();
    assert!(switch_at_home(&s, &mut k.store).unwrap().is_none());

    // Submitted against the catalog in use: version 1 and its form.
    let key = DataKey::from_bytes([3; 32]);
    let queued = session::submit(&mut s, &mut k.store, &key, in_use.version, t).unwrap();
    assert_eq!(queued.len(), 1);
    let (version, matter): (i64, String) = k
        .store
        .conn()
        .query_row(
            "SELECT catalog_version, matter_code FROM submissions",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((version, matter.as_str()), (1, code.as_str()));
    assert!(
        switch_at_home(&s, &mut k.store).unwrap().is_none(),
        "receipt is not Home"
    );
    assert_eq!(k.active(), 1);

    // Back at Home: the switch happens, and the next visit sees the new form.
    s.finish(t).unwrap();
    assert_eq!(s.step(), Step::Home);
    if let Some(new) = switch_at_home(&s, &mut k.store).unwrap() {
        in_use = new;
    }
    assert_eq!(in_use.version, 2);
    assert_eq!(k.active(), 2);
    s.choose(&in_use, &code, t).unwrap();
    assert!(s.visit().unwrap().form.field("new_field").is_some());
}

#[test]
fn a_catalog_that_does_not_load_after_the_switch_is_rolled_back_and_reported() {
    let mut k = kiosk();
    // A row that passed no verification (as if the file were damaged after staging).
    let bad = b"{\"version\": 2, \"matters\": \"oops\"}".to_vec();
    k.store
        .stage_catalog(&CatalogRow {
            version: 2,
            source: "test".into(),
            installed_at: NOW.into(),
            sha256: hex::encode(Sha256::digest(&bad)),
            expires_at: None,
            matters: None,
            catalog_json: bad,
            envelope_header: None,
        })
        .unwrap();
    assert!(switch_if_staged(&mut k.store).unwrap().is_none());
    assert_eq!(k.active(), 1, "the previous catalog is back");
    assert_eq!(k.slot(CatalogSlot::Retired), Some(2));
    assert_eq!(catalog::load_active(&mut k.store).unwrap().version, 1);
    let h = catalog_health(&k.store, time(NOW), 3600).unwrap();
    let r = h.last_rollback.clone().unwrap();
    assert_eq!((r.failed_version, r.restored_version), (2, Some(1)));
    assert!(r.reason.contains("not valid"), "{}", r.reason);
    assert_eq!(r.code, "invalid");
    assert!(h.warnings().iter().any(|w| w.contains("rolled back")));
    let beat = serde_json::to_value(HeartbeatCatalog::from(&h)).unwrap();
    assert_eq!(beat["last_rollback"]["failed_version"], 2);
    assert_eq!(beat["last_rollback"]["restored_version"], 1);
    assert_eq!(beat["last_rollback"]["code"], "invalid");
    assert!(
        beat["last_rollback"].get("reason").is_none(),
        "free text stays on the kiosk: {beat}"
    );
    assert_eq!(beat["stale"], false);
    // The failed version is never taken again; a newer one is.
    assert!(matches!(
        k.push(&catalog(2, LATER)),
        StageOutcome::Refused(_)
    ));
    assert!(matches!(
        k.push(&catalog(3, LATER)),
        StageOutcome::Staged { .. }
    ));
}

#[test]
fn a_staged_row_changed_on_disk_is_rolled_back_by_its_hash() {
    let mut k = kiosk();
    assert!(matches!(
        k.push(&catalog(2, LATER)),
        StageOutcome::Staged { .. }
    ));
    // Still valid JSON, but not the bytes that were verified.
    k.damage_staged_payload();
    assert!(switch_if_staged(&mut k.store).unwrap().is_none());
    assert_eq!(k.active(), 1);
    let r = catalog_health(&k.store, time(NOW), 0)
        .unwrap()
        .last_rollback
        .unwrap();
    assert!(r.reason.contains("changed on disk"), "{}", r.reason);
    assert_eq!(r.code, "changed_on_disk");
}

#[test]
fn a_staged_row_that_cannot_be_read_back_is_rolled_back() {
    let mut k = kiosk();
    assert!(matches!(
        k.push(&catalog(2, LATER)),
        StageOutcome::Staged { .. }
    ));
    // The column now holds TEXT, not the BLOB the store reads.
    k.store
        .conn()
        .execute(
            "UPDATE catalog_payloads SET catalog_json = CAST(catalog_json AS TEXT)
             WHERE version = (SELECT version FROM catalog_versions WHERE slot = 'staged')",
            [],
        )
        .unwrap();
    assert!(switch_if_staged(&mut k.store).unwrap().is_none());
    assert_eq!(k.active(), 1);
    let r = catalog_health(&k.store, time(NOW), 0)
        .unwrap()
        .last_rollback
        .unwrap();
    assert_eq!((r.failed_version, r.restored_version), (2, Some(1)));
    assert_eq!(r.code, "unreadable");
}

#[test]
fn with_no_previous_catalog_a_failed_load_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
    let bad = b"[]".to_vec();
    store
        .stage_catalog(&CatalogRow {
            version: 1,
            source: "test".into(),
            installed_at: NOW.into(),
            sha256: hex::encode(Sha256::digest(&bad)),
            expires_at: None,
            matters: None,
            catalog_json: bad,
            envelope_header: None,
        })
        .unwrap();
    let err = switch_if_staged(&mut store).unwrap_err().to_string();
    assert!(err.contains("no previous catalog"), "{err}");
}

#[test]
fn an_expired_catalog_keeps_serving_and_is_reported_stale() {
    let mut k = kiosk();
    assert!(matches!(
        k.push(&catalog(2, "2026-12-01T00:00:00Z")),
        StageOutcome::Staged { .. }
    ));
    switch_if_staged(&mut k.store).unwrap().unwrap();
    let day = 24 * 3600;
    let fresh = catalog_health(&k.store, time(NOW), day).unwrap();
    assert_eq!((fresh.version, fresh.stale), (Some(2), false));
    assert!(fresh.warnings().is_empty());
    // Past the expiry but inside the grace: not yet stale.
    assert!(
        !catalog_health(&k.store, time("2026-12-01T12:00:00Z"), day)
            .unwrap()
            .stale
    );
    let late = catalog_health(&k.store, time("2026-12-03T00:00:00Z"), day).unwrap();
    assert!(late.stale);
    assert_eq!(late.expires_at.as_deref(), Some("2026-12-01T00:00:00Z"));
    assert!(
        late.warnings()[0].starts_with("catalog stale"),
        "{:?}",
        late.warnings()
    );
    assert!(HeartbeatCatalog::from(&late).stale);
    // Still served.
    assert_eq!(catalog::load_active(&mut k.store).unwrap().version, 2);
}

#[test]
fn health_of_an_empty_store_and_the_installed_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
    let h = catalog_health(&store, time(NOW), 0).unwrap();
    assert_eq!((h.version, h.stale, h.staged_version), (None, false, None));
    assert_eq!(installed(&store).unwrap(), None);
    assert_eq!(have_version(&store).unwrap(), 0);
    catalog::load_active(&mut store).unwrap();
    assert_eq!(
        installed(&store).unwrap(),
        Some(Installed {
            version: 1,
            matters: 673
        })
    );
}

/// The fast path: staged with a hand-over, the switch at Home takes the catalog parsed at
/// staging and only flips the slots; mid-visit it does nothing, as without one.
#[test]
fn with_a_handoff_the_switch_takes_the_parsed_catalog_and_never_mid_visit() {
    let mut k = kiosk();
    let handoff = StagedHandoff::new();
    assert!(matches!(
        k.push_with(&catalog(2, LATER), &handoff),
        StageOutcome::Staged { version: 2, .. }
    ));
    assert_eq!(handoff.ready_version(), Some(2));
    let in_use = catalog::load_active(&mut k.store).unwrap();
    let t = Instant::now();
    let mut s = session::Session::new(Timeouts::default(), t);
    s.choose(&in_use, &in_use.matters[0].code, t).unwrap();
    assert!(switch_at_home_with(&s, &mut k.store, &handoff)
        .unwrap()
        .is_none());
    assert_eq!((k.active(), handoff.ready_version()), (1, Some(2)));
    s.cancel(t);
    assert_eq!(s.step(), Step::Home);
    // Proof that the switch does not read the payload back: the stored copy is damaged
    // after staging, yet the verified catalog is handed over.
    k.damage_staged_payload();
    let new = switch_at_home_with(&s, &mut k.store, &handoff)
        .unwrap()
        .unwrap();
    assert_eq!(new, catalog(2, LATER));
    assert_eq!(k.active(), 2);
    assert_eq!(handoff.ready_version(), None);
    // The damage is found at the next start: the hash check rolls back to version 1.
    assert_eq!(catalog::load_active(&mut k.store).unwrap().version, 1);
    let r = catalog_health(&k.store, time(NOW), 0)
        .unwrap()
        .last_rollback
        .unwrap();
    assert_eq!(
        (r.failed_version, r.restored_version, r.code.as_str()),
        (2, Some(1), "changed_on_disk")
    );
}

/// A hand-over for another version than the one staged (another process staged a newer one)
/// is not used: the switch reads and parses the staged row.
#[test]
fn a_handoff_that_does_not_match_the_staged_row_is_ignored() {
    let mut k = kiosk();
    let handoff = StagedHandoff::new();
    k.push_with(&catalog(2, LATER), &handoff);
    k.push(&catalog(3, LATER));
    let new = switch_staged(&mut k.store, Some(&handoff))
        .unwrap()
        .unwrap();
    assert_eq!(new.version, 3);
    assert_eq!(handoff.ready_version(), None, "the stale offer is dropped");
    assert_eq!(k.active(), 3);
}

#[test]
fn an_active_catalog_that_does_not_load_at_start_without_a_previous_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_path(&dir.path().join("k.db")).unwrap();
    catalog::load_active(&mut store).unwrap();
    store
        .conn()
        .execute(
            "UPDATE catalog_payloads SET catalog_json = CAST('{}' AS BLOB)",
            [],
        )
        .unwrap();
    let err = catalog::load_active(&mut store).unwrap_err().to_string();
    assert!(
        err.contains("installed catalog version 1 does not load"),
        "{err}"
    );
}
