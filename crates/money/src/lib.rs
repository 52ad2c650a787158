//! Money for incasso: an exact integer count of minor units (cents) that carries its currency,
//! exact percentage rates, and named rounding rules.
//!
//! There are no floats here. Every arithmetic operation is checked and returns an error instead
//! of overflowing. Text formats (`"1234.56"`, `"1.234,56"`) are produced and parsed only by the
//! functions in this crate, so the rest of the code never handles amounts as strings.
#![deny(clippy::float_arithmetic)]

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

pub use rust_decimal;

/// An ISO 4217 currency code with its number of minor-unit digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
}

impl Currency {
    /// The euro, the currency of almost every claim incasso handles.
    pub const EUR: Currency = Currency { code: *b"EUR" };

    /// Parses a three-letter ISO 4217 code (case-insensitive).
    pub fn parse(s: &str) -> Result<Currency, MoneyError> {
        let t = s.trim();
        let bytes = t.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(|b| b.is_ascii_alphabetic()) {
            return Err(MoneyError::InvalidCurrency(t.to_string()));
        }
        let mut code = [0u8; 3];
        for (slot, b) in code.iter_mut().zip(bytes) {
            *slot = b.to_ascii_uppercase();
        }
        Ok(Currency { code })
    }

    /// The three-letter code, e.g. `"EUR"`.
    pub fn code(&self) -> &str {
        // The code is always three ASCII letters, checked in `parse`.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Number of digits after the decimal point in this currency's minor unit.
    pub fn exponent(&self) -> u32 {
        match &self.code {
            b"JPY" | b"KRW" | b"ISK" | b"CLP" | b"VND" | b"XAF" | b"XOF" => 0,
            b"BHD" | b"KWD" | b"OMR" | b"JOD" | b"TND" | b"LYD" | b"IQD" => 3,
            _ => 2,
        }
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Errors from money parsing and arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("invalid currency code {0:?}: expected three letters such as EUR")]
    InvalidCurrency(String),
    #[error("invalid amount {0:?}: expected a decimal number such as 1234.56 or 1.234,56")]
    InvalidAmount(String),
    #[error("amount {0:?} has more decimals than the currency allows")]
    TooManyDecimals(String),
    #[error("amount overflow")]
    Overflow,
    #[error("currency mismatch: {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
}

/// The rounding rule applied when an exact value has to become a whole number of minor units.
///
/// The statutes incasso implements prescribe no rounding for interest or collection costs; the
/// product rounds half away from zero ("half up"), as Dutch calculators and courts do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Half away from zero: 0.005 → 0.01, −0.005 → −0.01.
    HalfUp,
    /// Banker's rounding: half to the nearest even digit.
    HalfEven,
    /// Towards zero (truncation).
    TowardZero,
}

impl Rounding {
    fn strategy(self) -> rust_decimal::RoundingStrategy {
        match self {
            Rounding::HalfUp => rust_decimal::RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => rust_decimal::RoundingStrategy::MidpointNearestEven,
            Rounding::TowardZero => rust_decimal::RoundingStrategy::ToZero,
        }
    }
}

