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
//!
//! ```
//! use incasso_calendar::parse_iso;
//! use incasso_domain::{DebtorKind, InvoiceId, Jurisdiction};
//! use incasso_dunning::{
//!     CaseFacts, CaseId, CaseState, ClaimFacts, DebtorFacts, Decision, Effect, Preset, decide,
//! };
//! use incasso_money::Money;
//!
//! let policy = Preset::NlB2b.load().unwrap();
//! let facts = CaseFacts::new(
//!     CaseId::new(1),
//!     CaseState::Open,
//!     DebtorFacts {
//!         kind: DebtorKind::Business,
//!         jurisdiction: Jurisdiction::Nl,
//!         tags: Vec::new(),
//!         risk_class: None,
//!         vulnerable: false,
//!         do_not_contact: false,
//!     },
//!     vec![ClaimFacts {
//!         invoice_id: InvoiceId::new(10),
//!         principal: Money::eur_cents(100_000),
//!         open: Money::eur_cents(100_000),
//!         due: parse_iso("2025-03-31").unwrap(),
//!     }],
//! );
//! let decision = decide(&facts, &policy, parse_iso("2025-04-02").unwrap()).unwrap();
//! let action = &decision.actions()[0];
//! assert_eq!(action.key.as_str(), "dunning:1:nl-b2b:v1:payment_reminder");
//! assert_eq!(action.deadline, parse_iso("2025-04-07").unwrap());
//! assert!(matches!(&decision, Decision::Act { effects, .. }
//!     if matches!(effects[1], Effect::Transition { to: CaseState::Reminded, .. })));
//! ```
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
