//! The document model: plain structs with public fields mirroring the UBL
//! 2.1 elements that matter for credit management. Field docs give the
//! UBL element each field comes from (relative to the parent aggregate).

use crate::values::{Amount, Decimal, Identifier, Quantity, UblDate};

/// Which UBL document type the root element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// `<Invoice>` in namespace `urn:oasis:names:specification:ubl:schema:xsd:Invoice-2`.
    Invoice,
    /// `<CreditNote>` in namespace `urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2`.
    CreditNote,
}

/// A parsed UBL Invoice or CreditNote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UblDocument {
    /// Root element kind.
    pub kind: DocumentKind,
    /// `cbc:CustomizationID` (e.g. Peppol BIS 3 or NLCIUS specification id).
    pub customization_id: Option<String>,
    /// `cbc:ProfileID`.
    pub profile_id: Option<String>,
    /// `cbc:ID`: the invoice / credit note number (required).
    pub id: String,
    /// `cbc:IssueDate` (required).
    pub issue_date: UblDate,
    /// `cbc:DueDate` at document level (Invoice; absent in UBL 2.1 credit
    /// notes). See [`UblDocument::effective_due_date`] for the fallbacks.
    pub due_date: Option<UblDate>,
    /// `cbc:InvoiceTypeCode` or `cbc:CreditNoteTypeCode` (UNCL1001, e.g. 380, 381).
    pub type_code: Option<String>,
    /// `cbc:Note` (all, in order).
    pub notes: Vec<String>,
    /// `cbc:TaxPointDate`.
    pub tax_point_date: Option<UblDate>,
    /// `cbc:DocumentCurrencyCode`.
    pub document_currency_code: Option<String>,
    /// `cbc:TaxCurrencyCode`.
    pub tax_currency_code: Option<String>,
    /// `cbc:AccountingCost`.
    pub accounting_cost: Option<String>,
    /// `cbc:BuyerReference`.
    pub buyer_reference: Option<String>,
    /// `cac:InvoicePeriod` (first one).
    pub invoice_period: Option<Period>,
    /// `cac:OrderReference/cbc:ID`.
    pub order_reference: Option<String>,
    /// `cac:OrderReference/cbc:SalesOrderID`.
    pub sales_order_id: Option<String>,
    /// `cac:BillingReference/cac:InvoiceDocumentReference` (a credit note's
    /// or corrective invoice's reference to the original invoice).
    pub billing_references: Vec<DocumentReference>,
    /// `cac:ContractDocumentReference/cbc:ID`.
    pub contract_reference: Option<String>,
    /// `cac:AdditionalDocumentReference` (attachments, embedded PDFs, ...).
    pub additional_documents: Vec<AdditionalDocument>,
    /// `cac:AccountingSupplierParty/cac:Party` (required).
    pub supplier: Party,
    /// `cac:AccountingCustomerParty/cac:Party` (required): the debtor.
    pub customer: Party,
    /// `cac:PayeeParty`, when someone other than the supplier is to be paid
    /// (e.g. a factoring company).
    pub payee: Option<Party>,
    /// `cac:PaymentMeans` (all, in order).
    pub payment_means: Vec<PaymentMeans>,
    /// `cac:PaymentTerms` (all, in order).
    pub payment_terms: Vec<PaymentTerms>,
    /// Document-level `cac:AllowanceCharge`.
    pub allowance_charges: Vec<AllowanceCharge>,
    /// `cac:TaxTotal` (all; Peppol allows a second one in the tax currency).
    pub tax_totals: Vec<TaxTotal>,
    /// `cac:LegalMonetaryTotal` (required, with `cbc:PayableAmount`).
    pub monetary_total: MonetaryTotal,
    /// `cac:InvoiceLine` or `cac:CreditNoteLine`.
    pub lines: Vec<Line>,
}

impl UblDocument {
    /// The due date: document `cbc:DueDate`, else the first
    /// `cac:PaymentMeans/cbc:PaymentDueDate`, else the first
    /// `cac:PaymentTerms/cbc:PaymentDueDate`.
    pub fn effective_due_date(&self) -> Option<UblDate> {
        self.due_date
            .or_else(|| self.payment_means.iter().find_map(|m| m.payment_due_date))
            .or_else(|| self.payment_terms.iter().find_map(|t| t.payment_due_date))
    }

