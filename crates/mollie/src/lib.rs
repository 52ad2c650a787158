//! The Mollie client: payment links API and webhook handling, written against Mollie's published API v2 (issue #6).
//!
//! - [`PaymentProvider`] is the interface the use cases call: create a payment link (with an
//!   idempotency key), read a link, read a payment. [`MollieClient`] implements it over HTTPS
//!   (`ureq` on rustls with the ring provider) against `https://api.mollie.com` or any base URL
//!   (tests point it at a local server that checks the documented request shapes).
//! - Amounts cross the wire as Mollie's amount object, `{"currency": "EUR", "value": "12.34"}`:
//!   [`amount::to_value`] writes exactly the currency's decimals from integer minor units, and
//!   [`amount::parse`] reads them back exactly, refusing anything else.
//! - The API key is a secret ([`ApiKey`]): it is sent only in the `Authorization` header and
//!   never appears in `Debug` output, errors or logs.
//! - A webhook call carries only an id (`id=tr_...` form-encoded); [`wire`] reads such a request,
//!   and the receiver must fetch the object from Mollie to learn its status.

pub mod amount;
mod client;
pub mod wire;

pub use client::{ApiKey, DEFAULT_BASE_URL, MollieClient};

use incasso_money::Money;

/// What went wrong talking to a payment provider. Never contains the API key.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered with an error status (Mollie: `application/hal+json` with status,
    /// title, detail and sometimes the offending field).
    #[error("{provider} answered {status} {title}: {detail}{}", field.as_ref().map(|f| format!(" (field {f})")).unwrap_or_default())]
    Api {
        provider: &'static str,
        status: u16,
        title: String,
        detail: String,
        field: Option<String>,
    },
    /// The provider could not be reached or the connection broke.
    #[error("{provider} could not be reached at {url}: {message}")]
    Transport {
        provider: &'static str,
        url: String,
        message: String,
    },
    /// The provider's answer is not what its documentation describes.
    #[error("{provider} sent an answer that cannot be read: {what}")]
    InvalidResponse {
        provider: &'static str,
        what: String,
    },
    /// The request cannot be sent as given (an id with characters no provider id has, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl ProviderError {
    /// The HTTP status of an error answer, if it was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ProviderError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A payment link to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub amount: Money,
    /// Shown to the debtor and on their bank or card statement.
    pub description: String,
    /// Where the debtor lands after paying.
    pub redirect_url: Option<String>,
    /// Where the provider calls when something happens to the link's payment.
    pub webhook_url: Option<String>,
    /// ISO 8601 date and time (`2026-12-24T12:00:00+01:00`).
    pub expires_at: Option<String>,
}

/// A payment link as the provider knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The provider's id (`pl_...`).
    pub id: String,
    /// The page the debtor opens to pay (`_links.paymentLink.href`).
    pub url: String,
    pub amount: Money,
    pub description: String,
    /// `live` or `test`.
    pub mode: String,
    pub created_at: Option<String>,
    /// Set once the link was paid.
    pub paid_at: Option<String>,
    pub expires_at: Option<String>,
}

impl Link {
    pub fn is_paid(&self) -> bool {
        self.paid_at.is_some()
    }
}

/// The status of a payment at the provider (Mollie's payment statuses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStatus {
    Open,
    Pending,
    Authorized,
    Paid,
    Canceled,
    Expired,
    Failed,
    /// A status this client does not know: treated as not paid.
    Other(String),
}

impl PaymentStatus {
    pub fn parse(s: &str) -> PaymentStatus {
        match s {
            "open" => PaymentStatus::Open,
            "pending" => PaymentStatus::Pending,
            "authorized" => PaymentStatus::Authorized,
            "paid" => PaymentStatus::Paid,
            "canceled" => PaymentStatus::Canceled,
            "expired" => PaymentStatus::Expired,
            "failed" => PaymentStatus::Failed,
            other => PaymentStatus::Other(other.to_string()),
        }
    }

    pub fn code(&self) -> &str {
        match self {
            PaymentStatus::Open => "open",
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Canceled => "canceled",
            PaymentStatus::Expired => "expired",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Other(s) => s,
        }
    }
}

/// A payment as the provider knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The provider's id (`tr_...`).
    pub id: String,
    pub status: PaymentStatus,
    pub amount: Money,
    pub description: String,
    pub paid_at: Option<String>,
}

/// A payment provider that can make payment links and tell what became of them.
pub trait PaymentProvider {
    /// `mollie`.
    fn name(&self) -> &'static str;

    /// Creates a payment link. The same `idempotency_key` again (within the provider's window,
    /// 24 hours at Mollie) returns the link created the first time instead of a second one.
    fn create_link(&self, link: &NewLink, idempotency_key: &str) -> Result<Link, ProviderError>;

    /// Reads a payment link by the provider's id.
    fn get_link(&self, id: &str) -> Result<Link, ProviderError>;

    /// Reads a payment by the provider's id.
    fn get_payment(&self, id: &str) -> Result<Payment, ProviderError>;
}

/// Whether `id` looks like a provider object id: ASCII letters, digits and `_`, 1 to 64
/// characters. Ids are put into URL paths, so anything else is refused before a request is made.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
