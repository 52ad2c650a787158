//! The match rules over a compact in-memory index of the tenant's open invoices.
//!
//! [`Ledger::load`] streams the open invoices once per import (id, number, debtor, payment
//! reference, open amount, due date; in debtor order, so a debtor's invoices are one range)
//! into flat arrays: invoice numbers and references share one text arena, and the lookups
//! (normalised reference, upper-case number) are sorted arrays of 64-bit key hashes with
//! invoice positions, each hit confirmed against the stored text. A million open
//! invoices take about 100 MB. Every bank entry is then matched in memory ([`Ledger::find`]):
//! structured reference first (betalingskenmerk, OGM/VCS, RF), then invoice numbers in the
//! remittance text, then amount plus the debtor's known IBAN; open amounts follow the
//! allocations of the import.

use std::collections::{HashMap, HashSet};

use incasso_banking::PaymentReference;
use incasso_calendar::Date;
use incasso_domain::{DebtorId, InvoiceId};
use incasso_money::{Currency, Money};
use incasso_store::{BankSink, OpenInvoiceRef};

use super::lines::Line;
use super::{normalise_account, normalise_reference};

/// A fast 64-bit hash of a byte sequence (the multiply-rotate step of rustc's FxHash). The
/// keys come from the tenant's own invoices; every hit is confirmed against the stored text.
#[derive(Clone, Copy)]
struct KeyHash(u64);

impl KeyHash {
    const SEED: u64 = 0x517c_c1b7_2722_0a95;

    fn new() -> KeyHash {
        KeyHash(0)
    }

    fn byte(&mut self, b: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(Self::SEED);
    }

    fn char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        for b in c.encode_utf8(&mut buf).bytes() {
            self.byte(b);
        }
    }

    fn finish(self) -> u64 {
        self.0
    }
}

/// The hash of [`normalise_reference`] of `s`, without building it; `None` when it is empty.
fn reference_hash(s: &str) -> Option<u64> {
    let kept = || s.bytes().filter(u8::is_ascii_alphanumeric);
    kept().next()?;
    let mut h = KeyHash::new();
    if kept().all(|b| b.is_ascii_digit()) {
        let mut digits = kept().skip_while(|b| *b == b'0').peekable();
        if digits.peek().is_none() {
            h.byte(b'0');
        }
        for b in digits {
            h.byte(b);
        }
    } else {
        for b in kept() {
            h.byte(b.to_ascii_uppercase());
        }
    }
    Some(h.finish())
}

/// The hash of the upper-case form of an invoice number, without building it.
fn upper_hash(number: &str) -> u64 {
    let mut h = KeyHash::new();
    if number.is_ascii() {
        for b in number.bytes() {
            h.byte(b.to_ascii_uppercase());
        }
    } else {
        for c in number.chars().flat_map(char::to_uppercase) {
            h.char(c);
        }
    }
    h.finish()
}

/// The hash of a key as it is (already upper case): equal to [`upper_hash`] of a number whose
/// upper-case form is `key`.
fn plain_hash(key: &str) -> u64 {
    let mut h = KeyHash::new();
    for c in key.chars() {
        h.char(c);
    }
    h.finish()
}

/// Key hashes with the positions of the invoices carrying them, sorted: a lookup is a binary
/// search (12 bytes per key, no hash table to grow).
#[derive(Default)]
struct Index {
    keys: Vec<(u64, u32)>,
}

impl Index {
    fn add(&mut self, hash: u64, at: u32) {
        self.keys.push((hash, at));
    }

    fn seal(&mut self) {
        self.keys.sort_unstable();
        self.keys.shrink_to_fit();
    }

