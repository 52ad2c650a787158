//! The invariants the simulation checks every simulated day, as functions over what the store
//! holds, so that they can be exercised on their own.
//!
//! - `no_action_twice`: no two actions with the same idempotency key, and no two actions with the
//!   same (case, policy name, step) — whatever their status.
//! - `no_action_for_paid_case`: an action is only created for a debtor with an overdue open claim
//!   on the day it is created.
//! - `no_action_for_paused_case`: no action is created while the case is paused (dispute).
//! - `consumer_costs_after_term`: an action that charges collection costs to a Dutch consumer
//!   needs a sent fourteen-day letter whose statutory term (recomputed with `incasso-rules`: the
//!   delivery presumption, fourteen days from the day after receipt, ATW extension) ended before
//!   the action's date.
//! - `costs_within_cap`: collection costs never exceed the legal cap: NL the BIK staffel on the
//!   principal (at most €6,775; B2B at least €40 per invoice allowed), BE the Book XIX cap
//!   (consumers) or €40 per invoice (businesses).
//! - `no_pending_action_on_closed_case`: after the run, no queued or held action belongs to a
//!   closed case (a paid case cancels what is pending, so no letter goes to a debtor who paid).
//! - `payment_allocated_exactly_once`: the allocations of every payment add up to the payment.
//! - `open_amount_consistent`: the open amount of an invoice is its gross amount minus its
//!   principal allocations, and equals what the simulated debtors paid.

use std::collections::{HashMap, HashSet};
use std::fmt;

use incasso_calendar::Date;
use incasso_domain::{DebtorKind, Jurisdiction};
use incasso_money::Money;
use incasso_rules::costs::{
    FIXED_SUM_PER_LATE_INVOICE, NL_BIK_MAXIMUM, be_consumer_damages_cap, nl_bik_staffel,
};
use incasso_rules::term::{Channel, DeliveryPresumption, fourteen_day_letter_term};
use incasso_store::ActionRow;

/// A broken invariant: the day, the case (when one is concerned) and the invariant's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvariantViolation {
    /// The simulated day (0-based) and its date.
    pub day: u32,
    pub date: Date,
    pub case: Option<i64>,
    /// The invariant's name (see the module documentation).
    pub invariant: &'static str,
    pub detail: String,
}

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "day {} ({})", self.day, self.date)?;
        if let Some(c) = self.case {
            write!(f, ", case {c}")?;
        }
        write!(
            f,
            ": invariant {} violated: {}",
            self.invariant, self.detail
        )
    }
}

impl std::error::Error for InvariantViolation {}

/// The day being checked.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub day: u32,
    pub date: Date,
}

impl Ctx {
    pub fn fail(
        &self,
        case: Option<i64>,
        invariant: &'static str,
        detail: String,
    ) -> InvariantViolation {
        InvariantViolation {
            day: self.day,
            date: self.date,
            case,
            invariant,
            detail,
        }
    }
}

/// `no_action_twice` over every action of one creditor. Returns the number of facts checked.
pub fn no_action_twice(ctx: Ctx, actions: &[ActionRow]) -> Result<u64, InvariantViolation> {
    let mut keys: HashMap<&str, i64> = HashMap::with_capacity(actions.len());
    let mut steps: HashMap<(i64, &str, &str), i64> = HashMap::with_capacity(actions.len());
    for a in actions {
        if let Some(other) = keys.insert(a.action.idempotency_key.as_str(), a.id) {
            return Err(ctx.fail(
                Some(a.case_id),
                "no_action_twice",
                format!(
                    "actions {other} and {} share the idempotency key {}",
                    a.id, a.action.idempotency_key
                ),
            ));
        }
        if let Some(other) = steps.insert(
            (
                a.case_id,
                a.action.policy_name.as_str(),
                a.action.step_id.as_str(),
            ),
            a.id,
        ) {
            return Err(ctx.fail(
                Some(a.case_id),
                "no_action_twice",
                format!(
                    "actions {other} and {} are both step {} of policy {}",
                    a.id, a.action.step_id, a.action.policy_name
                ),
            ));
        }
    }
    Ok(2 * actions.len() as u64)
}

