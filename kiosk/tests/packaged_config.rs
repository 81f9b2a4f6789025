//! The Debian package's default config (`packaging/kiosk.toml`, installed as
//! `/etc/hall-kiosk/kiosk.toml`) is checked against the config struct, so it cannot drift:
//! as shipped (everything commented out) it gives exactly the defaults; every key of the
//! struct is there, commented, with its default value; every commented key is accepted.

use kiosk::config::Config;

fn packaged() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../packaging/kiosk.toml"
    ))
    .expect("packaging/kiosk.toml")
}

/// `# key = value` lines become `key = value`; everything else stays.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if is_option(rest) => rest.to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_option(line: &str) -> bool {
    line.split_once(" = ").is_some_and(|(k, _)| {
        !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    })
}

fn leaves(prefix: &str, v: &toml::Value, out: &mut Vec<(String, toml::Value)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&p, v, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

fn same(a: &toml::Value, b: &toml::Value) -> bool {
    match (a.as_float(), b.as_float()) {
        (Some(x), Some(y)) => (x as f32) == (y as f32),
        _ => a == b,
    }
}

fn as_value(c: &Config) -> toml::Value {
    toml::Value::try_from(c).unwrap()
}

#[test]
fn as_shipped_it_changes_nothing() {
    let shipped: Config = toml::from_str(&packaged()).expect("packaged config parses");
    assert_eq!(as_value(&shipped), as_value(&Config::default()));
    let text = packaged();
    let live: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter(|l| !l.trim_start().starts_with('['))
        .collect();
    assert!(
        live.is_empty(),
        "options set in the packaged config: {live:?}"
    );
}

#[test]
fn every_option_is_there_commented_with_its_default() {
    let full = uncommented(&packaged());
    let parsed: Config = toml::from_str(&full)
        .unwrap_or_else(|e| panic!("a commented option is refused by the config: {e}"));
    let shown: toml::Value = toml::from_str(&full).unwrap();
    let mut have = Vec::new();
    leaves("", &shown, &mut have);
    let mut want = Vec::new();
    leaves("", &as_value(&Config::default()), &mut want);
    for (k, v) in &want {
        match have.iter().find(|(hk, _)| hk == k) {
            None => panic!("packaging/kiosk.toml lacks `{k}` (default {v})"),
            Some((_, hv)) => assert!(same(hv, v), "packaged `{k}` = {hv}, the default is {v}"),
        }
    }
    // Keys without a default value (optional paths) are shown as examples; the rest of the
    // uncommented file must be the defaults.
    let mut expected = as_value(&Config::default());
    let mut optional = Vec::new();
    for (k, _) in &have {
        if !want.iter().any(|(wk, _)| wk == k) {
            optional.push(k.clone());
        }
    }
    assert_eq!(
        optional,
        [
            "central.ca_file",
            "central.client_cert",
            "central.client_key"
        ]
    );
    let mut got = as_value(&parsed);
    for k in &optional {
        let (section, key) = k.split_once('.').unwrap();
        got[section].as_table_mut().unwrap().remove(key);
        expected[section].as_table_mut().unwrap().remove(key);
    }
    assert_eq!(got, expected);
}

#[test]
fn every_option_has_a_comment_above_it_or_belongs_to_a_commented_group() {
    // An option line directly after a section header, with no comment, would be unexplained.
    let text = packaged();
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if l.strip_prefix("# ").is_some_and(is_option) && i > 0 {
            let above = lines[i - 1];
            assert!(
                above.starts_with('#'),
                "option {l:?} (line {}) has no comment above it",
                i + 1
            );
        }
    }
}
