//! Calendar arithmetic for incasso: the `Date` type used everywhere, date parsing at the edge,
//! business-day calendars (NL Algemene termijnenwet, Belgium, TARGET2) and statutory term
//! computation.
//!
//! This crate never reads the clock: "today" is always a parameter. It does no IO and uses no
//! floating point.
#![deny(clippy::float_arithmetic)]

pub mod business;
pub mod days;
pub mod holidays;

pub use business::{BusinessCalendar, TermError};
pub use days::{add_days, day_number, days_between, from_day_number, is_leap_year};
pub use holidays::{HolidaySet, easter_sunday, kings_day};
pub use jiff::civil::{Date, Weekday};

/// A date string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date {0:?}: expected YYYY-MM-DD or DD-MM-YYYY")]
pub struct DateParseError(pub String);

/// Parses an ISO date (`2026-03-01`), strictly.
pub fn parse_iso(s: &str) -> Result<Date, DateParseError> {
    let t = s.trim();
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(DateParseError(t.to_string()));
    }
    t.parse::<Date>().map_err(|_| DateParseError(t.to_string()))
}

/// Parses the date forms found in invoice exports: ISO `2026-03-01`, Dutch `01-03-2026`,
/// `1-3-2026`, `01/03/2026` and `01.03.2026` (day first, as in the Netherlands and Belgium),
/// and ISO date-times (`2026-03-01T10:00:00`), whose date part is taken.
pub fn parse_flexible(s: &str) -> Result<Date, DateParseError> {
    let t = s.trim();
    let err = || DateParseError(t.to_string());
    if t.len() >= 10 && t.as_bytes().get(4) == Some(&b'-') {
        let head = t.get(..10).ok_or_else(err)?;
        if t.len() == 10 || matches!(t.as_bytes().get(10), Some(b'T') | Some(b' ')) {
            return parse_iso(head);
        }
        return Err(err());
    }
    let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
    if parts.len() != 3
        || parts[2].len() != 4
        || parts[0].is_empty()
        || parts[0].len() > 2
        || parts[1].is_empty()
        || parts[1].len() > 2
    {
        return Err(err());
    }
    let num = |p: &str| -> Result<i16, DateParseError> {
        if p.chars().all(|c| c.is_ascii_digit()) {
            p.parse::<i16>().map_err(|_| err())
        } else {
            Err(err())
        }
    };
    let day = i8::try_from(num(parts[0])?).map_err(|_| err())?;
    let month = i8::try_from(num(parts[1])?).map_err(|_| err())?;
    let year = num(parts[2])?;
    Date::new(year, month, day).map_err(|_| err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_and_dutch_dates() {
        let d = Date::new(2026, 3, 1).unwrap();
        assert_eq!(parse_flexible("2026-03-01").unwrap(), d);
        assert_eq!(parse_flexible("01-03-2026").unwrap(), d);
        assert_eq!(parse_flexible("1-3-2026").unwrap(), d);
        assert_eq!(parse_flexible("01/03/2026").unwrap(), d);
        assert_eq!(parse_flexible("01.03.2026").unwrap(), d);
        assert_eq!(parse_flexible("2026-03-01T12:00:00").unwrap(), d);
    }

    #[test]
    fn refuses_impossible_dates() {
        for bad in [
            "2026-02-30",
            "31-04-2026",
            "2026/03/01",
            "03-2026",
            "",
            "2026-3-1",
            "aa-bb-cccc",
            "2026-03-01x",
        ] {
            assert!(parse_flexible(bad).is_err(), "{bad}");
        }
    }
}
