//! A print-type matter from Home to the rating through the real binding: the session flow,
//! the simulated reader, camera and printer, the store and the sync engine. At the end the
//! receipt came out of the printer, the submission reached the platform, and nothing of the
//! citizen is left in any model.

mod binding;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use binding::{Rig, HOLDER_ID, HOLDER_NAME};
use slint::ComponentHandle;
use ui::{Page, ReceiptState, StatusState};

/// Every log line of the process, at every level, for the personal-data check.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn print_matter_home_to_rating_on_simulated_devices() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let r = Rig::new();
    assert_eq!(r.page(), Page::Home);

    // Home: a popular print-type matter that needs the card and the face.
    r.click("个人社保缴费记录打印");
    assert_eq!(r.page(), Page::Guide);
    r.click(&r.tr("guide-start"));
    assert_eq!(r.page(), Page::Card);
    assert!(r.exists(&r.tr("card-waiting")));

    // The citizen lays the card on the reader; the camera sees the holder, who follows the
    // turn prompt: face verification passes and the form opens.
    r.put_holder_card();
    r.wait_page(Page::Form, 120);

    // Prefilled from the card and locked.
    let name = r.find("姓名");
    assert_eq!(name.accessible_value().as_deref(), Some(HOLDER_NAME));
    assert_eq!(name.accessible_read_only(), Some(true));
    assert_eq!(r.field("id_number").value, HOLDER_ID);
    assert!(r.field("id_number").locked);

    // Next with the phone empty: the message appears beside it; then type it.
    r.click(&r.tr("form-next"));
    assert_eq!(r.page(), Page::Form);
    assert_eq!(r.field("phone").error, r.tr("valid-required"));
    r.type_digits("联系电话", "1380013");
    assert_eq!(r.field("phone").error, r.tr("valid-phone"), "too short");
    r.type_digits("联系电话", "8000");
    assert_eq!(r.field("phone").value, "13800138000");
    assert_eq!(r.field("phone").error, "");
    r.click(&r.tr("form-next"));
    assert_eq!(r.page(), Page::Review);

    r.click(&r.tr("review-confirm"));
    r.wait_page(Page::Receipt, 30);
    let number = r.w().global::<ui::Receipt>().get_number().to_string();
    assert!(number.starts_with("XH0001"), "{number}");
    r.wait_until("the receipt printed", 30, |r| {
        r.w().global::<ui::Receipt>().get_state() == ReceiptState::Printed
    });
    assert!(r.exists(&r.tr("receipt-printed")));
    let printed = r
        .demo
        .printer
        .wait_for_receipts(1, Duration::from_secs(10))
        .unwrap();
    assert!(
        printed[0].text.contains(&number),
        "receipt carries its number"
    );
    assert!(
        !printed[0].text.contains(HOLDER_ID),
        "the receipt masks the ID number"
    );

    r.click(&r.tr("receipt-done"));
    assert_eq!(r.page(), Page::Rating);
    r.click(&r.tr("rating-4"));
    assert_eq!(r.w().global::<ui::Rating>().get_level(), 4);
    r.click(&r.tr("rating-1"));
    assert_eq!(
        r.w().global::<ui::Rating>().get_level(),
        4,
        "one rating a visit"
    );
    // After the thanks, Home by itself.
    r.advance(Duration::from_secs(5));
    assert_eq!(r.page(), Page::Home);
    r.assert_nothing_personal_left(&[&number]);

    // The sync engine delivers the submission to the platform over mutual TLS.
    r.wait_until("the platform to have the submission", 60, |r| {
        r.demo
            .central
            .submissions_of(&r.demo.config.kiosk_id)
            .map(|s| s.len() == 1)
            .unwrap_or(false)
    });

    // Later the citizen checks the submission by holding the printed receipt up to the
    // camera: the QR the printer simulator drew from the ESC/POS bytes is read (the faces
    // in front of the camera before it are not mistaken for a code) and its status shown.
    r.click(&r.tr("home-check-status"));
    assert_eq!(r.page(), Page::StatusQuery);
    let q = r.w().global::<ui::StatusQuery>();
    r.click(&r.tr("status-scan"));
    assert_eq!(q.get_state(), StatusState::Scanning);
    assert!(r.exists(&r.tr("status-scanning")));
    r.pause_real(Duration::from_millis(500));
    assert_eq!(q.get_state(), StatusState::Scanning, "no code in a face");
    r.demo.hold_up_last_receipt().unwrap();
    r.wait_until("the receipt QR read and looked up", 30, |r| {
        r.w().global::<ui::StatusQuery>().get_state() == StatusState::Found
    });
    let found = q.get_result();
    assert_eq!(found.receipt_number.as_str(), number);
    assert!(
        [r.tr("status-accepted"), r.tr("status-queued")].contains(&found.status_label.to_string()),
        "{}",
        found.status_label
    );
    // Home again: the query is wiped with everything else.
    r.advance(Duration::from_secs(600));
    assert_eq!(r.page(), Page::Home);
    r.assert_nothing_personal_left(&[&number]);

    // Nothing personal in the logs of the whole flow, at any level.
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(text.contains("visit queued"), "the logs were captured");
    for personal in [HOLDER_NAME, HOLDER_ID, "13800138000", "江苏省南京市"] {
        assert!(!text.contains(personal), "{personal:?} in the logs");
    }
}
