//! The storage contract: one story-style suite that every backend must pass. Each function
//! takes a freshly migrated, empty store and panics with a message when the backend breaks the
//! contract. The backends' own test files call [`run_all`].

use incasso_banking::Iban;
use incasso_calendar::{Date, parse_iso};
use incasso_domain::*;
use incasso_money::{Currency, Money};

use crate::*;

fn d(s: &str) -> Date {
    parse_iso(s).expect("test date")
}

pub fn creditor(name: &str) -> NewCreditor {
    NewCreditor {
        name: name.to_string(),
        legal_form: Some("B.V.".into()),
        registration_number: Some(RegistrationNumber::parse("12345678").expect("kvk")),
        vat_number: Some(VatNumber::parse("NL123456789B01").expect("vat")),
        vat_deductible: true,
        iban: Iban::parse("NL91ABNA0417164300").expect("iban"),
        bic: None,
        jurisdiction: Jurisdiction::Nl,
        kind: DebtorKind::Business,
        language: Language::Nl,
        email: Some(EmailAddress::parse("debiteuren@voorbeeld.nl").expect("email")),
        phone: None,
        address: Address {
            street: "Damrak 1".into(),
            postal_code: "1012 LG".into(),
            city: "Amsterdam".into(),
            country: Some(CountryCode::NL),
        },
        website: None,
        letterhead: None,
    }
}

pub fn debtor(name: &str, number: &str) -> NewDebtor {
    let mut d = NewDebtor::named(name, DebtorKind::Consumer, Language::Nl);
    d.number = Some(DebtorNumber::parse(number).expect("number"));
    d.address = Address {
        street: "Kerkstraat 2".into(),
        postal_code: "3511 AB".into(),
        city: "Utrecht".into(),
        country: Some(CountryCode::NL),
    };
    d.emails = vec![EmailAddress::parse("jan@example.nl").expect("email")];
    d.ibans = vec![Iban::parse("BE68539007547034").expect("iban")];
    d.tags = vec![Tag::parse("vip").expect("tag")];
    d
}

pub fn invoice(number: &str, gross_cents: i64, due: &str) -> NewInvoice {
    NewInvoice {
        number: InvoiceNumber::parse(number).expect("number"),
        kind: DocumentKind::Invoice,
        issue_date: d("2026-01-01"),
        due_date: Some(d(due)),
        due_date_source: Some(DueDateSource::Stated),
        payment_terms_days: None,
        currency: Currency::EUR,
        net_amount: Money::eur_cents(gross_cents),
        vat_amount: Money::eur_cents(0),
        gross_amount: Money::eur_cents(gross_cents),
        paid_amount: Money::eur_cents(0),
        payment_reference: Some("5000056789012345".into()),
        contractual_interest_rate: None,
        corrects: None,
        description: Some("Levering".into()),
        lines: vec![InvoiceLine {
            description: "Consult".into(),
            quantity: "2".into(),
            net_amount: Money::eur_cents(gross_cents),
            vat_percent: None,
        }],
        attachment: None,
    }
}

fn file(sha_seed: char) -> ImportFile {
    ImportFile {
        format: "csv".into(),
        filename: "invoices.csv".into(),
        sha256: std::iter::repeat_n(sha_seed, 64).collect(),
    }
}

/// Imports debtors and invoices for `tenant` in one import.
pub fn import(
    store: &mut dyn Store,
    tenant: CreditorId,
    sha_seed: char,
    rows: Vec<(NewDebtor, Vec<NewInvoice>)>,
) -> ImportId {
    store
        .import(tenant, &file(sha_seed), &mut |sink| {
            let debtors: Vec<NewDebtor> = rows.iter().map(|(d, _)| d.clone()).collect();
            let ids = sink.insert_debtors(&debtors)?;
            let mut pairs = Vec::new();
            for (id, (_, invs)) in ids.iter().zip(&rows) {
                for inv in invs {
                    pairs.push((*id, inv));
                }
            }
            let created = sink.insert_invoices(&pairs)?.len() as i64;
            Ok(ImportCounts {
                debtors_created: debtors.len() as i64,
                invoices_created: created,
                ..ImportCounts::default()
            })
        })
        .expect("import")
}

fn overdue(store: &mut dyn Store, tenant: CreditorId, as_of: &str) -> Vec<InvoiceRow> {
    let mut out = Vec::new();
    store
        .for_each_invoice(
            tenant,
            &InvoiceFilter {
                overdue_as_of: Some(d(as_of)),
                ..InvoiceFilter::default()
            },
            &mut |r| {
                out.push(r);
                Ok(())
            },
        )
        .expect("list");
    out
}

pub fn creditors_round_trip(store: &mut dyn Store) {
    assert!(
        store.schema_version().expect("version") >= 1,
        "migrations applied"
    );
    let a = store
        .add_creditor(&creditor("Voorbeeld B.V."))
        .expect("add");
    let b = store.add_creditor(&creditor("Ander B.V.")).expect("add");
    assert_ne!(a, b);
    let all = store.creditors().expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(
        store.creditor(a).expect("get").details,
        creditor("Voorbeeld B.V.")
    );
    assert!(matches!(
        store.creditor(CreditorId::new(999_999)),
        Err(StoreError::NotFound(_))
    ));
}

