//! Payment plans and promises to pay: proposing and validating a plan within the creditor's
//! bounds, and judging on a given day whether a plan is on track, completed or lapsed, and
//! whether a promise was kept or broken.
//!
//! A lapsed plan or a broken promise makes the whole balance due at once; the decision function
//! then resumes the ladder.

use incasso_calendar::{Date, add_days};
use incasso_money::Money;

/// Most instalments any plan may have (also bounds every loop over instalments).
pub const MAX_INSTALMENTS: u32 = 120;

/// The limits a creditor sets for payment plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanBounds {
    /// The last instalment falls at most this many months after the plan is agreed.
    pub max_months: u32,
    /// No instalment is smaller than this.
    pub min_instalment: Money,
    /// The first instalment falls at most this many days after the plan is agreed.
    pub first_instalment_max_days: u32,
    /// Days after a missed instalment before the plan lapses.
    pub grace_days: u32,
}

/// One instalment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instalment {
    pub due: Date,
    pub amount: Money,
}

/// A payment plan: concrete dates and amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentPlan {
    pub agreed_on: Date,
    pub instalments: Vec<Instalment>,
}

impl PaymentPlan {
    /// The sum of the instalments.
    pub fn total(&self) -> Result<Money, PlanError> {
        let currency = self
            .instalments
            .first()
            .map(|i| i.amount.currency())
            .ok_or(PlanError::NoInstalments)?;
        Money::sum(currency, self.instalments.iter().map(|i| i.amount))
            .map_err(|_| PlanError::Overflow)
    }
}

/// Why a plan cannot be proposed or is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the amount {0} is not positive")]
    NotPositive(Money),
    #[error("a plan needs at least one instalment")]
    NoInstalments,
    #[error("a plan may have at most {MAX_INSTALMENTS} instalments, not {0}")]
    TooManyInstalments(usize),
    #[error("the instalments add up to {total}, not the amount {amount}")]
    TotalMismatch { total: Money, amount: Money },
    #[error("instalment {number} of {amount} is below the minimum instalment {minimum}")]
    InstalmentTooSmall {
        number: usize,
        amount: Money,
        minimum: Money,
    },
    #[error(
        "the first instalment on {due} is later than {latest} ({max_days} days after the plan is agreed)"
    )]
    FirstInstalmentTooLate {
        due: Date,
        latest: Date,
        max_days: u32,
    },
    #[error("instalment {number} on {due} is before the plan is agreed on {agreed_on}")]
    InstalmentBeforeAgreement {
        number: usize,
        due: Date,
        agreed_on: Date,
    },
    #[error("instalment {number} on {due} is not after the previous instalment")]
    DatesNotIncreasing { number: usize, due: Date },
    #[error(
        "the last instalment on {due} is later than {latest} ({max_months} months after the plan is agreed)"
    )]
    TooLong {
        due: Date,
        latest: Date,
        max_months: u32,
    },
    #[error("instalment {number} is in a different currency")]
    CurrencyMismatch { number: usize },
    #[error("amount or date overflow in the payment plan")]
    Overflow,
}

/// `date` plus `months` calendar months; a day that does not exist in the target month becomes
/// that month's last day (31 January + 1 month = 28 or 29 February).
pub fn add_months(date: Date, months: u32) -> Option<Date> {
    let month_index = i32::from(date.year())
        .checked_mul(12)?
        .checked_add(i32::from(date.month()) - 1)?
        .checked_add(i32::try_from(months).ok()?)?;
    let year = i16::try_from(month_index.div_euclid(12)).ok()?;
    let month = i8::try_from(month_index.rem_euclid(12) + 1).ok()?;
    if date.day() <= 28 {
        return Date::new(year, month, date.day()).ok();
    }
    // Bounded: at most 4 attempts (31 → 28).
    (28..=date.day())
        .rev()
        .find_map(|day| Date::new(year, month, day).ok())
}

