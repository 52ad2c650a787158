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

/// Checks a mandate reference: 1 to 35 characters of the EPC Latin set, no leading or
/// trailing `/` and no `//` (the scheme's rules for identifiers).
pub fn check_reference(field: &str, value: &str) -> anyhow::Result<String> {
    let v = value.trim();
    if v.is_empty() {
        bail!("{field}: the mandate reference is empty");
    }
    if let Some(c) = v.chars().find(|c| !pain008::is_epc_char(*c)) {
        bail!(
            "{field} {value:?}: contains {c:?}, which is outside the SEPA character set (a-z A-Z 0-9 / - ? : ( ) . , ' + space)"
        );
    }
    let len = v.chars().count();
    if len > MAX_REFERENCE {
        bail!("{field} {value:?}: is {len} characters long, at most {MAX_REFERENCE} are allowed");
    }
    if v.starts_with('/') || v.ends_with('/') || v.contains("//") {
        bail!("{field} {value:?}: must not start or end with '/' nor contain '//'");
    }
    Ok(v.to_string())
}

/// Checks a SEPA creditor identifier (ISO 7064 mod 97-10) and returns its compact form.
pub fn check_creditor_identifier(field: &str, value: &str) -> anyhow::Result<String> {
    pain008::creditor_id(value).map_err(|p| anyhow!("{field}: {p}"))
}

/// Sets the creditor's SEPA creditor identifier.
pub fn set_creditor_identifier(
    store: &mut dyn Store,
    tenant: CreditorId,
    value: &str,
    today: Date,
) -> anyhow::Result<String> {
    let id = check_creditor_identifier("creditor identifier", value)?;
    store
        .set_creditor_scheme_id(tenant, &id, today)
        .map_err(store_err)?;
    Ok(id)
}

/// A mandate as given on the command line, before checks.
#[derive(Debug, Clone)]
pub struct MandateInput {
    pub debtor: DebtorId,
    pub reference: String,
    pub signed_on: Date,
    pub iban: String,
    pub bic: Option<String>,
    pub sequence: SequenceState,
}

fn parse_iban(field: &str, value: &str) -> anyhow::Result<Iban> {
    let iban = Iban::parse(value).map_err(|e| anyhow!("{field} {value:?}: {e}"))?;
    // The scheme's own check (SEPA country and length) as the pain.008 writer applies it.
    pain008::iban(iban.as_str()).map_err(|p| anyhow!("{field}: {p}"))?;
    Ok(iban)
}

fn parse_bic(field: &str, value: &str) -> anyhow::Result<Bic> {
    Bic::parse(value).map_err(|e| anyhow!("{field} {value:?}: {e}"))
}

/// Registers a mandate after checking every field; the signature date may not lie after
/// `today`.
pub fn add_mandate(
    store: &mut dyn Store,
    tenant: CreditorId,
    input: &MandateInput,
    today: Date,
) -> anyhow::Result<MandateRow> {
    let reference = check_reference("--id", &input.reference)?;
    let iban = parse_iban("--iban", &input.iban)?;
    let bic = input
        .bic
        .as_deref()
        .map(|b| parse_bic("--bic", b))
        .transpose()?;
    if input.signed_on > today {
        bail!(
            "--signed {}: a mandate cannot be signed after today ({today})",
            input.signed_on
        );
    }
    let mandate = NewMandate {
        debtor_id: input.debtor,
        reference: reference.clone(),
        signed_on: input.signed_on,
        iban,
        bic,
        sequence: input.sequence,
    };
    store
        .add_mandate(tenant, &mandate)
        .map_err(|e| anyhow!("--id {reference:?}: {e}"))?;
    store.mandate(tenant, &reference).map_err(store_err)
}

/// An amendment as given on the command line, before checks.
#[derive(Debug, Clone, Default)]
pub struct AmendInput {
    pub reference: Option<String>,
    pub iban: Option<String>,
    /// `Some("")` removes the BIC.
    pub bic: Option<String>,
    pub sequence: Option<SequenceState>,
}

/// What an amendment did.
#[derive(Debug, Clone)]
pub struct Amended {
    pub mandate: MandateRow,
    /// The debtor moved to another bank: the next collection is presented as FRST with
    /// `SMNDA`.
    pub other_bank: bool,
}

/// Whether two accounts are held at the same bank: by BIC (institution and country, the first
/// six characters) when both are known, else by the IBAN's national bank code.
pub fn same_bank(a: &Iban, a_bic: Option<&Bic>, b: &Iban, b_bic: Option<&Bic>) -> bool {
    if let (Some(x), Some(y)) = (a_bic, b_bic) {
        return x.as_str().get(..6) == y.as_str().get(..6);
    }
    if a.country() != b.country() {
        return false;
    }
    // Where the bank identifier sits in the BBAN (offset after the check digits, length), per
    // the ISO 13616 registry; the first 4 characters elsewhere.
    let (skip, len) = match a.country() {
        "BE" | "LU" => (0, 3),
        "DE" => (0, 8),
        "FR" | "MC" => (0, 5),
        "IT" | "SM" => (1, 5),
        "AT" => (0, 5),
        _ => (0, 4),
    };
    let range = 4 + skip..4 + skip + len;
    a.as_str().get(range.clone()) == b.as_str().get(range)
}

