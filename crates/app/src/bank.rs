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
//! camt files are read twice with [`incasso_camt::parse_with`] (check, then write), so memory
//! does not grow with the number of entries. MT940 files are small and parsed whole.

use std::collections::{HashMap, HashSet};
use std::fmt;

use anyhow::{Context, anyhow};
use incasso_banking::PaymentReference;
use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId, InvoiceId, PaymentId};
use incasso_money::{Currency, Money};
use incasso_rules::rates::AnnualRate;
use incasso_rules::{OpenAmounts, OpenClaim, allocate_payment};
use incasso_store::{
    BankEntryRow, BankFile, BankSink, Component, EntryInsert, EntryMatch, EntryStatus,
    NewAllocation, NewBankEntry, NewBankStatement, NewPayment, OpenInvoice, Store,
};

use crate::import::{ImportError, Problem};

/// Matches below this confidence (0..=100) go to the unmatched queue instead of being allocated.
pub const MATCH_THRESHOLD: u8 = 60;

/// Stop collecting problems after this many; the file is refused anyway.
const MAX_PROBLEMS: usize = 50;

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
fn normalise_reference(s: &str) -> String {
    let n = normalise_account(s);
    if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
        let t = n.trim_start_matches('0');
        return if t.is_empty() { "0".into() } else { t.into() };
    }
    n
}

