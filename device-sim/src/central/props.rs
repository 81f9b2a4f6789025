//! Property tests of the simulated platform's side of the central API: the HTTP codec and
//! the JSON endpoints. Arbitrary bytes and mutated requests never panic and are refused with
//! a specific status and a JSON `{"error": ...}`; requests written to HTTP/1.1 parse back
//! whatever the split; responses the simulator writes read back with `httparse`; a valid
//! batch is accepted, then answered `duplicate` with the same receipt numbers; a submission
//! missing one contract field is rejected `malformed`, naming that field.
//!
//! Case counts are small so `cargo test -p device-sim` stays quick; run long with e.g.
//! `PROPTEST_CASES=100000 cargo test -p device-sim --lib central::props`.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};
use sha2::Digest as _;

use super::faults::{FaultConfig, Faults};
use super::handlers::{Platform, Reply};
use super::http::{parse_request, Request, Response, MAX_HEAD_BYTES};
use super::store::SimStore;

const TOKEN: &str = "props-admin-token";
const KIOSK: &str = "XH-0001";
const MAX_BODY: usize = 8 * 1024 * 1024;

/// `cases` unless `PROPTEST_CASES` is set (then that wins, for long runs).
fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c
}

fn platform(dir: &std::path::Path) -> Platform {
    Platform {
        store: Mutex::new(SimStore::open(&dir.join("central.db")).unwrap()),
        faults: Arc::new(Faults::new(FaultConfig::default())),
        admin_token: TOKEN.into(),
        admin_keys: Vec::new(),
    }
}

fn request(method: &str, target: &str, body: Vec<u8>, admin: bool) -> Request {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if admin {
        headers.push(("authorization".into(), format!("Bearer {TOKEN}")));
    }
    Request {
        method: method.into(),
        path,
        query,
        headers,
        body,
        keep_alive: true,
    }
}

/// Status and JSON body of a reply (a dropped connection is status 0).
fn answer(p: &Platform, r: &Request, peer: Option<&str>) -> (u16, Value) {
    match p.handle(r, peer) {
        Reply::Respond(resp) => (
            resp.status,
            serde_json::from_slice(&resp.body).unwrap_or(Value::Null),
        ),
        Reply::Drop => (0, Value::Null),
    }
}

/// Every answer is a known status, and every refusal says why in `{"error": "..."}`.
fn check_answer(status: u16, body: &Value) -> Result<(), TestCaseError> {
    prop_assert!(
        [200, 201, 304, 400, 401, 403, 404, 405, 409, 413].contains(&status),
        "status {status}: {body}"
    );
    if status >= 400 {
        let why = body.get("error").and_then(Value::as_str).unwrap_or("");
        prop_assert!(!why.is_empty(), "status {status} without a reason: {body}");
    }
    Ok(())
}

fn submission(id: &str, seq: u64, phone: &str) -> Value {
    let bytes = phone.as_bytes();
    json!({
        "id": id, "seq": seq, "matter_code": "310104010001", "situation": "01",
        "catalog_version": 1, "created_at": "2026-11-27T03:12:09Z",
        "applicant": {"id_type": "resident", "id_number": "11010519491231002X",
                      "name": "张三丰", "verified_by": "card+face"},
        "form": {"phone": phone},
        "attachments": [{"name": "note.txt",
                         "sha256": hex::encode(sha2::Sha256::digest(bytes)),
                         "bytes_b64": base64::engine::general_purpose::STANDARD.encode(bytes)}],
    })
}

/// The contract's required submission fields (as the validator names them).
const REQUIRED: [&str; 8] = [
    "seq",
    "matter_code",
    "situation",
    "catalog_version",
    "created_at",
    "applicant",
    "form",
    "attachments",
];