pub fn import_is_atomic_and_round_trips(store: &mut dyn Store) {
    let t = store
        .add_creditor(&creditor("Voorbeeld B.V."))
        .expect("add");
    let mut with_pdf = invoice("F-2", 5000, "2026-02-01");
    with_pdf.attachment = Some(Attachment {
        filename: "F-2.pdf".into(),
        mime_type: "application/pdf".into(),
        content: b"%PDF-1.4 test".to_vec(),
    });
    import(
        store,
        t,
        'a',
        vec![(
            debtor("Jan Jansen", "D1"),
            vec![invoice("F-1", 12345, "2026-01-15"), with_pdf],
        )],
    );
    let f1 = store.invoice_by_number(t, "F-1").expect("F-1");
    assert_eq!(f1.details, invoice("F-1", 12345, "2026-01-15"));
    assert_eq!(f1.open_amount, Money::eur_cents(12345));
    let f2 = store.invoice_by_number(t, "F-2").expect("F-2");
    assert_eq!(
        f2.details.attachment.as_ref().map(|a| a.content.clone()),
        Some(b"%PDF-1.4 test".to_vec())
    );
    let deb = store.debtor(t, f1.debtor_id).expect("debtor");
    assert_eq!(deb.details, debtor("Jan Jansen", "D1"));
    assert!(
        store
            .find_import(t, &"a".repeat(64))
            .expect("find")
            .is_some()
    );

    // A failing import writes nothing at all, not even its import record.
    let result = store.import(t, &file('b'), &mut |sink| {
        let ids = sink.insert_debtors(&[debtor("Piet Pieters", "D2")])?;
        let inv = invoice("F-3", 100, "2026-01-01");
        sink.insert_invoices(&[(ids[0], &inv)])?;
        anyhow::bail!("line 3: bad amount")
    });
    assert!(result.is_err());
    assert!(
        store
            .find_import(t, &"b".repeat(64))
            .expect("find")
            .is_none()
    );
    assert!(matches!(
        store.invoice_by_number(t, "F-3"),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.debtors(t).expect("debtors").len(), 1);

    // The same invoice number twice for one creditor is a conflict; the import rolls back.
    let dup = store.import(t, &file('c'), &mut |sink| {
        let inv = invoice("F-1", 1, "2026-01-01");
        sink.insert_invoices(&[(f1.debtor_id, &inv)])?;
        Ok(ImportCounts::default())
    });
    assert!(dup.is_err(), "duplicate invoice number must be refused");
    // The same file twice is a conflict too.
    let again = store.import(t, &file('a'), &mut |_| Ok(ImportCounts::default()));
    assert!(again.is_err(), "same file hash twice must be refused");
}

pub fn tenants_are_isolated(store: &mut dyn Store) {
    let a = store.add_creditor(&creditor("A")).expect("add");
    let b = store.add_creditor(&creditor("B")).expect("add");
    import(
        store,
        a,
        'd',
        vec![(
            debtor("Klant van A", "K1"),
            vec![invoice("A-1", 1000, "2026-01-01")],
        )],
    );
    import(
        store,
        b,
        'd',
        vec![(
            debtor("Klant van B", "K1"),
            vec![invoice("A-1", 2000, "2026-01-01")],
        )],
    );
    let inv_a = store.invoice_by_number(a, "A-1").expect("a");
    let inv_b = store.invoice_by_number(b, "A-1").expect("b");
    assert_eq!(inv_a.details.gross_amount.minor(), 1000);
    assert_eq!(inv_b.details.gross_amount.minor(), 2000);
    assert!(
        matches!(store.invoice(b, inv_a.id), Err(StoreError::NotFound(_))),
        "B must not read A's invoice by id"
    );
    assert!(
        matches!(
            store.debtor(b, inv_a.debtor_id),
            Err(StoreError::NotFound(_))
        ),
        "B must not read A's debtor"
    );
    assert!(store.attachment(b, inv_a.id).expect("attachment").is_none());
    let rows_b = overdue(store, b, "2026-06-01");
    assert_eq!(rows_b.len(), 1);
    assert_eq!(&*rows_b[0].debtor_name, "Klant van B");
    let debtors_b = store.debtors(b).expect("debtors");
    assert_eq!(debtors_b.len(), 1);
    assert_eq!(debtors_b[0].name, "Klant van B");
    let pay = store
        .record_payment(
            a,
            &NewPayment {
                debtor_id: None,
                received_on: d("2026-02-01"),
                amount: Money::eur_cents(10),
                reference: None,
                counterparty_iban: None,
                description: None,
                source: "manual".into(),
                reverses: None,
            },
        )
        .expect("payment");
    assert!(store.payments(b).expect("payments").is_empty());
    // B cannot allocate A's payment, nor to A's invoice.
    let cross = store.record_allocations(
        b,
        &[NewAllocation {
            payment_id: pay,
            invoice_id: inv_a.id,
            component: Component::Principal,
            amount: Money::eur_cents(10),
            reverses: None,
        }],
    );
    assert!(matches!(cross, Err(StoreError::NotFound(_))));
    assert_eq!(
        store.invoice(a, inv_a.id).expect("a").open_amount.minor(),
        1000
    );
}

pub fn overdue_listing(store: &mut dyn Store) {
    let t = store.add_creditor(&creditor("A")).expect("add");
    let mut paid = invoice("P-1", 1000, "2026-01-01");
    paid.paid_amount = Money::eur_cents(1000);
    let mut credit = invoice("C-1", 500, "2026-01-01");
    credit.kind = DocumentKind::CreditNote;
    import(
        store,
        t,
        'e',
        vec![(
            debtor("Jan", "D1"),
            vec![
                invoice("O-2", 1000, "2026-03-01"),
                invoice("O-1", 1000, "2026-02-01"),
                invoice("N-1", 1000, "2026-11-25"),
                paid,
                credit,
            ],
        )],
    );
    let rows = overdue(store, t, "2026-11-25");
    let numbers: Vec<&str> = rows.iter().map(|r| r.number.as_str()).collect();
    assert_eq!(
        numbers,
        vec!["O-1", "O-2"],
        "ordered by due date; not yet due, paid and credit notes excluded"
    );
    let mut all = 0;
    store
        .for_each_invoice(t, &InvoiceFilter::default(), &mut |_| {
            all += 1;
            Ok(())
        })
        .expect("all");
    assert_eq!(all, 5);
    let limited = store
        .for_each_invoice(
            t,
            &InvoiceFilter {
                limit: Some(1),
                ..InvoiceFilter::default()
            },
            &mut |_| Ok(()),
        )
        .expect("limit");
    assert_eq!(limited, 1);
    let stored_paid = store.invoice_by_number(t, "P-1").expect("p");
    assert_eq!(stored_paid.open_amount.minor(), 0);
}

pub fn payments_and_allocations_are_append_only_and_conserve(store: &mut dyn Store) {
    let t = store.add_creditor(&creditor("A")).expect("add");
    import(
        store,
        t,
        'f',
        vec![(
            debtor("Jan", "D1"),
            vec![invoice("F-1", 10_000, "2026-01-01")],
        )],
    );
    let inv = store.invoice_by_number(t, "F-1").expect("inv");
    let pay = store
        .record_payment(
            t,
            &NewPayment {
                debtor_id: Some(inv.debtor_id),
                received_on: d("2026-02-01"),
                amount: Money::eur_cents(6000),
                reference: Some("F-1".into()),
                counterparty_iban: None,
                description: None,
                source: "manual".into(),
                reverses: None,
            },
        )
        .expect("payment");
    let alloc = |component, cents| NewAllocation {
        payment_id: pay,
        invoice_id: inv.id,
        component,
        amount: Money::eur_cents(cents),
        reverses: None,
    };
    store
        .record_allocations(
            t,
            &[
                alloc(Component::Costs, 1000),
                alloc(Component::Principal, 4000),
            ],
        )
        .expect("allocate");
    assert_eq!(
        store.invoice(t, inv.id).expect("inv").open_amount.minor(),
        6000
    );
    // Over-allocating the payment is refused and changes nothing (rejection atomicity).
    let over = store.record_allocations(
        t,
        &[
            alloc(Component::Principal, 500),
            alloc(Component::Principal, 1000),
        ],
    );
    assert!(matches!(over, Err(StoreError::Conflict(_))));
    assert_eq!(
        store.invoice(t, inv.id).expect("inv").open_amount.minor(),
        6000
    );
    assert_eq!(store.allocations(t, inv.id).expect("allocs").len(), 2);
    // A correction is a new, reversing entry.
    let first = store.allocations(t, inv.id).expect("allocs")[1].id;
    store
        .record_allocations(
            t,
            &[NewAllocation {
                payment_id: pay,
                invoice_id: inv.id,
                component: Component::Principal,
                amount: Money::eur_cents(-4000),
                reverses: Some(first),
            }],
        )
        .expect("reverse");
    assert_eq!(
        store.invoice(t, inv.id).expect("inv").open_amount.minor(),
        10_000
    );
    let allocs = store.allocations(t, inv.id).expect("allocs");
    assert_eq!(allocs.len(), 3);
    assert_eq!(allocs[2].allocation.reverses, Some(first));
    // Reversing below zero open or beyond the gross is refused.
    let too_far = store.record_allocations(
        t,
        &[NewAllocation {
            payment_id: pay,
            invoice_id: inv.id,
            component: Component::Principal,
            amount: Money::eur_cents(-1),
            reverses: Some(first),
        }],
    );
    assert!(too_far.is_err());
    assert_eq!(store.payments(t).expect("payments").len(), 1);
}

fn new_action(key: &str, step: &str, on: &str) -> NewAction {
    NewAction {
        idempotency_key: key.to_string(),
        policy_name: "nl-b2b".into(),
        policy_version: 1,
        step_id: step.to_string(),
        template: "payment_reminder".into(),
        channels: "email,post".into(),
        status: ActionStatus::Queued,
        status_reason: String::new(),
        created_on: d(on),
        deadline: d("2026-03-10"),
        principal: Money::eur_cents(12_345),
        interest: None,
        costs: Some(Money::eur_cents(4_000)),
        total: Money::eur_cents(16_345),
        why: "due + 2 days".into(),
    }
}

pub fn collection_cases_outbox_and_events(store: &mut dyn Store) {
    let t = store.add_creditor(&creditor("A")).expect("add");
    let other = store.add_creditor(&creditor("B")).expect("add");
    let mut paid = invoice("P-1", 500, "2026-01-01");
    paid.paid_amount = Money::eur_cents(500);
    let mut partly = invoice("F-2", 20_000, "2026-02-01");
    partly.paid_amount = Money::eur_cents(5_000);
    import(
        store,
        t,
        'g',
        vec![
            (
                debtor("Jan", "D1"),
                vec![
                    invoice("F-1", 10_000, "2026-01-15"),
                    partly,
                    invoice("F-3", 999, "2026-12-01"),
                    paid,
                ],
            ),
            (
                debtor("Piet", "D2"),
                vec![invoice("G-1", 7_000, "2026-02-10")],
            ),
        ],
    );
    let mut seen = Vec::new();
    let n = store
        .for_each_overdue_debtor(t, d("2026-03-01"), &mut |c| {
            seen.push(c);
            Ok(())
        })
        .expect("overdue");
    assert_eq!(n, 2);
    assert_eq!(
        seen[0].claims.len(),
        2,
        "not-yet-due and paid invoices are not overdue claims"
    );
    assert_eq!(
        seen[0].claims[1].principal.minor(),
        15_000,
        "principal is gross minus paid at import"
    );
    assert_eq!(seen[0].claims[1].open.minor(), 15_000);
    assert_eq!(seen[0].claims[0].due, d("2026-01-15"));
    assert_eq!(seen[0].kind, DebtorKind::Consumer);
    assert_eq!(seen[0].tags, vec![Tag::parse("vip").expect("tag")]);
    let jan = seen[0].debtor_id;
    let none = store
        .for_each_overdue_debtor(other, d("2026-03-01"), &mut |_| Ok(()))
        .expect("other tenant");
    assert_eq!(none, 0, "another tenant sees no overdue debtors");

    let batch = RunBatch {
        new_cases: vec![NewCase {
            debtor_id: jan,
            state: "open".into(),
            opened_on: d("2026-03-01"),
        }],
        changes: vec![(
            CaseRef::New(0),
            CaseChange {
                state: Some("reminded".into()),
                ..CaseChange::default()
            },
        )],
        actions: vec![(
            CaseRef::New(0),
            new_action(
                "dunning:1:nl-b2b:v1:payment_reminder",
                "payment_reminder",
                "2026-03-01",
            ),
        )],
        cancel_pending: Vec::new(),
        events: vec![(
            CaseRef::New(0),
            CaseEvent {
                on: d("2026-03-01"),
                kind: "run".into(),
                text: "payment reminder queued".into(),
            },
        )],
    };
    let applied = store.apply_run(t, &batch).expect("run");
    assert_eq!(
        applied,
        RunApplied {
            cases_created: 1,
            actions_created: 1,
            actions_existing: 0,
            actions_cancelled: 0
        }
    );
    let cases = store.cases(t, true).expect("cases");
    assert_eq!(cases.len(), 1);
    let case_id = cases[0].id;
    assert_eq!(cases[0].state, "reminded");
    assert_eq!(cases[0].debtor_id, jan);
    assert!(store.cases(other, false).expect("cases").is_empty());
    assert!(
        matches!(store.case(other, case_id), Err(StoreError::NotFound(_))),
        "tenant B cannot read A's case"
    );

    // The same idempotency key again writes nothing.
    let again = RunBatch {
        actions: vec![(
            CaseRef::Existing(case_id),
            new_action(
                "dunning:1:nl-b2b:v1:payment_reminder",
                "payment_reminder",
                "2026-03-02",
            ),
        )],
        ..RunBatch::default()
    };
    let applied = store.apply_run(t, &again).expect("again");
    assert_eq!(applied.actions_created, 0);
    assert_eq!(applied.actions_existing, 1);
    let actions = store.actions(t, Some(case_id)).expect("actions");
    assert_eq!(actions.len(), 1);
    assert_eq!(
        actions[0].action,
        new_action(
            "dunning:1:nl-b2b:v1:payment_reminder",
            "payment_reminder",
            "2026-03-01"
        )
    );
    assert!(store.actions(other, None).expect("actions").is_empty());

    // A second open case for the same debtor (another run got there first) joins the open
    // case: no new case and no second opening event.
    let events_before = store.case_events(t, case_id).expect("events").len();
    let dup = RunBatch {
        new_cases: vec![NewCase {
            debtor_id: jan,
            state: "open".into(),
            opened_on: d("2026-03-02"),
        }],
        events: vec![(
            CaseRef::New(0),
            CaseEvent {
                on: d("2026-03-02"),
                kind: "opened".into(),
                text: "case opened".into(),
            },
        )],
        ..RunBatch::default()
    };
    let joined = store.apply_run(t, &dup).expect("join");
    assert_eq!(joined.cases_created, 0);
    assert_eq!(
        store.cases(t, true).expect("cases").len(),
        1,
        "still one open case"
    );
    assert_eq!(
        store.case_events(t, case_id).expect("events").len(),
        events_before,
        "no second opening event"
    );

    // Dispatch, then a second action that the debtor's payment cancels.
    let first = actions[0].id;
    store
        .set_action_status(t, first, ActionStatus::Sent, Some(d("2026-03-02")), "")
        .expect("sent");
    assert!(matches!(
        store.set_action_status(t, first, ActionStatus::Sent, Some(d("2026-03-03")), ""),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.set_action_status(other, first, ActionStatus::Cancelled, None, "x"),
        Err(StoreError::NotFound(_))
    ));
    store
        .apply_run(
            t,
            &RunBatch {
                actions: vec![(
                    CaseRef::Existing(case_id),
                    new_action("k3", "formal_notice", "2026-03-10"),
                )],
                ..RunBatch::default()
            },
        )
        .expect("second");
    let cancel = RunBatch {
        cancel_pending: vec![(CaseRef::Existing(case_id), "paid".into())],
        ..RunBatch::default()
    };
    assert_eq!(
        store
            .apply_run(t, &cancel)
            .expect("cancel")
            .actions_cancelled,
        1,
        "only the queued action is cancelled"
    );
    let actions = store.actions(t, Some(case_id)).expect("actions");
    assert_eq!(actions[0].action.status, ActionStatus::Sent);
    assert_eq!(actions[0].dispatched_on, Some(d("2026-03-02")));
    assert_eq!(actions[1].action.status, ActionStatus::Cancelled);
    assert_eq!(actions[1].action.status_reason, "paid");

    // The run's light view of the outbox agrees with the full one.
    let index = store.outbox_index(t).expect("index");
    let all = store.actions(t, None).expect("actions");
    assert_eq!(index.len(), all.len());
    for (i, a) in index.iter().zip(&all) {
        assert_eq!(
            (i.case_id, &i.idempotency_key, i.status, i.dispatched_on),
            (
                a.case_id,
                &a.action.idempotency_key,
                a.action.status,
                a.dispatched_on
            )
        );
        assert_eq!(
            (&i.policy_name, i.policy_version, &i.step_id, &i.channels),
            (
                &a.action.policy_name,
                a.action.policy_version,
                &a.action.step_id,
                &a.action.channels
            )
        );
    }
    assert!(store.outbox_index(other).expect("other").is_empty());

    // Pause and resume with events.
    let pause = CaseChange {
        pause: Some(Some((
            "dispute".into(),
            Some(d("2026-04-01")),
            "disputes delivery".into(),
        ))),
        ..CaseChange::default()
    };
    store
        .change_case(
            t,
            case_id,
            &pause,
            &CaseEvent {
                on: d("2026-03-05"),
                kind: "pause".into(),
                text: "dispute".into(),
            },
        )
        .expect("pause");
    let c = store.case(t, case_id).expect("case");
    assert_eq!(c.pause_reason.as_deref(), Some("dispute"));
    assert_eq!(c.pause_until, Some(d("2026-04-01")));
    assert_eq!(c.pause_note, "disputes delivery");
    let resume = CaseChange {
        pause: Some(None),
        resumed_on: Some(d("2026-03-06")),
        ..CaseChange::default()
    };
    store
        .change_case(
            t,
            case_id,
            &resume,
            &CaseEvent {
                on: d("2026-03-06"),
                kind: "resume".into(),
                text: "resolved".into(),
            },
        )
        .expect("resume");
    let c = store.case(t, case_id).expect("case");
    assert_eq!(c.pause_reason, None);
    assert_eq!(c.resumed_on, Some(d("2026-03-06")));
    assert!(matches!(
        store.change_case(
            other,
            case_id,
            &resume,
            &CaseEvent {
                on: d("2026-03-06"),
                kind: "x".into(),
                text: "x".into()
            }
        ),
        Err(StoreError::NotFound(_))
    ));
    let events = store.case_events(t, case_id).expect("events");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, vec!["run", "action_sent", "pause", "resume"]);
    assert!(
        store
            .case_events(other, case_id)
            .expect("events")
            .is_empty()
    );

    // Closing frees the debtor for a new case.
    store
        .change_case(
            t,
            case_id,
            &CaseChange {
                state: Some("paid".into()),
                closed_on: Some(d("2026-03-07")),
                ..CaseChange::default()
            },
            &CaseEvent {
                on: d("2026-03-07"),
                kind: "closed".into(),
                text: "paid".into(),
            },
        )
        .expect("close");
    assert!(store.cases(t, true).expect("open").is_empty());
    let reopen = RunBatch {
        new_cases: vec![NewCase {
            debtor_id: jan,
            state: "open".into(),
            opened_on: d("2026-05-01"),
        }],
        ..RunBatch::default()
    };
    assert_eq!(
        store.apply_run(t, &reopen).expect("reopen").cases_created,
        1
    );
}

