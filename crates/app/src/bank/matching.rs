//! The match rules over a compact in-memory index of the tenant's open invoices.
//!
//! [`Ledger::load`] streams the open invoices once per import (id, number, debtor, payment
//! reference, open amount, due date) into flat arrays: invoice numbers and references share one
//! text arena, and the lookups (normalised reference, upper-case number, debtor) map a 64-bit
//! hash to invoice positions, each hit confirmed against the stored text. A million open
//! invoices take about 100 MB. Every bank entry is then matched in memory ([`Ledger::find`]):
//! structured reference first (betalingskenmerk, OGM/VCS, RF), then invoice numbers in the
//! remittance text, then amount plus the debtor's known IBAN; open amounts follow the
//! allocations of the import.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use incasso_banking::PaymentReference;
use incasso_calendar::Date;
use incasso_domain::{DebtorId, InvoiceId};
use incasso_money::{Currency, Money};
use incasso_store::{BankSink, OpenInvoice};

use super::lines::Line;
use super::{normalise_account, normalise_reference};

/// Keys are already hashes: pass them through.
#[derive(Default)]
pub(super) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
    fn write_i64(&mut self, i: i64) {
        self.0 = i.cast_unsigned().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<PassThrough>>;

/// Marks a key with more than one invoice: the positions are in `Index::many`.
const MANY: u32 = u32::MAX;

/// Hash of a key to the invoice positions carrying it (in load order, that is id order).
#[derive(Default)]
struct Index {
    one: FastMap<u64, u32>,
    many: FastMap<u64, Vec<u32>>,
}

impl Index {
    fn add(&mut self, hash: u64, at: u32) {
        match self.one.get_mut(&hash) {
            None => {
                self.one.insert(hash, at);
            }
            Some(first) if *first == MANY => {
                self.many.entry(hash).or_default().push(at);
            }
            Some(first) => {
                let before = *first;
                *first = MANY;
                self.many.insert(hash, vec![before, at]);
            }
        }
    }

    fn get(&self, hash: u64) -> &[u32] {
        match self.one.get(&hash) {
            None => &[],
            Some(v) if *v == MANY => self.many.get(&hash).map_or(&[], Vec::as_slice),
            Some(v) => std::slice::from_ref(v),
        }
    }
}

/// One open invoice, compact: its texts live in the ledger's arena.
#[derive(Debug, Clone, Copy)]
pub(super) struct Invoice {
    pub(super) id: InvoiceId,
    pub(super) debtor_id: DebtorId,
    /// What is still open (follows the allocations of the import).
    pub(super) open: Money,
    pub(super) due: Option<Date>,
    text_at: u32,
    number_len: u16,
    /// `u16::MAX`: no payment reference.
    reference_len: u16,
}

/// The tenant's open invoices, indexed for matching; open amounts follow the allocations made
/// during the import.
pub(super) struct Ledger {
    pub(super) invoices: Vec<Invoice>,
    text: String,
    keys: std::collections::hash_map::RandomState,
    by_reference: Index,
    by_number: Index,
    /// Positions sorted by (debtor, id), and per debtor its range.
    debtor_order: Vec<u32>,
    by_debtor: FastMap<i64, (u32, u32)>,
    by_iban: HashMap<String, Vec<DebtorId>>,
}

/// The result of the match rules for one credit.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) debtor: Option<DebtorId>,
    pub(super) designated: Vec<usize>,
    pub(super) reason: String,
    pub(super) confidence: u8,
}

pub(super) fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || ",;:()[]{}'\"".contains(c)) {
        let t = raw.trim_matches(|c: char| c == '.' || c == '-' || c == '#');
        if t.is_empty() {
            continue;
        }
        out.push(t.to_string());
        if t.contains('/') {
            out.extend(t.split('/').filter(|p| !p.is_empty()).map(str::to_string));
        }
        if let Some((_, after)) = t.split_once('#') {
            out.push(after.to_string());
        }
    }
    out
}

