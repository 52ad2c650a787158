//! Every sample parses (except the invalid one), with counts, balance
//! checks, and the structured `:86:` fields of the Dutch variants.

use incasso_mt940::{
    EntryMark, Error, InformationFormat, MessageType, Severity, check_balances, parse,
};

use crate::{read, statement_files};

const INVALID: &str = "wolph/self-provided-invalid_statement.sta";

/// Statements whose balances do not add up in the sample itself (edited or
/// anonymised test data), as `(file, statement index, computed, stated)`.
const BALANCE_MISMATCH: &[(&str, usize, &str, &str)] = &[
    (
        "ing-libmt94x/ming-ing-provided-example-multiple-messages.txt",
        0,
        "985.00",
        "4882.15",
    ),
    (
        "ing-libmt94x/ming-ing-provided-example-multiple-messages.txt",
        1,
        "985.00",
        "4882.15",
    ),
    (
        "ing-libmt94x/ming-ing-provided-example-single-message.txt",
        0,
        "4342.15",
        "4882.15",
    ),
    ("wolph-jejik/abnamro.sta", 0, "2914.84", "876.84"),
    ("wolph-jejik/abnamro.sta", 1, "2852.35", "1849.75"),
    ("wolph-jejik/ing.sta", 0, "-45.59", "3.47"),
    ("wolph-jejik/knab.sta", 1, "-3701.02", "798.98"),
    ("wolph-jejik/rabobank.sta", 0, "-740.11", "395.82"),
    ("wolph-jejik/rabobank.sta", 2, "1014.31", "1250.87"),
    ("wolph-jejik/triodos.sta", 0, "4259.39", "4370.79"),
];

