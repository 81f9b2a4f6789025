//! The protocol core with bytes alone, including the contract's own examples.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::catalog::update::{HeartbeatCatalog, HeartbeatRollback};
use crate::outbox::{Applicant, Attachment, SealedPayload};

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-27T03:12:09Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

fn item(id: &str, seq: u64, phone: &str) -> Outgoing {
    Outgoing {
        id: id.into(),
        seq,
        matter_code: "310104001001".into(),
        situation: "01".into(),
        catalog_version: 17,
        created_at: "2026-11-27T03:12:09Z".into(),
        payload: SealedPayload {
            applicant: Applicant {
                id_type: "resident".into(),
                id_number: "11010519491231002X".into(),
                name: "张三丰".into(),
                verified_by: "card+face".into(),
            },
            form: BTreeMap::from([("phone".to_string(), phone.to_string())]),
            attachments: vec![Attachment {
                name: "photo.jpg".into(),
                sha256: "ab".into(),
                bytes_b64: "AAE=".into(),
            }],
        },
    }
}

#[test]
fn batch_body_is_the_contract_shape_byte_for_byte() {
    let b = encode_batch(
        "XH-0001",
        &[item("0190f5e4-a", 42, "13800138000")],
        MAX_REQUEST_BYTES,
    )
    .unwrap();
    assert_eq!(
        std::str::from_utf8(&b.body).unwrap(),
        concat!(
            r#"{"kiosk_id":"XH-0001","submissions":[{"id":"0190f5e4-a","seq":42,"#,
            r#""matter_code":"310104001001","situation":"01","catalog_version":17,"#,
            r#""created_at":"2026-11-27T03:12:09Z","applicant":{"id_type":"resident","#,
            r#""id_number":"11010519491231002X","name":"张三丰","verified_by":"card+face"},"#,
            r#""form":{"phone":"13800138000"},"attachments":[{"name":"photo.jpg","sha256":"ab","#,
            r#""bytes_b64":"AAE="}]}]}"#
        )
    );
    assert_eq!(b.sent, vec![0]);
}

#[test]
fn batch_respects_the_byte_limit_in_order_and_sets_aside_giants() {
    let mut giant = item("g", 2, "1");
    giant.payload.attachments[0].bytes_b64 = "A".repeat(5000);
    let items = vec![
        item("a", 1, "1"),
        giant,
        item("c", 3, "1"),
        item("d", 4, "1"),
        item("e", 5, "1"),
    ];
    let one_len =
        serde_json::to_vec(&serde_json::json!({"kiosk_id": "XH-0001", "submissions": []}))
            .unwrap()
            .len();
    let single = encode_batch("XH-0001", &items[..1], usize::MAX)
        .unwrap()
        .body
        .len()
        - one_len;
    // Room for exactly two ordinary items.
    let limit = one_len + 2 * single + 1;
    let b = encode_batch("XH-0001", &items, limit).unwrap();
    assert_eq!(b.sent, vec![0, 2]);
    assert_eq!(b.too_large, vec![1]);
    assert_eq!(b.unsent, vec![3, 4]);
    assert!(b.body.len() <= limit);
    let v: serde_json::Value = serde_json::from_slice(&b.body).unwrap();
    assert_eq!(v["submissions"].as_array().unwrap().len(), 2);
    let empty = encode_batch("XH-0001", &[], limit).unwrap();
    assert_eq!(
        &empty.body[..],
        br#"{"kiosk_id":"XH-0001","submissions":[]}"#
    );
}

/// The contract's example response, verbatim.
const CONTRACT_RESPONSE: &str = r#"{"results": [{"id": "...", "status": "accepted", "receipt_no": "XH20261127000042"},
             {"id": "...", "status": "duplicate", "receipt_no": "XH20261127000041"},
             {"id": "...", "status": "rejected", "code": "form_invalid",
              "reason": "field 'phone' is not a mainland mobile number"}]}"#;