pub fn payment_plans_one_active_per_case(store: &mut dyn Store) {
    let t = store.add_creditor(&creditor("A")).expect("add");
    let other = store.add_creditor(&creditor("B")).expect("add");
    import(
        store,
        t,
        'h',
        vec![(
            debtor("Jan", "D1"),
            vec![invoice("F-1", 30_000, "2026-01-15")],
        )],
    );
    let mut jan = None;
    store
        .for_each_overdue_debtor(t, d("2026-03-01"), &mut |c| {
            jan = Some(c.debtor_id);
            Ok(())
        })
        .expect("overdue");
    let batch = RunBatch {
        new_cases: vec![NewCase {
            debtor_id: jan.expect("debtor"),
            state: "open".into(),
            opened_on: d("2026-03-01"),
        }],
        ..RunBatch::default()
    };
    store.apply_run(t, &batch).expect("case");
    let case_id = store.cases(t, true).expect("cases")[0].id;
    let plan = NewPlan {
        case_id,
        agreed_on: d("2026-03-02"),
        grace_days: 7,
        instalments: vec![
            (d("2026-03-10"), Money::eur_cents(10_000)),
            (d("2026-04-10"), Money::eur_cents(20_000)),
        ],
    };
    let event = CaseEvent {
        on: d("2026-03-02"),
        kind: "plan".into(),
        text: "plan agreed".into(),
    };
    let id = store.add_plan(t, &plan, &event).expect("plan");
    assert!(
        matches!(
            store.add_plan(t, &plan, &event),
            Err(StoreError::Conflict(_))
        ),
        "one active plan per case"
    );
    assert!(
        matches!(
            store.add_plan(other, &plan, &event),
            Err(StoreError::NotFound(_))
        ),
        "no plan on another tenant's case"
    );
    let plans = store.plans(t, true).expect("plans");
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].plan, plan);
    assert_eq!(plans[0].status, "active");
    assert!(store.plans(other, false).expect("plans").is_empty());
    assert!(matches!(
        store.set_plan_status(other, id, "lapsed"),
        Err(StoreError::NotFound(_))
    ));
    store.set_plan_status(t, id, "lapsed").expect("lapse");
    assert!(store.plans(t, true).expect("plans").is_empty());
    assert_eq!(store.plans(t, false).expect("plans")[0].status, "lapsed");
    assert!(
        store.set_plan_status(t, id, "completed").is_err(),
        "an ended plan stays ended"
    );
    assert_eq!(
        store
            .case_events(t, case_id)
            .expect("events")
            .last()
            .map(|e| e.kind.clone()),
        Some("plan".to_string())
    );
    // A new plan may follow a lapsed one.
    store.add_plan(t, &plan, &event).expect("second plan");
}

