//! Hostile and broken input: DOCTYPE/XXE/billion laughs are refused,
//! broken documents are fatal errors, and no input makes the parser panic.

use incasso_camt::{Error, parse};
use proptest::prelude::*;

use crate::read;
use crate::samples::minimal_statement;

#[test]
fn doctype_is_refused() {
    let xxe = br#"<?xml version="1.0"?>
<!DOCTYPE Document [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>&xxe;</MsgId></GrpHdr><Stmt><Id>1</Id></Stmt></BkToCstmrStmt></Document>"#;
    assert!(matches!(parse(xxe), Err(Error::DoctypeRefused { .. })));

    let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<Stmt><Id>&lol3;</Id></Stmt></BkToCstmrStmt></Document>"#;
    assert!(matches!(parse(laughs), Err(Error::DoctypeRefused { .. })));
}

#[test]
fn undeclared_entities_are_malformed() {
    let xml = minimal_statement("<AddtlStmtInf>&xxe;</AddtlStmtInf>");
    assert!(matches!(parse(xml.as_bytes()), Err(Error::Xml { .. })));
    // The predefined entities and character references are fine.
    let xml = minimal_statement(
        "<Ntry><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>\
         <AddtlNtryInf>A &amp; B &#x2013; C</AddtlNtryInf></Ntry>",
    );
    let (doc, _) = parse(xml.as_bytes()).unwrap();
    assert_eq!(
        doc.statements[0].entries[0].additional_info.as_deref(),
        Some("A & B \u{2013} C")
    );
}

#[test]
fn unreadable_documents_are_errors() {
    assert_eq!(parse(b""), Err(Error::Empty));
    assert_eq!(parse(b"  \n"), Err(Error::Empty));
    assert!(matches!(
        parse(b"<Document><BkToCstmrStmt>"),
        Err(Error::Xml { .. })
    ));
    assert!(matches!(
        parse(b"<a></b>"),
        Err(Error::NotCamt { .. }) | Err(Error::Xml { .. })
    ));
    assert!(matches!(
        parse(b"<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"/>"),
        Err(Error::NotCamt { .. })
    ));
    assert!(matches!(
        parse(br#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"><CstmrDrctDbtInitn/></Document>"#),
        Err(Error::NotCamt { .. })
    ));
    // Truncated in the middle of an entry.
    let full = read("camt053/subite-be/BE68793230773034-202411.xml");
    let cut = &full[..full.len() / 2];
    assert!(matches!(parse(cut), Err(Error::Xml { .. })));
    // Not UTF-8 inside text.
    let mut bad = minimal_statement("<AddtlStmtInf>x</AddtlStmtInf>").into_bytes();
    let at = bad
        .windows(15)
        .position(|w| w == b"<AddtlStmtInf>x")
        .unwrap();
    bad[at + 14] = 0xFF;
    assert!(matches!(parse(&bad), Err(Error::Xml { .. })));
}

#[test]
fn prefixed_namespace_and_bom() {
    let xml = "\u{FEFF}<c:Document xmlns:c=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\">\
        <c:BkToCstmrDbtCdtNtfctn><c:GrpHdr><c:MsgId>X</c:MsgId></c:GrpHdr>\
        <c:Ntfctn><c:Id>N1</c:Id><c:Ntry><c:Amt Ccy=\"EUR\">5</c:Amt>\
        <c:CdtDbtInd>CRDT</c:CdtDbtInd></c:Ntry></c:Ntfctn></c:BkToCstmrDbtCdtNtfctn></c:Document>";
    let (doc, diagnostics) = parse(xml.as_bytes()).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(doc.version, "001.08");
    assert_eq!(doc.group_header.message_id.as_deref(), Some("X"));
    assert_eq!(
        doc.statements[0].entries[0]
            .amount
            .as_ref()
            .unwrap()
            .value
            .to_string(),
        "5"
    );
}

fn sample() -> Vec<u8> {
    read("camt053/oca/test-camt053.xml")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes);
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
        let _ = incasso_camt::parse_with(&bytes, |_, _| {});
    }

    #[test]
    fn mutated_text_never_panics(
        at in any::<prop::sample::Index>(),
        insert in "[<>&;/a-zA-Z0-9 .,\\-]{0,12}",
    ) {
        let text = String::from_utf8(sample()).unwrap();
        let mut i = at.index(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        let mutated = format!("{}{}{}", &text[..i], insert, &text[i..]);
        let _ = parse(mutated.as_bytes());
    }
}
