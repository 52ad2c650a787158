//! Collection policies: versioned TOML files with an ordered ladder of steps, parsed once at the
//! boundary into validated types, plus the shipped presets (`nl-b2b`, `nl-b2c`, `be-b2c`,
//! `be-b2b`).
//!
//! A policy file is the only serialized input of this crate. The raw structs below mirror the file
//! and derive `Deserialize`; [`Policy::from_toml`] turns them into [`Policy`] and refuses a policy
//! that could send an unlawful or ambiguous letter, with an error naming the step and field.

use std::collections::BTreeSet;
use std::fmt;

use incasso_domain::{DebtorKind, Jurisdiction, Tag};
use incasso_money::{Currency, Money};
use serde::Deserialize;

/// The letter and message templates the product ships. A caller may allow more (see
/// [`Policy::from_toml`]).
pub const KNOWN_TEMPLATES: [&str; 8] = [
    "payment_reminder",
    "formal_notice",
    "fourteen_day_letter",
    "final_demand",
    "handover_notice",
    "call",
    "be_first_reminder",
    "be_reminder",
];

/// Longest ladder a policy may have: it bounds every loop over steps.
pub const MAX_STEPS: usize = 32;

/// Longest trigger or term in days: a year is far beyond any collection practice.
pub const MAX_DAYS: u32 = 366;

/// The statutory minimum term of the Dutch fourteen-day letter and the Belgian waiting period.
pub const STATUTORY_TERM_DAYS: u32 = 14;

/// How a step reaches the debtor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Email,
    Post,
    Sms,
    /// A task for a person to call the debtor.
    Call,
}

impl Channel {
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "email" => Some(Channel::Email),
            "post" => Some(Channel::Post),
            "sms" => Some(Channel::Sms),
            "call" => Some(Channel::Call),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Post => "post",
            Channel::Sms => "sms",
            Channel::Call => "call",
        }
    }
}

/// What a step's trigger counts from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// The due date of the oldest overdue claim in the case.
    DueDate,
    /// The deadline (dispatch date + term) of an earlier step, by index into [`Policy::steps`].
    StepDeadline(usize),
}

/// Calendar days or business days (of the case's jurisdiction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayKind {
    Calendar,
    Business,
}

impl DayKind {
    fn describe(self) -> &'static str {
        match self {
            DayKind::Calendar => "calendar",
            DayKind::Business => "business",
        }
    }
}

/// When a step fires: `days` days of `kind` after `anchor`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Trigger {
    pub anchor: Anchor,
    pub days: u32,
    pub kind: DayKind,
}

/// The legal meaning of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LegalEffect {
    /// The letter is the Dutch fourteen-day letter (art. 6:96 lid 6 BW): its term runs from the
    /// day after presumed receipt and it states the exact collection costs.
    FourteenDayLetter,
    /// The letter is the free first reminder of Book XIX WER that starts the Belgian waiting
    /// period; it states the damages that will be charged.
    BeFirstReminder,
    /// The letter announces the collection costs that will be claimed.
    AnnounceCosts,
    /// From this step statutory interest is claimed.
    ClaimInterest,
    /// From this step collection costs (BE consumer: capped damages) are claimed.
    ClaimCosts,
    /// A reminder fee (Book XIX WER: at most €7.50 per reminder after the free first one).
    ReminderFee,
    /// The case is handed over to collection.
    HandOver,
}

impl LegalEffect {
    pub fn parse(s: &str) -> Option<LegalEffect> {
        match s {
            "fourteen_day_letter" => Some(LegalEffect::FourteenDayLetter),
            "be_first_reminder" => Some(LegalEffect::BeFirstReminder),
            "announce_costs" => Some(LegalEffect::AnnounceCosts),
            "claim_interest" => Some(LegalEffect::ClaimInterest),
            "claim_costs" => Some(LegalEffect::ClaimCosts),
            "reminder_fee" => Some(LegalEffect::ReminderFee),
            "hand_over" => Some(LegalEffect::HandOver),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            LegalEffect::FourteenDayLetter => "fourteen_day_letter",
            LegalEffect::BeFirstReminder => "be_first_reminder",
            LegalEffect::AnnounceCosts => "announce_costs",
            LegalEffect::ClaimInterest => "claim_interest",
            LegalEffect::ClaimCosts => "claim_costs",
            LegalEffect::ReminderFee => "reminder_fee",
            LegalEffect::HandOver => "hand_over",
        }
    }