/// An exact amount of money: an integer number of minor units of one currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// An amount given in minor units (cents for EUR). Every `i64` is a valid amount.
    pub const fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// An amount in euro cents.
    pub const fn eur_cents(minor: i64) -> Money {
        Money::from_minor(minor, Currency::EUR)
    }

    /// Zero in the given currency.
    pub const fn zero(currency: Currency) -> Money {
        Money::from_minor(0, currency)
    }

    /// The amount in minor units.
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    pub const fn is_zero(&self) -> bool {
        self.minor == 0
    }

    pub const fn is_negative(&self) -> bool {
        self.minor < 0
    }

    pub const fn is_positive(&self) -> bool {
        self.minor > 0
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::from_minor(minor, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::from_minor(minor, self.currency))
    }

    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_neg().ok_or(MoneyError::Overflow)?;
        Ok(Money::from_minor(minor, self.currency))
    }

    /// Multiplies by a whole number (for example a count of invoices).
    pub fn checked_mul_int(self, factor: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(factor).ok_or(MoneyError::Overflow)?;
        Ok(Money::from_minor(minor, self.currency))
    }

    /// The smaller of two amounts of the same currency.
    pub fn min(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        Ok(if self.minor <= other.minor {
            self
        } else {
            other
        })
    }

    /// The larger of two amounts of the same currency.
    pub fn max(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        Ok(if self.minor >= other.minor {
            self
        } else {
            other
        })
    }

    /// Sums amounts that must all be in `currency`.
    pub fn sum<I: IntoIterator<Item = Money>>(
        currency: Currency,
        items: I,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }

    /// The exact decimal value in major units (e.g. `1234.56`).
    pub fn to_decimal(&self) -> Decimal {
        Decimal::new(self.minor, self.currency.exponent())
    }

    /// Converts an exact decimal in major units to money with the named rounding rule.
    pub fn from_decimal(
        value: Decimal,
        currency: Currency,
        rounding: Rounding,
    ) -> Result<Money, MoneyError> {
        let rounded = value.round_dp_with_strategy(currency.exponent(), rounding.strategy());
        let scaled = rounded
            .checked_mul(Decimal::from(10i64.pow(currency.exponent())))
            .ok_or(MoneyError::Overflow)?;
        let minor = scaled.trunc().to_i64().ok_or(MoneyError::Overflow)?;
        Ok(Money::from_minor(minor, currency))
    }

    /// Parses a plain decimal string with a point (`"1234.56"`, `"-3"`, `"0.5"`), the wire format.
    /// More decimals than the currency has are refused rather than rounded.
    pub fn parse_decimal(s: &str, currency: Currency) -> Result<Money, MoneyError> {
        let t = s.trim();
        let valid = !t.is_empty()
            && t.chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')))
            && t.chars().filter(|c| *c == '.').count() <= 1
            && t.chars().any(|c| c.is_ascii_digit());
        if !valid {
            return Err(MoneyError::InvalidAmount(t.to_string()));
        }
        let d = Decimal::from_str(t).map_err(|_| MoneyError::InvalidAmount(t.to_string()))?;
        if d.normalize().scale() > currency.exponent() {
            return Err(MoneyError::TooManyDecimals(t.to_string()));
        }
        Money::from_decimal(d, currency, Rounding::HalfUp)
    }

    /// Parses an amount as people and spreadsheets write it: a decimal point or a decimal
    /// comma, optional thousands separators (`1.234,56`, `1,234.56`, `1 234,56`, `1234.56`),
    /// an optional currency sign (`€`) and a leading minus.
    ///
    /// Ambiguity rule: when only one kind of separator occurs once and is followed by exactly
    /// three digits (`1.234`), it is a thousands separator only if it is a point and the
    /// creditor's locale is Dutch; this function treats a single separator followed by one or
    /// two digits as the decimal separator, and a single separator followed by three digits as
    /// a thousands separator. Amounts with more decimals than the currency allows are refused.
    pub fn parse_localized(s: &str, currency: Currency) -> Result<Money, MoneyError> {
        let original = s.trim();
        // Fast path for the common shapes `1234.56` and `1234,56` (no grouping, no sign
        // characters other than a leading minus): no allocation, no decimal arithmetic.
        if let Some(minor) = parse_plain(original, currency.exponent()) {
            return Ok(Money::from_minor(minor, currency));
        }
        let mut t: String = original
            .chars()
            .filter(|c| !matches!(c, '€' | ' ' | '\u{a0}' | '\u{202f}' | '\''))
            .collect();
        if let Some(rest) = t.strip_prefix("EUR") {
            t = rest.to_string();
        }
        let negative = t.starts_with('-') || (t.starts_with('(') && t.ends_with(')'));
        let body: String = if t.starts_with('(') && t.ends_with(')') {
            t[1..t.len().saturating_sub(1)].to_string()
        } else {
            t.strip_prefix(['-', '+']).unwrap_or(&t).to_string()
        };
        if body.is_empty()
            || !body
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        {
            return Err(MoneyError::InvalidAmount(original.to_string()));
        }
        let last_dot = body.rfind('.');
        let last_comma = body.rfind(',');
        let decimal_sep = match (last_dot, last_comma) {
            (Some(d), Some(c)) => Some(if d > c { '.' } else { ',' }),
            (Some(_), None) | (None, Some(_)) => {
                let sep = if last_dot.is_some() { '.' } else { ',' };
                let count = body.chars().filter(|c| *c == sep).count();
                let pos = last_dot.or(last_comma).unwrap_or(0);
                let digits_after = body.len().saturating_sub(pos).saturating_sub(1);
                if count > 1 || digits_after == 3 {
                    None
                } else {
                    Some(sep)
                }
            }
            (None, None) => None,
        };
        let (int_part, frac_part) = match decimal_sep {
            Some(sep) => {
                let pos = body.rfind(sep).unwrap_or(body.len());
                (&body[..pos], &body[pos.saturating_add(1)..])
            }
            None => (body.as_str(), ""),
        };
        let thousands = match decimal_sep {
            Some('.') => ',',
            Some(_) => '.',
            None => {
                if last_dot.is_some() {
                    '.'
                } else {
                    ','
                }
            }
        };
        // Thousands groups must be of three digits after the first group.
        let groups: Vec<&str> = int_part.split(thousands).collect();
        if groups.len() > 1 {
            let ok = groups
                .first()
                .is_some_and(|g| !g.is_empty() && g.len() <= 3)
                && groups.iter().skip(1).all(|g| g.len() == 3);
            if !ok {
                return Err(MoneyError::InvalidAmount(original.to_string()));
            }
        }
        let digits: String = groups.concat();
        if digits.is_empty() && frac_part.is_empty() {
            return Err(MoneyError::InvalidAmount(original.to_string()));
        }
        if frac_part.contains(['.', ',']) || digits.contains(['.', ',']) {
            return Err(MoneyError::InvalidAmount(original.to_string()));
        }
        let plain = format!(
            "{}{}.{}",
            if negative { "-" } else { "" },
            if digits.is_empty() { "0" } else { &digits },
            if frac_part.is_empty() { "0" } else { frac_part }
        );
        Money::parse_decimal(&plain, currency).map_err(|e| match e {
            MoneyError::TooManyDecimals(_) => MoneyError::TooManyDecimals(original.to_string()),
            _ => MoneyError::InvalidAmount(original.to_string()),
        })
    }

    /// The wire format: a plain decimal with exactly the currency's number of decimals
    /// (`"1234.56"`, `"-0.05"`).
    pub fn to_decimal_string(&self) -> String {
        let exp = self.currency.exponent();
        if exp == 0 {
            return self.minor.to_string();
        }
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let div = 10u64.pow(exp);
        format!(
            "{sign}{}.{:0width$}",
            abs / div,
            abs % div,
            width = exp as usize
        )
    }

    /// Appends the wire format (as [`Money::to_decimal_string`]) to `out` without allocating:
    /// listings print millions of amounts.
    pub fn write_decimal(&self, out: &mut String) {
        let exp = self.currency.exponent() as usize;
        let mut digits = [0u8; 24];
        let mut n = self.minor.unsigned_abs();
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            n /= 10;
            len += 1;
            if n == 0 && len > exp {
                break;
            }
        }
        if self.minor < 0 {
            out.push('-');
        }
        for i in (0..len).rev() {
            if i + 1 == exp && exp > 0 {
                out.push('.');
            }
            out.push(char::from(digits[i]));
        }
    }

    /// Dutch presentation: `€ 1.234,56` (for letters and tables).
    pub fn format_nl(&self) -> String {
        let plain = self.to_decimal_string();
        let (sign, rest) = match plain.strip_prefix('-') {
            Some(r) => ("-", r),
            None => ("", plain.as_str()),
        };
        let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
        let mut grouped = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push('.');
            }
            grouped.push(c);
        }
        let symbol = if self.currency == Currency::EUR {
            "€".to_string()
        } else {
            self.currency.code().to_string()
        };
        if frac.is_empty() {
            format!("{symbol} {sign}{grouped}")
        } else {
            format!("{symbol} {sign}{grouped},{frac}")
        }
    }
}

