//! Compares the model with the expected results genkgo/camt publishes next
//! to its fixtures (`*.json`, a serialisation of genkgo's PHP objects), on
//! the fields both models have, and checks selected fields of the other
//! samples by hand.

use incasso_camt::{CreditDebit, DateChoice, Document, Entry, parse};
use serde_json::Value;

use crate::read;

/// genkgo's names for the balance type codes.
fn genkgo_balance_type(code: &str) -> &'static str {
    match code {
        "OPBD" | "PRCD" => "opening",
        "CLBD" => "closing",
        "OPAV" => "opening_available",
        "CLAV" => "closing_available",
        "FWAV" => "forward_available",
        "INFO" => "information",
        "ITAV" => "interim_available",
        "ITBD" => "interim",
        "XPCD" => "expected_credit",
        _ => "?",
    }
}

/// genkgo keeps money as an integer of the currency's minor unit.
fn minor_digits(currency: &str) -> u8 {
    match currency {
        "JPY" => 0,
        _ => 2,
    }
}

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

fn money(v: &Value) -> (i64, String) {
    (
        v["getAmount"].as_str().unwrap().parse().unwrap(),
        v["getCurrency"]["getCode"].as_str().unwrap().to_owned(),
    )
}

fn date_part(v: &Value) -> Option<String> {
    v.get("0")
        .and_then(Value::as_str)
        .map(|t| t[..10].to_owned())
}

fn check_date(ours: &Option<DateChoice>, theirs: &Value, what: &str) {
    if theirs.is_null() {
        assert!(ours.is_none(), "{what}");
        return;
    }
    // genkgo converts date-times to UTC; compare plain dates only.
    if let Some(DateChoice::Date(d)) = ours {
        assert_eq!(Some(d.to_string()), date_part(theirs), "{what}");
    }
}

