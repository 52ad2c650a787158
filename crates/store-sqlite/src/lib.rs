//! The SQLite store, incasso's embedded default: one file, WAL mode, migrations applied on open.
//!
//! Bulk writes (imports) run in one `BEGIN IMMEDIATE` transaction with multi-row inserts, so an
//! import is all-or-nothing and a million invoices go in within seconds.

mod bank;
mod collection;
mod dispatch;
mod dossier;
mod mandate;
mod migrate;
mod paylink;

use std::path::Path;

use anyhow::{Context, anyhow};
use incasso_domain::{
    AllocationId, Attachment, Creditor, CreditorId, Debtor, DebtorId, DebtorKind, ImportId,
    Invoice, InvoiceId, InvoiceLine, NewCreditor, NewDebtor, NewInvoice, PaymentId,
};
use incasso_money::{Currency, Money, Rate};
use incasso_store::codec::{self, CreditorColumns, DebtorColumns, InvoiceColumns};
use incasso_store::{
    AllocationRow, Component, DebtorKeys, DebtorRow, ImportCounts, ImportFile, ImportRecord,
    ImportSink, InvoiceFilter, InvoiceFingerprint, InvoiceRow, NewAllocation, NewPayment,
    PaymentRow, Store, StoreError, StoreResult,
};
use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

/// Rows per multi-row INSERT statement (kept under SQLite's 32766 bound parameters).
const CHUNK_ROWS: usize = 500;

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    conn: Connection,
    /// Whether this connection maps the database file for reads (set by the first listing).
    mapped: bool,
}

pub(crate) fn other(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Other(e.into())
}

