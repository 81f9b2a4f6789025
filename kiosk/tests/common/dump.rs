//! Every string the adapters hold, models included: what "no text of the previous citizen is
//! left in any model" is checked against.

use slint::{ComponentHandle, Model};
use ui::*;

pub fn all_text(w: &AppWindow) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| out.push(s.to_string());

    let app = w.global::<App>();
    push(&app.get_matter_name());
    let c = w.global::<Catalog>();
    push(&c.get_query());
    push(&c.get_results_title());
    for m in c
        .get_results()
        .iter()
        .chain(c.get_popular().iter())
        .chain(c.get_bundles().iter())
    {
        for s in [m.code, m.name, m.department, m.kind_label, m.identity_label] {
            push(&s);
        }
    }
    let g = w.global::<Guide>();
    let m = g.get_matter();
    for s in [
        m.code,
        m.name,
        m.department,
        m.kind_label,
        m.identity_label,
        m.legal_limit,
        m.promised_limit,
        m.fee,
        m.guide_text,
    ] {
        push(&s);
    }
    for m in g.get_materials().iter() {
        push(&m.name);
        push(&m.note);
    }
    for s in g.get_situations().iter() {
        push(&s.label);
    }
    let card = w.global::<Card>();
    push(&card.get_holder_name());
    push(&card.get_id_masked());
    let form = w.global::<Form>();
    push(&form.get_summary_error());
    for f in form.get_fields().iter() {
        for s in [f.id, f.label, f.value, f.hint, f.error] {
            push(&s);
        }
        for ch in f.choices.iter() {
            push(&ch);
        }
    }
    let kb = w.global::<Keyboard>();
    push(&kb.get_composing());
    for s in kb.get_candidates().iter() {
        push(&s);
    }
    let r = w.global::<Receipt>();
    push(&r.get_number());
    push(&r.get_promised_limit());
    push(&r.get_submitted_at());
    let q = w.global::<StatusQuery>();
    push(&q.get_number());
    let res = q.get_result();
    for s in [
        res.receipt_number,
        res.matter_name,
        res.status_label,
        res.submitted_at,
        res.updated_at,
    ] {
        push(&s);
    }
    out.join("\n")
}

/// True when an image property still holds pixels (camera preview, QR).
pub fn images_left(w: &AppWindow) -> Vec<&'static str> {
    let mut left = Vec::new();
    if w.global::<Face>().get_preview().size().width > 0 {
        left.push("Face.preview");
    }
    if w.global::<Receipt>().get_qr().size().width > 0 {
        left.push("Receipt.qr");
    }
    left
}
