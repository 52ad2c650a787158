//! The PostgreSQL side of bank statement imports: accounts, files, statements, entries with
//! their match, and the sink a bank transaction writes through. The same semantics as the
//! SQLite store; every query is scoped by the tenant.

use incasso_calendar::Date;
use incasso_domain::{AllocationId, CreditorId, DebtorId, InvoiceId, PaymentId};
use incasso_money::{Currency, Money};
use incasso_store::codec;
use incasso_store::{
    AllocationRow, BankEntryRow, BankFile, BankSink, Component, EntryInsert, EntryMatch,
    EntryStatus, EntryWrite, NewAllocation, NewBankEntry, NewBankStatement, NewPayment,
    OpenInvoice, OpenInvoiceRef, StoreError, StoreResult,
};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, Row, Transaction};

use crate::{get, map_pg, other};

const ENTRY_COLUMNS: &str = "id, statement_id, entry_key, location, to_char(booking_date, 'YYYY-MM-DD'), to_char(value_date, 'YYYY-MM-DD'), amount_minor, currency, counterparty_name, counterparty_iban, reference, end_to_end_id, remittance, return_reason, status, payment_id, debtor_id, invoice_id, match_reason, confidence, unapplied_minor";

fn money(minor: i64, currency: &str) -> StoreResult<Money> {
    Ok(Money::from_minor(
        minor,
        Currency::parse(currency).map_err(other)?,
    ))
}

fn entry_row(r: &Row) -> StoreResult<BankEntryRow> {
    let booking: String = get(r, 4)?;
    let currency: String = get(r, 7)?;
    let status: String = get(r, 14)?;
    let amount: i64 = get(r, 6)?;
    let unapplied: Option<i64> = get(r, 20)?;
    let confidence: i64 = get(r, 19)?;
    let payment: Option<i64> = get(r, 15)?;
    let debtor: Option<i64> = get(r, 16)?;
    let invoice: Option<i64> = get(r, 17)?;
    Ok(BankEntryRow {
        id: get(r, 0)?,
        entry: NewBankEntry {
            statement_id: get(r, 1)?,
            key: get(r, 2)?,
            location: get(r, 3)?,
            booking_date: codec::date(&booking).map_err(other)?,
            value_date: codec::opt_date(get(r, 5)?).map_err(other)?,
            amount: money(amount, &currency)?,
            counterparty_name: get(r, 8)?,
            counterparty_iban: get(r, 9)?,
            reference: get(r, 10)?,
            end_to_end_id: get(r, 11)?,
            remittance: get(r, 12)?,
            return_reason: get(r, 13)?,
        },
        matched: EntryMatch {
            status: EntryStatus::parse(&status)
                .ok_or_else(|| other(codec::bad("entry status", &status)))?,
            payment_id: payment.map(PaymentId::new),
            debtor_id: debtor.map(DebtorId::new),
            invoice_id: invoice.map(InvoiceId::new),
            reason: get(r, 18)?,
            confidence: u8::try_from(confidence.clamp(0, 100)).unwrap_or(0),
            unapplied: unapplied.map(|u| money(u, &currency)).transpose()?,
        },
    })
}

struct Sink<'a, 'b> {
    tx: &'a mut Transaction<'b>,
    tenant: i64,
    file_id: Option<i64>,
}

