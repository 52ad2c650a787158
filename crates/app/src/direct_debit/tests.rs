//! Tests of the direct-debit use cases: scheme rules for identifiers, amendments, selection and
//! the export.

use super::*;

fn d(s: &str) -> Date {
    incasso_calendar::parse_iso(s).unwrap()
}

fn iban(s: &str) -> Iban {
    Iban::parse(s).unwrap()
}

#[test]
fn references_follow_the_scheme_rules() {
    assert_eq!(check_reference("--id", " M-1 ").unwrap(), "M-1");
    for bad in ["", "a_b", "/M1", "M1/", "M//1", &"x".repeat(36), "Mé"] {
        let e = check_reference("--id", bad).unwrap_err().to_string();
        assert!(e.starts_with("--id"), "{e}");
    }
}

#[test]
fn creditor_identifier_check_names_the_field() {
    assert_eq!(
        check_creditor_identifier("ci", "nl57 zzz 999999999999").unwrap(),
        "NL57ZZZ999999999999"
    );
    let e = check_creditor_identifier("ci", "NL98ZZZ999999999999")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("ci: ") && e.contains("mod 97-10"), "{e}");
}

#[test]
fn same_bank_by_bic_or_bank_code() {
    let rabo1 = iban("NL44RABO0123456789");
    let rabo2 = iban("NL39RABO0300065264");
    let ing = iban("NL20INGB0001234567");
    assert!(same_bank(&rabo1, None, &rabo2, None));
    assert!(!same_bank(&rabo1, None, &ing, None));
    let b1 = Bic::parse("RABONL2U").unwrap();
    let b2 = Bic::parse("RABONL2UXXX").unwrap();
    assert!(
        same_bank(&rabo1, Some(&b1), &ing, Some(&b2)),
        "the BIC decides"
    );
    assert!(!same_bank(&rabo1, None, &iban("BE68539007547034"), None));
}

#[test]
fn created_at_parses_strictly() {
    let c = CreatedAt::parse("2026-03-01T09:30:05").unwrap();
    assert_eq!(c.to_string(), "2026-03-01T09:30:05");
    for bad in [
        "2026-03-01",
        "2026-03-01T25:00:00",
        "2026-02-30T10:00:00",
        "x",
    ] {
        assert!(CreatedAt::parse(bad).is_err(), "{bad}");
    }
}

fn mandate(debtor: i64, reference: &str, seq: SequenceState) -> MandateRow {
    MandateRow {
        id: debtor,
        mandate: NewMandate {
            debtor_id: DebtorId::new(debtor),
            reference: reference.into(),
            signed_on: d("2026-01-05"),
            iban: iban("NL44RABO0123456789"),
            bic: None,
            sequence: seq,
        },
        status: MandateStatus::Active,
        revoked_on: None,
        last_collection: None,
        pending: PendingAmendment::default(),
    }
}

fn inv(id: i64, debtor: i64, due: &str, cents: i64) -> OpenInvoice {
    OpenInvoice {
        id: InvoiceId::new(id),
        number: format!("F-{id}"),
        debtor: DebtorId::new(debtor),
        due: Some(d(due)),
        open: Money::eur_cents(cents),
        collectable: true,
        credit_note: false,
    }
}

