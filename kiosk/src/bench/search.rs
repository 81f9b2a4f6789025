//! Search per keystroke: p50/p99 over the bundled catalog and a generated 100,000-matter one.
//! Targets (one core): p99 <= 1 ms bundled, <= 10 ms at 100k.
//!
//! The index is built whenever a catalog is loaded (start-up, and each signed update switched
//! in), so its build time and memory are rows too. Their peer, measured in the same run, is
//! the per-entry forms alone (pinyin, initials, normalised names): all a scan of every entry
//! would build, so the ratio is what the index costs on top.

use std::time::Instant;

use super::{percentile, BenchRow};
use crate::catalog::search::EntryForms;
use crate::catalog::{sample, Catalog, SearchIndex};

/// What citizens type, keystroke by keystroke.
const QUERIES: &[&str] = &[
    "kbfd",
    "kai ban fan dian",
    "开办饭店",
    "restaurant",
    "juzhuzheng",
    "居住证",
    "shebao",
    "passport",
    "营业执照",
    "310104",
    "gongjijin",
    "food licence",
];

fn keystroke_latencies(index: &SearchIndex, rounds: usize) -> Vec<f64> {
    let mut samples = Vec::new();
    for _ in 0..rounds {
        for q in QUERIES {
            let chars: Vec<char> = q.chars().collect();
            for n in 1..=chars.len() {
                let prefix: String = chars[..n].iter().collect();
                let t = Instant::now();
                let hits = index.search(&prefix, 20);
                samples.push(t.elapsed().as_secs_f64() * 1000.0);
                std::hint::black_box(hits);
            }
        }
    }
    samples.sort_by(f64::total_cmp);
    samples
}

/// Builds the index in its two steps and returns it with the build rows.
fn build(catalog: &Catalog, size: &str) -> (SearchIndex, Vec<BenchRow>) {
    let t = Instant::now();
    let forms = EntryForms::new(catalog);
    let forms_ms = t.elapsed().as_secs_f64() * 1000.0;
    let forms_mb = forms.heap_bytes() as f64 / 1e6;
    let t = Instant::now();
    let index = SearchIndex::from_forms(forms);
    let index_ms = t.elapsed().as_secs_f64() * 1000.0;
    let peer = "entry forms alone";
    let rows = vec![
        BenchRow::new(
            &format!("catalog_search_index_build_{size}"),
            forms_ms + index_ms,
            "ms",
        )
        .peer(peer, forms_ms),
        BenchRow::new(
            &format!("catalog_search_index_memory_{size}"),
            index.heap_bytes() as f64 / 1e6,
            "MB",
        )
        .peer(peer, forms_mb),
    ];
    (index, rows)
}

pub fn run(_config: &crate::config::Config) -> anyhow::Result<Vec<BenchRow>> {
    let (bundled, mut rows) = build(&sample::generate()?, "673");
    let (big, big_rows) = build(&sample::scaled(100_000)?, "100k");
    rows.extend(big_rows);
    let small = keystroke_latencies(&bundled, 20);
    let large = keystroke_latencies(&big, 20);
    let (s50, s99) = (percentile(&small, 50.0), percentile(&small, 99.0));
    let (l50, l99) = (percentile(&large, 50.0), percentile(&large, 99.0));
    rows.extend([
        BenchRow::new("catalog_search_keystroke_p50_673", s50, "ms"),
        BenchRow::new("catalog_search_keystroke_p99_673", s99, "ms")
            .peer("target 1 ms", 1.0)
            .target("<= 1 ms", s99 <= 1.0),
        BenchRow::new("catalog_search_keystroke_p50_100k", l50, "ms"),
        BenchRow::new("catalog_search_keystroke_p99_100k", l99, "ms")
            .peer("target 10 ms", 10.0)
            .target("<= 10 ms", l99 <= 10.0),
    ]);
    Ok(rows)
}
