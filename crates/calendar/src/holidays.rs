//! Public-holiday sets for the calendars incasso needs: the Dutch Algemene termijnenwet (ATW)
//! list, Belgian public holidays, and the TARGET2 closing days that govern SEPA settlement.
//!
//! Moveable feasts are derived from Easter Sunday (anonymous Gregorian computus). Every set is
//! computed, never read from a file or the network, and no set knows what "today" is.

use crate::Date;
use crate::days::add_days;

/// Easter Sunday of `year` in the Gregorian calendar (anonymous Gregorian algorithm, also
/// known as the Meeus/Jones/Butcher algorithm). Returns `None` for years `jiff` cannot represent.
pub fn easter_sunday(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// Which list of holidays a calendar uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolidaySet {
    /// The holidays of art. 3 Algemene termijnenwet (NL): New Year's Day, Good Friday (lid 2),
    /// Easter Monday, King's Day, 5 May (every year), Ascension Day, Whit Monday, Christmas Day
    /// and Boxing Day.
    NetherlandsAtw,
    /// Belgian public holidays: New Year's Day, Easter Monday, 1 May, Ascension Day, Whit Monday,
    /// 21 July, 15 August, 1 November, 11 November, Christmas Day.
    Belgium,
    /// TARGET2 closing days (SEPA settlement): 1 January, Good Friday, Easter Monday, 1 May,
    /// 25 and 26 December.
    Target2,
}

impl HolidaySet {
    /// All holidays of `year`, in date order, with their English names.
    pub fn holidays(self, year: i16) -> Vec<(Date, &'static str)> {
        let mut out: Vec<(Date, &'static str)> = Vec::with_capacity(12);
        let fixed = |m: i8, d: i8| Date::new(year, m, d).ok();
        let easter = easter_sunday(year);
        let from_easter = |offset: i32| easter.and_then(|e| add_days(e, offset));
        let mut push = |d: Option<Date>, name: &'static str| {
            if let Some(d) = d {
                out.push((d, name));
            }
        };
        match self {
            HolidaySet::NetherlandsAtw => {
                push(fixed(1, 1), "New Year's Day");
                push(from_easter(-2), "Good Friday");
                push(from_easter(1), "Easter Monday");
                push(kings_day(year), "King's Day");
                push(fixed(5, 5), "Liberation Day (5 May)");
                push(from_easter(39), "Ascension Day");
                push(from_easter(50), "Whit Monday");
                push(fixed(12, 25), "Christmas Day");
                push(fixed(12, 26), "Boxing Day");
            }
            HolidaySet::Belgium => {
                push(fixed(1, 1), "New Year's Day");
                push(from_easter(1), "Easter Monday");
                push(fixed(5, 1), "Labour Day");
                push(from_easter(39), "Ascension Day");
                push(from_easter(50), "Whit Monday");
                push(fixed(7, 21), "National Day");
                push(fixed(8, 15), "Assumption Day");
                push(fixed(11, 1), "All Saints' Day");
                push(fixed(11, 11), "Armistice Day");
                push(fixed(12, 25), "Christmas Day");
            }
            HolidaySet::Target2 => {
                push(fixed(1, 1), "New Year's Day");
                push(from_easter(-2), "Good Friday");
                push(from_easter(1), "Easter Monday");
                push(fixed(5, 1), "Labour Day");
                push(fixed(12, 25), "Christmas Day");
                push(fixed(12, 26), "Boxing Day");
            }
        }
        out.sort_by_key(|(d, _)| *d);
        out
    }

    /// The holiday's name when `date` is a holiday of this set.
    pub fn holiday_name(self, date: Date) -> Option<&'static str> {
        // Fast exits for the dates that can never be a holiday in any of the sets.
        let (m, d) = (date.month(), date.day());
        let possible = matches!(m, 1 if d == 1)
            || matches!(m, 3..=6)
            || matches!(
                (m, d),
                (7, 21) | (8, 15) | (11, 1) | (11, 11) | (12, 25) | (12, 26)
            );
        if !possible {
            return None;
        }
        self.holidays(date.year())
            .into_iter()
            .find(|(h, _)| *h == date)
            .map(|(_, n)| n)
    }

    /// Whether `date` is a holiday of this set.
    pub fn is_holiday(self, date: Date) -> bool {
        self.holiday_name(date).is_some()
    }
}

