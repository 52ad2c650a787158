//! The domain model of incasso: creditors (tenants), debtors, invoices and credit notes,
//! payments and allocations, with typed identifiers and values that are parsed once at the edge.
//!
//! No IO, no clock, no serialization: this crate only describes the facts and the pure rules
//! that follow from them (for example whether an invoice is collectable on a given day).

pub mod ids;
pub mod invoice;
pub mod party;
pub mod values;

pub use ids::{AllocationId, CreditorId, DebtorId, ImportId, InvoiceId, PaymentId};
pub use invoice::{
    Attachment, Collectability, DocumentKind, DueDateSource, Invoice, InvoiceLine, NewInvoice,
    NotCollectable,
};
pub use party::{
    Address, Creditor, Debtor, DebtorKind, Jurisdiction, Language, NewCreditor, NewDebtor,
};
pub use values::{
    CountryCode, DebtorNumber, EmailAddress, InvoiceNumber, PhoneNumber, RegistrationNumber, Tag,
    ValueError, VatNumber,
};
