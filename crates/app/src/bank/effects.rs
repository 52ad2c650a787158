//! The write pass of an import: every booked entry becomes an [`EntryWrite`] (its payment, the
//! allocations by law, its match), written in batches inside the import's one transaction; and
//! the effects: a debtor with nothing overdue any more gets its queued and held reminders
//! cancelled, a returned direct debit reverses the original allocations and reopens the claim.
//!
//! Entries are collected in chunks of [`CHUNK`]: one query tells which keys are already stored,
//! the new ones are matched and allocated in memory, and the chunk is written at once. A return
//! (rare) needs the stored original: the pending writes go out first, then the return is read
//! and written on its own, exactly as an entry-by-entry import would see it.

use std::collections::{HashMap, HashSet};

use incasso_calendar::Date;
use incasso_domain::{DebtorId, InvoiceId, PaymentId};
use incasso_store::{
    BankSink, EntryMatch, EntryStatus, EntryWrite, NewAllocation, NewBankEntry, NewPayment,
};

use super::collections::Collections;
use super::lines::Line;
use super::matching::Ledger;
use super::{BankReport, MATCH_THRESHOLD};

/// Entries per batch (one known-keys query and one write each).
pub(super) const CHUNK: usize = 4096;

/// Stands in for the id of the payment an [`EntryWrite`] creates (the store assigns it).
const NEW_PAYMENT: PaymentId = PaymentId::new(0);

/// What a return reason code means (the common SEPA codes).
pub fn return_reason_text(code: &str) -> &'static str {
    match code {
        "AC01" => "incorrect account number",
        "AC04" => "closed account",
        "AC06" => "blocked account",
        "AC13" => "debtor account is a consumer account",
        "AG01" => "transaction forbidden on this account",
        "AG02" => "invalid bank operation code",
        "AM04" => "insufficient funds",
        "AM05" => "duplicate collection",
        "BE05" => "unrecognised creditor",
        "CNOR" => "creditor bank not registered",
        "DNOR" => "debtor bank not registered",
        "FF01" => "invalid file format",
        "MD01" => "no valid mandate",
        "MD02" => "mandate data missing or incorrect",
        "MD06" => "refund requested by the debtor",
        "MD07" => "debtor deceased",
        "MS02" => "refused by the debtor",
        "MS03" => "reason not specified",
        "RC01" => "incorrect BIC",
        "RR01" | "RR02" | "RR03" | "RR04" => "regulatory reason",
        "SL01" => "specific service offered by the debtor bank",
        _ => "return",
    }
}

/// The open invoices and the debtors with pending reminders, loaded before the write pass
/// (while the check pass runs on another thread).
pub(super) struct Preloaded {
    ledger: Ledger,
    pending: HashSet<DebtorId>,
}

impl Preloaded {
    pub(super) fn load(sink: &mut dyn BankSink) -> anyhow::Result<Preloaded> {
        Ok(Preloaded {
            ledger: Ledger::load(sink)?,
            pending: sink.debtors_with_pending_actions()?.into_iter().collect(),
        })
    }
}

/// Everything the write pass needs per import.
pub(super) struct Writer<'a> {
    sink: &'a mut dyn BankSink,
    /// The creditor's own collections named in the file (matched by end-to-end id).
    collections: &'a Collections,
    /// Loaded when the first new entry needs it (a second import of the same file loads nothing).
    ledger: Option<Ledger>,
    report: &'a mut BankReport,
    today: Date,
    /// Identities seen in the current statement, with their count (memory per statement, not
    /// per file).
    seen: HashMap<String, u32>,
    seen_statement: Option<i64>,
    /// Debtors with queued or held reminders: only they can have something cancelled.
    pending: Option<HashSet<DebtorId>>,
    /// Debtors whose claims a return reopened outside the ledger (an invoice that was not open
    /// when the import began): their overdue check asks the store. `None` in the set: unknown
    /// debtor, every check asks the store.
    reopened: HashSet<Option<DebtorId>>,
    /// A settle that needs the store, done once the current entry is written.
    settle_after: Option<(DebtorId, String)>,
    /// Entries read, waiting for the known-keys check.
    chunk: Vec<NewBankEntry>,
    lines: Vec<Line>,
    /// Entries matched, waiting to be written.
    out: Vec<EntryWrite>,
}

