//! The postgres implementation of [`incasso_store::PaylinkStore`]: payment links and their
//! webhook events, every query scoped by the tenant.

use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId, InvoiceId, PaymentId};
use incasso_money::{Currency, Money};
use incasso_store::codec;
use incasso_store::{
    NewPaylink, PaylinkEvent, PaylinkRow, PaylinkScope, PaylinkStatus, PaylinkStore, StoreError,
    StoreResult,
};
use postgres::Row;
use postgres::types::ToSql;

use crate::{PgStore, get, map_pg, other};

const COLUMNS: &str = "id, idempotency_key, case_id, invoice_id, debtor_id, provider, amount_minor, currency, description, to_char(created_on, 'YYYY-MM-DD'), status, provider_id, url, expires_at, provider_payment_id, payment_id, to_char(paid_on, 'YYYY-MM-DD'), error, webhook_base_url, redirect_url, requested_expiry";

fn row(r: &Row) -> StoreResult<PaylinkRow> {
    let id: i64 = get(r, 0)?;
    let case_id: Option<i64> = get(r, 2)?;
    let invoice_id: Option<i64> = get(r, 3)?;
    let scope = match (case_id, invoice_id) {
        (Some(c), None) => PaylinkScope::Case(c),
        (None, Some(i)) => PaylinkScope::Invoice(InvoiceId::new(i)),
        _ => return Err(other(codec::bad("paylink scope", &id.to_string()))),
    };
    let currency: String = get(r, 7)?;
    let created_on: String = get(r, 9)?;
    let status: String = get(r, 10)?;
    let payment_id: Option<i64> = get(r, 15)?;
    let paid_on: Option<String> = get(r, 16)?;
    Ok(PaylinkRow {
        id,
        link: NewPaylink {
            idempotency_key: get(r, 1)?,
            scope,
            debtor_id: DebtorId::new(get(r, 4)?),
            provider: get(r, 5)?,
            amount: Money::from_minor(get(r, 6)?, Currency::parse(&currency).map_err(other)?),
            description: get(r, 8)?,
            created_on: codec::date(&created_on).map_err(other)?,
            webhook_base_url: get(r, 18)?,
            redirect_url: get(r, 19)?,
            requested_expiry: get(r, 20)?,
        },
        status: PaylinkStatus::parse(&status)
            .ok_or_else(|| other(codec::bad("paylink status", &status)))?,
        provider_id: get(r, 11)?,
        url: get(r, 12)?,
        expires_at: get(r, 13)?,
        provider_payment_id: get(r, 14)?,
        payment_id: payment_id.map(PaymentId::new),
        paid_on: codec::opt_date(paid_on).map_err(other)?,
        error: get(r, 17)?,
    })
}

impl PgStore {
    fn paylink_where(
        &mut self,
        condition: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Vec<PaylinkRow>> {
        let sql = format!("SELECT {COLUMNS} FROM paylinks WHERE {condition} ORDER BY id");
        let rows = self.client.query(&sql, args).map_err(map_pg)?;
        rows.iter().map(row).collect()
    }

    /// Changes a link's status from one of `from`; NotFound when no such link, Conflict when it
    /// is in another status.
    fn paylink_transition(
        &mut self,
        tenant: CreditorId,
        id: i64,
        from: &[PaylinkStatus],
        set: &str,
        args: &[&(dyn ToSql + Sync)],
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
        let mut all: Vec<&(dyn ToSql + Sync)> = vec![&id, &t, &status];
        all.extend_from_slice(args);
        let n = self
            .client
            .execute(
                &format!(
                    "UPDATE paylinks SET {set} WHERE id = $1 AND creditor_id = $2 AND status = $3"
                ),
                all.as_slice(),
            )
            .map_err(map_pg)?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "payment link {id} changed meanwhile"
            )));
        }
        Ok(())
    }
}

