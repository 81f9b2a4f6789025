//! The contract's endpoints (`docs/central-api.md`), as plain functions from a parsed request
//! and the client's verified kiosk id to a reply. No sockets here: the server does the I/O
//! and the latency; these decide what is stored and answered, and when the reply is lost.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::catalog::{verify_envelope, AdminKey};
use super::faults::{BatchFault, Faults};
use super::heartbeat;
use super::http::{Request, Response};
use super::store::{counter, Incoming, ItemResult, SimStore};

/// The contract's limit on submissions a request.
pub const MAX_BATCH: usize = 100;

/// What the server does with a request.
#[derive(Debug)]
pub enum Reply {
    Respond(Response),
    /// Cut the connection without answering (after the batch was committed).
    Drop,
}

/// Everything the handlers share.
pub struct Platform {
    pub store: Mutex<SimStore>,
    pub faults: Arc<Faults>,
    pub admin_token: String,
    pub admin_keys: Vec<AdminKey>,
}

impl Platform {
    fn store(&self) -> std::sync::MutexGuard<'_, SimStore> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Routes one request. `peer` is the kiosk id of the verified client certificate.
    pub fn handle(&self, req: &Request, peer: Option<&str>) -> Reply {
        match self.route(req, peer) {
            Ok(reply) => reply,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), path = %req.path, "simulator error");
                Reply::Respond(Response::error(500, "internal error"))
            }
        }
    }

    /// Whether a request is a kiosk's (latency and random 503s apply to these).
    pub fn is_kiosk_route(path: &str) -> bool {
        !path.starts_with("/v1/admin/")
    }

    fn route(&self, req: &Request, peer: Option<&str>) -> anyhow::Result<Reply> {
        let path = req.path.as_str();
        let method = req.method.as_str();
        if let Some(rest) = path.strip_prefix("/v1/admin/") {
            if !self.admin_authorized(req) {
                return Ok(respond(Response::error(401, "admin bearer token required")));
            }
            // `submissions/{receipt_no}/status`; prefix and suffix are stripped, never sliced
            // by offsets (`submissions/status` would overlap them).
            let status_of = rest
                .strip_prefix("submissions/")
                .and_then(|r| r.strip_suffix("/status"));
            return match (method, rest, status_of) {
                ("POST", "catalog", _) => self.publish_catalog(req),
                ("POST", _, Some(receipt)) => self.set_status(receipt, req),
                (_, "catalog", _) => Ok(respond(Response::error(405, "use POST"))),
                _ => Ok(respond(Response::error(404, "no such admin endpoint"))),
            };
        }
        let Some(kiosk) = peer else {
            return Ok(respond(Response::error(
                401,
                "a client certificate issued by the platform's CA is required",
            )));
        };
        match (method, path) {
            ("POST", "/v1/submissions/batch") => self.batch(req, kiosk),
            ("POST", "/v1/heartbeat") => self.heartbeat(req, kiosk),
            ("GET", "/v1/catalog") => self.catalog(req),
            ("GET", p) if p.starts_with("/v1/submissions/") => {
                self.receipt_status(&p["/v1/submissions/".len()..])
            }
            (_, "/v1/submissions/batch" | "/v1/heartbeat" | "/v1/catalog") => {
                Ok(respond(Response::error(405, "method not allowed")))
            }
            _ => Ok(respond(Response::error(404, "no such endpoint"))),
        }
    }

    fn unavailable(&self, retry_after_s: u64) -> anyhow::Result<Reply> {
        self.store().bump(counter::FAULTS_UNAVAILABLE, 1)?;
        Ok(respond(
            Response::error(503, "the platform is busy (simulated)")
                .header("Retry-After", &retry_after_s.to_string()),
        ))
    }

    fn batch(&self, req: &Request, kiosk: &str) -> anyhow::Result<Reply> {
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => {
                return Ok(respond(Response::error(
                    400,
                    &format!("body is not JSON: {e}"),
                )))
            }
        };
        let Some(body_kiosk) = body.get("kiosk_id").and_then(Value::as_str) else {
            return Ok(respond(Response::error(400, "kiosk_id is missing")));
        };
        if body_kiosk != kiosk {
            return Ok(respond(Response::error(
                403,
                "kiosk_id does not match the client certificate",
            )));
        }
        let Some(subs) = body.get("submissions").and_then(Value::as_array) else {
            return Ok(respond(Response::error(
                400,
                "submissions must be an array",
            )));
        };
        if subs.len() > MAX_BATCH {
            return Ok(respond(Response::error(
                413,
                &format!(
                    "{} submissions in one request; at most {MAX_BATCH}",
                    subs.len()
                ),
            )));
        }
        let fault = self.faults.for_batch();
        if let BatchFault::Unavailable { retry_after_s } = fault {
            return self.unavailable(retry_after_s);
        }
        let mut items = Vec::with_capacity(subs.len());
        for (i, sub) in subs.iter().enumerate() {
            let id = match sub.get("id").and_then(Value::as_str) {
                Some(id) if !id.is_empty() && id.len() <= 100 => id.to_string(),
                _ => {
                    return Ok(respond(Response::error(
                        400,
                        &format!("submission {i} has no usable id"),
                    )))
                }
            };
            let mut refusal = validate(sub).map(|reason| ("malformed".to_string(), reason));
            if refusal.is_none() {
                refusal = check_attachments(sub).map(|r| ("attachment_invalid".to_string(), r));
            }
            if refusal.is_none() {
                if let Some(form) = sub.get("form") {
                    refusal = self
                        .faults
                        .rejection(form)
                        .map(|r| ("form_invalid".to_string(), r));
                }
            }
            items.push(Incoming {
                id,
                seq: sub.get("seq").and_then(Value::as_u64).unwrap_or(0),
                matter_code: sub
                    .get("matter_code")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                body: sub.clone(),
                refusal,
            });
        }
        let results = self.store().apply_batch(kiosk, &items)?;
        if fault == BatchFault::DropAfterCommit {
            self.store().bump(counter::FAULTS_DROPPED, 1)?;
            return Ok(Reply::Drop);
        }
        let results: Vec<Value> = results.iter().map(result_json).collect();
        Ok(respond(Response::json(200, &json!({ "results": results }))))
    }

    fn heartbeat(&self, req: &Request, kiosk: &str) -> anyhow::Result<Reply> {
        if let Some(retry_after_s) = self.faults.unavailable() {
            return self.unavailable(retry_after_s);
        }
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => {
                return Ok(respond(Response::error(
                    400,
                    &format!("body is not JSON: {e}"),
                )))
            }
        };
        if body.get("kiosk_id").and_then(Value::as_str) != Some(kiosk) {
            return Ok(respond(Response::error(
                403,
                "kiosk_id does not match the client certificate",
            )));
        }
        for (field, ok) in [
            (
                "app_version",
                body.get("app_version").is_some_and(Value::is_string),
            ),
            (
                "catalog_version",
                body.get("catalog_version").is_some_and(Value::is_u64),
            ),
            ("outbox", body.get("outbox").is_some_and(Value::is_object)),
            ("devices", body.get("devices").is_some_and(Value::is_object)),
            ("uptime_s", body.get("uptime_s").is_some_and(Value::is_u64)),
        ] {
            if !ok {
                return Ok(respond(Response::error(
                    400,
                    &format!("heartbeat field '{field}' is missing or has the wrong type"),
                )));
            }
        }
        // [ext] The optional `catalog` object (docs/central-api.md, "Heartbeat catalog").
        if let Some(catalog) = body.get("catalog") {
            if let Err(why) = heartbeat::check_catalog(catalog) {
                return Ok(respond(Response::error(
                    400,
                    &format!("heartbeat field 'catalog': {why}"),
                )));
            }
        }
        // [ext] The optional maintenance members ("Heartbeat maintenance").
        if let Err(why) = heartbeat::check_maintenance(&body) {
            return Ok(respond(Response::error(400, &format!("heartbeat: {why}"))));
        }
        let text = body.to_string();
        if looks_like_id_number(&text) {
            return Ok(respond(Response::error(
                400,
                "heartbeat carries what looks like an ID number: no personal data, ever",
            )));
        }
        self.store().record_heartbeat(kiosk, &text)?;
        Ok(respond(Response::json(200, &json!({}))))
    }

    fn catalog(&self, req: &Request) -> anyhow::Result<Reply> {
        if let Some(retry_after_s) = self.faults.unavailable() {
            return self.unavailable(retry_after_s);
        }
        let have = match req.query_param("have") {
            None | Some("") => 0,
            Some(v) => match v.parse::<u64>() {
                Ok(n) => n,
                Err(_) => return Ok(respond(Response::error(400, "have must be a number"))),
            },
        };
        match self.store().latest_catalog()? {
            Some((version, envelope)) if version > have => Ok(respond(
                Response::new(200)
                    .header("Content-Type", "application/json")
                    .body(envelope),
            )),
            _ => Ok(respond(Response::new(304))),
        }
    }

    fn receipt_status(&self, receipt_no: &str) -> anyhow::Result<Reply> {
        if let Some(retry_after_s) = self.faults.unavailable() {
            return self.unavailable(retry_after_s);
        }
        Ok(respond(match self.store().status(receipt_no)? {
            Some((status, updated_at)) => Response::json(
                200,
                &json!({"receipt_no": receipt_no, "status": status, "updated_at": updated_at}),
            ),
            None => Response::error(404, "unknown receipt number"),
        }))
    }

    fn publish_catalog(&self, req: &Request) -> anyhow::Result<Reply> {
        let version = match verify_envelope(&req.body, &self.admin_keys) {
            Ok(v) => v,
            Err(e) => return Ok(respond(Response::error(400, &e.to_string()))),
        };
        if self.store().publish_catalog(version, &req.body)? {
            tracing::info!(version, "catalog published");
            Ok(respond(Response::json(201, &json!({ "version": version }))))
        } else {
            Ok(respond(Response::error(
                409,
                "catalog version is not greater than the current one",
            )))
        }
    }

    fn set_status(&self, receipt_no: &str, req: &Request) -> anyhow::Result<Reply> {
        const STATUSES: [&str; 5] = ["received", "in_review", "approved", "returned", "done"];
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let Some(status) = body
            .get("status")
            .and_then(Value::as_str)
            .filter(|s| STATUSES.contains(s))
        else {
            return Ok(respond(Response::error(
                400,
                "status must be one of received, in_review, approved, returned, done",
            )));
        };
        Ok(respond(if self.store().set_status(receipt_no, status)? {
            Response::json(200, &json!({"receipt_no": receipt_no, "status": status}))
        } else {
            Response::error(404, "unknown receipt number")
        }))
    }

    fn admin_authorized(&self, req: &Request) -> bool {
        let Some(token) = req
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        constant_time_eq(token.trim().as_bytes(), self.admin_token.as_bytes())
    }
}

