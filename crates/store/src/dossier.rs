//! The evidence-grade case file: immutable documents with their SHA-256 and an append-only, hash-chained event log per case (issue #5).
//!
//! Every case event carries its sequence number in the case, the previous event's hash and its
//! own (the encoding is `incasso_dossier::encode`); documents are stored with their bytes,
//! size and SHA-256, and recording one appends a `document_added` event whose `document`
//! field is that SHA-256, in the same transaction. Both tables refuse `UPDATE` and `DELETE` in
//! the database.

use incasso_calendar::Date;
use incasso_domain::CreditorId;

use crate::StoreResult;

/// The event kind that records a document.
pub const DOCUMENT_ADDED: &str = "document_added";

/// A document to record on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub case_id: i64,
    /// `letter`, `email`, `sms`, `call_note`, `proof`, `agreement`.
    pub kind: String,
    pub filename: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
    /// The moment it was recorded (RFC 3339, from the caller's clock).
    pub recorded_at: String,
    /// The day of the event in the case's timeline.
    pub on: Date,
    /// The timeline line of the `document_added` event.
    pub text: String,
    /// Further details (message id, sender, note, ...) as a JSON object text.
    pub meta: String,
}

/// A stored document, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    pub id: i64,
    pub case_id: i64,
    pub kind: String,
    pub filename: String,
    pub media_type: String,
    /// Lowercase hex SHA-256 of the bytes, computed when stored.
    pub sha256: String,
    pub size: u64,
    pub recorded_at: String,
    pub meta: String,
    /// The sequence number of the `document_added` event that recorded it.
    pub event_seq: u64,
}

/// One stored event of a case's chain, with everything the hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    pub seq: u64,
    /// The day as stored (`YYYY-MM-DD`), unparsed: a verifier must see what is there.
    pub on: String,
    pub kind: String,
    pub text: String,
    /// The payload as stored (canonical JSON object text; `{}` for plain events).
    pub payload: String,
    pub document_sha256: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// What [`DossierStore::add_document`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentAdded {
    pub document: DocumentRow,
    /// False when the same bytes of the same kind were already on the case: nothing was
    /// written and `document` is the earlier row.
    pub created: bool,
}

/// Dossier storage; every method is tenant-scoped.
pub trait DossierStore {
    /// Stores a document (bytes, size, SHA-256) and appends its `document_added` event to the
    /// case's chain, in one transaction. The same bytes of the same kind on the same case are
    /// stored once.
    fn add_document(&mut self, tenant: CreditorId, doc: &NewDocument)
    -> StoreResult<DocumentAdded>;

    /// A document and its bytes, as stored.
    fn document(&mut self, tenant: CreditorId, id: i64) -> StoreResult<(DocumentRow, Vec<u8>)>;

    /// A case's documents, in the order they were recorded.
    fn documents(&mut self, tenant: CreditorId, case: i64) -> StoreResult<Vec<DocumentRow>>;

    /// A case's event log with its hashes, in stored order (`id`), exactly as stored: a
    /// verifier must see gaps and disorder.
    fn chain(&mut self, tenant: CreditorId, case: i64) -> StoreResult<Vec<ChainRow>>;
}

/// The stored chain in the dossier crate's form, with each stored payload text, ready for
/// [`incasso_dossier::verify_stored`]. A payload that is not JSON is kept as a JSON string, so
/// it fails verification instead of failing to load.
pub fn to_dossier_chain(
    tenant: CreditorId,
    case: i64,
    rows: &[ChainRow],
) -> Vec<(incasso_dossier::Chained, String)> {
    rows.iter()
        .map(|r| {
            let payload = serde_json::from_str(&r.payload)
                .unwrap_or_else(|_| serde_json::Value::String(r.payload.clone()));
            (
                incasso_dossier::Chained {
                    event: incasso_dossier::Event {
                        tenant: tenant.get(),
                        case,
                        seq: r.seq,
                        on: r.on.clone(),
                        kind: r.kind.clone(),
                        text: r.text.clone(),
                        payload,
                        document: r.document_sha256.clone(),
                    },
                    prev: r.prev_hash.clone(),
                    hash: r.hash.clone(),
                },
                r.payload.clone(),
            )
        })
        .collect()
}
