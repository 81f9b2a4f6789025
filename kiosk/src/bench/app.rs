//! The touch app against a web kiosk: cold start to the first frame of Home, and idle memory,
//! next to headless Chromium showing the same Home as a static page (`home_page`), measured
//! in the same run, alternating one start of each. Target: at most 0.1x Chromium for both.
//!
//! Ours: `kiosk bench-child app-first-frame` (`cli::bench_child`), a fresh process that
//! assembles the real app (store, data key, the 673-matter catalog, workers, flow, window)
//! with no devices and no sync, renders Home at 1080x1920 with the software renderer and
//! writes it as a PNG; timed from spawn to its `first-frame` line. Chromium: spawn of
//! `--screenshot` to its PNG complete on disk. Both write the same kind of file, so like is
//! compared with like. One discarded start each first creates the app's data folder (store,
//! key, catalog) and Chromium's profile; then both start with a warm page cache, as a kiosk
//! restarting does.
//!
//! Idle: PSS (and RSS, USS) of the whole process tree once it has settled after the first
//! frame / page load (`procmem::settled`); the app keeps its rendered frame, as a screen
//! would. Needs Chromium (`apt-get install chromium`, `scripts/bench.sh`); without it the
//! rows give our figures and say that the peer is missing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::chromium::{self, Chromium, ColdStart, Idle};
use super::procmem::{self, Group, TreeMemory};
use super::{home_page, percentile, BenchRow};
use crate::config::Config;

const RUNS: usize = 5;
const IDLE_RUNS: usize = 3;
const TARGET_RATIO: f64 = 0.1;
const TARGET: &str = "<= 0.1x";
/// Longest the app may take to its first frame before the benchmark gives up.
const DEADLINE: Duration = Duration::from_secs(60);
const NOT_INSTALLED: &str = "chromium (not installed: apt-get install chromium)";

/// One start of the app.
struct OurStart {
    first_frame_ms: f64,
    /// The child's own steps (`phase NAME MICROS`), in ms.
    phases: Vec<(String, f64)>,
    memory: Option<TreeMemory>,
}

