//! The dossier use cases: recording documents and events in the hash chain, verifying a case, exporting its bundle (issue #5).
//!
//! - [`record_document`]: a letter, e-mail (raw `.eml` with its headers), SMS text, call note,
//!   uploaded proof or agreement is stored with its SHA-256 and a `document_added` event.
//! - [`verify_case`]: the chain is recomputed and every document's bytes re-hashed against
//!   the hash its event recorded.
//! - [`export_bundle`]: a zip for an agency, bailiff or court: the index (JSON, text and,
//!   with a renderer, PDF), every document, the event log with its hashes, and a
//!   `manifest.sha256` that `sha256sum -c` checks.

use std::io::{Seek, Write};

use anyhow::{Context, anyhow, bail};
use incasso_domain::CreditorId;
use incasso_dossier::{
    Broken, Chained, FORMAT, IndexClaim, IndexData, IndexEvent, IndexLine, IndexParty, sha256_hex,
    verify_stored,
};
use incasso_store::{
    DOCUMENT_ADDED, DocumentAdded, DocumentRow, InvoiceFilter, NewDocument, Store, to_dossier_chain,
};

/// What kind of document is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Letter,
    Email,
    Sms,
    CallNote,
    Proof,
    Agreement,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 6] = [
        DocumentKind::Letter,
        DocumentKind::Email,
        DocumentKind::Sms,
        DocumentKind::CallNote,
        DocumentKind::Proof,
        DocumentKind::Agreement,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::Letter => "letter",
            DocumentKind::Email => "email",
            DocumentKind::Sms => "sms",
            DocumentKind::CallNote => "call_note",
            DocumentKind::Proof => "proof",
            DocumentKind::Agreement => "agreement",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.code() == s)
    }

    /// The Dutch word for the timeline.
    fn label(self) -> &'static str {
        match self {
            DocumentKind::Letter => "brief",
            DocumentKind::Email => "e-mail",
            DocumentKind::Sms => "sms",
            DocumentKind::CallNote => "gespreksnotitie",
            DocumentKind::Proof => "bewijsstuk",
            DocumentKind::Agreement => "overeenkomst",
        }
    }
}

/// A document to record on a case.
#[derive(Debug, Clone)]
pub struct Record {
    pub case_id: i64,
    pub kind: DocumentKind,
    /// The file's name (a path's directories are dropped).
    pub filename: String,
    /// `None`: guessed from the file name's extension.
    pub media_type: Option<String>,
    pub bytes: Vec<u8>,
    pub note: Option<String>,
    /// Further details (message id, sender, ...), stored with the document and hashed.
    pub meta: serde_json::Map<String, serde_json::Value>,
    /// The day in the case's timeline.
    pub on: incasso_calendar::Date,
    /// The moment of recording (RFC 3339), from the caller's clock.
    pub recorded_at: String,
}

/// The media type for a file name's extension.
pub fn media_type_for(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "eml" => "message/rfc822",
        "txt" | "sms" => "text/plain; charset=utf-8",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "json" => "application/json",
        "xml" => "application/xml",
        "csv" => "text/csv",
        _ => "application/octet-stream",
    }
}

/// Records a document on a case (stored once per case, kind and content).
pub fn record_document(
    store: &mut dyn Store,
    tenant: CreditorId,
    rec: Record,
) -> anyhow::Result<DocumentAdded> {
    let doc = new_document(rec)?;
    store
        .add_document(tenant, &doc)
        .with_context(|| format!("recording {} on case {}", doc.filename, doc.case_id))
}

/// The document [`record_document`] stores for `rec` (file name without directories, the note
/// in the details, the timeline line), for a caller that stores it in a transaction of its own
/// (the dispatch: [`incasso_store::DispatchStore::record_sent`]).
pub fn new_document(rec: Record) -> anyhow::Result<NewDocument> {
    let filename = rec
        .filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    if filename.is_empty() {
        bail!("document file name is empty");
    }
    if rec.bytes.is_empty() {
        bail!("document {filename} is empty");
    }
    let mut meta = rec.meta;
    if let Some(note) = rec.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        meta.insert("note".into(), serde_json::Value::String(note.to_string()));
    }
    let text = format!(
        "{} vastgelegd: {filename}{}",
        rec.kind.label(),
        rec.note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    );
    let doc = NewDocument {
        case_id: rec.case_id,
        kind: rec.kind.code().to_string(),
        media_type: rec
            .media_type
            .unwrap_or_else(|| media_type_for(&filename).to_string()),
        filename,
        bytes: rec.bytes,
        recorded_at: rec.recorded_at,
        on: rec.on,
        text,
        meta: serde_json::Value::Object(meta).to_string(),
    };
    Ok(doc)
}

