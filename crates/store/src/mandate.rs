//! Storage of SEPA direct-debit mandates, their amendments and the creditor identifier (issue #6),
//! and of the direct-debit collections recorded before a pain.008 file is written.
//!
//! A mandate carries the sequence type of its *next* collection (`frst`, `rcur`, `ooff`,
//! `fnal`) and, while an amendment has not yet travelled to the bank, the original values
//! (mandate id, debtor IBAN, creditor identifier) the next collection must report. Recording a
//! collection batch advances the sequence type (`frst` → `rcur`; `ooff` and `fnal` end the
//! mandate) and clears the pending amendment in the same transaction.

use incasso_banking::{Bic, Iban};
use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId, InvoiceId};
use incasso_money::Money;

use crate::StoreResult;

/// The sequence type of a mandate's next collection (pain.008 `SeqTp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SequenceState {
    /// `FRST`: the first collection of a recurrent mandate.
    First,
    /// `RCUR`: a follow-up collection of a recurrent mandate.
    Recurring,
    /// `OOFF`: the only collection of a one-off mandate.
    OneOff,
    /// `FNAL`: the last collection of a recurrent mandate.
    Final,
}

impl SequenceState {
    /// The stored code: `frst`, `rcur`, `ooff`, `fnal`.
    pub fn code(self) -> &'static str {
        match self {
            SequenceState::First => "frst",
            SequenceState::Recurring => "rcur",
            SequenceState::OneOff => "ooff",
            SequenceState::Final => "fnal",
        }
    }

    /// Parses a code, case-insensitively (`FRST` or `frst`).
    pub fn parse(s: &str) -> Option<SequenceState> {
        match s.to_ascii_lowercase().as_str() {
            "frst" => Some(SequenceState::First),
            "rcur" => Some(SequenceState::Recurring),
            "ooff" => Some(SequenceState::OneOff),
            "fnal" => Some(SequenceState::Final),
            _ => None,
        }
    }

    /// The state after one collection was recorded with this sequence type: `None` when the
    /// mandate is used up (one-off or final collection).
    pub fn after_collection(self) -> Option<SequenceState> {
        match self {
            SequenceState::First | SequenceState::Recurring => Some(SequenceState::Recurring),
            SequenceState::OneOff | SequenceState::Final => None,
        }
    }
}

/// The status of a mandate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MandateStatus {
    /// May be collected on.
    Active,
    /// Revoked by the debtor or the creditor: never collected on again.
    Revoked,
    /// Its one-off or final collection was recorded: never collected on again.
    Ended,
}

impl MandateStatus {
    pub fn code(self) -> &'static str {
        match self {
            MandateStatus::Active => "active",
            MandateStatus::Revoked => "revoked",
            MandateStatus::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<MandateStatus> {
        match s {
            "active" => Some(MandateStatus::Active),
            "revoked" => Some(MandateStatus::Revoked),
            "ended" => Some(MandateStatus::Ended),
            _ => None,
        }
    }
}

/// A mandate to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMandate {
    pub debtor_id: DebtorId,
    /// The mandate reference (`MndtId`), unique per creditor.
    pub reference: String,
    pub signed_on: Date,
    pub iban: Iban,
    pub bic: Option<Bic>,
    /// The sequence type of the next collection (`frst` for a new recurrent mandate).
    pub sequence: SequenceState,
}

/// What an amendment changes; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MandateAmendment {
    pub on: Option<Date>,
    pub reference: Option<String>,
    pub iban: Option<Iban>,
    /// `Some(None)` removes the BIC.
    pub bic: Option<Option<Bic>>,
    pub sequence: Option<SequenceState>,
}

/// The original values of a mandate that the next collection must report
/// (`AmdmntInd` true with `AmdmntInfDtls`). Cleared when a collection carrying it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PendingAmendment {
    /// The first day of the amendments not yet reported.
    pub since: Option<Date>,
    /// The mandate reference the bank knows.
    pub original_reference: Option<String>,
    /// The debtor IBAN the bank knows.
    pub original_iban: Option<Iban>,
    /// The debtor BIC that went with it, if any.
    pub original_bic: Option<Bic>,
    /// The creditor identifier the bank knows (the creditor changed its identifier).
    pub original_scheme_id: Option<String>,
}

impl PendingAmendment {
    pub fn is_empty(&self) -> bool {
        self.original_reference.is_none()
            && self.original_iban.is_none()
            && self.original_scheme_id.is_none()
    }
}

