//! Broken and hostile input: per-entry problems are diagnostics with line
//! numbers, line endings and wrappers do not matter, nothing panics.

use incasso_mt940::{Error, Severity, parse};
use proptest::prelude::*;

use crate::read;

#[test]
fn per_entry_problems_are_diagnostics_with_lines() {
    let sta = "\
:20:TEST
:25:NL91ABNA0417164300
:28C:1
:60F:C240101EUR100,00
:61:2401020102C10,00NTRFNONREF
:86:/EREF/OK-1/
:61:2401020102C1O,00NTRFNONREF
:61:2413020102D5,00NTRFNONREF
:61:2401020102X5,00NTRFNONREF
:61:2401020102D5,00
:61:240102
:62F:C240102EUR105,00
-
";
    let (doc, diagnostics) = parse(sta.as_bytes()).unwrap();
    let statement = &doc.statements[0];
    assert_eq!(statement.entries.len(), 6);
    let validity: Vec<bool> = statement.entries.iter().map(|e| e.valid).collect();
    assert_eq!(validity, [true, false, false, false, false, false]);
    let found: Vec<(usize, &str)> = diagnostics.iter().map(|d| (d.line, d.field)).collect();
    assert_eq!(
        found,
        [
            (7, "transaction type"),
            (8, "value date"),
            (9, "mark"),
            (10, "transaction type"),
            (11, "mark"),
        ]
    );
    assert!(
        diagnostics
            .iter()
            .all(|d| d.severity == Severity::Error && d.tag == "61")
    );
    // "1O,00": the amount stops at the letter O, so the type code is wrong.
    assert_eq!(statement.entries[1].amount.unwrap().to_string(), "1");
    assert!(!doc.is_valid());
    assert!(incasso_mt940::check_balances(statement).is_err());
    assert!(
        diagnostics[0]
            .to_string()
            .starts_with("error: line 7 :61: transaction type")
    );
}

#[test]
fn bad_balance_marks_the_statement_invalid() {
    let sta = ":20:X\n:25:1\n:60F:C240101EUR1.00\n:62F:C240230EUR1,00\n";
    let (doc, diagnostics) = parse(sta.as_bytes()).unwrap();
    assert!(!doc.statements[0].valid);
    assert_eq!(diagnostics[0].line, 3);
    assert_eq!(diagnostics[0].field, "amount");
    assert_eq!(diagnostics[1].severity, Severity::Warning);
    assert_eq!(diagnostics[1].field, "date");
}

#[test]
fn line_endings_and_wrappers_do_not_matter() {
    let lf = read("wolph-jejik/generic.sta");
    let text = String::from_utf8(lf.clone()).unwrap();
    let crlf = text.replace('\n', "\r\n");
    let wrapped = format!(
        "{{1:F01ABNANL2AXXXX0000000000}}{{2:O940ABNANL2AXXXXN}}{{3:}}{{4:\r\n{}\r\n-}}{{5:}}\r\n",
        crlf.trim_end_matches(['-', '\r', '\n'])
    );
    let (a, da) = parse(&lf).unwrap();
    let (b, db) = parse(crlf.as_bytes()).unwrap();
    let (c, dc) = parse(wrapped.as_bytes()).unwrap();
    assert_eq!(a, b);
    assert_eq!(da, db);
    // The wrapper adds one line, so compare everything but line numbers.
    let project = |d: &incasso_mt940::Document| -> Vec<(String, String, String, Vec<String>)> {
        d.statements
            .iter()
            .map(|s| {
                (
                    s.transaction_reference.clone(),
                    s.opening_balance
                        .as_ref()
                        .unwrap()
                        .signed_amount()
                        .to_string(),
                    s.closing_balance
                        .as_ref()
                        .unwrap()
                        .signed_amount()
                        .to_string(),
                    s.entries.iter().map(|e| e.raw.clone()).collect(),
                )
            })
            .collect()
    };
    assert_eq!(project(&a), project(&c));
    assert!(dc.is_empty() && da.is_empty(), "{dc:?}");
}

#[test]
fn chained_swift_messages_on_one_line() {
    let sta = "{1:F01INGBNL2AXXXX0000000000}{2:O940INGBNL2AXXXXN}{4:\n:20:A\n:25:1\n\
        :60F:C240101EUR1,00\n:62F:C240101EUR1,00\n-}{5:}{1:F01INGBNL2AXXXX0000000000}\
        {2:O942INGBNL2AXXXXN}{4:\n:20:B\n:25:1\n:13D:2401011200+0100\n-}";
    let (doc, diagnostics) = parse(sta.as_bytes()).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let refs: Vec<&str> = doc
        .statements
        .iter()
        .map(|s| s.transaction_reference.as_str())
        .collect();
    assert_eq!(refs, ["A", "B"]);
    assert_eq!(
        doc.statements[0].message_type,
        incasso_mt940::MessageType::Mt940
    );
    assert_eq!(
        doc.statements[1].message_type,
        incasso_mt940::MessageType::Mt942
    );
}

#[test]
fn latin1_is_decoded() {
    let mut bytes = b":20:X\n:25:1\n:61:2401020102C1,00NTRFNONREF\n:86:Caf".to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b" Rotterdam\n");
    let (doc, _) = parse(&bytes).unwrap();
    assert_eq!(
        doc.statements[0].entries[0].information.as_deref(),
        Some("Caf\u{e9} Rotterdam")
    );
}

#[test]
fn not_a_statement_file() {
    assert_eq!(parse(b""), Err(Error::Empty));
    assert_eq!(parse(b"\r\n \n"), Err(Error::Empty));
    assert_eq!(
        parse(b"<?xml version=\"1.0\"?><Document/>"),
        Err(Error::NoStatement)
    );
    assert_eq!(parse(&[0u8, 159, 146, 150]), Err(Error::NoStatement));
}

fn sample() -> Vec<u8> {
    read("ing-libmt94x/ibp-structured-ing-provided-example.txt")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn random_tag_soup_never_panics(
        lines in proptest::collection::vec(
            "(:(20|25|28C|60F|61|86|62F|64|65|34F|13D|90D):)?[0-9A-Z,/?>+ ]{0,40}",
            0..30,
        )
    ) {
        let text = lines.join("\n");
        if let Ok((doc, _)) = parse(text.as_bytes()) {
            for statement in &doc.statements {
                let _ = incasso_mt940::check_balances(statement);
            }
        }
    }

    #[test]
    fn mutated_sample_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = sample();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let end = cut.index(bytes.len() + 1);
        let _ = parse(&bytes[..end]);
    }
}
