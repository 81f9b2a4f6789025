//! The app's Home as one static HTML page, for the Chromium side of the app benchmark: the
//! same texts (from the same catalog and Fluent files, zh-CN), the same icons (the Material
//! paths of `ui/widgets/icon.slint` as inline SVG), the same font (WenQuanYi Micro Hei) and a
//! layout after `ui/pages/home.slint` at 1080x1920 with the theme's colours and sizes. No
//! script, no external resource but the system font.

use std::fmt::Write as _;

use crate::app::flow::models;
use crate::app::i18n::{tr, tr_args, LOCALE_NAMES};
use crate::catalog::Catalog;

const LOCALE: &str = "zh-CN";

/// The app embeds this file; the page asks for the installed font by name first (shared,
/// memory-mapped, as a system font is for any browser) and by file URL second.
const FONT_FILE: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

const ICON_SEARCH: &str = "M15.5 14h-.79l-.28-.27C15.41 12.59 16 11.11 16 9.5 16 5.91 13.09 3 9.5 3S3 5.91 3 9.5 5.91 16 9.5 16c1.61 0 3.09-.59 4.23-1.57l.27.28v.79l5 4.99L20.49 19l-4.99-5zm-6 0C7.01 14 5 11.99 5 9.5S7.01 5 9.5 5 14 7.01 14 9.5 11.99 14 9.5 14z";
const ICON_CHECK: &str = "M9 16.17L4.83 12l-1.42 1.41L9 19 21 7l-1.41-1.41z";
const ICON_PERSON: &str = "M12 12c2.21 0 4-1.79 4-4s-1.79-4-4-4-4 1.79-4 4 1.79 4 4 4zm0 2c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z";
const ICON_BUSINESS: &str = "M12 7V3H2v18h20V7H12zM6 19H4v-2h2v2zm0-4H4v-2h2v2zm0-4H4V9h2v2zm0-4H4V5h2v2zm4 12H8v-2h2v2zm0-4H8v-2h2v2zm0-4H8V9h2v2zm0-4H8V5h2v2zm10 12h-8v-2h2v-2h-2v-2h2v-2h-2V9h8v10zm-2-8h-2v2h2v-2zm0 4h-2v2h2v-2z";
const ICON_FORWARD: &str = "M12 4l-1.41 1.41L16.17 11H4v2h12.17l-5.58 5.59L12 20l8-8z";
const ICON_BUNDLE: &str = "M20 6h-4V4c0-1.11-.89-2-2-2h-4c-1.11 0-2 .89-2 2v2H4c-1.11 0-1.99.89-1.99 2L2 19c0 1.11.89 2 2 2h16c1.11 0 2-.89 2-2V8c0-1.11-.89-2-2-2zm-6 0h-4V4h4v2z";
const ICON_CARD: &str = "M20 4H4c-1.11 0-1.99.89-1.99 2L2 18c0 1.11.89 2 2 2h16c1.11 0 2-.89 2-2V6c0-1.11-.89-2-2-2zm0 14H4v-6h16v6zm0-10H4V6h16v2z";
const ICON_QR: &str = "M3 11h8V3H3v8zm2-6h4v4H5V5zM3 21h8v-8H3v8zm2-6h4v4H5v-4zM13 3v8h8V3h-8zm6 6h-4V5h4v4zM13 13h2v2h-2zM15 15h2v2h-2zM13 17h2v2h-2zM17 17h2v2h-2zM19 19h2v2h-2zM15 19h2v2h-2zM17 13h2v2h-2zM19 15h2v2h-2z";
const ICON_TEXT_SIZE: &str = "M9 4v3h5v12h3V7h5V4H9zm-6 8h3v7h3v-7h3V9H3v3z";

