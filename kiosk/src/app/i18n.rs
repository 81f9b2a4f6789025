//! Fluent translations for the UI, from `ui/i18n/<locale>/main.ftl` compiled into the binary.
//! zh-CN is the default and the fallback; en-US and zh-HK are complete (a test checks).

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{static_loader, Loader};
use slint::ComponentHandle;
use unic_langid::LanguageIdentifier;

static_loader! {
    static LOCALES = {
        locales: "../ui/i18n",
        fallback_language: "zh-CN",
        // No invisible U+2068/U+2069 isolation marks around arguments: the screen does not
        // need them and they would break string comparisons in tests.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The locale used when none (or an unknown one) is asked for.
pub const DEFAULT_LOCALE: &str = "zh-CN";
/// Every locale the kiosk offers, in the order of the language buttons on Home.
pub const LOCALES_OFFERED: [&str; 3] = ["zh-CN", "en-US", "zh-HK"];
/// The language buttons' captions: each language's name in itself.
pub const LOCALE_NAMES: [&str; 3] = ["中文", "English", "繁體中文"];

/// Parses a locale tag; unknown or malformed tags give the default locale.
pub fn langid(locale: &str) -> LanguageIdentifier {
    match locale.parse::<LanguageIdentifier>() {
        Ok(id) if LOCALES_OFFERED.contains(&locale) => id,
        _ => DEFAULT_LOCALE.parse().unwrap_or_default(),
    }
}

/// Normalises a requested locale to one of [`LOCALES_OFFERED`].
pub fn offered(locale: &str) -> &'static str {
    LOCALES_OFFERED
        .iter()
        .copied()
        .find(|l| l.eq_ignore_ascii_case(locale))
        .unwrap_or(DEFAULT_LOCALE)
}

/// The message `key` in `locale` (falling back to zh-CN). A missing key gives the key itself,
/// so a gap shows up on screen instead of an empty label.
pub fn tr(locale: &str, key: &str) -> String {
    LOCALES
        .try_lookup(&langid(locale), key)
        .unwrap_or_else(|| key.to_string())
}

/// The message `key` with named arguments. Arguments that parse as numbers are passed as
/// Fluent numbers, so plural rules (`[one]`/`[other]`) work.
pub fn tr_args(locale: &str, key: &str, args: &[(&str, &str)]) -> String {
    let map: HashMap<Cow<'static, str>, FluentValue> = args
        .iter()
        .map(|(name, value)| {
            let v = if is_small_count(value) {
                FluentValue::from(value.parse::<u32>().unwrap_or(0))
            } else {
                FluentValue::from(value.to_string())
            };
            (Cow::Owned(name.to_string()), v)
        })
        .collect();
    LOCALES
        .try_lookup_with_args(&langid(locale), key, &map)
        .unwrap_or_else(|| key.to_string())
}

fn is_small_count(value: &str) -> bool {
    (1..=6).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'))
}

/// Whether exactly `locale`'s file has the message `key` (no fallback; used by the
/// completeness test). Messages with arguments count even though none are given here.
pub fn has_message(locale: &str, key: &str) -> bool {
    let Ok(id) = locale.parse::<LanguageIdentifier>() else {
        return false;
    };
    match LOCALES.lookup_single_language::<&str>(&id, key, None) {
        Ok(text) => !text.trim().is_empty(),
        // fluent-templates does not export its error type: a formatting error ("Fluent
        // errors: ...", the arguments are missing) means the message exists.
        Err(e) => e.to_string().starts_with("Fluent errors"),
    }
}

/// Connects the window's `Fl` global to the Fluent files and sets the offered locales.
pub fn install(window: &ui::AppWindow) {
    let fl = window.global::<ui::Fl>();
    fl.on_t(|lang, key| tr(&lang, &key).into());
    fl.on_t1(|lang, key, n1, v1| tr_args(&lang, &key, &[(&n1, &v1)]).into());
    fl.on_t2(|lang, key, n1, v1, n2, v2| tr_args(&lang, &key, &[(&n1, &v1), (&n2, &v2)]).into());
    let app = window.global::<ui::App>();
    let codes: Vec<slint::SharedString> = LOCALES_OFFERED.iter().map(|l| (*l).into()).collect();
    let names: Vec<slint::SharedString> = LOCALE_NAMES.iter().map(|l| (*l).into()).collect();
    app.set_locales(slint::ModelRc::new(slint::VecModel::from(codes)));
    app.set_locale_names(slint::ModelRc::new(slint::VecModel::from(names)));
}

/// Switches the UI's language (the caller refills the display-ready models).
pub fn set_locale(window: &ui::AppWindow, locale: &str) {
    window.global::<ui::Fl>().set_lang(offered(locale).into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_with_and_without_arguments() {
        assert_eq!(tr("zh-CN", "nav-back"), "返回");
        assert_eq!(tr("en-US", "nav-back"), "Back");
        assert_eq!(tr("zh-HK", "nav-cancel"), "首頁");
        assert_eq!(
            tr_args("en-US", "nav-step", &[("step", "2"), ("count", "5")]),
            "Step 2 of 5"
        );
        assert_eq!(
            tr_args("en-US", "limit-working-days", &[("days", "1")]),
            "1 working day"
        );
        assert_eq!(
            tr_args("en-US", "limit-working-days", &[("days", "20")]),
            "20 working days"
        );
        assert_eq!(
            tr_args("zh-CN", "form-example", &[("example", "13800138000")]),
            "例如：13800138000"
        );
        assert_eq!(
            tr_args("en-US", "fee-amount", &[("amount", "012.50")]),
            "CNY 012.50"
        );
    }

    #[test]
    fn unknown_locale_falls_back_to_chinese_and_missing_key_shows_itself() {
        assert_eq!(tr("fr-FR", "nav-back"), "返回");
        assert_eq!(offered("EN-us"), "en-US");
        assert_eq!(offered("xx"), "zh-CN");
        assert_eq!(tr("en-US", "no-such-key"), "no-such-key");
        assert!(!has_message("en-US", "no-such-key"));
        assert!(
            has_message("zh-HK", "nav-step"),
            "a message with arguments counts"
        );
    }
}
