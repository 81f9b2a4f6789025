//! 1:1 matching on real photos with the real models: same person passes, different people
//! fail, and an ID-card-sized photo (102x126) still matches another photo of its holder.
//! Needs `scripts/setup.sh` (models + photos); fails, never skips, without them.

mod support;

use drivers::face::StillDecision;
use support::*;

const THRESHOLD: f32 = 0.363;

#[test]
fn same_person_in_different_photos_passes() {
    let mut e = engine();
    let r = e
        .verify_stills(
            photo("obama.jpg").view(),
            photo("obama2.jpg").view(),
            THRESHOLD,
        )
        .unwrap();
    assert_eq!(r.decision, StillDecision::Pass, "{r:?}");
    assert!(r.score.unwrap() > 0.6, "{r:?}");
}

#[test]
fn different_people_fail() {
    let mut e = engine();
    let r = e
        .verify_stills(
            photo("obama.jpg").view(),
            photo("biden.jpg").view(),
            THRESHOLD,
        )
        .unwrap();
    assert_eq!(r.decision, StillDecision::Fail, "{r:?}");
    assert!(r.score.unwrap() < 0.3, "{r:?}");
    let r = e
        .verify_stills(
            photo("astronaut.png").view(),
            photo("obama3.jpg").view(),
            THRESHOLD,
        )
        .unwrap();
    assert_eq!(r.decision, StillDecision::Fail, "{r:?}");
}

#[test]
fn card_sized_photo_still_matches_its_holder() {
    let mut e = engine();
    // The whole portrait squeezed to the card's 102x126: the face is only ~30 px wide.
    let card = resized(&photo("obama.jpg"), 102, 126);
    assert_eq!((card.width(), card.height()), (102, 126));
    let r = e
        .verify_stills(card.view(), photo("obama3.jpg").view(), THRESHOLD)
        .unwrap();
    assert_eq!(r.decision, StillDecision::Pass, "{r:?}");

    // A head-and-shoulders crop like a real card photo.
    let src = photo("obama.jpg");
    let face = e.detect(src.view()).unwrap()[0];
    let card = card_photo(&src, &face);
    assert_eq!((card.width(), card.height()), (102, 126));
    let r = e
        .verify_stills(card.view(), photo("obama2.jpg").view(), THRESHOLD)
        .unwrap();
    assert_eq!(r.decision, StillDecision::Pass, "{r:?}");
}

#[test]
fn card_sized_photo_of_someone_else_fails() {
    let mut e = engine();
    let src = photo("biden.jpg");
    let face = e.detect(src.view()).unwrap()[0];
    let card = card_photo(&src, &face);
    let r = e
        .verify_stills(card.view(), photo("obama3.jpg").view(), THRESHOLD)
        .unwrap();
    assert_eq!(r.decision, StillDecision::Fail, "{r:?}");
}
