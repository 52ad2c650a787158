//! The PostgreSQL store of incasso: the same ledger and the same semantics as the SQLite store,
//! on a server, through the synchronous `postgres` client (no TLS).
//!
//! - Migrations are applied on connect (see [`migrate`]), serialised by an advisory lock so two
//!   processes may start at once.
//! - [`PgStore::connect_in_schema`] keeps a whole ledger in one schema (tests give each store a
//!   fresh one).
//! - An import is one transaction; debtors and invoices go in with `COPY ... FROM STDIN` in
//!   bulk, with ids reserved from the identity sequences beforehand so they are returned in
//!   order. A refused sink call aborts the import's transaction (no savepoints: hundreds of
//!   subtransactions per import would overflow PostgreSQL's per-backend subtransaction cache
//!   and slow every other session's snapshots); later calls and the commit then fail too.
//! - [`Store::for_each_invoice`] streams rows as the server sends them.
//! - Dates are `DATE` columns, read and written as ISO text; timestamps are returned as UTC text
//!   in SQLite's `CURRENT_TIMESTAMP` form (`YYYY-MM-DD HH:MM:SS`). Text is ordered bytewise
//!   (`COLLATE "C"`) and NULL dates sort first, as in SQLite.

mod bank;
mod collection;
mod copy;
mod dispatch;
mod dossier;
mod mandate;
mod migrate;
mod paylink;

use anyhow::anyhow;
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
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Transaction};

use copy::CopyRows;

/// Batches larger than this go in with COPY; smaller ones with prepared INSERTs.
const COPY_THRESHOLD: usize = 50;

/// Imports that wrote at least this many rows refresh the planner's statistics before commit.
const ANALYZE_AFTER_ROWS: usize = 10_000;

/// The first key of the advisory lock that serialises `CREATE SCHEMA`.
const SCHEMA_LOCK_CLASS: i32 = 0x1ca5_5002;

/// The PostgreSQL implementation of [`Store`].
pub struct PgStore {
    client: Client,
    /// The statements of the per-message paths, prepared once for this connection.
    prepared: Prepared,
}

/// Statements prepared once per connection, by their SQL text. A query given as text costs
/// two round trips (prepare, then bind and execute); a prepared one costs one, which is what
/// bounds a dispatch on PostgreSQL (about thirty statements per message). Only for fixed texts
/// or a handful of variants: the cache keeps every text it is given for the connection's life.
#[derive(Default)]
pub(crate) struct Prepared(std::collections::HashMap<String, postgres::Statement>);

impl Prepared {
    /// The prepared statement for `sql` on the connection of `c` (the client or one of its
    /// transactions: a prepared statement outlives the transaction it was prepared in).
    pub(crate) fn get(
        &mut self,
        c: &mut impl postgres::GenericClient,
        sql: &str,
    ) -> StoreResult<postgres::Statement> {
        if let Some(s) = self.0.get(sql) {
            return Ok(s.clone());
        }
        let s = c.prepare(sql).map_err(map_pg)?;
        self.0.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

pub(crate) fn other(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Other(e.into())
}

/// Maps a driver error: integrity constraint violations (SQLSTATE class 23: unique, foreign
/// key, not null, check, and the append-only triggers) are conflicts, as SQLite's
/// `SQLITE_CONSTRAINT` is in the SQLite store.
pub(crate) fn map_pg(e: postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error()
        && db.code().code().starts_with("23")
    {
        let detail = db.detail().map(|d| format!(" ({d})")).unwrap_or_default();
        return StoreError::Conflict(format!("{}{detail}", db.message()));
    }
    StoreError::Other(anyhow::Error::new(e))
}

/// Quotes an SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an SQL string literal.
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The columns of [`InvoiceColumns`] as read back: dates as ISO text.
const INVOICE_SELECT: &str = "id, creditor_id, debtor_id, number, kind, to_char(issue_date, 'YYYY-MM-DD'), to_char(due_date, 'YYYY-MM-DD'), due_date_source, payment_terms_days, currency, net_minor, vat_minor, gross_minor, paid_minor, open_minor, payment_reference, contractual_rate, corrects, description, defect, fingerprint";

pub(crate) fn get<'a, T: postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> StoreResult<T> {
    r.try_get(i).map_err(map_pg)
}

fn connect_client(url: &str) -> StoreResult<Client> {
    Client::connect(url, NoTls)
        .map_err(|e| other(anyhow::Error::new(e).context("connecting to PostgreSQL")))
}

impl PgStore {
    /// Connects (no TLS) and applies pending migrations in the connection's default schema.
    pub fn connect(url: &str) -> StoreResult<PgStore> {
        let client = connect_client(url)?;
        Self::setup(client)
    }