    /// A gate is a step the law needs before later steps may claim money: catch-up never skips
    /// it.
    pub fn is_gate(self) -> bool {
        matches!(
            self,
            LegalEffect::FourteenDayLetter | LegalEffect::BeFirstReminder
        )
    }
}

/// Which cases a policy or step applies to. An empty condition admits every case.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conditions {
    pub debtor_kind: Option<DebtorKind>,
    pub jurisdiction: Option<Jurisdiction>,
    /// The case's open principal must be at least this amount.
    pub min_open_amount: Option<Money>,
    /// The debtor must carry at least one of these tags (empty: no requirement).
    pub tags_any: Vec<Tag>,
    /// The debtor must carry none of these tags.
    pub tags_none: Vec<Tag>,
    /// The debtor's risk class must be one of these (empty: no requirement).
    pub risk_classes: Vec<String>,
}

impl Conditions {
    /// Whether a case with this debtor kind and jurisdiction can match.
    pub fn admits(&self, kind: DebtorKind, jurisdiction: Jurisdiction) -> bool {
        self.debtor_kind.is_none_or(|k| k == kind)
            && self.jurisdiction.is_none_or(|j| j == jurisdiction)
    }
}

/// How the ladder catches up after days without a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// Send only the highest step that is due (never skipping a gate, see [`LegalEffect::is_gate`]).
    Highest,
    /// Send every step in order, at least `min_gap_days` apart.
    InOrder { min_gap_days: u32 },
}

/// One rung of the ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Unique within the policy; `[a-z0-9_-]`.
    pub id: String,
    pub template: String,
    pub channels: Vec<Channel>,
    pub trigger: Trigger,
    /// The term given to the debtor, in calendar days.
    pub term_days: u32,
    pub conditions: Conditions,
    pub effects: BTreeSet<LegalEffect>,
}

impl Step {
    pub fn has(&self, effect: LegalEffect) -> bool {
        self.effects.contains(&effect)
    }

    /// Whether catch-up must not skip this step.
    pub fn is_gate(&self) -> bool {
        self.effects.iter().any(|e| e.is_gate())
    }

    /// Whether this step states an amount of money the debtor owes beyond the principal.
    pub fn claims_money(&self) -> bool {
        self.has(LegalEffect::ClaimCosts)
            || self.has(LegalEffect::ClaimInterest)
            || self.has(LegalEffect::ReminderFee)
    }
}

/// A validated collection policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub version: u32,
    pub applies_to: Conditions,
    pub catch_up: CatchUp,
    pub steps: Vec<Step>,
}

/// Why a policy file was refused. Messages name the step (1-based position and id) and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy file is not valid TOML: {0}")]
    Toml(String),
    #[error("field `{field}`: {problem}")]
    Policy {
        field: &'static str,
        problem: String,
    },
    #[error("policy has no steps")]
    NoSteps,
    #[error("policy has {0} steps, more than the maximum of {MAX_STEPS}")]
    TooManySteps(usize),
    #[error("step {position} ({step}): field `{field}`: {problem}")]
    Step {
        position: usize,
        step: String,
        field: &'static str,
        problem: String,
    },
}

/// The policy file as written. Strings are parsed by hand so that errors can name the step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: String,
    version: i64,
    #[serde(default)]
    catch_up: Option<String>,
    #[serde(default)]
    min_gap_days: Option<i64>,
    #[serde(default)]
    applies_to: RawConditions,
    #[serde(default)]
    steps: Vec<RawStep>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConditions {
    debtor_kind: Option<String>,
    jurisdiction: Option<String>,
    min_open_amount: Option<String>,
    #[serde(default)]
    tags_any: Vec<String>,
    #[serde(default)]
    tags_none: Vec<String>,
    #[serde(default)]
    risk_classes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: String,
    template: String,
    channels: Vec<String>,
    trigger: RawTrigger,
    #[serde(default)]
    term_days: i64,
    #[serde(default)]
    conditions: RawConditions,
    #[serde(default)]
    effects: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    /// `due_date`, `previous` or the id of an earlier step.
    after: String,
    days: i64,
    #[serde(default)]
    day_kind: Option<String>,
}

