//! Every sample invoice and credit note in `tests/data` parses, with the key
//! fields asserted per file, plus detailed checks of selected samples.

use incasso_ubl::{DocumentKind, UblDate};

use crate::common::{data, embedded_documents, parse_file};

struct Expect {
    file: &'static str,
    kind: DocumentKind,
    id: &'static str,
    issue: &'static str,
    due: Option<&'static str>,
    payable: &'static str,
    currency: &'static str,
    /// `Party::display_name()` of the customer (registration name, else trading name).
    customer: &'static str,
    payment_id: Option<&'static str>,
    /// Number of `AdditionalDocumentReference`s and how many embed content.
    documents: usize,
    embedded: usize,
    lines: usize,
}

use DocumentKind::{CreditNote as CN, Invoice as INV};

const SAMPLES: &[Expect] = &[
    Expect {
        file: "cen-tc434/ubl-tc434-creditnote1.xml",
        kind: CN,
        id: "018304 / 28865",
        issue: "2019-09-23",
        due: None,
        payable: "100.11",
        currency: "EUR",
        customer: "My Customer Company",
        payment_id: Some("010676609538"),
        documents: 0,
        embedded: 0,
        lines: 1,
    },
    Expect {
        file: "cen-tc434/ubl-tc434-example1.xml",
        kind: INV,
        id: "12115118",
        issue: "2015-01-09",
        due: Some("2015-01-09"),
        payable: "250.33",
        currency: "EUR",
        customer: "ODIN 59",
        payment_id: Some("Deb. 10202 / Fact. 12115118"),
        documents: 0,
        embedded: 0,
        lines: 20,
    },
    Expect {
        file: "cen-tc434/ubl-tc434-example10.xml",
        kind: INV,
        id: "12115118",
        issue: "2015-01-09",
        due: Some("2015-01-09"),
        payable: "250.33",
        currency: "EUR",
        customer: "ODIN 59",
        payment_id: Some("Deb. 10202 / Fact. 12115118"),
        documents: 0,
        embedded: 0,
        lines: 20,
    },
    Expect {
        file: "cen-tc434/ubl-tc434-example2.xml",
        kind: INV,
        id: "TOSL108",
        issue: "2013-06-30",
        due: Some("2013-07-20"),
        payable: "801.78",
        currency: "NOK",
        customer: "The Buyercompany",
        payment_id: Some("0003434323213231"),
        documents: 2,
        embedded: 1,
        lines: 5,
    },
    Expect {
        file: "cen-tc434/ubl-tc434-example3.xml",
        kind: INV,
        id: "TOSL108",
        issue: "2013-04-10",
        due: Some("2013-05-10"),
        payable: "2005.00",
        currency: "DKK",
        customer: "Buyercompany ltd",
        payment_id: Some("Payref1"),
        documents: 0,
        embedded: 0,
        lines: 2,
    },
    Expect {
        file: "cen-tc434/ubl-tc434-example4.xml",
        kind: INV,
        id: "TOSL110",
        issue: "2013-04-10",
        due: Some("2013-05-10"),
        payable: "4675.00",
        currency: "DKK",
        customer: "Buyercompany ltd",
        payment_id: Some("Payref1"),
        documents: 0,
        embedded: 0,
        lines: 3,
    },
    Expect {
        file: "cen-tc434/ubl-tc434-example6.xml",
        kind: INV,
        id: "TOSL110",
        issue: "2013-04-10",
        due: Some("2013-05-10"),
        payable: "4675.00",
        currency: "DKK",
        customer: "Buyercompany ltd",
        payment_id: None,
        documents: 0,
        embedded: 0,
        lines: 3,
    },
    Expect {
        file: "cen-tc434/ubl-tc434-example7.xml",
        kind: INV,
        id: "INVOICE_test_7",
        issue: "2013-03-11",
        due: None,
        payable: "3200.00",
        currency: "SEK",
        customer: "THe Buyercompany",
        payment_id: None,
        documents: 0,
        embedded: 0,
        lines: 2,
    },
    Expect {
        file: "cen-tc434/ubl-tc434-example9.xml",
        kind: INV,
        id: "20150483",
        issue: "2015-04-01",
        due: Some("2015-04-14"),
        payable: "177.87",
        currency: "EUR",
        customer: "Provide Verzekeringen",
        payment_id: Some("2015 0483 0000 0000"),
        documents: 0,
        embedded: 0,
        lines: 1,
    },
    Expect {
        file: "nlcius/NLCIUS-voorbeeldbericht-Basisfactuur-Rijk-v01.xml",
        kind: INV,
        id: "Factuurscenario1",
        issue: "2019-10-01",
        due: None,
        payable: "3926.50",
        currency: "EUR",
        customer: "Logius",
        payment_id: Some("1111452145876521"),
        documents: 0,
        embedded: 0,
        lines: 3,
    },
    Expect {
        file: "peppol-bis3/Allowance-example.xml",
        kind: INV,
        id: "Snippet1",
        issue: "2017-11-13",
        due: Some("2017-12-01"),
        payable: "6125.00",
        currency: "EUR",
        customer: "Buyer Official Name",
        payment_id: Some("Snippet1"),
        documents: 2,
        embedded: 0,
        lines: 3,
    },
    Expect {
        file: "peppol-bis3/Vat-category-S.xml",
        kind: INV,
        id: "Snippet1",
        issue: "2017-11-13",
        due: Some("2017-12-01"),
        payable: "8550",
        currency: "EUR",
        customer: "Buyer Official Name",
        payment_id: Some("Snippet1"),
        documents: 0,
        embedded: 0,
        lines: 3,
    },
    Expect {
        file: "peppol-bis3/base-creditnote-correction.xml",
        kind: CN,
        id: "Snippet1",
        issue: "2017-11-13",
        due: None,
        payable: "1656.25",
        currency: "EUR",
        customer: "Buyer Official Name",
        payment_id: Some("Snippet1"),
        documents: 0,
        embedded: 0,
        lines: 2,
    },
    Expect {
        file: "peppol-bis3/base-example.xml",
        kind: INV,
        id: "Snippet1",
        issue: "2017-11-13",
        due: Some("2017-12-01"),
        payable: "1656.25",
        currency: "EUR",
        customer: "Buyer Official Name",
        payment_id: Some("Snippet1"),
        documents: 0,
        embedded: 0,
        lines: 2,
    },
    Expect {
        file: "peppol-bis3/base-negative-inv-correction.xml",
        kind: INV,
        id: "Correction1",
        issue: "2017-11-13",
        due: Some("2017-12-01"),
        payable: "-1656.25",
        currency: "EUR",
        customer: "Buyer Official Name",
        payment_id: Some("Snippet1"),
        documents: 0,
        embedded: 0,
        lines: 2,
    },
    Expect {
        file: "peppol-bis3/sales-order-example.xml",
        kind: INV,
        id: "Snippet1",
        issue: "2017-11-13",
        due: Some("2017-12-01"),
        payable: "1656.25",
        currency: "EUR",
        customer: "Buyer Official Name",
        payment_id: Some("Snippet1"),
        documents: 0,
        embedded: 0,
        lines: 2,
    },
    Expect {
        file: "peppol-bis3/vat-category-E.xml",
        kind: INV,
        id: "Vat-Z",
        issue: "2018-08-30",
        due: None,
        payable: "1200.00",
        currency: "GBP",
        customer: "The Buyercompany",
        payment_id: None,
        documents: 0,
        embedded: 0,
        lines: 1,
    },
    Expect {
        file: "peppol-bis3/vat-category-O.xml",
        kind: INV,
        id: "Vat-O",
        issue: "2018-08-30",
        due: None,
        payable: "3200.00",
        currency: "SEK",
        customer: "The Buyercompany",
        payment_id: None,
        documents: 0,
        embedded: 0,
        lines: 1,
    },
    Expect {
        file: "peppol-bis3/vat-category-Z.xml",
        kind: INV,
        id: "Vat-Z",
        issue: "2018-08-30",
        due: None,
        payable: "1200.00",
        currency: "GBP",
        customer: "The Buyercompany",
        payment_id: None,
        documents: 0,
        embedded: 0,
        lines: 1,
    },
    Expect {
        file: "peppol-bis3/snippets/CreditNote-snippets.xml",
        kind: CN,
        id: "Snippet1",
        issue: "2017-11-13",
        due: None,
        payable: "1656.25",
        currency: "EUR",
        customer: "Buyer Official Name",
        payment_id: Some("Snippet1"),
        documents: 1,
        embedded: 0,
        lines: 2,
    },
    Expect {
        file: "peppol-bis3/snippets/direct-debit.xml",
        kind: INV,
        id: "Snippet1",
        issue: "2017-11-13",
        due: Some("2017-12-01"),
        payable: "3762.50",
        currency: "EUR",
        customer: "Buyer Official Name",
        payment_id: Some("payref2"),
        documents: 2,
        embedded: 0,
        lines: 1,
    },
    Expect {
        file: "peppol-bis3/snippets/giro.xml",
        kind: INV,
        id: "Snippet1",
        issue: "2017-11-13",
        due: Some("2017-12-01"),
        payable: "3762.50",
        currency: "EUR",
        customer: "Buyer Official Name",
        payment_id: Some("PgPaymRef-345"),
        documents: 2,
        embedded: 0,
        lines: 1,
    },
    Expect {
        file: "peppol-bis3/snippets/payment-credit.xml",
        kind: INV,
        id: "Snippet1",
        issue: "2017-11-13",
        due: Some("2017-12-01"),
        payable: "3762.50",
        currency: "EUR",
        customer: "Buyer Official Name",
        payment_id: Some("93274234"),
        documents: 3,
        embedded: 1,
        lines: 1,
    },
];

