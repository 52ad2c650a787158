//! The law engine of incasso: pure functions that compute statutory interest, collection costs,
//! payment allocation and statutory terms for the Netherlands, Belgium and the EU baseline.
//!
//! Every amount is exact: money is integer minor units, rates are exact, interest is accumulated
//! in a documented fixed-point intermediate (see [`interest::FineAmount`]) and rounded to cents in
//! one named step. Rate tables are data (`data/rates.tsv`), each row with its start date, source
//! and a verified flag. Nothing here does IO, reads the clock or uses floating point: "today" is
//! always a parameter.
#![forbid(unsafe_code)]
#![deny(
    clippy::float_arithmetic,
    clippy::as_conversions,
    clippy::arithmetic_side_effects
)]

pub mod allocation;
pub mod costs;
pub mod interest;
pub mod jurisdiction;
pub mod rates;
pub mod term;

pub use allocation::{
    Allocation, AllocationError, ClaimAllocation, OpenAmounts, OpenClaim, allocate_payment,
    allocate_within_claim,
};
pub use costs::{
    CollectionCosts, CostsError, CostsRequest, VatPosition, collection_costs,
    collection_costs_for_invoices,
};
pub use interest::{InterestError, InterestPayment, InterestPeriod, InterestSpecification};
pub use jurisdiction::{
    Jurisdiction, RuleError, TransactionKind, claim_interest, claim_interest_with_payments,
};
pub use term::{
    Channel, DeliveryPresumption, FourteenDayLetterTerm, be_waiting_period,
    fourteen_day_letter_term, term_from_receipt,
};