pub fn policies_are_versioned_and_assigned_per_scope(store: &mut dyn Store) {
    let t = store.add_creditor(&creditor("A")).expect("add");
    let other = store.add_creditor(&creditor("B")).expect("add");
    import(
        store,
        t,
        'i',
        vec![(
            debtor("Jan", "D1"),
            vec![invoice("F-1", 1_000, "2026-01-15")],
        )],
    );
    let inv = store.invoice_by_number(t, "F-1").expect("invoice");
    let v1 = PolicyRow {
        name: "strict".into(),
        version: 1,
        toml: "name = \"strict\"\nversion = 1\n".into(),
    };
    store.add_policy(t, &v1).expect("v1");
    store
        .add_policy(t, &v1)
        .expect("same version, same text: nothing changes");
    let changed = PolicyRow {
        toml: "changed".into(),
        ..v1.clone()
    };
    assert!(
        matches!(store.add_policy(t, &changed), Err(StoreError::Conflict(_))),
        "a stored version never changes"
    );
    let v2 = PolicyRow {
        version: 2,
        toml: "name = \"strict\"\nversion = 2\n".into(),
        ..v1.clone()
    };
    store.add_policy(t, &v2).expect("v2");
    assert_eq!(store.policies(t).expect("policies"), vec![v1.clone(), v2]);
    assert!(store.policies(other).expect("policies").is_empty());

    store
        .assign_policy(t, PolicyScope::Default, Some("nl-b2b"))
        .expect("default");
    store
        .assign_policy(t, PolicyScope::Debtor(inv.debtor_id), Some("strict"))
        .expect("debtor");
    store
        .assign_policy(t, PolicyScope::Invoice(inv.id), Some("strict"))
        .expect("invoice");
    store
        .assign_policy(t, PolicyScope::Default, Some("nl-b2c"))
        .expect("replace default");
    let a = store.policy_assignments(t).expect("assignments");
    assert_eq!(a.default.as_deref(), Some("nl-b2c"));
    assert_eq!(
        a.debtors.get(&inv.debtor_id).map(String::as_str),
        Some("strict")
    );
    assert_eq!(a.invoices.get(&inv.id).map(String::as_str), Some("strict"));
    assert!(
        matches!(
            store.assign_policy(other, PolicyScope::Debtor(inv.debtor_id), Some("x")),
            Err(StoreError::NotFound(_))
        ),
        "not another tenant's debtor"
    );
    assert_eq!(
        store.policy_assignments(other).expect("other"),
        PolicyAssignments::default()
    );
    store
        .assign_policy(t, PolicyScope::Invoice(inv.id), None)
        .expect("remove");
    assert!(
        store
            .policy_assignments(t)
            .expect("assignments")
            .invoices
            .is_empty()
    );
}

