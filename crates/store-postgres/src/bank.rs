//! The PostgreSQL side of bank statement imports: accounts, files, statements, entries with
//! their match, and the sink a bank transaction writes through. The same semantics as the
//! SQLite store; every query is scoped by the tenant.

use incasso_calendar::Date;
use incasso_domain::{AllocationId, CreditorId, DebtorId, InvoiceId, PaymentId};
use incasso_money::{Currency, Money};
use incasso_store::codec;
use incasso_store::{
    AllocationRow, BankEntryRow, BankFile, BankSink, Component, EntryInsert, EntryMatch,
    EntryStatus, NewAllocation, NewBankEntry, NewBankStatement, NewPayment, OpenInvoice,
    StoreError, StoreResult,
};
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
