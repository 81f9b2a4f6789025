//! The quality gates on live pictures give the right hint: no face, several faces, move
//! closer, hold still, look at the camera; and a card photo without a face is reported as
//! such. Needs `scripts/setup.sh` (models + photos).

mod support;

use drivers::face::{HeadPose, Observation, QualityIssue, StillDecision};
use support::*;

const THRESHOLD: f32 = 0.363;

/// obama.jpg at about kiosk-camera scale (face ~120 px wide).
fn live() -> drivers::camera::Frame {
    resized(&photo("obama.jpg"), 455, 568)
}

#[test]
fn a_frame_without_a_face_says_no_face() {
    let mut e = engine();
    let id = photo("obama.jpg");
    for frame in [noise(640, 480, 7), on_canvas(&noise(8, 8, 1), 640, 480)] {
        let r = e.verify_stills(id.view(), frame.view(), THRESHOLD).unwrap();
        assert_eq!(r.decision, StillDecision::NoFace, "{r:?}");
        assert_eq!(r.score, None);
    }
}

#[test]
fn two_people_side_by_side_say_several_faces() {
    let mut e = engine();
    let two = side_by_side(&live(), &resized(&photo("biden.jpg"), 300, 682));
    assert_eq!(e.detect(two.view()).unwrap().len(), 2);
    match e.observe(two.view()).unwrap() {
        Observation::Rejected(issue) => assert_eq!(issue, QualityIssue::SeveralFaces),
        Observation::Face(_) => panic!("two faces were taken for one"),
    }
    let r = e
        .verify_stills(photo("obama.jpg").view(), two.view(), THRESHOLD)
        .unwrap();
    assert_eq!(r.decision, StillDecision::SeveralFaces, "{r:?}");
}

#[test]
fn a_small_face_says_move_closer() {
    let mut e = engine();
    let far = on_canvas(&resized(&live(), 150, 187), 640, 480);
    let r = e
        .verify_stills(photo("obama.jpg").view(), far.view(), THRESHOLD)
        .unwrap();
    assert_eq!(r.decision, StillDecision::MoveCloser, "{r:?}");
}

#[test]
fn a_blurred_face_says_hold_still() {
    let mut e = engine();
    let r = e
        .verify_stills(
            photo("obama.jpg").view(),
            blurred(&live(), 5.0).view(),
            THRESHOLD,
        )
        .unwrap();
    assert_eq!(r.decision, StillDecision::HoldStill, "{r:?}");
}

#[test]
fn a_turned_face_says_look_at_the_camera() {
    let mut e = engine();
    let frame = live();
    let d = e.detect(frame.view()).unwrap()[0];
    let eyes = HeadPose::from_landmarks(&d.landmarks).unwrap().eye_distance;
    let turned = turned(&frame, d.landmarks[2][0], eyes, eyes * 0.85);
    let r = e
        .verify_stills(photo("obama.jpg").view(), turned.view(), THRESHOLD)
        .unwrap();
    assert_eq!(r.decision, StillDecision::LookAtCamera, "{r:?}");
}

#[test]
fn a_card_photo_without_a_face_is_reported() {
    let mut e = engine();
    let r = e
        .verify_stills(noise(102, 126, 5).view(), live().view(), THRESHOLD)
        .unwrap();
    assert_eq!(r.decision, StillDecision::NoFaceOnIdPhoto, "{r:?}");
}