/// Runs the whole contract; `fresh` must return a new, empty, migrated store each time.
pub fn run_all(fresh: &mut dyn FnMut() -> Box<dyn Store>) {
    creditors_round_trip(fresh().as_mut());
    import_is_atomic_and_round_trips(fresh().as_mut());
    tenants_are_isolated(fresh().as_mut());
    overdue_listing(fresh().as_mut());
    payments_and_allocations_are_append_only_and_conserve(fresh().as_mut());
    collection_cases_outbox_and_events(fresh().as_mut());
    payment_plans_one_active_per_case(fresh().as_mut());
    policies_are_versioned_and_assigned_per_scope(fresh().as_mut());
    bank_statements_are_idempotent_and_tenant_scoped(fresh().as_mut());
    bank_batch_writes_are_checked_and_tenant_scoped(fresh().as_mut());
}

fn bank_statement(key: &str) -> NewBankStatement {
    NewBankStatement {
        account: "NL91ABNA0417164300".into(),
        key: key.into(),
        kind: "camt.053".into(),
        statement_id: Some("S1".into()),
        statement_date: d("2026-03-02"),
        opening: Some(Money::eur_cents(0)),
        closing: Some(Money::eur_cents(10_000)),
    }
}

fn bank_entry(statement_id: i64, key: &str, cents: i64) -> NewBankEntry {
    NewBankEntry {
        statement_id,
        key: key.into(),
        location: "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]".into(),
        booking_date: d("2026-03-02"),
        value_date: Some(d("2026-03-02")),
        amount: Money::eur_cents(cents),
        counterparty_name: Some("Jan".into()),
        counterparty_iban: Some("BE68539007547034".into()),
        reference: Some("5000056789012345".into()),
        end_to_end_id: Some("E2E-1".into()),
        remittance: Some("F-1".into()),
        return_reason: None,
    }
}

