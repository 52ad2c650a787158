//! Negative tests: each error names the element path (or byte offset and
//! line for malformed XML) and what was expected.

use incasso_ubl::UblError;

use crate::common::{MINIMAL, data, minimal_with, parse_str};

fn invalid(result: Result<incasso_ubl::UblDocument, UblError>) -> (String, &'static str, String) {
    match result {
        Err(UblError::InvalidValue {
            path,
            expected,
            found,
        }) => (path, expected, found),
        other => panic!("expected InvalidValue, got {other:?}"),
    }
}

fn missing(result: Result<incasso_ubl::UblDocument, UblError>) -> String {
    match result {
        Err(UblError::Missing { path }) => path,
        other => panic!("expected Missing, got {other:?}"),
    }
}

fn xml_error(result: Result<incasso_ubl::UblDocument, UblError>) -> (u64, u64, String) {
    match result {
        Err(UblError::Xml {
            offset,
            line,
            message,
        }) => (offset, line, message),
        other => panic!("expected Xml error, got {other:?}"),
    }
}

#[test]
fn minimal_document_parses() {
    let d = parse_str(MINIMAL).unwrap();
    assert_eq!(d.id, "INV-1");
    assert_eq!(d.issue_date.to_string(), "2024-02-29");
    assert_eq!(d.customer.display_name(), Some("Klant"));
    assert!(d.lines.is_empty() && d.payment_means.is_empty() && d.due_date.is_none());
}

#[test]
fn non_ubl_root_is_rejected_with_its_name() {
    let err = parse_str(
        r#"<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"><ID>1</ID></Order>"#,
    )
    .unwrap_err();
    assert_eq!(
        err,
        UblError::NotUblInvoice {
            root: "Order".into(),
            namespace: Some("urn:oasis:names:specification:ubl:schema:xsd:Order-2".into())
        }
    );
    assert!(err.to_string().contains("<Order>"), "{err}");

    // Right local name, wrong or no namespace.
    let no_ns = MINIMAL.replace(
        r#"xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2""#,
        "",
    );
    assert_eq!(
        parse_str(&no_ns).unwrap_err(),
        UblError::NotUblInvoice {
            root: "Invoice".into(),
            namespace: None
        }
    );
    let swapped = MINIMAL.replace("xsd:Invoice-2", "xsd:CreditNote-2");
    assert!(matches!(
        parse_str(&swapped),
        Err(UblError::NotUblInvoice { .. })
    ));
}

