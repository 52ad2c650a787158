//! The statutory-interest engine: splits a claim's interest period at every rate change and
//! (when the statute capitalises) at every anniversary of the first interest day, computes
//! Actual/365 Fixed interest per sub-period, capitalises each full year's interest, and rounds
//! the total to cents once, half up.
//!
//! The result is an [`InterestSpecification`]: one row per period (from, to, days, rate, base,
//! interest) plus totals, ready to print in a letter.
//!
//! # Exactness
//!
//! Amounts inside the engine are [`FineAmount`]s: integers of 10⁻¹² minor unit (10⁻¹⁴ euro).
//! Within one interest year the base is constant, so the year's interest is accumulated exactly
//! as an integer numerator `base × Σ(rate × days)` and divided only once. The only inexact step
//! is capitalisation: the interest of a completed year is truncated to 10⁻¹² cent before it is
//! added to the base, an error below 10⁻¹² cent per anniversary. The final total is rounded from
//! the exact numerator. Rounding to cents is therefore exact to the statute except when the exact
//! total lies within (number of anniversaries) × 10⁻¹² cent of a half cent.

use incasso_calendar::{Date, day_number, from_day_number, is_leap_year};
use incasso_money::{Currency, Money};

use crate::rates::{AnnualRate, RateSchedule};

/// Fine units in one minor unit (cent): the fixed-point resolution of the engine.
pub const FINE_UNITS_PER_MINOR: i128 = 1_000_000_000_000;

/// Actual/365 Fixed with rates in ten-thousandths of a percent: interest =
/// base × rate_units × days / (100 × 10 000 × 365).
const DAY_COUNT_DIVISOR: i128 = 365 * 100 * 10_000;

/// The largest base the engine accepts (2⁹⁴ fine units, about 2·10¹⁴ euro): it keeps every
/// product `base × Σ(rate × days)` within one year below 2¹²⁶, so the hot loop needs no
/// overflow checks (a per-year sum of rate × days stays below 10⁷ × 366 < 2³²).
const MAX_BASE_FINE: i128 = 1 << 94;

/// An amount in 10⁻¹² minor unit: the engine's exact intermediate (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FineAmount {
    fine_units: i128,
}

impl FineAmount {
    pub const ZERO: FineAmount = FineAmount { fine_units: 0 };

    /// An amount in fine units (10⁻¹² minor unit).
    pub const fn from_fine_units(fine_units: i128) -> FineAmount {
        FineAmount { fine_units }
    }

    pub const fn fine_units(&self) -> i128 {
        self.fine_units
    }

    /// The exact fine amount of a whole number of minor units.
    pub fn from_money(money: Money) -> Result<FineAmount, InterestError> {
        i128::from(money.minor())
            .checked_mul(FINE_UNITS_PER_MINOR)
            .map(FineAmount::from_fine_units)
            .ok_or(InterestError::Overflow)
    }

    /// Rounds to whole minor units.
    ///
    /// Rounding rule: half up (half away from zero). Art. 6:119/6:119a BW prescribe no rounding;
    /// courts and calculators round the final amount to cents half up, and so does incasso.
    pub fn round_half_up(&self, currency: Currency) -> Result<Money, InterestError> {
        let minor = round_half_up_ratio(self.fine_units, FINE_UNITS_PER_MINOR)
            .ok_or(InterestError::Overflow)?;
        Ok(Money::from_minor(
            i64::try_from(minor).map_err(|_| InterestError::Overflow)?,
            currency,
        ))
    }

    /// The amount in major units with `decimals` decimals, rounded half up (for explanations such
    /// as "108.123" in a worked example; never for amounts that are charged).
    pub fn to_major_string_rounded(&self, exponent: u32, decimals: u32) -> Option<String> {
        let per_major = FINE_UNITS_PER_MINOR.checked_mul(10i128.checked_pow(exponent)?)?;
        let per_unit = per_major.checked_div(10i128.checked_pow(decimals)?)?;
        if per_unit == 0 {
            return None;
        }
        let units = round_half_up_ratio(self.fine_units, per_unit)?;
        let scaled = FineAmount::from_fine_units(units.checked_mul(per_unit)?);
        Some(scaled.to_major_string_truncated(exponent, decimals))
    }

    /// The amount in major units with `decimals` decimals, truncated (for explanations such as
    /// "2.828" in a worked example; never for amounts that are charged).
    pub fn to_major_string_truncated(&self, exponent: u32, decimals: u32) -> String {
        let per_major = FINE_UNITS_PER_MINOR.saturating_mul(10i128.saturating_pow(exponent));
        let sign = if self.fine_units < 0 { "-" } else { "" };
        let abs = self.fine_units.unsigned_abs();
        let per_major_u = per_major.unsigned_abs();
        let whole = abs.checked_div(per_major_u).unwrap_or(0);
        let scale = 10u128.saturating_pow(decimals);
        let frac = abs
            .checked_rem(per_major_u)
            .unwrap_or(0)
            .saturating_mul(scale)
            .checked_div(per_major_u)
            .unwrap_or(0);
        if decimals == 0 {
            format!("{sign}{whole}")
        } else {
            format!(
                "{sign}{whole}.{frac:0width$}",
                width = usize::try_from(decimals).unwrap_or(0)
            )
        }
    }
}

/// `numerator / denominator` rounded half away from zero, for a positive denominator:
/// ⌊(2·|n| + d) / 2d⌋ with the sign of `n`. `None` on overflow or a non-positive denominator.
fn round_half_up_ratio(numerator: i128, denominator: i128) -> Option<i128> {
    if denominator <= 0 {
        return None;
    }
    let magnitude = numerator
        .checked_abs()?
        .checked_mul(2)?
        .checked_add(denominator)?
        .checked_div(denominator.checked_mul(2)?)?;
    if numerator >= 0 {
        Some(magnitude)
    } else {
        magnitude.checked_neg()
    }
}