impl Ledger {
    /// Streams the open invoices and the debtors' IBANs of the sink's tenant into the index.
    pub(super) fn load(sink: &mut dyn BankSink) -> anyhow::Result<Ledger> {
        let mut ledger = Ledger {
            invoices: Vec::new(),
            text: String::new(),
            keys: std::collections::hash_map::RandomState::new(),
            by_reference: Index::default(),
            by_number: Index::default(),
            debtor_order: Vec::new(),
            by_debtor: FastMap::default(),
            by_iban: HashMap::new(),
        };
        let mut failure: Option<anyhow::Error> = None;
        sink.each_open_invoice(&mut |inv| {
            if failure.is_none()
                && let Err(e) = ledger.push(inv)
            {
                failure = Some(e);
            }
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        ledger.text.shrink_to_fit();
        let mut order: Vec<u32> = (0..u32::try_from(ledger.invoices.len())?).collect();
        order.sort_by_key(|i| {
            ledger
                .invoices
                .get(*i as usize)
                .map(|inv| (inv.debtor_id.get(), inv.id.get()))
        });
        let mut start = 0usize;
        while start < order.len() {
            let debtor = ledger.debtor_at(order[start]);
            let mut end = start + 1;
            while end < order.len() && ledger.debtor_at(order[end]) == debtor {
                end += 1;
            }
            ledger
                .by_debtor
                .insert(debtor, (u32::try_from(start)?, u32::try_from(end - start)?));
            start = end;
        }
        ledger.debtor_order = order;
        for (debtor, iban) in sink.debtor_ibans()? {
            let list = ledger.by_iban.entry(normalise_account(&iban)).or_default();
            if !list.contains(&debtor) {
                list.push(debtor);
            }
        }
        Ok(ledger)
    }

    fn debtor_at(&self, i: u32) -> i64 {
        self.invoices
            .get(i as usize)
            .map_or(i64::MIN, |inv| inv.debtor_id.get())
    }

    fn push(&mut self, inv: OpenInvoice) -> anyhow::Result<()> {
        let at = u32::try_from(self.invoices.len())?;
        if at == MANY {
            anyhow::bail!("too many open invoices to match against");
        }
        if let Some(last) = self.invoices.last()
            && last.id.get() >= inv.id.get()
        {
            anyhow::bail!("open invoices not in id order");
        }
        let text_at = u32::try_from(self.text.len())?;
        let number_len = u16::try_from(inv.number.len())?;
        self.text.push_str(&inv.number);
        let mut reference_len = u16::MAX;
        if let Some(r) = &inv.payment_reference {
            let n = normalise_reference(r);
            if !n.is_empty() {
                let hash = self.keys.hash_one(n.as_str());
                self.by_reference.add(hash, at);
            }
            reference_len = u16::try_from(r.len())
                .ok()
                .filter(|l| *l != u16::MAX)
                .ok_or_else(|| anyhow::anyhow!("payment reference too long"))?;
            self.text.push_str(r);
        }
        let hash = self.number_hash(&inv.number);
        self.by_number.add(hash, at);
        self.invoices.push(Invoice {
            id: inv.id,
            debtor_id: inv.debtor_id,
            open: inv.open,
            due: inv.due,
            text_at,
            number_len,
            reference_len,
        });
        Ok(())
    }

    /// The hash of the upper-case form of an invoice number, without building it.
    fn number_hash(&self, number: &str) -> u64 {
        let mut h = self.keys.build_hasher();
        for c in number.chars().flat_map(char::to_uppercase) {
            h.write_u32(u32::from(c));
        }
        h.finish()
    }

    /// The invoice number of the invoice at `i`.
    pub(super) fn number(&self, i: usize) -> &str {
        self.invoices.get(i).map_or("", |inv| {
            let at = inv.text_at as usize;
            self.text
                .get(at..at + usize::from(inv.number_len))
                .unwrap_or("")
        })
    }

    fn reference(&self, i: usize) -> Option<&str> {
        let inv = self.invoices.get(i)?;
        if inv.reference_len == u16::MAX {
            return None;
        }
        let at = inv.text_at as usize + usize::from(inv.number_len);
        self.text.get(at..at + usize::from(inv.reference_len))
    }

    /// The position of an invoice by id (the invoices are in id order).
    pub(super) fn position(&self, id: InvoiceId) -> Option<usize> {
        self.invoices
            .binary_search_by_key(&id.get(), |inv| inv.id.get())
            .ok()
    }

    /// The debtor's open invoices, oldest id first.
    pub(super) fn of_debtor(&self, debtor: DebtorId) -> impl Iterator<Item = usize> + '_ {
        let (start, len) = self.by_debtor.get(&debtor.get()).copied().unwrap_or((0, 0));
        self.debtor_order
            .get(start as usize..(start as usize + len as usize))
            .unwrap_or(&[])
            .iter()
            .map(|i| *i as usize)
    }

    /// Invoices whose normalised payment reference is `key`.
    fn with_reference<'a>(&'a self, key: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.by_reference
            .get(self.keys.hash_one(key))
            .iter()
            .map(|i| *i as usize)
            .filter(move |i| {
                self.reference(*i)
                    .is_some_and(|r| normalise_reference(r) == key)
            })
    }

