//! Scenario tests over the shipped presets with concrete dates (ATW and Belgian holidays
//! included): which step goes out on which day, with which deadline and amounts.

mod common;

use common::*;
use incasso_domain::{DebtorKind, InvoiceId, Jurisdiction};
use incasso_dunning::{
    ArrangementEnd, CaseState, ClaimFacts, Decision, Effect, Instalment, Pause, PauseReason,
    PaymentFact, PaymentPlan, PlanFacts, Policy, Preset, PromiseToPay, Reason, decide,
};

fn kind_of(p: Preset) -> (DebtorKind, Jurisdiction) {
    match p {
        Preset::NlB2b => (DebtorKind::Business, Jurisdiction::Nl),
        Preset::NlB2c => (DebtorKind::Consumer, Jurisdiction::Nl),
        Preset::BeB2c => (DebtorKind::Consumer, Jurisdiction::Be),
        Preset::BeB2b => (DebtorKind::Business, Jurisdiction::Be),
    }
}

/// (preset, due date, expected (day, step) sends).
type Ladder = (
    Preset,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Daily runs from the due date: the full ladder of every preset, day by day.
#[test]
fn presets_run_daily_from_the_due_date() {
    let table: [Ladder; 5] = [
        // Due Monday 31 March 2025. Reminder term 5 → Mon 7 April; formal notice on 9 April with
        // 3 days → Saturday 12th, extended to Monday 14th; handover 2 days later.
        (
            Preset::NlB2b,
            "2025-03-31",
            &[
                ("2025-04-02", "payment_reminder"),
                ("2025-04-08", "call"),
                ("2025-04-09", "formal_notice"),
                ("2025-04-16", "handover"),
            ],
        ),
        // Due 24 March: the fourteen-day letter is posted Wednesday 2 April, presumed received
        // Friday 4 April; day 14 is Good Friday 18 April → ATW: Tuesday 22 April. Costs from 23
        // April; the final demand's 7 days end Wednesday 30 April; handover 2 May.
        (
            Preset::NlB2c,
            "2025-03-24",
            &[
                ("2025-03-26", "payment_reminder"),
                ("2025-04-02", "fourteen_day_letter"),
                ("2025-04-23", "final_demand"),
                ("2025-05-02", "handover"),
            ],
        ),
        // Due 2 April: the letter goes out Friday 11 April, is received Tuesday 15 April, the term
        // runs 16–29 April; costs from Wednesday 30 April.
        (
            Preset::NlB2c,
            "2025-04-02",
            &[
                ("2025-04-04", "payment_reminder"),
                ("2025-04-11", "fourteen_day_letter"),
                ("2025-04-30", "final_demand"),
                ("2025-05-09", "handover"),
            ],
        ),
        // Due Saturday 1 March: the free first reminder is posted Monday 3 March; the waiting
        // period starts on the 3rd working day (Thursday 6th) and ends Wednesday 19th; damages from
        // Thursday 20 March.
        (
            Preset::BeB2c,
            "2025-03-01",
            &[
                ("2025-03-03", "first_reminder"),
                ("2025-03-20", "reminder"),
                ("2025-04-05", "handover"),
            ],
        ),
        (
            Preset::BeB2b,
            "2025-03-31",
            &[
                ("2025-04-02", "payment_reminder"),
                ("2025-04-08", "call"),
                ("2025-04-09", "formal_notice"),
                ("2025-04-18", "handover"),
            ],
        ),
    ];
    for (p, due, expected) in table {
        let policy = preset(p);
        let (kind, j) = kind_of(p);
        let mut facts = case(kind, j, "1000.00", due);
        let log = run_daily(&mut facts, &policy, d(due), d("2025-07-31"));
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(log, expected, "{p} due {due}");
        assert_eq!(facts.state, CaseState::HandedOver, "{p}");
        assert_eq!(
            decide(&facts, &policy, d("2025-08-01")).unwrap(),
            Decision::Nothing {
                reason: Reason::LadderEnded {
                    state: CaseState::HandedOver
                }
            }
        );
    }
}

fn only_action(decision: &Decision) -> incasso_dunning::Action {
    let actions = decision.actions();
    assert_eq!(actions.len(), 1, "{decision:?}");
    actions[0].clone()
}

#[test]
fn bw_6_96_lid6_fourteen_day_letter_posted_friday_received_tuesday() {
    let policy = preset(Preset::NlB2c);
    let mut facts = case(
        DebtorKind::Consumer,
        Jurisdiction::Nl,
        "1000.00",
        "2025-04-02",
    );
    facts.steps_done.push(record(
        &policy,
        "payment_reminder",
        "2025-04-04",
        &[incasso_dunning::Channel::Email],
    ));
    facts.state = CaseState::Reminded;
    let decision = decide(&facts, &policy, d("2025-04-11")).unwrap();
    let letter = only_action(&decision);
    assert_eq!(letter.step_id, "fourteen_day_letter");
    assert_eq!(
        letter.key.as_str(),
        "dunning:7:nl-b2c:v1:fourteen_day_letter"
    );
    assert_eq!(letter.deadline, d("2025-04-29"));
    assert_eq!(letter.costs_due_from, Some(d("2025-04-30")));
    let term = letter.statutory_term.unwrap();
    assert_eq!(
        (term.received, term.first_day),
        (d("2025-04-15"), d("2025-04-16"))
    );
    // The letter states the exact BIK amount: 15% of 1000.
    assert_eq!(letter.amounts.costs_announced, Some(eur("150.00")));
    assert_eq!(letter.amounts.costs, None);
    assert_eq!(letter.amounts.interest, None);
    assert_eq!(letter.amounts.total, eur("1000.00"));
    assert!(
        decision
            .explain()
            .contains("nl-b2c v1 step 2 (fourteen_day_letter)"),
        "{}",
        decision.explain()
    );
    // Record it; before the term expires nothing claims costs.
    apply(&mut facts, &policy, &decision, d("2025-04-11"));
    assert_eq!(facts.state, CaseState::FourteenDayLetterSent);
    assert_eq!(
        decide(&facts, &policy, d("2025-04-29")).unwrap(),
        Decision::Nothing {
            reason: Reason::WaitingForStep {
                step_id: "final_demand".into(),
                fires_on: d("2025-04-30")
            }
        }
    );
    let demand = only_action(&decide(&facts, &policy, d("2025-04-30")).unwrap());
    assert_eq!(demand.step_id, "final_demand");
    let costs = demand.amounts.costs.unwrap();
    assert_eq!(costs.total_costs, eur("150.00"));
    assert!(demand.amounts.interest.unwrap().is_positive());
    // 7 days from Wednesday 30 April is Wednesday 7 May (5 May is an ATW holiday, but not the last day).
    assert_eq!(demand.deadline, d("2025-05-07"));
}

#[test]
fn bw_6_96_lid6_partial_payment_lowers_the_costs() {
    let policy = preset(Preset::NlB2c);
    let mut facts = case(
        DebtorKind::Consumer,
        Jurisdiction::Nl,
        "3000.00",
        "2025-04-02",
    );
    facts.state = CaseState::FourteenDayLetterSent;
    facts.steps_done = vec![
        record(
            &policy,
            "payment_reminder",
            "2025-04-04",
            &[incasso_dunning::Channel::Email],
        ),
        record(
            &policy,
            "fourteen_day_letter",
            "2025-04-11",
            &[incasso_dunning::Channel::Post],
        ),
    ];
    facts.claims[0].open = eur("2000.00");
    facts.payments.push(PaymentFact {
        received: d("2025-04-20"),
        amount: eur("1000.00"),
    });
    let demand = only_action(&decide(&facts, &policy, d("2025-04-30")).unwrap());
    assert_eq!(demand.amounts.costs.unwrap().costs, eur("300.00"));
    assert_eq!(demand.amounts.principal, eur("2000.00"));
}

#[test]
fn one_letter_covers_all_overdue_invoices_with_aggregated_costs() {
    let policy = preset(Preset::NlB2b);
    // (principals, expected handover costs): 3 × 100 → staffel 45 but at least 3 × €40;
    // 3 × 1000 → staffel on 3000 = 425.
    for (principals, costs) in [(["100.00"; 3], "120.00"), (["1000.00"; 3], "425.00")] {
        let mut facts = case(
            DebtorKind::Business,
            Jurisdiction::Nl,
            principals[0],
            "2025-03-03",
        );
        facts.claims = principals
            .iter()
            .enumerate()
            .map(|(i, p)| ClaimFacts {
                invoice_id: InvoiceId::new(i64::try_from(i).unwrap() + 1),
                principal: eur(p),
                open: eur(p),
                due: d("2025-03-03"),
            })
            .collect();
        let log = run_daily(&mut facts, &policy, d("2025-03-03"), d("2025-03-18"));
        assert_eq!(log.len(), 3);
        let handover = only_action(&decide(&facts, &policy, d("2025-03-19")).unwrap());
        assert_eq!(handover.step_id, "handover");
        assert_eq!(handover.invoices.len(), 3);
        assert_eq!(handover.amounts.costs.unwrap().costs, eur(costs));
    }
}

#[test]
fn be_book_xix_damages_capped_and_reminder_fee() {
    let policy = preset(Preset::BeB2c);
    let mut facts = case(
        DebtorKind::Consumer,
        Jurisdiction::Be,
        "1000.00",
        "2025-03-01",
    );
    let first = only_action(&decide(&facts, &policy, d("2025-03-03")).unwrap());
    assert_eq!(first.amounts.costs, None);
    assert_eq!(first.amounts.reminder_fee, None);
    assert_eq!(first.amounts.costs_announced, Some(eur("90.00")));
    assert_eq!(
        (first.deadline, first.costs_due_from),
        (d("2025-03-19"), Some(d("2025-03-20")))
    );
    run_daily(&mut facts, &policy, d("2025-03-03"), d("2025-03-19"));
    assert_eq!(facts.steps_done.len(), 1);
    let second = only_action(&decide(&facts, &policy, d("2025-03-20")).unwrap());
    assert_eq!(second.amounts.costs.unwrap().costs, eur("90.00"));
    assert_eq!(second.amounts.reminder_fee, Some(eur("7.50")));
}

#[test]
fn catch_up_highest_after_thirty_days_sends_one_action() {
    let policy = preset(Preset::NlB2b);
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "1000.00",
        "2025-03-03",
    );
    let decision = decide(&facts, &policy, d("2025-04-02")).unwrap();
    let action = only_action(&decision);
    assert_eq!(action.step_id, "handover");
    assert!(
        action
            .why
            .contains("catch-up highest: skipped payment_reminder, call, formal_notice"),
        "{}",
        action.why
    );
    apply(&mut facts, &policy, &decision, d("2025-04-02"));
    assert_eq!(facts.state, CaseState::HandedOver);
}

