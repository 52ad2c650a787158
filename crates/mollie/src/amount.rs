//! Mollie's amount object, `{"currency": "EUR", "value": "12.34"}`, to and from integer minor
//! units, exactly: the value string carries exactly the currency's number of decimals (two for
//! EUR, none for JPY), a point as the decimal separator and no thousands separators.

use incasso_money::{Currency, Money};

/// Why an amount from the wire was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("unknown currency {0:?}")]
    Currency(String),
    #[error(
        "amount value {value:?} is not a plain decimal with exactly {decimals} decimal(s) for {currency}"
    )]
    Format {
        value: String,
        currency: String,
        decimals: u32,
    },
    #[error("amount value {0:?} is too large")]
    Overflow(String),
}

/// The value string of an amount: `Money::eur_cents(1234)` is `"12.34"`.
pub fn to_value(amount: Money) -> String {
    amount.to_decimal_string()
}

/// The amount object as JSON.
pub fn to_json(amount: Money) -> serde_json::Value {
    serde_json::json!({"currency": amount.currency().code(), "value": to_value(amount)})
}

/// Reads an amount value written with exactly the currency's decimals (`"12.34"`, `"-0.05"`,
/// `"1000.00"`). `"12.3"`, `"12"`, `"12.345"`, `"1,00"`, `"1e3"`, `" 1.00"` and `"+1.00"` are
/// refused, as is a value that does not fit.
pub fn parse(currency: &str, value: &str) -> Result<Money, AmountError> {
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(AmountError::Currency(currency.to_string()));
    }
    let currency =
        Currency::parse(currency).map_err(|_| AmountError::Currency(currency.to_string()))?;
    let decimals = currency.exponent();
    let format = || AmountError::Format {
        value: value.to_string(),
        currency: currency.code().to_string(),
        decimals,
    };
    let (negative, body) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) => (w, f),
        None => (body, ""),
    };
    let fraction_len = u32::try_from(fraction.len()).map_err(|_| format())?;
    let has_point = body.contains('.');
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction_len != decimals
        || has_point != (decimals > 0)
    {
        return Err(format());
    }
    let overflow = || AmountError::Overflow(value.to_string());
    let mut minor: i64 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
            .ok_or_else(overflow)?;
    }
    if negative {
        minor = minor.checked_neg().ok_or_else(overflow)?;
    }
    Ok(Money::from_minor(minor, currency))
}

/// Reads an amount object (`{"currency": ..., "value": ...}`); `what` names it in errors.
pub fn from_json(v: &serde_json::Value, what: &str) -> Result<Money, String> {
    let currency = v
        .get("currency")
        .and_then(|c| c.as_str())
        .ok_or_else(|| format!("{what}.currency is missing or not a string"))?;
    let value = v
        .get("value")
        .and_then(|c| c.as_str())
        .ok_or_else(|| format!("{what}.value is missing or not a string"))?;
    parse(currency, value).map_err(|e| format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_go_out_with_exactly_two_decimals() {
        assert_eq!(to_value(Money::eur_cents(1234)), "12.34");
        assert_eq!(to_value(Money::eur_cents(5)), "0.05");
        assert_eq!(to_value(Money::eur_cents(100_000)), "1000.00");
        assert_eq!(to_value(Money::eur_cents(0)), "0.00");
        assert_eq!(
            to_json(Money::eur_cents(2495)),
            serde_json::json!({"currency": "EUR", "value": "24.95"})
        );
    }

    #[test]
    fn values_come_back_exactly() {
        assert_eq!(parse("EUR", "24.95"), Ok(Money::eur_cents(2495)));
        assert_eq!(parse("EUR", "0.01"), Ok(Money::eur_cents(1)));
        assert_eq!(parse("EUR", "-329.99"), Ok(Money::eur_cents(-32999)));
        assert_eq!(
            parse("EUR", "1000000.00"),
            Ok(Money::eur_cents(100_000_000))
        );
        for cents in [0i64, 1, 99, 100, 123_456_789, -5] {
            let m = Money::eur_cents(cents);
            assert_eq!(parse("EUR", &to_value(m)), Ok(m));
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "12.3", "12", "12.345", "1,00", "1e3", " 1.00", "1.00 ", "+1.00", "", ".50", "1.", "-",
            "--1.00", "1.0O", "١.٠٠",
        ] {
            assert!(
                matches!(parse("EUR", bad), Err(AmountError::Format { .. })),
                "{bad:?} must be refused"
            );
        }
        assert!(matches!(
            parse("EUR", "99999999999999999999.00"),
            Err(AmountError::Overflow(_))
        ));
        assert!(matches!(
            parse("EURO", "1.00"),
            Err(AmountError::Currency(_))
        ));
        assert!(matches!(
            parse("eur", "1.00"),
            Err(AmountError::Currency(_))
        ));
        let e = parse("EUR", "12.3").expect_err("refused").to_string();
        assert!(e.contains("\"12.3\"") && e.contains("2 decimal"), "{e}");
    }

    #[test]
    fn amount_objects_name_the_missing_field() {
        let e =
            from_json(&serde_json::json!({"value": "1.00"}), "amount").expect_err("no currency");
        assert!(e.contains("amount.currency"), "{e}");
        let e = from_json(
            &serde_json::json!({"currency": "EUR", "value": 1.0}),
            "amount",
        )
        .expect_err("number");
        assert!(e.contains("amount.value"), "{e}");
    }
}
