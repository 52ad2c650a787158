//! The SQLite side of bank statement imports: accounts, files, statements, entries with their
//! match, and the sink a bank transaction writes through. Every query is scoped by the tenant.

use incasso_calendar::Date;
use incasso_domain::{AllocationId, CreditorId, DebtorId, InvoiceId, PaymentId};
use incasso_money::{Currency, Money};
use incasso_store::codec;
use incasso_store::{
    AllocationRow, BankEntryRow, BankFile, BankSink, Component, EntryInsert, EntryMatch,
    EntryStatus, EntryWrite, NewAllocation, NewBankEntry, NewBankStatement, NewPayment,
    OpenInvoice, OpenInvoiceRef, StoreError, StoreResult,
};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, Row, TransactionBehavior, params, params_from_iter};

use crate::{map_sql, other};

const ENTRY_COLUMNS: &str = "id, statement_id, entry_key, location, booking_date, value_date, amount_minor, currency, counterparty_name, counterparty_iban, reference, end_to_end_id, remittance, return_reason, status, payment_id, debtor_id, invoice_id, match_reason, confidence, unapplied_minor";

fn money(minor: i64, currency: &str) -> StoreResult<Money> {
    Ok(Money::from_minor(
        minor,
        Currency::parse(currency).map_err(other)?,
    ))
}

fn entry_row(r: &Row<'_>) -> rusqlite::Result<StoreResult<BankEntryRow>> {
    let booking: String = r.get(4)?;
    let value: Option<String> = r.get(5)?;
    let currency: String = r.get(7)?;
    let status: String = r.get(14)?;
    let amount: i64 = r.get(6)?;
    let unapplied: Option<i64> = r.get(20)?;
    let confidence: i64 = r.get(19)?;
    let id: i64 = r.get(0)?;
    let statement_id: i64 = r.get(1)?;
    let key: String = r.get(2)?;
    let location: String = r.get(3)?;
    let counterparty_name: Option<String> = r.get(8)?;
    let counterparty_iban: Option<String> = r.get(9)?;
    let reference: Option<String> = r.get(10)?;
    let end_to_end_id: Option<String> = r.get(11)?;
    let remittance: Option<String> = r.get(12)?;
    let return_reason: Option<String> = r.get(13)?;
    let payment: Option<i64> = r.get(15)?;
    let debtor: Option<i64> = r.get(16)?;
    let invoice: Option<i64> = r.get(17)?;
    let reason: String = r.get(18)?;
    Ok((|| {
        Ok(BankEntryRow {
            id,
            entry: NewBankEntry {
                statement_id,
                key,
                location,
                booking_date: codec::date(&booking).map_err(other)?,
                value_date: codec::opt_date(value).map_err(other)?,
                amount: money(amount, &currency)?,
                counterparty_name,
                counterparty_iban,
                reference,
                end_to_end_id,
                remittance,
                return_reason,
            },
            matched: EntryMatch {
                status: EntryStatus::parse(&status)
                    .ok_or_else(|| other(codec::bad("entry status", &status)))?,
                payment_id: payment.map(PaymentId::new),
                debtor_id: debtor.map(DebtorId::new),
                invoice_id: invoice.map(InvoiceId::new),
                reason,
                confidence: u8::try_from(confidence.clamp(0, 100)).unwrap_or(0),
                unapplied: unapplied.map(|u| money(u, &currency)).transpose()?,
            },
        })
    })())
}

fn collect_entries(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> StoreResult<Vec<BankEntryRow>> {
    let mut stmt = conn.prepare(sql).map_err(map_sql)?;
    let rows = stmt.query_map(args, entry_row).map_err(map_sql)?;
    rows.map(|r| r.map_err(map_sql).and_then(|x| x)).collect()
}

/// Rows per multi-row INSERT (SQLite allows 32,766 bound values per statement).
const ROWS_PER_INSERT: usize = 500;

/// A bound value borrowed from the batch (no copy of the text).
type Bound<'a> = ToSqlOutput<'a>;

fn text(s: &str) -> Bound<'_> {
    ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
}

