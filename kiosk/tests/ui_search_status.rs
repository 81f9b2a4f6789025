//! Search by typing pinyin, and "check my submission" by receipt number (letters typed as
//! they are, in capitals), through the on-screen keyboard.

mod common;

use common::Harness;
use kiosk::app::sample::SAMPLE_RECEIPT;
use slint::ComponentHandle;
use ui::{Catalog, Page, StatusQuery};

#[test]
fn search_with_pinyin_then_check_a_submission() {
    let h = Harness::new();

    // The search box opens the search page with the keyboard.
    h.click(&h.tr("home-search"));
    assert!(h.log_contains(r#"Catalog.on_search query="""#));
    assert_eq!(h.page(), Page::Search);
    h.keys(&["j", "u", "z", "h", "u"]);
    h.click("居住");
    assert_eq!(h.window.global::<Catalog>().get_query(), "居住");
    assert!(h.log_contains(r#"Catalog.on_search query="居住""#));
    assert!(h.exists("居住证签注"), "the matching matter is listed");
    h.click(&h.tr("nav-cancel"));
    assert_eq!(h.page(), Page::Home);
    assert_eq!(h.window.global::<Catalog>().get_query(), "");

    // Check my submission: letters go straight in (no pinyin), digits from the digit pad.
    h.click(&h.tr("home-check-status"));
    assert_eq!(h.page(), Page::StatusQuery);
    assert_eq!(
        h.find(&h.tr("status-query")).accessible_enabled(),
        Some(false)
    );
    h.keys(&["s", "h"]);
    h.click(&h.tr("kb-mode-digits"));
    h.keys(&["2", "4", "0", "5", "0", "1", "0", "0", "0", "1"]);
    assert_eq!(
        h.window.global::<StatusQuery>().get_number(),
        SAMPLE_RECEIPT
    );
    h.click(&h.tr("status-query"));
    assert!(h.log_contains(&format!("StatusQuery.on_query number={SAMPLE_RECEIPT:?}")));
    assert!(h.exists(&h.tr("status-in-review")));

    // A wrong number says so.
    h.click(&h.tr("status-number"));
    h.click(&h.tr("kb-backspace"));
    h.keys(&["9"]);
    h.click(&h.tr("status-query"));
    assert!(h.exists(&h.tr("status-not-found")));
    h.assert_no_violations();
}
