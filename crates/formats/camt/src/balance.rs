//! The balance check: opening balance + booked entries = closing balance,
//! exactly, per statement.

use crate::decimal::Decimal;
use crate::model::{Balance, Diagnostic, Severity, Statement};

/// The figures of a successful balance check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BalanceCheck {
    /// Signed opening balance (credit positive).
    pub opening: Decimal,
    /// Signed sum of the booked entries.
    pub booked: Decimal,
    /// Signed closing balance as stated.
    pub closing: Decimal,
}

/// Opening balance types in order of preference: `OPBD`, else `PRCD`
/// (previously closed booked).
const OPENING: [&str; 2] = ["OPBD", "PRCD"];
/// Closing balance types in order of preference: `CLBD`, else the last
/// `ITBD` (interim booked, camt.052).
const CLOSING: [&str; 2] = ["CLBD", "ITBD"];

fn find<'a>(balances: &'a [Balance], codes: &[&str], last: bool) -> Option<&'a Balance> {
    codes.iter().find_map(|code| {
        let mut matching = balances
            .iter()
            .filter(|b| b.type_code.as_deref() == Some(*code));
        if last {
            matching.next_back()
        } else {
            matching.next()
        }
    })
}

/// Checks opening + booked entries = closing for one statement.
///
/// Uses [`Statement::booked_sum`], so it also works after
/// [`crate::parse_with`]. Returns `Ok(None)` when the statement lacks an
/// opening or a closing balance (nothing to check), `Ok(Some(..))` when the
/// figures agree exactly, and an error [`Diagnostic`] naming the statement
/// when they differ or cannot be computed. A balance without `CdtDbtInd`
/// (a real-world deviation the parser already reported) counts as credit.
pub fn check_balances(statement: &Statement) -> Result<Option<BalanceCheck>, Diagnostic> {
    let (Some(open), Some(close)) = (
        find(&statement.balances, &OPENING, false),
        find(&statement.balances, &CLOSING, true),
    ) else {
        return Ok(None);
    };
    let fail = |message: String| Diagnostic {
        severity: Severity::Error,
        path: statement.path.clone(),
        message,
    };
    let signed = |b: &Balance| -> Option<Decimal> {
        let amount = b.amount.as_ref()?.value;
        Some(
            b.credit_debit
                .unwrap_or(crate::CreditDebit::Credit)
                .signed(amount),
        )
    };
    let (Some(opening), Some(closing)) = (signed(open), signed(close)) else {
        return Err(fail(
            "balance check impossible: an opening or closing amount is unreadable".into(),
        ));
    };
    let currency = |b: &Balance| b.amount.as_ref().map(|a| a.currency.clone());
    if currency(open) != currency(close) {
        return Err(fail(format!(
            "balance check impossible: opening balance in {:?}, closing balance in {:?}",
            currency(open).unwrap_or_default(),
            currency(close).unwrap_or_default()
        )));
    }
    let Some(booked) = statement.booked_sum else {
        return Err(fail(
            "balance check impossible: an entry amount or direction is unreadable".into(),
        ));
    };
    let expected = opening
        .checked_add(booked)
        .ok_or_else(|| fail("balance check overflowed".into()))?;
    if !expected.same_value(closing) {
        return Err(fail(format!(
            "balance check failed: opening {opening} + entries {booked} = {expected}, but closing balance is {closing}"
        )));
    }
    Ok(Some(BalanceCheck {
        opening,
        booked,
        closing,
    }))
}