fn opt_text(s: &Option<String>) -> Bound<'_> {
    s.as_deref().map_or(ToSqlOutput::Owned(Value::Null), text)
}

fn owned_text(s: String) -> Bound<'static> {
    ToSqlOutput::Owned(Value::Text(s))
}

fn int(i: i64) -> Bound<'static> {
    ToSqlOutput::Owned(Value::Integer(i))
}

fn opt_int(i: Option<i64>) -> Bound<'static> {
    ToSqlOutput::Owned(i.map_or(Value::Null, Value::Integer))
}

/// `INSERT INTO head VALUES (?, ...), (?, ...), ...` for `rows` rows of `columns` values,
/// executed in chunks of [`ROWS_PER_INSERT`] rows through the statement cache.
fn insert_rows(
    conn: &Connection,
    head: &str,
    columns: usize,
    values: &[Bound<'_>],
) -> StoreResult<()> {
    if columns == 0 {
        return Ok(());
    }
    let row = format!("({})", vec!["?"; columns].join(", "));
    for chunk in values.chunks(columns * ROWS_PER_INSERT) {
        let rows = chunk.len() / columns;
        let sql = format!("{head} VALUES {}", vec![row.as_str(); rows].join(", "));
        let mut stmt = conn.prepare_cached(&sql).map_err(map_sql)?;
        stmt.execute(params_from_iter(chunk.iter()))
            .map_err(map_sql)?;
    }
    Ok(())
}

struct Sink<'a> {
    conn: &'a Connection,
    tenant: i64,
    file_id: Option<i64>,
}

