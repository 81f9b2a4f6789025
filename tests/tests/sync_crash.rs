//! Power cut at any instant: a child `kiosk sync churn` queues and syncs submissions
//! continuously against the simulated platform (with lost acks and 503s) while this test
//! kills it with SIGKILL at random moments, at least 200 times (`CRASH_ITERATIONS` for a
//! longer run). After every kill the database passes `PRAGMA integrity_check` and still holds
//! every submission the child reported as queued, with the seq it reported; the seqs reported
//! over all the runs strictly increase (a restart after a crash never reuses one). At the end the outbox is drained and the
//! platform holds every submitted id exactly once, first stored in seq order.

mod sync_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use device_sim::central::FaultConfig;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, OpenFlags};
use sync_support::*;

fn iterations() -> usize {
    std::env::var("CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Opens the file as a plain SQLite connection (WAL recovery happens here, as at a restart)
/// and checks it. Returns every submission id in it, with its seq.
fn check_database(db: &std::path::Path, iteration: usize) -> BTreeMap<String, i64> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "integrity_check after kill {iteration}");
    // Every submission has its outbox entry (one row since schema v6; `outbox` is a view).
    let orphans: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM submissions s LEFT JOIN outbox o ON o.submission_id = s.id
             WHERE o.submission_id IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        orphans, 0,
        "kill {iteration}: a submission without its outbox entry"
    );
    let acked_with_payload: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM outbox o JOIN submissions s ON s.id = o.submission_id
             WHERE o.state = 'acked' AND (s.payload IS NOT NULL OR s.receipt_no IS NULL)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        acked_with_payload, 0,
        "kill {iteration}: acked entry half-settled"
    );
    let mut stmt = conn.prepare("SELECT id, seq FROM submissions").unwrap();
    let ids = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
        .collect::<Result<BTreeMap<_, _>, _>>()
        .unwrap();
    ids
}

#[test]
fn sigkill_at_random_moments_loses_nothing_and_duplicates_nothing() {
    let env = Env::new(FaultConfig {
        fail_rate: 0.05,
        retry_after_s: 0,
        drop_after_commit_rate: 0.15,
        latency_ms: 2,
        seed: Some(5),
        ..FaultConfig::default()
    });
    let mut config = env.config.clone();
    config.sync.heartbeat_s = 3600;
    config.sync.batch_size = 20;
    let cfg = write_config(env.dir.path(), &config);
    let db = config.db_path();
    let n = iterations();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut last_seq = 0i64;
    let started = Instant::now();
    for i in 0..n {
        let mut child = Command::new(e2e::bin("kiosk"))
            .arg("--config")
            .arg(&cfg)
            .args(["sync", "churn", "--every-ms", "3"])
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            // Only complete lines count: the child prints after each durable commit.
            let mut ids = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let parts: Vec<&str> = line.split(' ').collect();
                if parts.len() == 3 && parts[0] == "queued" {
                    ids.push((parts[1].to_string(), parts[2].parse::<i64>().unwrap()));
                }
            }
            ids
        });
        // Random moments: sometimes during start-up, mostly while queuing and syncing.
        let life_ms = if rng.gen_bool(0.15) {
            rng.gen_range(0..30)
        } else {
            rng.gen_range(30..220)
        };
        std::thread::sleep(Duration::from_millis(life_ms));
        kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "the child was killed, not finished");
        let printed = reader.join().unwrap();
        let in_db = check_database(&db, i);
        for (id, seq) in &printed {
            assert_eq!(
                in_db.get(id),
                Some(seq),
                "kill {i}: reported {id} (seq {seq}) was lost or changed"
            );
            assert!(*seq > last_seq, "kill {i}: seq {seq} after {last_seq}");
            last_seq = *seq;
        }
        reported.extend(printed.into_iter().map(|(id, _)| id));
    }
    eprintln!(
        "{n} kills in {:.1} s, {} submissions reported",
        started.elapsed().as_secs_f64(),
        reported.len()
    );
    assert!(reported.len() >= n, "the child should queue between kills");

    // Drain: faults off, then one cycle after another until nothing waits.
    env.sim.faults().set(FaultConfig::default());
    let mut drained = false;
    for _ in 0..50 {
        let out = Command::new(e2e::bin("kiosk"))
            .arg("--config")
            .arg(&cfg)
            .args(["sync", "once", "--force", "--json"])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "sync once printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let o = &report["outbox"];
        if o["pending"] == 0 && o["in_flight"] == 0 {
            drained = true;
            break;
        }
    }
    assert!(drained, "the outbox did not drain");

    let in_db: BTreeSet<String> = check_database(&db, n).into_keys().collect();
    let store = env.store();
    let s = kiosk::outbox::status(&store).unwrap();
    assert_eq!((s.pending, s.in_flight, s.quarantined), (0, 0, 0), "{s:?}");
    assert_eq!(s.acked as usize, in_db.len());

    let stored = env.sim.submissions_of(KIOSK).unwrap();
    let stored_ids: BTreeSet<String> = stored.iter().map(|x| x.id.clone()).collect();
    assert_eq!(stored.len(), stored_ids.len(), "no id stored twice");
    assert_eq!(
        stored_ids, in_db,
        "the platform holds exactly the kiosk's submissions"
    );
    assert!(
        stored.windows(2).all(|w| w[0].seq < w[1].seq),
        "first stored in seq order"
    );
    let stats = env.sim.stats().unwrap();
    assert_eq!(stats.submissions as usize, in_db.len());
    assert_eq!(stats.out_of_order, 0);
    eprintln!("platform: {stats:?}");
    // Every kiosk receipt number is the platform's for that id.
    let rows = kiosk::outbox::entries::list(&store, None, usize::MAX).unwrap();
    for (row, s) in rows.iter().zip(&stored) {
        assert_eq!(row.id, s.id);
        assert_eq!(row.receipt_no.as_deref(), Some(s.receipt_no.as_str()));
    }
}
