//! Bank identifiers and structured payment references, parsed once at the edge into types
//! with private fields: an `Iban` or `Bic` value is always valid.
//!
//! Pure functions only: no IO, no clock.

mod bban;
mod bic;
mod iban;
pub mod reference;

pub use bic::{Bic, BicError};
pub use iban::{Iban, IbanError};
pub use reference::{Betalingskenmerk, CreditorReference, Ogm, PaymentReference, ReferenceError};

/// ISO 7064 MOD 97-10 over an alphanumeric string (letters A=10 … Z=35), as used by IBAN and
/// ISO 11649 RF references. Returns `None` for characters outside `0-9A-Z`.
pub fn mod97(s: &str) -> Option<u32> {
    let mut rem: u32 = 0;
    for c in s.chars() {
        let v = c.to_digit(36)?;
        if c.is_ascii_lowercase() {
            return None;
        }
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    Some(rem)
}
