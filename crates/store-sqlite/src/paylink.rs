//! The sqlite implementation of [`incasso_store::PaylinkStore`]: payment links and their
//! webhook events, every query scoped by the tenant.

use incasso_domain::{CreditorId, DebtorId, InvoiceId, PaymentId};
use incasso_money::{Currency, Money};
use incasso_store::codec;
use incasso_store::{
    NewPaylink, PaylinkEvent, PaylinkRow, PaylinkScope, PaylinkStatus, PaylinkStore, StoreError,
    StoreResult,
};
use rusqlite::{OptionalExtension, Row, params};

use crate::{SqliteStore, map_sql, other};

const COLUMNS: &str = "id, idempotency_key, case_id, invoice_id, debtor_id, provider, amount_minor, currency, description, created_on, status, provider_id, url, expires_at, provider_payment_id, payment_id, paid_on, error, webhook_base_url, redirect_url, requested_expiry";

type Raw = (
    (i64, String, Option<i64>, Option<i64>, i64, String),
    (i64, String, String, String, String),
    (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
    ),
    (Option<String>, Option<String>, Option<String>),
);

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ),
        (r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?),
        (
            r.get(11)?,
            r.get(12)?,
            r.get(13)?,
            r.get(14)?,
            r.get(15)?,
            r.get(16)?,
            r.get(17)?,
        ),
        (r.get(18)?, r.get(19)?, r.get(20)?),
    ))
}

fn row(raw: Raw) -> StoreResult<PaylinkRow> {
    let (
        (id, key, case_id, invoice_id, debtor, provider),
        (amount, currency, description, created_on, status),
        (provider_id, url, expires_at, provider_payment_id, payment_id, paid_on, error),
        (webhook_base_url, redirect_url, requested_expiry),
    ) = raw;
    let scope = match (case_id, invoice_id) {
        (Some(c), None) => PaylinkScope::Case(c),
        (None, Some(i)) => PaylinkScope::Invoice(InvoiceId::new(i)),
        _ => return Err(other(codec::bad("paylink scope", &id.to_string()))),
    };
    Ok(PaylinkRow {
        id,
        link: NewPaylink {
            idempotency_key: key,
            scope,
            debtor_id: DebtorId::new(debtor),
            provider,
            amount: Money::from_minor(amount, Currency::parse(&currency).map_err(other)?),
            description,
            created_on: codec::date(&created_on).map_err(other)?,
            webhook_base_url,
            redirect_url,
            requested_expiry,
        },
        status: PaylinkStatus::parse(&status)
            .ok_or_else(|| other(codec::bad("paylink status", &status)))?,
        provider_id,
        url,
        expires_at,
        provider_payment_id,
        payment_id: payment_id.map(PaymentId::new),
        paid_on: codec::opt_date(paid_on).map_err(other)?,
        error,
    })
}

impl SqliteStore {
    fn paylink_where(
        &mut self,
        condition: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> StoreResult<Vec<PaylinkRow>> {
        let sql = format!("SELECT {COLUMNS} FROM paylinks WHERE {condition} ORDER BY id");
        let mut stmt = self.conn.prepare(&sql).map_err(map_sql)?;
        let rows = stmt.query_map(args, raw).map_err(map_sql)?;
        rows.map(|r| r.map_err(map_sql).and_then(row)).collect()
    }

    /// Changes a link's status from one of `from`; NotFound when no such link, Conflict when it
    /// is in another status.
    fn paylink_transition(
        &mut self,
        tenant: CreditorId,
        id: i64,
        from: &[PaylinkStatus],
        set: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> StoreResult<()> {
        let current = self.paylink(tenant, id)?;
        if !from.contains(&current.status) {
            return Err(StoreError::Conflict(format!(
                "payment link {id} is {}",
                current.status.code()
            )));
        }
        let t = tenant.get();
        let status = current.status.code();
        let mut all: Vec<&dyn rusqlite::ToSql> = vec![&id, &t, &status];
        all.extend_from_slice(args);
        let n = self
            .conn
            .execute(
                &format!(
                    "UPDATE paylinks SET {set} WHERE id = ?1 AND creditor_id = ?2 AND status = ?3"
                ),
                all.as_slice(),
            )
            .map_err(map_sql)?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "payment link {id} changed meanwhile"
            )));
        }
        Ok(())
    }
}