impl BankSink for Sink<'_> {
    fn statement(&mut self, s: &NewBankStatement) -> StoreResult<(i64, bool)> {
        let currency = s
            .opening
            .or(s.closing)
            .map(|m| m.currency().code().to_string());
        let n = self
            .conn
            .execute(
                "INSERT INTO bank_statements (creditor_id, file_id, account, statement_key, kind, statement_id, statement_date, opening_minor, closing_minor, currency) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (creditor_id, statement_key) DO NOTHING",
                params![
                    self.tenant,
                    self.file_id,
                    s.account,
                    s.key,
                    s.kind,
                    s.statement_id,
                    s.statement_date.to_string(),
                    s.opening.map(|m| m.minor()),
                    s.closing.map(|m| m.minor()),
                    currency
                ],
            )
            .map_err(map_sql)?;
        let id: i64 = self
            .conn
            .query_row(
                "SELECT id FROM bank_statements WHERE creditor_id = ?1 AND statement_key = ?2",
                params![self.tenant, s.key],
                |r| r.get(0),
            )
            .map_err(map_sql)?;
        Ok((id, n == 1))
    }

    fn entry(&mut self, e: &NewBankEntry) -> StoreResult<EntryInsert> {
        let n = self
            .conn
            .execute(
                "INSERT INTO bank_entries (creditor_id, statement_id, file_id, entry_key, location, booking_date, value_date, amount_minor, currency, counterparty_name, counterparty_iban, reference, end_to_end_id, remittance, return_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT (creditor_id, entry_key) DO NOTHING",
                params![
                    self.tenant,
                    e.statement_id,
                    self.file_id,
                    e.key,
                    e.location,
                    e.booking_date.to_string(),
                    e.value_date.map(|d| d.to_string()),
                    e.amount.minor(),
                    e.amount.currency().code(),
                    e.counterparty_name,
                    e.counterparty_iban,
                    e.reference,
                    e.end_to_end_id,
                    e.remittance,
                    e.return_reason
                ],
            )
            .map_err(map_sql)?;
        if n == 1 {
            return Ok(EntryInsert::New(self.conn.last_insert_rowid()));
        }
        let file: Option<i64> = self
            .conn
            .query_row(
                "SELECT file_id FROM bank_entries WHERE creditor_id = ?1 AND entry_key = ?2",
                params![self.tenant, e.key],
                |r| r.get(0),
            )
            .map_err(map_sql)?;
        Ok(EntryInsert::Known {
            this_file: file.is_some() && file == self.file_id,
        })
    }

    fn set_match(&mut self, entry: i64, m: &EntryMatch) -> StoreResult<()> {
        let n = self
            .conn
            .execute(
                "UPDATE bank_entries SET status = ?3, payment_id = ?4, debtor_id = ?5, invoice_id = ?6, match_reason = ?7, confidence = ?8, unapplied_minor = ?9 WHERE creditor_id = ?1 AND id = ?2",
                params![
                    self.tenant,
                    entry,
                    m.status.code(),
                    m.payment_id.map(|p| p.get()),
                    m.debtor_id.map(|d| d.get()),
                    m.invoice_id.map(|i| i.get()),
                    m.reason,
                    i64::from(m.confidence),
                    m.unapplied.map(|u| u.minor())
                ],
            )
            .map_err(map_sql)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("bank entry {entry}")));
        }
        Ok(())
    }

    fn get_entry(&mut self, entry: i64) -> StoreResult<BankEntryRow> {
        collect_entries(
            self.conn,
            &format!("SELECT {ENTRY_COLUMNS} FROM bank_entries WHERE creditor_id = ?1 AND id = ?2"),
            &[&self.tenant, &entry],
        )?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::NotFound(format!("bank entry {entry}")))
    }

    fn file_imported_before(&mut self, sha256: &str) -> StoreResult<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM bank_files WHERE creditor_id = ?1 AND sha256 = ?2 AND id IS NOT ?3)",
                params![self.tenant, sha256, self.file_id],
                |r| r.get(0),
            )
            .map_err(map_sql)
    }

    fn collection_by_end_to_end(
        &mut self,
        end_to_end_id: &str,
    ) -> StoreResult<Option<(String, incasso_store::NewCollection)>> {
        crate::mandate::collection_by_end_to_end(
            self.conn,
            CreditorId::new(self.tenant),
            end_to_end_id,
        )
    }

    fn credit_by_end_to_end(&mut self, e2e: &str) -> StoreResult<Option<BankEntryRow>> {
        Ok(collect_entries(
            self.conn,
            &format!("SELECT {ENTRY_COLUMNS} FROM bank_entries WHERE creditor_id = ?1 AND end_to_end_id = ?2 AND amount_minor > 0 AND payment_id IS NOT NULL ORDER BY id DESC LIMIT 1"),
            &[&self.tenant, &e2e],
        )?
        .into_iter()
        .next())
    }

    fn open_invoices(&mut self) -> StoreResult<Vec<OpenInvoice>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, number, debtor_id, payment_reference, open_minor, currency, due_date FROM invoices WHERE creditor_id = ?1 AND open_minor > 0 AND defect IS NULL ORDER BY id")
            .map_err(map_sql)?;
        let rows = stmt
            .query_map([self.tenant], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(map_sql)?;
        rows.map(|row| {
            let (id, number, debtor, reference, open, currency, due) = row.map_err(map_sql)?;
            Ok(OpenInvoice {
                id: InvoiceId::new(id),
                number,
                debtor_id: DebtorId::new(debtor),
                payment_reference: reference,
                open: money(open, &currency)?,
                due: codec::opt_date(due).map_err(other)?,
            })
        })
        .collect()
    }

    fn each_open_invoice(&mut self, each: &mut dyn FnMut(OpenInvoiceRef<'_>)) -> StoreResult<()> {
        // In the order of the (creditor_id, debtor_id) index: no sort.
        let mut stmt = self
            .conn
            .prepare("SELECT id, number, debtor_id, payment_reference, open_minor, currency, due_date FROM invoices WHERE creditor_id = ?1 AND open_minor > 0 AND defect IS NULL ORDER BY debtor_id, id")
            .map_err(map_sql)?;
        let mut rows = stmt.query([self.tenant]).map_err(map_sql)?;
        let mut currency_cache: Option<(String, Currency)> = None;
        while let Some(r) = rows.next().map_err(map_sql)? {
            let code = r
                .get_ref(5)
                .map_err(map_sql)?
                .as_str()
                .map_err(|e| other(anyhow::anyhow!("{e}")))?;
            let currency = match &currency_cache {
                Some((c, cur)) if c == code => *cur,
                _ => {
                    let cur = Currency::parse(code).map_err(other)?;
                    currency_cache = Some((code.to_string(), cur));
                    cur
                }
            };
            let due = match r
                .get_ref(6)
                .map_err(map_sql)?
                .as_str_or_null()
                .map_err(|e| other(anyhow::anyhow!("{e}")))?
            {
                Some(d) => Some(codec::date(d).map_err(other)?),
                None => None,
            };
            let text = |i: usize| -> StoreResult<Option<&str>> {
                r.get_ref(i)
                    .map_err(map_sql)?
                    .as_str_or_null()
                    .map_err(|e| other(anyhow::anyhow!("{e}")))
            };
            each(OpenInvoiceRef {
                id: InvoiceId::new(r.get(0).map_err(map_sql)?),
                number: text(1)?.unwrap_or(""),
                debtor_id: DebtorId::new(r.get(2).map_err(map_sql)?),
                payment_reference: text(3)?,
                open: Money::from_minor(r.get(4).map_err(map_sql)?, currency),
                due,
            });
        }
        Ok(())
    }

    fn known_entries(&mut self, keys: &[&str]) -> StoreResult<Vec<bool>> {
        let mut known = std::collections::HashSet::new();
        for chunk in keys.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "SELECT entry_key FROM bank_entries WHERE creditor_id = ? AND entry_key IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut stmt = self.conn.prepare_cached(&sql).map_err(map_sql)?;
            let mut args: Vec<Bound<'_>> = Vec::with_capacity(chunk.len() + 1);
            args.push(int(self.tenant));
            args.extend(chunk.iter().map(|k| text(k)));
            let mut rows = stmt.query(params_from_iter(args.iter())).map_err(map_sql)?;
            while let Some(r) = rows.next().map_err(map_sql)? {
                known.insert(r.get::<_, String>(0).map_err(map_sql)?);
            }
        }
        Ok(keys.iter().map(|k| known.contains(*k)).collect())
    }

    fn write_entries(&mut self, batch: &[EntryWrite]) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        // Payments get explicit ids after the highest one: the writer holds the database lock
        // (an immediate transaction), so no one else takes them.
        let mut next: i64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM payments", [], |r| {
                r.get(0)
            })
            .map_err(map_sql)?;
        let mut payment_ids: Vec<Option<i64>> = Vec::with_capacity(batch.len());
        let mut payments: Vec<Bound<'_>> = Vec::new();
        for w in batch {
            let Some(p) = &w.payment else {
                payment_ids.push(None);
                continue;
            };
            next = next
                .checked_add(1)
                .ok_or_else(|| other(anyhow::anyhow!("payment id overflow")))?;
            payment_ids.push(Some(next));
            payments.extend([
                int(next),
                int(self.tenant),
                opt_int(p.debtor_id.map(|d| d.get())),
                owned_text(p.received_on.to_string()),
                int(p.amount.minor()),
                owned_text(p.amount.currency().code().to_string()),
                opt_text(&p.reference),
                opt_text(&p.counterparty_iban),
                opt_text(&p.description),
                text(&p.source),
                opt_int(p.reverses.map(|r| r.get())),
            ]);
        }
        insert_rows(
            self.conn,
            "INSERT INTO payments (id, creditor_id, debtor_id, received_on, amount_minor, currency, reference, counterparty_iban, description, source, reverses)",
            11,
            &payments,
        )?;
        drop(payments);
        // Allocations of the new payments: checked here (currency, never more than the
        // payment), the invoice's open amount moved by one guarded update each.
        let mut allocations: Vec<Bound<'_>> = Vec::new();
        let mut moves: Vec<(i64, i64, String)> = Vec::new();
        {
            for (w, id) in batch.iter().zip(&payment_ids) {
                if w.allocations.is_empty() {
                    continue;
                }
                let (Some(p), Some(id)) = (&w.payment, id) else {
                    return Err(StoreError::Conflict(
                        "allocations of a bank entry without a payment".into(),
                    ));
                };
                let mut total: i64 = 0;
                for a in &w.allocations {
                    if a.amount.currency() != p.amount.currency() {
                        return Err(StoreError::Conflict(
                            "allocation currency differs from payment or invoice".into(),
                        ));
                    }
                    total = total
                        .checked_add(a.amount.minor())
                        .ok_or_else(|| other(anyhow::anyhow!("overflow")))?;
                    if total > p.amount.minor() || total < 0 {
                        return Err(StoreError::Conflict(format!(
                            "allocations of payment {id} would exceed the payment"
                        )));
                    }
                    if a.component == Component::Principal {
                        moves.push((
                            a.invoice_id.get(),
                            a.amount.minor(),
                            a.amount.currency().code().to_string(),
                        ));
                    }
                    allocations.extend([
                        int(self.tenant),
                        int(*id),
                        int(a.invoice_id.get()),
                        text(a.component.code()),
                        int(a.amount.minor()),
                        owned_text(a.amount.currency().code().to_string()),
                        opt_int(a.reverses.map(|r| r.get())),
                    ]);
                }
            }
        }
        // The open amounts move in invoice order (neighbouring rows share pages); one guarded
        // update each: never below zero, never above the unpaid gross amount.
        moves.sort_by_key(|m| m.0);
        {
            let mut update = self
                .conn
                .prepare_cached("UPDATE invoices SET open_minor = open_minor - ?1 WHERE creditor_id = ?2 AND id = ?3 AND currency = ?4 AND open_minor - ?1 >= 0 AND open_minor - ?1 <= gross_minor - paid_minor")
                .map_err(map_sql)?;
            for (invoice, amount, currency) in moves {
                let n = update
                    .execute(params![amount, self.tenant, invoice, currency])
                    .map_err(map_sql)?;
                if n != 1 {
                    return Err(StoreError::Conflict(format!(
                        "allocation would take invoice {invoice} open amount out of range (or the invoice is not the tenant's, or in another currency)"
                    )));
                }
            }
        }
        insert_rows(
            self.conn,
            "INSERT INTO allocations (creditor_id, payment_id, invoice_id, component, amount_minor, currency, reverses)",
            7,
            &allocations,
        )?;
        drop(allocations);
        // Reversals of earlier payments (returns: rare) go through the checked routine.
        for w in batch {
            if !w.reversals.is_empty() {
                crate::allocate(self.conn, self.tenant, &w.reversals)?;
            }
        }
        let mut entries: Vec<Bound<'_>> = Vec::with_capacity(batch.len() * 22);
        for (w, id) in batch.iter().zip(&payment_ids) {
            let e = &w.entry;
            let m = &w.matched;
            entries.extend([
                int(self.tenant),
                int(e.statement_id),
                opt_int(self.file_id),
                text(&e.key),
                text(&e.location),
                owned_text(e.booking_date.to_string()),
                e.value_date.map_or(ToSqlOutput::Owned(Value::Null), |d| {
                    owned_text(d.to_string())
                }),
                int(e.amount.minor()),
                owned_text(e.amount.currency().code().to_string()),
                opt_text(&e.counterparty_name),
                opt_text(&e.counterparty_iban),
                opt_text(&e.reference),
                opt_text(&e.end_to_end_id),
                opt_text(&e.remittance),
                opt_text(&e.return_reason),
                text(m.status.code()),
                opt_int(id.or(m.payment_id.map(|p| p.get()))),
                opt_int(m.debtor_id.map(|d| d.get())),
                opt_int(m.invoice_id.map(|i| i.get())),
                text(&m.reason),
                int(i64::from(m.confidence)),
                opt_int(m.unapplied.map(|u| u.minor())),
            ]);
        }
        insert_rows(
            self.conn,
            "INSERT INTO bank_entries (creditor_id, statement_id, file_id, entry_key, location, booking_date, value_date, amount_minor, currency, counterparty_name, counterparty_iban, reference, end_to_end_id, remittance, return_reason, status, payment_id, debtor_id, invoice_id, match_reason, confidence, unapplied_minor)",
            22,
            &entries,
        )
    }

    fn debtors_with_pending_actions(&mut self) -> StoreResult<Vec<DebtorId>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT c.debtor_id FROM actions a JOIN cases c ON c.id = a.case_id AND c.creditor_id = a.creditor_id WHERE a.creditor_id = ?1 AND a.status IN ('queued', 'held') ORDER BY c.debtor_id")
            .map_err(map_sql)?;
        let rows = stmt
            .query_map([self.tenant], |r| r.get::<_, i64>(0))
            .map_err(map_sql)?;
        rows.map(|r| r.map(DebtorId::new).map_err(map_sql))
            .collect()
    }

    fn debtor_ibans(&mut self) -> StoreResult<Vec<(DebtorId, String)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, ibans FROM debtors WHERE creditor_id = ?1 AND ibans <> '' ORDER BY id",
            )
            .map_err(map_sql)?;
        let rows = stmt
            .query_map([self.tenant], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(map_sql)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, ibans) = row.map_err(map_sql)?;
            for iban in codec::ibans(&ibans).map_err(other)? {
                out.push((DebtorId::new(id), iban.as_str().to_string()));
            }
        }
        Ok(out)
    }

    fn record_payment(&mut self, p: &NewPayment) -> StoreResult<PaymentId> {
        self.conn
            .execute(
                "INSERT INTO payments (creditor_id, debtor_id, received_on, amount_minor, currency, reference, counterparty_iban, description, source, reverses) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    self.tenant,
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

    fn record_allocations(
        &mut self,
        allocations: &[NewAllocation],
    ) -> StoreResult<Vec<AllocationId>> {
        crate::allocate(self.conn, self.tenant, allocations)
    }

    fn payment_allocations(&mut self, payment: PaymentId) -> StoreResult<Vec<AllocationRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, payment_id, invoice_id, component, amount_minor, currency, reverses FROM allocations WHERE creditor_id = ?1 AND payment_id = ?2 ORDER BY id")
            .map_err(map_sql)?;
        let rows = stmt
            .query_map(params![self.tenant, payment.get()], |r| {
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
                    amount: money(amount, &cur)?,
                    reverses: reverses.map(AllocationId::new),
                },
            })
        })
        .collect()
    }

    fn has_open_overdue(&mut self, debtor: DebtorId, as_of: Date) -> StoreResult<bool> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM invoices WHERE creditor_id = ?1 AND debtor_id = ?2 AND open_minor > 0 AND defect IS NULL AND due_date < ?3",
                params![self.tenant, debtor.get(), as_of.to_string()],
                |r| r.get(0),
            )
            .map_err(map_sql)?;
        Ok(n > 0)
    }

    fn cancel_pending(&mut self, debtor: DebtorId, reason: &str, on: Date) -> StoreResult<u64> {
        let cases: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare("SELECT DISTINCT a.case_id FROM actions a JOIN cases c ON c.id = a.case_id AND c.creditor_id = a.creditor_id WHERE a.creditor_id = ?1 AND c.debtor_id = ?2 AND a.status IN ('queued', 'held') ORDER BY a.case_id")
                .map_err(map_sql)?;
            let rows = stmt
                .query_map(params![self.tenant, debtor.get()], |r| r.get(0))
                .map_err(map_sql)?;
            rows.collect::<Result<_, _>>().map_err(map_sql)?
        };
        let mut cancelled = 0u64;
        for case in cases {
            let n = self
                .conn
                .execute(
                    "UPDATE actions SET status = 'cancelled', status_reason = ?3 WHERE creditor_id = ?1 AND case_id = ?2 AND status IN ('queued', 'held')",
                    params![self.tenant, case, reason],
                )
                .map_err(map_sql)?;
            cancelled = cancelled.saturating_add(u64::try_from(n).unwrap_or(0));
            crate::dossier::Chain::new().append(
                self.conn,
                self.tenant,
                case,
                on.to_string(),
                "cancelled",
                &format!("{n} pending action(s) cancelled: {reason}"),
                &crate::dossier::no_payload(),
                None,
            )?;
        }
        Ok(cancelled)
    }
}

