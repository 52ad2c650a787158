//! Golden files: the exact bytes written for the fixed input of
//! `full_message`. Regenerate with `UPDATE_GOLDEN=1` and review the diff.

use incasso_pain008::*;

use crate::{data_dir, full_message, leaves};

fn check(version: Version, name: &str) {
    let xml = write(&full_message(), Options::new(version)).expect("writes");
    let path = data_dir().join("golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &xml).expect("write golden file");
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert!(
        xml == expected,
        "{} differs from the output:\n{}",
        path.display(),
        String::from_utf8_lossy(&xml)
    );
    // Same input, same bytes.
    assert_eq!(
        xml,
        write(&full_message(), Options::new(version)).expect("writes")
    );
}

#[test]
fn golden_v02() {
    check(Version::V02, "full.pain.008.001.02.xml");
}

#[test]
fn golden_v08() {
    check(Version::V08, "full.pain.008.001.08.xml");
}

#[test]
fn totals_and_text_of_the_fixed_input() {
    let xml = write_string(&full_message(), Options::new(Version::V02)).expect("writes");
    // 123.45 + 0.01 | 999999999.99 + 1.00 | 49.99
    assert_eq!(
        totals(&full_message()),
        Ok(Totals {
            transactions: 5,
            sum_cents: 100_000_017_444
        })
    );
    assert_eq!(leaves(&xml, "NbOfTxs"), ["5", "2", "2", "1"]);
    assert_eq!(
        leaves(&xml, "CtrlSum"),
        ["1000000174.44", "123.46", "1000000000.99", "49.99"]
    );
    assert_eq!(
        leaves(&xml, "InstdAmt Ccy=\"EUR\"").len(),
        0,
        "attribute form is not a leaf"
    );
    assert!(xml.contains("<InstdAmt Ccy=\"EUR\">0.01</InstdAmt>"));
    assert!(xml.contains("<InstdAmt Ccy=\"EUR\">999999999.99</InstdAmt>"));
    // transliterated and escaped
    assert!(xml.contains("<Nm>Zoe Muller + Sohne</Nm>"));
    assert!(xml.contains("<Ustrd>Nota's 17, 18 en 19 (samen) 'betaald' - dank u</Ustrd>"));
    assert!(xml.contains("<Nm>Bakkerij 't Hoekje</Nm>"));
    assert!(xml.contains("<IBAN>BE68539007547034</IBAN>"));
    assert!(xml.contains("<Ref>RF18539007547034</Ref>"));
    assert_eq!(leaves(&xml, "Issr"), ["ISO", "BBA"]);
    assert_eq!(
        leaves(&xml, "AmdmntInd"),
        ["false", "true", "true", "true", "false"]
    );
    assert_eq!(xml.matches("<Id>SMNDA</Id>").count(), 2);
    assert_eq!(xml.matches("<Id>NOTPROVIDED</Id>").count(), 1);
}
