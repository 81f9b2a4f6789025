//! Translations are complete and nothing user-visible is hard-coded in the .slint files:
//! - every key the .slint files and kiosk::app use exists in every locale's main.ftl;
//! - every locale has the same keys as zh-CN (en-US and zh-HK are complete);
//! - no `text:`/`title:`/accessible-label literal in .slint is words rather than a key or symbol.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use kiosk::app::i18n::{has_message, LOCALES_OFFERED};

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui")
}

fn files_with_ext(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_with_ext(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn slint_sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    files_with_ext(&ui_dir(), "slint", &mut files);
    assert!(files.len() > 10, "found the .slint files");
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// String literals in `text` with their byte offsets (no escapes besides \" are used).
fn literals(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if bytes[i] == b'"' {
            let start = i + 1;
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            out.push((start, text[start..i.min(text.len())].to_string()));
        }
        i += 1;
    }
    out
}

/// Keys passed to Fl.t / Fl.t1 / Fl.t2 as `Fl.tN(Fl.lang, "key"`.
fn slint_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for (_, text) in slint_sources() {
        for (start, lit) in literals(&text) {
            let before = text[..start - 1].trim_end();
            if before.ends_with("Fl.lang,") {
                let call = before
                    .trim_end_matches("Fl.lang,")
                    .trim_end()
                    .trim_end_matches('(');
                if call.ends_with("Fl.t") || call.ends_with("Fl.t1") || call.ends_with("Fl.t2") {
                    keys.insert(lit);
                }
            }
        }
    }
    keys
}

/// Keys kiosk::app passes to tr/tr_args as literals.
fn rust_keys() -> BTreeSet<String> {
    let mut files = Vec::new();
    files_with_ext(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app"),
        "rs",
        &mut files,
    );
    let mut keys = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (start, lit) in literals(&text) {
            let before = text[..start - 1].trim_end();
            let passed_to_tr =
                before.ends_with("tr(locale,") || before.ends_with("tr_args(locale,");
            // Keys handed around before reaching tr (labels the Rust side builds).
            let label_key = ["kind-", "identity-", "valid-", "limit-", "fee-", "status-"]
                .iter()
                .any(|p| lit.starts_with(p))
                && lit.chars().all(|c| c.is_ascii_lowercase() || c == '-');
            if (passed_to_tr || label_key) && !lit.contains(' ') {
                keys.insert(lit);
            }
        }
    }
    keys
}

fn ftl_keys(locale: &str) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(ui_dir().join("i18n").join(locale).join("main.ftl")).unwrap();
    text.lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_string()))
        .collect()
}

#[test]
fn every_used_key_exists_in_every_locale() {
    let used: BTreeSet<String> = slint_keys().into_iter().chain(rust_keys()).collect();
    assert!(
        used.len() > 100,
        "found the keys the UI uses ({})",
        used.len()
    );
    assert!(
        used.contains("home-title") && used.contains("kind-print") && used.contains("valid-phone")
    );
    let mut missing = Vec::new();
    for locale in LOCALES_OFFERED {
        for key in &used {
            if !has_message(locale, key) {
                missing.push(format!("{locale}: {key}"));
            }
        }
    }
    assert!(missing.is_empty(), "missing translations: {missing:#?}");
}

#[test]
fn every_locale_has_the_same_keys() {
    let reference = ftl_keys("zh-CN");
    assert!(reference.len() > 100);
    for locale in LOCALES_OFFERED {
        let keys = ftl_keys(locale);
        let missing: Vec<_> = reference.difference(&keys).collect();
        let extra: Vec<_> = keys.difference(&reference).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{locale}: missing {missing:?}, extra {extra:?}"
        );
    }
}

#[test]
fn no_user_visible_string_is_hard_coded_in_slint() {
    // Properties whose value a citizen sees or hears.
    const VISIBLE: [&str; 6] = [
        "text:",
        "title:",
        "accessible-label:",
        "accessible-description:",
        "accessible-value:",
        "label:",
    ];
    let keys = ftl_keys("zh-CN");
    let mut bad = Vec::new();
    for (path, text) in slint_sources() {
        for (start, lit) in literals(&text) {
            // The binding this literal belongs to: from the last ';', '{' or '}' before it.
            let head = &text[..start - 1];
            let from = head.rfind([';', '{', '}']).map_or(0, |i| i + 1);
            let binding = head[from..].trim_start();
            if !VISIBLE.iter().any(|p| binding.starts_with(p)) {
                continue;
            }
            let is_key = keys.contains(&lit);
            let is_arg_name = binding.contains("Fl.t1(") || binding.contains("Fl.t2(");
            let is_symbol = lit.chars().count() <= 1 || !lit.chars().any(char::is_alphabetic);
            if !(is_key
                || (is_arg_name && lit.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                || is_symbol)
            {
                let line = text[..start].lines().count();
                bad.push(format!("{}:{line}: \"{lit}\"", path.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "hard-coded user-visible text (use Fl.t and main.ftl): {bad:#?}"
    );
}

#[test]
fn the_lint_catches_a_hard_coded_label() {
    // The scanner itself: a literal word in a text binding is found, a key is not.
    let sample = "Text { text: \"Hello\"; }\nText { text: Fl.t(Fl.lang, \"nav-back\"); }";
    let lits = literals(sample);
    assert_eq!(
        lits.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(),
        vec!["Hello", "nav-back"]
    );
    let head = &sample[..lits[0].0 - 1];
    let from = head.rfind([';', '{', '}']).map_or(0, |i| i + 1);
    assert!(head[from..].trim_start().starts_with("text:"));
}
