//! Every property of every adapter global is either reset by `kiosk::app::wipe::wipe` or listed
//! as not personal, so adding a property without wiping it fails here.

use std::path::Path;

use kiosk::app::wipe::NOT_PERSONAL;

#[test]
fn wipe_resets_every_adapter_property() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
    let wipe_file =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app/wipe.rs"))
            .unwrap();
    // Code only: a commented-out reset does not count.
    let wipe_src: String = wipe_file
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut sources = vec![ui.join("theme.slint")];
    for entry in std::fs::read_dir(ui.join("adapters")).unwrap().flatten() {
        sources.push(entry.path());
    }
    let mut checked = 0;
    let mut forgotten = Vec::new();
    for path in sources {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut global = String::new();
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("export global ") {
                global = rest.trim_end_matches('{').trim().to_string();
            }
            for prefix in ["in property <", "in-out property <"] {
                if let Some(rest) = line.strip_prefix(prefix) {
                    let name = rest.split_once('>').map(|(_, n)| n).unwrap_or("");
                    let name = name.trim().split([':', ';']).next().unwrap_or("").trim();
                    let qualified = format!("{global}.{name}");
                    checked += 1;
                    let setter = format!("set_{}(", name.replace('-', "_"));
                    if !NOT_PERSONAL.contains(&qualified.as_str()) && !wipe_src.contains(&setter) {
                        forgotten.push(qualified);
                    }
                }
            }
        }
    }
    assert!(checked > 40, "parsed the adapter properties ({checked})");
    assert!(
        forgotten.is_empty(),
        "not reset by wipe() nor listed in NOT_PERSONAL: {forgotten:?}"
    );
}
