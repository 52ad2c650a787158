//! The decision: [`decide`] looks at what the shell knows about one case ([`CaseFacts`]), the
//! case's policy and today's date, and returns the effects to apply ([`Decision`]) with the rule
//! that fired, or the reason nothing happens.
//!
//! All branching of the dunning workflow lives here; the helpers only compute dates and amounts.
//! The order of the checks is the precedence order of the reasons:
//!
//! 1. inconsistent facts → [`DecideError`];
//! 2. a final state (paid, settled, written off, closed) → nothing;
//! 3. nothing open → move to paid;
//! 4. handed over or judicial → nothing (the ladder has ended);
//! 5. the policy does not apply, or the open amount is below its minimum → nothing;
//! 6. a pause or a vulnerable debtor → nothing;
//! 7. a payment plan on track or a promise pending → nothing; a lapsed plan or a broken (or kept)
//!    promise is ended and the ladder resumes;
//! 8. do not contact → nothing;
//! 9. the ladder: the next step (by the catch-up rule), unless it is not due yet, the minimum gap
//!    has not passed, or a statutory term has not expired.

use std::fmt;

use incasso_calendar::{BusinessCalendar, Date, TermError, add_days};
use incasso_domain::{DebtorKind, InvoiceId, Jurisdiction, Tag};
use incasso_money::{Currency, Money};
use incasso_rules::costs::{
    BE_FURTHER_REMINDER_MAXIMUM, CollectionCosts, ConsumerCostsStatus, CostsError, CostsRequest,
    VatPosition, collection_costs, nl_consumer_collection_costs, nl_general_vat_rate,
};
use incasso_rules::jurisdiction::{RuleError, claim_interest};
use incasso_rules::term::{self, DeliveryPresumption, FourteenDayLetterTerm};
use incasso_rules::{Jurisdiction as LawJurisdiction, TransactionKind};

use crate::case::{CaseId, CaseState, InvalidTransition, Pause, PauseReason};
use crate::key::IdempotencyKey;
use crate::plan::{
    PaymentFact, PaymentPlan, PlanError, PlanStatus, PromiseStatus, PromiseToPay, plan_status,
    promise_status,
};
use crate::policy::{Anchor, CatchUp, Channel, Conditions, DayKind, LegalEffect, Policy, Step};

/// Most claims one case may group (bounds the loops over claims).
pub const MAX_CLAIMS: usize = 10_000;

/// Most step records the facts may hold (bounds the loops over records).
pub const MAX_STEP_RECORDS: usize = 1_000;

/// Most payments the facts may hold (bounds the loops over payments).
pub const MAX_PAYMENTS: usize = 100_000;

/// One overdue claim (invoice) of the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimFacts {
    pub invoice_id: InvoiceId,
    /// The invoice's principal.
    pub principal: Money,
    /// The principal still open today (after allocation of payments).
    pub open: Money,
    /// The last day of payment.
    pub due: Date,
}

/// What the ladder needs to know about the debtor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebtorFacts {
    pub kind: DebtorKind,
    pub jurisdiction: Jurisdiction,
    pub tags: Vec<Tag>,
    pub risk_class: Option<String>,
    pub vulnerable: bool,
    pub do_not_contact: bool,
}

/// A step that was done: the shell stores one per created action, with the real dispatch date
/// and the channels actually used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    pub policy_name: String,
    pub policy_version: u32,
    pub step_id: String,
    pub dispatched: Date,
    pub channels: Vec<Channel>,
}

/// An active payment plan and the creditor's grace days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFacts {
    pub plan: PaymentPlan,
    pub grace_days: u32,
}

/// Everything the shell knows about one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub case_id: CaseId,
    pub state: CaseState,
    pub pause: Option<Pause>,
    pub debtor: DebtorFacts,
    pub claims: Vec<ClaimFacts>,
    /// The steps already done, in any order.
    pub steps_done: Vec<StepRecord>,
    /// Payments received on the case's claims.
    pub payments: Vec<PaymentFact>,
    pub plan: Option<PlanFacts>,
    pub promise: Option<PromiseToPay>,
    /// Whether the creditor can deduct VAT on collection services (BIK art. 2 lid 3).
    pub vat: VatPosition,
    /// When a posted letter is presumed received (the fourteen-day letter's term).
    pub delivery: DeliveryPresumption,
    /// The last day the ladder resumed after a pause, a payment plan or a promise to pay (the
    /// shell stores the `on` date of [`ArrangementEnd`] or the day after a lifted pause). Pending
    /// steps fire no earlier than this day, and later steps count from there, so a debtor coming
    /// out of a pause gets the next letter, not the handover.
    pub resumed_on: Option<Date>,
}

impl CaseFacts {
    /// Facts for a case with no pause, records, payments or arrangements yet, a creditor that
    /// deducts VAT and the default delivery presumption.
    pub fn new(
        case_id: CaseId,
        state: CaseState,
        debtor: DebtorFacts,
        claims: Vec<ClaimFacts>,
    ) -> CaseFacts {
        CaseFacts {
            case_id,
            state,
            pause: None,
            debtor,
            claims,
            steps_done: Vec::new(),
            payments: Vec::new(),
            plan: None,
            promise: None,
            vat: VatPosition::Deductible,
            delivery: DeliveryPresumption::default(),
            resumed_on: None,
        }
    }
}

