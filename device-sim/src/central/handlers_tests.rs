//! Endpoint behaviour without sockets: requests in, replies out.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};

use super::*;
use crate::central::catalog::{pae, AdminKey, CATALOG_PAYLOAD_TYPE};
use crate::central::faults::{FaultConfig, Faults, ScriptedFault};
use crate::central::http::Request;
use crate::central::store::SimStore;

const TOKEN: &str = "sekret-token";

fn platform(dir: &std::path::Path, faults: FaultConfig) -> Platform {
    Platform {
        store: Mutex::new(SimStore::open(&dir.join("c.db")).unwrap()),
        faults: Arc::new(Faults::new(faults)),
        admin_token: TOKEN.into(),
        admin_keys: vec![AdminKey {
            keyid: "admin-2026".into(),
            key: SigningKey::from_bytes(&[3; 32]).verifying_key(),
        }],
    }
}

fn req(method: &str, path: &str, body: Value) -> Request {
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (path.to_string(), None),
    };
    Request {
        method: method.into(),
        path,
        query,
        headers: vec![("content-type".into(), "application/json".into())],
        body: if body.is_null() {
            vec![]
        } else {
            body.to_string().into_bytes()
        },
        keep_alive: true,
    }
}

fn admin(mut r: Request) -> Request {
    r.headers
        .push(("authorization".into(), format!("Bearer {TOKEN}")));
    r
}

fn reply(p: &Platform, r: &Request, peer: Option<&str>) -> (u16, Value, Vec<(String, String)>) {
    match p.handle(r, peer) {
        Reply::Respond(resp) => (
            resp.status,
            serde_json::from_slice(&resp.body).unwrap_or(Value::Null),
            resp.headers,
        ),
        Reply::Drop => (0, Value::Null, vec![]),
    }
}

fn submission(id: &str, seq: u64, phone: &str) -> Value {
    let bytes = b"photo-bytes";
    json!({
        "id": id, "seq": seq, "matter_code": "310104010001", "situation": "01",
        "catalog_version": 1, "created_at": "2026-11-27T03:12:09Z",
        "applicant": {"id_type": "resident", "id_number": "11010519491231002X",
                      "name": "张三丰", "verified_by": "card+face"},
        "form": {"phone": phone},
        "attachments": [{"name": "photo.jpg",
                         "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)),
                         "bytes_b64": base64::engine::general_purpose::STANDARD.encode(bytes)}],
    })
}

fn batch(kiosk: &str, subs: Vec<Value>) -> Request {
    req(
        "POST",
        "/v1/submissions/batch",
        json!({"kiosk_id": kiosk, "submissions": subs}),
    )
}

#[test]
fn batch_accepts_dedupes_rejects_and_checks_identity() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(
        dir.path(),
        FaultConfig {
            reject_matching: Some(regex::Regex::new("^000").unwrap()),
            ..FaultConfig::default()
        },
    );
    let r = batch(
        "XH-0001",
        vec![
            submission("a", 1, "13800138000"),
            submission("b", 2, "00000000000"),
            submission("c", 3, "13800138001"),
        ],
    );
    assert_eq!(reply(&p, &r, None).0, 401, "no client certificate");
    assert_eq!(reply(&p, &r, Some("XH-0002")).0, 403, "kiosk id mismatch");
    let (status, body, _) = reply(&p, &r, Some("XH-0001"));
    assert_eq!(status, 200);
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "accepted");
    assert_eq!(results[1]["status"], "rejected");
    assert_eq!(results[1]["code"], "form_invalid");
    assert!(results[1]["reason"].as_str().unwrap().contains("phone"));
    assert_eq!(results[2]["status"], "accepted");
    let (_, again, _) = reply(&p, &r, Some("XH-0001"));
    assert_eq!(again["results"][0]["status"], "duplicate");
    assert_eq!(again["results"][0]["receipt_no"], results[0]["receipt_no"]);
    let stats = p.store().stats().unwrap();
    assert_eq!((stats.submissions, stats.duplicates_seen), (2, 2));
}

#[test]
fn malformed_submissions_are_rejected_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path(), FaultConfig::default());
    let mut no_seq = submission("a", 1, "1");
    no_seq.as_object_mut().unwrap().remove("seq");
    let mut bad_att = submission("b", 2, "1");
    bad_att["attachments"][0]["sha256"] = json!("00");
    let (status, body, _) = reply(
        &p,
        &batch("XH-0001", vec![no_seq, bad_att, submission("c", 3, "1")]),
        Some("XH-0001"),
    );
    assert_eq!(status, 200);
    assert_eq!(body["results"][0]["code"], "malformed");
    assert!(body["results"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("'seq'"));
    assert_eq!(body["results"][1]["code"], "attachment_invalid");
    assert_eq!(body["results"][2]["status"], "accepted");
    let too_many: Vec<Value> = (0..101)
        .map(|i| submission(&format!("x{i}"), i + 1, "1"))
        .collect();
    assert_eq!(
        reply(&p, &batch("XH-0001", too_many), Some("XH-0001")).0,
        413
    );
    let no_id = batch("XH-0001", vec![json!({"seq": 1})]);
    assert_eq!(reply(&p, &no_id, Some("XH-0001")).0, 400);
    let not_json = Request {
        body: b"{nope".to_vec(),
        ..batch("XH-0001", vec![])
    };
    assert_eq!(reply(&p, &not_json, Some("XH-0001")).0, 400);
}