/// Proposes a plan for `amount` agreed on `today`: monthly instalments, the first one
/// `first_instalment_max_days` after today, as many instalments as the bounds allow (or
/// `instalments` if given and allowed). Cents that do not divide evenly go to the first
/// instalment.
pub fn propose_plan(
    amount: Money,
    today: Date,
    instalments: Option<u32>,
    bounds: &PlanBounds,
) -> Result<PaymentPlan, PlanError> {
    if !amount.is_positive() {
        return Err(PlanError::NotPositive(amount));
    }
    let minimum = bounds.min_instalment.minor().max(1);
    // The number of monthly instalments whose last one still falls within max_months of today:
    // the first at +first_days, then one a month.
    let by_amount = u32::try_from(amount.minor() / minimum)
        .unwrap_or(u32::MAX)
        .max(1);
    let first = add_days(
        today,
        i32::try_from(bounds.first_instalment_max_days).map_err(|_| PlanError::Overflow)?,
    )
    .ok_or(PlanError::Overflow)?;
    let latest = add_months(today, bounds.max_months).ok_or(PlanError::Overflow)?;
    let mut by_time = 0u32;
    for n in 0..MAX_INSTALMENTS {
        let due = add_months(first, n).ok_or(PlanError::Overflow)?;
        if due > latest {
            break;
        }
        by_time = n.saturating_add(1);
    }
    let most = by_amount.min(by_time).clamp(1, MAX_INSTALMENTS);
    let count = instalments.map_or(most, |n| n.clamp(1, most));
    let count_i64 = i64::from(count);
    let base = amount.minor() / count_i64;
    let remainder = amount.minor() % count_i64;
    let mut plan = Vec::with_capacity(usize::try_from(count).map_err(|_| PlanError::Overflow)?);
    for n in 0..count {
        let due = add_months(first, n).ok_or(PlanError::Overflow)?;
        let minor = if n == 0 {
            base.checked_add(remainder).ok_or(PlanError::Overflow)?
        } else {
            base
        };
        plan.push(Instalment {
            due,
            amount: Money::from_minor(minor, amount.currency()),
        });
    }
    let plan = PaymentPlan {
        agreed_on: today,
        instalments: plan,
    };
    validate_plan(&plan, amount, bounds)?;
    Ok(plan)
}

/// Checks a proposed plan against the amount and the creditor's bounds. Rejections come in this
/// order: shape, total, amounts, dates.
pub fn validate_plan(
    plan: &PaymentPlan,
    amount: Money,
    bounds: &PlanBounds,
) -> Result<(), PlanError> {
    if plan.instalments.is_empty() {
        return Err(PlanError::NoInstalments);
    }
    if plan.instalments.len() > usize::try_from(MAX_INSTALMENTS).unwrap_or(usize::MAX) {
        return Err(PlanError::TooManyInstalments(plan.instalments.len()));
    }
    for (i, instalment) in plan.instalments.iter().enumerate() {
        if instalment.amount.currency() != amount.currency() {
            return Err(PlanError::CurrencyMismatch {
                number: i.saturating_add(1),
            });
        }
    }
    let total = plan.total()?;
    if total != amount {
        return Err(PlanError::TotalMismatch { total, amount });
    }
    // A plan for less than one minimum instalment is one instalment of the whole amount.
    let minimum = if amount < bounds.min_instalment {
        amount
    } else {
        bounds.min_instalment
    };
    for (i, instalment) in plan.instalments.iter().enumerate() {
        if instalment.amount < minimum || !instalment.amount.is_positive() {
            return Err(PlanError::InstalmentTooSmall {
                number: i.saturating_add(1),
                amount: instalment.amount,
                minimum,
            });
        }
    }
    let first = plan.instalments[0].due;
    let latest_first = add_days(
        plan.agreed_on,
        i32::try_from(bounds.first_instalment_max_days).map_err(|_| PlanError::Overflow)?,
    )
    .ok_or(PlanError::Overflow)?;
    if first > latest_first {
        return Err(PlanError::FirstInstalmentTooLate {
            due: first,
            latest: latest_first,
            max_days: bounds.first_instalment_max_days,
        });
    }
    let mut previous: Option<Date> = None;
    for (i, instalment) in plan.instalments.iter().enumerate() {
        if instalment.due < plan.agreed_on {
            return Err(PlanError::InstalmentBeforeAgreement {
                number: i.saturating_add(1),
                due: instalment.due,
                agreed_on: plan.agreed_on,
            });
        }
        if previous.is_some_and(|p| instalment.due <= p) {
            return Err(PlanError::DatesNotIncreasing {
                number: i.saturating_add(1),
                due: instalment.due,
            });
        }
        previous = Some(instalment.due);
    }
    let latest = add_months(plan.agreed_on, bounds.max_months).ok_or(PlanError::Overflow)?;
    let last = plan.instalments[plan.instalments.len().saturating_sub(1)].due;
    if last > latest {
        return Err(PlanError::TooLong {
            due: last,
            latest,
            max_months: bounds.max_months,
        });
    }
    Ok(())
}