/// Where the anniversary of a first interest day of 29 February falls in a common year.
///
/// The statute ("telkens na afloop van een jaar") does not say (RULES.md §9.5). Anniversaries are
/// always counted from the first interest day, never chained, so a 29 February start returns to
/// 29 February in leap years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeapDayAnniversary {
    /// The year that began on 29 February ends at the end of 28 February; the next year begins on
    /// 1 March. This is incasso's default: it is what "one year later" means for every other
    /// start day (the year is the period up to the day before the same date), and it keeps a year
    /// that contains 29 February at 366 days, as in the SNS worked example.
    #[default]
    FirstOfMarch,
    /// The next year begins on 28 February (the convention of one public code table).
    TwentyEighthOfFebruary,
}

/// Whether interest is capitalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compounding {
    /// Simple interest on the principal (BE, EU baseline).
    Simple,
    /// At every anniversary of the first interest day the year's interest is added to the base
    /// (art. 6:119 lid 2 and 6:119a lid 3 BW).
    Annual(LeapDayAnniversary),
}

/// The interest of one claim over one stretch of days.
#[derive(Debug, Clone)]
pub struct InterestCalculation<'a> {
    /// The amount interest runs on (the principal, or the principal plus capitalised interest
    /// carried over from an earlier calculation).
    pub principal: Money,
    /// The first day interest runs (for 6:119a: the day after the agreed last day of payment).
    pub first_day: Date,
    /// The last day interest runs, inclusive (for 6:119a: the day of payment).
    pub last_day: Date,
    pub rates: &'a RateSchedule,
    pub compounding: Compounding,
}

/// One row of an interest specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterestPeriod {
    /// First day (day number; see [`InterestPeriod::from`]). Dates are produced lazily: the
    /// civil-date conversion dominated the engine's hot loop.
    from_day: i32,
    /// Last day, inclusive (day number; see [`InterestPeriod::to`]).
    to_day: i32,
    pub days: u32,
    pub rate: AnnualRate,
    /// The base the period's interest runs on (principal plus interest capitalised so far),
    /// exact.
    pub base: FineAmount,
    /// base × rate × days, the exact numerator of the period's interest (divided lazily: the
    /// engine's hot loop does no 128-bit division per period).
    interest_numerator: i128,
}

impl InterestPeriod {
    /// The first day of the period.
    pub fn from(&self) -> Date {
        from_day_number(self.from_day).unwrap_or(Date::MIN)
    }

    /// The last day of the period, inclusive.
    pub fn to(&self) -> Date {
        from_day_number(self.to_day).unwrap_or(Date::MAX)
    }

    /// The period's interest, exact to 10⁻¹² cent (truncated).
    pub fn interest(&self) -> FineAmount {
        FineAmount::from_fine_units(self.interest_numerator / DAY_COUNT_DIVISOR)
    }

    /// The base rounded to cents for display.
    pub fn base_rounded(&self, currency: Currency) -> Result<Money, InterestError> {
        self.base.round_half_up(currency)
    }

    /// The period's interest rounded to cents for display. The specification's total is *not*
    /// the sum of these: it is the unrounded sum, rounded once.
    pub fn interest_rounded(&self, currency: Currency) -> Result<Money, InterestError> {
        let minor = round_half_up_ratio(
            self.interest_numerator,
            DAY_COUNT_DIVISOR.saturating_mul(FINE_UNITS_PER_MINOR),
        )
        .ok_or(InterestError::Overflow)?;
        Ok(Money::from_minor(
            i64::try_from(minor).map_err(|_| InterestError::Overflow)?,
            currency,
        ))
    }
}

/// A payment on a claim's interest and principal. Costs come first under art. 6:44 BW: the
/// caller passes only what is left for interest and principal after costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterestPayment {
    /// The day of payment: interest runs on the old base through this day inclusive.
    pub date: Date,
    pub amount: Money,
}

/// How a payment was applied: to interest first (the oldest first: capitalised interest, then
/// the current year's), then to principal (art. 6:44 lid 1 BW).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentApplication {
    pub date: Date,
    pub amount: Money,
    /// The part applied to interest, rounded half up to cents for display.
    pub interest: Money,
    /// `amount − interest − unapplied`.
    pub principal: Money,
    /// What exceeded everything open (an overpayment).
    pub unapplied: Money,
}

/// The full explanation of a claim's interest: rows and totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterestSpecification {
    pub principal: Money,
    pub periods: Vec<InterestPeriod>,
    /// The unrounded total interest accrued (capitalised years truncated to 10⁻¹² cent, see the
    /// module docs).
    pub interest_exact: FineAmount,
    /// The total interest accrued, rounded to cents half up from the exact numerator.
    pub interest: Money,
    /// What is still owed on principal and interest at the end: `open_principal +
    /// open_interest`; without payments, principal plus interest.
    pub total: Money,
    /// The base after the last capitalisation and payment (open principal plus unpaid capitalised
    /// interest), exact: the amount collection costs may be recalculated on after a year (BIK,
    /// Nota van Toelichting point 5).
    pub capitalised_base: FineAmount,
    /// How each payment was applied, in date order.
    pub payments: Vec<PaymentApplication>,
    /// Principal still open at the end, rounded half up to cents.
    pub open_principal: Money,
    /// Interest accrued and not paid at the end, rounded half up to cents from the exact value.
    pub open_interest: Money,
}

/// Why interest cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterestError {
    #[error("the last interest day {last_day} is before the first interest day {first_day}")]
    LastDayBeforeFirstDay { first_day: Date, last_day: Date },
    #[error("the principal {0} is negative")]
    NegativePrincipal(Money),
    #[error("the payment of {amount} on {date} is negative")]
    NegativePayment { date: Date, amount: Money },
    #[error("the payment on {date} is after the last interest day {last_day}")]
    PaymentAfterLastDay { date: Date, last_day: Date },
    #[error("the payment on {date} is in another currency than the principal")]
    PaymentCurrency { date: Date },
    #[error("no rate in table {table} is in force on {date}")]
    NoRateInForce { table: String, date: Date },
    #[error("amount overflow in the interest calculation")]
    Overflow,
    #[error("date out of the supported range")]
    DateOutOfRange,
}

