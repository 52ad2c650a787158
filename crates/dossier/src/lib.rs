//! Dossier: the hash chain over a case's event log, document hashing, and the case bundle (index, documents, log) for an agency or court (issue #5).
//!
//! Pure: no IO, no clock. Every event of a case is encoded in one canonical, versioned byte
//! form ([`encode`]) and linked to its predecessor: `hash = SHA-256(encode(event, prev))`
//! ([`link`]). [`verify`] recomputes the chain and names the first event that does not fit, so
//! changing any field, deleting, reordering or inserting an event is detected. The format is
//! documented in `docs/dossier.md`, with a few lines of Python that check it independently.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

mod index;

pub use index::{
    IndexClaim, IndexData, IndexEvent, IndexLine, IndexParty, IndexSheet, SheetInterest,
    SheetInvoice, SheetPayment,
};

/// The first line of every encoded event: names the encoding and its version.
pub const FORMAT: &str = "incasso-dossier-event-v1";

/// The `prev` of a case's first event: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event of a case's log, as it is hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The tenant (creditor id).
    pub tenant: i64,
    /// The case id.
    pub case: i64,
    /// Position in the case's log, starting at 1, without gaps.
    pub seq: u64,
    /// The day the event happened (`YYYY-MM-DD`).
    pub on: String,
    /// What happened (`opened`, `action_sent`, `document_added`, ...).
    pub kind: String,
    /// The human-readable line of the timeline.
    pub text: String,
    /// Structured details; hashed in canonical form (sorted keys, no spaces).
    pub payload: serde_json::Value,
    /// SHA-256 (lowercase hex) of the document this event records, if any.
    pub document: Option<String>,
}

/// An event with its place in the chain: the previous event's hash and its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chained {
    #[serde(flatten)]
    pub event: Event,
    pub prev: String,
    pub hash: String,
}

/// Why a chain does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakReason {
    /// The sequence numbers are not 1, 2, 3, ...: an event was deleted, inserted or moved.
    Sequence,
    /// The event does not point at its predecessor's hash.
    Prev,
    /// The stored hash is not the hash of the event's content: a field was changed.
    Hash,
    /// The event belongs to another tenant or case than the first one.
    Case,
    /// The stored payload is not in canonical form.
    Payload,
}

impl BreakReason {
    pub fn describe(self) -> &'static str {
        match self {
            BreakReason::Sequence => {
                "sequence number out of order (an event was deleted, inserted or moved)"
            }
            BreakReason::Prev => "does not link to the previous event's hash",
            BreakReason::Hash => "content does not match its hash (a field was changed)",
            BreakReason::Case => "belongs to another tenant or case",
            BreakReason::Payload => "payload is not canonical JSON",
        }
    }
}

/// The first event where a chain breaks: what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broken {
    /// The stored sequence number of the offending event.
    pub seq: u64,
    pub expected: String,
    pub found: String,
    pub reason: BreakReason,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "event {}: {} (expected {}, found {})",
            self.seq,
            self.reason.describe(),
            self.expected,
            self.found
        )
    }
}

impl std::error::Error for Broken {}

/// Lowercase hex of SHA-256 over `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A streaming SHA-256 for documents too large to hold twice.
#[derive(Default)]
pub struct DocumentHasher {
    inner: Sha256,
    size: u64,
}

impl DocumentHasher {
    pub fn new() -> DocumentHasher {
        DocumentHasher::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
        self.size = self.size.saturating_add(bytes.len() as u64);
    }