/// A request written as HTTP/1.1 bytes (the test's own encoder, from RFC 9112).
fn http_bytes(method: &str, target: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

proptest! {
    #![proptest_config(config(256))]

    /// Any bytes: a request, "need more", or a refusal with a specific 4xx status; never a
    /// panic, and "need more" only while the head is within its limit.
    #[test]
    fn any_bytes_parse_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..3000),
                                      max_body in 0usize..5000) {
        match parse_request(&bytes, max_body) {
            Ok(Some((req, used))) => {
                prop_assert!(used <= bytes.len());
                prop_assert!(req.body.len() <= max_body);
            }
            Ok(None) => prop_assert!(bytes.len() <= MAX_HEAD_BYTES + max_body),
            Err(e) => {
                prop_assert!([400, 411, 413, 431].contains(&e.status), "{e}");
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    /// Round trip: requests written as bytes parse back to the same method, path, query,
    /// headers and body, pipelined and split anywhere (the server's buffering loop).
    #[test]
    fn requests_parse_back_whatever_the_split(
        reqs in proptest::collection::vec((
            prop::sample::select(vec!["GET", "POST", "PUT"]),
            "/v1/[a-z/]{0,20}",
            proptest::option::of("[a-z]{1,5}=[0-9]{1,5}"),
            proptest::collection::vec((token(), "[ -~]{0,20}"), 0..4),
            proptest::collection::vec(any::<u8>(), 0..200),
        ), 1..4),
        cuts in proptest::collection::vec(1usize..50, 1..8),
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (method, path, query, headers, body) in &reqs {
            // Names the codec treats specially are left to its own tests; one value a name.
            let mut seen = std::collections::HashSet::new();
            let headers: Vec<(String, String)> = headers.iter()
                .filter(|(n, _)| !["content-length", "transfer-encoding", "connection"]
                    .contains(&n.to_ascii_lowercase().as_str()))
                .filter(|(n, _)| seen.insert(n.to_ascii_lowercase()))
                .cloned().collect();
            let target = match query { Some(q) => format!("{path}?{q}"), None => path.clone() };
            stream.extend(http_bytes(method, &target, &headers, body));
            expected.push((method.to_string(), path.clone(), query.clone(), headers, body.clone()));
        }
        let mut buf = Vec::new();
        let mut got = Vec::new();
        let mut at = 0;
        let mut i = 0;
        while at < stream.len() {
            let end = (at + cuts[i % cuts.len()]).min(stream.len());
            buf.extend_from_slice(&stream[at..end]);
            at = end;
            i += 1;
            while let Some((req, used)) = parse_request(&buf, MAX_BODY)
                .map_err(|e| TestCaseError::fail(e.to_string()))? {
                buf.drain(..used);
                got.push(req);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got.len(), expected.len());
        for (req, (method, path, query, headers, body)) in got.iter().zip(&expected) {
            prop_assert_eq!(&req.method, method);
            prop_assert_eq!(&req.path, path);
            prop_assert_eq!(&req.query, query);
            prop_assert_eq!(&req.body, body);
            prop_assert!(req.keep_alive);
            for (n, v) in headers {
                prop_assert_eq!(req.header(n), Some(v.trim()));
            }
        }
    }

    /// Round trip of the simulator's response encoder through an independent parser.
    #[test]
    fn responses_read_back(
        status in prop::sample::select(vec![200u16, 201, 304, 400, 401, 404, 409, 413, 503]),
        headers in proptest::collection::vec((token(), "[!-~]{1,20}"), 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..300),
        keep_alive in any::<bool>(),
    ) {
        let mut r = Response::new(status).body(body.clone());
        for (n, v) in &headers {
            r = r.header(n, v);
        }
        let bytes = r.to_bytes(keep_alive);
        let mut hs = [httparse::EMPTY_HEADER; 16];
        let mut parsed = httparse::Response::new(&mut hs);
        let head = match parsed.parse(&bytes) {
            Ok(httparse::Status::Complete(n)) => n,
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        prop_assert_eq!(parsed.code, Some(status));
        for (n, v) in &headers {
            prop_assert!(parsed.headers.iter().any(|h| h.name == n && h.value == v.as_bytes()));
        }
        let expected_body: &[u8] = if status == 304 { &[] } else { &body };
        prop_assert_eq!(&bytes[head..], expected_body);
    }
}

/// Arbitrary bodies and paths at every endpoint, with and without credentials: a known
/// status every time, a reason with every refusal, never a panic.
#[test]
fn arbitrary_requests_get_specific_answers() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    let paths = prop::sample::select(vec![
        "/v1/submissions/batch",
        "/v1/heartbeat",
        "/v1/catalog",
        "/v1/catalog?have=",
        "/v1/catalog?have=x",
        "/v1/submissions/",
        "/v1/admin/catalog",
        "/v1/admin/submissions/",
        "/v1/admin/submissions/status",
        "/v1/admin/submissions//status",
        "/v1/admin/",
        "/",
    ]);
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "\\{\"kiosk_id\":\"XH-000[0-2]\",\"[a-z_]{1,12}\":(1|\"x\"|\\[\\]|\\{\\}|null)\\}"
            .prop_map(String::into_bytes),
    ];
    let strategy = (
        prop::sample::select(vec!["GET", "POST", "DELETE"]),
        paths,
        prop_oneof![Just(String::new()), "[a-z0-9/]{1,8}"],
        body,
        any::<bool>(),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(config(512));
    runner
        .run(&strategy, |(method, path, tail, body, admin, peer)| {
            let r = request(method, &format!("{path}{tail}"), body, admin);
            let (status, json) = answer(&p, &r, peer.then_some(KIOSK));
            check_answer(status, &json)
        })
        .unwrap();
}

/// A valid batch is accepted with receipt numbers; sent again, every item is a duplicate
/// with the same number; a submission missing a contract field (or with it of the wrong
/// type) is rejected `malformed`, naming the field, and does not block the others.
#[test]
fn batches_round_trip_and_malformed_items_name_their_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    let strategy = (
        proptest::collection::vec(("[0-9]{11}", any::<bool>()), 1..8),
        proptest::collection::vec((0usize..REQUIRED.len(), any::<bool>()), 8),
        any::<u64>(),
    );
    let mut runner = TestRunner::new(config(64));
    let next_seq = std::cell::Cell::new(1u64);
    runner
        .run(&strategy, |(items, breaks, salt)| {
            let mut subs = Vec::new();
            let mut broken = Vec::new();
            for (i, (phone, bad)) in items.iter().enumerate() {
                let id = format!("props-{salt:016x}-{i}");
                let mut s = submission(&id, next_seq.get(), phone);
                next_seq.set(next_seq.get() + 1);
                if *bad {
                    let (field, drop) = breaks[i];
                    let field = REQUIRED[field];
                    if drop {
                        s.as_object_mut().unwrap().remove(field);
                    } else {
                        s[field] = json!(true);
                    }
                    broken.push(field);
                } else {
                    broken.push("");
                }
                subs.push(s);
            }
            let body = json!({"kiosk_id": KIOSK, "submissions": subs}).to_string();
            let r = request("POST", "/v1/submissions/batch", body.into_bytes(), false);
            let (status, first) = answer(&p, &r, Some(KIOSK));
            prop_assert_eq!(status, 200, "{}", first);
            let (status, again) = answer(&p, &r, Some(KIOSK));
            prop_assert_eq!(status, 200);
            for (i, field) in broken.iter().enumerate() {
                let (a, b) = (&first["results"][i], &again["results"][i]);
                prop_assert_eq!(&a["id"], &subs[i]["id"]);
                if field.is_empty() {
                    prop_assert_eq!(&a["status"], "accepted");
                    prop_assert_eq!(&b["status"], "duplicate");
                    prop_assert!(a["receipt_no"].as_str().is_some_and(|r| !r.is_empty()));
                    prop_assert_eq!(&a["receipt_no"], &b["receipt_no"]);
                } else {
                    for r in [a, b] {
                        prop_assert_eq!(&r["status"], "rejected");
                        prop_assert_eq!(&r["code"], "malformed");
                        let reason = r["reason"].as_str().unwrap_or("");
                        prop_assert!(reason.contains(&format!("'{field}")), "{}", reason);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

/// Regression (found by these properties): an admin path of exactly
/// `submissions/status` sliced its receipt number with start > end and panicked.
#[test]
fn admin_status_path_without_a_receipt_is_a_404() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    let body = br#"{"status":"done"}"#.to_vec();
    let r = request("POST", "/v1/admin/submissions/status", body.clone(), true);
    let (status, json) = answer(&p, &r, None);
    assert_eq!(status, 404, "{json}");
    assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()));
    let r = request("POST", "/v1/admin/submissions//status", body, true);
    assert_eq!(answer(&p, &r, None).0, 404);
}
