//! Effective-dated rate tables kept as data: the embedded `data/rates.tsv` is parsed into
//! [`RateTable`]s (each row with its start date, rate, source and verified flag), and compiled
//! into [`RateSchedule`]s that the interest engine reads.
//!
//! Values that RULES.md marks UNVERIFIED, secondary-only or derived are rows with
//! `verified == false`; the code never special-cases a value.

use std::fmt;
use std::sync::OnceLock;

use incasso_calendar::{Date, day_number, parse_iso};
use incasso_money::Rate;
use incasso_money::rust_decimal::Decimal;

/// The embedded rate data, parsed on first use.
const RATES_TSV: &str = include_str!("../data/rates.tsv");

/// An exact annual interest rate in ten-thousandths of a percent (`125_000` is 12.5 %).
///
/// Four decimals of a percent cover every statutory rate and any sensible contractual one; a
/// contractual rate with more decimals is refused rather than rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AnnualRate {
    ten_thousandths_percent: u32,
}

/// Ten-thousandths of a percent in one percent.
const UNITS_PER_PERCENT: u32 = 10_000;

/// Rates above this many percent are refused as input errors.
const MAX_PERCENT: u32 = 1_000;

impl AnnualRate {
    /// A rate in ten-thousandths of a percent.
    pub const fn from_ten_thousandths_percent(units: u32) -> AnnualRate {
        AnnualRate {
            ten_thousandths_percent: units,
        }
    }

    /// The rate in ten-thousandths of a percent.
    pub const fn ten_thousandths_percent(&self) -> u32 {
        self.ten_thousandths_percent
    }

    /// Converts an exact percentage (for example a contractual rate) without rounding.
    pub fn from_rate(rate: Rate) -> Result<AnnualRate, RateError> {
        let units = rate
            .percent()
            .checked_mul(Decimal::from(UNITS_PER_PERCENT))
            .ok_or_else(|| RateError::OutOfRange(rate.to_percent_string()))?;
        if units.fract() != Decimal::ZERO || units.is_sign_negative() {
            return Err(RateError::TooPrecise(rate.to_percent_string()));
        }
        let whole: u32 = units
            .trunc()
            .try_into()
            .map_err(|_| RateError::OutOfRange(rate.to_percent_string()))?;
        if whole > MAX_PERCENT * UNITS_PER_PERCENT {
            return Err(RateError::OutOfRange(rate.to_percent_string()));
        }
        Ok(AnnualRate {
            ten_thousandths_percent: whole,
        })
    }

    /// Parses a percentage such as `"12.5"` or `"8,25"`.
    pub fn parse_percent(s: &str) -> Result<AnnualRate, RateError> {
        let rate = Rate::parse_percent(s).map_err(|_| RateError::Invalid(s.trim().to_string()))?;
        AnnualRate::from_rate(rate)
    }

    /// The rate as an exact `Rate` of the money crate (`None` above the money crate's 1000%).
    pub fn to_rate(self) -> Option<Rate> {
        Rate::parse_percent(&self.to_percent_string_exact()).ok()
    }

    /// Adds whole or fractional percentage points (given in ten-thousandths of a percent).
    pub fn checked_plus(&self, units: u32) -> Option<AnnualRate> {
        self.ten_thousandths_percent
            .checked_add(units)
            .map(AnnualRate::from_ten_thousandths_percent)
    }

    /// At least two decimals, more only when the rate has them: `"12.50"`, `"8.125"`.
    pub fn to_percent_string(&self) -> String {
        let whole = self.ten_thousandths_percent / UNITS_PER_PERCENT;
        let frac = self.ten_thousandths_percent % UNITS_PER_PERCENT;
        let mut frac_text = format!("{frac:04}");
        while frac_text.len() > 2 && frac_text.ends_with('0') {
            frac_text.pop();
        }
        format!("{whole}.{frac_text}")
    }

    fn to_percent_string_exact(self) -> String {
        format!(
            "{}.{:04}",
            self.ten_thousandths_percent / UNITS_PER_PERCENT,
            self.ten_thousandths_percent % UNITS_PER_PERCENT
        )
    }
}

impl fmt::Display for AnnualRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.to_percent_string())
    }
}

/// Why a rate is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("rate {0:?} is not a percentage")]
    Invalid(String),
    #[error("rate {0}% has more than four decimals")]
    TooPrecise(String),
    #[error("rate {0}% is out of range (0 to 1000)")]
    OutOfRange(String),
}