fn valid_identifier(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn days_in_range(value: i64) -> Result<u32, String> {
    u32::try_from(value)
        .ok()
        .filter(|d| *d <= MAX_DAYS)
        .ok_or_else(|| format!("{value} is not a number of days between 0 and {MAX_DAYS}"))
}

fn parse_conditions(raw: &RawConditions) -> Result<Conditions, (&'static str, String)> {
    let debtor_kind = match raw.debtor_kind.as_deref() {
        None => None,
        Some("business") => Some(DebtorKind::Business),
        Some("consumer") => Some(DebtorKind::Consumer),
        Some(other) => {
            return Err((
                "debtor_kind",
                format!("unknown debtor kind \"{other}\" (known: business, consumer)"),
            ));
        }
    };
    let jurisdiction = match raw.jurisdiction.as_deref() {
        None => None,
        Some("nl") => Some(Jurisdiction::Nl),
        Some("be") => Some(Jurisdiction::Be),
        Some(other) => {
            return Err((
                "jurisdiction",
                format!("unknown jurisdiction \"{other}\" (known: nl, be)"),
            ));
        }
    };
    let min_open_amount = match raw.min_open_amount.as_deref() {
        None => None,
        Some(s) => match Money::parse_decimal(s, Currency::EUR) {
            Ok(m) if !m.is_negative() => Some(m),
            _ => {
                return Err((
                    "min_open_amount",
                    format!("\"{s}\" is not a non-negative euro amount such as \"25.00\""),
                ));
            }
        },
    };
    let tags = |field: &'static str, list: &[String]| -> Result<Vec<Tag>, (&'static str, String)> {
        list.iter()
            .map(|t| Tag::parse(t).map_err(|_| (field, format!("\"{t}\" is not a valid tag"))))
            .collect()
    };
    Ok(Conditions {
        debtor_kind,
        jurisdiction,
        min_open_amount,
        tags_any: tags("tags_any", &raw.tags_any)?,
        tags_none: tags("tags_none", &raw.tags_none)?,
        risk_classes: raw.risk_classes.clone(),
    })
}

impl Policy {
    /// Parses and validates a policy file. `extra_templates` are template names the caller
    /// knows in addition to [`KNOWN_TEMPLATES`].
    pub fn from_toml(text: &str, extra_templates: &[&str]) -> Result<Policy, PolicyError> {
        let raw: RawPolicy =
            toml::from_str(text).map_err(|e| PolicyError::Toml(e.message().to_string()))?;
        Policy::from_raw(raw, extra_templates)
    }

