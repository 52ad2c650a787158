//! The four example payloads of tests/data (EPC069-12 v2.1 examples 1 and
//! 2, the Wikipedia sample, the segno documentation sample): built from
//! their data they are identical to the files, and parsed back they give
//! the same data.

use incasso_epcqr::*;

use crate::read;

fn check(file: &str, payment: Payment) {
    let expected = read(file);
    let built = build(&payment).expect("builds");
    assert!(
        built == expected,
        "{file}:\n built   {:?}\n expected {:?}",
        String::from_utf8_lossy(&built),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(parse(&expected).expect("parses"), payment, "{file}");
}

#[test]
fn example1_v002_utf8_creditor_reference() {
    assert_eq!(
        read("epc-example1-v002-utf8-creditor-reference.bin").len(),
        96
    );
    check(
        "epc-example1-v002-utf8-creditor-reference.bin",
        Payment {
            version: Version::V002,
            charset: Charset::Utf8,
            bic: Some("BHBLDEHHXXX".into()),
            name: "Franz Mustermänn".into(),
            iban: "DE71110220330123456789".into(),
            amount_cents: Some(1230),
            purpose: Some("GDDS".into()),
            remittance: Some(Remittance::Structured("RF18539007547034".into())),
            information: None,
        },
    );
}

#[test]
fn example2_v002_latin1_unstructured() {
    assert_eq!(read("epc-example2-v002-latin1-unstructured.bin").len(), 103);
    check(
        "epc-example2-v002-latin1-unstructured.bin",
        Payment {
            version: Version::V002,
            charset: Charset::Iso8859_1,
            bic: None,
            name: "François D'Alsace S.A.".into(),
            iban: "FR1420041010050500013M02606".into(),
            amount_cents: Some(1230),
            purpose: None,
            remittance: Some(Remittance::Unstructured(
                "Client:Marie Louise La Lune".into(),
            )),
            information: None,
        },
    );
}

#[test]
fn example3_v001_all_twelve_elements() {
    check(
        "epc-example3-v001-wikipedia-belgian-red-cross.bin",
        Payment {
            version: Version::V001,
            charset: Charset::Utf8,
            bic: Some("BPOTBEB1".into()),
            name: "Red Cross of Belgium".into(),
            iban: "BE72000000001616".into(),
            amount_cents: Some(100),
            purpose: Some("CHAR".into()),
            remittance: Some(Remittance::Unstructured("Urgency fund".into())),
            information: Some("Sample EPC QR code".into()),
        },
    );
}

#[test]
fn example4_v002_segno_docs() {
    assert_eq!(read("epc-example4-v002-segno-docs-wikimedia.bin").len(), 97);
    check(
        "epc-example4-v002-segno-docs-wikimedia.bin",
        Payment {
            version: Version::V002,
            charset: Charset::Iso8859_1,
            bic: None,
            name: "Wikimedia Foerdergesellschaft".into(),
            iban: "DE33100205000001194700".into(),
            amount_cents: Some(2000),
            purpose: None,
            remittance: Some(Remittance::Unstructured("Spende fuer Wikipedia".into())),
            information: None,
        },
    );
}

#[test]
fn segno_second_image_payload_utf8() {
    // segno docs: the same payment in UTF-8 with EUR13.05.
    let payment = Payment {
        version: Version::V002,
        charset: Charset::Utf8,
        bic: None,
        name: "Wikimedia Foerdergesellschaft".into(),
        iban: "DE33100205000001194700".into(),
        amount_cents: Some(1305),
        purpose: None,
        remittance: Some(Remittance::Unstructured("Spende fuer Wikipedia".into())),
        information: None,
    };
    let expected = b"BCD\n002\n1\nSCT\n\nWikimedia Foerdergesellschaft\nDE33100205000001194700\nEUR13.05\n\n\nSpende fuer Wikipedia";
    assert_eq!(build(&payment).expect("builds"), expected);
}

#[test]
fn nothing_follows_the_last_element_present() {
    let payment = Payment {
        version: Version::V002,
        charset: Charset::Utf8,
        bic: None,
        name: "A".into(),
        iban: "NL91ABNA0417164300".into(),
        amount_cents: None,
        purpose: None,
        remittance: None,
        information: None,
    };
    let bytes = build(&payment).expect("builds");
    assert_eq!(bytes, b"BCD\n002\n1\nSCT\n\nA\nNL91ABNA0417164300");
    assert_eq!(parse(&bytes).expect("parses"), payment);
}

#[test]
fn crlf_and_one_trailing_separator_are_read() {
    let lf = read("epc-example3-v001-wikipedia-belgian-red-cross.bin");
    let crlf: Vec<u8> = String::from_utf8(lf.clone())
        .expect("utf-8")
        .replace('\n', "\r\n")
        .into_bytes();
    let want = parse(&lf).expect("parses");
    assert_eq!(parse(&crlf).expect("parses"), want);
    let mut trailing = lf.clone();
    trailing.push(b'\n');
    assert_eq!(parse(&trailing).expect("parses"), want);
    trailing.push(b'\n');
    assert_eq!(parse(&trailing), Err(Error::TooManyElements));
}