impl<'a> Writer<'a> {
    pub(super) fn new(
        sink: &'a mut dyn BankSink,
        report: &'a mut BankReport,
        today: Date,
        collections: &'a Collections,
        preloaded: Option<Preloaded>,
    ) -> anyhow::Result<Writer<'a>> {
        let (ledger, pending) = match preloaded {
            Some(p) => (Some(p.ledger), Some(p.pending)),
            None => (None, None),
        };
        Ok(Writer {
            sink,
            collections,
            ledger,
            report,
            today,
            seen: HashMap::new(),
            seen_statement: None,
            pending,
            reopened: HashSet::new(),
            settle_after: None,
            chunk: Vec::with_capacity(CHUNK),
            lines: Vec::with_capacity(CHUNK),
            out: Vec::with_capacity(CHUNK),
        })
    }

    pub(super) fn write_line(
        &mut self,
        account: &str,
        statement_id: i64,
        line: Line,
    ) -> anyhow::Result<()> {
        if !line.booked {
            self.report.not_booked += 1;
            return Ok(());
        }
        self.report.entries += 1;
        // The same identity twice in one statement (two identical card payments on one day):
        // the occurrences are numbered, so a later file with one more is told apart.
        if self.seen_statement != Some(statement_id) {
            self.seen.clear();
            self.seen_statement = Some(statement_id);
        }
        let occurrence = {
            let n = self.seen.entry(line.identity.clone()).or_insert(0);
            *n = n.saturating_add(1);
            *n
        };
        let key = if occurrence == 1 {
            format!("{account}|{}", line.identity)
        } else {
            format!("{account}|{}#{occurrence}", line.identity)
        };
        self.chunk.push(NewBankEntry {
            statement_id,
            key,
            location: line.location.clone(),
            booking_date: line.booking_date,
            value_date: line.value_date,
            amount: line.amount,
            counterparty_name: line.counterparty_name.clone(),
            counterparty_iban: line.counterparty_iban.clone(),
            reference: line.references.first().cloned(),
            end_to_end_id: line.end_to_end_id.clone(),
            remittance: line.remittance.clone(),
            return_reason: line.return_reason.clone(),
        });
        self.lines.push(line);
        if self.chunk.len() >= CHUNK {
            self.process_chunk()?;
        }
        Ok(())
    }

    /// Writes what is still pending; call once after the last entry.
    pub(super) fn finish(mut self) -> anyhow::Result<()> {
        self.process_chunk()
    }

    fn process_chunk(&mut self) -> anyhow::Result<()> {
        let entries = std::mem::take(&mut self.chunk);
        let lines = std::mem::take(&mut self.lines);
        let known = {
            let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
            self.sink.known_entries(&keys)?
        };
        if self.ledger.is_none() && known.iter().any(|k| !k) {
            self.ledger = Some(Ledger::load(self.sink)?);
            self.pending = Some(
                self.sink
                    .debtors_with_pending_actions()?
                    .into_iter()
                    .collect(),
            );
        }
        let mut fresh: HashSet<String> = HashSet::new();
        for ((entry, line), known) in entries.into_iter().zip(lines).zip(known) {
            if known || !fresh.insert(entry.key.clone()) {
                self.report.entries_known += 1;
                continue;
            }
            self.report.entries_new += 1;
            let write = if line.amount.is_zero() {
                ignored(entry, "zero amount")
            } else if line.amount.is_negative() {
                if line.return_reason.is_some() || line.reversal {
                    self.flush()?;
                    self.write_return(entry, &line)?
                } else {
                    ignored(entry, "money out: not a payment")
                }
            } else if line.reversal {
                ignored(entry, "reversal of a debit: not a payment")
            } else {
                self.write_credit(entry, &line)?
            };
            match write.matched.status {
                EntryStatus::Matched => self.report.matched += 1,
                EntryStatus::Unmatched => self.report.unmatched += 1,
                EntryStatus::Ignored => self.report.ignored += 1,
                EntryStatus::Returned => self.report.returned += 1,
            }
            let returned = write.matched.status == EntryStatus::Returned
                || write.payment.as_ref().is_some_and(|p| p.reverses.is_some());
            self.out.push(write);
            if returned {
                self.flush()?;
            }
            if let Some((debtor, reason)) = self.settle_after.take() {
                self.flush()?;
                if !self.sink.has_open_overdue(debtor, self.today)? {
                    self.cancel(debtor, &reason)?;
                }
            }
        }
        self.flush()
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if !self.out.is_empty() {
            self.sink.write_entries(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    fn write_credit(&mut self, entry: NewBankEntry, line: &Line) -> anyhow::Result<EntryWrite> {
        let Some(ledger) = self.ledger.as_mut() else {
            anyhow::bail!("the open invoices were not loaded");
        };
        let found = match self.collections.get(line.end_to_end_id.as_deref()) {
            Some(c) => ledger.find_collection(line, c),
            None => ledger.find(line),
        };
        let debtor = found.debtor.filter(|_| found.confidence >= MATCH_THRESHOLD);
        let payment = NewPayment {
            debtor_id: debtor,
            received_on: line.booking_date,
            amount: line.amount,
            reference: line
                .references
                .first()
                .cloned()
                .or_else(|| line.end_to_end_id.clone()),
            counterparty_iban: line.counterparty_iban.clone(),
            description: line.remittance.clone(),
            source: format!("bank:{}", entry.key),
            reverses: None,
        };
        let invoice_id = found
            .designated
            .first()
            .and_then(|i| ledger.invoices.get(*i))
            .map(|inv| inv.id);
        let Some(debtor) = debtor else {
            return Ok(EntryWrite {
                entry,
                payment: Some(payment),
                allocations: Vec::new(),
                reversals: Vec::new(),
                matched: EntryMatch {
                    status: EntryStatus::Unmatched,
                    payment_id: Some(NEW_PAYMENT),
                    debtor_id: found.debtor,
                    invoice_id,
                    reason: found.reason,
                    confidence: found.confidence,
                    unapplied: Some(line.amount),
                },
            });
        };
        let (allocations, unapplied) = ledger.allocate(
            debtor,
            &found.designated,
            line.amount,
            line.booking_date,
            NEW_PAYMENT,
        )?;
        ledger.apply(&allocations);
        if unapplied.is_positive() {
            self.report.with_credit_balance += 1;
        }
        self.settle(debtor, &found.reason)?;
        Ok(EntryWrite {
            entry,
            payment: Some(payment),
            allocations,
            reversals: Vec::new(),
            matched: EntryMatch {
                status: EntryStatus::Matched,
                payment_id: Some(NEW_PAYMENT),
                debtor_id: Some(debtor),
                invoice_id,
                reason: found.reason,
                confidence: found.confidence,
                unapplied: Some(unapplied),
            },
        })
    }

    /// When the debtor has nothing overdue any more, cancel the queued and held reminders now.
    fn settle(&mut self, debtor: DebtorId, reason: &str) -> anyhow::Result<()> {
        if !self.pending.as_ref().is_some_and(|p| p.contains(&debtor)) {
            // Nothing queued or held: cancelling would change nothing.
            return Ok(());
        }
        if self.reopened.contains(&Some(debtor)) || self.reopened.contains(&None) {
            // The ledger does not hold every open claim of this debtor: the store answers once
            // this entry is written.
            self.settle_after = Some((debtor, reason.to_string()));
            return Ok(());
        }
        if !self
            .ledger
            .as_ref()
            .is_some_and(|l| l.has_open_overdue(debtor, self.today))
        {
            self.cancel(debtor, reason)?;
        }
        Ok(())
    }

    fn cancel(&mut self, debtor: DebtorId, reason: &str) -> anyhow::Result<()> {
        self.report.actions_cancelled += self.sink.cancel_pending(
            debtor,
            &format!("paid in full (bank: {reason})"),
            self.today,
        )?;
        if let Some(p) = self.pending.as_mut() {
            p.remove(&debtor);
        }
        Ok(())
    }

    fn write_return(&mut self, entry: NewBankEntry, line: &Line) -> anyhow::Result<EntryWrite> {
        let code = line
            .return_reason
            .clone()
            .unwrap_or_else(|| "reversal".into());
        let why = format!("{code} ({})", return_reason_text(&code));
        let original = match &line.end_to_end_id {
            Some(e2e) => self.sink.credit_by_end_to_end(e2e)?,
            None => None,
        };
        let Some((original, original_payment)) =
            original.and_then(|o| o.matched.payment_id.map(|p| (o, p)))
        else {
            return Ok(EntryWrite {
                entry,
                payment: None,
                allocations: Vec::new(),
                reversals: Vec::new(),
                matched: EntryMatch {
                    status: EntryStatus::Unmatched,
                    payment_id: None,
                    debtor_id: None,
                    invoice_id: None,
                    reason: format!("returned payment {why} without a known original payment"),
                    confidence: 0,
                    unapplied: None,
                },
            });
        };
        let allocations = self.sink.payment_allocations(original_payment)?;
        let reversed: HashSet<_> = allocations
            .iter()
            .filter_map(|a| a.allocation.reverses)
            .collect();
        let reversals: Vec<NewAllocation> = allocations
            .iter()
            .filter(|a| {
                a.allocation.reverses.is_none()
                    && a.allocation.amount.is_positive()
                    && !reversed.contains(&a.id)
            })
            .map(|a| -> anyhow::Result<NewAllocation> {
                Ok(NewAllocation {
                    payment_id: original_payment,
                    invoice_id: a.allocation.invoice_id,
                    component: a.allocation.component,
                    amount: a.allocation.amount.checked_neg()?,
                    reverses: Some(a.id),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let payment = NewPayment {
            debtor_id: original.matched.debtor_id,
            received_on: line.booking_date,
            amount: line.amount,
            reference: line.end_to_end_id.clone(),
            counterparty_iban: line.counterparty_iban.clone(),
            description: Some(format!("returned: {why}")),
            source: format!("bank:{}", entry.key),
            reverses: Some(original_payment),
        };
        if !self.ledger.as_mut().is_some_and(|l| l.apply(&reversals)) {
            self.reopened.insert(original.matched.debtor_id);
        }
        let invoices: Vec<InvoiceId> = reversals.iter().map(|r| r.invoice_id).collect();
        let matched = EntryMatch {
            status: EntryStatus::Returned,
            payment_id: Some(NEW_PAYMENT),
            debtor_id: original.matched.debtor_id,
            invoice_id: invoices.first().copied().or(original.matched.invoice_id),
            reason: format!(
                "returned direct debit {why}: {} allocation(s) of bank entry {} reversed, claim reopened",
                reversals.len(),
                original.id
            ),
            confidence: 100,
            unapplied: None,
        };
        Ok(EntryWrite {
            entry,
            payment: Some(payment),
            allocations: Vec::new(),
            reversals,
            matched,
        })
    }
}

fn ignored(entry: NewBankEntry, reason: &str) -> EntryWrite {
    EntryWrite {
        entry,
        payment: None,
        allocations: Vec::new(),
        reversals: Vec::new(),
        matched: EntryMatch {
            status: EntryStatus::Ignored,
            payment_id: None,
            debtor_id: None,
            invoice_id: None,
            reason: reason.into(),
            confidence: 0,
            unapplied: None,
        },
    }
}