/// The first day collection costs are due after a fourteen-day letter dispatched on
/// `dispatched` by post and e-mail (the later of the two channels' terms), recomputed with
/// `incasso-rules`.
pub fn consumer_costs_due_from(dispatched: Date) -> anyhow::Result<Date> {
    let presumption = DeliveryPresumption::default();
    let post = fourteen_day_letter_term(dispatched, Channel::Post, &presumption, 14)?;
    let email = fourteen_day_letter_term(dispatched, Channel::Email, &presumption, 14)?;
    Ok(post.costs_due_from.max(email.costs_due_from))
}

/// `consumer_costs_after_term` for one action of a Dutch consumer's case, given the other
/// actions of its case.
pub fn consumer_costs_after_term(
    ctx: Ctx,
    action: &ActionRow,
    case_actions: &[&ActionRow],
) -> Result<u64, InvariantViolation> {
    let charged = action.action.costs.is_some_and(|c| c.is_positive());
    if !charged {
        return Ok(1);
    }
    let fail = |detail: String| ctx.fail(Some(action.case_id), "consumer_costs_after_term", detail);
    let letter = case_actions.iter().find(|a| {
        a.id != action.id
            && a.action.template == "fourteen_day_letter"
            && a.action.status == incasso_store::ActionStatus::Sent
    });
    let Some(letter) = letter else {
        return Err(fail(format!(
            "action {} ({}) charges costs {} but no fourteen-day letter was sent",
            action.id,
            action.action.step_id,
            action
                .action
                .costs
                .map(|c| c.to_string())
                .unwrap_or_default()
        )));
    };
    let Some(dispatched) = letter.dispatched_on else {
        return Err(fail(format!(
            "the fourteen-day letter {} is sent without a dispatch date",
            letter.id
        )));
    };
    let due_from = consumer_costs_due_from(dispatched)
        .map_err(|e| fail(format!("the letter's term cannot be computed: {e}")))?;
    if action.action.created_on < due_from {
        return Err(fail(format!(
            "action {} ({}) of {} charges costs; the fourteen-day letter {} sent on {dispatched} allows costs only from {due_from}",
            action.id, action.action.step_id, action.action.created_on, letter.id
        )));
    }
    Ok(1)
}

/// The legal maximum of collection costs (incl. a VAT uplift when the creditor cannot deduct
/// VAT) for claims with the given principals (cents), of which the oldest has been overdue for
/// `years_overdue` full years. Capitalised interest after a year raises the NL base: the bound
/// allows up to 20% per year on top of the principal, more than any statutory rate.
pub fn costs_cap(
    jurisdiction: Jurisdiction,
    kind: DebtorKind,
    principals: &[i64],
    years_overdue: i64,
    vat_deductible: bool,
) -> anyhow::Result<i64> {
    let p: i64 = principals.iter().sum();
    let base = p.saturating_add(p.saturating_mul(years_overdue.max(0)) / 5);
    let n = i64::try_from(principals.len())?.max(1);
    let per_invoice = FIXED_SUM_PER_LATE_INVOICE.minor().saturating_mul(n);
    let cap = match (jurisdiction, kind) {
        (Jurisdiction::Nl, DebtorKind::Consumer) => nl_bik_staffel(Money::eur_cents(base))?
            .minor()
            .min(NL_BIK_MAXIMUM.minor()),
        (Jurisdiction::Nl, DebtorKind::Business) => nl_bik_staffel(Money::eur_cents(base))?
            .minor()
            .min(NL_BIK_MAXIMUM.minor())
            .max(per_invoice),
        (Jurisdiction::Be, DebtorKind::Consumer) => {
            be_consumer_damages_cap(Money::eur_cents(base))?.minor()
        }
        (Jurisdiction::Be, DebtorKind::Business) => per_invoice,
    };
    Ok(if vat_deductible || jurisdiction != Jurisdiction::Nl {
        cap
    } else {
        // BIK art. 2 lid 3: the general VAT rate (21%) on top, rounded up.
        (cap * 121 + 99) / 100
    })
}

