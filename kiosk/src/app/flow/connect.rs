//! Connects every adapter callback to the flow. Each handler holds a weak reference to the
//! flow and the window, so closing the window drops everything.

use std::rc::{Rc, Weak};

use slint::ComponentHandle;
use ui::{App, AppWindow, Face, Form, Guide, Rating, Receipt, StatusQuery, Theme};

use super::Flow;
use crate::app::workers::staff::StaffCmd;

/// Wraps a handler so it runs with the flow and the window when both are alive.
fn bind<A>(
    flow: &Rc<Flow>,
    window: &AppWindow,
    f: impl Fn(&Flow, &AppWindow, A) + 'static,
) -> impl Fn(A) + 'static {
    let flow: Weak<Flow> = Rc::downgrade(flow);
    let weak = window.as_weak();
    move |a| {
        if let (Some(flow), Some(w)) = (flow.upgrade(), weak.upgrade()) {
            f(&flow, &w, a);
        }
    }
}

pub(super) fn connect(flow: &Rc<Flow>, w: &AppWindow) {
    let app = w.global::<App>();
    let touched = bind(flow, w, |f, _, ()| f.touched());
    app.on_touched(move || touched(()));
    let cont = bind(flow, w, |f, _, ()| f.touched());
    app.on_idle_continue(move || cont(()));
    let cancel = bind(flow, w, |f, _, ()| f.go_home());
    app.on_cancel(move || cancel(()));
    let back = bind(flow, w, |f, w, ()| f.back(w));
    app.on_back(move || back(()));
    let lang = bind(flow, w, |f, _, l: slint::SharedString| f.set_language(&l));
    app.on_language_requested(lang);
    let next = bind(flow, w, |f, _, ()| f.next_language());
    app.on_next_language_requested(move || next(()));
    let elder = bind(flow, w, |_, w, on: bool| w.global::<Theme>().set_elder(on));
    app.on_elder_requested(elder);
    let staff = bind(flow, w, |_, _, ()| {
        tracing::info!("citizen asked for staff")
    });
    app.on_staff_requested(move || staff(()));

    let cat = w.global::<ui::Catalog>();
    let theme = bind(flow, w, |f, _, id: slint::SharedString| f.theme(&id));
    cat.on_theme_selected(theme);
    let matter = bind(flow, w, |f, _, code: slint::SharedString| f.choose(&code));
    cat.on_matter_selected(matter);
    let search = bind(flow, w, |f, _, q: slint::SharedString| f.search(&q));
    cat.on_search(search);
    let status = bind(flow, w, |_, w, ()| {
        let q = w.global::<StatusQuery>();
        q.set_number(Default::default());
        q.set_state(ui::StatusState::Idle);
        w.global::<App>().set_page(ui::Page::StatusQuery);
    });
    cat.on_status_requested(move || status(()));

    let guide = w.global::<Guide>();
    let situation = bind(flow, w, |_, w, id: slint::SharedString| {
        // The page marks the choice itself (selected-situation); nothing else to do.
        let _ = (w, id);
    });
    guide.on_situation_selected(situation);
    let start = bind(flow, w, |f, w, ()| f.start(w));
    guide.on_start(move || start(()));

    let card = w.global::<ui::Card>();
    let retry_card = bind(flow, w, |_, w, ()| {
        w.global::<ui::Card>().set_state(ui::CardState::Waiting)
    });
    card.on_retry(move || retry_card(()));

    let face = w.global::<Face>();
    let retry_face = bind(flow, w, |f, w, ()| f.face_retry(w));
    face.on_retry(move || retry_face(()));
    let alternative = bind(flow, w, |_, w, ()| {
        let app = w.global::<App>();
        app.set_error_kind(ui::ErrorKind::FaceUnavailable);
        app.set_page(ui::Page::Error);
    });
    face.on_alternative(move || alternative(()));

    let form = w.global::<Form>();
    let edited = bind(
        flow,
        w,
        |f, w, (i, id, v): (i32, slint::SharedString, slint::SharedString)| {
            f.field_edited(w, i, &id, &v)
        },
    );
    form.on_field_edited(move |i, id, v| edited((i, id, v)));
    let submit = bind(flow, w, |f, w, ()| f.submit_form(w));
    form.on_submit(move || submit(()));
    let edit = bind(flow, w, |f, w, ()| f.edit_again(w));
    form.on_edit(move || edit(()));
    let confirm = bind(flow, w, |f, w, ()| f.confirm(w));
    form.on_confirm(move || confirm(()));

    let receipt = w.global::<Receipt>();
    let done = bind(flow, w, |f, w, ()| f.to_rating(w));
    receipt.on_done(move || done(()));
    let rating = w.global::<Rating>();
    let rate = bind(flow, w, |f, w, level: i32| f.rate(w, level));
    rating.on_rate(rate);
    let finish = bind(flow, w, |f, _, ()| f.go_home());
    rating.on_finish(move || finish(()));

    let s = w.global::<ui::Staff>();
    let corner = bind(flow, w, |f, _, ()| f.corner_tapped());
    s.on_corner_tapped(move || corner(()));
    let key = bind(flow, w, |f, w, k: slint::SharedString| f.pin_key(w, &k));
    s.on_pin_key(key);
    let bs = bind(flow, w, |f, w, ()| f.pin_backspace(w));
    s.on_pin_backspace(move || bs(()));
    let submit = bind(flow, w, |f, w, ()| f.pin_submit(w));
    s.on_pin_submit(move || submit(()));
    let print = bind(flow, w, |f, _, ()| f.staff_cmd(StaffCmd::TestPrint));
    s.on_test_print(move || print(()));
    let card = bind(flow, w, |f, w, ()| f.test_card(w));
    s.on_test_card(move || card(()));
    let sync = bind(flow, w, |f, w, ()| f.sync_now(w));
    s.on_sync_now(move || sync(()));
    let retry = bind(flow, w, |f, _, ()| f.staff_cmd(StaffCmd::Retry));
    s.on_retry_quarantined(move || retry(()));
    let export = bind(flow, w, |f, w, ()| f.export_quarantined(w));
    s.on_export_quarantined(move || export(()));
    let restart = bind(flow, w, |f, w, device: slint::SharedString| {
        f.restart_device(w, &device)
    });
    s.on_restart_device(restart);
    let mode = bind(flow, w, |f, _, on: bool| {
        f.staff_cmd(StaffCmd::Maintenance(on))
    });
    s.on_maintenance(mode);
    let preview = bind(flow, w, |f, _, on: bool| f.camera_preview(on));
    s.on_camera_preview(preview);
    let leave = bind(flow, w, |f, _, ()| f.leave_diagnostics());
    s.on_leave(move || leave(()));

    let q = w.global::<StatusQuery>();
    let query = bind(flow, w, |f, w, n: slint::SharedString| {
        f.status_query(w, &n)
    });
    q.on_query(query);
    let scan = bind(flow, w, |f, w, ()| f.status_scan(w));
    q.on_scan(move || scan(()));
}