    /// The first `cbc:PaymentID` over all payment means (the payment
    /// reference the debtor should quote).
    pub fn payment_id(&self) -> Option<&str> {
        self.payment_means
            .iter()
            .flat_map(|m| m.payment_ids.iter())
            .map(String::as_str)
            .next()
    }

    /// The document-level tax amount in the document currency: the first
    /// `cac:TaxTotal/cbc:TaxAmount` whose currency equals
    /// `cbc:DocumentCurrencyCode`, else the first one.
    pub fn tax_amount(&self) -> Option<&Amount> {
        let doc = self.document_currency_code.as_deref();
        self.tax_totals
            .iter()
            .find(|t| Some(t.tax_amount.currency_id.as_str()) == doc)
            .or_else(|| self.tax_totals.first())
            .map(|t| &t.tax_amount)
    }

    /// All `cac:PaymentTerms/cbc:Note` texts in order.
    pub fn payment_terms_notes(&self) -> impl Iterator<Item = &str> {
        self.payment_terms
            .iter()
            .flat_map(|t| t.notes.iter().map(String::as_str))
    }

    /// Additional documents that carry embedded content, e.g. a PDF rendering.
    pub fn embedded_attachments(
        &self,
    ) -> impl Iterator<Item = (&AdditionalDocument, &EmbeddedBinary)> {
        self.additional_documents
            .iter()
            .filter_map(|d| d.embedded.as_ref().map(|e| (d, e)))
    }
}

/// A start/end date pair (`cbc:StartDate`, `cbc:EndDate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// `cbc:StartDate`.
    pub start_date: Option<UblDate>,
    /// `cbc:EndDate`.
    pub end_date: Option<UblDate>,
}

/// `cac:InvoiceDocumentReference` inside `cac:BillingReference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentReference {
    /// `cbc:ID`: the referenced invoice number.
    pub id: String,
    /// `cbc:IssueDate` of the referenced invoice.
    pub issue_date: Option<UblDate>,
}

/// `cac:AdditionalDocumentReference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdditionalDocument {
    /// `cbc:ID` (with `schemeID`).
    pub id: Identifier,
    /// `cbc:DocumentTypeCode` (e.g. 130 = invoiced object identifier, 916 = supporting document).
    pub document_type_code: Option<String>,
    /// `cbc:DocumentDescription`.
    pub description: Option<String>,
    /// `cac:Attachment/cbc:EmbeddedDocumentBinaryObject`, base64-decoded.
    pub embedded: Option<EmbeddedBinary>,
    /// `cac:Attachment/cac:ExternalReference/cbc:URI`.
    pub external_uri: Option<String>,
}

/// A decoded `cbc:EmbeddedDocumentBinaryObject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedBinary {
    /// `mimeCode` attribute, e.g. `application/pdf`.
    pub mime_code: Option<String>,
    /// `filename` attribute.
    pub filename: Option<String>,
    /// The decoded bytes.
    pub content: Vec<u8>,
}

/// A party (`cac:Party`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    /// `cbc:EndpointID` (with `schemeID`): electronic address, e.g. Peppol participant id.
    pub endpoint_id: Option<Identifier>,
    /// `cac:PartyIdentification/cbc:ID` (all, with `schemeID`).
    pub identifications: Vec<Identifier>,
    /// `cac:PartyName/cbc:Name` (first; the trading name).
    pub name: Option<String>,
    /// `cac:PostalAddress`.
    pub postal_address: Option<Address>,
    /// `cac:PartyTaxScheme` (all).
    pub tax_schemes: Vec<PartyTaxScheme>,
    /// `cac:PartyLegalEntity` (first).
    pub legal_entity: Option<PartyLegalEntity>,
    /// `cac:Contact`.
    pub contact: Option<Contact>,
}

impl Party {
    /// The VAT number: `cac:PartyTaxScheme/cbc:CompanyID` where the tax
    /// scheme id is `VAT` (or the first company id if none says VAT).
    pub fn vat_id(&self) -> Option<&str> {
        self.tax_schemes
            .iter()
            .find(|t| t.tax_scheme_id.as_deref() == Some("VAT") && t.company_id.is_some())
            .and_then(|t| t.company_id.as_ref())
            .map(|c| c.value.as_str())
    }

