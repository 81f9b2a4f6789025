//! Face verification speed and agreement: our tract pipeline against OpenCV's own
//! `FaceDetectorYN` + `FaceRecognizerSF` (opencv-python, same model files, same pictures,
//! same steps; `scripts/bench_face_opencv.py`), both on one thread, in the same run.
//!
//! Measured the way the kiosk works, on both sides:
//! - enrol: once per card, the card photo (102x126, given a black border) is detected,
//!   aligned and embedded;
//! - verify: each live camera frame (640x480) is detected at the engine's working size
//!   (`DetectorConfig::max_side`, 320 by default; the peer is given the same size), the face
//!   aligned on the full frame and embedded, and compared with the card (cosine). Ours is
//!   `FaceEngine::observe`, which also runs the quality gates.
//! - turn (no target, for the record): a frame of the head-turn challenge, detected at
//!   `turn_max_side` (640: full size) for finer landmarks (`FaceEngine::observe_turn`),
//!   against the peer verifying the same frame at that size.
//!
//! Both are timed apart and together, in process CPU time (the cost on the CPU, whatever
//! else the machine runs; the wall-clock medians are in the notes), alternating between the
//! two sides pair by pair so a change in the machine's load hits both alike. Live frames are made
//! from the test photos like a kiosk camera would see them (see [`pictures`]). Targets:
//! verifying a frame <= 1.0x OpenCV's time and <= 40 ms; scores within 0.05 of OpenCV's.
//!
//! Needs the fetched models and test photos (`scripts/setup.sh`) and, for the peer, OpenCV
//! for Python (`scripts/fetch-bench-peer.sh` makes `.cache/opencv-venv`). When the peer is
//! missing the rows say so; no number is made up.

mod peer;
mod pictures;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use drivers::camera::files::load_picture;
use drivers::camera::Frame;
use drivers::face::{cosine, resolve_models_dir, EngineConfig, FaceEngine, Observation};

use super::{percentile, BenchRow};
use crate::config::Config;
use peer::{Peer, PeerRun, PEER_SCRIPT};

/// Timed repetitions of every pair on each side.
const REPS: usize = 12;
const THRESHOLD_MS: f64 = 40.0;
const MAX_SCORE_DIFF: f64 = 0.05;

/// (card photo, live frame) pairs; `card:NAME` is an ID-card-sized crop made from NAME, and
/// each live frame is a 640x480 camera view made from the named photo.
const PAIRS: [(&str, &str); 5] = [
    ("card:obama.jpg", "obama2.jpg"),
    ("card:obama.jpg", "obama3.jpg"),
    ("card:obama.jpg", "biden.jpg"),
    ("obama.jpg", "obama_partial_face2.jpg"),
    ("card:biden.jpg", "astronaut.png"),
];

/// Medians in ms of one side's steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Times {
    pub enrol: f64,
    pub verify: f64,
    pub total: f64,
}

/// One side's samples in ms, one per (card, frame) pair and repetition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    pub enrol: Vec<f64>,
    pub verify: Vec<f64>,
    pub total: Vec<f64>,
}

impl Samples {
    fn push(&mut self, enrol: f64, verify: f64) {
        self.enrol.push(enrol);
        self.verify.push(verify);
        self.total.push(enrol + verify);
    }

    fn medians(&self) -> Times {
        Times {
            enrol: median(&self.enrol),
            verify: median(&self.verify),
            total: median(&self.total),
        }
    }
}

/// The median of unsorted samples.
fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    percentile(&v, 50.0)
}

/// What the peer measured.
#[derive(Debug, Clone)]
struct Theirs {
    version: String,
    cpu: Samples,
    wall: Samples,
    scores: Vec<Option<f64>>,
}

/// What our side measured.
#[derive(Debug, Clone)]
struct Ours {
    cpu: Samples,
    wall: Samples,
    scores: Vec<Option<f32>>,
    /// Why a frame gave no score when our quality gates refused it (the peer has none).
    refused: Vec<Option<String>>,
    max_side: usize,
    /// A challenge frame (`observe_turn`): CPU and wall ms.
    turn_cpu: Vec<f64>,
    turn_wall: Vec<f64>,
    turn_max_side: usize,
}