#[test]
fn decodes_the_contract_example() {
    // The example uses "..." for every id; give them distinct ids to map them.
    let mut n = 0;
    let body =
        CONTRACT_RESPONSE
            .split("\"...\"")
            .enumerate()
            .fold(String::new(), |mut acc, (i, part)| {
                if i > 0 {
                    n += 1;
                    acc.push_str(&format!("\"id{n}\""));
                }
                acc.push_str(part);
                acc
            });
    let ids: Vec<String> = vec!["id1".into(), "id2".into(), "id3".into(), "id4".into()];
    let out = decode_batch_response(&ids, 200, None, body.as_bytes(), now());
    assert_eq!(
        out.items,
        vec![
            (
                "id1".into(),
                ItemOutcome::Accepted {
                    receipt_no: "XH20261127000042".into()
                }
            ),
            (
                "id2".into(),
                ItemOutcome::Duplicate {
                    receipt_no: "XH20261127000041".into()
                }
            ),
            (
                "id3".into(),
                ItemOutcome::Rejected {
                    code: "form_invalid".into(),
                    reason: "field 'phone' is not a mainland mobile number".into()
                }
            ),
            ("id4".into(), ItemOutcome::Unknown),
        ]
    );
    assert!(
        out.error.unwrap().contains("1 submission"),
        "missing id is retried"
    );
}