/// Parses `-?digits([.,]digits)?` with at most `exponent` decimals into minor units, or `None`
/// when the text has any other shape (the general parser then decides). A single separator
/// followed by exactly three digits is ambiguous (`1.234`) and is left to the general parser.
fn parse_plain(s: &str, exponent: u32) -> Option<i64> {
    let bytes = s.as_bytes();
    let (negative, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut int: i64 = 0;
    let mut frac: i64 = 0;
    let mut frac_digits: u32 = 0;
    let mut seen_sep = false;
    let mut int_digits = 0usize;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                let d = i64::from(b - b'0');
                if seen_sep {
                    frac_digits += 1;
                    if frac_digits > exponent {
                        return None;
                    }
                    frac = frac * 10 + d;
                } else {
                    int_digits += 1;
                    int = int * 10 + d;
                }
            }
            b'.' | b',' if !seen_sep => seen_sep = true,
            _ => return None,
        }
    }
    if int_digits == 0 || (seen_sep && frac_digits == 0) || (seen_sep && frac_digits == 3) {
        return None;
    }
    let scale = 10i64.checked_pow(exponent)?;
    let frac_scaled = frac.checked_mul(10i64.checked_pow(exponent - frac_digits)?)?;
    let minor = int.checked_mul(scale)?.checked_add(frac_scaled)?;
    Some(if negative { -minor } else { minor })
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.to_decimal_string())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

