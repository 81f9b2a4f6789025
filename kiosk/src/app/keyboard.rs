//! The on-screen keyboard's controller: turns key presses from the `Keyboard` global into
//! edits of the text being typed, and runs the pinyin engine ([`super::ime`]).
//!
//! Where the text goes depends on the page: the focused form field (through
//! `Form.field-edited`, so the session flow stays the only writer of the form model), the
//! search box (`Catalog.query`, then `Catalog.search`), or the receipt number on the status
//! page (`StatusQuery.number`). The controller keeps no state of its own: the composing
//! letters live in `Keyboard.composing`, so wiping the adapters wipes the keyboard too.

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};
use ui::{AppWindow, Catalog, Form, Keyboard, KeyboardMode, Page, StatusQuery};

use super::ime;

/// How many candidates the candidate bar offers at most.
pub const CANDIDATE_LIMIT: usize = 60;
/// Longest text any field accepts from the keyboard (addresses are the longest).
const MAX_TEXT_CHARS: usize = 120;

/// Connects the keyboard's callbacks. Call once after creating the window.
pub fn install(window: &AppWindow) {
    let kb = window.global::<Keyboard>();

    let weak = window.as_weak();
    kb.on_key_pressed(move |key| {
        if let Some(w) = weak.upgrade() {
            key_pressed(&w, &key);
        }
    });
    let weak = window.as_weak();
    kb.on_backspace(move || {
        if let Some(w) = weak.upgrade() {
            backspace(&w);
        }
    });
    let weak = window.as_weak();
    kb.on_space(move || {
        if let Some(w) = weak.upgrade() {
            space(&w);
        }
    });
    let weak = window.as_weak();
    kb.on_candidate_chosen(move |index| {
        if let Some(w) = weak.upgrade() {
            choose(&w, index);
        }
    });
    let weak = window.as_weak();
    kb.on_mode_requested(move |mode| {
        if let Some(w) = weak.upgrade() {
            finish_composing(&w);
            w.global::<Keyboard>().set_mode(mode);
        }
    });
    let weak = window.as_weak();
    kb.on_shift_toggled(move || {
        if let Some(w) = weak.upgrade() {
            let kb = w.global::<Keyboard>();
            kb.set_shift(!kb.get_shift());
        }
    });
    let weak = window.as_weak();
    window.global::<Form>().on_focus_changed(move |_index| {
        if let Some(w) = weak.upgrade() {
            // Letters typed for the previous field are dropped, not pasted into the next one;
            // text fields start in pinyin (digit fields show the digit pad whatever the mode).
            set_composing(&w, "");
            let kb = w.global::<Keyboard>();
            kb.set_mode(KeyboardMode::Pinyin);
            kb.set_shift(false);
        }
    });
}

/// A letter, digit or symbol key.
pub fn key_pressed(window: &AppWindow, key: &str) {
    let kb = window.global::<Keyboard>();
    let is_letter = key.chars().all(|c| c.is_ascii_alphabetic()) && !key.is_empty();
    if kb.get_mode() == KeyboardMode::Pinyin && is_letter && !direct_target(window) {
        let composing = format!("{}{}", kb.get_composing(), key.to_ascii_lowercase());
        set_composing(window, &ime::normalise(&composing));
    } else {
        insert(window, key);
    }
}

/// Backspace deletes a composing letter first, then the last character of the text.
pub fn backspace(window: &AppWindow) {
    let composing = window.global::<Keyboard>().get_composing().to_string();
    if !composing.is_empty() {
        let mut shorter = composing;
        shorter.pop();
        set_composing(window, &shorter);
        return;
    }
    if let Some(mut text) = target_text(window) {
        text.pop();
        set_target_text(window, text);
    }
}