impl PaylinkStore for SqliteStore {
    fn begin_paylink(
        &mut self,
        tenant: CreditorId,
        link: &NewPaylink,
    ) -> StoreResult<(PaylinkRow, bool)> {
        // Recorded before it leaves the system: it must survive a power cut.
        self.durably(|s| {
            let (case_id, invoice_id) = match link.scope {
                PaylinkScope::Case(c) => (Some(c), None),
                PaylinkScope::Invoice(i) => (None, Some(i.get())),
            };
            let n = s
                .conn
                .execute(
                    "INSERT INTO paylinks (creditor_id, idempotency_key, case_id, invoice_id, debtor_id, provider, amount_minor, currency, description, created_on, webhook_base_url, redirect_url, requested_expiry) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT (creditor_id, idempotency_key) DO NOTHING",
                    params![
                        tenant.get(),
                        link.idempotency_key,
                        case_id,
                        invoice_id,
                        link.debtor_id.get(),
                        link.provider,
                        link.amount.minor(),
                        link.amount.currency().code(),
                        link.description,
                        link.created_on.to_string(),
                        link.webhook_base_url,
                        link.redirect_url,
                        link.requested_expiry
                    ],
                )
                .map_err(map_sql)?;
            let t = tenant.get();
            let found = s
                .paylink_where(
                    "creditor_id = ?1 AND idempotency_key = ?2",
                    &[&t, &link.idempotency_key],
                )?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    StoreError::NotFound(format!("payment link {}", link.idempotency_key))
                })?;
            Ok((found, n == 1))
        })
    }

    fn paylink_opened(
        &mut self,
        tenant: CreditorId,
        id: i64,
        provider_id: &str,
        url: &str,
        expires_at: Option<&str>,
    ) -> StoreResult<()> {
        self.paylink_transition(
            tenant,
            id,
            &[PaylinkStatus::Pending],
            "status = 'open', provider_id = ?4, url = ?5, expires_at = ?6",
            &[&provider_id, &url, &expires_at],
        )
    }

    fn paylink_failed(&mut self, tenant: CreditorId, id: i64, error: &str) -> StoreResult<()> {
        self.paylink_transition(
            tenant,
            id,
            &[PaylinkStatus::Pending],
            "status = 'failed', error = ?4",
            &[&error],
        )
    }

    fn paylink_superseded(&mut self, tenant: CreditorId, id: i64) -> StoreResult<()> {
        self.paylink_transition(
            tenant,
            id,
            &[PaylinkStatus::Open],
            "status = 'superseded'",
            &[],
        )
    }

    fn paylink_paid(
        &mut self,
        tenant: CreditorId,
        id: i64,
        payment: PaymentId,
        provider_payment_id: Option<&str>,
        paid_on: incasso_calendar::Date,
    ) -> StoreResult<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE paylinks SET status = 'paid', payment_id = ?3, provider_payment_id = ?4, paid_on = ?5 WHERE id = ?1 AND creditor_id = ?2 AND status <> 'paid'",
                params![id, tenant.get(), payment.get(), provider_payment_id, paid_on.to_string()],
            )
            .map_err(map_sql)?;
        if n == 0 {
            // Unknown to this tenant, or paid already.
            self.paylink(tenant, id)?;
        }
        Ok(n == 1)
    }

    fn paylink(&mut self, tenant: CreditorId, id: i64) -> StoreResult<PaylinkRow> {
        let t = tenant.get();
        self.paylink_where("creditor_id = ?1 AND id = ?2", &[&t, &id])?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::NotFound(format!("payment link {id}")))
    }

    fn paylinks(&mut self, tenant: CreditorId) -> StoreResult<Vec<PaylinkRow>> {
        let t = tenant.get();
        self.paylink_where("creditor_id = ?1", &[&t])
    }

    fn paylink_by_provider_id(
        &mut self,
        tenant: CreditorId,
        provider: &str,
        provider_id: &str,
    ) -> StoreResult<Option<PaylinkRow>> {
        let t = tenant.get();
        Ok(self
            .paylink_where(
                "creditor_id = ?1 AND provider = ?2 AND provider_id = ?3",
                &[&t, &provider, &provider_id],
            )?
            .into_iter()
            .next())
    }

    fn record_paylink_event(&mut self, tenant: CreditorId, e: &PaylinkEvent) -> StoreResult<bool> {
        if let Some(link) = e.paylink_id {
            // The link must be the tenant's.
            self.paylink(tenant, link)?;
        }
        let n = self
            .conn
            .execute(
                "INSERT INTO paylink_events (creditor_id, provider, object_id, status, paylink_id, received_on, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (creditor_id, provider, object_id, status) DO NOTHING",
                params![
                    tenant.get(),
                    e.provider,
                    e.object_id,
                    e.status,
                    e.paylink_id,
                    e.received_on.to_string(),
                    e.note
                ],
            )
            .map_err(map_sql)?;
        Ok(n == 1)
    }

    fn paylink_events(&mut self, tenant: CreditorId) -> StoreResult<Vec<PaylinkEvent>> {
        let mut stmt = self
            .conn
            .prepare("SELECT provider, object_id, status, paylink_id, received_on, note FROM paylink_events WHERE creditor_id = ?1 ORDER BY id")
            .map_err(map_sql)?;
        let rows = stmt
            .query_map([tenant.get()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(map_sql)?;
        rows.map(|r| {
            let (provider, object_id, status, paylink_id, received_on, note) =
                r.map_err(map_sql)?;
            Ok(PaylinkEvent {
                provider,
                object_id,
                status,
                paylink_id,
                received_on: codec::date(&received_on).map_err(other)?,
                note,
            })
        })
        .collect()
    }

    fn payment_by_source(
        &mut self,
        tenant: CreditorId,
        source: &str,
    ) -> StoreResult<Option<PaymentId>> {
        self.conn
            .query_row(
                "SELECT id FROM payments WHERE creditor_id = ?1 AND source = ?2 AND source LIKE 'mollie:%' ORDER BY id LIMIT 1",
                params![tenant.get(), source],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map_err(map_sql)
            .map(|p| p.map(PaymentId::new))
    }
}
