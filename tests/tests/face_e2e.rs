//! `kiosk face verify` end to end: the real binary, the fetched models and photos.
//! Needs `scripts/setup.sh` (models + photos); fails, never skips, without them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn faces() -> PathBuf {
    let dir = e2e::workspace_root().join("testdata/faces");
    assert!(
        dir.join("obama.jpg").is_file(),
        "test photos missing in {}: run scripts/setup.sh first",
        dir.display()
    );
    dir
}

fn models() -> PathBuf {
    let dir = e2e::workspace_root().join("models");
    assert!(
        dir.join("face_recognition_sface_2021dec.onnx").is_file(),
        "face models missing in {}: run scripts/setup.sh first",
        dir.display()
    );
    dir
}

fn verify(data: &Path, models: &Path, id: &Path, live: &Path, json: bool) -> Output {
    let mut cmd = Command::new(e2e::bin("kiosk"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(["face", "verify", "--id-photo"])
        .arg(id)
        .arg("--live")
        .arg(live)
        .env("KIOSK_MODELS_DIR", models);
    if json {
        cmd.arg("--json");
    }
    cmd.output().expect("run kiosk")
}

fn verify_json(id: &Path, live: &Path) -> serde_json::Value {
    let data = tempfile::tempdir().unwrap();
    let out = verify(data.path(), &models(), id, live, true);
    assert!(
        out.status.success(),
        "kiosk face verify failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn same_person_passes_with_a_score_and_a_time() {
    let f = faces();
    let v = verify_json(&f.join("obama.jpg"), &f.join("obama2.jpg"));
    assert_eq!(v["decision"], "pass", "{v}");
    let score = v["score"].as_f64().expect("score");
    assert!(score > 0.363 && score <= 1.0, "{v}");
    assert!(v["ms"].as_f64().expect("ms") > 0.0, "{v}");
    assert!(
        (v["threshold"].as_f64().unwrap() - 0.363).abs() < 1e-6,
        "{v}"
    );
}

#[test]
fn different_people_fail() {
    let f = faces();
    let v = verify_json(&f.join("obama.jpg"), &f.join("biden.jpg"));
    assert_eq!(v["decision"], "fail", "{v}");
    assert!(v["score"].as_f64().unwrap() < 0.363, "{v}");
}

#[test]
fn a_picture_without_a_face_says_no_face_and_has_no_score() {
    let f = faces();
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("wall.png");
    // A plain grey wall: what the camera sees when nobody stands there.
    image::RgbImage::from_pixel(320, 240, image::Rgb([128, 128, 128]))
        .save(&blank)
        .unwrap();
    let v = verify_json(&f.join("obama.jpg"), &blank);
    assert_eq!(v["decision"], "no_face", "{v}");
    assert!(v["score"].is_null(), "{v}");
}

#[test]
fn human_output_and_missing_models() {
    let f = faces();
    let data = tempfile::tempdir().unwrap();
    let out = verify(
        data.path(),
        &models(),
        &f.join("obama.jpg"),
        &f.join("obama3.jpg"),
        false,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("decision: pass"), "{text}");

    let empty = tempfile::tempdir().unwrap();
    let out = verify(
        data.path(),
        empty.path(),
        &f.join("obama.jpg"),
        &f.join("obama3.jpg"),
        true,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scripts/fetch-models.sh"), "{err}");
}
