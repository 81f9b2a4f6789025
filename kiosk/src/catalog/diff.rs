//! `kiosk admin diff OLD.json NEW.json`: what a new catalog changes, in words an admin can
//! check before signing and publishing: matters and bundles added, withdrawn and changed
//! (down to each form field), plus warnings that would make kiosks refuse it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::check;
use super::form::{Field, FormSchema};
use super::model::{Bundle, Catalog, Material, Matter};

/// A matter or bundle named by code and both names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Named {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

/// One changed matter or bundle and every change, one sentence each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub changes: Vec<String>,
}

/// The shape of `kiosk admin diff --json` (add fields, never rename).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogDiff {
    pub old_version: u64,
    pub new_version: u64,
    /// Dates, notice, format, departments and themes.
    pub catalog_changes: Vec<String>,
    pub matters_added: Vec<Named>,
    pub matters_removed: Vec<Named>,
    pub matters_changed: Vec<Changed>,
    pub bundles_added: Vec<Named>,
    pub bundles_removed: Vec<Named>,
    pub bundles_changed: Vec<Changed>,
    /// Things that would make kiosks refuse the new catalog, or that deserve a second look.
    pub warnings: Vec<String>,
}

impl CatalogDiff {
    /// Nothing but the version (and dates) changed.
    pub fn no_content_change(&self) -> bool {
        self.matters_added.is_empty()
            && self.matters_removed.is_empty()
            && self.matters_changed.is_empty()
            && self.bundles_added.is_empty()
            && self.bundles_removed.is_empty()
            && self.bundles_changed.is_empty()
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "catalog version {} -> {}",
            self.old_version, self.new_version
        );
        for c in &self.catalog_changes {
            let _ = writeln!(s, "  {c}");
        }
        render_items(
            &mut s,
            "matters",
            &self.matters_added,
            &self.matters_removed,
            &self.matters_changed,
        );
        render_items(
            &mut s,
            "bundles",
            &self.bundles_added,
            &self.bundles_removed,
            &self.bundles_changed,
        );
        if self.no_content_change() {
            let _ = writeln!(s, "no matter or bundle changed");
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(s, "warnings:");
            for w in &self.warnings {
                let _ = writeln!(s, "  ! {w}");
            }
        }
        s
    }
}

fn render_items(
    s: &mut String,
    what: &str,
    added: &[Named],
    removed: &[Named],
    changed: &[Changed],
) {
    if added.is_empty() && removed.is_empty() && changed.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "{what}: {} added, {} withdrawn, {} changed",
        added.len(),
        removed.len(),
        changed.len()
    );
    for n in added {
        let _ = writeln!(s, "  + {} {} ({})", n.code, n.name_zh, n.name_en);
    }
    for n in removed {
        let _ = writeln!(s, "  - {} {} ({}) withdrawn", n.code, n.name_zh, n.name_en);
    }
    for c in changed {
        let _ = writeln!(s, "  ~ {} {} ({})", c.code, c.name_zh, c.name_en);
        for line in &c.changes {
            let _ = writeln!(s, "      {line}");
        }
    }
}

