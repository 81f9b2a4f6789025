//! One full ID card read (find, select, read) over a real pseudo-terminal against the
//! simulated reader pacing its bytes at 115200 baud, compared with the wire floor: every
//! byte of every frame both ways at 10 bits a byte. The difference is the driver's (and the
//! PTY's) overhead. Target: at most 1.05x the floor.

use std::time::Instant;

use anyhow::Context;
use device_sim::idcard::{Deck, SimConfig, Simulator};
use drivers::device::{Device, SharedCounters};
use drivers::idcard::{IdCardReader, ReaderConfig};

use super::{percentile, BenchRow};
use crate::config::Config;

const BAUD: u32 = 115_200;
const READS: usize = 12;
/// Frames of one read: find (10 + 15), select (10 + 19), then the read request (10) and
/// its reply (1295 for 30 01; 2321 with a 1024-byte fingerprint, 30 10).
const FRAMES_TEXT_PHOTO: usize = 10 + 15 + 10 + 19 + 10 + 1295;
const FRAMES_FINGERPRINT: usize = 10 + 15 + 10 + 19 + 10 + 2321;

fn floor_ms(bytes: usize) -> f64 {
    bytes as f64 * 10.0 / f64::from(BAUD) * 1000.0
}

/// Median milliseconds of `READS` full reads (after one warm-up read).
fn time_reads(reader: &mut IdCardReader) -> anyhow::Result<f64> {
    reader.read_card().context("warm-up read")?;
    let mut ms = Vec::with_capacity(READS);
    for _ in 0..READS {
        let t = Instant::now();
        reader.read_card().context("timed read")?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok(percentile(&ms, 50.0))
}

pub fn run(_config: &Config) -> anyhow::Result<Vec<BenchRow>> {
    let mut sim_config = SimConfig::new(Deck::builtin()?);
    sim_config.baud = BAUD;
    sim_config.pace = true;
    let sim = Simulator::start(sim_config)?;
    // The deck's first card carries a 1024-byte fingerprint.
    sim.put("resident-zhang").map_err(anyhow::Error::msg)?;
    let mut rc = ReaderConfig::new(sim.slave_path().to_string_lossy().into_owned());
    rc.baud = BAUD;
    let mut reader = IdCardReader::new(rc, SharedCounters::in_memory());
    reader.open()?;
    reader.claim()?;
    reader.enable()?;

    let mut rows = Vec::new();
    for (name, fingerprint, bytes) in [
        (
            "idcard_read_text_photo_115200_median",
            false,
            FRAMES_TEXT_PHOTO,
        ),
        (
            "idcard_read_with_fingerprint_115200_median",
            true,
            FRAMES_FINGERPRINT,
        ),
    ] {
        reader.config_mut().read_fingerprint = fingerprint;
        let value = time_reads(&mut reader)?;
        let floor = floor_ms(bytes);
        let ratio = value / floor;
        rows.push(
            BenchRow::new(name, value, "ms")
                .peer(&format!("wire floor ({bytes} bytes x 10 / baud)"), floor)
                .target("<= 1.05x", ratio <= 1.05),
        );
    }
    reader.close();
    Ok(rows)
}
