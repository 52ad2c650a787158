//! `parse_with` hands out the same entries as `parse` without keeping them.

use incasso_camt::{Entry, check_balances, parse, parse_with};

use crate::{read, xml_files};

#[test]
fn parse_with_delivers_the_same_entries() {
    for kind in ["camt053", "camt054", "camt052"] {
        for file in xml_files(kind) {
            let bytes = read(&file);
            let Ok((kept, kept_diagnostics)) = parse(&bytes) else {
                assert!(parse_with(&bytes, |_, _| {}).is_err(), "{file}");
                continue;
            };
            let mut streamed: Vec<Entry> = Vec::new();
            let mut headers_ok = true;
            let (doc, diagnostics) = parse_with(&bytes, |statement, entry| {
                headers_ok &=
                    statement.entries.is_empty() && statement.index == entry.statement_index;
                streamed.push(entry);
            })
            .unwrap();
            assert!(headers_ok, "{file}");
            assert_eq!(diagnostics, kept_diagnostics, "{file}");
            let expected: Vec<&Entry> = kept.statements.iter().flat_map(|s| &s.entries).collect();
            assert_eq!(streamed.iter().collect::<Vec<_>>(), expected, "{file}");
            assert!(doc.statements.iter().all(|s| s.entries.is_empty()));
            for (a, b) in doc.statements.iter().zip(&kept.statements) {
                assert_eq!(a.entry_count, b.entry_count);
                assert_eq!(a.booked_sum, b.booked_sum);
                assert_eq!(check_balances(a), check_balances(b), "{file}");
            }
        }
    }
}
