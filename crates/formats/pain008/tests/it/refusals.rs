//! Refusals: each names the place and the field.

use incasso_pain008::*;

use crate::full_message;

fn refuse(change: impl FnOnce(&mut Message)) -> Error {
    let mut m = full_message();
    change(&mut m);
    let err = write(&m, Options::new(Version::V02)).expect_err("must be refused");
    assert_eq!(
        Some(&err),
        write(&m, Options::new(Version::V08)).err().as_ref(),
        "both versions refuse alike"
    );
    err
}

fn tx_at(err: &Error) -> (&str, &'static str, &Problem) {
    match err {
        Error::Invalid {
            at: Location::Transaction { end_to_end_id, .. },
            field,
            problem,
        } => (end_to_end_id.as_str(), *field, problem),
        other => panic!("not a transaction error: {other:?}"),
    }
}

#[test]
fn empty_message_and_empty_block() {
    assert_eq!(refuse(|m| m.batches.clear()), Error::NoBatches);
    let err = refuse(|m| m.batches[1].transactions.clear());
    assert_eq!(
        err,
        Error::EmptyBatch {
            at: Location::Batch {
                index: 2,
                id: "PMT-RCUR".into()
            }
        }
    );
    assert_eq!(
        err.to_string(),
        "empty batch: payment information 2 (\"PMT-RCUR\") has no transactions"
    );
}

#[test]
fn amounts() {
    let err = refuse(|m| m.batches[0].transactions[1].amount_cents = 0);
    assert_eq!(
        tx_at(&err),
        ("E2E-0002", "amount", &Problem::Amount { minor: 0 })
    );
    let err = refuse(|m| m.batches[2].transactions[0].amount_cents = MAX_AMOUNT_CENTS + 1);
    assert_eq!(tx_at(&err).1, "amount");
    assert_eq!(
        err.to_string(),
        "transaction \"E2E-0005\" (payment information 3, transaction 1): amount of 100000000000 cents is outside 0.01 ..= 999999999.99 EUR"
    );
}

#[test]
fn debtor_fields() {
    let err = refuse(|m| m.batches[0].transactions[0].debtor.iban = "NL91ABNA0417164301".into());
    let (id, field, problem) = tx_at(&err);
    assert_eq!((id, field), ("E2E-0001", "debtor IBAN"));
    assert!(matches!(
        problem,
        Problem::Iban {
            reason: "the check digits do not match",
            ..
        }
    ));
    let err = refuse(|m| m.batches[0].transactions[0].debtor.bic = Some("RABONL2".into()));
    assert_eq!(tx_at(&err).1, "debtor BIC");
    let err = refuse(|m| m.batches[0].transactions[0].debtor.name = "x".repeat(71));
    assert_eq!(tx_at(&err).2, &Problem::TooLong { len: 71, max: 70 });
    let err = refuse(|m| m.batches[0].transactions[0].debtor.name = "Иван".into());
    assert_eq!(
        tx_at(&err).2,
        &Problem::Charset {
            ch: 'И',
            code: 0x418
        }
    );
    let err = refuse(|m| m.batches[0].transactions[0].debtor.name = String::new());
    assert_eq!(tx_at(&err), ("E2E-0001", "debtor name", &Problem::Empty));
}

