//! The central API contract (`docs/central-api.md`) as pure functions, no I/O: build request
//! bodies from outbox entries, and turn a response (status, `Retry-After`, body bytes) into an
//! outcome per submission id. The engine moves the bytes; everything it decides comes from here.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::catalog::update::HeartbeatCatalog;
use crate::outbox::{Applicant, Attachment, SealedPayload};

/// The contract's limits for one `POST /v1/submissions/batch`.
pub const MAX_BATCH_ITEMS: usize = 100;
pub const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;
/// The longest `Retry-After` honoured; a larger value is taken as this (a broken header must
/// not silence a kiosk for days).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// A submission opened for sending.
pub struct Outgoing {
    pub id: String,
    pub seq: u64,
    pub matter_code: String,
    pub situation: String,
    pub catalog_version: u64,
    pub created_at: String,
    pub payload: SealedPayload,
}

#[derive(Serialize)]
struct WireSubmission<'a> {
    id: &'a str,
    seq: u64,
    matter_code: &'a str,
    situation: &'a str,
    catalog_version: u64,
    created_at: &'a str,
    applicant: &'a Applicant,
    form: &'a BTreeMap<String, String>,
    attachments: &'a [Attachment],
}

/// A request body and which of the offered items it carries.
pub struct EncodedBatch {
    /// The JSON body (holds personal data: wiped when dropped).
    pub body: Zeroizing<Vec<u8>>,
    /// Indices (into the offered items) in the body, in order.
    pub sent: Vec<usize>,
    /// Items that alone exceed the request limit: the platform can never take them.
    pub too_large: Vec<usize>,
    /// Items left for a later request (the body was full).
    pub unsent: Vec<usize>,
}

/// Builds `{"kiosk_id": ..., "submissions": [...]}` from `items` in order, within
/// `max_bytes`. Items stop at the first one that does not fit (order is kept); an item too
/// large for any request is set aside so it cannot block the others.
pub fn encode_batch(
    kiosk_id: &str,
    items: &[Outgoing],
    max_bytes: usize,
) -> anyhow::Result<EncodedBatch> {
    let head = format!(
        "{{\"kiosk_id\":{},\"submissions\":[",
        serde_json::to_string(kiosk_id)?
    );
    let tail = "]}";
    let mut body = Zeroizing::new(Vec::with_capacity(64 * 1024));
    body.extend_from_slice(head.as_bytes());
    let overhead = head.len() + tail.len();
    let (mut sent, mut too_large, mut unsent) = (Vec::new(), Vec::new(), Vec::new());
    let mut full = false;
    for (i, item) in items.iter().enumerate() {
        if full {
            unsent.push(i);
            continue;
        }
        let one = Zeroizing::new(serde_json::to_vec(&WireSubmission {
            id: &item.id,
            seq: item.seq,
            matter_code: &item.matter_code,
            situation: &item.situation,
            catalog_version: item.catalog_version,
            created_at: &item.created_at,
            applicant: &item.payload.applicant,
            form: &item.payload.form,
            attachments: &item.payload.attachments,
        })?);
        if one.len() + overhead > max_bytes {
            too_large.push(i);
            continue;
        }
        let comma = usize::from(!sent.is_empty());
        if body.len() + comma + one.len() + tail.len() > max_bytes {
            full = true;
            unsent.push(i);
            continue;
        }
        if comma == 1 {
            body.push(b',');
        }
        body.extend_from_slice(&one);
        sent.push(i);
    }
    body.extend_from_slice(tail.as_bytes());
    Ok(EncodedBatch {
        body,
        sent,
        too_large,
        unsent,
    })
}

/// What the platform said about one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    Accepted {
        receipt_no: String,
    },
    /// Stored before; the receipt number is the first one.
    Duplicate {
        receipt_no: String,
    },
    /// Never acceptable as it is: quarantine, keep for staff.
    Rejected {
        code: String,
        reason: String,
    },
    /// No answer for this id: send it again later with the same id.
    Unknown,
}

/// The outcome of one batch request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// One entry per id sent, in the order sent.
    pub items: Vec<(String, ItemOutcome)>,
    /// The platform's `Retry-After`, if it gave one (429/503).
    pub retry_after: Option<Duration>,
    /// Why the request as a whole failed, if it did (then every item is `Unknown`).
    pub error: Option<String>,
}

impl BatchOutcome {
    /// No usable response (timeout, broken connection, TLS failure): every item unknown.
    pub fn all_unknown(sent_ids: &[String], error: String, retry_after: Option<Duration>) -> Self {
        BatchOutcome {
            items: sent_ids
                .iter()
                .map(|id| (id.clone(), ItemOutcome::Unknown))
                .collect(),
            retry_after,
            error: Some(error),
        }
    }
}

#[derive(Deserialize)]
struct BatchResponse {
    results: Vec<ResultItem>,
}