/// The first problem found in a case's dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The event chain breaks at this event.
    Event(Broken),
    /// A document's bytes or stored hash do not match what its event recorded.
    Document {
        id: i64,
        filename: String,
        event_seq: u64,
        expected: String,
        found: String,
        reason: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Event(b) => b.fmt(f),
            Problem::Document {
                id,
                filename,
                event_seq,
                expected,
                found,
                reason,
            } => write!(
                f,
                "document {id} ({filename}, event {event_seq}): {reason} (expected {expected}, found {found})"
            ),
        }
    }
}

/// The outcome of [`verify_case`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub case_id: i64,
    pub events: u64,
    pub documents: u64,
    /// The hash of the last event.
    pub head: String,
    /// `None`: everything verifies.
    pub problem: Option<Problem>,
}

struct Loaded {
    chain: Vec<(Chained, String)>,
    documents: Vec<DocumentRow>,
}

fn load(store: &mut dyn Store, tenant: CreditorId, case: i64) -> anyhow::Result<Loaded> {
    store
        .case(tenant, case)
        .with_context(|| format!("case {case}"))?;
    let rows = store.chain(tenant, case)?;
    Ok(Loaded {
        chain: to_dossier_chain(tenant, case, &rows),
        documents: store.documents(tenant, case)?,
    })
}

fn check(
    store: &mut dyn Store,
    tenant: CreditorId,
    loaded: &Loaded,
) -> anyhow::Result<Option<Problem>> {
    if let Err(b) = verify_stored(&loaded.chain) {
        return Ok(Some(Problem::Event(b)));
    }
    let mut recorded: Vec<&Chained> = loaded
        .chain
        .iter()
        .map(|(c, _)| c)
        .filter(|c| c.event.kind == DOCUMENT_ADDED)
        .collect();
    for row in &loaded.documents {
        let problem = |expected: &str, found: &str, reason: &str| Problem::Document {
            id: row.id,
            filename: row.filename.clone(),
            event_seq: row.event_seq,
            expected: expected.to_string(),
            found: found.to_string(),
            reason: reason.to_string(),
        };
        let Some(pos) = recorded.iter().position(|c| c.event.seq == row.event_seq) else {
            return Ok(Some(problem(
                "a document_added event",
                "none",
                "no event records this document",
            )));
        };
        let event = recorded.remove(pos);
        let in_chain = event.event.document.as_deref().unwrap_or("");
        if row.sha256 != in_chain {
            return Ok(Some(problem(
                in_chain,
                &row.sha256,
                "stored hash differs from the one its event recorded",
            )));
        }
        let (_, bytes) = store.document(tenant, row.id)?;
        let actual = sha256_hex(&bytes);
        if actual != in_chain {
            return Ok(Some(problem(
                in_chain,
                &actual,
                "bytes do not match the recorded SHA-256",
            )));
        }
        if bytes.len() as u64 != row.size {
            return Ok(Some(problem(
                &row.size.to_string(),
                &bytes.len().to_string(),
                "size differs",
            )));
        }
    }
    if let Some(c) = recorded.first() {
        return Ok(Some(Problem::Document {
            id: 0,
            filename: String::new(),
            event_seq: c.event.seq,
            expected: c.event.document.clone().unwrap_or_default(),
            found: "none".into(),
            reason: "the document this event recorded is missing".into(),
        }));
    }
    Ok(None)
}

/// Verifies a case: the event chain, then every document against its event.
pub fn verify_case(
    store: &mut dyn Store,
    tenant: CreditorId,
    case: i64,
) -> anyhow::Result<Verification> {
    let loaded = load(store, tenant, case)?;
    let problem = check(store, tenant, &loaded)?;
    Ok(Verification {
        case_id: case,
        events: loaded.chain.len() as u64,
        documents: loaded.documents.len() as u64,
        head: loaded
            .chain
            .last()
            .map(|(c, _)| c.hash.clone())
            .unwrap_or_else(|| incasso_dossier::GENESIS.to_string()),
        problem,
    })
}

