//! Payment links: creating a Mollie payment link for a claim and settling it from the webhook through the bank allocation path (issue #6).
//!
//! - [`create_link`] makes a link for a case's open total (the debtor's overdue claims) or for
//!   one invoice. The link is recorded (status `pending`, idempotency key
//!   `<provider>:<case:N|invoice:N>#<n>`) **before** the provider is called, and the provider
//!   gets the same key in its `Idempotency-Key` header: a retry after a crash (or a timeout)
//!   asks again under the same key and gets the same link, never a second one. An open link
//!   for the same claims and amount is returned as it is.
//! - [`handle_webhook`] takes the id a webhook named, never trusting the call itself: it fetches
//!   the payment (`tr_...`) or link (`pl_...`) from the provider, records the event once per
//!   (object, status), and when the provider says the link is paid, settles it.
//! - Settling records the payment (source `mollie:<link id>`, unique in the store) and
//!   allocates it inside a bank transaction exactly as a matched bank payment is allocated
//!   (`incasso_app::bank`): the link's claims first (art. 6:43 lid 1 BW), then the debtor's
//!   other open claims in statutory order, costs, interest and principal within each claim
//!   (art. 6:44 BW, `incasso_rules::allocate_payment`); when the debtor has nothing overdue any
//!   more, the queued and held reminders are cancelled in the same transaction (as the bank
//!   path does) and the debtor's open cases are closed as paid (as the daily run does).
//!   A second webhook, or a retry after a crash at any point, changes nothing more.
//!
//! The allocation routine below mirrors the private `Ledger::allocate` of `bank.rs` line for
//! line; it should move to one shared function there when `bank.rs` is next restructured.

use anyhow::{Context, anyhow, bail};
use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId, InvoiceId, PaymentId};
use incasso_dunning::CaseState;
use incasso_money::{Currency, Money};
use incasso_store::{
    BankSink, CaseChange, CaseEvent, InvoiceFilter, NewAllocation, NewPaylink, NewPayment,
    OpenInvoice, PaylinkEvent, PaylinkRow, PaylinkScope, PaylinkStatus, Store, StoreError,
};

pub use incasso_mollie as mollie;
use incasso_mollie::{NewLink, PaymentProvider, PaymentStatus, ProviderError};

/// What a link is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A case's open total.
    Case(i64),
    /// One invoice, by number.
    Invoice(String),
}

/// Settings of new links.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkOptions {
    /// The public base URL the provider calls back on (`https://incasso.example.nl`); the
    /// webhook is `<base>/webhooks/mollie?link=<id>`. Without it the link has no webhook and
    /// must be polled (`incasso payments link sync`).
    pub webhook_base_url: Option<String>,
    /// Where the debtor lands after paying.
    pub redirect_url: Option<String>,
    /// ISO 8601 expiry (`2026-12-31T23:59:59+01:00`).
    pub expires_at: Option<String>,
}

/// The result of [`create_link`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub link: PaylinkRow,
    /// True when an open link for the same claims and amount existed and was returned.
    pub existing: bool,
    /// Older open links for the same claims (another amount) that this one replaced.
    pub superseded: Vec<i64>,
}

/// What the claims of a target add up to.
struct Claims {
    scope: PaylinkScope,
    debtor: DebtorId,
    invoices: Vec<(InvoiceId, String)>,
    total: Money,
}

fn claims_of(
    store: &mut dyn Store,
    tenant: CreditorId,
    target: &Target,
    today: Date,
) -> anyhow::Result<Claims> {
    let (scope, debtor, only, overdue_as_of) = match target {
        Target::Case(id) => {
            let case = store
                .case(tenant, *id)
                .map_err(|e| anyhow!("case {id}: {e}"))?;
            if case.closed_on.is_some() {
                bail!("case {id} is closed ({}): nothing to pay", case.state);
            }
            (PaylinkScope::Case(*id), case.debtor_id, None, Some(today))
        }
        Target::Invoice(number) => {
            let inv = store
                .invoice_by_number(tenant, number)
                .map_err(|e| anyhow!("invoice {number}: {e}"))?;
            (
                PaylinkScope::Invoice(inv.id),
                inv.debtor_id,
                Some(inv.id),
                None,
            )
        }
    };
    let mut rows = Vec::new();
    store.for_each_invoice(
        tenant,
        &InvoiceFilter {
            debtor: Some(debtor),
            overdue_as_of,
            ..InvoiceFilter::default()
        },
        &mut |r| {
            if only.is_none_or(|id| id == r.id) && r.defect.is_none() && r.open_amount.is_positive()
            {
                rows.push(r);
            }
            Ok(())
        },
    )?;
    let Some(first) = rows.first() else {
        bail!(
            "{}: nothing open to pay",
            match target {
                Target::Case(id) => format!("case {id}"),
                Target::Invoice(n) => format!("invoice {n}"),
            }
        );
    };
    let currency = first.open_amount.currency();
    let mut total = Money::zero(currency);
    for r in &rows {
        if r.open_amount.currency() != currency {
            bail!(
                "the open claims are in several currencies ({} and {}): make a link per invoice",
                currency.code(),
                r.open_amount.currency().code()
            );
        }
        total = total.checked_add(r.open_amount)?;
    }
    Ok(Claims {
        scope,
        debtor,
        invoices: rows.iter().map(|r| (r.id, r.number.clone())).collect(),
        total,
    })
}

