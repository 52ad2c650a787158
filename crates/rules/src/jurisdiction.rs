//! Rule packs per jurisdiction: which rate table, compounding and day count apply to a claim's
//! statutory interest in the Netherlands, Belgium and the EU baseline, and how a contractual rate
//! replaces the statutory one.
//!
//! | jurisdiction | consumer | commercial |
//! |---|---|---|
//! | NL | art. 6:119 BW, annual capitalisation | art. 6:119a BW, annual capitalisation |
//! | BE | legal interest rate (law of 5 May 1865), simple; a contractual rate is capped by the B2B rate (Book XIX WER) | law of 2 August 2002, semester rates, simple |
//! | EU | not covered (Directive 2011/7/EU is B2B only) | ECB MRO reference rate + 8 points, simple |
//!
//! Day count everywhere: Actual/365 Fixed.

use incasso_calendar::{Date, add_days};
use incasso_money::Money;

use crate::interest::{
    Compounding, FineAmount, InterestCalculation, InterestError, InterestPayment,
    InterestSpecification, LeapDayAnniversary, PaymentApplication, specify_interest_with_payments,
};
use crate::rates::{AnnualRate, RateDataError, RateSchedule, RateTableId, RateTables};

/// Where the claim's law comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Jurisdiction {
    Netherlands,
    Belgium,
    /// Other EU member states: the Late Payment Directive 2011/7/EU baseline.
    EuBaseline,
}

impl Jurisdiction {
    /// Parses `nl`, `be` or `eu` (case-insensitive).
    pub fn parse(s: &str) -> Option<Jurisdiction> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" => Some(Jurisdiction::Netherlands),
            "be" => Some(Jurisdiction::Belgium),
            "eu" => Some(Jurisdiction::EuBaseline),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Jurisdiction::Netherlands => "nl",
            Jurisdiction::Belgium => "be",
            Jurisdiction::EuBaseline => "eu",
        }
    }
}

/// Whether the debtor is a consumer or the claim arises from a commercial transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionKind {
    /// Debtor is a consumer (NL art. 6:119 BW; BE Book XIX WER).
    Consumer,
    /// Between businesses or with a public authority (NL art. 6:119a BW; BE law of 2 August 2002;
    /// Directive 2011/7/EU).
    Commercial,
}