fn check_entry(file: &str, entry: &Entry, json: &Value) {
    let what = format!("{file} {}", entry.path);
    let amount = entry.amount.as_ref().unwrap();
    let (minor, currency) = money(&json["getAmount"]);
    let signed = entry.signed_amount().unwrap();
    assert_eq!(
        signed.to_minor_units(minor_digits(&currency)),
        Some(minor),
        "{what}"
    );
    assert_eq!(amount.currency, currency, "{what}");
    let cd = match entry.credit_debit.unwrap() {
        CreditDebit::Credit => "CRDT",
        CreditDebit::Debit => "DBIT",
    };
    assert_eq!(Some(cd), s(&json["getCreditDebitIndicator"]), "{what}");
    assert_eq!(entry.status.as_deref(), s(&json["getStatus"]), "{what}");
    assert_eq!(
        Some(entry.reversal),
        json["getReversalIndicator"].as_bool(),
        "{what}"
    );
    assert_eq!(
        entry.reference.as_deref(),
        s(&json["getReference"]),
        "{what}"
    );
    assert_eq!(
        entry.account_servicer_reference.as_deref(),
        s(&json["getAccountServicerReference"]),
        "{what}"
    );
    check_date(&entry.booking_date, &json["getBookingDate"], &what);
    check_date(&entry.value_date, &json["getValueDate"], &what);
    let code = &json["getBankTransactionCode"];
    let ours = &entry.bank_transaction_code;
    assert_eq!(
        ours.domain.as_deref(),
        s(&code["getDomain"]["getCode"]),
        "{what}"
    );
    assert_eq!(
        ours.family.as_deref(),
        s(&code["getDomain"]["getFamily"]["getCode"]),
        "{what}"
    );
    assert_eq!(
        ours.subfamily.as_deref(),
        s(&code["getDomain"]["getFamily"]["getSubFamilyCode"]),
        "{what}"
    );
    assert_eq!(
        ours.proprietary_code.as_deref(),
        s(&code["getProprietary"]["getCode"]),
        "{what}"
    );

    // genkgo serialises only the first TxDtls in full.
    let tx_json = &json["getTransactionDetail"];
    if tx_json.is_null() {
        assert!(entry.transactions.is_empty(), "{what}");
        return;
    }
    let tx = &entry.transactions[0];
    let refs = &tx_json["getReference"];
    assert_eq!(
        tx.end_to_end_id.as_deref(),
        s(&refs["getEndToEndId"]),
        "{what}"
    );
    assert_eq!(tx.mandate_id.as_deref(), s(&refs["getMandateId"]), "{what}");
    assert_eq!(
        tx.instruction_id.as_deref(),
        s(&refs["getInstructionId"]),
        "{what}"
    );
    assert_eq!(
        tx.transaction_id.as_deref(),
        s(&refs["getTransactionId"]),
        "{what}"
    );
    assert_eq!(
        tx.account_servicer_reference.as_deref(),
        s(&refs["getAccountServicerReference"]),
        "{what}"
    );
    assert_eq!(
        tx.uetr.as_deref(),
        s(&refs["getUuidEndToEndReference"]),
        "{what}"
    );
    if !tx_json["getAmount"].is_null() {
        let (minor, currency) = money(&tx_json["getAmount"]);
        let amount = tx.amount.as_ref().unwrap();
        assert_eq!(amount.currency, currency, "{what}");
        assert_eq!(
            amount
                .value
                .to_minor_units(minor_digits(&currency))
                .map(i64::abs),
            Some(minor.abs()),
            "{what}"
        );
    }
    let rmt = &tx_json["getRemittanceInformation"];
    let unstructured: Vec<&str> = rmt["getUnstructuredBlock"]["getMessage"]
        .as_str()
        .into_iter()
        .collect();
    assert_eq!(
        tx.remittance_unstructured.first().map(String::as_str),
        unstructured.first().copied(),
        "{what}"
    );
    // The structured block holds the reference also when genkgo's shortcut
    // (top-level getCreditorReferenceInformation) is null.
    let block = &rmt["getStructuredBlock"];
    let cri = if block["getCreditorReferenceInformation"].is_object() {
        &block["getCreditorReferenceInformation"]
    } else {
        &rmt["getCreditorReferenceInformation"]
    };
    assert_eq!(
        tx.creditor_references
            .first()
            .and_then(|c| c.type_proprietary.as_deref()),
        s(&cri["getProprietary"]),
        "{what}"
    );
    assert_eq!(
        tx.remittance_additional.first().map(String::as_str),
        s(&block["getAdditionalRemittanceInformation"]),
        "{what}"
    );
    assert_eq!(
        tx.creditor_references
            .first()
            .and_then(|c| c.reference.as_deref()),
        s(&cri["getRef"]),
        "{what}"
    );
    assert_eq!(
        tx.creditor_references
            .first()
            .and_then(|c| c.type_code.as_deref()),
        s(&cri["getCode"]),
        "{what}"
    );
    let rtr = &tx_json["getReturnInformation"];
    assert_eq!(
        tx.return_information
            .as_ref()
            .and_then(|r| r.reason_code.as_deref()),
        s(&rtr["getCode"]),
        "{what}"
    );
    for party in tx_json["getRelatedParties"].as_array().unwrap() {
        let kind = party["getRelatedPartyType"]["__CLASS__"].as_str().unwrap();
        let ours = if kind.ends_with("\\Debtor") {
            &tx.debtor
        } else if kind.ends_with("\\Creditor") {
            &tx.creditor
        } else {
            continue;
        };
        assert_eq!(
            ours.name.as_deref(),
            s(&party["getRelatedPartyType"]["getName"]),
            "{what} {kind}"
        );
        if let Some(iban) = s(&party["getAccount"]["getIban"]["getIban"]) {
            assert_eq!(ours.iban.as_deref(), Some(iban), "{what} {kind}");
        }
    }
}

/// Compares one genkgo JSON file; returns the number of entries compared.
fn compare(xml: &str, json: &str) -> usize {
    let (doc, _) = parse(&read(xml)).unwrap();
    let expected: Value = serde_json::from_slice(&read(json)).unwrap();
    let header = &expected["getGroupHeader"];
    assert_eq!(
        doc.group_header.message_id.as_deref(),
        s(&header["getMessageId"]),
        "{xml}"
    );

    // Records: those serialised in full under getRecords, and the record of
    // each entry (the others are "__RECURSIVITY__" markers).
    let mut records: Vec<&Value> = expected["getRecords"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.is_object())
        .collect();
    for entry in expected["getEntries"].as_array().unwrap() {
        records.push(&entry["getRecord"]);
    }
    assert!(!records.is_empty(), "{xml}");
    for record in records {
        check_record(&doc, xml, record);
    }
    let mut compared = 0;
    for entry_json in expected["getEntries"].as_array().unwrap() {
        let id = entry_json["getRecord"]["getId"].as_str();
        let statement = doc
            .statements
            .iter()
            .find(|s| s.id.as_deref() == id)
            .unwrap();
        let index = entry_json["getIndex"].as_u64().unwrap() as usize;
        check_entry(xml, &statement.entries[index], entry_json);
        compared += 1;
    }
    compared
}