impl Sink<'_, '_> {
    fn entries(
        &mut self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Vec<BankEntryRow>> {
        let rows = self.tx.query(sql, args).map_err(map_pg)?;
        rows.iter().map(entry_row).collect()
    }
}

impl BankSink for Sink<'_, '_> {
    fn statement(&mut self, s: &NewBankStatement) -> StoreResult<(i64, bool)> {
        let currency = s
            .opening
            .or(s.closing)
            .map(|m| m.currency().code().to_string());
        let inserted = self
            .tx
            .query_opt(
                "INSERT INTO bank_statements (creditor_id, file_id, account, statement_key, kind, statement_id, statement_date, opening_minor, closing_minor, currency) VALUES ($1, $2, $3, $4, $5, $6, $7::text::date, $8, $9, $10) ON CONFLICT (creditor_id, statement_key) DO NOTHING RETURNING id",
                &[
                    &self.tenant,
                    &self.file_id,
                    &s.account,
                    &s.key,
                    &s.kind,
                    &s.statement_id,
                    &s.statement_date.to_string(),
                    &s.opening.map(|m| m.minor()),
                    &s.closing.map(|m| m.minor()),
                    &currency,
                ],
            )
            .map_err(map_pg)?;
        if let Some(row) = inserted {
            return Ok((get(&row, 0)?, true));
        }
        let row = self
            .tx
            .query_one(
                "SELECT id FROM bank_statements WHERE creditor_id = $1 AND statement_key = $2",
                &[&self.tenant, &s.key],
            )
            .map_err(map_pg)?;
        Ok((get(&row, 0)?, false))
    }

    fn entry(&mut self, e: &NewBankEntry) -> StoreResult<EntryInsert> {
        let inserted = self
            .tx
            .query_opt(
                "INSERT INTO bank_entries (creditor_id, statement_id, file_id, entry_key, location, booking_date, value_date, amount_minor, currency, counterparty_name, counterparty_iban, reference, end_to_end_id, remittance, return_reason) VALUES ($1, $2, $3, $4, $5, $6::text::date, $7::text::date, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (creditor_id, entry_key) DO NOTHING RETURNING id",
                &[
                    &self.tenant,
                    &e.statement_id,
                    &self.file_id,
                    &e.key,
                    &e.location,
                    &e.booking_date.to_string(),
                    &e.value_date.map(|d| d.to_string()),
                    &e.amount.minor(),
                    &e.amount.currency().code(),
                    &e.counterparty_name,
                    &e.counterparty_iban,
                    &e.reference,
                    &e.end_to_end_id,
                    &e.remittance,
                    &e.return_reason,
                ],
            )
            .map_err(map_pg)?;
        if let Some(row) = inserted {
            return Ok(EntryInsert::New(get(&row, 0)?));
        }
        let row = self
            .tx
            .query_one(
                "SELECT file_id FROM bank_entries WHERE creditor_id = $1 AND entry_key = $2",
                &[&self.tenant, &e.key],
            )
            .map_err(map_pg)?;
        let file: Option<i64> = get(&row, 0)?;
        Ok(EntryInsert::Known {
            this_file: file.is_some() && file == self.file_id,
        })
    }

