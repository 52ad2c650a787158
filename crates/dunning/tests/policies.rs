//! Policy loading: every preset loads, and every validation error names the step and field with
//! an exact message.

use incasso_dunning::{
    Anchor, CatchUp, Channel, DayKind, LegalEffect, Policy, PolicyError, Preset,
};

/// A valid NL consumer policy; tests replace one part at a time.
const BASE: &str = r#"
name = "test"
version = 3
catch_up = "highest"

[applies_to]
debtor_kind = "consumer"
jurisdiction = "nl"

[[steps]]
id = "reminder"
template = "payment_reminder"
channels = ["email"]
trigger = { after = "due_date", days = 2 }
term_days = 5

[[steps]]
id = "letter"
template = "fourteen_day_letter"
channels = ["post"]
trigger = { after = "previous", days = 2 }
term_days = 14
effects = ["fourteen_day_letter"]

[[steps]]
id = "demand"
template = "final_demand"
channels = ["post", "email"]
trigger = { after = "letter", days = 1 }
term_days = 7
effects = ["claim_interest", "claim_costs"]
"#;

fn check(text: &str, expected: &str) {
    match Policy::from_toml(text, &[]) {
        Ok(_) => panic!("expected the error: {expected}"),
        Err(e) => assert_eq!(e.to_string(), expected),
    }
}

fn replace(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replacen(from, to, 1)
}

#[test]
fn presets_load_with_name_and_version() {
    for p in Preset::ALL {
        let policy = p.load().unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(policy.name, p.name());
        assert_eq!(policy.version, 1);
        assert_eq!(Preset::parse(p.name()), Some(p));
    }
}

#[test]
fn nl_b2b_preset_steps_match_the_product_defaults() {
    let p = Preset::NlB2b.load().unwrap();
    let rows: Vec<(&str, &str, Anchor, u32, u32)> = p
        .steps
        .iter()
        .map(|s| {
            (
                s.id.as_str(),
                s.template.as_str(),
                s.trigger.anchor.clone(),
                s.trigger.days,
                s.term_days,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "payment_reminder",
                "payment_reminder",
                Anchor::DueDate,
                2,
                5
            ),
            ("call", "call", Anchor::StepDeadline(0), 1, 0),
            (
                "formal_notice",
                "formal_notice",
                Anchor::StepDeadline(0),
                2,
                3
            ),
            ("handover", "handover_notice", Anchor::StepDeadline(2), 2, 0),
        ]
    );
    assert_eq!(p.steps[1].channels, vec![Channel::Call]);
    assert!(p.steps[3].has(LegalEffect::HandOver) && p.steps[3].has(LegalEffect::ClaimCosts));
    assert_eq!(p.catch_up, CatchUp::Highest);
}

#[test]
fn base_policy_is_valid() {
    let p = Policy::from_toml(BASE, &[]).unwrap();
    assert_eq!((p.name.as_str(), p.version, p.steps.len()), ("test", 3, 3));
    assert_eq!(p.steps[1].trigger.anchor, Anchor::StepDeadline(0));
    assert_eq!(p.steps[2].trigger.kind, DayKind::Calendar);
}

#[test]
fn in_order_catch_up_with_min_gap() {
    let p = Policy::from_toml(
        &replace(
            "catch_up = \"highest\"",
            "catch_up = \"in_order\"\nmin_gap_days = 3",
        ),
        &[],
    )
    .unwrap();
    assert_eq!(p.catch_up, CatchUp::InOrder { min_gap_days: 3 });
}

#[test]
fn caller_supplied_templates_are_known() {
    let text = replace(
        "template = \"payment_reminder\"",
        "template = \"friendly_sms\"",
    );
    check(
        &text,
        "step 1 (reminder): field `template`: unknown template \"friendly_sms\" (known: payment_reminder, formal_notice, fourteen_day_letter, final_demand, handover_notice, call, be_first_reminder, be_reminder)",
    );
    assert!(Policy::from_toml(&text, &["friendly_sms"]).is_ok());
}

