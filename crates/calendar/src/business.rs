//! Business-day calendars and statutory term arithmetic: which days count as business days in
//! the Netherlands (Algemene termijnenwet), Belgium and TARGET2, and how a term that ends on a
//! non-business day is extended.
//!
//! Saturdays and Sundays are never business days. All functions are pure and bounded: every
//! loop stops after a fixed number of days (no calendar has more than a handful of consecutive
//! non-business days).

use crate::Date;
use crate::days::{add_days, day_number};
use crate::holidays::HolidaySet;
use jiff::civil::Weekday;

/// Longest run of consecutive non-business days any supported calendar can produce, with
/// generous headroom; used to bound every search loop.
const MAX_CONSECUTIVE_CLOSED_DAYS: u32 = 31;

/// A term computation that would leave the range of representable dates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermError {
    #[error("the term runs past the last supported date")]
    OutOfRange,
    #[error("the last day of the term {last} is before its first day {first}")]
    EndsBeforeStart { first: Date, last: Date },
}

/// A calendar of business days: Monday to Friday except the holidays of one set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BusinessCalendar {
    pub holidays: HolidaySet,
}

impl BusinessCalendar {
    /// The Dutch calendar of the Algemene termijnenwet (art. 1 and 3).
    pub const fn netherlands_atw() -> BusinessCalendar {
        BusinessCalendar {
            holidays: HolidaySet::NetherlandsAtw,
        }
    }

    /// The Belgian calendar (weekends and Belgian public holidays).
    pub const fn belgium() -> BusinessCalendar {
        BusinessCalendar {
            holidays: HolidaySet::Belgium,
        }
    }

    /// The TARGET2 calendar used for SEPA settlement dates.
    pub const fn target2() -> BusinessCalendar {
        BusinessCalendar {
            holidays: HolidaySet::Target2,
        }
    }