    fn from_raw(raw: RawPolicy, extra_templates: &[&str]) -> Result<Policy, PolicyError> {
        let policy_error =
            |field: &'static str, problem: String| PolicyError::Policy { field, problem };
        if !valid_identifier(&raw.name) {
            return Err(policy_error(
                "name",
                format!(
                    "\"{}\" must be 1 to 64 characters of a-z, 0-9, _ and -",
                    raw.name
                ),
            ));
        }
        let version = u32::try_from(raw.version)
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                policy_error(
                    "version",
                    format!("{} is not a positive integer", raw.version),
                )
            })?;
        let catch_up = match raw.catch_up.as_deref() {
            None | Some("highest") => CatchUp::Highest,
            Some("in_order") => {
                let gap = raw.min_gap_days.ok_or_else(|| {
                    policy_error(
                        "min_gap_days",
                        "catch_up = \"in_order\" needs min_gap_days".to_string(),
                    )
                })?;
                CatchUp::InOrder {
                    min_gap_days: days_in_range(gap)
                        .map_err(|p| policy_error("min_gap_days", p))?,
                }
            }
            Some(other) => {
                return Err(policy_error(
                    "catch_up",
                    format!("unknown catch-up rule \"{other}\" (known: highest, in_order)"),
                ));
            }
        };
        let applies_to = parse_conditions(&raw.applies_to)
            .map_err(|(field, problem)| policy_error(field, format!("in applies_to: {problem}")))?;
        if raw.steps.is_empty() {
            return Err(PolicyError::NoSteps);
        }
        if raw.steps.len() > MAX_STEPS {
            return Err(PolicyError::TooManySteps(raw.steps.len()));
        }
        let mut steps: Vec<Step> = Vec::with_capacity(raw.steps.len());
        for (index, raw_step) in raw.steps.iter().enumerate() {
            let step = parse_step(index, raw_step, &steps, extra_templates)?;
            steps.push(step);
        }
        let policy = Policy {
            name: raw.name,
            version,
            applies_to,
            catch_up,
            steps,
        };
        policy.check_ladder()?;
        Ok(policy)
    }

    /// Cross-step rules: no two steps on the same trigger, and no money claimed from a consumer
    /// before the statutory letter's term.
    fn check_ladder(&self) -> Result<(), PolicyError> {
        for (i, step) in self.steps.iter().enumerate() {
            let error = |field: &'static str, problem: String| PolicyError::Step {
                position: i.saturating_add(1),
                step: step.id.clone(),
                field,
                problem,
            };
            if let Some((j, earlier)) = self.steps[..i]
                .iter()
                .enumerate()
                .find(|(_, e)| e.trigger == step.trigger)
            {
                return Err(error(
                    "trigger",
                    format!(
                        "fires on the same trigger as step {} ({}): {} {} day(s) after {}",
                        j.saturating_add(1),
                        earlier.id,
                        step.trigger.days,
                        step.trigger.kind.describe(),
                        self.anchor_name(&step.trigger.anchor)
                    ),
                ));
            }
            let claims_costs =
                step.has(LegalEffect::ClaimCosts) || step.has(LegalEffect::ReminderFee);
            if !claims_costs {
                continue;
            }
            let admits = |kind, jurisdiction| {
                self.applies_to.admits(kind, jurisdiction)
                    && step.conditions.admits(kind, jurisdiction)
            };
            if admits(DebtorKind::Consumer, Jurisdiction::Nl) {
                self.check_gate_before(i, LegalEffect::FourteenDayLetter, DebtorKind::Consumer, Jurisdiction::Nl)
                    .map_err(|why| {
                        error(
                            "effects",
                            format!(
                                "claims collection costs from a Dutch consumer {why} (art. 6:96 lid 6 BW)"
                            ),
                        )
                    })?;
            }
            if admits(DebtorKind::Consumer, Jurisdiction::Be) {
                self.check_gate_before(
                    i,
                    LegalEffect::BeFirstReminder,
                    DebtorKind::Consumer,
                    Jurisdiction::Be,
                )
                .map_err(|why| {
                    error(
                        "effects",
                        format!("claims damages from a Belgian consumer {why} (art. XIX.2 WER)"),
                    )
                })?;
            }
        }
        Ok(())
    }

    /// A step at `index` claiming money needs an earlier gate step (with `gate`) that applies
    /// to the same cases, and its trigger must count from that gate's deadline or later, at
    /// least one day on.
    fn check_gate_before(
        &self,
        index: usize,
        gate: LegalEffect,
        kind: DebtorKind,
        jurisdiction: Jurisdiction,
    ) -> Result<(), String> {
        let gate_name = gate.code();
        let Some(gate_index) = self.steps[..index].iter().position(|s| {
            s.has(gate)
                && s.conditions.admits(kind, jurisdiction)
                && s.conditions.min_open_amount.is_none()
                && s.conditions.tags_any.is_empty()
                && s.conditions.tags_none.is_empty()
                && s.conditions.risk_classes.is_empty()
        }) else {
            return Err(format!("without an earlier {gate_name} step"));
        };
        let step = &self.steps[index];
        let anchored_after_gate = match step.trigger.anchor {
            Anchor::DueDate => false,
            Anchor::StepDeadline(anchor) => anchor >= gate_index,
        };
        if !anchored_after_gate || step.trigger.days == 0 {
            return Err(format!(
                "before the term of step {} ({}) has expired: its trigger must count at least 1 day from that step's deadline or a later one",
                gate_index.saturating_add(1),
                self.steps[gate_index].id
            ));
        }
        Ok(())
    }

    fn anchor_name(&self, anchor: &Anchor) -> String {
        match anchor {
            Anchor::DueDate => "the due date".to_string(),
            Anchor::StepDeadline(i) => format!("the deadline of {}", self.steps[*i].id),
        }
    }

    /// The index of the step with this id.
    pub fn step_index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }
}