/// The accounts a tenant's statements may be for: the creditor's IBAN and the registered ones.
struct Accounts {
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
    fn resolve(&self, written: &str) -> Option<(String, Option<String>)> {
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

/// One booked or pending entry, read from either format.
#[derive(Debug, Clone)]
struct Line {
    location: String,
    booked: bool,
    booking_date: Date,
    value_date: Option<Date>,
    /// Signed: money in positive.
    amount: Money,
    reversal: bool,
    counterparty_name: Option<String>,
    counterparty_iban: Option<String>,
    references: Vec<String>,
    end_to_end_id: Option<String>,
    remittance: Option<String>,
    return_reason: Option<String>,
    /// The entry identity without account and occurrence.
    identity: String,
}

fn problem(location: &str, field: &str, message: impl Into<String>) -> Problem {
    Problem {
        location: location.to_string(),
        field: field.to_string(),
        message: message.into(),
    }
}

fn date_of(year: u16, month: u8, day: u8) -> Option<Date> {
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()
}

fn camt_date(d: &incasso_camt::DateChoice) -> Option<Date> {
    let i = d.date();
    date_of(i.year, i.month, i.day)
}

fn currency_of(code: &str, location: &str, field: &str) -> Result<Currency, Problem> {
    Currency::parse(code)
        .map_err(|_| problem(location, field, format!("unknown currency {code:?}")))
}

fn minor_units(
    units: i128,
    scale: u8,
    currency: Currency,
    location: &str,
    field: &str,
    text: &dyn fmt::Display,
) -> Result<Money, Problem> {
    let digits = u8::try_from(currency.exponent()).unwrap_or(2);
    let minor = if scale <= digits {
        10i128
            .checked_pow(u32::from(digits - scale))
            .and_then(|f| units.checked_mul(f))
    } else {
        10i128
            .checked_pow(u32::from(scale - digits))
            .filter(|f| units % f == 0)
            .map(|f| units / f)
    };
    let minor = minor.and_then(|m| i64::try_from(m).ok()).ok_or_else(|| {
        problem(
            location,
            field,
            format!(
                "amount {text} is not a whole number of {} minor units ({digits} decimals)",
                currency.code()
            ),
        )
    })?;
    Ok(Money::from_minor(minor, currency))
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("NOTPROVIDED"))
        .map(str::to_string)
}

fn content_hash(parts: &[&str]) -> String {
    let joined = parts.join("\u{1f}");
    let hex = crate::sha256_hex(joined.as_bytes());
    format!("hash:{}", hex.get(..32).unwrap_or(&hex))
}

/// Reads a camt entry. `Ok(None)` for an entry the parser marked invalid (its diagnostics are
/// reported separately).
fn camt_line(
    statement: &incasso_camt::Statement,
    e: &incasso_camt::Entry,
    warnings: &mut Vec<Problem>,
) -> Result<Option<Line>, Problem> {
    if !e.valid {
        return Ok(None);
    }
    let path = &e.path;
    let Some(amount) = &e.amount else {
        return Err(problem(path, "Amt", "missing amount"));
    };
    let Some(direction) = e.credit_debit else {
        return Err(problem(path, "CdtDbtInd", "missing credit/debit indicator"));
    };
    let currency = currency_of(&amount.currency, path, "Amt/@Ccy")?;
    let signed = direction.signed(amount.value);
    let money = minor_units(
        signed.units(),
        signed.scale(),
        currency,
        &format!("{path}/Amt"),
        "Amt",
        &amount.value,
    )?;
    let booking = e.booking_date.as_ref().and_then(camt_date);
    let value = e.value_date.as_ref().and_then(camt_date);
    let booking_date = match booking.or(value) {
        Some(date) => date,
        None => {
            // Some banks leave the dates of an entry out: the statement's date stands in.
            let fallback = find_balance(statement, &["CLBD", "ITBD", "OPBD", "PRCD"], true)
                .and_then(|b| b.date.as_ref())
                .and_then(camt_date)
                .or_else(|| iso_prefix_date(statement.to.as_deref()))
                .or_else(|| iso_prefix_date(statement.created.as_deref()));
            let Some(date) = fallback else {
                return Err(problem(
                    path,
                    "BookgDt",
                    "no booking date, no value date and no statement date",
                ));
            };
            if warnings.len() < MAX_PROBLEMS {
                warnings.push(problem(
                    path,
                    "BookgDt",
                    format!("no booking date or value date; the statement date {date} is used"),
                ));
            }
            date
        }
    };
    let single = e.transactions.len() == 1;
    let first = e.transactions.first();
    let party = first.map(|t| t.counterparty(e.credit_debit));
    let mut references = Vec::new();
    let mut remittance: Vec<String> = Vec::new();
    let mut return_reason = None;
    for t in &e.transactions {
        for r in &t.creditor_references {
            if let Some(x) = nonempty(r.reference.as_deref()) {
                references.push(x);
            }
        }
        remittance.extend(t.remittance_unstructured.iter().cloned());
        remittance.extend(t.remittance_additional.iter().cloned());
        if let Some(rt) = &t.return_information {
            return_reason = rt
                .reason_code
                .clone()
                .or_else(|| rt.reason_proprietary.clone())
                .or_else(|| Some("unspecified".into()));
        }
    }
    if remittance.is_empty()
        && let Some(info) = nonempty(e.additional_info.as_deref())
    {
        remittance.push(info);
    }
    let end_to_end_id = first.and_then(|t| nonempty(t.end_to_end_id.as_deref()));
    let amount_text = money.minor().to_string();
    let date_text = booking_date.to_string();
    let identity = if let Some(r) = nonempty(e.account_servicer_reference.as_deref()) {
        format!("asr:{r}|{amount_text}")
    } else if let Some(r) = nonempty(e.reference.as_deref()) {
        format!("ntry:{r}|{date_text}|{amount_text}")
    } else if let Some(r) = first.and_then(|t| nonempty(t.account_servicer_reference.as_deref())) {
        format!("txasr:{r}|{amount_text}")
    } else if let Some(r) = &end_to_end_id {
        format!("e2e:{r}|{date_text}|{amount_text}")
    } else {
        let value_text = value.map(|d| d.to_string()).unwrap_or_default();
        let joined = remittance.join("\n");
        let name = party.and_then(|p| p.name.clone()).unwrap_or_default();
        let iban = party.and_then(|p| p.iban.clone()).unwrap_or_default();
        content_hash(&[&date_text, &value_text, &amount_text, &name, &iban, &joined])
    };
    Ok(Some(Line {
        location: path.clone(),
        booked: e.is_booked(),
        booking_date,
        value_date: value,
        amount: money,
        reversal: e.reversal,
        counterparty_name: if single {
            party.and_then(|p| p.name.clone())
        } else {
            None
        },
        counterparty_iban: if single {
            party.and_then(|p| p.iban.clone())
        } else {
            None
        },
        references,
        end_to_end_id,
        remittance: (!remittance.is_empty()).then(|| remittance.join(" ")),
        return_reason,
        identity,
    }))
}

fn swift_date(d: &incasso_mt940::SwiftDate) -> Option<Date> {
    let (y, m, day) = d.clamped();
    date_of(y, m, day)
}

/// The statement currency of an MT940 statement: its balances' or the `:25:` suffix.
fn mt940_currency(s: &incasso_mt940::Statement) -> Option<String> {
    s.opening_balance
        .as_ref()
        .or(s.closing_balance.as_ref())
        .map(|b| b.currency.clone())
        .or_else(|| s.account_currency.clone())
        .or_else(|| {
            // MT942: `:34F:EURD0,00` (floor limit) or `:90D:1EUR2,30` (sum of debits).
            s.floor_limits
                .iter()
                .filter_map(|f| f.get(..3))
                .chain(
                    s.sum_debit_entries
                        .iter()
                        .chain(s.sum_credit_entries.iter())
                        .filter_map(|x| {
                            let i = x.find(|c: char| c.is_ascii_alphabetic())?;
                            x.get(i..i.checked_add(3)?)
                        }),
                )
                .find(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
                .map(str::to_string)
        })
}

fn mt940_line(
    s: &incasso_mt940::Statement,
    e: &incasso_mt940::Entry,
    warnings: &mut Vec<Problem>,
) -> Result<Option<Line>, Problem> {
    if !e.valid {
        return Ok(None);
    }
    let location = format!("line {}", e.line);
    let (Some(mark), Some(amount)) = (e.mark, e.amount) else {
        return Err(problem(&location, ":61: amount", "missing mark or amount"));
    };
    let Some(code) = mt940_currency(s) else {
        return Err(problem(
            &format!("line {}", s.line),
            ":60F: currency",
            "no currency: the statement has no balance and :25: names none",
        ));
    };
    let currency = currency_of(&code, &location, ":61: currency")?;
    let signed = mark.signed(amount);
    let money = minor_units(
        signed.units(),
        signed.scale(),
        currency,
        &location,
        ":61: amount",
        &amount,
    )?;
    let value = e.value_date.as_ref().and_then(swift_date);
    let booking = e.entry_date.as_ref().and_then(swift_date);
    for d in e.value_date.iter().chain(e.entry_date.iter()) {
        if !d.is_calendar_date() {
            warnings.push(problem(
                &location,
                ":61: date",
                format!(
                    "date {} does not exist; read as the last day of the month",
                    d.raw
                ),
            ));
        }
    }
    let Some(booking_date) = booking.or(value) else {
        return Err(problem(&location, ":61: value date", "no readable date"));
    };
    let info = &e.details;
    let end_to_end_id = nonempty(info.end_to_end_id.as_deref());
    let amount_text = money.minor().to_string();
    let date_text = booking_date.to_string();
    let real = |r: &Option<String>| {
        nonempty(r.as_deref()).filter(|r| {
            !matches!(
                r.to_ascii_uppercase().as_str(),
                "NONREF" | "EREF" | "PREF" | "MARF" | "NONE" | "0"
            )
        })
    };
    let identity = if let Some(r) = real(&e.bank_reference) {
        format!("ref:{r}|{date_text}|{amount_text}")
    } else if let Some(r) = real(&e.customer_reference) {
        format!("cref:{r}|{date_text}|{amount_text}")
    } else if let Some(r) = &end_to_end_id {
        format!("e2e:{r}|{date_text}|{amount_text}")
    } else {
        let value_text = value.map(|d| d.to_string()).unwrap_or_default();
        content_hash(&[
            &date_text,
            &value_text,
            &amount_text,
            &e.raw,
            e.information.as_deref().unwrap_or(""),
        ])
    };
    let iban = info
        .counterparty_account
        .as_deref()
        .and_then(|a| incasso_banking::Iban::parse(a).ok())
        .map(|i| i.as_str().to_string())
        .or_else(|| info.counterparty_account.clone());
    Ok(Some(Line {
        location,
        booked: !matches!(
            mark,
            incasso_mt940::EntryMark::ExpectedCredit | incasso_mt940::EntryMark::ExpectedDebit
        ),
        booking_date,
        value_date: value,
        amount: money,
        reversal: mark.is_reversal(),
        counterparty_name: info.counterparty_name.clone(),
        counterparty_iban: iban,
        references: info.payment_reference.iter().cloned().collect(),
        end_to_end_id,
        remittance: nonempty(info.remittance.as_deref()).or_else(|| {
            if info.format == incasso_mt940::InformationFormat::Unstructured {
                nonempty(e.information.as_deref())
            } else {
                None
            }
        }),
        return_reason: nonempty(info.return_reason.as_deref()),
        identity,
    }))
}

/// The tenant's open invoices, indexed for matching; open amounts follow the allocations made
/// during the import.
struct Ledger {
    invoices: Vec<OpenInvoice>,
    by_reference: HashMap<String, Vec<usize>>,
    by_number: HashMap<String, Vec<usize>>,
    by_iban: HashMap<String, Vec<DebtorId>>,
    by_debtor: HashMap<DebtorId, Vec<usize>>,
}

/// The result of the match rules for one credit.
#[derive(Debug, Clone)]
struct Found {
    debtor: Option<DebtorId>,
    designated: Vec<usize>,
    reason: String,
    confidence: u8,
}

fn tokens(text: &str) -> Vec<String> {
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
    fn load(sink: &mut dyn BankSink) -> anyhow::Result<Ledger> {
        let invoices = sink.open_invoices()?;
        let mut by_reference: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_number: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_debtor: HashMap<DebtorId, Vec<usize>> = HashMap::new();
        for (i, inv) in invoices.iter().enumerate() {
            if let Some(r) = &inv.payment_reference {
                let n = normalise_reference(r);
                if !n.is_empty() {
                    by_reference.entry(n).or_default().push(i);
                }
            }
            by_number
                .entry(inv.number.to_uppercase())
                .or_default()
                .push(i);
            by_debtor.entry(inv.debtor_id).or_default().push(i);
        }
        let mut by_iban: HashMap<String, Vec<DebtorId>> = HashMap::new();
        for (debtor, iban) in sink.debtor_ibans()? {
            let list = by_iban.entry(normalise_account(&iban)).or_default();
            if !list.contains(&debtor) {
                list.push(debtor);
            }
        }
        Ok(Ledger {
            invoices,
            by_reference,
            by_number,
            by_iban,
            by_debtor,
        })
    }

    fn usable(&self, i: usize, currency: Currency) -> bool {
        self.invoices
            .get(i)
            .is_some_and(|inv| inv.open.is_positive() && inv.open.currency() == currency)
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
            .filter_map(|i| self.invoices.get(*i).map(|inv| inv.number.clone()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn find(&self, line: &Line) -> Found {
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
                .by_reference
                .get(&key)
                .map(|v| {
                    v.iter()
                        .copied()
                        .filter(|i| self.usable(*i, currency))
                        .collect()
                })
                .unwrap_or_default();
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
                if let Some(hits) = self.by_number.get(&key) {
                    for h in hits {
                        if self.usable(*h, currency) && !found.contains(h) {
                            found.push(*h);
                        }
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
                    .by_debtor
                    .get(debtor)
                    .map(|v| {
                        v.iter()
                            .copied()
                            .filter(|i| self.usable(*i, currency))
                            .collect()
                    })
                    .unwrap_or_default();
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

    /// Allocates `amount` of `payment` to the debtor's open claims: the designated invoices
    /// first (art. 6:43 lid 1 BW), then the others in statutory order; within each claim costs,
    /// interest, principal (art. 6:44 BW). Returns the allocations and the unapplied rest.
    fn allocate(
        &self,
        debtor: DebtorId,
        designated: &[usize],
        amount: Money,
        on: Date,
        payment: PaymentId,
    ) -> anyhow::Result<(Vec<NewAllocation>, Money)> {
        let currency = amount.currency();
        let claims: Vec<usize> = self
            .by_debtor
            .get(&debtor)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|i| self.usable(*i, currency))
                    .collect()
            })
            .unwrap_or_default();
        let first: Vec<usize> = designated
            .iter()
            .copied()
            .filter(|i| claims.contains(i))
            .collect();
        let rest: Vec<usize> = claims
            .iter()
            .copied()
            .filter(|i| !first.contains(i))
            .collect();
        let mut remaining = amount;
        let mut out = Vec::new();
        let zero = Money::zero(currency);
        for group in [first, rest] {
            if group.is_empty() || !remaining.is_positive() {
                continue;
            }
            let open: Vec<OpenClaim> = group
                .iter()
                .filter_map(|i| self.invoices.get(*i))
                .map(|inv| OpenClaim {
                    open: OpenAmounts {
                        costs: zero,
                        interest: zero,
                        principal: inv.open,
                    },
                    due: inv.due.is_none_or(|d| d <= on),
                    // No claim carries a stored rate yet: equally onerous, so the oldest first.
                    interest_rate: AnnualRate::from_ten_thousandths_percent(0),
                    since: inv.due.unwrap_or(on),
                })
                .collect();
            let result = allocate_payment(remaining, &open, None)
                .map_err(|e| anyhow!("allocation by art. 6:43/6:44 BW failed: {e}"))?;
            for (i, a) in group.iter().zip(&result.per_claim) {
                let invoice_id = self
                    .invoices
                    .get(*i)
                    .map(|inv| inv.id)
                    .ok_or_else(|| anyhow!("invoice index out of range"))?;
                for (component, part) in [
                    (Component::Costs, a.costs),
                    (Component::Interest, a.interest),
                    (Component::Principal, a.principal),
                ] {
                    if part.is_positive() {
                        out.push(NewAllocation {
                            payment_id: payment,
                            invoice_id,
                            component,
                            amount: part,
                            reverses: None,
                        });
                    }
                }
            }
            remaining = result.unapplied;
        }
        Ok((out, remaining))
    }

    /// Follows allocations in the open amounts (principal only, as the store does).
    fn apply(&mut self, allocations: &[NewAllocation]) {
        for a in allocations {
            if a.component != Component::Principal {
                continue;
            }
            if let Some(inv) = self.invoices.iter_mut().find(|inv| inv.id == a.invoice_id)
                && let Ok(open) = inv.open.checked_sub(a.amount)
            {
                inv.open = open;
            }
        }
    }
}

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

/// Everything the write pass needs per import.
struct Writer<'a> {
    sink: &'a mut dyn BankSink,
    ledger: Ledger,
    report: &'a mut BankReport,
    today: Date,
    /// Identities seen in the current statement, with their count (memory per statement, not
    /// per file).
    seen: HashMap<String, u32>,
    seen_statement: Option<i64>,
}

impl Writer<'_> {
    fn write_line(&mut self, account: &str, statement_id: i64, line: Line) -> anyhow::Result<()> {
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
        let entry = NewBankEntry {
            statement_id,
            key: key.clone(),
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
        };
        let entry_id = match self.sink.entry(&entry)? {
            EntryInsert::New(id) => id,
            EntryInsert::Known { .. } => {
                self.report.entries_known += 1;
                return Ok(());
            }
        };
        self.report.entries_new += 1;
        let matched = if line.amount.is_zero() {
            ignored("zero amount")
        } else if line.amount.is_negative() {
            if line.return_reason.is_some() || line.reversal {
                self.write_return(&line, &key)?
            } else {
                ignored("money out: not a payment")
            }
        } else if line.reversal {
            ignored("reversal of a debit: not a payment")
        } else {
            self.write_credit(&line, &key)?
        };
        match matched.status {
            EntryStatus::Matched => self.report.matched += 1,
            EntryStatus::Unmatched => self.report.unmatched += 1,
            EntryStatus::Ignored => self.report.ignored += 1,
            EntryStatus::Returned => self.report.returned += 1,
        }
        self.sink.set_match(entry_id, &matched)?;
        Ok(())
    }

    fn write_credit(&mut self, line: &Line, key: &str) -> anyhow::Result<EntryMatch> {
        let found = self.ledger.find(line);
        let debtor = found.debtor.filter(|_| found.confidence >= MATCH_THRESHOLD);
        let payment = self.sink.record_payment(&NewPayment {
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
            source: format!("bank:{key}"),
            reverses: None,
        })?;
        let invoice_id = found
            .designated
            .first()
            .and_then(|i| self.ledger.invoices.get(*i))
            .map(|inv| inv.id);
        let Some(debtor) = debtor else {
            return Ok(EntryMatch {
                status: EntryStatus::Unmatched,
                payment_id: Some(payment),
                debtor_id: found.debtor,
                invoice_id,
                reason: found.reason,
                confidence: found.confidence,
                unapplied: Some(line.amount),
            });
        };
        let (allocations, unapplied) = self.ledger.allocate(
            debtor,
            &found.designated,
            line.amount,
            line.booking_date,
            payment,
        )?;
        self.sink.record_allocations(&allocations)?;
        self.ledger.apply(&allocations);
        if unapplied.is_positive() {
            self.report.with_credit_balance += 1;
        }
        self.settle(debtor, &found.reason)?;
        Ok(EntryMatch {
            status: EntryStatus::Matched,
            payment_id: Some(payment),
            debtor_id: Some(debtor),
            invoice_id,
            reason: found.reason,
            confidence: found.confidence,
            unapplied: Some(unapplied),
        })
    }

    /// When the debtor has nothing overdue any more, cancel the queued and held reminders now.
    fn settle(&mut self, debtor: DebtorId, reason: &str) -> anyhow::Result<()> {
        if !self.sink.has_open_overdue(debtor, self.today)? {
            self.report.actions_cancelled += self.sink.cancel_pending(
                debtor,
                &format!("paid in full (bank: {reason})"),
                self.today,
            )?;
        }
        Ok(())
    }

    fn write_return(&mut self, line: &Line, key: &str) -> anyhow::Result<EntryMatch> {
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
            return Ok(EntryMatch {
                status: EntryStatus::Unmatched,
                payment_id: None,
                debtor_id: None,
                invoice_id: None,
                reason: format!("returned payment {why} without a known original payment"),
                confidence: 0,
                unapplied: None,
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
        let payment = self.sink.record_payment(&NewPayment {
            debtor_id: original.matched.debtor_id,
            received_on: line.booking_date,
            amount: line.amount,
            reference: line.end_to_end_id.clone(),
            counterparty_iban: line.counterparty_iban.clone(),
            description: Some(format!("returned: {why}")),
            source: format!("bank:{key}"),
            reverses: Some(original_payment),
        })?;
        self.sink.record_allocations(&reversals)?;
        for r in &reversals {
            if r.component != Component::Principal {
                continue;
            }
            if let Some(inv) = self
                .ledger
                .invoices
                .iter_mut()
                .find(|inv| inv.id == r.invoice_id)
                && let Ok(open) = inv.open.checked_sub(r.amount)
            {
                inv.open = open;
            }
        }
        let invoices: Vec<InvoiceId> = reversals.iter().map(|r| r.invoice_id).collect();
        Ok(EntryMatch {
            status: EntryStatus::Returned,
            payment_id: Some(payment),
            debtor_id: original.matched.debtor_id,
            invoice_id: invoices.first().copied().or(original.matched.invoice_id),
            reason: format!(
                "returned direct debit {why}: {} allocation(s) of bank entry {} reversed, claim reopened",
                reversals.len(),
                original.id
            ),
            confidence: 100,
            unapplied: None,
        })
    }
}

fn ignored(reason: &str) -> EntryMatch {
    EntryMatch {
        status: EntryStatus::Ignored,
        payment_id: None,
        debtor_id: None,
        invoice_id: None,
        reason: reason.into(),
        confidence: 0,
        unapplied: None,
    }
}

fn refused(file: &str, mut problems: Vec<Problem>) -> anyhow::Error {
    let truncated = problems.len() > MAX_PROBLEMS;
    problems.truncate(MAX_PROBLEMS);
    anyhow::Error::new(ImportError {
        file: file.to_string(),
        problems,
        truncated,
    })
}

/// The statement facts prepared in the check pass.
struct PreparedStatement {
    account: String,
    statement: NewBankStatement,
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
        BankFormat::Camt => import_camt(store, tenant, &accounts, filename, bytes, today),
        BankFormat::Mt940 => import_mt940(store, tenant, &accounts, filename, bytes, today),
    }
}

fn balance_money(b: Option<&incasso_camt::Balance>, warnings: &mut Vec<Problem>) -> Option<Money> {
    let b = b?;
    let amount = b.amount.as_ref()?;
    let signed = b
        .credit_debit
        .unwrap_or(incasso_camt::CreditDebit::Credit)
        .signed(amount.value);
    let currency = Currency::parse(&amount.currency).ok()?;
    match minor_units(
        signed.units(),
        signed.scale(),
        currency,
        &b.path,
        "Amt",
        &amount.value,
    ) {
        Ok(m) => Some(m),
        Err(p) => {
            warnings.push(p);
            None
        }
    }
}

fn find_balance<'a>(
    s: &'a incasso_camt::Statement,
    codes: &[&str],
    last: bool,
) -> Option<&'a incasso_camt::Balance> {
    codes.iter().find_map(|code| {
        let mut m = s
            .balances
            .iter()
            .filter(|b| b.type_code.as_deref() == Some(*code));
        if last { m.next_back() } else { m.next() }
    })
}

fn iso_prefix_date(text: Option<&str>) -> Option<Date> {
    text.and_then(|t| t.get(..10))
        .and_then(|t| incasso_calendar::parse_iso(t).ok())
}

fn import_camt(
    store: &mut dyn Store,
    tenant: CreditorId,
    accounts: &Accounts,
    filename: &str,
    bytes: &[u8],
    today: Date,
) -> anyhow::Result<BankReport> {
    // Pass 1: check everything, keep nothing but per-statement facts.
    let mut problems: Vec<Problem> = Vec::new();
    let mut warnings: Vec<Problem> = Vec::new();
    let mut latest: HashMap<usize, Date> = HashMap::new();
    let parsed = incasso_camt::parse_with(bytes, |statement, entry| {
        match camt_line(statement, &entry, &mut warnings) {
            Ok(Some(line)) => {
                let d = latest
                    .entry(entry.statement_index)
                    .or_insert(line.booking_date);
                if line.booking_date > *d {
                    *d = line.booking_date;
                }
            }
            Ok(None) => {}
            Err(p) => {
                if problems.len() <= MAX_PROBLEMS {
                    problems.push(p);
                }
            }
        }
    });
    let (doc, diagnostics) = match parsed {
        Ok(x) => x,
        Err(e) => {
            return Err(refused(
                filename,
                vec![problem("document", "", e.to_string())],
            ));
        }
    };
    for d in diagnostics {
        let field = d.path.rsplit('/').next().unwrap_or("").to_string();
        let p = Problem {
            location: d.path.clone(),
            field,
            message: d.message.clone(),
        };
        match d.severity {
            incasso_camt::Severity::Warning => warnings.push(p),
            incasso_camt::Severity::Error => problems.push(p),
        }
    }
    let kind = format!("camt.{}", doc.kind.number());
    let mut prepared: HashMap<usize, PreparedStatement> = HashMap::new();
    for s in &doc.statements {
        if let Err(d) = incasso_camt::check_balances(s) {
            problems.push(problem(&d.path, "Bal", d.message));
        }
        let Some(written) = s.account.identification() else {
            problems.push(problem(
                &s.path,
                "Acct/Id",
                "the statement names no account",
            ));
            continue;
        };
        let Some((account, note)) = accounts.resolve(written) else {
            problems.push(problem(
                &format!("{}/Acct", s.path),
                "Id",
                format!("account {written} is not an account of this creditor (register it with `incasso payments add-account`)"),
            ));
            continue;
        };
        if let Some(n) = note {
            warnings.push(problem(&format!("{}/Acct", s.path), "Id", n));
        }
        let opening_b = find_balance(s, &["OPBD", "PRCD"], false);
        let closing_b = find_balance(s, &["CLBD", "ITBD"], true);
        let opening = balance_money(opening_b, &mut warnings);
        let closing = balance_money(closing_b, &mut warnings);
        let date = closing_b
            .and_then(|b| b.date.as_ref())
            .and_then(camt_date)
            .or_else(|| latest.get(&s.index).copied())
            .or_else(|| iso_prefix_date(s.to.as_deref()))
            .or_else(|| iso_prefix_date(s.created.as_deref()))
            .or_else(|| iso_prefix_date(doc.group_header.created.as_deref()));
        let Some(statement_date) = date else {
            problems.push(problem(&s.path, "CreDtTm", "the statement has no date"));
            continue;
        };
        let key = format!(
            "{account}|{kind}|{}|{}|{}|{}|{}|{}|{}",
            s.id.as_deref().unwrap_or(""),
            s.electronic_sequence_number.as_deref().unwrap_or(""),
            s.legal_sequence_number.as_deref().unwrap_or(""),
            s.from.as_deref().unwrap_or(""),
            s.to.as_deref().unwrap_or(""),
            opening.map(|m| m.minor().to_string()).unwrap_or_default(),
            closing
                .map(|m| format!("{}@{statement_date}", m.minor()))
                .unwrap_or_else(|| statement_date.to_string()),
        );
        prepared.insert(
            s.index,
            PreparedStatement {
                account: account.clone(),
                statement: NewBankStatement {
                    account,
                    key,
                    kind: kind.clone(),
                    statement_id: s.id.clone(),
                    statement_date,
                    opening,
                    closing,
                },
            },
        );
    }
    if !problems.is_empty() {
        return Err(refused(filename, problems));
    }
    warnings.truncate(MAX_PROBLEMS);

    // Pass 2: write, in one transaction.
    let mut report = BankReport {
        file: filename.to_string(),
        format: kind.clone(),
        statements: u64::try_from(doc.statements.len()).unwrap_or(u64::MAX),
        warnings,
        ..BankReport::default()
    };
    let file = BankFile {
        format: kind,
        filename: filename.to_string(),
        sha256: crate::sha256_hex(bytes),
    };
    let committed = store.bank_transaction(tenant, Some(&file), &mut |sink| {
        let mut ids: HashMap<usize, (String, i64)> = HashMap::new();
        let mut statements_new = 0u64;
        for (index, p) in &prepared {
            let (id, new) = sink.statement(&p.statement)?;
            if new {
                statements_new += 1;
            }
            ids.insert(*index, (p.account.clone(), id));
        }
        let ledger = Ledger::load(sink)?;
        let mut pass = BankReport::default();
        let mut writer = Writer {
            sink,
            ledger,
            report: &mut pass,
            today,
            seen: HashMap::new(),
            seen_statement: None,
        };
        let mut failure: Option<anyhow::Error> = None;
        let result = incasso_camt::parse_with(bytes, |statement, entry| {
            if failure.is_some() {
                return;
            }
            let outcome = (|| -> anyhow::Result<()> {
                let line = camt_line(statement, &entry, &mut Vec::new())
                    .map_err(|p| anyhow!("{p}"))?
                    .ok_or_else(|| anyhow!("{}: invalid entry on the second read", entry.path))?;
                let (account, statement_id) = ids
                    .get(&entry.statement_index)
                    .cloned()
                    .ok_or_else(|| anyhow!("{}: statement not prepared", entry.path))?;
                writer.write_line(&account, statement_id, line)
            })();
            if let Err(e) = outcome {
                failure = Some(e.context(entry.path.clone()));
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        result.map_err(|e| anyhow!("second read failed: {e}"))?;
        pass.statements_new = statements_new;
        let changed = pass.statements_new > 0 || pass.entries_new > 0;
        report.merge(pass);
        Ok(changed)
    });
    report.committed = committed.with_context(|| format!("{filename}: storing"))?;
    Ok(report)
}

impl BankReport {
    fn merge(&mut self, pass: BankReport) {
        self.statements_new = pass.statements_new;
        self.entries = pass.entries;
        self.entries_new = pass.entries_new;
        self.entries_known = pass.entries_known;
        self.not_booked = pass.not_booked;
        self.matched = pass.matched;
        self.unmatched = pass.unmatched;
        self.ignored = pass.ignored;
        self.returned = pass.returned;
        self.with_credit_balance = pass.with_credit_balance;
        self.actions_cancelled = pass.actions_cancelled;
    }
}

fn mt940_money(b: Option<&incasso_mt940::Balance>, warnings: &mut Vec<Problem>) -> Option<Money> {
    let b = b?;
    let currency = Currency::parse(&b.currency).ok()?;
    let signed = b.signed_amount();
    match minor_units(
        signed.units(),
        signed.scale(),
        currency,
        &format!("line {}", b.line),
        &format!(":{}: amount", b.tag),
        &b.amount,
    ) {
        Ok(m) => Some(m),
        Err(p) => {
            warnings.push(p);
            None
        }
    }
}

fn import_mt940(
    store: &mut dyn Store,
    tenant: CreditorId,
    accounts: &Accounts,
    filename: &str,
    bytes: &[u8],
    today: Date,
) -> anyhow::Result<BankReport> {
    let (doc, diagnostics) = incasso_mt940::parse(bytes)
        .map_err(|e| refused(filename, vec![problem("file", "", e.to_string())]))?;
    let mut problems: Vec<Problem> = Vec::new();
    let mut warnings: Vec<Problem> = Vec::new();
    for d in diagnostics {
        let tag = if d.tag.is_empty() {
            String::new()
        } else {
            format!(":{}: ", d.tag)
        };
        let p = problem(
            &format!("line {}", d.line),
            &format!("{tag}{}", d.field),
            d.message.clone(),
        );
        match d.severity {
            incasso_mt940::Severity::Warning => warnings.push(p),
            incasso_mt940::Severity::Error => problems.push(p),
        }
    }
    let mut statements: Vec<(String, NewBankStatement, Vec<Line>)> = Vec::new();
    for s in &doc.statements {
        let location = format!("line {}", s.line);
        if let Err(d) = incasso_mt940::check_balances(s) {
            problems.push(problem(&format!("line {}", d.line), d.field, d.message));
        }
        let mut lines = Vec::new();
        for e in &s.entries {
            match mt940_line(s, e, &mut warnings) {
                Ok(Some(l)) => lines.push(l),
                Ok(None) => {}
                Err(p) => problems.push(p),
            }
        }
        let written = s.account_iban.clone().or_else(|| {
            s.account.as_deref().map(|a| {
                let t = a.trim();
                // `1291.99.348EUR`: a currency suffix after the number.
                match t
                    .len()
                    .checked_sub(3)
                    .and_then(|i| t.get(i..).map(|c| (i, c)))
                {
                    Some((i, c))
                        if c.bytes().all(|b| b.is_ascii_uppercase())
                            && t.get(..i)
                                .is_some_and(|n| n.ends_with(|ch: char| ch.is_ascii_digit())) =>
                    {
                        t.get(..i).unwrap_or(t).to_string()
                    }
                    _ => t.to_string(),
                }
            })
        });
        let Some(written) = written else {
            problems.push(problem(&location, ":25:", "the statement names no account"));
            continue;
        };
        let Some((account, note)) = accounts.resolve(&written) else {
            problems.push(problem(
                &location,
                ":25: account",
                format!("account {written} is not an account of this creditor (register it with `incasso payments add-account`)"),
            ));
            continue;
        };
        if let Some(n) = note {
            warnings.push(problem(&location, ":25: account", n));
        }
        let opening = mt940_money(s.opening_balance.as_ref(), &mut warnings);
        let closing = mt940_money(s.closing_balance.as_ref(), &mut warnings);
        let date = s
            .closing_balance
            .as_ref()
            .and_then(|b| swift_date(&b.date))
            .or_else(|| lines.iter().map(|l| l.booking_date).max())
            .or_else(|| s.opening_balance.as_ref().and_then(|b| swift_date(&b.date)));
        let Some(statement_date) = date else {
            problems.push(problem(
                &location,
                ":62F: date",
                "the statement has no date",
            ));
            continue;
        };
        let key = format!(
            "{account}|mt940|{}|{}|{}|{}|{}",
            s.transaction_reference,
            s.statement_number.as_deref().unwrap_or(""),
            s.sequence_number.as_deref().unwrap_or(""),
            opening.map(|m| m.minor().to_string()).unwrap_or_default(),
            closing
                .map(|m| format!("{}@{statement_date}", m.minor()))
                .unwrap_or_else(|| format!("{statement_date}:{}", s.line)),
        );
        let statement = NewBankStatement {
            account: account.clone(),
            key,
            kind: "mt940".into(),
            statement_id: Some(s.transaction_reference.clone()),
            statement_date,
            opening,
            closing,
        };
        statements.push((account, statement, lines));
    }
    if !problems.is_empty() {
        return Err(refused(filename, problems));
    }
    warnings.truncate(MAX_PROBLEMS);
    let mut report = BankReport {
        file: filename.to_string(),
        format: "mt940".into(),
        statements: u64::try_from(doc.statements.len()).unwrap_or(u64::MAX),
        warnings,
        ..BankReport::default()
    };
    let file = BankFile {
        format: "mt940".into(),
        filename: filename.to_string(),
        sha256: crate::sha256_hex(bytes),
    };
    let committed = store.bank_transaction(tenant, Some(&file), &mut |sink| {
        let mut statements_new = 0u64;
        let mut ids = Vec::with_capacity(statements.len());
        for (_, s, _) in &statements {
            let (id, new) = sink.statement(s)?;
            if new {
                statements_new += 1;
            }
            ids.push(id);
        }
        let ledger = Ledger::load(sink)?;
        let mut pass = BankReport::default();
        let mut writer = Writer {
            sink,
            ledger,
            report: &mut pass,
            today,
            seen: HashMap::new(),
            seen_statement: None,
        };
        for ((account, _, lines), id) in statements.iter().zip(&ids) {
            for line in lines {
                writer
                    .write_line(account, *id, line.clone())
                    .with_context(|| line.location.clone())?;
            }
        }
        pass.statements_new = statements_new;
        let changed = pass.statements_new > 0 || pass.entries_new > 0;
        report.merge(pass);
        Ok(changed)
    });
    report.committed = committed.with_context(|| format!("{filename}: storing"))?;
    Ok(report)
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
        let Some(index) = ledger.invoices.iter().position(|i| i.id == invoice.id) else {
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
    use super::*;

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