pub fn run(_config: &Config) -> anyhow::Result<Vec<BenchRow>> {
    let work = std::env::temp_dir().join(format!("kiosk-bench-app-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let result = run_in(&work);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn run_in(work: &Path) -> anyhow::Result<Vec<BenchRow>> {
    let exe = std::env::current_exe().context("locating the kiosk binary")?;
    let data = work.join("app-data");
    let our_png = work.join("app.png");
    let first = start_app(&exe, &data, &our_png, false).context("first start of the app")?;

    let chromium = chromium::find();
    let page = work.join("home.html");
    let catalog = crate::catalog::sample::generate()?;
    std::fs::write(&page, home_page::html(&catalog))
        .with_context(|| format!("writing {}", page.display()))?;
    let profile = work.join("chromium-profile");
    let peer_png = work.join("chromium.png");
    let mut peer_error = None;
    if let Some(c) = &chromium {
        if let Err(e) = c.cold_start(&profile, &page, &peer_png) {
            peer_error = Some(format!("chromium failed: {e:#}"));
        }
    }

    let mut ours = Vec::with_capacity(RUNS);
    let mut peer: Vec<ColdStart> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        ours.push(start_app(&exe, &data, &our_png, true)?);
        if let (Some(c), None) = (&chromium, &peer_error) {
            match c.cold_start(&profile, &page, &peer_png) {
                Ok(s) => peer.push(s),
                Err(e) => peer_error = Some(format!("chromium failed: {e:#}")),
            }
        }
    }
    let mut peer_idle: Vec<Idle> = Vec::with_capacity(IDLE_RUNS);
    if let (Some(c), None) = (&chromium, &peer_error) {
        for _ in 0..IDLE_RUNS {
            match c.idle(&profile, &page, &home_page::title()) {
                Ok(i) => peer_idle.push(i),
                Err(e) => {
                    peer_error = Some(format!("chromium failed: {e:#}"));
                    break;
                }
            }
        }
    }

    let peer_name = match (&chromium, &peer_error) {
        (None, _) => NOT_INSTALLED.to_string(),
        (Some(_), Some(e)) => e.clone(),
        (Some(c), None) => format!("headless {}", short_version(&c.version)),
    };
    let have_peer = chromium.is_some() && peer_error.is_none();
    Ok(rows(
        &first,
        &ours,
        have_peer.then_some((&peer, &peer_idle)),
        &peer_name,
        chromium.as_ref(),
    ))
}

fn rows(
    first: &OurStart,
    ours: &[OurStart],
    peer: Option<(&Vec<ColdStart>, &Vec<Idle>)>,
    peer_name: &str,
    chromium: Option<&Chromium>,
) -> Vec<BenchRow> {
    let ours_ms = median(ours.iter().map(|s| s.first_frame_ms));
    let phases = median_phases(ours);
    let our_mem: Vec<TreeMemory> = ours.iter().filter_map(|s| s.memory).collect();
    let pss = median(our_mem.iter().map(TreeMemory::pss_mib));
    let rss = median(our_mem.iter().map(TreeMemory::rss_mib));
    let uss = median(our_mem.iter().map(TreeMemory::uss_mib));

    let mut cold_note = format!(
        "median of {RUNS} starts, spawn to Home's first 1080x1920 frame written as PNG \
         (ours: {phases}; the very first start on an empty data folder, which creates the \
         store and installs the catalog: {:.0} ms)",
        first.first_frame_ms
    );
    let mut pss_note = format!(
        "PSS summed over the process tree after it settles (shared pages split among the \
         processes mapping them); ours: 1 process, USS {uss:.1} MiB"
    );
    let mut rss_note =
        String::from("VmRSS summed over the process tree (counts shared pages once per process)");
    let cold = BenchRow::new("app_cold_start_first_frame", ours_ms, "ms");
    let idle_pss = BenchRow::new("app_idle_pss", pss, "MiB");
    let idle_rss = BenchRow::new("app_idle_rss", rss, "MiB");
    let Some((cold_starts, idles)) = peer.filter(|(c, i)| !c.is_empty() && !i.is_empty()) else {
        // No peer figure: ours alone, never a made-up comparison.
        return [
            (cold, cold_note),
            (idle_pss, pss_note),
            (idle_rss, rss_note),
        ]
        .into_iter()
        .map(|(mut row, note)| {
            row.peer = peer_name.to_string();
            row.target(TARGET, false).note(&note)
        })
        .collect();
    };
    let png_ms = median(cold_starts.iter().map(|s| s.png_ms));
    let exit_ms = median(cold_starts.iter().map(|s| s.exit_ms));
    let mems: Vec<TreeMemory> = idles.iter().map(|i| i.memory).collect();
    let peer_pss = median(mems.iter().map(TreeMemory::pss_mib));
    let peer_rss = median(mems.iter().map(TreeMemory::rss_mib));
    let peer_uss = median(mems.iter().map(TreeMemory::uss_mib));
    let procs = median(mems.iter().map(|m| m.processes as f64));
    let ready = median(idles.iter().map(|i| i.ready_ms));
    let exe = chromium
        .map(|c| c.exe.display().to_string())
        .unwrap_or_default();
    cold_note.push_str(&format!(
        "; chromium ({exe}): spawn to its --screenshot PNG complete, median of {RUNS}, its \
         exit at {exit_ms:.0} ms"
    ));
    pss_note.push_str(&format!(
        "; chromium: {procs:.0} processes, USS {peer_uss:.1} MiB, median of {IDLE_RUNS} \
         starts, page loaded at {ready:.0} ms"
    ));
    rss_note.push_str(&format!("; chromium: {procs:.0} processes"));
    [
        (cold, png_ms, cold_note),
        (idle_pss, peer_pss, pss_note),
        (idle_rss, peer_rss, rss_note),
    ]
    .into_iter()
    .map(|(row, peer_value, note)| {
        let row = row.peer(peer_name, peer_value);
        let ok = row.ratio.is_some_and(|r| r <= TARGET_RATIO);
        row.target(TARGET, ok).note(&note)
    })
    .collect()
}

/// Starts `kiosk bench-child app-first-frame`, times spawn to its `first-frame` line, and
/// (with `measure_idle`) reads its settled memory before ending it.
fn start_app(exe: &Path, data: &Path, png: &Path, measure_idle: bool) -> anyhow::Result<OurStart> {
    let _ = std::fs::remove_file(png);
    let stderr_path = data.with_extension("stderr.log");
    let stderr = std::fs::File::create(&stderr_path)
        .with_context(|| format!("creating {}", stderr_path.display()))?;
    let mut cmd = Command::new(exe);
    cmd.arg("bench-child")
        .arg("app-first-frame")
        .arg("--dir")
        .arg(data)
        .arg("--png")
        .arg(png)
        // The same logging for every run, whatever the caller's environment says.
        .env("RUST_LOG", "warn")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    let start = Instant::now();
    let mut group = Group::spawn(cmd).context("starting the app")?;
    let stdout = group.child().stdout.take().context("the app's stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send((line, Instant::now())).is_err() {
                break;
            }
        }
    });
    let mut phases = Vec::new();
    let first_frame_ms = loop {
        let Ok((line, at)) = rx.recv_timeout(DEADLINE.saturating_sub(start.elapsed())) else {
            drop(group);
            let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            bail!("the app gave no first frame; its stderr: {}", log.trim());
        };
        if line.starts_with("first-frame ") {
            break at.duration_since(start).as_secs_f64() * 1000.0;
        }
        if let Some((name, us)) = line
            .strip_prefix("phase ")
            .and_then(|rest| rest.split_once(' '))
        {
            if let Ok(us) = us.parse::<f64>() {
                phases.push((name.to_string(), us / 1000.0));
            }
        }
    };
    let memory = if measure_idle {
        Some(procmem::settled(group.pid()).context("the app's memory from /proc")?)
    } else {
        None
    };
    drop(group);
    Ok(OurStart {
        first_frame_ms,
        phases,
        memory,
    })
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    percentile(&v, 50.0)
}

