//! Importing invoices and credit notes: CSV and UBL files become debtors and invoices in one
//! transaction per file. An import is all-or-nothing; the same bytes twice change nothing; an
//! invoice that comes back with different amounts is reported, never silently overwritten.

pub mod csv;
mod matching;
pub mod ubl;

use std::collections::HashMap;
use std::fmt;

use anyhow::anyhow;
use incasso_calendar::Date;
use incasso_domain::{
    CreditorId, DebtorId, DebtorKind, ImportId, Language, NewDebtor, NewInvoice, NotCollectable,
};
use incasso_store::{ImportCounts, ImportFile, Store, StoreError, codec};

pub use matching::DebtorIndex;

/// Rows are written in chunks of this size inside the one transaction, so memory stays flat
/// however large the file is.
const CHUNK: usize = 5_000;

/// Stop collecting problems after this many; the file is refused anyway.
const MAX_PROBLEMS: usize = 50;

/// How many not-collectable invoices a report lists by number (all are counted).
pub const REPORT_EXAMPLES: usize = 100;

/// Hashes that are already uniformly distributed (our own 64-bit key hashes) need no rehashing.
#[derive(Default)]
struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

use std::hash::BuildHasherDefault;

/// The fingerprint folded to 32 bits (enough to tell a repeated line from a changed one).
fn fold_fingerprint(fp: i64) -> u32 {
    let x = u64::from_ne_bytes(fp.to_ne_bytes());
    (x ^ (x >> 32)) as u32
}

/// One `u64` per seen invoice: folded fingerprint in the high half, line in the low half.
fn pack_seen(fp: i64, line: u64) -> u64 {
    (u64::from(fold_fingerprint(fp)) << 32) | (line & 0xFFFF_FFFF)
}

fn unpack_seen(packed: u64) -> (u32, u64) {
    ((packed >> 32) as u32, packed & 0xFFFF_FFFF)
}

/// A stable 64-bit hash of an invoice number (SipHash with fixed keys).
fn number_hash(number: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(number)
}

/// One problem in an input file: where, which field, what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `line 12` for CSV, an element path such as `/Invoice/cbc:DueDate` for XML.
    pub location: String,
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(
                f,
                "{}, field {}: {}",
                self.location, self.field, self.message
            )
        }
    }
}

/// A refused file: nothing from it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    pub file: String,
    pub problems: Vec<Problem>,
    /// True when more problems existed than are listed.
    pub truncated: bool,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: refused, nothing was imported ({} problem{}{}):",
            self.file,
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" },
            if self.truncated {
                ", more not shown"
            } else {
                ""
            }
        )?;
        for p in &self.problems {
            writeln!(f, "  {}: {p}", self.file)?;
        }
        Ok(())
    }
}

/// One parsed row (CSV line or UBL document): who owes what.
#[derive(Debug, Clone)]
pub struct ParsedRow {
    pub location: String,
    /// The line in the file (CSV) or 0 (a one-document XML file).
    pub line: u64,
    pub debtor: NewDebtor,
    pub invoice: NewInvoice,
}

/// How a file's invoices were handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Imported {
        import_id: ImportId,
    },
    /// The same bytes were imported before: nothing changed.
    AlreadyImported {
        import_id: ImportId,
        imported_at: String,
    },
}

/// An invoice whose number exists with different amounts: reported, not overwritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedInvoice {
    pub number: String,
    pub location: String,
}

/// An imported invoice that cannot be collected as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCollectableInvoice {
    pub number: String,
    pub location: String,
    pub reason: NotCollectable,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub file: String,
    pub format: &'static str,
    pub outcome: Outcome,
    pub debtors_created: i64,
    pub debtors_matched: i64,
    pub invoices_created: i64,
    pub invoices_unchanged: i64,
    pub changed: Vec<ChangedInvoice>,
    /// The first [`REPORT_EXAMPLES`] not-collectable invoices.
    pub not_collectable: Vec<NotCollectableInvoice>,
    /// All not-collectable invoices, counted by reason code.
    pub not_collectable_counts: std::collections::BTreeMap<&'static str, i64>,
    /// Not yet due on the import day (collectable later).
    pub not_yet_due: i64,
    pub warnings: Vec<String>,
}