fn bank_file() -> BankFile {
    BankFile {
        format: "camt.053".into(),
        filename: "statement.xml".into(),
        sha256: "b".repeat(64),
    }
}

/// Bank statements: an entry key is stored once per tenant (a second import changes nothing),
/// a transaction that does not commit leaves nothing, the sink's writes (payment, allocations,
/// match, cancelled actions) are atomic, and another tenant sees none of it.
pub fn bank_statements_are_idempotent_and_tenant_scoped(store: &mut dyn Store) {
    let t = store.add_creditor(&creditor("A")).expect("add");
    let other = store.add_creditor(&creditor("B")).expect("add");
    import(
        store,
        t,
        'g',
        vec![(
            debtor("Jan", "D1"),
            vec![invoice("F-1", 10_000, "2026-01-01")],
        )],
    );
    let inv = store.invoice_by_number(t, "F-1").expect("inv");
    assert_eq!(store.latest_bank_statement(t).expect("latest"), None);

    // A queued action for Jan's case, to be cancelled when he has paid.
    let batch = RunBatch {
        new_cases: vec![NewCase {
            debtor_id: inv.debtor_id,
            state: "reminded".into(),
            opened_on: d("2026-03-01"),
        }],
        actions: vec![(
            CaseRef::New(0),
            new_action("bank:reminder", "payment_reminder", "2026-03-01"),
        )],
        ..RunBatch::default()
    };
    store.apply_run(t, &batch).expect("run");

    // Rolled back: nothing stays.
    let committed = store
        .bank_transaction(t, Some(&bank_file()), &mut |sink| {
            let (sid, new) = sink.statement(&bank_statement("S1"))?;
            assert!(new);
            assert!(matches!(
                sink.entry(&bank_entry(sid, "E1", 10_000))?,
                EntryInsert::New(_)
            ));
            Ok(false)
        })
        .expect("rolled back");
    assert!(!committed);
    assert!(store.bank_entries(t, None).expect("entries").is_empty());
    assert_eq!(store.latest_bank_statement(t).expect("latest"), None);

    let mut cancelled = 0;
    let committed = store
        .bank_transaction(t, Some(&bank_file()), &mut |sink| {
            let (sid, new) = sink.statement(&bank_statement("S1"))?;
            assert!(new);
            let EntryInsert::New(entry) = sink.entry(&bank_entry(sid, "E1", 10_000))? else {
                panic!("new entry expected");
            };
            assert_eq!(
                sink.entry(&bank_entry(sid, "E1", 10_000))?,
                EntryInsert::Known { this_file: true }
            );
            let open = sink.open_invoices()?;
            assert_eq!(open.len(), 1);
            assert_eq!(
                open[0].payment_reference.as_deref(),
                Some("5000056789012345")
            );
            assert_eq!(open[0].open.minor(), 10_000);
            let ibans = sink.debtor_ibans()?;
            assert_eq!(ibans, vec![(inv.debtor_id, "BE68539007547034".to_string())]);
            let pay = sink.record_payment(&NewPayment {
                debtor_id: Some(inv.debtor_id),
                received_on: d("2026-03-02"),
                amount: Money::eur_cents(10_000),
                reference: Some("5000056789012345".into()),
                counterparty_iban: Some("BE68539007547034".into()),
                description: None,
                source: "bank:E1".into(),
                reverses: None,
            })?;
            sink.record_allocations(&[NewAllocation {
                payment_id: pay,
                invoice_id: inv.id,
                component: Component::Principal,
                amount: Money::eur_cents(10_000),
                reverses: None,
            }])?;
            assert_eq!(sink.payment_allocations(pay)?.len(), 1);
            assert!(!sink.has_open_overdue(inv.debtor_id, d("2026-03-02"))?);
            cancelled = sink.cancel_pending(inv.debtor_id, "paid", d("2026-03-02"))?;
            sink.set_match(
                entry,
                &EntryMatch {
                    status: EntryStatus::Matched,
                    payment_id: Some(pay),
                    debtor_id: Some(inv.debtor_id),
                    invoice_id: Some(inv.id),
                    reason: "betalingskenmerk".into(),
                    confidence: 100,
                    unapplied: Some(Money::eur_cents(0)),
                },
            )?;
            let found = sink.credit_by_end_to_end("E2E-1")?.expect("original");
            assert_eq!(found.id, entry);
            Ok(true)
        })
        .expect("commit");
    assert!(committed);
    assert_eq!(cancelled, 1);
    assert_eq!(
        store.actions(t, None).expect("actions")[0].action.status,
        ActionStatus::Cancelled
    );
    assert_eq!(
        store.invoice(t, inv.id).expect("inv").open_amount.minor(),
        0
    );
    let entries = store.bank_entries(t, None).expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].entry,
        bank_entry(entries[0].entry.statement_id, "E1", 10_000)
    );
    assert_eq!(entries[0].matched.status, EntryStatus::Matched);
    assert_eq!(entries[0].matched.confidence, 100);
    assert_eq!(entries[0].matched.reason, "betalingskenmerk");
    assert_eq!(
        store
            .bank_entries(t, Some(EntryStatus::Unmatched))
            .expect("unmatched")
            .len(),
        0
    );
    assert_eq!(
        store.latest_bank_statement(t).expect("latest"),
        Some(d("2026-03-02"))
    );

    // The same statement and entry again: known, not from this file.
    store
        .bank_transaction(t, Some(&bank_file()), &mut |sink| {
            let (_, new) = sink.statement(&bank_statement("S1"))?;
            assert!(!new);
            assert_eq!(
                sink.entry(&bank_entry(1, "E1", 10_000))?,
                EntryInsert::Known { this_file: false }
            );
            Ok(false)
        })
        .expect("again");
    assert_eq!(store.bank_entries(t, None).expect("entries").len(), 1);

    // Another tenant: the same keys are new there, and it sees nothing of A's.
    assert!(store.bank_entries(other, None).expect("other").is_empty());
    assert_eq!(store.latest_bank_statement(other).expect("latest"), None);
    store
        .bank_transaction(other, None, &mut |sink| {
            assert!(sink.open_invoices()?.is_empty());
            assert!(sink.debtor_ibans()?.is_empty());
            assert!(sink.credit_by_end_to_end("E2E-1")?.is_none());
            let (sid, new) = sink.statement(&bank_statement("S1"))?;
            assert!(new);
            assert!(matches!(
                sink.entry(&bank_entry(sid, "E1", 500))?,
                EntryInsert::New(_)
            ));
            assert!(matches!(
                sink.get_entry(entries[0].id),
                Err(StoreError::NotFound(_))
            ));
            Ok(true)
        })
        .expect("other tenant");
    assert_eq!(store.bank_entries(other, None).expect("other").len(), 1);
    assert_eq!(store.bank_entries(t, None).expect("entries").len(), 1);

    // Accounts: registered once, per tenant.
    store
        .add_bank_account(t, "NL17RABO0310029597")
        .expect("account");
    store
        .add_bank_account(t, "NL17RABO0310029597")
        .expect("again");
    assert_eq!(
        store.bank_accounts(t).expect("accounts"),
        vec!["NL17RABO0310029597".to_string()]
    );
    assert!(store.bank_accounts(other).expect("accounts").is_empty());
}

