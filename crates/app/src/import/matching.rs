//! Matching imported debtors to known ones: by the creditor's debtor number, else by KvK /
//! enterprise or VAT number, else by name and postcode. Debtors created earlier in the same file
//! are matched too.

use std::collections::HashMap;

use incasso_domain::{DebtorId, NewDebtor};
use incasso_store::DebtorKeys;

/// A debtor found by [`DebtorIndex::find`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Existing(DebtorId),
    /// Created earlier in this import and already written.
    CreatedHere(DebtorId),
    /// Created earlier in this import but not yet written (slot number).
    Pending(usize),
}

#[derive(Debug, Clone, Copy)]
enum Entry {
    Id(DebtorId),
    Pending(usize),
}

/// In-memory index of a tenant's debtors by every matching key.
#[derive(Debug, Default)]
pub struct DebtorIndex {
    by_number: HashMap<Box<str>, Entry>,
    by_registration: HashMap<Box<str>, Entry>,
    by_vat: HashMap<Box<str>, Entry>,
    by_name_postcode: HashMap<Box<str>, Entry>,
    pending: Vec<Option<DebtorId>>,
}

impl DebtorIndex {
    pub fn from_keys(keys: Vec<DebtorKeys>) -> DebtorIndex {
        let mut index = DebtorIndex::default();
        for k in keys {
            let e = Entry::Id(k.id);
            if let Some(n) = k.number {
                index.by_number.insert(n.into_boxed_str(), e);
            }
            if let Some(r) = k.registration_number {
                index.by_registration.insert(r.into_boxed_str(), e);
            }
            if let Some(v) = k.vat_number {
                index.by_vat.insert(v.into_boxed_str(), e);
            }
            if let Some(np) = k.name_postcode {
                index.by_name_postcode.insert(np.into_boxed_str(), e);
            }
        }
        index
    }

    fn found(&self, e: Entry) -> Found {
        match e {
            Entry::Id(id) => Found::Existing(id),
            Entry::Pending(slot) => match self.pending.get(slot).copied().flatten() {
                Some(id) => Found::CreatedHere(id),
                None => Found::Pending(slot),
            },
        }
    }

    /// Finds the debtor this one refers to, in the documented key order.
    pub fn find(&self, d: &NewDebtor) -> Option<Found> {
        if let Some(n) = &d.number {
            // A debtor number is authoritative: if it is unknown, this is a new debtor, even if
            // the name matches someone else's.
            return self.by_number.get(n.as_str()).map(|e| self.found(*e));
        }
        if let Some(e) = d
            .registration_number
            .as_ref()
            .and_then(|r| self.by_registration.get(r.as_str()))
        {
            return Some(self.found(*e));
        }
        if let Some(e) = d
            .vat_number
            .as_ref()
            .and_then(|v| self.by_vat.get(v.as_str()))
        {
            return Some(self.found(*e));
        }
        d.name_postcode_key().and_then(|k| {
            self.by_name_postcode
                .get(k.as_str())
                .map(|e| self.found(*e))
        })
    }

    /// Registers a debtor that will be created; returns its slot.
    pub fn add_pending(&mut self, d: &NewDebtor) -> usize {
        let slot = self.pending.len();
        self.pending.push(None);
        let e = Entry::Pending(slot);
        if let Some(n) = &d.number {
            self.by_number.insert(n.as_str().into(), e);
        }
        if let Some(r) = &d.registration_number {
            self.by_registration.entry(r.as_str().into()).or_insert(e);
        }
        if let Some(v) = &d.vat_number {
            self.by_vat.entry(v.as_str().into()).or_insert(e);
        }
        if let Some(k) = d.name_postcode_key() {
            self.by_name_postcode.entry(k.into_boxed_str()).or_insert(e);
        }
        slot
    }

    /// Records the id a pending debtor received.
    pub fn resolve(&mut self, slot: usize, id: DebtorId) {
        if let Some(s) = self.pending.get_mut(slot) {
            *s = Some(id);
        }
    }
}
