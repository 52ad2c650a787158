//! [`MollieClient`]: the Mollie API v2 over HTTPS, blocking.
//!
//! Requests, as documented (docs.mollie.com, Payment links API and Payments API):
//! - `POST /v2/payment-links` with `Authorization: Bearer <key>`, `Content-Type:
//!   application/json`, `Idempotency-Key: <key>` and a JSON body with `amount` (`currency`,
//!   `value` as a string with the currency's decimals), `description`, and optionally
//!   `redirectUrl`, `webhookUrl`, `expiresAt`; answered `201` with the payment link object.
//! - `GET /v2/payment-links/{id}` and `GET /v2/payments/{id}`; answered `200`.
//! - Errors come as `application/hal+json` with `status`, `title`, `detail` and sometimes
//!   `field`; they become [`ProviderError::Api`].

use std::time::Duration;

use serde_json::{Value, json};

use crate::{Link, NewLink, Payment, PaymentProvider, PaymentStatus, ProviderError, amount};

/// Where the live API lives.
pub const DEFAULT_BASE_URL: &str = "https://api.mollie.com";

const PROVIDER: &str = "mollie";

/// Answers larger than this are refused (a payment link object is about 1 KB).
const MAX_BODY_BYTES: u64 = 1 << 20;

/// A Mollie API key (`live_...` or `test_...`). A secret: it is sent only in the
/// `Authorization` header, and its `Debug` output shows only the mode.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// Accepts a key of the documented form: `live_` or `test_` followed by at least 20
    /// letters and digits. Leading and trailing white space (a key read from a file) is dropped.
    /// The error names the problem, never the key.
    pub fn parse(text: &str) -> Result<ApiKey, String> {
        let t = text.trim();
        let Some(rest) = t.strip_prefix("live_").or_else(|| t.strip_prefix("test_")) else {
            return Err("a Mollie API key starts with live_ or test_".into());
        };
        if rest.len() < 20 || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(
                "a Mollie API key is live_ or test_ followed by at least 20 letters and digits"
                    .into(),
            );
        }
        Ok(ApiKey(t.to_string()))
    }

    /// `live` or `test`.
    pub fn mode(&self) -> &'static str {
        if self.0.starts_with("live_") {
            "live"
        } else {
            "test"
        }
    }

    fn header(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({}_<redacted>)", self.mode())
    }
}

/// The Mollie client.
pub struct MollieClient {
    base_url: String,
    key: ApiKey,
    agent: ureq::Agent,
}

impl std::fmt::Debug for MollieClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MollieClient")
            .field("base_url", &self.base_url)
            .field("key", &self.key)
            .finish()
    }
}

impl MollieClient {
    /// A client for the live API (`https://api.mollie.com`).
    pub fn new(key: ApiKey) -> MollieClient {
        MollieClient::with_base_url(key, DEFAULT_BASE_URL)
    }

    /// A client for another base URL (a local test server); a trailing `/` is dropped.
    pub fn with_base_url(key: ApiKey, base_url: &str) -> MollieClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .user_agent(concat!("incasso/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        MollieClient {
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
            agent,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn transport(&self, url: &str, e: &ureq::Error) -> ProviderError {
        ProviderError::Transport {
            provider: PROVIDER,
            url: url.to_string(),
            message: e.to_string(),
        }
    }

    /// Reads an answer: the JSON object on `expected`, a [`ProviderError::Api`] otherwise.
    fn answer(
        &self,
        url: &str,
        mut response: ureq::http::Response<ureq::Body>,
        expected: u16,
    ) -> Result<Value, ProviderError> {
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_string()
            .map_err(|e| self.transport(url, &e))?;
        let parsed: Result<Value, _> = serde_json::from_str(&text);
        if status == expected {
            return parsed.map_err(|e| ProviderError::InvalidResponse {
                provider: PROVIDER,
                what: format!("{url}: the body is not JSON ({e})"),
            });
        }
        let body = parsed.unwrap_or(Value::Null);
        let text_of = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        Err(ProviderError::Api {
            provider: PROVIDER,
            status,
            title: text_of("title").unwrap_or_else(|| {
                response
                    .status()
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_string()
            }),
            detail: text_of("detail").unwrap_or_else(|| "no detail given".into()),
            field: text_of("field"),
        })
    }

    fn get(&self, path: &str) -> Result<Value, ProviderError> {
        let url = self.url(path);
        let response = self
            .agent
            .get(&url)
            .header("Authorization", &self.key.header())
            .header("Accept", "application/hal+json")
            .call()
            .map_err(|e| self.transport(&url, &e))?;
        self.answer(&url, response, 200)
    }
}

fn invalid(what: impl Into<String>) -> ProviderError {
    ProviderError::InvalidResponse {
        provider: PROVIDER,
        what: what.into(),
    }
}

fn str_field(v: &Value, key: &str, what: &str) -> Result<String, ProviderError> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| invalid(format!("{what}: {key} is missing or not a string")))
}

