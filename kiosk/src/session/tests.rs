use std::time::{Duration, Instant};
use zeroize::Zeroize;

use super::*;
use crate::catalog::{sample, Audience, Catalog, MatterKind};

fn catalog() -> Catalog {
    sample::generate().unwrap()
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

fn code_with(c: &Catalog, identity: IdentityLevel, kind: MatterKind) -> String {
    c.matters
        .iter()
        .find(|m| m.identity == identity && m.kind == kind && m.audience == Audience::Person)
        .map(|m| m.code.clone())
        .unwrap_or_else(|| panic!("no {identity:?} {kind:?} matter"))
}

/// Fills every editable field with its example value.
fn fill(s: &mut Session, now: Instant) {
    let v = s.visit().unwrap();
    let todo: Vec<(String, String)> = v
        .form
        .fields
        .iter()
        .filter(|f| !v.locked.contains(&f.id))
        .map(|f| (f.id.clone(), f.example.clone()))
        .collect();
    for (id, ex) in todo {
        s.edit(&id, &ex, now).unwrap();
    }
}

#[test]
fn card_face_matter_walks_every_step_to_home() {
    let c = catalog();
    let t0 = Instant::now();
    let mut s = Session::new(Timeouts::default(), t0);
    let code = code_with(&c, IdentityLevel::CardFace, MatterKind::Apply);
    s.choose(&c, &code, t0).unwrap();
    assert_eq!(s.step(), Step::Guide);
    assert_eq!(
        s.choose_situation("99", t0),
        Err(FlowError::UnknownSituation("99".into()))
    );
    s.choose_situation("02", t0).unwrap();
    assert_eq!(s.step(), Step::Card);
    s.card_read(holder(), t0).unwrap();
    assert_eq!(s.step(), Step::Face);
    s.face_decided(FaceOutcome::Fail, t0).unwrap();
    assert_eq!(s.step(), Step::Face, "a failure stays for another try");
    s.face_decided(FaceOutcome::Pass, t0).unwrap();
    assert_eq!(s.step(), Step::Form);
    // Prefilled from the card and locked.
    let v = s.visit().unwrap();
    assert_eq!(v.values.get("name").map(String::as_str), Some("张三丰"));
    assert!(v.locked.contains("id_number"));
    assert_eq!(
        s.edit("name", "李四", t0),
        Err(FlowError::FieldLocked("name".into()))
    );
    assert!(
        matches!(s.review(t0), Err(FlowError::Invalid(_))),
        "phone still empty"
    );
    fill(&mut s, t0);
    s.review(t0).unwrap();
    assert_eq!(s.step(), Step::Review);
    s.back_to_form(t0).unwrap();
    s.review(t0).unwrap();
    let subs = s.begin_submit(1, t0).unwrap();
    assert_eq!(s.step(), Step::Submitting);
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].situation, "02");
    assert_eq!(subs[0].applicant.verified_by, "card+face");
    assert_eq!(subs[0].applicant.id_number, "11010519491231002X");
    s.submitted(vec![], t0).unwrap();
    assert_eq!(s.step(), Step::Receipt);
    s.to_rating(t0).unwrap();
    assert_eq!(s.rate(6, t0), Err(FlowError::BadRating(6)));
    let (visit, target) = s.rate(5, t0).unwrap();
    assert_eq!(target, code);
    assert!(!visit.is_empty());
    assert_eq!(s.step(), Step::Home);
    assert_eq!(s.last_end(), Some(EndReason::Finished));
    assert!(s.visit().is_none(), "visit wiped at Home");
    assert!(
        matches!(s.rate(5, t0), Err(FlowError::WrongStep { .. })),
        "one rating a visit"
    );
}

#[test]
fn identity_levels_skip_the_steps_they_do_not_need() {
    let c = catalog();
    let t0 = Instant::now();
    let mut s = Session::new(Timeouts::default(), t0);
    let card_only = code_with(&c, IdentityLevel::Card, MatterKind::Query);
    s.choose(&c, &card_only, t0).unwrap();
    s.choose_situation("01", t0).unwrap();
    s.card_read(holder(), t0).unwrap();
    assert_eq!(s.step(), Step::Form, "card level skips the face");
    assert_eq!(s.visit().unwrap().applicant().verified_by, "card");
    s.cancel(t0);
    let none = c
        .matters
        .iter()
        .find(|m| m.identity == IdentityLevel::None)
        .unwrap()
        .code
        .clone();
    s.choose(&c, &none, t0).unwrap();
    s.choose_situation("01", t0).unwrap();
    assert_eq!(s.step(), Step::Form, "no identity skips card and face");
    s.review(t0).unwrap();
    let subs = s.begin_submit(1, t0).unwrap();
    assert_eq!(subs[0].applicant.id_type, "none");
}

