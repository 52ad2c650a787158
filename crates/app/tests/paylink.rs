//! Payment links through the use cases on real stores (a SQLite file and a PostgreSQL schema),
//! with an in-process payment provider that behaves like Mollie (the same idempotency key
//! returns the same link) and can lose an answer: a timeout during creation leaves the link
//! pending and the retry gets the same link; a crash after the payment was recorded but before
//! the link was marked paid is finished by the next webhook without a second payment; a webhook
//! whose provider answer does not pay the link changes nothing.

use std::cell::RefCell;
use std::collections::HashMap;

use incasso_app::paylink::{self, LinkOptions, Target, WebhookError};
use incasso_calendar::{Date, parse_iso};
use incasso_domain::CreditorId;
use incasso_mollie::{Link, NewLink, Payment, PaymentProvider, PaymentStatus, ProviderError};
use incasso_money::Money;
use incasso_store::contract::{creditor, debtor, import, invoice};
use incasso_store::{
    Component, NewAllocation, NewCase, NewPayment, PaylinkStatus, RunBatch, Store,
};
use incasso_store_postgres::PgStore;
use incasso_store_sqlite::SqliteStore;

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn d(s: &str) -> Date {
    parse_iso(s).expect("date")
}

#[derive(Default)]
struct State {
    /// (id, amount, paid)
    links: Vec<(String, Money, bool)>,
    keys: HashMap<String, usize>,
    /// payment id -> link index
    payments: HashMap<String, usize>,
    /// The next create call is executed but its answer is lost.
    lose_next_answer: bool,
    creates: Vec<(String, NewLink)>,
}

#[derive(Default)]
struct FakeMollie(RefCell<State>);

impl FakeMollie {
    fn link(&self, i: usize) -> Link {
        let s = self.0.borrow();
        let (id, amount, paid) = s.links[i].clone();
        Link {
            url: format!("https://paymentlink.mollie.com/payment/{id}/"),
            id,
            amount,
            description: "x".into(),
            mode: "test".into(),
            created_at: None,
            paid_at: paid.then(|| "2026-03-05T10:00:00+00:00".to_string()),
            expires_at: None,
        }
    }

    fn pay(&self, link: &str, payment: &str) {
        let mut s = self.0.borrow_mut();
        let i = s.links.iter().position(|l| l.0 == link).expect("link");
        s.links[i].2 = true;
        s.payments.insert(payment.into(), i);
    }
}

impl PaymentProvider for FakeMollie {
    fn name(&self) -> &'static str {
        "mollie"
    }

    fn create_link(&self, link: &NewLink, key: &str) -> Result<Link, ProviderError> {
        let i = {
            let mut s = self.0.borrow_mut();
            s.creates.push((key.to_string(), link.clone()));
            match s.keys.get(key) {
                Some(i) => *i,
                None => {
                    let id = format!("pl_app{}", s.links.len() + 1);
                    s.links.push((id, link.amount, false));
                    let i = s.links.len() - 1;
                    s.keys.insert(key.to_string(), i);
                    i
                }
            }
        };
        if std::mem::take(&mut self.0.borrow_mut().lose_next_answer) {
            return Err(ProviderError::Transport {
                provider: "mollie",
                url: "https://api.mollie.com/v2/payment-links".into(),
                message: "timed out".into(),
            });
        }
        Ok(self.link(i))
    }

    fn get_link(&self, id: &str) -> Result<Link, ProviderError> {
        let i = self.0.borrow().links.iter().position(|l| l.0 == id);
        match i {
            Some(i) => Ok(self.link(i)),
            None => Err(ProviderError::Api {
                provider: "mollie",
                status: 404,
                title: "Not Found".into(),
                detail: "no such link".into(),
                field: None,
            }),
        }
    }

    fn get_payment(&self, id: &str) -> Result<Payment, ProviderError> {
        let s = self.0.borrow();
        match s.payments.get(id).and_then(|i| s.links.get(*i)) {
            Some((_, amount, paid)) => Ok(Payment {
                id: id.into(),
                status: if *paid {
                    PaymentStatus::Paid
                } else {
                    PaymentStatus::Open
                },
                amount: *amount,
                description: "x".into(),
                paid_at: paid.then(|| "2026-03-05T10:00:00+00:00".to_string()),
            }),
            None => Err(ProviderError::Api {
                provider: "mollie",
                status: 404,
                title: "Not Found".into(),
                detail: "no such payment".into(),
                field: None,
            }),
        }
    }
}

