//! Catalog invariants, checked on the bundled catalog by the tests and on every catalog
//! before it is installed: codes well-formed and unique, references resolve, every form
//! schema valid (unique field ids, choices present, each example passes its own rules).

use std::collections::HashSet;

use super::form::{FieldKind, FormSchema};
use super::model::{Catalog, FORMAT};

/// Every problem found, in words an admin can act on. Empty means the catalog is sound.
pub fn problems(c: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    if c.format != FORMAT {
        out.push(format!("format {} is not {FORMAT}", c.format));
    }
    for (what, t) in [("issued_at", &c.issued_at), ("expires_at", &c.expires_at)] {
        if chrono::DateTime::parse_from_rfc3339(t).is_err() {
            out.push(format!("{what} {t:?} is not an RFC 3339 time"));
        }
    }
    if c.matters.is_empty() {
        out.push("the catalog has no matters".into());
    }
    let mut seen = HashSet::new();
    for d in &c.departments {
        if !seen.insert(d.code.as_str()) {
            out.push(format!("department code {} is used twice", d.code));
        }
    }
    let themes: HashSet<&str> = c.themes.iter().map(|t| t.code.as_str()).collect();
    let mut codes = HashSet::new();
    for m in &c.matters {
        let at = format!("matter {}", m.code);
        if !is_matter_code(&m.code) {
            out.push(format!("{at}: code must be 310104 followed by six digits"));
        }
        if !codes.insert(m.code.as_str()) {
            out.push(format!("{at}: code is used twice"));
        }
        if m.name_zh.trim().is_empty() || m.name_en.trim().is_empty() {
            out.push(format!("{at}: a name is empty"));
        }
        if c.department(&m.department).is_none() {
            out.push(format!("{at}: unknown department {}", m.department));
        }
        if !themes.contains(m.theme.as_str()) {
            out.push(format!("{at}: unknown theme {}", m.theme));
        }
        if m.situations.is_empty() {
            out.push(format!("{at}: has no situation"));
        }
        for (i, s) in m.situations.iter().enumerate() {
            if s.code != format!("{:02}", i + 1) {
                out.push(format!("{at}: situation {} should be {:02}", s.code, i + 1));
            }
        }
        if m.materials.is_empty() {
            out.push(format!("{at}: lists no material"));
        }
        if m.promised_days > m.legal_days {
            out.push(format!(
                "{at}: promised time limit {} exceeds the legal one {}",
                m.promised_days, m.legal_days
            ));
        }
        form_problems(&m.form, &at, &mut out);
    }
    let mut bundle_codes = HashSet::new();
    for b in &c.bundles {
        let at = format!("bundle {}", b.code);
        if !bundle_codes.insert(b.code.as_str()) || codes.contains(b.code.as_str()) {
            out.push(format!("{at}: code is used twice"));
        }
        if b.matters.len() < 2 {
            out.push(format!("{at}: a bundle joins at least two matters"));
        }
        for m in &b.matters {
            if c.matter(m).is_none() {
                out.push(format!("{at}: unknown member matter {m}"));
            }
        }
        form_problems(&b.form, &at, &mut out);
    }
    out
}

/// `310104` + six digits.
pub fn is_matter_code(code: &str) -> bool {
    code.len() == 12 && code.starts_with("310104") && code.bytes().all(|b| b.is_ascii_digit())
}

fn form_problems(form: &FormSchema, at: &str, out: &mut Vec<String>) {
    let mut ids = HashSet::new();
    for f in &form.fields {
        if f.id.is_empty()
            || !f
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            out.push(format!(
                "{at}: field id {:?} must be lowercase ascii, digits, _",
                f.id
            ));
        }
        if !ids.insert(f.id.as_str()) {
            out.push(format!("{at}: field {} appears twice", f.id));
        }
        if f.kind == FieldKind::Choice && f.choices.is_empty() {
            out.push(format!("{at}: choice field {} has no choices", f.id));
        }
        if let (Some(lo), Some(hi)) = (f.min_len, f.max_len) {
            if lo > hi {
                out.push(format!("{at}: field {} has min_len above max_len", f.id));
            }
        }
        if let Err(e) = f.check(&f.example) {
            out.push(format!("{at}: example of {e}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::sample;

    #[test]
    fn bundled_catalog_has_the_hall_counts_and_no_problems() {
        let c = sample::generate().unwrap();
        let s = c.stats();
        assert_eq!((s.matters, s.person, s.business), (673, 296, 377));
        assert!(s.departments >= 15, "{}", s.departments);
        assert!(s.bundles >= 25, "{}", s.bundles);
        for name in ["开办饭店", "开超市"] {
            assert!(c.bundles.iter().any(|b| b.name_zh == name), "{name}");
        }
        assert_eq!(problems(&c), Vec::<String>::new());
        assert!(c.notice.starts_with("SAMPLE DATA"));
        // Every matter's examples form a valid form (what `outbox add` sends by default).
        for m in &c.matters {
            assert_eq!(
                m.form.validate(&m.form.example_values()),
                Ok(()),
                "{}",
                m.code
            );
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let a = serde_json::to_vec(&sample::generate().unwrap()).unwrap();
        let b = serde_json::to_vec(&sample::generate().unwrap()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn broken_catalogs_are_reported() {
        let mut c = sample::generate().unwrap();
        c.matters[1].code = c.matters[0].code.clone();
        c.matters[2].code = "12345".into();
        c.matters[3].department = "99".into();
        c.matters[4].form.fields[0].example = String::new();
        c.bundles[0].matters.push("310104999999".into());
        let p = problems(&c);
        for want in [
            "code is used twice",
            "code must be 310104",
            "unknown department 99",
            "is required",
            "unknown member matter 310104999999",
        ] {
            assert!(
                p.iter().any(|x| x.contains(want)),
                "missing {want:?} in {p:#?}"
            );
        }
    }

    #[test]
    fn table_with_wrong_totals_is_refused() {
        let text = sample::TABLE.replace("expect_person = 296", "expect_person = 295");
        let err = sample::generate_from(&text).unwrap_err().to_string();
        assert!(err.contains("expects 295"), "{err}");
    }
}