#[test]
fn validation_errors_name_step_and_field() {
    let no_steps = BASE[..BASE.find("[[steps]]").unwrap()].to_string();
    let cases: Vec<(String, &str)> = vec![
        (no_steps, "policy has no steps"),
        (
            replace("channels = [\"email\"]", "channels = [\"fax\"]"),
            "step 1 (reminder): field `channels`: unknown channel \"fax\" (known: email, post, sms, call)",
        ),
        (
            replace("channels = [\"email\"]", "channels = []"),
            "step 1 (reminder): field `channels`: at least one channel is needed",
        ),
        (
            replace("template = \"final_demand\"", "template = \"summons\""),
            "step 3 (demand): field `template`: unknown template \"summons\" (known: payment_reminder, formal_notice, fourteen_day_letter, final_demand, handover_notice, call, be_first_reminder, be_reminder)",
        ),
        (
            replace("effects = [\"fourteen_day_letter\"]", "effects = []"),
            "step 3 (demand): field `effects`: claims collection costs from a Dutch consumer without an earlier fourteen_day_letter step (art. 6:96 lid 6 BW)",
        ),
        (
            replace(
                "trigger = { after = \"letter\", days = 1 }",
                "trigger = { after = \"due_date\", days = 40 }",
            ),
            "step 3 (demand): field `effects`: claims collection costs from a Dutch consumer before the term of step 2 (letter) has expired: its trigger must count at least 1 day from that step's deadline or a later one (art. 6:96 lid 6 BW)",
        ),
        (
            replace(
                "trigger = { after = \"letter\", days = 1 }",
                "trigger = { after = \"letter\", days = 0 }",
            ),
            "step 3 (demand): field `effects`: claims collection costs from a Dutch consumer before the term of step 2 (letter) has expired: its trigger must count at least 1 day from that step's deadline or a later one (art. 6:96 lid 6 BW)",
        ),
        (
            replace(
                "trigger = { after = \"letter\", days = 1 }",
                "trigger = { after = \"reminder\", days = 2 }",
            ),
            "step 3 (demand): field `trigger`: fires on the same trigger as step 2 (letter): 2 calendar day(s) after the deadline of reminder",
        ),
        (
            replace("term_days = 14", "term_days = 10"),
            "step 2 (letter): field `term_days`: a statutory letter needs a term of at least 14 days, not 10",
        ),
        (
            replace("channels = [\"post\"]", "channels = [\"call\"]"),
            "step 2 (letter): field `channels`: a statutory letter must be sent by post or email",
        ),
        (
            replace(
                "effects = [\"fourteen_day_letter\"]",
                "effects = [\"fourteen_day_letter\", \"claim_costs\"]",
            ),
            "step 2 (letter): field `effects`: a fourteen-day letter announces collection costs; it cannot claim them (art. 6:96 lid 6 BW)",
        ),
        (
            replace(
                "effects = [\"claim_interest\", \"claim_costs\"]",
                "effects = [\"claim_everything\"]",
            ),
            "step 3 (demand): field `effects`: unknown effect \"claim_everything\" (known: fourteen_day_letter, be_first_reminder, announce_costs, claim_interest, claim_costs, reminder_fee, hand_over)",
        ),
        (
            replace("id = \"demand\"", "id = \"letter\""),
            "step 3 (letter): field `id`: the id is already used by step 2",
        ),
        (
            replace("id = \"demand\"", "id = \"Final Demand\""),
            "step 3 (Final Demand): field `id`: must be 1 to 64 characters of a-z, 0-9, _ and -",
        ),
        (
            replace("after = \"letter\"", "after = \"demand\""),
            "step 3 (demand): field `trigger.after`: \"demand\" is not \"due_date\", \"previous\" or the id of an earlier step",
        ),
        (
            replace(
                "after = \"due_date\", days = 2",
                "after = \"previous\", days = 2",
            ),
            "step 1 (reminder): field `trigger.after`: the first step has no previous step; use \"due_date\"",
        ),
        (
            replace("days = 2 }\nterm_days = 5", "days = -1 }\nterm_days = 5"),
            "step 1 (reminder): field `trigger.days`: -1 is not a number of days between 0 and 366",
        ),
        (
            replace(
                "trigger = { after = \"due_date\", days = 2 }",
                "trigger = { after = \"due_date\", days = 2, day_kind = \"working\" }",
            ),
            "step 1 (reminder): field `trigger.day_kind`: unknown day kind \"working\" (known: calendar, business)",
        ),
        (
            replace(
                "after = \"due_date\", days = 2",
                "after = \"due_date\", days = 0",
            ),
            "step 1 (reminder): field `trigger.days`: a claim is overdue only from the day after its due date: count at least 1 day",
        ),
        (
            replace("version = 3", "version = 0"),
            "field `version`: 0 is not a positive integer",
        ),
        (
            replace("catch_up = \"highest\"", "catch_up = \"in_order\""),
            "field `min_gap_days`: catch_up = \"in_order\" needs min_gap_days",
        ),
        (
            replace("catch_up = \"highest\"", "catch_up = \"all\""),
            "field `catch_up`: unknown catch-up rule \"all\" (known: highest, in_order)",
        ),
        (
            replace("jurisdiction = \"nl\"", "jurisdiction = \"de\""),
            "field `jurisdiction`: in applies_to: unknown jurisdiction \"de\" (known: nl, be)",
        ),
        (
            replace(
                "term_days = 5",
                "term_days = 5\nconditions = { min_open_amount = \"ten\" }",
            ),
            "step 1 (reminder): field `conditions.min_open_amount`: \"ten\" is not a non-negative euro amount such as \"25.00\"",
        ),
    ];
    for (text, expected) in cases {
        check(&text, expected);
    }
}