    /// Connects, creates `schema` if it does not exist, makes it the connection's only schema
    /// (`search_path`) and applies pending migrations there.
    pub fn connect_in_schema(url: &str, schema: &str) -> StoreResult<PgStore> {
        if schema.is_empty() {
            return Err(other(anyhow!("empty schema name")));
        }
        let mut client = connect_client(url)?;
        let quoted = quote_ident(schema);
        let mut tx = client.transaction().map_err(map_pg)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&SCHEMA_LOCK_CLASS, &schema],
        )
        .map_err(map_pg)?;
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"))
            .map_err(map_pg)?;
        tx.commit().map_err(map_pg)?;
        client
            .batch_execute(&format!("SET search_path TO {quoted}"))
            .map_err(map_pg)?;
        Self::setup(client)
    }

    fn setup(mut client: Client) -> StoreResult<PgStore> {
        // Notices (e.g. "schema already exists") are of no interest to the store's users.
        client
            .batch_execute("SET client_min_messages = warning")
            .map_err(map_pg)?;
        migrate::apply(&mut client).map_err(other)?;
        Ok(PgStore {
            client,
            prepared: Prepared::default(),
        })
    }

    fn creditor_row(r: &Row) -> StoreResult<CreditorColumns> {
        Ok(CreditorColumns {
            id: get(r, 0)?,
            name: get(r, 1)?,
            legal_form: get(r, 2)?,
            registration_number: get(r, 3)?,
            vat_number: get(r, 4)?,
            vat_deductible: get(r, 5)?,
            iban: get(r, 6)?,
            bic: get(r, 7)?,
            jurisdiction: get(r, 8)?,
            kind: get(r, 9)?,
            language: get(r, 10)?,
            email: get(r, 11)?,
            phone: get(r, 12)?,
            street: get(r, 13)?,
            postal_code: get(r, 14)?,
            city: get(r, 15)?,
            country: get(r, 16)?,
            website: get(r, 17)?,
            letterhead: get(r, 18)?,
        })
    }

    fn debtor_row(r: &Row) -> StoreResult<DebtorColumns> {
        Ok(DebtorColumns {
            id: get(r, 0)?,
            creditor_id: get(r, 1)?,
            number: get(r, 2)?,
            kind: get(r, 3)?,
            name: get(r, 4)?,
            contact_person: get(r, 5)?,
            street: get(r, 6)?,
            postal_code: get(r, 7)?,
            city: get(r, 8)?,
            country: get(r, 9)?,
            emails: get(r, 10)?,
            phones: get(r, 11)?,
            language: get(r, 12)?,
            ibans: get(r, 13)?,
            registration_number: get(r, 14)?,
            vat_number: get(r, 15)?,
            tags: get(r, 16)?,
            vulnerable: get(r, 17)?,
            do_not_contact: get(r, 18)?,
            name_key: get(r, 19)?,
        })
    }

    fn invoice_row(r: &Row) -> StoreResult<InvoiceColumns> {
        Ok(InvoiceColumns {
            id: get(r, 0)?,
            creditor_id: get(r, 1)?,
            debtor_id: get(r, 2)?,
            number: get(r, 3)?,
            kind: get(r, 4)?,
            issue_date: get(r, 5)?,
            due_date: get(r, 6)?,
            due_date_source: get(r, 7)?,
            payment_terms_days: get(r, 8)?,
            currency: get(r, 9)?,
            net_minor: get(r, 10)?,
            vat_minor: get(r, 11)?,
            gross_minor: get(r, 12)?,
            paid_minor: get(r, 13)?,
            open_minor: get(r, 14)?,
            payment_reference: get(r, 15)?,
            contractual_rate: get(r, 16)?,
            corrects: get(r, 17)?,
            description: get(r, 18)?,
            defect: get(r, 19)?,
            fingerprint: get(r, 20)?,
        })
    }

    fn load_invoice(
        &mut self,
        tenant: CreditorId,
        where_sql: &str,
        key: &(dyn ToSql + Sync),
    ) -> StoreResult<Invoice> {
        let sql =
            format!("SELECT {INVOICE_SELECT} FROM invoices WHERE creditor_id = $1 AND {where_sql}");
        let st = self.prepared.get(&mut self.client, &sql)?;
        let row = self
            .client
            .query_opt(&st, &[&tenant.get(), key])
            .map_err(map_pg)?
            .ok_or_else(|| StoreError::NotFound("invoice".into()))?;
        let cols = Self::invoice_row(&row)?;
        let id = cols.id;
        let currency = Currency::parse(&cols.currency).map_err(other)?;
        let st = self.prepared.get(
            &mut self.client,
            "SELECT description, quantity, net_minor, vat_percent FROM invoice_lines WHERE creditor_id = $1 AND invoice_id = $2 ORDER BY line_no",
        )?;
        let rows = self
            .client
            .query(&st, &[&tenant.get(), &id])
            .map_err(map_pg)?;
        let lines = rows
            .iter()
            .map(|r| {
                let vat: Option<String> = get(r, 3)?;
                Ok(InvoiceLine {
                    description: get(r, 0)?,
                    quantity: get(r, 1)?,
                    net_amount: Money::from_minor(get(r, 2)?, currency),
                    vat_percent: vat
                        .map(|v| Rate::parse_percent(&v))
                        .transpose()
                        .map_err(other)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let attachment = self.attachment(tenant, InvoiceId::new(id))?;
        cols.into_domain(lines, attachment).map_err(other)
    }
}

/// The import session: writes go through the import's transaction, each call in a savepoint.
struct Sink<'a, 'b> {
    tx: &'a mut Transaction<'b>,
    tenant: i64,
    import_id: i64,
    /// Rows written so far, to decide whether the planner's statistics need a refresh.
    rows_written: usize,
    /// A call failed: PostgreSQL has aborted the transaction, so every later call fails too and
    /// the import cannot commit, even if the closure goes on and returns `Ok`.
    failed: bool,
}

const ABORTED: &str = "the import's transaction was aborted by an earlier error";

impl Sink<'_, '_> {
    /// Runs one sink call, remembering a failure (see [`Sink::failed`]).
    fn guarded<T>(&mut self, call: impl FnOnce(&mut Self) -> StoreResult<T>) -> StoreResult<T> {
        if self.failed {
            return Err(other(anyhow!(ABORTED)));
        }
        let result = call(self);
        if result.is_err() {
            self.failed = true;
        }
        result
    }
}

/// Reserves `n` ids from the identity sequence of `table`, ascending.
fn reserve_ids(tx: &mut Transaction<'_>, table: &str, n: usize) -> StoreResult<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let seq: Option<String> = get(
        &tx.query_one("SELECT pg_get_serial_sequence($1, 'id')", &[&table])
            .map_err(map_pg)?,
        0,
    )?;
    let seq = seq.ok_or_else(|| other(anyhow!("table {table} has no identity sequence")))?;
    let count = i64::try_from(n).map_err(other)?;
    let sql = format!(
        "SELECT nextval({}::regclass) FROM generate_series(1, $1::bigint)",
        quote_literal(&seq)
    );
    let rows = tx.query(&sql, &[&count]).map_err(map_pg)?;
    let mut ids = rows
        .iter()
        .map(|r| get::<i64>(r, 0))
        .collect::<StoreResult<Vec<_>>>()?;
    ids.sort_unstable();
    if ids.len() != n {
        return Err(other(anyhow!(
            "reserved {} ids for {table}, wanted {n}",
            ids.len()
        )));
    }
    Ok(ids)
}

const DEBTOR_INSERT: &str = "INSERT INTO debtors (id, creditor_id, number, kind, name, contact_person, street, postal_code, city, country, emails, phones, language, ibans, registration_number, vat_number, tags, vulnerable, do_not_contact, name_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)";

const INVOICE_INSERT: &str = "INSERT INTO invoices (id, creditor_id, debtor_id, number, kind, issue_date, due_date, due_date_source, payment_terms_days, currency, net_minor, vat_minor, gross_minor, paid_minor, open_minor, payment_reference, contractual_rate, corrects, description, defect, fingerprint, import_id) VALUES ($1, $2, $3, $4, $5, $6::text::date, $7::text::date, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)";

const LINE_COLUMNS: &str =
    "invoice_id, creditor_id, line_no, description, quantity, net_minor, vat_percent";
const LINE_INSERT: &str = "INSERT INTO invoice_lines (invoice_id, creditor_id, line_no, description, quantity, net_minor, vat_percent) VALUES ($1, $2, $3, $4, $5, $6, $7)";

const ATTACHMENT_COLUMNS: &str = "creditor_id, invoice_id, filename, mime_type, content";
const ATTACHMENT_INSERT: &str = "INSERT INTO attachments (creditor_id, invoice_id, filename, mime_type, content) VALUES ($1, $2, $3, $4, $5)";

fn copy_debtor(copy: &mut CopyRows<'_>, c: &DebtorColumns) -> StoreResult<()> {
    copy.int(c.id)
        .int(c.creditor_id)
        .opt_text(c.number.as_deref())
        .text(&c.kind)
        .text(&c.name)
        .opt_text(c.contact_person.as_deref())
        .text(&c.street)
        .text(&c.postal_code)
        .text(&c.city)
        .opt_text(c.country.as_deref())
        .text(&c.emails)
        .text(&c.phones)
        .text(&c.language)
        .text(&c.ibans)
        .opt_text(c.registration_number.as_deref())
        .opt_text(c.vat_number.as_deref())
        .text(&c.tags)
        .bool(c.vulnerable)
        .bool(c.do_not_contact)
        .opt_text(c.name_key.as_deref());
    copy.end_row()
}

fn copy_invoice(copy: &mut CopyRows<'_>, c: &InvoiceColumns, import_id: i64) -> StoreResult<()> {
    copy.int(c.id)
        .int(c.creditor_id)
        .int(c.debtor_id)
        .text(&c.number)
        .text(&c.kind)
        .text(&c.issue_date)
        .opt_text(c.due_date.as_deref())
        .opt_text(c.due_date_source.as_deref())
        .opt_int(c.payment_terms_days)
        .text(&c.currency)
        .int(c.net_minor)
        .int(c.vat_minor)
        .int(c.gross_minor)
        .int(c.paid_minor)
        .int(c.open_minor)
        .opt_text(c.payment_reference.as_deref())
        .opt_text(c.contractual_rate.as_deref())
        .opt_text(c.corrects.as_deref())
        .opt_text(c.description.as_deref())
        .opt_text(c.defect.as_deref())
        .int(c.fingerprint)
        .int(import_id);
    copy.end_row()
}

fn write_debtors(
    tx: &mut Transaction<'_>,
    tenant: i64,
    ids: &[i64],
    debtors: &[NewDebtor],
) -> StoreResult<()> {
    if debtors.len() > COPY_THRESHOLD {
        let mut copy = CopyRows::start(tx, "debtors", codec::DEBTOR_COLUMNS)?;
        for (id, d) in ids.iter().zip(debtors) {
            copy_debtor(&mut copy, &DebtorColumns::from_domain(*id, tenant, d))?;
        }
        copy.finish()?;
    } else {
        let stmt = tx.prepare(DEBTOR_INSERT).map_err(map_pg)?;
        for (id, d) in ids.iter().zip(debtors) {
            let c = DebtorColumns::from_domain(*id, tenant, d);
            tx.execute(
                &stmt,
                &[
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
                ],
            )
            .map_err(map_pg)?;
        }
    }
    Ok(())
}

fn write_invoices(
    tx: &mut Transaction<'_>,
    tenant: i64,
    import_id: i64,
    ids: &[i64],
    invoices: &[(DebtorId, &NewInvoice)],
) -> StoreResult<()> {
    if invoices.len() > COPY_THRESHOLD {
        let mut copy = CopyRows::start(
            tx,
            "invoices",
            &format!("{}, import_id", codec::INVOICE_COLUMNS),
        )?;
        for (id, (debtor, inv)) in ids.iter().zip(invoices) {
            copy_invoice(
                &mut copy,
                &InvoiceColumns::from_domain(*id, tenant, debtor.get(), inv),
                import_id,
            )?;
        }
        copy.finish()?;
    } else {
        let stmt = tx.prepare(INVOICE_INSERT).map_err(map_pg)?;
        for (id, (debtor, inv)) in ids.iter().zip(invoices) {
            let c = InvoiceColumns::from_domain(*id, tenant, debtor.get(), inv);
            tx.execute(
                &stmt,
                &[
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
                ],
            )
            .map_err(map_pg)?;
        }
    }

    let line_count: usize = invoices.iter().map(|(_, inv)| inv.lines.len()).sum();
    if line_count > COPY_THRESHOLD {
        let mut copy = CopyRows::start(tx, "invoice_lines", LINE_COLUMNS)?;
        for (id, (_, inv)) in ids.iter().zip(invoices) {
            for (n, line) in inv.lines.iter().enumerate() {
                let vat = line.vat_percent.map(|r| r.percent().to_string());
                copy.int(*id)
                    .int(tenant)
                    .int(n as i64 + 1)
                    .text(&line.description)
                    .text(&line.quantity)
                    .int(line.net_amount.minor())
                    .opt_text(vat.as_deref());
                copy.end_row()?;
            }
        }
        copy.finish()?;
    } else if line_count > 0 {
        let stmt = tx.prepare(LINE_INSERT).map_err(map_pg)?;
        for (id, (_, inv)) in ids.iter().zip(invoices) {
            for (n, line) in inv.lines.iter().enumerate() {
                let vat = line.vat_percent.map(|r| r.percent().to_string());
                tx.execute(
                    &stmt,
                    &[
                        id,
                        &tenant,
                        &(n as i64 + 1),
                        &line.description,
                        &line.quantity,
                        &line.net_amount.minor(),
                        &vat,
                    ],
                )
                .map_err(map_pg)?;
            }
        }
    }

    let attachment_count = invoices
        .iter()
        .filter(|(_, inv)| inv.attachment.is_some())
        .count();
    if attachment_count > COPY_THRESHOLD {
        let mut copy = CopyRows::start(tx, "attachments", ATTACHMENT_COLUMNS)?;
        for (id, (_, inv)) in ids.iter().zip(invoices) {
            if let Some(a) = &inv.attachment {
                copy.int(tenant)
                    .int(*id)
                    .text(&a.filename)
                    .text(&a.mime_type)
                    .bytea(&a.content);
                copy.end_row()?;
            }
        }
        copy.finish()?;
    } else if attachment_count > 0 {
        let stmt = tx.prepare(ATTACHMENT_INSERT).map_err(map_pg)?;
        for (id, (_, inv)) in ids.iter().zip(invoices) {
            if let Some(a) = &inv.attachment {
                tx.execute(&stmt, &[&tenant, id, &a.filename, &a.mime_type, &a.content])
                    .map_err(map_pg)?;
            }
        }
    }
    Ok(())
}

impl ImportSink for Sink<'_, '_> {
    fn debtor_keys(&mut self) -> StoreResult<Vec<DebtorKeys>> {
        self.guarded(Self::read_debtor_keys)
    }

    fn invoice_fingerprints(&mut self) -> StoreResult<Vec<(String, InvoiceFingerprint)>> {
        self.guarded(Self::read_invoice_fingerprints)
    }

    fn insert_debtors(&mut self, debtors: &[NewDebtor]) -> StoreResult<Vec<DebtorId>> {
        self.guarded(|sink| sink.write_debtors(debtors))
    }

    fn insert_invoices(
        &mut self,
        invoices: &[(DebtorId, &NewInvoice)],
    ) -> StoreResult<Vec<InvoiceId>> {
        self.guarded(|sink| sink.write_invoices(invoices))
    }
}

impl Sink<'_, '_> {
    fn read_debtor_keys(&mut self) -> StoreResult<Vec<DebtorKeys>> {
        let rows = self
            .tx
            .query("SELECT id, number, registration_number, vat_number, name_key FROM debtors WHERE creditor_id = $1", &[&self.tenant])
            .map_err(map_pg)?;
        rows.iter()
            .map(|r| {
                Ok(DebtorKeys {
                    id: DebtorId::new(get(r, 0)?),
                    number: get(r, 1)?,
                    registration_number: get(r, 2)?,
                    vat_number: get(r, 3)?,
                    name_postcode: get(r, 4)?,
                })
            })
            .collect()
    }

    fn read_invoice_fingerprints(&mut self) -> StoreResult<Vec<(String, InvoiceFingerprint)>> {
        let rows = self
            .tx
            .query(
                "SELECT number, id, fingerprint FROM invoices WHERE creditor_id = $1",
                &[&self.tenant],
            )
            .map_err(map_pg)?;
        rows.iter()
            .map(|r| {
                Ok((
                    get(r, 0)?,
                    InvoiceFingerprint {
                        id: InvoiceId::new(get(r, 1)?),
                        fingerprint: get(r, 2)?,
                    },
                ))
            })
            .collect()
    }

    fn write_debtors(&mut self, debtors: &[NewDebtor]) -> StoreResult<Vec<DebtorId>> {
        if debtors.is_empty() {
            return Ok(Vec::new());
        }
        let ids = reserve_ids(self.tx, "debtors", debtors.len())?;
        write_debtors(self.tx, self.tenant, &ids, debtors)?;
        self.rows_written += ids.len();
        Ok(ids.into_iter().map(DebtorId::new).collect())
    }

    fn write_invoices(
        &mut self,
        invoices: &[(DebtorId, &NewInvoice)],
    ) -> StoreResult<Vec<InvoiceId>> {
        if invoices.is_empty() {
            return Ok(Vec::new());
        }
        let ids = reserve_ids(self.tx, "invoices", invoices.len())?;
        write_invoices(self.tx, self.tenant, self.import_id, &ids, invoices)?;
        self.rows_written += ids.len();
        Ok(ids.into_iter().map(InvoiceId::new).collect())
    }
}

/// Reads `YYYY-MM-DD HH:MM:SS` (UTC) from a TIMESTAMPTZ column, as SQLite's CURRENT_TIMESTAMP.
fn utc_text(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')")
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn schema_version(&mut self) -> StoreResult<i64> {
        get(
            &self
                .client
                .query_one(
                    "SELECT COALESCE(MAX(version), 0)::bigint FROM schema_migrations",
                    &[],
                )
                .map_err(map_pg)?,
            0,
        )
    }

    fn add_creditor(&mut self, creditor: &NewCreditor) -> StoreResult<CreditorId> {
        let c = CreditorColumns::from_domain(creditor);
        let row = self
            .client
            .query_one(
                "INSERT INTO creditors (name, legal_form, registration_number, vat_number, vat_deductible, iban, bic, jurisdiction, kind, language, email, phone, street, postal_code, city, country, website, letterhead) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
                &[
                    &c.name, &c.legal_form, &c.registration_number, &c.vat_number, &c.vat_deductible, &c.iban, &c.bic, &c.jurisdiction,
                    &c.kind, &c.language, &c.email, &c.phone, &c.street, &c.postal_code, &c.city, &c.country, &c.website, &c.letterhead,
                ],
            )
            .map_err(map_pg)?;
        Ok(CreditorId::new(get(&row, 0)?))
    }

    fn creditors(&mut self) -> StoreResult<Vec<Creditor>> {
        let sql = format!(
            "SELECT {} FROM creditors ORDER BY id",
            codec::CREDITOR_COLUMNS
        );
        let rows = self.client.query(&sql, &[]).map_err(map_pg)?;
        rows.iter()
            .map(|r| Self::creditor_row(r)?.into_domain().map_err(other))
            .collect()
    }

    fn creditor(&mut self, id: CreditorId) -> StoreResult<Creditor> {
        let sql = format!(
            "SELECT {} FROM creditors WHERE id = $1",
            codec::CREDITOR_COLUMNS
        );
        let row = self
            .client
            .query_opt(&sql, &[&id.get()])
            .map_err(map_pg)?
            .ok_or_else(|| StoreError::NotFound(format!("creditor {id}")))?;
        Self::creditor_row(&row)?.into_domain().map_err(other)
    }

    fn find_import(
        &mut self,
        tenant: CreditorId,
        sha256: &str,
    ) -> StoreResult<Option<ImportRecord>> {
        let sql = format!(
            "SELECT id, filename, {}, invoices_created FROM imports WHERE creditor_id = $1 AND sha256 = $2",
            utc_text("imported_at")
        );
        let row = self
            .client
            .query_opt(&sql, &[&tenant.get(), &sha256])
            .map_err(map_pg)?;
        row.map(|r| {
            Ok(ImportRecord {
                id: ImportId::new(get(&r, 0)?),
                filename: get(&r, 1)?,
                imported_at: get(&r, 2)?,
                invoices_created: get(&r, 3)?,
            })
        })
        .transpose()
    }

    fn import(
        &mut self,
        tenant: CreditorId,
        file: &ImportFile,
        work: &mut dyn FnMut(&mut dyn ImportSink) -> anyhow::Result<ImportCounts>,
    ) -> StoreResult<ImportId> {
        let mut tx = self.client.transaction().map_err(map_pg)?;
        let row = tx
            .query_one(
                "INSERT INTO imports (creditor_id, format, filename, sha256, debtors_created, invoices_created, invoices_unchanged, invoices_changed) VALUES ($1, $2, $3, $4, 0, 0, 0, 0) RETURNING id",
                &[&tenant.get(), &file.format, &file.filename, &file.sha256],
            )
            .map_err(map_pg)?;
        let import_id: i64 = get(&row, 0)?;
        let mut sink = Sink {
            tx: &mut tx,
            tenant: tenant.get(),
            import_id,
            rows_written: 0,
            failed: false,
        };
        let counts = work(&mut sink).map_err(StoreError::Other)?;
        if sink.failed {
            // The closure went on after a refused call; PostgreSQL would turn COMMIT into a
            // silent ROLLBACK, so say so instead of reporting a committed import.
            return Err(other(anyhow!(ABORTED)));
        }
        if sink.rows_written >= ANALYZE_AFTER_ROWS {
            // A bulk import changes the tables' shape at once; without fresh statistics the first
            // listings after it would be planned for empty tables until autovacuum comes by.
            // ANALYZE in the import's transaction sees its rows; it runs just before the commit
            // because it holds a lock that a concurrent ANALYZE of these tables waits for.
            tx.batch_execute("ANALYZE debtors, invoices, invoice_lines")
                .map_err(map_pg)?;
        }
        tx.execute(
            "UPDATE imports SET debtors_created = $1, invoices_created = $2, invoices_unchanged = $3, invoices_changed = $4 WHERE id = $5",
            &[&counts.debtors_created, &counts.invoices_created, &counts.invoices_unchanged, &counts.invoices_changed, &import_id],
        )
        .map_err(map_pg)?;
        tx.commit().map_err(map_pg)?;
        Ok(ImportId::new(import_id))
    }

    fn add_debtor(&mut self, tenant: CreditorId, debtor: &NewDebtor) -> StoreResult<DebtorId> {
        let c = DebtorColumns::from_domain(0, tenant.get(), debtor);
        let row = self
            .client
            .query_one(
                "INSERT INTO debtors (creditor_id, number, kind, name, contact_person, street, postal_code, city, country, emails, phones, language, ibans, registration_number, vat_number, tags, vulnerable, do_not_contact, name_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
                &[
                    &c.creditor_id, &c.number, &c.kind, &c.name, &c.contact_person, &c.street, &c.postal_code, &c.city, &c.country,
                    &c.emails, &c.phones, &c.language, &c.ibans, &c.registration_number, &c.vat_number, &c.tags, &c.vulnerable,
                    &c.do_not_contact, &c.name_key,
                ],
            )
            .map_err(map_pg)?;
        Ok(DebtorId::new(get(&row, 0)?))
    }

    fn debtor(&mut self, tenant: CreditorId, id: DebtorId) -> StoreResult<Debtor> {
        let sql = format!(
            "SELECT {} FROM debtors WHERE creditor_id = $1 AND id = $2",
            codec::DEBTOR_COLUMNS
        );
        let st = self.prepared.get(&mut self.client, &sql)?;
        let row = self
            .client
            .query_opt(&st, &[&tenant.get(), &id.get()])
            .map_err(map_pg)?
            .ok_or_else(|| StoreError::NotFound(format!("debtor {id}")))?;
        Self::debtor_row(&row)?.into_domain().map_err(other)
    }

    fn debtors(&mut self, tenant: CreditorId) -> StoreResult<Vec<DebtorRow>> {
        let rows = self
            .client
            .query(
                "SELECT d.id, d.number, d.name, d.kind, d.city, COUNT(i.id), COALESCE(SUM(i.open_minor), 0)::bigint, MIN(i.currency)
                 FROM debtors d LEFT JOIN invoices i ON i.creditor_id = d.creditor_id AND i.debtor_id = d.id
                 WHERE d.creditor_id = $1 GROUP BY d.id ORDER BY d.name COLLATE \"C\", d.id",
                &[&tenant.get()],
            )
            .map_err(map_pg)?;
        rows.iter()
            .map(|r| {
                let kind: String = get(r, 3)?;
                let currency: Option<String> = get(r, 7)?;
                let currency = currency
                    .map(|c| Currency::parse(&c))
                    .transpose()
                    .map_err(other)?
                    .unwrap_or(Currency::EUR);
                Ok(DebtorRow {
                    id: DebtorId::new(get(r, 0)?),
                    number: get(r, 1)?,
                    name: get(r, 2)?,
                    kind: DebtorKind::parse(&kind)
                        .ok_or_else(|| other(codec::bad("kind", &kind)))?,
                    city: get(r, 4)?,
                    invoices: get(r, 5)?,
                    open_amount: Money::from_minor(get(r, 6)?, currency),
                })
            })
            .collect()
    }

    fn invoice(&mut self, tenant: CreditorId, id: InvoiceId) -> StoreResult<Invoice> {
        self.load_invoice(tenant, "id = $2", &id.get())
    }

    fn invoice_by_number(&mut self, tenant: CreditorId, number: &str) -> StoreResult<Invoice> {
        self.load_invoice(tenant, "number = $2", &number)
    }

    fn attachment(
        &mut self,
        tenant: CreditorId,
        invoice: InvoiceId,
    ) -> StoreResult<Option<Attachment>> {
        let st = self.prepared.get(
            &mut self.client,
            "SELECT filename, mime_type, content FROM attachments WHERE creditor_id = $1 AND invoice_id = $2 ORDER BY id LIMIT 1",
        )?;
        let row = self
            .client
            .query_opt(&st, &[&tenant.get(), &invoice.get()])
            .map_err(map_pg)?;
        row.map(|r| {
            Ok(Attachment {
                filename: get(&r, 0)?,
                mime_type: get(&r, 1)?,
                content: get(&r, 2)?,
            })
        })
        .transpose()
    }

    fn for_each_invoice(
        &mut self,
        tenant: CreditorId,
        filter: &InvoiceFilter,
        visit: &mut dyn FnMut(InvoiceRow) -> anyhow::Result<()>,
    ) -> StoreResult<u64> {
        let tenant_id = tenant.get();
        let as_of = filter.overdue_as_of.map(|d| d.to_string());
        let debtor = filter.debtor.map(|d| d.get());
        let limit = filter.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&tenant_id];
        let mut sql = String::from(
            "SELECT i.id, i.number, i.kind, i.debtor_id, d.name, to_char(i.issue_date, 'YYYY-MM-DD'), to_char(i.due_date, 'YYYY-MM-DD'), i.gross_minor, i.open_minor, i.currency, i.defect
             FROM invoices i JOIN debtors d ON d.id = i.debtor_id AND d.creditor_id = i.creditor_id
             WHERE i.creditor_id = $1",
        );
        if let Some(as_of) = &as_of {
            params.push(as_of);
            sql.push_str(&format!(
                " AND i.open_minor > 0 AND i.defect IS NULL AND i.due_date < ${}::text::date",
                params.len()
            ));
        }
        if let Some(debtor) = &debtor {
            params.push(debtor);
            sql.push_str(&format!(" AND i.debtor_id = ${}", params.len()));
        }
        sql.push_str(" ORDER BY i.due_date NULLS FIRST, i.id");
        if let Some(limit) = &limit {
            params.push(limit);
            sql.push_str(&format!(" LIMIT ${}", params.len()));
        }
        let st = self.prepared.get(&mut self.client, &sql)?;
        let mut rows = self
            .client
            .query_raw(&st, params.iter().copied())
            .map_err(map_pg)?;
        let mut count = 0u64;
        let mut currency_cache: Option<(String, Currency)> = None;
        while let Some(r) = rows.next().map_err(map_pg)? {
            let cur: &str = get(&r, 9)?;
            let currency = match &currency_cache {
                Some((code, c)) if code == cur => *c,
                _ => {
                    let c = Currency::parse(cur).map_err(other)?;
                    currency_cache = Some((cur.to_string(), c));
                    c
                }
            };
            let issue: &str = get(&r, 5)?;
            let due: Option<String> = get(&r, 6)?;
            let row = InvoiceRow {
                id: InvoiceId::new(get(&r, 0)?),
                number: get(&r, 1)?,
                kind: get(&r, 2)?,
                debtor_id: DebtorId::new(get(&r, 3)?),
                debtor_name: std::sync::Arc::from(get::<String>(&r, 4)?),
                issue_date: codec::date(issue).map_err(other)?,
                due_date: codec::opt_date(due).map_err(other)?,
                gross_amount: Money::from_minor(get(&r, 7)?, currency),
                open_amount: Money::from_minor(get(&r, 8)?, currency),
                defect: codec::defect(get(&r, 10)?).map_err(other)?,
            };
            visit(row).map_err(StoreError::Other)?;
            count += 1;
        }
        Ok(count)
    }

    fn record_payment(&mut self, tenant: CreditorId, p: &NewPayment) -> StoreResult<PaymentId> {
        let row = self
            .client
            .query_one(
                "INSERT INTO payments (creditor_id, debtor_id, received_on, amount_minor, currency, reference, counterparty_iban, description, source, reverses) VALUES ($1, $2, $3::text::date, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                &[
                    &tenant.get(),
                    &p.debtor_id.map(|d| d.get()),
                    &p.received_on.to_string(),
                    &p.amount.minor(),
                    &p.amount.currency().code(),
                    &p.reference,
                    &p.counterparty_iban,
                    &p.description,
                    &p.source,
                    &p.reverses.map(|r| r.get()),
                ],
            )
            .map_err(map_pg)?;
        Ok(PaymentId::new(get(&row, 0)?))
    }

    fn payments(&mut self, tenant: CreditorId) -> StoreResult<Vec<PaymentRow>> {
        let rows = self
            .client
            .query(
                "SELECT id, debtor_id, to_char(received_on, 'YYYY-MM-DD'), amount_minor, currency, reference, counterparty_iban, description, source, reverses FROM payments WHERE creditor_id = $1 ORDER BY id",
                &[&tenant.get()],
            )
            .map_err(map_pg)?;
        rows.iter()
            .map(|r| {
                let debtor: Option<i64> = get(r, 1)?;
                let on: String = get(r, 2)?;
                let cur: String = get(r, 4)?;
                let reverses: Option<i64> = get(r, 9)?;
                Ok(PaymentRow {
                    id: PaymentId::new(get(r, 0)?),
                    payment: NewPayment {
                        debtor_id: debtor.map(DebtorId::new),
                        received_on: codec::date(&on).map_err(other)?,
                        amount: Money::from_minor(
                            get(r, 3)?,
                            Currency::parse(&cur).map_err(other)?,
                        ),
                        reference: get(r, 5)?,
                        counterparty_iban: get(r, 6)?,
                        description: get(r, 7)?,
                        source: get(r, 8)?,
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
        let mut tx = self.client.transaction().map_err(map_pg)?;
        let ids = allocate(&mut tx, tenant.get(), allocations)?;
        tx.commit().map_err(map_pg)?;
        Ok(ids)
    }

    fn allocations(
        &mut self,
        tenant: CreditorId,
        invoice: InvoiceId,
    ) -> StoreResult<Vec<AllocationRow>> {
        let rows = self
            .client
            .query(
                "SELECT id, payment_id, invoice_id, component, amount_minor, currency, reverses FROM allocations WHERE creditor_id = $1 AND invoice_id = $2 ORDER BY id",
                &[&tenant.get(), &invoice.get()],
            )
            .map_err(map_pg)?;
        rows.iter()
            .map(|r| {
                let component: String = get(r, 3)?;
                let cur: String = get(r, 5)?;
                let reverses: Option<i64> = get(r, 6)?;
                Ok(AllocationRow {
                    id: AllocationId::new(get(r, 0)?),
                    allocation: NewAllocation {
                        payment_id: PaymentId::new(get(r, 1)?),
                        invoice_id: InvoiceId::new(get(r, 2)?),
                        component: Component::parse(&component)
                            .ok_or_else(|| other(codec::bad("component", &component)))?,
                        amount: Money::from_minor(
                            get(r, 4)?,
                            Currency::parse(&cur).map_err(other)?,
                        ),
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
        collection::for_each_overdue_debtor(&mut self.client, tenant, as_of, visit)
    }

    fn cases(
        &mut self,
        tenant: CreditorId,
        open_only: bool,
    ) -> StoreResult<Vec<incasso_store::CaseRow>> {
        collection::cases(&mut self.client, &mut self.prepared, tenant, open_only)
    }

    fn case(&mut self, tenant: CreditorId, id: i64) -> StoreResult<incasso_store::CaseRow> {
        collection::case(&mut self.client, tenant, id)
    }

    fn actions(
        &mut self,
        tenant: CreditorId,
        case: Option<i64>,
    ) -> StoreResult<Vec<incasso_store::ActionRow>> {
        collection::actions(&mut self.client, &mut self.prepared, tenant, case)
    }

    fn apply_run(
        &mut self,
        tenant: CreditorId,
        batch: &incasso_store::RunBatch,
    ) -> StoreResult<incasso_store::RunApplied> {
        collection::apply_run(&mut self.client, tenant, batch)
    }

    fn change_case(
        &mut self,
        tenant: CreditorId,
        case: i64,
        change: &incasso_store::CaseChange,
        event: &incasso_store::CaseEvent,
    ) -> StoreResult<()> {
        collection::change_case(&mut self.client, tenant, case, change, event)
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
            &mut self.client,
            &mut self.prepared,
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
        collection::case_events(&mut self.client, tenant, case)
    }

    fn bank_transaction(
        &mut self,
        tenant: CreditorId,
        file: Option<&incasso_store::BankFile>,
        work: &mut dyn FnMut(&mut dyn incasso_store::BankSink) -> anyhow::Result<bool>,
    ) -> StoreResult<bool> {
        bank::bank_transaction(&mut self.client, tenant, file, work)
    }

    fn bank_entries(
        &mut self,
        tenant: CreditorId,
        status: Option<incasso_store::EntryStatus>,
    ) -> StoreResult<Vec<incasso_store::BankEntryRow>> {
        bank::bank_entries(&mut self.client, tenant, status)
    }

    fn add_bank_account(&mut self, tenant: CreditorId, account: &str) -> StoreResult<()> {
        bank::add_bank_account(&mut self.client, tenant, account)
    }

    fn bank_accounts(&mut self, tenant: CreditorId) -> StoreResult<Vec<String>> {
        bank::bank_accounts(&mut self.client, tenant)
    }

    fn latest_bank_statement(
        &mut self,
        tenant: CreditorId,
    ) -> StoreResult<Option<incasso_calendar::Date>> {
        bank::latest_bank_statement(&mut self.client, tenant)
    }

    fn add_plan(
        &mut self,
        tenant: CreditorId,
        plan: &incasso_store::NewPlan,
        event: &incasso_store::CaseEvent,
    ) -> StoreResult<i64> {
        collection::add_plan(&mut self.client, tenant, plan, event)
    }

    fn plans(
        &mut self,
        tenant: CreditorId,
        active_only: bool,
    ) -> StoreResult<Vec<incasso_store::PlanRow>> {
        collection::plans(&mut self.client, tenant, active_only)
    }

    fn set_plan_status(&mut self, tenant: CreditorId, plan: i64, status: &str) -> StoreResult<()> {
        collection::set_plan_status(&mut self.client, tenant, plan, status)
    }

    fn add_policy(
        &mut self,
        tenant: CreditorId,
        policy: &incasso_store::PolicyRow,
    ) -> StoreResult<()> {
        collection::add_policy(&mut self.client, tenant, policy)
    }

    fn policies(&mut self, tenant: CreditorId) -> StoreResult<Vec<incasso_store::PolicyRow>> {
        collection::policies(&mut self.client, tenant)
    }

    fn assign_policy(
        &mut self,
        tenant: CreditorId,
        scope: incasso_store::PolicyScope,
        name: Option<&str>,
    ) -> StoreResult<()> {
        collection::assign_policy(&mut self.client, tenant, scope, name)
    }

    fn policy_assignments(
        &mut self,
        tenant: CreditorId,
    ) -> StoreResult<incasso_store::PolicyAssignments> {
        collection::policy_assignments(&mut self.client, tenant)
    }

    fn outbox_index(&mut self, tenant: CreditorId) -> StoreResult<Vec<incasso_store::OutboxEntry>> {
        collection::outbox_index(&mut self.client, tenant)
    }
}

/// The checks and writes of [`Store::record_allocations`] inside its transaction. The payment
/// and invoice rows are locked (`FOR UPDATE`) before they are read, so concurrent allocations
/// of the same payment or to the same invoice are checked one after the other.
fn allocate(
    tx: &mut Transaction<'_>,
    tenant: i64,
    allocations: &[NewAllocation],
) -> StoreResult<Vec<AllocationId>> {
    let mut ids = Vec::with_capacity(allocations.len());
    for a in allocations {
        let payment = tx
            .query_opt(
                "SELECT amount_minor, currency FROM payments WHERE creditor_id = $1 AND id = $2 FOR UPDATE",
                &[&tenant, &a.payment_id.get()],
            )
            .map_err(map_pg)?
            .ok_or_else(|| StoreError::NotFound(format!("payment {}", a.payment_id)))?;
        let payment_minor: i64 = get(&payment, 0)?;
        let payment_currency: String = get(&payment, 1)?;
        let invoice = tx
            .query_opt(
                "SELECT open_minor, gross_minor - paid_minor, currency FROM invoices WHERE creditor_id = $1 AND id = $2 FOR UPDATE",
                &[&tenant, &a.invoice_id.get()],
            )
            .map_err(map_pg)?
            .ok_or_else(|| StoreError::NotFound(format!("invoice {}", a.invoice_id)))?;
        let open: i64 = get(&invoice, 0)?;
        let ceiling: i64 = get(&invoice, 1)?;
        let invoice_currency: String = get(&invoice, 2)?;
        if payment_currency != a.amount.currency().code()
            || invoice_currency != a.amount.currency().code()
        {
            return Err(StoreError::Conflict(
                "allocation currency differs from payment or invoice".into(),
            ));
        }
        let already: i64 = get(
            &tx.query_one(
                "SELECT COALESCE(SUM(amount_minor), 0)::bigint FROM allocations WHERE creditor_id = $1 AND payment_id = $2",
                &[&tenant, &a.payment_id.get()],
            )
            .map_err(map_pg)?,
            0,
        )?;
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
            tx.execute(
                "UPDATE invoices SET open_minor = $1 WHERE creditor_id = $2 AND id = $3",
                &[&new_open, &tenant, &a.invoice_id.get()],
            )
            .map_err(map_pg)?;
        }
        let row = tx
            .query_one(
                "INSERT INTO allocations (creditor_id, payment_id, invoice_id, component, amount_minor, currency, reverses) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &[
                    &tenant,
                    &a.payment_id.get(),
                    &a.invoice_id.get(),
                    &a.component.code(),
                    &a.amount.minor(),
                    &a.amount.currency().code(),
                    &a.reverses.map(|r| r.get()),
                ],
            )
            .map_err(map_pg)?;
        ids.push(AllocationId::new(get(&row, 0)?));
    }
    Ok(ids)
}