/// The `n`-th anniversary (first day of interest year `n + 1`) of `first_day`.
pub fn anniversary(first_day: Date, n: i16, leap_day: LeapDayAnniversary) -> Option<Date> {
    let year = first_day.year().checked_add(n)?;
    if first_day.month() == 2 && first_day.day() == 29 && !is_leap_year(year) {
        return match leap_day {
            LeapDayAnniversary::FirstOfMarch => Date::new(year, 3, 1).ok(),
            LeapDayAnniversary::TwentyEighthOfFebruary => Date::new(year, 2, 28).ok(),
        };
    }
    Date::new(year, first_day.month(), first_day.day()).ok()
}

/// Computes the interest specification of one claim without payments.
pub fn specify_interest(
    calc: &InterestCalculation<'_>,
) -> Result<InterestSpecification, InterestError> {
    specify_interest_with_payments(calc, &[])
}

fn to_money(fine_units: i128, currency: Currency) -> Result<Money, InterestError> {
    FineAmount::from_fine_units(fine_units).round_half_up(currency)
}

/// The running state of one claim inside the engine, in fine units.
struct ClaimState {
    /// Principal still open.
    principal: i128,
    /// Interest capitalised at past anniversaries and not yet paid (part of the base).
    capitalised_unpaid: i128,
    /// Σ base × rate × days over the current interest year (exact numerator).
    year_numerator: i128,
    /// Interest of the current year already paid (fine units).
    year_paid: i128,
    /// Interest of completed years, capitalised or paid (fine units, truncated once per year).
    completed_years: i128,
    /// All interest paid so far.
    interest_paid: i128,
}

impl ClaimState {
    fn base(&self) -> Result<i128, InterestError> {
        self.principal
            .checked_add(self.capitalised_unpaid)
            .filter(|b| *b <= MAX_BASE_FINE)
            .ok_or(InterestError::Overflow)
    }

    /// Applies a payment at the end of a day: interest first (capitalised, then the current
    /// year's accrued interest), then principal. Returns (to interest, to principal, unapplied).
    fn apply(&mut self, amount: i128) -> Result<(i128, i128, i128), InterestError> {
        let overflow = || InterestError::Overflow;
        let mut rest = amount;
        let to_capitalised = rest.min(self.capitalised_unpaid);
        self.capitalised_unpaid = self
            .capitalised_unpaid
            .checked_sub(to_capitalised)
            .ok_or_else(overflow)?;
        rest = rest.checked_sub(to_capitalised).ok_or_else(overflow)?;
        let accrued_this_year = self
            .year_interest()?
            .checked_sub(self.year_paid)
            .ok_or_else(overflow)?
            .max(0);
        let to_current = rest.min(accrued_this_year);
        self.year_paid = self
            .year_paid
            .checked_add(to_current)
            .ok_or_else(overflow)?;
        rest = rest.checked_sub(to_current).ok_or_else(overflow)?;
        let to_principal = rest.min(self.principal);
        self.principal = self
            .principal
            .checked_sub(to_principal)
            .ok_or_else(overflow)?;
        rest = rest.checked_sub(to_principal).ok_or_else(overflow)?;
        let to_interest = to_capitalised
            .checked_add(to_current)
            .ok_or_else(overflow)?;
        self.interest_paid = self
            .interest_paid
            .checked_add(to_interest)
            .ok_or_else(overflow)?;
        Ok((to_interest, to_principal, rest))
    }

    /// The current year's interest so far, truncated to fine units.
    fn year_interest(&self) -> Result<i128, InterestError> {
        self.year_numerator
            .checked_div(DAY_COUNT_DIVISOR)
            .ok_or(InterestError::Overflow)
    }

    /// Art. 6:119 lid 2 / 6:119a lid 3 BW: at the anniversary the year's unpaid interest is added
    /// to the base. Truncation to 10⁻¹² cent is the engine's documented fixed-point step.
    fn capitalise(&mut self) -> Result<(), InterestError> {
        let year_interest = self.year_interest()?;
        let unpaid = year_interest
            .checked_sub(self.year_paid)
            .ok_or(InterestError::Overflow)?
            .max(0);
        self.capitalised_unpaid = self
            .capitalised_unpaid
            .checked_add(unpaid)
            .ok_or(InterestError::Overflow)?;
        self.completed_years = self
            .completed_years
            .checked_add(year_interest)
            .ok_or(InterestError::Overflow)?;
        self.year_numerator = 0;
        self.year_paid = 0;
        self.base().map(|_| ())
    }
}

