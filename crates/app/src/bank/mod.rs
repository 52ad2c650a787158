//! Bank statements in, payments matched and allocated, reminders stopped.
//!
//! [`import_bank_file`] reads one camt.052/053/054 or MT940/MT942 file and, in one transaction,
//! stores its statements and booked entries, records every credit as a payment, matches it to
//! invoices, allocates it by law (art. 6:43/6:44 BW through `incasso_rules`), cancels the queued
//! and held reminders of a debtor who no longer has anything overdue, and reopens claims whose
//! direct debit came back. The file is refused as a whole (nothing stored) when an amount, date
//! or direction cannot be read, the balances do not add up, or a statement is for an account
//! that is not the creditor's. Known deviations the parsers read leniently are warnings.
//!
//! Identity: an entry is known by its account plus the bank's references (`AcctSvcrRef`,
//! `NtryRef`, `EndToEndId` for camt; the bank reference, the customer reference or `/EREF/` for
//! MT940) or, when a bank gives none, a hash of its content. Importing the same statement or
//! entry again (from the same file, a camt.054 and then the camt.053, ...) changes nothing.
//!
//! Set-based: per import the tenant's open invoices are loaded once into a compact index
//! ([`matching`]), every entry is matched and allocated in memory ([`allocation`]), and the
//! results are written in batches ([`effects`]). Modules: [`lines`] reads entries, [`import`]
//! runs the check and write passes, [`collections`] recognises the creditor's own direct
//! debits by their end-to-end id.

pub(crate) mod allocation;
mod collections;
mod effects;
mod import;
mod lines;
mod matching;

use anyhow::{Context, anyhow};
use incasso_calendar::Date;
use incasso_domain::CreditorId;
use incasso_money::Money;
use incasso_store::{BankEntryRow, EntryMatch, EntryStatus, Store};

pub use collections::MANDATE_ENDING_CODES;
pub use effects::return_reason_text;

use crate::import::Problem;
use matching::Ledger;

/// Matches below this confidence (0..=100) go to the unmatched queue instead of being allocated.
pub const MATCH_THRESHOLD: u8 = 60;

/// Stop collecting problems after this many; the file is refused anyway.
pub(super) const MAX_PROBLEMS: usize = 50;

/// What one bank file did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BankReport {
    pub file: String,
    /// `camt.053`, `camt.052`, `camt.054` or `mt940`.
    pub format: String,
    pub statements: u64,
    pub statements_new: u64,
    /// Booked entries read.
    pub entries: u64,
    pub entries_new: u64,
    /// Entries imported before (by their identity): nothing was done for them.
    pub entries_known: u64,
    /// Pending or informational entries (camt `Sts` other than `BOOK`, MT942 expected entries):
    /// not stored; the booked entry will come later.
    pub not_booked: u64,
    pub matched: u64,
    pub unmatched: u64,
    pub ignored: u64,
    pub returned: u64,
    /// Matched payments that left an unapplied remainder (a credit balance of the debtor).
    pub with_credit_balance: u64,
    pub actions_cancelled: u64,
    /// Mandates ended by a return of our own direct debit (`AC04`, `MD01`, `MD07`), one line
    /// each.
    pub mandates_ended: Vec<String>,
    /// Deviations read leniently.
    pub warnings: Vec<Problem>,
    /// False when nothing was new (the same statement again): nothing was written.
    pub committed: bool,
}

/// What a manual match did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualMatch {
    pub entry: i64,
    pub invoice: String,
    pub allocated: Money,
    pub unapplied: Money,
    pub actions_cancelled: u64,
}

/// A bank file format, detected from the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BankFormat {
    Camt,
    Mt940,
}

/// camt when the first non-blank character (after a BOM) is `<`, else MT940.
pub fn detect_format(bytes: &[u8]) -> BankFormat {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => BankFormat::Camt,
        _ => BankFormat::Mt940,
    }
}

/// An account written for comparison: letters and digits only, upper case.
pub fn normalise_account(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A payment reference or invoice number written for comparison: letters and digits only,
/// upper case, and for an all-digit value without leading zeros.
pub(super) fn normalise_reference(s: &str) -> String {
    let n = normalise_account(s);
    if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
        let t = n.trim_start_matches('0');
        return if t.is_empty() { "0".into() } else { t.into() };
    }
    n
}