/// The text the debtor sees on the payment page and their statement (Dutch).
fn description(claims: &Claims) -> String {
    let numbers: Vec<&str> = claims.invoices.iter().map(|(_, n)| n.as_str()).collect();
    let mut text = match claims.scope {
        PaylinkScope::Invoice(_) => format!("Factuur {}", numbers.join(", ")),
        PaylinkScope::Case(id) => format!("Dossier {id}: facturen {}", numbers.join(", ")),
    };
    if text.chars().count() > 250 {
        text = text.chars().take(249).collect::<String>() + "…";
    }
    text
}

/// The header value sent to the provider for a link: unique per tenant and link.
fn provider_key(tenant: CreditorId, row: &PaylinkRow) -> String {
    format!("incasso-{}-{}", tenant.get(), row.link.idempotency_key)
}

fn webhook_url(row: &PaylinkRow) -> Option<String> {
    row.link.webhook_base_url.as_ref().map(|b| {
        format!(
            "{}/webhooks/mollie?link={}",
            b.trim_end_matches('/'),
            row.id
        )
    })
}

/// Creates (or returns, or resumes) the payment link for a case's open total or one invoice.
/// `options` apply to a new link; a pending one is asked for again with the options it was
/// recorded with.
pub fn create_link(
    store: &mut dyn Store,
    provider: &dyn PaymentProvider,
    tenant: CreditorId,
    target: &Target,
    options: &LinkOptions,
    today: Date,
) -> anyhow::Result<Created> {
    let claims = claims_of(store, tenant, target, today)?;
    let same_scope: Vec<PaylinkRow> = store
        .paylinks(tenant)?
        .into_iter()
        .filter(|r| r.link.scope == claims.scope && r.link.provider == provider.name())
        .collect();
    // A link recorded but not confirmed (a crash or timeout during the call): ask again under
    // the same key.
    if let Some(pending) = same_scope
        .iter()
        .find(|r| r.status == PaylinkStatus::Pending)
    {
        let link = call_provider(store, provider, tenant, pending.clone())?;
        return Ok(Created {
            link,
            existing: false,
            superseded: Vec::new(),
        });
    }
    if let Some(open) = same_scope
        .iter()
        .find(|r| r.status == PaylinkStatus::Open && r.link.amount == claims.total)
    {
        return Ok(Created {
            link: open.clone(),
            existing: true,
            superseded: Vec::new(),
        });
    }
    let sequence = same_scope.len() + 1;
    let new = NewPaylink {
        idempotency_key: format!("{}:{}#{sequence}", provider.name(), claims.scope.key()),
        scope: claims.scope,
        debtor_id: claims.debtor,
        provider: provider.name().to_string(),
        amount: claims.total,
        description: description(&claims),
        created_on: today,
        webhook_base_url: options.webhook_base_url.clone(),
        redirect_url: options.redirect_url.clone(),
        requested_expiry: options.expires_at.clone(),
    };
    let (row, new) = store.begin_paylink(tenant, &new)?;
    if !new && row.status != PaylinkStatus::Pending {
        // Another process made this very link meanwhile.
        return Ok(Created {
            link: row,
            existing: true,
            superseded: Vec::new(),
        });
    }
    let link = call_provider(store, provider, tenant, row)?;
    let mut superseded = Vec::new();
    for old in same_scope
        .iter()
        .filter(|r| r.status == PaylinkStatus::Open)
    {
        store.paylink_superseded(tenant, old.id)?;
        superseded.push(old.id);
    }
    Ok(Created {
        link,
        existing: false,
        superseded,
    })
}

