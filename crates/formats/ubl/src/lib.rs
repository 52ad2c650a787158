//! Sans-IO reader for UBL 2.1 **Invoice** and **CreditNote** documents as
//! used by Peppol BIS Billing 3.0 and SI-UBL 2.0 / NLCIUS.
//!
//! [`parse`] takes the raw bytes of a document and returns a faithful,
//! low-level [`UblDocument`]: plain structs with public fields, amounts as
//! exact decimal text ([`Decimal`], never floats) with their `currencyID`,
//! dates as validated [`UblDate`]s, and embedded attachments base64-decoded.
//! Mapping to the incasso domain is left to the integrator.
//!
//! Elements are matched on their local name, so any namespace prefix works;
//! the root element must be `Invoice` or `CreditNote` in the UBL 2 namespace.
//!
//! Security: documents with a `<!DOCTYPE>` are refused
//! ([`UblError::DoctypeRefused`]), so external entities and entity expansion
//! cannot happen; only the five predefined entities and character references
//! are resolved. `parse` never panics, whatever the input.
//!
//! ```
//! let xml = br#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
//!     xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
//!     xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">
//!   <cbc:ID>F-2024-001</cbc:ID>
//!   <cbc:IssueDate>2024-03-01</cbc:IssueDate>
//!   <cac:AccountingSupplierParty><cac:Party/></cac:AccountingSupplierParty>
//!   <cac:AccountingCustomerParty><cac:Party>
//!     <cac:PartyName><cbc:Name>Klant B.V.</cbc:Name></cac:PartyName>
//!   </cac:Party></cac:AccountingCustomerParty>
//!   <cac:LegalMonetaryTotal>
//!     <cbc:PayableAmount currencyID="EUR">121.00</cbc:PayableAmount>
//!   </cac:LegalMonetaryTotal>
//! </Invoice>"#;
//! let doc = incasso_ubl::parse(xml).unwrap();
//! assert_eq!(doc.id, "F-2024-001");
//! assert_eq!(doc.monetary_total.payable_amount.value.as_str(), "121.00");
//! assert_eq!(doc.customer.name.as_deref(), Some("Klant B.V."));
//! ```

mod dom;
mod error;
mod extract;
mod model;
mod values;

pub use error::UblError;
pub use model::{
    AdditionalDocument, Address, AllowanceCharge, CardAccount, Contact, DocumentKind,
    DocumentReference, EmbeddedBinary, FinancialAccount, Line, MonetaryTotal, Party,
    PartyLegalEntity, PartyTaxScheme, PaymentMandate, PaymentMeans, PaymentTerms, Period,
    TaxCategory, TaxSubtotal, TaxTotal, UblDocument,
};
pub use values::{Amount, Decimal, Identifier, Quantity, UblDate};

/// Parses a UBL 2.1 Invoice or CreditNote from its raw bytes (UTF-8).
///
/// Never panics. Errors name the element path or byte offset involved.
pub fn parse(bytes: &[u8]) -> Result<UblDocument, UblError> {
    let dom = dom::build(bytes)?;
    extract::extract(&dom)
}