/// The rate tables incasso ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RateTableId {
    /// NL art. 6:119 BW: statutory interest (non-commercial).
    Nl6_119,
    /// NL art. 6:119a BW: statutory commercial interest.
    Nl6_119a,
    /// BE law of 2 August 2002: late-payment interest in commercial transactions (semester rates).
    BeLatePayment2002,
    /// BE legal interest rate (law of 5 May 1865), per calendar year.
    BeLegalInterest,
    /// The ECB main refinancing rate as the semester reference rate of Directive 2011/7/EU.
    EcbMroReference,
    /// NL general VAT rate (art. 9 lid 1 Wet OB 1968), for the BIK art. 2 lid 3 uplift.
    NlVatGeneral,
}

impl RateTableId {
    pub const ALL: [RateTableId; 6] = [
        RateTableId::Nl6_119,
        RateTableId::Nl6_119a,
        RateTableId::BeLatePayment2002,
        RateTableId::BeLegalInterest,
        RateTableId::EcbMroReference,
        RateTableId::NlVatGeneral,
    ];

    /// The table's name in the data file and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            RateTableId::Nl6_119 => "nl_6_119",
            RateTableId::Nl6_119a => "nl_6_119a",
            RateTableId::BeLatePayment2002 => "be_late_payment_2002",
            RateTableId::BeLegalInterest => "be_legal_interest",
            RateTableId::EcbMroReference => "ecb_mro_reference",
            RateTableId::NlVatGeneral => "nl_vat_general",
        }
    }

    /// What the table is, with its statute.
    pub fn description(self) -> &'static str {
        match self {
            RateTableId::Nl6_119 => "NL statutory interest, art. 6:119 BW",
            RateTableId::Nl6_119a => "NL statutory commercial interest, art. 6:119a BW",
            RateTableId::BeLatePayment2002 => {
                "BE late-payment interest, law of 2 August 2002 (commercial)"
            }
            RateTableId::BeLegalInterest => "BE legal interest rate, law of 5 May 1865",
            RateTableId::EcbMroReference => {
                "ECB main refinancing rate, semester reference (Directive 2011/7/EU)"
            }
            RateTableId::NlVatGeneral => "NL general VAT rate, art. 9 lid 1 Wet OB 1968",
        }
    }

    fn from_name(name: &str) -> Option<RateTableId> {
        RateTableId::ALL.into_iter().find(|id| id.name() == name)
    }
}

/// One row of a rate table: the rate in force from `effective_from` until the next row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateRow {
    pub effective_from: Date,
    /// `None` when no sourced rate exists from this day on: calculations over it are refused.
    pub rate: Option<AnnualRate>,
    /// `false` for values RULES.md marks UNVERIFIED, secondary-only or derived.
    pub verified: bool,
    pub source: String,
}

/// A rate table: rows in date order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateTable {
    pub id: RateTableId,
    pub rows: Vec<RateRow>,
}

impl RateTable {
    /// The row in force on `date`, if the table starts on or before it.
    pub fn row_on(&self, date: Date) -> Option<&RateRow> {
        let i = self.rows.partition_point(|r| r.effective_from <= date);
        i.checked_sub(1).and_then(|i| self.rows.get(i))
    }

    /// The table as a schedule the interest engine can read.
    pub fn schedule(&self) -> RateSchedule {
        RateSchedule {
            label: self.id.name().to_string(),
            changes: self
                .rows
                .iter()
                .map(|r| (day_number(r.effective_from), r.rate))
                .collect(),
        }
    }
}

/// The embedded data file is malformed (a build defect, reported with its line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rates.tsv line {line}: {reason}")]
pub struct RateDataError {
    pub line: usize,
    pub reason: String,
}

/// All rate tables of the embedded data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateTables {
    pub tables: Vec<RateTable>,
}

impl RateTables {
    /// The tables embedded in this build, parsed once.
    pub fn embedded() -> Result<&'static RateTables, RateDataError> {
        static TABLES: OnceLock<Result<RateTables, RateDataError>> = OnceLock::new();
        TABLES
            .get_or_init(|| RateTables::parse(RATES_TSV))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses the TSV format of `data/rates.tsv`.
    pub fn parse(text: &str) -> Result<RateTables, RateDataError> {
        let mut tables: Vec<RateTable> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index.saturating_add(1);
            let err = |reason: &str| RateDataError {
                line,
                reason: reason.to_string(),
            };
            if raw.trim().is_empty() || raw.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = raw.split('\t').collect();
            let [table, from, rate, verified, source] = fields.as_slice() else {
                return Err(err("expected 5 tab-separated fields"));
            };
            let id = RateTableId::from_name(table).ok_or_else(|| err("unknown table"))?;
            let effective_from = parse_iso(from).map_err(|_| err("bad effective_from date"))?;
            let rate = if *rate == "-" {
                None
            } else {
                Some(AnnualRate::parse_percent(rate).map_err(|_| err("bad rate"))?)
            };
            let verified = match *verified {
                "yes" => true,
                "no" => false,
                _ => return Err(err("verified must be yes or no")),
            };
            let row = RateRow {
                effective_from,
                rate,
                verified,
                source: source.to_string(),
            };
            match tables.iter_mut().find(|t| t.id == id) {
                Some(t) => {
                    if t.rows
                        .last()
                        .is_some_and(|last| last.effective_from >= effective_from)
                    {
                        return Err(err(
                            "rows of a table must be in strictly increasing date order",
                        ));
                    }
                    t.rows.push(row);
                }
                None => tables.push(RateTable {
                    id,
                    rows: vec![row],
                }),
            }
        }
        Ok(RateTables { tables })
    }

    /// One table by id.
    pub fn table(&self, id: RateTableId) -> Option<&RateTable> {
        self.tables.iter().find(|t| t.id == id)
    }

    /// Every row flagged as not verified, with its table.
    pub fn unverified(&self) -> Vec<(RateTableId, &RateRow)> {
        self.tables
            .iter()
            .flat_map(|t| {
                t.rows
                    .iter()
                    .filter(|r| !r.verified)
                    .map(move |r| (t.id, r))
            })
            .collect()
    }
}

