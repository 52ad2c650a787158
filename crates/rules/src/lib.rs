//! The law engine of incasso: pure functions that compute statutory interest, collection costs,
//! payment allocation and statutory terms for the Netherlands, Belgium and the EU baseline.
//!
//! Every amount is exact: money is integer minor units, rates are exact, interest is accumulated
//! in a documented fixed-point intermediate (see [`interest::FineAmount`]) and rounded to cents in
//! one named step. Rate tables are data (`data/rates.tsv`), each row with its start date, source
//! and a verified flag. Nothing here does IO, reads the clock or uses floating point: "today" is
//! always a parameter.
#![forbid(unsafe_code)]
#![deny(clippy::float_arithmetic)]

pub mod allocation;
pub mod costs;
pub mod interest;
pub mod jurisdiction;
pub mod rates;
pub mod term;

pub use jurisdiction::{Jurisdiction, TransactionKind};