/// The day King's Day (Koningsdag) is celebrated, as the ATW's "de dag waarop de verjaardag van
/// de Koning wordt gevierd".
///
/// From 2014: 27 April, or 26 April when 27 April is a Sunday. From 1949 to 2013 (Queen's Day):
/// 30 April, or 29 April when 30 April is a Sunday. Earlier years are not supported (`None`).
pub fn kings_day(year: i16) -> Option<Date> {
    let (day, fallback) = match year {
        2014.. => (27, 26),
        1949..=2013 => (30, 29),
        _ => return None,
    };
    let date = Date::new(year, 4, day).ok()?;
    if date.weekday() == jiff::civil::Weekday::Sunday {
        Date::new(year, 4, fallback).ok()
    } else {
        Some(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        crate::parse_iso(s).unwrap()
    }

    #[test]
    fn easter_dates() {
        for (y, e) in [
            (2013, "2013-03-31"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
        ] {
            assert_eq!(easter_sunday(y).unwrap(), d(e), "{y}");
        }
    }

    #[test]
    fn atw_art_3_holidays_2024_to_2027() {
        // RULES.md §4 computed calendar.
        let expected = [
            (
                2024,
                vec![
                    "2024-01-01",
                    "2024-03-29",
                    "2024-04-01",
                    "2024-04-27",
                    "2024-05-05",
                    "2024-05-09",
                    "2024-05-20",
                    "2024-12-25",
                    "2024-12-26",
                ],
            ),
            (
                2025,
                vec![
                    "2025-01-01",
                    "2025-04-18",
                    "2025-04-21",
                    "2025-04-26",
                    "2025-05-05",
                    "2025-05-29",
                    "2025-06-09",
                    "2025-12-25",
                    "2025-12-26",
                ],
            ),
            (
                2026,
                vec![
                    "2026-01-01",
                    "2026-04-03",
                    "2026-04-06",
                    "2026-04-27",
                    "2026-05-05",
                    "2026-05-14",
                    "2026-05-25",
                    "2026-12-25",
                    "2026-12-26",
                ],
            ),
            (
                2027,
                vec![
                    "2027-01-01",
                    "2027-03-26",
                    "2027-03-29",
                    "2027-04-27",
                    "2027-05-05",
                    "2027-05-06",
                    "2027-05-17",
                    "2027-12-25",
                    "2027-12-26",
                ],
            ),
        ];
        for (year, dates) in expected {
            let got: Vec<Date> = HolidaySet::NetherlandsAtw
                .holidays(year)
                .into_iter()
                .map(|(d, _)| d)
                .collect();
            let want: Vec<Date> = dates.into_iter().map(d).collect();
            assert_eq!(got, want, "{year}");
        }
    }

    #[test]
    fn belgian_and_target2_holidays_2025() {
        let be: Vec<Date> = HolidaySet::Belgium
            .holidays(2025)
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        let want: Vec<Date> = [
            "2025-01-01",
            "2025-04-21",
            "2025-05-01",
            "2025-05-29",
            "2025-06-09",
            "2025-07-21",
            "2025-08-15",
            "2025-11-01",
            "2025-11-11",
            "2025-12-25",
        ]
        .into_iter()
        .map(d)
        .collect();
        assert_eq!(be, want);
        let t2: Vec<Date> = HolidaySet::Target2
            .holidays(2025)
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        let want: Vec<Date> = [
            "2025-01-01",
            "2025-04-18",
            "2025-04-21",
            "2025-05-01",
            "2025-12-25",
            "2025-12-26",
        ]
        .into_iter()
        .map(d)
        .collect();
        assert_eq!(t2, want);
    }

    #[test]
    fn kings_day_sunday_rule() {
        assert_eq!(kings_day(2025).unwrap(), d("2025-04-26"));
        assert_eq!(kings_day(2026).unwrap(), d("2026-04-27"));
        assert_eq!(kings_day(2006).unwrap(), d("2006-04-29"));
        assert_eq!(kings_day(1900), None);
    }
}