/// Amends a mandate. A new IBAN at another bank on a mandate the bank has seen makes the next
/// collection FRST (unless a sequence type is given).
pub fn amend_mandate(
    store: &mut dyn Store,
    tenant: CreditorId,
    reference: &str,
    input: &AmendInput,
    today: Date,
) -> anyhow::Result<Amended> {
    let current = store
        .mandate(tenant, reference)
        .map_err(|e| anyhow!("mandate {reference:?}: {e}"))?;
    let new_reference = input
        .reference
        .as_deref()
        .map(|r| check_reference("--new-id", r))
        .transpose()?;
    let iban = input
        .iban
        .as_deref()
        .map(|i| parse_iban("--iban", i))
        .transpose()?;
    let bic = match input.bic.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(b) => Some(Some(parse_bic("--bic", b)?)),
    };
    if new_reference.is_none() && iban.is_none() && bic.is_none() && input.sequence.is_none() {
        bail!("nothing to amend: give --new-id, --iban, --bic or --sequence");
    }
    let known_to_bank = current.last_collection.is_some()
        || matches!(
            current.mandate.sequence,
            SequenceState::Recurring | SequenceState::Final
        );
    let mut other_bank = false;
    let mut sequence = input.sequence;
    if let Some(new_iban) = &iban
        && *new_iban != current.mandate.iban
    {
        let new_bic = match &bic {
            Some(b) => b.as_ref(),
            None => current.mandate.bic.as_ref(),
        };
        // Compare with the account the bank knows (the original one while an amendment is
        // pending).
        let (known_iban, known_bic) = match &current.pending.original_iban {
            Some(o) => (o, current.pending.original_bic.as_ref()),
            None => (&current.mandate.iban, current.mandate.bic.as_ref()),
        };
        other_bank = known_to_bank && !same_bank(known_iban, known_bic, new_iban, new_bic);
        if other_bank && sequence.is_none() && current.mandate.sequence == SequenceState::Recurring
        {
            sequence = Some(SequenceState::First);
        }
    }
    let amendment = MandateAmendment {
        on: Some(today),
        reference: new_reference,
        iban,
        bic,
        sequence,
    };
    let mandate = store
        .amend_mandate(tenant, reference, &amendment)
        .map_err(|e| anyhow!("mandate {reference:?}: {e}"))?;
    Ok(Amended {
        mandate,
        other_bank,
    })
}

/// Revokes a mandate: it is never collected on again.
pub fn revoke_mandate(
    store: &mut dyn Store,
    tenant: CreditorId,
    reference: &str,
    on: Date,
) -> anyhow::Result<()> {
    store
        .revoke_mandate(tenant, reference, on, "")
        .map_err(|e| anyhow!("mandate {reference:?}: {e}"))
}

/// Why a debtor's claims were not collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub debtor: DebtorId,
    pub mandate: String,
    pub reason: String,
}

/// One item that is due, with the label used in the remittance text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueItem {
    pub item: CollectionItem,
    /// Invoice number, or `instalment 2/6`.
    pub label: String,
}

/// What is due from one mandate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub mandate: MandateRow,
    pub items: Vec<DueItem>,
    /// Open invoice numbers of the debtor named in an instalment's remittance text, so a
    /// bank statement credit finds them.
    pub invoice_numbers: Vec<String>,
}

/// An open invoice, as selection needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInvoice {
    pub id: InvoiceId,
    pub number: String,
    pub debtor: DebtorId,
    pub due: Option<Date>,
    pub open: Money,
    pub collectable: bool,
    pub credit_note: bool,
}

/// Everything selection looks at, read from the store.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub mandates: Vec<MandateRow>,
    pub open_cases: Vec<CaseRow>,
    pub active_plans: Vec<PlanRow>,
    pub invoices: Vec<OpenInvoice>,
    pub collected: HashSet<CollectionTarget>,
    /// Money received per debtor, with its day (for instalments already paid otherwise).
    pub payments: Vec<(DebtorId, Date, Money)>,
}

/// The date `months` after `date` (clamped to the month's end).
fn add_months(date: Date, months: i8) -> Option<Date> {
    date.checked_add(jiff::Span::new().months(months)).ok()
}

/// Why an open case holds direct debit, if it does.
fn case_hold(case: &CaseRow) -> Option<String> {
    match case.state.as_str() {
        "handed_over" => return Some("the case is handed over".into()),
        "judicial" => return Some("the case is in court".into()),
        _ => {}
    }
    match case.pause_reason.as_deref() {
        None | Some("payment_plan") => None,
        Some(reason) => Some(format!("the case is paused ({})", reason.replace('_', " "))),
    }
}