/// A payment received: the day and the amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentFact {
    pub received: Date,
    pub amount: Money,
}

/// Where a plan stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    /// Paid up to date; the next instalment is due on `next_due`.
    OnTrack { next_due: Date },
    /// Every instalment was paid.
    Completed,
    /// Instalment `number` (due `due`) was not paid within the grace days: from `lapsed_on` the
    /// whole balance is due at once.
    Lapsed {
        number: usize,
        due: Date,
        lapsed_on: Date,
    },
}

/// Judges a plan on `today`. Payments count from the day the plan was agreed; each instalment
/// is met when the payments up to its due date plus `grace_days` cover all instalments up to and
/// including it.
pub fn plan_status(
    plan: &PaymentPlan,
    payments: &[PaymentFact],
    grace_days: u32,
    today: Date,
) -> Result<PlanStatus, PlanError> {
    let grace = i32::try_from(grace_days).map_err(|_| PlanError::Overflow)?;
    let currency = plan.total()?.currency();
    let mut owed = Money::zero(currency);
    for (i, instalment) in plan.instalments.iter().enumerate() {
        owed = owed
            .checked_add(instalment.amount)
            .map_err(|_| PlanError::Overflow)?;
        let last_day = add_days(instalment.due, grace).ok_or(PlanError::Overflow)?;
        let paid_by_today = paid_between(payments, plan.agreed_on, today, currency)?;
        if today <= last_day {
            // Not yet judged: on track while the earlier instalments were met.
            if paid_by_today >= owed {
                continue;
            }
            return Ok(PlanStatus::OnTrack {
                next_due: instalment.due,
            });
        }
        let paid = paid_between(payments, plan.agreed_on, last_day, currency)?;
        if paid < owed {
            return Ok(PlanStatus::Lapsed {
                number: i.saturating_add(1),
                due: instalment.due,
                lapsed_on: add_days(last_day, 1).ok_or(PlanError::Overflow)?,
            });
        }
    }
    Ok(PlanStatus::Completed)
}

fn paid_between(
    payments: &[PaymentFact],
    from: Date,
    to: Date,
    currency: incasso_money::Currency,
) -> Result<Money, PlanError> {
    Money::sum(
        currency,
        payments
            .iter()
            .filter(|p| p.received >= from && p.received <= to && p.amount.currency() == currency)
            .map(|p| p.amount),
    )
    .map_err(|_| PlanError::Overflow)
}

/// A promise to pay `amount` by `pay_by`, made on `made_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromiseToPay {
    pub made_on: Date,
    pub pay_by: Date,
    pub amount: Money,
}

/// Where a promise stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromiseStatus {
    /// Not yet due: the ladder waits until `pay_by`.
    Pending { pay_by: Date },
    /// The promised amount arrived by `pay_by`.
    Kept,
    /// The day after `pay_by` without the promised amount.
    Broken { broken_on: Date },
}

