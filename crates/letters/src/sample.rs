//! Sample letters with fixed, consistent figures: what `Templates::check_all` compiles every
//! template with, and what the tests and the benchmark render.

use jiff::civil::{Date, date};

use crate::{
    Costs, CostsStatus, Creditor, Instalment, Interest, InterestLine, InvoiceLine, Language,
    LetterData, PaymentInstructions, PostalAddress, Recipient, StatutoryTerm,
};

/// The creation time of the sample letters: 2026-12-03 08:00 UTC.
pub fn created_at() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_796_284_800).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn d(y: i16, m: i8, day: i8) -> Date {
    date(y, m, day)
}

/// A complete letter: two invoices (one partly paid), statutory interest over two periods,
/// claimed collection costs, a fourteen-day term, a payment plan, links and the QR code.
/// Total: € 1.774,87.
pub fn letter(language: Language) -> LetterData {
    LetterData {
        language,
        creditor: Creditor {
            name: "Bakkerij De Vries B.V.".into(),
            address: PostalAddress {
                lines: vec!["Marktplein 1".into(), "3511 AB Utrecht".into()],
            },
            registration_number: Some("12345678".into()),
            vat_number: Some("NL123456789B01".into()),
            iban: "NL91ABNA0417164300".into(),
            bic: Some("ABNANL2A".into()),
            website: Some("www.bakkerijdevries.example".into()),
            email: Some("debiteuren@bakkerijdevries.example".into()),
            phone: Some("030 123 45 67".into()),
            letterhead: Some("Brood en banket sinds 1921".into()),
        },
        debtor: Recipient {
            name: "J. Jansen".into(),
            contact_person: None,
            address: PostalAddress {
                lines: vec!["Dorpsstraat 12".into(), "1234 AB Amsterdam".into()],
            },
        },
        letter_date: d(2026, 12, 3),
        our_reference: "D-000042".into(),
        case_number: "42".into(),
        invoices: vec![
            InvoiceLine {
                number: "F2026-0101".into(),
                description: Some("Levering brood en banket september".into()),
                date: d(2026, 9, 1),
                due_date: Some(d(2026, 10, 1)),
                amount: 123_456,
                paid: 0,
                open: 123_456,
            },
            InvoiceLine {
                number: "F2026-0117".into(),
                description: None,
                date: d(2026, 9, 15),
                due_date: Some(d(2026, 10, 15)),
                amount: 50_000,
                paid: 20_000,
                open: 30_000,
            },
        ],
        interest: Some(Interest {
            statute: "art. 6:119 BW".into(),
            lines: vec![
                InterestLine {
                    invoice: "F2026-0101".into(),
                    from: d(2026, 10, 2),
                    to: d(2026, 12, 3),
                    days: 63,
                    rate: 40_000,
                    base: 123_456,
                    amount: 852,
                },
                InterestLine {
                    invoice: "F2026-0117".into(),
                    from: d(2026, 10, 16),
                    to: d(2026, 12, 3),
                    days: 49,
                    rate: 40_000,
                    base: 30_000,
                    amount: 161,
                },
            ],
            total: 1_013,
        }),
        costs: Some(Costs {
            status: CostsStatus::Claimed,
            amount: 23_018,
            vat: 0,
            total: 23_018,
            explanation: "BIK art. 2: 15% of € 1.534,56 (minimum € 40, maximum € 6.775)".into(),
        }),
        reminder_fee: None,
        interest_rate: Some(40_000),
        total: 177_487,
        payment: PaymentInstructions {
            beneficiary: "Bakkerij De Vries B.V.".into(),
            iban: "NL91ABNA0417164300".into(),
            bic: Some("ABNANL2A".into()),
            amount: 177_487,
            reference: "7000 0000 0000 0042".into(),
            structured: false,
        },
        qr: true,
        payment_link: Some("https://pay.example/l/D-000042".into()),
        portal_link: Some("https://portal.example/d/D-000042".into()),
        deadline: d(2026, 12, 21),
        term: Some(StatutoryTerm {
            days: 14,
            received: d(2026, 12, 7),
            first_day: d(2026, 12, 8),
            last_day: d(2026, 12, 21),
            costs_due_from: d(2026, 12, 22),
        }),
        instalments: vec![
            Instalment {
                due: d(2027, 1, 1),
                amount: 60_000,
            },
            Instalment {
                due: d(2027, 2, 1),
                amount: 60_000,
            },
            Instalment {
                due: d(2027, 3, 1),
                amount: 57_487,
            },
        ],
        signatory: Some("M. de Vries, debiteurenbeheer".into()),
    }
}

/// A bare letter: one invoice, no interest, no costs, no term, no links, no QR code. Templates
/// must compile with it too (the optional parts are absent).
pub fn minimal(language: Language) -> LetterData {
    let mut l = letter(language);
    l.invoices.truncate(1);
    l.interest = None;
    l.costs = None;
    l.total = 123_456;
    l.payment.amount = 123_456;
    l.qr = false;
    l.payment_link = None;
    l.portal_link = None;
    l.term = None;
    l.instalments.clear();
    l.signatory = None;
    l.creditor.letterhead = None;
    l.creditor.website = None;
    l.creditor.bic = None;
    l.payment.bic = None;
    l
}

/// The sample a template is checked with: the statutory letters (fourteen-day letter, Belgian
/// first reminder) announce the costs and claim neither interest nor costs; the others get the
/// complete sample.
pub fn for_template(name: &str, language: Language) -> LetterData {
    let mut l = letter(language);
    if crate::STATUTORY_TEMPLATES.contains(&name) {
        l.interest = None;
        if let Some(c) = l.costs.as_mut() {
            c.status = CostsStatus::Announced;
        }
        l.total = 153_456;
        l.payment.amount = 153_456;
    }
    l
}