#[test]
fn every_sample_statement_parses() {
    let mut files = 0;
    let mut statements = 0;
    let mut entries = 0;
    for file in statement_files() {
        if file == INVALID {
            continue;
        }
        let (doc, diagnostics) = parse(&read(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(doc.is_valid(), "{file}: {diagnostics:?}");
        assert!(
            diagnostics.iter().all(|d| d.severity == Severity::Warning),
            "{file}: {diagnostics:?}"
        );
        for statement in &doc.statements {
            assert!(statement.account.is_some(), "{file}");
            for entry in &statement.entries {
                assert!(
                    entry.value_date.is_some() && entry.amount.is_some(),
                    "{file}"
                );
                assert!(
                    entry.mark.is_some() && entry.transaction_type.is_some(),
                    "{file}"
                );
            }
        }
        files += 1;
        statements += doc.statements.len();
        entries += doc.entry_count();
    }
    assert_eq!(files, 19);
    assert_eq!(statements, 85);
    assert_eq!(entries, 188);
}

#[test]
fn balance_check_on_every_statement_with_opening_and_closing() {
    let mut checked = 0;
    for file in statement_files() {
        if file == INVALID {
            continue;
        }
        let (doc, _) = parse(&read(&file)).unwrap();
        for (i, statement) in doc.statements.iter().enumerate() {
            let mismatch = BALANCE_MISMATCH.iter().find(|m| m.0 == file && m.1 == i);
            match (check_balances(statement), mismatch) {
                (Ok(Some(_)), None) => checked += 1,
                (Ok(None), None) => assert!(
                    statement.opening_balance.is_none() || statement.closing_balance.is_none()
                ),
                (Err(d), Some((_, _, computed, stated))) => {
                    assert!(
                        d.message.contains(&format!("= {computed}, but")),
                        "{file}: {d}"
                    );
                    assert!(d.message.ends_with(&format!("is {stated}")), "{file}: {d}");
                    assert_eq!(d.line, statement.line);
                }
                (other, _) => panic!("{file} statement {i}: {other:?}"),
            }
        }
    }
    // 85 statements: 10 mismatches in the samples, 1 MT942 without balances.
    assert_eq!(checked, 74);
}

#[test]
fn invalid_statement_is_rejected() {
    // Ten lines "1".."10": no :20: tag, so not a statement file at all.
    assert_eq!(parse(&read(INVALID)), Err(Error::NoStatement));
}

#[test]
fn february_30_is_kept_and_warned() {
    let (doc, diagnostics) = parse(&read("wolph/self-provided-february_30.sta")).unwrap();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    assert_eq!(
        (d.severity, d.line, d.tag.as_str(), d.field),
        (Severity::Warning, 6, "61", "value date")
    );
    let entry = &doc.statements[0].entries[0];
    assert!(entry.valid);
    let date = entry.value_date.as_ref().unwrap();
    assert_eq!(date.raw, "160230");
    assert_eq!(date.to_string(), "2016-02-30");
    assert!(!date.is_calendar_date());
    assert_eq!(date.clamped(), (2016, 2, 29));
    assert_eq!(entry.entry_date.as_ref().unwrap().to_string(), "2016-03-01");
    assert_eq!(entry.mark, Some(EntryMark::Debit));
    assert_eq!(entry.funds_code, Some('R'));
    assert_eq!(
        entry.details.format,
        InformationFormat::QuestionMarkSubfields
    );
    assert_eq!(entry.details.transaction_code.as_deref(), Some("805"));
    assert_eq!(
        entry.details.booking_text.as_deref(),
        Some("ENTGELTABSCHLUSS")
    );
    assert!(check_balances(&doc.statements[0]).unwrap().is_some());
}

#[test]
fn ing_structured_return() {
    let (doc, _) = parse(&read(
        "ing-libmt94x/ibp-structured-ing-provided-example.txt",
    ))
    .unwrap();
    let statement = &doc.statements[0];
    assert_eq!(statement.transaction_reference, "ING");
    assert_eq!(statement.statement_number.as_deref(), Some("21"));
    assert_eq!(
        statement
            .closing_available_balance
            .as_ref()
            .unwrap()
            .amount
            .to_string(),
        "19.52"
    );
    assert_eq!(statement.forward_available_balances.len(), 2);
    assert_eq!(
        statement.information.as_deref(),
        Some("D000003C000000D6,58C0,00")
    );
    let returned = &statement.entries[0];
    assert_eq!(returned.customer_reference.as_deref(), Some("MARF"));
    let d = &returned.details;
    assert_eq!(d.format, InformationFormat::SlashCodes);
    assert_eq!(d.return_reason.as_deref(), Some("MS03"));
    assert_eq!(d.mandate_reference.as_deref(), Some("EV45451"));
    assert_eq!(d.end_to_end_id.as_deref(), Some("EV45451REP170112T1106"));
    assert_eq!(d.creditor_id.as_deref(), Some("NL32ZZZ999999991234"));
    assert_eq!(
        d.counterparty_account.as_deref(),
        Some("NL50INGB0001234567")
    );
    assert_eq!(d.counterparty_bic.as_deref(), Some("INGBNL2A"));
}

#[test]
fn ing_mijn_ing_structured_remittance_and_swift_blocks() {
    let (doc, diagnostics) = parse(&read(
        "ing-libmt94x/ming-ing-provided-example-single-message.txt",
    ))
    .unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let statement = &doc.statements[0];
    assert_eq!(
        statement.account_iban.as_deref(),
        Some("NL20INGB0001234567")
    );
    assert_eq!(statement.account_currency.as_deref(), Some("EUR"));
    let first = &statement.entries[0];
    assert_eq!(first.bank_reference.as_deref(), Some("00000000000001"));
    assert_eq!(first.supplementary_details.as_deref(), Some("/TRCD/00108/"));
    assert_eq!(
        first.details.payment_reference.as_deref(),
        Some("5200150700013379")
    );
    assert_eq!(
        first.details.payment_reference_issuer.as_deref(),
        Some("CUR")
    );
    assert_eq!(
        first.details.counterparty_name.as_deref(),
        Some("ING Testrekening")
    );
    let returned = &statement.entries[3];
    assert_eq!(returned.transaction_type.as_deref(), Some("NRTI"));
    assert_eq!(returned.details.return_reason.as_deref(), Some("MD06"));
    assert_eq!(
        returned.details.mandate_reference.as_deref(),
        Some("MNDTID5653M5")
    );
    assert_eq!(
        returned.details.remittance.as_deref(),
        Some("UstrdRemInf87899100")
    );
}

#[test]
fn rabobank_variants() {
    // Old format: several :86: tags for one entry, counterparty in :61:.
    let (doc, _) = parse(&read("wolph-jejik/rabobank.sta")).unwrap();
    let entry = &doc.statements[0].entries[0];
    assert_eq!(entry.customer_reference.as_deref(), Some("0121470966"));
    assert_eq!(entry.supplementary_details.as_deref(), Some("W.P. Jansen"));
    assert_eq!(
        entry.information.as_deref(),
        Some("Terugboeking\nNIET AKKOORD MET AFSCHRIJVING\nKOSTEN KINDEROPVANG JUNI\n20095731")
    );
    let kpn = &doc.statements[2].entries[0];
    assert_eq!(kpn.details.payment_reference.as_deref(), Some("123456789"));
    // IBAN format: /EREF/ /BENM//NAME/ /REMI/.
    let (doc, _) = parse(&read("wolph-jejik/rabobank-iban.sta")).unwrap();
    let statement = &doc.statements[0];
    assert_eq!(
        statement.account_iban.as_deref(),
        Some("NL71RABO0123456789")
    );
    let entry = &statement.entries[0];
    assert_eq!(
        entry.supplementary_details.as_deref(),
        Some("NL70ABNA0987654321")
    );
    assert_eq!(
        entry.details.end_to_end_id.as_deref(),
        Some("01-01-2013 12:00 0030000987654321")
    );
    assert_eq!(
        entry.details.counterparty_name.as_deref(),
        Some("CONTRA ACCOUNT HOLDER")
    );
    assert_eq!(
        statement.entries[1].details.remittance.as_deref(),
        Some("Reference 201301234")
    );
}

#[test]
fn other_dutch_and_german_variants() {
    let (doc, _) = parse(&read("wolph-jejik/abnamro.sta")).unwrap();
    let entry = &doc.statements[0].entries[0];
    assert_eq!(
        entry.details.payment_reference.as_deref(),
        Some("000000042188659")
    );
    assert_eq!(
        doc.statements[1].opening_balance.as_ref().unwrap().tag,
        "60M"
    );
    assert_eq!(
        doc.statements[1].closing_balance.as_ref().unwrap().tag,
        "62M"
    );

    let (doc, _) = parse(&read("wolph-jejik/triodos.sta")).unwrap();
    let entry = &doc.statements[0].entries[1];
    assert_eq!(
        entry.details.format,
        InformationFormat::GreaterThanSubfields
    );
    assert_eq!(
        entry.details.remittance.as_deref(),
        Some("HUUR KANTOOR - FEB 2010")
    );

    let (doc, _) = parse(&read("wolph-jejik/knab.sta")).unwrap();
    let entry = &doc.statements[1].entries[1];
    assert_eq!(entry.amount.unwrap().to_string(), "500");
    assert_eq!(
        entry.customer_reference.as_deref(),
        Some("29-07-2014 10:05")
    );
    assert_eq!(entry.bank_reference.as_deref(), Some("B4G29PGDCK1QFV3E"));
    assert_eq!(
        entry.details.counterparty_account.as_deref(),
        Some("NL84INGB0234561789")
    );
    assert_eq!(
        entry.details.counterparty_name.as_deref(),
        Some("MMS ONLINE NEDERLAND B.V.")
    );

    let (doc, _) = parse(&read("wolph/ASNB-0708271685_09022020_164516.940.txt")).unwrap();
    assert_eq!(doc.statements.len(), 31);
    assert_eq!(
        doc.statements[0].account_iban.as_deref(),
        Some("NL81ASNB9999999999")
    );

    // German SEPA: reversal of a credit is money out; the statement balances
    // confirm it (the first statement holds an RC entry).
    let (doc, _) = parse(&read("wolph/betterplace-sepa_mt9401.sta")).unwrap();
    let statement = &doc.statements[0];
    let rc = statement
        .entries
        .iter()
        .find(|e| e.mark == Some(EntryMark::ReversalOfCredit))
        .unwrap();
    assert_eq!(rc.signed_amount().unwrap().to_string(), "-204.88");
    assert!(check_balances(statement).unwrap().is_some());
    let sepa = doc
        .statements
        .iter()
        .flat_map(|s| &s.entries)
        .find(|e| e.details.end_to_end_id.as_deref() == Some("EndToEndIdTFNR5200100001"))
        .unwrap();
    assert_eq!(
        sepa.details.counterparty_bic.as_deref(),
        Some("PBNKDEFF100")
    );
    assert_eq!(
        sepa.details.counterparty_account.as_deref(),
        Some("DE42100100100043921105")
    );
    assert_eq!(
        sepa.details.remittance.as_deref(),
        Some("Keine Buchung zu: TO13 TF52001 MINT")
    );
}

#[test]
fn mt942() {
    let (doc, diagnostics) = parse(&read("wolph/self-provided-mt942.sta")).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let statement = &doc.statements[0];
    assert_eq!(statement.message_type, MessageType::Mt942);
    assert_eq!(statement.floor_limits, ["EURD0,00", "EURC0,00"]);
    assert_eq!(
        statement.date_time_indication.as_deref(),
        Some("1610301730+0000")
    );
    assert_eq!(statement.sum_debit_entries.as_deref(), Some("1EUR2,30"));
    let entry = &statement.entries[0];
    assert_eq!(entry.transaction_type.as_deref(), Some("MCI0"));
    assert_eq!(
        entry.supplementary_details.as_deref(),
        Some("YAY MT942 CHG")
    );
    assert_eq!(
        entry.information.as_deref(),
        Some("REMIT:Costs to MT940 Parsing.\nThis is Somuchfun.")
    );
    assert_eq!(check_balances(statement), Ok(None));
}
