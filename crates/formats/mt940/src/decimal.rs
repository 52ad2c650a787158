//! Exact decimal numbers as they appear in bank files: an integer count of
//! units at a given scale (number of fraction digits), never a float.
//! (The same small type as in `incasso-camt`; format crates share no code.)
//!
//! SWIFT writes `1213,28`; it is kept as 121328 units at scale 2, and `18.150` is kept as 18150 units at scale 3, so the text can be reproduced
//! exactly; [`Decimal::same_value`] compares numerically across scales.

use std::fmt;

/// Largest number of significant digits accepted (integer + fraction).
/// ISO 20022 amounts have at most 18 total digits; 30 leaves headroom while
/// every sum of up to 10^8 amounts still fits in an `i128`.
const DIGITS_MAX: usize = 30;

/// An exact decimal number: `units / 10^scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    units: i128,
    scale: u8,
}

/// Why a decimal text was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// The text is empty.
    #[error("empty amount")]
    Empty,
    /// A character other than a digit, one sign or one separator.
    #[error("invalid character {0:?} in amount")]
    InvalidCharacter(char),
    /// More digits than [`Decimal`] holds exactly.
    #[error("amount has more than 30 digits")]
    TooManyDigits,
    /// No digit at all (for example `"."` or `"-"`).
    #[error("amount has no digits")]
    NoDigits,
}

impl Decimal {
    /// Zero at scale 0.
    pub const ZERO: Decimal = Decimal { units: 0, scale: 0 };

    /// Builds a decimal from units and scale (`Decimal::new(1815, 2)` is 18.15).
    pub fn new(units: i128, scale: u8) -> Self {
        Decimal { units, scale }
    }

    /// Parses `[+-]digits[<separator>digits]`; the separator is `.` for XML
    /// and `,` for SWIFT. A trailing separator without fraction digits
    /// (`"500,"`) is accepted and gives scale 0.
    pub fn parse_with_separator(text: &str, separator: char) -> Result<Self, DecimalError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DecimalError::Empty);
        }
        let (negative, body) = match text.as_bytes()[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let mut units: i128 = 0;
        let mut scale: usize = 0;
        let mut seen_separator = false;
        let mut digits = 0usize;
        let mut significant = 0usize;
        for c in body.chars() {
            if c == separator && !seen_separator {
                seen_separator = true;
                continue;
            }
            let Some(d) = c.to_digit(10) else {
                return Err(DecimalError::InvalidCharacter(c));
            };
            digits += 1;
            if significant > 0 || d != 0 || seen_separator {
                significant += 1;
            }
            if significant > DIGITS_MAX || scale >= DIGITS_MAX {
                return Err(DecimalError::TooManyDigits);
            }
            units = units * 10 + i128::from(d);
            if seen_separator {
                scale += 1;
            }
        }
        if digits == 0 {
            return Err(DecimalError::NoDigits);
        }
        let scale = u8::try_from(scale).map_err(|_| DecimalError::TooManyDigits)?;
        Ok(Decimal {
            units: if negative { -units } else { units },
            scale,
        })
    }

    /// Parses a SWIFT amount with `,` as separator (`500,` and `0,42`).
    pub fn parse_swift(text: &str) -> Result<Self, DecimalError> {
        Self::parse_with_separator(text, ',')
    }

    /// Parses a decimal with `.` as separator.
    pub fn parse(text: &str) -> Result<Self, DecimalError> {
        Self::parse_with_separator(text, '.')
    }

    /// The unscaled integer (`18.150` gives 18150).
    pub fn units(self) -> i128 {
        self.units
    }

    /// Number of fraction digits as written (`18.150` gives 3).
    pub fn scale(self) -> u8 {
        self.scale
    }

    /// True when the value is below zero.
    pub fn is_negative(self) -> bool {
        self.units < 0
    }

    /// The value with its sign flipped.
    pub fn negated(self) -> Self {
        Decimal {
            units: -self.units,
            scale: self.scale,
        }
    }

    /// The same value at a larger scale, or `None` when it would overflow or
    /// `scale` is smaller than the current one (that would lose digits).
    pub fn rescaled(self, scale: u8) -> Option<Self> {
        let extra = scale.checked_sub(self.scale)?;
        let factor = 10i128.checked_pow(u32::from(extra))?;
        Some(Decimal {
            units: self.units.checked_mul(factor)?,
            scale,
        })
    }

    /// Exact sum at the larger of both scales; `None` on overflow.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let a = self.rescaled(scale)?;
        let b = other.rescaled(scale)?;
        Some(Decimal {
            units: a.units.checked_add(b.units)?,
            scale,
        })
    }

    /// Numeric equality regardless of scale (`18.15` equals `18.150`).
    pub fn same_value(self, other: Decimal) -> bool {
        let scale = self.scale.max(other.scale);
        match (self.rescaled(scale), other.rescaled(scale)) {
            (Some(a), Some(b)) => a.units == b.units,
            _ => false,
        }
    }

    /// The value as an integer count of minor units with `minor_digits`
    /// fraction digits (2 for EUR), only when that is exact: `18.150` gives
    /// `Some(1815)`, `0.00001` gives `None` at 2 digits.
    pub fn to_minor_units(self, minor_digits: u8) -> Option<i64> {
        let units = if self.scale <= minor_digits {
            self.rescaled(minor_digits)?.units
        } else {
            let factor = 10i128.checked_pow(u32::from(self.scale - minor_digits))?;
            if self.units % factor != 0 {
                return None;
            }
            self.units / factor
        };
        i64::try_from(units).ok()
    }
}