#[test]
fn every_sample_parses_with_expected_key_fields() {
    for e in SAMPLES {
        let d = parse_file(e.file);
        let f = e.file;
        assert_eq!(d.kind, e.kind, "{f}: kind");
        assert_eq!(d.id, e.id, "{f}: id");
        assert_eq!(d.issue_date.to_string(), e.issue, "{f}: issue date");
        assert_eq!(
            d.due_date.map(|x| x.to_string()).as_deref(),
            e.due,
            "{f}: due date"
        );
        // No sample uses the credit-note/payment-means fallbacks.
        assert_eq!(
            d.effective_due_date(),
            d.due_date,
            "{f}: effective due date"
        );
        let pay = &d.monetary_total.payable_amount;
        assert_eq!(pay.value.as_str(), e.payable, "{f}: payable");
        assert_eq!(pay.currency_id, e.currency, "{f}: currency");
        assert_eq!(
            d.document_currency_code.as_deref(),
            Some(e.currency),
            "{f}: doc currency"
        );
        assert_eq!(d.customer.display_name(), Some(e.customer), "{f}: customer");
        assert_eq!(d.payment_id(), e.payment_id, "{f}: payment id");
        assert_eq!(d.additional_documents.len(), e.documents, "{f}: documents");
        assert_eq!(
            d.embedded_attachments().count(),
            e.embedded,
            "{f}: embedded"
        );
        assert_eq!(d.lines.len(), e.lines, "{f}: lines");
        assert!(d.supplier.display_name().is_some(), "{f}: supplier name");
        assert!(d.tax_amount().is_some(), "{f}: tax amount");
    }
}