/// `costs_within_cap` for one action.
pub fn costs_within_cap(
    ctx: Ctx,
    action: &ActionRow,
    jurisdiction: Jurisdiction,
    cap: i64,
) -> Result<u64, InvariantViolation> {
    let Some(costs) = action.action.costs else {
        return Ok(1);
    };
    if costs.minor() > cap {
        return Err(ctx.fail(
            Some(action.case_id),
            "costs_within_cap",
            format!(
                "action {} ({}) charges costs {} above the legal cap {} ({:?})",
                action.id,
                action.action.step_id,
                costs,
                Money::eur_cents(cap),
                jurisdiction
            ),
        ));
    }
    if costs.is_negative() {
        return Err(ctx.fail(
            Some(action.case_id),
            "costs_within_cap",
            format!("action {} charges negative costs {costs}", action.id),
        ));
    }
    Ok(1)
}

/// `payment_allocated_exactly_once`: `allocated` holds, per payment id, the sum of its
/// allocations found; `payments` the payments with their amounts. Every payment must be
/// allocated exactly, and no allocation may belong to an unknown payment.
pub fn payments_allocated_exactly(
    ctx: Ctx,
    payments: &HashMap<i64, i64>,
    allocated: &HashMap<i64, i64>,
) -> Result<u64, InvariantViolation> {
    let mut ids: Vec<&i64> = payments.keys().collect();
    ids.sort();
    for id in ids {
        let amount = payments.get(id).copied().unwrap_or(0);
        let got = allocated.get(id).copied().unwrap_or(0);
        if got != amount {
            return Err(ctx.fail(
                None,
                "payment_allocated_exactly_once",
                format!(
                    "payment {id} of {} has allocations adding up to {}",
                    Money::eur_cents(amount),
                    Money::eur_cents(got)
                ),
            ));
        }
    }
    let known: HashSet<&i64> = payments.keys().collect();
    let mut stray: Vec<&i64> = allocated.keys().filter(|p| !known.contains(p)).collect();
    stray.sort();
    if let Some(p) = stray.first() {
        return Err(ctx.fail(
            None,
            "payment_allocated_exactly_once",
            format!("allocations to payment {p}, which is not a payment of the creditor"),
        ));
    }
    Ok(payments.len() as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use incasso_calendar::parse_iso;

    #[test]
    fn cap_follows_the_staffel_and_the_b2b_floor() {
        // €1,000: 15% = €150.
        assert_eq!(
            costs_cap(Jurisdiction::Nl, DebtorKind::Consumer, &[100_000], 0, true).unwrap(),
            15_000
        );
        // Ten invoices of €100 to a business: €40 each beats the staffel (€150).
        assert_eq!(
            costs_cap(
                Jurisdiction::Nl,
                DebtorKind::Business,
                &[10_000; 10],
                0,
                true
            )
            .unwrap(),
            40_000
        );
        // Huge principal: €6,775 at most.
        assert_eq!(
            costs_cap(
                Jurisdiction::Nl,
                DebtorKind::Consumer,
                &[1_000_000_000],
                0,
                true
            )
            .unwrap(),
            677_500
        );
    }

    #[test]
    fn consumer_term_runs_from_presumed_receipt() {
        // Posted Friday 2025-03-07: received Tuesday 03-11 (Sunday, Monday don't count); the
        // term runs 03-12..03-25; costs from 03-26.
        let d = parse_iso("2025-03-07").unwrap();
        assert_eq!(
            consumer_costs_due_from(d).unwrap(),
            parse_iso("2025-03-26").unwrap()
        );
    }
}
