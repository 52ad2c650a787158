//! Storage of payment links at a payment provider (Mollie) and the webhook events that settle them (issue #6).
//!
//! A link is recorded (status `pending`, with its idempotency key) before the provider is
//! called, so a retry after a crash asks the provider again under the same key instead of making
//! a second link. The provider's answer moves it to `open`; a payment settles it (`paid`, with
//! the payment it produced). Webhook events are recorded once per (provider, object, status).
//!
//! The payment a link produced is an ordinary payment with source `<provider>:<link id>`; both
//! backends hold a unique index on such sources (migration 0007), so a link can never be
//! recorded as paid twice, whatever order crashes and retries come in.

use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId, InvoiceId, PaymentId};
use incasso_money::Money;

use crate::StoreResult;

/// The status of a payment link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaylinkStatus {
    /// Recorded; the provider has not (yet) confirmed the link.
    Pending,
    /// The provider made the link; it can be paid.
    Open,
    /// Paid: the payment is recorded and allocated.
    Paid,
    /// The provider refused to make it (the reason is kept).
    Failed,
    /// A newer link for the same claims replaced it (a payment on it still counts).
    Superseded,
}

impl PaylinkStatus {
    pub fn code(self) -> &'static str {
        match self {
            PaylinkStatus::Pending => "pending",
            PaylinkStatus::Open => "open",
            PaylinkStatus::Paid => "paid",
            PaylinkStatus::Failed => "failed",
            PaylinkStatus::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<PaylinkStatus> {
        match s {
            "pending" => Some(PaylinkStatus::Pending),
            "open" => Some(PaylinkStatus::Open),
            "paid" => Some(PaylinkStatus::Paid),
            "failed" => Some(PaylinkStatus::Failed),
            "superseded" => Some(PaylinkStatus::Superseded),
            _ => None,
        }
    }
}

/// What a link is for: a case's open total or one invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaylinkScope {
    Case(i64),
    Invoice(InvoiceId),
}

impl PaylinkScope {
    /// `case:7` or `invoice:12`.
    pub fn key(self) -> String {
        match self {
            PaylinkScope::Case(c) => format!("case:{c}"),
            PaylinkScope::Invoice(i) => format!("invoice:{}", i.get()),
        }
    }
}

/// A link to record before the provider is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPaylink {
    /// Unique per tenant: the same key again returns the existing link.
    pub idempotency_key: String,
    pub scope: PaylinkScope,
    pub debtor_id: DebtorId,
    /// `mollie`.
    pub provider: String,
    pub amount: Money,
    pub description: String,
    pub created_on: Date,
    /// The request options, kept so that a retry sends the very same request (Mollie answers
    /// 400 to a reused idempotency key with other parameters): the public base URL of the
    /// webhook, the landing page, and the requested expiry (ISO 8601).
    pub webhook_base_url: Option<String>,
    pub redirect_url: Option<String>,
    pub requested_expiry: Option<String>,
}

/// A stored link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaylinkRow {
    pub id: i64,
    pub link: NewPaylink,
    pub status: PaylinkStatus,
    /// The provider's id (`pl_...`), once it answered.
    pub provider_id: Option<String>,
    /// The page the debtor pays on.
    pub url: Option<String>,
    pub expires_at: Option<String>,
    /// The provider's payment (`tr_...`) that paid it.
    pub provider_payment_id: Option<String>,
    /// The payment recorded for it.
    pub payment_id: Option<PaymentId>,
    pub paid_on: Option<Date>,
    /// Why the provider refused it (status `failed`).
    pub error: Option<String>,
}

/// One webhook call (or poll) and what the provider said when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaylinkEvent {
    pub provider: String,
    /// The id the webhook named (`tr_...` or `pl_...`).
    pub object_id: String,
    /// The status the provider reported when fetched (`paid`, `open`, `expired`, ...).
    pub status: String,
    /// The link it concerns, when known.
    pub paylink_id: Option<i64>,
    pub received_on: Date,
    pub note: String,
}

/// Payment-link storage; every method is tenant-scoped.
pub trait PaylinkStore {
    /// Records a link (status `pending`) unless its idempotency key exists. Returns the stored
    /// row and whether it is new.
    fn begin_paylink(
        &mut self,
        tenant: CreditorId,
        link: &NewPaylink,
    ) -> StoreResult<(PaylinkRow, bool)>;

    /// Records the provider's answer for a pending link: its id, URL and expiry; status `open`.
    fn paylink_opened(
        &mut self,
        tenant: CreditorId,
        id: i64,
        provider_id: &str,
        url: &str,
        expires_at: Option<&str>,
    ) -> StoreResult<()>;

    /// Marks a pending link `failed` with the provider's reason.
    fn paylink_failed(&mut self, tenant: CreditorId, id: i64, error: &str) -> StoreResult<()>;

    /// Marks an open link `superseded` (a newer link replaced it).
    fn paylink_superseded(&mut self, tenant: CreditorId, id: i64) -> StoreResult<()>;

    /// Marks a link `paid` by `payment`. Returns false (and changes nothing) when it was paid
    /// already.
    fn paylink_paid(
        &mut self,
        tenant: CreditorId,
        id: i64,
        payment: PaymentId,
        provider_payment_id: Option<&str>,
        paid_on: Date,
    ) -> StoreResult<bool>;

    fn paylink(&mut self, tenant: CreditorId, id: i64) -> StoreResult<PaylinkRow>;

    /// The tenant's links, oldest first.
    fn paylinks(&mut self, tenant: CreditorId) -> StoreResult<Vec<PaylinkRow>>;

    /// The link with this provider id.
    fn paylink_by_provider_id(
        &mut self,
        tenant: CreditorId,
        provider: &str,
        provider_id: &str,
    ) -> StoreResult<Option<PaylinkRow>>;

    /// Records an event unless the same (provider, object, status) was recorded before; returns
    /// whether it is new.
    fn record_paylink_event(
        &mut self,
        tenant: CreditorId,
        event: &PaylinkEvent,
    ) -> StoreResult<bool>;

    /// The tenant's events, oldest first.
    fn paylink_events(&mut self, tenant: CreditorId) -> StoreResult<Vec<PaylinkEvent>>;

    /// The payment recorded with this source (`mollie:pl_...`), if any.
    fn payment_by_source(
        &mut self,
        tenant: CreditorId,
        source: &str,
    ) -> StoreResult<Option<PaymentId>>;
}
