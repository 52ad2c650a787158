//! The balance check: opening balance + entries = closing balance, exactly,
//! per statement.

use crate::decimal::Decimal;
use crate::model::{Diagnostic, Severity, Statement};

/// The figures of a successful balance check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BalanceCheck {
    /// Signed opening balance (`:60F:`/`:60M:`, credit positive).
    pub opening: Decimal,
    /// Signed sum of the `:61:` entries (money in positive).
    pub entries: Decimal,
    /// Signed closing balance (`:62F:`/`:62M:`).
    pub closing: Decimal,
}

/// Checks opening + entries = closing for one statement.
///
/// Returns `Ok(None)` when the statement lacks an opening or a closing
/// balance (MT942 usually does), `Ok(Some(..))` when the figures agree
/// exactly, and an error [`Diagnostic`] at the statement's `:20:` line when
/// they differ, the currencies differ, or an entry amount is unreadable.
pub fn check_balances(statement: &Statement) -> Result<Option<BalanceCheck>, Diagnostic> {
    let (Some(open), Some(close)) = (&statement.opening_balance, &statement.closing_balance) else {
        return Ok(None);
    };
    let fail = |field: &'static str, message: String| Diagnostic {
        severity: Severity::Error,
        line: statement.line,
        tag: "20".to_owned(),
        field,
        message,
    };
    if open.currency != close.currency {
        return Err(fail(
            "closing balance",
            format!(
                "balance check impossible: opening balance in {}, closing balance in {}",
                open.currency, close.currency
            ),
        ));
    }
    let mut sum = Decimal::ZERO;
    for entry in &statement.entries {
        let Some(amount) = entry.signed_amount() else {
            return Err(fail(
                "entries",
                format!(
                    "balance check impossible: the entry at line {} is unreadable",
                    entry.line
                ),
            ));
        };
        sum = sum
            .checked_add(amount)
            .ok_or_else(|| fail("entries", "balance check overflowed".to_owned()))?;
    }
    let opening = open.signed_amount();
    let closing = close.signed_amount();
    let expected = opening
        .checked_add(sum)
        .ok_or_else(|| fail("entries", "balance check overflowed".to_owned()))?;
    if !expected.same_value(closing) {
        return Err(fail(
            "closing balance",
            format!(
                "balance check failed: opening {opening} + entries {sum} = {expected}, but closing balance (line {}) is {closing}",
                close.line
            ),
        ));
    }
    Ok(Some(BalanceCheck {
        opening,
        entries: sum,
        closing,
    }))
}
