//! Every sample parses (except the one negative sample), with the expected
//! kind, version, counts, warnings and balance-check outcome.

use incasso_camt::{CreditDebit, Decimal, MessageKind, Severity, check_balances, parse};

use crate::{read, xml_files};

/// The only sample that is not a statement: `BkToCstmrStmt` without `Stmt`.
const WRONG: &str = "camt053/genkgo/camt053.v2.wrong.xml";

/// Samples whose opening and closing balances do not add up by design of
/// the sample (test data edited by hand), with the reason.
const BALANCE_MISMATCH: &[(&str, &str)] = &[
    // genkgo: closing balance in SEK against an opening balance in EUR.
    (
        "camt053/genkgo/camt053.v2.minimal.xml",
        "closing balance in",
    ),
    (
        "camt053/genkgo/camt053.v2.minimal.ultimate.xml",
        "closing balance in",
    ),
    (
        "camt053/genkgo/camt053.v2.with-party-ids.xml",
        "closing balance in",
    ),
    ("camt053/genkgo/camt053.v3.xml", "closing balance in"),
    ("camt053/genkgo/camt053.v4.xml", "closing balance in"),
    ("camt053/genkgo/camt053.v8.xml", "closing balance in"),
    // genkgo: 18.150 + 8.850 = 27.000, stated 27.050.
    ("camt053/genkgo/camt053.v2.five.decimals.xml", "failed"),
    // genkgo: one balance of every type with made-up amounts.
    ("camt053/genkgo/camt053.v2.all-balance-types.xml", "failed"),
    // OCA: 15568.27 - 754.25 - 664.05 + 1405.31 = 15555.28, stated 15121.12.
    ("camt053/oca/test-camt053.xml", "failed"),
];

