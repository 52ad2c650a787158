//! Storage contract for the `paylink` capability: story-style checks every backend must pass.

use incasso_calendar::{Date, parse_iso};
use incasso_domain::{CreditorId, DebtorId, InvoiceId};
use incasso_money::Money;

use crate::contract::{creditor, debtor, import, invoice};
use crate::*;

fn d(s: &str) -> Date {
    parse_iso(s).expect("test date")
}

/// A tenant with one debtor, two invoices and an open case; returns (tenant, debtor, invoice,
/// case).
fn ledger(store: &mut dyn Store, name: &str, seed: char) -> (CreditorId, DebtorId, InvoiceId, i64) {
    let t = store.add_creditor(&creditor(name)).expect("add creditor");
    import(
        store,
        t,
        seed,
        vec![(
            debtor("Jan", "D1"),
            vec![
                invoice("F-1", 10_000, "2026-01-15"),
                invoice("F-2", 2_550, "2026-01-20"),
            ],
        )],
    );
    let inv = store.invoice_by_number(t, "F-1").expect("invoice");
    store
        .apply_run(
            t,
            &RunBatch {
                new_cases: vec![NewCase {
                    debtor_id: inv.debtor_id,
                    state: "reminding".into(),
                    opened_on: d("2026-02-01"),
                }],
                ..RunBatch::default()
            },
        )
        .expect("case");
    let case = store.cases(t, true).expect("cases")[0].id;
    (t, inv.debtor_id, inv.id, case)
}

fn new_link(key: &str, scope: PaylinkScope, debtor: DebtorId, cents: i64) -> NewPaylink {
    NewPaylink {
        idempotency_key: key.into(),
        scope,
        debtor_id: debtor,
        provider: "mollie".into(),
        amount: Money::eur_cents(cents),
        description: "Betaling dossier 1".into(),
        created_on: d("2026-03-01"),
        webhook_base_url: Some("https://incasso.example.nl".into()),
        redirect_url: None,
        requested_expiry: Some("2026-04-01T00:00:00+01:00".into()),
    }
}

fn event(object: &str, status: &str, link: Option<i64>) -> PaylinkEvent {
    PaylinkEvent {
        provider: "mollie".into(),
        object_id: object.into(),
        status: status.into(),
        paylink_id: link,
        received_on: d("2026-03-02"),
        note: "webhook".into(),
    }
}