#[derive(Deserialize)]
struct ResultItem {
    id: String,
    status: String,
    #[serde(default)]
    receipt_no: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Interprets the platform's answer to a batch of `sent_ids`.
pub fn decode_batch_response(
    sent_ids: &[String],
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> BatchOutcome {
    let retry_after = retry_after.and_then(|v| parse_retry_after(v, now));
    if status != 200 {
        return BatchOutcome::all_unknown(
            sent_ids,
            format!("platform answered {status}{}", error_detail(body)),
            retry_after,
        );
    }
    let parsed: BatchResponse = match serde_json::from_slice(body) {
        Ok(p) => p,
        Err(e) => {
            return BatchOutcome::all_unknown(
                sent_ids,
                format!("platform's reply is not the contract's JSON: {e}"),
                None,
            )
        }
    };
    let mut by_id: BTreeMap<String, ItemOutcome> = BTreeMap::new();
    for r in parsed.results {
        let outcome = match (r.status.as_str(), r.receipt_no) {
            ("accepted", Some(receipt_no)) if !receipt_no.is_empty() => {
                ItemOutcome::Accepted { receipt_no }
            }
            ("duplicate", Some(receipt_no)) if !receipt_no.is_empty() => {
                ItemOutcome::Duplicate { receipt_no }
            }
            ("rejected", _) => ItemOutcome::Rejected {
                code: r.code.unwrap_or_else(|| "rejected".into()),
                reason: r
                    .reason
                    .unwrap_or_else(|| "the platform gave no reason".into()),
            },
            // Accepted without a receipt number, or a status this build does not know:
            // not something to act on; the id is sent again.
            _ => ItemOutcome::Unknown,
        };
        by_id.entry(r.id).or_insert(outcome);
    }
    let items: Vec<(String, ItemOutcome)> = sent_ids
        .iter()
        .map(|id| {
            let o = by_id.remove(id).unwrap_or(ItemOutcome::Unknown);
            (id.clone(), o)
        })
        .collect();
    let unknown = items
        .iter()
        .filter(|(_, o)| *o == ItemOutcome::Unknown)
        .count();
    BatchOutcome {
        items,
        retry_after: None,
        error: (unknown > 0)
            .then(|| format!("platform's reply had no usable result for {unknown} submission(s)")),
    }
}

/// `Retry-After`: delta-seconds, or an HTTP date (RFC 9110 IMF-fixdate). Capped at
/// [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value.trim();
    let d = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
        let ms = (at.with_timezone(&chrono::Utc) - now)
            .num_milliseconds()
            .max(0);
        Duration::from_millis(ms as u64)
    };
    Some(d.min(MAX_RETRY_AFTER))
}

/// `: <error text>` from a JSON `{"error": ...}` body, for messages (bounded length).
fn error_detail(body: &[u8]) -> String {
    let text = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string));
    match text {
        Some(t) => format!(": {}", t.chars().take(200).collect::<String>()),
        None => String::new(),
    }
}

/// The heartbeat's outbox part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeartbeatOutbox {
    /// Waiting to be sent, in flight included.
    pub pending: u64,
    pub quarantined: u64,
    pub oldest_pending_s: Option<u64>,
    /// [ext] Of `pending`, those sent and not yet answered ("Heartbeat maintenance").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<u64>,
}

/// `POST /v1/heartbeat`. Only counts, versions, codes and device states: no personal data,
/// ever. Every `[ext]` field is optional and left out when `None`, so a heartbeat without
/// them is exactly the contract's and a platform that ignores unknown fields keeps working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heartbeat {
    pub kiosk_id: String,
    pub app_version: String,
    pub catalog_version: u64,
    pub outbox: HeartbeatOutbox,
    pub devices: BTreeMap<String, String>,
    pub uptime_s: u64,
    /// [ext] The catalog's staleness, staged version, last rollback and last refusal
    /// (`docs/central-api.md`, "Heartbeat catalog").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<HeartbeatCatalog>,
    /// [ext] Citizens see "under maintenance" ("Heartbeat maintenance").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance_mode: Option<bool>,
    /// [ext] Bytes still free for the kiosk's data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_free_bytes: Option<u64>,
    /// [ext] What staff on site would be told to look at, most urgent first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
    /// [ext] Each device as the running kiosk sees it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_reports: Option<BTreeMap<String, HeartbeatDevice>>,
}

/// [ext] One device in the heartbeat: its state, last error and `check_health` text (device
/// words, bounded and scrubbed of anything shaped like an ID number), its counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeartbeatDevice {
    /// `closed`, `idle`, `busy`, `error`.
    pub state: String,
    pub last_error: Option<String>,
    pub health: Option<String>,
    pub counters: BTreeMap<String, u64>,
    /// When the kiosk last looked (RFC 3339 UTC); `null` when it never did.
    pub observed_at: Option<String>,
}

pub fn encode_heartbeat(hb: &Heartbeat) -> anyhow::Result<Vec<u8>> {
    Ok(serde_json::to_vec(hb)?)
}

/// `Ok(())` for 200; otherwise why not, and the `Retry-After` if any.
pub fn decode_heartbeat_response(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), (String, Option<Duration>)> {
    if status == 200 {
        return Ok(());
    }
    Err((
        format!("heartbeat answered {status}{}", error_detail(body)),
        retry_after.and_then(|v| parse_retry_after(v, now)),
    ))
}

/// What `GET /v1/catalog?have=N` brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogAnswer {
    /// Nothing newer than `have`.
    NotModified,
    /// A DSSE envelope to verify (issue 7's catalog update does that).
    Envelope(Vec<u8>),
    Failed(String),
}

pub fn catalog_path(have: u64) -> String {
    format!("/v1/catalog?have={have}")
}

pub fn decode_catalog_response(status: u16, body: Vec<u8>) -> CatalogAnswer {
    match status {
        304 => CatalogAnswer::NotModified,
        200 if !body.is_empty() => CatalogAnswer::Envelope(body),
        200 => CatalogAnswer::Failed("catalog answer 200 with an empty body".into()),
        s => CatalogAnswer::Failed(format!("catalog answered {s}{}", error_detail(&body))),
    }
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