/// A piecewise-constant rate over time, as the interest engine reads it: sorted change days
/// (day numbers) with the rate from that day (`None` = no sourced rate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateSchedule {
    /// What the schedule is (a table name, "contractual", ...), for error messages.
    pub label: String,
    changes: Vec<(i32, Option<AnnualRate>)>,
}

impl RateSchedule {
    /// One rate on every day (a contractual rate).
    pub fn constant(label: &str, rate: AnnualRate) -> RateSchedule {
        RateSchedule {
            label: label.to_string(),
            changes: vec![(i32::MIN, Some(rate))],
        }
    }

    /// The change points: (day number, rate from that day).
    pub fn changes(&self) -> &[(i32, Option<AnnualRate>)] {
        &self.changes
    }

    /// Index of the change in force on day number `day`, if any.
    pub(crate) fn index_on(&self, day: i32) -> Option<usize> {
        self.changes
            .partition_point(|(d, _)| *d <= day)
            .checked_sub(1)
    }

    /// The rate in force on `date`: `None` before the first row or on a row without a rate.
    pub fn rate_on(&self, date: Date) -> Option<AnnualRate> {
        self.index_on(day_number(date))
            .and_then(|i| self.changes.get(i))
            .and_then(|(_, r)| *r)
    }

    /// The same schedule with `points` (ten-thousandths of a percent) added to every rate, such
    /// as "reference rate + 8 points".
    pub fn plus_points(&self, label: &str, units: u32) -> RateSchedule {
        RateSchedule {
            label: label.to_string(),
            changes: self
                .changes
                .iter()
                .map(|(d, r)| (*d, r.and_then(|r| r.checked_plus(units))))
                .collect(),
        }
    }

    /// Day by day the lower of the two schedules' rates (a cap). A day on which either has no
    /// rate has none.
    pub fn capped_by(&self, cap: &RateSchedule, label: &str) -> RateSchedule {
        let mut days: Vec<i32> = self
            .changes
            .iter()
            .chain(cap.changes.iter())
            .map(|(d, _)| *d)
            .collect();
        days.sort_unstable();
        days.dedup();
        let at = |s: &RateSchedule, day: i32| {
            s.index_on(day)
                .and_then(|i| s.changes.get(i))
                .and_then(|(_, r)| *r)
        };
        let changes = days
            .into_iter()
            .map(|day| {
                let rate = match (at(self, day), at(cap, day)) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    _ => None,
                };
                (day, rate)
            })
            .collect();
        RateSchedule {
            label: label.to_string(),
            changes,
        }
    }
}

