//! The storage boundary of incasso: capability traits that the SQLite and PostgreSQL backends
//! implement, the small `StoreError`, the row types that cross the boundary, and (feature
//! `contract`) the contract suite both backends must pass.
//!
//! Invariant: every method that reads or writes tenant data takes the tenant (`CreditorId`) and
//! every query it runs is scoped by it. There is no method that reads across tenants; only the
//! creditor registry itself (`creditors`) lists tenants.

pub mod bank;
pub mod codec;
pub mod collection;
pub mod dispatch;
pub mod dossier;
pub mod mandate;
pub mod paylink;

pub use bank::*;
pub use collection::*;
pub use dispatch::*;
pub use dossier::*;
pub use mandate::*;
pub use paylink::*;
#[cfg(feature = "contract")]
pub mod contract;
#[cfg(feature = "contract")]
pub mod contract_dispatch;
#[cfg(feature = "contract")]
pub mod contract_dossier;
#[cfg(feature = "contract")]
pub mod contract_mandate;
#[cfg(feature = "contract")]
pub mod contract_paylink;

use incasso_calendar::Date;
use incasso_domain::{
    Attachment, Creditor, CreditorId, Debtor, DebtorId, DebtorKind, ImportId, Invoice, InvoiceId,
    NewCreditor, NewDebtor, NewInvoice, NotCollectable,
};
use incasso_money::Money;

/// What can go wrong in a store. Driver errors never leak into the domain: they are wrapped.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The keys by which an existing debtor can be matched during an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebtorKeys {
    pub id: DebtorId,
    pub number: Option<String>,
    pub registration_number: Option<String>,
    pub vat_number: Option<String>,
    pub name_postcode: Option<String>,
}

/// What the store knows of an existing invoice, to decide unchanged / changed on re-import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceFingerprint {
    pub id: InvoiceId,
    /// A stable 64-bit hash of the invoice's money facts (see [`codec::fingerprint`]).
    pub fingerprint: i64,
}

/// The file an import comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFile {
    /// `csv` or `ubl`.
    pub format: String,
    pub filename: String,
    /// Hex SHA-256 of the file's bytes: the same bytes are never imported twice.
    pub sha256: String,
}

/// A previous import of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    pub id: ImportId,
    pub filename: String,
    pub imported_at: String,
    pub invoices_created: i64,
}

/// Counts an import session reports when it commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportCounts {
    pub debtors_created: i64,
    pub invoices_created: i64,
    pub invoices_unchanged: i64,
    pub invoices_changed: i64,
}

/// The writes of one import, all inside one transaction. Nothing is visible to others until the
/// closure given to [`Store::import`] returns `Ok`; an error rolls everything back.
pub trait ImportSink {
    /// Keys of the tenant's existing debtors.
    fn debtor_keys(&mut self) -> StoreResult<Vec<DebtorKeys>>;
    /// Fingerprints of the tenant's existing invoices by number.
    fn invoice_fingerprints(&mut self) -> StoreResult<Vec<(String, InvoiceFingerprint)>>;
    /// Inserts debtors, returning their ids in the same order.
    fn insert_debtors(&mut self, debtors: &[NewDebtor]) -> StoreResult<Vec<DebtorId>>;
    /// Inserts invoices (with their lines and attachment) for the given debtors.
    fn insert_invoices(
        &mut self,
        invoices: &[(DebtorId, &NewInvoice)],
    ) -> StoreResult<Vec<InvoiceId>>;
}

/// Filter for invoice listings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvoiceFilter {
    /// Only collectable invoices with an open amount whose due date is before this date.
    pub overdue_as_of: Option<Date>,
    pub debtor: Option<DebtorId>,
    pub limit: Option<u64>,
}

/// One row of an invoice listing (a projection, cheap to stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRow {
    pub id: InvoiceId,
    pub number: String,
    pub kind: String,
    pub debtor_id: DebtorId,
    /// Shared: a listing repeats each debtor's name for every invoice.
    pub debtor_name: std::sync::Arc<str>,
    pub issue_date: Date,
    pub due_date: Option<Date>,
    pub gross_amount: Money,
    pub open_amount: Money,
    pub defect: Option<NotCollectable>,
}

/// One row of a debtor listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebtorRow {
    pub id: DebtorId,
    pub number: Option<String>,
    pub name: String,
    pub kind: DebtorKind,
    pub city: String,
    pub invoices: i64,
    pub open_amount: Money,
}

/// A payment received, as recorded (append-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub debtor_id: Option<DebtorId>,
    pub received_on: Date,
    pub amount: Money,
    pub reference: Option<String>,
    pub counterparty_iban: Option<String>,
    pub description: Option<String>,
    /// Where it came from (`bank:<entry-id>`, `manual`, `import:<invoice>`).
    pub source: String,
    /// A correction points at the payment it reverses.
    pub reverses: Option<incasso_domain::PaymentId>,
}

