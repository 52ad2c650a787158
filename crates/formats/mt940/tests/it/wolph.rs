//! Compares with the expected results WoLpH/mt940 publishes next to its
//! fixtures (`*.yml`, a PyYAML dump of Python objects). A tiny targeted
//! extractor reads, per transaction, the amount, date (`!!binary` year,
//! month, day), status, type id and customer reference, plus the final
//! opening and closing balances; no YAML library is needed.

use incasso_mt940::{Entry, EntryMark, parse};

use crate::read;

#[derive(Debug, Default)]
struct Expected {
    amount: String,
    date: Option<(u16, u8, u8)>,
    status: String,
    id: String,
    customer_reference: Option<String>,
}

/// Decodes the 4-byte `!!binary` date (year high, year low, month, day).
fn binary_date(b64: &str) -> Option<(u16, u8, u8)> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits: u32 = 0;
    let mut bytes = Vec::new();
    let mut n = 0;
    for c in b64.trim().bytes().take_while(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            bytes.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    (bytes.len() == 4).then(|| {
        (
            u16::from(bytes[0]) << 8 | u16::from(bytes[1]),
            bytes[2],
            bytes[3],
        )
    })
}

fn decimal_of(line: &str) -> Option<String> {
    let start = line.find("Decimal ['")? + "Decimal ['".len();
    let end = line[start..].find('\'')?;
    Some(line[start..start + end].to_owned())
}

/// A plain one-line scalar: `NONREF`, `'P000029225      '`; `None` for
/// `null`, multi-line quoted values and values holding `//` (WoLpH cuts the
/// customer reference at 16 characters including a following `//bank ref`,
/// so `TFNr 01008 MEBB//9A46...` gives it `TFNr 01008 MEBB/`).
fn scalar(value: &str) -> Option<String> {
    let v = value.trim();
    if v == "null" {
        return None;
    }
    let v = if let Some(inner) = v.strip_prefix('\'') {
        inner.strip_suffix('\'')?
    } else {
        v
    };
    (!v.contains("//") && !v.ends_with('/')).then(|| v.trim().to_owned())
}

struct Oracle {
    transactions: Vec<Expected>,
    final_opening: Option<String>,
    final_closing: Option<String>,
}

fn extract(yml: &str) -> Oracle {
    let lines: Vec<&str> = yml.lines().collect();
    let mut oracle = Oracle {
        transactions: Vec::new(),
        final_opening: None,
        final_closing: None,
    };
    let mut in_transactions = false;
    let mut balance: Option<&str> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line == "transactions:" {
            in_transactions = true;
        } else if !in_transactions {
            if line.starts_with("  final_opening_balance:") {
                balance = Some("opening");
            } else if line.starts_with("  final_closing_balance:") {
                balance = Some("closing");
            } else if line.starts_with("  ") && !line.starts_with("   ") {
                balance = None;
            }
            if let (Some(which), Some(amount)) = (balance, decimal_of(line)) {
                if which == "opening" {
                    oracle.final_opening = Some(amount);
                } else {
                    oracle.final_closing = Some(amount);
                }
            }
        } else if line.starts_with("- !!python/object:mt940.models.Transaction") {
            oracle.transactions.push(Expected::default());
        } else if let Some(t) = oracle.transactions.last_mut() {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if indent == 6 && trimmed.starts_with("amount: !!python/object/apply:decimal") {
                t.amount = decimal_of(line).unwrap();
            } else if indent == 4 {
                if let Some(v) = trimmed.strip_prefix("status: ") {
                    t.status = v.to_owned();
                } else if let Some(v) = trimmed.strip_prefix("id: ") {
                    t.id = v.to_owned();
                } else if let Some(v) = trimmed.strip_prefix("customer_reference: ") {
                    t.customer_reference = scalar(v);
                } else if trimmed == "date: !!python/object/apply:mt940.models.Date" {
                    t.date = lines.get(i + 2).and_then(|l| binary_date(l));
                }
            }
        }
        i += 1;
    }
    oracle
}

