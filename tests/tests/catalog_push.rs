//! Signed catalog updates end to end with the real binaries: an admin makes a key, exports
//! the kiosk's catalog, edits it, diffs, signs and verifies it; a tampered envelope is
//! refused by name; the envelope is published to the simulated platform over TLS, and a
//! kiosk pulls it with `kiosk sync once`, stages it and switches to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use base64::Engine as _;
use e2e::{bin, kiosk, kiosk_json};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "command failed: {}", text(&out));
    text(&out)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// An admin's workspace: a key pair and the kiosk's exported catalog edited into version 2.
struct Admin {
    dir: tempfile::TempDir,
    kiosk_dir: PathBuf,
}

impl Admin {
    fn new() -> Admin {
        let dir = tempfile::tempdir().unwrap();
        let kiosk_dir = dir.path().join("kiosk");
        let keys = dir.path().join("keys");
        ok(kiosk(
            &kiosk_dir,
            &[
                "admin",
                "keygen",
                "--out",
                p(&keys),
                "--key-id",
                "admin-2026",
            ],
        ));
        Admin { dir, kiosk_dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn pub_key(&self) -> PathBuf {
        self.path("keys/admin-2026.pub")
    }

    /// Exports the kiosk's catalog, bumps the version, renames a matter and adds a form
    /// field; returns (old.json, new.json, the changed matter's code).
    fn edit(&self) -> (PathBuf, PathBuf, String) {
        let old = self.path("old.json");
        ok(kiosk(
            &self.kiosk_dir,
            &["catalog", "export", "--out", p(&old)],
        ));
        let mut c: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&old).unwrap()).unwrap();
        c["version"] = serde_json::json!(c["version"].as_u64().unwrap() + 1);
        c["expires_at"] = serde_json::json!("2099-01-01T00:00:00Z");
        let m = &mut c["matters"][0];
        let code = m["code"].as_str().unwrap().to_string();
        m["name_en"] = serde_json::json!("Renamed by the admin");
        m["form"]["fields"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "id": "pet_name", "label_zh": "宠物名", "label_en": "Pet name", "kind": "text",
                "required": false, "example": "旺财"
            }));
        let new = self.path("new.json");
        std::fs::write(&new, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
        (old, new, code)
    }

    fn sign(&self, catalog: &Path, out: &str) -> PathBuf {
        let env = self.path(out);
        let key = self.path("keys/admin-2026.key");
        ok(kiosk(
            &self.kiosk_dir,
            &[
                "admin",
                "sign",
                p(catalog),
                "--key",
                p(&key),
                "--out",
                p(&env),
            ],
        ));
        env
    }
}

/// The envelope with one byte of its catalog changed (still valid JSON).
fn tamper(envelope: &Path, out: &Path) {
    let mut env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(envelope).unwrap()).unwrap();
    let mut payload = B64.decode(env["payload"].as_str().unwrap()).unwrap();
    let at = payload.windows(7).position(|w| w == b"Renamed").unwrap();
    payload[at] = b'r';
    env["payload"] = serde_json::json!(B64.encode(&payload));
    std::fs::write(out, serde_json::to_vec(&env).unwrap()).unwrap();
}