/// A link is recorded before the provider call, once per idempotency key, and moves pending ->
/// open -> paid; every read and write is scoped by the tenant.
pub fn links_are_recorded_once_and_tenant_scoped(store: &mut dyn Store) {
    let (t, debtor_id, invoice_id, case) = ledger(store, "A", 'p');
    let (other, other_debtor, _, other_case) = ledger(store, "B", 'q');

    let link = new_link(
        "mollie:case:1#1",
        PaylinkScope::Case(case),
        debtor_id,
        12_550,
    );
    let (row, new) = store.begin_paylink(t, &link).expect("begin");
    assert!(new);
    assert_eq!(row.status, PaylinkStatus::Pending);
    assert_eq!(row.link, link);
    assert_eq!((row.provider_id.clone(), row.url.clone()), (None, None));
    let (again, new) = store.begin_paylink(t, &link).expect("begin again");
    assert!(!new, "the same idempotency key records nothing new");
    assert_eq!(again, row);
    assert_eq!(store.paylinks(t).expect("list").len(), 1);

    // The same key at another tenant is another link.
    let (theirs, new) = store
        .begin_paylink(
            other,
            &new_link(
                "mollie:case:1#1",
                PaylinkScope::Case(other_case),
                other_debtor,
                500,
            ),
        )
        .unwrap_or_else(|e| panic!("the key is per tenant, but: {e}"));
    assert!(new);
    assert!(matches!(
        store.paylink(other, row.id),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.paylink(t, theirs.id),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.paylinks(other).expect("list").len(), 1);

    store
        .paylink_opened(
            t,
            row.id,
            "pl_4Y0eZitmBnQ6IDoMqZQKh",
            "https://paymentlink.mollie.com/payment/4Y0eZitmBnQ6IDoMqZQKh/",
            Some("2026-04-01T00:00:00+00:00"),
        )
        .expect("opened");
    let open = store.paylink(t, row.id).expect("read");
    assert_eq!(open.status, PaylinkStatus::Open);
    assert_eq!(
        open.provider_id.as_deref(),
        Some("pl_4Y0eZitmBnQ6IDoMqZQKh")
    );
    assert_eq!(
        open.url.as_deref(),
        Some("https://paymentlink.mollie.com/payment/4Y0eZitmBnQ6IDoMqZQKh/")
    );
    assert_eq!(
        open.expires_at.as_deref(),
        Some("2026-04-01T00:00:00+00:00")
    );
    assert!(matches!(
        store.paylink_opened(t, row.id, "pl_other", "https://x", None),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.paylink_opened(other, row.id, "pl_x", "https://x", None),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store
            .paylink_by_provider_id(t, "mollie", "pl_4Y0eZitmBnQ6IDoMqZQKh")
            .expect("by id")
            .map(|r| r.id),
        Some(row.id)
    );
    assert_eq!(
        store
            .paylink_by_provider_id(other, "mollie", "pl_4Y0eZitmBnQ6IDoMqZQKh")
            .expect("by id"),
        None
    );

    // Paid once; a second time changes nothing.
    let payment = store
        .record_payment(
            t,
            &NewPayment {
                debtor_id: Some(debtor_id),
                received_on: d("2026-03-02"),
                amount: Money::eur_cents(12_550),
                reference: Some("tr_WDqYK6vllg".into()),
                counterparty_iban: None,
                description: Some("payment link".into()),
                source: "mollie:pl_4Y0eZitmBnQ6IDoMqZQKh".into(),
                reverses: None,
            },
        )
        .expect("payment");
    assert!(matches!(
        store.paylink_paid(
            other,
            row.id,
            payment,
            Some("tr_WDqYK6vllg"),
            d("2026-03-02")
        ),
        Err(StoreError::NotFound(_))
    ));
    assert!(
        store
            .paylink_paid(t, row.id, payment, Some("tr_WDqYK6vllg"), d("2026-03-02"))
            .expect("paid")
    );
    assert!(
        !store
            .paylink_paid(t, row.id, payment, Some("tr_other"), d("2026-03-09"))
            .expect("paid again")
    );
    let paid = store.paylink(t, row.id).expect("read");
    assert_eq!(paid.status, PaylinkStatus::Paid);
    assert_eq!(paid.payment_id, Some(payment));
    assert_eq!(paid.provider_payment_id.as_deref(), Some("tr_WDqYK6vllg"));
    assert_eq!(paid.paid_on, Some(d("2026-03-02")));

    // An invoice link; refused by the provider.
    let inv_link = new_link(
        "mollie:invoice:1#1",
        PaylinkScope::Invoice(invoice_id),
        debtor_id,
        10_000,
    );
    let (r2, _) = store.begin_paylink(t, &inv_link).expect("begin");
    assert_eq!(r2.link.scope, PaylinkScope::Invoice(invoice_id));
    store
        .paylink_failed(t, r2.id, "mollie answered 422 Unprocessable Entity")
        .expect("failed");
    let failed = store.paylink(t, r2.id).expect("read");
    assert_eq!(failed.status, PaylinkStatus::Failed);
    assert!(failed.error.as_deref().is_some_and(|e| e.contains("422")));
    assert!(matches!(
        store.paylink_opened(t, r2.id, "pl_late", "https://x", None),
        Err(StoreError::Conflict(_))
    ));

    // Superseded only from open.
    let (r3, _) = store
        .begin_paylink(
            t,
            &new_link(
                "mollie:case:1#2",
                PaylinkScope::Case(case),
                debtor_id,
                2_550,
            ),
        )
        .expect("begin");
    assert!(matches!(
        store.paylink_superseded(t, r3.id),
        Err(StoreError::Conflict(_))
    ));
    store
        .paylink_opened(
            t,
            r3.id,
            "pl_second",
            "https://paymentlink.mollie.com/payment/second/",
            None,
        )
        .expect("opened");
    store.paylink_superseded(t, r3.id).expect("superseded");
    assert_eq!(
        store.paylink(t, r3.id).expect("read").status,
        PaylinkStatus::Superseded
    );
    let ids: Vec<i64> = store
        .paylinks(t)
        .expect("list")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, vec![row.id, r2.id, r3.id], "oldest first");
}

/// Webhook events are recorded once per (provider, object, status); a link's payment can be
/// recorded only once (the unique provider source).
pub fn events_and_link_payments_are_idempotent(store: &mut dyn Store) {
    let (t, debtor_id, _, case) = ledger(store, "A", 'r');
    let (other, _, _, _) = ledger(store, "B", 's');
    let (row, _) = store
        .begin_paylink(t, &new_link("k1", PaylinkScope::Case(case), debtor_id, 100))
        .expect("begin");

    assert!(
        store
            .record_paylink_event(t, &event("tr_1", "open", Some(row.id)))
            .expect("event")
    );
    assert!(
        !store
            .record_paylink_event(t, &event("tr_1", "open", Some(row.id)))
            .expect("again")
    );
    assert!(
        store
            .record_paylink_event(t, &event("tr_1", "paid", Some(row.id)))
            .expect("paid")
    );
    assert!(
        store
            .record_paylink_event(t, &event("tr_unknown", "not found", None))
            .expect("unknown")
    );
    let events = store.paylink_events(t).expect("events");
    assert_eq!(events.len(), 3);
    assert_eq!(events[0], event("tr_1", "open", Some(row.id)));
    assert!(store.paylink_events(other).expect("events").is_empty());
    assert!(
        store
            .record_paylink_event(other, &event("tr_1", "open", Some(row.id)))
            .is_err(),
        "an event cannot point at another tenant's link"
    );
    assert!(
        store
            .record_paylink_event(other, &event("tr_1", "open", None))
            .expect("theirs")
    );

    let pay = |store: &mut dyn Store, tenant: CreditorId, source: &str| {
        store.record_payment(
            tenant,
            &NewPayment {
                debtor_id: None,
                received_on: d("2026-03-02"),
                amount: Money::eur_cents(100),
                reference: None,
                counterparty_iban: None,
                description: None,
                source: source.into(),
                reverses: None,
            },
        )
    };
    assert_eq!(
        store.payment_by_source(t, "mollie:pl_a").expect("none"),
        None
    );
    let first = pay(store, t, "mollie:pl_a").expect("first");
    assert_eq!(
        store.payment_by_source(t, "mollie:pl_a").expect("found"),
        Some(first)
    );
    assert!(
        matches!(pay(store, t, "mollie:pl_a"), Err(StoreError::Conflict(_))),
        "a link's payment is recorded once"
    );
    assert_eq!(
        store
            .payment_by_source(other, "mollie:pl_a")
            .expect("theirs"),
        None
    );
    pay(store, other, "mollie:pl_a").expect("another tenant's link may have the same id");
    pay(store, t, "manual").expect("other sources are not unique");
    pay(store, t, "manual").expect("other sources are not unique");
    assert_eq!(store.payments(t).expect("payments").len(), 3);
}

/// Runs every paylink contract check, each on a fresh store.
pub fn run_all(fresh: &mut dyn FnMut() -> Box<dyn Store>) {
    links_are_recorded_once_and_tenant_scoped(fresh().as_mut());
    events_and_link_payments_are_idempotent(fresh().as_mut());
}