/// Why a rule cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("the EU baseline covers commercial transactions only (Directive 2011/7/EU)")]
    EuConsumerNotCovered,
    #[error(transparent)]
    Interest(#[from] InterestError),
    #[error("rate data defect: {0}")]
    RateData(#[from] RateDataError),
    #[error("rate table {0} is missing from the data")]
    MissingTable(&'static str),
}

/// The interest rule for one claim: the rate schedule and whether interest is capitalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterestRule {
    pub schedule: RateSchedule,
    pub compounding: Compounding,
    /// The statute, for letters and reports.
    pub statute: &'static str,
}

/// "+ 8 percentage points" in ten-thousandths of a percent (Directive 2011/7/EU art. 2).
const EU_MARGIN_UNITS: u32 = 80_000;

fn schedule(id: RateTableId) -> Result<RateSchedule, RuleError> {
    let tables = RateTables::embedded()?;
    tables
        .table(id)
        .map(|t| t.schedule())
        .ok_or(RuleError::MissingTable(id.name()))
}

/// Selects the interest rule. A `contractual` rate replaces the statutory one (NL art. 6:119
/// lid 3; BE and the Directive let the parties agree a rate); for BE consumers it is capped day
/// by day at the B2B rate of the law of 2 August 2002 (Book XIX WER).
///
/// Convention: a NL contractual rate is capitalised annually like the statutory one (BIK Nota
/// van Toelichting point 5 treats it the same); BE and EU interest is simple (no anatocism without
/// a court claim or agreement, art. 1154 old Civil Code).
pub fn interest_rule(
    jurisdiction: Jurisdiction,
    kind: TransactionKind,
    contractual: Option<AnnualRate>,
    leap_day: LeapDayAnniversary,
) -> Result<InterestRule, RuleError> {
    let annual = Compounding::Annual(leap_day);
    let rule = match (jurisdiction, kind, contractual) {
        (Jurisdiction::Netherlands, _, Some(rate)) => InterestRule {
            schedule: RateSchedule::constant("contractual", rate),
            compounding: annual,
            statute: "contractual interest (art. 6:119 lid 3 BW), capitalised annually",
        },
        (Jurisdiction::Netherlands, TransactionKind::Consumer, None) => InterestRule {
            schedule: schedule(RateTableId::Nl6_119)?,
            compounding: annual,
            statute: "art. 6:119 BW",
        },
        (Jurisdiction::Netherlands, TransactionKind::Commercial, None) => InterestRule {
            schedule: schedule(RateTableId::Nl6_119a)?,
            compounding: annual,
            statute: "art. 6:119a BW",
        },
        (Jurisdiction::Belgium, TransactionKind::Commercial, Some(rate)) => InterestRule {
            schedule: RateSchedule::constant("contractual", rate),
            compounding: Compounding::Simple,
            statute: "contractual interest (law of 2 August 2002, art. 5)",
        },
        (Jurisdiction::Belgium, TransactionKind::Commercial, None) => InterestRule {
            schedule: schedule(RateTableId::BeLatePayment2002)?,
            compounding: Compounding::Simple,
            statute: "law of 2 August 2002, art. 5",
        },
        (Jurisdiction::Belgium, TransactionKind::Consumer, Some(rate)) => InterestRule {
            schedule: RateSchedule::constant("contractual", rate).capped_by(
                &schedule(RateTableId::BeLatePayment2002)?,
                "contractual capped by be_late_payment_2002",
            ),
            compounding: Compounding::Simple,
            statute: "contractual interest capped at the rate of the law of 2 August 2002 (Book XIX WER)",
        },
        (Jurisdiction::Belgium, TransactionKind::Consumer, None) => InterestRule {
            schedule: schedule(RateTableId::BeLegalInterest)?,
            compounding: Compounding::Simple,
            statute: "legal interest rate (law of 5 May 1865)",
        },
        (Jurisdiction::EuBaseline, TransactionKind::Consumer, _) => {
            return Err(RuleError::EuConsumerNotCovered);
        }
        (Jurisdiction::EuBaseline, TransactionKind::Commercial, Some(rate)) => InterestRule {
            schedule: RateSchedule::constant("contractual", rate),
            compounding: Compounding::Simple,
            statute: "contractual interest (Directive 2011/7/EU)",
        },
        (Jurisdiction::EuBaseline, TransactionKind::Commercial, None) => InterestRule {
            schedule: schedule(RateTableId::EcbMroReference)?
                .plus_points("ecb_mro_reference + 8", EU_MARGIN_UNITS),
            compounding: Compounding::Simple,
            statute: "Directive 2011/7/EU: ECB reference rate + 8 points",
        },
    };
    Ok(rule)
}

/// The first interest day for a claim whose last day of payment is `due`: the day after
/// (art. 6:119a lid 1 BW; BE law of 2 August 2002; Directive 2011/7/EU).
pub fn first_interest_day(due: Date) -> Option<Date> {
    add_days(due, 1)
}

/// The statutory (or contractual) interest specification of one claim: interest runs from the
/// day after `due` up to and including `until`.
pub fn claim_interest(
    jurisdiction: Jurisdiction,
    kind: TransactionKind,
    contractual: Option<AnnualRate>,
    principal: Money,
    due: Date,
    until: Date,
) -> Result<InterestSpecification, RuleError> {
    claim_interest_with_payments(jurisdiction, kind, contractual, principal, due, until, &[])
}

/// As [`claim_interest`], with payments on interest and principal (after costs, art. 6:44 BW);
/// see [`specify_interest_with_payments`] for how they are applied.
pub fn claim_interest_with_payments(
    jurisdiction: Jurisdiction,
    kind: TransactionKind,
    contractual: Option<AnnualRate>,
    principal: Money,
    due: Date,
    until: Date,
    payments: &[InterestPayment],
) -> Result<InterestSpecification, RuleError> {
    let rule = interest_rule(
        jurisdiction,
        kind,
        contractual,
        LeapDayAnniversary::default(),
    )?;
    let first_day = first_interest_day(due).ok_or(InterestError::DateOutOfRange)?;
    if until < due {
        return Err(InterestError::LastDayBeforeFirstDay {
            first_day,
            last_day: until,
        }
        .into());
    }
    if until == due {
        // No day of interest yet: payments go to the principal only.
        return Ok(no_interest_yet(principal, until, payments)?);
    }
    Ok(specify_interest_with_payments(
        &InterestCalculation {
            principal,
            first_day,
            last_day: until,
            rates: &rule.schedule,
            compounding: rule.compounding,
        },
        payments,
    )?)
}

/// The specification of a claim on its due date: no interest, payments reduce the principal.
fn no_interest_yet(
    principal: Money,
    until: Date,
    payments: &[InterestPayment],
) -> Result<InterestSpecification, InterestError> {
    let currency = principal.currency();
    let mut open = principal;
    let mut applications = Vec::with_capacity(payments.len());
    let mut sorted = payments.to_vec();
    sorted.sort_by_key(|p| p.date);
    for p in sorted {
        if p.date > until {
            return Err(InterestError::PaymentAfterLastDay {
                date: p.date,
                last_day: until,
            });
        }
        if p.amount.is_negative() {
            return Err(InterestError::NegativePayment {
                date: p.date,
                amount: p.amount,
            });
        }
        let to_principal = p
            .amount
            .min(open)
            .map_err(|_| InterestError::PaymentCurrency { date: p.date })?;
        open = open
            .checked_sub(to_principal)
            .map_err(|_| InterestError::Overflow)?;
        let unapplied = p
            .amount
            .checked_sub(to_principal)
            .map_err(|_| InterestError::Overflow)?;
        applications.push(PaymentApplication {
            date: p.date,
            amount: p.amount,
            interest: Money::zero(currency),
            principal: to_principal,
            unapplied,
        });
    }
    Ok(InterestSpecification {
        principal,
        periods: Vec::new(),
        interest_exact: FineAmount::ZERO,
        interest: Money::zero(currency),
        total: open,
        capitalised_base: FineAmount::from_money(open)?,
        payments: applications,
        open_principal: open,
        open_interest: Money::zero(currency),
    })
}

#[cfg(test)]
// Test code may use plain arithmetic on small, known values.
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use incasso_calendar::parse_iso;

    fn d(s: &str) -> Date {
        parse_iso(s).unwrap()
    }

    fn interest(
        j: Jurisdiction,
        k: TransactionKind,
        rate: Option<&str>,
        cents: i64,
        due: &str,
        until: &str,
    ) -> String {
        let rate = rate.map(|r| AnnualRate::parse_percent(r).unwrap());
        claim_interest(j, k, rate, Money::eur_cents(cents), d(due), d(until))
            .unwrap()
            .interest
            .to_decimal_string()
    }

    /// One line per case: principal, due date, last interest day, kind → interest. The expected
    /// values come from an independent day-by-day implementation in exact fractions (one day at a
    /// time, capitalising on each anniversary, 29 February → 1 March), not from this engine.
    #[test]
    fn bw_6_119_and_6_119a_reference_table() {
        use TransactionKind::{Commercial, Consumer};
        let cases = [
            (
                "10000.00",
                "2024-03-31",
                "2025-06-30",
                Commercial,
                "1515.57",
            ),
            ("1234.56", "2022-12-15", "2023-07-14", Commercial, "74.29"),
            ("2500.00", "2012-06-30", "2016-09-30", Commercial, "992.91"),
            (
                "100000.00",
                "2020-12-31",
                "2025-12-31",
                Commercial,
                "61400.53",
            ),
            ("99.99", "2019-02-28", "2024-03-01", Consumer, "14.60"),
            ("5000.00", "2023-02-28", "2026-03-31", Consumer, "976.58"),
            ("750.00", "2024-02-28", "2026-06-30", Consumer, "108.25"),
        ];
        for (principal, due, until, kind, expected) in cases {
            let principal = Money::parse_decimal(principal, incasso_money::Currency::EUR).unwrap();
            let got = claim_interest(
                Jurisdiction::Netherlands,
                kind,
                None,
                principal,
                d(due),
                d(until),
            )
            .unwrap();
            assert_eq!(
                got.interest.to_decimal_string(),
                expected,
                "{principal:?} {due} {until}"
            );
        }
    }

    #[test]
    fn be_law_2002_semester_rates_simple() {
        // 10,000 over 2023 H2 (184 days at 12%) and 2024 H1 (182 days at 12.5%), no capitalisation.
        // 10000 × 0.12 × 184/365 = 604.93; 10000 × 0.125 × 182/365 = 623.29; total 1228.22.
        assert_eq!(
            interest(
                Jurisdiction::Belgium,
                TransactionKind::Commercial,
                None,
                1_000_000,
                "2023-06-30",
                "2024-06-30"
            ),
            "1228.22"
        );
    }

    #[test]
    fn be_book_xix_consumer_rate_is_capped_by_b2b_rate() {
        // Contract 15%, cap 10.5% in 2025 H2: 1000 × 0.105 × 92/365 = 26.47.
        assert_eq!(
            interest(
                Jurisdiction::Belgium,
                TransactionKind::Consumer,
                Some("15"),
                100_000,
                "2025-09-30",
                "2025-12-31"
            ),
            "26.47"
        );
        // Without a clause: the legal rate, 4.5% in 2025: 1000 × 0.045 × 92/365 = 11.34.
        assert_eq!(
            interest(
                Jurisdiction::Belgium,
                TransactionKind::Consumer,
                None,
                100_000,
                "2025-09-30",
                "2025-12-31"
            ),
            "11.34"
        );
    }

    #[test]
    fn eu_directive_2011_7_reference_plus_eight() {
        // 2025 H1: 3.15 + 8 = 11.15%; 1000 × 0.1115 × 31/365 = 9.47.
        assert_eq!(
            interest(
                Jurisdiction::EuBaseline,
                TransactionKind::Commercial,
                None,
                100_000,
                "2024-12-31",
                "2025-01-31"
            ),
            "9.47"
        );
        assert_eq!(
            claim_interest(
                Jurisdiction::EuBaseline,
                TransactionKind::Consumer,
                None,
                Money::eur_cents(1),
                d("2025-01-01"),
                d("2025-02-01")
            ),
            Err(RuleError::EuConsumerNotCovered)
        );
    }

    #[test]
    fn contractual_rate_replaces_statutory() {
        // 8.5% contractual, NL commercial: 10000 × 0.085 × 91/365 = 211.92.
        assert_eq!(
            interest(
                Jurisdiction::Netherlands,
                TransactionKind::Commercial,
                Some("8.5"),
                1_000_000,
                "2024-03-31",
                "2024-06-30"
            ),
            "211.92"
        );
    }

    #[test]
    fn no_interest_on_the_due_date_itself() {
        assert_eq!(
            interest(
                Jurisdiction::Netherlands,
                TransactionKind::Commercial,
                None,
                1_000_000,
                "2024-03-31",
                "2024-03-31"
            ),
            "0.00"
        );
        assert!(
            claim_interest(
                Jurisdiction::Netherlands,
                TransactionKind::Commercial,
                None,
                Money::eur_cents(1),
                d("2024-03-31"),
                d("2024-03-30")
            )
            .is_err()
        );
    }
}
