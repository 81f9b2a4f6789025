//! `kiosk demo`: the whole kiosk with every device simulated in-process. The ID card reader
//! simulator answers on a PTY, the receipt printer simulator on another and renders each
//! receipt into a PNG, the camera is a scene built from the fetched test photos
//! ([`camera`]), and the central platform simulator serves mutual TLS on localhost behind a
//! cable the panel can cut ([`network`]). The configuration is pointed at all of them, so
//! the kiosk runs exactly the code it runs on real hardware.

pub mod camera;
pub mod network;
mod panel;
pub mod walkthrough;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use device_sim::central::{self, PkiPaths, Server, ServerConfig, ServerHandle};
use device_sim::idcard::{Deck, SimConfig as ReaderSimConfig, SimHandle, Simulator as ReaderSim};
use device_sim::printer::{Link, SimConfig as PrinterSimConfig, Simulator as PrinterSim};
use drivers::camera::Camera;
use drivers::device::SharedCounters;

use super::runner::Extras;
use crate::config::Config;

pub use camera::{Scene, SceneCamera, Who};
pub use network::Cable;
pub use panel::Panel;

/// The card whose photo is the demo's card holder (from the simulator's synthetic deck).
pub const HOLDER_CARD: &str = "resident-zhang";

/// The simulators of a running demo. Dropping it stops them.
pub struct Demo {
    /// The kiosk's configuration, pointed at the simulators.
    pub config: Config,
    pub reader: SimHandle,
    pub printer: PrinterSim,
    pub central: ServerHandle,
    pub cable: Cable,
    pub scene: Arc<Scene>,
    pub receipts_dir: PathBuf,
    pub deck: Deck,
}

impl Demo {
    /// Starts the simulators under `dir` (kept between runs: the kiosk's database, the
    /// printed receipts, the platform's database). `faces_dir`: the fetched test photos.
    pub fn start(base: &Config, dir: &Path, faces_dir: &Path) -> anyhow::Result<Demo> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the demo folder {}", dir.display()))?;
        let mut config = base.clone();
        config.data_dir = dir.join("kiosk");

        // The reader, with the holder's card carrying a real test photo (when fetched).
        let holder_photo = faces_dir.join("obama2.jpg");
        let mut deck_text = device_sim::idcard::deck::BUILTIN_DECK.to_string();
        if holder_photo.is_file() {
            deck_text = deck_text.replacen(
                &format!("id = \"{HOLDER_CARD}\"\n"),
                &format!(
                    "id = \"{HOLDER_CARD}\"\nphoto = {}\n",
                    toml_string(&holder_photo.display().to_string())
                ),
                1,
            );
        }
        let deck = Deck::parse(&deck_text, dir).context("demo card deck")?;
        let mut rc = ReaderSimConfig::new(deck.clone());
        rc.link = Some(dir.join("ttyIDCARD"));
        rc.initial_card = None;
        // Nothing on the reader until someone puts a card on it from the panel.
        let reader = ReaderSim::start(rc).context("ID card reader simulator")?;
        reader.remove();
        config.devices.id_reader.port = reader.port_path().display().to_string();

        let receipts_dir = dir.join("receipts");
        std::fs::create_dir_all(&receipts_dir)?;
        let printer = PrinterSim::start(PrinterSimConfig::new(
            Link::Pty(dir.join("ttyPRINTER")),
            &receipts_dir,
        ))
        .context("receipt printer simulator")?;
        config.devices.printer.target = printer.target();

        let pki_dir = dir.join("pki");
        central::init_pki(&pki_dir, std::slice::from_ref(&config.kiosk_id))
            .context("demo certificates")?;
        let pki = PkiPaths::new(&pki_dir);
        let server = Server::start(ServerConfig::new(&pki_dir, &dir.join("central.db")))
            .context("central platform simulator")?;
        let cable = Cable::start(server.addr())?;
        config.central.url = format!("https://127.0.0.1:{}", cable.addr().port());
        config.central.ca_file = Some(pki.ca_cert());
        config.central.client_cert = Some(pki.client_cert(&config.kiosk_id));
        config.central.client_key = Some(pki.client_key(&config.kiosk_id));
        config.sync.heartbeat_s = config.sync.heartbeat_s.min(10);

        let models =
            drivers::face::resolve_models_dir(&config.data_path(&config.devices.face.models_dir));
        let scene = Arc::new(Scene::load(faces_dir, &models));
        if !scene.has_people() {
            tracing::warn!(
                "demo camera: test photos or face models missing (scripts/setup.sh fetches them); the camera sees nobody"
            );
        }
        config.devices.camera.source = "demo-scene".into();
        Ok(Demo {
            config,
            reader,
            printer,
            central: server,
            cable,
            scene,
            receipts_dir,
            deck,
        })
    }

    /// What the kiosk needs besides the configuration: the scene camera, whose simulated
    /// citizen follows the face prompts.
    pub fn extras(&self) -> Extras {
        let scene = self.scene.clone();
        let camera = Camera::new(
            Box::new(SceneCamera::new(
                self.scene.clone(),
                self.config.devices.camera.fps,
            )),
            SharedCounters::in_memory(),
        );
        Extras {
            camera: Some(camera),
            face_observer: Some(Arc::new(move |p| scene.prompt(p))),
            ..Extras::default()
        }
    }

    /// The citizen holds the newest printed receipt up to the camera (for the status page's
    /// QR scan). Errors when nothing was printed yet.
    pub fn hold_up_last_receipt(&self) -> anyhow::Result<()> {
        let newest = std::fs::read_dir(&self.receipts_dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "png"))
            .max()
            .ok_or_else(|| anyhow::anyhow!("no receipt has been printed yet"))?;
        let picture = drivers::camera::files::load_picture(&newest)?;
        self.scene.hold_up(&picture)
    }
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The folder of the fetched test photos: `testdata/faces` of this checkout (found from the
/// working directory upwards), or `KIOSK_FACES_DIR`.
pub fn faces_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KIOSK_FACES_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(d);
    }
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            let candidate = dir.join("testdata/faces");
            if candidate.join("obama.jpg").is_file() {
                return candidate;
            }
        }
    }
    PathBuf::from("testdata/faces")
}
