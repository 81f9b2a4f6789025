//! Writes a new PIN hash into a config file without disturbing the rest of it (comments,
//! order, other sections): `kiosk staff set-pin --write`. Line-based on purpose: the kiosk
//! has no TOML editor, and the result is parsed back and checked before it replaces the file.

use std::path::Path;

use anyhow::Context;

use super::pin::PinHash;
use crate::config::Config;

/// The config text with `maintenance.staff_pin_hash` set to `hash`: an existing key line in
/// `[maintenance]` (commented out or not) is replaced; else the key goes right under the
/// `[maintenance]` header; else a `[maintenance]` section is appended.
pub fn with_pin_hash(text: &str, hash: &PinHash) -> String {
    let line = format!("staff_pin_hash = \"{}\"", hash.as_str());
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut section: Option<String> = None;
    let mut header_at = None;
    let mut key_at = None;
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            section = Some(
                t.trim_start_matches('[')
                    .trim_end_matches(']')
                    .trim()
                    .to_string(),
            );
            if section.as_deref() == Some("maintenance") {
                header_at = Some(i);
            }
            continue;
        }
        let uncommented = t.trim_start_matches('#').trim_start();
        let is_key = uncommented
            .strip_prefix("staff_pin_hash")
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        if is_key && section.as_deref() == Some("maintenance") {
            key_at = Some(i);
            // A live (uncommented) line wins over a commented example.
            if !t.starts_with('#') {
                break;
            }
        }
    }
    match (key_at, header_at) {
        (Some(i), _) => lines[i] = line,
        (None, Some(h)) => lines.insert(h + 1, line),
        (None, None) => {
            if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                lines.push(String::new());
            }
            lines.push("[maintenance]".into());
            lines.push(line);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Rewrites the file at `path` with the new hash: checked by parsing it back, written to a
/// temporary file with the same permissions and renamed over the old one.
pub fn write_pin_hash(path: &Path, hash: &PinHash) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let new = with_pin_hash(&text, hash);
    let parsed: Config = toml::from_str(&new).with_context(|| {
        format!(
            "the config with the new PIN hash does not parse; {} is unchanged",
            path.display()
        )
    })?;
    anyhow::ensure!(
        parsed.maintenance.staff_pin_hash == hash.as_str(),
        "could not place the PIN hash in {}; add it under [maintenance] by hand",
        path.display()
    );
    let tmp = path.with_extension("toml.new");
    std::fs::write(&tmp, new).with_context(|| format!("cannot write {}", tmp.display()))?;
    let perms = std::fs::metadata(path)?.permissions();
    std::fs::set_permissions(&tmp, perms)?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash() -> PinHash {
        // A fixed, valid PHC string (hashing is slow; the format is all that matters here).
        PinHash::parse("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$9fr2fWzj0BxOuf2wHHxbYJzNqXbxnbRMsxC9uOnpvtc").unwrap()
    }

    fn pin_of(text: &str) -> String {
        toml::from_str::<Config>(text)
            .unwrap()
            .maintenance
            .staff_pin_hash
    }

    #[test]
    fn a_commented_example_in_the_section_is_replaced_and_the_rest_kept() {
        let text = "kiosk_id = \"XH-0002\"\n\n[maintenance]\n# staff_pin_hash = \"\"   # from set-pin\nmetrics_port = 9500\n\n[sync]\n# staff_pin_hash is not a sync key\nbatch_size = 50\n";
        let out = with_pin_hash(text, &hash());
        assert_eq!(pin_of(&out), hash().as_str());
        assert!(out.contains("metrics_port = 9500"));
        assert!(out.contains("# staff_pin_hash is not a sync key"));
        assert_eq!(toml::from_str::<Config>(&out).unwrap().sync.batch_size, 50);
        assert_eq!(out.matches("staff_pin_hash = \"$argon2id").count(), 1);
    }

    #[test]
    fn a_live_line_is_replaced_or_a_section_added() {
        let text = "[maintenance]\n# staff_pin_hash = \"old example\"\nstaff_pin_hash = \"$argon2id$old\"\n";
        let out = with_pin_hash(text, &hash());
        assert_eq!(pin_of(&out), hash().as_str());
        assert!(out.contains("# staff_pin_hash = \"old example\""));

        let out = with_pin_hash("[maintenance]\nmetrics_port = 0\n", &hash());
        assert_eq!(pin_of(&out), hash().as_str());

        let out = with_pin_hash("kiosk_id = \"XH-0003\"", &hash());
        assert_eq!(pin_of(&out), hash().as_str());
        assert!(out.starts_with("kiosk_id = \"XH-0003\"\n\n[maintenance]\n"));
    }

    #[test]
    fn the_file_is_rewritten_with_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiosk.toml");
        std::fs::write(&path, "[session]\nwarning_s = 10\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_pin_hash(&path, &hash()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(pin_of(&text), hash().as_str());
        assert_eq!(
            toml::from_str::<Config>(&text).unwrap().session.warning_s,
            10
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        // A file that is not a config is left alone.
        std::fs::write(&path, "[session\n").unwrap();
        assert!(write_pin_hash(&path, &hash()).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[session\n");
    }
}