#[test]
fn scripted_faults_503_and_drop_after_commit() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path(), FaultConfig::default());
    p.faults
        .script(ScriptedFault::Unavailable { retry_after_s: 7 });
    p.faults.script(ScriptedFault::DropAfterCommit);
    let r = batch("XH-0001", vec![submission("a", 1, "1")]);
    let (status, _, headers) = reply(&p, &r, Some("XH-0001"));
    assert_eq!(status, 503);
    assert!(headers.contains(&("Retry-After".into(), "7".into())));
    assert_eq!(
        p.store().stats().unwrap().submissions,
        0,
        "nothing stored on 503"
    );
    assert!(matches!(p.handle(&r, Some("XH-0001")), Reply::Drop));
    assert_eq!(
        p.store().stats().unwrap().submissions,
        1,
        "committed before the drop"
    );
    let (_, body, _) = reply(&p, &r, Some("XH-0001"));
    assert_eq!(body["results"][0]["status"], "duplicate");
    let st = p.store().stats().unwrap();
    assert_eq!((st.faults_unavailable, st.faults_dropped), (1, 1));
}

#[test]
fn receipt_status_and_admin_status_change() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path(), FaultConfig::default());
    let (_, body, _) = reply(
        &p,
        &batch("XH-0001", vec![submission("a", 1, "1")]),
        Some("XH-0001"),
    );
    let receipt = body["results"][0]["receipt_no"]
        .as_str()
        .unwrap()
        .to_string();
    let get = req("GET", &format!("/v1/submissions/{receipt}"), Value::Null);
    let (status, st, _) = reply(&p, &get, Some("XH-0001"));
    assert_eq!((status, st["status"].as_str()), (200, Some("received")));
    assert!(st["updated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        reply(
            &p,
            &req("GET", "/v1/submissions/NOPE", Value::Null),
            Some("XH-0001")
        )
        .0,
        404
    );
    let set = req(
        "POST",
        &format!("/v1/admin/submissions/{receipt}/status"),
        json!({"status": "approved"}),
    );
    assert_eq!(reply(&p, &set, None).0, 401, "admin needs the token");
    assert_eq!(reply(&p, &admin(set), None).0, 200);
    assert_eq!(reply(&p, &get, Some("XH-0001")).1["status"], "approved");
}