/// Compares two catalogs.
pub fn diff(old: &Catalog, new: &Catalog) -> CatalogDiff {
    let mut catalog_changes = Vec::new();
    let mut c = Changes(&mut catalog_changes);
    // The version is the report's first line (`old_version`, `new_version`).
    c.value("format", &old.format, &new.format);
    c.text("issued_at", &old.issued_at, &new.issued_at);
    c.text("expires_at", &old.expires_at, &new.expires_at);
    c.text("notice", &old.notice, &new.notice);
    keyed(
        &mut catalog_changes,
        "department",
        &old.departments,
        &new.departments,
        |d| d.code.clone(),
        |d| format!("{} {}", d.name_zh, d.name_en),
    );
    keyed(
        &mut catalog_changes,
        "theme",
        &old.themes,
        &new.themes,
        |t| t.code.clone(),
        |t| format!("{} {} ({})", t.name_zh, t.name_en, word(&t.audience)),
    );

    let (matters_added, matters_removed, matters_changed) = items(
        &old.matters,
        &new.matters,
        |m| &m.code,
        named_matter,
        matter_changes,
    );
    let (bundles_added, bundles_removed, bundles_changed) = items(
        &old.bundles,
        &new.bundles,
        |b| &b.code,
        named_bundle,
        bundle_changes,
    );

    let mut warnings = Vec::new();
    if new.version <= old.version {
        warnings.push(format!(
            "the new version {} is not greater than {}: kiosks and the platform will refuse it",
            new.version, old.version
        ));
    }
    if let (Ok(issued), Ok(expires)) = (
        chrono::DateTime::parse_from_rfc3339(&new.issued_at),
        chrono::DateTime::parse_from_rfc3339(&new.expires_at),
    ) {
        if expires <= issued {
            warnings.push("expires_at is not after issued_at".into());
        }
    }
    if new.matters.len() * 2 < old.matters.len() {
        warnings.push(format!(
            "{} of {} matters withdrawn: kiosks refuse a catalog with fewer than half the matters",
            old.matters.len() - new.matters.len(),
            old.matters.len()
        ));
    }
    for p in check::problems(new) {
        warnings.push(format!("problem in the new catalog: {p}"));
    }

    CatalogDiff {
        old_version: old.version,
        new_version: new.version,
        catalog_changes,
        matters_added,
        matters_removed,
        matters_changed,
        bundles_added,
        bundles_removed,
        bundles_changed,
        warnings,
    }
}

type ItemDiff = (Vec<Named>, Vec<Named>, Vec<Changed>);

/// Added, removed and changed items by code (in the new catalog's order, removed in the old's).
fn items<T>(
    old: &[T],
    new: &[T],
    code: impl Fn(&T) -> &String,
    named: impl Fn(&T) -> Named,
    changes: impl Fn(&T, &T) -> Vec<String>,
) -> ItemDiff {
    let old_by: BTreeMap<&String, &T> = old.iter().map(|x| (code(x), x)).collect();
    let new_by: BTreeMap<&String, &T> = new.iter().map(|x| (code(x), x)).collect();
    let mut added = Vec::new();
    let mut changed = Vec::new();
    for n in new {
        match old_by.get(code(n)) {
            None => added.push(named(n)),
            Some(o) => {
                let list = changes(o, n);
                if !list.is_empty() {
                    let id = named(n);
                    changed.push(Changed {
                        code: id.code,
                        name_zh: id.name_zh,
                        name_en: id.name_en,
                        changes: list,
                    });
                }
            }
        }
    }
    let removed = old
        .iter()
        .filter(|o| !new_by.contains_key(code(*o)))
        .map(named)
        .collect();
    (added, removed, changed)
}

fn named_matter(m: &Matter) -> Named {
    Named {
        code: m.code.clone(),
        name_zh: m.name_zh.clone(),
        name_en: m.name_en.clone(),
    }
}

fn named_bundle(b: &Bundle) -> Named {
    Named {
        code: b.code.clone(),
        name_zh: b.name_zh.clone(),
        name_en: b.name_en.clone(),
    }
}

/// Collects sentences of the form `what: old -> new`.
struct Changes<'a>(&'a mut Vec<String>);

impl Changes<'_> {
    fn text(&mut self, what: &str, old: &str, new: &str) {
        if old != new {
            self.0.push(format!("{what}: {old:?} -> {new:?}"));
        }
    }

    fn value<T: PartialEq + std::fmt::Display>(&mut self, what: &str, old: &T, new: &T) {
        if old != new {
            self.0.push(format!("{what}: {old} -> {new}"));
        }
    }

    fn word<T: PartialEq + Serialize>(&mut self, what: &str, old: &T, new: &T) {
        if old != new {
            self.0
                .push(format!("{what}: {} -> {}", word(old), word(new)));
        }
    }

    /// Long texts (guides) are only said to have changed.
    fn long(&mut self, what: &str, old: &str, new: &str) {
        if old != new {
            self.0.push(format!(
                "{what} changed ({} -> {} characters)",
                old.chars().count(),
                new.chars().count()
            ));
        }
    }

    fn push(&mut self, s: String) {
        self.0.push(s);
    }
}

