//! Sans-IO reader for SWIFT **MT940** customer statements and **MT942**
//! interim reports, with the variants of Dutch banks (ING structured and
//! unstructured, Rabobank old and IBAN format, ABN AMRO, Triodos, Knab,
//! SNS/ASN, bunq-like generic exports) and German `?20`-style `:86:`.
//!
//! [`parse`] takes the raw bytes of a file and returns a faithful, low-level
//! [`Document`] plus the [`Diagnostic`]s found on the way. Mapping to the
//! incasso domain is left to the caller (`app::import`).
//!
//! * **Fatal errors** ([`Error`]) only when the file is not a statement file
//!   at all: empty, or no `:20:` tag anywhere.
//! * **Per-entry problems** (an unreadable amount, date or mark) become error
//!   diagnostics with the line number, tag and field; the entry is kept with
//!   [`Entry::valid`] set to `false` so the caller can refuse the file.
//!   An unreadable balance marks the statement invalid ([`Statement::valid`]).
//! * **Dates that do not exist** (banks do issue 30 February): kept as
//!   written in [`SwiftDate`] (year, month, day and raw text), reported as a
//!   warning, and the entry stays valid; [`SwiftDate::clamped`] gives the
//!   last day of that month for callers that need a calendar date. A month
//!   above 12 or a day above 31 is an error.
//! * **Amounts** are exact [`Decimal`]s (`1213,28` is 121328 at scale 2),
//!   never floats.
//! * **Lines**: CRLF or LF; SWIFT block wrappers (`{1:...}{2:...}{4:` and
//!   `-}`/`-}{5:}`), bank header lines before the first tag (`940 00`,
//!   `ABNANL2A`, `:940:`) and the end markers `-` and `-XXX` are handled;
//!   lines that are not tags continue the previous tag (`:86:` especially).
//!   UTF-8 input is read as such, anything else as Latin-1.
//! * **`:86:` structure** is recognised where possible ([`Information`]):
//!   `/EREF/`, `/MARF/`, `/RTRN/`, `/CSID/`, `/BENM/`, `/ORDP/`, `/CNTP/`,
//!   `/NAME/`, `/IBAN/`, `/BIC/`, `/REMI/` (free text and the structured
//!   betalingskenmerk `/REMI/STRD/CUR/...`), German `?00`..`?63` with
//!   `EREF+`/`MREF+`/`SVWZ+`, Triodos `>20`; the raw text is always kept.
//!
//! `parse` never panics, whatever the input.
//!
//! ```
//! let sta = b":20:STARTUMSE\r\n:25:NL20INGB0001234567EUR\r\n:28C:3\r\n\
//! :60F:C140102EUR1000,00\r\n\
//! :61:1401030103C121,00NTRFEREF//00000000000005\r\n\
//! :86:/EREF/F-2024-001//CNTP/NL08INGB0000001234/INGBNL2A/Klant B.V./AMSTERDAM//REMI/STRD/CUR/5010012368971337/\r\n\
//! :62F:C140103EUR1121,00\r\n-\r\n";
//! let (doc, diagnostics) = incasso_mt940::parse(sta).unwrap();
//! assert!(diagnostics.is_empty());
//! let statement = &doc.statements[0];
//! assert_eq!(statement.account_iban.as_deref(), Some("NL20INGB0001234567"));
//! let entry = &statement.entries[0];
//! assert_eq!(entry.signed_amount().unwrap().to_string(), "121.00");
//! assert_eq!(entry.details.end_to_end_id.as_deref(), Some("F-2024-001"));
//! assert_eq!(entry.details.counterparty_name.as_deref(), Some("Klant B.V."));
//! assert_eq!(entry.details.payment_reference.as_deref(), Some("5010012368971337"));
//! assert!(incasso_mt940::check_balances(statement).unwrap().is_some());
//! ```

#![forbid(unsafe_code)]

mod balance;
mod decimal;
mod error;
mod info;
mod model;
mod parser;

pub use balance::{BalanceCheck, check_balances};
pub use decimal::{Decimal, DecimalError};
pub use error::Error;
pub use info::{Information, InformationFormat};
pub use model::{
    Balance, CreditDebit, Diagnostic, Document, Entry, EntryMark, MessageType, Severity, Statement,
    SwiftDate,
};

/// Parses an MT940/MT942 file from its raw bytes.
///
/// Never panics. See the crate documentation for what is fatal and what is
/// a diagnostic.
pub fn parse(bytes: &[u8]) -> Result<(Document, Vec<Diagnostic>), Error> {
    parser::parse(bytes)
}