/// Computes the interest specification of one claim with payments on interest and principal.
///
/// Each payment is applied at the end of its day (interest runs on the old base through the day
/// of payment, art. 6:119a lid 1 BW), to interest first and then to principal (art. 6:44 BW); a
/// payment before the first interest day reduces the principal before interest starts. At an
/// anniversary only the year's unpaid interest is capitalised. Payments are taken in date order.
pub fn specify_interest_with_payments(
    calc: &InterestCalculation<'_>,
    payments: &[InterestPayment],
) -> Result<InterestSpecification, InterestError> {
    let InterestCalculation {
        principal,
        first_day,
        last_day,
        rates,
        compounding,
    } = calc;
    let currency = principal.currency();
    if principal.is_negative() {
        return Err(InterestError::NegativePrincipal(*principal));
    }
    if last_day < first_day {
        return Err(InterestError::LastDayBeforeFirstDay {
            first_day: *first_day,
            last_day: *last_day,
        });
    }
    let mut payments: Vec<InterestPayment> = payments.to_vec();
    payments.sort_by_key(|p| p.date);
    for p in &payments {
        if p.amount.is_negative() {
            return Err(InterestError::NegativePayment {
                date: p.date,
                amount: p.amount,
            });
        }
        if p.amount.currency() != currency {
            return Err(InterestError::PaymentCurrency { date: p.date });
        }
        if p.date > *last_day {
            return Err(InterestError::PaymentAfterLastDay {
                date: p.date,
                last_day: *last_day,
            });
        }
    }
    let start = day_number(*first_day);
    let end_exclusive = day_number(*last_day)
        .checked_add(1)
        .ok_or(InterestError::DateOutOfRange)?;

    let changes = rates.changes();
    let mut rate_index = rates.index_on(start);
    let next_change_after = |index: Option<usize>| -> i32 {
        let next = index.map_or(0, |i| i.saturating_add(1));
        changes.get(next).map_or(i32::MAX, |(d, _)| *d)
    };
    let mut next_change = next_change_after(rate_index);

    let mut anniversary_count: i16 = 0;
    let next_anniversary_day = |count: i16| -> Result<i32, InterestError> {
        match compounding {
            Compounding::Simple => Ok(i32::MAX),
            Compounding::Annual(leap) => {
                let n = count.checked_add(1).ok_or(InterestError::DateOutOfRange)?;
                anniversary(*first_day, n, *leap)
                    .map(day_number)
                    .ok_or(InterestError::DateOutOfRange)
            }
        }
    };
    let mut next_anniversary = next_anniversary_day(anniversary_count)?;

    let mut state = ClaimState {
        principal: FineAmount::from_money(*principal)?.fine_units,
        capitalised_unpaid: 0,
        year_numerator: 0,
        year_paid: 0,
        completed_years: 0,
        interest_paid: 0,
    };
    state.base()?;
    let mut applications = Vec::with_capacity(payments.len());
    let mut apply_payment =
        |state: &mut ClaimState, p: &InterestPayment| -> Result<(), InterestError> {
            let (to_interest, _, unapplied) =
                state.apply(FineAmount::from_money(p.amount)?.fine_units)?;
            let interest = to_money(to_interest, currency)?;
            let unapplied = to_money(unapplied, currency)?;
            let principal_part = p
                .amount
                .checked_sub(interest)
                .and_then(|m| m.checked_sub(unapplied))
                .map_err(|_| InterestError::Overflow)?;
            applications.push(PaymentApplication {
                date: p.date,
                amount: p.amount,
                interest,
                principal: principal_part,
                unapplied,
            });
            Ok(())
        };

    // Payments before the first interest day reduce the principal before interest starts.
    let mut next_payment = 0usize;
    while let Some(p) = payments
        .get(next_payment)
        .filter(|p| day_number(p.date) < start)
    {
        apply_payment(&mut state, p)?;
        next_payment = next_payment.saturating_add(1);
    }
    // The boundary after which the next payment takes effect: the day after its date.
    let payment_boundary = |index: usize| -> i32 {
        payments
            .get(index)
            .map_or(i32::MAX, |p| day_number(p.date).saturating_add(1))
    };
    let mut next_payment_day = payment_boundary(next_payment);

    // Rough capacity: one period per half-year plus one per year.
    let span_days = usize::try_from(end_exclusive.saturating_sub(start)).unwrap_or(0);
    let mut periods = Vec::with_capacity(
        (span_days / 120)
            .saturating_add(2)
            .saturating_add(payments.len()),
    );
    let mut cursor = start;

    while cursor < end_exclusive {
        let segment_end = end_exclusive
            .min(next_change)
            .min(next_anniversary)
            .min(next_payment_day);
        let days = segment_end
            .checked_sub(cursor)
            .ok_or(InterestError::DateOutOfRange)?;
        let rate = rate_index
            .and_then(|i| changes.get(i))
            .and_then(|(_, r)| *r)
            .ok_or_else(|| InterestError::NoRateInForce {
                table: rates.label.clone(),
                date: from_day_number(cursor).unwrap_or(*first_day),
            })?;
        let base = state.base()?;
        // Rate ≤ 1000% = 10⁷ units and days ≤ 366 keep `rate_days` below 2³², and `base` ≤
        // MAX_BASE_FINE (2⁹⁴) is checked by `base()`, so `base × rate_days` < 2¹²⁶: the checks
        // below never fire for valid input but keep the arithmetic checked.
        let rate_days = i128::from(rate.ten_thousandths_percent())
            .checked_mul(i128::from(days))
            .ok_or(InterestError::Overflow)?;
        let period_numerator = base.checked_mul(rate_days).ok_or(InterestError::Overflow)?;
        periods.push(InterestPeriod {
            from_day: cursor,
            to_day: segment_end
                .checked_sub(1)
                .ok_or(InterestError::DateOutOfRange)?,
            days: u32::try_from(days).map_err(|_| InterestError::DateOutOfRange)?,
            rate,
            base: FineAmount::from_fine_units(base),
            interest_numerator: period_numerator,
        });
        state.year_numerator = state
            .year_numerator
            .checked_add(period_numerator)
            .ok_or(InterestError::Overflow)?;
        cursor = segment_end;

        if cursor == next_change {
            rate_index = Some(rate_index.map_or(0, |i| i.saturating_add(1)));
            next_change = next_change_after(rate_index);
        }
        // Payments of the day that just ended, before a capitalisation at the start of the next.
        while cursor == next_payment_day {
            if let Some(p) = payments.get(next_payment) {
                apply_payment(&mut state, p)?;
            }
            next_payment = next_payment.saturating_add(1);
            next_payment_day = payment_boundary(next_payment);
        }
        // Capitalise only when interest runs on past the anniversary: a calculation that ends on
        // the last day of a year keeps that year's interest exact.
        if cursor == next_anniversary && cursor < end_exclusive {
            state.capitalise()?;
            anniversary_count = anniversary_count
                .checked_add(1)
                .ok_or(InterestError::DateOutOfRange)?;
            next_anniversary = next_anniversary_day(anniversary_count)?;
        }
    }

    // The total accrued, exact: completed years (truncated once each) plus the open year's
    // numerator. The one rounding step: to cents, half up.
    let divisor_to_minor = DAY_COUNT_DIVISOR
        .checked_mul(FINE_UNITS_PER_MINOR)
        .ok_or(InterestError::Overflow)?;
    let total_numerator = state
        .completed_years
        .checked_mul(DAY_COUNT_DIVISOR)
        .and_then(|c| c.checked_add(state.year_numerator))
        .ok_or(InterestError::Overflow)?;
    let round = |numerator: i128| -> Result<Money, InterestError> {
        let minor =
            round_half_up_ratio(numerator, divisor_to_minor).ok_or(InterestError::Overflow)?;
        Ok(Money::from_minor(
            i64::try_from(minor).map_err(|_| InterestError::Overflow)?,
            currency,
        ))
    };
    let interest = round(total_numerator)?;
    let open_numerator = state
        .interest_paid
        .checked_mul(DAY_COUNT_DIVISOR)
        .and_then(|paid| total_numerator.checked_sub(paid))
        .ok_or(InterestError::Overflow)?;
    let open_interest = round(open_numerator.max(0))?;
    let open_principal = to_money(state.principal, currency)?;
    let interest_exact = FineAmount::from_fine_units(
        state
            .completed_years
            .checked_add(state.year_interest()?)
            .ok_or(InterestError::Overflow)?,
    );
    let total = open_principal
        .checked_add(open_interest)
        .map_err(|_| InterestError::Overflow)?;
    Ok(InterestSpecification {
        principal: *principal,
        periods,
        interest_exact,
        interest,
        total,
        capitalised_base: FineAmount::from_fine_units(state.base()?),
        payments: applications,
        open_principal,
        open_interest,
    })
}