fn respond(r: Response) -> Reply {
    Reply::Respond(r)
}

fn result_json(r: &ItemResult) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}

/// The contract's submission fields; `Some(reason)` when one is missing or of the wrong type.
fn validate(sub: &Value) -> Option<String> {
    let s = |k: &str| sub.get(k).and_then(Value::as_str);
    let bad = |field: &str| Some(format!("field '{field}' is missing or invalid"));
    if sub
        .get("seq")
        .and_then(Value::as_u64)
        .filter(|&n| n >= 1)
        .is_none()
    {
        return bad("seq");
    }
    if s("matter_code").is_none_or(str::is_empty) {
        return bad("matter_code");
    }
    if s("situation").is_none() {
        return bad("situation");
    }
    if sub.get("catalog_version").and_then(Value::as_u64).is_none() {
        return bad("catalog_version");
    }
    if s("created_at")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .is_none()
    {
        return bad("created_at");
    }
    let Some(applicant) = sub.get("applicant").and_then(Value::as_object) else {
        return bad("applicant");
    };
    for k in ["id_type", "id_number", "name", "verified_by"] {
        if !applicant.get(k).is_some_and(Value::is_string) {
            return bad(&format!("applicant.{k}"));
        }
    }
    let Some(form) = sub.get("form").and_then(Value::as_object) else {
        return bad("form");
    };
    if let Some((k, _)) = form.iter().find(|(_, v)| !v.is_string()) {
        return bad(&format!("form.{k}"));
    }
    if !sub.get("attachments").is_some_and(Value::is_array) {
        return bad("attachments");
    }
    None
}

/// Each attachment's bytes must decode and match its SHA-256.
fn check_attachments(sub: &Value) -> Option<String> {
    let list = sub.get("attachments").and_then(Value::as_array)?;
    for (i, a) in list.iter().enumerate() {
        let name = a.get("name").and_then(Value::as_str).unwrap_or("");
        let (Some(sha), Some(b64)) = (
            a.get("sha256").and_then(Value::as_str),
            a.get("bytes_b64").and_then(Value::as_str),
        ) else {
            return Some(format!("attachment {i} lacks sha256 or bytes_b64"));
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            return Some(format!("attachment '{name}' is not valid base64"));
        };
        if !hex::encode(Sha256::digest(&bytes)).eq_ignore_ascii_case(sha) {
            return Some(format!("attachment '{name}' does not match its sha256"));
        }
    }
    None
}

/// 17 digits then a digit or X: the shape of a resident ID number.
fn looks_like_id_number(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(18).any(|w| {
        w[..17].iter().all(u8::is_ascii_digit) && (w[17].is_ascii_digit() || w[17] == b'X')
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[path = "handlers_tests.rs"]
mod tests;
