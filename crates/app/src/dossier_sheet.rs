//! The calculation sheet of a case bundle: the debtor's invoices with what was paid and what is
//! open, statutory interest per open invoice and period up to a day (the law engine's
//! specification), the collection costs the case's latest step claimed, the payments received,
//! and the total. All amounts in cents; the index PDF and `index.json` show it.

use anyhow::anyhow;
use incasso_calendar::Date;
use incasso_domain::{Creditor, Debtor, DebtorKind, Jurisdiction};
use incasso_dossier::{IndexSheet, SheetInterest, SheetInvoice, SheetPayment};
use incasso_money::{Currency, Money};
use incasso_rules::{Jurisdiction as LawJurisdiction, TransactionKind};
use incasso_store::{ActionRow, InvoiceFilter, Store};

fn law_jurisdiction(j: Jurisdiction) -> LawJurisdiction {
    match j {
        Jurisdiction::Nl => LawJurisdiction::Netherlands,
        Jurisdiction::Be => LawJurisdiction::Belgium,
    }
}

fn law_kind(k: DebtorKind) -> TransactionKind {
    match k {
        DebtorKind::Business => TransactionKind::Commercial,
        DebtorKind::Consumer => TransactionKind::Consumer,
    }
}

fn add(a: i64, b: i64) -> anyhow::Result<i64> {
    a.checked_add(b)
        .ok_or_else(|| anyhow!("calculation sheet: amounts overflow"))
}

/// The sheet for `debtor`'s invoices as of `as_of`, with the case's `actions` (oldest first).
pub(crate) fn sheet(
    store: &mut dyn Store,
    creditor: &Creditor,
    debtor: &Debtor,
    actions: &[ActionRow],
    as_of: Date,
) -> anyhow::Result<IndexSheet> {
    let tenant = creditor.id;
    let mut rows = Vec::new();
    store.for_each_invoice(
        tenant,
        &InvoiceFilter {
            debtor: Some(debtor.id),
            ..InvoiceFilter::default()
        },
        &mut |r| {
            rows.push(r);
            Ok(())
        },
    )?;
    let law_j = law_jurisdiction(creditor.details.jurisdiction);
    let law_k = law_kind(debtor.details.kind);
    let mut invoices = Vec::new();
    let mut interest = Vec::new();
    let (mut open_total, mut interest_total) = (0i64, 0i64);
    let mut currency = Currency::EUR;
    for r in &rows {
        currency = r.gross_amount.currency();
        let open = r.open_amount;
        let paid = r
            .gross_amount
            .checked_sub(open)
            .map_err(|e| anyhow!("invoice {}: {e}", r.number))?;
        invoices.push(SheetInvoice {
            number: r.number.clone(),
            due: r.due_date.map(|d| d.to_string()).unwrap_or_default(),
            principal_cents: r.gross_amount.minor(),
            paid_cents: paid.minor(),
            open_cents: open.minor(),
        });
        open_total = add(open_total, open.minor())?;
        let Some(due) = r.due_date else { continue };
        if !open.is_positive() || due >= as_of {
            continue;
        }
        let spec = incasso_rules::claim_interest(law_j, law_k, None, open, due, as_of)
            .map_err(|e| anyhow!("interest on {}: {e}", r.number))?;
        for p in &spec.periods {
            interest.push(SheetInterest {
                invoice: r.number.clone(),
                from: p.from().to_string(),
                to: p.to().to_string(),
                days: p.days,
                rate: p.rate.ten_thousandths_percent(),
                base_cents: p
                    .base_rounded(currency)
                    .map_err(|e| anyhow!("{e}"))?
                    .minor(),
                amount_cents: p
                    .interest_rounded(currency)
                    .map_err(|e| anyhow!("{e}"))?
                    .minor(),
            });
        }
        interest_total = add(interest_total, spec.interest.minor())?;
    }
    let statute = if interest.is_empty() {
        String::new()
    } else {
        incasso_rules::jurisdiction::interest_rule(
            law_j,
            law_k,
            None,
            incasso_rules::interest::LeapDayAnniversary::default(),
        )
        .map(|r| r.statute.to_string())
        .unwrap_or_default()
    };
    let (costs_cents, costs_explanation) = match actions
        .iter()
        .rev()
        .find_map(|a| a.action.costs.map(|c| (a, c)))
    {
        Some((a, c)) => (
            c.minor(),
            format!(
                "{} ({}, {})",
                a.action.step_id, a.action.policy_name, a.action.created_on
            ),
        ),
        None => (0, String::new()),
    };
    let mut payments = Vec::new();
    let mut paid_total = 0i64;
    for p in store.payments(tenant)? {
        let p = p.payment;
        if p.debtor_id != Some(debtor.id) || p.received_on > as_of {
            continue;
        }
        paid_total = add(paid_total, p.amount.minor())?;
        payments.push(SheetPayment {
            on: p.received_on.to_string(),
            amount_cents: p.amount.minor(),
            reference: p
                .reference
                .clone()
                .or(p.description.clone())
                .unwrap_or_default(),
        });
    }
    payments.sort_by(|a, b| a.on.cmp(&b.on));
    let total = add(add(open_total, interest_total)?, costs_cents)?;
    Ok(IndexSheet {
        as_of: as_of.to_string(),
        currency: Money::zero(currency).currency().code().to_string(),
        invoices,
        statute,
        interest,
        interest_total_cents: interest_total,
        costs_cents,
        costs_explanation,
        payments,
        paid_total_cents: paid_total,
        open_cents: open_total,
        total_cents: total,
    })
}