fn parse_step(
    index: usize,
    raw: &RawStep,
    earlier: &[Step],
    extra_templates: &[&str],
) -> Result<Step, PolicyError> {
    let error = |field: &'static str, problem: String| PolicyError::Step {
        position: index.saturating_add(1),
        step: raw.id.clone(),
        field,
        problem,
    };
    if !valid_identifier(&raw.id) {
        return Err(error(
            "id",
            "must be 1 to 64 characters of a-z, 0-9, _ and -".to_string(),
        ));
    }
    if let Some(j) = earlier.iter().position(|s| s.id == raw.id) {
        return Err(error(
            "id",
            format!("the id is already used by step {}", j.saturating_add(1)),
        ));
    }
    if !KNOWN_TEMPLATES.contains(&raw.template.as_str())
        && !extra_templates.contains(&raw.template.as_str())
    {
        let mut known: Vec<&str> = KNOWN_TEMPLATES.to_vec();
        known.extend_from_slice(extra_templates);
        return Err(error(
            "template",
            format!(
                "unknown template \"{}\" (known: {})",
                raw.template,
                known.join(", ")
            ),
        ));
    }
    if raw.channels.is_empty() {
        return Err(error(
            "channels",
            "at least one channel is needed".to_string(),
        ));
    }
    let mut channels = Vec::with_capacity(raw.channels.len());
    for c in &raw.channels {
        let channel = Channel::parse(c).ok_or_else(|| {
            error(
                "channels",
                format!("unknown channel \"{c}\" (known: email, post, sms, call)"),
            )
        })?;
        if channels.contains(&channel) {
            return Err(error(
                "channels",
                format!("channel \"{c}\" is listed twice"),
            ));
        }
        channels.push(channel);
    }
    let anchor = match raw.trigger.after.as_str() {
        "due_date" => Anchor::DueDate,
        "previous" => match index.checked_sub(1) {
            Some(previous) => Anchor::StepDeadline(previous),
            None => {
                return Err(error(
                    "trigger.after",
                    "the first step has no previous step; use \"due_date\"".to_string(),
                ));
            }
        },
        other => match earlier.iter().position(|s| s.id == other) {
            Some(j) => Anchor::StepDeadline(j),
            None => {
                return Err(error(
                    "trigger.after",
                    format!(
                        "\"{other}\" is not \"due_date\", \"previous\" or the id of an earlier step"
                    ),
                ));
            }
        },
    };
    let days = days_in_range(raw.trigger.days).map_err(|p| error("trigger.days", p))?;
    if anchor == Anchor::DueDate && days == 0 {
        return Err(error(
            "trigger.days",
            "a claim is overdue only from the day after its due date: count at least 1 day"
                .to_string(),
        ));
    }
    let kind = match raw.trigger.day_kind.as_deref() {
        None | Some("calendar") => DayKind::Calendar,
        Some("business") => DayKind::Business,
        Some(other) => {
            return Err(error(
                "trigger.day_kind",
                format!("unknown day kind \"{other}\" (known: calendar, business)"),
            ));
        }
    };
    let term_days = days_in_range(raw.term_days).map_err(|p| error("term_days", p))?;
    let conditions = parse_conditions(&raw.conditions).map_err(|(field, problem)| {
        error(
            match field {
                "debtor_kind" => "conditions.debtor_kind",
                "jurisdiction" => "conditions.jurisdiction",
                "min_open_amount" => "conditions.min_open_amount",
                "tags_any" => "conditions.tags_any",
                "tags_none" => "conditions.tags_none",
                _ => "conditions",
            },
            problem,
        )
    })?;
    let mut effects = BTreeSet::new();
    for e in &raw.effects {
        let effect = LegalEffect::parse(e).ok_or_else(|| {
            error(
                "effects",
                format!(
                    "unknown effect \"{e}\" (known: fourteen_day_letter, be_first_reminder, announce_costs, claim_interest, claim_costs, reminder_fee, hand_over)"
                ),
            )
        })?;
        effects.insert(effect);
    }
    let statutory = effects.iter().any(|e| e.is_gate());
    if statutory && term_days < STATUTORY_TERM_DAYS {
        return Err(error(
            "term_days",
            format!(
                "a statutory letter needs a term of at least {STATUTORY_TERM_DAYS} days, not {term_days}"
            ),
        ));
    }
    if statutory
        && !channels
            .iter()
            .any(|c| matches!(c, Channel::Post | Channel::Email))
    {
        return Err(error(
            "channels",
            "a statutory letter must be sent by post or email".to_string(),
        ));
    }
    if effects.contains(&LegalEffect::FourteenDayLetter)
        && effects.contains(&LegalEffect::ClaimCosts)
    {
        return Err(error(
            "effects",
            "a fourteen-day letter announces collection costs; it cannot claim them (art. 6:96 lid 6 BW)".to_string(),
        ));
    }
    if effects.contains(&LegalEffect::BeFirstReminder)
        && (effects.contains(&LegalEffect::ClaimCosts)
            || effects.contains(&LegalEffect::ReminderFee))
    {
        return Err(error(
            "effects",
            "the first reminder is free: it cannot claim damages or a fee (art. XIX.2 WER)"
                .to_string(),
        ));
    }
    Ok(Step {
        id: raw.id.clone(),
        template: raw.template.clone(),
        channels,
        trigger: Trigger { anchor, days, kind },
        term_days,
        conditions,
        effects,
    })
}