#[cfg(test)]
// Test code may use plain arithmetic on small, known values.
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_iso(s).unwrap()
    }

    fn rate(id: RateTableId, on: &str) -> Option<String> {
        let tables = RateTables::embedded().unwrap();
        tables
            .table(id)
            .unwrap()
            .schedule()
            .rate_on(d(on))
            .map(|r| r.to_percent_string())
    }

    #[test]
    fn embedded_data_parses_with_every_table() {
        let tables = RateTables::embedded().unwrap();
        for id in RateTableId::ALL {
            assert!(
                tables.table(id).is_some_and(|t| !t.rows.is_empty()),
                "{}",
                id.name()
            );
        }
    }

    #[test]
    fn rulesmd_10_5_be_rate_lookups() {
        assert_eq!(
            rate(RateTableId::BeLatePayment2002, "2023-09-01").as_deref(),
            Some("12.00")
        );
        assert_eq!(
            rate(RateTableId::BeLatePayment2002, "2024-10-01").as_deref(),
            Some("12.50")
        );
        assert_eq!(
            rate(RateTableId::BeLegalInterest, "2024-06-30").as_deref(),
            Some("5.75")
        );
        // A semester without a sourced rate has none.
        assert_eq!(rate(RateTableId::BeLatePayment2002, "2011-03-01"), None);
    }

    #[test]
    fn rate_change_boundaries_nl() {
        assert_eq!(
            rate(RateTableId::Nl6_119a, "2024-06-30").as_deref(),
            Some("12.50")
        );
        assert_eq!(
            rate(RateTableId::Nl6_119a, "2024-07-01").as_deref(),
            Some("12.25")
        );
        assert_eq!(
            rate(RateTableId::Nl6_119a, "2013-03-15").as_deref(),
            Some("7.75")
        );
        assert_eq!(
            rate(RateTableId::Nl6_119a, "2013-03-16").as_deref(),
            Some("8.75")
        );
        assert_eq!(rate(RateTableId::Nl6_119a, "2002-11-30"), None);
        assert_eq!(
            rate(RateTableId::Nl6_119, "2022-12-31").as_deref(),
            Some("2.00")
        );
        assert_eq!(
            rate(RateTableId::Nl6_119, "2023-01-01").as_deref(),
            Some("4.00")
        );
    }

    #[test]
    fn rulesmd_flags_are_in_the_data() {
        let tables = RateTables::embedded().unwrap();
        let flagged: Vec<(String, String)> = tables
            .unverified()
            .into_iter()
            .map(|(id, r)| (id.name().to_string(), r.effective_from.to_string()))
            .collect();
        for (table, from) in [
            ("nl_6_119", "2025-07-01"),
            ("nl_6_119", "2026-01-01"),
            ("nl_6_119a", "2004-01-01"),
            ("nl_6_119a", "2004-07-01"),
            ("nl_6_119a", "2011-07-01"),
            ("be_late_payment_2002", "2026-01-01"),
            ("be_legal_interest", "2010-01-01"),
        ] {
            assert!(
                flagged.contains(&(table.to_string(), from.to_string())),
                "{table} {from}"
            );
        }
        assert!(!flagged.contains(&("nl_6_119a".to_string(), "2024-01-01".to_string())));
    }

    #[test]
    fn ecb_reference_plus_eight_equals_nl_commercial_from_2013_03_16() {
        let tables = RateTables::embedded().unwrap();
        let eu = tables
            .table(RateTableId::EcbMroReference)
            .unwrap()
            .schedule()
            .plus_points("eu", 80_000);
        let nl = tables.table(RateTableId::Nl6_119a).unwrap().schedule();
        for day in [
            "2013-07-01",
            "2016-12-31",
            "2023-03-01",
            "2024-08-01",
            "2025-12-31",
            "2026-02-01",
        ] {
            assert_eq!(eu.rate_on(d(day)), nl.rate_on(d(day)), "{day}");
        }
    }

    #[test]
    fn cap_takes_the_lower_rate_each_day() {
        let tables = RateTables::embedded().unwrap();
        let b2b = tables
            .table(RateTableId::BeLatePayment2002)
            .unwrap()
            .schedule();
        let contract =
            RateSchedule::constant("contractual", AnnualRate::parse_percent("11").unwrap());
        let capped = contract.capped_by(&b2b, "capped");
        assert_eq!(
            capped.rate_on(d("2024-03-01")).unwrap().to_percent_string(),
            "11.00"
        );
        assert_eq!(
            capped.rate_on(d("2025-09-01")).unwrap().to_percent_string(),
            "10.50"
        );
    }

    #[test]
    fn malformed_data_is_reported_with_its_line() {
        let e = RateTables::parse("# c\nnl_6_119\t2002-01-01\t7\tmaybe\tx\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            RateTables::parse("nl_6_119\t2003-01-01\t7\tyes\tx\nnl_6_119\t2002-01-01\t7\tyes\tx\n")
                .is_err()
        );
        assert!(RateTables::parse("nope\t2002-01-01\t7\tyes\tx\n").is_err());
    }

    #[test]
    fn rate_text_forms() {
        assert_eq!(
            AnnualRate::parse_percent("8,5")
                .unwrap()
                .to_percent_string(),
            "8.50"
        );
        assert_eq!(
            AnnualRate::parse_percent("8.125")
                .unwrap()
                .to_percent_string(),
            "8.125"
        );
        assert!(AnnualRate::parse_percent("8.12345").is_err());
        assert!(AnnualRate::parse_percent("-1").is_err());
        assert_eq!(
            AnnualRate::parse_percent("10.15")
                .unwrap()
                .to_rate()
                .unwrap()
                .to_percent_string(),
            "10.15"
        );
    }
}