/// Selects what is due on `day` (pure: every fact is a parameter). Returns the collections in
/// mandate order and the debtors skipped with their reason.
pub fn select(facts: &Facts, day: Date, created_on: Date) -> (Vec<Due>, Vec<Skipped>) {
    let mut skipped = Vec::new();
    let cases: HashMap<DebtorId, &CaseRow> =
        facts.open_cases.iter().map(|c| (c.debtor_id, c)).collect();
    let case_debtor: HashMap<i64, DebtorId> = facts
        .open_cases
        .iter()
        .map(|c| (c.id, c.debtor_id))
        .collect();
    let mut plans: HashMap<DebtorId, Vec<&PlanRow>> = HashMap::new();
    for p in &facts.active_plans {
        if let Some(d) = case_debtor.get(&p.plan.case_id) {
            plans.entry(*d).or_default().push(p);
        }
    }
    let mut invoices: HashMap<DebtorId, Vec<&OpenInvoice>> = HashMap::new();
    for inv in &facts.invoices {
        invoices.entry(inv.debtor).or_default().push(inv);
    }
    let mut out = Vec::new();
    for m in &facts.mandates {
        if m.status != MandateStatus::Active {
            continue;
        }
        let debtor = m.mandate.debtor_id;
        let skip = |reason: String| Skipped {
            debtor,
            mandate: m.mandate.reference.clone(),
            reason,
        };
        if m.mandate.signed_on > created_on {
            skipped.push(skip(format!(
                "the mandate is signed on {}, after the file's creation",
                m.mandate.signed_on
            )));
            continue;
        }
        let since = m.last_collection.unwrap_or(m.mandate.signed_on);
        if add_months(since, MANDATE_EXPIRY_MONTHS).is_some_and(|end| day > end) {
            skipped.push(skip(format!(
                "the mandate expired: no collection for {MANDATE_EXPIRY_MONTHS} months since {since}"
            )));
            continue;
        }
        if let Some(case) = cases.get(&debtor)
            && let Some(why) = case_hold(case)
        {
            skipped.push(skip(why));
            continue;
        }
        let open: Vec<&OpenInvoice> = invoices
            .get(&debtor)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|i| {
                        !i.credit_note
                            && i.collectable
                            && i.open.is_positive()
                            && i.due.is_some_and(|d| d <= day)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut items = Vec::new();
        let mut numbers = Vec::new();
        if let Some(debtor_plans) = plans.get(&debtor) {
            for plan in debtor_plans {
                let paid = facts
                    .payments
                    .iter()
                    .filter(|(d, on, _)| *d == debtor && *on >= plan.plan.agreed_on)
                    .map(|(_, _, m)| m.minor())
                    .sum::<i64>();
                let mut due_so_far = 0i64;
                let n = plan.plan.instalments.len();
                for (index, (due, amount)) in plan.plan.instalments.iter().enumerate() {
                    due_so_far = due_so_far.saturating_add(amount.minor());
                    let index = u32::try_from(index).unwrap_or(u32::MAX);
                    let target = CollectionTarget::Instalment {
                        plan: plan.id,
                        index,
                    };
                    if *due > day || facts.collected.contains(&target) {
                        continue;
                    }
                    if paid >= due_so_far {
                        // Paid otherwise (a transfer): nothing to collect.
                        continue;
                    }
                    items.push(DueItem {
                        item: CollectionItem {
                            target,
                            amount: *amount,
                        },
                        label: format!("{}/{n}", index + 1),
                    });
                }
            }
            numbers = open.iter().map(|i| i.number.clone()).collect();
        } else {
            for inv in &open {
                let target = CollectionTarget::Invoice(inv.id);
                if facts.collected.contains(&target) {
                    continue;
                }
                items.push(DueItem {
                    item: CollectionItem {
                        target,
                        amount: inv.open,
                    },
                    label: inv.number.clone(),
                });
            }
        }
        let (eur, other): (Vec<DueItem>, Vec<DueItem>) = items
            .into_iter()
            .partition(|i| i.item.amount.currency() == Currency::EUR);
        if !other.is_empty() {
            skipped.push(skip(format!(
                "{} claim(s) not in euro cannot be collected by SEPA direct debit",
                other.len()
            )));
        }
        if !eur.is_empty() {
            out.push(Due {
                mandate: m.clone(),
                items: eur,
                invoice_numbers: numbers,
            });
        }
    }
    (out, skipped)
}

/// Reads the facts selection needs.
pub fn read_facts(store: &mut dyn Store, tenant: CreditorId) -> anyhow::Result<Facts> {
    let mandates = store.mandates(tenant).map_err(store_err)?;
    let open_cases = store.cases(tenant, true).map_err(store_err)?;
    let active_plans = store.plans(tenant, true).map_err(store_err)?;
    let with_mandate: HashSet<DebtorId> = mandates
        .iter()
        .filter(|m| m.status == MandateStatus::Active)
        .map(|m| m.mandate.debtor_id)
        .collect();
    let mut invoices = Vec::new();
    store
        .for_each_invoice(tenant, &InvoiceFilter::default(), &mut |row| {
            if with_mandate.contains(&row.debtor_id) && row.open_amount.is_positive() {
                invoices.push(OpenInvoice {
                    id: row.id,
                    number: row.number,
                    debtor: row.debtor_id,
                    due: row.due_date,
                    open: row.open_amount,
                    collectable: row.defect.is_none(),
                    credit_note: row.kind != "invoice",
                });
            }
            Ok(())
        })
        .map_err(store_err)?;
    let collected = store
        .collected_targets(tenant)
        .map_err(store_err)?
        .into_iter()
        .collect();
    let payments = store
        .payments(tenant)
        .map_err(store_err)?
        .into_iter()
        .filter_map(|p| {
            p.payment
                .debtor_id
                .filter(|d| with_mandate.contains(d))
                .map(|d| (d, p.payment.received_on, p.payment.amount))
        })
        .collect();
    Ok(Facts {
        mandates,
        open_cases,
        active_plans,
        invoices,
        collected,
        payments,
    })
}

/// The creation date-time of a file (`YYYY-MM-DDTHH:MM:SS`), given by the caller: this module
/// never reads the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreatedAt {
    pub date: Date,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl CreatedAt {
    /// Parses `YYYY-MM-DDTHH:MM:SS` (a space instead of `T` is accepted).
    pub fn parse(s: &str) -> anyhow::Result<CreatedAt> {
        let bad = || anyhow!("{s:?} is not a date-time: expected YYYY-MM-DDTHH:MM:SS");
        let (d, t) = s.split_once(['T', ' ']).ok_or_else(bad)?;
        let date = incasso_calendar::parse_iso(d).map_err(|_| bad())?;
        let parts: Vec<u8> = t
            .split(':')
            .map(|p| p.parse::<u8>().map_err(|_| bad()))
            .collect::<anyhow::Result<_>>()?;
        let [hour, minute, second] = parts[..] else {
            return Err(bad());
        };
        if hour > 23 || minute > 59 || second > 59 {
            return Err(bad());
        }
        Ok(CreatedAt {
            date,
            hour,
            minute,
            second,
        })
    }

    fn pain(self) -> anyhow::Result<pain008::DateTime> {
        let d = pain008::Date::new(
            u16::try_from(self.date.year()).map_err(|_| anyhow!("year out of range"))?,
            u8::try_from(self.date.month()).map_err(|_| anyhow!("month out of range"))?,
            u8::try_from(self.date.day()).map_err(|_| anyhow!("day out of range"))?,
        )?;
        Ok(pain008::DateTime::new(
            d,
            self.hour,
            self.minute,
            self.second,
        )?)
    }
}

impl std::fmt::Display for CreatedAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}T{:02}:{:02}:{:02}",
            self.date, self.hour, self.minute, self.second
        )
    }
}