#[test]
fn unknown_toml_fields_and_syntax_are_refused() {
    let e =
        Policy::from_toml(&replace("term_days = 5", "term_days = 5\nterm = 5"), &[]).unwrap_err();
    assert!(
        matches!(e, PolicyError::Toml(ref m) if m.contains("unknown field `term`")),
        "{e}"
    );
    let e = Policy::from_toml("name = ", &[]).unwrap_err();
    assert!(matches!(e, PolicyError::Toml(_)), "{e}");
}

const BE_B2C: &str = r#"
name = "be-test"
version = 1

[applies_to]
debtor_kind = "consumer"
jurisdiction = "be"

[[steps]]
id = "first"
template = "be_first_reminder"
channels = ["post"]
trigger = { after = "due_date", days = 2 }
term_days = 14
effects = ["be_first_reminder"]

[[steps]]
id = "second"
template = "be_reminder"
channels = ["post"]
trigger = { after = "first", days = 1 }
term_days = 14
effects = ["claim_costs", "reminder_fee"]
"#;

#[test]
fn be_consumer_damages_only_after_the_waiting_period() {
    assert!(Policy::from_toml(BE_B2C, &[]).is_ok());
    check(
        &BE_B2C.replacen(
            "trigger = { after = \"first\", days = 1 }",
            "trigger = { after = \"due_date\", days = 10 }",
            1,
        ),
        "step 2 (second): field `effects`: claims damages from a Belgian consumer before the term of step 1 (first) has expired: its trigger must count at least 1 day from that step's deadline or a later one (art. XIX.2 WER)",
    );
    check(
        &BE_B2C.replacen("effects = [\"be_first_reminder\"]", "effects = []", 1),
        "step 2 (second): field `effects`: claims damages from a Belgian consumer without an earlier be_first_reminder step (art. XIX.2 WER)",
    );
    check(
        &BE_B2C.replacen(
            "effects = [\"be_first_reminder\"]",
            "effects = [\"be_first_reminder\", \"reminder_fee\"]",
            1,
        ),
        "step 1 (first): field `effects`: the first reminder is free: it cannot claim damages or a fee (art. XIX.2 WER)",
    );
}

#[test]
fn a_policy_for_businesses_may_claim_costs_without_a_statutory_letter() {
    let text = replace("debtor_kind = \"consumer\"", "debtor_kind = \"business\"").replacen(
        "effects = [\"fourteen_day_letter\"]",
        "effects = []",
        1,
    );
    assert!(Policy::from_toml(&text, &[]).is_ok());
}

#[test]
fn a_policy_for_any_debtor_must_satisfy_both_consumer_rules() {
    let text = BASE.replacen(
        "[applies_to]\ndebtor_kind = \"consumer\"\njurisdiction = \"nl\"\n",
        "",
        1,
    );
    check(
        &text,
        "step 3 (demand): field `effects`: claims damages from a Belgian consumer without an earlier be_first_reminder step (art. XIX.2 WER)",
    );
}
