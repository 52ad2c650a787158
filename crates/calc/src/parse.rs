//! Parsing of command-line values into domain types, with one-line errors that name the
//! argument.

use anyhow::{Result, bail};
use incasso_calendar::{Date, parse_iso};
use incasso_money::{Currency, Money, MoneyError};
use incasso_rules::Jurisdiction;
use incasso_rules::rates::AnnualRate;

/// A non-negative euro amount with at most two decimals.
pub(crate) fn amount(arg: &str, value: &str) -> Result<Money> {
    let t = value.trim();
    let m = match Money::parse_decimal(t, Currency::EUR) {
        Ok(m) => m,
        Err(MoneyError::TooManyDecimals(_)) => bail!("{arg} {t} has more than two decimals"),
        Err(_) => bail!("{arg} {t} is not an amount (expected a decimal number such as 1234.56)"),
    };
    if m.is_negative() {
        bail!("{arg} {t} must not be negative");
    }
    Ok(m)
}

/// An ISO date.
pub(crate) fn date(arg: &str, value: &str) -> Result<Date> {
    let t = value.trim();
    match parse_iso(t) {
        Ok(d) => Ok(d),
        Err(_) => bail!("{arg} {t} is not a date (expected YYYY-MM-DD)"),
    }
}

/// `nl`, `be` or `eu`.
pub(crate) fn jurisdiction(value: &str) -> Result<Jurisdiction> {
    match Jurisdiction::parse(value) {
        Some(j) => Ok(j),
        None => bail!(
            "--jurisdiction {} is unknown: expected nl, be or eu",
            value.trim()
        ),
    }
}

/// A whole number.
pub(crate) fn number(arg: &str, value: &str) -> Result<u32> {
    let t = value.trim();
    match t.parse::<u32>() {
        Ok(n) => Ok(n),
        Err(_) => bail!("{arg} {t} is not a whole number"),
    }
}

/// An annual percentage.
pub(crate) fn rate(arg: &str, value: &str) -> Result<AnnualRate> {
    let t = value.trim();
    if t.starts_with('-') {
        bail!("{arg} {t} must not be negative");
    }
    match AnnualRate::parse_percent(t) {
        Ok(r) => Ok(r),
        Err(e) => bail!("{arg} {t}: {e}"),
    }
}
