//! The sync engine against the real simulated platform over mutual TLS on 127.0.0.1, with
//! injected faults: exactly once across 503s, latency and lost acknowledgements; a rejected
//! submission quarantined while later ones go through; Retry-After honoured; the running
//! engine woken by a submission and by a network change.

mod sync_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use device_sim::central::{FaultConfig, ScriptedFault, Server, ServerConfig};
use kiosk::outbox::{self, entries};
use kiosk::store::now_ms;
use sync_support::*;

#[test]
fn exactly_once_across_503s_latency_and_lost_acks() {
    let env = Env::new(FaultConfig {
        fail_rate: 0.25,
        retry_after_s: 0,
        latency_ms: 15,
        drop_after_commit_rate: 0.3,
        seed: Some(11),
        ..FaultConfig::default()
    });
    let phones: Vec<String> = (0..250).map(|i| format!("138{i:08}")).collect();
    let refs: Vec<&str> = phones.iter().map(String::as_str).collect();
    let queued = env.enqueue(&refs);
    let rt = rt();
    // Small batches: many requests, so every kind of fault happens many times.
    let mut config = env.config.clone();
    config.sync.batch_size = 10;
    let mut engine = engine_for(&config);
    let mut rounds = 0;
    loop {
        // `force`: this test is about outcomes, not waiting out backoff.
        rt.block_on(engine.push(true));
        let s = outbox::status(&env.store()).unwrap();
        if s.pending + s.in_flight == 0 {
            break;
        }
        rounds += 1;
        assert!(rounds < 300, "outbox never drained: {s:?}");
    }
    let stored = env.sim.submissions_of(KIOSK).unwrap();
    let sent_ids: Vec<&str> = queued.iter().map(|q| q.id.as_str()).collect();
    let stored_ids: Vec<&str> = stored.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        stored_ids, sent_ids,
        "every id once, first stored in seq order"
    );
    let stats = env.sim.stats().unwrap();
    assert_eq!(stats.submissions, 250);
    assert_eq!(stats.out_of_order, 0);
    assert!(stats.faults_unavailable > 0, "{stats:?}");
    assert!(stats.faults_dropped > 0, "{stats:?}");
    assert!(
        stats.duplicates_seen > 0,
        "a lost ack means a resend: {stats:?}"
    );
    // Every entry acknowledged with the receipt number the platform gave the first time.
    let store = env.store();
    let rows = entries::list(&store, None, 1000).unwrap();
    for (row, s) in rows.iter().zip(&stored) {
        assert_eq!(row.state, outbox::EntryState::Acked);
        assert_eq!(row.receipt_no.as_deref(), Some(s.receipt_no.as_str()));
        assert!(!row.has_payload, "personal payload deleted after the ack");
    }
    let snap = engine.handle().snapshot();
    assert_eq!(
        snap.counters.accepted + snap.counters.duplicates,
        250,
        "each entry settled exactly once, as accepted or as a duplicate"
    );
    assert!(snap.counters.duplicates > 0 && snap.counters.duplicates <= stats.duplicates_seen);
    assert!(snap.counters.batches_failed > 0 && snap.counters.retried > 0);
    // What the platform stored is what the citizen submitted.
    let first = env.sim.submission(&queued[0].id).unwrap().unwrap();
    assert_eq!(first["applicant"]["id_number"], SYNTHETIC_ID);
    assert_eq!(first["form"]["phone"], "13800000000");
    assert_eq!(first["seq"], 1);
}

#[test]
fn a_rejected_submission_is_quarantined_and_later_ones_go_through() {
    let env = Env::new(FaultConfig {
        reject_matching: Some(regex_like("^000")),
        ..FaultConfig::default()
    });
    let q = env.enqueue(&["13800000001", "00000000000", "13800000003", "13800000004"]);
    let rt = rt();
    let mut engine = env.engine();
    let report = rt.block_on(engine.push(false));
    assert_eq!(report.accepted, 3);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].id, q[1].id);
    assert_eq!(report.rejected[0].code, "form_invalid");
    let st = states(&env.store());
    assert_eq!(st[0].0, "acked");
    assert_eq!(st[1].0, "quarantined");
    assert_eq!(st[1].1.as_deref(), Some("form_invalid"));
    assert_eq!((st[2].0.as_str(), st[3].0.as_str()), ("acked", "acked"));
    let row = &entries::list(&env.store(), Some(outbox::EntryState::Quarantined), 10).unwrap()[0];
    assert!(
        row.last_error.as_deref().unwrap().contains("field 'phone'"),
        "{row:?}"
    );
    assert!(row.has_payload, "kept for staff");

    // Later submissions are not held up by the quarantined one.
    let later = env.enqueue(&["13800000005"]);
    let report = rt.block_on(engine.push(false));
    assert_eq!((report.accepted, report.rejected.len()), (1, 0));
    let ids: BTreeSet<String> = env
        .sim
        .submissions_of(KIOSK)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert!(ids.contains(&later[0].id) && !ids.contains(&q[1].id));

    // Staff lets it through (the platform's rule changed) and retries it.
    env.sim.faults().set(FaultConfig::default());
    entries::retry(&mut env.store(), &q[1].id, now_ms()).unwrap();
    let report = rt.block_on(engine.push(false));
    assert_eq!(report.accepted, 1);
    let stats = env.sim.stats().unwrap();
    assert_eq!(stats.submissions, 5);
    assert_eq!(stats.out_of_order, 1, "the retried one arrived after seq 5");
    assert_eq!(outbox::status(&env.store()).unwrap().quarantined, 0);
}