/// Renders the index PDF from its data (the letters crate's renderer).
pub type IndexRenderer<'a> = &'a dyn Fn(&IndexData) -> anyhow::Result<Vec<u8>>;

/// What [`export_bundle`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// Every file in the bundle with its SHA-256, in bundle order (the manifest's lines).
    pub files: Vec<(String, String)>,
    pub head: String,
    pub events: u64,
    pub documents: u64,
}

fn amount(m: &incasso_money::Money) -> String {
    format!("{} {}", m.currency().code(), m.to_decimal_string())
}

fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "document".into() } else { s }
}

/// The bundle path of a document.
pub fn document_path(row: &DocumentRow) -> String {
    format!(
        "documents/{:04}-{}-{}",
        row.event_seq,
        row.kind,
        safe_name(&row.filename)
    )
}

/// The day a bundle made at `generated_at` (RFC 3339) computes interest to: its Dutch/Belgian
/// local date.
fn as_of_day(generated_at: &str) -> anyhow::Result<incasso_calendar::Date> {
    let ts: jiff::Timestamp = generated_at
        .parse()
        .with_context(|| format!("bundle time {generated_at:?} is not RFC 3339"))?;
    Ok(incasso_messaging::rules::to_local(ts).date())
}

/// The index of a case bundle: parties, claims, calculation sheet, timeline.
pub fn index_data(
    store: &mut dyn Store,
    tenant: CreditorId,
    case: i64,
    generated_at: &str,
) -> anyhow::Result<IndexData> {
    let c = store.case(tenant, case)?;
    let creditor = store.creditor(tenant)?;
    let debtor = store.debtor(tenant, c.debtor_id)?;
    let loaded = load(store, tenant, case)?;
    let address = |a: &incasso_domain::Address| {
        [
            a.street.clone(),
            format!("{} {}", a.postal_code, a.city).trim().to_string(),
            a.country.map(|c| c.to_string()).unwrap_or_default(),
        ]
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
    };
    let cr = &creditor.details;
    let mut creditor_details = vec![("IBAN".to_string(), cr.iban.to_string())];
    if let Some(v) = &cr.vat_number {
        creditor_details.push(("VAT".into(), v.to_string()));
    }
    if let Some(r) = &cr.registration_number {
        creditor_details.push(("KvK/KBO".into(), r.to_string()));
    }
    let db = &debtor.details;
    let mut debtor_details = Vec::new();
    if let Some(n) = &db.number {
        debtor_details.push(("debtor number".to_string(), n.to_string()));
    }
    for e in &db.emails {
        debtor_details.push(("e-mail".into(), e.to_string()));
    }
    let mut claims = Vec::new();
    store.for_each_invoice(
        tenant,
        &InvoiceFilter {
            debtor: Some(c.debtor_id),
            ..InvoiceFilter::default()
        },
        &mut |r| {
            claims.push(IndexClaim {
                number: r.number.clone(),
                issued: r.issue_date.to_string(),
                due: r.due_date.map(|d| d.to_string()).unwrap_or_default(),
                principal: amount(&r.gross_amount),
                open: amount(&r.open_amount),
            });
            Ok(())
        },
    )?;
    let actions = store.actions(tenant, Some(case))?;
    let mut calculation = Vec::new();
    if let Some(a) = actions.last() {
        let a = &a.action;
        calculation.push(IndexLine {
            label: "hoofdsom".into(),
            amount: amount(&a.principal),
            explanation: String::new(),
        });
        if let Some(i) = &a.interest {
            calculation.push(IndexLine {
                label: "rente".into(),
                amount: amount(i),
                explanation: String::new(),
            });
        }
        if let Some(k) = &a.costs {
            calculation.push(IndexLine {
                label: "incassokosten".into(),
                amount: amount(k),
                explanation: String::new(),
            });
        }
        calculation.push(IndexLine {
            label: format!("totaal ({} van {})", a.step_id, a.created_on),
            amount: amount(&a.total),
            explanation: a.why.clone(),
        });
    }
    let paths: std::collections::HashMap<u64, String> = loaded
        .documents
        .iter()
        .map(|d| (d.event_seq, document_path(d)))
        .collect();
    let timeline = loaded
        .chain
        .iter()
        .map(|(ch, _)| IndexEvent {
            seq: ch.event.seq,
            on: ch.event.on.clone(),
            kind: ch.event.kind.clone(),
            text: ch.event.text.clone(),
            document: paths.get(&ch.event.seq).cloned(),
            document_sha256: ch.event.document.clone(),
            hash: ch.hash.clone(),
        })
        .collect();
    let as_of = as_of_day(generated_at)?;
    let sheet = crate::dossier_sheet::sheet(store, &creditor, &debtor, &actions, as_of)?;
    Ok(IndexData {
        format: FORMAT.to_string(),
        case_id: c.id,
        case_state: c.state.clone(),
        opened_on: c.opened_on.to_string(),
        closed_on: c.closed_on.map(|d| d.to_string()),
        generated_at: generated_at.to_string(),
        creditor: IndexParty {
            name: cr.name.clone(),
            address: address(&cr.address),
            details: creditor_details,
        },
        debtor: IndexParty {
            name: db.name.clone(),
            address: address(&db.address),
            details: debtor_details,
        },
        claims,
        calculation,
        timeline,
        sheet: Some(sheet),
        head_hash: loaded
            .chain
            .last()
            .map(|(c, _)| c.hash.clone())
            .unwrap_or_else(|| incasso_dossier::GENESIS.to_string()),
    })
}

