//! SEPA direct debit: due instalments and invoices of debtors with a mandate collected into a pain.008 file, sequence types advanced (issue #6).
//!
//! * Mandates: [`add_mandate`], [`amend_mandate`], [`revoke_mandate`] and
//!   [`set_creditor_identifier`] check their input (mandate reference, IBAN, BIC, creditor
//!   identifier) before the store sees it.
//! * [`export`]: for a collection date D, selects what is due ([`select`]): plan instalments
//!   due on or before D of active payment plans, and otherwise the open invoices due on or
//!   before D, of debtors with an active mandate, not collected before and not held by their
//!   case (dispute, promise, manual hold, vulnerable debtor, handed over, court). One
//!   transaction per mandate, paying all of the debtor's due items. The batch is recorded in
//!   one store transaction *before* the file is built, so the sequence type moves from FRST to
//!   RCUR only once a collection exists and no claim is ever collected twice. A second export
//!   for the same date with nothing new builds the latest batch's file again, byte for byte.
//! * A changed debtor IBAN after a collection is reported as an amendment (`AmdmntInd` true):
//!   the original IBAN when the debtor stays with the same bank, `SMNDA` when the bank changed;
//!   in that case the next collection is presented as FRST (see `docs/direct-debit.md`).

use std::collections::{HashMap, HashSet};

use anyhow::{Context, anyhow, bail};
use incasso_banking::{Bic, Iban};
use incasso_calendar::{BusinessCalendar, Date};
use incasso_domain::{CreditorId, DebtorId, InvoiceId, Language};
use incasso_money::{Currency, Money};
use incasso_pain008 as pain008;
/// The pain.008 versions the export writes.
pub use incasso_pain008::Version;
use incasso_store::{
    CaseRow, CollectionBatchRow, CollectionItem, CollectionTarget, InvoiceFilter, MandateAmendment,
    MandateRow, MandateStatus, NewCollection, NewCollectionBatch, NewMandate, PendingAmendment,
    PlanRow, SequenceState, Store, StoreError,
};

/// The longest mandate reference the scheme allows.
pub const MAX_REFERENCE: usize = 35;

/// Months without a collection after which a mandate expires (SDD Core rulebook, 36 months).
pub const MANDATE_EXPIRY_MONTHS: i8 = 36;

fn store_err(e: StoreError) -> anyhow::Error {
    anyhow!("{e}")
}

mod export;
mod mandates;
mod select;
#[cfg(test)]
mod tests;

pub use export::*;
pub use mandates::*;
pub use select::*;