#[test]
fn sample_list_covers_every_invoice_file_in_tests_data() {
    let root = format!("{}/tests/data", env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for sub in ["cen-tc434", "nlcius", "peppol-bis3", "peppol-bis3/snippets"] {
        for entry in std::fs::read_dir(format!("{root}/{sub}")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".xml") {
                found.push(format!("{sub}/{name}"));
            }
        }
    }
    found.sort();
    let mut listed: Vec<String> = SAMPLES.iter().map(|e| e.file.to_owned()).collect();
    listed.sort();
    assert_eq!(found, listed);
}

#[test]
fn peppol_base_example_in_detail() {
    let d = parse_file("peppol-bis3/base-example.xml");
    assert_eq!(
        d.customization_id.as_deref(),
        Some("urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0")
    );
    assert_eq!(
        d.profile_id.as_deref(),
        Some("urn:fdc:peppol.eu:2017:poacc:billing:01:1.0")
    );
    assert_eq!(d.type_code.as_deref(), Some("380"));
    assert_eq!(d.buyer_reference.as_deref(), Some("0150abc"));
    assert_eq!(d.accounting_cost.as_deref(), Some("4025:123:4343"));

    let s = &d.supplier;
    let ep = s.endpoint_id.as_ref().unwrap();
    assert_eq!(
        (ep.value.as_str(), ep.scheme_id.as_deref()),
        ("9482348239847239874", Some("0088"))
    );
    assert_eq!(s.identifications[0].value, "99887766");
    assert_eq!(s.identifications[0].scheme_id, None);
    assert_eq!(s.name.as_deref(), Some("SupplierTradingName Ltd."));
    let a = s.postal_address.as_ref().unwrap();
    assert_eq!(a.street_name.as_deref(), Some("Main street 1"));
    assert_eq!(a.additional_street_name.as_deref(), Some("Postbox 123"));
    assert_eq!(a.city_name.as_deref(), Some("London"));
    assert_eq!(a.postal_zone.as_deref(), Some("GB 123 EW"));
    assert_eq!(a.country_code.as_deref(), Some("GB"));
    assert_eq!(s.vat_id(), Some("GB1232434"));
    let le = s.legal_entity.as_ref().unwrap();
    assert_eq!(
        le.registration_name.as_deref(),
        Some("SupplierOfficialName Ltd")
    );
    assert_eq!(le.company_id.as_ref().unwrap().value, "GB983294");

    let c = &d.customer;
    assert_eq!(
        c.endpoint_id.as_ref().unwrap().scheme_id.as_deref(),
        Some("0002")
    );
    assert_eq!(c.identifications[0].scheme_id.as_deref(), Some("0002"));
    assert_eq!(c.name.as_deref(), Some("BuyerTradingName AS"));
    assert_eq!(c.vat_id(), Some("SE4598375937"));
    let cid = c
        .legal_entity
        .as_ref()
        .unwrap()
        .company_id
        .as_ref()
        .unwrap();
    assert_eq!(
        (cid.value.as_str(), cid.scheme_id.as_deref()),
        ("39937423947", Some("0183"))
    );
    let contact = c.contact.as_ref().unwrap();
    assert_eq!(contact.name.as_deref(), Some("Lisa Johnson"));
    assert_eq!(contact.telephone.as_deref(), Some("23434234"));
    assert_eq!(contact.electronic_mail.as_deref(), Some("lj@buyer.se"));
    assert_eq!(
        c.postal_address.as_ref().unwrap().city_name.as_deref(),
        Some("Stockholm")
    );

    assert_eq!(d.payment_means.len(), 1);
    let pm = &d.payment_means[0];
    assert_eq!(pm.code.as_deref(), Some("30"));
    assert_eq!(pm.code_name.as_deref(), Some("Credit transfer"));
    assert_eq!(pm.payment_ids, ["Snippet1"]);
    let acct = pm.payee_financial_account.as_ref().unwrap();
    assert_eq!(acct.id.as_deref(), Some("IBAN32423940"));
    assert_eq!(acct.name.as_deref(), Some("AccountName"));
    assert_eq!(acct.branch_id.as_deref(), Some("BIC324098"));
    assert!(pm.payment_mandate.is_none());
    assert_eq!(
        d.payment_terms_notes().collect::<Vec<_>>(),
        ["Payment within 10 days, 2% discount"]
    );

    assert_eq!(d.allowance_charges.len(), 1);
    let ac = &d.allowance_charges[0];
    assert!(ac.charge_indicator);
    assert_eq!(ac.reason.as_deref(), Some("Insurance"));
    assert_eq!(ac.amount.value.as_str(), "25");

    let tax = d.tax_amount().unwrap();
    assert_eq!(
        (tax.value.as_str(), tax.currency_id.as_str()),
        ("331.25", "EUR")
    );
    let sub = &d.tax_totals[0].subtotals[0];
    assert_eq!(sub.taxable_amount.as_ref().unwrap().value.as_str(), "1325");
    assert_eq!(sub.category.as_ref().unwrap().id.as_deref(), Some("S"));
    assert_eq!(
        sub.category
            .as_ref()
            .unwrap()
            .percent
            .as_ref()
            .unwrap()
            .as_str(),
        "25.0"
    );

    let t = &d.monetary_total;
    let v = |a: &Option<incasso_ubl::Amount>| a.as_ref().map(|a| a.value.as_str().to_owned());
    assert_eq!(v(&t.line_extension_amount).as_deref(), Some("1300"));
    assert_eq!(v(&t.tax_exclusive_amount).as_deref(), Some("1325"));
    assert_eq!(v(&t.tax_inclusive_amount).as_deref(), Some("1656.25"));
    assert_eq!(v(&t.charge_total_amount).as_deref(), Some("25"));
    assert_eq!(v(&t.allowance_total_amount), None);
    assert_eq!(v(&t.prepaid_amount), None);
    assert_eq!(v(&t.payable_rounding_amount), None);

    let l = &d.lines[0];
    assert_eq!(l.id, "1");
    let q = l.quantity.as_ref().unwrap();
    assert_eq!(
        (q.value.as_str(), q.unit_code.as_deref()),
        ("7", Some("DAY"))
    );
    // `currencyID= "EUR"` (space after '=') in the sample is still read.
    let lea = l.line_extension_amount.as_ref().unwrap();
    assert_eq!(
        (lea.value.as_str(), lea.currency_id.as_str()),
        ("2800", "EUR")
    );
    assert_eq!(l.item_name.as_deref(), Some("item name"));
    assert_eq!(l.item_description.as_deref(), Some("Description of item"));
    assert_eq!(l.price_amount.as_ref().unwrap().value.as_str(), "400");
    assert_eq!(l.tax_percent().unwrap().as_str(), "25.0");
}