/// Theme colours and sizes of `ui/theme.slint` (not elder mode).
const STYLE: &str = "\
*{box-sizing:border-box;margin:0}\
html,body{width:1080px;height:1920px;overflow:hidden}\
body{font-family:K,sans-serif;background:#f3f5f8;color:#1a1f29;display:flex;flex-direction:column}\
svg{fill:currentColor;flex:none}\
header{background:#0b5cad;color:#fff;padding:28px;display:flex;flex-direction:column;gap:12px}\
h1{font-size:46px;font-weight:700}\
.sub{font-size:28px}\
.switches{background:#fff;border:1px solid #8a94a3;padding:17px;display:flex;gap:12px}\
.btn{display:flex;align-items:center;justify-content:center;gap:12px;min-width:96px;\
min-height:96px;padding:8px 28px;border:2px solid #0b5cad;border-radius:14px;background:#fff;\
color:#0b5cad;font-size:30px;font-weight:600}\
.compact{min-width:72px;min-height:72px;padding:8px 12px;font-size:28px}\
.on,.primary{background:#0b5cad;color:#fff}\
.grow{flex:1}\
main{flex:1;overflow:hidden;padding:28px;display:flex;flex-direction:column;gap:20px}\
.search{display:flex;align-items:center;gap:20px;min-height:96px;padding:0 28px;\
border:2px solid #0b5cad;border-radius:14px;background:#fff;color:#4a5361;font-size:28px}\
.search svg{color:#0b5cad}\
.tabs{display:flex;gap:20px}\
.tiles{display:grid;grid-template-columns:repeat(3,1fr);gap:20px}\
.tile{height:124px;display:flex;align-items:center;gap:12px;padding:14px;\
border:2px solid #0b5cad;border-radius:14px;background:#fff;font-size:30px;font-weight:600}\
.tile svg{color:#0b5cad}\
h2{font-size:36px;font-weight:700}\
.row{display:flex;align-items:center;gap:20px;min-height:96px;padding:19.6px;\
border:1px solid #8a94a3;border-radius:14px;background:#fff}\
.row>svg{color:#0b5cad}\
.text{flex:1;display:flex;flex-direction:column;gap:6px}\
.name{font-size:30px;font-weight:700}\
.line{font-size:24px;color:#4a5361}\
.badge{display:flex;align-items:center;gap:6px;padding:8px;border-radius:8px;\
background:#eef2f7;font-size:24px}\
.badge svg{color:#4a5361}\
footer{background:#fff;border:1px solid #8a94a3;padding:19.6px;display:flex;\
justify-content:center}\
footer .btn{min-width:648px}";

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn icon(path: &str, size: u32) -> String {
    format!(r#"<svg width="{size}" height="{size}" viewBox="0 0 24 24"><path d="{path}"/></svg>"#)
}

fn matter_row(html: &mut String, m: &ui::MatterItem) {
    let line = if m.bundle {
        tr_args(
            LOCALE,
            "matter-bundle-line",
            &[("department", &m.department)],
        )
    } else {
        tr_args(
            LOCALE,
            "matter-line",
            &[("department", &m.department), ("kind", &m.kind_label)],
        )
    };
    let _ = write!(
        html,
        r#"<div class="row">{}<div class="text"><div class="name">{}</div><div class="line">{}</div></div>"#,
        icon(if m.bundle { ICON_BUNDLE } else { ICON_FORWARD }, 36),
        esc(&m.name),
        esc(&line)
    );
    if !m.identity_label.is_empty() {
        let _ = write!(
            html,
            r#"<div class="badge">{}{}</div>"#,
            icon(ICON_CARD, 29),
            esc(&m.identity_label)
        );
    }
    html.push_str("</div>");
}

/// The page's `<title>` (how the benchmark recognises that Chromium has parsed it).
pub fn title() -> String {
    tr(LOCALE, "home-title")
}

/// The Home page of `catalog` in zh-CN as one HTML document.
pub fn html(catalog: &Catalog) -> String {
    let home = models::home(catalog, LOCALE);
    let title = title();
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{}</title><style>@font-face{{font-family:K;src:local("WenQuanYi Micro Hei"),url("file://{FONT_FILE}")}}{STYLE}</style></head><body>"#,
        esc(&title)
    );
    let _ = write!(
        h,
        r#"<header><h1>{}</h1><div class="sub">{}</div></header><div class="switches">"#,
        esc(&title),
        esc(&tr(LOCALE, "home-subtitle"))
    );
    for (i, name) in LOCALE_NAMES.iter().enumerate() {
        let (class, tick) = if i == 0 {
            (" on", icon(ICON_CHECK, 31))
        } else {
            ("", String::new())
        };
        let _ = write!(
            h,
            r#"<div class="btn compact{class}">{tick}{}</div>"#,
            esc(name)
        );
    }
    let _ = write!(
        h,
        r#"<div class="grow"></div><div class="btn compact">{}{}</div></div>"#,
        icon(ICON_TEXT_SIZE, 36),
        esc(&tr(LOCALE, "home-elder"))
    );
    let _ = write!(
        h,
        r#"<main><div class="search">{}{}</div><div class="tabs"><div class="btn on grow">{}{}{}</div><div class="btn grow">{}{}</div></div><div class="tiles">"#,
        icon(ICON_SEARCH, 36),
        esc(&tr(LOCALE, "home-search-hint")),
        icon(ICON_CHECK, 33),
        icon(ICON_PERSON, 39),
        esc(&tr(LOCALE, "home-for-persons")),
        icon(ICON_BUSINESS, 39),
        esc(&tr(LOCALE, "home-for-businesses"))
    );
    for t in &home.person_themes {
        let _ = write!(
            h,
            r#"<div class="tile">{}{}</div>"#,
            icon(ICON_PERSON, 43),
            esc(&t.name)
        );
    }
    let _ = write!(h, "</div><h2>{}</h2>", esc(&tr(LOCALE, "home-popular")));
    for m in &home.popular {
        matter_row(&mut h, m);
    }
    if !home.bundles.is_empty() {
        let _ = write!(h, "<h2>{}</h2>", esc(&tr(LOCALE, "home-bundles")));
    }
    for m in &home.bundles {
        matter_row(&mut h, m);
    }
    let _ = write!(
        h,
        r#"</main><footer><div class="btn primary">{}{}</div></footer></body></html>"#,
        icon(ICON_QR, 39),
        esc(&tr(LOCALE, "home-check-status"))
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_carries_every_home_text_escaped() {
        let catalog = crate::catalog::sample::generate().unwrap();
        let page = html(&catalog);
        let home = models::home(&catalog, LOCALE);
        assert!(!home.popular.is_empty() && !home.person_themes.is_empty());
        for text in [
            title(),
            tr(LOCALE, "home-search-hint"),
            tr(LOCALE, "home-for-persons"),
            tr(LOCALE, "home-for-businesses"),
            tr(LOCALE, "home-check-status"),
        ] {
            assert!(page.contains(&esc(&text)), "missing {text}");
        }
        for t in &home.person_themes {
            assert!(page.contains(&esc(&t.name)), "missing theme {}", t.name);
        }
        for m in home.popular.iter().chain(&home.bundles) {
            assert!(page.contains(&esc(&m.name)), "missing matter {}", m.name);
        }
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
