//! The creditor's own direct debits on its bank statement. A credit whose end-to-end id is one
//! of the recorded collections (`incasso export direct-debit` writes `DD{date}-{n}-{i}`) is
//! matched to exactly that collection's invoices, whatever its remittance text says. A return
//! of such a collection with a reason that means the mandate can never be used again (`AC04`
//! closed account, `MD01` no valid mandate, `MD07` debtor deceased) ends the mandate, so the next
//! export does not collect on it.

use std::collections::{HashMap, HashSet};

use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId, InvoiceId};
use incasso_money::Money;
use incasso_store::{BankSink, CollectionTarget, MandateStatus, Store, StoreError};

use super::effects::return_reason_text;
use super::lines::Line;
use super::matching::{Found, Ledger};

/// Return reasons after which a mandate is ended.
pub const MANDATE_ENDING_CODES: [&str; 3] = ["AC04", "MD01", "MD07"];

/// One recorded collection, as the bank import needs it.
#[derive(Debug, Clone)]
pub(super) struct OwnCollection {
    pub(super) debtor: DebtorId,
    pub(super) invoices: Vec<InvoiceId>,
    pub(super) mandate_reference: String,
    pub(super) amount: Money,
}

/// The recorded collections named by a file's end-to-end ids.
#[derive(Debug, Default)]
pub(super) struct Collections {
    by_e2e: HashMap<String, OwnCollection>,
}

/// Whether an end-to-end id can be one of ours (`DD` + date + batch + item).
pub(super) fn looks_own(e2e: &str) -> bool {
    e2e.len() > 12
        && e2e.starts_with("DD")
        && e2e
            .get(2..10)
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
        && e2e.matches('-').count() == 2
}

impl Collections {
    /// Looks up every distinct id that [`looks_own`] (one indexed query each).
    pub(super) fn load(
        sink: &mut dyn BankSink,
        ids: &HashSet<String>,
    ) -> anyhow::Result<Collections> {
        let mut by_e2e = HashMap::new();
        for id in ids {
            if let Some((_, c)) = sink.collection_by_end_to_end(id)? {
                let invoices = c
                    .items
                    .iter()
                    .filter_map(|i| match i.target {
                        CollectionTarget::Invoice(id) => Some(id),
                        CollectionTarget::Instalment { .. } => None,
                    })
                    .collect();
                by_e2e.insert(
                    id.clone(),
                    OwnCollection {
                        debtor: c.debtor_id,
                        invoices,
                        mandate_reference: c.mandate_reference,
                        amount: c.amount,
                    },
                );
            }
        }
        Ok(Collections { by_e2e })
    }

    pub(super) fn get(&self, e2e: Option<&str>) -> Option<&OwnCollection> {
        self.by_e2e.get(e2e?)
    }
}

impl Ledger {
    /// The match for a credit of our own collection: its debtor, its invoices designated
    /// (those still open), confidence 100.
    pub(super) fn find_collection(&self, line: &Line, c: &OwnCollection) -> Found {
        let currency = line.amount.currency();
        let designated: Vec<usize> = c
            .invoices
            .iter()
            .filter_map(|id| self.position(*id))
            .filter(|i| self.usable(*i, currency))
            .collect();
        let e2e = line.end_to_end_id.as_deref().unwrap_or("");
        let mut reason = format!(
            "direct debit {e2e} (mandate {}){}",
            c.mandate_reference,
            if designated.is_empty() {
                String::new()
            } else {
                format!(" for invoice {}", self.numbers(&designated))
            }
        );
        if line.amount != c.amount {
            reason.push_str(&format!(
                "; collected {} but credited {}",
                c.amount, line.amount
            ));
        }
        Found {
            debtor: Some(c.debtor),
            designated,
            reason,
            confidence: 100,
        }
    }
}

/// A return in a file that ends its mandate: (end-to-end id, reason code, booking date).
pub(super) type Ending = (String, String, Date);

/// Ends the mandates of the returns that call for it; a mandate already ended or revoked is
/// left alone, so importing the file again changes nothing. Returns what was done, one line
/// per mandate.
pub(super) fn end_mandates(
    store: &mut dyn Store,
    tenant: CreditorId,
    collections: &Collections,
    endings: &[Ending],
) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    for (e2e, code, on) in endings {
        let Some(c) = collections.get(Some(e2e)) else {
            continue;
        };
        let mandate = match store.mandate(tenant, &c.mandate_reference) {
            Ok(m) => m,
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        if mandate.status != MandateStatus::Active {
            continue;
        }
        let reason = format!(
            "direct debit {e2e} returned {code} ({})",
            return_reason_text(code)
        );
        store.revoke_mandate(tenant, &c.mandate_reference, *on, &reason)?;
        done.push(format!("mandate {} ended: {reason}", c.mandate_reference));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_end_to_end_ids_are_recognised() {
        assert!(looks_own("DD20261201-1-3"));
        assert!(!looks_own("NOTPROVIDED"));
        assert!(!looks_own("DD-1-2"));
        assert!(!looks_own("DD2026120x-1-3"));
        assert!(!looks_own("DD20261201-1"));
    }
}