/// The accounts a tenant's statements may be for: the creditor's IBAN and the registered ones.
pub(super) struct Accounts {
    known: Vec<String>,
}

impl Accounts {
    fn load(store: &mut dyn Store, tenant: CreditorId) -> anyhow::Result<Accounts> {
        let creditor = store.creditor(tenant)?;
        let mut known = vec![normalise_account(creditor.details.iban.as_str())];
        for a in store.bank_accounts(tenant)? {
            known.push(normalise_account(&a));
        }
        Ok(Accounts { known })
    }

    /// The matching account (normalised), with a warning when it matched only as the account
    /// number inside a Dutch IBAN (old MT940 exports write `0001234567`).
    pub(super) fn resolve(&self, written: &str) -> Option<(String, Option<String>)> {
        let n = normalise_account(written);
        if n.is_empty() {
            return None;
        }
        if self.known.contains(&n) {
            return Some((n, None));
        }
        let digits = n.trim_start_matches('0');
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            for k in &self.known {
                if k.starts_with("NL") && k.len() == 18 {
                    let number = k.get(8..).unwrap_or("").trim_start_matches('0');
                    if number == digits {
                        return Some((
                            k.clone(),
                            Some(format!("account {written} read as the IBAN {k}")),
                        ));
                    }
                }
            }
        }
        None
    }
}
/// Imports one bank file for `tenant`. `today` decides what counts as overdue when cancelling
/// reminders. A refused file is an [`ImportError`] (downcast the error) and stores nothing.
pub fn import_bank_file(
    store: &mut dyn Store,
    tenant: CreditorId,
    filename: &str,
    bytes: &[u8],
    today: Date,
) -> anyhow::Result<BankReport> {
    let accounts = Accounts::load(store, tenant)?;
    match detect_format(bytes) {
        BankFormat::Camt => import::import_camt(store, tenant, &accounts, filename, bytes, today),
        BankFormat::Mt940 => import::import_mt940(store, tenant, &accounts, filename, bytes, today),
    }
}
/// The unmatched queue: money in that no rule matched with enough confidence, and returns
/// without a known original.
pub fn unmatched(store: &mut dyn Store, tenant: CreditorId) -> anyhow::Result<Vec<BankEntryRow>> {
    Ok(store.bank_entries(tenant, Some(EntryStatus::Unmatched))?)
}

/// Matches an entry of the unmatched queue to an invoice by hand: its payment is allocated to
/// that invoice first (the designation), then to the debtor's other open claims in statutory
/// order; what remains is the debtor's credit balance.
pub fn match_entry(
    store: &mut dyn Store,
    tenant: CreditorId,
    entry: i64,
    invoice_number: &str,
    today: Date,
) -> anyhow::Result<ManualMatch> {
    let invoice = store
        .invoice_by_number(tenant, invoice_number)
        .with_context(|| format!("invoice {invoice_number}"))?;
    let mut result: Option<ManualMatch> = None;
    store.bank_transaction(tenant, None, &mut |sink| {
        let row = sink.get_entry(entry)?;
        if row.matched.status != EntryStatus::Unmatched {
            anyhow::bail!(
                "bank entry {entry} is {}, not in the unmatched queue",
                row.matched.status.code()
            );
        }
        let Some(payment) = row.matched.payment_id else {
            anyhow::bail!("bank entry {entry} is not money in: there is no payment to allocate");
        };
        let amount = row.entry.amount;
        let already = sink
            .payment_allocations(payment)?
            .iter()
            .try_fold(Money::zero(amount.currency()), |acc, a| {
                acc.checked_add(a.allocation.amount)
            })?;
        let remaining = amount.checked_sub(already)?;
        let ledger = Ledger::load(sink)?;
        let Some(index) = ledger.position(invoice.id) else {
            anyhow::bail!("invoice {invoice_number} has nothing open");
        };
        if ledger.invoices.get(index).map(|i| i.open.currency()) != Some(amount.currency()) {
            anyhow::bail!(
                "invoice {invoice_number} is in another currency than the payment ({})",
                amount.currency().code()
            );
        }
        let (allocations, unapplied) = ledger.allocate(
            invoice.debtor_id,
            &[index],
            remaining,
            row.entry.booking_date,
            payment,
        )?;
        sink.record_allocations(&allocations)?;
        let allocated = remaining.checked_sub(unapplied)?;
        let reason = format!("matched by hand to invoice {invoice_number}");
        let mut cancelled = 0;
        if !sink.has_open_overdue(invoice.debtor_id, today)? {
            cancelled = sink.cancel_pending(
                invoice.debtor_id,
                &format!("paid in full (bank: {reason})"),
                today,
            )?;
        }
        sink.set_match(
            entry,
            &EntryMatch {
                status: EntryStatus::Matched,
                payment_id: Some(payment),
                debtor_id: Some(invoice.debtor_id),
                invoice_id: Some(invoice.id),
                reason,
                confidence: 100,
                unapplied: Some(unapplied),
            },
        )?;
        result = Some(ManualMatch {
            entry,
            invoice: invoice_number.to_string(),
            allocated,
            unapplied,
            actions_cancelled: cancelled,
        });
        Ok(true)
    })?;
    result.ok_or_else(|| anyhow!("bank entry {entry}: nothing was matched"))
}