/// The part of a claim an allocation pays (art. 6:44 BW order: costs, interest, principal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    Costs,
    Interest,
    Principal,
}

impl Component {
    pub fn code(self) -> &'static str {
        match self {
            Component::Costs => "costs",
            Component::Interest => "interest",
            Component::Principal => "principal",
        }
    }

    pub fn parse(s: &str) -> Option<Component> {
        match s {
            "costs" => Some(Component::Costs),
            "interest" => Some(Component::Interest),
            "principal" => Some(Component::Principal),
            _ => None,
        }
    }
}

/// An allocation of part of a payment to one component of one invoice (append-only). A
/// negative amount with `reverses` set undoes an earlier allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAllocation {
    pub payment_id: incasso_domain::PaymentId,
    pub invoice_id: InvoiceId,
    pub component: Component,
    pub amount: Money,
    pub reverses: Option<incasso_domain::AllocationId>,
}

/// A stored allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRow {
    pub id: incasso_domain::AllocationId,
    pub allocation: NewAllocation,
}

/// A stored payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub id: incasso_domain::PaymentId,
    pub payment: NewPayment,
}

/// The store: creditor registry, tenant-scoped ledger reads and writes. The capability
/// sub-traits (mandates, payment links, dossier, dispatch) live in their own modules.
pub trait Store: MandateStore + PaylinkStore + DossierStore + DispatchStore {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// The schema version after migrations.
    fn schema_version(&mut self) -> StoreResult<i64>;

    fn add_creditor(&mut self, creditor: &NewCreditor) -> StoreResult<CreditorId>;
    fn creditors(&mut self) -> StoreResult<Vec<Creditor>>;
    fn creditor(&mut self, id: CreditorId) -> StoreResult<Creditor>;

    /// The earlier import of the same bytes for this tenant, if any.
    fn find_import(
        &mut self,
        tenant: CreditorId,
        sha256: &str,
    ) -> StoreResult<Option<ImportRecord>>;

    /// Runs one import in one transaction. The closure does the matching and inserting through
    /// the sink and returns the counts to record; an `Err` rolls back every write.
    fn import(
        &mut self,
        tenant: CreditorId,
        file: &ImportFile,
        work: &mut dyn FnMut(&mut dyn ImportSink) -> anyhow::Result<ImportCounts>,
    ) -> StoreResult<ImportId>;

    fn add_debtor(&mut self, tenant: CreditorId, debtor: &NewDebtor) -> StoreResult<DebtorId>;
    fn debtor(&mut self, tenant: CreditorId, id: DebtorId) -> StoreResult<Debtor>;
    fn debtors(&mut self, tenant: CreditorId) -> StoreResult<Vec<DebtorRow>>;

    fn invoice(&mut self, tenant: CreditorId, id: InvoiceId) -> StoreResult<Invoice>;
    fn invoice_by_number(&mut self, tenant: CreditorId, number: &str) -> StoreResult<Invoice>;
    fn attachment(
        &mut self,
        tenant: CreditorId,
        invoice: InvoiceId,
    ) -> StoreResult<Option<Attachment>>;

    /// Streams invoice rows in (due date, number) order to `visit`; returns how many were visited.
    fn for_each_invoice(
        &mut self,
        tenant: CreditorId,
        filter: &InvoiceFilter,
        visit: &mut dyn FnMut(InvoiceRow) -> anyhow::Result<()>,
    ) -> StoreResult<u64>;

    /// Appends a payment. Payments are never updated or deleted.
    fn record_payment(
        &mut self,
        tenant: CreditorId,
        payment: &NewPayment,
    ) -> StoreResult<incasso_domain::PaymentId>;
    fn payments(&mut self, tenant: CreditorId) -> StoreResult<Vec<PaymentRow>>;

    /// Appends allocations in one transaction and lowers (or, for a reversal, raises) the open
    /// principal of each invoice by its principal allocations. Refused when an allocation would
    /// take an invoice's open amount below zero or above its gross amount, or when the
    /// allocations of a payment would exceed the payment: then nothing is written.
    fn record_allocations(
        &mut self,
        tenant: CreditorId,
        allocations: &[NewAllocation],
    ) -> StoreResult<Vec<incasso_domain::AllocationId>>;
    fn allocations(
        &mut self,
        tenant: CreditorId,
        invoice: InvoiceId,
    ) -> StoreResult<Vec<AllocationRow>>;

    /// Streams every debtor with at least one collectable claim whose due date is before
    /// `as_of` and that is still open, with those claims, in debtor order.
    fn for_each_overdue_debtor(
        &mut self,
        tenant: CreditorId,
        as_of: Date,
        visit: &mut dyn FnMut(DebtorClaims) -> anyhow::Result<()>,
    ) -> StoreResult<u64>;