/// The set-based side of the bank sink: open invoices streamed in (debtor, id) order, known
/// keys, debtors with pending reminders, and batch writes (payments with ids in order, their
/// allocations moving open amounts, entries with their match); an allocation beyond the open
/// amount or the payment is refused; another tenant sees none of it.
pub fn bank_batch_writes_are_checked_and_tenant_scoped(store: &mut dyn Store) {
    let t = store.add_creditor(&creditor("A")).expect("add");
    let other = store.add_creditor(&creditor("B")).expect("add");
    import(
        store,
        t,
        'h',
        vec![
            (
                debtor("Jan", "D1"),
                vec![
                    invoice("F-1", 10_000, "2026-01-01"),
                    invoice("F-3", 3_000, "2026-01-01"),
                ],
            ),
            (
                debtor("Piet", "D2"),
                vec![invoice("F-2", 5_000, "2026-01-01")],
            ),
        ],
    );
    let f1 = store.invoice_by_number(t, "F-1").expect("F-1");
    let f2 = store.invoice_by_number(t, "F-2").expect("F-2");
    let batch = RunBatch {
        new_cases: vec![NewCase {
            debtor_id: f1.debtor_id,
            state: "reminded".into(),
            opened_on: d("2026-03-01"),
        }],
        actions: vec![(
            CaseRef::New(0),
            new_action("bank:batch", "payment_reminder", "2026-03-01"),
        )],
        ..RunBatch::default()
    };
    store.apply_run(t, &batch).expect("run");
    let entry = |sid: i64, key: &str, cents: i64| bank_entry(sid, key, cents);
    let payment = |cents: i64, key: &str| NewPayment {
        debtor_id: Some(f1.debtor_id),
        received_on: d("2026-03-02"),
        amount: Money::eur_cents(cents),
        reference: Some("5000056789012345".into()),
        counterparty_iban: None,
        description: Some("F-1".into()),
        source: format!("bank:{key}"),
        reverses: None,
    };
    let principal = |invoice: InvoiceId, cents: i64| NewAllocation {
        payment_id: PaymentId::new(0),
        invoice_id: invoice,
        component: Component::Principal,
        amount: Money::eur_cents(cents),
        reverses: None,
    };
    let matched = |status: EntryStatus, unapplied: Option<i64>| EntryMatch {
        status,
        payment_id: None,
        debtor_id: Some(f1.debtor_id),
        invoice_id: Some(f1.id),
        reason: "betalingskenmerk".into(),
        confidence: 100,
        unapplied: unapplied.map(Money::eur_cents),
    };

    let committed = store
        .bank_transaction(t, Some(&bank_file()), &mut |sink| {
            let (sid, _) = sink.statement(&bank_statement("S9"))?;
            let mut seen = Vec::new();
            sink.each_open_invoice(&mut |inv| {
                seen.push((
                    inv.debtor_id,
                    inv.number.to_string(),
                    inv.payment_reference.map(str::to_string),
                    inv.open.minor(),
                ));
            })?;
            assert_eq!(seen.len(), 3);
            assert!(
                seen.windows(2).all(|w| w[0].0 <= w[1].0),
                "grouped by debtor: {seen:?}"
            );
            assert!(seen.iter().any(|s| s.1 == "F-1"
                && s.2.as_deref() == Some("5000056789012345")
                && s.3 == 10_000));
            assert_eq!(sink.debtors_with_pending_actions()?, vec![f1.debtor_id]);
            assert_eq!(sink.known_entries(&["B1", "B2"])?, vec![false, false]);
            // Refused: more than the invoice's open amount; more than the payment.
            let too_much = EntryWrite {
                entry: entry(sid, "B0", 20_000),
                payment: Some(payment(20_000, "B0")),
                allocations: vec![principal(f2.id, 6_000)],
                reversals: Vec::new(),
                matched: matched(EntryStatus::Matched, Some(0)),
            };
            assert!(sink.write_entries(std::slice::from_ref(&too_much)).is_err());
            Ok(false)
        })
        .expect("rolled back");
    assert!(!committed);
    assert!(store.bank_entries(t, None).expect("entries").is_empty());
    let committed = store
        .bank_transaction(t, Some(&bank_file()), &mut |sink| {
            let (sid, _) = sink.statement(&bank_statement("S9"))?;
            let over_payment = EntryWrite {
                entry: entry(sid, "B0", 1_000),
                payment: Some(payment(1_000, "B0")),
                allocations: vec![principal(f1.id, 2_000)],
                reversals: Vec::new(),
                matched: matched(EntryStatus::Matched, Some(0)),
            };
            assert!(
                sink.write_entries(std::slice::from_ref(&over_payment))
                    .is_err()
            );
            Ok(false)
        })
        .expect("rolled back");
    assert!(!committed);
    assert_eq!(
        store.invoice(t, f1.id).expect("F-1").open_amount.minor(),
        10_000
    );

    let committed = store
        .bank_transaction(t, Some(&bank_file()), &mut |sink| {
            let (sid, _) = sink.statement(&bank_statement("S9"))?;
            let batch = vec![
                EntryWrite {
                    entry: entry(sid, "B1", 12_000),
                    payment: Some(payment(12_000, "B1")),
                    allocations: vec![principal(f1.id, 10_000)],
                    reversals: Vec::new(),
                    matched: matched(EntryStatus::Matched, Some(2_000)),
                },
                EntryWrite {
                    entry: entry(sid, "B2", -500),
                    payment: None,
                    allocations: Vec::new(),
                    reversals: Vec::new(),
                    matched: EntryMatch {
                        status: EntryStatus::Ignored,
                        payment_id: None,
                        debtor_id: None,
                        invoice_id: None,
                        reason: "money out: not a payment".into(),
                        confidence: 0,
                        unapplied: None,
                    },
                },
                EntryWrite {
                    entry: entry(sid, "B3", 1_000),
                    payment: Some(payment(1_000, "B3")),
                    allocations: vec![principal(f1.id, 0), principal(f1.id, 0)]
                        .into_iter()
                        .filter(|a| a.amount.is_positive())
                        .collect(),
                    reversals: Vec::new(),
                    matched: matched(EntryStatus::Unmatched, Some(1_000)),
                },
            ];
            sink.write_entries(&batch)?;
            assert_eq!(
                sink.known_entries(&["B1", "B2", "B3", "B4"])?,
                vec![true, true, true, false]
            );
            Ok(true)
        })
        .expect("commit");
    assert!(committed);
    // A stored key is a conflict.
    store
        .bank_transaction(t, None, &mut |sink| {
            let again = EntryWrite {
                entry: entry(1, "B2", -500),
                payment: None,
                allocations: Vec::new(),
                reversals: Vec::new(),
                matched: matched(EntryStatus::Ignored, None),
            };
            assert!(sink.write_entries(std::slice::from_ref(&again)).is_err());
            Ok(false)
        })
        .expect("rolled back");
    let entries = store.bank_entries(t, None).expect("entries");
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].entry.key, "B1");
    assert_eq!(entries[0].matched.status, EntryStatus::Matched);
    assert_eq!(entries[0].matched.unapplied, Some(Money::eur_cents(2_000)));
    assert_eq!(entries[0].entry.remittance.as_deref(), Some("F-1"));
    assert_eq!(entries[1].matched.status, EntryStatus::Ignored);
    assert_eq!(entries[1].matched.payment_id, None);
    assert_eq!(entries[2].matched.status, EntryStatus::Unmatched);
    let (p1, p3) = (
        entries[0].matched.payment_id.expect("payment of B1"),
        entries[2].matched.payment_id.expect("payment of B3"),
    );
    assert!(p1.get() < p3.get(), "payment ids in batch order");
    assert_eq!(store.invoice(t, f1.id).expect("F-1").open_amount.minor(), 0);
    store
        .bank_transaction(t, None, &mut |sink| {
            let a = sink.payment_allocations(p1)?;
            assert_eq!(a.len(), 1);
            assert_eq!(a[0].allocation.invoice_id, f1.id);
            assert_eq!(a[0].allocation.amount, Money::eur_cents(10_000));
            assert!(sink.payment_allocations(p3)?.is_empty());
            let mut open = Vec::new();
            sink.each_open_invoice(&mut |inv| open.push(inv.number.to_string()))?;
            open.sort();
            assert_eq!(open, vec!["F-2".to_string(), "F-3".to_string()]);
            Ok(false)
        })
        .expect("read");

    // Another tenant sees nothing of it.
    store
        .bank_transaction(other, None, &mut |sink| {
            let mut n = 0;
            sink.each_open_invoice(&mut |_| n += 1)?;
            assert_eq!(n, 0);
            assert_eq!(sink.known_entries(&["B1"])?, vec![false]);
            assert!(sink.debtors_with_pending_actions()?.is_empty());
            Ok(false)
        })
        .expect("other");
    assert!(store.bank_entries(other, None).expect("other").is_empty());
}