impl PaylinkStore for PgStore {
    fn begin_paylink(
        &mut self,
        tenant: CreditorId,
        link: &NewPaylink,
    ) -> StoreResult<(PaylinkRow, bool)> {
        let (case_id, invoice_id) = match link.scope {
            PaylinkScope::Case(c) => (Some(c), None),
            PaylinkScope::Invoice(i) => (None, Some(i.get())),
        };
        let n = self
            .client
            .execute(
                "INSERT INTO paylinks (creditor_id, idempotency_key, case_id, invoice_id, debtor_id, provider, amount_minor, currency, description, created_on, webhook_base_url, redirect_url, requested_expiry) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::date, $11, $12, $13) ON CONFLICT (creditor_id, idempotency_key) DO NOTHING",
                &[
                    &tenant.get(),
                    &link.idempotency_key,
                    &case_id,
                    &invoice_id,
                    &link.debtor_id.get(),
                    &link.provider,
                    &link.amount.minor(),
                    &link.amount.currency().code(),
                    &link.description,
                    &link.created_on.to_string(),
                    &link.webhook_base_url,
                    &link.redirect_url,
                    &link.requested_expiry,
                ],
            )
            .map_err(map_pg)?;
        let t = tenant.get();
        let found = self
            .paylink_where(
                "creditor_id = $1 AND idempotency_key = $2",
                &[&t, &link.idempotency_key],
            )?
            .into_iter()
            .next()
            .ok_or_else(|| {
                StoreError::NotFound(format!("payment link {}", link.idempotency_key))
            })?;
        Ok((found, n == 1))
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
            "status = 'open', provider_id = $4, url = $5, expires_at = $6",
            &[&provider_id, &url, &expires_at],
        )
    }

    fn paylink_failed(&mut self, tenant: CreditorId, id: i64, error: &str) -> StoreResult<()> {
        self.paylink_transition(
            tenant,
            id,
            &[PaylinkStatus::Pending],
            "status = 'failed', error = $4",
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
        paid_on: Date,
    ) -> StoreResult<bool> {
        let n = self
            .client
            .execute(
                "UPDATE paylinks SET status = 'paid', payment_id = $3, provider_payment_id = $4, paid_on = $5::text::date WHERE id = $1 AND creditor_id = $2 AND status <> 'paid'",
                &[&id, &tenant.get(), &payment.get(), &provider_payment_id, &paid_on.to_string()],
            )
            .map_err(map_pg)?;
        if n == 0 {
            // Unknown to this tenant, or paid already.
            self.paylink(tenant, id)?;
        }
        Ok(n == 1)
    }

    fn paylink(&mut self, tenant: CreditorId, id: i64) -> StoreResult<PaylinkRow> {
        let t = tenant.get();
        self.paylink_where("creditor_id = $1 AND id = $2", &[&t, &id])?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::NotFound(format!("payment link {id}")))
    }

    fn paylinks(&mut self, tenant: CreditorId) -> StoreResult<Vec<PaylinkRow>> {
        let t = tenant.get();
        self.paylink_where("creditor_id = $1", &[&t])
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
                "creditor_id = $1 AND provider = $2 AND provider_id = $3",
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
            .client
            .execute(
                "INSERT INTO paylink_events (creditor_id, provider, object_id, status, paylink_id, received_on, note) VALUES ($1, $2, $3, $4, $5, $6::text::date, $7) ON CONFLICT (creditor_id, provider, object_id, status) DO NOTHING",
                &[
                    &tenant.get(),
                    &e.provider,
                    &e.object_id,
                    &e.status,
                    &e.paylink_id,
                    &e.received_on.to_string(),
                    &e.note,
                ],
            )
            .map_err(map_pg)?;
        Ok(n == 1)
    }

    fn paylink_events(&mut self, tenant: CreditorId) -> StoreResult<Vec<PaylinkEvent>> {
        let rows = self
            .client
            .query(
                "SELECT provider, object_id, status, paylink_id, to_char(received_on, 'YYYY-MM-DD'), note FROM paylink_events WHERE creditor_id = $1 ORDER BY id",
                &[&tenant.get()],
            )
            .map_err(map_pg)?;
        rows.iter()
            .map(|r| {
                let received_on: String = get(r, 4)?;
                Ok(PaylinkEvent {
                    provider: get(r, 0)?,
                    object_id: get(r, 1)?,
                    status: get(r, 2)?,
                    paylink_id: get(r, 3)?,
                    received_on: codec::date(&received_on).map_err(other)?,
                    note: get(r, 5)?,
                })
            })
            .collect()
    }

    fn payment_by_source(
        &mut self,
        tenant: CreditorId,
        source: &str,
    ) -> StoreResult<Option<PaymentId>> {
        let rows = self
            .client
            .query(
                "SELECT id FROM payments WHERE creditor_id = $1 AND source = $2 AND source LIKE 'mollie:%' ORDER BY id LIMIT 1",
                &[&tenant.get(), &source],
            )
            .map_err(map_pg)?;
        rows.first()
            .map(|r| get::<i64>(r, 0).map(PaymentId::new))
            .transpose()
    }
}
