//! An apply-type matter through the real binding (situation choice, card, face, a form with
//! typed fields, receipt, rating), and the idle timeout: a citizen who walks away mid-form is
//! wiped from every model and the session.

mod binding;

use std::time::Duration;

use binding::{Rig, HOLDER_NAME};
use slint::{ComponentHandle, Model};
use ui::Page;

/// Home -> guide of 居住证申领 with the situation "本人办理" chosen -> card -> face -> form.
fn to_the_form(r: &Rig) {
    r.click("居住证申领");
    assert_eq!(r.page(), Page::Guide);
    let start = r.find(&r.tr("guide-start"));
    assert_eq!(
        start.accessible_enabled(),
        Some(false),
        "two situations: choose one first"
    );
    r.click("本人办理");
    r.click(&r.tr("guide-start"));
    assert_eq!(r.page(), Page::Card);
    r.put_holder_card();
    r.wait_page(Page::Form, 120);
}

#[test]
fn apply_matter_home_to_rating_on_simulated_devices() {
    let r = Rig::new();
    to_the_form(&r);
    assert_eq!(r.field("name").value, HOLDER_NAME);
    r.type_digits("联系电话", "13800138000");
    r.click(&r.tr("form-next"));
    assert_eq!(r.page(), Page::Review);
    // Back to the form and forward again keeps what was typed.
    r.click(&r.tr("review-edit"));
    assert_eq!(r.page(), Page::Form);
    assert_eq!(r.field("phone").value, "13800138000");
    r.click(&r.tr("form-next"));
    r.click(&r.tr("review-confirm"));
    r.wait_page(Page::Receipt, 30);
    r.wait_until("the receipt printed", 30, |r| {
        r.w().global::<ui::Receipt>().get_state() == ui::ReceiptState::Printed
    });
    r.click(&r.tr("receipt-done"));
    r.click(&r.tr("rating-5"));
    r.click(&r.tr("rating-finish"));
    assert_eq!(r.page(), Page::Home);
    r.assert_nothing_personal_left(&["13800138000"]);
}

#[test]
fn walking_away_mid_form_wipes_everything() {
    let r = Rig::new();
    to_the_form(&r);
    r.type_digits("联系电话", "13912345678");
    // English for this citizen: the form keeps its values in the new language.
    r.w()
        .global::<ui::App>()
        .invoke_language_requested("en-US".into());
    assert_eq!(r.field("phone").value, "13912345678");
    assert_eq!(r.page(), Page::Form);

    r.advance(Duration::from_secs(54));
    assert!(!r.w().global::<ui::App>().get_idle_warning());
    r.advance(Duration::from_secs(2));
    let app = r.w().global::<ui::App>();
    assert!(app.get_idle_warning(), "warning 15 s before the timeout");
    assert_eq!(app.get_idle_seconds_left(), 14);
    r.advance(Duration::from_secs(15));
    assert_eq!(r.page(), Page::Home);
    assert!(!app.get_idle_warning());
    assert_eq!(r.kiosk.flow.step(), kiosk::session::Step::Home);
    assert_eq!(r.w().global::<ui::Form>().get_fields().row_count(), 0);
    assert_eq!(
        r.w().global::<ui::Fl>().get_lang(),
        "zh-CN",
        "language reset"
    );
    r.assert_nothing_personal_left(&["13912345678"]);
    // Nothing was queued for the abandoned visit.
    let mut store = kiosk::store::Store::open(&r.demo.config).unwrap();
    let n: i64 = store
        .conn_mut()
        .query_row("SELECT COUNT(*) FROM submissions", [], |row| row.get(0))
        .unwrap();
    assert_eq!(n, 0);
}