fn pain_date(d: Date) -> anyhow::Result<pain008::Date> {
    Ok(pain008::Date::new(
        u16::try_from(d.year()).map_err(|_| anyhow!("year out of range"))?,
        u8::try_from(d.month()).map_err(|_| anyhow!("month out of range"))?,
        u8::try_from(d.day()).map_err(|_| anyhow!("day out of range"))?,
    )?)
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub collection_date: Date,
    pub created_at: CreatedAt,
    pub version: pain008::Version,
    /// Write this earlier batch again instead of selecting.
    pub message_id: Option<String>,
}

/// Count and total of one sequence type in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceTotal {
    pub sequence: SequenceState,
    pub count: u64,
    pub total: Money,
}

/// What an export did.
#[derive(Debug, Clone)]
pub struct ExportOutcome {
    /// The file's message id; `None` when nothing was due and no batch exists for the date.
    pub message_id: Option<String>,
    /// Whether this run recorded a new batch (false: an earlier batch's file written again).
    pub recorded: bool,
    /// The pain.008 document (empty when there is no batch).
    pub xml: Vec<u8>,
    pub collection_date: Date,
    pub count: u64,
    pub total: Money,
    pub by_sequence: Vec<SequenceTotal>,
    /// The amended mandates in the file.
    pub amendments: u64,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
    /// Message ids of every batch for the date, oldest first.
    pub batches_for_date: Vec<String>,
}

fn language_words(lang: Language) -> (&'static str, &'static str, &'static str) {
    match lang {
        Language::En => ("Invoice", "Invoices", "Instalment"),
        Language::Fr => ("Facture", "Factures", "Echeance"),
        Language::De => ("Rechnung", "Rechnungen", "Rate"),
        Language::Nl => ("Factuur", "Facturen", "Termijn"),
    }
}

/// The remittance text: the invoice numbers, or the instalments with the debtor's open invoice
/// numbers; at most 140 characters, cut at a word.
fn remittance(due: &Due, lang: Language) -> String {
    let (one, many, instalment) = language_words(lang);
    let mut words: Vec<String> = Vec::new();
    let invoices: Vec<&DueItem> = due
        .items
        .iter()
        .filter(|i| matches!(i.item.target, CollectionTarget::Invoice(_)))
        .collect();
    let instalments: Vec<&DueItem> = due
        .items
        .iter()
        .filter(|i| matches!(i.item.target, CollectionTarget::Instalment { .. }))
        .collect();
    if !instalments.is_empty() {
        words.push(instalment.to_string());
        words.extend(instalments.iter().map(|i| i.label.clone()));
        if !due.invoice_numbers.is_empty() {
            words.push(
                if due.invoice_numbers.len() == 1 {
                    one
                } else {
                    many
                }
                .to_string(),
            );
            words.extend(due.invoice_numbers.iter().cloned());
        }
    }
    if !invoices.is_empty() {
        words.push(if invoices.len() == 1 { one } else { many }.to_string());
        words.extend(invoices.iter().map(|i| i.label.clone()));
    }
    let mut text = String::new();
    for w in words {
        let w: String = w.chars().filter(|c| pain008::is_epc_char(*c)).collect();
        if w.is_empty() {
            continue;
        }
        let extra = usize::from(!text.is_empty()) + w.chars().count();
        if text.chars().count() + extra > 140 {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&w);
    }
    text
}