#[test]
fn retry_after_is_honoured_and_recorded() {
    let env = Env::new(FaultConfig::default());
    env.sim
        .faults()
        .script(ScriptedFault::Unavailable { retry_after_s: 7 });
    env.enqueue(&["13800000001", "13800000002"]);
    let rt = rt();
    let mut engine = env.engine();
    let before = now_ms();
    let report = rt.block_on(engine.push(false));
    assert_eq!(report.retry_after_s, Some(7));
    assert_eq!(report.retried, 2);
    assert!(report.errors[0].contains("503"), "{:?}", report.errors);
    let snap = engine.handle().snapshot();
    assert_eq!(snap.last_retry_after_s, Some(7));
    assert!(
        snap.retry_after_until_ms.unwrap() >= before + 7000,
        "{snap:?}"
    );
    assert!(snap.next_attempt_ms.unwrap() >= before + 7000, "{snap:?}");
    // The wait is in the outbox too, so a restarted kiosk honours it as well.
    let head = entries::head_due_at(&env.store()).unwrap().unwrap();
    assert!(head >= before + 7000, "head due at {head}, before {before}");
    // Pushing again now sends nothing: the platform asked for quiet.
    let again = rt.block_on(engine.push(false));
    assert_eq!(again.batches, 0);
    let restarted = rt.block_on(env.engine().push(false));
    assert_eq!(
        restarted.batches, 0,
        "a new engine reads the wait from the outbox"
    );
    assert_eq!(env.sim.stats().unwrap().faults_unavailable, 1);
    assert_eq!(env.sim.stats().unwrap().batches, 0);
    // Staff override sends at once.
    let forced = rt.block_on(engine.push(true));
    assert_eq!(forced.accepted, 2);
}

#[test]
fn running_engine_wakes_on_submission_and_on_network_change() {
    let env = Env::new(FaultConfig::default());
    let mut config = env.config.clone();
    // A long backoff, so only a network change can explain a quick retry.
    config.sync.backoff_min_s = 120;
    config.sync.backoff_max_s = 300;
    config.sync.heartbeat_s = 3600;
    let engine = engine_for(&config);
    let handle = engine.handle();
    let rt = rt();
    let task = rt.spawn(engine.run());
    let wait_for = |what: &str, cond: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !cond() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // Queue one and wake the engine: it goes out without any polling interval.
    let first = env.enqueue(&["13800000001"]);
    handle.wake();
    wait_for("first submission", &|| {
        env.sim.stats().unwrap().submissions == 1
    });
    assert_eq!(env.sim.submissions_of(KIOSK).unwrap()[0].id, first[0].id);

    // The platform becomes unreachable: the next submission fails and backs off.
    let addr = env.sim.addr();
    let pki_dir = env.pki.dir.clone();
    let db = env.dir.path().join("central.db");
    let Env { sim, dir: _dir, .. } = env;
    sim.shutdown();
    let mut store = kiosk::store::Store::open(&config).unwrap();
    let key =
        kiosk::crypto::DataKey::load_or_create(&config.data_path(&config.security.data_key_file))
            .unwrap();
    let second = outbox::enqueue(
        &mut store,
        &key,
        &submission("13800000002"),
        chrono::Utc::now(),
    )
    .unwrap();
    handle.wake();
    wait_for("a failed attempt", &|| {
        handle.snapshot().counters.batches_failed >= 1
    });
    let snap = handle.snapshot();
    let wait_ms = snap.next_attempt_ms.unwrap() - now_ms();
    assert!(wait_ms > 10_000, "backoff should be long here: {snap:?}");

    // The platform is back on the same address; the network watcher says so.
    let mut sc = ServerConfig::new(&pki_dir, &db);
    sc.listen = addr;
    let sim = Server::start(sc).unwrap();
    handle.network_changed();
    wait_for("the retried submission", &|| {
        sim.stats().unwrap().submissions == 2
    });
    assert_eq!(sim.submissions_of(KIOSK).unwrap()[1].id, second.id);
    handle.shutdown();
    rt.block_on(task).unwrap();
}

fn regex_like(p: &str) -> device_sim::central::faults::Regex {
    device_sim::central::faults::Regex::new(p).unwrap()
}