/// How a serialized enum reads (`card_face`, `apply`).
fn word<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}

fn yuan(fen: u64) -> String {
    format!("{}.{:02} yuan", fen / 100, fen % 100)
}

fn matter_changes(o: &Matter, n: &Matter) -> Vec<String> {
    let mut out = Vec::new();
    let mut c = Changes(&mut out);
    c.text("name (zh)", &o.name_zh, &n.name_zh);
    c.text("name (en)", &o.name_en, &n.name_en);
    c.text("department", &o.department, &n.department);
    c.word("audience", &o.audience, &n.audience);
    c.text("theme", &o.theme, &n.theme);
    c.word("kind", &o.kind, &n.kind);
    c.word("identity check", &o.identity, &n.identity);
    c.word(
        "alternative to the face check",
        &o.non_face_alternative,
        &n.non_face_alternative,
    );
    c.value(
        "legal time limit (working days)",
        &o.legal_days,
        &n.legal_days,
    );
    c.value(
        "promised time limit (working days)",
        &o.promised_days,
        &n.promised_days,
    );
    if o.fee_fen != n.fee_fen {
        c.push(format!("fee: {} -> {}", yuan(o.fee_fen), yuan(n.fee_fen)));
    }
    c.long("guide (zh)", &o.guide_zh, &n.guide_zh);
    c.long("guide (en)", &o.guide_en, &n.guide_en);
    if o.popular != n.popular {
        c.push(
            if n.popular {
                "now shown among popular matters"
            } else {
                "no longer shown among popular matters"
            }
            .into(),
        );
    }
    list_changes(&mut out, "keyword", &o.keywords, &n.keywords);
    materials(&mut out, "material", &o.materials, &n.materials);
    keyed(
        &mut out,
        "situation",
        &o.situations,
        &n.situations,
        |s| s.code.clone(),
        |s| format!("{} {}", s.name_zh, s.name_en),
    );
    for ns in &n.situations {
        if let Some(os) = o.situations.iter().find(|s| s.code == ns.code) {
            let what = format!("situation {} extra material", ns.code);
            materials(&mut out, &what, &os.extra_materials, &ns.extra_materials);
        }
    }
    form_changes(&mut out, &o.form, &n.form);
    out
}

fn bundle_changes(o: &Bundle, n: &Bundle) -> Vec<String> {
    let mut out = Vec::new();
    let mut c = Changes(&mut out);
    c.text("name (zh)", &o.name_zh, &n.name_zh);
    c.text("name (en)", &o.name_en, &n.name_en);
    c.word("audience", &o.audience, &n.audience);
    c.text("theme", &o.theme, &n.theme);
    c.long("guide (zh)", &o.guide_zh, &n.guide_zh);
    c.long("guide (en)", &o.guide_en, &n.guide_en);
    list_changes(&mut out, "member matter", &o.matters, &n.matters);
    if o.matters != n.matters && sorted(&o.matters) == sorted(&n.matters) {
        out.push(format!(
            "member matters reordered: {}",
            n.matters.join(", ")
        ));
    }
    list_changes(&mut out, "keyword", &o.keywords, &n.keywords);
    form_changes(&mut out, &o.form, &n.form);
    out
}

fn sorted(v: &[String]) -> Vec<&String> {
    let mut s: Vec<&String> = v.iter().collect();
    s.sort();
    s
}

/// `what added: x` / `what removed: x` for plain lists.
fn list_changes(out: &mut Vec<String>, what: &str, old: &[String], new: &[String]) {
    for n in new.iter().filter(|n| !old.contains(n)) {
        out.push(format!("{what} added: {n}"));
    }
    for o in old.iter().filter(|o| !new.contains(o)) {
        out.push(format!("{what} removed: {o}"));
    }
}