impl PartialOrd for Money {
    /// Amounts of different currencies are not ordered.
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        if self.currency == other.currency {
            Some(self.minor.cmp(&other.minor))
        } else {
            None
        }
    }
}

/// An exact annual percentage rate, such as `10.15` for 10.15 % (no floats).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rate {
    percent: Decimal,
}

impl Rate {
    /// Parses a percentage written with a point or comma, e.g. `"8.5"`, `"12,50"`.
    pub fn parse_percent(s: &str) -> Result<Rate, MoneyError> {
        let t = s.trim().trim_end_matches('%').trim().replace(',', ".");
        let d = Decimal::from_str(&t).map_err(|_| MoneyError::InvalidAmount(s.to_string()))?;
        if d.is_sign_negative() || d > Decimal::from(1000) {
            return Err(MoneyError::InvalidAmount(s.to_string()));
        }
        Ok(Rate {
            percent: d.normalize(),
        })
    }

    /// A rate given in hundredths of a percent (basis points): `1015` is 10.15 %.
    pub fn from_basis_points(bp: u32) -> Rate {
        Rate {
            percent: Decimal::new(i64::from(bp), 2).normalize(),
        }
    }

    /// The rate as an exact percentage (`10.15`).
    pub fn percent(&self) -> Decimal {
        self.percent
    }

    /// The rate as an exact fraction (`0.1015`).
    pub fn fraction(&self) -> Decimal {
        self.percent / Decimal::ONE_HUNDRED
    }

    /// Adds percentage points (for "reference rate + 8 points").
    pub fn plus_points(&self, points: Decimal) -> Rate {
        Rate {
            percent: (self.percent + points).normalize(),
        }
    }

    /// Two decimals, as the CLI and letters print it: `"12.50"`.
    pub fn to_percent_string(&self) -> String {
        let r = self
            .percent
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        format!("{r:.2}")
    }
}

impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.percent)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.to_percent_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(s: &str) -> Money {
        Money::parse_localized(s, Currency::EUR).unwrap()
    }

    #[test]
    fn parses_dutch_and_english_amounts() {
        assert_eq!(eur("1.234,56").minor(), 123456);
        assert_eq!(eur("1234.56").minor(), 123456);
        assert_eq!(eur("1,234.56").minor(), 123456);
        assert_eq!(eur("€ 1.234,5").minor(), 123450);
        assert_eq!(eur("12,3").minor(), 1230);
        assert_eq!(eur("-12,30").minor(), -1230);
        assert_eq!(eur("1.234").minor(), 123400);
        assert_eq!(eur("1.234.567,89").minor(), 123456789);
        assert_eq!(eur("100").minor(), 10000);
        assert_eq!(eur("0,01").minor(), 1);
        assert_eq!(eur("-0.5").minor(), -50);
        assert_eq!(eur("7").minor(), 700);
    }

    proptest::proptest! {
        #[test]
        fn fast_path_agrees_with_the_general_parser(minor in -10_000_000_000i64..10_000_000_000i64, comma in proptest::bool::ANY) {
            let text = Money::eur_cents(minor).to_decimal_string();
            let text = if comma { text.replace('.', ",") } else { text };
            proptest::prop_assert_eq!(parse_plain(&text, 2), Some(minor));
            proptest::prop_assert_eq!(Money::parse_localized(&text, Currency::EUR).unwrap().minor(), minor);
        }
    }

    #[test]
    fn refuses_garbage_and_excess_decimals() {
        for bad in ["", "abc", "1,2,3.4.5", "12.345,6.7", "1.23.4", "--5", "1e5"] {
            assert!(Money::parse_localized(bad, Currency::EUR).is_err(), "{bad}");
        }
        assert!(matches!(
            Money::parse_localized("1,2345", Currency::EUR),
            Err(MoneyError::TooManyDecimals(_))
        ));
        assert!(matches!(
            Money::parse_decimal("1.005", Currency::EUR),
            Err(MoneyError::TooManyDecimals(_))
        ));
    }

    #[test]
    fn formats_wire_and_dutch() {
        assert_eq!(Money::eur_cents(-5).to_decimal_string(), "-0.05");
        assert_eq!(
            Money::eur_cents(123456789).to_decimal_string(),
            "1234567.89"
        );
        assert_eq!(Money::eur_cents(123456789).format_nl(), "€ 1.234.567,89");
        assert_eq!(Money::eur_cents(4000).format_nl(), "€ 40,00");
    }

    #[test]
    fn write_decimal_equals_the_wire_format() {
        for minor in [
            0,
            1,
            -1,
            5,
            -5,
            99,
            100,
            -100,
            123_456_789,
            i64::MAX,
            i64::MIN + 1,
        ] {
            let m = Money::eur_cents(minor);
            let mut s = String::new();
            m.write_decimal(&mut s);
            assert_eq!(s, m.to_decimal_string(), "{minor}");
        }
        let yen = Money::from_minor(-1234, Currency::parse("JPY").unwrap());
        let mut s = String::new();
        yen.write_decimal(&mut s);
        assert_eq!(s, "-1234");
    }

    #[test]
    fn checked_arithmetic() {
        let a = Money::eur_cents(i64::MAX);
        assert_eq!(
            a.checked_add(Money::eur_cents(1)),
            Err(MoneyError::Overflow)
        );
        let usd = Money::from_minor(1, Currency::parse("usd").unwrap());
        assert!(matches!(
            Money::eur_cents(1).checked_add(usd),
            Err(MoneyError::CurrencyMismatch(..))
        ));
    }

    #[test]
    fn rounding_is_named() {
        let d = Decimal::from_str("0.125").unwrap();
        assert_eq!(
            Money::from_decimal(d, Currency::EUR, Rounding::HalfUp)
                .unwrap()
                .minor(),
            13
        );
        assert_eq!(
            Money::from_decimal(d, Currency::EUR, Rounding::HalfEven)
                .unwrap()
                .minor(),
            12
        );
        assert_eq!(
            Money::from_decimal(-d, Currency::EUR, Rounding::HalfUp)
                .unwrap()
                .minor(),
            -13
        );
    }

    #[test]
    fn rates() {
        assert_eq!(
            Rate::parse_percent("12,5").unwrap().to_percent_string(),
            "12.50"
        );
        assert_eq!(Rate::from_basis_points(1015).to_percent_string(), "10.15");
        assert!(Rate::parse_percent("-1").is_err());
    }

    proptest::proptest! {
        #[test]
        fn wire_format_round_trips(minor in -1_000_000_000_000i64..1_000_000_000_000i64) {
            let m = Money::eur_cents(minor);
            proptest::prop_assert_eq!(Money::parse_decimal(&m.to_decimal_string(), Currency::EUR).unwrap(), m);
            proptest::prop_assert_eq!(Money::parse_localized(&m.format_nl(), Currency::EUR).unwrap(), m);
        }
    }
}
