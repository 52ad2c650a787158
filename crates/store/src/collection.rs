//! Row types of the collection engine that cross the storage boundary: the run's view of a
//! debtor's overdue claims, cases, outbox actions and case events.

use incasso_calendar::Date;
use incasso_domain::{DebtorId, DebtorKind, InvoiceId, Tag};
use incasso_money::Money;

/// One overdue, collectable claim of a debtor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueClaim {
    pub invoice_id: InvoiceId,
    /// What the debtor owed on the invoice (gross minus what was paid before import).
    pub principal: Money,
    /// What is still open today.
    pub open: Money,
    pub due: Date,
}

/// A debtor with at least one overdue claim, with the facts a policy looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebtorClaims {
    pub debtor_id: DebtorId,
    pub kind: DebtorKind,
    pub tags: Vec<Tag>,
    pub vulnerable: bool,
    pub do_not_contact: bool,
    pub claims: Vec<OverdueClaim>,
}

/// A stored case. States, pause reasons and channels are stored as the dunning crate's codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub id: i64,
    pub debtor_id: DebtorId,
    pub state: String,
    pub pause_reason: Option<String>,
    pub pause_until: Option<Date>,
    pub pause_note: String,
    pub resumed_on: Option<Date>,
    pub opened_on: Date,
    pub closed_on: Option<Date>,
}

/// The status of an outbox action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionStatus {
    /// Waiting to be dispatched.
    Queued,
    /// Not dispatched until released (for example: the bank data is stale).
    Held,
    /// Dispatched (posted, e-mailed, called).
    Sent,
    /// Will never be dispatched (for example: the debtor paid first).
    Cancelled,
    /// Dispatch failed; the reason says why.
    Failed,
}

impl ActionStatus {
    pub fn code(self) -> &'static str {
        match self {
            ActionStatus::Queued => "queued",
            ActionStatus::Held => "held",
            ActionStatus::Sent => "sent",
            ActionStatus::Cancelled => "cancelled",
            ActionStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ActionStatus> {
        match s {
            "queued" => Some(ActionStatus::Queued),
            "held" => Some(ActionStatus::Held),
            "sent" => Some(ActionStatus::Sent),
            "cancelled" => Some(ActionStatus::Cancelled),
            "failed" => Some(ActionStatus::Failed),
            _ => None,
        }
    }
}

/// An action to write to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAction {
    /// Unique per creditor: the same key is never written twice.
    pub idempotency_key: String,
    pub policy_name: String,
    pub policy_version: u32,
    pub step_id: String,
    pub template: String,
    /// Channel codes joined with `,` (`post,email`).
    pub channels: String,
    pub status: ActionStatus,
    pub status_reason: String,
    pub created_on: Date,
    pub deadline: Date,
    pub principal: Money,
    pub interest: Option<Money>,
    pub costs: Option<Money>,
    pub total: Money,
    pub why: String,
}

/// A stored action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRow {
    pub id: i64,
    pub case_id: i64,
    pub action: NewAction,
    pub dispatched_on: Option<Date>,
}

/// A case the run refers to: an existing one, or one created in the same batch (by index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseRef {
    Existing(i64),
    New(usize),
}

/// A new case opened by the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    pub debtor_id: DebtorId,
    pub state: String,
    pub opened_on: Date,
}

/// A change to a case: state, pause, resume day, closing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseChange {
    pub state: Option<String>,
    /// `Some(None)` lifts the pause; `Some(Some(..))` sets it.
    pub pause: Option<Option<(String, Option<Date>, String)>>,
    pub resumed_on: Option<Date>,
    pub closed_on: Option<Date>,
}

/// An entry of a case's append-only event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEvent {
    pub on: Date,
    pub kind: String,
    pub text: String,
}

/// Everything one batch of the daily run writes, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunBatch {
    pub new_cases: Vec<NewCase>,
    pub changes: Vec<(CaseRef, CaseChange)>,
    pub actions: Vec<(CaseRef, NewAction)>,
    /// Cancel the queued and held actions of these cases (their debtor paid).
    pub cancel_pending: Vec<(CaseRef, String)>,
    pub events: Vec<(CaseRef, CaseEvent)>,
}

/// What a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunApplied {
    pub cases_created: u64,
    pub actions_created: u64,
    /// Actions whose idempotency key existed already: nothing was written for them.
    pub actions_existing: u64,
    pub actions_cancelled: u64,
}

/// A payment plan agreed on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlan {
    pub case_id: i64,
    pub agreed_on: Date,
    pub grace_days: u32,
    /// Instalments in date order: due date and amount.
    pub instalments: Vec<(Date, Money)>,
}

/// A stored payment plan with its status: `active`, `completed`, `lapsed` or `cancelled`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    pub id: i64,
    pub plan: NewPlan,
    pub status: String,
}

/// Encodes instalments as `YYYY-MM-DD:minor;...` (the column both backends store).
pub fn encode_instalments(instalments: &[(Date, Money)]) -> String {
    instalments
        .iter()
        .map(|(d, m)| format!("{d}:{}", m.minor()))
        .collect::<Vec<_>>()
        .join(";")
}

/// Decodes [`encode_instalments`].
pub fn decode_instalments(
    text: &str,
    currency: incasso_money::Currency,
) -> anyhow::Result<Vec<(Date, Money)>> {
    text.split(';')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (d, m) = p
                .split_once(':')
                .ok_or_else(|| crate::codec::bad("instalments", p))?;
            Ok((
                crate::codec::date(d)?,
                Money::from_minor(
                    m.parse::<i64>()
                        .map_err(|_| crate::codec::bad("instalments", p))?,
                    currency,
                ),
            ))
        })
        .collect()
}

/// A policy file stored for a creditor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    pub name: String,
    pub version: u32,
    pub toml: String,
}

/// Where a policy assignment applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyScope {
    /// The creditor's default.
    Default,
    Debtor(DebtorId),
    Invoice(InvoiceId),
}

/// Which policy applies where (policy names: a stored policy or a shipped preset).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyAssignments {
    pub default: Option<String>,
    pub debtors: std::collections::HashMap<DebtorId, String>,
    pub invoices: std::collections::HashMap<InvoiceId, String>,
}

/// What the daily run needs of one outbox action: its key, and for a dispatched one the step
/// record (policy, step, channels, dispatch day). Lighter than [`ActionRow`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub case_id: i64,
    pub idempotency_key: String,
    pub status: ActionStatus,
    pub policy_name: String,
    pub policy_version: u32,
    pub step_id: String,
    pub channels: String,
    pub dispatched_on: Option<Date>,
}