    fn set_match(&mut self, entry: i64, m: &EntryMatch) -> StoreResult<()> {
        let n = self
            .tx
            .execute(
                "UPDATE bank_entries SET status = $3, payment_id = $4, debtor_id = $5, invoice_id = $6, match_reason = $7, confidence = $8, unapplied_minor = $9 WHERE creditor_id = $1 AND id = $2",
                &[
                    &self.tenant,
                    &entry,
                    &m.status.code(),
                    &m.payment_id.map(|p| p.get()),
                    &m.debtor_id.map(|d| d.get()),
                    &m.invoice_id.map(|i| i.get()),
                    &m.reason,
                    &i64::from(m.confidence),
                    &m.unapplied.map(|u| u.minor()),
                ],
            )
            .map_err(map_pg)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("bank entry {entry}")));
        }
        Ok(())
    }

    fn get_entry(&mut self, entry: i64) -> StoreResult<BankEntryRow> {
        let tenant = self.tenant;
        self.entries(
            &format!("SELECT {ENTRY_COLUMNS} FROM bank_entries WHERE creditor_id = $1 AND id = $2"),
            &[&tenant, &entry],
        )?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::NotFound(format!("bank entry {entry}")))
    }

    fn file_imported_before(&mut self, sha256: &str) -> StoreResult<bool> {
        let row = self
            .tx
            .query_opt(
                "SELECT 1 FROM bank_files WHERE creditor_id = $1 AND sha256 = $2 AND id IS DISTINCT FROM $3 LIMIT 1",
                &[&self.tenant, &sha256, &self.file_id],
            )
            .map_err(map_pg)?;
        Ok(row.is_some())
    }

    fn collection_by_end_to_end(
        &mut self,
        end_to_end_id: &str,
    ) -> StoreResult<Option<(String, incasso_store::NewCollection)>> {
        crate::mandate::collection_by_end_to_end(
            &mut *self.tx,
            CreditorId::new(self.tenant),
            end_to_end_id,
        )
    }

    fn credit_by_end_to_end(&mut self, e2e: &str) -> StoreResult<Option<BankEntryRow>> {
        let tenant = self.tenant;
        Ok(self
            .entries(
                &format!("SELECT {ENTRY_COLUMNS} FROM bank_entries WHERE creditor_id = $1 AND end_to_end_id = $2 AND amount_minor > 0 AND payment_id IS NOT NULL ORDER BY id DESC LIMIT 1"),
                &[&tenant, &e2e],
            )?
            .into_iter()
            .next())
    }

    fn open_invoices(&mut self) -> StoreResult<Vec<OpenInvoice>> {
        let rows = self
            .tx
            .query(
                "SELECT id, number, debtor_id, payment_reference, open_minor, currency, to_char(due_date, 'YYYY-MM-DD') FROM invoices WHERE creditor_id = $1 AND open_minor > 0 AND defect IS NULL ORDER BY id",
                &[&self.tenant],
            )
            .map_err(map_pg)?;
        rows.iter()
            .map(|r| {
                let open: i64 = get(r, 4)?;
                let currency: String = get(r, 5)?;
                Ok(OpenInvoice {
                    id: InvoiceId::new(get(r, 0)?),
                    number: get(r, 1)?,
                    debtor_id: DebtorId::new(get(r, 2)?),
                    payment_reference: get(r, 3)?,
                    open: money(open, &currency)?,
                    due: codec::opt_date(get(r, 6)?).map_err(other)?,
                })
            })
            .collect()
    }

    fn each_open_invoice(&mut self, each: &mut dyn FnMut(OpenInvoiceRef<'_>)) -> StoreResult<()> {
        let params: [&(dyn ToSql + Sync); 1] = [&self.tenant];
        let mut rows = self
            .tx
            .query_raw(
                "SELECT id, number, debtor_id, payment_reference, open_minor, currency, to_char(due_date, 'YYYY-MM-DD') FROM invoices WHERE creditor_id = $1 AND open_minor > 0 AND defect IS NULL ORDER BY debtor_id, id",
                params.iter().copied(),
            )
            .map_err(map_pg)?;
        let mut currency_cache: Option<(String, Currency)> = None;
        while let Some(r) = rows.next().map_err(map_pg)? {
            let code: &str = get(&r, 5)?;
            let currency = match &currency_cache {
                Some((c, cur)) if c == code => *cur,
                _ => {
                    let cur = Currency::parse(code).map_err(other)?;
                    currency_cache = Some((code.to_string(), cur));
                    cur
                }
            };
            let due: Option<&str> = get(&r, 6)?;
            let due = match due {
                Some(d) => Some(codec::date(d).map_err(other)?),
                None => None,
            };
            each(OpenInvoiceRef {
                id: InvoiceId::new(get(&r, 0)?),
                number: get(&r, 1)?,
                debtor_id: DebtorId::new(get(&r, 2)?),
                payment_reference: get(&r, 3)?,
                open: Money::from_minor(get(&r, 4)?, currency),
                due,
            });
        }
        Ok(())
    }

    fn known_entries(&mut self, keys: &[&str]) -> StoreResult<Vec<bool>> {
        let rows = self
            .tx
            .query(
                "SELECT entry_key FROM bank_entries WHERE creditor_id = $1 AND entry_key = ANY($2::text[])",
                &[&self.tenant, &keys],
            )
            .map_err(map_pg)?;
        let mut known = std::collections::HashSet::new();
        for r in &rows {
            known.insert(get::<String>(r, 0)?);
        }
        Ok(keys.iter().map(|k| known.contains(*k)).collect())
    }

    fn write_entries(&mut self, batch: &[EntryWrite]) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let t = self.tenant;
        // Payment ids from the identity's sequence, then one array insert.
        let wanted =
            i64::try_from(batch.iter().filter(|w| w.payment.is_some()).count()).map_err(other)?;
        let mut ids: Vec<i64> = if wanted > 0 {
            self.tx
                .query(
                    "SELECT nextval(pg_get_serial_sequence('payments', 'id')) FROM generate_series(1, $1::bigint)",
                    &[&wanted],
                )
                .map_err(map_pg)?
                .iter()
                .map(|r| get::<i64>(r, 0))
                .collect::<StoreResult<_>>()?
        } else {
            Vec::new()
        };
        ids.sort_unstable();
        let mut next = ids.into_iter();
        let mut payment_ids: Vec<Option<i64>> = Vec::with_capacity(batch.len());
        let (mut p_id, mut p_debtor, mut p_on, mut p_amount, mut p_cur) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut p_ref, mut p_iban, mut p_desc, mut p_source, mut p_rev) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for w in batch {
            let Some(p) = &w.payment else {
                payment_ids.push(None);
                continue;
            };
            let id = next
                .next()
                .ok_or_else(|| other(anyhow::anyhow!("too few payment ids")))?;
            payment_ids.push(Some(id));
            p_id.push(id);
            p_debtor.push(p.debtor_id.map(|d| d.get()));
            p_on.push(p.received_on.to_string());
            p_amount.push(p.amount.minor());
            p_cur.push(p.amount.currency().code().to_string());
            p_ref.push(p.reference.as_deref());
            p_iban.push(p.counterparty_iban.as_deref());
            p_desc.push(p.description.as_deref());
            p_source.push(p.source.as_str());
            p_rev.push(p.reverses.map(|r| r.get()));
        }
        if !p_id.is_empty() {
            self.tx
                .execute(
                    "INSERT INTO payments (id, creditor_id, debtor_id, received_on, amount_minor, currency, reference, counterparty_iban, description, source, reverses)
                     SELECT x.id, $1, x.debtor, x.on_date::date, x.amount, x.currency, x.reference, x.iban, x.description, x.source, x.reverses
                     FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[]) WITH ORDINALITY
                          AS x(id, debtor, on_date, amount, currency, reference, iban, description, source, reverses, n)
                     ORDER BY x.n",
                    &[&t, &p_id, &p_debtor, &p_on, &p_amount, &p_cur, &p_ref, &p_iban, &p_desc, &p_source, &p_rev],
                )
                .map_err(map_pg)?;
        }
        // Allocations of the new payments: checked here, the open amounts moved by one guarded
        // array update (an invoice can appear more than once in a batch: summed first).
        let (mut a_payment, mut a_invoice, mut a_component, mut a_amount, mut a_cur) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut moved: std::collections::BTreeMap<(i64, String), i64> =
            std::collections::BTreeMap::new();
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
                    let m = moved
                        .entry((a.invoice_id.get(), a.amount.currency().code().to_string()))
                        .or_insert(0);
                    *m = m
                        .checked_add(a.amount.minor())
                        .ok_or_else(|| other(anyhow::anyhow!("overflow")))?;
                }
                a_payment.push(*id);
                a_invoice.push(a.invoice_id.get());
                a_component.push(a.component.code());
                a_amount.push(a.amount.minor());
                a_cur.push(a.amount.currency().code().to_string());
            }
        }
        if !moved.is_empty() {
            let invoices: Vec<i64> = moved.keys().map(|k| k.0).collect();
            let currencies: Vec<&str> = moved.keys().map(|k| k.1.as_str()).collect();
            let amounts: Vec<i64> = moved.values().copied().collect();
            let n = self
                .tx
                .execute(
                    "UPDATE invoices i SET open_minor = i.open_minor - x.amount
                     FROM UNNEST($2::bigint[], $3::text[], $4::bigint[]) AS x(id, currency, amount)
                     WHERE i.creditor_id = $1 AND i.id = x.id AND i.currency = x.currency
                       AND i.open_minor - x.amount >= 0 AND i.open_minor - x.amount <= i.gross_minor - i.paid_minor",
                    &[&t, &invoices, &currencies, &amounts],
                )
                .map_err(map_pg)?;
            if n != invoices.len() as u64 {
                return Err(StoreError::Conflict(
                    "an allocation would take an invoice's open amount out of range (or the invoice is not the tenant's, or in another currency)".into(),
                ));
            }
        }
        if !a_payment.is_empty() {
            self.tx
                .execute(
                    "INSERT INTO allocations (creditor_id, payment_id, invoice_id, component, amount_minor, currency)
                     SELECT $1, x.payment, x.invoice, x.component, x.amount, x.currency
                     FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY
                          AS x(payment, invoice, component, amount, currency, n)
                     ORDER BY x.n",
                    &[&t, &a_payment, &a_invoice, &a_component, &a_amount, &a_cur],
                )
                .map_err(map_pg)?;
        }
        // Reversals of earlier payments (returns: rare) go through the checked routine.
        for w in batch {
            if !w.reversals.is_empty() {
                crate::allocate(self.tx, t, &w.reversals)?;
            }
        }
        let n = batch.len();
        let mut statement = Vec::with_capacity(n);
        let mut key = Vec::with_capacity(n);
        let mut location = Vec::with_capacity(n);
        let mut booking = Vec::with_capacity(n);
        let mut value = Vec::with_capacity(n);
        let mut amount = Vec::with_capacity(n);
        let mut currency = Vec::with_capacity(n);
        let mut name = Vec::with_capacity(n);
        let mut iban = Vec::with_capacity(n);
        let mut reference = Vec::with_capacity(n);
        let mut e2e = Vec::with_capacity(n);
        let mut remittance = Vec::with_capacity(n);
        let mut return_reason = Vec::with_capacity(n);
        let mut status = Vec::with_capacity(n);
        let mut payment = Vec::with_capacity(n);
        let mut debtor = Vec::with_capacity(n);
        let mut invoice = Vec::with_capacity(n);
        let mut reason = Vec::with_capacity(n);
        let mut confidence = Vec::with_capacity(n);
        let mut unapplied = Vec::with_capacity(n);
        for (w, id) in batch.iter().zip(&payment_ids) {
            let e = &w.entry;
            let m = &w.matched;
            statement.push(e.statement_id);
            key.push(e.key.as_str());
            location.push(e.location.as_str());
            booking.push(e.booking_date.to_string());
            value.push(e.value_date.map(|d| d.to_string()));
            amount.push(e.amount.minor());
            currency.push(e.amount.currency().code().to_string());
            name.push(e.counterparty_name.as_deref());
            iban.push(e.counterparty_iban.as_deref());
            reference.push(e.reference.as_deref());
            e2e.push(e.end_to_end_id.as_deref());
            remittance.push(e.remittance.as_deref());
            return_reason.push(e.return_reason.as_deref());
            status.push(m.status.code());
            payment.push(id.or(m.payment_id.map(|p| p.get())));
            debtor.push(m.debtor_id.map(|d| d.get()));
            invoice.push(m.invoice_id.map(|i| i.get()));
            reason.push(m.reason.as_str());
            confidence.push(i64::from(m.confidence));
            unapplied.push(m.unapplied.map(|u| u.minor()));
        }
        self.tx
            .execute(
                "INSERT INTO bank_entries (creditor_id, statement_id, file_id, entry_key, location, booking_date, value_date, amount_minor, currency, counterparty_name, counterparty_iban, reference, end_to_end_id, remittance, return_reason, status, payment_id, debtor_id, invoice_id, match_reason, confidence, unapplied_minor)
                 SELECT $1, x.statement, $2, x.key, x.location, x.booking::date, x.value::date, x.amount, x.currency, x.name, x.iban, x.reference, x.e2e, x.remittance, x.return_reason, x.status, x.payment, x.debtor, x.invoice, x.reason, x.confidence, x.unapplied
                 FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::bigint[], $18::bigint[], $19::bigint[], $20::text[], $21::bigint[], $22::bigint[]) WITH ORDINALITY
                      AS x(statement, key, location, booking, value, amount, currency, name, iban, reference, e2e, remittance, return_reason, status, payment, debtor, invoice, reason, confidence, unapplied, n)
                 ORDER BY x.n",
                &[
                    &t, &self.file_id, &statement, &key, &location, &booking, &value, &amount, &currency, &name, &iban, &reference, &e2e,
                    &remittance, &return_reason, &status, &payment, &debtor, &invoice, &reason, &confidence, &unapplied,
                ],
            )
            .map_err(map_pg)?;
        Ok(())
    }

    fn debtors_with_pending_actions(&mut self) -> StoreResult<Vec<DebtorId>> {
        let rows = self
            .tx
            .query(
                "SELECT DISTINCT c.debtor_id FROM actions a JOIN cases c ON c.id = a.case_id AND c.creditor_id = a.creditor_id WHERE a.creditor_id = $1 AND a.status IN ('queued', 'held') ORDER BY c.debtor_id",
                &[&self.tenant],
            )
            .map_err(map_pg)?;
        rows.iter().map(|r| Ok(DebtorId::new(get(r, 0)?))).collect()
    }

    fn debtor_ibans(&mut self) -> StoreResult<Vec<(DebtorId, String)>> {
        let rows = self
            .tx
            .query(
                "SELECT id, ibans FROM debtors WHERE creditor_id = $1 AND ibans <> '' ORDER BY id",
                &[&self.tenant],
            )
            .map_err(map_pg)?;
        let mut out = Vec::new();
        for r in &rows {
            let id: i64 = get(r, 0)?;
            let ibans: String = get(r, 1)?;
            for iban in codec::ibans(&ibans).map_err(other)? {
                out.push((DebtorId::new(id), iban.as_str().to_string()));
            }
        }
        Ok(out)
    }

    fn record_payment(&mut self, p: &NewPayment) -> StoreResult<PaymentId> {
        let row = self
            .tx
            .query_one(
                "INSERT INTO payments (creditor_id, debtor_id, received_on, amount_minor, currency, reference, counterparty_iban, description, source, reverses) VALUES ($1, $2, $3::text::date, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                &[
                    &self.tenant,
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

    fn record_allocations(
        &mut self,
        allocations: &[NewAllocation],
    ) -> StoreResult<Vec<AllocationId>> {
        crate::allocate(self.tx, self.tenant, allocations)
    }

    fn payment_allocations(&mut self, payment: PaymentId) -> StoreResult<Vec<AllocationRow>> {
        let rows = self
            .tx
            .query(
                "SELECT id, payment_id, invoice_id, component, amount_minor, currency, reverses FROM allocations WHERE creditor_id = $1 AND payment_id = $2 ORDER BY id",
                &[&self.tenant, &payment.get()],
            )
            .map_err(map_pg)?;
        rows.iter()
            .map(|r| {
                let component: String = get(r, 3)?;
                let cur: String = get(r, 5)?;
                let reverses: Option<i64> = get(r, 6)?;
                let amount: i64 = get(r, 4)?;
                Ok(AllocationRow {
                    id: AllocationId::new(get(r, 0)?),
                    allocation: NewAllocation {
                        payment_id: PaymentId::new(get(r, 1)?),
                        invoice_id: InvoiceId::new(get(r, 2)?),
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
        let row = self
            .tx
            .query_one(
                "SELECT COUNT(*) FROM invoices WHERE creditor_id = $1 AND debtor_id = $2 AND open_minor > 0 AND defect IS NULL AND due_date < $3::text::date",
                &[&self.tenant, &debtor.get(), &as_of.to_string()],
            )
            .map_err(map_pg)?;
        let n: i64 = get(&row, 0)?;
        Ok(n > 0)
    }

    fn cancel_pending(&mut self, debtor: DebtorId, reason: &str, on: Date) -> StoreResult<u64> {
        let rows = self
            .tx
            .query(
                "SELECT DISTINCT a.case_id FROM actions a JOIN cases c ON c.id = a.case_id AND c.creditor_id = a.creditor_id WHERE a.creditor_id = $1 AND c.debtor_id = $2 AND a.status IN ('queued', 'held') ORDER BY a.case_id",
                &[&self.tenant, &debtor.get()],
            )
            .map_err(map_pg)?;
        let cases: Vec<i64> = rows.iter().map(|r| get(r, 0)).collect::<StoreResult<_>>()?;
        let mut cancelled = 0u64;
        for case in cases {
            let n = self
                .tx
                .execute(
                    "UPDATE actions SET status = 'cancelled', status_reason = $3 WHERE creditor_id = $1 AND case_id = $2 AND status IN ('queued', 'held')",
                    &[&self.tenant, &case, &reason],
                )
                .map_err(map_pg)?;
            cancelled = cancelled.saturating_add(n);
            crate::dossier::Chain::new().append(
                &mut *self.tx,
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
    client: &mut Client,
    tenant: CreditorId,
    file: Option<&BankFile>,
    work: &mut dyn FnMut(&mut dyn BankSink) -> anyhow::Result<bool>,
) -> StoreResult<bool> {
    let mut tx = client.transaction().map_err(map_pg)?;
    let file_id = match file {
        Some(f) => {
            let row = tx
                .query_one(
                    "INSERT INTO bank_files (creditor_id, format, filename, sha256) VALUES ($1, $2, $3, $4) RETURNING id",
                    &[&tenant.get(), &f.format, &f.filename, &f.sha256],
                )
                .map_err(map_pg)?;
            Some(get::<i64>(&row, 0)?)
        }
        None => None,
    };
    let mut sink = Sink {
        tx: &mut tx,
        tenant: tenant.get(),
        file_id,
    };
    let commit = work(&mut sink).map_err(|e| match e.downcast::<StoreError>() {
        Ok(s) => s,
        Err(e) => StoreError::Other(e),
    })?;
    if commit {
        tx.commit().map_err(map_pg)?;
    }
    Ok(commit)
}

pub(crate) fn bank_entries(
    client: &mut Client,
    tenant: CreditorId,
    status: Option<EntryStatus>,
) -> StoreResult<Vec<BankEntryRow>> {
    let rows = match status {
        Some(s) => client.query(
            &format!("SELECT {ENTRY_COLUMNS} FROM bank_entries WHERE creditor_id = $1 AND status = $2 ORDER BY id"),
            &[&tenant.get(), &s.code()],
        ),
        None => client.query(
            &format!("SELECT {ENTRY_COLUMNS} FROM bank_entries WHERE creditor_id = $1 ORDER BY id"),
            &[&tenant.get()],
        ),
    }
    .map_err(map_pg)?;
    rows.iter().map(entry_row).collect()
}

pub(crate) fn add_bank_account(
    client: &mut Client,
    tenant: CreditorId,
    account: &str,
) -> StoreResult<()> {
    client
        .execute(
            "INSERT INTO bank_accounts (creditor_id, account) VALUES ($1, $2) ON CONFLICT (creditor_id, account) DO NOTHING",
            &[&tenant.get(), &account],
        )
        .map_err(map_pg)?;
    Ok(())
}

pub(crate) fn bank_accounts(client: &mut Client, tenant: CreditorId) -> StoreResult<Vec<String>> {
    let rows = client
        .query(
            "SELECT account FROM bank_accounts WHERE creditor_id = $1 ORDER BY account",
            &[&tenant.get()],
        )
        .map_err(map_pg)?;
    rows.iter().map(|r| get(r, 0)).collect()
}

pub(crate) fn latest_bank_statement(
    client: &mut Client,
    tenant: CreditorId,
) -> StoreResult<Option<Date>> {
    let row = client
        .query_one(
            "SELECT to_char(GREATEST((SELECT MAX(statement_date) FROM bank_statements WHERE creditor_id = $1), (SELECT MAX(booking_date) FROM bank_entries WHERE creditor_id = $1)), 'YYYY-MM-DD')",
            &[&tenant.get()],
        )
        .map_err(map_pg)?;
    codec::opt_date(get(&row, 0)?).map_err(other)
}
