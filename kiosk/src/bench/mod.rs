//! Benchmarks: `kiosk bench [--json] [--only NAME]`. Each file here measures one figure and
//! its peer in the same run and returns rows; the CLI prints them as one table. Targets live
//! here, never in timed unit tests.

use serde::Serialize;

mod app;
mod catalog_update;
mod chromium;
mod face;
mod home_page;
mod idcard;
mod outbox;
mod procmem;
mod search;

/// One line of the benchmark table.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    /// What was measured, e.g. `catalog_search_p99_bundled`.
    pub name: String,
    pub value: f64,
    pub unit: String,
    /// What the figure is compared with, measured in the same run (or a fixed floor).
    pub peer: String,
    pub peer_value: Option<f64>,
    /// value / peer_value when there is a peer.
    pub ratio: Option<f64>,
    /// The target in words, e.g. `<= 1 ms` or `<= 1.05x`.
    pub target: String,
    /// Whether the target was met.
    pub ok: bool,
    /// What exactly was measured or how the peer was set up, when the name cannot say it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl BenchRow {
    pub fn new(name: &str, value: f64, unit: &str) -> BenchRow {
        BenchRow {
            name: name.into(),
            value,
            unit: unit.into(),
            peer: String::new(),
            peer_value: None,
            ratio: None,
            target: String::new(),
            ok: true,
            note: String::new(),
        }
    }

    /// Says what was measured (printed under the table).
    pub fn note(mut self, note: &str) -> BenchRow {
        self.note = note.into();
        self
    }

    /// Compares with a peer measured in the same run.
    pub fn peer(mut self, peer: &str, peer_value: f64) -> BenchRow {
        self.peer = peer.into();
        self.peer_value = Some(peer_value);
        self.ratio = if peer_value != 0.0 {
            Some(self.value / peer_value)
        } else {
            None
        };
        self
    }

    /// States the target and whether it was met.
    pub fn target(mut self, target: &str, ok: bool) -> BenchRow {
        self.target = target.into();
        self.ok = ok;
        self
    }
}

/// A named benchmark group.
pub struct Bench {
    pub name: &'static str,
    pub run: fn(&crate::config::Config) -> anyhow::Result<Vec<BenchRow>>,
}

/// Every benchmark, in the order the table prints them.
pub fn all() -> Vec<Bench> {
    vec![
        Bench {
            name: "search",
            run: search::run,
        },
        Bench {
            name: "catalog_update",
            run: catalog_update::run,
        },
        Bench {
            name: "face",
            run: face::run,
        },
        Bench {
            name: "outbox",
            run: outbox::run,
        },
        Bench {
            name: "idcard",
            run: idcard::run,
        },
        Bench {
            name: "app",
            run: app::run,
        },
    ]
}

/// Percentile (0..=100) of already-sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
