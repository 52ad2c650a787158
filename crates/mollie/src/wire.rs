//! The receiving side of HTTP, just enough for a webhook endpoint and for the local test
//! servers that stand in for Mollie: read one HTTP/1.1 request (request line, headers,
//! `Content-Length` body, with size limits), write one response, and decode a form body
//! (`application/x-www-form-urlencoded`, as Mollie posts `id=tr_...`).

use std::io::{BufRead, Read, Write};

/// Request heads larger than this are refused.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Request bodies larger than this are refused (a webhook body is `id=` and an id).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// One HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path with its query string, as sent (`/webhooks/mollie?link=3`).
    pub target: String,
    /// Header names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query string.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query string's value of `key`, decoded.
    pub fn query(&self, key: &str) -> Option<String> {
        let q = self.target.split_once('?')?.1;
        form_value(q.as_bytes(), key).ok().flatten()
    }
}

/// Why a request could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the connection closed before a request was read")]
    Closed,
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("request too large: {0}")]
    TooLarge(String),
    #[error("reading the request failed: {0}")]
    Io(String),
}

fn read_line(r: &mut dyn BufRead, budget: &mut usize) -> Result<String, WireError> {
    let mut buf = Vec::new();
    let limit = u64::try_from(*budget).unwrap_or(u64::MAX).saturating_add(1);
    let n = r
        .take(limit)
        .read_until(b'\n', &mut buf)
        .map_err(|e| WireError::Io(e.to_string()))?;
    if n > *budget {
        return Err(WireError::TooLarge(format!(
            "the head exceeds {MAX_HEAD_BYTES} bytes"
        )));
    }
    *budget -= n;
    if n == 0 {
        return Err(WireError::Closed);
    }
    if !buf.ends_with(b"\n") {
        return Err(WireError::Malformed("a line without its end".into()));
    }
    buf.pop();
    if buf.ends_with(b"\r") {
        buf.pop();
    }
    String::from_utf8(buf).map_err(|_| WireError::Malformed("a head line is not UTF-8".into()))
}

/// Reads one request. Bodies need `Content-Length` (chunked bodies are refused).
pub fn read_request(r: &mut dyn BufRead) -> Result<Request, WireError> {
    let mut budget = MAX_HEAD_BYTES;
    let line = read_line(r, &mut budget)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(WireError::Malformed(format!("request line {line:?}")));
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Err(WireError::Malformed(format!("request line {line:?}")));
    }
    let mut headers = Vec::new();
    loop {
        let h = read_line(r, &mut budget).map_err(|e| match e {
            WireError::Closed => WireError::Malformed("the head ends early".into()),
            e => e,
        })?;
        if h.is_empty() {
            break;
        }
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| WireError::Malformed(format!("header line {h:?}")))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut request = Request {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        body: Vec::new(),
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|t| !t.eq_ignore_ascii_case("identity"))
    {
        return Err(WireError::Malformed(
            "chunked bodies are not accepted: send Content-Length".into(),
        ));
    }
    if let Some(len) = request.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| WireError::Malformed(format!("Content-Length {len:?}")))?;
        if len > MAX_BODY_BYTES {
            return Err(WireError::TooLarge(format!(
                "a body of {len} bytes (at most {MAX_BODY_BYTES})"
            )));
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body)
            .map_err(|e| WireError::Io(e.to_string()))?;
        request.body = body;
    }
    Ok(request)
}

/// Writes one response and asks the client to close the connection.
pub fn write_response(
    w: &mut dyn Write,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Status",
    };
    write!(
        w,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    w.write_all(body)?;
    w.flush()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one form component (`+` is a space, `%XX` a byte).
fn decode(part: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(part.len());
    let mut i = 0;
    while let Some(&b) = part.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let (Some(h), Some(l)) = (
                    part.get(i + 1).copied().and_then(hex),
                    part.get(i + 2).copied().and_then(hex),
                ) else {
                    return Err("a % not followed by two hex digits".into());
                };
                out.push(h * 16 + l);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 after decoding".into())
}

/// The value of `key` in a form-encoded body: `Ok(None)` when absent, an error when the body is
/// not valid form encoding or names the key twice.
pub fn form_value(body: &[u8], key: &str) -> Result<Option<String>, String> {
    let mut found = None;
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        if decode(k)? == key {
            if found.is_some() {
                return Err(format!("{key} is given twice"));
            }
            found = Some(decode(v)?);
        }
    }
    Ok(found)
}

/// Encodes a form component (letters, digits and `-._~` as they are, the rest as `%XX`).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_webhook_request() {
        let raw = b"POST /payments/webhook HTTP/1.0\r\nHost: webshop.example.org\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 16\r\n\r\nid=tr_d0b0E3EA3v";
        let req = read_request(&mut &raw[..]).expect("read");
        assert_eq!(req.method, "POST");
        assert_eq!(req.path(), "/payments/webhook");
        assert_eq!(
            req.header("Content-Type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            form_value(&req.body, "id"),
            Ok(Some("tr_d0b0E3EA3v".into()))
        );
    }

    #[test]
    fn bad_requests_are_refused() {
        for raw in [
            &b"GARBAGE\r\n\r\n"[..],
            b"POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST /x HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n",
            b"POST /x HTTP/1.1\r\nno colon\r\n\r\n",
        ] {
            assert!(read_request(&mut &raw[..]).is_err(), "{raw:?}");
        }
        assert_eq!(read_request(&mut &b""[..]), Err(WireError::Closed));
    }

    #[test]
    fn forms_decode_and_encode() {
        assert_eq!(
            form_value(b"a=1&id=tr_x%5Fy+z", "id"),
            Ok(Some("tr_x_y z".into()))
        );
        assert_eq!(form_value(b"a=1", "id"), Ok(None));
        assert!(form_value(b"id=1&id=2", "id").is_err());
        assert!(form_value(b"id=%G1", "id").is_err());
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