fn check_record(doc: &Document, xml: &str, record: &Value) {
    let id = record["getId"].as_str();
    let statement = doc
        .statements
        .iter()
        .find(|s| s.id.as_deref() == id)
        .unwrap_or_else(|| panic!("{xml}: no statement {id:?}"));
    assert_eq!(
        statement.electronic_sequence_number.as_deref(),
        s(&record["getElectronicSequenceNumber"]),
        "{xml}"
    );
    assert_eq!(
        statement.account.identification(),
        s(&record["getAccount"]["getIdentification"]),
        "{xml}"
    );
    if let Some(entries) = record["getEntries"].as_array() {
        assert_eq!(statement.entry_count, entries.len(), "{xml}");
    }
    let balances = record["getBalances"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    assert_eq!(statement.balances.len(), balances.len(), "{xml}");
    for (ours, theirs) in statement.balances.iter().zip(balances) {
        let code = ours.type_code.as_deref().unwrap();
        assert_eq!(
            Some(genkgo_balance_type(code)),
            s(&theirs["getType"]),
            "{xml} {}",
            ours.path
        );
        let (minor, currency) = money(&theirs["getAmount"]);
        let amount = ours.amount.as_ref().unwrap();
        assert_eq!(amount.currency, currency, "{xml}");
        let signed = ours.signed_amount().unwrap();
        assert_eq!(
            signed.to_minor_units(minor_digits(&currency)),
            Some(minor),
            "{xml} {}",
            ours.path
        );
        assert_eq!(
            ours.date.as_ref().map(|d| d.date().to_string()),
            date_part(&theirs["getDate"]),
            "{xml}"
        );
    }
}

#[test]
fn genkgo_expected_results() {
    let pairs = [
        (
            "camt053/genkgo/camt053.v2.all-balance-types.xml",
            "camt053/genkgo/camt053.v2.all-balance-types.json",
        ),
        (
            "camt053/genkgo/camt053.v2.five.decimals.xml",
            "camt053/genkgo/camt053.v2.five.decimals.json",
        ),
        (
            "camt053/genkgo/camt053.v2.minimal.xml",
            "camt053/genkgo/camt053.v2.minimal.json",
        ),
        (
            "camt053/genkgo/camt053.v2.minimal.ultimate.xml",
            "camt053/genkgo/camt053.v2.minimal.ultimate.json",
        ),
        (
            "camt053/genkgo/camt053.v2.multi.statement.xml",
            "camt053/genkgo/camt053.v2.multi.statement.json",
        ),
        (
            "camt053/genkgo/camt053.v2.with-party-ids.xml",
            "camt053/genkgo/camt053.v2.with-party-ids.json",
        ),
        (
            "camt053/genkgo/camt053.v3.xml",
            "camt053/genkgo/camt053.v3.json",
        ),
        (
            "camt053/genkgo/camt053.v4.xml",
            "camt053/genkgo/camt053.v4.json",
        ),
        (
            "camt053/genkgo/camt053.v8.xml",
            "camt053/genkgo/camt053.v8.json",
        ),
        (
            "camt053/genkgo/camt53.only-Dt-with-DtTm.xml",
            "camt053/genkgo/camt53.only-Dt-with-DtTm.json",
        ),
        (
            "camt054/genkgo/camt054.v2.xml",
            "camt054/genkgo/camt054.v2.json",
        ),
        (
            "camt054/genkgo/camt054.v8.xml",
            "camt054/genkgo/camt054.v8.json",
        ),
    ];
    let mut entries = 0;
    for (xml, json) in pairs {
        entries += compare(xml, json);
    }
    assert_eq!(entries, 11);
}

#[test]
fn five_decimal_amounts_stay_exact() {
    let (doc, _) = parse(&read("camt053/genkgo/camt53.only-Dt-with-DtTm.xml")).unwrap();
    let balance = &doc.statements[0].balances[0];
    let value = balance.amount.as_ref().unwrap().value;
    assert_eq!(value.to_string(), "5442.09000");
    assert_eq!(value.scale(), 5);
    assert!(matches!(balance.date, Some(DateChoice::DateTime { .. })));
}

#[test]
fn rabobank_payment_reference_and_proprietary_codes() {
    let (doc, _) = parse(&read("camt053/rabobank/CAMT053-rabobank.xml")).unwrap();
    let entries: Vec<&Entry> = doc.statements.iter().flat_map(|s| &s.entries).collect();
    let with_reference = entries
        .iter()
        .flat_map(|e| &e.transactions)
        .find(|t| !t.creditor_references.is_empty())
        .unwrap();
    let reference = &with_reference.creditor_references[0];
    assert_eq!(reference.reference.as_deref(), Some("1067931951601240"));
    assert_eq!(reference.type_code.as_deref(), Some("SCOR"));
    assert_eq!(
        with_reference.remittance_unstructured,
        ["BETALINGSKENM.  1067931951601240"]
    );
    let codes: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.bank_transaction_code.proprietary_code.as_deref())
        .collect();
    assert!(codes.contains(&"541"), "{codes:?}");
}

