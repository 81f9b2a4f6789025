//! Shared by the `sync_*` tests: a real simulated platform over mutual TLS on 127.0.0.1, a
//! kiosk data folder and config pointing at it, and synthetic submissions.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use device_sim::central::{self, FaultConfig, PkiPaths, Server, ServerConfig, ServerHandle};
use kiosk::config::Config;
use kiosk::crypto::DataKey;
use kiosk::outbox::{self, Applicant, Enqueued, NewSubmission};
use kiosk::store::Store;
use kiosk::sync::SyncEngine;

pub const KIOSK: &str = "XH-0001";
pub const SYNTHETIC_ID: &str = "11010519491231002X";

pub struct Env {
    pub dir: tempfile::TempDir,
    pub pki: PkiPaths,
    pub sim: ServerHandle,
    pub config: Config,
}

impl Env {
    /// A PKI with client certificates for XH-0001 and XH-0002, a simulator with `faults`,
    /// and a kiosk config for XH-0001.
    pub fn new(faults: FaultConfig) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let pki_dir = dir.path().join("pki");
        central::init_pki(&pki_dir, &[KIOSK.into(), "XH-0002".into()]).unwrap();
        let pki = PkiPaths::new(&pki_dir);
        let mut sc = ServerConfig::new(&pki_dir, &dir.path().join("central.db"));
        sc.faults = faults;
        let sim = Server::start(sc).unwrap();
        let config = kiosk_config(&dir.path().join("kiosk"), &sim.url(), &pki, KIOSK);
        Env {
            dir,
            pki,
            sim,
            config,
        }
    }

    pub fn store(&self) -> Store {
        Store::open(&self.config).unwrap()
    }

    pub fn key(&self) -> Arc<DataKey> {
        Arc::new(
            DataKey::load_or_create(&self.config.data_path(&self.config.security.data_key_file))
                .unwrap(),
        )
    }

    /// An engine with a fixed RNG seed (reproducible backoff).
    pub fn engine(&self) -> SyncEngine {
        engine_for(&self.config)
    }

    /// Queues `phones.len()` submissions, one a phone number.
    pub fn enqueue(&self, phones: &[&str]) -> Vec<Enqueued> {
        let mut store = self.store();
        let key = self.key();
        phones
            .iter()
            .map(|p| outbox::enqueue(&mut store, &key, &submission(p), chrono::Utc::now()).unwrap())
            .collect()
    }

    /// Writes the config as TOML for the `kiosk` binary.
    pub fn write_config(&self) -> PathBuf {
        write_config(self.dir.path(), &self.config)
    }
}

pub fn engine_for(config: &Config) -> SyncEngine {
    let store = Store::open(config).unwrap();
    let key = DataKey::load_or_create(&config.data_path(&config.security.data_key_file)).unwrap();
    let mut e = SyncEngine::new(config, store, Arc::new(key)).unwrap();
    e.seed_rng(7);
    e
}

/// A kiosk config for `kiosk_id` using the client certificate issued to `kiosk_id`.
pub fn kiosk_config(data_dir: &Path, url: &str, pki: &PkiPaths, kiosk_id: &str) -> Config {
    let mut c = Config {
        kiosk_id: kiosk_id.into(),
        data_dir: data_dir.to_path_buf(),
        ..Config::default()
    };
    c.central.url = url.into();
    c.central.ca_file = Some(pki.ca_cert());
    c.central.client_cert = Some(pki.client_cert(kiosk_id));
    c.central.client_key = Some(pki.client_key(kiosk_id));
    c.sync.request_timeout_s = 10;
    c
}

pub fn write_config(dir: &Path, config: &Config) -> PathBuf {
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, toml::to_string(config).unwrap()).unwrap();
    path
}

pub fn submission(phone: &str) -> NewSubmission {
    NewSubmission {
        matter_code: "310104010001".into(),
        situation: "01".into(),
        catalog_version: 1,
        applicant: Applicant {
            id_type: "resident".into(),
            id_number: SYNTHETIC_ID.into(),
            name: "张三丰".into(),
            verified_by: "card+face".into(),
        },
        form: BTreeMap::from([("phone".to_string(), phone.to_string())]),
        attachments: vec![],
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `(state, reject_code, receipt_no)` of every outbox entry in seq order.
pub fn states(store: &Store) -> Vec<(String, Option<String>, Option<String>)> {
    let mut stmt = store
        .conn()
        .prepare(
            "SELECT o.state, o.reject_code, s.receipt_no FROM outbox o
             JOIN submissions s ON s.id = o.submission_id ORDER BY o.seq",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}