/// Defaults for facts a file does not state.
#[derive(Debug, Clone, Copy)]
pub struct ImportDefaults {
    pub language: Language,
    pub country: incasso_domain::CountryCode,
    /// The import day, to report invoices that are not yet due.
    pub today: Date,
}

/// Failure of an import: refused input, or a storage failure.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}")]
    Refused(ImportError),
    #[error("{file}: {source:#}")]
    Store { file: String, source: anyhow::Error },
}

/// Imports already-parsed rows of one file. `rows` yields each row or the problem that row has.
pub fn import_rows(
    store: &mut dyn Store,
    tenant: CreditorId,
    file: &ImportFile,
    format: &'static str,
    defaults: &ImportDefaults,
    rows: &mut dyn Iterator<Item = Result<ParsedRow, Problem>>,
) -> Result<ImportReport, ImportFailure> {
    let store_failure = |e: StoreError| ImportFailure::Store {
        file: file.filename.clone(),
        source: anyhow!(e),
    };
    if let Some(previous) = store
        .find_import(tenant, &file.sha256)
        .map_err(store_failure)?
    {
        return Ok(ImportReport {
            file: file.filename.clone(),
            format,
            outcome: Outcome::AlreadyImported {
                import_id: previous.id,
                imported_at: previous.imported_at,
            },
            debtors_created: 0,
            debtors_matched: 0,
            invoices_created: 0,
            invoices_unchanged: 0,
            changed: Vec::new(),
            not_collectable: Vec::new(),
            not_collectable_counts: Default::default(),
            not_yet_due: 0,
            warnings: Vec::new(),
        });
    }

    let mut problems: Vec<Problem> = Vec::new();
    let mut truncated = false;
    let mut report = ImportReport {
        file: file.filename.clone(),
        format,
        outcome: Outcome::Imported {
            import_id: ImportId::new(0),
        },
        debtors_created: 0,
        debtors_matched: 0,
        invoices_created: 0,
        invoices_unchanged: 0,
        changed: Vec::new(),
        not_collectable: Vec::new(),
        not_collectable_counts: Default::default(),
        not_yet_due: 0,
        warnings: Vec::new(),
    };

    let result = store.import(tenant, file, &mut |sink| {
        let mut index = DebtorIndex::from_keys(sink.debtor_keys()?);
        let mut existing: HashMap<String, i64> =
            sink.invoice_fingerprints()?.into_iter().map(|(n, f)| (n, f.fingerprint)).collect();
        // Invoice numbers seen in this file, by a 64-bit hash of the number (8 bytes instead of
        // a string per invoice): hash → (fingerprint, line). A hash collision between two
        // different numbers can only make the file be refused, never store wrong data.
        let mut seen: HashMap<u64, u64, BuildHasherDefault<IdentityHasher>> = HashMap::default();
        let mut matched: std::collections::HashSet<DebtorId> = std::collections::HashSet::new();
        let mut chunk: Vec<ParsedRow> = Vec::with_capacity(CHUNK);
        let mut counts = ImportCounts::default();

        let mut flush = |chunk: &mut Vec<ParsedRow>,
                         index: &mut DebtorIndex,
                         counts: &mut ImportCounts,
                         _report: &mut ImportReport|
         -> anyhow::Result<()> {
            if chunk.is_empty() {
                return Ok(());
            }
            // Resolve debtors: existing, or new (inserted first so invoices can refer to them).
            let mut new_debtors: Vec<NewDebtor> = Vec::new();
            let mut resolution: Vec<Result<DebtorId, usize>> = Vec::with_capacity(chunk.len());
            let mut pending: HashMap<usize, usize> = HashMap::new();
            for row in chunk.iter() {
                match index.find(&row.debtor) {
                    Some(matching::Found::Existing(id)) => {
                        matched.insert(id);
                        resolution.push(Ok(id));
                    }
                    Some(matching::Found::CreatedHere(id)) => resolution.push(Ok(id)),
                    Some(matching::Found::Pending(slot)) => resolution.push(Err(pending[&slot])),
                    None => {
                        let slot = index.add_pending(&row.debtor);
                        pending.insert(slot, new_debtors.len());
                        resolution.push(Err(new_debtors.len()));
                        new_debtors.push(row.debtor.clone());
                    }
                }
            }
            let new_ids = sink.insert_debtors(&new_debtors)?;
            for (slot, pos) in &pending {
                index.resolve(*slot, new_ids[*pos]);
            }
            counts.debtors_created += new_ids.len() as i64;
            let pairs: Vec<(DebtorId, &NewInvoice)> = chunk
                .iter()
                .zip(&resolution)
                .map(|(row, r)| (r.map_or_else(|pos| new_ids[pos], |id| id), &row.invoice))
                .collect();
            let created = sink.insert_invoices(&pairs)?;
            counts.invoices_created += created.len() as i64;
            chunk.clear();
            Ok(())
        };

        for item in &mut *rows {
            let row = match item {
                Ok(row) => row,
                Err(p) => {
                    if problems.len() < MAX_PROBLEMS {
                        problems.push(p);
                    } else {
                        truncated = true;
                    }
                    continue;
                }
            };
            if !problems.is_empty() {
                // Keep reading to report every problem, but store nothing more.
                continue;
            }
            let number = row.invoice.number.as_str();
            let fp = codec::fingerprint(&row.invoice);
            let key = number_hash(number);
            if let Some(packed) = seen.get(&key) {
                let (first_fp, first_line) = unpack_seen(*packed);
                if first_fp != fold_fingerprint(fp) {
                    problems.push(Problem {
                        location: row.location.clone(),
                        field: "invoice_number".into(),
                        message: format!("invoice {number} appears twice with different amounts (first at line {first_line})"),
                    });
                } else {
                    report.warnings.push(format!("{}: invoice {number} repeats line {first_line} exactly; counted once", row.location));
                }
                continue;
            }
            seen.insert(key, pack_seen(fp, row.line));
            if !existing.is_empty()
                && let Some(stored_fp) = existing.remove(number) {
                    if stored_fp == fp {
                        counts.invoices_unchanged += 1;
                    } else {
                        counts.invoices_changed += 1;
                        report.changed.push(ChangedInvoice { number: number.to_string(), location: row.location.clone() });
                    }
                    continue;
                }
            if let Some(reason) = row.invoice.defect() {
                *report.not_collectable_counts.entry(reason.code()).or_insert(0) += 1;
                if report.not_collectable.len() < REPORT_EXAMPLES {
                    report.not_collectable.push(NotCollectableInvoice { number: number.to_string(), location: row.location.clone(), reason });
                }
            } else if row.invoice.due_date.is_some_and(|d| d >= defaults.today) {
                report.not_yet_due += 1;
            }
            chunk.push(row);
            if chunk.len() >= CHUNK {
                flush(&mut chunk, &mut index, &mut counts, &mut report)?;
            }
        }
        if !problems.is_empty() {
            return Err(anyhow!("input refused"));
        }
        flush(&mut chunk, &mut index, &mut counts, &mut report)?;
        report.debtors_created = counts.debtors_created;
        report.debtors_matched = matched.len() as i64;
        report.invoices_created = counts.invoices_created;
        report.invoices_unchanged = counts.invoices_unchanged;
        Ok(counts)
    });

    match result {
        Ok(import_id) => {
            report.outcome = Outcome::Imported { import_id };
            Ok(report)
        }
        Err(_) if !problems.is_empty() => Err(ImportFailure::Refused(ImportError {
            file: file.filename.clone(),
            problems,
            truncated,
        })),
        Err(e) => Err(store_failure(e)),
    }
}