/// Space takes the first candidate while composing, else types a space.
pub fn space(window: &AppWindow) {
    if window.global::<Keyboard>().get_composing().is_empty() {
        insert(window, " ");
    } else if window.global::<Keyboard>().get_candidates().row_count() > 0 {
        choose(window, 0);
    } else {
        finish_composing(window);
    }
}

/// The citizen chose candidate `index`: it is typed and the letters it used leave composing.
pub fn choose(window: &AppWindow, index: i32) {
    let composing = window.global::<Keyboard>().get_composing().to_string();
    let Ok(index) = usize::try_from(index) else {
        return;
    };
    let candidates = ime::global().candidates(&composing, CANDIDATE_LIMIT);
    let Some(chosen) = candidates.get(index) else {
        return;
    };
    let rest = composing
        .get(chosen.consumed..)
        .unwrap_or("")
        .trim_start_matches('\'')
        .to_string();
    insert(window, &chosen.text);
    set_composing(window, &rest);
}

/// Ends a composition by typing its letters as they are (mode switch, "space" with no match).
fn finish_composing(window: &AppWindow) {
    let composing = window.global::<Keyboard>().get_composing().to_string();
    if !composing.is_empty() {
        set_composing(window, "");
        insert(window, &composing.replace('\'', ""));
    }
}

fn set_composing(window: &AppWindow, letters: &str) {
    let kb = window.global::<Keyboard>();
    kb.set_composing(letters.into());
    let texts: Vec<SharedString> = if letters.is_empty() {
        Vec::new()
    } else {
        ime::global()
            .candidates(letters, CANDIDATE_LIMIT)
            .into_iter()
            .map(|c| SharedString::from(c.text))
            .collect()
    };
    kb.set_candidates(ModelRc::new(VecModel::from(texts)));
}

fn insert(window: &AppWindow, piece: &str) {
    if let Some(mut text) = target_text(window) {
        if text.chars().count() + piece.chars().count() <= MAX_TEXT_CHARS {
            text.push_str(piece);
            set_target_text(window, text);
        }
    }
}

/// The focused form field's index and row, when the form page is typing into one.
fn focused_field(window: &AppWindow) -> Option<(usize, ui::FormField)> {
    let form = window.global::<Form>();
    let index = usize::try_from(form.get_focused()).ok()?;
    let row = form.get_fields().row_data(index)?;
    (!row.locked).then_some((index, row))
}

/// Targets whose letters are typed as they are, never composed into hanzi: the receipt
/// number, and form fields of the digit kinds (their only letter is the ID check digit X).
fn direct_target(window: &AppWindow) -> bool {
    use ui::FieldKind::*;
    match window.global::<ui::App>().get_page() {
        Page::StatusQuery => true,
        Page::Form => focused_field(window)
            .is_some_and(|(_, f)| matches!(f.kind, Number | Phone | Date | Amount | IdNumber)),
        _ => false,
    }
}

fn target_text(window: &AppWindow) -> Option<String> {
    match window.global::<ui::App>().get_page() {
        Page::Form => focused_field(window).map(|(_, f)| f.value.to_string()),
        Page::Search | Page::Home => Some(window.global::<Catalog>().get_query().to_string()),
        Page::StatusQuery => Some(window.global::<StatusQuery>().get_number().to_string()),
        _ => None,
    }
}

fn set_target_text(window: &AppWindow, text: String) {
    match window.global::<ui::App>().get_page() {
        Page::Form => {
            if let Some((index, field)) = focused_field(window) {
                // The flow stores the value (and validates it): it owns the form model.
                window
                    .global::<Form>()
                    .invoke_field_edited(index as i32, field.id, text.into());
            }
        }
        Page::Search | Page::Home => {
            let catalog = window.global::<Catalog>();
            catalog.set_query(text.clone().into());
            catalog.invoke_search(text.into());
        }
        Page::StatusQuery => {
            // Receipt numbers are printed in capitals.
            window
                .global::<StatusQuery>()
                .set_number(text.to_uppercase().into());
        }
        _ => {}
    }
}