#[test]
fn nlcius_sample_in_detail() {
    let d = parse_file("nlcius/NLCIUS-voorbeeldbericht-Basisfactuur-Rijk-v01.xml");
    assert_eq!(
        d.customization_id.as_deref(),
        Some("urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0")
    );
    assert_eq!(d.due_date, None, "NLCIUS sample has payment terms only");
    assert_eq!(d.payment_terms_notes().collect::<Vec<_>>(), ["30dagen"]);
    let le = d.supplier.legal_entity.as_ref().unwrap();
    let kvk = le.company_id.as_ref().unwrap();
    assert_eq!(
        (kvk.value.as_str(), kvk.scheme_id.as_deref()),
        ("32141305", Some("0106"))
    );
    assert_eq!(d.supplier.vat_id(), Some("NL8200.98.395.B.01"));
    assert_eq!(
        d.supplier.contact.as_ref().unwrap().name.as_deref(),
        Some("Piet de leveranciercontactpersoon")
    );
    let c = &d.customer;
    let oin = c
        .legal_entity
        .as_ref()
        .unwrap()
        .company_id
        .as_ref()
        .unwrap();
    assert_eq!(
        (oin.value.as_str(), oin.scheme_id.as_deref()),
        ("00000004003214345001", Some("0190"))
    );
    let addr = c.postal_address.as_ref().unwrap();
    assert_eq!(addr.postal_zone.as_deref(), Some("2509 JE"));
    assert_eq!(addr.city_name.as_deref(), Some("Den Haag"));
    assert_eq!(
        c.contact.as_ref().unwrap().electronic_mail.as_deref(),
        Some("Jan@klantcontactpersoon.nl")
    );
    let pm = &d.payment_means[0];
    assert_eq!(pm.code.as_deref(), Some("59"));
    assert_eq!(
        pm.payee_financial_account.as_ref().unwrap().id.as_deref(),
        Some("NL02ABNA0123456789")
    );
    let l = &d.lines[0];
    assert_eq!(l.quantity.as_ref().unwrap().value.as_str(), "100.00");
    assert_eq!(
        l.quantity.as_ref().unwrap().unit_code.as_deref(),
        Some("EA")
    );
    assert_eq!(l.order_line_reference.as_deref(), Some("1"));
    assert_eq!(l.price_amount.as_ref().unwrap().value.as_str(), "22.00");
    assert_eq!(
        l.price_base_quantity.as_ref().unwrap().value.as_str(),
        "1.00"
    );
    assert_eq!(l.tax_percent().unwrap().as_str(), "21");
    assert_eq!(d.tax_amount().unwrap().value.as_str(), "676.50");
}

