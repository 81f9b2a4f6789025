//! An apply-type matter (situation, card, face, typed fields, pinyin address, language switch
//! mid-form, receipt shown as a QR) from Home to the rating, by accessible labels.

mod common;

use common::{dump, Harness};
use kiosk::app::sample::{SAMPLE_ID, SAMPLE_NAME, SAMPLE_RECEIPT};
use slint::ComponentHandle;
use ui::{FaceHint, Fl, Page, Receipt};

#[test]
fn apply_matter_home_to_rating() {
    let h = Harness::new();

    // A theme tile lists its matters.
    h.click("户籍办理");
    assert!(h.log_contains(r#"Catalog.on_theme_selected id="household""#));
    assert_eq!(h.page(), Page::Search);
    h.click("居住证签注");
    assert_eq!(h.page(), Page::Guide);

    // Start stays disabled until a situation is chosen.
    assert_eq!(
        h.find(&h.tr("guide-start")).accessible_enabled(),
        Some(false)
    );
    assert!(h.exists(&h.tr("guide-choose-first")));
    h.click("在沪居住（租房）");
    assert!(h.log_contains(r#"Guide.on_situation_selected id="02""#));
    assert_eq!(h.find("在沪居住（租房）").accessible_checked(), Some(true));
    h.click(&h.tr("guide-start"));
    assert_eq!(h.page(), Page::Card);
    h.card_read();

    // Look at the camera: liveness prompt, a failed attempt, a retry, then a match.
    assert_eq!(h.page(), Page::Face);
    h.face_hint(FaceHint::TurnLeft, 1);
    assert!(h.exists(&h.tr("face-turn-left")));
    h.face_hint(FaceHint::NotMatched, 1);
    assert!(h.exists(&h.tr("face-not-matched")));
    h.click(&h.tr("face-retry"));
    assert!(h.log_contains("Face.on_retry"));
    h.face_hint(FaceHint::SeveralFaces, 2);
    assert!(h.exists(&h.tr("face-several")));
    h.face_matched();
    assert_eq!(h.page(), Page::Form);
    assert_eq!(h.find("姓名").accessible_read_only(), Some(true));
    assert_eq!(
        h.find("公民身份号码").accessible_value().as_deref(),
        Some(SAMPLE_ID)
    );

    // Phone on the digit pad: the message shows while it is short and goes when it is right.
    h.click("联系电话");
    h.keys(&["1", "3", "8", "0", "0", "1", "3", "8", "0", "0"]);
    assert_eq!(h.field("phone").error, h.tr("valid-phone"));
    assert!(h.exists(&h.tr("valid-phone")));
    h.keys(&["9"]);
    h.click(&h.tr("kb-backspace"));
    h.keys(&["0"]);
    assert_eq!(h.field("phone").value, "13800138000");
    assert_eq!(h.field("phone").error, "");

    // Address with pinyin: letters compose, a candidate is chosen by its label.
    h.click("现居住地址");
    h.keys(&["s", "h", "a", "n", "g", "h", "a", "i"]);
    assert_eq!(
        h.window.global::<ui::Keyboard>().get_composing(),
        "shanghai"
    );
    assert_eq!(
        h.field("address").value,
        "",
        "composing letters are not typed yet"
    );
    h.click("上海");
    assert_eq!(h.field("address").value, "上海");
    assert_eq!(h.window.global::<ui::Keyboard>().get_composing(), "");
    h.keys(&["s", "h", "i"]);
    h.click("市");
    h.keys(&["p", "u", "d", "o", "n", "g"]);
    h.click("浦东");
    assert_eq!(h.field("address").value, "上海市浦东");
    h.click(&h.tr("kb-done"));

    // Switch the language mid-form: labels change, what was typed stays.
    h.click(&h.tr("nav-language"));
    assert_eq!(h.window.global::<Fl>().get_lang(), "en-US");
    assert_eq!(h.locale(), "en-US");
    assert_eq!(
        h.find("Mobile phone").accessible_value().as_deref(),
        Some("13800138000")
    );
    assert_eq!(h.field("address").value, "上海市浦东");
    assert_eq!(h.field("name").value, SAMPLE_NAME);

    // A date on the digit pad with its "-" key.
    h.click("From");
    h.keys(&["2", "0", "2", "4", "-", "0", "1", "-", "0", "1"]);
    assert_eq!(h.field("from").value, "2024-01-01");
    assert_eq!(h.field("from").error, "");
    h.click("Done");

    h.click(&h.tr("form-next"));
    assert_eq!(h.page(), Page::Review);
    let phone: Vec<_> = h
        .find_all("Mobile phone")
        .into_iter()
        .filter_map(|e| e.accessible_value())
        .collect();
    assert!(phone.iter().any(|v| v == "13800138000"), "{phone:?}");
    h.click(&h.tr("review-confirm"));
    h.submitted(false);

    // The printer could not print: the QR is on screen with the receipt number.
    assert_eq!(h.page(), Page::Receipt);
    assert!(h.exists(&h.tr("receipt-on-screen")));
    assert!(h.exists(&h.tr("receipt-qr")));
    assert!(h.window.global::<Receipt>().get_qr().size().width > 0);
    h.click(&h.tr("receipt-done"));
    assert_eq!(h.page(), Page::Rating);
    h.click(&h.tr("rating-5"));
    assert!(h.log_contains("Rating.on_rate level=5"));
    h.click(&h.tr("rating-finish"));

    // Home in the default language, nothing left.
    assert_eq!(h.page(), Page::Home);
    assert_eq!(h.window.global::<Fl>().get_lang(), "zh-CN");
    let text = dump::all_text(&h.window);
    for personal in [
        SAMPLE_NAME,
        SAMPLE_ID,
        SAMPLE_RECEIPT,
        "13800138000",
        "上海市浦东",
        "2024-01-01",
    ] {
        assert!(!text.contains(personal), "{personal} left after the visit");
    }
    assert!(dump::images_left(&h.window).is_empty());
    h.assert_no_violations();
}
