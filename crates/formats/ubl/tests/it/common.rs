//! Shared helpers: loading test data and building small documents.

use incasso_ubl::{UblDocument, UblError};

/// Reads a file below `tests/data`.
pub fn data(rel: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// Parses a file below `tests/data`, panicking with the error on failure.
pub fn parse_file(rel: &str) -> UblDocument {
    incasso_ubl::parse(&data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn parse_str(xml: &str) -> Result<UblDocument, UblError> {
    incasso_ubl::parse(xml.as_bytes())
}

/// A minimal valid invoice; `body` replaces the marker `{BODY}` inside the
/// root so tests can add elements.
pub const MINIMAL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>INV-1</cbc:ID>
  <cbc:IssueDate>2024-02-29</cbc:IssueDate>
  <cac:AccountingSupplierParty><cac:Party><cac:PartyName><cbc:Name>Leverancier</cbc:Name></cac:PartyName></cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>Klant</cbc:Name></cac:PartyName></cac:Party></cac:AccountingCustomerParty>
  {BODY}
  <cac:LegalMonetaryTotal>
    <cbc:PayableAmount currencyID="EUR">121.00</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
</Invoice>
"#;

pub fn minimal_with(body: &str) -> String {
    MINIMAL.replace("{BODY}", body)
}

/// The embedded UBL documents of a vefa test set, cut out as byte slices
/// (each embedded root declares its own namespaces, so the slice is a
/// complete document).
pub fn embedded_documents(test_set: &[u8]) -> Vec<&[u8]> {
    let text = std::str::from_utf8(test_set).expect("utf-8");
    let mut out = Vec::new();
    for (open, close) in [
        ("<doc:CreditNote ", "</doc:CreditNote>"),
        ("<doc:Invoice ", "</doc:Invoice>"),
        ("<Invoice ", "</Invoice>"),
        ("<CreditNote ", "</CreditNote>"),
    ] {
        let mut from = 0;
        while let Some(start) = text[from..].find(open).map(|i| i + from) {
            let end = text[start..].find(close).expect("closing tag") + start + close.len();
            out.push(&test_set[start..end]);
            from = end;
        }
    }
    out
}