/// Decides business or consumer when a file does not say: a debtor with a KvK/enterprise or VAT
/// number is a business; otherwise a consumer, the kind the stricter (protective) law applies to.
pub fn default_kind(has_registration: bool) -> DebtorKind {
    if has_registration {
        DebtorKind::Business
    } else {
        DebtorKind::Consumer
    }
}

/// The file formats incasso imports invoices from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ubl,
}

/// Detects the format: `.xml` is UBL, `.csv`/`.txt`/`.tsv` is CSV, otherwise the first
/// non-blank byte decides (`<` means XML).
pub fn detect_format(path: &std::path::Path, head: &[u8]) -> Format {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("xml") => Format::Ubl,
        Some("csv" | "txt" | "tsv") => Format::Csv,
        _ => {
            let first = head
                .iter()
                .copied()
                .find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
            if first == Some(b'<') {
                Format::Ubl
            } else {
                Format::Csv
            }
        }
    }
}

fn refused(file: &str, location: &str, message: String) -> ImportFailure {
    ImportFailure::Refused(ImportError {
        file: file.to_string(),
        problems: vec![Problem {
            location: location.to_string(),
            field: String::new(),
            message,
        }],
        truncated: false,
    })
}

/// Hex SHA-256 of a file, read in blocks (memory does not grow with the file).
fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Runs a row iterator on its own thread, handing rows over in blocks through a bounded
/// channel: reading and parsing a large file then overlaps with writing it on the second core.
/// Memory stays bounded (a few blocks in flight); when the consumer stops early the thread
/// ends at its next send.
fn pipelined(rows: csv::Rows) -> impl Iterator<Item = Result<ParsedRow, Problem>> {
    const BLOCK: usize = 1_024;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Result<ParsedRow, Problem>>>(2);
    std::thread::spawn(move || {
        let mut block = Vec::with_capacity(BLOCK);
        for row in rows {
            block.push(row);
            if block.len() == BLOCK
                && tx
                    .send(std::mem::replace(&mut block, Vec::with_capacity(BLOCK)))
                    .is_err()
            {
                return;
            }
        }
        if !block.is_empty() {
            let _ = tx.send(block);
        }
    });
    rx.into_iter().flatten()
}