#[test]
fn catch_up_highest_never_skips_the_fourteen_day_letter() {
    let policy = preset(Preset::NlB2c);
    let mut facts = case(
        DebtorKind::Consumer,
        Jurisdiction::Nl,
        "1000.00",
        "2025-03-03",
    );
    let log = run_daily(&mut facts, &policy, d("2025-05-02"), d("2025-06-30"));
    // 60 days late: the letter goes out first (the reminder is skipped), then the final demand
    // only after its term: posted Friday 2 May, received Tuesday 6 May, day 14 is Tuesday 20 May.
    assert_eq!(
        log,
        vec![
            ("2025-05-02".to_string(), "fourteen_day_letter".to_string()),
            ("2025-05-21".to_string(), "final_demand".to_string()),
            ("2025-05-30".to_string(), "handover".to_string()),
        ]
    );
}

fn in_order_policy(min_gap_days: u32) -> Policy {
    Policy::from_toml(
        &format!(
            r#"
name = "spaced"
version = 2
catch_up = "in_order"
min_gap_days = {min_gap_days}

[[steps]]
id = "a"
template = "payment_reminder"
channels = ["email"]
trigger = {{ after = "due_date", days = 2 }}

[[steps]]
id = "b"
template = "formal_notice"
channels = ["email"]
trigger = {{ after = "due_date", days = 10 }}

[[steps]]
id = "c"
template = "final_demand"
channels = ["post"]
trigger = {{ after = "due_date", days = 20 }}
"#
        ),
        &[],
    )
    .unwrap()
}