/// Amounts a letter states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatedAmounts {
    /// The open principal of all claims in the letter.
    pub principal: Money,
    /// Statutory interest up to today, when the step claims it.
    pub interest: Option<Money>,
    /// Collection costs (BE consumer: damages), when the step claims them.
    pub costs: Option<CollectionCosts>,
    /// The costs the letter announces will become due (fourteen-day letter, BE first reminder,
    /// formal notice).
    pub costs_announced: Option<Money>,
    /// A Belgian reminder fee (at most €7.50, Book XIX WER).
    pub reminder_fee: Option<Money>,
    /// principal + interest + costs + fee.
    pub total: Money,
}

/// One letter, message or call task to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub key: IdempotencyKey,
    pub policy_name: String,
    pub policy_version: u32,
    pub step_id: String,
    pub template: String,
    pub channels: Vec<Channel>,
    pub term_days: u32,
    /// The last day the debtor can pay within the term, assuming dispatch today.
    pub deadline: Date,
    /// For a statutory letter: the first day costs (damages) may be charged.
    pub costs_due_from: Option<Date>,
    /// For a statutory letter: its term day by day (presumed receipt, first and last day), for
    /// the letter's wording.
    pub statutory_term: Option<FourteenDayLetterTerm>,
    /// The invoices the letter covers: all open claims of the case.
    pub invoices: Vec<InvoiceId>,
    pub amounts: StatedAmounts,
    /// The rule that fired, for `--dry-run` and the dossier.
    pub why: String,
}

/// How a payment plan or promise ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrangementEnd {
    Completed,
    Lapsed { on: Date },
    Kept,
    Broken { on: Date },
}

/// One effect for the shell to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Create the action (queue it in the outbox) under its idempotency key, and record the step
    /// as done when it is dispatched.
    CreateAction(Box<Action>),
    /// Move the case to another state.
    Transition {
        from: CaseState,
        to: CaseState,
        why: String,
    },
    /// End the payment plan; after a lapse the whole balance is due at once.
    EndPlan { end: ArrangementEnd, why: String },
    /// End the promise to pay.
    EndPromise { end: ArrangementEnd, why: String },
}

impl Effect {
    pub fn why(&self) -> &str {
        match self {
            Effect::CreateAction(a) => &a.why,
            Effect::Transition { why, .. }
            | Effect::EndPlan { why, .. }
            | Effect::EndPromise { why, .. } => why,
        }
    }
}

/// Why nothing is sent today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Final {
        state: CaseState,
    },
    LadderEnded {
        state: CaseState,
    },
    PolicyDoesNotApply {
        policy: String,
    },
    BelowMinimum {
        open: Money,
        minimum: Money,
    },
    Paused {
        reason: PauseReason,
        until: Option<Date>,
    },
    DoNotContact,
    LadderComplete {
        last_step: String,
    },
    WaitingForStep {
        step_id: String,
        fires_on: Date,
    },
    WaitingForGap {
        step_id: String,
        until: Date,
        min_gap_days: u32,
    },
    WaitingForStatutoryTerm {
        step_id: String,
        letter_step: String,
        costs_due_from: Date,
    },
    NoStatutoryLetter {
        step_id: String,
        needed: LegalEffect,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Final { state } => write!(f, "the case is {state}"),
            Reason::LadderEnded { state } => write!(f, "the case is {state}: the ladder has ended"),
            Reason::PolicyDoesNotApply { policy } => {
                write!(f, "policy {policy} does not apply to this debtor")
            }
            Reason::BelowMinimum { open, minimum } => {
                write!(
                    f,
                    "open amount {open} is below the policy minimum {minimum}"
                )
            }
            Reason::Paused {
                reason,
                until: Some(until),
            } => write!(f, "paused ({reason}) until {until}"),
            Reason::Paused {
                reason,
                until: None,
            } => write!(f, "paused ({reason}) until lifted"),
            Reason::DoNotContact => write!(f, "the debtor must not be contacted"),
            Reason::LadderComplete { last_step } => {
                write!(f, "every step is done (last: {last_step})")
            }
            Reason::WaitingForStep { step_id, fires_on } => {
                write!(f, "waiting: step {step_id} is due on {fires_on}")
            }
            Reason::WaitingForGap {
                step_id,
                until,
                min_gap_days,
            } => write!(
                f,
                "waiting: step {step_id} keeps the minimum gap of {min_gap_days} day(s) until {until}"
            ),
            Reason::WaitingForStatutoryTerm {
                step_id,
                letter_step,
                costs_due_from,
            } => write!(
                f,
                "waiting: step {step_id} claims costs, which are due only from {costs_due_from} after the term of {letter_step}"
            ),
            Reason::NoStatutoryLetter { step_id, needed } => write!(
                f,
                "step {step_id} claims costs but no {} step was sent: a person must review the case",
                needed.code()
            ),
        }
    }
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Apply these effects in one transaction. `then` says why the ladder does not go further
    /// today, when the effects hold no action.
    Act {
        effects: Vec<Effect>,
        then: Option<Reason>,
    },
    Nothing {
        reason: Reason,
    },
}

