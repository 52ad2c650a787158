//! Integration tests for `incasso-ubl`: every sample invoice/credit note in
//! `tests/data`, negative cases (malformed, missing, invalid values),
//! security (DOCTYPE/XXE/billion laughs), value types, robustness
//! (proptest: no panics) and a performance sanity check.

mod common;
mod errors;
mod fuzz;
mod perf;
mod samples;
mod security;
mod values;
