//! A print-type matter from Home to the rating, driven by accessible labels through the real
//! Slint app; the stand-in flow (tests/common) answers the callbacks like the session would.

mod common;

use common::{dump, Harness};
use kiosk::app::sample::{SAMPLE_ID, SAMPLE_NAME, SAMPLE_RECEIPT};
use slint::ComponentHandle;
use ui::{Page, Rating};

#[test]
fn print_matter_home_to_rating() {
    let h = Harness::new();
    assert_eq!(h.page(), Page::Home);
    assert!(h.exists(&h.tr("home-check-status")));

    // Home: a popular matter, picked by its name.
    h.click("个人社保缴费证明打印");
    assert!(h.log_contains(r#"Catalog.on_matter_selected code="310104000101""#));
    assert_eq!(h.page(), Page::Guide);
    assert!(h.exists(&h.tr("guide-materials")));
    let start = h.find(&h.tr("guide-start"));
    assert_eq!(
        start.accessible_enabled(),
        Some(true),
        "no situations: Start is enabled"
    );
    start.invoke_accessible_default_action();
    assert!(h.log_contains("Guide.on_start"));

    // Put your card; the reader (played by the test) reads it.
    assert_eq!(h.page(), Page::Card);
    assert!(h.exists(&h.tr("card-waiting")));
    h.card_read();
    assert_eq!(h.page(), Page::Form);

    // Prefilled from the card and locked: shown read-only, and the UI refuses to edit it.
    let name = h.find("姓名");
    assert_eq!(name.accessible_value().as_deref(), Some(SAMPLE_NAME));
    assert_eq!(name.accessible_read_only(), Some(true));
    name.set_accessible_value("李四");
    name.invoke_accessible_default_action();
    assert_eq!(h.field("name").value, SAMPLE_NAME);
    assert_eq!(
        h.window.global::<ui::Form>().get_focused(),
        -1,
        "a locked field takes no focus"
    );
    assert_eq!(
        h.find("公民身份号码").accessible_value().as_deref(),
        Some(SAMPLE_ID)
    );

    // A choice, then Next with "copies" still empty: the message appears beside that field.
    h.click("单位办事");
    assert!(h.log_contains(r#"Form.on_field_edited index=2 id="purpose" value="1""#));
    assert_eq!(h.field("purpose").value, "1");
    h.click(&h.tr("form-next"));
    assert_eq!(h.page(), Page::Form);
    assert_eq!(h.field("copies").error, h.tr("valid-required"));
    assert!(
        h.exists(&h.tr("valid-required")),
        "validation message shown"
    );
    let copies = h.find("份数");
    assert_eq!(
        copies.accessible_description().as_deref(),
        Some(h.tr("valid-required").as_str())
    );

    // Type the number on the digit pad.
    copies.invoke_accessible_default_action();
    assert!(
        h.exists(&h.tr("kb-title")),
        "keyboard shown for the focused field"
    );
    h.keys(&["2"]);
    assert_eq!(h.field("copies").value, "2");
    assert_eq!(h.field("copies").error, "");
    h.click(&h.tr("kb-done"));
    assert!(!h.exists(&h.tr("kb-title")));

    h.click(&h.tr("form-next"));
    assert_eq!(h.page(), Page::Review);
    // The review shows what will be submitted, the choice by its label.
    let purpose: Vec<_> = h
        .find_all("证明用途")
        .into_iter()
        .filter_map(|e| e.accessible_value())
        .collect();
    assert!(purpose.iter().any(|v| v == "单位办事"), "{purpose:?}");

    h.click(&h.tr("review-confirm"));
    assert_eq!(h.page(), Page::Submitting);
    assert!(h.exists(&h.tr("submit-saving")));
    h.submitted(true);
    assert_eq!(h.page(), Page::Receipt);
    assert!(h.exists(&h.tr("receipt-printed")));
    h.click(&h.tr("receipt-done"));

    // Rating: five levels, one per visit.
    assert_eq!(h.page(), Page::Rating);
    for level in 1..=5 {
        assert!(h.exists(&h.tr(&format!("rating-{level}"))));
    }
    h.click(&h.tr("rating-4"));
    assert!(h.log_contains("Rating.on_rate level=4"));
    assert_eq!(h.window.global::<Rating>().get_level(), 4);
    h.click(&h.tr("rating-1"));
    assert!(
        !h.log_contains("Rating.on_rate level=1"),
        "a second rating is refused"
    );
    assert!(h.exists(&h.tr("rating-thanks")));
    h.click(&h.tr("rating-finish"));

    // Home again, and nothing of this citizen is left.
    assert_eq!(h.page(), Page::Home);
    let text = dump::all_text(&h.window);
    for personal in [
        SAMPLE_NAME,
        SAMPLE_ID,
        SAMPLE_RECEIPT,
        "张*丰",
        "110105********002X",
    ] {
        assert!(!text.contains(personal), "{personal} left after the visit");
    }
    h.assert_no_violations();
}