/// Builds the pain.008 message of a recorded batch (pure).
pub fn message(
    creditor: &incasso_domain::Creditor,
    batch: &NewCollectionBatch,
) -> anyhow::Result<pain008::Message> {
    let created = CreatedAt::parse(&batch.created_at)?.pain()?;
    let collection_date = pain_date(batch.collection_date)?;
    let mut blocks = Vec::new();
    for seq in [
        SequenceState::First,
        SequenceState::Recurring,
        SequenceState::OneOff,
        SequenceState::Final,
    ] {
        let transactions: Vec<pain008::Transaction> = batch
            .collections
            .iter()
            .filter(|c| c.sequence == seq)
            .map(|c| transaction(c, &batch.scheme_id))
            .collect::<anyhow::Result<_>>()?;
        if transactions.is_empty() {
            continue;
        }
        blocks.push(pain008::PaymentInformation {
            id: format!("{}-{}", batch.message_id, seq.code().to_uppercase()),
            sequence_type: pain_sequence(seq),
            collection_date,
            // One booking per collection, so the bank statement shows each with its
            // end-to-end id and remittance text and the import can match and allocate it.
            batch_booking: Some(false),
            transactions,
        });
    }
    let d = &creditor.details;
    Ok(pain008::Message {
        message_id: batch.message_id.clone(),
        created_at: created,
        initiating_party: d.name.clone(),
        creditor: pain008::Creditor {
            name: d.name.clone(),
            iban: d.iban.as_str().to_string(),
            bic: d.bic.as_ref().map(|b| b.as_str().to_string()),
            scheme_id: batch.scheme_id.clone(),
        },
        scheme: pain008::Scheme::Core,
        batches: blocks,
    })
}

fn pain_sequence(s: SequenceState) -> pain008::SequenceType {
    match s {
        SequenceState::First => pain008::SequenceType::First,
        SequenceState::Recurring => pain008::SequenceType::Recurring,
        SequenceState::OneOff => pain008::SequenceType::OneOff,
        SequenceState::Final => pain008::SequenceType::Final,
    }
}

fn transaction(c: &NewCollection, scheme_id: &str) -> anyhow::Result<pain008::Transaction> {
    let amendment = c.amendment.as_ref().map(|a| pain008::Amendment {
        original_mandate_id: a.original_reference.clone(),
        original_creditor: a
            .original_scheme_id
            .as_ref()
            .filter(|o| o.as_str() != scheme_id)
            .map(|o| pain008::OriginalCreditor {
                name: None,
                scheme_id: Some(o.clone()),
            }),
        original_debtor_account: a.original_iban.as_ref().map(|o| {
            if c.other_bank {
                pain008::OriginalDebtorAccount::Smnda
            } else {
                pain008::OriginalDebtorAccount::Iban(o.as_str().to_string())
            }
        }),
        debtor_agent_changed: false,
    });
    Ok(pain008::Transaction {
        end_to_end_id: c.end_to_end_id.clone(),
        amount_cents: u64::try_from(c.amount.minor())
            .map_err(|_| anyhow!("collection {}: negative amount", c.end_to_end_id))?,
        mandate: pain008::Mandate {
            id: c.mandate_reference.clone(),
            signed_on: pain_date(c.signed_on)?,
            amendment,
        },
        debtor: pain008::Debtor {
            name: c.debtor_name.clone(),
            iban: c.iban.as_str().to_string(),
            bic: c.bic.as_ref().map(|b| b.as_str().to_string()),
        },
        remittance: (!c.remittance.is_empty())
            .then(|| pain008::Remittance::Unstructured(c.remittance.clone())),
    })
}

fn summarise(
    outcome: &mut ExportOutcome,
    batch: &NewCollectionBatch,
    currency: Currency,
) -> anyhow::Result<()> {
    let mut total = Money::zero(currency);
    let mut by: Vec<SequenceTotal> = Vec::new();
    for c in &batch.collections {
        total = total.checked_add(c.amount)?;
        match by.iter_mut().find(|s| s.sequence == c.sequence) {
            Some(s) => {
                s.count += 1;
                s.total = s.total.checked_add(c.amount)?;
            }
            None => by.push(SequenceTotal {
                sequence: c.sequence,
                count: 1,
                total: c.amount,
            }),
        }
        if c.amendment.is_some() {
            outcome.amendments += 1;
        }
    }
    let order = |s: SequenceState| match s {
        SequenceState::First => 0,
        SequenceState::Recurring => 1,
        SequenceState::OneOff => 2,
        SequenceState::Final => 3,
    };
    by.sort_by_key(|s| order(s.sequence));
    outcome.count = batch.collections.len() as u64;
    outcome.total = total;
    outcome.by_sequence = by;
    outcome.message_id = Some(batch.message_id.clone());
    Ok(())
}