    /// The tenant's cases; with `open_only`, those not closed.
    fn cases(&mut self, tenant: CreditorId, open_only: bool) -> StoreResult<Vec<CaseRow>>;
    fn case(&mut self, tenant: CreditorId, id: i64) -> StoreResult<CaseRow>;

    /// Outbox actions of the tenant, of one case, or all.
    fn actions(&mut self, tenant: CreditorId, case: Option<i64>) -> StoreResult<Vec<ActionRow>>;

    /// Applies one batch of the daily run in one transaction: new cases, case changes, actions
    /// (an existing idempotency key writes nothing), cancellations and events. A new case for a
    /// debtor that already has an open case (another run opened it first) resolves to that case,
    /// and the batch's events for it are not written.
    fn apply_run(&mut self, tenant: CreditorId, batch: &RunBatch) -> StoreResult<RunApplied>;

    /// Changes one case and appends an event, in one transaction.
    fn change_case(
        &mut self,
        tenant: CreditorId,
        case: i64,
        change: &CaseChange,
        event: &CaseEvent,
    ) -> StoreResult<()>;

    /// Sets an action's status (and its dispatch day when sent), with an event on its case.
    fn set_action_status(
        &mut self,
        tenant: CreditorId,
        action: i64,
        status: ActionStatus,
        dispatched_on: Option<Date>,
        reason: &str,
    ) -> StoreResult<()>;

    /// A case's event log, oldest first.
    fn case_events(&mut self, tenant: CreditorId, case: i64) -> StoreResult<Vec<CaseEvent>>;

    /// Runs one bank transaction (a statement import or a manual match) in one database
    /// transaction. With `file`, the file is recorded and entries stored through the sink are
    /// linked to it. The closure returns whether to commit: `Ok(false)` (nothing new) and `Err`
    /// roll every write back. Returns whether it committed.
    fn bank_transaction(
        &mut self,
        tenant: CreditorId,
        file: Option<&BankFile>,
        work: &mut dyn FnMut(&mut dyn BankSink) -> anyhow::Result<bool>,
    ) -> StoreResult<bool>;

    /// The tenant's bank entries, oldest first; with `status`, only those with that status.
    fn bank_entries(
        &mut self,
        tenant: CreditorId,
        status: Option<EntryStatus>,
    ) -> StoreResult<Vec<BankEntryRow>>;

    /// Registers a bank account (IBAN or other account number, normalised) of the tenant beside
    /// the creditor's own IBAN. Registering it again changes nothing.
    fn add_bank_account(&mut self, tenant: CreditorId, account: &str) -> StoreResult<()>;

    /// The tenant's registered extra bank accounts, sorted.
    fn bank_accounts(&mut self, tenant: CreditorId) -> StoreResult<Vec<String>>;

    /// The latest statement or booking date of the tenant's imported bank statements (the
    /// freshness gate of the daily run).
    fn latest_bank_statement(&mut self, tenant: CreditorId) -> StoreResult<Option<Date>>;

    /// Stores a payment plan for a case (at most one active plan per case: a second is a
    /// conflict) with an event on the case, in one transaction.
    fn add_plan(
        &mut self,
        tenant: CreditorId,
        plan: &NewPlan,
        event: &CaseEvent,
    ) -> StoreResult<i64>;

    /// The tenant's payment plans; with `active_only`, the active ones.
    fn plans(&mut self, tenant: CreditorId, active_only: bool) -> StoreResult<Vec<PlanRow>>;

    /// Ends an active plan (`completed`, `lapsed` or `cancelled`).
    fn set_plan_status(&mut self, tenant: CreditorId, plan: i64, status: &str) -> StoreResult<()>;

    /// Stores a version of a policy file. The same name and version again with the same text
    /// changes nothing; with another text it is a conflict (a shipped version never changes).
    fn add_policy(&mut self, tenant: CreditorId, policy: &PolicyRow) -> StoreResult<()>;

    /// The tenant's stored policies, by name and version.
    fn policies(&mut self, tenant: CreditorId) -> StoreResult<Vec<PolicyRow>>;

    /// Assigns a policy by name to a scope, or removes the assignment (`None`).
    fn assign_policy(
        &mut self,
        tenant: CreditorId,
        scope: PolicyScope,
        name: Option<&str>,
    ) -> StoreResult<()>;

    /// All policy assignments of the tenant.
    fn policy_assignments(&mut self, tenant: CreditorId) -> StoreResult<PolicyAssignments>;

    /// The tenant's outbox as the daily run needs it (see [`OutboxEntry`]), oldest first.
    fn outbox_index(&mut self, tenant: CreditorId) -> StoreResult<Vec<OutboxEntry>>;
}