#[test]
fn keygen_export_edit_diff_sign_and_verify_offline() {
    let a = Admin::new();
    let key = a.path("keys/admin-2026.key");
    let raw = B64
        .decode(std::fs::read_to_string(a.pub_key()).unwrap().trim())
        .unwrap();
    assert_eq!(
        raw.len(),
        32,
        "the .pub file is the raw 32-byte key in base64"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Keys are never overwritten.
    let again = kiosk(
        &a.kiosk_dir,
        &[
            "admin",
            "keygen",
            "--out",
            p(&a.path("keys")),
            "--key-id",
            "admin-2026",
        ],
    );
    assert!(
        !again.status.success() && text(&again).contains("never overwritten"),
        "{}",
        text(&again)
    );

    let (old, new, code) = a.edit();
    let diff = ok(kiosk(&a.kiosk_dir, &["admin", "diff", p(&old), p(&new)]));
    assert!(diff.contains("catalog version 1 -> 2"), "{diff}");
    assert!(diff.contains(&format!("~ {code}")), "{diff}");
    assert!(
        diff.contains("form field pet_name added: 宠物名 / Pet name (text, optional)"),
        "{diff}"
    );
    assert!(diff.contains("name (en): "), "{diff}");

    let env = a.sign(&new, "v2.envelope.json");
    let report = kiosk_json(
        &a.kiosk_dir,
        &[
            "catalog",
            "verify",
            p(&env),
            "--trusted-key",
            p(&a.pub_key()),
            "--json",
        ],
    );
    assert_eq!(report["accepted"], true, "{report}");
    assert_eq!(report["version"], 2);
    assert_eq!(report["matters"], 673);
    assert_eq!(report["signer"], "admin-2026");
    assert_eq!(report["installed_version"], 1);
    let human = ok(kiosk(
        &a.kiosk_dir,
        &[
            "catalog",
            "verify",
            p(&env),
            "--trusted-key",
            p(&a.pub_key()),
        ],
    ));
    assert!(
        human.contains("ACCEPTED") && human.contains("admin-2026"),
        "{human}"
    );

    // One changed byte: refused, exit code non-zero, the reason named.
    let bad = a.path("tampered.json");
    tamper(&env, &bad);
    let out = kiosk(
        &a.kiosk_dir,
        &[
            "catalog",
            "verify",
            p(&bad),
            "--trusted-key",
            p(&a.pub_key()),
        ],
    );
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("REFUSED") && t.contains("bad_signature"), "{t}");

    // Another admin's key is unknown to a kiosk that trusts only admin-2026.
    ok(kiosk(
        &a.kiosk_dir,
        &[
            "admin",
            "keygen",
            "--out",
            p(&a.path("other")),
            "--key-id",
            "admin-2099",
        ],
    ));
    let other_env = a.path("other.json");
    ok(kiosk(
        &a.kiosk_dir,
        &[
            "admin",
            "sign",
            p(&new),
            "--key",
            p(&a.path("other/admin-2099.key")),
            "--out",
            p(&other_env),
        ],
    ));
    let out = kiosk(
        &a.kiosk_dir,
        &[
            "catalog",
            "verify",
            p(&other_env),
            "--trusted-key",
            p(&a.pub_key()),
            "--json",
        ],
    );
    assert!(!out.status.success());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["refusals"][0]["code"], "unknown_key", "{r}");
    // ...and accepted once both keys are trusted (rotation).
    let both = kiosk(
        &a.kiosk_dir,
        &[
            "catalog",
            "verify",
            p(&other_env),
            "--trusted-key",
            p(&a.pub_key()),
            "--trusted-key",
            p(&a.path("other/admin-2099.pub")),
        ],
    );
    assert!(both.status.success(), "{}", text(&both));

    // The unchanged export re-signed is version 1: a rollback for this kiosk.
    let same = a.sign(&old, "v1.envelope.json");
    let out = kiosk(
        &a.kiosk_dir,
        &[
            "catalog",
            "verify",
            p(&same),
            "--trusted-key",
            p(&a.pub_key()),
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("version_not_newer"), "{}", text(&out));

    // A broken catalog is not signed at all.
    let mut broken: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&new).unwrap()).unwrap();
    broken["matters"][1]["code"] = broken["matters"][0]["code"].clone();
    let broken_path = a.path("broken.json");
    std::fs::write(&broken_path, serde_json::to_vec(&broken).unwrap()).unwrap();
    let out = kiosk(
        &a.kiosk_dir,
        &[
            "admin",
            "sign",
            p(&broken_path),
            "--key",
            p(&key),
            "--out",
            p(&a.path("broken.env.json")),
        ],
    );
    assert!(
        !out.status.success() && text(&out).contains("code is used twice"),
        "{}",
        text(&out)
    );
}

/// The simulated platform, stopped when dropped.
struct Central {
    child: Child,
    url: String,
}