/// Exports the direct debits due on the collection date: selects, records the batch, then
/// builds the pain.008 document (see the module documentation).
pub fn export(
    store: &mut dyn Store,
    tenant: CreditorId,
    request: &ExportRequest,
) -> anyhow::Result<ExportOutcome> {
    let day = request.collection_date;
    let creditor = store.creditor(tenant).map_err(store_err)?;
    let scheme_id = store
        .creditor_scheme_id(tenant)
        .map_err(store_err)?
        .ok_or_else(|| anyhow!("creditor identifier: none set for {:?}; set it with `incasso mandate creditor-id NL..ZZZ...`", creditor.details.name))?;
    let mut outcome = ExportOutcome {
        message_id: None,
        recorded: false,
        xml: Vec::new(),
        collection_date: day,
        count: 0,
        total: Money::zero(Currency::EUR),
        by_sequence: Vec::new(),
        amendments: 0,
        skipped: Vec::new(),
        warnings: Vec::new(),
        batches_for_date: Vec::new(),
    };
    if let Some(id) = &request.message_id {
        let batches = store.collection_batches(tenant, None).map_err(store_err)?;
        let batch = batches
            .into_iter()
            .find(|b| b.batch.message_id == *id)
            .ok_or_else(|| anyhow!("--message-id {id:?}: no such direct-debit batch"))?;
        if batch.batch.collection_date != day {
            bail!(
                "--message-id {id:?}: the batch is for collection date {}, not {day}",
                batch.batch.collection_date
            );
        }
        outcome.batches_for_date = vec![batch.batch.message_id.clone()];
        return finish(outcome, &creditor, &batch, request.version);
    }

    let target2 = BusinessCalendar::target2();
    if !target2.is_business_day(day) {
        let next = target2.next_business_day(day).ok();
        bail!(
            "--collection-date {day}: not a TARGET2 business day, on which SEPA collections settle{}",
            next.map(|n| format!(" (the next one is {n})"))
                .unwrap_or_default()
        );
    }
    let created_on = request.created_at.date;
    if day < created_on {
        bail!("--collection-date {day}: lies before the file's creation date {created_on}");
    }
    // SDD Core since November 2016: every collection reaches the debtor bank at least one
    // TARGET2 business day before the collection date.
    if let Ok(latest) = target2.add_business_days(created_on, 1)
        && day < latest
    {
        outcome.warnings.push(format!(
            "the collection date {day} is less than one TARGET2 business day after {created_on}: the bank will move it to {latest} or refuse the file"
        ));
    }

    let facts = read_facts(store, tenant)?;
    let (due, skipped) = select(&facts, day, created_on);
    outcome.skipped = skipped;
    let earlier = store
        .collection_batches(tenant, Some(day))
        .map_err(store_err)?;
    outcome.batches_for_date = earlier.iter().map(|b| b.batch.message_id.clone()).collect();
    if due.is_empty() {
        return match earlier.last() {
            Some(last) => finish(outcome, &creditor, last, request.version),
            None => Ok(outcome),
        };
    }

    let message_id = format!(
        "DD{}{:02}{:02}-{}",
        day.year(),
        day.month(),
        day.day(),
        earlier.len() + 1
    );
    let mut collections = Vec::new();
    for (n, d) in due.iter().enumerate() {
        let debtor = store
            .debtor(tenant, d.mandate.mandate.debtor_id)
            .map_err(store_err)?;
        let mut amount = Money::zero(Currency::EUR);
        for i in &d.items {
            amount = amount.checked_add(i.item.amount)?;
        }
        if amount.minor() > i64::try_from(pain008::MAX_AMOUNT_CENTS).unwrap_or(i64::MAX) {
            outcome.skipped.push(Skipped {
                debtor: debtor.id,
                mandate: d.mandate.mandate.reference.clone(),
                reason: format!("{amount} exceeds the largest amount of one SEPA collection"),
            });
            continue;
        }
        let pending = &d.mandate.pending;
        let other_bank = match &pending.original_iban {
            Some(o) => !same_bank(
                o,
                pending.original_bic.as_ref(),
                &d.mandate.mandate.iban,
                d.mandate.mandate.bic.as_ref(),
            ),
            None => false,
        };
        collections.push(NewCollection {
            items: d.items.iter().map(|i| i.item.clone()).collect(),
            mandate: d.mandate.id,
            debtor_id: debtor.id,
            end_to_end_id: format!("{message_id}-{}", n + 1),
            amount,
            sequence: d.mandate.mandate.sequence,
            debtor_name: debtor.details.name.clone(),
            iban: d.mandate.mandate.iban.clone(),
            bic: d.mandate.mandate.bic.clone(),
            mandate_reference: d.mandate.mandate.reference.clone(),
            signed_on: d.mandate.mandate.signed_on,
            amendment: (!pending.is_empty()).then(|| PendingAmendment {
                since: pending.since,
                original_reference: pending.original_reference.clone(),
                original_iban: pending.original_iban.clone(),
                original_bic: pending.original_bic.clone(),
                original_scheme_id: pending.original_scheme_id.clone(),
            }),
            other_bank,
            remittance: remittance(d, debtor.details.language),
        });
        // A collection the file cannot carry (a debtor name outside the Latin character set,
        // an IBAN the scheme refuses) is skipped with the writer's reason; the others go.
        let one = NewCollectionBatch {
            message_id: message_id.clone(),
            collection_date: day,
            created_at: request.created_at.to_string(),
            scheme_id: scheme_id.clone(),
            collections: collections.split_off(collections.len() - 1),
        };
        match message(&creditor, &one).and_then(|m| {
            pain008::write(&m, pain008::Options::new(request.version)).map_err(anyhow::Error::from)
        }) {
            Ok(_) => collections.extend(one.collections),
            Err(e) => outcome.skipped.push(Skipped {
                debtor: debtor.id,
                mandate: d.mandate.mandate.reference.clone(),
                reason: format!("cannot be written to pain.008: {e}"),
            }),
        }
    }
    if collections.is_empty() {
        return match earlier.last() {
            Some(last) => finish(outcome, &creditor, last, request.version),
            None => Ok(outcome),
        };
    }
    let batch = NewCollectionBatch {
        message_id: message_id.clone(),
        collection_date: day,
        created_at: request.created_at.to_string(),
        scheme_id,
        collections,
    };
    // Check that the file can be written before anything is recorded: a refusal (a debtor
    // name outside the character set, a bad IBAN) changes nothing.
    pain008::write(
        &message(&creditor, &batch)?,
        pain008::Options::new(request.version),
    )
    .map_err(|e| anyhow!("pain.008: {e}"))?;
    let id = store
        .record_collection_batch(tenant, &batch)
        .map_err(|e| anyhow!("recording the direct-debit batch {message_id}: {e} (another export may have run at the same time; run it again)"))?;
    outcome.recorded = true;
    outcome.batches_for_date.push(message_id);
    finish(
        outcome,
        &creditor,
        &CollectionBatchRow { id, batch },
        request.version,
    )
}

