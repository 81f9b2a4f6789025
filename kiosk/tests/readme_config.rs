//! The README's configuration reference is checked against the config struct, so the two
//! cannot drift: every key the struct has appears in the README with its default value, and
//! every key the README shows (commented examples included) is one the struct accepts.

use kiosk::config::Config;

fn readme_block() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md at the workspace root");
    let section = readme
        .split("## Configuration")
        .nth(1)
        .expect("README has a Configuration section");
    let start = section.find("```toml").expect("a toml block") + "```toml".len();
    let end = section[start..].find("```").expect("end of the toml block");
    section[start..start + end].to_string()
}

/// Uncomments `# key = value` example lines.
fn uncommented(block: &str) -> String {
    block
        .lines()
        .map(|l| {
            let t = l.trim_start();
            match t.strip_prefix("# ") {
                Some(rest)
                    if rest.split('=').next().is_some_and(|k| {
                        let k = k.trim();
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    }) && rest.contains('=') =>
                {
                    rest.to_string()
                }
                _ => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn leaf_keys(prefix: &str, v: &toml::Value, out: &mut Vec<(String, toml::Value)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaf_keys(&p, v, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

/// Equal values; floats compare at f32 precision (the struct holds f32).
fn same(a: &toml::Value, b: &toml::Value) -> bool {
    match (a.as_float(), b.as_float()) {
        (Some(x), Some(y)) => (x as f32) == (y as f32),
        _ => a == b,
    }
}

#[test]
fn readme_shows_every_key_with_its_default() {
    let block = readme_block();
    let shown: toml::Value = toml::from_str(&block).expect("README config block is TOML");
    let defaults = toml::Value::try_from(Config::default()).unwrap();
    let mut want = Vec::new();
    leaf_keys("", &defaults, &mut want);
    let mut have = Vec::new();
    leaf_keys("", &shown, &mut have);
    for (k, v) in &want {
        let found = have.iter().find(|(hk, _)| hk == k);
        match found {
            None => panic!("README's configuration lacks `{k}` (default {v})"),
            Some((_, hv)) => assert!(same(hv, v), "README shows `{k}` = {hv}, the default is {v}"),
        }
    }
}

#[test]
fn every_key_in_the_readme_is_accepted_by_the_config() {
    let full = uncommented(&readme_block());
    let parsed: Result<Config, _> = toml::from_str(&full);
    assert!(
        parsed.is_ok(),
        "README shows a key the config refuses: {}",
        parsed.unwrap_err()
    );
}