    fn get(&self, hash: u64) -> &[(u64, u32)] {
        let start = self.keys.partition_point(|(h, _)| *h < hash);
        let len = self
            .keys
            .get(start..)
            .map_or(0, |rest| rest.partition_point(|(h, _)| *h == hash));
        self.keys.get(start..start + len).unwrap_or(&[])
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
    by_reference: Index,
    by_number: Index,
    /// Invoice ids with their positions, sorted by id.
    ids: Vec<(i64, u32)>,
    /// Per debtor the range of its invoices (they are contiguous, in id order).
    by_debtor: HashMap<i64, (u32, u32)>,
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
            by_reference: Index::default(),
            by_number: Index::default(),
            ids: Vec::new(),
            by_debtor: HashMap::new(),
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
        ledger.ids.sort_unstable();
        ledger.ids.shrink_to_fit();
        ledger.invoices.shrink_to_fit();
        ledger.by_reference.seal();
        ledger.by_number.seal();
        for (debtor, iban) in sink.debtor_ibans()? {
            let list = ledger.by_iban.entry(normalise_account(&iban)).or_default();
            if !list.contains(&debtor) {
                list.push(debtor);
            }
        }
        Ok(ledger)
    }

    fn push(&mut self, inv: OpenInvoiceRef<'_>) -> anyhow::Result<()> {
        let at = u32::try_from(self.invoices.len())?;
        let debtor = inv.debtor_id.get();
        match self.invoices.last() {
            Some(last) if last.debtor_id.get() == debtor => {
                if last.id.get() >= inv.id.get() {
                    anyhow::bail!("open invoices not in (debtor, id) order");
                }
                if let Some(range) = self.by_debtor.get_mut(&debtor) {
                    range.1 += 1;
                }
            }
            _ => {
                if self.by_debtor.insert(debtor, (at, 1)).is_some() {
                    anyhow::bail!("open invoices not grouped by debtor");
                }
            }
        }
        self.ids.push((inv.id.get(), at));
        let text_at = u32::try_from(self.text.len())?;
        let number_len = u16::try_from(inv.number.len())?;
        self.text.push_str(inv.number);
        let mut reference_len = u16::MAX;
        if let Some(r) = inv.payment_reference {
            if let Some(hash) = reference_hash(r) {
                self.by_reference.add(hash, at);
            }
            reference_len = u16::try_from(r.len())
                .ok()
                .filter(|l| *l != u16::MAX)
                .ok_or_else(|| anyhow::anyhow!("payment reference too long"))?;
            self.text.push_str(r);
        }
        self.by_number.add(upper_hash(inv.number), at);
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
        self.ids
            .binary_search_by_key(&id.get(), |(id, _)| *id)
            .ok()
            .and_then(|k| self.ids.get(k))
            .map(|(_, at)| *at as usize)
    }

    /// The debtor's open invoices, oldest id first.
    pub(super) fn of_debtor(&self, debtor: DebtorId) -> impl Iterator<Item = usize> + '_ {
        let (start, len) = self.by_debtor.get(&debtor.get()).copied().unwrap_or((0, 0));
        start as usize..(start as usize + len as usize)
    }

    /// Positions of hits in id order (several invoices sharing a key are rare).
    fn in_id_order(&self, hits: &[(u64, u32)], keep: impl Fn(usize) -> bool) -> Vec<usize> {
        let mut out: Vec<usize> = hits
            .iter()
            .map(|(_, at)| *at as usize)
            .filter(|i| keep(*i))
            .collect();
        if out.len() > 1 {
            out.sort_by_key(|i| self.invoices.get(*i).map_or(i64::MAX, |inv| inv.id.get()));
        }
        out
    }

    /// Invoices whose normalised payment reference is `key` (already normalised), in id order.
    fn with_reference(&self, key: &str) -> Vec<usize> {
        let Some(hash) = reference_hash(key) else {
            return Vec::new();
        };
        self.in_id_order(self.by_reference.get(hash), |i| {
            self.reference(i)
                .is_some_and(|r| normalise_reference(r) == key)
        })
    }

    /// Invoices whose upper-case number is `key` (already upper case), in id order.
    fn with_number(&self, key: &str) -> Vec<usize> {
        self.in_id_order(self.by_number.get(plain_hash(key)), |i| {
            self.number(i).to_uppercase() == key
        })
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

    pub(super) fn numbers(&self, found: &[usize]) -> String {
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
                .into_iter()
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