pub(crate) fn map_sql(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e
        && f.code == rusqlite::ErrorCode::ConstraintViolation
    {
        return StoreError::Conflict(msg.clone().unwrap_or_else(|| e.to_string()));
    }
    if matches!(e, rusqlite::Error::QueryReturnedNoRows) {
        return StoreError::NotFound("no such row".into());
    }
    StoreError::Other(anyhow::Error::new(e))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let conn = Connection::open(path)
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        Self::setup(conn)
    }

    /// An in-memory database (tests and simulations).
    pub fn open_in_memory() -> StoreResult<SqliteStore> {
        let conn = Connection::open_in_memory().map_err(map_sql)?;
        Self::setup(conn)
    }

    fn setup(conn: Connection) -> StoreResult<SqliteStore> {
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(map_sql)?;
        // 8 KiB pages for a new database (an existing one keeps its page size): invoice rows
        // and the covering index are wide, and fewer, larger pages mean fewer B-tree splits.
        conn.execute_batch("PRAGMA page_size = 8192")
            .map_err(map_sql)?;
        // WAL lets readers work while a run or import writes; NORMAL sync is durable at every
        // checkpoint and safe against application crashes.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(map_sql)?;
        if mode != "wal" && mode != "memory" {
            return Err(other(anyhow!(
                "could not switch SQLite to WAL mode (got {mode})"
            )));
        }
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;",
        )
        .map_err(map_sql)?;
        let mut store = SqliteStore {
            conn,
            mapped: false,
        };
        migrate::apply(&mut store.conn).map_err(other)?;
        Ok(store)
    }

    /// Runs `write` with commits that wait for the disk (`synchronous = FULL`), then goes back
    /// to the connection's `NORMAL`, which survives a crash of the process but not a power cut.
    /// For what is recorded right before something leaves the system (a message, a collection
    /// file, a payment link): it must be there after any crash, or it could go twice. The
    /// write-ahead log is flushed in order, so every earlier commit becomes durable with it.
    pub(crate) fn durably<T>(
        &mut self,
        write: impl FnOnce(&mut Self) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.conn
            .execute_batch("PRAGMA synchronous = FULL")
            .map_err(map_sql)?;
        let written = write(self);
        self.conn
            .execute_batch("PRAGMA synchronous = NORMAL")
            .map_err(map_sql)?;
        written
    }

    fn creditor_row(r: &Row<'_>) -> rusqlite::Result<CreditorColumns> {
        Ok(CreditorColumns {
            id: r.get(0)?,
            name: r.get(1)?,
            legal_form: r.get(2)?,
            registration_number: r.get(3)?,
            vat_number: r.get(4)?,
            vat_deductible: r.get(5)?,
            iban: r.get(6)?,
            bic: r.get(7)?,
            jurisdiction: r.get(8)?,
            kind: r.get(9)?,
            language: r.get(10)?,
            email: r.get(11)?,
            phone: r.get(12)?,
            street: r.get(13)?,
            postal_code: r.get(14)?,
            city: r.get(15)?,
            country: r.get(16)?,
            website: r.get(17)?,
            letterhead: r.get(18)?,
        })
    }

    fn debtor_row(r: &Row<'_>) -> rusqlite::Result<DebtorColumns> {
        Ok(DebtorColumns {
            id: r.get(0)?,
            creditor_id: r.get(1)?,
            number: r.get(2)?,
            kind: r.get(3)?,
            name: r.get(4)?,
            contact_person: r.get(5)?,
            street: r.get(6)?,
            postal_code: r.get(7)?,
            city: r.get(8)?,
            country: r.get(9)?,
            emails: r.get(10)?,
            phones: r.get(11)?,
            language: r.get(12)?,
            ibans: r.get(13)?,
            registration_number: r.get(14)?,
            vat_number: r.get(15)?,
            tags: r.get(16)?,
            vulnerable: r.get(17)?,
            do_not_contact: r.get(18)?,
            name_key: r.get(19)?,
        })
    }

    fn invoice_row(r: &Row<'_>) -> rusqlite::Result<InvoiceColumns> {
        Ok(InvoiceColumns {
            id: r.get(0)?,
            creditor_id: r.get(1)?,
            debtor_id: r.get(2)?,
            number: r.get(3)?,
            kind: r.get(4)?,
            issue_date: r.get(5)?,
            due_date: r.get(6)?,
            due_date_source: r.get(7)?,
            payment_terms_days: r.get(8)?,
            currency: r.get(9)?,
            net_minor: r.get(10)?,
            vat_minor: r.get(11)?,
            gross_minor: r.get(12)?,
            paid_minor: r.get(13)?,
            open_minor: r.get(14)?,
            payment_reference: r.get(15)?,
            contractual_rate: r.get(16)?,
            corrects: r.get(17)?,
            description: r.get(18)?,
            defect: r.get(19)?,
            fingerprint: r.get(20)?,
        })
    }

    fn load_invoice(
        &mut self,
        tenant: CreditorId,
        where_sql: &str,
        key: &dyn ToSql,
    ) -> StoreResult<Invoice> {
        let sql = format!(
            "SELECT {} FROM invoices WHERE creditor_id = ?1 AND {where_sql}",
            codec::INVOICE_COLUMNS
        );
        let cols = self
            .conn
            .query_row(&sql, params![tenant.get(), key], Self::invoice_row)
            .optional()
            .map_err(map_sql)?
            .ok_or_else(|| StoreError::NotFound("invoice".into()))?;
        let id = cols.id;
        let currency = Currency::parse(&cols.currency).map_err(other)?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT description, quantity, net_minor, vat_percent FROM invoice_lines WHERE creditor_id = ?1 AND invoice_id = ?2 ORDER BY line_no")
            .map_err(map_sql)?;
        let lines = stmt
            .query_map(params![tenant.get(), id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(map_sql)?
            .map(|row| {
                let (description, quantity, net, vat) = row.map_err(map_sql)?;
                Ok(InvoiceLine {
                    description,
                    quantity,
                    net_amount: Money::from_minor(net, currency),
                    vat_percent: vat
                        .map(|v| Rate::parse_percent(&v))
                        .transpose()
                        .map_err(other)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        drop(stmt);
        let attachment = self.attachment(tenant, InvoiceId::new(id))?;
        cols.into_domain(lines, attachment).map_err(other)
    }
}

struct Sink<'t> {
    tx: &'t rusqlite::Transaction<'t>,
    tenant: i64,
    import_id: i64,
    next_debtor_id: i64,
    next_invoice_id: i64,
    next_attachment_id: i64,
    inserted: usize,
    indexes_dropped: bool,
}

/// Secondary indexes that a large import drops and rebuilds instead of updating row by row:
/// inserting a million rows into B-trees keyed by random dates and names is several times
/// slower than sorting once. Their DDL must equal the migrations' (a test checks this). The
/// unique indexes stay, so duplicates are still refused row by row.
pub const BULK_INDEXES: &[(&str, &str)] = &[
    (
        "invoices_open_by_due",
        "CREATE INDEX invoices_open_by_due ON invoices (creditor_id, due_date, id, debtor_id, number, kind, issue_date, gross_minor, paid_minor, open_minor, currency, defect) WHERE open_minor > 0 AND defect IS NULL",
    ),
    (
        "invoices_by_debtor",
        "CREATE INDEX invoices_by_debtor ON invoices (creditor_id, debtor_id)",
    ),
    (
        "debtors_by_creditor",
        "CREATE INDEX debtors_by_creditor ON debtors (creditor_id, name)",
    ),
];

/// Rows after which an import switches to drop-and-rebuild for [`BULK_INDEXES`].
const BULK_THRESHOLD: usize = 50_000;

impl Sink<'_> {
    fn note_inserted(&mut self, rows: usize) -> StoreResult<()> {
        self.inserted += rows;
        if self.inserted >= BULK_THRESHOLD && !self.indexes_dropped {
            for (name, _) in BULK_INDEXES {
                self.tx
                    .execute_batch(&format!("DROP INDEX {name}"))
                    .map_err(map_sql)?;
            }
            self.indexes_dropped = true;
        }
        Ok(())
    }

    fn finish(&mut self) -> StoreResult<()> {
        if self.indexes_dropped {
            for (_, ddl) in BULK_INDEXES {
                self.tx.execute_batch(ddl).map_err(map_sql)?;
            }
            self.indexes_dropped = false;
        }
        Ok(())
    }
}

fn placeholders(rows: usize, cols: usize) -> String {
    let row = format!("({})", vec!["?"; cols].join(","));
    vec![row; rows].join(",")
}

impl Sink<'_> {
    fn insert_rows(
        &self,
        table: &str,
        columns: &str,
        ncols: usize,
        values: &[&dyn ToSql],
    ) -> StoreResult<()> {
        let total_rows = values.len() / ncols;
        let mut offset = 0;
        while offset < total_rows {
            let rows = (total_rows - offset).min(CHUNK_ROWS);
            let sql = format!(
                "INSERT INTO {table} ({columns}) VALUES {}",
                placeholders(rows, ncols)
            );
            let mut stmt = self.tx.prepare_cached(&sql).map_err(map_sql)?;
            stmt.execute(&values[offset * ncols..(offset + rows) * ncols])
                .map_err(map_sql)?;
            offset += rows;
        }
        Ok(())
    }
}

impl ImportSink for Sink<'_> {
    fn debtor_keys(&mut self) -> StoreResult<Vec<DebtorKeys>> {
        let mut stmt = self
            .tx
            .prepare("SELECT id, number, registration_number, vat_number, name_key FROM debtors WHERE creditor_id = ?1")
            .map_err(map_sql)?;
        let rows = stmt
            .query_map([self.tenant], |r| {
                Ok(DebtorKeys {
                    id: DebtorId::new(r.get(0)?),
                    number: r.get(1)?,
                    registration_number: r.get(2)?,
                    vat_number: r.get(3)?,
                    name_postcode: r.get(4)?,
                })
            })
            .map_err(map_sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(map_sql)?;
        Ok(rows)
    }

    fn invoice_fingerprints(&mut self) -> StoreResult<Vec<(String, InvoiceFingerprint)>> {
        let mut stmt = self
            .tx
            .prepare("SELECT number, id, fingerprint FROM invoices WHERE creditor_id = ?1")
            .map_err(map_sql)?;
        let rows = stmt
            .query_map([self.tenant], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    InvoiceFingerprint {
                        id: InvoiceId::new(r.get(1)?),
                        fingerprint: r.get(2)?,
                    },
                ))
            })
            .map_err(map_sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(map_sql)?;
        Ok(rows)
    }

    fn insert_debtors(&mut self, debtors: &[NewDebtor]) -> StoreResult<Vec<DebtorId>> {
        let cols: Vec<DebtorColumns> = debtors
            .iter()
            .enumerate()
            .map(|(i, d)| {
                DebtorColumns::from_domain(self.next_debtor_id + i as i64, self.tenant, d)
            })
            .collect();
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(cols.len() * 20);
        for c in &cols {
            values.extend_from_slice(&[
                &c.id,
                &c.creditor_id,
                &c.number,
                &c.kind,
                &c.name,
                &c.contact_person,
                &c.street,
                &c.postal_code,
                &c.city,
                &c.country,
                &c.emails,
                &c.phones,
                &c.language,
                &c.ibans,
                &c.registration_number,
                &c.vat_number,
                &c.tags,
                &c.vulnerable,
                &c.do_not_contact,
                &c.name_key,
            ]);
        }
        self.insert_rows("debtors", codec::DEBTOR_COLUMNS, 20, &values)?;
        drop(values);
        self.note_inserted(cols.len())?;
        let ids = cols.iter().map(|c| DebtorId::new(c.id)).collect();
        self.next_debtor_id += debtors.len() as i64;
        Ok(ids)
    }

    fn insert_invoices(
        &mut self,
        invoices: &[(DebtorId, &NewInvoice)],
    ) -> StoreResult<Vec<InvoiceId>> {
        let cols: Vec<InvoiceColumns> = invoices
            .iter()
            .enumerate()
            .map(|(i, (debtor, inv))| {
                InvoiceColumns::from_domain(
                    self.next_invoice_id + i as i64,
                    self.tenant,
                    debtor.get(),
                    inv,
                )
            })
            .collect();
        let import_id = self.import_id;
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(cols.len() * 22);
        for c in &cols {
            values.extend_from_slice(&[
                &c.id,
                &c.creditor_id,
                &c.debtor_id,
                &c.number,
                &c.kind,
                &c.issue_date,
                &c.due_date,
                &c.due_date_source,
                &c.payment_terms_days,
                &c.currency,
                &c.net_minor,
                &c.vat_minor,
                &c.gross_minor,
                &c.paid_minor,
                &c.open_minor,
                &c.payment_reference,
                &c.contractual_rate,
                &c.corrects,
                &c.description,
                &c.defect,
                &c.fingerprint,
                &import_id,
            ]);
        }
        let columns = format!("{}, import_id", codec::INVOICE_COLUMNS);
        self.insert_rows("invoices", &columns, 22, &values)?;
        drop(values);
        self.note_inserted(cols.len())?;
        for (c, (_, inv)) in cols.iter().zip(invoices) {
            for (n, line) in inv.lines.iter().enumerate() {
                self.tx
                    .prepare_cached("INSERT INTO invoice_lines (invoice_id, creditor_id, line_no, description, quantity, net_minor, vat_percent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                    .map_err(map_sql)?
                    .execute(params![
                        c.id,
                        self.tenant,
                        n as i64 + 1,
                        line.description,
                        line.quantity,
                        line.net_amount.minor(),
                        line.vat_percent.map(|r| r.percent().to_string())
                    ])
                    .map_err(map_sql)?;
            }
            if let Some(a) = &inv.attachment {
                self.tx
                    .prepare_cached("INSERT INTO attachments (id, creditor_id, invoice_id, filename, mime_type, content) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                    .map_err(map_sql)?
                    .execute(params![self.next_attachment_id, self.tenant, c.id, a.filename, a.mime_type, a.content])
                    .map_err(map_sql)?;
                self.next_attachment_id += 1;
            }
        }
        self.next_invoice_id += invoices.len() as i64;
        Ok(cols.iter().map(|c| InvoiceId::new(c.id)).collect())
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn schema_version(&mut self) -> StoreResult<i64> {
        self.conn
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )
            .map_err(map_sql)
    }

    fn add_creditor(&mut self, creditor: &NewCreditor) -> StoreResult<CreditorId> {
        let c = CreditorColumns::from_domain(creditor);
        self.conn
            .execute(
                "INSERT INTO creditors (name, legal_form, registration_number, vat_number, vat_deductible, iban, bic, jurisdiction, kind, language, email, phone, street, postal_code, city, country, website, letterhead) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                params![
                    c.name, c.legal_form, c.registration_number, c.vat_number, c.vat_deductible, c.iban, c.bic, c.jurisdiction, c.kind,
                    c.language, c.email, c.phone, c.street, c.postal_code, c.city, c.country, c.website, c.letterhead
                ],
            )
            .map_err(map_sql)?;
        Ok(CreditorId::new(self.conn.last_insert_rowid()))
    }

    fn creditors(&mut self) -> StoreResult<Vec<Creditor>> {
        let sql = format!(
            "SELECT {} FROM creditors ORDER BY id",
            codec::CREDITOR_COLUMNS
        );
        let mut stmt = self.conn.prepare(&sql).map_err(map_sql)?;
        let rows = stmt.query_map([], Self::creditor_row).map_err(map_sql)?;
        rows.map(|r| {
            r.map_err(map_sql)
                .and_then(|c| c.into_domain().map_err(other))
        })
        .collect()
    }

    fn creditor(&mut self, id: CreditorId) -> StoreResult<Creditor> {
        let sql = format!(
            "SELECT {} FROM creditors WHERE id = ?1",
            codec::CREDITOR_COLUMNS
        );
        self.conn
            .query_row(&sql, [id.get()], Self::creditor_row)
            .optional()
            .map_err(map_sql)?
            .ok_or_else(|| StoreError::NotFound(format!("creditor {id}")))?
            .into_domain()
            .map_err(other)
    }

    fn find_import(
        &mut self,
        tenant: CreditorId,
        sha256: &str,
    ) -> StoreResult<Option<ImportRecord>> {
        self.conn
            .query_row(
                "SELECT id, filename, imported_at, invoices_created FROM imports WHERE creditor_id = ?1 AND sha256 = ?2",
                params![tenant.get(), sha256],
                |r| Ok(ImportRecord { id: ImportId::new(r.get(0)?), filename: r.get(1)?, imported_at: r.get(2)?, invoices_created: r.get(3)? }),
            )
            .optional()
            .map_err(map_sql)
    }

    fn import(
        &mut self,
        tenant: CreditorId,
        file: &ImportFile,
        work: &mut dyn FnMut(&mut dyn ImportSink) -> anyhow::Result<ImportCounts>,
    ) -> StoreResult<ImportId> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        tx.execute(
            "INSERT INTO imports (creditor_id, format, filename, sha256, debtors_created, invoices_created, invoices_unchanged, invoices_changed) VALUES (?1, ?2, ?3, ?4, 0, 0, 0, 0)",
            params![tenant.get(), file.format, file.filename, file.sha256],
        )
        .map_err(map_sql)?;
        let import_id = tx.last_insert_rowid();
        let max = |table: &str| -> StoreResult<i64> {
            tx.query_row(
                &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"),
                [],
                |r| r.get(0),
            )
            .map_err(map_sql)
        };
        let mut sink = Sink {
            tx: &tx,
            tenant: tenant.get(),
            import_id,
            next_debtor_id: max("debtors")?,
            next_invoice_id: max("invoices")?,
            next_attachment_id: max("attachments")?,
            inserted: 0,
            indexes_dropped: false,
        };
        let counts = work(&mut sink).map_err(StoreError::Other)?;
        sink.finish()?;
        tx.execute(
            "UPDATE imports SET debtors_created = ?1, invoices_created = ?2, invoices_unchanged = ?3, invoices_changed = ?4 WHERE id = ?5",
            params![counts.debtors_created, counts.invoices_created, counts.invoices_unchanged, counts.invoices_changed, import_id],
        )
        .map_err(map_sql)?;
        tx.commit().map_err(map_sql)?;
        Ok(ImportId::new(import_id))
    }

    fn add_debtor(&mut self, tenant: CreditorId, debtor: &NewDebtor) -> StoreResult<DebtorId> {
        let c = DebtorColumns::from_domain(0, tenant.get(), debtor);
        self.conn
            .execute(
                "INSERT INTO debtors (creditor_id, number, kind, name, contact_person, street, postal_code, city, country, emails, phones, language, ibans, registration_number, vat_number, tags, vulnerable, do_not_contact, name_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                params![
                    c.creditor_id, c.number, c.kind, c.name, c.contact_person, c.street, c.postal_code, c.city, c.country, c.emails,
                    c.phones, c.language, c.ibans, c.registration_number, c.vat_number, c.tags, c.vulnerable, c.do_not_contact, c.name_key
                ],
            )
            .map_err(map_sql)?;
        Ok(DebtorId::new(self.conn.last_insert_rowid()))
    }

    fn debtor(&mut self, tenant: CreditorId, id: DebtorId) -> StoreResult<Debtor> {
        let sql = format!(
            "SELECT {} FROM debtors WHERE creditor_id = ?1 AND id = ?2",
            codec::DEBTOR_COLUMNS
        );
        self.conn
            .query_row(&sql, params![tenant.get(), id.get()], Self::debtor_row)
            .optional()
            .map_err(map_sql)?
            .ok_or_else(|| StoreError::NotFound(format!("debtor {id}")))?
            .into_domain()
            .map_err(other)
    }

    fn debtors(&mut self, tenant: CreditorId) -> StoreResult<Vec<DebtorRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT d.id, d.number, d.name, d.kind, d.city, COUNT(i.id), COALESCE(SUM(i.open_minor), 0), MIN(i.currency)
                 FROM debtors d LEFT JOIN invoices i ON i.creditor_id = d.creditor_id AND i.debtor_id = d.id
                 WHERE d.creditor_id = ?1 GROUP BY d.id ORDER BY d.name, d.id",
            )
            .map_err(map_sql)?;
        let rows = stmt
            .query_map([tenant.get()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })
            .map_err(map_sql)?;
        rows.map(|row| {
            let (id, number, name, kind, city, invoices, open, currency) = row.map_err(map_sql)?;
            let currency = currency
                .map(|c| Currency::parse(&c))
                .transpose()
                .map_err(other)?
                .unwrap_or(Currency::EUR);
            Ok(DebtorRow {
                id: DebtorId::new(id),
                number,
                name,
                kind: DebtorKind::parse(&kind).ok_or_else(|| other(codec::bad("kind", &kind)))?,
                city,
                invoices,
                open_amount: Money::from_minor(open, currency),
            })
        })
        .collect()
    }

    fn invoice(&mut self, tenant: CreditorId, id: InvoiceId) -> StoreResult<Invoice> {
        self.load_invoice(tenant, "id = ?2", &id.get())
    }

    fn invoice_by_number(&mut self, tenant: CreditorId, number: &str) -> StoreResult<Invoice> {
        self.load_invoice(tenant, "number = ?2", &number)
    }

    fn attachment(
        &mut self,
        tenant: CreditorId,
        invoice: InvoiceId,
    ) -> StoreResult<Option<Attachment>> {
        self.conn
            .query_row(
                "SELECT filename, mime_type, content FROM attachments WHERE creditor_id = ?1 AND invoice_id = ?2 ORDER BY id LIMIT 1",
                params![tenant.get(), invoice.get()],
                |r| Ok(Attachment { filename: r.get(0)?, mime_type: r.get(1)?, content: r.get(2)? }),
            )
            .optional()
            .map_err(map_sql)
    }

    fn for_each_invoice(
        &mut self,
        tenant: CreditorId,
        filter: &InvoiceFilter,
        visit: &mut dyn FnMut(InvoiceRow) -> anyhow::Result<()>,
    ) -> StoreResult<u64> {
        // A listing streams a whole index: memory-mapped reads skip a read call and a copy per
        // page. Only reads use the mapping; writes go through the normal path. Set once per
        // connection: the pragma costs a statement, and dispatch lists one debtor's invoices
        // several times per message.
        if !self.mapped {
            self.conn
                .execute_batch("PRAGMA mmap_size = 268435456")
                .map_err(map_sql)?;
            self.mapped = true;
        }
        // In the overdue case every selected column is in the partial covering index
        // `invoices_open_by_due` (defect is NULL by its WHERE clause), so the scan never
        // reads the invoices table itself.
        // Debtor names: for a whole-tenant listing, one sequential read of the names beats a
        // primary-key lookup per invoice (a million random B-tree descents).
        let names: Option<std::collections::HashMap<i64, std::sync::Arc<str>>> =
            if filter.debtor.is_none() {
                let mut stmt = self
                    .conn
                    .prepare("SELECT id, name FROM debtors WHERE creditor_id = ?1")
                    .map_err(map_sql)?;
                let rows = stmt
                    .query_map([tenant.get()], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            std::sync::Arc::<str>::from(r.get::<_, String>(1)?),
                        ))
                    })
                    .map_err(map_sql)?;
                Some(rows.collect::<rusqlite::Result<_>>().map_err(map_sql)?)
            } else {
                None
            };
        let name_column = if names.is_some() {
            "''"
        } else {
            "(SELECT d.name FROM debtors d WHERE d.creditor_id = i.creditor_id AND d.id = i.debtor_id)"
        };
        let mut sql = format!(
            "SELECT i.id, i.number, i.kind, i.debtor_id, {name_column}, i.issue_date, i.due_date, i.gross_minor, i.open_minor, i.currency, i.defect
             FROM invoices i
             WHERE i.creditor_id = ?1",
        );
        let as_of = filter
            .overdue_as_of
            .map(|d| d.to_string())
            .unwrap_or_default();
        let debtor = filter.debtor.map(|d| d.get()).unwrap_or(-1);
        if filter.overdue_as_of.is_some() {
            sql.push_str(" AND i.open_minor > 0 AND i.defect IS NULL AND i.due_date < ?2");
        } else {
            sql.push_str(" AND ?2 = ?2");
        }
        if filter.debtor.is_some() {
            sql.push_str(" AND i.debtor_id = ?3");
        } else {
            sql.push_str(" AND ?3 = ?3");
        }
        sql.push_str(" ORDER BY i.due_date, i.id LIMIT ?4");
        let limit = filter
            .limit
            .map(|l| i64::try_from(l).unwrap_or(i64::MAX))
            .unwrap_or(-1);
        let mut stmt = self.conn.prepare(&sql).map_err(map_sql)?;
        let mut rows = stmt
            .query(params![tenant.get(), as_of, debtor, limit])
            .map_err(map_sql)?;
        let mut count = 0u64;
        let mut currency_cache: Option<(String, Currency)> = None;
        while let Some(r) = rows.next().map_err(map_sql)? {
            let cur: String = r.get(9).map_err(map_sql)?;
            let currency = match &currency_cache {
                Some((code, c)) if *code == cur => *c,
                _ => {
                    let c = Currency::parse(&cur).map_err(other)?;
                    currency_cache = Some((cur, c));
                    c
                }
            };
            let issue: String = r.get(5).map_err(map_sql)?;
            let due: Option<String> = r.get(6).map_err(map_sql)?;
            let row = InvoiceRow {
                id: InvoiceId::new(r.get(0).map_err(map_sql)?),
                number: r.get(1).map_err(map_sql)?,
                kind: r.get(2).map_err(map_sql)?,
                debtor_id: DebtorId::new(r.get(3).map_err(map_sql)?),
                debtor_name: match &names {
                    Some(map) => {
                        let id: i64 = r.get(3).map_err(map_sql)?;
                        map.get(&id)
                            .cloned()
                            .unwrap_or_else(|| std::sync::Arc::from(""))
                    }
                    None => std::sync::Arc::from(r.get::<_, String>(4).map_err(map_sql)?),
                },
                issue_date: codec::date(&issue).map_err(other)?,
                due_date: codec::opt_date(due).map_err(other)?,
                gross_amount: Money::from_minor(r.get(7).map_err(map_sql)?, currency),
                open_amount: Money::from_minor(r.get(8).map_err(map_sql)?, currency),
                defect: codec::defect(r.get(10).map_err(map_sql)?).map_err(other)?,
            };
            visit(row).map_err(StoreError::Other)?;
            count += 1;
        }
        Ok(count)
    }

    fn record_payment(&mut self, tenant: CreditorId, p: &NewPayment) -> StoreResult<PaymentId> {
        self.conn
            .execute(
                "INSERT INTO payments (creditor_id, debtor_id, received_on, amount_minor, currency, reference, counterparty_iban, description, source, reverses) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    tenant.get(),
                    p.debtor_id.map(|d| d.get()),
                    p.received_on.to_string(),
                    p.amount.minor(),
                    p.amount.currency().code(),
                    p.reference,
                    p.counterparty_iban,
                    p.description,
                    p.source,
                    p.reverses.map(|r| r.get())
                ],
            )
            .map_err(map_sql)?;
        Ok(PaymentId::new(self.conn.last_insert_rowid()))
    }

    fn payments(&mut self, tenant: CreditorId) -> StoreResult<Vec<PaymentRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, debtor_id, received_on, amount_minor, currency, reference, counterparty_iban, description, source, reverses FROM payments WHERE creditor_id = ?1 ORDER BY id")
            .map_err(map_sql)?;
        let rows = stmt
            .query_map([tenant.get()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, Option<i64>>(9)?,
                ))
            })
            .map_err(map_sql)?;
        rows.map(|row| {
            let (id, debtor, on, amount, cur, reference, iban, description, source, reverses) =
                row.map_err(map_sql)?;
            Ok(PaymentRow {
                id: PaymentId::new(id),
                payment: NewPayment {
                    debtor_id: debtor.map(DebtorId::new),
                    received_on: codec::date(&on).map_err(other)?,
                    amount: Money::from_minor(amount, Currency::parse(&cur).map_err(other)?),
                    reference,
                    counterparty_iban: iban,
                    description,
                    source,
                    reverses: reverses.map(PaymentId::new),
                },
            })
        })
        .collect()
    }

    fn record_allocations(
        &mut self,
        tenant: CreditorId,
        allocations: &[NewAllocation],
    ) -> StoreResult<Vec<AllocationId>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        let ids = allocate(&tx, tenant.get(), allocations)?;
        tx.commit().map_err(map_sql)?;
        Ok(ids)
    }

    fn allocations(
        &mut self,
        tenant: CreditorId,
        invoice: InvoiceId,
    ) -> StoreResult<Vec<AllocationRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, payment_id, invoice_id, component, amount_minor, currency, reverses FROM allocations WHERE creditor_id = ?1 AND invoice_id = ?2 ORDER BY id")
            .map_err(map_sql)?;
        let rows = stmt
            .query_map(params![tenant.get(), invoice.get()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                ))
            })
            .map_err(map_sql)?;
        rows.map(|row| {
            let (id, payment, invoice, component, amount, cur, reverses) = row.map_err(map_sql)?;
            Ok(AllocationRow {
                id: AllocationId::new(id),
                allocation: NewAllocation {
                    payment_id: PaymentId::new(payment),
                    invoice_id: InvoiceId::new(invoice),
                    component: Component::parse(&component)
                        .ok_or_else(|| other(codec::bad("component", &component)))?,
                    amount: Money::from_minor(amount, Currency::parse(&cur).map_err(other)?),
                    reverses: reverses.map(AllocationId::new),
                },
            })
        })
        .collect()
    }

    fn for_each_overdue_debtor(
        &mut self,
        tenant: CreditorId,
        as_of: incasso_calendar::Date,
        visit: &mut dyn FnMut(incasso_store::DebtorClaims) -> anyhow::Result<()>,
    ) -> StoreResult<u64> {
        collection::for_each_overdue_debtor(&self.conn, tenant, as_of, visit)
    }

    fn cases(
        &mut self,
        tenant: CreditorId,
        open_only: bool,
    ) -> StoreResult<Vec<incasso_store::CaseRow>> {
        collection::cases(&self.conn, tenant, open_only)
    }

    fn case(&mut self, tenant: CreditorId, id: i64) -> StoreResult<incasso_store::CaseRow> {
        collection::case(&self.conn, tenant, id)
    }

    fn actions(
        &mut self,
        tenant: CreditorId,
        case: Option<i64>,
    ) -> StoreResult<Vec<incasso_store::ActionRow>> {
        collection::actions(&self.conn, tenant, case)
    }

    fn apply_run(
        &mut self,
        tenant: CreditorId,
        batch: &incasso_store::RunBatch,
    ) -> StoreResult<incasso_store::RunApplied> {
        collection::apply_run(&mut self.conn, tenant, batch)
    }

    fn change_case(
        &mut self,
        tenant: CreditorId,
        case: i64,
        change: &incasso_store::CaseChange,
        event: &incasso_store::CaseEvent,
    ) -> StoreResult<()> {
        collection::change_case(&mut self.conn, tenant, case, change, event)
    }

    fn set_action_status(
        &mut self,
        tenant: CreditorId,
        action: i64,
        status: incasso_store::ActionStatus,
        dispatched_on: Option<incasso_calendar::Date>,
        reason: &str,
    ) -> StoreResult<()> {
        collection::set_action_status(
            &mut self.conn,
            tenant,
            action,
            status,
            dispatched_on,
            reason,
        )
    }

    fn case_events(
        &mut self,
        tenant: CreditorId,
        case: i64,
    ) -> StoreResult<Vec<incasso_store::CaseEvent>> {
        collection::case_events(&self.conn, tenant, case)
    }

    fn bank_transaction(
        &mut self,
        tenant: CreditorId,
        file: Option<&incasso_store::BankFile>,
        work: &mut dyn FnMut(&mut dyn incasso_store::BankSink) -> anyhow::Result<bool>,
    ) -> StoreResult<bool> {
        bank::bank_transaction(&mut self.conn, tenant, file, work)
    }

    fn bank_entries(
        &mut self,
        tenant: CreditorId,
        status: Option<incasso_store::EntryStatus>,
    ) -> StoreResult<Vec<incasso_store::BankEntryRow>> {
        bank::bank_entries(&self.conn, tenant, status)
    }

    fn add_bank_account(&mut self, tenant: CreditorId, account: &str) -> StoreResult<()> {
        bank::add_bank_account(&self.conn, tenant, account)
    }

    fn bank_accounts(&mut self, tenant: CreditorId) -> StoreResult<Vec<String>> {
        bank::bank_accounts(&self.conn, tenant)
    }

    fn latest_bank_statement(
        &mut self,
        tenant: CreditorId,
    ) -> StoreResult<Option<incasso_calendar::Date>> {
        bank::latest_bank_statement(&self.conn, tenant)
    }

    fn add_plan(
        &mut self,
        tenant: CreditorId,
        plan: &incasso_store::NewPlan,
        event: &incasso_store::CaseEvent,
    ) -> StoreResult<i64> {
        collection::add_plan(&mut self.conn, tenant, plan, event)
    }

    fn plans(
        &mut self,
        tenant: CreditorId,
        active_only: bool,
    ) -> StoreResult<Vec<incasso_store::PlanRow>> {
        collection::plans(&self.conn, tenant, active_only)
    }

    fn set_plan_status(&mut self, tenant: CreditorId, plan: i64, status: &str) -> StoreResult<()> {
        collection::set_plan_status(&self.conn, tenant, plan, status)
    }

    fn add_policy(
        &mut self,
        tenant: CreditorId,
        policy: &incasso_store::PolicyRow,
    ) -> StoreResult<()> {
        collection::add_policy(&mut self.conn, tenant, policy)
    }

    fn policies(&mut self, tenant: CreditorId) -> StoreResult<Vec<incasso_store::PolicyRow>> {
        collection::policies(&self.conn, tenant)
    }

    fn assign_policy(
        &mut self,
        tenant: CreditorId,
        scope: incasso_store::PolicyScope,
        name: Option<&str>,
    ) -> StoreResult<()> {
        collection::assign_policy(&self.conn, tenant, scope, name)
    }

    fn policy_assignments(
        &mut self,
        tenant: CreditorId,
    ) -> StoreResult<incasso_store::PolicyAssignments> {
        collection::policy_assignments(&self.conn, tenant)
    }

    fn outbox_index(&mut self, tenant: CreditorId) -> StoreResult<Vec<incasso_store::OutboxEntry>> {
        collection::outbox_index(&self.conn, tenant)
    }
}