#[test]
fn missing_required_fields_name_their_path() {
    let no_id = MINIMAL.replace("<cbc:ID>INV-1</cbc:ID>", "");
    assert_eq!(missing(parse_str(&no_id)), "/Invoice/cbc:ID");
    let err = parse_str(&no_id).unwrap_err().to_string();
    assert!(
        err.contains("/Invoice/cbc:ID") && err.contains("missing"),
        "{err}"
    );

    let empty_id = MINIMAL.replace("<cbc:ID>INV-1</cbc:ID>", "<cbc:ID>  </cbc:ID>");
    let (path, expected, _) = invalid(parse_str(&empty_id));
    assert_eq!(
        (path.as_str(), expected),
        ("/Invoice/cbc:ID", "a non-empty value")
    );

    let no_date = MINIMAL.replace("<cbc:IssueDate>2024-02-29</cbc:IssueDate>", "");
    assert_eq!(missing(parse_str(&no_date)), "/Invoice/cbc:IssueDate");

    let no_payable = MINIMAL.replace(
        r#"<cbc:PayableAmount currencyID="EUR">121.00</cbc:PayableAmount>"#,
        "",
    );
    assert_eq!(
        missing(parse_str(&no_payable)),
        "/Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount"
    );

    let no_currency = MINIMAL.replace(r#" currencyID="EUR">121.00"#, ">121.00");
    assert_eq!(
        missing(parse_str(&no_currency)),
        "/Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount/@currencyID"
    );

    let no_customer = MINIMAL.replace(
        "<cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>Klant</cbc:Name></cac:PartyName></cac:Party></cac:AccountingCustomerParty>",
        "",
    );
    assert_eq!(
        missing(parse_str(&no_customer)),
        "/Invoice/cac:AccountingCustomerParty"
    );

    let line_without_id = minimal_with(
        r#"<cac:InvoiceLine><cbc:LineExtensionAmount currencyID="EUR">1</cbc:LineExtensionAmount></cac:InvoiceLine>"#,
    );
    assert_eq!(
        missing(parse_str(&line_without_id)),
        "/Invoice/cac:InvoiceLine/cbc:ID"
    );
}

#[test]
fn bad_dates_are_rejected() {
    for bad in [
        "2023-02-29",
        "2024-13-01",
        "2024-00-10",
        "01-02-2024",
        "2024-1-01",
        "2024-01-01Z",
        "2024-01-01T00:00:00",
        "２０２４-01-01",
    ] {
        let xml = MINIMAL.replace("2024-02-29", bad);
        let (path, expected, found) = invalid(parse_str(&xml));
        assert_eq!(path, "/Invoice/cbc:IssueDate", "{bad}");
        assert_eq!(expected, "an ISO date YYYY-MM-DD");
        assert_eq!(found, bad);
    }
    let due = minimal_with("<cbc:DueDate>2024-04-31</cbc:DueDate>");
    let (path, _, _) = invalid(parse_str(&due));
    assert_eq!(path, "/Invoice/cbc:DueDate");
    let msg = parse_str(&due).unwrap_err().to_string();
    assert!(
        msg.contains("/Invoice/cbc:DueDate")
            && msg.contains("YYYY-MM-DD")
            && msg.contains("2024-04-31"),
        "{msg}"
    );
}

#[test]
fn bad_amounts_are_rejected() {
    for bad in [
        "12,50", "1.000,00", "EUR 5", "1e3", "", "--1", "1.2.3", "+", ".",
    ] {
        let xml = MINIMAL.replace(">121.00<", &format!(">{bad}<"));
        let (path, expected, found) = invalid(parse_str(&xml));
        assert_eq!(
            path, "/Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount",
            "{bad}"
        );
        assert_eq!(expected, "a decimal amount");
        assert_eq!(found, bad);
    }
    let bad_currency = MINIMAL.replace(r#"currencyID="EUR""#, r#"currencyID="euro""#);
    let (path, _, found) = invalid(parse_str(&bad_currency));
    assert_eq!(
        path,
        "/Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount/@currencyID"
    );
    assert_eq!(found, "euro");
}

#[test]
fn error_paths_index_repeated_elements() {
    let lines = minimal_with(
        r#"<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:LineExtensionAmount currencyID="EUR">10</cbc:LineExtensionAmount></cac:InvoiceLine>
           <cac:InvoiceLine><cbc:ID>2</cbc:ID><cbc:LineExtensionAmount currencyID="EUR">ten</cbc:LineExtensionAmount></cac:InvoiceLine>"#,
    );
    let (path, expected, _) = invalid(parse_str(&lines));
    assert_eq!(path, "/Invoice/cac:InvoiceLine[2]/cbc:LineExtensionAmount");
    assert_eq!(expected, "a decimal amount");

    let qty = minimal_with(
        r#"<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">1 piece</cbc:InvoicedQuantity></cac:InvoiceLine>"#,
    );
    let (path, expected, _) = invalid(parse_str(&qty));
    assert_eq!(path, "/Invoice/cac:InvoiceLine/cbc:InvoicedQuantity");
    assert_eq!(expected, "a decimal quantity");

    let charge = minimal_with(
        r#"<cac:AllowanceCharge><cbc:ChargeIndicator>yes</cbc:ChargeIndicator><cbc:Amount currencyID="EUR">1</cbc:Amount></cac:AllowanceCharge>"#,
    );
    let (path, expected, _) = invalid(parse_str(&charge));
    assert_eq!(path, "/Invoice/cac:AllowanceCharge/cbc:ChargeIndicator");
    assert_eq!(expected, "a boolean (true or false)");
}

#[test]
fn error_paths_use_the_prefixes_of_the_document() {
    // The NLCIUS sample uses a `doc:` prefix on the root.
    let xml = String::from_utf8(data(
        "nlcius/NLCIUS-voorbeeldbericht-Basisfactuur-Rijk-v01.xml",
    ))
    .unwrap();
    let broken = xml.replace(
        ">3926.50</cbc:PayableAmount>",
        ">3926,50</cbc:PayableAmount>",
    );
    assert_ne!(xml, broken);
    let (path, _, found) = invalid(parse_str(&broken));
    assert_eq!(
        path,
        "/doc:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount"
    );
    assert_eq!(found, "3926,50");
}

#[test]
fn bad_base64_is_rejected() {
    let doc = |b64: &str| {
        minimal_with(&format!(
            r#"<cac:AdditionalDocumentReference><cbc:ID>att</cbc:ID><cac:Attachment>
                 <cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="f.pdf">{b64}</cbc:EmbeddedDocumentBinaryObject>
               </cac:Attachment></cac:AdditionalDocumentReference>"#
        ))
    };
    for bad in ["not base64!", "QUJD=RA==", "Q", "QUJDRA==QQ=="] {
        let (path, expected, _) = invalid(parse_str(&doc(bad)));
        assert_eq!(
            path,
            "/Invoice/cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject",
            "{bad}"
        );
        assert_eq!(expected, "valid base64");
    }
    // Line-wrapped base64 and missing padding are accepted.
    let ok = parse_str(&doc("JVBERi0x\n  LjQKJcfs\r\n  j6IK")).unwrap();
    assert_eq!(
        ok.additional_documents[0]
            .embedded
            .as_ref()
            .unwrap()
            .content,
        b"%PDF-1.4\n%\xc7\xec\x8f\xa2\n"
    );
    let unpadded = parse_str(&doc("QUJD RA")).unwrap();
    assert_eq!(
        unpadded.additional_documents[0]
            .embedded
            .as_ref()
            .unwrap()
            .content,
        b"ABCD"
    );
    // An empty object decodes to no bytes rather than failing.
    let empty = parse_str(&doc("")).unwrap();
    assert!(
        empty.additional_documents[0]
            .embedded
            .as_ref()
            .unwrap()
            .content
            .is_empty()
    );
}

#[test]
fn truncated_xml_reports_offset_and_line() {
    let bytes = data("peppol-bis3/base-example.xml");
    for cut in [bytes.len() / 2, bytes.len() - 3, 300, 1] {
        let (offset, line, message) = xml_error(incasso_ubl::parse(&bytes[..cut]));
        assert!(offset <= cut as u64, "cut {cut}: offset {offset}");
        let expected_line = 1 + bytes[..offset as usize]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        assert_eq!(line, expected_line, "cut {cut}");
        assert!(!message.is_empty());
    }
    let (offset, line, message) = xml_error(incasso_ubl::parse(&bytes[..bytes.len() / 2]));
    let msg = UblError::Xml {
        offset,
        line,
        message: message.clone(),
    }
    .to_string();
    assert!(
        msg.contains(&format!("byte {offset}")) && msg.contains(&format!("line {line}")),
        "{msg}"
    );
    assert!(line > 50, "{msg}");
}

#[test]
fn malformed_xml_is_reported_with_position() {
    let mismatched = MINIMAL.replace("</cbc:ID>", "</cbc:Id>");
    let (offset, line, message) = xml_error(parse_str(&mismatched));
    assert_eq!(line, 5, "{message}");
    let at = MINIMAL.find("</cbc:ID>").unwrap() as u64;
    assert!(
        offset >= at && offset <= at + 10,
        "offset {offset}, tag at {at}: {message}"
    );

    assert!(matches!(
        parse_str(""),
        Err(UblError::Xml {
            offset: 0,
            line: 1,
            ..
        })
    ));
    assert!(matches!(parse_str("   \n"), Err(UblError::Xml { .. })));
    let two_roots = format!("{MINIMAL}<Invoice/>");
    assert!(
        xml_error(parse_str(&two_roots))
            .2
            .contains("more than one root")
    );
    let trailing_text = format!("{MINIMAL}junk");
    assert!(
        xml_error(parse_str(&trailing_text))
            .2
            .contains("outside the root")
    );
    let unknown_entity = MINIMAL.replace("INV-1", "INV&nbsp;1");
    assert!(xml_error(parse_str(&unknown_entity)).2.contains("&nbsp;"));
    let bad_attr = MINIMAL.replace(
        r#"currencyID="EUR""#,
        r#"currencyID="EUR" currencyID="USD""#,
    );
    assert!(matches!(parse_str(&bad_attr), Err(UblError::Xml { .. })));
    let mut invalid_utf8 = MINIMAL.as_bytes().to_vec();
    let pos = MINIMAL.find("Klant").unwrap();
    invalid_utf8[pos] = 0xFF;
    assert!(matches!(
        incasso_ubl::parse(&invalid_utf8),
        Err(UblError::Xml { .. })
    ));
}

#[test]
fn entities_cdata_bom_and_whitespace() {
    let xml = MINIMAL
        .replace(
            "<cbc:Name>Klant</cbc:Name>",
            "<cbc:Name>\n   Jansen &amp; Zn. &#233;&#x20AC; <![CDATA[<B.V.>]]>  </cbc:Name>",
        )
        .replace(r#"currencyID="EUR""#, r#"currencyID=" EUR ""#)
        .replace(">121.00<", ">\n  +0121.00\n<");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(xml.as_bytes());
    let d = incasso_ubl::parse(&bytes).unwrap();
    assert_eq!(d.customer.name.as_deref(), Some("Jansen & Zn. é€ <B.V.>"));
    assert_eq!(d.monetary_total.payable_amount.value.as_str(), "121.00");
    assert_eq!(d.monetary_total.payable_amount.currency_id, "EUR");
}

#[test]
fn any_prefixes_and_credit_note_due_date_fallbacks() {
    let xml = r#"<ns0:CreditNote xmlns:ns0="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
        xmlns:a="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
        xmlns:b="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
      <b:ID>CN-7</b:ID><b:IssueDate>2024-05-01</b:IssueDate><b:CreditNoteTypeCode>381</b:CreditNoteTypeCode>
      <a:BillingReference><a:InvoiceDocumentReference><b:ID>INV-6</b:ID><b:IssueDate>2024-04-01</b:IssueDate></a:InvoiceDocumentReference></a:BillingReference>
      <a:AccountingSupplierParty><a:Party/></a:AccountingSupplierParty>
      <a:AccountingCustomerParty><a:Party><a:PostalAddress><b:StreetName>Grote Markt 1</b:StreetName>
        <b:CountrySubentity>Antwerpen</b:CountrySubentity><a:AddressLine><b:Line>Bus 3</b:Line></a:AddressLine>
        <a:AddressLine><b:Line>2de verdieping</b:Line></a:AddressLine><a:Country><b:IdentificationCode>BE</b:IdentificationCode></a:Country>
        </a:PostalAddress><a:PartyLegalEntity><b:RegistrationName>Debiteur NV</b:RegistrationName>
        <b:CompanyID schemeID="0208">0123456749</b:CompanyID></a:PartyLegalEntity></a:Party></a:AccountingCustomerParty>
      <a:PaymentMeans><b:PaymentMeansCode>58</b:PaymentMeansCode><b:PaymentDueDate>2024-05-31</b:PaymentDueDate>
        <b:PaymentID>+++090/9337/55493+++</b:PaymentID></a:PaymentMeans>
      <a:PaymentTerms><b:Note>Binnen 30 dagen</b:Note><b:PaymentDueDate>2024-06-30</b:PaymentDueDate></a:PaymentTerms>
      <a:LegalMonetaryTotal><b:PayableAmount currencyID="EUR">-0.00</b:PayableAmount></a:LegalMonetaryTotal>
      <a:CreditNoteLine><b:ID>1</b:ID><b:CreditedQuantity unitCode="C62">2</b:CreditedQuantity></a:CreditNoteLine>
    </ns0:CreditNote>"#;
    let d = parse_str(xml).unwrap();
    assert_eq!(d.kind, incasso_ubl::DocumentKind::CreditNote);
    assert_eq!(d.due_date, None);
    assert_eq!(d.effective_due_date().unwrap().to_string(), "2024-05-31");
    assert_eq!(d.payment_id(), Some("+++090/9337/55493+++"));
    assert_eq!(d.billing_references[0].id, "INV-6");
    assert_eq!(
        d.billing_references[0].issue_date.unwrap().to_string(),
        "2024-04-01"
    );
    let cid = d
        .customer
        .legal_entity
        .as_ref()
        .unwrap()
        .company_id
        .as_ref()
        .unwrap();
    assert_eq!(cid.scheme_id.as_deref(), Some("0208"));
    let addr = d.customer.postal_address.as_ref().unwrap();
    assert_eq!(addr.address_lines, ["Bus 3", "2de verdieping"]);
    assert_eq!(addr.country_subentity.as_deref(), Some("Antwerpen"));
    assert_eq!(addr.country_code.as_deref(), Some("BE"));
    assert_eq!(d.monetary_total.payable_amount.value.as_str(), "0.00");
    assert_eq!(d.lines[0].quantity.as_ref().unwrap().value.as_str(), "2");
    assert_eq!(
        d.payment_terms[0].payment_due_date.unwrap().to_string(),
        "2024-06-30"
    );

    // Without the PaymentMeans due date the PaymentTerms one is used.
    let terms_only = xml.replace("<b:PaymentDueDate>2024-05-31</b:PaymentDueDate>", "");
    assert_eq!(
        parse_str(&terms_only)
            .unwrap()
            .effective_due_date()
            .unwrap()
            .to_string(),
        "2024-06-30"
    );

    // Error paths use the document's own prefixes.
    let bad = xml.replace("2024-05-31", "31-05-2024");
    let (path, _, _) = invalid(parse_str(&bad));
    assert_eq!(path, "/ns0:CreditNote/a:PaymentMeans/b:PaymentDueDate");
}
