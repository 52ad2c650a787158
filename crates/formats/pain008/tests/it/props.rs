//! Property tests: the control sums are exact sums of the amounts, and
//! random valid input always validates against the XSD (a handful of cases
//! through xmllint).

use incasso_pain008::*;
use proptest::prelude::*;

use crate::{creditor, date, leaves, xmllint};

/// A Dutch IBAN with correct check digits for bank code and account number.
fn nl_iban(bank: &str, account: u64) -> String {
    let bban = format!("{bank}{account:010}");
    let digits: String = format!("{bban}NL00")
        .chars()
        .map(|c| c.to_digit(36).expect("alnum").to_string())
        .collect();
    let rem = digits
        .bytes()
        .fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
    format!("NL{:02}{bban}", 98 - rem)
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9/?:().,'+ éüßÆøŁ&<>\"-]{{1,{max}}}"))
        .expect("regex")
        // A length in characters after transliteration (ß → ss) may exceed max.
        .prop_map(move |s| s.chars().take(max / 2).collect::<String>())
        .prop_filter("not empty", |s| !s.is_empty())
}

fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.-]{0,33}[A-Za-z0-9]"
}

fn transaction() -> impl Strategy<Value = Transaction> {
    (
        ident(),
        1..=MAX_AMOUNT_CENTS,
        ident(),
        text(70),
        ("[A-Z]{4}", 0u64..10_000_000_000),
        proptest::option::of(prop_oneof![Just("RABONL2U"), Just("INGBNL2AXXX")]),
        0u8..4,
        text(140),
        0u8..4,
    )
        .prop_map(
            |(e2e, cents, mandate, name, (bank, acct), bic, rmt, ustrd, amend)| Transaction {
                end_to_end_id: e2e,
                amount_cents: cents,
                mandate: Mandate {
                    id: mandate,
                    signed_on: date(2023, 6, 30),
                    amendment: match amend {
                        0 => None,
                        1 => Some(Amendment {
                            original_mandate_id: Some("OLD-1".into()),
                            ..Amendment::default()
                        }),
                        2 => Some(Amendment {
                            original_debtor_account: Some(OriginalDebtorAccount::Smnda),
                            debtor_agent_changed: true,
                            ..Amendment::default()
                        }),
                        _ => Some(Amendment {
                            original_creditor: Some(OriginalCreditor {
                                name: Some("Old".into()),
                                scheme_id: Some("DE98ZZZ09999999999".into()),
                            }),
                            original_debtor_account: Some(OriginalDebtorAccount::Iban(nl_iban(
                                "ABNA", 417164300,
                            ))),
                            ..Amendment::default()
                        }),
                    },
                },
                debtor: Debtor {
                    name,
                    iban: nl_iban(&bank, acct),
                    bic: bic.map(str::to_owned),
                },
                remittance: match rmt {
                    0 => None,
                    1 => Some(Remittance::Unstructured(ustrd)),
                    2 => Some(Remittance::Structured(CreditorReference::Iso11649(
                        "RF18539007547034".into(),
                    ))),
                    _ => Some(Remittance::Structured(CreditorReference::Other {
                        reference: "1234567890123456".into(),
                        issuer: None,
                    })),
                },
            },
        )
}

fn message() -> impl Strategy<Value = Message> {
    (
        proptest::collection::vec(
            (
                prop_oneof![
                    Just(SequenceType::First),
                    Just(SequenceType::Recurring),
                    Just(SequenceType::OneOff),
                    Just(SequenceType::Final)
                ],
                1u8..=28,
                proptest::collection::vec(transaction(), 1..6),
            ),
            1..4,
        ),
        any::<bool>(),
    )
        .prop_map(|(blocks, b2b)| Message {
            message_id: "PROP-1".into(),
            created_at: DateTime::new(date(2025, 1, 1), 12, 0, 0).expect("time"),
            initiating_party: "Prop & Co".into(),
            creditor: creditor(),
            scheme: if b2b { Scheme::B2b } else { Scheme::Core },
            batches: blocks
                .into_iter()
                .enumerate()
                .map(|(i, (seq, day, transactions))| PaymentInformation {
                    id: format!("PMT-{i}"),
                    sequence_type: seq,
                    collection_date: date(2025, 2, day),
                    batch_booking: None,
                    transactions,
                })
                .collect(),
        })
}

/// Parses `123.45` into cents.
fn cents(s: &str) -> u64 {
    let (units, frac) = s.split_once('.').expect("two decimals");
    assert_eq!(frac.len(), 2, "{s}");
    units.parse::<u64>().expect("units") * 100 + frac.parse::<u64>().expect("fraction")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn control_sums_are_exact(m in message()) {
        let xml = write_string(&m, Options::new(Version::V02)).expect("valid input writes");
        let sums: Vec<u64> = leaves(&xml, "CtrlSum").into_iter().map(cents).collect();
        let counts: Vec<usize> = leaves(&xml, "NbOfTxs").into_iter().map(|n| n.parse().expect("count")).collect();
        let amounts: Vec<u64> = xml
            .match_indices("<InstdAmt Ccy=\"EUR\">")
            .map(|(i, tag)| {
                let rest = &xml[i + tag.len()..];
                cents(&rest[..rest.find('<').expect("close")])
            })
            .collect();
        let block_sums: Vec<u64> = m.batches.iter().map(|b| b.transactions.iter().map(|t| t.amount_cents).sum()).collect();
        prop_assert_eq!(sums[0], block_sums.iter().sum::<u64>());
        prop_assert_eq!(&sums[1..], &block_sums[..]);
        prop_assert_eq!(amounts.iter().sum::<u64>(), sums[0]);
        prop_assert_eq!(counts[0], amounts.len());
        prop_assert_eq!(&counts[1..], &m.batches.iter().map(|b| b.transactions.len()).collect::<Vec<_>>()[..]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn random_valid_input_validates(m in message(), v08 in any::<bool>()) {
        let version = if v08 { Version::V08 } else { Version::V02 };
        let xml = write(&m, Options::new(version)).expect("valid input writes");
        xmllint(&xml, version);
    }
}
