//! Every UBL invoice and credit-note sample imports, each into its own database, with the facts
//! the collection process needs (checked against the XML by hand).

use crate::{Db, ubl_sample};

/// file, number, kind, due date, due-date source, currency, gross, paid, payment reference, lines, attachment bytes
type Expect = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    usize,
    Option<u64>,
);

const SAMPLES: &[Expect] = &[
    (
        "cen-tc434/ubl-tc434-creditnote1.xml",
        "018304 / 28865",
        "credit_note",
        "2019-10-23",
        "statutory_default",
        "EUR",
        "100.11",
        "0.00",
        Some("010676609538"),
        1,
        None,
    ),
    (
        "cen-tc434/ubl-tc434-example1.xml",
        "12115118",
        "invoice",
        "2015-01-09",
        "stated",
        "EUR",
        "250.33",
        "0.00",
        Some("Deb. 10202 / Fact. 12115118"),
        20,
        None,
    ),
    (
        "cen-tc434/ubl-tc434-example10.xml",
        "12115118",
        "invoice",
        "2015-01-09",
        "stated",
        "EUR",
        "250.33",
        "0.00",
        Some("Deb. 10202 / Fact. 12115118"),
        20,
        None,
    ),
    (
        "cen-tc434/ubl-tc434-example2.xml",
        "TOSL108",
        "invoice",
        "2013-07-20",
        "stated",
        "NOK",
        "1801.78",
        "1000.00",
        Some("0003434323213231"),
        5,
        Some(23),
    ),
    (
        "cen-tc434/ubl-tc434-example3.xml",
        "TOSL108",
        "invoice",
        "2013-05-10",
        "stated",
        "DKK",
        "2005.00",
        "0.00",
        Some("Payref1"),
        2,
        None,
    ),
    (
        "cen-tc434/ubl-tc434-example4.xml",
        "TOSL110",
        "invoice",
        "2013-05-10",
        "stated",
        "DKK",
        "4675.00",
        "0.00",
        Some("Payref1"),
        3,
        None,
    ),
    (
        "cen-tc434/ubl-tc434-example6.xml",
        "TOSL110",
        "invoice",
        "2013-05-10",
        "stated",
        "DKK",
        "4675.00",
        "0.00",
        None,
        3,
        None,
    ),
    (
        "cen-tc434/ubl-tc434-example7.xml",
        "INVOICE_test_7",
        "invoice",
        "2013-04-10",
        "payment_terms",
        "SEK",
        "3200.00",
        "0.00",
        None,
        2,
        None,
    ),
    (
        "cen-tc434/ubl-tc434-example9.xml",
        "20150483",
        "invoice",
        "2015-04-14",
        "stated",
        "EUR",
        "177.87",
        "0.00",
        Some("2015 0483 0000 0000"),
        1,
        None,
    ),
    (
        "nlcius/NLCIUS-voorbeeldbericht-Basisfactuur-Rijk-v01.xml",
        "Factuurscenario1",
        "invoice",
        "2019-10-31",
        "payment_terms",
        "EUR",
        "3926.50",
        "0.00",
        Some("1111452145876521"),
        3,
        None,
    ),
    (
        "peppol-bis3/Allowance-example.xml",
        "Snippet1",
        "invoice",
        "2017-12-01",
        "stated",
        "EUR",
        "7125.00",
        "1000.00",
        Some("Snippet1"),
        3,
        None,
    ),
    (
        "peppol-bis3/Vat-category-S.xml",
        "Snippet1",
        "invoice",
        "2017-12-01",
        "stated",
        "EUR",
        "8550.00",
        "0.00",
        Some("Snippet1"),
        3,
        None,
    ),
    (
        "peppol-bis3/base-creditnote-correction.xml",
        "Snippet1",
        "credit_note",
        "2017-11-23",
        "payment_terms",
        "EUR",
        "1656.25",
        "0.00",
        Some("Snippet1"),
        2,
        None,
    ),
    (
        "peppol-bis3/base-example.xml",
        "Snippet1",
        "invoice",
        "2017-12-01",
        "stated",
        "EUR",
        "1656.25",
        "0.00",
        Some("Snippet1"),
        2,
        None,
    ),
    (
        "peppol-bis3/base-negative-inv-correction.xml",
        "Correction1",
        "credit_note",
        "2017-12-01",
        "stated",
        "EUR",
        "1656.25",
        "0.00",
        Some("Snippet1"),
        2,
        None,
    ),
    (
        "peppol-bis3/sales-order-example.xml",
        "Snippet1",
        "invoice",
        "2017-12-01",
        "stated",
        "EUR",
        "1656.25",
        "0.00",
        Some("Snippet1"),
        2,
        None,
    ),
    (
        "peppol-bis3/vat-category-E.xml",
        "Vat-Z",
        "invoice",
        "2018-09-29",
        "payment_terms",
        "GBP",
        "1200.00",
        "0.00",
        None,
        1,
        None,
    ),
    (
        "peppol-bis3/vat-category-O.xml",
        "Vat-O",
        "invoice",
        "2018-09-29",
        "payment_terms",
        "SEK",
        "3200.00",
        "0.00",
        None,
        1,
        None,
    ),
    (
        "peppol-bis3/vat-category-Z.xml",
        "Vat-Z",
        "invoice",
        "2018-09-29",
        "payment_terms",
        "GBP",
        "1200.00",
        "0.00",
        None,
        1,
        None,
    ),
    (
        "peppol-bis3/snippets/CreditNote-snippets.xml",
        "Snippet1",
        "credit_note",
        "2017-11-23",
        "payment_terms",
        "EUR",
        "1656.25",
        "0.00",
        Some("Snippet1"),
        2,
        None,
    ),
    (
        "peppol-bis3/snippets/direct-debit.xml",
        "Snippet1",
        "invoice",
        "2017-12-01",
        "stated",
        "EUR",
        "4762.50",
        "1000.00",
        Some("payref2"),
        1,
        None,
    ),
    (
        "peppol-bis3/snippets/giro.xml",
        "Snippet1",
        "invoice",
        "2017-12-01",
        "stated",
        "EUR",
        "4762.50",
        "1000.00",
        Some("PgPaymRef-345"),
        1,
        None,
    ),
    (
        "peppol-bis3/snippets/payment-credit.xml",
        "Snippet1",
        "invoice",
        "2017-12-01",
        "stated",
        "EUR",
        "4762.50",
        "1000.00",
        Some("93274234"),
        1,
        Some(13),
    ),
];