impl Decision {
    /// The actions to create.
    pub fn actions(&self) -> Vec<&Action> {
        match self {
            Decision::Act { effects, .. } => effects
                .iter()
                .filter_map(|e| match e {
                    Effect::CreateAction(a) => Some(a.as_ref()),
                    _ => None,
                })
                .collect(),
            Decision::Nothing { .. } => Vec::new(),
        }
    }

    /// A human-readable explanation, one line per effect (for `--dry-run`).
    pub fn explain(&self) -> String {
        match self {
            Decision::Nothing { reason } => format!("nothing: {reason}"),
            Decision::Act { effects, then } => {
                let mut lines: Vec<String> = effects.iter().map(|e| e.why().to_string()).collect();
                if let Some(reason) = then {
                    lines.push(format!("then nothing: {reason}"));
                }
                lines.join("\n")
            }
        }
    }
}

/// Facts that contradict each other, or arithmetic the law engine refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("the case has no claims")]
    NoClaims,
    #[error("the case has {0} claims, more than {MAX_CLAIMS}")]
    TooManyClaims(usize),
    #[error("the case has {0} step records, more than {MAX_STEP_RECORDS}")]
    TooManyStepRecords(usize),
    #[error("the case has {0} payments, more than {MAX_PAYMENTS}")]
    TooManyPayments(usize),
    #[error("claim {0:?} is not in EUR")]
    NotEuro(InvoiceId),
    #[error("claim {0:?} has an open amount below zero or above its principal")]
    OpenOutOfRange(InvoiceId),
    #[error("amount overflow")]
    Overflow,
    #[error("date out of range: {0}")]
    Date(#[from] TermError),
    #[error("collection costs: {0}")]
    Costs(#[from] CostsError),
    #[error("statutory interest: {0}")]
    Interest(#[from] RuleError),
    #[error("payment plan: {0}")]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Transition(#[from] InvalidTransition),
    #[error("step {step} of the policy counts from a step that is not earlier in the ladder")]
    AnchorNotEarlier { step: usize },
}

fn law_jurisdiction(j: Jurisdiction) -> LawJurisdiction {
    match j {
        Jurisdiction::Nl => LawJurisdiction::Netherlands,
        Jurisdiction::Be => LawJurisdiction::Belgium,
    }
}

fn law_kind(k: DebtorKind) -> TransactionKind {
    match k {
        DebtorKind::Business => TransactionKind::Commercial,
        DebtorKind::Consumer => TransactionKind::Consumer,
    }
}

fn calendar(j: Jurisdiction) -> BusinessCalendar {
    match j {
        Jurisdiction::Nl => BusinessCalendar::netherlands_atw(),
        Jurisdiction::Be => BusinessCalendar::belgium(),
    }
}

/// The statutory channel a dispatch channel counts as: SMS is electronic like e-mail; a call is
/// not a letter.
fn letter_channel(c: Channel) -> Option<term::Channel> {
    match c {
        Channel::Post => Some(term::Channel::Post),
        Channel::Email | Channel::Sms => Some(term::Channel::Email),
        Channel::Call => None,
    }
}

/// A step's deadline for the debtor when dispatched on `dispatched` over `channels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepDeadline {
    /// The last day the debtor can pay within the term.
    pub deadline: Date,
    /// For a statutory letter: the first day costs may be charged.
    pub costs_due_from: Option<Date>,
    /// For a statutory letter: its term, every day explained (receipt, first and last day).
    pub statutory_term: Option<FourteenDayLetterTerm>,
}

/// Computes a step's deadline. The fourteen-day letter (art. 6:96 lid 6 BW) runs 14 days from
/// the day after presumed receipt with the ATW extension; the Belgian first reminder to a
/// consumer starts the waiting period of art. XIX.2 WER. Over several channels the latest
/// deadline counts, so costs are never charged early. Other terms are calendar days, moved to the
/// next business day of the jurisdiction.
pub fn step_deadline(
    step: &Step,
    dispatched: Date,
    channels: &[Channel],
    debtor: &DebtorFacts,
    delivery: &DeliveryPresumption,
) -> Result<StepDeadline, DecideError> {
    let channels: &[Channel] = if channels.is_empty() {
        &step.channels
    } else {
        channels
    };
    let letter_channels = channels.iter().filter_map(|c| letter_channel(*c));
    let statutory: Option<Result<FourteenDayLetterTerm, TermError>> =
        if step.has(LegalEffect::FourteenDayLetter) {
            letter_channels
                .map(|c| term::fourteen_day_letter_term(dispatched, c, delivery, step.term_days))
                .reduce(latest)
        } else if step.has(LegalEffect::BeFirstReminder) && debtor.kind == DebtorKind::Consumer {
            letter_channels
                .map(|c| term::be_waiting_period(dispatched, c, step.term_days))
                .reduce(latest)
        } else {
            None
        };
    if let Some(term) = statutory {
        let term = term?;
        return Ok(StepDeadline {
            deadline: term.last_day,
            costs_due_from: Some(term.costs_due_from),
            statutory_term: Some(term),
        });
    }
    if step.term_days == 0 {
        return Ok(StepDeadline {
            deadline: dispatched,
            costs_due_from: None,
            statutory_term: None,
        });
    }
    let nominal = add_days(
        dispatched,
        i32::try_from(step.term_days).map_err(|_| TermError::OutOfRange)?,
    )
    .ok_or(TermError::OutOfRange)?;
    Ok(StepDeadline {
        deadline: calendar(debtor.jurisdiction).extend_to_business_day(nominal)?,
        costs_due_from: None,
        statutory_term: None,
    })
}

fn latest(
    a: Result<FourteenDayLetterTerm, TermError>,
    b: Result<FourteenDayLetterTerm, TermError>,
) -> Result<FourteenDayLetterTerm, TermError> {
    let (a, b) = (a?, b?);
    Ok(if b.last_day > a.last_day { b } else { a })
}

fn add_trigger_days(
    date: Date,
    days: u32,
    kind: DayKind,
    jurisdiction: Jurisdiction,
) -> Result<Date, DecideError> {
    match kind {
        DayKind::Calendar => Ok(add_days(
            date,
            i32::try_from(days).map_err(|_| TermError::OutOfRange)?,
        )
        .ok_or(TermError::OutOfRange)?),
        DayKind::Business => Ok(calendar(jurisdiction).add_business_days(date, days)?),
    }
}

/// Whether the case matches the conditions (`open` is the case's open principal).
pub fn conditions_match(conditions: &Conditions, debtor: &DebtorFacts, open: Money) -> bool {
    conditions.admits(debtor.kind, debtor.jurisdiction)
        && conditions.min_open_amount.is_none_or(|m| open >= m)
        && (conditions.tags_any.is_empty()
            || conditions.tags_any.iter().any(|t| debtor.tags.contains(t)))
        && !conditions.tags_none.iter().any(|t| debtor.tags.contains(t))
        && (conditions.risk_classes.is_empty()
            || debtor
                .risk_class
                .as_ref()
                .is_some_and(|r| conditions.risk_classes.contains(r)))
}

fn check_facts(facts: &CaseFacts) -> Result<(), DecideError> {
    if facts.claims.is_empty() {
        return Err(DecideError::NoClaims);
    }
    if facts.claims.len() > MAX_CLAIMS {
        return Err(DecideError::TooManyClaims(facts.claims.len()));
    }
    if facts.steps_done.len() > MAX_STEP_RECORDS {
        return Err(DecideError::TooManyStepRecords(facts.steps_done.len()));
    }
    if facts.payments.len() > MAX_PAYMENTS {
        return Err(DecideError::TooManyPayments(facts.payments.len()));
    }
    for claim in &facts.claims {
        if claim.principal.currency() != Currency::EUR || claim.open.currency() != Currency::EUR {
            return Err(DecideError::NotEuro(claim.invoice_id));
        }
        if claim.open.is_negative() || claim.open > claim.principal {
            return Err(DecideError::OpenOutOfRange(claim.invoice_id));
        }
    }
    Ok(())
}

/// Where each step of the ladder stands for this case.
struct Schedule {
    /// The day each step fired (done) or would fire (pending or passed over).
    fires_on: Vec<Date>,
    deadline: Vec<StepDeadline>,
    /// The latest record of each step, if done.
    done: Vec<Option<usize>>,
    applicable: Vec<bool>,
    /// The highest done step.
    last_done: Option<usize>,
}

fn schedule(
    facts: &CaseFacts,
    policy: &Policy,
    open: Money,
    first_due: Date,
    resumed_on: Option<Date>,
) -> Result<Schedule, DecideError> {
    let n = policy.steps.len();
    let mut s = Schedule {
        fires_on: Vec::with_capacity(n),
        deadline: Vec::with_capacity(n),
        done: vec![None; n],
        applicable: Vec::with_capacity(n),
        last_done: None,
    };
    for (r, record) in facts.steps_done.iter().enumerate() {
        if record.policy_name != policy.name {
            continue;
        }
        if let Some(i) = policy.step_index(&record.step_id) {
            let later =
                s.done[i].is_none_or(|prev| facts.steps_done[prev].dispatched <= record.dispatched);
            if later {
                s.done[i] = Some(r);
            }
            s.last_done = s.last_done.max(Some(i));
        }
    }
    for (i, step) in policy.steps.iter().enumerate() {
        let applicable = conditions_match(&step.conditions, &facts.debtor, open);
        s.applicable.push(applicable);
        let anchor = match step.trigger.anchor {
            Anchor::DueDate => first_due,
            // Validation only lets a step count from an earlier one; a hand-built policy that
            // does otherwise is refused rather than indexed out of bounds.
            Anchor::StepDeadline(j) => {
                s.deadline
                    .get(j)
                    .ok_or(DecideError::AnchorNotEarlier { step: i })?
                    .deadline
            }
        };
        let scheduled = add_trigger_days(
            anchor,
            step.trigger.days,
            step.trigger.kind,
            facts.debtor.jurisdiction,
        )?;
        let passed_over = s.last_done.is_some_and(|last| i < last);
        let (fires_on, deadline) = match s.done[i] {
            Some(r) => {
                let record = &facts.steps_done[r];
                let deadline = step_deadline(
                    step,
                    record.dispatched,
                    &record.channels,
                    &facts.debtor,
                    &facts.delivery,
                )?;
                (record.dispatched, deadline)
            }
            // A step that was skipped or does not apply gives the debtor no term: later steps
            // count from the day it would have fired.
            None if passed_over || !applicable => (
                scheduled,
                StepDeadline {
                    deadline: scheduled,
                    costs_due_from: None,
                    statutory_term: None,
                },
            ),
            // A pending step fires no earlier than the day the ladder resumed.
            None => {
                let fires_on = resumed_on.map_or(scheduled, |r| scheduled.max(r));
                let deadline = step_deadline(
                    step,
                    fires_on,
                    &step.channels,
                    &facts.debtor,
                    &facts.delivery,
                )?;
                (fires_on, deadline)
            }
        };
        s.fires_on.push(fires_on);
        s.deadline.push(deadline);
    }
    Ok(s)
}

/// The state a case is in after a step.
pub fn state_after(step: &Step) -> CaseState {
    if step.has(LegalEffect::HandOver) {
        CaseState::HandedOver
    } else if step.has(LegalEffect::FourteenDayLetter) {
        CaseState::FourteenDayLetterSent
    } else if step.channels.iter().all(|c| *c == Channel::Call) {
        CaseState::InCall
    } else if matches!(step.template.as_str(), "formal_notice" | "final_demand")
        || step.has(LegalEffect::AnnounceCosts)
        || step.has(LegalEffect::ClaimCosts)
    {
        CaseState::Noticed
    } else {
        CaseState::Reminded
    }
}

/// Decides what to do with one case today. Pure: the same facts, policy and day give the same
/// decision, and a step recorded as done is never proposed again.
pub fn decide(facts: &CaseFacts, policy: &Policy, today: Date) -> Result<Decision, DecideError> {
    check_facts(facts)?;
    let state = facts.state;
    if state.is_final() {
        return Ok(Decision::Nothing {
            reason: Reason::Final { state },
        });
    }
    let open = Money::sum(Currency::EUR, facts.claims.iter().map(|c| c.open))
        .map_err(|_| DecideError::Overflow)?;
    if open.is_zero() {
        let to = state.transition(CaseState::Paid)?;
        return Ok(Decision::Act {
            effects: vec![Effect::Transition {
                from: state,
                to,
                why: "every claim of the case is paid".to_string(),
            }],
            then: None,
        });
    }
    if !state.is_in_ladder() {
        return Ok(Decision::Nothing {
            reason: Reason::LadderEnded { state },
        });
    }
    let debtor = &facts.debtor;
    let applies = Conditions {
        min_open_amount: None,
        ..policy.applies_to.clone()
    };
    if !conditions_match(&applies, debtor, open) {
        return Ok(Decision::Nothing {
            reason: Reason::PolicyDoesNotApply {
                policy: policy.name.clone(),
            },
        });
    }
    if let Some(minimum) = policy.applies_to.min_open_amount
        && open < minimum
    {
        return Ok(Decision::Nothing {
            reason: Reason::BelowMinimum { open, minimum },
        });
    }
    if let Some(pause) = facts.pause.as_ref().filter(|p| p.is_active(today)) {
        return Ok(Decision::Nothing {
            reason: Reason::Paused {
                reason: pause.reason,
                until: pause.until,
            },
        });
    }
    if debtor.vulnerable {
        return Ok(Decision::Nothing {
            reason: Reason::Paused {
                reason: PauseReason::VulnerableDebtor,
                until: None,
            },
        });
    }
    // The ladder resumes from the latest of: the stored resume day, the day after an expired
    // pause, and the day a plan lapsed or a promise was broken (below).
    let mut resumed_on = facts.resumed_on;
    if let Some(until) = facts.pause.as_ref().and_then(|p| p.until) {
        resumed_on = resumed_on.max(until.tomorrow().ok());
    }
    let mut effects = Vec::new();
    if let Some(plan) = &facts.plan {
        match plan_status(&plan.plan, &facts.payments, plan.grace_days, today)? {
            PlanStatus::OnTrack { next_due } => {
                return Ok(Decision::Nothing {
                    reason: Reason::Paused {
                        reason: PauseReason::PaymentPlan,
                        until: Some(next_due),
                    },
                });
            }
            PlanStatus::Completed => effects.push(Effect::EndPlan {
                end: ArrangementEnd::Completed,
                why: format!(
                    "every instalment of the payment plan was paid, but {open} is still open: \
                     the ladder resumes"
                ),
            }),
            PlanStatus::Lapsed {
                number,
                due,
                lapsed_on,
            } => {
                resumed_on = resumed_on.max(Some(lapsed_on));
                let grace_days = plan.grace_days;
                let why = format!(
                    "instalment {number} due {due} was not paid within {grace_days} grace day(s): \
                     the plan lapsed on {lapsed_on}, the whole balance of {open} is due at once \
                     and the ladder resumes"
                );
                effects.push(Effect::EndPlan {
                    end: ArrangementEnd::Lapsed { on: lapsed_on },
                    why,
                });
            }
        }
    }
    if let Some(promise) = &facts.promise {
        let PromiseToPay { amount, pay_by, .. } = *promise;
        match promise_status(promise, &facts.payments, today)? {
            PromiseStatus::Pending { pay_by } => {
                return Ok(Decision::Nothing {
                    reason: Reason::Paused {
                        reason: PauseReason::PromiseToPay,
                        until: Some(pay_by),
                    },
                });
            }
            PromiseStatus::Kept => effects.push(Effect::EndPromise {
                end: ArrangementEnd::Kept,
                why: format!(
                    "the promise to pay {amount} by {pay_by} was kept, but {open} is still open: \
                     the ladder resumes"
                ),
            }),
            PromiseStatus::Broken { broken_on } => {
                resumed_on = resumed_on.max(Some(broken_on));
                effects.push(Effect::EndPromise {
                    end: ArrangementEnd::Broken { on: broken_on },
                    why: format!(
                        "the promise to pay {amount} by {pay_by} was broken: the ladder resumes"
                    ),
                });
            }
        }
    }
    let outcome = if debtor.do_not_contact {
        Err(Reason::DoNotContact)
    } else {
        ladder(facts, policy, today, open, resumed_on)?
    };
    match outcome {
        Ok(ladder_effects) => {
            effects.extend(ladder_effects);
            Ok(Decision::Act {
                effects,
                then: None,
            })
        }
        Err(reason) if effects.is_empty() => Ok(Decision::Nothing { reason }),
        Err(reason) => Ok(Decision::Act {
            effects,
            then: Some(reason),
        }),
    }
}

/// Where one step of the ladder stands for a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// Sent on `fires_on`.
    Done,
    /// Passed over by catch-up (a later step was sent).
    Skipped,
    /// The step's conditions do not match the case.
    NotApplicable,
    /// Still to come: it fires on `fires_on` at the earliest.
    Pending,
}

