//! Small validated value types used by the document model: exact decimals
//! (no floats anywhere), ISO calendar dates, amounts with currency and
//! identifiers with an optional scheme.

use std::fmt;

/// An exact decimal number kept as its canonical text.
///
/// Accepts the `xsd:decimal` lexical form: optional sign, digits, optional
/// `.` and digits (at least one digit overall). The canonical text drops a
/// leading `+`, redundant leading zeros of the integer part, a trailing `.`,
/// and the sign of a zero value; it keeps the fraction digits as written
/// (`25.0` stays `25.0`, so the scale is preserved). No floating point is used.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal(String);

impl Decimal {
    /// Parses and canonicalises decimal text. Returns `None` if the text is
    /// not a decimal. Surrounding XML whitespace must already be removed.
    pub fn parse(text: &str) -> Option<Decimal> {
        let bytes = text.as_bytes();
        let (negative, rest) = match bytes.first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (int, frac) = match rest.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (rest, None),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int) || !frac.is_none_or(all_digits) {
            return None;
        }
        let frac = frac.unwrap_or("");
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let int = int.trim_start_matches('0');
        let is_zero = int.is_empty() && frac.bytes().all(|b| b == b'0');
        let mut out = String::with_capacity(rest.len() + 2);
        if negative && !is_zero {
            out.push('-');
        }
        out.push_str(if int.is_empty() { "0" } else { int });
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        Some(Decimal(out))
    }

    /// The canonical text, e.g. `-1656.25`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for values below zero.
    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-')
    }

    /// Number of digits after the decimal point as written (`25.0` → 1).
    pub fn scale(&self) -> usize {
        self.0.split_once('.').map_or(0, |(_, f)| f.len())
    }

    /// The integer digits without sign (`-12.50` → `12`).
    pub fn integer_digits(&self) -> &str {
        let s = self.0.trim_start_matches('-');
        s.split_once('.').map_or(s, |(i, _)| i)
    }

    /// The fraction digits as written (`-12.50` → `50`, `12` → ``).
    pub fn fraction_digits(&self) -> &str {
        self.0.split_once('.').map_or("", |(_, f)| f)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A calendar date (ISO 8601 `YYYY-MM-DD`), validated including leap years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UblDate {
    /// Year, 1..=9999.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of month, 1..=28/29/30/31.
    pub day: u8,
}

impl UblDate {
    /// Parses exactly `YYYY-MM-DD` (no time zone suffix, no time part).
    pub fn parse(text: &str) -> Option<UblDate> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u16> {
            b[r].iter().try_fold(0u16, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u16::from(c - b'0'))
            })
        };
        let year = num(0..4)?;
        let month = u8::try_from(num(5..7)?).ok()?;
        let day = u8::try_from(num(8..10)?).ok()?;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if year == 0 || day == 0 || day > days_in_month {
            return None;
        }
        Some(UblDate { year, month, day })
    }
}

impl fmt::Display for UblDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A monetary amount: exact decimal value plus the `currencyID` attribute
/// (ISO 4217 code as written, e.g. `EUR`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Amount {
    /// The exact value.
    pub value: Decimal,
    /// The `currencyID` attribute (mandatory in UBL).
    pub currency_id: String,
}

/// A quantity with its optional `unitCode` attribute (UN/ECE Rec 20, e.g. `C62`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Quantity {
    /// The exact value.
    pub value: Decimal,
    /// The `unitCode` attribute, if present.
    pub unit_code: Option<String>,
}

/// An identifier with its optional `schemeID` attribute (e.g. an EAS code
/// such as `0106` = KvK, `0208` = Belgian enterprise number, `0088` = GLN).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identifier {
    /// The identifier text.
    pub value: String,
    /// The `schemeID` attribute, if present.
    pub scheme_id: Option<String>,
}