/// Imports one file (CSV or UBL) for `tenant`, all-or-nothing.
pub fn import_path(
    store: &mut dyn Store,
    tenant: CreditorId,
    path: &std::path::Path,
    defaults: &ImportDefaults,
) -> Result<ImportReport, ImportFailure> {
    use std::io::Read;
    let name = path.display().to_string();
    let io = |e: std::io::Error| refused(&name, "file", format!("cannot read: {e}"));
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(io)?;
    match detect_format(path, &head[..n]) {
        Format::Csv => {
            let sha256 = sha256_file(path).map_err(io)?;
            let file = std::fs::File::open(path).map_err(io)?;
            let (warnings, rows) = csv::rows(file, *defaults).map_err(|p| {
                ImportFailure::Refused(ImportError {
                    file: name.clone(),
                    problems: vec![p],
                    truncated: false,
                })
            })?;
            let import_file = ImportFile {
                format: "csv".into(),
                filename: name.clone(),
                sha256,
            };
            let mut rows = pipelined(rows);
            let mut report = import_rows(store, tenant, &import_file, "csv", defaults, &mut rows)?;
            report.warnings.splice(0..0, warnings);
            Ok(report)
        }
        Format::Ubl => {
            let bytes = std::fs::read(path).map_err(io)?;
            let sha256 = crate::sha256_hex(&bytes);
            let row = incasso_ubl::parse(&bytes)
                .map_err(|e| ubl::reader_problem(&e))
                .and_then(|doc| ubl::row(&doc, defaults));
            let import_file = ImportFile {
                format: "ubl".into(),
                filename: name,
                sha256,
            };
            import_rows(
                store,
                tenant,
                &import_file,
                "ubl",
                defaults,
                &mut std::iter::once(row),
            )
        }
    }
}
