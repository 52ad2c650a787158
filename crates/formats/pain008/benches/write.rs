//! Throughput check (not a timed test): builds a pain.008 message with
//! 10,000 transactions in memory and reports the time `write` takes for
//! each version, best of five runs.
//!
//! Run with `cargo bench -p incasso-pain008 --bench write`. Target
//! (issue 6): 10,000 transactions within 0.2 s (peer: Python sepaxml,
//! about 22,000 transactions/s).

use std::time::{Duration, Instant};

use incasso_pain008::*;

const TRANSACTIONS: usize = 10_000;

fn date(y: u16, m: u8, d: u8) -> Date {
    Date::new(y, m, d).expect("valid date")
}

/// A Dutch IBAN with correct check digits.
fn nl_iban(account: u64) -> String {
    let bban = format!("RABO{account:010}");
    let digits: String = format!("{bban}NL00")
        .chars()
        .map(|c| c.to_digit(36).expect("alnum").to_string())
        .collect();
    let rem = digits
        .bytes()
        .fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
    format!("NL{:02}{bban}", 98 - rem)
}

fn message() -> Message {
    let transactions: Vec<Transaction> = (0..TRANSACTIONS)
        .map(|i| {
            let n = u64::try_from(i).expect("fits");
            Transaction {
                end_to_end_id: format!("E2E-{i:08}"),
                amount_cents: 100 + (n * 7919) % 500_000,
                mandate: Mandate {
                    id: format!("MNDT-{i:08}"),
                    signed_on: date(2023, 5, 1),
                    amendment: None,
                },
                debtor: Debtor {
                    name: format!("Débiteur Nummer {i}"),
                    iban: nl_iban(100_000 + n),
                    bic: (i % 2 == 0).then(|| "RABONL2U".to_owned()),
                },
                remittance: Some(if i % 3 == 0 {
                    Remittance::Structured(CreditorReference::Iso11649("RF18539007547034".into()))
                } else {
                    Remittance::Unstructured(format!("Factuur 2025-{i:06} termijn 1 van 3"))
                }),
            }
        })
        .collect();
    let half = TRANSACTIONS / 2;
    let mut first = transactions;
    let rest = first.split_off(half);
    Message {
        message_id: "BENCH-1".into(),
        created_at: DateTime::new(date(2025, 3, 1), 9, 0, 0).expect("time"),
        initiating_party: "Incasso Demo B.V.".into(),
        creditor: Creditor {
            name: "Incasso Demo B.V.".into(),
            iban: "NL91ABNA0417164300".into(),
            bic: Some("ABNANL2A".into()),
            scheme_id: "NL57ZZZ999999999999".into(),
        },
        scheme: Scheme::Core,
        batches: vec![
            PaymentInformation {
                id: "PMT-FRST".into(),
                sequence_type: SequenceType::First,
                collection_date: date(2025, 3, 10),
                batch_booking: Some(true),
                transactions: first,
            },
            PaymentInformation {
                id: "PMT-RCUR".into(),
                sequence_type: SequenceType::Recurring,
                collection_date: date(2025, 3, 7),
                batch_booking: Some(true),
                transactions: rest,
            },
        ],
    }
}

fn main() {
    let m = message();
    for version in [Version::V02, Version::V08] {
        let mut best = Duration::MAX;
        let mut bytes = 0;
        for _ in 0..5 {
            let start = Instant::now();
            let xml = write(&m, Options::new(version)).expect("valid input");
            best = best.min(start.elapsed());
            bytes = xml.len();
        }
        let per_s = u128::try_from(TRANSACTIONS).unwrap_or(0) * 1_000_000 / best.as_micros().max(1);
        println!(
            "{}: {TRANSACTIONS} transactions, {bytes} bytes in {:.1?} (best of 5), {per_s} tx/s; target 0.2 s: {}",
            version.id(),
            best,
            if best <= Duration::from_millis(200) {
                "met"
            } else {
                "MISSED"
            }
        );
    }
}