fn compare(sta: &str, yml: &str) -> usize {
    let (doc, _) = parse(&read(sta)).unwrap();
    let oracle = extract(std::str::from_utf8(&read(yml)).unwrap());
    let entries: Vec<&Entry> = doc.statements.iter().flat_map(|s| &s.entries).collect();
    assert_eq!(entries.len(), oracle.transactions.len(), "{sta}");
    for (entry, expected) in entries.iter().zip(&oracle.transactions) {
        let what = format!("{sta} line {}", entry.line);
        let signed = entry.signed_amount().unwrap();
        if entry.mark == Some(EntryMark::ReversalOfCredit) {
            // WoLpH signs only marks containing D; RC (reversal of a credit)
            // is money out, which the statement balances confirm.
            assert_eq!(signed.negated().to_string(), expected.amount, "{what}");
        } else {
            assert_eq!(signed.to_string(), expected.amount, "{what}");
        }
        assert_eq!(entry.mark.unwrap().as_str(), expected.status, "{what}");
        assert_eq!(
            entry.transaction_type.as_deref(),
            Some(expected.id.as_str()),
            "{what}"
        );
        let date = entry.value_date.as_ref().unwrap();
        // WoLpH moves 30 February to the last day of the month.
        assert_eq!(Some(date.clamped()), expected.date, "{what}");
        if let Some(reference) = &expected.customer_reference {
            assert_eq!(
                entry.customer_reference.as_deref(),
                Some(reference.as_str()),
                "{what}"
            );
        }
    }
    let last_with = |f: &dyn Fn(&incasso_mt940::Statement) -> Option<String>| {
        doc.statements.iter().rev().find_map(f)
    };
    let opening = last_with(&|s| {
        s.opening_balance
            .as_ref()
            .filter(|b| b.tag == "60F")
            .map(|b| b.signed_amount().to_string())
    });
    let closing = last_with(&|s| {
        s.closing_balance
            .as_ref()
            .filter(|b| b.tag == "62F")
            .map(|b| b.signed_amount().to_string())
    });
    assert_eq!(opening, oracle.final_opening, "{sta}");
    assert_eq!(closing, oracle.final_closing, "{sta}");
    entries.len()
}

#[test]
fn wolph_expected_results() {
    let pairs = [
        ("wolph-jejik/abnamro.sta", "wolph-jejik/abnamro.yml"),
        ("wolph-jejik/generic.sta", "wolph-jejik/generic.yml"),
        ("wolph-jejik/ing.sta", "wolph-jejik/ing.yml"),
        ("wolph-jejik/knab.sta", "wolph-jejik/knab.yml"),
        (
            "wolph-jejik/rabobank-iban.sta",
            "wolph-jejik/rabobank-iban.yml",
        ),
        ("wolph-jejik/rabobank.sta", "wolph-jejik/rabobank.yml"),
        ("wolph-jejik/sns.sta", "wolph-jejik/sns.yml"),
        ("wolph-jejik/triodos.sta", "wolph-jejik/triodos.yml"),
        (
            "wolph/betterplace-sepa_mt9401.sta",
            "wolph/betterplace-sepa_mt9401.yml",
        ),
        ("wolph/cmxl-mt940.sta", "wolph/cmxl-mt940.yml"),
        (
            "wolph/self-provided-february_30.sta",
            "wolph/self-provided-february_30.yml",
        ),
    ];
    let mut compared = 0;
    for (sta, yml) in pairs {
        compared += compare(sta, yml);
    }
    assert_eq!(compared, 149);
}

#[test]
fn binary_dates_decode() {
    assert_eq!(binary_date("B9oHFg=="), Some((2010, 7, 22)));
    assert_eq!(binary_date("B+ACHQ=="), Some((2016, 2, 29)));
}