impl Drop for Central {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_central(pki: &Path, db: &Path, admin_key: &Path) -> Central {
    ok(Command::new(bin("device-sim"))
        .args(["central", "init-pki", p(pki), "--kiosk", "XH-0001"])
        .output()
        .unwrap());
    let mut child = Command::new(bin("device-sim"))
        .args([
            "central",
            "--listen",
            "127.0.0.1:0",
            "--pki",
            p(pki),
            "--db",
            p(db),
        ])
        .args(["--admin-key", p(admin_key)])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Central { child, url }
}

fn publish(a: &Admin, env: &Path, central: &Central, pki: &Path, token: &str) -> Output {
    kiosk(
        &a.kiosk_dir,
        &[
            "admin",
            "publish",
            p(env),
            "--central",
            &central.url,
            "--token",
            token,
            "--ca",
            p(&pki.join("ca.pem")),
        ],
    )
}

#[test]
fn publish_to_the_platform_over_tls_then_sync_stages_and_home_switches() {
    let a = Admin::new();
    let (_, new, code) = a.edit();
    let env = a.sign(&new, "v2.envelope.json");
    let pki = a.path("pki");
    let central = start_central(&pki, &a.path("central.db"), &a.pub_key());
    let token = std::fs::read_to_string(pki.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();

    // Wrong token, tampered envelope: refused by the platform, with the reason.
    let out = publish(&a, &env, &central, &pki, "not-the-token");
    assert!(
        !out.status.success() && text(&out).contains("admin token"),
        "{}",
        text(&out)
    );
    let bad = a.path("tampered.json");
    tamper(&env, &bad);
    let out = publish(&a, &bad, &central, &pki, &token);
    assert!(
        !out.status.success() && text(&out).contains("(400)"),
        "{}",
        text(&out)
    );

    let published = ok(publish(&a, &env, &central, &pki, &token));
    assert!(
        published.contains("published catalog version 2"),
        "{published}"
    );
    let out = publish(&a, &env, &central, &pki, &token);
    assert!(
        !out.status.success() && text(&out).contains("409"),
        "{}",
        text(&out)
    );

    // A kiosk with its client certificate pulls it.
    let data = a.path("kiosk-data");
    std::fs::create_dir_all(&data).unwrap();
    let config = a.path("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "kiosk_id = \"XH-0001\"\ndata_dir = {:?}\n[central]\nurl = {:?}\nca_file = {:?}\nclient_cert = {:?}\nclient_key = {:?}\n[catalog]\ntrusted_keys = [{:?}]\n",
            p(&data),
            central.url,
            p(&pki.join("ca.pem")),
            p(&pki.join("clients/XH-0001.pem")),
            p(&pki.join("clients/XH-0001.key")),
            p(&a.pub_key()),
        ),
    )
    .unwrap();
    let k = |args: &[&str]| {
        Command::new(bin("kiosk"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap()
    };
    let before: serde_json::Value =
        serde_json::from_str(&ok(k(&["catalog", "stats", "--json"]))).unwrap();
    assert_eq!(before["version"], 1);

    let cycle: serde_json::Value =
        serde_json::from_slice(&k(&["sync", "once", "--json"]).stdout).unwrap();
    let said = cycle["catalog"].as_str().unwrap_or_default();
    assert!(said.starts_with("staged version 2"), "{cycle}");
    let health: serde_json::Value =
        serde_json::from_str(&ok(k(&["catalog", "health", "--json"]))).unwrap();
    assert_eq!(health["version"], 1, "not switched before Home: {health}");
    assert_eq!(health["staged_version"], 2);
    // The heartbeat of that cycle told the platform (the [ext] catalog object).
    let seen = platform_view(&a.path("central.db"));
    assert_eq!(
        (
            &seen["catalog_version"],
            &seen["catalog_staged_version"],
            &seen["catalog_stale"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(2),
            &serde_json::json!(false)
        ),
        "{seen}"
    );
    // Asked again: the platform has nothing newer than what is staged.
    let cycle: serde_json::Value =
        serde_json::from_slice(&k(&["sync", "once", "--json"]).stdout).unwrap();
    assert_eq!(cycle["catalog"], "not_modified", "{cycle}");

    // What the touch app does at Home.
    let switched = ok(k(&["catalog", "switch"]));
    assert!(switched.contains("to 2"), "{switched}");
    let shown: serde_json::Value =
        serde_json::from_str(&ok(k(&["catalog", "show", &code, "--json"]))).unwrap();
    assert_eq!(shown["name_en"], "Renamed by the admin");
    let health: serde_json::Value =
        serde_json::from_str(&ok(k(&["catalog", "health", "--json"]))).unwrap();
    assert_eq!(
        (health["version"].as_u64(), health["stale"].as_bool()),
        (Some(2), Some(false))
    );
    // The next heartbeat reports the switch: version 2 active, nothing staged.
    let cycle: serde_json::Value =
        serde_json::from_slice(&k(&["sync", "once", "--json"]).stdout).unwrap();
    assert_eq!(cycle["heartbeat"], "ok", "{cycle}");
    let seen = platform_view(&a.path("central.db"));
    assert_eq!(seen["catalog_version"], 2, "{seen}");
    assert_eq!(seen["catalog_staged_version"], serde_json::Value::Null);
    assert_eq!(seen["catalog_expires_at"], "2099-01-01T00:00:00Z");
}

/// What the platform knows of XH-0001 from its heartbeats (`device-sim central stats`).
fn platform_view(db: &Path) -> serde_json::Value {
    let out = Command::new(bin("device-sim"))
        .args(["central", "stats", "--db", p(db), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    stats["kiosks"]["XH-0001"].clone()
}