/// Writes the case bundle as a zip to `out`, after verifying the case (a case that does not
/// verify is not exported: the error names the problem). Layout:
/// `index.pdf` (only with a renderer), `index.txt`, `index.json`, `events.json`,
/// `documents/<seq>-<kind>-<filename>`, and `manifest.sha256` (`sha256sum -c` format) over
/// all of them.
pub fn export_bundle<W: Write + Seek>(
    store: &mut dyn Store,
    tenant: CreditorId,
    case: i64,
    generated_at: &str,
    renderer: Option<IndexRenderer<'_>>,
    out: W,
) -> anyhow::Result<Exported> {
    let loaded = load(store, tenant, case)?;
    if let Some(p) = check(store, tenant, &loaded)? {
        bail!("case {case} does not verify, not exported: {p}");
    }
    let index = index_data(store, tenant, case, generated_at)?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    if let Some(render) = renderer {
        files.push((
            "index.pdf".into(),
            render(&index).context("rendering the index PDF")?,
        ));
    }
    files.push(("index.txt".into(), index.to_text().into_bytes()));
    files.push(("index.json".into(), serde_json::to_vec_pretty(&index)?));
    let chain: Vec<&Chained> = loaded.chain.iter().map(|(c, _)| c).collect();
    let events = serde_json::json!({
        "format": FORMAT,
        "tenant": tenant.get(),
        "case": case,
        "head": index.head_hash,
        "events": chain,
    });
    files.push(("events.json".into(), serde_json::to_vec_pretty(&events)?));
    for row in &loaded.documents {
        let (_, bytes) = store.document(tenant, row.id)?;
        files.push((document_path(row), bytes));
    }
    let mut zip = zip::ZipWriter::new(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut manifest = String::new();
    let mut listed = Vec::new();
    for (name, bytes) in &files {
        let sha = sha256_hex(bytes);
        manifest.push_str(&format!("{sha}  {name}\n"));
        listed.push((name.clone(), sha));
        zip.start_file(name.as_str(), options)
            .map_err(|e| anyhow!("zip entry {name}: {e}"))?;
        zip.write_all(bytes)?;
    }
    zip.start_file("manifest.sha256", options)
        .map_err(|e| anyhow!("zip entry manifest.sha256: {e}"))?;
    zip.write_all(manifest.as_bytes())?;
    let mut w = zip
        .finish()
        .map_err(|e| anyhow!("finishing the zip: {e}"))?;
    w.flush()?;
    Ok(Exported {
        files: listed,
        head: index.head_hash,
        events: loaded.chain.len() as u64,
        documents: loaded.documents.len() as u64,
    })
}
