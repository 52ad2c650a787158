//! Sans-IO streaming reader for ISO 20022 bank-to-customer cash management
//! messages: **camt.053** statements, **camt.052** intraday reports and
//! **camt.054** debit/credit notifications, versions .001.02 to .001.10.
//!
//! [`parse`] takes the raw bytes of a document and returns a faithful,
//! low-level [`Document`] plus the [`Diagnostic`]s found on the way. Mapping
//! to the incasso domain is left to the caller (`app::import`).
//!
//! * **Fatal errors** ([`Error`]) only when the document as a whole cannot be
//!   read: malformed XML, not a camt message, no statement at all, or a
//!   `<!DOCTYPE>` (refused, so external entities and entity expansion can
//!   never happen).
//! * **Per-entry problems** (an unreadable amount, date or indicator) become
//!   error diagnostics with the element path, e.g.
//!   `/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt`, and the entry is kept
//!   with [`Entry::valid`] set to `false`, so the caller can refuse the file.
//! * **Known real-world deviations** are read leniently and reported as
//!   warnings: element order inside `Bal`, a `Bal` without `CdtDbtInd`,
//!   `BIC` where the version has `BICFI` (and the reverse), a `Dt` holding
//!   a date-time.
//! * **Amounts** are exact [`Decimal`]s as written (5 fraction digits stay 5),
//!   never floats.
//!
//! The reader streams: it uses quick-xml's pull reader over the input slice
//! and builds no tree; memory beyond the input is the element path and the
//! entry being read, plus the entries kept. [`parse_with`] hands each entry
//! to a callback instead of keeping it. Elements are matched on their local
//! name, so any namespace prefix works. Neither function panics, whatever
//! the input.
//!
//! ```
//! let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
//! <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
//!  <BkToCstmrStmt>
//!   <GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-11-30T18:00:00</CreDtTm></GrpHdr>
//!   <Stmt>
//!    <Id>S1</Id>
//!    <Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>
//!    <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt>
//!      <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-11-29</Dt></Dt></Bal>
//!    <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">221.00</Amt>
//!      <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-11-30</Dt></Dt></Bal>
//!    <Ntry><Amt Ccy="EUR">121.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
//!      <BookgDt><Dt>2024-11-30</Dt></BookgDt>
//!      <NtryDtls><TxDtls><Refs><EndToEndId>F-2024-001</EndToEndId></Refs>
//!        <RltdPties><Dbtr><Nm>Klant B.V.</Nm></Dbtr></RltdPties>
//!        <RmtInf><Ustrd>Factuur F-2024-001</Ustrd></RmtInf></TxDtls></NtryDtls>
//!    </Ntry>
//!   </Stmt>
//!  </BkToCstmrStmt>
//! </Document>"#;
//! let (doc, diagnostics) = incasso_camt::parse(xml).unwrap();
//! assert!(diagnostics.is_empty());
//! assert_eq!(doc.version, "001.02");
//! let statement = &doc.statements[0];
//! let entry = &statement.entries[0];
//! assert_eq!(entry.amount.as_ref().unwrap().value.to_string(), "121.00");
//! let tx = &entry.transactions[0];
//! assert_eq!(tx.end_to_end_id.as_deref(), Some("F-2024-001"));
//! assert_eq!(tx.counterparty(entry.credit_debit).name.as_deref(), Some("Klant B.V."));
//! assert!(incasso_camt::check_balances(statement).unwrap().is_some());
//! ```

#![forbid(unsafe_code)]

mod balance;
mod decimal;
mod error;
mod model;
mod reader;

pub use balance::{BalanceCheck, check_balances};
pub use decimal::{Decimal, DecimalError};
pub use error::Error;
pub use model::{
    Account, Amount, Balance, BankTransactionCode, CreditDebit, CreditorReference, DateChoice,
    Diagnostic, Document, Entry, GroupHeader, IsoDate, MessageKind, Party, ReturnInformation,
    Severity, Statement, TransactionDetails,
};

/// Parses a camt.052/053/054 document from its raw bytes (UTF-8), keeping
/// every entry in [`Statement::entries`].
///
/// Never panics. See the crate documentation for what is fatal and what is
/// a diagnostic.
pub fn parse(bytes: &[u8]) -> Result<(Document, Vec<Diagnostic>), Error> {
    reader::Parser::new(true, |_: &Statement, _: Entry| {}).run(bytes)
}

/// Parses like [`parse`] but hands each entry to `on_entry` as soon as its
/// `</Ntry>` is read, together with its statement as read so far (header,
/// account and the balances before the entries, with `entries` empty). The
/// returned [`Document`] keeps no entries; [`Statement::entry_count`],
/// [`Statement::invalid_entry_count`] and [`Statement::booked_sum`] are still
/// filled, so [`check_balances`] works.
///
/// A fatal error can still come after some entries were delivered (for
/// example a truncated file): the caller must then discard what it received.
pub fn parse_with<F>(bytes: &[u8], on_entry: F) -> Result<(Document, Vec<Diagnostic>), Error>
where
    F: FnMut(&Statement, Entry),
{
    reader::Parser::new(false, on_entry).run(bytes)
}