    /// Whether `date` is a business day (not a Saturday, Sunday or holiday).
    pub fn is_business_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
            && !self.holidays.is_holiday(date)
    }

    /// The first business day strictly after `date`.
    pub fn next_business_day(&self, date: Date) -> Result<Date, TermError> {
        let mut d = date;
        for _ in 0..=MAX_CONSECUTIVE_CLOSED_DAYS {
            d = add_days(d, 1).ok_or(TermError::OutOfRange)?;
            if self.is_business_day(d) {
                return Ok(d);
            }
        }
        Err(TermError::OutOfRange)
    }

    /// `date` itself when it is a business day, otherwise the next business day.
    pub fn roll_forward(&self, date: Date) -> Result<Date, TermError> {
        if self.is_business_day(date) {
            Ok(date)
        } else {
            self.next_business_day(date)
        }
    }

    /// The `n`-th business day after `date` (`n = 0` gives `date` unchanged, even when it is not
    /// a business day).
    pub fn add_business_days(&self, date: Date, n: u32) -> Result<Date, TermError> {
        let mut d = date;
        for _ in 0..n {
            d = self.next_business_day(d)?;
        }
        Ok(d)
    }

    /// Number of business days in the closed range `first..=last` (0 when `last < first`).
    pub fn business_days_in(&self, first: Date, last: Date) -> u32 {
        let span = day_number(last) - day_number(first);
        let mut count = 0u32;
        for offset in 0..=span.max(-1) {
            if let Some(d) = add_days(first, offset)
                && self.is_business_day(d)
            {
                count = count.saturating_add(1);
            }
        }
        count
    }

    /// The last day of a statutory term under the Algemene termijnenwet.
    ///
    /// `first_day` is the first day of the term and `nominal_last_day` its last day as counted.
    /// - Art. 1 lid 1: a term ending on a Saturday, Sunday or holiday is extended to the next day
    ///   that is none of those.
    /// - Art. 2: a term of at least three days is extended, if needed, until it contains at least
    ///   two days that are not a Saturday, Sunday or holiday.
    ///
    /// Terms counted backwards (art. 1 lid 2) and the exclusions of art. 4 (hours, more than
    /// 90 days, years) are the caller's concern: do not call this for them.
    pub fn atw_last_day(&self, first_day: Date, nominal_last_day: Date) -> Result<Date, TermError> {
        if nominal_last_day < first_day {
            return Err(TermError::EndsBeforeStart {
                first: first_day,
                last: nominal_last_day,
            });
        }
        let mut last = self.roll_forward(nominal_last_day)?;
        let length_days = day_number(nominal_last_day) - day_number(first_day) + 1;
        if length_days >= 3 {
            for _ in 0..=MAX_CONSECUTIVE_CLOSED_DAYS {
                if self.business_days_in(first_day, last) >= 2 {
                    break;
                }
                last = self.next_business_day(last)?;
            }
        }
        Ok(last)
    }

    /// The last day of a term whose end is only moved off a non-business day (for example the
    /// Belgian convention of art. 53 Gerechtelijk Wetboek): art. 1 ATW without art. 2.
    pub fn extend_to_business_day(&self, nominal_last_day: Date) -> Result<Date, TermError> {
        self.roll_forward(nominal_last_day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        crate::parse_iso(s).unwrap()
    }

    #[test]
    fn atw_art_3_non_business_days() {
        // RULES.md §10.4.
        let nl = BusinessCalendar::netherlands_atw();
        for day in [
            "2025-04-18",
            "2025-04-26",
            "2026-04-27",
            "2026-05-05",
            "2026-05-14",
            "2026-05-25",
        ] {
            assert!(!nl.is_business_day(d(day)), "{day}");
        }
        assert!(nl.is_business_day(d("2025-04-17")));
        assert!(nl.is_business_day(d("2025-04-22")));
    }

    #[test]
    fn atw_art_1_extension_over_easter_2025() {
        let nl = BusinessCalendar::netherlands_atw();
        assert_eq!(
            nl.atw_last_day(d("2025-04-05"), d("2025-04-18")).unwrap(),
            d("2025-04-22")
        );
        assert_eq!(
            nl.atw_last_day(d("2025-04-04"), d("2025-04-17")).unwrap(),
            d("2025-04-17")
        );
    }

    #[test]
    fn atw_art_2_two_business_days() {
        let nl = BusinessCalendar::netherlands_atw();
        // A three-day term Friday 2025-12-26 .. Sunday 2025-12-28 contains no business day;
        // art. 1 moves it to Monday 29th (one business day), art. 2 to Tuesday 30th.
        assert_eq!(
            nl.atw_last_day(d("2025-12-26"), d("2025-12-28")).unwrap(),
            d("2025-12-30")
        );
        // A two-day term is not subject to art. 2.
        assert_eq!(
            nl.atw_last_day(d("2025-12-27"), d("2025-12-28")).unwrap(),
            d("2025-12-29")
        );
    }

    #[test]
    fn business_day_arithmetic() {
        let t2 = BusinessCalendar::target2();
        assert_eq!(
            t2.add_business_days(d("2025-04-17"), 1).unwrap(),
            d("2025-04-22")
        );
        assert_eq!(
            t2.add_business_days(d("2025-04-17"), 0).unwrap(),
            d("2025-04-17")
        );
        let be = BusinessCalendar::belgium();
        assert_eq!(
            be.next_business_day(d("2025-07-18")).unwrap(),
            d("2025-07-22")
        );
        assert_eq!(be.business_days_in(d("2025-07-14"), d("2025-07-20")), 5);
        assert_eq!(be.business_days_in(d("2025-07-20"), d("2025-07-14")), 0);
    }

    proptest::proptest! {
        #[test]
        fn atw_terms_never_end_on_a_non_business_day(start in 0i32..40_000, len in 0i32..90) {
            let nl = BusinessCalendar::netherlands_atw();
            let first = crate::days::from_day_number(start).unwrap();
            let nominal = add_days(first, len).unwrap();
            let last = nl.atw_last_day(first, nominal).unwrap();
            proptest::prop_assert!(nl.is_business_day(last));
            proptest::prop_assert!(last >= nominal);
            if len >= 2 {
                proptest::prop_assert!(nl.business_days_in(first, last) >= 2);
            }
        }

        #[test]
        fn add_business_days_lands_on_business_days(start in 0i32..40_000, n in 1u32..40) {
            for cal in [BusinessCalendar::netherlands_atw(), BusinessCalendar::belgium(), BusinessCalendar::target2()] {
                let first = crate::days::from_day_number(start).unwrap();
                let end = cal.add_business_days(first, n).unwrap();
                proptest::prop_assert!(cal.is_business_day(end));
                proptest::prop_assert_eq!(cal.business_days_in(add_days(first, 1).unwrap(), end), n);
            }
        }
    }
}