#[test]
fn catch_up_in_order_keeps_the_minimum_gap() {
    let policy = in_order_policy(3);
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "1000.00",
        "2025-03-03",
    );
    assert_eq!(
        only_action(&decide(&facts, &policy, d("2025-04-02")).unwrap()).step_id,
        "a"
    );
    let log = run_daily(&mut facts, &policy, d("2025-04-02"), d("2025-04-30"));
    assert_eq!(
        log,
        vec![
            ("2025-04-02".to_string(), "a".to_string()),
            ("2025-04-05".to_string(), "b".to_string()),
            ("2025-04-08".to_string(), "c".to_string()),
        ]
    );
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "1000.00",
        "2025-03-03",
    );
    run_daily(&mut facts, &policy, d("2025-04-02"), d("2025-04-02"));
    assert_eq!(
        decide(&facts, &policy, d("2025-04-04")).unwrap(),
        Decision::Nothing {
            reason: Reason::WaitingForGap {
                step_id: "b".into(),
                until: d("2025-04-05"),
                min_gap_days: 3
            }
        }
    );
}

#[test]
fn a_paid_case_moves_to_paid_and_gets_nothing() {
    let policy = preset(Preset::NlB2b);
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "1000.00",
        "2025-03-03",
    );
    run_daily(&mut facts, &policy, d("2025-03-03"), d("2025-03-06"));
    facts.claims[0].open = eur("0.00");
    let decision = decide(&facts, &policy, d("2025-03-20")).unwrap();
    assert!(decision.actions().is_empty());
    apply(&mut facts, &policy, &decision, d("2025-03-20"));
    assert_eq!(facts.state, CaseState::Paid);
    assert_eq!(
        decide(&facts, &policy, d("2025-03-21")).unwrap(),
        Decision::Nothing {
            reason: Reason::Final {
                state: CaseState::Paid
            }
        }
    );
}

