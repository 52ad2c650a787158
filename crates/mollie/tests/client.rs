//! The Mollie client against a local HTTP server that checks the documented request shapes
//! (method, path, `Authorization: Bearer`, `Content-Type`, `Idempotency-Key`, the JSON fields
//! and their formats) and replays the example responses of Mollie's API reference
//! (`tests/data`, sources in `tests/data/LICENSES.md`), including its error responses.

use std::io::BufReader;
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::thread;

use incasso_mollie::wire::{self, Request};
use incasso_mollie::{
    ApiKey, MollieClient, NewLink, PaymentProvider, PaymentStatus, ProviderError,
};
use incasso_money::Money;
use serde_json::Value;

const KEY: &str = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM";

fn data(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .expect("test data")
}

/// What the documentation says a request must look like; a list of violations (empty: fine).
fn check_shape(req: &Request) -> Vec<String> {
    let mut problems = Vec::new();
    if req.header("authorization") != Some(&format!("Bearer {KEY}")) {
        problems.push(format!(
            "Authorization is {:?}, expected Bearer with the key",
            req.header("authorization").map(|a| a.len())
        ));
    }
    match (req.method.as_str(), req.path()) {
        ("POST", "/v2/payment-links") => {
            if req.header("content-type") != Some("application/json") {
                problems.push(format!("Content-Type {:?}", req.header("content-type")));
            }
            if req.header("idempotency-key").is_none_or(str::is_empty) {
                problems.push("no Idempotency-Key".into());
            }
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("body is not JSON: {e}"));
                    return problems;
                }
            };
            let Some(map) = body.as_object() else {
                problems.push("body is not an object".into());
                return problems;
            };
            for k in map.keys() {
                if ![
                    "amount",
                    "description",
                    "redirectUrl",
                    "webhookUrl",
                    "expiresAt",
                ]
                .contains(&k.as_str())
                {
                    problems.push(format!("unknown field {k}"));
                }
            }
            let currency = body.pointer("/amount/currency").and_then(Value::as_str);
            if currency.is_none_or(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
                problems.push(format!("amount.currency {currency:?}"));
            }
            let value = body.pointer("/amount/value").and_then(Value::as_str);
            let two_decimals = value.is_some_and(|v| {
                v.split_once('.').is_some_and(|(w, f)| {
                    !w.is_empty()
                        && w.bytes().all(|b| b.is_ascii_digit())
                        && f.len() == 2
                        && f.bytes().all(|b| b.is_ascii_digit())
                })
            });
            if !two_decimals {
                problems.push(format!(
                    "amount.value must be a string with 2 decimals: {:?}",
                    body.pointer("/amount/value")
                ));
            }
            if !body.get("description").is_some_and(Value::is_string) {
                problems.push("description missing".into());
            }
            for k in ["redirectUrl", "webhookUrl"] {
                if let Some(u) = body.get(k)
                    && !u.as_str().is_some_and(|u| u.starts_with("http"))
                {
                    problems.push(format!("{k} is not a URL: {u}"));
                }
            }
            if let Some(t) = body.get("expiresAt") {
                // ISO 8601 with an offset: 2021-06-06T11:00:00+00:00
                let ok = t
                    .as_str()
                    .is_some_and(|t| t.len() == 25 && t.as_bytes().get(10) == Some(&b'T'));
                if !ok {
                    problems.push(format!("expiresAt {t}"));
                }
            }
        }
        ("GET", p)
            if p.starts_with("/v2/payment-links/pl_") || p.starts_with("/v2/payments/tr_") =>
        {
            if !req.body.is_empty() {
                problems.push("a GET with a body".into());
            }
        }
        (m, p) => problems.push(format!("undocumented endpoint {m} {p}")),
    }
    problems
}

