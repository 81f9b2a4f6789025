//! The kiosk's configuration: one TOML file (`--config FILE`), every key optional with a
//! documented default. `--data-dir` on the command line overrides `data_dir`.
//!
//! Each section is a struct of its own; a test checks the README's configuration reference
//! against these structs, so the two cannot drift.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Default data folder when neither `--data-dir` nor `data_dir` is given.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/hall-kiosk";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// This kiosk's id; also the CN of its client certificate.
    pub kiosk_id: String,
    /// The hall's name, printed on receipts.
    pub hall_name: String,
    /// Folder for the database, keys and device counters.
    pub data_dir: PathBuf,
    pub session: SessionConfig,
    pub security: SecurityConfig,
    pub central: CentralConfig,
    pub sync: SyncConfig,
    pub catalog: CatalogConfig,
    pub devices: DevicesConfig,
    pub maintenance: MaintenanceConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            kiosk_id: "XH-0001".into(),
            hall_name: "徐汇区行政服务中心 24小时自助服务区".into(),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            session: SessionConfig::default(),
            security: SecurityConfig::default(),
            central: CentralConfig::default(),
            sync: SyncConfig::default(),
            catalog: CatalogConfig::default(),
            devices: DevicesConfig::default(),
            maintenance: MaintenanceConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Seconds a step may sit untouched before the session ends.
    pub step_timeout_s: u64,
    /// Seconds before the timeout at which the warning overlay appears.
    pub warning_s: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            step_timeout_s: 70,
            warning_s: 15,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// 32-byte key that encrypts personal data at rest. Relative paths are under `data_dir`.
    /// Created (mode 0600) on first start when missing; refused if others can read it.
    pub data_key_file: PathBuf,
    /// Days an acknowledged submission's receipt number and hash are kept.
    pub acked_retention_days: u32,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            data_key_file: PathBuf::from("data.key"),
            acked_retention_days: 90,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CentralConfig {
    /// Base URL of the central platform, e.g. `https://127.0.0.1:8443`. Empty: no sync.
    pub url: String,
    /// The only CA trusted for the platform's certificate (PEM).
    pub ca_file: Option<PathBuf>,
    /// This kiosk's client certificate (PEM).
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub client_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncConfig {
    /// Submissions per batch (the contract allows at most 100).
    pub batch_size: usize,
    /// First retry delay in seconds (exponential backoff with full jitter from here).
    pub backoff_min_s: u64,
    /// Longest retry delay in seconds.
    pub backoff_max_s: u64,
    /// Seconds between heartbeats.
    pub heartbeat_s: u64,
    /// Seconds a request may take.
    pub request_timeout_s: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            batch_size: 100,
            backoff_min_s: 1,
            backoff_max_s: 300,
            heartbeat_s: 60,
            request_timeout_s: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogConfig {
    /// Public keys (`ID.pub` files, base64 raw Ed25519) trusted to sign catalogs.
    pub trusted_keys: Vec<PathBuf>,
    /// Seconds of clock drift tolerated past a catalog's expiry.
    pub expiry_grace_s: u64,
    /// Largest catalog envelope accepted, in bytes.
    pub max_envelope_bytes: u64,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig {
            trusted_keys: Vec::new(),
            expiry_grace_s: 7 * 24 * 3600,
            max_envelope_bytes: 16 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevicesConfig {
    pub id_reader: IdReaderConfig,
    pub printer: PrinterConfig,
    pub camera: CameraConfig,
    pub face: FaceConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdReaderConfig {
    /// Serial port of the reader, e.g. `/dev/ttyUSB0`. Empty: simulated in `kiosk demo`.
    pub port: String,
    pub baud: u32,
    /// Milliseconds between polls for a card.
    pub poll_ms: u64,
    /// Vendor photo decoder: a command that reads the 1024-byte blob on stdin and writes a
    /// BMP on stdout. Empty: only the simulator's test encoding is decoded.
    pub photo_decoder_command: String,
}

impl Default for IdReaderConfig {
    fn default() -> Self {
        IdReaderConfig {
            port: String::new(),
            baud: 115_200,
            poll_ms: 300,
            photo_decoder_command: String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrinterConfig {
    /// `serial:PATH`, `tcp:HOST:PORT` or `file:PATH` (USB printer class). Empty: simulated.
    pub target: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CameraConfig {
    /// `v4l:INDEX` for a real camera, `files:DIR_OR_FILE` for a file-backed source.
    pub source: String,
    pub fps: u32,
}

impl Default for CameraConfig {
    fn default() -> Self {
        CameraConfig {
            source: "v4l:0".into(),
            fps: 15,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaceConfig {
    /// Folder holding the two ONNX models (fetched by `scripts/fetch-models.sh`).
    pub models_dir: PathBuf,
    /// Cosine similarity needed to pass (OpenCV's published SFace value).
    pub threshold: f32,
    /// Failed attempts before the citizen is offered another way.
    pub max_attempts: u32,
}

impl Default for FaceConfig {
    fn default() -> Self {
        FaceConfig {
            models_dir: PathBuf::from("models"),
            threshold: 0.363,
            max_attempts: 3,
        }
    }
}

/// Staff access to the diagnostics screen and the local metrics endpoint
/// (`kiosk::maintenance`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaintenanceConfig {
    /// Argon2id PHC string of the staff PIN, from `kiosk staff set-pin`. Empty: the
    /// diagnostics screen cannot be entered.
    pub staff_pin_hash: String,
    /// Wrong PINs in a row that lock the diagnostics screen.
    pub pin_max_failures: u32,
    /// Seconds the diagnostics screen stays locked after too many wrong PINs.
    pub pin_lockout_s: u64,
    /// Port of the Prometheus text endpoint on 127.0.0.1 (`GET /metrics`). 0: off.
    pub metrics_port: u16,
    /// Where the diagnostics screen exports quarantined submissions (metadata and the
    /// platform's reasons, no personal data). Relative: under `data_dir` (created when
    /// missing). Absolute, e.g. a USB stick's mount point: it must exist.
    pub export_dir: PathBuf,
    /// Refuse to export unless `export_dir` is a mounted file system of its own (not the
    /// empty mount-point folder on the kiosk's disk while the USB stick is out).
    pub export_mount_required: bool,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            staff_pin_hash: String::new(),
            pin_max_failures: 5,
            pin_lockout_s: 15 * 60,
            metrics_port: 9464,
            export_dir: PathBuf::from("exports"),
            export_mount_required: false,
        }
    }
}

impl Config {
    /// Reads the file, or the defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        match path {
            None => Ok(Config::default()),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config file {}", p.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("config file {} is not valid", p.display()))
            }
        }
    }

    /// A path from the config: absolute stays, relative is under `data_dir`.
    pub fn data_path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.data_dir.join(p)
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("kiosk.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults_and_unknown_keys_are_refused() {
        let c: Config = toml::from_str("").unwrap();
        assert_eq!(c.session.step_timeout_s, 70);
        assert_eq!(c.devices.id_reader.baud, 115_200);
        let err = toml::from_str::<Config>("kiosk_idd = 'x'").unwrap_err();
        assert!(err.to_string().contains("kiosk_idd"));
    }

    #[test]
    fn relative_paths_live_under_the_data_dir() {
        let c = Config {
            data_dir: PathBuf::from("/tmp/k"),
            ..Config::default()
        };
        assert_eq!(
            c.data_path(Path::new("data.key")),
            PathBuf::from("/tmp/k/data.key")
        );
        assert_eq!(c.data_path(Path::new("/etc/x")), PathBuf::from("/etc/x"));
    }
}