#[test]
fn pauses_hold_the_ladder_until_their_date() {
    let policy = preset(Preset::NlB2b);
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "1000.00",
        "2025-03-03",
    );
    facts.pause = Some(Pause {
        reason: PauseReason::Dispute,
        until: Some(d("2025-03-20")),
        note: String::new(),
    });
    assert_eq!(
        decide(&facts, &policy, d("2025-03-20")).unwrap(),
        Decision::Nothing {
            reason: Reason::Paused {
                reason: PauseReason::Dispute,
                until: Some(d("2025-03-20"))
            }
        }
    );
    // After the pause the ladder resumes with the next step, not the handover.
    assert_eq!(
        only_action(&decide(&facts, &policy, d("2025-03-21")).unwrap()).step_id,
        "payment_reminder"
    );
    facts.pause = None;
    facts.debtor.vulnerable = true;
    assert!(matches!(
        decide(&facts, &policy, d("2025-03-21")).unwrap(),
        Decision::Nothing {
            reason: Reason::Paused {
                reason: PauseReason::VulnerableDebtor,
                ..
            }
        }
    ));
    facts.debtor.vulnerable = false;
    facts.debtor.do_not_contact = true;
    assert_eq!(
        decide(&facts, &policy, d("2025-03-21")).unwrap(),
        Decision::Nothing {
            reason: Reason::DoNotContact
        }
    );
}

#[test]
fn a_lapsed_payment_plan_resumes_the_ladder() {
    let policy = preset(Preset::NlB2b);
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "900.00",
        "2025-03-03",
    );
    run_daily(&mut facts, &policy, d("2025-03-03"), d("2025-03-05"));
    facts.plan = Some(PlanFacts {
        plan: PaymentPlan {
            agreed_on: d("2025-03-06"),
            instalments: vec![
                Instalment {
                    due: d("2025-03-10"),
                    amount: eur("300.00"),
                },
                Instalment {
                    due: d("2025-04-10"),
                    amount: eur("300.00"),
                },
                Instalment {
                    due: d("2025-05-10"),
                    amount: eur("300.00"),
                },
            ],
        },
        grace_days: 5,
    });
    facts.payments.push(PaymentFact {
        received: d("2025-03-10"),
        amount: eur("300.00"),
    });
    facts.claims[0].open = eur("600.00");
    assert_eq!(
        decide(&facts, &policy, d("2025-04-15")).unwrap(),
        Decision::Nothing {
            reason: Reason::Paused {
                reason: PauseReason::PaymentPlan,
                until: Some(d("2025-04-10"))
            }
        }
    );
    let decision = decide(&facts, &policy, d("2025-04-16")).unwrap();
    let Decision::Act { effects, .. } = &decision else {
        panic!("{decision:?}")
    };
    assert!(matches!(
        effects[0],
        Effect::EndPlan { end: ArrangementEnd::Lapsed { on }, .. } if on == d("2025-04-16")
    ));
    // Call and formal notice both count from the reminder's deadline and are due on the resume
    // day: catch-up highest sends the formal notice.
    let action = only_action(&decision);
    assert_eq!(action.step_id, "formal_notice");
    assert_eq!(action.amounts.principal, eur("600.00"));
}