/// A shipped preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    NlB2b,
    NlB2c,
    BeB2c,
    BeB2b,
}

impl Preset {
    pub const ALL: [Preset; 4] = [Preset::NlB2b, Preset::NlB2c, Preset::BeB2c, Preset::BeB2b];

    pub fn name(self) -> &'static str {
        match self {
            Preset::NlB2b => "nl-b2b",
            Preset::NlB2c => "nl-b2c",
            Preset::BeB2c => "be-b2c",
            Preset::BeB2b => "be-b2b",
        }
    }

    pub fn parse(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The preset's TOML text, embedded in the binary.
    pub fn toml(self) -> &'static str {
        match self {
            Preset::NlB2b => include_str!("../policies/nl-b2b.toml"),
            Preset::NlB2c => include_str!("../policies/nl-b2c.toml"),
            Preset::BeB2c => include_str!("../policies/be-b2c.toml"),
            Preset::BeB2b => include_str!("../policies/be-b2b.toml"),
        }
    }

    /// The preset for a debtor kind and jurisdiction.
    pub fn for_debtor(kind: DebtorKind, jurisdiction: Jurisdiction) -> Preset {
        match (jurisdiction, kind) {
            (Jurisdiction::Nl, DebtorKind::Business) => Preset::NlB2b,
            (Jurisdiction::Nl, DebtorKind::Consumer) => Preset::NlB2c,
            (Jurisdiction::Be, DebtorKind::Consumer) => Preset::BeB2c,
            (Jurisdiction::Be, DebtorKind::Business) => Preset::BeB2b,
        }
    }

    /// The validated preset. The presets are tested to load, so this cannot fail in a release.
    pub fn load(self) -> Result<Policy, PolicyError> {
        Policy::from_toml(self.toml(), &[])
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