    /// Invoices whose upper-case number is `key` (already upper case).
    fn with_number<'a>(&'a self, key: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.by_number
            .get(self.number_hash(key))
            .iter()
            .map(|i| *i as usize)
            .filter(move |i| self.number(*i).to_uppercase() == key)
    }

    pub(super) fn usable(&self, i: usize, currency: Currency) -> bool {
        self.invoices
            .get(i)
            .is_some_and(|inv| inv.open.is_positive() && inv.open.currency() == currency)
    }

    /// Whether the debtor has an open invoice due before `as_of` (what the store's
    /// `has_open_overdue` answers, from the index).
    pub(super) fn has_open_overdue(&self, debtor: DebtorId, as_of: Date) -> bool {
        self.of_debtor(debtor).any(|i| {
            self.invoices
                .get(i)
                .is_some_and(|inv| inv.open.is_positive() && inv.due.is_some_and(|d| d < as_of))
        })
    }

    /// Several invoices point at one debtor: that debtor; else none.
    fn one_debtor(&self, found: &[usize]) -> Option<DebtorId> {
        let first = self.invoices.get(*found.first()?)?.debtor_id;
        found
            .iter()
            .all(|i| {
                self.invoices
                    .get(*i)
                    .is_some_and(|inv| inv.debtor_id == first)
            })
            .then_some(first)
    }

    fn numbers(&self, found: &[usize]) -> String {
        found
            .iter()
            .map(|i| self.number(*i))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(super) fn find(&self, line: &Line) -> Found {
        let currency = line.amount.currency();
        let mut notes: Vec<String> = Vec::new();
        // 1. Structured references: betalingskenmerk, OGM/VCS, RF.
        let mut candidates: Vec<String> = line.references.clone();
        candidates.extend(line.end_to_end_id.iter().cloned());
        if let Some(text) = &line.remittance {
            candidates.push(text.clone());
            candidates.extend(tokens(text));
        }
        let mut found: Vec<usize> = Vec::new();
        let mut kinds: Vec<String> = Vec::new();
        for c in &candidates {
            let Ok(reference) = PaymentReference::parse_any(c) else {
                continue;
            };
            let key = normalise_reference(&reference.to_string());
            let hits: Vec<usize> = self
                .with_reference(&key)
                .filter(|i| self.usable(*i, currency))
                .collect();
            if hits.is_empty() {
                notes.push(format!(
                    "{} {reference} matches no open invoice",
                    reference.kind()
                ));
            }
            for h in hits {
                if !found.contains(&h) {
                    found.push(h);
                    kinds.push(format!("{} {reference}", reference.kind()));
                }
            }
        }
        if !found.is_empty() {
            return match self.one_debtor(&found) {
                Some(debtor) => Found {
                    debtor: Some(debtor),
                    reason: format!("{} (invoice {})", kinds.join(", "), self.numbers(&found)),
                    designated: found,
                    confidence: 100,
                },
                None => Found {
                    debtor: None,
                    reason: format!(
                        "references point at invoices of several debtors: {}",
                        self.numbers(&found)
                    ),
                    designated: found,
                    confidence: 20,
                },
            };
        }
        // 2. Invoice numbers in the remittance text.
        if let Some(text) = &line.remittance {
            let mut seen = HashSet::new();
            for t in tokens(text) {
                let key = t.to_uppercase();
                if key.len() < 3
                    || !key.bytes().any(|b| b.is_ascii_digit())
                    || !seen.insert(key.clone())
                {
                    continue;
                }
                for h in self.with_number(&key) {
                    if self.usable(h, currency) && !found.contains(&h) {
                        found.push(h);
                    }
                }
            }
            if !found.is_empty() {
                return match self.one_debtor(&found) {
                    Some(debtor) => Found {
                        debtor: Some(debtor),
                        reason: format!(
                            "invoice number in the remittance text: {}",
                            self.numbers(&found)
                        ),
                        designated: found,
                        confidence: 90,
                    },
                    None => Found {
                        debtor: None,
                        reason: format!(
                            "invoice numbers of several debtors in the remittance text: {}",
                            self.numbers(&found)
                        ),
                        designated: found,
                        confidence: 20,
                    },
                };
            }
        }
        // 3. Amount plus the debtor's known IBAN.
        let iban_debtors = line
            .counterparty_iban
            .as_deref()
            .map(normalise_account)
            .and_then(|i| self.by_iban.get(&i))
            .cloned()
            .unwrap_or_default();
        let suffix = if notes.is_empty() {
            String::new()
        } else {
            format!("; {}", notes.join("; "))
        };
        match iban_debtors.as_slice() {
            [] => Found {
                debtor: None,
                designated: Vec::new(),
                reason: format!("no reference, invoice number or known IBAN{suffix}"),
                confidence: 0,
            },
            [debtor] => {
                let open: Vec<usize> = self
                    .of_debtor(*debtor)
                    .filter(|i| self.usable(*i, currency))
                    .collect();
                let equal: Vec<usize> = open
                    .iter()
                    .copied()
                    .filter(|i| {
                        self.invoices
                            .get(*i)
                            .is_some_and(|inv| inv.open == line.amount)
                    })
                    .collect();
                let total = open.iter().try_fold(0i64, |acc, i| {
                    self.invoices
                        .get(*i)
                        .and_then(|inv| acc.checked_add(inv.open.minor()))
                });
                if equal.len() == 1 {
                    Found {
                        debtor: Some(*debtor),
                        reason: format!(
                            "amount equals the open amount of invoice {} and the IBAN is the debtor's",
                            self.numbers(&equal)
                        ),
                        designated: equal,
                        confidence: 80,
                    }
                } else if !open.is_empty() && total == Some(line.amount.minor()) {
                    Found {
                        debtor: Some(*debtor),
                        reason: "amount equals the debtor's total open amount and the IBAN is the debtor's".into(),
                        designated: Vec::new(),
                        confidence: 75,
                    }
                } else {
                    Found {
                        debtor: Some(*debtor),
                        designated: Vec::new(),
                        reason: format!(
                            "the IBAN is the debtor's, but the amount matches no open invoice{suffix}"
                        ),
                        confidence: 50,
                    }
                }
            }
            _ => Found {
                debtor: None,
                designated: Vec::new(),
                reason: format!("the IBAN belongs to {} debtors{suffix}", iban_debtors.len()),
                confidence: 30,
            },
        }
    }
}
