//! The peer: `scripts/bench_face_opencv.py` (OpenCV's FaceDetectorYN + FaceRecognizerSF),
//! started with the first Python that has cv2 on the same pairs and working size, and then
//! asked to time one pair at a time so the bench can alternate between the two sides.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

pub const PEER_SCRIPT: &str = "scripts/bench_face_opencv.py";

/// The benchmark's settings the peer must share.
pub struct PeerRun<'a> {
    pub root: &'a Path,
    pub models: &'a Path,
    pub pairs: &'a [(PathBuf, PathBuf)],
    pub work: &'a Path,
    pub max_side: usize,
}

/// One timing of one pair by the peer, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeerTiming {
    pub cpu: [f64; 2],
    pub wall: [f64; 2],
}

/// The running peer, warmed up. Killed when dropped.
pub struct Peer {
    pub version: String,
    pub scores: Vec<Option<f64>>,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Starts the script and waits for its warm-up; `Err` says why there is no peer (never
    /// a made-up number).
    pub fn start(run: &PeerRun<'_>) -> Result<Peer, String> {
        let list: Vec<[String; 2]> = run
            .pairs
            .iter()
            .map(|(a, b)| [a.display().to_string(), b.display().to_string()])
            .collect();
        let pairs_file = run.work.join("pairs.json");
        let body = serde_json::to_vec(&list).map_err(|e| e.to_string())?;
        std::fs::write(&pairs_file, body)
            .map_err(|e| format!("write {}: {e}", pairs_file.display()))?;
        let mut reasons = Vec::new();
        for python in pythons(run.root) {
            match start_one(&python, run, &pairs_file) {
                Ok(p) => return Ok(p),
                Err(why) => reasons.push(format!("{}: {why}", python.display())),
            }
        }
        Err(format!(
            "opencv-python unavailable ({}); run scripts/fetch-bench-peer.sh",
            reasons.join("; ")
        ))
    }

    /// Has the peer enrol and verify pair `index` once.
    pub fn time_pair(&mut self, index: usize) -> Result<PeerTiming, String> {
        writeln!(self.stdin, "{index}")
            .and_then(|_| self.stdin.flush())
            .map_err(|e| format!("opencv peer stopped: {e}"))?;
        let v = read_line(&mut self.stdout)?;
        parse_timing(&v).ok_or_else(|| format!("opencv peer: unexpected line {v}"))
    }
}

fn start_one(python: &Path, run: &PeerRun<'_>, pairs_file: &Path) -> Result<Peer, String> {
    let mut child = Command::new(python)
        .arg(run.root.join(PEER_SCRIPT))
        .arg("--models")
        .arg(run.models)
        .arg("--pairs")
        .arg(pairs_file)
        .arg("--max-side")
        .arg(run.max_side.to_string())
        .env("OMP_NUM_THREADS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("no pipes to the script".into());
    };
    // From here the peer is killed on drop, whatever happens.
    let mut peer = Peer {
        version: String::new(),
        scores: Vec::new(),
        child,
        stdin,
        stdout: BufReader::new(stdout),
    };
    let hello = read_line(&mut peer.stdout)?;
    let (version, scores) = parse_hello(&hello).ok_or_else(|| format!("unexpected {hello}"))?;
    peer.version = version;
    peer.scores = scores;
    Ok(peer)
}

/// The next JSON line; the script's own `{"error": ...}` or its end become `Err`.
fn read_line(stdout: &mut BufReader<ChildStdout>) -> Result<serde_json::Value, String> {
    let mut line = String::new();
    match stdout.read_line(&mut line) {
        Ok(0) => return Err("the script ended (is cv2 importable?)".into()),
        Ok(_) => {}
        Err(e) => return Err(e.to_string()),
    }
    let v: serde_json::Value =
        serde_json::from_str(&line).map_err(|_| format!("not JSON: {}", line.trim()))?;
    match v.get("error").and_then(|e| e.as_str()) {
        Some(e) => Err(e.to_string()),
        None => Ok(v),
    }
}

fn parse_hello(v: &serde_json::Value) -> Option<(String, Vec<Option<f64>>)> {
    let version = v.get("opencv")?.as_str()?.to_string();
    let scores = v
        .get("scores")?
        .as_array()?
        .iter()
        .map(|s| s.as_f64())
        .collect();
    Some((version, scores))
}

fn parse_timing(v: &serde_json::Value) -> Option<PeerTiming> {
    let pair = |key: &str| -> Option<[f64; 2]> {
        match v.get(key)?.as_array()?.as_slice() {
            [a, b] => Some([a.as_f64()?, b.as_f64()?]),
            _ => None,
        }
    };
    Some(PeerTiming {
        cpu: pair("cpu_ms")?,
        wall: pair("wall_ms")?,
    })
}

/// Pythons to try: `KIOSK_BENCH_PYTHON`, the venv `scripts/fetch-bench-peer.sh` makes, python3.
fn pythons(root: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = std::env::var_os("KIOSK_BENCH_PYTHON") {
        v.push(PathBuf::from(p));
    }
    let venv = root.join(".cache/opencv-venv/bin/python3");
    if venv.exists() {
        v.push(venv);
    }
    v.push(PathBuf::from("python3"));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_lines_are_read_and_short_ones_refused() {
        let hello = serde_json::json!({"opencv": "4.10.0", "scores": [0.5, null]});
        assert_eq!(
            parse_hello(&hello),
            Some(("4.10.0".to_string(), vec![Some(0.5), None]))
        );
        assert_eq!(parse_hello(&serde_json::json!({"scores": []})), None);
        let t = serde_json::json!({"cpu_ms": [30.0, 35.0], "wall_ms": [31.0, 36.5]});
        assert_eq!(
            parse_timing(&t),
            Some(PeerTiming {
                cpu: [30.0, 35.0],
                wall: [31.0, 36.5]
            })
        );
        let short = serde_json::json!({"cpu_ms": [30.0], "wall_ms": [31.0, 36.5]});
        assert_eq!(parse_timing(&short), None);
    }
}