#[cfg(test)]
// Test code may use plain arithmetic on small, known values.
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::rates::{RateTableId, RateTables};
    use incasso_calendar::parse_iso;

    fn d(s: &str) -> Date {
        parse_iso(s).unwrap()
    }

    fn table(id: RateTableId) -> RateSchedule {
        RateTables::embedded()
            .unwrap()
            .table(id)
            .unwrap()
            .schedule()
    }

    fn spec(
        principal_cents: i64,
        first: &str,
        last: &str,
        rates: &RateSchedule,
        compounding: Compounding,
    ) -> InterestSpecification {
        specify_interest(&InterestCalculation {
            principal: Money::eur_cents(principal_cents),
            first_day: d(first),
            last_day: d(last),
            rates,
            compounding,
        })
        .unwrap()
    }

    const ANNUAL: Compounding = Compounding::Annual(LeapDayAnniversary::FirstOfMarch);

    /// One row of the SNS example: (from, to, days, rate, base to 3 decimals, interest to 3 decimals).
    type Row = (
        &'static str,
        &'static str,
        u32,
        &'static str,
        &'static str,
        &'static str,
    );

    #[test]
    fn bw_6_119_sns_example() {
        // RULES.md §10.2: vergoedingsns.nl worked example, EUR 100 from 2013-02-01 to 2023-10-29.
        let s = spec(
            10_000,
            "2013-02-01",
            "2023-10-29",
            &table(RateTableId::Nl6_119),
            ANNUAL,
        );
        assert_eq!(s.interest.to_decimal_string(), "28.94");
        assert_eq!(s.total.to_decimal_string(), "128.94");
        assert_eq!(s.interest_exact.to_major_string_truncated(2, 3), "28.939");
        let expected: [Row; 4] = [
            ("2013-02-01", "2014-01-31", 365, "3.00", "100.000", "3.000"),
            ("2014-02-01", "2014-12-31", 334, "3.00", "103.000", "2.828"),
            ("2016-02-01", "2017-01-31", 366, "2.00", "108.123", "2.168"),
            ("2023-07-01", "2023-10-29", 121, "6.00", "124.419", "2.475"),
        ];
        for (from, to, days, rate, base, interest) in expected {
            let p = s
                .periods
                .iter()
                .find(|p| p.from() == d(from))
                .unwrap_or_else(|| panic!("no period from {from}"));
            assert_eq!(
                (p.to(), p.days, p.rate.to_percent_string()),
                (d(to), days, rate.to_string()),
                "{from}"
            );
            // RULES.md prints the worked example's values rounded to three decimals.
            assert_eq!(
                p.base.to_major_string_rounded(2, 3).unwrap(),
                base,
                "{from}"
            );
            assert_eq!(
                p.interest().to_major_string_rounded(2, 3).unwrap(),
                interest,
                "{from}"
            );
        }
    }

    #[test]
    fn bw_6_119_simple_published_example() {
        // RULES.md §10.2: 1,000.00 × 8% × 11 days → 2.41.
        let rate = RateSchedule::constant("contractual", AnnualRate::parse_percent("8").unwrap());
        let s = spec(100_000, "2024-05-01", "2024-05-11", &rate, ANNUAL);
        assert_eq!(s.interest.to_decimal_string(), "2.41");
        // €5,000 × 10.15% × 90/365 = €125.14.
        let rate =
            RateSchedule::constant("contractual", AnnualRate::parse_percent("10.15").unwrap());
        assert_eq!(
            spec(500_000, "2025-08-01", "2025-10-29", &rate, ANNUAL)
                .interest
                .to_decimal_string(),
            "125.14"
        );
    }

    #[test]
    fn bw_6_119a_cli_contract_example() {
        // 10,000.00 due 2024-03-31, paid 2025-06-30, commercial rate; see docs/rules/nl.md for
        // the figure 1515.57 of the issue text and how it was checked.
        let s = spec(
            1_000_000,
            "2024-04-01",
            "2025-06-30",
            &table(RateTableId::Nl6_119a),
            ANNUAL,
        );
        let rows: Vec<(String, String, u32, String, String, String)> = s
            .periods
            .iter()
            .map(|p| {
                (
                    p.from().to_string(),
                    p.to().to_string(),
                    p.days,
                    p.rate.to_percent_string(),
                    p.base_rounded(Currency::EUR).unwrap().to_decimal_string(),
                    p.interest_rounded(Currency::EUR)
                        .unwrap()
                        .to_decimal_string(),
                )
            })
            .collect();
        let want = [
            (
                "2024-04-01",
                "2024-06-30",
                91,
                "12.50",
                "10000.00",
                "311.64",
            ),
            (
                "2024-07-01",
                "2024-12-31",
                184,
                "12.25",
                "10000.00",
                "617.53",
            ),
            (
                "2025-01-01",
                "2025-03-31",
                90,
                "11.15",
                "10000.00",
                "274.93",
            ),
            (
                "2025-04-01",
                "2025-06-30",
                91,
                "11.15",
                "11204.11",
                "311.46",
            ),
        ];
        let want: Vec<(String, String, u32, String, String, String)> = want
            .into_iter()
            .map(|(a, b, c, e, f, g)| {
                (
                    a.to_string(),
                    b.to_string(),
                    c,
                    e.to_string(),
                    f.to_string(),
                    g.to_string(),
                )
            })
            .collect();
        assert_eq!(rows, want);
        assert_eq!(s.interest.to_decimal_string(), "1515.57");
        assert_eq!(s.total.to_decimal_string(), "11515.57");
    }

    #[test]
    fn boundaries_at_rate_changes_and_anniversaries() {
        let nl = table(RateTableId::Nl6_119a);
        // Ending the day before a rate change: one period; ending on it: two.
        assert_eq!(
            spec(100_000, "2024-04-01", "2024-06-30", &nl, ANNUAL)
                .periods
                .len(),
            1
        );
        let s = spec(100_000, "2024-04-01", "2024-07-01", &nl, ANNUAL);
        assert_eq!(s.periods.len(), 2);
        assert_eq!(
            (s.periods[1].from(), s.periods[1].days),
            (d("2024-07-01"), 1)
        );
        // Ending the day before the anniversary: no capitalisation; on the anniversary: one day
        // on the capitalised base.
        let a = spec(100_000, "2023-03-01", "2024-02-29", &nl, ANNUAL);
        assert!(
            a.periods
                .iter()
                .all(|p| p.base == FineAmount::from_money(Money::eur_cents(100_000)).unwrap())
        );
        let b = spec(100_000, "2023-03-01", "2024-03-01", &nl, ANNUAL);
        let last = b.periods.last().unwrap();
        assert_eq!((last.from(), last.days), (d("2024-03-01"), 1));
        assert!(last.base > FineAmount::from_money(Money::eur_cents(100_000)).unwrap());
        assert_eq!(
            last.base,
            FineAmount::from_fine_units(
                FINE_UNITS_PER_MINOR * 100_000 + a.interest_exact.fine_units()
            )
        );
        // A single day: the first day is the last day.
        let one = spec(100_000, "2024-04-01", "2024-04-01", &nl, ANNUAL);
        assert_eq!((one.periods.len(), one.periods[0].days), (1, 1));
        // Leap day counts as a day (Actual/365 Fixed, no 366 divisor).
        let leap = spec(
            3_650_000,
            "2024-02-01",
            "2024-03-31",
            &RateSchedule::constant("c", AnnualRate::parse_percent("10").unwrap()),
            ANNUAL,
        );
        assert_eq!(leap.interest.to_decimal_string(), "600.00");
    }

    #[test]
    fn leap_day_first_interest_day_convention() {
        assert_eq!(
            anniversary(d("2024-02-29"), 1, LeapDayAnniversary::FirstOfMarch),
            Some(d("2025-03-01"))
        );
        assert_eq!(
            anniversary(
                d("2024-02-29"),
                1,
                LeapDayAnniversary::TwentyEighthOfFebruary
            ),
            Some(d("2025-02-28"))
        );
        assert_eq!(
            anniversary(d("2024-02-29"), 4, LeapDayAnniversary::FirstOfMarch),
            Some(d("2028-02-29"))
        );
        assert_eq!(
            anniversary(d("2023-03-01"), 1, LeapDayAnniversary::FirstOfMarch),
            Some(d("2024-03-01"))
        );
        let rate = RateSchedule::constant("c", AnnualRate::parse_percent("10").unwrap());
        let s = spec(1_000_000, "2024-02-29", "2025-03-31", &rate, ANNUAL);
        assert_eq!(
            (s.periods[0].to(), s.periods[0].days),
            (d("2025-02-28"), 366)
        );
        assert_eq!(s.periods[1].from(), d("2025-03-01"));
        let s = spec(
            1_000_000,
            "2024-02-29",
            "2025-03-31",
            &rate,
            Compounding::Annual(LeapDayAnniversary::TwentyEighthOfFebruary),
        );
        assert_eq!(
            (s.periods[0].to(), s.periods[0].days),
            (d("2025-02-27"), 365)
        );
    }

    #[test]
    fn refuses_impossible_input() {
        let nl = table(RateTableId::Nl6_119a);
        let calc = |p: i64, first: &str, last: &str| {
            specify_interest(&InterestCalculation {
                principal: Money::eur_cents(p),
                first_day: d(first),
                last_day: d(last),
                rates: &nl,
                compounding: ANNUAL,
            })
        };
        assert!(matches!(
            calc(100, "2024-04-01", "2024-03-31"),
            Err(InterestError::LastDayBeforeFirstDay { .. })
        ));
        assert!(matches!(
            calc(-1, "2024-04-01", "2024-04-30"),
            Err(InterestError::NegativePrincipal(_))
        ));
        assert!(matches!(
            calc(100, "2002-11-01", "2002-12-31"),
            Err(InterestError::NoRateInForce { .. })
        ));
        assert!(matches!(
            calc(i64::MAX, "2024-04-01", "2025-04-30"),
            Err(InterestError::Overflow)
        ));
    }

    fn with_payments(
        principal_cents: i64,
        first: &str,
        last: &str,
        rate: &str,
        compounding: Compounding,
        payments: &[(&str, i64)],
    ) -> InterestSpecification {
        let rates = RateSchedule::constant("c", AnnualRate::parse_percent(rate).unwrap());
        let payments: Vec<InterestPayment> = payments
            .iter()
            .map(|(date, cents)| InterestPayment {
                date: d(date),
                amount: Money::eur_cents(*cents),
            })
            .collect();
        specify_interest_with_payments(
            &InterestCalculation {
                principal: Money::eur_cents(principal_cents),
                first_day: d(first),
                last_day: d(last),
                rates: &rates,
                compounding,
            },
            &payments,
        )
        .unwrap()
    }

    #[test]
    fn bw_6_44_partial_payment_goes_to_interest_then_principal() {
        // 10,000 at 10% simple from 2025-01-01; 1,000 paid on 2025-04-10 (day 100 counts on the old
        // base): 273.97 interest, 726.03 principal; then 81 days on 9,273.97: 205.81.
        let s = with_payments(
            1_000_000,
            "2025-01-01",
            "2025-06-30",
            "10",
            Compounding::Simple,
            &[("2025-04-10", 100_000)],
        );
        let p = s.payments[0];
        assert_eq!(
            (p.interest, p.principal, p.unapplied),
            (
                Money::eur_cents(27_397),
                Money::eur_cents(72_603),
                Money::eur_cents(0)
            )
        );
        assert_eq!(s.periods.len(), 2);
        assert_eq!(
            (s.periods[0].to(), s.periods[0].days, s.periods[1].days),
            (d("2025-04-10"), 100, 81)
        );
        assert_eq!(s.interest.to_decimal_string(), "479.78");
        assert_eq!(s.open_principal.to_decimal_string(), "9273.97");
        assert_eq!(s.open_interest.to_decimal_string(), "205.81");
        assert_eq!(s.total.to_decimal_string(), "9479.78");
    }

    #[test]
    fn bw_6_119_lid2_payment_after_an_anniversary_pays_capitalised_interest_first() {
        // 10,000 at 10% from 2024-01-01 (leap year: 366/365), capitalised 1,002.74 on 2025-01-01;
        // 500 paid on 2025-03-31 goes to the capitalised interest and lowers the base to 10,502.74.
        let s = with_payments(
            1_000_000,
            "2024-01-01",
            "2025-12-31",
            "10",
            ANNUAL,
            &[("2025-03-31", 50_000)],
        );
        assert_eq!(s.payments[0].interest.to_decimal_string(), "500.00");
        let last = s.periods.last().unwrap();
        assert_eq!(
            last.base_rounded(Currency::EUR)
                .unwrap()
                .to_decimal_string(),
            "10502.74"
        );
        assert_eq!(s.interest.to_decimal_string(), "2065.34");
        assert_eq!(s.open_interest.to_decimal_string(), "1565.34");
        assert_eq!(s.open_principal.to_decimal_string(), "10000.00");
    }

    #[test]
    fn payments_before_the_first_day_and_overpayments() {
        let s = with_payments(
            100_000,
            "2025-01-01",
            "2025-01-31",
            "10",
            Compounding::Simple,
            &[("2024-12-15", 40_000)],
        );
        assert_eq!(
            s.periods[0]
                .base_rounded(Currency::EUR)
                .unwrap()
                .to_decimal_string(),
            "600.00"
        );
        let s = with_payments(
            100_000,
            "2025-01-01",
            "2025-01-31",
            "10",
            Compounding::Simple,
            &[("2025-01-31", 200_000)],
        );
        let p = s.payments[0];
        assert_eq!(
            (
                p.interest.to_decimal_string(),
                p.principal.to_decimal_string(),
                p.unapplied.to_decimal_string()
            ),
            ("8.49".into(), "1000.00".into(), "991.51".into())
        );
        assert_eq!(s.total, Money::eur_cents(0));
        let rates = RateSchedule::constant("c", AnnualRate::parse_percent("10").unwrap());
        let calc = InterestCalculation {
            principal: Money::eur_cents(100),
            first_day: d("2025-01-01"),
            last_day: d("2025-01-31"),
            rates: &rates,
            compounding: ANNUAL,
        };
        assert!(matches!(
            specify_interest_with_payments(
                &calc,
                &[InterestPayment {
                    date: d("2025-02-01"),
                    amount: Money::eur_cents(1)
                }]
            ),
            Err(InterestError::PaymentAfterLastDay { .. })
        ));
    }

    fn day(n: i32) -> Date {
        from_day_number(n).unwrap()
    }

    proptest::proptest! {
        /// The engine equals a naive oracle that walks day by day (rate looked up per day,
        /// capitalising when the day is an anniversary, with the same 10⁻¹² cent truncation), so
        /// the splitting at rate changes and anniversaries loses or double-counts no day.
        #[test]
        fn engine_equals_a_day_by_day_oracle(p in 0i64..10_000_000_000, a in 12_100i32..20_800, len in 0i32..2200, consumer in proptest::bool::ANY, feb28 in proptest::bool::ANY) {
            let schedule = table(if consumer { RateTableId::Nl6_119 } else { RateTableId::Nl6_119a });
            let leap = if feb28 { LeapDayAnniversary::TwentyEighthOfFebruary } else { LeapDayAnniversary::FirstOfMarch };
            let first = day(a);
            let got = specify_interest(&InterestCalculation {
                principal: Money::eur_cents(p),
                first_day: first,
                last_day: day(a + len),
                rates: &schedule,
                compounding: Compounding::Annual(leap),
            }).unwrap();
            let mut base = i128::from(p) * FINE_UNITS_PER_MINOR;
            let mut year: i128 = 0;
            let mut completed: i128 = 0;
            let mut n: i16 = 1;
            for offset in 0..=len {
                let today = day(a + offset);
                if offset > 0 && today == anniversary(first, n, leap).unwrap() {
                    let y = base * year / DAY_COUNT_DIVISOR;
                    base += y;
                    completed += y;
                    year = 0;
                    n += 1;
                }
                year += i128::from(schedule.rate_on(today).unwrap().ten_thousandths_percent());
            }
            let numerator = completed * DAY_COUNT_DIVISOR + base * year;
            let expected = round_half_up_ratio(numerator, DAY_COUNT_DIVISOR * FINE_UNITS_PER_MINOR).unwrap();
            proptest::prop_assert_eq!(i128::from(got.interest.minor()), expected);
            proptest::prop_assert_eq!(got.periods.iter().map(|r| i64::from(r.days)).sum::<i64>(), i64::from(len) + 1);
        }

        /// Simple interest is additive: I(a..c) = I(a..b) + I(b+1..c), exact up to the two
        /// truncations to 10⁻¹² cent.
        #[test]
        fn simple_interest_is_additive_over_any_split(p in 0i64..10_000_000_000, a in 19_725i32..20_800, len in 1i32..1500, cut in 0i32..1500) {
            let b2b = table(RateTableId::BeLatePayment2002);
            let c = a + len;
            let b = a + cut % len;
            let whole = spec(p, &day(a).to_string(), &day(c).to_string(), &b2b, Compounding::Simple);
            let left = spec(p, &day(a).to_string(), &day(b).to_string(), &b2b, Compounding::Simple);
            let right = spec(p, &day(b + 1).to_string(), &day(c).to_string(), &b2b, Compounding::Simple);
            let diff = whole.interest_exact.fine_units() - left.interest_exact.fine_units() - right.interest_exact.fine_units();
            proptest::prop_assert!((-2..=2).contains(&diff), "diff {diff}");
        }

        /// Payments of zero change nothing but the rows; any payments conserve money and never
        /// make the accrued interest depend on how a payment is split within one day.
        #[test]
        fn payments_conserve_money(p in 1i64..10_000_000_000, a in 19_000i32..20_500, len in 1i32..1500, pays in proptest::collection::vec((0i32..1500, 0i64..5_000_000_000), 0..4)) {
            let nl = table(RateTableId::Nl6_119a);
            let first = day(a);
            let last = day(a + len);
            let calc = InterestCalculation { principal: Money::eur_cents(p), first_day: first, last_day: last, rates: &nl, compounding: ANNUAL };
            let payments: Vec<InterestPayment> = pays.iter().map(|(off, cents)| InterestPayment { date: day(a + off % (len + 1)), amount: Money::eur_cents(*cents) }).collect();
            let plain = specify_interest(&calc).unwrap();
            let zeros: Vec<InterestPayment> = payments.iter().map(|x| InterestPayment { amount: Money::eur_cents(0), ..*x }).collect();
            let with_zeros = specify_interest_with_payments(&calc, &zeros).unwrap();
            proptest::prop_assert_eq!(with_zeros.interest, plain.interest);
            proptest::prop_assert_eq!(with_zeros.interest_exact, plain.interest_exact);
            let paid = specify_interest_with_payments(&calc, &payments).unwrap();
            for (application, payment) in paid.payments.iter().zip({ let mut v = payments.clone(); v.sort_by_key(|x| x.date); v }) {
                let parts = application.interest.checked_add(application.principal).unwrap().checked_add(application.unapplied).unwrap();
                proptest::prop_assert_eq!(parts, payment.amount);
                proptest::prop_assert!(!application.principal.is_negative() && !application.interest.is_negative());
            }
            // Paying can only lower the interest.
            proptest::prop_assert!(paid.interest <= plain.interest);
            proptest::prop_assert!(!paid.open_principal.is_negative() && !paid.open_interest.is_negative());
        }

        /// With annual capitalisation, splitting at an anniversary and continuing from the
        /// capitalised base gives exactly the same interest: I(a..c) = I(a..b) + I'(b+1..c),
        /// where b + 1 is an anniversary of a and I' runs on principal + I(a..b) (truncated to
        /// 10⁻¹² cent, the same step the engine takes). The right part is computed with the
        /// principal in whole cents only when I(a..b) is a whole number of cents, so the test
        /// compares at fine resolution through the rows instead.
        #[test]
        fn capitalised_interest_equals_its_rows_and_years(p in 1i64..10_000_000_000, a in 19_000i32..20_500, len in 1i32..2000) {
            let nl = table(RateTableId::Nl6_119a);
            let s = spec(p, &day(a).to_string(), &day(a + len).to_string(), &nl, ANNUAL);
            // The rows cover every day exactly once.
            let days: u32 = s.periods.iter().map(|r| r.days).sum();
            proptest::prop_assert_eq!(i64::from(days), i64::from(len) + 1);
            // Each row's base is the principal plus the interest of all completed years, and the
            // total is the sum of the rows up to truncation (≤ 1 fine unit per row).
            let sum: i128 = s.periods.iter().map(|r| r.interest().fine_units()).sum();
            let rows = i128::try_from(s.periods.len()).unwrap();
            let diff = s.interest_exact.fine_units() - sum;
            proptest::prop_assert!(diff >= 0 && diff <= rows + 1, "diff {diff}");
            // Splitting at the first anniversary and continuing on the capitalised base agrees.
            let first_anniversary = day_number(anniversary(day(a), 1, LeapDayAnniversary::FirstOfMarch).unwrap());
            if first_anniversary <= a + len {
                let left = spec(p, &day(a).to_string(), &day(first_anniversary - 1).to_string(), &nl, ANNUAL);
                let right_rows: i128 = s.periods.iter().filter(|r| day_number(r.from()) >= first_anniversary).map(|r| r.base.fine_units()).next().unwrap();
                proptest::prop_assert_eq!(right_rows, FINE_UNITS_PER_MINOR * i128::from(p) + left.interest_exact.fine_units());
            }
        }
    }
}