/// A stored mandate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateRow {
    pub id: i64,
    pub mandate: NewMandate,
    pub status: MandateStatus,
    pub revoked_on: Option<Date>,
    /// The collection date of the latest recorded collection.
    pub last_collection: Option<Date>,
    pub pending: PendingAmendment,
}

/// One entry of a mandate's append-only history (registration, amendments, revocation,
/// collections).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateEvent {
    pub on: Date,
    /// `added`, `amended`, `revoked`, `collected`, `creditor_id_changed`.
    pub kind: String,
    pub text: String,
}

/// What a collection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollectionTarget {
    /// The open amount of an invoice.
    Invoice(InvoiceId),
    /// One instalment (index from 0) of a payment plan.
    Instalment { plan: i64, index: u32 },
}

/// One claim or instalment a collection pays, with the amount collected for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionItem {
    pub target: CollectionTarget,
    pub amount: Money,
}

/// One direct-debit transaction, as written into the file: a snapshot of everything the
/// pain.008 needs, so the file can be written again byte for byte after the mandate changed.
/// One transaction per mandate per batch; it may pay several claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCollection {
    /// At least one; their amounts add up to `amount`.
    pub items: Vec<CollectionItem>,
    /// The mandate's stored id.
    pub mandate: i64,
    pub debtor_id: DebtorId,
    pub end_to_end_id: String,
    pub amount: Money,
    pub sequence: SequenceState,
    pub debtor_name: String,
    pub iban: Iban,
    pub bic: Option<Bic>,
    pub mandate_reference: String,
    pub signed_on: Date,
    /// The amendment this collection reports, if any.
    pub amendment: Option<PendingAmendment>,
    /// `Amendment`: the debtor moved to another bank (`SMNDA` instead of the original IBAN).
    pub other_bank: bool,
    /// Unstructured remittance text.
    pub remittance: String,
}

/// A collection file's batch, recorded in one transaction before the file is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCollectionBatch {
    /// `GrpHdr/MsgId`, unique per creditor.
    pub message_id: String,
    pub collection_date: Date,
    /// `CreDtTm` as written (`YYYY-MM-DDTHH:MM:SS`), kept so the file can be written again.
    pub created_at: String,
    /// The creditor identifier used.
    pub scheme_id: String,
    pub collections: Vec<NewCollection>,
}

/// A stored batch with its collections in end-to-end id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionBatchRow {
    pub id: i64,
    pub batch: NewCollectionBatch,
}

/// Mandate storage; every method is tenant-scoped.
pub trait MandateStore {
    /// Sets the creditor's SEPA creditor identifier (already checked by the caller). Changing
    /// an identifier that collections were made under marks every active mandate with the
    /// original identifier, to be reported as an amendment on its next collection.
    fn set_creditor_scheme_id(
        &mut self,
        tenant: CreditorId,
        scheme_id: &str,
        on: Date,
    ) -> StoreResult<()>;

    /// The creditor's SEPA creditor identifier, if set.
    fn creditor_scheme_id(&mut self, tenant: CreditorId) -> StoreResult<Option<String>>;

    /// Registers a mandate. A reference used before by this creditor is a conflict, as is a
    /// second active mandate for the same debtor; an unknown debtor is not found.
    fn add_mandate(&mut self, tenant: CreditorId, mandate: &NewMandate) -> StoreResult<i64>;

    /// The tenant's mandates, by id.
    fn mandates(&mut self, tenant: CreditorId) -> StoreResult<Vec<MandateRow>>;

    /// One mandate by its current reference.
    fn mandate(&mut self, tenant: CreditorId, reference: &str) -> StoreResult<MandateRow>;

    /// Amends an active mandate, keeping the values the bank knows as its pending amendment
    /// (an amendment back to the known value clears that part). Returns the mandate after.
    fn amend_mandate(
        &mut self,
        tenant: CreditorId,
        reference: &str,
        amendment: &MandateAmendment,
    ) -> StoreResult<MandateRow>;

    /// Revokes an active mandate; `reason` (may be empty) goes into its history.
    fn revoke_mandate(
        &mut self,
        tenant: CreditorId,
        reference: &str,
        on: Date,
        reason: &str,
    ) -> StoreResult<()>;

