//! Installing a signed catalog update: verify (signature, parse, schema checks) + stage +
//! switch (with the load that guards the rollback) of the bundled 673-matter catalog, in a
//! real SQLite file (WAL, synchronous = FULL). Target: <= 50 ms in total. The peer is a bare
//! parse of the same catalog JSON measured in the same run (the floor of any install).
//! Rows: `stage` = verify + write to the staged slot; `switch` = what the app calls at Home
//! (slot moves + read back + hash + parse); the switch is also shown in its two parts.

use std::path::PathBuf;
use std::time::Instant;

use ed25519_dalek::SigningKey;

use super::{percentile, BenchRow};
use crate::catalog::trust::{self, Policy, TrustedKey, TrustedKeys};
use crate::catalog::{self, sample, update};
use crate::config::CatalogConfig;
use crate::store::Store;

const ROUNDS: usize = 10;
const TARGET_MS: f64 = 50.0;

/// A scratch folder removed when dropped (the benchmark leaves nothing behind).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    percentile(&v, 50.0)
}

pub fn run(_config: &crate::config::Config) -> anyhow::Result<Vec<BenchRow>> {
    let key = SigningKey::from_bytes(&[42; 32]);
    let keys = TrustedKeys::new(vec![TrustedKey {
        key_id: "bench".into(),
        key: key.verifying_key(),
    }]);
    let base = sample::generate()?;
    let expires = (chrono::Utc::now() + chrono::Duration::days(365)).to_rfc3339();
    // Signed the way admins sign: the pretty JSON `kiosk catalog export` writes.
    let envelopes: Vec<(Vec<u8>, Vec<u8>)> = (0..ROUNDS as u64)
        .map(|i| {
            let mut c = base.clone();
            c.version = base.version + 1 + i;
            c.expires_at = expires.clone();
            let json = serde_json::to_vec_pretty(&c)?;
            let env = serde_json::to_vec(&trust::sign(&json, "bench", &key))?;
            Ok((json, env))
        })
        .collect::<anyhow::Result<_>>()?;

    let dir = std::env::temp_dir().join(format!(
        "kiosk-bench-catalog-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir)?;
    let scratch = Scratch(dir);
    let mut store = Store::open_path(&scratch.0.join("kiosk.db"))?;
    catalog::load_active(&mut store)?;
    let config = CatalogConfig::default();

    let (mut parse, mut verify, mut stage, mut switch, mut total) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut slot_move, mut reload) = (vec![], vec![]);
    for (round, (json, env)) in envelopes.iter().enumerate() {
        let t = Instant::now();
        std::hint::black_box(catalog::parse(json)?);
        parse.push(ms_since(t));

        let policy = Policy {
            now: chrono::Utc::now(),
            grace_s: config.expiry_grace_s,
            max_bytes: config.max_envelope_bytes,
            installed: None,
        };
        let t = Instant::now();
        let checked = trust::verify_envelope(env, &keys, &policy);
        verify.push(ms_since(t));
        if let Err(r) = checked {
            anyhow::bail!("benchmark envelope refused: {r:?}");
        }

        let t = Instant::now();
        let outcome = update::stage_envelope(&mut store, env, &keys, &config, chrono::Utc::now())?;
        let staged_ms = ms_since(t);
        if !matches!(outcome, update::StageOutcome::Staged { .. }) {
            anyhow::bail!("benchmark envelope not staged: {outcome:?}");
        }
        stage.push(staged_ms);
        if round % 2 == 0 {
            // The real path: what the app calls at Home.
            let t = Instant::now();
            let switched = update::switch_if_staged(&mut store)?;
            let switch_ms = ms_since(t);
            if switched.is_none() {
                anyhow::bail!("benchmark catalog did not switch in");
            }
            switch.push(switch_ms);
            total.push(staged_ms + switch_ms);
        } else {
            // The same in two parts, to show where the time goes: the store's slot moves,
            // then reading back and parsing the new active catalog.
            let t = Instant::now();
            store.switch_to_staged()?;
            slot_move.push(ms_since(t));
            let t = Instant::now();
            std::hint::black_box(catalog::load_active(&mut store)?);
            reload.push(ms_since(t));
        }
    }
    let (parse, verify, stage, switch, total) = (
        median(parse),
        median(verify),
        median(stage),
        median(switch),
        median(total),
    );
    let (slot_move, reload) = (median(slot_move), median(reload));
    drop(store);
    Ok(vec![
        BenchRow::new("catalog_parse_673", parse, "ms"),
        BenchRow::new("catalog_update_verify_673", verify, "ms").peer("catalog_parse_673", parse),
        BenchRow::new("catalog_update_stage_673", stage, "ms"),
        BenchRow::new("catalog_update_switch_673", switch, "ms"),
        BenchRow::new("catalog_update_switch_slot_moves_673", slot_move, "ms"),
        BenchRow::new("catalog_update_switch_reload_673", reload, "ms"),
        BenchRow::new("catalog_update_total_673", total, "ms")
            .peer("catalog_parse_673", parse)
            .target("<= 50 ms", total <= TARGET_MS),
    ])
}
