//! Personal data at rest: after a submission with a known synthetic ID number is queued and
//! synced, neither the kiosk's database file nor its WAL holds that number (or the name) in
//! plain text, as UTF-8 or UTF-16 (LE or BE). The platform's own database, which stores it in
//! clear, is the control that shows the search finds what is there.

mod sync_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use device_sim::central::FaultConfig;
use kiosk::outbox;
use sync_support::*;

const NAME: &str = "张三丰";

fn encodings(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    vec![
        ("utf-8", text.as_bytes().to_vec()),
        ("utf-16le", le),
        ("utf-16be", be),
    ]
}

/// Which encodings of `text` occur in `file` (missing file: none).
fn found_in(file: &Path, text: &str) -> Vec<&'static str> {
    let Ok(bytes) = std::fs::read(file) else {
        return vec![];
    };
    encodings(text)
        .into_iter()
        .filter(|(_, needle)| bytes.windows(needle.len()).any(|w| w == needle.as_slice()))
        .map(|(name, _)| name)
        .collect()
}

fn wal(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push("-wal");
    PathBuf::from(s)
}

fn assert_clean(db: &Path, id_number: &str, name: &str) {
    for file in [db.to_path_buf(), wal(db)] {
        for text in [id_number, name] {
            let hits = found_in(&file, text);
            assert!(
                hits.is_empty(),
                "{} holds {text:?} in plain text as {hits:?}",
                file.display()
            );
        }
    }
}

#[test]
fn the_detector_finds_all_three_encodings() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in encodings(SYNTHETIC_ID) {
        let f = dir.path().join(name);
        let mut content = vec![0x5au8; 100];
        content.extend_from_slice(&bytes);
        content.extend_from_slice(&[0x5au8; 100]);
        std::fs::write(&f, content).unwrap();
        assert_eq!(found_in(&f, SYNTHETIC_ID), vec![name]);
    }
}

/// In one process, with the database open so that the WAL file exists while it is checked.
#[test]
fn neither_the_database_nor_its_wal_holds_the_id_number_in_plain_text() {
    let env = Env::new(FaultConfig::default());
    let store = env.store(); // keeps the WAL from being checkpointed away
    let db = store.path().to_path_buf();
    env.enqueue(&["13800000001", "13800000002"]);
    assert!(wal(&db).exists(), "the WAL is there to be checked");
    assert_clean(&db, SYNTHETIC_ID, NAME);
    let rt = rt();
    let report = rt.block_on(env.engine().push(false));
    assert_eq!(report.accepted, 2);
    assert_eq!(outbox::status(&store).unwrap().acked, 2);
    assert_clean(&db, SYNTHETIC_ID, NAME);
    // Control: the platform stored the number in clear, and the search finds it there.
    let central_db = env.dir.path().join("central.db");
    let control = [
        found_in(&central_db, SYNTHETIC_ID),
        found_in(&wal(&central_db), SYNTHETIC_ID),
    ]
    .concat();
    assert!(
        control.contains(&"utf-8"),
        "the control must find the number"
    );
    drop(store);
}

/// The same through the command line, as staff would queue it: `kiosk outbox add` then
/// `kiosk sync once`. This flow installs the bundled catalog, whose `id_number` field shows
/// `11010519491231002X` as its public example value (in `catalog_payloads`, not personal
/// data, like the example name), so the applicant here carries another synthetic number, the
/// spec's `810000199408230021`, and a name, neither of which appears in the catalog.
#[test]
fn the_staff_flow_through_the_cli_leaves_no_plain_text() {
    const PERMIT_ID: &str = "810000199408230021";
    const CLI_NAME: &str = "司马测试";
    let env = Env::new(FaultConfig::default());
    let cfg = env.write_config();
    let applicant = env.dir.path().join("applicant.json");
    std::fs::write(
        &applicant,
        serde_json::json!({"id_type": "permit", "id_number": PERMIT_ID,
                           "name": CLI_NAME, "verified_by": "card+face"})
        .to_string(),
    )
    .unwrap();
    let matter = first_matter_needing_identity();
    let out = Command::new(e2e::bin("kiosk"))
        .arg("--config")
        .arg(&cfg)
        .args([
            "outbox",
            "add",
            "--matter",
            &matter,
            "--json",
            "--applicant",
        ])
        .arg(&applicant)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let queued: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(queued["seq"], 1);
    // Neither stdout nor stderr of the command echoes the personal data.
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(
            !text.contains(PERMIT_ID) && !text.contains(CLI_NAME),
            "{text}"
        );
    }
    let db = env.config.db_path();
    assert_clean(&db, PERMIT_ID, CLI_NAME);
    let out = Command::new(e2e::bin("kiosk"))
        .arg("--config")
        .arg(&cfg)
        .args(["sync", "once", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accepted"], 1);
    assert_clean(&db, PERMIT_ID, CLI_NAME);
    let stored = env
        .sim
        .submission(queued["id"].as_str().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(stored["applicant"]["id_number"], PERMIT_ID);
}

/// A matter of the bundled catalog that needs the applicant's identity (so the applicant's
/// ID number is really part of the submission).
fn first_matter_needing_identity() -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut store = kiosk::store::Store::open_path(&dir.path().join("probe.db")).unwrap();
    let catalog = kiosk::catalog::load_active(&mut store).unwrap();
    catalog
        .matters
        .iter()
        .find(|m| m.identity != kiosk::catalog::IdentityLevel::None)
        .expect("the bundled catalog has a matter that needs identity")
        .code
        .clone()
}