#[test]
fn every_ubl_invoice_and_credit_note_sample_imports() {
    for (file, number, kind, due, source, currency, gross, paid, reference, lines, attachment) in
        SAMPLES
    {
        let db = Db::sqlite();
        db.add_creditor();
        let path = ubl_sample(file);
        let report = db.json(&["import", "invoices", path.to_str().unwrap()]);
        assert_eq!(
            report["imported"][0]["invoices_created"], 1,
            "{file}: {report}"
        );
        let inv = db.json(&["invoices", "show", number]);
        assert_eq!(inv["kind"], *kind, "{file}");
        assert_eq!(inv["due_date"], *due, "{file}");
        assert_eq!(inv["due_date_source"], *source, "{file}");
        assert_eq!(inv["currency"], *currency, "{file}");
        assert_eq!(inv["gross_amount"], *gross, "{file}");
        assert_eq!(inv["paid_amount"], *paid, "{file}");
        assert_eq!(inv["payment_reference"].as_str(), *reference, "{file}");
        assert_eq!(
            inv["lines"].as_array().map(Vec::len),
            Some(*lines),
            "{file}"
        );
        assert_eq!(inv["attachment"]["bytes"].as_u64(), *attachment, "{file}");
        let debtors = db.json(&["debtors", "list"]);
        assert_eq!(
            debtors["count"], 1,
            "{file}: the AccountingCustomerParty becomes a debtor"
        );
    }
}

#[test]
fn the_customer_party_is_kept() {
    let db = Db::sqlite();
    db.add_creditor();
    db.ok(&[
        "import",
        "invoices",
        ubl_sample("nlcius/NLCIUS-voorbeeldbericht-Basisfactuur-Rijk-v01.xml")
            .to_str()
            .unwrap(),
    ]);
    let debtors = db.json(&["debtors", "list"]);
    let id = debtors["debtors"][0]["id"].as_i64().unwrap().to_string();
    let d = db.json(&["debtors", "show", &id]);
    assert_eq!(d["name"], "Logius");
    assert_eq!(d["city"], "Den Haag");
    assert_eq!(d["kind"], "business");
}

#[test]
fn a_batch_of_samples_reports_duplicates_as_changed() {
    let db = Db::sqlite();
    db.add_creditor();
    let a = ubl_sample("peppol-bis3/base-example.xml");
    let b = ubl_sample("peppol-bis3/Vat-category-S.xml");
    let report = db.json(&[
        "import",
        "invoices",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(report["imported"][0]["invoices_created"], 1);
    assert_eq!(
        report["imported"][1]["changed"][0]["number"], "Snippet1",
        "same number, other amounts: reported"
    );
    assert_eq!(
        db.json(&["invoices", "show", "Snippet1"])["gross_amount"],
        "1656.25"
    );
}