#[test]
fn a_broken_promise_resumes_the_ladder() {
    let policy = preset(Preset::NlB2b);
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "500.00",
        "2025-03-03",
    );
    run_daily(&mut facts, &policy, d("2025-03-03"), d("2025-03-11"));
    assert_eq!(facts.state, CaseState::InCall);
    facts.promise = Some(PromiseToPay {
        made_on: d("2025-03-11"),
        pay_by: d("2025-03-25"),
        amount: eur("500.00"),
    });
    assert!(
        decide(&facts, &policy, d("2025-03-25"))
            .unwrap()
            .actions()
            .is_empty()
    );
    let decision = decide(&facts, &policy, d("2025-03-26")).unwrap();
    assert_eq!(only_action(&decision).step_id, "formal_notice");
    assert!(
        decision.explain().contains("was broken"),
        "{}",
        decision.explain()
    );
}

#[test]
fn a_new_policy_version_does_not_resend_done_steps() {
    let v1 = preset(Preset::NlB2b);
    let mut v2 = v1.clone();
    v2.version = 2;
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "1000.00",
        "2025-03-03",
    );
    run_daily(&mut facts, &v1, d("2025-03-03"), d("2025-03-05"));
    let next = only_action(&decide(&facts, &v2, d("2025-03-11")).unwrap());
    assert_eq!(next.step_id, "call");
    assert_eq!(next.key.as_str(), "dunning:7:nl-b2b:v2:call");
}

#[test]
fn policy_conditions_and_minimum_amount() {
    let policy = Policy::from_toml(
        &Preset::NlB2b.toml().replacen(
            "jurisdiction = \"nl\"",
            "jurisdiction = \"nl\"\nmin_open_amount = \"25.00\"",
            1,
        ),
        &[],
    )
    .unwrap();
    let facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "24.99",
        "2025-03-03",
    );
    assert_eq!(
        decide(&facts, &policy, d("2025-03-05")).unwrap(),
        Decision::Nothing {
            reason: Reason::BelowMinimum {
                open: eur("24.99"),
                minimum: eur("25.00")
            }
        }
    );
    let consumer = case(
        DebtorKind::Consumer,
        Jurisdiction::Nl,
        "100.00",
        "2025-03-03",
    );
    assert_eq!(
        decide(&consumer, &policy, d("2025-03-05")).unwrap(),
        Decision::Nothing {
            reason: Reason::PolicyDoesNotApply {
                policy: "nl-b2b".into()
            }
        }
    );
}

#[test]
fn handover_states_interest_and_costs_through_the_law_engine() {
    // (preset, principal, due, handover day, interest, costs). NL B2B: art. 6:119a at 11.15%
    // (2025 H1) over 16 days (1–16 April) on 1000 = 4.89; BIK on 1000 = 150. BE B2B: 2002 law at
    // 11.5% over 18 days = 5.67; €40 per late invoice.
    for (p, principal, due, handover, interest, costs) in [
        (
            Preset::NlB2b,
            "1000.00",
            "2025-03-31",
            "2025-04-16",
            "4.89",
            "150.00",
        ),
        (
            Preset::BeB2b,
            "1000.00",
            "2025-03-31",
            "2025-04-18",
            "5.67",
            "40.00",
        ),
    ] {
        let policy = preset(p);
        let (kind, j) = kind_of(p);
        let mut facts = case(kind, j, principal, due);
        run_daily(
            &mut facts,
            &policy,
            d(due),
            d(handover).yesterday().unwrap(),
        );
        let action = only_action(&decide(&facts, &policy, d(handover)).unwrap());
        assert_eq!(action.step_id, "handover");
        assert_eq!(action.amounts.interest, Some(eur(interest)), "{p}");
        assert_eq!(action.amounts.costs.unwrap().total_costs, eur(costs), "{p}");
        let total = eur(principal)
            .checked_add(eur(interest))
            .unwrap()
            .checked_add(eur(costs))
            .unwrap();
        assert_eq!(action.amounts.total, total);
    }
}