#[test]
fn every_sample_statement_parses() {
    let mut parsed = 0;
    let mut entries = 0;
    for kind in ["camt053", "camt054", "camt052"] {
        for file in xml_files(kind) {
            if file == WRONG {
                continue;
            }
            let (doc, diagnostics) = parse(&read(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            let expected_kind = match kind {
                "camt053" => MessageKind::Statement,
                "camt054" => MessageKind::Notification,
                _ => MessageKind::AccountReport,
            };
            assert_eq!(doc.kind, expected_kind, "{file}");
            assert!(!doc.statements.is_empty(), "{file}");
            assert!(doc.all_entries_valid(), "{file}: {diagnostics:?}");
            assert!(
                diagnostics.iter().all(|d| d.severity == Severity::Warning),
                "{file}: {diagnostics:?}"
            );
            for statement in &doc.statements {
                assert_eq!(statement.entries.len(), statement.entry_count, "{file}");
                for entry in &statement.entries {
                    let amount = entry.amount.as_ref().unwrap();
                    assert!(!amount.currency.is_empty(), "{file}");
                    assert!(entry.credit_debit.is_some(), "{file}");
                }
            }
            parsed += 1;
            entries += doc.entry_count();
        }
    }
    assert_eq!(parsed, 29);
    assert_eq!(entries, 320);
}

#[test]
fn versions_and_counts() {
    let cases: &[(&str, &str, usize, usize)] = &[
        ("camt053/genkgo/camt053.v2.minimal.xml", "001.02", 1, 1),
        (
            "camt053/genkgo/camt053.v2.multi.statement.xml",
            "001.02",
            2,
            2,
        ),
        ("camt053/genkgo/camt053.v3.xml", "001.03", 1, 1),
        ("camt053/genkgo/camt053.v4.xml", "001.04", 1, 1),
        ("camt053/genkgo/camt053.v8.xml", "001.08", 1, 1),
        ("camt053/oca/test-camt053-no-ntry.xml", "001.04", 1, 0),
        ("camt053/rabobank/CAMT053-rabobank.xml", "001.02", 132, 9),
        (
            "camt053/subite-be/BE68793230773034-202411.xml",
            "001.02",
            1,
            268,
        ),
        (
            "camt053/subite-lt/LT625883379695428516-2024-05-14.xml",
            "001.08",
            2,
            10,
        ),
        (
            "camt054/subite-lt/LT809872649478701594-2024-03-18.xml",
            "001.10",
            1,
            1,
        ),
        (
            "camt052/subite-lt/LT809872649478701594-2024-08-28.xml",
            "001.06",
            1,
            0,
        ),
        ("camt052/genkgo/camt052.v8.xml", "001.08", 1, 1),
    ];
    for &(file, version, statements, entries) in cases {
        let (doc, _) = parse(&read(file)).unwrap();
        assert_eq!(doc.version, version, "{file}");
        assert_eq!(doc.statements.len(), statements, "{file}");
        assert_eq!(doc.entry_count(), entries, "{file}");
    }
}

#[test]
fn balance_check_on_every_sample_with_opening_and_closing() {
    let mut checked = 0;
    let mut statements = 0;
    for kind in ["camt053", "camt054", "camt052"] {
        for file in xml_files(kind) {
            if file == WRONG {
                continue;
            }
            let (doc, _) = parse(&read(&file)).unwrap();
            let mismatch = BALANCE_MISMATCH.iter().find(|(f, _)| *f == file);
            for statement in &doc.statements {
                match (check_balances(statement), mismatch) {
                    (Ok(Some(_)), None) => checked += 1,
                    (Ok(None), _) => {}
                    (Err(d), Some((_, why))) => {
                        assert!(d.message.contains(why), "{file}: {d}");
                        assert_eq!(d.path, statement.path);
                    }
                    (other, _) => panic!("{file} {}: {other:?}", statement.path),
                }
                statements += 1;
            }
        }
    }
    assert_eq!(statements, 163);
    // 2 multi.statement + 1 no-ntry + 1 txdtls + 132 Rabobank + 2 subite-be
    // + 4 subite-lt.
    assert_eq!(checked, 142);
}

#[test]
fn subite_be_268_entries_add_up() {
    let (doc, diagnostics) = parse(&read("camt053/subite-be/BE68793230773034-202411.xml")).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let statement = &doc.statements[0];
    assert_eq!(statement.entries.len(), 268);
    assert_eq!(statement.account.iban.as_deref(), Some("BE68793230773034"));
    let check = check_balances(statement).unwrap().unwrap();
    // Recompute independently from the kept entries.
    let sum = statement
        .entries
        .iter()
        .filter(|e| e.is_booked())
        .map(|e| e.signed_amount().unwrap())
        .try_fold(Decimal::ZERO, Decimal::checked_add)
        .unwrap();
    assert!(sum.same_value(check.booked));
    assert!(
        check
            .opening
            .checked_add(sum)
            .unwrap()
            .same_value(check.closing)
    );
}

#[test]
fn wrong_sample_is_rejected() {
    let err = parse(&read(WRONG)).unwrap_err();
    assert_eq!(
        err,
        incasso_camt::Error::NoStatement {
            message: "BkToCstmrStmt",
            record: "Stmt"
        }
    );
}

#[test]
fn lenient_reading_of_known_deviations() {
    // Bal without CdtDbtInd (schema order violation) in real Lithuanian files.
    let (doc, diagnostics) = parse(&read(
        "camt053/subite-lt/LT625883379695428516-2024-05-14.xml",
    ))
    .unwrap();
    let balance_warnings: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.message.contains("without CdtDbtInd"))
        .collect();
    assert_eq!(balance_warnings.len(), 4);
    assert_eq!(
        balance_warnings[0].path,
        "/Document/BkToCstmrStmt/Stmt[1]/Bal[1]"
    );
    let statement = &doc.statements[0];
    assert_eq!(
        statement.account.other_id.as_deref(),
        Some("LT625883379695428516")
    );
    assert_eq!(
        statement.balances[0]
            .amount
            .as_ref()
            .unwrap()
            .value
            .to_string(),
        "18545151.25"
    );
    assert_eq!(statement.balances[0].credit_debit, None);

    // BIC where camt.053.001.04 has BICFI.
    let (doc, diagnostics) = parse(&read("camt053/oca/test-camt053-no-ntry.xml")).unwrap();
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(
        diagnostics[0].path,
        "/Document/BkToCstmrStmt/Stmt[1]/Acct/Svcr/FinInstnId/BIC"
    );
    assert!(doc.statements[0].account.servicer_bic.is_some());
    // BICFI is right from .001.03 on (ISO XSDs), so no warning there.
    let (_, diagnostics) = parse(&read("camt053/genkgo/camt053.v3.xml")).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");

    // Dt holding a date-time: read, date part used, warned.
    let xml = minimal_statement(
        "<Ntry><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>\
         <BookgDt><Dt>2024-01-02T10:00:00</Dt></BookgDt></Ntry>",
    );
    let (doc, diagnostics) = parse(xml.as_bytes()).unwrap();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0].severity, Severity::Warning);
    assert_eq!(
        diagnostics[0].path,
        "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/BookgDt/Dt"
    );
    let entry = &doc.statements[0].entries[0];
    assert!(entry.valid);
    assert_eq!(
        entry.booking_date.as_ref().unwrap().date().to_string(),
        "2024-01-02"
    );

    // Element order inside Bal.
    let xml = minimal_statement(
        "<Bal><Amt Ccy=\"EUR\">1.00</Amt><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>\
         <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-01-01</Dt></Dt></Bal>",
    );
    let (doc, diagnostics) = parse(xml.as_bytes()).unwrap();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(
        diagnostics[0].path,
        "/Document/BkToCstmrStmt/Stmt[1]/Bal[1]/Tp"
    );
    assert_eq!(
        doc.statements[0].balances[0].type_code.as_deref(),
        Some("OPBD")
    );
}