#[test]
fn direct_debit_mandate() {
    let d = parse_file("peppol-bis3/snippets/direct-debit.xml");
    let pm = &d.payment_means[0];
    assert_eq!(pm.code.as_deref(), Some("59"));
    assert!(pm.payee_financial_account.is_none());
    let m = pm.payment_mandate.as_ref().unwrap();
    assert_eq!(m.id.as_deref(), Some("123456"));
    assert_eq!(m.payer_account_id.as_deref(), Some("DK12328462834823"));
}

#[test]
fn credit_notes_reference_the_original_invoice() {
    for f in [
        "peppol-bis3/base-creditnote-correction.xml",
        "peppol-bis3/snippets/CreditNote-snippets.xml",
    ] {
        let d = parse_file(f);
        assert_eq!(d.kind, DocumentKind::CreditNote);
        assert_eq!(d.type_code.as_deref(), Some("381"), "{f}");
        assert_eq!(d.billing_references.len(), 1, "{f}");
        assert_eq!(d.billing_references[0].id, "Snippet1", "{f}");
        assert!(d.lines[0].quantity.is_some(), "{f}: CreditedQuantity");
    }
    let neg = parse_file("peppol-bis3/base-negative-inv-correction.xml");
    assert!(neg.monetary_total.payable_amount.value.is_negative());
    assert_eq!(neg.billing_references[0].id, "Snippet1");
    let cn1 = parse_file("cen-tc434/ubl-tc434-creditnote1.xml");
    assert_eq!(
        cn1.billing_references.len(),
        0,
        "CEN credit note has no BillingReference"
    );
}