/// One row of [`preview`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPreview {
    pub step_id: String,
    pub status: StepStatus,
    /// The dispatch day (done) or the earliest day the step fires (pending, skipped).
    pub fires_on: Date,
    /// The debtor's deadline (for pending steps: if dispatched on `fires_on`).
    pub deadline: Date,
}

/// The ladder of a case as `decide` sees it: every step with its status and dates, for the
/// case page and `--dry-run`. It ignores pauses, plans and promises (see [`decide`] for those),
/// and statutory guards may still hold a pending step back.
pub fn preview(facts: &CaseFacts, policy: &Policy) -> Result<Vec<StepPreview>, DecideError> {
    check_facts(facts)?;
    let open = Money::sum(Currency::EUR, facts.claims.iter().map(|c| c.open))
        .map_err(|_| DecideError::Overflow)?;
    let first_due = facts
        .claims
        .iter()
        .filter(|c| c.open.is_positive())
        .map(|c| c.due)
        .min()
        .unwrap_or(facts.claims[0].due);
    let s = schedule(facts, policy, open, first_due, facts.resumed_on)?;
    Ok(policy
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| StepPreview {
            step_id: step.id.clone(),
            status: if s.done[i].is_some() {
                StepStatus::Done
            } else if !s.applicable[i] {
                StepStatus::NotApplicable
            } else if s.last_done.is_some_and(|last| i < last) {
                StepStatus::Skipped
            } else {
                StepStatus::Pending
            },
            fires_on: s.fires_on[i],
            deadline: s.deadline[i].deadline,
        })
        .collect())
}