#[test]
fn selection_takes_due_open_uncollected_claims_of_active_mandates() {
    let mut revoked = mandate(3, "M-3", SequenceState::First);
    revoked.status = MandateStatus::Revoked;
    let mut expired = mandate(4, "M-4", SequenceState::Recurring);
    expired.mandate.signed_on = d("2022-01-01");
    expired.last_collection = Some(d("2022-06-01"));
    let facts = Facts {
        mandates: vec![
            mandate(1, "M-1", SequenceState::First),
            mandate(2, "M-2", SequenceState::Recurring),
            revoked,
            expired,
            mandate(5, "M-5", SequenceState::First),
        ],
        open_cases: vec![CaseRow {
            id: 9,
            debtor_id: DebtorId::new(5),
            state: "reminded".into(),
            pause_reason: Some("dispute".into()),
            pause_until: None,
            pause_note: String::new(),
            resumed_on: None,
            opened_on: d("2026-02-01"),
            closed_on: None,
        }],
        active_plans: vec![],
        invoices: vec![
            inv(10, 1, "2026-02-01", 10_000),
            inv(11, 1, "2026-03-02", 2_500),
            inv(12, 1, "2026-03-03", 9_900), // not yet due
            inv(20, 2, "2026-02-01", 500),   // collected before
            inv(30, 3, "2026-02-01", 700),
            inv(40, 4, "2026-02-01", 700),
            inv(50, 5, "2026-02-01", 700),
        ],
        collected: [CollectionTarget::Invoice(InvoiceId::new(20))].into(),
        payments: vec![],
    };
    let (due, skipped) = select(&facts, d("2026-03-02"), d("2026-02-27"));
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0].mandate.mandate.reference, "M-1");
    let labels: Vec<&str> = due[0].items.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels, ["F-10", "F-11"]);
    let reasons: Vec<(&str, &str)> = skipped
        .iter()
        .map(|s| (s.mandate.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].0 == "M-4" && reasons[0].1.contains("expired"));
    assert!(reasons[1].0 == "M-5" && reasons[1].1.contains("dispute"));
}

#[test]
fn plan_instalments_replace_the_invoices_and_skip_what_was_paid() {
    let facts = Facts {
        mandates: vec![mandate(1, "M-1", SequenceState::First)],
        open_cases: vec![CaseRow {
            id: 7,
            debtor_id: DebtorId::new(1),
            state: "reminded".into(),
            pause_reason: Some("payment_plan".into()),
            pause_until: None,
            pause_note: String::new(),
            resumed_on: None,
            opened_on: d("2026-01-20"),
            closed_on: None,
        }],
        active_plans: vec![PlanRow {
            id: 3,
            plan: incasso_store::NewPlan {
                case_id: 7,
                agreed_on: d("2026-01-25"),
                grace_days: 5,
                instalments: vec![
                    (d("2026-02-01"), Money::eur_cents(5_000)),
                    (d("2026-03-01"), Money::eur_cents(5_000)),
                    (d("2026-04-01"), Money::eur_cents(5_000)),
                ],
            },
            status: "active".into(),
        }],
        invoices: vec![inv(10, 1, "2026-01-10", 15_000)],
        collected: HashSet::new(),
        // The first instalment was paid by transfer.
        payments: vec![(DebtorId::new(1), d("2026-02-01"), Money::eur_cents(5_000))],
    };
    let (due, skipped) = select(&facts, d("2026-03-02"), d("2026-02-27"));
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(due.len(), 1);
    let items: Vec<(String, i64)> = due[0]
        .items
        .iter()
        .map(|i| (i.label.clone(), i.item.amount.minor()))
        .collect();
    assert_eq!(items, [("2/3".to_string(), 5_000)]);
    assert_eq!(
        remittance(&due[0], Language::Nl),
        "Termijn 2/3 Factuur F-10"
    );
}

#[test]
fn remittance_is_cut_at_a_word_within_140_characters() {
    let items = (0..40)
        .map(|n| DueItem {
            item: CollectionItem {
                target: CollectionTarget::Invoice(InvoiceId::new(n)),
                amount: Money::eur_cents(1),
            },
            label: format!("2026-{n:04}"),
        })
        .collect();
    let due = Due {
        mandate: mandate(1, "M-1", SequenceState::First),
        items,
        invoice_numbers: vec![],
    };
    let text = remittance(&due, Language::Nl);
    assert!(text.starts_with("Facturen 2026-0000 2026-0001"), "{text}");
    assert!(
        text.len() <= 140 && text.ends_with(char::is_numeric),
        "{text}"
    );
}