/// Judges a promise on `today`.
pub fn promise_status(
    promise: &PromiseToPay,
    payments: &[PaymentFact],
    today: Date,
) -> Result<PromiseStatus, PlanError> {
    let paid = paid_between(
        payments,
        promise.made_on,
        promise.pay_by,
        promise.amount.currency(),
    )?;
    if paid >= promise.amount {
        return Ok(PromiseStatus::Kept);
    }
    if today <= promise.pay_by {
        return Ok(PromiseStatus::Pending {
            pay_by: promise.pay_by,
        });
    }
    Ok(PromiseStatus::Broken {
        broken_on: add_days(promise.pay_by, 1).ok_or(PlanError::Overflow)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use incasso_calendar::parse_iso;
    use incasso_money::Currency;

    fn d(s: &str) -> Date {
        parse_iso(s).unwrap()
    }

    fn eur(s: &str) -> Money {
        Money::parse_decimal(s, Currency::EUR).unwrap()
    }

    fn bounds() -> PlanBounds {
        PlanBounds {
            max_months: 6,
            min_instalment: eur("50.00"),
            first_instalment_max_days: 7,
            grace_days: 5,
        }
    }

    fn rows(plan: &PaymentPlan) -> Vec<(String, String)> {
        plan.instalments
            .iter()
            .map(|i| (i.due.to_string(), i.amount.to_decimal_string()))
            .collect()
    }

    fn rows_of(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn add_months_clamps_to_the_month_end() {
        for (from, months, to) in [
            ("2025-01-31", 1, "2025-02-28"),
            ("2024-01-31", 1, "2024-02-29"),
            ("2025-01-15", 12, "2026-01-15"),
            ("2025-11-30", 3, "2026-02-28"),
            ("2025-03-31", 0, "2025-03-31"),
        ] {
            assert_eq!(
                add_months(d(from), months),
                Some(d(to)),
                "{from} + {months}"
            );
        }
    }

    #[test]
    fn propose_spreads_the_amount_within_the_bounds() {
        // 1000.01 over at most 6 months from 31 January: first on 7 February, then monthly up to
        // 7 July (the last may fall on or before 31 July); the extra cent goes to the first.
        let plan = propose_plan(eur("1000.01"), d("2025-01-31"), None, &bounds()).unwrap();
        assert_eq!(
            rows(&plan),
            rows_of(&[
                ("2025-02-07", "166.71"),
                ("2025-03-07", "166.66"),
                ("2025-04-07", "166.66"),
                ("2025-05-07", "166.66"),
                ("2025-06-07", "166.66"),
                ("2025-07-07", "166.66"),
            ])
        );
        assert_eq!(plan.total().unwrap(), eur("1000.01"));
        // The minimum instalment limits the count: 120 / 50 → 2 instalments.
        let plan = propose_plan(eur("120.00"), d("2025-01-31"), None, &bounds()).unwrap();
        assert_eq!(
            rows(&plan),
            rows_of(&[("2025-02-07", "60.00"), ("2025-03-07", "60.00")])
        );
        // Less than one minimum instalment: one instalment of the whole amount.
        let plan = propose_plan(eur("30.00"), d("2025-01-31"), None, &bounds()).unwrap();
        assert_eq!(rows(&plan), rows_of(&[("2025-02-07", "30.00")]));
        // A requested count within the bounds.
        let plan = propose_plan(eur("900.00"), d("2025-01-31"), Some(3), &bounds()).unwrap();
        assert_eq!(plan.instalments.len(), 3);
        assert_eq!(
            propose_plan(eur("0.00"), d("2025-01-31"), None, &bounds()),
            Err(PlanError::NotPositive(eur("0.00")))
        );
    }

    #[test]
    fn validate_refuses_plans_outside_the_bounds() {
        let plan = |agreed: &str, items: &[(&str, &str)]| PaymentPlan {
            agreed_on: d(agreed),
            instalments: items
                .iter()
                .map(|(due, a)| Instalment {
                    due: d(due),
                    amount: eur(a),
                })
                .collect(),
        };
        let check = |p: PaymentPlan, amount: &str| {
            validate_plan(&p, eur(amount), &bounds()).map_err(|e| e.to_string())
        };
        assert_eq!(
            check(
                plan(
                    "2025-01-31",
                    &[("2025-02-07", "100.00"), ("2025-03-07", "100.00")]
                ),
                "200.00"
            ),
            Ok(())
        );
        assert_eq!(
            check(plan("2025-01-31", &[]), "200.00"),
            Err("a plan needs at least one instalment".into())
        );
        assert_eq!(
            check(plan("2025-01-31", &[("2025-02-07", "100.00")]), "200.00"),
            Err("the instalments add up to 100.00, not the amount 200.00".into())
        );
        assert_eq!(
            check(
                plan(
                    "2025-01-31",
                    &[("2025-02-07", "160.00"), ("2025-03-07", "40.00")]
                ),
                "200.00"
            ),
            Err("instalment 2 of 40.00 is below the minimum instalment 50.00".into())
        );
        assert_eq!(
            check(plan("2025-01-31", &[("2025-02-10", "200.00")]), "200.00"),
            Err("the first instalment on 2025-02-10 is later than 2025-02-07 (7 days after the plan is agreed)".into())
        );
        assert_eq!(
            check(
                plan(
                    "2025-01-31",
                    &[("2025-02-07", "100.00"), ("2025-02-07", "100.00")]
                ),
                "200.00"
            ),
            Err("instalment 2 on 2025-02-07 is not after the previous instalment".into())
        );
        assert_eq!(
            check(plan("2025-01-31", &[("2025-01-30", "200.00")]), "200.00"),
            Err("instalment 1 on 2025-01-30 is before the plan is agreed on 2025-01-31".into())
        );
        assert_eq!(
            check(plan("2025-01-31", &[("2025-02-07", "100.00"), ("2025-08-01", "100.00")]), "200.00"),
            Err("the last instalment on 2025-08-01 is later than 2025-07-31 (6 months after the plan is agreed)".into())
        );
    }

    #[test]
    fn a_plan_lapses_after_a_missed_instalment_plus_grace() {
        let plan = PaymentPlan {
            agreed_on: d("2025-03-01"),
            instalments: vec![
                Instalment {
                    due: d("2025-03-05"),
                    amount: eur("100.00"),
                },
                Instalment {
                    due: d("2025-04-05"),
                    amount: eur("100.00"),
                },
            ],
        };
        let paid = |items: &[(&str, &str)]| -> Vec<PaymentFact> {
            items
                .iter()
                .map(|(on, a)| PaymentFact {
                    received: d(on),
                    amount: eur(a),
                })
                .collect()
        };
        let status = |payments: &[PaymentFact], today: &str| {
            plan_status(&plan, payments, 5, d(today)).unwrap()
        };
        assert_eq!(
            status(&[], "2025-03-10"),
            PlanStatus::OnTrack {
                next_due: d("2025-03-05")
            }
        );
        assert_eq!(
            status(&[], "2025-03-11"),
            PlanStatus::Lapsed {
                number: 1,
                due: d("2025-03-05"),
                lapsed_on: d("2025-03-11")
            }
        );
        // A late payment within the grace days keeps the plan.
        let late = paid(&[("2025-03-09", "100.00")]);
        assert_eq!(
            status(&late, "2025-03-20"),
            PlanStatus::OnTrack {
                next_due: d("2025-04-05")
            }
        );
        assert_eq!(
            status(&late, "2025-04-11"),
            PlanStatus::Lapsed {
                number: 2,
                due: d("2025-04-05"),
                lapsed_on: d("2025-04-11")
            }
        );
        // Paid ahead: on track, then completed.
        let ahead = paid(&[("2025-03-02", "200.00")]);
        assert_eq!(status(&ahead, "2025-03-03"), PlanStatus::Completed);
        assert_eq!(status(&ahead, "2025-04-20"), PlanStatus::Completed);
        // A payment before the plan was agreed does not count.
        let before = paid(&[("2025-02-20", "200.00")]);
        assert!(matches!(
            status(&before, "2025-03-11"),
            PlanStatus::Lapsed { number: 1, .. }
        ));
    }

    #[test]
    fn a_promise_is_pending_kept_or_broken() {
        let promise = PromiseToPay {
            made_on: d("2025-03-01"),
            pay_by: d("2025-03-14"),
            amount: eur("250.00"),
        };
        let on = |payments: &[PaymentFact], today: &str| {
            promise_status(&promise, payments, d(today)).unwrap()
        };
        assert_eq!(
            on(&[], "2025-03-14"),
            PromiseStatus::Pending {
                pay_by: d("2025-03-14")
            }
        );
        assert_eq!(
            on(&[], "2025-03-15"),
            PromiseStatus::Broken {
                broken_on: d("2025-03-15")
            }
        );
        let kept = [PaymentFact {
            received: d("2025-03-14"),
            amount: eur("250.00"),
        }];
        assert_eq!(on(&kept, "2025-03-20"), PromiseStatus::Kept);
        let late = [PaymentFact {
            received: d("2025-03-15"),
            amount: eur("250.00"),
        }];
        assert_eq!(
            on(&late, "2025-03-20"),
            PromiseStatus::Broken {
                broken_on: d("2025-03-15")
            }
        );
    }
}