/// The ladder part of [`decide`]: `Ok(Ok(effects))` to act, `Ok(Err(reason))` to wait.
fn ladder(
    facts: &CaseFacts,
    policy: &Policy,
    today: Date,
    open: Money,
    resumed_on: Option<Date>,
) -> Result<Result<Vec<Effect>, Reason>, DecideError> {
    let first_due = facts
        .claims
        .iter()
        .filter(|c| c.open.is_positive())
        .map(|c| c.due)
        .min()
        .ok_or(DecideError::NoClaims)?;
    let s = schedule(facts, policy, open, first_due, resumed_on)?;
    let start = s.last_done.map_or(0, |i| i.saturating_add(1));
    let pending: Vec<usize> = (start..policy.steps.len())
        .filter(|i| s.applicable[*i])
        .collect();
    let Some(&next) = pending.first() else {
        let last_step = s
            .last_done
            .map_or_else(|| "none".to_string(), |i| policy.steps[i].id.clone());
        return Ok(Err(Reason::LadderComplete { last_step }));
    };
    if s.fires_on[next] > today {
        return Ok(Err(Reason::WaitingForStep {
            step_id: policy.steps[next].id.clone(),
            fires_on: s.fires_on[next],
        }));
    }
    let (target, rule) = match policy.catch_up {
        CatchUp::Highest => {
            // Never skip past a statutory letter: the first pending gate caps the jump.
            let cap = pending.iter().copied().find(|i| policy.steps[*i].is_gate());
            let due: Vec<usize> = pending
                .iter()
                .copied()
                .filter(|i| s.fires_on[*i] <= today && cap.is_none_or(|c| *i <= c))
                .collect();
            let highest = due.last().copied().unwrap_or(next);
            let skipped: Vec<&str> = due
                .iter()
                .filter(|i| **i < highest)
                .map(|i| policy.steps[*i].id.as_str())
                .collect();
            let mut rule = String::new();
            if !skipped.is_empty() {
                rule = format!("catch-up highest: skipped {}", skipped.join(", "));
            }
            if let Some(c) = cap
                && pending.iter().any(|i| *i > c && s.fires_on[*i] <= today)
            {
                if !rule.is_empty() {
                    rule.push_str("; ");
                }
                rule.push_str(&format!(
                    "{} is a statutory letter and is never skipped",
                    policy.steps[c].id
                ));
            }
            (highest, rule)
        }
        CatchUp::InOrder { min_gap_days } => {
            let last_dispatch = facts
                .steps_done
                .iter()
                .filter(|r| r.policy_name == policy.name)
                .map(|r| r.dispatched)
                .max();
            if let Some(last) = last_dispatch {
                let until = add_days(
                    last,
                    i32::try_from(min_gap_days).map_err(|_| TermError::OutOfRange)?,
                )
                .ok_or(TermError::OutOfRange)?;
                if today < until {
                    return Ok(Err(Reason::WaitingForGap {
                        step_id: policy.steps[next].id.clone(),
                        until,
                        min_gap_days,
                    }));
                }
            }
            (next, String::new())
        }
    };
    let step = &policy.steps[target];
    let debtor = &facts.debtor;
    // The statutory guard, independent of policy validation: no costs from a consumer before the
    // term of the statutory letter has expired.
    let gate_effect = match (debtor.kind, debtor.jurisdiction) {
        (DebtorKind::Consumer, Jurisdiction::Nl) => Some(LegalEffect::FourteenDayLetter),
        (DebtorKind::Consumer, Jurisdiction::Be) => Some(LegalEffect::BeFirstReminder),
        (DebtorKind::Business, _) => None,
    };
    let mut letter_term: Option<StepDeadline> = None;
    if let Some(gate) = gate_effect
        && (step.has(LegalEffect::ClaimCosts) || step.has(LegalEffect::ReminderFee))
    {
        // Only a letter (post or e-mail) starts a statutory term: a gate recorded as sent by call
        // alone does not count.
        let sent = (0..target).rev().find_map(|i| {
            let term = s.deadline[i].costs_due_from?;
            (policy.steps[i].has(gate) && s.done[i].is_some()).then_some((i, term))
        });
        let Some((g, costs_due_from)) = sent else {
            return Ok(Err(Reason::NoStatutoryLetter {
                step_id: step.id.clone(),
                needed: gate,
            }));
        };
        if today < costs_due_from {
            return Ok(Err(Reason::WaitingForStatutoryTerm {
                step_id: step.id.clone(),
                letter_step: policy.steps[g].id.clone(),
                costs_due_from,
            }));
        }
        letter_term = Some(s.deadline[g]);
    }
    // One letter covers every overdue claim (a claim is overdue from the day after its due date).
    let overdue = Money::sum(
        Currency::EUR,
        facts
            .claims
            .iter()
            .filter(|c| c.due < today)
            .map(|c| c.open),
    )
    .map_err(|_| DecideError::Overflow)?;
    if !overdue.is_positive() {
        return Ok(Err(Reason::WaitingForStep {
            step_id: step.id.clone(),
            fires_on: first_due.tomorrow().map_err(|_| TermError::OutOfRange)?,
        }));
    }
    let amounts = stated_amounts(facts, step, overdue, today, letter_term)?;
    let deadline = step_deadline(step, today, &step.channels, debtor, &facts.delivery)?;
    let anchor = match step.trigger.anchor {
        Anchor::DueDate => format!("the due date {first_due}"),
        Anchor::StepDeadline(j) => format!(
            "the deadline of {} ({})",
            policy.steps[j].id, s.deadline[j].deadline
        ),
    };
    let mut why = format!(
        "{} v{} step {} ({}): {} {} day(s) after {anchor}, due on {}",
        policy.name,
        policy.version,
        target.saturating_add(1),
        step.id,
        step.trigger.days,
        match step.trigger.kind {
            DayKind::Calendar => "calendar",
            DayKind::Business => "business",
        },
        s.fires_on[target]
    );
    if !rule.is_empty() {
        why.push_str("; ");
        why.push_str(&rule);
    }
    let mut effects = Vec::new();
    let to = state_after(step);
    if to != facts.state {
        let to = facts.state.transition(to)?;
        effects.push(Effect::Transition {
            from: facts.state,
            to,
            why: format!("{} ({}) moves the case to {to}", step.id, step.template),
        });
    }
    let invoices = facts
        .claims
        .iter()
        .filter(|c| c.open.is_positive() && c.due < today)
        .map(|c| c.invoice_id)
        .collect();
    effects.insert(
        0,
        Effect::CreateAction(Box::new(Action {
            key: IdempotencyKey::new(facts.case_id, &policy.name, policy.version, &step.id),
            policy_name: policy.name.clone(),
            policy_version: policy.version,
            step_id: step.id.clone(),
            template: step.template.clone(),
            channels: step.channels.clone(),
            term_days: step.term_days,
            deadline: deadline.deadline,
            costs_due_from: deadline.costs_due_from,
            statutory_term: deadline.statutory_term,
            invoices,
            amounts,
            why,
        })),
    );
    Ok(Ok(effects))
}