pub(crate) fn bank_transaction(
    conn: &mut Connection,
    tenant: CreditorId,
    file: Option<&BankFile>,
    work: &mut dyn FnMut(&mut dyn BankSink) -> anyhow::Result<bool>,
) -> StoreResult<bool> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_sql)?;
    let file_id = match file {
        Some(f) => {
            tx.execute(
                "INSERT INTO bank_files (creditor_id, format, filename, sha256) VALUES (?1, ?2, ?3, ?4)",
                params![tenant.get(), f.format, f.filename, f.sha256],
            )
            .map_err(map_sql)?;
            Some(tx.last_insert_rowid())
        }
        None => None,
    };
    let mut sink = Sink {
        conn: &tx,
        tenant: tenant.get(),
        file_id,
    };
    let commit = work(&mut sink).map_err(|e| match e.downcast::<StoreError>() {
        Ok(s) => s,
        Err(e) => StoreError::Other(e),
    })?;
    if commit {
        tx.commit().map_err(map_sql)?;
    }
    Ok(commit)
}

pub(crate) fn bank_entries(
    conn: &Connection,
    tenant: CreditorId,
    status: Option<EntryStatus>,
) -> StoreResult<Vec<BankEntryRow>> {
    match status {
        Some(s) => collect_entries(
            conn,
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM bank_entries WHERE creditor_id = ?1 AND status = ?2 ORDER BY id"
            ),
            &[&tenant.get(), &s.code()],
        ),
        None => collect_entries(
            conn,
            &format!("SELECT {ENTRY_COLUMNS} FROM bank_entries WHERE creditor_id = ?1 ORDER BY id"),
            &[&tenant.get()],
        ),
    }
}