fn opt_str(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Reads a payment link object (resource `payment-link`).
pub(crate) fn link_from_json(v: &Value) -> Result<Link, ProviderError> {
    let what = "payment link";
    let resource = str_field(v, "resource", what)?;
    if resource != "payment-link" {
        return Err(invalid(format!(
            "{what}: resource is {resource:?}, expected \"payment-link\""
        )));
    }
    let id = str_field(v, "id", what)?;
    if !crate::valid_id(&id) {
        return Err(invalid(format!("{what}: id {id:?} is not an id")));
    }
    let amount = v
        .get("amount")
        .ok_or_else(|| invalid(format!("{what} {id}: amount is missing")))
        .and_then(|a| {
            amount::from_json(a, "amount").map_err(|e| invalid(format!("{what} {id}: {e}")))
        })?;
    let url = v
        .pointer("/_links/paymentLink/href")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| invalid(format!("{what} {id}: _links.paymentLink.href is missing")))?;
    Ok(Link {
        id,
        url,
        amount,
        description: str_field(v, "description", what)?,
        mode: opt_str(v, "mode").unwrap_or_default(),
        created_at: opt_str(v, "createdAt"),
        paid_at: opt_str(v, "paidAt"),
        expires_at: opt_str(v, "expiresAt"),
    })
}

/// Reads a payment object (resource `payment`).
pub(crate) fn payment_from_json(v: &Value) -> Result<Payment, ProviderError> {
    let what = "payment";
    let resource = str_field(v, "resource", what)?;
    if resource != "payment" {
        return Err(invalid(format!(
            "{what}: resource is {resource:?}, expected \"payment\""
        )));
    }
    let id = str_field(v, "id", what)?;
    if !crate::valid_id(&id) {
        return Err(invalid(format!("{what}: id {id:?} is not an id")));
    }
    let amount = v
        .get("amount")
        .ok_or_else(|| invalid(format!("{what} {id}: amount is missing")))
        .and_then(|a| {
            amount::from_json(a, "amount").map_err(|e| invalid(format!("{what} {id}: {e}")))
        })?;
    Ok(Payment {
        status: PaymentStatus::parse(&str_field(v, "status", what)?),
        amount,
        description: opt_str(v, "description").unwrap_or_default(),
        paid_at: opt_str(v, "paidAt"),
        id,
    })
}

/// The JSON body of a create-payment-link request.
pub(crate) fn create_body(link: &NewLink) -> Value {
    let mut body = json!({
        "amount": amount::to_json(link.amount),
        "description": link.description,
    });
    if let Some(map) = body.as_object_mut() {
        if let Some(u) = &link.redirect_url {
            map.insert("redirectUrl".into(), json!(u));
        }
        if let Some(u) = &link.webhook_url {
            map.insert("webhookUrl".into(), json!(u));
        }
        if let Some(t) = &link.expires_at {
            map.insert("expiresAt".into(), json!(t));
        }
    }
    body
}

impl PaymentProvider for MollieClient {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn create_link(&self, link: &NewLink, idempotency_key: &str) -> Result<Link, ProviderError> {
        if !link.amount.is_positive() {
            return Err(ProviderError::InvalidRequest(format!(
                "a payment link needs a positive amount, not {}",
                amount::to_value(link.amount)
            )));
        }
        if idempotency_key.is_empty()
            || idempotency_key.len() > 128
            || !idempotency_key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ProviderError::InvalidRequest(
                "the idempotency key must be 1 to 128 printable ASCII characters".into(),
            ));
        }
        let url = self.url("/v2/payment-links");
        let body = create_body(link).to_string();
        let response = self
            .agent
            .post(&url)
            .header("Authorization", &self.key.header())
            .header("Content-Type", "application/json")
            .header("Accept", "application/hal+json")
            .header("Idempotency-Key", idempotency_key)
            .send(body.as_bytes())
            .map_err(|e| self.transport(&url, &e))?;
        let v = self.answer(&url, response, 201)?;
        link_from_json(&v)
    }

    fn get_link(&self, id: &str) -> Result<Link, ProviderError> {
        if !crate::valid_id(id) || !id.starts_with("pl_") {
            return Err(ProviderError::InvalidRequest(format!(
                "{id:?} is not a Mollie payment link id (pl_...)"
            )));
        }
        link_from_json(&self.get(&format!("/v2/payment-links/{id}"))?)
    }

    fn get_payment(&self, id: &str) -> Result<Payment, ProviderError> {
        if !crate::valid_id(id) || !id.starts_with("tr_") {
            return Err(ProviderError::InvalidRequest(format!(
                "{id:?} is not a Mollie payment id (tr_...)"
            )));
        }
        payment_from_json(&self.get(&format!("/v2/payments/{id}"))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use incasso_money::Money;

    #[test]
    fn keys_are_checked_and_never_printed() {
        let key = ApiKey::parse(" test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM\n").expect("valid");
        assert_eq!(key.mode(), "test");
        let shown = format!("{key:?}");
        assert!(!shown.contains("dHar4XY7"), "{shown}");
        let client = MollieClient::new(key);
        let shown = format!("{client:?}");
        assert!(!shown.contains("dHar4XY7"), "{shown}");
        for bad in [
            "",
            "dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",
            "test_short",
            "live_dHar4XY7 LxsDOtmnkVtjNVWXLSlXsM",
        ] {
            let e = ApiKey::parse(bad).expect_err("refused");
            assert!(!e.contains("dHar4XY7"), "{e}");
        }
    }

    #[test]
    fn the_create_body_has_the_documented_fields() {
        let body = create_body(&NewLink {
            amount: Money::eur_cents(2495),
            description: "Bicycle tires".into(),
            redirect_url: Some("https://webshop.example.org/thanks".into()),
            webhook_url: None,
            expires_at: Some("2021-06-06T11:00:00+00:00".into()),
        });
        assert_eq!(
            body,
            json!({
                "amount": {"currency": "EUR", "value": "24.95"},
                "description": "Bicycle tires",
                "redirectUrl": "https://webshop.example.org/thanks",
                "expiresAt": "2021-06-06T11:00:00+00:00",
            })
        );
    }
}
