//! Generated documents validate against the real ISO XSDs (xmllint).

use incasso_pain008::*;

use crate::{full_message, tx, xmllint};

#[test]
fn full_message_validates_in_both_versions() {
    let m = full_message();
    for version in [Version::V02, Version::V08] {
        let xml = write(&m, Options::new(version)).expect("writes");
        xmllint(&xml, version);
    }
}

#[test]
fn b2b_final_without_creditor_bic_validates() {
    let mut m = full_message();
    m.scheme = Scheme::B2b;
    m.creditor.bic = None;
    m.batches[0].sequence_type = SequenceType::Final;
    m.batches.truncate(1);
    m.created_at = m.created_at.with_offset(60).expect("offset");
    for version in [Version::V02, Version::V08] {
        let xml = write(&m, Options::new(version)).expect("writes");
        let text = String::from_utf8(xml.clone()).expect("utf-8");
        assert!(text.contains("<Cd>B2B</Cd>"));
        assert!(text.contains("<SeqTp>FNAL</SeqTp>"));
        assert!(text.contains("<CreDtTm>2025-03-01T09:30:05+01:00</CreDtTm>"));
        assert!(text.contains(
            "<CdtrAgt>\n        <FinInstnId>\n          <Othr>\n            <Id>NOTPROVIDED</Id>"
        ));
        xmllint(&xml, version);
    }
}

#[test]
fn minimal_message_validates() {
    let mut t = tx("E", 1);
    t.remittance = None;
    t.debtor.bic = None;
    let mut m = full_message();
    m.batches.truncate(1);
    m.batches[0].transactions = vec![t];
    for version in [Version::V02, Version::V08] {
        xmllint(&write(&m, Options::new(version)).expect("writes"), version);
    }
}

#[test]
fn bic_element_per_version() {
    let m = full_message();
    let v02 = write_string(&m, Options::new(Version::V02)).expect("writes");
    let v08 = write_string(&m, Options::new(Version::V08)).expect("writes");
    assert!(v02.contains("<BIC>ABNANL2A</BIC>") && !v02.contains("<BICFI>"));
    assert!(v08.contains("<BICFI>ABNANL2A</BICFI>") && !v08.contains("<BIC>"));
    assert!(v02.contains("xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.008.001.02\""));
    assert!(v08.contains("xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.008.001.08\""));
}