    /// The legal registration name, else the trading name.
    pub fn display_name(&self) -> Option<&str> {
        self.legal_entity
            .as_ref()
            .and_then(|l| l.registration_name.as_deref())
            .or(self.name.as_deref())
    }
}

/// `cac:PostalAddress` (or `cac:Address`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// `cbc:StreetName`.
    pub street_name: Option<String>,
    /// `cbc:AdditionalStreetName`.
    pub additional_street_name: Option<String>,
    /// `cbc:BuildingNumber` (used by some national CIUS, not in Peppol).
    pub building_number: Option<String>,
    /// `cbc:CityName`.
    pub city_name: Option<String>,
    /// `cbc:PostalZone`.
    pub postal_zone: Option<String>,
    /// `cbc:CountrySubentity`.
    pub country_subentity: Option<String>,
    /// `cac:AddressLine/cbc:Line` (all).
    pub address_lines: Vec<String>,
    /// `cac:Country/cbc:IdentificationCode` (ISO 3166-1 alpha-2).
    pub country_code: Option<String>,
}

/// `cac:PartyTaxScheme`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyTaxScheme {
    /// `cbc:CompanyID` (VAT number, with `schemeID` if given).
    pub company_id: Option<Identifier>,
    /// `cac:TaxScheme/cbc:ID` (usually `VAT`).
    pub tax_scheme_id: Option<String>,
}

/// `cac:PartyLegalEntity`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartyLegalEntity {
    /// `cbc:RegistrationName`.
    pub registration_name: Option<String>,
    /// `cbc:CompanyID` with `schemeID` (e.g. `0106` KvK, `0208` BE enterprise number).
    pub company_id: Option<Identifier>,
    /// `cbc:CompanyLegalForm`.
    pub company_legal_form: Option<String>,
}

/// `cac:Contact`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// `cbc:Name`.
    pub name: Option<String>,
    /// `cbc:Telephone`.
    pub telephone: Option<String>,
    /// `cbc:ElectronicMail`.
    pub electronic_mail: Option<String>,
}

/// `cac:PaymentMeans`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentMeans {
    /// `cbc:PaymentMeansCode` (UNCL4461: 30 credit transfer, 58 SEPA credit
    /// transfer, 49/59 direct debit, ...).
    pub code: Option<String>,
    /// The `name` attribute of `cbc:PaymentMeansCode`.
    pub code_name: Option<String>,
    /// `cbc:PaymentDueDate`.
    pub payment_due_date: Option<UblDate>,
    /// `cbc:PaymentChannelCode`.
    pub payment_channel_code: Option<String>,
    /// `cbc:InstructionID`.
    pub instruction_id: Option<String>,
    /// `cbc:InstructionNote` (all).
    pub instruction_notes: Vec<String>,
    /// `cbc:PaymentID` (all; Peppol allows one): the payment reference.
    pub payment_ids: Vec<String>,
    /// `cac:PayeeFinancialAccount`.
    pub payee_financial_account: Option<FinancialAccount>,
    /// `cac:CardAccount`.
    pub card_account: Option<CardAccount>,
    /// `cac:PaymentMandate` (direct debit).
    pub payment_mandate: Option<PaymentMandate>,
}

/// `cac:PayeeFinancialAccount`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinancialAccount {
    /// `cbc:ID`: account identifier, normally an IBAN (as written, may contain spaces).
    pub id: Option<String>,
    /// `cbc:Name`: account name.
    pub name: Option<String>,
    /// `cac:FinancialInstitutionBranch/cbc:ID`: normally a BIC.
    pub branch_id: Option<String>,
}

/// `cac:CardAccount`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardAccount {
    /// `cbc:PrimaryAccountNumberID` (normally only the last digits).
    pub primary_account_number_id: Option<String>,
    /// `cbc:NetworkID`.
    pub network_id: Option<String>,
    /// `cbc:HolderName`.
    pub holder_name: Option<String>,
}

/// `cac:PaymentMandate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentMandate {
    /// `cbc:ID`: mandate reference.
    pub id: Option<String>,
    /// `cac:PayerFinancialAccount/cbc:ID`: debited account (IBAN).
    pub payer_account_id: Option<String>,
}

/// `cac:PaymentTerms`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentTerms {
    /// `cbc:Note` (all), e.g. "Payment within 30 days".
    pub notes: Vec<String>,
    /// `cbc:PaymentDueDate`.
    pub payment_due_date: Option<UblDate>,
}