#[test]
fn bik_art2_lid3_vat_uplift_when_the_creditor_cannot_deduct() {
    let policy = preset(Preset::NlB2b);
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "1000.00",
        "2025-03-31",
    );
    facts.vat = incasso_rules::costs::VatPosition::NotDeductible;
    run_daily(&mut facts, &policy, d("2025-03-31"), d("2025-04-15"));
    let action = only_action(&decide(&facts, &policy, d("2025-04-16")).unwrap());
    let costs = action.amounts.costs.unwrap();
    assert_eq!(
        (costs.costs, costs.vat, costs.total_costs),
        (eur("150.00"), eur("31.50"), eur("181.50"))
    );
}

/// (tags, risk class, principal, expected sends).
type Segment = (
    &'static [&'static str],
    Option<&'static str>,
    &'static str,
    &'static [&'static str],
);

#[test]
fn step_conditions_on_tags_risk_class_and_amount() {
    let policy = Policy::from_toml(
        r#"
name = "segmented"
version = 1

[[steps]]
id = "reminder"
template = "payment_reminder"
channels = ["email"]
trigger = { after = "due_date", days = 2 }
term_days = 5

[[steps]]
id = "key_account_call"
template = "call"
channels = ["call"]
trigger = { after = "reminder", days = 1 }
conditions = { tags_any = ["key-account"], risk_classes = ["high"] }

[[steps]]
id = "notice"
template = "formal_notice"
channels = ["post", "sms"]
trigger = { after = "reminder", days = 2 }
term_days = 7
conditions = { min_open_amount = "100.00", tags_none = ["government"] }
"#,
        &[],
    )
    .unwrap();
    let tag = |s: &str| incasso_domain::Tag::parse(s).unwrap();
    let table: [Segment; 5] = [
        (&[], None, "500.00", &["reminder", "notice"]),
        (
            &["key-account"],
            Some("high"),
            "500.00",
            &["reminder", "key_account_call", "notice"],
        ),
        (
            &["key-account"],
            Some("low"),
            "500.00",
            &["reminder", "notice"],
        ),
        (&[], None, "99.99", &["reminder"]),
        (&["government"], None, "500.00", &["reminder"]),
    ];
    for (tags, risk, principal, expected) in table {
        let mut facts = case(
            DebtorKind::Business,
            Jurisdiction::Nl,
            principal,
            "2025-03-03",
        );
        facts.debtor.tags = tags.iter().map(|t| tag(t)).collect();
        facts.debtor.risk_class = risk.map(str::to_string);
        let log = run_daily(&mut facts, &policy, d("2025-03-03"), d("2025-04-30"));
        let sent: Vec<&str> = log.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(sent, expected, "{tags:?} {risk:?} {principal}");
    }
}

#[test]
fn claims_not_yet_due_are_left_out_of_the_letter() {
    let policy = preset(Preset::NlB2b);
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "300.00",
        "2025-03-03",
    );
    facts.claims.push(ClaimFacts {
        invoice_id: InvoiceId::new(2),
        principal: eur("200.00"),
        open: eur("200.00"),
        due: d("2025-03-31"),
    });
    let reminder = only_action(&decide(&facts, &policy, d("2025-03-05")).unwrap());
    assert_eq!(reminder.invoices, vec![InvoiceId::new(1)]);
    assert_eq!(reminder.amounts.principal, eur("300.00"));
}

#[test]
fn dry_run_explains_the_rule_that_fired() {
    let policy = preset(Preset::NlB2b);
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "1000.00",
        "2025-03-31",
    );
    let decision = decide(&facts, &policy, d("2025-04-02")).unwrap();
    assert_eq!(
        decision.explain(),
        "nl-b2b v1 step 1 (payment_reminder): 2 calendar day(s) after the due date 2025-03-31, due on 2025-04-02\n\
         payment_reminder (payment_reminder) moves the case to reminded"
    );
    apply(&mut facts, &policy, &decision, d("2025-04-02"));
    assert_eq!(
        decide(&facts, &policy, d("2025-04-03")).unwrap().explain(),
        "nothing: waiting: step call is due on 2025-04-08"
    );
    let late = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "1000.00",
        "2025-03-03",
    );
    assert_eq!(
        decide(&late, &policy, d("2025-04-02")).unwrap().actions()[0].why,
        "nl-b2b v1 step 4 (handover): 2 calendar day(s) after the deadline of formal_notice (2025-03-17), due on 2025-03-19; catch-up highest: skipped payment_reminder, call, formal_notice"
    );
}