#[test]
fn embedded_attachments_are_decoded() {
    let d = parse_file("cen-tc434/ubl-tc434-example2.xml");
    let (doc, bin) = d.embedded_attachments().next().unwrap();
    assert_eq!(doc.id.value, "Doc2");
    assert_eq!(bin.mime_code.as_deref(), Some("application/pdf"));
    assert_eq!(bin.filename.as_deref(), Some("test.pdf"));
    assert_eq!(bin.content, b"Testing Base64 encoding");
    let ext = &d.additional_documents[0];
    assert_eq!(
        ext.external_uri.as_deref(),
        Some("http://www.suppliersite.eu/sheet001.html")
    );
    assert!(ext.embedded.is_none());

    let d = parse_file("peppol-bis3/snippets/payment-credit.xml");
    let (doc, bin) = d.embedded_attachments().next().unwrap();
    assert_eq!(doc.id.value, "mr4343");
    assert_eq!(bin.mime_code.as_deref(), Some("text/csv"));
    assert_eq!(bin.filename.as_deref(), Some("milage.csv"));
    assert_eq!(bin.content, b"milage report");
}

#[test]
fn two_payment_means_in_cen_example1() {
    let d = parse_file("cen-tc434/ubl-tc434-example1.xml");
    assert_eq!(d.payment_means.len(), 2);
    let ibans: Vec<_> = d
        .payment_means
        .iter()
        .map(|m| {
            m.payee_financial_account
                .as_ref()
                .unwrap()
                .id
                .as_deref()
                .unwrap()
        })
        .collect();
    assert_eq!(ibans, ["NL57 RABO 0107307510", "NL03 INGB 0004489902"]);
    assert_eq!(
        d.payment_means[0].payment_ids,
        ["Deb. 10202 / Fact. 12115118"]
    );
    assert!(d.payment_means[1].payment_ids.is_empty());
}

