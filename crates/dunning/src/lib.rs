//! The pure dunning core of incasso: versioned collection policies (TOML files with an ordered
//! ladder of steps), the closed set of case states and their transitions, pauses, payment plans
//! and promises to pay, and [`decide()`], the step function that turns what the shell knows about
//! a case into the effects to apply today, with the reason.
//!
//! Nothing here does IO, reads the clock or uses floating point: `today` is a parameter, money is
//! [`incasso_money::Money`], and the law (collection costs, statutory interest, the fourteen-day
//! letter's term, the Belgian waiting period) comes from `incasso-rules`.
//!
//! Invariants (tested with properties in `tests/`): no action for a paid or paused case; a step
//! recorded as done is never proposed again; no collection costs from a Dutch consumer before
//! the fourteen-day letter's term expired; costs never above the legal cap.
#![forbid(unsafe_code)]
#![deny(clippy::float_arithmetic)]

pub mod case;
pub mod decide;
pub mod key;
pub mod plan;
pub mod policy;

pub use case::{CaseId, CaseState, InvalidTransition, Pause, PauseReason};
pub use decide::{
    Action, ArrangementEnd, CaseFacts, ClaimFacts, DebtorFacts, DecideError, Decision, Effect,
    PlanFacts, Reason, StatedAmounts, StepDeadline, StepPreview, StepRecord, StepStatus, decide,
    preview, state_after, step_deadline,
};
pub use key::IdempotencyKey;
pub use plan::{
    Instalment, PaymentFact, PaymentPlan, PlanBounds, PlanError, PlanStatus, PromiseStatus,
    PromiseToPay, add_months, plan_status, promise_status, propose_plan, validate_plan,
};
pub use policy::{
    Anchor, CatchUp, Channel, Conditions, DayKind, KNOWN_TEMPLATES, LegalEffect, Policy,
    PolicyError, Preset, Step, Trigger,
};