/// Materials compared by their Chinese name (what the citizen brings).
fn materials(out: &mut Vec<String>, what: &str, old: &[Material], new: &[Material]) {
    keyed(
        out,
        what,
        old,
        new,
        |m| m.name_zh.clone(),
        |m| {
            let mut s = m.name_en.clone();
            if let Some(e) = &m.e_licence {
                let _ = write!(s, " (e-licence {e})");
            }
            s
        },
    );
}

/// Added, removed and changed entries of a keyed list, each described by `show`.
fn keyed<T>(
    out: &mut Vec<String>,
    what: &str,
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> String,
    show: impl Fn(&T) -> String,
) {
    for n in new {
        match old.iter().find(|o| key(o) == key(n)) {
            None => out.push(format!("{what} {} added: {}", key(n), show(n))),
            Some(o) if show(o) != show(n) => {
                out.push(format!(
                    "{what} {} changed: {} -> {}",
                    key(n),
                    show(o),
                    show(n)
                ));
            }
            Some(_) => {}
        }
    }
    for o in old.iter().filter(|o| !new.iter().any(|n| key(n) == key(o))) {
        out.push(format!("{what} {} removed: {}", key(o), show(o)));
    }
}

/// Form fields added, removed and changed (each property), and a changed order.
fn form_changes(out: &mut Vec<String>, old: &FormSchema, new: &FormSchema) {
    for nf in &new.fields {
        match old.field(&nf.id) {
            None => out.push(format!(
                "form field {} added: {}",
                nf.id,
                describe_field(nf)
            )),
            Some(of) => {
                let mut lines = Vec::new();
                field_changes(&mut lines, of, nf);
                for l in lines {
                    out.push(format!("form field {}: {l}", nf.id));
                }
            }
        }
    }
    for of in old.fields.iter().filter(|f| new.field(&f.id).is_none()) {
        out.push(format!(
            "form field {} removed: {}",
            of.id,
            describe_field(of)
        ));
    }
    let old_order: Vec<&str> = old
        .fields
        .iter()
        .filter(|f| new.field(&f.id).is_some())
        .map(|f| f.id.as_str())
        .collect();
    let new_order: Vec<&str> = new
        .fields
        .iter()
        .filter(|f| old.field(&f.id).is_some())
        .map(|f| f.id.as_str())
        .collect();
    if old_order != new_order {
        out.push(format!("form fields reordered: {}", new_order.join(", ")));
    }
}

fn describe_field(f: &Field) -> String {
    format!(
        "{} / {} ({}, {})",
        f.label_zh,
        f.label_en,
        word(&f.kind),
        if f.required { "required" } else { "optional" }
    )
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or("none".into(), |x| x.to_string())
}

fn field_changes(out: &mut Vec<String>, o: &Field, n: &Field) {
    let mut c = Changes(&mut *out);
    c.text("label (zh)", &o.label_zh, &n.label_zh);
    c.text("label (en)", &o.label_en, &n.label_en);
    c.word("kind", &o.kind, &n.kind);
    if o.required != n.required {
        c.push(
            if n.required {
                "now required"
            } else {
                "now optional"
            }
            .into(),
        );
    }
    c.value("minimum length", &opt(&o.min_len), &opt(&n.min_len));
    c.value("maximum length", &opt(&o.max_len), &opt(&n.max_len));
    c.value("minimum", &opt(&o.min), &opt(&n.min));
    c.value("maximum", &opt(&o.max), &opt(&n.max));
    c.text("example", &o.example, &n.example);
    c.value(
        "prefilled from the card",
        &o.prefill.as_ref().map_or("no".into(), word),
        &n.prefill.as_ref().map_or("no".into(), word),
    );
    keyed(
        out,
        "choice",
        &o.choices,
        &n.choices,
        |ch| ch.value.clone(),
        |ch| format!("{} / {}", ch.label_zh, ch.label_en),
    );
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