#[test]
fn heartbeat_is_checked_for_shape_identity_and_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path(), FaultConfig::default());
    let hb = json!({"kiosk_id": "XH-0001", "app_version": "0.1.0", "catalog_version": 1,
        "outbox": {"pending": 0, "quarantined": 0, "oldest_pending_s": null},
        "devices": {"printer": "ok"}, "uptime_s": 5});
    assert_eq!(
        reply(
            &p,
            &req("POST", "/v1/heartbeat", hb.clone()),
            Some("XH-0001")
        )
        .0,
        200
    );
    assert_eq!(
        reply(
            &p,
            &req("POST", "/v1/heartbeat", hb.clone()),
            Some("XH-0009")
        )
        .0,
        403
    );
    let mut leaky = hb.clone();
    leaky["devices"]["printer"] = json!("last card 11010519491231002X");
    let (status, body, _) = reply(&p, &req("POST", "/v1/heartbeat", leaky), Some("XH-0001"));
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("personal data"));
    let mut missing = hb.clone();
    missing.as_object_mut().unwrap().remove("uptime_s");
    assert_eq!(
        reply(&p, &req("POST", "/v1/heartbeat", missing), Some("XH-0001")).0,
        400
    );
    assert_eq!(p.store().stats().unwrap().heartbeats, 1);

    // [ext] The optional catalog object: accepted, checked, and shown per kiosk.
    let mut with_catalog = hb.clone();
    with_catalog["catalog_version"] = json!(17);
    with_catalog["catalog"] = json!({"stale": true, "expires_at": "2026-12-01T00:00:00Z",
        "staged_version": 18,
        "last_rollback": {"at": "2026-11-27T03:00:00Z", "failed_version": 16,
                          "restored_version": 15, "code": "changed_on_disk"},
        "last_refusal": ["bad_signature"]});
    assert_eq!(
        reply(
            &p,
            &req("POST", "/v1/heartbeat", with_catalog.clone()),
            Some("XH-0001")
        )
        .0,
        200
    );
    let stats = p.store().stats().unwrap();
    let k = &stats.kiosks["XH-0001"];
    assert_eq!(k.heartbeats, 2);
    assert_eq!(k.catalog_version, Some(17));
    assert_eq!(k.catalog_stale, Some(true));
    assert_eq!(k.catalog_staged_version, Some(18));
    assert_eq!(
        k.catalog_expires_at.as_deref(),
        Some("2026-12-01T00:00:00Z")
    );
    assert_eq!(k.catalog_rollback_failed_version, Some(16));
    assert_eq!(k.catalog_last_refusal, ["bad_signature"]);
    for bad in [
        json!("stale"),
        json!({"stale": "yes"}),
        json!({"staged_version": -1}),
        json!({"last_refusal": [1]}),
        json!({"last_rollback": {"at": "x"}}),
    ] {
        let mut b = with_catalog.clone();
        b["catalog"] = bad.clone();
        let (status, body, _) = reply(&p, &req("POST", "/v1/heartbeat", b), Some("XH-0001"));
        assert_eq!(status, 400, "{bad}");
        assert!(
            body["error"].as_str().unwrap().contains("'catalog'"),
            "{body}"
        );
    }
    // A heartbeat without it (the contract's shape) clears what was shown.
    assert_eq!(
        reply(&p, &req("POST", "/v1/heartbeat", hb), Some("XH-0001")).0,
        200
    );
    let k = &p.store().stats().unwrap().kiosks["XH-0001"];
    assert_eq!((k.catalog_version, k.catalog_stale), (Some(1), None));
}

fn envelope(signer: &SigningKey, version: u64) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = json!({"version": version, "issued_at": "2026-11-27T00:00:00Z",
        "expires_at": "2027-11-27T00:00:00Z", "matters": []})
    .to_string();
    let sig = signer.sign(&pae(CATALOG_PAYLOAD_TYPE, payload.as_bytes()));
    json!({"payloadType": CATALOG_PAYLOAD_TYPE, "payload": b64.encode(&payload),
        "signatures": [{"keyid": "admin-2026", "sig": b64.encode(sig.to_bytes())}]})
    .to_string()
    .into_bytes()
}

#[test]
fn catalog_publish_and_conditional_get() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path(), FaultConfig::default());
    let trusted = SigningKey::from_bytes(&[3; 32]);
    let get = |have: u64| {
        let r = req("GET", &format!("/v1/catalog?have={have}"), Value::Null);
        match p.handle(&r, Some("XH-0001")) {
            Reply::Respond(resp) => (resp.status, resp.body),
            Reply::Drop => panic!("dropped"),
        }
    };
    assert_eq!(get(0).0, 304, "nothing published yet");
    let publish = |body: Vec<u8>| {
        let mut r = admin(req("POST", "/v1/admin/catalog", Value::Null));
        r.body = body;
        reply(&p, &r, None).0
    };
    assert_eq!(publish(envelope(&trusted, 17)), 201);
    assert_eq!(publish(envelope(&trusted, 17)), 409);
    assert_eq!(publish(envelope(&trusted, 16)), 409);
    assert_eq!(
        publish(envelope(&SigningKey::from_bytes(&[4; 32]), 18)),
        400
    );
    assert_eq!(publish(b"not json".to_vec()), 400);
    let (status, body) = get(16);
    assert_eq!(status, 200);
    assert_eq!(body, envelope(&trusted, 17), "served exactly as published");
    assert_eq!(get(17).0, 304);
    assert_eq!(get(99).0, 304, "a kiosk ahead of the platform gets 304");
    let bad = req("GET", "/v1/catalog?have=x", Value::Null);
    assert_eq!(reply(&p, &bad, Some("XH-0001")).0, 400);
    let mut no_token = req("POST", "/v1/admin/catalog", Value::Null);
    no_token.body = envelope(&trusted, 20);
    assert_eq!(reply(&p, &no_token, None).0, 401);
}

#[test]
fn unknown_routes_and_methods() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path(), FaultConfig::default());
    assert_eq!(
        reply(&p, &req("GET", "/nope", Value::Null), Some("XH-0001")).0,
        404
    );
    assert_eq!(
        reply(
            &p,
            &req("GET", "/v1/heartbeat", Value::Null),
            Some("XH-0001")
        )
        .0,
        405
    );
    assert_eq!(
        reply(
            &p,
            &admin(req("GET", "/v1/admin/catalog", Value::Null)),
            None
        )
        .0,
        405
    );
}