#[test]
fn vefa_test_set_is_rejected_but_its_embedded_documents_parse() {
    let bytes = data("peppol-nl-rules/NL-R-001.xml");
    match incasso_ubl::parse(&bytes) {
        Err(incasso_ubl::UblError::NotUblInvoice { root, namespace }) => {
            assert_eq!(root, "testSet");
            assert_eq!(
                namespace.as_deref(),
                Some("http://difi.no/xsd/vefa/validator/1.0")
            );
        }
        other => panic!("expected NotUblInvoice, got {other:?}"),
    }
    let docs = embedded_documents(&bytes);
    assert_eq!(docs.len(), 2);
    let parsed: Vec<_> = docs
        .iter()
        .map(|d| incasso_ubl::parse(d).unwrap_or_else(|e| panic!("embedded: {e}")))
        .collect();
    for d in &parsed {
        assert_eq!(d.kind, DocumentKind::CreditNote);
        assert!(
            d.issue_date
                >= UblDate {
                    year: 2000,
                    month: 1,
                    day: 1
                }
        );
    }
    // NL-R-001: a Dutch credit note must reference the invoice; the first
    // ("success") case does, the second ("error") case does not.
    assert_eq!(parsed[0].billing_references.len(), 1);
    assert_eq!(parsed[1].billing_references.len(), 0);
}

#[test]
fn tax_total_in_tax_currency_and_prepaid_amounts() {
    // Two TaxTotals: one in the document currency, one in the tax currency.
    for (f, doc_tax, other) in [
        (
            "cen-tc434/ubl-tc434-example10.xml",
            "20.73",
            ("2000.73", "SEK"),
        ),
        (
            "peppol-bis3/Allowance-example.xml",
            "1225.00",
            ("9324.00", "SEK"),
        ),
    ] {
        let d = parse_file(f);
        assert_eq!(d.tax_currency_code.as_deref(), Some("SEK"), "{f}");
        assert_eq!(d.tax_totals.len(), 2, "{f}");
        let t = d.tax_amount().unwrap();
        assert_eq!(
            (t.value.as_str(), t.currency_id.as_str()),
            (doc_tax, "EUR"),
            "{f}"
        );
        let second = &d.tax_totals[1].tax_amount;
        assert_eq!(
            (second.value.as_str(), second.currency_id.as_str()),
            other,
            "{f}"
        );
    }
    let d = parse_file("cen-tc434/ubl-tc434-example2.xml");
    let t = &d.monetary_total;
    assert_eq!(
        t.allowance_total_amount.as_ref().unwrap().value.as_str(),
        "100.00"
    );
    assert_eq!(
        t.charge_total_amount.as_ref().unwrap().value.as_str(),
        "100.00"
    );
    assert_eq!(t.prepaid_amount.as_ref().unwrap().value.as_str(), "1000.00");
    assert_eq!(t.payable_amount.value.as_str(), "801.78");
    assert_eq!(t.payable_amount.currency_id, "NOK");
    let regions: Vec<_> = [&d.supplier, &d.customer]
        .iter()
        .map(|p| {
            p.postal_address
                .as_ref()
                .unwrap()
                .country_subentity
                .clone()
                .unwrap()
        })
        .collect();
    assert_eq!(regions, ["RegionA", "RegionB"]);
    assert_eq!(d.lines[0].notes, ["Scratch on box"]);
    // Multi-line note text is kept as written (only the ends are trimmed).
    let terms: Vec<_> = d.payment_terms_notes().collect();
    assert_eq!(terms.len(), 1);
    assert!(
        terms[0].starts_with("2 % discount if paid within 2 days\n"),
        "{terms:?}"
    );
    assert!(
        terms[0].ends_with("Penalty percentage 10% from due date"),
        "{terms:?}"
    );
}