/// A local server answering `responses` in order (status, body); each request is checked and
/// sent back on the channel. A request that breaks the documented shape gets a 400.
fn serve(
    responses: Vec<(u16, String)>,
) -> (String, mpsc::Receiver<Request>, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        for (status, body) in responses {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let req = wire::read_request(&mut reader).expect("request");
            let problems = check_shape(&req);
            let mut out = stream;
            if problems.is_empty() {
                wire::write_response(&mut out, status, "application/hal+json", body.as_bytes())
                    .expect("respond");
            } else {
                let detail = problems.join("; ");
                let err =
                    serde_json::json!({"status": 400, "title": "Bad Request", "detail": detail});
                wire::write_response(
                    &mut out,
                    400,
                    "application/hal+json",
                    err.to_string().as_bytes(),
                )
                .expect("respond");
            }
            tx.send(req).expect("send");
        }
    });
    (base, rx, handle)
}

fn client(base: &str) -> MollieClient {
    MollieClient::with_base_url(ApiKey::parse(KEY).expect("key"), base)
}

fn tires() -> NewLink {
    NewLink {
        amount: Money::eur_cents(2495),
        description: "Bicycle tires".into(),
        redirect_url: Some("https://webshop.example.org/thanks".into()),
        webhook_url: Some("https://webshop.example.org/payment-links/webhook/".into()),
        expires_at: Some("2021-06-06T11:00:00+00:00".into()),
    }
}

#[test]
fn create_link_sends_the_documented_request_and_reads_the_documented_answer() {
    let (base, rx, server) = serve(vec![(201, data("create-payment-link-201.json"))]);
    let link = client(&base)
        .create_link(&tires(), "incasso-1-case-7-1")
        .expect("created");
    assert_eq!(link.id, "pl_4Y0eZitmBnQ6IDoMqZQKh");
    assert_eq!(link.amount, Money::eur_cents(2495));
    assert_eq!(
        link.url,
        "https://paymentlink.mollie.com/payment/4Y0eZitmBnQ6IDoMqZQKh/"
    );
    assert_eq!(link.description, "Bicycle tires");
    assert!(!link.is_paid());
    assert_eq!(
        link.expires_at.as_deref(),
        Some("2021-06-06T11:00:00+00:00")
    );
    let req = rx.recv().expect("request");
    assert_eq!(req.header("idempotency-key"), Some("incasso-1-case-7-1"));
    let body: Value = serde_json::from_slice(&req.body).expect("json");
    assert_eq!(
        body,
        serde_json::json!({
            "amount": {"currency": "EUR", "value": "24.95"},
            "description": "Bicycle tires",
            "redirectUrl": "https://webshop.example.org/thanks",
            "webhookUrl": "https://webshop.example.org/payment-links/webhook/",
            "expiresAt": "2021-06-06T11:00:00+00:00",
        })
    );
    server.join().expect("server");
}

#[test]
fn amounts_are_sent_with_exactly_two_decimals() {
    let (base, rx, server) = serve(vec![
        (201, data("create-payment-link-201.json")),
        (201, data("create-payment-link-201.json")),
    ]);
    let c = client(&base);
    for (cents, want) in [(5i64, "0.05"), (100_000, "1000.00")] {
        let mut l = tires();
        l.amount = Money::eur_cents(cents);
        l.redirect_url = None;
        l.webhook_url = None;
        l.expires_at = None;
        c.create_link(&l, "k").expect("created");
        let req = rx.recv().expect("request");
        let body: Value = serde_json::from_slice(&req.body).expect("json");
        assert_eq!(body["amount"]["value"], want);
        assert!(
            body.get("webhookUrl").is_none(),
            "optional fields left out: {body}"
        );
    }
    server.join().expect("server");
}

#[test]
fn get_link_and_get_payment_read_the_documented_objects() {
    let (base, rx, server) = serve(vec![
        (200, data("get-payment-link-200.json")),
        (200, data("get-payment-200.json")),
    ]);
    let c = client(&base);
    let link = c.get_link("pl_4Y0eZitmBnQ6IDoMqZQKh").expect("link");
    assert!(link.is_paid());
    assert_eq!(link.paid_at.as_deref(), Some("2021-03-21T09:13:37+00:00"));
    assert_eq!(
        rx.recv().expect("req").target,
        "/v2/payment-links/pl_4Y0eZitmBnQ6IDoMqZQKh"
    );
    let payment = c.get_payment("tr_WDqYK6vllg").expect("payment");
    assert_eq!(payment.status, PaymentStatus::Open);
    assert_eq!(payment.amount, Money::eur_cents(1000));
    assert_eq!(payment.paid_at, None);
    let req = rx.recv().expect("req");
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        ("GET", "/v2/payments/tr_WDqYK6vllg")
    );
    server.join().expect("server");
}

