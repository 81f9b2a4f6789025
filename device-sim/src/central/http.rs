//! A small HTTP/1.1 codec for the simulator (sans-IO: bytes in, requests out; responses to
//! bytes). Only what the contract needs: keep-alive, `Content-Length` bodies with a size cap.
//! Written here instead of using a framework so the fault injector controls every byte and
//! can cut a connection at exactly the moment it wants.

/// Largest request head (request line and headers).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    pub query: Option<String>,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` in the query string (no percent-decoding: the contract's
    /// parameters are plain numbers).
    pub fn query_param(&self, key: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == key).then_some(v)
        })
    }
}

/// A request that cannot be served; answered with `status`, then the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct HttpError {
    pub status: u16,
    pub message: String,
}

fn err(status: u16, message: impl Into<String>) -> HttpError {
    HttpError {
        status,
        message: message.into(),
    }
}

/// Tries to parse one request from the front of `buf`. `Ok(None)`: more bytes are needed.
/// `Ok(Some((request, used)))`: `used` bytes of `buf` made the request.
pub fn parse_request(buf: &[u8], max_body: usize) -> Result<Option<(Request, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if buf.len() > MAX_HEAD_BYTES {
                return Err(err(431, "request head too large"));
            }
            return Ok(None);
        }
        Err(httparse::Error::TooManyHeaders) => return Err(err(431, "too many headers")),
        Err(e) => return Err(err(400, format!("malformed request: {e}"))),
    };
    if head_len > MAX_HEAD_BYTES {
        return Err(err(431, "request head too large"));
    }
    let method = req.method.unwrap_or("").to_string();
    let target = req.path.unwrap_or("");
    let version = req.version.unwrap_or(1);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let mut out_headers = Vec::with_capacity(req.headers.len());
    for h in req.headers.iter() {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| err(400, format!("header {} is not UTF-8", h.name)))?;
        out_headers.push((h.name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let find = |name: &str| {
        out_headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if find("transfer-encoding").is_some() {
        return Err(err(
            411,
            "chunked bodies are not supported; send Content-Length",
        ));
    }
    let content_length = match find("content-length") {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| err(400, format!("bad Content-Length {v:?}")))?,
    };
    if content_length > max_body {
        return Err(err(
            413,
            format!("body of {content_length} bytes is over the limit of {max_body}"),
        ));
    }
    let connection = find("connection").map(|v| v.to_ascii_lowercase());
    let keep_alive = match (version, connection.as_deref()) {
        (_, Some(c)) if c.contains("close") => false,
        (0, Some(c)) => c.contains("keep-alive"),
        (0, None) => false,
        _ => true,
    };
    let total = head_len + content_length;
    if buf.len() < total {
        return Ok(None);
    }
    let body = buf[head_len..total].to_vec();
    Ok(Some((
        Request {
            method,
            path,
            query,
            headers: out_headers,
            body,
            keep_alive,
        },
        total,
    )))
}

/// A response to serialise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::new(status)
            .header("Content-Type", "application/json")
            .body(value.to_string().into_bytes())
    }

    /// A JSON error body `{"error": "..."}`.
    pub fn error(status: u16, message: &str) -> Response {
        Response::json(status, &serde_json::json!({ "error": message }))
    }

    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> Response {
        self.body = body;
        self
    }

    /// The bytes on the wire.
    pub fn to_bytes(&self, keep_alive: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 256);
        out.extend_from_slice(
            format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).as_bytes(),
        );
        for (n, v) in &self.headers {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        // 304 carries no body and, per RFC 9110, may omit Content-Length.
        if self.status != 304 {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(if keep_alive {
            b"Connection: keep-alive\r\n\r\n"
        } else {
            b"Connection: close\r\n\r\n"
        });
        if self.status != 304 {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POST: &[u8] = b"POST /v1/heartbeat?x=1&have=17 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

    #[test]
    fn parses_a_request_byte_by_byte() {
        for cut in 0..POST.len() {
            assert_eq!(parse_request(&POST[..cut], 100).unwrap(), None, "cut {cut}");
        }
        let (req, used) = parse_request(POST, 100).unwrap().unwrap();
        assert_eq!(used, POST.len());
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/v1/heartbeat");
        assert_eq!(req.query_param("have"), Some("17"));
        assert_eq!(req.query_param("y"), None);
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.body, b"{}");
        assert!(req.keep_alive);
    }

    #[test]
    fn two_pipelined_requests_are_split() {
        let mut two = POST.to_vec();
        two.extend_from_slice(b"GET /v1/catalog HTTP/1.1\r\nConnection: close\r\n\r\n");
        let (_, used) = parse_request(&two, 100).unwrap().unwrap();
        let (second, used2) = parse_request(&two[used..], 100).unwrap().unwrap();
        assert_eq!(second.path, "/v1/catalog");
        assert!(!second.keep_alive);
        assert_eq!(used + used2, two.len());
    }

    #[test]
    fn limits_and_malformed_requests_have_specific_statuses() {
        assert_eq!(parse_request(POST, 1).unwrap_err().status, 413);
        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse_request(chunked, 10).unwrap_err().status, 411);
        let bad_len = b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n";
        assert_eq!(parse_request(bad_len, 10).unwrap_err().status, 400);
        assert_eq!(
            parse_request(b"\x00\x01 / HTTP/1.1\r\n\r\n", 10)
                .unwrap_err()
                .status,
            400
        );
        let huge = vec![b'a'; MAX_HEAD_BYTES + 10];
        let mut head = b"GET /".to_vec();
        head.extend_from_slice(&huge);
        assert_eq!(parse_request(&head, 10).unwrap_err().status, 431);
    }

    #[test]
    fn response_bytes() {
        let r = Response::json(200, &serde_json::json!({})).to_bytes(true);
        assert_eq!(
            r,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}"
        );
        let nm = Response::new(304).to_bytes(false);
        assert_eq!(
            nm,
            b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n"
        );
    }
}
