//! Row types and the transactional sink of bank statement imports: imported files, statements,
//! entries (with the identity that makes a second import of the same entry a no-op) and the
//! match each entry got. Payments and allocations stay in the append-only money tables; a bank
//! entry points at the payment it produced.

use incasso_calendar::Date;
use incasso_domain::{AllocationId, DebtorId, InvoiceId, PaymentId};
use incasso_money::Money;

use crate::{AllocationRow, NewAllocation, NewPayment, StoreResult};

/// The file a bank import comes from (recorded only when the import stores something new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankFile {
    /// `camt.053`, `camt.052`, `camt.054` or `mt940`.
    pub format: String,
    pub filename: String,
    /// Hex SHA-256 of the bytes (for the record; identity comes from the bank references).
    pub sha256: String,
}

/// One statement (camt `Stmt`/`Rpt`/`Ntfctn`, MT940 `:20:` block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBankStatement {
    /// The account as matched against the tenant's accounts (normalised: no spaces, upper case).
    pub account: String,
    /// Identity of the statement for this tenant: the same key is stored once.
    pub key: String,
    /// `camt.053`, `mt940`, ...
    pub kind: String,
    /// The bank's statement id (`Stmt/Id`, `:20:`/`:28C:`).
    pub statement_id: Option<String>,
    /// The statement's date: its closing balance date, else the latest booking date, else the
    /// creation date.
    pub statement_date: Date,
    pub opening: Option<Money>,
    pub closing: Option<Money>,
}

/// What happened to a bank entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryStatus {
    /// Allocated to invoices (possibly with an unapplied remainder).
    Matched,
    /// Money in that no rule matched with enough confidence: waits in the unmatched queue.
    Unmatched,
    /// Not a payment (a debit that is not a return, a zero amount).
    Ignored,
    /// A returned direct debit (or reversed credit) that reopened claims.
    Returned,
}

impl EntryStatus {
    pub fn code(self) -> &'static str {
        match self {
            EntryStatus::Matched => "matched",
            EntryStatus::Unmatched => "unmatched",
            EntryStatus::Ignored => "ignored",
            EntryStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<EntryStatus> {
        match s {
            "matched" => Some(EntryStatus::Matched),
            "unmatched" => Some(EntryStatus::Unmatched),
            "ignored" => Some(EntryStatus::Ignored),
            "returned" => Some(EntryStatus::Returned),
            _ => None,
        }
    }
}

/// One booked bank entry as imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBankEntry {
    /// The stored statement it first appeared in.
    pub statement_id: i64,
    /// Identity for this tenant (from the bank's references, else a content hash).
    pub key: String,
    /// Where in the file: a camt element path or `line N`.
    pub location: String,
    pub booking_date: Date,
    pub value_date: Option<Date>,
    /// Signed: money in positive, money out negative.
    pub amount: Money,
    pub counterparty_name: Option<String>,
    pub counterparty_iban: Option<String>,
    /// Structured payment reference (betalingskenmerk, OGM/VCS, RF) as written.
    pub reference: Option<String>,
    pub end_to_end_id: Option<String>,
    /// Unstructured remittance information.
    pub remittance: Option<String>,
    /// Return reason code (camt `RtrInf/Rsn/Cd`, MT940 `/RTRN/`).
    pub return_reason: Option<String>,
}

/// The match of an entry: status, the payment it produced, why and how sure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryMatch {
    pub status: EntryStatus,
    pub payment_id: Option<PaymentId>,
    pub debtor_id: Option<DebtorId>,
    /// The invoice the match rule pointed at (the debtor's designation, when by reference).
    pub invoice_id: Option<InvoiceId>,
    /// Which rule matched (or why none did), in words.
    pub reason: String,
    /// 0..=100.
    pub confidence: u8,
    /// The part of the payment no claim absorbed (kept as the debtor's credit balance).
    pub unapplied: Option<Money>,
}

/// A stored bank entry with its match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankEntryRow {
    pub id: i64,
    pub entry: NewBankEntry,
    pub matched: EntryMatch,
}

/// The outcome of inserting an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryInsert {
    /// Stored with this id.
    New(i64),
    /// An entry with this key exists; `this_file` when it was stored by the same import (the
    /// same key twice in one file: the caller distinguishes the occurrences).
    Known { this_file: bool },
}

/// An open invoice as the matcher sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInvoice {
    pub id: InvoiceId,
    pub number: String,
    pub debtor_id: DebtorId,
    pub payment_reference: Option<String>,
    /// What is still open.
    pub open: Money,
    pub due: Option<Date>,
}

