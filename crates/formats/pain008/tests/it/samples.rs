//! Structure comparison with the php-sepa-xml samples (LGPL-3.0 test data,
//! see tests/data/LICENSES.md): for the same kind of input our element
//! sequence equals theirs, apart from the parts documented here.

use incasso_pain008::*;

use crate::{data_dir, date, xmllint};

/// The element paths in document order (`Document/CstmrDrctDbtInitn/...`).
fn paths(xml: &str) -> Vec<String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("closed tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name));
            continue;
        }
        let name = tag.split([' ', '/']).next().expect("name");
        stack.push(name);
        out.push(stack.join("/"));
        if tag.ends_with('/') {
            stack.pop();
        }
    }
    out
}

/// The input that mirrors the sample: one OOFF transaction with BICs and
/// an unstructured remittance.
fn like_the_sample() -> Message {
    Message {
        message_id: "OurMessageIdentification".into(),
        created_at: DateTime::new(date(2025, 8, 19), 8, 32, 2)
            .and_then(|t| t.with_offset(0))
            .expect("time"),
        initiating_party: "OurCorp".into(),
        creditor: Creditor {
            name: "OurCorp".into(),
            iban: "NL91ABNA0417164300".into(),
            bic: Some("BANKBGFFXXX".into()),
            scheme_id: "NL57ZZZ999999999999".into(),
        },
        scheme: Scheme::Core,
        batches: vec![PaymentInformation {
            id: "OurPaymentInfo".into(),
            sequence_type: SequenceType::OneOff,
            collection_date: date(2025, 8, 19),
            batch_booking: None,
            transactions: vec![Transaction {
                end_to_end_id: "SomethingUnique".into(),
                amount_cents: 1234,
                mandate: Mandate {
                    id: "SomeOtherUniqueThing".into(),
                    signed_on: date(2025, 8, 19),
                    amendment: None,
                },
                debtor: Debtor {
                    name: "John Doe".into(),
                    iban: "DE89370400440532013000".into(),
                    bic: Some("BANKDEFFXXX".into()),
                },
                remittance: Some(Remittance::Unstructured("OurCorp Billing".into())),
            }],
        }],
    }
}

fn compare(version: Version) {
    let path = data_dir().join(format!("samples/{}.xml", version.id()));
    let sample = std::fs::read_to_string(&path).expect("sample");
    let xml = write_string(&like_the_sample(), Options::new(version)).expect("writes");
    xmllint(xml.as_bytes(), version);
    // The sample also carries the debtor's postal address and (in .08) a
    // UETR, which this writer does not write; we always write AmdmntInd.
    let theirs: Vec<String> = paths(&sample)
        .into_iter()
        .filter(|p| !p.contains("/Dbtr/PstlAdr") && !p.ends_with("/UETR"))
        .collect();
    let ours: Vec<String> = paths(&xml)
        .into_iter()
        .filter(|p| !p.ends_with("/AmdmntInd"))
        .collect();
    assert_eq!(ours, theirs);
    // Leaves that carry the same values.
    for leaf in [
        "<MsgId>OurMessageIdentification</MsgId>",
        "<CreDtTm>2025-08-19T08:32:02+00:00</CreDtTm>",
        "<NbOfTxs>1</NbOfTxs>",
        "<CtrlSum>12.34</CtrlSum>",
        "<PmtMtd>DD</PmtMtd>",
        "<SeqTp>OOFF</SeqTp>",
        "<ReqdColltnDt>2025-08-19</ReqdColltnDt>",
        "<ChrgBr>SLEV</ChrgBr>",
        "<Prtry>SEPA</Prtry>",
        "<InstdAmt Ccy=\"EUR\">12.34</InstdAmt>",
        "<DtOfSgntr>2025-08-19</DtOfSgntr>",
        "<Ustrd>OurCorp Billing</Ustrd>",
    ] {
        assert!(sample.contains(leaf), "sample lacks {leaf}");
        assert!(xml.contains(leaf), "output lacks {leaf}");
    }
}

#[test]
fn same_structure_as_php_sepa_xml_v02() {
    compare(Version::V02);
}

#[test]
fn same_structure_as_php_sepa_xml_v08() {
    compare(Version::V08);
}