#[test]
fn reasons_read_well() {
    let cases: [(Reason, &str); 6] = [
        (
            Reason::Paused {
                reason: PauseReason::Dispute,
                until: Some(d("2025-05-01")),
            },
            "paused (dispute) until 2025-05-01",
        ),
        (
            Reason::Paused {
                reason: PauseReason::ManualHold,
                until: None,
            },
            "paused (manual_hold) until lifted",
        ),
        (
            Reason::BelowMinimum {
                open: eur("10.00"),
                minimum: eur("25.00"),
            },
            "open amount 10.00 is below the policy minimum 25.00",
        ),
        (Reason::DoNotContact, "the debtor must not be contacted"),
        (
            Reason::WaitingForStatutoryTerm {
                step_id: "final_demand".into(),
                letter_step: "fourteen_day_letter".into(),
                costs_due_from: d("2025-04-30"),
            },
            "waiting: step final_demand claims costs, which are due only from 2025-04-30 after the term of fourteen_day_letter",
        ),
        (
            Reason::Final {
                state: CaseState::Paid,
            },
            "the case is paid",
        ),
    ];
    for (reason, text) in cases {
        assert_eq!(reason.to_string(), text);
    }
}

#[test]
fn the_statutory_guard_holds_even_for_a_policy_that_bypassed_validation() {
    // A hand-built policy whose final demand counts from the due date: `decide` itself still
    // refuses to claim costs before the fourteen-day term (received Tuesday 15 April, term
    // 16–29 April, costs from 30 April).
    let mut policy = preset(Preset::NlB2c);
    policy.steps[2].trigger.anchor = incasso_dunning::Anchor::DueDate;
    policy.steps[2].trigger.days = 1;
    let mut facts = case(
        DebtorKind::Consumer,
        Jurisdiction::Nl,
        "1000.00",
        "2025-04-02",
    );
    facts.state = CaseState::FourteenDayLetterSent;
    facts.steps_done = vec![
        record(
            &policy,
            "payment_reminder",
            "2025-04-04",
            &[incasso_dunning::Channel::Email],
        ),
        record(
            &policy,
            "fourteen_day_letter",
            "2025-04-11",
            &[incasso_dunning::Channel::Post],
        ),
    ];
    assert_eq!(
        decide(&facts, &policy, d("2025-04-29")).unwrap(),
        Decision::Nothing {
            reason: Reason::WaitingForStatutoryTerm {
                // Catch-up highest picks the handover (due as well), which also waits.
                step_id: "handover".into(),
                letter_step: "fourteen_day_letter".into(),
                costs_due_from: d("2025-04-30"),
            }
        }
    );
    assert!(
        decide(&facts, &policy, d("2025-04-30")).unwrap().actions()[0]
            .amounts
            .costs
            .is_some()
    );
    // Without any fourteen-day letter a person must look at the case.
    facts.steps_done.truncate(1);
    policy.steps[1].effects.clear();
    assert_eq!(
        decide(&facts, &policy, d("2025-04-30")).unwrap(),
        Decision::Nothing {
            reason: Reason::NoStatutoryLetter {
                step_id: "handover".into(),
                needed: incasso_dunning::LegalEffect::FourteenDayLetter,
            }
        }
    );
}

#[test]
fn preview_shows_the_ladder_with_its_dates() {
    use incasso_dunning::{StepStatus, preview};
    let policy = preset(Preset::NlB2b);
    let mut facts = case(
        DebtorKind::Business,
        Jurisdiction::Nl,
        "1000.00",
        "2025-03-31",
    );
    run_daily(&mut facts, &policy, d("2025-03-31"), d("2025-04-02"));
    let rows: Vec<(String, StepStatus, String, String)> = preview(&facts, &policy)
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.step_id,
                r.status,
                r.fires_on.to_string(),
                r.deadline.to_string(),
            )
        })
        .collect();
    let expected = [
        (
            "payment_reminder",
            StepStatus::Done,
            "2025-04-02",
            "2025-04-07",
        ),
        ("call", StepStatus::Pending, "2025-04-08", "2025-04-08"),
        (
            "formal_notice",
            StepStatus::Pending,
            "2025-04-09",
            "2025-04-14",
        ),
        ("handover", StepStatus::Pending, "2025-04-16", "2025-04-16"),
    ];
    let expected: Vec<(String, StepStatus, String, String)> = expected
        .iter()
        .map(|(a, b, c, e)| (a.to_string(), *b, c.to_string(), e.to_string()))
        .collect();
    assert_eq!(rows, expected);
}