/// "platform 1 ms, assemble 40 ms, ..." from the medians of each step.
fn median_phases(starts: &[OurStart]) -> String {
    let Some(first) = starts.first() else {
        return String::new();
    };
    first
        .phases
        .iter()
        .map(|(name, _)| {
            let ms = median(
                starts
                    .iter()
                    .filter_map(|s| s.phases.iter().find(|(n, _)| n == name).map(|(_, ms)| *ms)),
            );
            format!("{name} {ms:.1} ms")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "Chromium 156.0.8078.108" from Debian's longer version line.
fn short_version(version: &str) -> String {
    version
        .split(" built on")
        .next()
        .unwrap_or(version)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(ms: f64, pss_kib: u64) -> OurStart {
        OurStart {
            first_frame_ms: ms,
            phases: vec![("assemble".into(), ms / 2.0), ("render".into(), ms / 4.0)],
            memory: Some(TreeMemory {
                processes: 1,
                rss_kib: pss_kib + 1024,
                pss_kib,
                uss_kib: pss_kib.saturating_sub(1024),
            }),
        }
    }

    #[test]
    fn without_chromium_the_rows_give_our_figures_and_no_ratio() {
        let ours = [start(100.0, 30 * 1024), start(120.0, 32 * 1024)];
        let rows = rows(&start(300.0, 0), &ours, None, NOT_INSTALLED, None);
        assert_eq!(rows.len(), 3);
        for r in &rows {
            assert_eq!(r.peer, NOT_INSTALLED);
            assert!(r.peer_value.is_none() && r.ratio.is_none() && !r.ok);
        }
        assert!(rows[0].note.contains("assemble"), "{}", rows[0].note);
    }

    #[test]
    fn the_ratio_is_against_chromiums_median() {
        let ours = [start(100.0, 30 * 1024)];
        let cold = vec![ColdStart {
            png_ms: 2000.0,
            exit_ms: 2100.0,
        }];
        let idle = vec![Idle {
            ready_ms: 900.0,
            memory: TreeMemory {
                processes: 9,
                rss_kib: 900 * 1024,
                pss_kib: 400 * 1024,
                uss_kib: 200 * 1024,
            },
        }];
        let rows = rows(
            &ours[0],
            &ours,
            Some((&cold, &idle)),
            "headless Chromium",
            None,
        );
        assert_eq!(rows[0].ratio, Some(0.05));
        assert!(rows[0].ok);
        assert_eq!(rows[1].ratio, Some(30.0 / 400.0));
        assert!(rows[1].ok);
        assert!(rows[2].ok);
    }
}