/// Asks the provider for the recorded link under its idempotency key and records the answer.
/// A refusal (4xx) marks the link failed; a transport error or 5xx leaves it pending for a
/// retry.
fn call_provider(
    store: &mut dyn Store,
    provider: &dyn PaymentProvider,
    tenant: CreditorId,
    row: PaylinkRow,
) -> anyhow::Result<PaylinkRow> {
    // Exactly the recorded request: the provider refuses a reused key with other parameters.
    let request = NewLink {
        amount: row.link.amount,
        description: row.link.description.clone(),
        redirect_url: row.link.redirect_url.clone(),
        webhook_url: webhook_url(&row),
        expires_at: row.link.requested_expiry.clone(),
    };
    match provider.create_link(&request, &provider_key(tenant, &row)) {
        Ok(link) => {
            if link.amount != row.link.amount {
                bail!(
                    "{} made link {} for {} instead of {}: not recorded",
                    provider.name(),
                    link.id,
                    link.amount.to_decimal_string(),
                    row.link.amount.to_decimal_string()
                );
            }
            store.paylink_opened(
                tenant,
                row.id,
                &link.id,
                &link.url,
                link.expires_at.as_deref(),
            )?;
            Ok(store.paylink(tenant, row.id)?)
        }
        Err(e @ ProviderError::Api { status, .. })
            if (400..500).contains(&status) && status != 429 =>
        {
            store.paylink_failed(tenant, row.id, &e.to_string())?;
            Err(anyhow!("payment link {} refused: {e}", row.id))
        }
        Err(e) => Err(anyhow!(
            "payment link {}: {e}; it stays pending and the next attempt asks again under the same idempotency key",
            row.id
        )),
    }
}

/// Why a webhook call was not processed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The call itself is malformed (no id, an id that is no provider id): answer 400; nothing
    /// changed.
    #[error("{0}")]
    BadRequest(String),
    /// The provider could not be asked, or storing failed: answer 5xx so the provider retries.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// What a webhook call (or a poll) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookOutcome {
    pub object_id: String,
    /// The status the provider reported (`paid`, `open`, `expired`, ...; `unknown` when the
    /// provider or this tenant does not know the object).
    pub status: String,
    /// The link it concerns.
    pub link: Option<i64>,
    /// Whether this event (object, status) was new.
    pub new_event: bool,
    /// Set when the link was settled now (false when it had been settled before).
    pub settled: Option<Settlement>,
}

/// A settled link: the payment and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub link: i64,
    pub payment: PaymentId,
    /// False when an earlier call (or a crashed attempt) had recorded the payment already.
    pub recorded_now: bool,
    pub allocated: Money,
    /// The part no claim absorbed (the debtor's credit balance).
    pub unapplied: Money,
    pub actions_cancelled: u64,
    pub cases_closed: Vec<i64>,
}

fn not_found(e: &ProviderError) -> bool {
    matches!(e.status(), Some(404 | 410))
}

