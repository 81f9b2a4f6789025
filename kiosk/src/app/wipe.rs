//! Forgetting the previous citizen: [`wipe`] resets every adapter property that may have shown
//! personal data (names, ID numbers, addresses, phone numbers, typed text, camera frames,
//! receipt numbers and QR codes) and every piece of visit state, and returns the UI to Home in
//! the default language with elder mode off.
//!
//! A test (`tests/ui_adapters_wiped.rs`) reads the adapter .slint files and fails when a
//! property is neither reset here nor listed in [`NOT_PERSONAL`], so a new property cannot be
//! forgotten. Slint's strings are reference-counted and immutable, so they cannot be zeroized in
//! place: dropping the models is what the UI side can do.

use slint::{ComponentHandle, Image, ModelRc, SharedString, VecModel};
use ui::{
    App, AppWindow, CardState, Catalog, ErrorKind, FaceHint, Fl, Form, Guide, Keyboard,
    KeyboardMode, Page, Rating, Receipt, ReceiptState, StatusQuery, StatusResult, StatusState,
    SubmitStage, Theme,
};

use super::i18n::DEFAULT_LOCALE;

/// Adapter properties that never hold anything about a citizen (catalog text, settings of the
/// kiosk itself), as `Global.property`. Everything else must be reset by [`wipe`].
pub const NOT_PERSONAL: &[&str] = &[
    "App.locales",
    "App.locale-names",
    "Theme.landscape",
    "Catalog.person-themes",
    "Catalog.business-themes",
    "Catalog.popular",
    "Catalog.bundles",
    "Face.max-attempts",
    // The kiosk's state, not a citizen's.
    "Staff.maintenance-mode",
];

fn empty<T: Clone + 'static>() -> ModelRc<T> {
    ModelRc::new(VecModel::<T>::default())
}

/// Resets the UI to a fresh Home. The caller (the session binding) then refills the Home
/// catalog models in the default language, since the previous citizen may have switched it.
pub fn wipe(window: &AppWindow) {
    let none = SharedString::new;

    let app = window.global::<App>();
    app.set_page(Page::Home);
    app.set_step(0);
    app.set_step_count(0);
    app.set_matter_name(none());
    app.set_idle_warning(false);
    app.set_idle_seconds_left(0);
    app.set_error_kind(ErrorKind::DeviceUnavailable);

    window.global::<Fl>().set_lang(DEFAULT_LOCALE.into());
    window.global::<Theme>().set_elder(false);

    let catalog = window.global::<Catalog>();
    catalog.set_audience(0);
    catalog.set_results_title(none());
    catalog.set_results(empty());
    catalog.set_query(none());

    let guide = window.global::<Guide>();
    guide.set_matter(Default::default());
    guide.set_materials(empty());
    guide.set_situations(empty());
    guide.set_selected_situation(-1);

    let card = window.global::<ui::Card>();
    card.set_state(CardState::Waiting);
    card.set_holder_name(none());
    card.set_id_masked(none());
    card.set_failures(0);

    let face = window.global::<ui::Face>();
    face.set_hint(FaceHint::Starting);
    face.set_preview(Image::default());
    face.set_has_preview(false);
    face.set_attempt(0);
    face.set_offer_alternative(false);

    let form = window.global::<Form>();
    form.set_fields(empty());
    form.set_focused(-1);
    form.set_summary_error(none());

    let kb = window.global::<Keyboard>();
    kb.set_mode(KeyboardMode::Pinyin);
    kb.set_shift(false);
    kb.set_composing(none());
    kb.set_candidates(empty());

    let receipt = window.global::<Receipt>();
    receipt.set_stage(SubmitStage::Saving);
    receipt.set_state(ReceiptState::Printing);
    receipt.set_number(none());
    receipt.set_qr(Image::default());
    receipt.set_promised_limit(none());
    receipt.set_submitted_at(none());

    window.global::<Rating>().set_level(0);

    let staff = window.global::<ui::Staff>();
    staff.set_pin_dots(none());
    staff.set_pin_message(none());
    staff.set_unlocked(false);
    staff.set_devices(empty());
    staff.set_facts(empty());
    staff.set_action_result(none());
    // The camera preview can show whoever stood in front of the kiosk.
    staff.set_camera_picture(Image::default());
    staff.set_camera_preview_on(false);
    staff.set_camera_preview_note(none());

    let status = window.global::<StatusQuery>();
    status.set_number(none());
    status.set_state(StatusState::Idle);
    status.set_result(StatusResult::default());
}