/// A tenant with a debtor owing F-1 (100.00, overdue) and F-2 (25.50, overdue), an open case
/// and a queued reminder.
fn ledger(store: &mut dyn Store) -> (CreditorId, i64) {
    let t = store.add_creditor(&creditor("A")).expect("creditor");
    import(
        store,
        t,
        'a',
        vec![(
            debtor("Jan", "D1"),
            vec![
                invoice("F-1", 10_000, "2026-01-15"),
                invoice("F-2", 2_550, "2026-02-01"),
            ],
        )],
    );
    let debtor_id = store.invoice_by_number(t, "F-1").expect("F-1").debtor_id;
    store
        .apply_run(
            t,
            &RunBatch {
                new_cases: vec![NewCase {
                    debtor_id,
                    state: "reminded".into(),
                    opened_on: d("2026-02-10"),
                }],
                actions: vec![(
                    incasso_store::CaseRef::New(0),
                    incasso_store::NewAction {
                        idempotency_key: "dunning:1:x:v1:reminder".into(),
                        policy_name: "nl-b2c".into(),
                        policy_version: 1,
                        step_id: "reminder".into(),
                        template: "payment_reminder".into(),
                        channels: "email".into(),
                        status: incasso_store::ActionStatus::Queued,
                        status_reason: String::new(),
                        created_on: d("2026-02-10"),
                        deadline: d("2026-02-24"),
                        principal: Money::eur_cents(12_550),
                        interest: None,
                        costs: None,
                        total: Money::eur_cents(12_550),
                        why: "test".into(),
                    },
                )],
                ..RunBatch::default()
            },
        )
        .expect("case");
    let case = store.cases(t, true).expect("cases")[0].id;
    (t, case)
}

fn open(store: &mut dyn Store, t: CreditorId, number: &str) -> Money {
    store
        .invoice_by_number(t, number)
        .expect("invoice")
        .open_amount
}

fn options() -> LinkOptions {
    LinkOptions {
        webhook_base_url: Some("https://incasso.example.nl".into()),
        redirect_url: Some("https://voorbeeld.nl/bedankt".into()),
        expires_at: Some("2026-03-31T23:59:59+02:00".into()),
    }
}

fn a_lost_answer_is_asked_again_under_the_same_key(store: &mut dyn Store) {
    let (t, case) = ledger(store);
    let mollie = FakeMollie::default();
    mollie.0.borrow_mut().lose_next_answer = true;
    let today = d("2026-03-01");
    let e = paylink::create_link(store, &mollie, t, &Target::Case(case), &options(), today)
        .expect_err("timeout");
    assert!(e.to_string().contains("stays pending"), "{e}");
    let links = store.paylinks(t).expect("links");
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0].status,
        PaylinkStatus::Pending,
        "recorded before the call"
    );
    assert_eq!(links[0].link.amount, Money::eur_cents(12_550));

    // The retry is given other options; the request must still be the recorded one.
    let created = paylink::create_link(
        store,
        &mollie,
        t,
        &Target::Case(case),
        &LinkOptions::default(),
        today,
    )
    .expect("retry");
    assert_eq!(created.link.id, links[0].id);
    assert_eq!(created.link.status, PaylinkStatus::Open);
    assert_eq!(created.link.provider_id.as_deref(), Some("pl_app1"));
    let s = mollie.0.borrow();
    assert_eq!(s.links.len(), 1, "one link at the provider");
    assert_eq!(s.creates.len(), 2);
    assert_eq!(s.creates[0].0, s.creates[1].0, "the same idempotency key");
    assert_eq!(s.creates[0].1, s.creates[1].1, "the very same request");
    assert_eq!(
        s.creates[1].1.expires_at.as_deref(),
        Some("2026-03-31T23:59:59+02:00")
    );
    assert_eq!(
        s.creates[0].1.webhook_url.as_deref(),
        Some(
            format!(
                "https://incasso.example.nl/webhooks/mollie?link={}",
                links[0].id
            )
            .as_str()
        )
    );
    assert_eq!(s.creates[0].1.description, "Dossier 1: facturen F-1, F-2");
}

