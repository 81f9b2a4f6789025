//! The command lines end to end, as staff and scripts use them: `device-sim central
//! init-pki`, the simulator as its own process, `kiosk outbox add/list/retry`, `kiosk sync
//! once`, and `device-sim central stats`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use kiosk::catalog::{FieldKind, IdentityLevel};

struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn ok_json(out: Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn kiosk(cfg: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(e2e::bin("kiosk"));
    c.arg("--config").arg(cfg).args(args);
    c
}

/// A matter that needs identity and has a phone field, and its example form.
fn matter_with_phone() -> (String, serde_json::Map<String, serde_json::Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = kiosk::store::Store::open_path(&dir.path().join("probe.db")).unwrap();
    let catalog = kiosk::catalog::load_active(&mut store).unwrap();
    let m = catalog
        .matters
        .iter()
        .find(|m| {
            m.identity != IdentityLevel::None
                && m.form.fields.iter().any(|f| f.kind == FieldKind::Phone)
        })
        .expect("a matter with a phone field");
    let phone = m
        .form
        .fields
        .iter()
        .find(|f| f.kind == FieldKind::Phone)
        .unwrap()
        .id
        .clone();
    let form = m
        .form
        .example_values()
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    (m.code.clone(), form, phone)
}

#[test]
fn staff_queue_sync_list_retry_and_platform_stats() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let out = run(Command::new(e2e::bin("device-sim"))
        .args(["central", "init-pki"])
        .arg(&pki)
        .args(["--kiosk", "XH-0001", "--json"]));
    let made = ok_json(out);
    assert_eq!(made["created"].as_array().unwrap().len(), 4, "{made}");

    let db = dir.path().join("central.db");
    let mut child = Command::new(e2e::bin("device-sim"))
        .args(["central", "--listen", "127.0.0.1:0", "--pki"])
        .arg(&pki)
        .arg("--db")
        .arg(&db)
        // Landline numbers starting 021 pass the kiosk's form rules; this platform refuses them.
        .args(["--reject-matching", "^021-", "--latency-ms", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _sim = Sim(child);
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    assert!(url.starts_with("https://127.0.0.1:"));

    let cfg = dir.path().join("kiosk.toml");
    std::fs::write(
        &cfg,
        format!(
            "kiosk_id = \"XH-0001\"\ndata_dir = {:?}\n\n[central]\nurl = \"{url}\"\nca_file = {:?}\nclient_cert = {:?}\nclient_key = {:?}\n",
            dir.path().join("kiosk"),
            pki.join("ca.pem"),
            pki.join("clients/XH-0001.pem"),
            pki.join("clients/XH-0001.key"),
        ),
    )
    .unwrap();
    let applicant = dir.path().join("applicant.json");
    std::fs::write(
        &applicant,
        r#"{"id_type":"resident","id_number":"320124198808240056","name":"李四","verified_by":"card+face"}"#,
    )
    .unwrap();
    let (matter, form, phone_field) = matter_with_phone();
    let mut refused = form.clone();
    refused.insert(phone_field.clone(), "021-12345678".into());
    let refused_file = dir.path().join("refused-form.json");
    std::fs::write(
        &refused_file,
        serde_json::Value::Object(refused).to_string(),
    )
    .unwrap();

    let add = |extra: &[&str]| {
        let mut c = kiosk(
            &cfg,
            &[
                "outbox",
                "add",
                "--matter",
                &matter,
                "--json",
                "--applicant",
            ],
        );
        c.arg(&applicant).args(extra);
        ok_json(run(&mut c))
    };
    let a = add(&[]);
    let b = add(&["--form", refused_file.to_str().unwrap()]);
    let c = add(&[]);
    assert_eq!(
        (a["seq"].as_u64(), b["seq"].as_u64(), c["seq"].as_u64()),
        (Some(1), Some(2), Some(3))
    );

    let list = ok_json(run(&mut kiosk(&cfg, &["outbox", "list", "--json"])));
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["state"] == "pending"));

    let report = ok_json(run(&mut kiosk(&cfg, &["sync", "once", "--json"])));
    assert_eq!(report["accepted"], 2, "{report}");
    assert_eq!(report["rejected"][0]["id"], b["id"]);
    assert_eq!(report["rejected"][0]["code"], "form_invalid");
    assert_eq!(report["heartbeat"], "ok");
    assert_eq!(report["outbox"]["quarantined"], 1);

    let q = ok_json(run(&mut kiosk(
        &cfg,
        &["outbox", "list", "--state", "quarantined", "--json"],
    )));
    assert_eq!(q[0]["id"], b["id"]);
    assert!(
        q[0]["last_error"].as_str().unwrap().contains(&phone_field),
        "{q}"
    );
    let acked = ok_json(run(&mut kiosk(
        &cfg,
        &["outbox", "list", "--state", "acked", "--json"],
    )));
    assert!(acked
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["receipt_no"].is_string() && e["has_payload"] == false));

    let stats = ok_json(run(Command::new(e2e::bin("device-sim"))
        .args(["central", "stats", "--json", "--db"])
        .arg(&db)));
    assert_eq!(stats["submissions"], 2);
    assert_eq!(stats["by_kiosk"]["XH-0001"], 2);
    assert_eq!(stats["rejected_seen"], 1);
    assert_eq!(stats["duplicates_seen"], 0);

    // Retry: the platform still refuses it, so it is quarantined again; nothing else moves.
    let r = ok_json(run(&mut kiosk(
        &cfg,
        &["outbox", "retry", b["id"].as_str().unwrap(), "--json"],
    )));
    assert_eq!(r["was"], "quarantined");
    let report = ok_json(run(&mut kiosk(&cfg, &["sync", "once", "--json"])));
    assert_eq!(
        (
            report["sent"].as_u64(),
            report["rejected"].as_array().unwrap().len()
        ),
        (Some(1), 1)
    );
    let retry_acked = run(&mut kiosk(
        &cfg,
        &["outbox", "retry", a["id"].as_str().unwrap()],
    ));
    assert!(!retry_acked.status.success());
    assert!(String::from_utf8_lossy(&retry_acked.stderr).contains("already acknowledged"));

    // The same validation as the touch form, and a clear error.
    let bad_form = dir.path().join("bad-form.json");
    std::fs::write(&bad_form, r#"{"no_such_field":"x"}"#).unwrap();
    let mut c = kiosk(&cfg, &["outbox", "add", "--matter", &matter, "--applicant"]);
    let out = run(c.arg(&applicant).arg("--form").arg(&bad_form));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("field 'no_such_field'"), "{err}");
    let bad_id = dir.path().join("bad-applicant.json");
    std::fs::write(
        &bad_id,
        r#"{"id_type":"resident","id_number":"320124198808240057","name":"李四","verified_by":"card+face"}"#,
    )
    .unwrap();
    let out = run(kiosk(&cfg, &["outbox", "add", "--matter", &matter, "--applicant"]).arg(&bad_id));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("check digit") && !err.contains("320124198808240057"),
        "{err}"
    );
    let out = run(kiosk(
        &cfg,
        &["outbox", "add", "--matter", "999999999999", "--applicant"],
    )
    .arg(&applicant));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in the active catalog"));
}
