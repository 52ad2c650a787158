//! Property tests of the dunning invariants, over random debtors, claims, payments, pauses and
//! missed run days on the shipped presets:
//!
//! - no action for a paid or paused case;
//! - no action twice for the same (case, step, policy version), and `decide` is deterministic;
//! - no collection costs from a Dutch consumer before the fourteen-day letter's term expired;
//! - collection costs never above the legal cap;
//! - catch-up: `highest` creates at most one action per run; `in_order` keeps the minimum gap.

mod common;

use common::*;
use incasso_calendar::{Date, add_days};
use incasso_domain::{DebtorKind, InvoiceId, Jurisdiction};
use incasso_dunning::{
    CaseFacts, CatchUp, ClaimFacts, Decision, LegalEffect, Pause, PauseReason, PaymentFact, Policy,
    Preset, decide, step_deadline,
};
use incasso_money::Money;
use incasso_rules::costs::{
    BE_CONSUMER_DAMAGES_MAXIMUM, FIXED_SUM_PER_LATE_INVOICE, NL_BIK_MAXIMUM, nl_bik_staffel,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct World {
    preset: Preset,
    in_order_gap: Option<u32>,
    claims: Vec<(i64, i64)>,
    /// Per day: whether the run happens.
    runs: Vec<bool>,
    /// (day, cents) payments.
    payments: Vec<(usize, i64)>,
    /// (first day, length) of a dispute pause.
    pause: Option<(usize, usize)>,
    start: i32,
}

fn world() -> impl Strategy<Value = World> {
    (
        prop_oneof![
            Just(Preset::NlB2b),
            Just(Preset::NlB2c),
            Just(Preset::BeB2c),
            Just(Preset::BeB2b)
        ],
        prop::option::of(0u32..6),
        prop::collection::vec((1i64..5_000_000, 0i64..40), 1..5),
        prop::collection::vec(prop::bool::weighted(0.6), 120),
        prop::collection::vec((0usize..120, 1i64..2_000_000), 0..3),
        prop::option::of((0usize..100, 1usize..30)),
        0i32..700,
    )
        .prop_map(
            |(preset, in_order_gap, claims, runs, payments, pause, start)| World {
                preset,
                in_order_gap,
                claims,
                runs,
                payments,
                pause,
                start,
            },
        )
}

fn kind_of(p: Preset) -> (DebtorKind, Jurisdiction) {
    match p {
        Preset::NlB2b => (DebtorKind::Business, Jurisdiction::Nl),
        Preset::NlB2c => (DebtorKind::Consumer, Jurisdiction::Nl),
        Preset::BeB2c => (DebtorKind::Consumer, Jurisdiction::Be),
        Preset::BeB2b => (DebtorKind::Business, Jurisdiction::Be),
    }
}

fn day(base: Date, n: usize) -> Date {
    add_days(base, i32::try_from(n).unwrap()).unwrap()
}

/// Applies a payment to the claims in order (oldest first).
fn pay(facts: &mut CaseFacts, cents: i64, on: Date) {
    let mut left = cents;
    for claim in &mut facts.claims {
        let take = left.min(claim.open.minor());
        claim.open = Money::eur_cents(claim.open.minor() - take);
        left -= take;
    }
    facts.payments.push(PaymentFact {
        received: on,
        amount: Money::eur_cents(cents - left),
    });
}

fn policy_for(w: &World) -> Policy {
    let mut policy = w.preset.load().unwrap();
    if let Some(gap) = w.in_order_gap {
        policy.catch_up = CatchUp::InOrder { min_gap_days: gap };
    }
    policy
}

/// Checks every invariant of one decision.
fn check_decision(
    facts: &CaseFacts,
    policy: &Policy,
    today: Date,
    decision: &Decision,
) -> Result<(), TestCaseError> {
    let open: i64 = facts.claims.iter().map(|c| c.open.minor()).sum();
    let actions = decision.actions();
    // Deterministic.
    prop_assert_eq!(&decide(facts, policy, today).unwrap(), decision);
    // Paid or paused: nothing goes out.
    if open == 0 || facts.pause.as_ref().is_some_and(|p| p.is_active(today)) {
        prop_assert!(actions.is_empty(), "{:?}", decision);
    }
    if facts.state.is_final() || !facts.state.is_in_ladder() {
        prop_assert!(actions.is_empty());
    }
    // Catch-up: one letter per debtor per run.
    prop_assert!(actions.len() <= 1);
    for action in actions {
        // Never twice for the same step.
        prop_assert!(
            !facts
                .steps_done
                .iter()
                .any(|r| r.policy_name == policy.name && r.step_id == action.step_id),
            "step {} proposed again",
            action.step_id
        );
        prop_assert_eq!(
            action.key.as_str(),
            format!(
                "dunning:7:{}:v{}:{}",
                policy.name, policy.version, action.step_id
            )
        );
        // In order: the minimum gap since the last dispatch.
        if let CatchUp::InOrder { min_gap_days } = policy.catch_up
            && let Some(last) = facts.steps_done.iter().map(|r| r.dispatched).max()
        {
            prop_assert!(today >= add_days(last, i32::try_from(min_gap_days).unwrap()).unwrap());
        }
        let late = i64::try_from(
            facts
                .claims
                .iter()
                .filter(|c| c.open.is_positive() && c.due < today)
                .count(),
        )
        .unwrap();
        if let Some(costs) = action.amounts.costs {
            let costs = costs.total_costs;
            match (facts.debtor.kind, facts.debtor.jurisdiction) {
                (DebtorKind::Consumer, Jurisdiction::Nl) => {
                    // Only after an expired fourteen-day letter term.
                    let expired = facts.steps_done.iter().any(|r| {
                        let step = &policy.steps[policy.step_index(&r.step_id).unwrap()];
                        step.has(LegalEffect::FourteenDayLetter)
                            && step_deadline(
                                step,
                                r.dispatched,
                                &r.channels,
                                &facts.debtor,
                                &facts.delivery,
                            )
                            .unwrap()
                            .costs_due_from
                            .unwrap()
                                <= today
                    });
                    prop_assert!(expired, "NL consumer costs before the fourteen-day term");
                    prop_assert!(costs <= nl_bik_staffel(Money::eur_cents(open)).unwrap());
                    prop_assert!(costs <= NL_BIK_MAXIMUM);
                }
                (DebtorKind::Business, Jurisdiction::Nl) => {
                    let floor = FIXED_SUM_PER_LATE_INVOICE.minor() * late;
                    prop_assert!(
                        costs.minor()
                            <= nl_bik_staffel(Money::eur_cents(open))
                                .unwrap()
                                .minor()
                                .max(floor)
                    );
                }
                (DebtorKind::Consumer, Jurisdiction::Be) => {
                    prop_assert!(costs <= BE_CONSUMER_DAMAGES_MAXIMUM);
                    prop_assert!(
                        facts
                            .steps_done
                            .iter()
                            .any(|r| r.step_id == "first_reminder")
                    );
                }
                (DebtorKind::Business, Jurisdiction::Be) => {
                    prop_assert_eq!(costs.minor(), FIXED_SUM_PER_LATE_INVOICE.minor() * late);
                }
            }
        }
        if let Some(fee) = action.amounts.reminder_fee {
            prop_assert!(fee <= eur("7.50"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_over_random_runs(w in world()) {
        let policy = policy_for(&w);
        let (kind, jurisdiction) = kind_of(w.preset);
        let base = add_days(d("2024-01-01"), w.start).unwrap();
        let mut facts = case(kind, jurisdiction, "1.00", "2024-01-01");
        facts.claims = w
            .claims
            .iter()
            .enumerate()
            .map(|(i, (cents, due_offset))| ClaimFacts {
                invoice_id: InvoiceId::new(i64::try_from(i).unwrap()),
                principal: Money::eur_cents(*cents),
                open: Money::eur_cents(*cents),
                due: add_days(base, -i32::try_from(*due_offset).unwrap()).unwrap(),
            })
            .collect();
        for (n, run) in w.runs.iter().enumerate() {
            let today = day(base, n);
            for (_, cents) in w.payments.iter().filter(|(on, _)| *on == n) {
                pay(&mut facts, *cents, today);
            }
            facts.pause = w.pause.and_then(|(from, len)| {
                (n >= from).then(|| Pause {
                    reason: PauseReason::Dispute,
                    until: Some(day(base, from + len)),
                    note: String::new(),
                })
            });
            if !run {
                continue;
            }
            let decision = decide(&facts, &policy, today).unwrap();
            check_decision(&facts, &policy, today, &decision)?;
            apply(&mut facts, &policy, &decision, today);
            // Idempotent: the same day again, with the step recorded, proposes nothing new.
            let again = decide(&facts, &policy, today).unwrap();
            check_decision(&facts, &policy, today, &again)?;
            apply(&mut facts, &policy, &again, today);
        }
    }

    #[test]
    fn highest_after_missed_days_yields_at_most_one_action(
        preset in prop_oneof![Just(Preset::NlB2b), Just(Preset::NlB2c), Just(Preset::BeB2c), Just(Preset::BeB2b)],
        late in 0i32..200,
        cents in 1i64..10_000_000,
    ) {
        let policy = preset.load().unwrap();
        let (kind, jurisdiction) = kind_of(preset);
        let facts = case(kind, jurisdiction, &Money::eur_cents(cents).to_decimal_string(), "2025-01-06");
        let today = add_days(d("2025-01-06"), late).unwrap();
        let decision = decide(&facts, &policy, today).unwrap();
        prop_assert!(decision.actions().len() <= 1);
        // A consumer is never charged costs on the first letter.
        if kind == DebtorKind::Consumer {
            for a in decision.actions() {
                prop_assert!(a.amounts.costs.is_none(), "{:?}", a);
            }
        }
    }
}

proptest! {
    /// Art. 6:96 lid 6 BW: costs appear exactly from the day after the fourteen-day letter's
    /// (receipt presumption + 14 days + ATW) term, as computed by incasso-rules.
    #[test]
    fn nl_consumer_costs_exactly_after_the_fourteen_day_term(
        sent in 0i32..730,
        wait in 0i32..40,
        post in proptest::bool::ANY,
        cents in 1i64..100_000_000,
    ) {
        use incasso_dunning::Channel;
        use incasso_rules::term::{self, DeliveryPresumption};
        let policy = Preset::NlB2c.load().unwrap();
        let due = d("2024-01-01");
        let letter_day = add_days(d("2024-01-20"), sent).unwrap();
        let mut facts = case(DebtorKind::Consumer, Jurisdiction::Nl, &Money::eur_cents(cents).to_decimal_string(), "2024-01-01");
        let channel = if post { Channel::Post } else { Channel::Email };
        facts.state = incasso_dunning::CaseState::FourteenDayLetterSent;
        facts.steps_done = vec![
            record(&policy, "payment_reminder", "2024-01-03", &[Channel::Email]),
            incasso_dunning::StepRecord {
                policy_name: policy.name.clone(),
                policy_version: 1,
                step_id: "fourteen_day_letter".into(),
                dispatched: letter_day,
                channels: vec![channel],
            },
        ];
        let law = term::fourteen_day_letter_term(
            letter_day,
            if post { term::Channel::Post } else { term::Channel::Email },
            &DeliveryPresumption::default(),
            14,
        )
        .unwrap();
        let today = add_days(letter_day, wait).unwrap();
        prop_assert!(due < today);
        let decision = decide(&facts, &policy, today).unwrap();
        let costs: Vec<_> = decision.actions().iter().filter_map(|a| a.amounts.costs).collect();
        if today < law.costs_due_from {
            prop_assert!(costs.is_empty(), "costs on {} before {}", today, law.costs_due_from);
            prop_assert!(decision.actions().is_empty());
        } else {
            prop_assert_eq!(costs.len(), 1);
            prop_assert_eq!(costs[0].costs, nl_bik_staffel(Money::eur_cents(cents)).unwrap());
            prop_assert!(costs[0].total_costs <= NL_BIK_MAXIMUM);
        }
    }

    /// A proposed plan always passes validation, adds up to the amount and respects the bounds.
    #[test]
    fn proposed_plans_are_valid(
        cents in 1i64..100_000_000,
        start in 0i32..3000,
        max_months in 0u32..36,
        min_cents in 1i64..100_000,
        first_days in 0u32..31,
        requested in prop::option::of(1u32..60),
    ) {
        use incasso_dunning::{PlanBounds, propose_plan, validate_plan};
        let bounds = PlanBounds {
            max_months,
            min_instalment: Money::eur_cents(min_cents),
            first_instalment_max_days: first_days,
            grace_days: 5,
        };
        let today = add_days(d("2024-01-01"), start).unwrap();
        let amount = Money::eur_cents(cents);
        // A first instalment after the last allowed day cannot be proposed.
        match propose_plan(amount, today, requested, &bounds) {
            Ok(plan) => {
                prop_assert_eq!(plan.total().unwrap(), amount);
                prop_assert!(validate_plan(&plan, amount, &bounds).is_ok());
                if let Some(n) = requested {
                    prop_assert!(plan.instalments.len() <= usize::try_from(n).unwrap());
                }
            }
            Err(e) => prop_assert!(
                matches!(e, incasso_dunning::PlanError::TooLong { .. }),
                "{}", e
            ),
        }
    }
}

fn any_state() -> impl Strategy<Value = incasso_dunning::CaseState> {
    prop::sample::select(incasso_dunning::CaseState::ALL.to_vec())
}

proptest! {
    /// Arbitrary (even inconsistent) facts: `decide` never panics, never proposes a recorded step,
    /// and never acts for a paid, paused or closed case.
    #[test]
    fn arbitrary_facts_never_break_the_invariants(
        preset in prop_oneof![Just(Preset::NlB2b), Just(Preset::NlB2c), Just(Preset::BeB2c), Just(Preset::BeB2b)],
        state in any_state(),
        records in prop::collection::vec((0usize..6, 0i32..400, 0usize..4), 0..5),
        claims in prop::collection::vec((0i64..1_000_000, 0i64..1_000_000, 0i32..400), 1..4),
        today in 0i32..500,
        pause in prop::option::of(0i32..500),
        foreign_kind in proptest::bool::ANY,
    ) {
        use incasso_dunning::{Channel, StepRecord};
        let policy = preset.load().unwrap();
        let (mut kind, jurisdiction) = kind_of(preset);
        if foreign_kind {
            kind = match kind { DebtorKind::Business => DebtorKind::Consumer, DebtorKind::Consumer => DebtorKind::Business };
        }
        let base = d("2024-01-01");
        let mut facts = case(kind, jurisdiction, "1.00", "2024-01-01");
        facts.state = state;
        facts.claims = claims
            .iter()
            .enumerate()
            .map(|(i, (a, b, due))| ClaimFacts {
                invoice_id: InvoiceId::new(i64::try_from(i).unwrap()),
                principal: Money::eur_cents(*a.max(b)),
                open: Money::eur_cents(*a.min(b)),
                due: add_days(base, *due).unwrap(),
            })
            .collect();
        let channels = [Channel::Email, Channel::Post, Channel::Sms, Channel::Call];
        facts.steps_done = records
            .iter()
            .map(|(step, day, channel)| StepRecord {
                policy_name: policy.name.clone(),
                policy_version: 1,
                step_id: policy.steps.get(*step).map_or_else(|| "unknown".to_string(), |s| s.id.clone()),
                dispatched: add_days(base, *day).unwrap(),
                channels: vec![channels[*channel]],
            })
            .collect();
        let today = add_days(base, today).unwrap();
        facts.pause = pause.map(|until| Pause {
            reason: PauseReason::ManualHold,
            until: Some(add_days(base, until).unwrap()),
            note: String::new(),
        });
        let decision = decide(&facts, &policy, today).unwrap();
        let paused = facts.pause.as_ref().is_some_and(|p| p.is_active(today));
        let paid = facts.claims.iter().all(|c| c.open.is_zero());
        if paused || paid || !state.is_in_ladder() || foreign_kind {
            prop_assert!(decision.actions().is_empty(), "{:?}", decision);
        }
        for action in decision.actions() {
            prop_assert!(!facts.steps_done.iter().any(|r| r.step_id == action.step_id));
        }
    }
}
