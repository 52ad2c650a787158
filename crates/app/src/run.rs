//! The daily run: for every debtor with overdue claims, the pure dunning core decides what is
//! due on the run date; this shell opens cases, writes the resulting actions to the outbox under
//! their idempotency keys and changes case states, in batched transactions. Running the same
//! date twice, or after a crash, creates nothing twice: an existing key writes nothing.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context, anyhow};
use incasso_calendar::Date;
use incasso_domain::{Creditor, DebtorId};
use incasso_dunning::{
    ArrangementEnd, CaseFacts, CaseId, CaseState, Channel, ClaimFacts, DebtorFacts, Decision,
    Effect, Instalment, Pause, PauseReason, PaymentFact, PaymentPlan, PlanFacts, Policy, Preset,
    StepRecord, decide,
};
use incasso_rules::costs::VatPosition;
use incasso_store::{
    ActionStatus, CaseChange, CaseEvent, CaseRef, CaseRow, DebtorClaims, NewAction, NewCase,
    RunBatch, Store,
};

/// Cases per write transaction.
const BATCH_CASES: usize = 1_000;

/// Calendar days after a direct debit's collection date during which its claims are left to
/// the debit: the debtor's bank returns an unpaid collection within five TARGET2 business days
/// of settlement, and the statement showing the credit or the return arrives a day later. After
/// that, a claim that is still open (returned, or never credited) is back on the ladder.
pub const DIRECT_DEBIT_WAIT_DAYS: i32 = 10;

/// How the run was asked to behave.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    pub date: Date,
    /// Decide and report, write nothing.
    pub dry_run: bool,
    /// Create sending actions as queued even when the bank data is not fresh.
    pub force: bool,
}

/// One line of a dry run: what would go out and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub case: String,
    pub debtor_id: i64,
    pub step_id: String,
    pub template: String,
    pub channels: String,
    pub total: String,
    pub why: String,
    /// The key exists already: the action was created by an earlier run.
    pub exists: bool,
}

/// What a run did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub date: String,
    pub dry_run: bool,
    pub cases_evaluated: u64,
    pub cases_opened: u64,
    pub cases_closed_paid: u64,
    pub actions_created: u64,
    /// Actions decided again whose key already existed: nothing was written for them.
    pub actions_existing: u64,
    pub actions_held: u64,
    pub actions_cancelled: u64,
    pub actions_by_kind: BTreeMap<String, u64>,
    /// Overdue claims left out because they are in a direct-debit collection of the last
    /// [`DIRECT_DEBIT_WAIT_DAYS`] days.
    pub claims_awaiting_direct_debit: u64,
    /// Cases where nothing was due, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Why sending actions were held, when they were.
    pub held_reason: Option<String>,
    /// Dry run only: every planned action.
    pub planned: Vec<Planned>,
}