    /// A mandate's history, oldest first.
    fn mandate_events(
        &mut self,
        tenant: CreditorId,
        mandate: i64,
    ) -> StoreResult<Vec<MandateEvent>>;

    /// Records a batch and its collections in one transaction and advances each mandate: the
    /// sequence type moves on (`frst` → `rcur`; `ooff`, `fnal` end it), the pending amendment
    /// is cleared and the collection date noted. Refused as a whole (conflict) when a target
    /// was collected before, an end-to-end or message id is taken, or a mandate is no longer
    /// active or its sequence type or amendment differ from the snapshot, a mandate appears
    /// twice, or a collection's items are empty or do not add up to its amount.
    fn record_collection_batch(
        &mut self,
        tenant: CreditorId,
        batch: &NewCollectionBatch,
    ) -> StoreResult<i64>;

    /// The tenant's batches, oldest first; with a date, those for that collection date.
    fn collection_batches(
        &mut self,
        tenant: CreditorId,
        collection_date: Option<Date>,
    ) -> StoreResult<Vec<CollectionBatchRow>>;

    /// Every target collected so far.
    fn collected_targets(&mut self, tenant: CreditorId) -> StoreResult<Vec<CollectionTarget>>;

    /// The invoices in collections whose collection date is `from` or later, with that date
    /// (the daily run leaves them to the direct debit while the bank may still return it).
    fn collected_invoices_since(
        &mut self,
        tenant: CreditorId,
        from: Date,
    ) -> StoreResult<Vec<(InvoiceId, Date)>>;

    /// The collection with this end-to-end id and its batch's message id (to link a bank
    /// entry or a return to what was collected).
    fn collection_by_end_to_end(
        &mut self,
        tenant: CreditorId,
        end_to_end_id: &str,
    ) -> StoreResult<Option<(String, NewCollection)>>;
}

/// The checks both backends make before recording a collection: items present, in the
/// collection's currency, positive, adding up to its amount.
pub fn check_collection_items(c: &NewCollection) -> StoreResult<()> {
    let bad = |why: &str| {
        Err(crate::StoreError::Conflict(format!(
            "collection {}: {why}",
            c.end_to_end_id
        )))
    };
    if c.items.is_empty() {
        return bad("no items");
    }
    let mut sum = Money::zero(c.amount.currency());
    for item in &c.items {
        if !item.amount.is_positive() {
            return bad("an item amount is not positive");
        }
        sum = match sum.checked_add(item.amount) {
            Ok(s) => s,
            Err(_) => return bad("item amounts do not add up"),
        };
    }
    if sum != c.amount {
        return bad("item amounts do not add up to the collection amount");
    }
    Ok(())
}

/// Whether a collection prepared from a mandate still matches the stored mandate (status,
/// sequence type, reference, debtor and pending amendment): a stale snapshot is a conflict.
pub fn check_collection_snapshot(m: &MandateRow, c: &NewCollection) -> StoreResult<()> {
    let expected = if m.pending.is_empty() {
        None
    } else {
        Some(&m.pending)
    };
    if m.status != MandateStatus::Active
        || m.mandate.sequence != c.sequence
        || m.mandate.reference != c.mandate_reference
        || m.mandate.debtor_id != c.debtor_id
        || c.amendment.as_ref() != expected
    {
        return Err(crate::StoreError::Conflict(format!(
            "mandate {} changed since the collection was prepared",
            c.mandate_reference
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_codes_round_trip_and_advance() {
        for s in [
            SequenceState::First,
            SequenceState::Recurring,
            SequenceState::OneOff,
            SequenceState::Final,
        ] {
            assert_eq!(SequenceState::parse(s.code()), Some(s));
            assert_eq!(SequenceState::parse(&s.code().to_uppercase()), Some(s));
        }
        assert_eq!(SequenceState::parse("once"), None);
        assert_eq!(
            SequenceState::First.after_collection(),
            Some(SequenceState::Recurring)
        );
        assert_eq!(
            SequenceState::Recurring.after_collection(),
            Some(SequenceState::Recurring)
        );
        assert_eq!(SequenceState::OneOff.after_collection(), None);
        assert_eq!(SequenceState::Final.after_collection(), None);
        for s in [
            MandateStatus::Active,
            MandateStatus::Revoked,
            MandateStatus::Ended,
        ] {
            assert_eq!(MandateStatus::parse(s.code()), Some(s));
        }
    }
}