fn costs_request(facts: &CaseFacts, open: Money, today: Date) -> Result<CostsRequest, DecideError> {
    let late_invoices = u32::try_from(
        facts
            .claims
            .iter()
            .filter(|c| c.open.is_positive() && c.due < today)
            .count(),
    )
    .map_err(|_| DecideError::Overflow)?;
    // The VAT uplift exists only in the Netherlands (BIK art. 2 lid 3).
    let vat = match facts.debtor.jurisdiction {
        Jurisdiction::Nl => facts.vat,
        Jurisdiction::Be => VatPosition::Deductible,
    };
    Ok(CostsRequest {
        jurisdiction: law_jurisdiction(facts.debtor.jurisdiction),
        kind: law_kind(facts.debtor.kind),
        principal: open,
        late_invoices,
        vat,
        vat_rate: nl_general_vat_rate()?,
    })
}

/// The amounts a step's letter states, computed through incasso-rules. Costs are aggregated over
/// all open claims of the case (one letter, RULES.md §2.5), with at least €40 per late invoice
/// for businesses. NL consumer costs are computed on the principal open today, which is never
/// more than the principal open at the end of the fourteen-day term (HR 25-11-2016), so they are
/// never overstated.
fn stated_amounts(
    facts: &CaseFacts,
    step: &Step,
    open: Money,
    today: Date,
    letter_term: Option<StepDeadline>,
) -> Result<StatedAmounts, DecideError> {
    let debtor = &facts.debtor;
    let interest = if step.has(LegalEffect::ClaimInterest) {
        let mut sum = Money::zero(Currency::EUR);
        for claim in facts
            .claims
            .iter()
            .filter(|c| c.open.is_positive() && c.due < today)
        {
            let spec = claim_interest(
                law_jurisdiction(debtor.jurisdiction),
                law_kind(debtor.kind),
                None,
                claim.open,
                claim.due,
                today,
            )?;
            sum = sum
                .checked_add(spec.interest)
                .map_err(|_| DecideError::Overflow)?;
        }
        Some(sum)
    } else {
        None
    };
    let request = costs_request(facts, open, today)?;
    let costs = if step.has(LegalEffect::ClaimCosts) {
        match (debtor.kind, debtor.jurisdiction, letter_term) {
            (DebtorKind::Consumer, Jurisdiction::Nl, Some(letter)) => {
                let term = letter.statutory_term.ok_or(TermError::OutOfRange)?;
                match nl_consumer_collection_costs(
                    open,
                    Money::zero(Currency::EUR),
                    &term,
                    today,
                    request.vat,
                    request.vat_rate,
                )? {
                    ConsumerCostsStatus::Due(c) => Some(c),
                    ConsumerCostsStatus::NotYetDue { .. } | ConsumerCostsStatus::PaidWithinTerm => {
                        None
                    }
                }
            }
            (DebtorKind::Consumer, _, None) => None,
            _ => Some(collection_costs(&request)?),
        }
    } else {
        None
    };
    let announces = step.has(LegalEffect::AnnounceCosts)
        || step.has(LegalEffect::FourteenDayLetter)
        || step.has(LegalEffect::BeFirstReminder);
    let costs_announced = if announces {
        Some(collection_costs(&request)?.total_costs)
    } else {
        None
    };
    let reminder_fee = if step.has(LegalEffect::ReminderFee)
        && debtor.kind == DebtorKind::Consumer
        && debtor.jurisdiction == Jurisdiction::Be
        && letter_term.is_some()
    {
        Some(BE_FURTHER_REMINDER_MAXIMUM)
    } else {
        None
    };
    let total = [
        Some(open),
        interest,
        costs.map(|c| c.total_costs),
        reminder_fee,
    ]
    .into_iter()
    .flatten()
    .try_fold(Money::zero(Currency::EUR), |acc, m| acc.checked_add(m))
    .map_err(|_| DecideError::Overflow)?;
    Ok(StatedAmounts {
        principal: open,
        interest,
        costs,
        costs_announced,
        reminder_fee,
        total,
    })
}