pub fn run(config: &Config) -> anyhow::Result<Vec<BenchRow>> {
    let Some(root) = repo_root() else {
        return Ok(vec![unavailable(&format!(
            "{PEER_SCRIPT} not found: run from a checkout or set KIOSK_REPO_DIR"
        ))]);
    };
    let photos = root.join("testdata/faces");
    let mut engine = match FaceEngine::load(&models_dir(config), EngineConfig::default()) {
        Ok(e) => e,
        Err(e) => return Ok(vec![unavailable(&e.to_string())]),
    };
    if !photos.join("obama.jpg").is_file() {
        return Ok(vec![unavailable(&format!(
            "test photos missing in {}: run scripts/setup.sh",
            photos.display()
        ))]);
    }

    // The pictures are written once so both pipelines read identical pixels.
    let work = std::env::temp_dir().join(format!("kiosk-bench-face-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("create {}", work.display()))?;
    let result = run_in(&mut engine, config, &root, &photos, &work);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn run_in(
    engine: &mut FaceEngine,
    config: &Config,
    root: &Path,
    photos: &Path,
    work: &Path,
) -> anyhow::Result<Vec<BenchRow>> {
    let mut paths = Vec::new();
    for (card, live) in PAIRS {
        paths.push((
            pictures::card_photo(engine, photos, work, card)?,
            pictures::live_frame(engine, photos, work, live)?,
        ));
    }
    let inputs: Vec<(Frame, Frame)> = paths
        .iter()
        .map(|(a, b)| Ok((load_picture(a)?, load_picture(b)?)))
        .collect::<anyhow::Result<_>>()?;
    let mut ours = warm_up(engine, &inputs)?;
    let models = models_dir(config);
    let mut peer = Peer::start(&PeerRun {
        root,
        models: &models,
        pairs: &paths,
        work,
        max_side: ours.max_side,
    })
    .map(with_samples);
    // The same peer at the challenge's detection size, for the turn row.
    let mut turn_peer = Peer::start(&PeerRun {
        root,
        models: &models,
        pairs: &paths,
        work,
        max_side: ours.turn_max_side,
    })
    .map(with_samples);
    for rep in 0..REPS {
        for (i, (card, frame)) in inputs.iter().enumerate() {
            // Who goes first alternates, so that neither side always follows the other.
            let peer_first = (rep + i) % 2 == 1;
            if peer_first {
                time_peer(&mut peer, i);
            }
            let (cpu, wall) = time_ours(engine, card, frame)?;
            ours.cpu.push(cpu[0], cpu[1]);
            ours.wall.push(wall[0], wall[1]);
            if !peer_first {
                time_peer(&mut peer, i);
            }
            if peer_first {
                time_peer(&mut turn_peer, i);
            }
            let (cpu, wall) = time_turn(engine, frame)?;
            ours.turn_cpu.push(cpu);
            ours.turn_wall.push(wall);
            if !peer_first {
                time_peer(&mut turn_peer, i);
            }
        }
    }
    let mut rows = rows(&ours, peer.map(|(_, theirs)| theirs));
    rows.push(turn_row(&ours, turn_peer.map(|(_, theirs)| theirs)));
    Ok(rows)
}

fn with_samples(p: Peer) -> (Peer, Theirs) {
    let (version, scores) = (p.version.clone(), p.scores.clone());
    let theirs = Theirs {
        version,
        cpu: Samples::default(),
        wall: Samples::default(),
        scores,
    };
    (p, theirs)
}

/// Has the peer time pair `i`; a peer that fails is dropped (stopped) with the reason.
fn time_peer(peer: &mut Result<(Peer, Theirs), String>, i: usize) {
    let timing = match peer {
        Ok((p, _)) => p.time_pair(i),
        Err(_) => return,
    };
    match (timing, &mut *peer) {
        (Ok(t), Ok((_, theirs))) => {
            theirs.cpu.push(t.cpu[0], t.cpu[1]);
            theirs.wall.push(t.wall[0], t.wall[1]);
        }
        (Err(why), slot) => *slot = Err(why),
        (Ok(_), Err(_)) => {}
    }
}

/// A first pass that builds every plan and gives our scores.
fn warm_up(engine: &mut FaceEngine, inputs: &[(Frame, Frame)]) -> anyhow::Result<Ours> {
    let mut scores = Vec::new();
    let mut refused = Vec::new();
    for (card, frame) in inputs {
        let reference = engine.enrol_id_photo(card.view())?;
        match (reference, engine.observe(frame.view())?) {
            (Some(r), Observation::Face(s)) => {
                scores.push(Some(cosine(&r, &s.embedding)));
                refused.push(None);
            }
            (_, Observation::Rejected(issue)) => {
                scores.push(None);
                refused.push(Some(format!("{issue:?}")));
            }
            (None, _) => {
                scores.push(None);
                refused.push(None);
            }
        }
    }
    Ok(Ours {
        cpu: Samples::default(),
        wall: Samples::default(),
        scores,
        refused,
        max_side: engine.config().detector.max_side,
        turn_cpu: Vec::new(),
        turn_wall: Vec::new(),
        turn_max_side: engine.config().detector.turn_max_side,
    })
}

/// Our analysis of one frame of the head-turn challenge: (CPU ms, wall ms).
fn time_turn(engine: &mut FaceEngine, frame: &Frame) -> anyhow::Result<(f64, f64)> {
    let (c0, w0) = (cpu_ms(), Instant::now());
    std::hint::black_box(engine.observe_turn(frame.view())?);
    Ok((cpu_ms() - c0, w0.elapsed().as_secs_f64() * 1000.0))
}

/// The challenge frame's row: no target (the verification targets are on the verify row),
/// compared with the peer verifying the same frame at the same detection size.
fn turn_row(ours: &Ours, peer: Result<Theirs, String>) -> BenchRow {
    let (cpu, wall) = (median(&ours.turn_cpu), median(&ours.turn_wall));
    let what = format!(
        "one frame of the head-turn challenge (1-2 s of frames per attempt): detect at max side \
         {}, align, embed; process CPU time, one thread, median of {}; wall median {wall:.1} ms; \
         no target (the verification targets are on face_verify_frame_median)",
        ours.turn_max_side,
        ours.turn_cpu.len()
    );
    let row = BenchRow::new("face_turn_frame_median", cpu, "ms");
    match peer {
        Ok(p) => row
            .peer(
                &format!("opencv {} (1 thread), same frame and size", p.version),
                p.cpu.medians().verify,
            )
            .note(&what),
        Err(why) => {
            let mut row = row.note(&what);
            row.peer = why;
            row
        }
    }
}

/// Our enrolment and verification of one pair: ([enrol, verify] CPU ms, the same in wall ms).
fn time_ours(
    engine: &mut FaceEngine,
    card: &Frame,
    frame: &Frame,
) -> anyhow::Result<([f64; 2], [f64; 2])> {
    let (c0, w0) = (cpu_ms(), Instant::now());
    let reference = engine.enrol_id_photo(card.view())?;
    let (c1, w1) = (cpu_ms(), Instant::now());
    // What the kiosk does with each frame: observe it, compare with the card.
    if let (Some(r), Observation::Face(s)) = (&reference, engine.observe(frame.view())?) {
        std::hint::black_box(cosine(r, &s.embedding));
    }
    let (c2, w2) = (cpu_ms(), Instant::now());
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    Ok(([c1 - c0, c2 - c1], [ms(w1 - w0), ms(w2 - w1)]))
}

/// This process's CPU time in ms: what the work costs, whatever else the machine runs.
fn cpu_ms() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } != 0 {
        return f64::NAN;
    }
    t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1e6
}

/// The models folder of this configuration (as `kiosk face verify` resolves it).
fn models_dir(config: &Config) -> PathBuf {
    resolve_models_dir(&config.data_path(&config.devices.face.models_dir))
}

/// The rows: each step's time vs OpenCV, verification vs the 40 ms floor, score agreement
/// per pair and overall.
fn rows(ours: &Ours, peer: Result<Theirs, String>) -> Vec<BenchRow> {
    let scale = (ours.max_side as f64 / f64::from(pictures::FRAME_W)).min(1.0);
    let work = format!(
        "detect at {}x{} (max side {}), align, embed",
        (f64::from(pictures::FRAME_W) * scale).round(),
        (f64::from(pictures::FRAME_H) * scale).round(),
        ours.max_side
    );
    let (cpu, wall) = (ours.cpu.medians(), ours.wall.medians());
    let timed = [
        (
            "face_verify_frame_median",
            cpu.verify,
            wall.verify,
            format!("one 640x480 live frame: {work}, cosine with the card"),
        ),
        (
            "face_enrol_card_median",
            cpu.enrol,
            wall.enrol,
            "the 102x126 card photo, once per card: border, detect, align, embed".to_string(),
        ),
        (
            "face_enrol_plus_verify_median",
            cpu.total,
            wall.total,
            "enrol one card + verify one frame".to_string(),
        ),
    ];
    let mut rows = Vec::new();
    let their_times = peer
        .as_ref()
        .ok()
        .map(|p| (p.cpu.medians(), p.wall.medians(), p.cpu.verify.len()));
    for (i, (name, cpu, wall, what)) in timed.into_iter().enumerate() {
        let row = BenchRow::new(name, cpu, "ms");
        let pick = |x: &Times| [x.verify, x.enrol, x.total][i];
        let theirs = peer
            .as_ref()
            .ok()
            .zip(their_times.as_ref())
            .map(|(p, t)| (pick(&t.0), pick(&t.1), p.version.as_str()));
        let ours_n = ours.cpu.verify.len();
        let clock = match &their_times {
            Some((_, _, their_n)) => format!(
                "process CPU time, one thread, medians of {ours_n} (ours) and {their_n} \
                 (opencv) samples taken alternately"
            ),
            None => format!("process CPU time, one thread, median of {ours_n} samples"),
        };
        rows.push(match (theirs, &peer) {
            (Some((their_cpu, their_wall, version)), _) => {
                let row = row
                    .peer(&format!("opencv {version} (1 thread)"), their_cpu)
                    .note(&format!(
                        "{what}; {clock}; wall medians {wall:.1} vs {their_wall:.1} ms"
                    ));
                let ok = row.ratio.is_some_and(|r| r <= 1.0);
                row.target("<= 1.0x", ok)
            }
            (None, Err(why)) => no_peer(row.note(&format!("{what}; {clock}")), why),
            (None, Ok(_)) => row,
        });
        if i == 0 {
            rows.push(
                BenchRow::new("face_verify_frame_one_core", cpu, "ms")
                    .target("<= 40 ms", cpu <= THRESHOLD_MS)
                    .note("the verify row's figure: one thread, one core"),
            );
        }
    }
    let Ok(peer) = peer else {
        return rows;
    };
    let mut worst: f64 = 0.0;
    let mut all_ok = true;
    for (i, ((card, live), our)) in PAIRS.iter().zip(&ours.scores).enumerate() {
        let theirs = peer.scores.get(i).copied().flatten();
        let name = format!("face_score_{}_vs_{}", short(card), short(live));
        match (our, theirs) {
            (Some(o), Some(t)) => {
                let diff = (*o as f64 - t).abs();
                worst = worst.max(diff);
                let mut row = BenchRow::new(&name, *o as f64, "cos").peer("opencv score", t);
                // A ratio of two cosines says nothing; the difference is the figure.
                row.ratio = None;
                rows.push(row.target("|diff| <= 0.05", diff <= MAX_SCORE_DIFF));
            }
            _ => {
                // One side found no face: they disagree unless neither did.
                let agree = our.is_none() && theirs.is_none();
                all_ok &= agree;
                let mut row = BenchRow::new(&name, our.map(f64::from).unwrap_or(f64::NAN), "cos");
                row.peer = format!("opencv score {theirs:?}");
                if let Some(Some(why)) = ours.refused.get(i) {
                    row.note = format!("our quality gate refused the frame: {why}");
                }
                rows.push(row.target("both find a face", agree));
            }
        }
    }
    let mut row = BenchRow::new("face_score_max_abs_diff", worst, "cos");
    row.peer = "opencv, same pairs".into();
    rows.push(row.target("<= 0.05", all_ok && worst <= MAX_SCORE_DIFF));
    rows
}

fn short(spec: &str) -> String {
    spec.replace("card:", "card_")
        .replace(".jpg", "")
        .replace(".png", "")
}

fn no_peer(mut row: BenchRow, why: &str) -> BenchRow {
    row.peer = why.to_string();
    row.target("<= 1.0x (peer missing)", false)
}

fn unavailable(why: &str) -> BenchRow {
    let mut row = BenchRow::new("face_verify_frame_median", f64::NAN, "ms");
    row.peer = why.to_string();
    row.target("<= 1.0x", false)
}

/// Where `scripts/` and `testdata/` are: `KIOSK_REPO_DIR`, the current folder or a parent,
/// or the checkout this binary was built from.
fn repo_root() -> Option<PathBuf> {
    let has_script = |d: &Path| d.join(PEER_SCRIPT).is_file();
    if let Some(d) = std::env::var_os("KIOSK_REPO_DIR").map(PathBuf::from) {
        return has_script(&d).then_some(d);
    }
    if let Ok(cwd) = std::env::current_dir() {
        if let Some(d) = cwd.ancestors().find(|d| has_script(d)) {
            return Some(d.to_path_buf());
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .filter(|d| has_script(d))
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(enrol: f64, verify: f64) -> Samples {
        let mut s = Samples::default();
        // Three samples around the given median.
        for d in [-1.0, 0.0, 2.0] {
            s.push(enrol + d, verify + d);
        }
        s
    }

    fn ours(verify: f64, scores: Vec<Option<f32>>) -> Ours {
        Ours {
            cpu: samples(25.0, verify),
            wall: samples(25.0, verify),
            refused: vec![None; scores.len()],
            scores,
            max_side: 320,
            turn_cpu: vec![verify * 2.0],
            turn_wall: vec![verify * 2.0],
            turn_max_side: 640,
        }
    }

    #[test]
    fn a_missing_peer_is_reported_not_invented() {
        let rows = rows(
            &ours(20.0, vec![Some(0.7); 5]),
            Err("opencv-python unavailable (x)".into()),
        );
        assert_eq!(rows.len(), 4, "three timed rows and the one-core floor");
        assert_eq!(rows[0].peer_value, None);
        assert!(rows[0].peer.contains("unavailable"));
        assert!(!rows[0].ok);
        assert_eq!(rows[1].name, "face_verify_frame_one_core");
        assert!(rows[1].ok, "20 ms meets the 40 ms floor on its own");
        assert!(rows[0].note.contains("320x240"), "{}", rows[0].note);
    }

    #[test]
    fn time_and_score_rows_compare_with_the_peer() {
        let peer = Theirs {
            version: "4.10.0".into(),
            cpu: samples(20.0, 25.0),
            wall: samples(20.0, 26.0),
            scores: vec![Some(0.70), Some(0.80), Some(0.10), None, Some(0.2)],
        };
        let our = ours(
            20.0,
            vec![Some(0.72), Some(0.90), Some(0.11), None, Some(0.2)],
        );
        let rows = rows(&our, Ok(peer));
        let by_name = |n: &str| rows.iter().find(|r| r.name == n).unwrap();
        let verify = by_name("face_verify_frame_median");
        assert_eq!(verify.ratio, Some(0.8));
        assert!(verify.ok);
        let enrol = by_name("face_enrol_card_median");
        assert_eq!(enrol.ratio, Some(25.0 / 20.0));
        assert!(!enrol.ok, "slower enrolment is shown, not hidden");
        assert!(by_name("face_score_card_obama_vs_obama2").ok);
        assert!(!by_name("face_score_card_obama_vs_obama3").ok, "0.10 apart");
        assert!(
            by_name("face_score_obama_vs_obama_partial_face2").ok,
            "neither found a face"
        );
        let worst = by_name("face_score_max_abs_diff");
        assert!((worst.value - 0.10).abs() < 1e-6);
        assert!(!worst.ok);
    }

    #[test]
    fn the_turn_row_compares_at_the_challenge_size_without_a_target() {
        let peer = Theirs {
            version: "4.10.0".into(),
            cpu: samples(20.0, 50.0),
            wall: samples(20.0, 50.0),
            scores: vec![],
        };
        let row = turn_row(&ours(20.0, vec![]), Ok(peer));
        assert_eq!(row.value, 40.0);
        assert_eq!(row.ratio, Some(0.8));
        assert!(row.target.is_empty() && row.note.contains("no target"));
        assert!(row.note.contains("max side 640"), "{}", row.note);
        let missing = turn_row(&ours(20.0, vec![]), Err("opencv-python unavailable".into()));
        assert_eq!(missing.peer_value, None);
        assert!(missing.peer.contains("unavailable"));
    }
}