/// Handles a webhook call naming `id`: fetches the object from the provider, records the event,
/// settles the link when the provider says it is paid. `link_hint` is the `link` query
/// parameter of the webhook URL this program set; it only says where to look, the provider's
/// answer decides.
pub fn handle_webhook(
    store: &mut dyn Store,
    provider: &dyn PaymentProvider,
    tenant: CreditorId,
    id: &str,
    link_hint: Option<i64>,
    today: Date,
) -> Result<WebhookOutcome, WebhookError> {
    if !incasso_mollie::valid_id(id) || !(id.starts_with("tr_") || id.starts_with("pl_")) {
        return Err(WebhookError::BadRequest(format!(
            "id {id:?} is not a Mollie payment (tr_...) or payment link (pl_...) id"
        )));
    }
    let unknown = || WebhookOutcome {
        object_id: id.to_string(),
        status: "unknown".into(),
        link: None,
        new_event: false,
        settled: None,
    };
    if id.starts_with("pl_") {
        let link = match provider.get_link(id) {
            Ok(l) => l,
            Err(e) if not_found(&e) => return Ok(unknown()),
            Err(e) => return Err(anyhow!("asking {} for {id}: {e}", provider.name()).into()),
        };
        let Some(row) = store
            .paylink_by_provider_id(tenant, provider.name(), id)
            .map_err(anyhow::Error::from)?
        else {
            return Ok(unknown());
        };
        let status = if link.is_paid() { "paid" } else { "open" };
        let new_event = record_event(store, provider, tenant, id, status, Some(row.id), today)?;
        let settled = if link.is_paid() {
            check_amount(&row, link.amount)?;
            settle(
                store,
                tenant,
                &row,
                None,
                paid_on(link.paid_at.as_deref(), today),
                today,
            )?
        } else {
            None
        };
        return Ok(WebhookOutcome {
            object_id: id.to_string(),
            status: status.into(),
            link: Some(row.id),
            new_event,
            settled,
        });
    }
    let payment = match provider.get_payment(id) {
        Ok(p) => p,
        Err(e) if not_found(&e) => return Ok(unknown()),
        Err(e) => return Err(anyhow!("asking {} for {id}: {e}", provider.name()).into()),
    };
    let row = match link_hint {
        Some(hint) => match store.paylink(tenant, hint) {
            Ok(r) if r.link.provider == provider.name() && r.provider_id.is_some() => Some(r),
            Ok(_) | Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(anyhow::Error::from(e).into()),
        },
        None if payment.status == PaymentStatus::Paid => {
            unpaid_link_paid_at_provider(store, provider, tenant, payment.amount)?
        }
        None => None,
    };
    let status = payment.status.code().to_string();
    let new_event = record_event(
        store,
        provider,
        tenant,
        id,
        &status,
        row.as_ref().map(|r| r.id),
        today,
    )?;
    let mut settled = None;
    if let (Some(row), PaymentStatus::Paid) = (&row, &payment.status) {
        // The payment is paid; that it paid this link is the provider's word too.
        let link_id = row.provider_id.clone().unwrap_or_default();
        let link = provider
            .get_link(&link_id)
            .map_err(|e| anyhow!("asking {} for {link_id}: {e}", provider.name()))?;
        if link.is_paid() && link.amount == payment.amount {
            check_amount(row, payment.amount)?;
            settled = settle(
                store,
                tenant,
                row,
                Some(&payment.id),
                paid_on(payment.paid_at.as_deref(), today),
                today,
            )?;
        }
    }
    Ok(WebhookOutcome {
        object_id: id.to_string(),
        status,
        link: row.map(|r| r.id),
        new_event,
        settled,
    })
}