fn reason_code(reason: &incasso_dunning::Reason) -> String {
    let debug = format!("{reason:?}");
    let name = debug.split([' ', '{', '(']).next().unwrap_or("Other");
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The step record of a dispatched action (`None` while it is not sent).
fn step_record(a: incasso_store::OutboxEntry) -> Option<StepRecord> {
    if a.status != ActionStatus::Sent {
        return None;
    }
    Some(StepRecord {
        policy_name: a.policy_name,
        policy_version: a.policy_version,
        step_id: a.step_id,
        dispatched: a.dispatched_on?,
        channels: a.channels.split(',').filter_map(Channel::parse).collect(),
    })
}

fn pause_of(case: &CaseRow) -> Option<Pause> {
    let reason = PauseReason::parse(case.pause_reason.as_deref()?)?;
    Some(Pause {
        reason,
        until: case.pause_until,
        note: case.pause_note.clone(),
    })
}

/// The freshness gate: payments must be known before anything is sent. Bank data is fresh
/// when the latest imported statement is at least of the business day before the run date
/// (the default limit of one business day). Returns why sending actions must be held, if so.
pub fn freshness(
    jurisdiction: incasso_domain::Jurisdiction,
    latest: Option<Date>,
    today: Date,
) -> Option<String> {
    let calendar = match jurisdiction {
        incasso_domain::Jurisdiction::Nl => incasso_calendar::BusinessCalendar::netherlands_atw(),
        incasso_domain::Jurisdiction::Be => incasso_calendar::BusinessCalendar::belgium(),
    };
    // The previous business day: at most a fortnight back (a long holiday run).
    let mut limit = today;
    for _ in 0..14 {
        match incasso_calendar::add_days(limit, -1) {
            Some(d) => limit = d,
            None => break,
        }
        if calendar.is_business_day(limit) {
            break;
        }
    }
    match latest {
        None => Some("no bank statement has been imported: payments may be unknown (import one, or use --force)".to_string()),
        Some(d) if d < limit => Some(format!(
            "the latest bank statement is of {d}, older than the business day before {today} ({limit}): payments may be unknown (import a newer one, or use --force)"
        )),
        Some(_) => None,
    }
}

/// The policies a run can use, parsed once: the creditor's stored policies (the latest version
/// of each name) and the shipped presets, by name.
#[derive(Debug)]
pub struct Policies {
    stored: HashMap<String, incasso_store::PolicyRow>,
    loaded: HashMap<String, Policy>,
}

impl Policies {
    pub fn new(stored: Vec<incasso_store::PolicyRow>) -> Policies {
        let mut latest: HashMap<String, incasso_store::PolicyRow> = HashMap::new();
        for p in stored {
            if latest.get(&p.name).is_none_or(|q| q.version < p.version) {
                latest.insert(p.name.clone(), p);
            }
        }
        Policies {
            stored: latest,
            loaded: HashMap::new(),
        }
    }

    /// Whether `name` is a stored policy or a shipped preset.
    pub fn knows(&self, name: &str) -> bool {
        self.stored.contains_key(name) || Preset::parse(name).is_some()
    }

    /// The policy called `name`: a stored one wins over a preset of the same name.
    pub fn get(&mut self, name: &str) -> anyhow::Result<&Policy> {
        if !self.loaded.contains_key(name) {
            let policy = match (self.stored.get(name), Preset::parse(name)) {
                (Some(row), _) => Policy::from_toml(&row.toml, &[])
                    .map_err(|e| anyhow!("stored policy {name} version {}: {e}", row.version))?,
                (None, Some(preset)) => preset
                    .load()
                    .map_err(|e| anyhow!("shipped policy {name} does not load: {e}"))?,
                (None, None) => {
                    return Err(anyhow!(
                        "policy {name:?} is assigned but neither stored nor shipped"
                    ));
                }
            };
            self.loaded.insert(name.to_string(), policy);
        }
        self.loaded.get(name).ok_or_else(|| anyhow!("policy cache"))
    }
}

/// Which policy applies to a debtor's case: the debtor's own, else that of the oldest overdue
/// invoice that has one, else the creditor's default, else the preset for the debtor's kind and
/// the creditor's jurisdiction.
pub fn policy_name_for(
    assignments: &incasso_store::PolicyAssignments,
    debtor: &DebtorClaims,
    jurisdiction: incasso_domain::Jurisdiction,
) -> String {
    if let Some(name) = assignments.debtors.get(&debtor.debtor_id) {
        return name.clone();
    }
    let mut claims: Vec<&incasso_store::OverdueClaim> = debtor.claims.iter().collect();
    claims.sort_by_key(|c| (c.due, c.invoice_id));
    if let Some(name) = claims
        .iter()
        .find_map(|c| assignments.invoices.get(&c.invoice_id))
    {
        return name.clone();
    }
    if let Some(name) = &assignments.default {
        return name.clone();
    }
    Preset::for_debtor(debtor.kind, jurisdiction)
        .name()
        .to_string()
}

/// Runs the collection ladder for one creditor on `opts.date`. `progress` is called with the
/// number of debtors evaluated so far.
pub fn run(
    store: &mut dyn Store,
    creditor: &Creditor,
    opts: RunOptions,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<RunSummary> {
    let tenant = creditor.id;
    let mut summary = RunSummary {
        date: opts.date.to_string(),
        dry_run: opts.dry_run,
        ..RunSummary::default()
    };
    // Freshness gate: payments must be known before anything is sent. incasso has no bank
    // statement import yet, so sending actions are held unless the user forces them.
    let latest = store
        .latest_bank_statement(tenant)
        .map_err(|e| anyhow!("{e}"))?;
    let held_reason = if opts.force {
        None
    } else {
        freshness(creditor.details.jurisdiction, latest, opts.date)
    };
    summary.held_reason = held_reason.clone();

    // Phase 1: every overdue debtor gets an open case.
    let mut open_cases: HashMap<DebtorId, CaseRow> = store
        .cases(tenant, true)
        .map_err(|e| anyhow!("{e}"))?
        .into_iter()
        .map(|c| (c.debtor_id, c))
        .collect();
    // The overdue claims are read once, before any write: a store cannot write while it streams.
    let mut overdue: Vec<DebtorClaims> = Vec::new();
    store
        .for_each_overdue_debtor(tenant, opts.date, &mut |d| {
            overdue.push(d);
            Ok(())
        })
        .map_err(|e| anyhow!("{e}"))?;
    // Claims in a recent direct-debit collection wait for the bank: no reminder for money that
    // is being collected. A debtor with only such claims keeps its case as it is.
    let mut awaiting_debit: HashSet<DebtorId> = HashSet::new();
    let from = incasso_calendar::add_days(opts.date, -DIRECT_DEBIT_WAIT_DAYS).unwrap_or(opts.date);
    let collected: HashSet<incasso_domain::InvoiceId> = store
        .collected_invoices_since(tenant, from)
        .map_err(|e| anyhow!("{e}"))?
        .into_iter()
        .map(|(invoice, _)| invoice)
        .collect();
    if !collected.is_empty() {
        for d in &mut overdue {
            let before = d.claims.len();
            d.claims.retain(|c| !collected.contains(&c.invoice_id));
            summary.claims_awaiting_direct_debit += (before - d.claims.len()) as u64;
            if d.claims.is_empty() {
                awaiting_debit.insert(d.debtor_id);
            }
        }
        overdue.retain(|d| !d.claims.is_empty());
        if !awaiting_debit.is_empty() {
            summary
                .skipped
                .insert("direct_debit_pending".into(), awaiting_debit.len() as u64);
        }
    }
    let missing: Vec<DebtorId> = overdue
        .iter()
        .map(|d| d.debtor_id)
        .filter(|d| !open_cases.contains_key(d))
        .collect();
    summary.cases_opened = missing.len() as u64;
    if !opts.dry_run {
        for chunk in missing.chunks(BATCH_CASES) {
            let batch = RunBatch {
                new_cases: chunk
                    .iter()
                    .map(|d| NewCase {
                        debtor_id: *d,
                        state: CaseState::Open.code().to_string(),
                        opened_on: opts.date,
                    })
                    .collect(),
                events: (0..chunk.len())
                    .map(|i| {
                        (
                            CaseRef::New(i),
                            CaseEvent {
                                on: opts.date,
                                kind: "opened".into(),
                                text: "case opened: overdue claims".into(),
                            },
                        )
                    })
                    .collect(),
                ..RunBatch::default()
            };
            store
                .apply_run(tenant, &batch)
                .map_err(|e| anyhow!("{e}"))
                .context("opening cases")?;
        }
        open_cases = store
            .cases(tenant, true)
            .map_err(|e| anyhow!("{e}"))?
            .into_iter()
            .map(|c| (c.debtor_id, c))
            .collect();
    }

    // Existing actions by case: the steps done (sent) and the keys already written.
    // Only what the decision needs is kept: the keys, and the dispatched steps per case.
    let mut by_case: HashMap<i64, Vec<StepRecord>> = HashMap::new();
    let mut existing_keys: HashSet<String> = HashSet::new();
    for mut a in store.outbox_index(tenant).map_err(|e| anyhow!("{e}"))? {
        let case_id = a.case_id;
        existing_keys.insert(std::mem::take(&mut a.idempotency_key));
        if let Some(step) = step_record(a) {
            by_case.entry(case_id).or_default().push(step);
        }
    }

    // Active payment plans by case, and the payments received per debtor (for plan lapses).
    let plans: HashMap<i64, (i64, PlanFacts)> = store
        .plans(tenant, true)
        .map_err(|e| anyhow!("{e}"))?
        .into_iter()
        .map(|p| {
            let facts = PlanFacts {
                plan: PaymentPlan {
                    agreed_on: p.plan.agreed_on,
                    instalments: p
                        .plan
                        .instalments
                        .iter()
                        .map(|(due, amount)| Instalment {
                            due: *due,
                            amount: *amount,
                        })
                        .collect(),
                },
                grace_days: p.plan.grace_days,
            };
            (p.plan.case_id, (p.id, facts))
        })
        .collect();
    let mut payments_by_debtor: HashMap<DebtorId, Vec<PaymentFact>> = HashMap::new();
    if !plans.is_empty() {
        for p in store.payments(tenant).map_err(|e| anyhow!("{e}"))? {
            if let (Some(debtor), true) = (p.payment.debtor_id, p.payment.amount.is_positive()) {
                payments_by_debtor
                    .entry(debtor)
                    .or_default()
                    .push(PaymentFact {
                        received: p.payment.received_on,
                        amount: p.payment.amount,
                    });
            }
        }
    }
    let mut plan_endings: Vec<(i64, &'static str)> = Vec::new();

    // Phase 2: decide per case.
    let vat = if creditor.details.vat_deductible {
        VatPosition::Deductible
    } else {
        VatPosition::NotDeductible
    };
    let mut policies = Policies::new(store.policies(tenant).map_err(|e| anyhow!("{e}"))?);
    let assignments = store
        .policy_assignments(tenant)
        .map_err(|e| anyhow!("{e}"))?;
    let mut batch = RunBatch::default();
    let mut in_batch = 0usize;
    // A debtor waiting for a direct debit is not paid yet: its case stays open.
    let mut seen_debtors: HashSet<DebtorId> = awaiting_debit;
    let mut provisional = 0i64;
    let flush = |store: &mut dyn Store,
                 batch: &mut RunBatch,
                 summary: &mut RunSummary|
     -> anyhow::Result<()> {
        if opts.dry_run
            || (batch.actions.is_empty()
                && batch.changes.is_empty()
                && batch.cancel_pending.is_empty())
        {
            *batch = RunBatch::default();
            return Ok(());
        }
        let applied = store.apply_run(tenant, batch).map_err(|e| anyhow!("{e}"))?;
        summary.actions_created += applied.actions_created;
        summary.actions_existing += applied.actions_existing;
        summary.actions_cancelled += applied.actions_cancelled;
        *batch = RunBatch::default();
        Ok(())
    };
    for debtor in &overdue {
        {
            seen_debtors.insert(debtor.debtor_id);
            summary.cases_evaluated += 1;
            progress(summary.cases_evaluated);
            let (case_id, case) = match open_cases.get(&debtor.debtor_id) {
                Some(c) => (c.id, Some(c)),
                None => {
                    provisional -= 1;
                    (provisional, None)
                }
            };
            let state = case
                .and_then(|c| CaseState::parse(&c.state))
                .unwrap_or(CaseState::Open);
            let policy = policies.get(&policy_name_for(
                &assignments,
                debtor,
                creditor.details.jurisdiction,
            ))?;
            let mut facts = CaseFacts::new(
                CaseId::new(case_id),
                state,
                DebtorFacts {
                    kind: debtor.kind,
                    jurisdiction: creditor.details.jurisdiction,
                    tags: debtor.tags.clone(),
                    risk_class: None,
                    vulnerable: debtor.vulnerable,
                    do_not_contact: debtor.do_not_contact,
                },
                debtor
                    .claims
                    .iter()
                    .map(|c| ClaimFacts {
                        invoice_id: c.invoice_id,
                        principal: c.principal,
                        open: c.open,
                        due: c.due,
                    })
                    .collect(),
            );
            facts.vat = vat;
            if let Some(c) = case {
                facts.pause = pause_of(c);
                facts.resumed_on = c.resumed_on;
                facts.steps_done = by_case.get(&c.id).cloned().unwrap_or_default();
                if let Some((_, plan)) = plans.get(&c.id) {
                    facts.payments = payments_by_debtor
                        .get(&debtor.debtor_id)
                        .map(|ps| {
                            ps.iter()
                                .filter(|p| p.received >= plan.plan.agreed_on)
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default();
                    facts.plan = Some(plan.clone());
                }
            }
            let decision =
                decide(&facts, policy, opts.date).map_err(|e| anyhow!("case {case_id}: {e}"))?;
            let case_ref = CaseRef::Existing(case_id);
            // One event per case and run: what was queued and how the state changed.
            let mut notes: Vec<String> = Vec::new();
            match decision {
                Decision::Nothing { reason } => {
                    *summary.skipped.entry(reason_code(&reason)).or_insert(0) += 1;
                }
                Decision::Act { effects, .. } => {
                    for effect in effects {
                        match effect {
                            Effect::CreateAction(action) => {
                                let exists = existing_keys.contains(action.key.as_str());
                                let sending = action.channels.iter().any(|c| *c != Channel::Call);
                                let (status, reason) = match (&held_reason, sending) {
                                    (Some(r), true) => (ActionStatus::Held, r.clone()),
                                    _ => (ActionStatus::Queued, String::new()),
                                };
                                if !exists {
                                    *summary
                                        .actions_by_kind
                                        .entry(action.template.clone())
                                        .or_insert(0) += 1;
                                    if status == ActionStatus::Held {
                                        summary.actions_held += 1;
                                    }
                                }
                                let channels = action
                                    .channels
                                    .iter()
                                    .map(|c| c.code())
                                    .collect::<Vec<_>>()
                                    .join(",");
                                if exists && !opts.dry_run {
                                    // Written by an earlier run: nothing to write (the key's
                                    // unique index would refuse it anyway).
                                    summary.actions_existing += 1;
                                    continue;
                                }
                                if opts.dry_run {
                                    summary.planned.push(Planned {
                                        case: if case.is_some() {
                                            case_id.to_string()
                                        } else {
                                            "new".into()
                                        },
                                        debtor_id: debtor.debtor_id.get(),
                                        step_id: action.step_id.clone(),
                                        template: action.template.clone(),
                                        channels: channels.clone(),
                                        total: action.amounts.total.to_decimal_string(),
                                        why: action.why.clone(),
                                        exists,
                                    });
                                    continue;
                                }
                                batch.actions.push((
                                    case_ref,
                                    NewAction {
                                        idempotency_key: action.key.as_str().to_string(),
                                        policy_name: action.policy_name.clone(),
                                        policy_version: action.policy_version,
                                        step_id: action.step_id.clone(),
                                        template: action.template.clone(),
                                        channels,
                                        status,
                                        status_reason: reason,
                                        created_on: opts.date,
                                        deadline: action.deadline,
                                        principal: action.amounts.principal,
                                        interest: action.amounts.interest,
                                        costs: action.amounts.costs.as_ref().map(|c| c.total_costs),
                                        total: action.amounts.total,
                                        why: action.why.clone(),
                                    },
                                ));
                                if !exists {
                                    notes
                                        .push(format!("{} queued: {}", action.step_id, action.why));
                                }
                            }
                            Effect::Transition { to, why, .. } => {
                                if !opts.dry_run {
                                    batch.changes.push((
                                        case_ref,
                                        CaseChange {
                                            state: Some(to.code().to_string()),
                                            ..CaseChange::default()
                                        },
                                    ));
                                    notes.push(format!("state {}: {why}", to.code()));
                                }
                            }
                            Effect::EndPlan { why, end } => {
                                if let Some((plan_id, _)) = plans.get(&case_id) {
                                    let status = match end {
                                        ArrangementEnd::Lapsed { .. }
                                        | ArrangementEnd::Broken { .. } => "lapsed",
                                        ArrangementEnd::Completed | ArrangementEnd::Kept => {
                                            "completed"
                                        }
                                    };
                                    plan_endings.push((*plan_id, status));
                                }
                                if !opts.dry_run {
                                    batch.changes.push((
                                        case_ref,
                                        CaseChange {
                                            pause: Some(None),
                                            resumed_on: Some(opts.date),
                                            ..CaseChange::default()
                                        },
                                    ));
                                }
                                notes.push(format!("payment plan ended: {why}"));
                            }
                            Effect::EndPromise { why, .. } => {
                                if !opts.dry_run {
                                    batch.changes.push((
                                        case_ref,
                                        CaseChange {
                                            pause: Some(None),
                                            resumed_on: Some(opts.date),
                                            ..CaseChange::default()
                                        },
                                    ));
                                    batch.events.push((
                                        case_ref,
                                        CaseEvent {
                                            on: opts.date,
                                            kind: "arrangement_ended".into(),
                                            text: why,
                                        },
                                    ));
                                }
                            }
                        }
                    }
                }
            }
            if !notes.is_empty() {
                batch.events.push((
                    case_ref,
                    CaseEvent {
                        on: opts.date,
                        kind: "run".into(),
                        text: notes.join("; "),
                    },
                ));
            }
            in_batch += 1;
            if in_batch >= BATCH_CASES {
                flush(store, &mut batch, &mut summary)?;
                in_batch = 0;
            }
        }
    }

    // Open cases without overdue claims: everything was paid. Close them and cancel what is
    // still queued or held, so no letter goes to a debtor who has paid.
    for case in open_cases.values() {
        if seen_debtors.contains(&case.debtor_id) {
            continue;
        }
        summary.cases_closed_paid += 1;
        if opts.dry_run {
            continue;
        }
        let r = CaseRef::Existing(case.id);
        batch.changes.push((
            r,
            CaseChange {
                state: Some(CaseState::Paid.code().to_string()),
                closed_on: Some(opts.date),
                ..CaseChange::default()
            },
        ));
        batch
            .cancel_pending
            .push((r, "the debtor paid before dispatch".into()));
        batch.events.push((
            r,
            CaseEvent {
                on: opts.date,
                kind: "closed".into(),
                text: "paid: no open overdue claims".into(),
            },
        ));
        in_batch += 1;
        if in_batch >= BATCH_CASES {
            flush(store, &mut batch, &mut summary)?;
            in_batch = 0;
        }
    }
    flush(store, &mut batch, &mut summary)?;
    // Plans that lapsed or completed. After a crash between the batch and this step the next
    // run decides the same ending again: ending a plan is idempotent.
    if !opts.dry_run {
        for (plan, status) in plan_endings {
            store
                .set_plan_status(tenant, plan, status)
                .map_err(|e| anyhow!("{e}"))?;
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::freshness;
    use incasso_domain::Jurisdiction;

    fn d(s: &str) -> incasso_calendar::Date {
        incasso_calendar::parse_iso(s).expect("date")
    }

    #[test]
    fn bank_data_must_be_of_the_previous_business_day() {
        // Monday 2026-11-23: Friday's statement is fresh, Thursday's is not.
        assert_eq!(
            freshness(Jurisdiction::Nl, Some(d("2026-11-20")), d("2026-11-23")),
            None
        );
        assert!(freshness(Jurisdiction::Nl, Some(d("2026-11-19")), d("2026-11-23")).is_some());
        assert!(freshness(Jurisdiction::Nl, None, d("2026-11-23")).is_some());
        // Tuesday 2025-04-22 after Easter Monday: Thursday 04-17 is the business day before
        // (Good Friday and Easter Monday are ATW holidays).
        assert_eq!(
            freshness(Jurisdiction::Nl, Some(d("2025-04-17")), d("2025-04-22")),
            None
        );
        assert!(freshness(Jurisdiction::Nl, Some(d("2025-04-16")), d("2025-04-22")).is_some());
        // Same day is fresh.
        assert_eq!(
            freshness(Jurisdiction::Be, Some(d("2026-11-25")), d("2026-11-25")),
            None
        );
    }
}