#[test]
fn actions_out_of_step_are_refused() {
    let c = catalog();
    let t0 = Instant::now();
    let mut s = Session::new(Timeouts::default(), t0);
    assert!(matches!(
        s.card_read(holder(), t0),
        Err(FlowError::WrongStep { .. })
    ));
    assert!(matches!(s.review(t0), Err(FlowError::WrongStep { .. })));
    assert!(matches!(
        s.begin_submit(1, t0),
        Err(FlowError::WrongStep { .. })
    ));
    assert!(matches!(s.to_rating(t0), Err(FlowError::WrongStep { .. })));
    assert_eq!(
        s.choose(&c, "310104999999", t0),
        Err(FlowError::UnknownTarget("310104999999".into()))
    );
    let code = code_with(&c, IdentityLevel::CardFace, MatterKind::Apply);
    s.choose(&c, &code, t0).unwrap();
    assert!(matches!(
        s.face_decided(FaceOutcome::Pass, t0),
        Err(FlowError::WrongStep { .. })
    ));
    assert!(matches!(
        s.edit("phone", "1", t0),
        Err(FlowError::WrongStep { .. })
    ));
}

#[test]
fn face_failures_lock_out_after_the_limit() {
    let c = catalog();
    let t0 = Instant::now();
    let mut s = Session::new(Timeouts::default(), t0);
    s.choose(
        &c,
        &code_with(&c, IdentityLevel::CardFace, MatterKind::Apply),
        t0,
    )
    .unwrap();
    s.choose_situation("01", t0).unwrap();
    s.card_read(holder(), t0).unwrap();
    for _ in 0..3 {
        assert!(!s.face_locked_out());
        s.face_decided(FaceOutcome::Fail, t0).unwrap();
    }
    assert!(s.face_locked_out());
    assert_eq!(
        s.face_decided(FaceOutcome::Pass, t0),
        Err(FlowError::FaceLockedOut(3)),
        "no fourth try"
    );
}

#[test]
fn every_step_times_out_to_home_and_wipes_the_visit() {
    let c = catalog();
    let code = code_with(&c, IdentityLevel::CardFace, MatterKind::Apply);
    // Drive to each step, then let the clock run.
    let reach: &[fn(&mut Session, &Catalog, &str, Instant)] = &[
        |s, c, code, t| s.choose(c, code, t).unwrap(),
        |s, _, _, t| s.choose_situation("01", t).unwrap(),
        |s, _, _, t| s.card_read(holder(), t).unwrap(),
        |s, _, _, t| s.face_decided(FaceOutcome::Pass, t).unwrap(),
        |s, _, _, t| fill(s, t),
        |s, _, _, t| s.review(t).unwrap(),
        |s, _, _, t| {
            s.begin_submit(1, t).unwrap();
        },
        |s, _, _, t| s.submitted(vec![], t).unwrap(),
        |s, _, _, t| s.to_rating(t).unwrap(),
    ];
    let mut seen = Vec::new();
    for upto in 1..=reach.len() {
        let t0 = Instant::now();
        let mut s = Session::new(Timeouts::default(), t0);
        for f in &reach[..upto] {
            f(&mut s, &c, &code, t0);
        }
        let step = s.step();
        seen.push(step);
        assert_eq!(
            s.tick(t0 + Duration::from_secs(54)),
            Tick::Quiet,
            "{step:?}"
        );
        assert_eq!(
            s.tick(t0 + Duration::from_secs(55)),
            Tick::Warning { seconds_left: 15 },
            "{step:?}"
        );
        // A touch extends the step.
        s.touch(t0 + Duration::from_secs(60));
        assert_eq!(
            s.tick(t0 + Duration::from_secs(100)),
            Tick::Quiet,
            "{step:?}"
        );
        assert_eq!(
            s.tick(t0 + Duration::from_secs(130)),
            Tick::TimedOut,
            "{step:?}"
        );
        assert_eq!(s.step(), Step::Home);
        assert_eq!(s.last_end(), Some(EndReason::TimedOut));
        assert!(s.visit().is_none(), "{step:?}: visit wiped");
        assert_eq!(
            s.tick(t0 + Duration::from_secs(1000)),
            Tick::Quiet,
            "Home never times out"
        );
    }
    assert_eq!(
        seen,
        vec![
            Step::Guide,
            Step::Card,
            Step::Face,
            Step::Form,
            Step::Form,
            Step::Review,
            Step::Submitting,
            Step::Receipt,
            Step::Rating
        ]
    );
}