impl fmt::Display for Decimal {
    /// Canonical text: optional `-`, integer digits, `.` and exactly
    /// `scale` fraction digits (`18.150`, `500`, `0.00001`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.units.unsigned_abs().to_string();
        let scale = usize::from(self.scale);
        if self.units < 0 {
            f.write_str("-")?;
        }
        if scale == 0 {
            return f.write_str(&digits);
        }
        if digits.len() <= scale {
            f.write_str("0.")?;
            for _ in digits.len()..scale {
                f.write_str("0")?;
            }
            f.write_str(&digits)
        } else {
            let (int, frac) = digits.split_at(digits.len() - scale);
            write!(f, "{int}.{frac}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        for (text, shown) in [
            ("18.150", "18.150"),
            ("0.00001", "0.00001"),
            ("2700", "2700"),
            ("-0.5", "-0.5"),
            ("000123.40", "123.40"),
        ] {
            assert_eq!(Decimal::parse(text).unwrap().to_string(), shown, "{text}");
        }
        assert_eq!(
            Decimal::parse_with_separator("500,", ',')
                .unwrap()
                .to_string(),
            "500"
        );
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(Decimal::parse(""), Err(DecimalError::Empty));
        assert_eq!(Decimal::parse("."), Err(DecimalError::NoDigits));
        assert_eq!(
            Decimal::parse("1.2.3"),
            Err(DecimalError::InvalidCharacter('.'))
        );
        assert_eq!(
            Decimal::parse("1e5"),
            Err(DecimalError::InvalidCharacter('e'))
        );
        assert_eq!(
            Decimal::parse("1234567890123456789012345678901"),
            Err(DecimalError::TooManyDigits)
        );
    }

    #[test]
    fn arithmetic_is_exact() {
        let a = Decimal::parse("18.15").unwrap();
        let b = Decimal::parse("8.850").unwrap();
        let sum = a.checked_add(b).unwrap();
        assert_eq!(sum.to_string(), "27.000");
        assert!(sum.same_value(Decimal::parse("27").unwrap()));
        assert_eq!(b.to_minor_units(2), Some(885));
        assert_eq!(Decimal::parse("0.00001").unwrap().to_minor_units(2), None);
    }
}