#[test]
fn failures_make_every_item_unknown_with_retry_after() {
    let ids = vec!["a".to_string(), "b".to_string()];
    let out = decode_batch_response(&ids, 503, Some("7"), br#"{"error":"busy"}"#, now());
    assert!(out.items.iter().all(|(_, o)| *o == ItemOutcome::Unknown));
    assert_eq!(out.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(out.error.as_deref(), Some("platform answered 503: busy"));
    let out = decode_batch_response(&ids, 403, None, b"", now());
    assert_eq!(out.error.as_deref(), Some("platform answered 403"));
    let out = decode_batch_response(&ids, 200, None, b"<html>", now());
    assert!(out.error.unwrap().contains("not the contract's JSON"));
    // Unknown statuses and accepted-without-receipt are not acted on.
    let odd = br#"{"results":[{"id":"a","status":"maybe"},{"id":"b","status":"accepted"},{"id":"zz","status":"accepted","receipt_no":"R"}]}"#;
    let out = decode_batch_response(&ids, 200, None, odd, now());
    assert!(
        out.items.iter().all(|(_, o)| *o == ItemOutcome::Unknown),
        "{out:?}"
    );
}

#[test]
fn retry_after_forms() {
    assert_eq!(
        parse_retry_after("120", now()),
        Some(Duration::from_secs(120))
    );
    assert_eq!(parse_retry_after(" 0 ", now()), Some(Duration::ZERO));
    assert_eq!(
        parse_retry_after("Fri, 27 Nov 2026 03:13:09 GMT", now()),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        parse_retry_after("Fri, 27 Nov 2026 03:00:00 GMT", now()),
        Some(Duration::ZERO),
        "a date in the past means now"
    );
    assert_eq!(parse_retry_after("soon", now()), None);
    assert_eq!(parse_retry_after("-5", now()), None);
    assert_eq!(
        parse_retry_after("99999999999", now()),
        Some(MAX_RETRY_AFTER)
    );
}

#[test]
fn heartbeat_is_the_contract_shape() {
    let hb = Heartbeat {
        kiosk_id: "XH-0001".into(),
        app_version: "0.3.0".into(),
        catalog_version: 17,
        outbox: HeartbeatOutbox {
            pending: 12,
            quarantined: 0,
            oldest_pending_s: Some(3600),
            in_flight: None,
        },
        devices: BTreeMap::from([
            ("camera".to_string(), "ok".to_string()),
            ("id_reader".to_string(), "ok".to_string()),
            ("printer".to_string(), "paper_near_end".to_string()),
        ]),
        uptime_s: 86400,
        catalog: None,
        maintenance_mode: None,
        disk_free_bytes: None,
        warnings: None,
        device_reports: None,
    };
    // Without the [ext] catalog object the body is exactly the contract's example.
    assert_eq!(
        String::from_utf8(encode_heartbeat(&hb).unwrap()).unwrap(),
        concat!(
            r#"{"kiosk_id":"XH-0001","app_version":"0.3.0","catalog_version":17,"#,
            r#""outbox":{"pending":12,"quarantined":0,"oldest_pending_s":3600},"#,
            r#""devices":{"camera":"ok","id_reader":"ok","printer":"paper_near_end"},"#,
            r#""uptime_s":86400}"#
        )
    );
    // With it: the contract's fields unchanged, then `catalog` (docs/central-api.md [ext]).
    let with_catalog = Heartbeat {
        catalog: Some(HeartbeatCatalog {
            stale: true,
            expires_at: Some("2026-12-01T00:00:00Z".into()),
            staged_version: Some(18),
            last_rollback: Some(HeartbeatRollback {
                at: "2026-11-27T03:00:00Z".into(),
                failed_version: 16,
                restored_version: Some(15),
                code: "changed_on_disk".into(),
            }),
            last_refusal: vec!["bad_signature".into()],
        }),
        ..hb.clone()
    };
    assert_eq!(
        String::from_utf8(encode_heartbeat(&with_catalog).unwrap()).unwrap(),
        concat!(
            r#"{"kiosk_id":"XH-0001","app_version":"0.3.0","catalog_version":17,"#,
            r#""outbox":{"pending":12,"quarantined":0,"oldest_pending_s":3600},"#,
            r#""devices":{"camera":"ok","id_reader":"ok","printer":"paper_near_end"},"#,
            r#""uptime_s":86400,"catalog":{"stale":true,"expires_at":"2026-12-01T00:00:00Z","#,
            r#""staged_version":18,"last_rollback":{"at":"2026-11-27T03:00:00Z","#,
            r#""failed_version":16,"restored_version":15,"code":"changed_on_disk"},"#,
            r#""last_refusal":["bad_signature"]}}"#
        )
    );
    // With the [ext] maintenance members: the contract's fields unchanged, `in_flight` added
    // to `outbox`, the rest after `uptime_s` (docs/central-api.md "Heartbeat maintenance").
    let with_maintenance = Heartbeat {
        outbox: HeartbeatOutbox {
            in_flight: Some(2),
            ..hb.outbox.clone()
        },
        maintenance_mode: Some(false),
        disk_free_bytes: Some(1_073_741_824),
        warnings: Some(vec!["printer: paper near end".into()]),
        device_reports: Some(BTreeMap::from([(
            "printer".to_string(),
            HeartbeatDevice {
                state: "idle".into(),
                last_error: None,
                health: Some("printer tcp:127.0.0.1:9100: online, paper near end".into()),
                counters: BTreeMap::from([("prints_ok".to_string(), 3)]),
                observed_at: Some("2026-11-27T03:00:00Z".into()),
            },
        )])),
        ..hb.clone()
    };
    assert_eq!(
        String::from_utf8(encode_heartbeat(&with_maintenance).unwrap()).unwrap(),
        concat!(
            r#"{"kiosk_id":"XH-0001","app_version":"0.3.0","catalog_version":17,"#,
            r#""outbox":{"pending":12,"quarantined":0,"oldest_pending_s":3600,"in_flight":2},"#,
            r#""devices":{"camera":"ok","id_reader":"ok","printer":"paper_near_end"},"#,
            r#""uptime_s":86400,"maintenance_mode":false,"disk_free_bytes":1073741824,"#,
            r#""warnings":["printer: paper near end"],"device_reports":{"printer":{"#,
            r#""state":"idle","last_error":null,"#,
            r#""health":"printer tcp:127.0.0.1:9100: online, paper near end","#,
            r#""counters":{"prints_ok":3},"observed_at":"2026-11-27T03:00:00Z"}}}"#
        )
    );
    assert_eq!(decode_heartbeat_response(200, None, b"{}", now()), Ok(()));
    assert_eq!(
        decode_heartbeat_response(503, Some("3"), b"", now()),
        Err((
            "heartbeat answered 503".into(),
            Some(Duration::from_secs(3))
        ))
    );
}

#[test]
fn catalog_answers() {
    assert_eq!(catalog_path(17), "/v1/catalog?have=17");
    assert_eq!(
        decode_catalog_response(304, vec![]),
        CatalogAnswer::NotModified
    );
    assert_eq!(
        decode_catalog_response(200, b"{}".to_vec()),
        CatalogAnswer::Envelope(b"{}".to_vec())
    );
    assert!(matches!(
        decode_catalog_response(200, vec![]),
        CatalogAnswer::Failed(_)
    ));
    assert!(matches!(
        decode_catalog_response(500, vec![]),
        CatalogAnswer::Failed(_)
    ));
}
