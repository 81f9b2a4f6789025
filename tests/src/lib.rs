//! Helpers for the end-to-end tests: where the workspace's binaries are, and running them.
//!
//! The binaries (`kiosk`, `device-sim`) belong to other packages, so Cargo's
//! `CARGO_BIN_EXE_*` does not name them here; they sit in the same target folder as the
//! test executable (`target/<profile>/deps/..`). `cargo test --workspace` and
//! `cargo nextest run --workspace` build them before any test runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of a workspace binary (`kiosk`, `device-sim`) next to the running test.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test>-<hash>  ->  target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo nextest run --workspace` (or `cargo test --workspace`) so the binaries are built",
        path.display()
    );
    path
}

/// Runs `kiosk` with the given arguments against a data folder and returns its output.
pub fn kiosk(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(bin("kiosk"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run kiosk")
}

/// Runs `kiosk ... --json` and parses stdout, failing the test with stderr on a non-zero exit.
pub fn kiosk_json(data_dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = kiosk(data_dir, args);
    assert!(
        out.status.success(),
        "kiosk {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "kiosk {:?} printed no JSON ({e}): {}",
            args,
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The workspace root (for fixtures and `models/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}