/// The checks and writes of [`Store::record_allocations`] on an open transaction (also used
/// by the bank import's sink): payment total, open amount within [0, gross − paid], currency.
pub(crate) fn allocate(
    conn: &Connection,
    tenant: i64,
    allocations: &[NewAllocation],
) -> StoreResult<Vec<AllocationId>> {
    let mut ids = Vec::with_capacity(allocations.len());
    for a in allocations {
        let payment: Option<(i64, String)> = conn
            .query_row(
                "SELECT amount_minor, currency FROM payments WHERE creditor_id = ?1 AND id = ?2",
                params![tenant, a.payment_id.get()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(map_sql)?;
        let (payment_minor, payment_currency) =
            payment.ok_or_else(|| StoreError::NotFound(format!("payment {}", a.payment_id)))?;
        let invoice: Option<(i64, i64, String)> = conn
            .query_row(
                "SELECT open_minor, gross_minor - paid_minor, currency FROM invoices WHERE creditor_id = ?1 AND id = ?2",
                params![tenant, a.invoice_id.get()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(map_sql)?;
        let (open, ceiling, invoice_currency) =
            invoice.ok_or_else(|| StoreError::NotFound(format!("invoice {}", a.invoice_id)))?;
        if payment_currency != a.amount.currency().code()
            || invoice_currency != a.amount.currency().code()
        {
            return Err(StoreError::Conflict(
                "allocation currency differs from payment or invoice".into(),
            ));
        }
        let already: i64 = conn
            .query_row(
                "SELECT COALESCE(SUM(amount_minor), 0) FROM allocations WHERE creditor_id = ?1 AND payment_id = ?2",
                params![tenant, a.payment_id.get()],
                |r| r.get(0),
            )
            .map_err(map_sql)?;
        let allocated = already
            .checked_add(a.amount.minor())
            .ok_or_else(|| other(anyhow!("overflow")))?;
        if allocated > payment_minor || allocated < 0 {
            return Err(StoreError::Conflict(format!(
                "allocations of payment {} would exceed the payment",
                a.payment_id
            )));
        }
        if a.component == Component::Principal {
            let new_open = open
                .checked_sub(a.amount.minor())
                .ok_or_else(|| other(anyhow!("overflow")))?;
            if new_open < 0 || new_open > ceiling {
                return Err(StoreError::Conflict(format!(
                    "allocation would take invoice {} open amount out of range",
                    a.invoice_id
                )));
            }
            conn.execute(
                "UPDATE invoices SET open_minor = ?1 WHERE creditor_id = ?2 AND id = ?3",
                params![new_open, tenant, a.invoice_id.get()],
            )
            .map_err(map_sql)?;
        }
        conn.execute(
            "INSERT INTO allocations (creditor_id, payment_id, invoice_id, component, amount_minor, currency, reverses) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                tenant,
                a.payment_id.get(),
                a.invoice_id.get(),
                a.component.code(),
                a.amount.minor(),
                a.amount.currency().code(),
                a.reverses.map(|r| r.get())
            ],
        )
        .map_err(map_sql)?;
        ids.push(AllocationId::new(conn.last_insert_rowid()));
    }
    Ok(ids)
}