/// One new bank entry with everything its match produced, written together by
/// [`BankSink::write_entries`]: the payment (if any), its allocations, reversals of earlier
/// allocations (a returned direct debit) and the entry itself with its match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryWrite {
    pub entry: NewBankEntry,
    /// The payment the entry produced (money in, or the negative payment of a return).
    pub payment: Option<NewPayment>,
    /// Allocations of the new payment; their `payment_id` is ignored and replaced by the id the
    /// new payment gets.
    pub allocations: Vec<NewAllocation>,
    /// Allocations of earlier payments (reversals, `reverses` set), written as given.
    pub reversals: Vec<NewAllocation>,
    /// The match; its `payment_id` is replaced by the new payment's id when there is one.
    pub matched: EntryMatch,
}

/// An open invoice as the bank import indexes it, borrowed from the row being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenInvoiceRef<'a> {
    pub id: InvoiceId,
    pub number: &'a str,
    pub debtor_id: DebtorId,
    pub payment_reference: Option<&'a str>,
    /// What is still open.
    pub open: Money,
    pub due: Option<Date>,
}

/// The reads and writes of one bank transaction (an import or a manual match), all inside one
/// database transaction: nothing is visible until the closure given to
/// [`crate::Store::bank_transaction`] returns `Ok(true)`.
pub trait BankSink {
    /// Stores the statement unless its key exists; returns its id and whether it is new.
    fn statement(&mut self, statement: &NewBankStatement) -> StoreResult<(i64, bool)>;
    /// Stores an entry (status `unmatched` until [`BankSink::set_match`]) unless its key exists.
    fn entry(&mut self, entry: &NewBankEntry) -> StoreResult<EntryInsert>;
    /// Records the match of an entry.
    fn set_match(&mut self, entry: i64, matched: &EntryMatch) -> StoreResult<()>;
    /// One stored entry.
    fn get_entry(&mut self, entry: i64) -> StoreResult<BankEntryRow>;
    /// The latest money-in entry with this end-to-end id that produced a payment (the original
    /// of a return).
    fn credit_by_end_to_end(&mut self, end_to_end_id: &str) -> StoreResult<Option<BankEntryRow>>;
    /// Whether a file with these bytes (its SHA-256) was imported before this transaction.
    fn file_imported_before(&mut self, sha256: &str) -> StoreResult<bool>;
    /// The recorded direct-debit collection with this end-to-end id and its batch's message id
    /// (as [`crate::MandateStore::collection_by_end_to_end`], inside this transaction).
    fn collection_by_end_to_end(
        &mut self,
        end_to_end_id: &str,
    ) -> StoreResult<Option<(String, crate::NewCollection)>>;
    /// The tenant's collectable invoices with an open amount.
    fn open_invoices(&mut self) -> StoreResult<Vec<OpenInvoice>>;
    /// The same invoices as [`BankSink::open_invoices`], ordered by debtor and then id, handed
    /// to `each` one by one (the import indexes them without holding the rows).
    fn each_open_invoice(&mut self, each: &mut dyn FnMut(OpenInvoiceRef<'_>)) -> StoreResult<()>;
    /// Which of `keys` are already stored entry keys of the tenant (same order as `keys`).
    fn known_entries(&mut self, keys: &[&str]) -> StoreResult<Vec<bool>>;
    /// Writes a batch of new entries in order: payments (ids in batch order), allocations
    /// (principal allocations move the invoice's open amount, which must stay between zero and
    /// the unpaid gross amount), then the entries with their match. The keys must be new: a
    /// stored key is a conflict.
    fn write_entries(&mut self, batch: &[EntryWrite]) -> StoreResult<()>;
    /// The debtors with a queued or held outbox action on one of their cases.
    fn debtors_with_pending_actions(&mut self) -> StoreResult<Vec<DebtorId>>;
    /// Every known IBAN of every debtor of the tenant.
    fn debtor_ibans(&mut self) -> StoreResult<Vec<(DebtorId, String)>>;
    fn record_payment(&mut self, payment: &NewPayment) -> StoreResult<PaymentId>;
    /// As [`crate::Store::record_allocations`], inside this transaction.
    fn record_allocations(
        &mut self,
        allocations: &[NewAllocation],
    ) -> StoreResult<Vec<AllocationId>>;
    /// The allocations of one payment, oldest first.
    fn payment_allocations(&mut self, payment: PaymentId) -> StoreResult<Vec<AllocationRow>>;
    /// Whether the debtor has a collectable claim open and due before `as_of`.
    fn has_open_overdue(&mut self, debtor: DebtorId, as_of: Date) -> StoreResult<bool>;
    /// Cancels the queued and held outbox actions of the debtor's cases, with an event on each
    /// case that had one; returns how many actions were cancelled.
    fn cancel_pending(&mut self, debtor: DebtorId, reason: &str, on: Date) -> StoreResult<u64>;
}