/// Document-level `cac:AllowanceCharge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowanceCharge {
    /// `cbc:ChargeIndicator`: true = charge, false = allowance.
    pub charge_indicator: bool,
    /// `cbc:AllowanceChargeReasonCode`.
    pub reason_code: Option<String>,
    /// `cbc:AllowanceChargeReason`.
    pub reason: Option<String>,
    /// `cbc:Amount`.
    pub amount: Amount,
    /// `cbc:BaseAmount`.
    pub base_amount: Option<Amount>,
    /// `cac:TaxCategory`.
    pub tax_category: Option<TaxCategory>,
}

/// `cac:TaxTotal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxTotal {
    /// `cbc:TaxAmount`.
    pub tax_amount: Amount,
    /// `cac:TaxSubtotal` (all).
    pub subtotals: Vec<TaxSubtotal>,
}

/// `cac:TaxSubtotal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxSubtotal {
    /// `cbc:TaxableAmount`.
    pub taxable_amount: Option<Amount>,
    /// `cbc:TaxAmount`.
    pub tax_amount: Amount,
    /// `cac:TaxCategory`.
    pub category: Option<TaxCategory>,
}

/// `cac:TaxCategory` / `cac:ClassifiedTaxCategory`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxCategory {
    /// `cbc:ID` (UNCL5305: S, Z, E, AE, K, G, O, L, M).
    pub id: Option<String>,
    /// `cbc:Percent`.
    pub percent: Option<Decimal>,
    /// `cbc:TaxExemptionReasonCode`.
    pub exemption_reason_code: Option<String>,
    /// `cbc:TaxExemptionReason`.
    pub exemption_reason: Option<String>,
    /// `cac:TaxScheme/cbc:ID`.
    pub tax_scheme_id: Option<String>,
}

/// `cac:LegalMonetaryTotal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonetaryTotal {
    /// `cbc:LineExtensionAmount`.
    pub line_extension_amount: Option<Amount>,
    /// `cbc:TaxExclusiveAmount`.
    pub tax_exclusive_amount: Option<Amount>,
    /// `cbc:TaxInclusiveAmount`.
    pub tax_inclusive_amount: Option<Amount>,
    /// `cbc:AllowanceTotalAmount`.
    pub allowance_total_amount: Option<Amount>,
    /// `cbc:ChargeTotalAmount`.
    pub charge_total_amount: Option<Amount>,
    /// `cbc:PrepaidAmount`.
    pub prepaid_amount: Option<Amount>,
    /// `cbc:PayableRoundingAmount`.
    pub payable_rounding_amount: Option<Amount>,
    /// `cbc:PayableAmount` (required): the amount due.
    pub payable_amount: Amount,
}

/// `cac:InvoiceLine` or `cac:CreditNoteLine`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `cbc:ID` (required).
    pub id: String,
    /// `cbc:Note` (all).
    pub notes: Vec<String>,
    /// `cbc:InvoicedQuantity` / `cbc:CreditedQuantity`.
    pub quantity: Option<Quantity>,
    /// `cbc:LineExtensionAmount`.
    pub line_extension_amount: Option<Amount>,
    /// `cbc:AccountingCost`.
    pub accounting_cost: Option<String>,
    /// `cac:InvoicePeriod`.
    pub period: Option<Period>,
    /// `cac:OrderLineReference/cbc:LineID`.
    pub order_line_reference: Option<String>,
    /// `cac:Item/cbc:Name`.
    pub item_name: Option<String>,
    /// `cac:Item/cbc:Description`.
    pub item_description: Option<String>,
    /// `cac:Item/cac:SellersItemIdentification/cbc:ID`.
    pub sellers_item_id: Option<String>,
    /// `cac:Item/cac:ClassifiedTaxCategory`.
    pub tax_category: Option<TaxCategory>,
    /// `cac:Price/cbc:PriceAmount`.
    pub price_amount: Option<Amount>,
    /// `cac:Price/cbc:BaseQuantity`.
    pub price_base_quantity: Option<Quantity>,
}

impl Line {
    /// `cac:Item/cac:ClassifiedTaxCategory/cbc:Percent`.
    pub fn tax_percent(&self) -> Option<&Decimal> {
        self.tax_category.as_ref().and_then(|c| c.percent.as_ref())
    }
}
