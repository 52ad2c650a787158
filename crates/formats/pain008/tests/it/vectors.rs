//! The identifier checks against public test vectors (python-stdnum and
//! schwifty, see tests/data/LICENSES.md): IBANs, Belgian IBANs, BICs and
//! ISO 11649 creditor references.

use incasso_pain008::*;

use crate::data_dir;

/// The rows of a vectors file: (value, expected, note), comments skipped.
fn rows(name: &str) -> Vec<(String, String, String)> {
    let path = data_dir().join("vectors").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            let value = f.next().unwrap_or_default().to_owned();
            let expected = f.next().unwrap_or_default().to_owned();
            let note = f.collect::<Vec<_>>().join(" ");
            (value, expected, note)
        })
        .collect()
}

const SEPA: &[&str] = &[
    "AD", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GI", "GR",
    "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MT", "NL", "NO", "PL", "PT", "RO",
    "SE", "SI", "SK", "SM", "VA", "AL", "MD", "ME", "MK",
];

#[test]
fn iban_vectors() {
    let mut accepted_invalid = Vec::new();
    let (mut valid_sepa, mut refused) = (0, 0);
    for (value, expected, note) in rows("iban-vectors.tsv") {
        let result = iban(&value);
        let country = &value[..2];
        match expected.as_str() {
            "valid" if SEPA.contains(&country) => {
                assert_eq!(
                    result,
                    Ok(value.replace([' ', '-', '.'], "").to_uppercase()),
                    "{value}: {note}"
                );
                valid_sepa += 1;
            }
            "valid" | "valid-experimental" => {
                assert!(
                    matches!(
                        &result,
                        Err(Problem::Iban {
                            reason: "the country is not in the SEPA schemes",
                            ..
                        })
                    ),
                    "{value}: {result:?}"
                );
            }
            "invalid" => match result {
                Ok(_) => accepted_invalid.push(value),
                Err(_) => refused += 1,
            },
            other => panic!("unknown expectation {other}"),
        }
    }
    assert!(valid_sepa > 150, "{valid_sepa}");
    // Only national check digits not implemented (Spain, the UK sort-code
    // modulus) let an invalid IBAN through.
    assert_eq!(
        accepted_invalid,
        [
            "ES2121000418450200051331",
            "ES89 3183 1500 9500 0121 0562",
            "GB01 BARC 2071 4583 6083 87",
            "GB00 HLFX 1101 6111 4553 65",
        ],
        "refused {refused}"
    );
}

#[test]
fn belgian_iban_vectors() {
    let rows = rows("be-iban-bic-vectors.tsv");
    assert!(rows.len() > 100);
    for (value, expected, note) in rows {
        assert_eq!(iban(&value).is_ok(), expected == "valid", "{value}: {note}");
    }
}

#[test]
fn bic_vectors() {
    let mut n = 0;
    for (value, expected, note) in rows("bic-vectors.tsv") {
        // Checked through the writer: a BIC is only ever checked there.
        let mut m = crate::full_message();
        m.creditor.bic = Some(value.clone());
        let ok = write(&m, Options::new(Version::V08)).is_ok();
        // `invalid-strict` (digits in the institution code) is refused too.
        assert_eq!(ok, expected == "valid", "{value}: {expected} {note}");
        n += 1;
    }
    assert!(n > 400);
}

#[test]
fn creditor_reference_vectors() {
    let rows = rows("rf-creditor-reference-vectors.tsv");
    assert!(rows.len() > 100);
    for (value, expected, note) in rows {
        assert_eq!(
            iso11649(&value).is_ok(),
            expected == "valid",
            "{value}: {note}"
        );
    }
}