    /// The hex digest and the number of bytes hashed.
    pub fn finish(self) -> (String, u64) {
        (hex(&self.inner.finalize()), self.size)
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The canonical JSON text of a value: object keys sorted (by their UTF-8 bytes), no
/// whitespace, strings escaped as serde_json does. Independent of serde_json's map order.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(*k) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    out.extend_from_slice(value.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

/// The canonical bytes of an event linked to `prev` (version [`FORMAT`]): one line per field,
/// in this order, each `name len:value\n` with `len` the value's length in bytes:
/// `tenant`, `case`, `seq`, `on`, `kind`, `text`, `payload` (canonical JSON), `document`
/// (hex, or empty), `prev`.
pub fn encode(event: &Event, prev: &str) -> Vec<u8> {
    let payload = canonical_json(&event.payload);
    let mut out = Vec::with_capacity(160 + event.text.len() + payload.len());
    out.extend_from_slice(FORMAT.as_bytes());
    out.push(b'\n');
    field(&mut out, "tenant", &event.tenant.to_string());
    field(&mut out, "case", &event.case.to_string());
    field(&mut out, "seq", &event.seq.to_string());
    field(&mut out, "on", &event.on);
    field(&mut out, "kind", &event.kind);
    field(&mut out, "text", &event.text);
    field(&mut out, "payload", &payload);
    field(
        &mut out,
        "document",
        event.document.as_deref().unwrap_or(""),
    );
    field(&mut out, "prev", prev);
    out
}

/// The hash of `event` linked to `prev`: lowercase hex SHA-256 of [`encode`].
pub fn link(prev: &str, event: &Event) -> String {
    sha256_hex(&encode(event, prev))
}

/// Chains events that follow a head (`None`: the case has no events yet): sets nothing in
/// the events themselves but returns them with `prev` and `hash`. The caller sets `seq`.
pub fn chain_from(head: Option<&str>, events: Vec<Event>) -> Vec<Chained> {
    let mut prev = head.unwrap_or(GENESIS).to_string();
    events
        .into_iter()
        .map(|event| {
            let hash = link(&prev, &event);
            Chained {
                event,
                prev: std::mem::replace(&mut prev, hash.clone()),
                hash,
            }
        })
        .collect()
}

/// Checks a case's whole log, in stored order: sequence numbers 1, 2, 3, ..., one tenant and
/// case, each `prev` the hash before it (the first [`GENESIS`]), each hash recomputed.
/// Returns the first event that breaks the chain.
pub fn verify(events: &[Chained]) -> Result<(), Broken> {
    let mut prev = GENESIS.to_string();
    let first = events.first().map(|c| (c.event.tenant, c.event.case));
    for (i, c) in events.iter().enumerate() {
        let e = &c.event;
        let expected_seq = i as u64 + 1;
        let broken = |expected: String, found: String, reason| Broken {
            seq: e.seq,
            expected,
            found,
            reason,
        };
        if Some((e.tenant, e.case)) != first {
            let (t, k) = first.unwrap_or_default();
            return Err(broken(
                format!("tenant {t} case {k}"),
                format!("tenant {} case {}", e.tenant, e.case),
                BreakReason::Case,
            ));
        }
        if e.seq != expected_seq {
            return Err(broken(
                expected_seq.to_string(),
                e.seq.to_string(),
                BreakReason::Sequence,
            ));
        }
        if c.prev != prev {
            return Err(broken(prev, c.prev.clone(), BreakReason::Prev));
        }
        let hash = link(&prev, e);
        if c.hash != hash {
            return Err(broken(hash, c.hash.clone(), BreakReason::Hash));
        }
        prev = hash;
    }
    Ok(())
}

/// Like [`verify`], and the stored payload texts must be canonical: `(chained, stored payload
/// text)` pairs as read from a database.
pub fn verify_stored(events: &[(Chained, String)]) -> Result<(), Broken> {
    for (c, text) in events {
        let canonical = canonical_json(&c.event.payload);
        if *text != canonical {
            // A payload edited in place (even only reordered) is reported, unless the chain
            // breaks earlier.
            let chain: Vec<Chained> = events
                .iter()
                .take_while(|(x, _)| x.event.seq != c.event.seq)
                .map(|(x, _)| x.clone())
                .collect();
            verify(&chain)?;
            return Err(Broken {
                seq: c.event.seq,
                expected: canonical,
                found: text.clone(),
                reason: BreakReason::Payload,
            });
        }
    }
    let chain: Vec<Chained> = events.iter().map(|(c, _)| c.clone()).collect();
    verify(&chain)
}

/// The hash of the last event (the head), or [`GENESIS`] for an empty log.
pub fn head(events: &[Chained]) -> &str {
    events.last().map(|c| c.hash.as_str()).unwrap_or(GENESIS)
}

#[cfg(test)]
mod tests;