fn a_crash_after_the_payment_is_finished_without_a_second_payment(store: &mut dyn Store) {
    let (t, case) = ledger(store);
    let mollie = FakeMollie::default();
    let today = d("2026-03-01");
    let created = paylink::create_link(store, &mollie, t, &Target::Case(case), &options(), today)
        .expect("created");
    let row = created.link;
    mollie.pay("pl_app1", "tr_app1");
    // The state a crash leaves after the settlement's bank transaction committed and before the
    // link was marked paid: the payment and its allocations exist.
    let f1 = store.invoice_by_number(t, "F-1").expect("F-1");
    let f2 = store.invoice_by_number(t, "F-2").expect("F-2");
    store
        .bank_transaction(t, None, &mut |sink| {
            let p = sink.record_payment(&NewPayment {
                debtor_id: Some(row.link.debtor_id),
                received_on: d("2026-03-05"),
                amount: Money::eur_cents(12_550),
                reference: Some("tr_app1".into()),
                counterparty_iban: None,
                description: None,
                source: "mollie:pl_app1".into(),
                reverses: None,
            })?;
            sink.record_allocations(&[
                NewAllocation {
                    payment_id: p,
                    invoice_id: f1.id,
                    component: Component::Principal,
                    amount: Money::eur_cents(10_000),
                    reverses: None,
                },
                NewAllocation {
                    payment_id: p,
                    invoice_id: f2.id,
                    component: Component::Principal,
                    amount: Money::eur_cents(2_550),
                    reverses: None,
                },
            ])?;
            Ok(true)
        })
        .expect("crashed settlement");
    let payments_before = store.payments(t).expect("payments").len();

    let outcome = paylink::handle_webhook(store, &mollie, t, "tr_app1", Some(row.id), today)
        .expect("webhook");
    let settled = outcome.settled.expect("finished");
    assert!(!settled.recorded_now, "the payment was there already");
    assert_eq!(store.payments(t).expect("payments").len(), payments_before);
    assert_eq!(open(store, t, "F-1"), Money::eur_cents(0));
    assert_eq!(open(store, t, "F-2"), Money::eur_cents(0));
    let link = store.paylink(t, row.id).expect("link");
    assert_eq!(link.status, PaylinkStatus::Paid);
    assert_eq!(Some(settled.payment), link.payment_id);
    assert_eq!(
        settled.cases_closed,
        vec![case],
        "the case closes on the retry"
    );
    assert!(store.cases(t, true).expect("cases").is_empty());

    // And once more: nothing.
    let again =
        paylink::handle_webhook(store, &mollie, t, "tr_app1", Some(row.id), today).expect("again");
    assert_eq!(again.settled, None);
    assert!(!again.new_event);
    assert_eq!(store.payments(t).expect("payments").len(), payments_before);
}