#[test]
fn identifiers_and_references() {
    let err = refuse(|m| m.batches[0].transactions[1].end_to_end_id = "E".repeat(36));
    assert_eq!(tx_at(&err).1, "end-to-end id");
    let err = refuse(|m| m.batches[0].transactions[1].end_to_end_id = "E2E/".into());
    assert_eq!(tx_at(&err).2, &Problem::Slashes);
    let err = refuse(|m| m.batches[0].transactions[1].mandate.id = "MANDAAT-É".into());
    assert_eq!(tx_at(&err).1, "mandate id");
    let err = refuse(|m| {
        m.batches[0].transactions[0].remittance = Some(Remittance::Structured(
            CreditorReference::Iso11649("RF19539007547034".into()),
        ))
    });
    assert_eq!(tx_at(&err).1, "creditor reference");
    let err = refuse(|m| {
        m.batches[0].transactions[0].remittance = Some(Remittance::Unstructured("x".repeat(141)))
    });
    assert_eq!(
        tx_at(&err),
        (
            "E2E-0001",
            "unstructured remittance",
            &Problem::TooLong { len: 141, max: 140 }
        )
    );
    let err =
        refuse(|m| m.batches[1].transactions[0].mandate.amendment = Some(Amendment::default()));
    assert_eq!(
        tx_at(&err),
        ("E2E-0003", "amendment", &Problem::EmptyAmendment)
    );
    let err = refuse(|m| {
        m.batches[0].transactions[1].mandate.amendment = Some(Amendment {
            original_creditor: Some(OriginalCreditor {
                name: None,
                scheme_id: Some("NL98ZZZ999999999999".into()),
            }),
            ..Amendment::default()
        })
    });
    assert_eq!(tx_at(&err).1, "original creditor scheme id");
}

#[test]
fn message_creditor_and_block_fields() {
    let err = refuse(|m| m.creditor.scheme_id = "NL98ZZZ999999999999".into());
    assert!(matches!(
        err,
        Error::Invalid {
            at: Location::Creditor,
            field: "creditor scheme id",
            problem: Problem::CreditorId { .. }
        }
    ));
    let err = refuse(|m| m.creditor.iban = "US12345678901234".into());
    assert!(matches!(
        err,
        Error::Invalid {
            at: Location::Creditor,
            field: "IBAN",
            ..
        }
    ));
    let err = refuse(|m| m.message_id = String::new());
    assert_eq!(
        err,
        Error::Invalid {
            at: Location::Message,
            field: "message id",
            problem: Problem::Empty
        }
    );
    let err = refuse(|m| m.batches[2].id = "PMT-FRST".into());
    assert!(matches!(
        err,
        Error::Invalid {
            at: Location::Batch { index: 3, .. },
            field: "payment information id",
            problem: Problem::Duplicate { .. }
        }
    ));
}

#[test]
fn refuse_policy_refuses_what_transliterate_converts() {
    let m = full_message();
    let mut options = Options::new(Version::V02);
    assert!(write(&m, options).is_ok());
    options.text = TextPolicy::Refuse;
    let err = write(&m, options).expect_err("é is refused");
    assert_eq!(
        tx_at(&err),
        (
            "E2E-0001",
            "debtor name",
            &Problem::Charset {
                ch: 'ë',
                code: 0xEB
            }
        )
    );
}

#[test]
fn dates() {
    assert!(Date::new(2024, 2, 29).is_ok());
    assert!(Date::new(2025, 2, 29).is_err());
    assert!(Date::new(2025, 13, 1).is_err());
    assert!(DateTime::new(crate::date(2025, 1, 1), 24, 0, 0).is_err());
    let t = DateTime::new(crate::date(2025, 1, 1), 23, 5, 9).expect("time");
    assert_eq!(t.to_string(), "2025-01-01T23:05:09");
    assert_eq!(
        t.with_offset(-90).expect("offset").to_string(),
        "2025-01-01T23:05:09-01:30"
    );
}

#[test]
fn dates_relative_to_the_creation_date() {
    let err = refuse(|m| m.batches[1].transactions[1].mandate.signed_on = crate::date(2025, 3, 2));
    assert_eq!(
        tx_at(&err),
        (
            "E2E-0004",
            "mandate date of signature",
            &Problem::AfterCreation {
                date: "2025-03-02".into(),
                created: "2025-03-01".into()
            }
        )
    );
    let err = refuse(|m| m.batches[2].collection_date = crate::date(2025, 2, 28));
    assert!(matches!(
        err,
        Error::Invalid {
            at: Location::Batch { index: 3, .. },
            field: "requested collection date",
            problem: Problem::BeforeCreation { .. }
        }
    ));
    // Signed on the day of creation, collected that same day: fine.
    let mut m = full_message();
    m.batches[0].transactions[0].mandate.signed_on = crate::date(2025, 3, 1);
    m.batches[0].collection_date = crate::date(2025, 3, 1);
    assert!(write(&m, Options::new(Version::V02)).is_ok());
}
