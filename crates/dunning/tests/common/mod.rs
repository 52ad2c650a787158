//! Builders shared by the integration tests: case facts for one debtor, dates and amounts.
#![allow(dead_code)]

use incasso_calendar::{Date, parse_iso};
use incasso_domain::{DebtorKind, InvoiceId, Jurisdiction};
use incasso_dunning::{
    CaseFacts, CaseId, CaseState, Channel, ClaimFacts, DebtorFacts, Decision, Policy, Preset,
    StepRecord, decide,
};
use incasso_money::{Currency, Money};

pub fn d(s: &str) -> Date {
    parse_iso(s).unwrap()
}

pub fn eur(s: &str) -> Money {
    Money::parse_decimal(s, Currency::EUR).unwrap()
}

pub fn preset(p: Preset) -> Policy {
    p.load().unwrap()
}

/// A case of one debtor with one claim of `principal`, fully open, due on `due`.
pub fn case(kind: DebtorKind, jurisdiction: Jurisdiction, principal: &str, due: &str) -> CaseFacts {
    CaseFacts::new(
        CaseId::new(7),
        CaseState::Open,
        DebtorFacts {
            kind,
            jurisdiction,
            tags: Vec::new(),
            risk_class: None,
            vulnerable: false,
            do_not_contact: false,
        },
        vec![ClaimFacts {
            invoice_id: InvoiceId::new(1),
            principal: eur(principal),
            open: eur(principal),
            due: d(due),
        }],
    )
}

/// Applies a decision the way the shell would: records every action as dispatched today over its
/// channels and applies the state transitions. Returns the step ids sent.
pub fn apply(
    facts: &mut CaseFacts,
    policy: &Policy,
    decision: &Decision,
    today: Date,
) -> Vec<String> {
    let mut sent = Vec::new();
    if let Decision::Act { effects, .. } = decision {
        for effect in effects {
            match effect {
                incasso_dunning::Effect::CreateAction(a) => {
                    facts.steps_done.push(StepRecord {
                        policy_name: policy.name.clone(),
                        policy_version: policy.version,
                        step_id: a.step_id.clone(),
                        dispatched: today,
                        channels: a.channels.clone(),
                    });
                    sent.push(a.step_id.clone());
                }
                incasso_dunning::Effect::Transition { to, .. } => facts.state = *to,
                incasso_dunning::Effect::EndPlan { .. } => facts.plan = None,
                incasso_dunning::Effect::EndPromise { .. } => facts.promise = None,
            }
        }
    }
    sent
}

/// Runs the ladder every day from `from` to `to` (inclusive) and returns (day, step id) for each
/// action sent.
pub fn run_daily(
    facts: &mut CaseFacts,
    policy: &Policy,
    from: Date,
    to: Date,
) -> Vec<(String, String)> {
    let mut log = Vec::new();
    let mut day = from;
    while day <= to {
        let decision = decide(facts, policy, day).unwrap();
        for step in apply(facts, policy, &decision, day) {
            log.push((day.to_string(), step));
        }
        day = day.tomorrow().unwrap();
    }
    log
}

pub fn record(policy: &Policy, step: &str, dispatched: &str, channels: &[Channel]) -> StepRecord {
    StepRecord {
        policy_name: policy.name.clone(),
        policy_version: policy.version,
        step_id: step.to_string(),
        dispatched: d(dispatched),
        channels: channels.to_vec(),
    }
}
