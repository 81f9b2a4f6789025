//! The diagnostics screen's camera preview through the real binding: the face thread streams
//! the demo camera's pictures with the detector's boxes; the note says how many faces are in
//! view; switching it off, or leaving the screen, drops the picture and frees the camera.
//! Restarting the camera reopens it and proves it with a frame; its live report is listed
//! with the other devices.

mod binding;

use binding::Rig;
use kiosk::app::demo::Who;
use kiosk::app::i18n::tr_args;
use slint::ComponentHandle;
use ui::{Page, Staff};

fn unlocked_rig() -> Rig {
    let r = Rig::with_staff_pin(|_| {});
    r.unlock_diagnostics();
    r
}

fn note(r: &Rig) -> String {
    r.w()
        .global::<Staff>()
        .get_camera_preview_note()
        .to_string()
}

#[test]
fn the_preview_shows_the_camera_with_face_boxes_until_switched_off() {
    let r = unlocked_rig();
    let s = || r.w().global::<Staff>();
    assert!(!s().get_camera_preview_on());

    // The demo camera sees the card holder: one face in view.
    r.click(&r.tr("staff-camera-preview"));
    assert!(s().get_camera_preview_on());
    let one_face = tr_args("zh-CN", "staff-preview-faces", &[("n", "1")]);
    r.wait_until("a picture with one face", 60, |r| note(r) == one_face);
    let size = s().get_camera_picture().size();
    assert!(size.width > 0 && size.width <= 320, "preview size {size:?}");

    // Nobody in front of the camera: the note follows the picture.
    r.demo.scene.set_who(Who::Nobody);
    let no_face = r.tr("staff-preview-no-face");
    r.wait_until("a picture without a face", 60, |r| note(r) == no_face);

    // Switched off: the picture is dropped at once.
    r.click(&r.tr("staff-camera-preview"));
    assert!(!s().get_camera_preview_on());
    assert_eq!(s().get_camera_picture().size().width, 0);

    // On again, then the engineer leaves the screen: the preview stops with it and the
    // camera is free for the next citizen's face check.
    r.demo.scene.set_who(Who::Holder);
    r.click(&r.tr("staff-camera-preview"));
    r.wait_until("pictures again", 60, |r| note(r) == one_face);
    r.w().global::<Staff>().invoke_leave();
    assert_eq!(r.page(), Page::Home);
    r.pause_real(std::time::Duration::from_millis(500));
    assert!(!s().get_camera_preview_on());
    assert_eq!(s().get_camera_picture().size().width, 0);
}

#[test]
fn restarting_the_camera_reopens_it_and_its_report_is_listed() {
    let r = unlocked_rig();
    let devices = |r: &Rig| r.staff_lines(true);
    r.wait_until("the camera's report", 30, |r| {
        r.advance(std::time::Duration::from_secs(3));
        devices(r).contains("camera")
    });
    r.w()
        .global::<Staff>()
        .set_action_result(Default::default());
    r.click(&r.tr("staff-restart-camera"));
    r.wait_until("the restart's answer", 30, |r| {
        let t = r.w().global::<Staff>().get_action_result().to_string();
        t.contains("reopened")
    });
    let text = r.w().global::<Staff>().get_action_result().to_string();
    assert!(text.starts_with("完成"), "{text}");
    assert!(
        text.contains("camera") && text.contains("455x568"),
        "{text}"
    );
    r.wait_until("the restart counted", 30, |r| {
        r.advance(std::time::Duration::from_secs(3));
        devices(r).contains("staff_restarts 1")
    });
}
