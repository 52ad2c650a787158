//! Sans-IO writer for SEPA Direct Debit initiation messages: ISO 20022
//! **pain.008.001.02** and **pain.008.001.08**, SEPA Core or B2B.
//!
//! Build a [`Message`] (plain structs, no dependency on other incasso
//! crates) and call [`write()`] with [`Options`]. The writer never reads the
//! clock (the creation time is a field), does no IO, and returns the
//! document as UTF-8 bytes, identical for identical input.
//!
//! * `NbOfTxs` and `CtrlSum` are computed exactly, per message and per
//!   payment information block, from integer cents (no floats).
//! * The whole input is checked before a byte is returned; the [`Error`]
//!   names the transaction (end-to-end id and position) or block and the
//!   field: IBAN (format, SEPA country length, mod 97), BIC, SEPA creditor
//!   identifier (ISO 7064 mod 97-10), ISO 11649 references, schema and EPC
//!   maximum lengths, amounts 0.01 ..= 999 999 999.99, duplicate
//!   payment information ids, empty messages and blocks, a mandate signed
//!   after the creation date, a collection date before it.
//! * Character set: the EPC basic Latin set. Identifiers must be in it;
//!   free text is transliterated by default or refused, see [`TextPolicy`].
//! * Without a BIC an agent is written as `Othr/Id` `NOTPROVIDED` (the EPC
//!   convention; the element is mandatory); with one as `BIC` (.02) or
//!   `BICFI` (.08).
//! * Mandate amendments ([`Amendment`]) write `AmdmntInd` true and the
//!   original mandate id, creditor scheme id, debtor account (IBAN or
//!   `SMNDA`) and/or `OrgnlDbtrAgt` `SMNDA`.
//!
//! ```
//! use incasso_pain008::*;
//!
//! let message = Message {
//!     message_id: "MSG-1".into(),
//!     created_at: DateTime::new(Date::new(2025, 3, 1)?, 9, 30, 0)?,
//!     initiating_party: "Incasso B.V.".into(),
//!     creditor: Creditor {
//!         name: "Incasso B.V.".into(),
//!         iban: "NL91ABNA0417164300".into(),
//!         bic: Some("ABNANL2A".into()),
//!         scheme_id: "NL57ZZZ999999999999".into(),
//!     },
//!     scheme: Scheme::Core,
//!     batches: vec![PaymentInformation {
//!         id: "PMT-1".into(),
//!         sequence_type: SequenceType::Recurring,
//!         collection_date: Date::new(2025, 3, 10)?,
//!         batch_booking: None,
//!         transactions: vec![Transaction {
//!             end_to_end_id: "E2E-1".into(),
//!             amount_cents: 12_345,
//!             mandate: Mandate { id: "M-1".into(), signed_on: Date::new(2024, 1, 15)?, amendment: None },
//!             debtor: Debtor { name: "Jan de Vries".into(), iban: "NL44RABO0123456789".into(), bic: None },
//!             remittance: Some(Remittance::Unstructured("Invoice 2025-001".into())),
//!         }],
//!     }],
//! };
//! let xml = String::from_utf8(write(&message, Options::new(Version::V02))?).unwrap();
//! assert!(xml.contains("<CtrlSum>123.45</CtrlSum>"));
//! # Ok::<(), incasso_pain008::Error>(())
//! ```

mod check;
mod error;
mod model;
mod write;

pub use check::{creditor_id, iban, is_epc_char, iso11649};
pub use error::{Error, Location, Problem};
pub use model::{
    Amendment, Creditor, CreditorReference, Date, DateTime, Debtor, Mandate, Message,
    OriginalCreditor, OriginalDebtorAccount, PaymentInformation, Remittance, Scheme, SequenceType,
    TextPolicy, Transaction, Version,
};
pub use write::{MAX_AMOUNT_CENTS, Options, Totals, format_cents, totals, write, write_string};