/// Without a hint (a webhook URL set elsewhere): the first of the tenant's unsettled links for
/// this amount that the provider reports paid; at most [`MAX_UNHINTED_LOOKUPS`] are asked.
fn unpaid_link_paid_at_provider(
    store: &mut dyn Store,
    provider: &dyn PaymentProvider,
    tenant: CreditorId,
    amount: Money,
) -> Result<Option<PaylinkRow>, WebhookError> {
    let candidates: Vec<PaylinkRow> = store
        .paylinks(tenant)
        .map_err(anyhow::Error::from)?
        .into_iter()
        .filter(|r| {
            matches!(r.status, PaylinkStatus::Open | PaylinkStatus::Superseded)
                && r.link.provider == provider.name()
                && r.link.amount == amount
                && r.provider_id.is_some()
        })
        .take(MAX_UNHINTED_LOOKUPS)
        .collect();
    for row in candidates {
        let id = row.provider_id.clone().unwrap_or_default();
        let link = provider
            .get_link(&id)
            .map_err(|e| anyhow!("asking {} for {id}: {e}", provider.name()))?;
        if link.is_paid() {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

/// How many links a webhook without a link hint may ask the provider about.
const MAX_UNHINTED_LOOKUPS: usize = 20;

/// Polls the provider for one link (`incasso payments link sync`): a pending link is asked for
/// again under its key; an open one is settled when the provider says it is paid.
pub fn sync_link(
    store: &mut dyn Store,
    provider: &dyn PaymentProvider,
    tenant: CreditorId,
    link: i64,
    today: Date,
) -> anyhow::Result<(PaylinkRow, Option<Settlement>)> {
    let row = store.paylink(tenant, link)?;
    match row.status {
        PaylinkStatus::Pending => {
            let row = call_provider(store, provider, tenant, row)?;
            Ok((row, None))
        }
        PaylinkStatus::Failed => bail!(
            "payment link {link} was refused by {}: {}",
            row.link.provider,
            row.error.as_deref().unwrap_or("no reason kept")
        ),
        PaylinkStatus::Paid | PaylinkStatus::Open | PaylinkStatus::Superseded => {
            let provider_id = row
                .provider_id
                .clone()
                .ok_or_else(|| anyhow!("payment link {link} has no provider id"))?;
            let outcome = handle_webhook(store, provider, tenant, &provider_id, None, today)
                .map_err(|e| anyhow!("{e}"))?;
            Ok((store.paylink(tenant, link)?, outcome.settled))
        }
    }
}

fn paid_on(paid_at: Option<&str>, today: Date) -> Date {
    paid_at
        .and_then(|t| t.get(..10))
        .and_then(|d| incasso_calendar::parse_iso(d).ok())
        .unwrap_or(today)
}

fn check_amount(row: &PaylinkRow, paid: Money) -> Result<(), WebhookError> {
    if paid != row.link.amount {
        return Err(anyhow!(
            "payment link {}: the provider reports {} {} paid, the link is for {}",
            row.id,
            paid.currency().code(),
            paid.to_decimal_string(),
            row.link.amount.to_decimal_string()
        )
        .into());
    }
    Ok(())
}

fn record_event(
    store: &mut dyn Store,
    provider: &dyn PaymentProvider,
    tenant: CreditorId,
    id: &str,
    status: &str,
    link: Option<i64>,
    today: Date,
) -> Result<bool, WebhookError> {
    Ok(store
        .record_paylink_event(
            tenant,
            &PaylinkEvent {
                provider: provider.name().to_string(),
                object_id: id.to_string(),
                status: status.to_string(),
                paylink_id: link,
                received_on: today,
                note: String::new(),
            },
        )
        .map_err(anyhow::Error::from)?)
}

/// Records the link's payment and allocates it, once. Returns `None` when the link had been
/// settled completely before.
fn settle(
    store: &mut dyn Store,
    tenant: CreditorId,
    row: &PaylinkRow,
    provider_payment_id: Option<&str>,
    paid_on: Date,
    today: Date,
) -> anyhow::Result<Option<Settlement>> {
    if row.status == PaylinkStatus::Paid {
        return Ok(None);
    }
    let link_id = row
        .provider_id
        .clone()
        .ok_or_else(|| anyhow!("payment link {} has no provider id", row.id))?;
    let source = format!("{}:{link_id}", row.link.provider);
    let mut settlement = Settlement {
        link: row.id,
        payment: PaymentId::new(0),
        recorded_now: false,
        allocated: Money::zero(row.link.amount.currency()),
        unapplied: Money::zero(row.link.amount.currency()),
        actions_cancelled: 0,
        cases_closed: Vec::new(),
    };
    let existing = store.payment_by_source(tenant, &source)?;
    let payment = match existing {
        Some(p) => p,
        None => {
            let mut recorded = None;
            let result = store.bank_transaction(tenant, None, &mut |sink| {
                let (payment, allocated, unapplied, cancelled) = record_and_allocate(
                    sink,
                    row,
                    &source,
                    &link_id,
                    provider_payment_id,
                    paid_on,
                    today,
                )?;
                recorded = Some(payment);
                settlement.allocated = allocated;
                settlement.unapplied = unapplied;
                settlement.actions_cancelled = cancelled;
                Ok(true)
            });
            match result {
                Ok(_) => {
                    settlement.recorded_now = true;
                    recorded.ok_or_else(|| anyhow!("payment link {}: nothing recorded", row.id))?
                }
                // Another process recorded it first (the unique source): use theirs.
                Err(StoreError::Conflict(_)) => {
                    store.payment_by_source(tenant, &source)?.ok_or_else(|| {
                        anyhow!(
                            "payment link {}: the payment conflicts but is not there",
                            row.id
                        )
                    })?
                }
                Err(e) => {
                    return Err(e)
                        .context(format!("payment link {}: recording the payment", row.id));
                }
            }
        }
    };
    settlement.payment = payment;
    store.paylink_paid(tenant, row.id, payment, provider_payment_id, paid_on)?;
    settlement.cases_closed = close_paid_cases(store, tenant, row.link.debtor_id, &link_id, today)?;
    Ok(Some(settlement))
}

/// Inside the bank transaction: the payment, its allocation and the reminders it stops.
fn record_and_allocate(
    sink: &mut dyn BankSink,
    row: &PaylinkRow,
    source: &str,
    link_id: &str,
    provider_payment_id: Option<&str>,
    paid_on: Date,
    today: Date,
) -> anyhow::Result<(PaymentId, Money, Money, u64)> {
    let debtor = row.link.debtor_id;
    let amount = row.link.amount;
    let payment = sink.record_payment(&NewPayment {
        debtor_id: Some(debtor),
        received_on: paid_on,
        amount,
        reference: Some(provider_payment_id.unwrap_or(link_id).to_string()),
        counterparty_iban: None,
        description: Some(format!("{}: {}", row.link.provider, row.link.description)),
        source: source.to_string(),
        reverses: None,
    })?;
    let open: Vec<OpenInvoice> = sink
        .open_invoices()?
        .into_iter()
        .filter(|i| i.debtor_id == debtor)
        .collect();
    let designated: Vec<usize> = match row.link.scope {
        PaylinkScope::Invoice(id) => open.iter().position(|i| i.id == id).into_iter().collect(),
        PaylinkScope::Case(_) => open
            .iter()
            .enumerate()
            .filter(|(_, i)| i.due.is_some_and(|d| d < row.link.created_on))
            .map(|(n, _)| n)
            .collect(),
    };
    let (allocations, unapplied) = allocate(&open, &designated, amount, paid_on, payment)?;
    sink.record_allocations(&allocations)?;
    let allocated = amount.checked_sub(unapplied)?;
    let mut cancelled = 0;
    if !sink.has_open_overdue(debtor, today)? {
        cancelled = sink.cancel_pending(
            debtor,
            &format!("paid in full (payment link {link_id})"),
            today,
        )?;
    }
    Ok((payment, allocated, unapplied, cancelled))
}

/// Closes the debtor's open cases as paid when nothing of theirs is overdue any more, with the
/// same change and event as the daily run's closing of paid cases.
fn close_paid_cases(
    store: &mut dyn Store,
    tenant: CreditorId,
    debtor: DebtorId,
    link_id: &str,
    today: Date,
) -> anyhow::Result<Vec<i64>> {
    let mut overdue = false;
    store.bank_transaction(tenant, None, &mut |sink| {
        overdue = sink.has_open_overdue(debtor, today)?;
        Ok(false)
    })?;
    if overdue {
        return Ok(Vec::new());
    }
    let mut closed = Vec::new();
    for case in store.cases(tenant, true)? {
        if case.debtor_id != debtor || case.closed_on.is_some() {
            continue;
        }
        store.change_case(
            tenant,
            case.id,
            &CaseChange {
                state: Some(CaseState::Paid.code().to_string()),
                closed_on: Some(today),
                ..CaseChange::default()
            },
            &CaseEvent {
                on: today,
                kind: "closed".into(),
                text: format!("paid: no open overdue claims (payment link {link_id})"),
            },
        )?;
        closed.push(case.id);
    }
    Ok(closed)
}

/// Allocates `amount` to the debtor's open claims: the designated invoices first (art. 6:43
/// lid 1 BW), then the others in statutory order; within each claim costs, interest, principal
/// (art. 6:44 BW), through the same step as a bank payment.
fn allocate(
    invoices: &[OpenInvoice],
    designated: &[usize],
    amount: Money,
    on: Date,
    payment: PaymentId,
) -> anyhow::Result<(Vec<NewAllocation>, Money)> {
    let currency: Currency = amount.currency();
    let usable = |i: &usize| {
        invoices
            .get(*i)
            .is_some_and(|inv| inv.open.is_positive() && inv.open.currency() == currency)
    };
    let claims: Vec<usize> = (0..invoices.len()).filter(usable).collect();
    let first: Vec<usize> = designated
        .iter()
        .copied()
        .filter(|i| claims.contains(i))
        .collect();
    let rest: Vec<usize> = claims
        .iter()
        .copied()
        .filter(|i| !first.contains(i))
        .collect();
    let claim = |i: &usize| {
        invoices
            .get(*i)
            .map(|inv| (inv.id, inv.open, inv.due))
            .ok_or_else(|| anyhow!("invoice index out of range"))
    };
    let first = first
        .iter()
        .map(claim)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let rest = rest.iter().map(claim).collect::<anyhow::Result<Vec<_>>>()?;
    crate::bank::allocation::allocate_in_order([&first, &rest], amount, on, payment)
}