#[test]
fn cancel_from_every_step_goes_home() {
    let c = catalog();
    let t0 = Instant::now();
    let code = code_with(&c, IdentityLevel::CardFace, MatterKind::Apply);
    let mut s = Session::new(Timeouts::default(), t0);
    s.cancel(t0);
    assert_eq!(s.last_end(), None, "cancel at Home ends nothing");
    for stop in 0..6 {
        s.choose(&c, &code, t0).unwrap();
        if stop > 0 {
            s.choose_situation("01", t0).unwrap();
        }
        if stop > 1 {
            s.card_read(holder(), t0).unwrap();
        }
        if stop > 2 {
            s.face_decided(FaceOutcome::Pass, t0).unwrap();
            fill(&mut s, t0);
        }
        if stop > 3 {
            s.review(t0).unwrap();
        }
        if stop > 4 {
            s.begin_submit(1, t0).unwrap();
        }
        s.cancel(t0);
        assert_eq!(s.step(), Step::Home);
        assert_eq!(s.last_end(), Some(EndReason::Cancelled));
        assert!(s.visit().is_none());
    }
}

#[test]
fn wipe_zeroizes_every_personal_value() {
    let c = catalog();
    let t0 = Instant::now();
    let mut s = Session::new(Timeouts::default(), t0);
    s.choose(
        &c,
        &code_with(&c, IdentityLevel::CardFace, MatterKind::Apply),
        t0,
    )
    .unwrap();
    s.choose_situation("01", t0).unwrap();
    s.card_read(holder(), t0).unwrap();
    s.face_decided(FaceOutcome::Pass, t0).unwrap();
    fill(&mut s, t0);
    let mut visit = s.visit.take().unwrap();
    assert!(visit.personal_strings().contains(&"11010519491231002X"));
    let card_ptr = visit.card.as_ref().unwrap().id_number.as_ptr();
    let len = visit.card.as_ref().unwrap().id_number.len();
    visit.card.as_mut().unwrap().zeroize();
    // Zeroize overwrites the buffer in place before truncating: the bytes are gone, not just
    // the length.
    let after = unsafe { std::slice::from_raw_parts(card_ptr, len) };
    assert!(after.iter().all(|b| *b == 0), "{after:?}");
    visit.wipe();
    assert!(visit.personal_strings().is_empty());
    assert!(
        !format!("{visit:?}").contains("张三丰"),
        "Debug never shows personal data"
    );
    assert!(!format!("{:?}", holder()).contains("张三丰"));
}

#[test]
fn bundle_gives_one_submission_per_member_with_its_own_fields() {
    let c = catalog();
    let t0 = Instant::now();
    let bundle = c.bundles.iter().find(|b| b.name_zh == "开办饭店").unwrap();
    let mut s = Session::new(Timeouts::default(), t0);
    s.choose(&c, &bundle.code, t0).unwrap();
    s.choose_situation("01", t0).unwrap();
    s.card_read(holder(), t0).unwrap();
    s.face_decided(FaceOutcome::Pass, t0).unwrap();
    fill(&mut s, t0);
    s.review(t0).unwrap();
    let subs = s.begin_submit(1, t0).unwrap();
    assert_eq!(subs.len(), bundle.matters.len());
    for (sub, code) in subs.iter().zip(&bundle.matters) {
        assert_eq!(&sub.matter_code, code);
        let m = c.matter(code).unwrap();
        assert_eq!(m.form.validate(&sub.form), Ok(()), "{code}");
    }
}

#[test]
fn submit_writes_durably_and_a_storage_failure_keeps_the_citizens_input() {
    let c = catalog();
    let dir = tempfile::tempdir().unwrap();
    let mut store = crate::store::Store::open_path(&dir.path().join("k.db")).unwrap();
    let key = crate::crypto::DataKey::from_bytes([1; 32]);
    let t0 = Instant::now();
    let mut s = Session::new(Timeouts::default(), t0);
    s.choose(
        &c,
        &code_with(&c, IdentityLevel::CardFace, MatterKind::Apply),
        t0,
    )
    .unwrap();
    s.choose_situation("01", t0).unwrap();
    s.card_read(holder(), t0).unwrap();
    s.face_decided(FaceOutcome::Pass, t0).unwrap();
    fill(&mut s, t0);
    s.review(t0).unwrap();
    // A read-only database refuses the write: back at Review, input kept.
    store
        .conn()
        .execute_batch("PRAGMA query_only = ON")
        .unwrap();
    let err = submit(&mut s, &mut store, &key, c.version, t0).unwrap_err();
    assert!(format!("{err:#}").contains("read"), "{err:#}");
    assert_eq!(s.step(), Step::Review);
    assert!(!s.visit().unwrap().values.is_empty());
    store
        .conn()
        .execute_batch("PRAGMA query_only = OFF")
        .unwrap();
    let queued = submit(&mut s, &mut store, &key, c.version, t0).unwrap();
    assert_eq!(s.step(), Step::Receipt);
    assert_eq!(queued[0].seq, 1);
    let st = crate::outbox::status(&store).unwrap();
    assert_eq!(st.pending, 1);
}