#[test]
fn oca_direct_debit_return_and_batch() {
    let (doc, _) = parse(&read("camt053/oca/test-camt053.xml")).unwrap();
    let statement = &doc.statements[0];
    assert_eq!(
        statement.account.iban.as_deref(),
        Some("NL77ABNA0574908765")
    );
    let returned = statement
        .entries
        .iter()
        .flat_map(|e| &e.transactions)
        .find(|t| t.return_information.is_some())
        .unwrap();
    assert_eq!(
        returned
            .return_information
            .as_ref()
            .unwrap()
            .reason_code
            .as_deref(),
        Some("AC06")
    );
    let batch = &statement.entries[1];
    assert_eq!(batch.transactions.len(), 2);
    assert!(batch.transactions.iter().all(|t| t.mandate_id.is_some()));
}

#[test]
fn uetr_and_bicfi() {
    let (doc, diagnostics) = parse(&read("camt054/genkgo/camt054.v8-with-UETR.xml")).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let tx = &doc.statements[0].entries[0].transactions[0];
    assert!(tx.uetr.as_deref().is_some_and(|u| u.len() == 36), "{tx:?}");
}

#[test]
fn counterparty_follows_the_direction() {
    // A credit (money in): the other party is the debtor.
    let (doc, _) = parse(&read("camt053/genkgo/camt053.v2.minimal.xml")).unwrap();
    let entry = &doc.statements[0].entries[0];
    assert_eq!(entry.credit_debit, Some(CreditDebit::Credit));
    let tx = &entry.transactions[0];
    let counterparty = tx.counterparty(entry.credit_debit);
    assert_eq!(counterparty.name.as_deref(), Some("NAME NAME"));
    assert_eq!(counterparty.iban.as_deref(), Some("NL56AGDH9619008421"));
    assert_eq!(tx.creditor.name.as_deref(), Some("Company Name"));
    // A debit (money out): the creditor.
    let (doc, _) = parse(&read("camt053/genkgo/camt053.v2.multi.statement.xml")).unwrap();
    let entry = &doc.statements[1].entries[0];
    assert_eq!(entry.credit_debit, Some(CreditDebit::Debit));
    let tx = &entry.transactions[0];
    assert_eq!(
        tx.counterparty(entry.credit_debit).name.as_deref(),
        Some("Company Name 2")
    );
    // camt.053.001.08 nests the name in Pty.
    let (doc, _) = parse(&read("camt053/genkgo/camt053.v8.xml")).unwrap();
    let entry = &doc.statements[0].entries[0];
    let tx = &entry.transactions[0];
    assert!(tx.counterparty(entry.credit_debit).name.is_some());
    // The agents' BICFI (camt.053.001.03).
    let (doc, _) = parse(&read("camt053/genkgo/camt053.v3.xml")).unwrap();
    let tx = &doc.statements[0].entries[0].transactions[0];
    assert!(
        tx.debtor.bic.is_some() && tx.creditor.bic.is_some(),
        "{tx:?}"
    );
}