fn a_webhook_is_only_believed_as_far_as_the_provider_confirms_it(store: &mut dyn Store) {
    let (t, case) = ledger(store);
    let mollie = FakeMollie::default();
    let today = d("2026-03-01");
    let row = paylink::create_link(
        store,
        &mollie,
        t,
        &Target::Invoice("F-1".into()),
        &options(),
        today,
    )
    .expect("created")
    .link;
    assert_eq!(row.link.amount, Money::eur_cents(10_000));
    // A payment the provider reports open: recorded as an event, nothing settled.
    mollie.0.borrow_mut().payments.insert("tr_open".into(), 0);
    let o =
        paylink::handle_webhook(store, &mollie, t, "tr_open", Some(row.id), today).expect("open");
    assert_eq!(o.status, "open");
    assert_eq!(o.settled, None);
    // Ids the provider does not know, and ids that are no ids.
    let o = paylink::handle_webhook(store, &mollie, t, "tr_nope", Some(row.id), today)
        .expect("unknown");
    assert_eq!(o.status, "unknown");
    assert!(matches!(
        paylink::handle_webhook(store, &mollie, t, "tr_a/../b", None, today),
        Err(WebhookError::BadRequest(_))
    ));
    assert_eq!(open(store, t, "F-1"), Money::eur_cents(10_000));
    assert!(store.payments(t).expect("payments").is_empty());

    // Paid: the designated invoice first, the reminder stays (F-2 is still overdue).
    mollie.pay("pl_app1", "tr_paid");
    let o =
        paylink::handle_webhook(store, &mollie, t, "tr_paid", Some(row.id), today).expect("paid");
    let s = o.settled.expect("settled");
    assert_eq!(s.allocated, Money::eur_cents(10_000));
    assert_eq!(s.unapplied, Money::eur_cents(0));
    assert_eq!(s.actions_cancelled, 0);
    assert!(s.cases_closed.is_empty());
    assert_eq!(open(store, t, "F-1"), Money::eur_cents(0));
    assert_eq!(open(store, t, "F-2"), Money::eur_cents(2_550));
    assert_eq!(store.cases(t, true).expect("cases")[0].id, case);

    // The case link now is for what is left, and paying it closes the case and cancels the
    // reminder. The webhook names the payment without a link hint (a webhook URL set
    // elsewhere): the tenant's unsettled links of that amount are checked at the provider.
    let rest = paylink::create_link(store, &mollie, t, &Target::Case(case), &options(), today)
        .expect("case link")
        .link;
    assert_eq!(rest.link.amount, Money::eur_cents(2_550));
    mollie.pay("pl_app2", "tr_rest");
    let s = paylink::handle_webhook(store, &mollie, t, "tr_rest", None, today)
        .expect("paid")
        .settled
        .expect("settled");
    assert_eq!(s.actions_cancelled, 1);
    assert_eq!(s.cases_closed, vec![case]);
    let actions = store.actions(t, Some(case)).expect("actions");
    assert!(
        actions
            .iter()
            .all(|a| a.action.status == incasso_store::ActionStatus::Cancelled)
    );
}

fn on_sqlite(f: fn(&mut dyn Store)) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = SqliteStore::open(&dir.path().join("paylink.db")).expect("sqlite");
    f(&mut store);
}

fn on_postgres(name: &str, f: fn(&mut dyn Store)) {
    let salt = {
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(name) as u32
    };
    let schema = format!("paylink_{name}_{}_{salt:08x}", std::process::id());
    let mut store = PgStore::connect_in_schema(PG_URL, &schema)
        .unwrap_or_else(|e| panic!("PostgreSQL at {PG_URL} (schema {schema}): {e}"));
    f(&mut store);
    drop(store);
    if let Ok(mut client) = postgres::Client::connect(PG_URL, postgres::NoTls) {
        let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
    }
}

#[test]
fn lost_answer_sqlite() {
    on_sqlite(a_lost_answer_is_asked_again_under_the_same_key);
}

#[test]
fn lost_answer_postgres() {
    on_postgres("lost", a_lost_answer_is_asked_again_under_the_same_key);
}

#[test]
fn crash_after_payment_sqlite() {
    on_sqlite(a_crash_after_the_payment_is_finished_without_a_second_payment);
}

#[test]
fn crash_after_payment_postgres() {
    on_postgres(
        "crash",
        a_crash_after_the_payment_is_finished_without_a_second_payment,
    );
}

#[test]
fn provider_confirms_sqlite() {
    on_sqlite(a_webhook_is_only_believed_as_far_as_the_provider_confirms_it);
}

#[test]
fn provider_confirms_postgres() {
    on_postgres(
        "confirm",
        a_webhook_is_only_believed_as_far_as_the_provider_confirms_it,
    );
}