fn finish(
    mut outcome: ExportOutcome,
    creditor: &incasso_domain::Creditor,
    batch: &CollectionBatchRow,
    version: pain008::Version,
) -> anyhow::Result<ExportOutcome> {
    let msg = message(creditor, &batch.batch)?;
    outcome.xml = pain008::write(&msg, pain008::Options::new(version))
        .with_context(|| format!("writing pain.008 for batch {}", batch.batch.message_id))?;
    summarise(&mut outcome, &batch.batch, Currency::EUR)?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        incasso_calendar::parse_iso(s).unwrap()
    }

    fn iban(s: &str) -> Iban {
        Iban::parse(s).unwrap()
    }

    #[test]
    fn references_follow_the_scheme_rules() {
        assert_eq!(check_reference("--id", " M-1 ").unwrap(), "M-1");
        for bad in ["", "a_b", "/M1", "M1/", "M//1", &"x".repeat(36), "Mé"] {
            let e = check_reference("--id", bad).unwrap_err().to_string();
            assert!(e.starts_with("--id"), "{e}");
        }
    }

    #[test]
    fn creditor_identifier_check_names_the_field() {
        assert_eq!(
            check_creditor_identifier("ci", "nl57 zzz 999999999999").unwrap(),
            "NL57ZZZ999999999999"
        );
        let e = check_creditor_identifier("ci", "NL98ZZZ999999999999")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("ci: ") && e.contains("mod 97-10"), "{e}");
    }

    #[test]
    fn same_bank_by_bic_or_bank_code() {
        let rabo1 = iban("NL44RABO0123456789");
        let rabo2 = iban("NL39RABO0300065264");
        let ing = iban("NL20INGB0001234567");
        assert!(same_bank(&rabo1, None, &rabo2, None));
        assert!(!same_bank(&rabo1, None, &ing, None));
        let b1 = Bic::parse("RABONL2U").unwrap();
        let b2 = Bic::parse("RABONL2UXXX").unwrap();
        assert!(
            same_bank(&rabo1, Some(&b1), &ing, Some(&b2)),
            "the BIC decides"
        );
        assert!(!same_bank(&rabo1, None, &iban("BE68539007547034"), None));
    }

    #[test]
    fn created_at_parses_strictly() {
        let c = CreatedAt::parse("2026-03-01T09:30:05").unwrap();
        assert_eq!(c.to_string(), "2026-03-01T09:30:05");
        for bad in [
            "2026-03-01",
            "2026-03-01T25:00:00",
            "2026-02-30T10:00:00",
            "x",
        ] {
            assert!(CreatedAt::parse(bad).is_err(), "{bad}");
        }
    }

    fn mandate(debtor: i64, reference: &str, seq: SequenceState) -> MandateRow {
        MandateRow {
            id: debtor,
            mandate: NewMandate {
                debtor_id: DebtorId::new(debtor),
                reference: reference.into(),
                signed_on: d("2026-01-05"),
                iban: iban("NL44RABO0123456789"),
                bic: None,
                sequence: seq,
            },
            status: MandateStatus::Active,
            revoked_on: None,
            last_collection: None,
            pending: PendingAmendment::default(),
        }
    }

    fn inv(id: i64, debtor: i64, due: &str, cents: i64) -> OpenInvoice {
        OpenInvoice {
            id: InvoiceId::new(id),
            number: format!("F-{id}"),
            debtor: DebtorId::new(debtor),
            due: Some(d(due)),
            open: Money::eur_cents(cents),
            collectable: true,
            credit_note: false,
        }
    }

    #[test]
    fn selection_takes_due_open_uncollected_claims_of_active_mandates() {
        let mut revoked = mandate(3, "M-3", SequenceState::First);
        revoked.status = MandateStatus::Revoked;
        let mut expired = mandate(4, "M-4", SequenceState::Recurring);
        expired.mandate.signed_on = d("2022-01-01");
        expired.last_collection = Some(d("2022-06-01"));
        let facts = Facts {
            mandates: vec![
                mandate(1, "M-1", SequenceState::First),
                mandate(2, "M-2", SequenceState::Recurring),
                revoked,
                expired,
                mandate(5, "M-5", SequenceState::First),
            ],
            open_cases: vec![CaseRow {
                id: 9,
                debtor_id: DebtorId::new(5),
                state: "reminded".into(),
                pause_reason: Some("dispute".into()),
                pause_until: None,
                pause_note: String::new(),
                resumed_on: None,
                opened_on: d("2026-02-01"),
                closed_on: None,
            }],
            active_plans: vec![],
            invoices: vec![
                inv(10, 1, "2026-02-01", 10_000),
                inv(11, 1, "2026-03-02", 2_500),
                inv(12, 1, "2026-03-03", 9_900), // not yet due
                inv(20, 2, "2026-02-01", 500),   // collected before
                inv(30, 3, "2026-02-01", 700),
                inv(40, 4, "2026-02-01", 700),
                inv(50, 5, "2026-02-01", 700),
            ],
            collected: [CollectionTarget::Invoice(InvoiceId::new(20))].into(),
            payments: vec![],
        };
        let (due, skipped) = select(&facts, d("2026-03-02"), d("2026-02-27"));
        assert_eq!(due.len(), 1, "{due:?}");
        assert_eq!(due[0].mandate.mandate.reference, "M-1");
        let labels: Vec<&str> = due[0].items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["F-10", "F-11"]);
        let reasons: Vec<(&str, &str)> = skipped
            .iter()
            .map(|s| (s.mandate.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].0 == "M-4" && reasons[0].1.contains("expired"));
        assert!(reasons[1].0 == "M-5" && reasons[1].1.contains("dispute"));
    }

    #[test]
    fn plan_instalments_replace_the_invoices_and_skip_what_was_paid() {
        let facts = Facts {
            mandates: vec![mandate(1, "M-1", SequenceState::First)],
            open_cases: vec![CaseRow {
                id: 7,
                debtor_id: DebtorId::new(1),
                state: "reminded".into(),
                pause_reason: Some("payment_plan".into()),
                pause_until: None,
                pause_note: String::new(),
                resumed_on: None,
                opened_on: d("2026-01-20"),
                closed_on: None,
            }],
            active_plans: vec![PlanRow {
                id: 3,
                plan: incasso_store::NewPlan {
                    case_id: 7,
                    agreed_on: d("2026-01-25"),
                    grace_days: 5,
                    instalments: vec![
                        (d("2026-02-01"), Money::eur_cents(5_000)),
                        (d("2026-03-01"), Money::eur_cents(5_000)),
                        (d("2026-04-01"), Money::eur_cents(5_000)),
                    ],
                },
                status: "active".into(),
            }],
            invoices: vec![inv(10, 1, "2026-01-10", 15_000)],
            collected: HashSet::new(),
            // The first instalment was paid by transfer.
            payments: vec![(DebtorId::new(1), d("2026-02-01"), Money::eur_cents(5_000))],
        };
        let (due, skipped) = select(&facts, d("2026-03-02"), d("2026-02-27"));
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(due.len(), 1);
        let items: Vec<(String, i64)> = due[0]
            .items
            .iter()
            .map(|i| (i.label.clone(), i.item.amount.minor()))
            .collect();
        assert_eq!(items, [("2/3".to_string(), 5_000)]);
        assert_eq!(
            remittance(&due[0], Language::Nl),
            "Termijn 2/3 Factuur F-10"
        );
    }

    #[test]
    fn remittance_is_cut_at_a_word_within_140_characters() {
        let items = (0..40)
            .map(|n| DueItem {
                item: CollectionItem {
                    target: CollectionTarget::Invoice(InvoiceId::new(n)),
                    amount: Money::eur_cents(1),
                },
                label: format!("2026-{n:04}"),
            })
            .collect();
        let due = Due {
            mandate: mandate(1, "M-1", SequenceState::First),
            items,
            invoice_numbers: vec![],
        };
        let text = remittance(&due, Language::Nl);
        assert!(text.starts_with("Facturen 2026-0000 2026-0001"), "{text}");
        assert!(
            text.len() <= 140 && text.ends_with(char::is_numeric),
            "{text}"
        );
    }
}