pub(crate) fn add_bank_account(
    conn: &Connection,
    tenant: CreditorId,
    account: &str,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO bank_accounts (creditor_id, account) VALUES (?1, ?2) ON CONFLICT (creditor_id, account) DO NOTHING",
        params![tenant.get(), account],
    )
    .map_err(map_sql)?;
    Ok(())
}

pub(crate) fn bank_accounts(conn: &Connection, tenant: CreditorId) -> StoreResult<Vec<String>> {
    let mut stmt = conn
        .prepare("SELECT account FROM bank_accounts WHERE creditor_id = ?1 ORDER BY account")
        .map_err(map_sql)?;
    let rows = stmt
        .query_map([tenant.get()], |r| r.get::<_, String>(0))
        .map_err(map_sql)?;
    rows.collect::<Result<_, _>>().map_err(map_sql)
}

pub(crate) fn latest_bank_statement(
    conn: &Connection,
    tenant: CreditorId,
) -> StoreResult<Option<Date>> {
    let latest: Option<String> = conn
        .query_row(
            "SELECT MAX(d) FROM (SELECT MAX(statement_date) AS d FROM bank_statements WHERE creditor_id = ?1 UNION ALL SELECT MAX(booking_date) FROM bank_entries WHERE creditor_id = ?1)",
            [tenant.get()],
            |r| r.get(0),
        )
        .map_err(map_sql)?;
    codec::opt_date(latest).map_err(other)
}
