//! What is due for collection on a date: plan instalments and open invoices of debtors with an
//! active mandate, not collected before and not held by their case (a pure function of the
//! facts read from the store).

use super::*;

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
pub(super) fn add_months(date: Date, months: i8) -> Option<Date> {
    date.checked_add(jiff::Span::new().months(months)).ok()
}

/// Why an open case holds direct debit, if it does.
pub(super) fn case_hold(case: &CaseRow) -> Option<String> {
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