#[test]
fn error_answers_become_clear_errors_without_the_key() {
    let (base, _rx, server) = serve(vec![
        (401, data("error-401.json")),
        (422, data("error-422.json")),
        (404, data("error-404.json")),
    ]);
    let c = client(&base);
    let e = c.create_link(&tires(), "k").expect_err("401");
    assert_eq!(e.status(), Some(401));
    let text = e.to_string();
    assert!(
        text.contains("401") && text.contains("Missing authentication, or failed to authenticate"),
        "{text}"
    );
    assert!(!text.contains("dHar4XY7"), "the key leaked: {text}");
    assert!(!format!("{e:?}").contains("dHar4XY7"));

    let e = c.create_link(&tires(), "k").expect_err("422");
    let text = e.to_string();
    assert!(
        text.contains("422")
            && text.contains("The amount is higher than the maximum")
            && text.contains("field amount"),
        "{text}"
    );
    let e = c.get_payment("tr_I_dont_exist").expect_err("404");
    assert_eq!(e.status(), Some(404));
    assert!(e.to_string().contains("No payment exists"), "{e}");
    server.join().expect("server");
}

#[test]
fn answers_that_break_the_documented_shape_are_refused() {
    let bad_value = data("get-payment-link-200.json").replace("\"24.95\"", "\"24.9\"");
    let number = data("get-payment-200.json").replace("\"10.00\"", "10.00");
    let (base, _rx, server) = serve(vec![
        (200, bad_value),
        (200, number),
        (200, "<html>".into()),
    ]);
    let c = client(&base);
    let e = c
        .get_link("pl_4Y0eZitmBnQ6IDoMqZQKh")
        .expect_err("bad value");
    assert!(e.to_string().contains("\"24.9\""), "{e}");
    let e = c.get_payment("tr_WDqYK6vllg").expect_err("number");
    assert!(e.to_string().contains("amount.value"), "{e}");
    let e = c.get_payment("tr_WDqYK6vllg").expect_err("not json");
    assert!(matches!(e, ProviderError::InvalidResponse { .. }), "{e}");
    server.join().expect("server");
}

#[test]
fn ids_that_are_not_ids_are_refused_before_any_request() {
    let c = client("http://127.0.0.1:9");
    for id in ["", "../v2/payments", "tr_a/b", "tr_a?x=1", "pl_x"] {
        assert!(c.get_payment(id).is_err(), "{id}");
    }
    assert!(c.get_link("tr_abc").is_err());
    let mut zero = tires();
    zero.amount = Money::eur_cents(0);
    assert!(matches!(
        c.create_link(&zero, "k"),
        Err(ProviderError::InvalidRequest(_))
    ));
}

#[test]
fn an_unreachable_server_is_a_transport_error_naming_the_url_not_the_key() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let e = client(&base)
        .get_link("pl_4Y0eZitmBnQ6IDoMqZQKh")
        .expect_err("down");
    let text = e.to_string();
    assert!(matches!(e, ProviderError::Transport { .. }), "{text}");
    assert!(text.contains(&base), "{text}");
    assert!(!text.contains("dHar4XY7"), "{text}");
}

#[test]
fn the_documented_webhook_call_is_read() {
    let raw = data("webhook-request.txt");
    let req = wire::read_request(&mut raw.as_bytes()).expect("read");
    assert_eq!(req.method, "POST");
    assert_eq!(
        wire::form_value(&req.body, "id").expect("form"),
        Some("tr_d0b0E3EA3v".into())
    );
}