/// Registers a bank account of the tenant beside the creditor's own IBAN.
pub fn add_account(
    store: &mut dyn Store,
    tenant: CreditorId,
    account: &str,
) -> anyhow::Result<String> {
    let n = normalise_account(account);
    if n.len() < 5 {
        anyhow::bail!("{account:?} is not a bank account number");
    }
    store.add_bank_account(tenant, &n)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::lines::minor_units;
    use super::matching::tokens;
    use super::*;
    use incasso_money::Currency;

    #[test]
    fn references_and_accounts_compare_normalised() {
        assert_eq!(normalise_reference("0000 1234.5678"), "12345678");
        assert_eq!(normalise_reference("+++090/9337/55493+++"), "90933755493");
        assert_eq!(
            normalise_reference("rf18 5390 0754 7034"),
            "RF18539007547034"
        );
        assert_eq!(
            normalise_account("nl91 abna 0417 1643 00"),
            "NL91ABNA0417164300"
        );
    }

    #[test]
    fn remittance_tokens_find_invoice_numbers() {
        let t = tokens("Factuur F-2024/001, F-2024/002; nr.#77 (zie: 2024-15).");
        for want in ["F-2024/001", "F-2024", "001", "77", "2024-15"] {
            assert!(t.iter().any(|x| x == want), "{want} in {t:?}");
        }
    }

    #[test]
    fn format_is_detected_from_the_content() {
        assert_eq!(detect_format(b"\xEF\xBB\xBF  <?xml"), BankFormat::Camt);
        assert_eq!(detect_format(b":20:STARTUMSE"), BankFormat::Mt940);
        assert_eq!(detect_format(b"{1:F01}"), BankFormat::Mt940);
    }

    #[test]
    fn old_dutch_account_numbers_resolve_to_the_iban_with_a_warning() {
        let accounts = Accounts {
            known: vec!["NL20INGB0001234567".into()],
        };
        let (account, note) = accounts.resolve("0001234567").expect("resolved");
        assert_eq!(account, "NL20INGB0001234567");
        assert!(note.is_some());
        assert_eq!(
            accounts.resolve("NL20 INGB 0001 2345 67"),
            Some(("NL20INGB0001234567".into(), None))
        );
        assert_eq!(accounts.resolve("0001234568"), None);
        assert_eq!(accounts.resolve(""), None);
    }

    #[test]
    fn amounts_convert_only_when_exact() {
        let eur = Currency::EUR;
        let ok = |units, scale| minor_units(units, scale, eur, "x", "Amt", &"v");
        assert_eq!(ok(18150, 3).expect("exact"), Money::eur_cents(1815));
        assert_eq!(ok(5, 0).expect("exact"), Money::eur_cents(500));
        assert!(ok(10005, 3).is_err());
        assert!(ok(i128::MAX, 0).is_err());
    }
}