pub fn minimal_statement(inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\
         <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>M</MsgId><CreDtTm>2024-01-01T00:00:00</CreDtTm></GrpHdr>\
         <Stmt><Id>S</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>{inner}</Stmt>\
         </BkToCstmrStmt></Document>"
    )
}

#[test]
fn per_entry_problems_are_diagnostics_with_paths() {
    let xml = minimal_statement(
        "<Ntry><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry>\
         <Ntry><Amt Ccy=\"EUR\">2.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry>\
         <Ntry><Amt Ccy=\"EUR\">12,50</Amt><CdtDbtInd>CRDT</CdtDbtInd>\
           <ValDt><Dt>2024-02-30</Dt></ValDt></Ntry>\
         <Ntry><Amt>4.00</Amt><CdtDbtInd>CREDIT</CdtDbtInd></Ntry>\
         <Ntry><CdtDbtInd>DBIT</CdtDbtInd></Ntry>",
    );
    let (doc, diagnostics) = parse(xml.as_bytes()).unwrap();
    let statement = &doc.statements[0];
    assert_eq!(statement.entry_count, 5);
    assert_eq!(statement.invalid_entry_count, 3);
    let validity: Vec<bool> = statement.entries.iter().map(|e| e.valid).collect();
    assert_eq!(validity, [true, true, false, false, false]);
    let paths: Vec<&str> = diagnostics.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt",
            "/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/ValDt/Dt",
            "/Document/BkToCstmrStmt/Stmt[1]/Ntry[4]/Amt",
            "/Document/BkToCstmrStmt/Stmt[1]/Ntry[4]/CdtDbtInd",
            "/Document/BkToCstmrStmt/Stmt[1]/Ntry[5]",
        ]
    );
    assert!(diagnostics.iter().all(|d| d.severity == Severity::Error));
    assert_eq!(statement.booked_sum, None);
    assert!(statement.entries[2].amount.is_none());
    assert_eq!(statement.entries[3].credit_debit, None);
    let _ = CreditDebit::Credit;
}
