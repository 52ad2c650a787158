//! Fast, exact conversion between civil dates and day numbers (days since 1970-01-01), used by
//! the hot paths of interest and term arithmetic instead of span arithmetic.
//!
//! The algorithm is Howard Hinnant's `days_from_civil` / `civil_from_days`, which is exact for
//! the proleptic Gregorian calendar. Only dates that `jiff` can represent (years -9999..=9999)
//! are produced.

use crate::Date;

/// The number of days since 1970-01-01 (negative before).
pub fn day_number(date: Date) -> i32 {
    let y = i32::from(date.year()) - i32::from(date.month() <= 2);
    let m = i32::from(date.month());
    let d = i32::from(date.day());
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date with the given day number, or `None` outside the range `jiff` supports.
pub fn from_day_number(days: i32) -> Option<Date> {
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()
}

/// `date` plus `days` calendar days, or `None` when the result leaves the supported range.
pub fn add_days(date: Date, days: i32) -> Option<Date> {
    from_day_number(day_number(date).checked_add(days)?)
}

/// Calendar days from `from` to `to` (`to − from`; negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i32 {
    day_number(to) - day_number(from)
}

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: i16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_day_numbers() {
        assert_eq!(day_number(Date::new(1970, 1, 1).unwrap()), 0);
        assert_eq!(day_number(Date::new(2000, 3, 1).unwrap()), 11_017);
        assert_eq!(
            days_between(
                Date::new(2024, 4, 1).unwrap(),
                Date::new(2024, 7, 1).unwrap()
            ),
            91
        );
    }

    proptest::proptest! {
        #[test]
        fn round_trips_and_agrees_with_jiff(n in -700_000i32..2_900_000i32) {
            let d = from_day_number(n).unwrap();
            proptest::prop_assert_eq!(day_number(d), n);
            let next = d.tomorrow().unwrap();
            proptest::prop_assert_eq!(day_number(next), n + 1);
        }
    }
}
