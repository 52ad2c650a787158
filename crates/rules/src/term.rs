//! Statutory terms for letters: the Dutch fourteen-day letter (art. 6:96 lid 6 BW) with its
//! delivery presumption and Algemene termijnenwet extension, and the Belgian waiting period of
//! Book XIX WER (art. XIX.2 §1).
//!
//! All dates are parameters; nothing here knows what day it is.

use incasso_calendar::{BusinessCalendar, Date, HolidaySet, TermError, Weekday, add_days};

use crate::jurisdiction::Jurisdiction;

/// How a letter was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Post,
    Email,
}

/// When a posted letter is presumed to be received. Configurable because the presumption rests
/// on a secondary summary of postal practice around 2016 (RULES.md §9.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPresumption {
    /// The letter is delivered on this counting day after posting (default 2).
    pub post_delivery_day: u32,
    /// Weekdays that neither count nor are delivery days (default Sunday and Monday).
    pub non_delivery_weekdays: Vec<Weekday>,
    /// Holidays that neither count nor are delivery days (default the ATW list).
    pub holidays: HolidaySet,
    /// E-mail is received this many days after sending (default 0: the same day).
    pub email_delay_days: u32,
}

impl Default for DeliveryPresumption {
    fn default() -> DeliveryPresumption {
        DeliveryPresumption {
            post_delivery_day: 2,
            non_delivery_weekdays: vec![Weekday::Sunday, Weekday::Monday],
            holidays: HolidaySet::NetherlandsAtw,
            email_delay_days: 0,
        }
    }
}

/// Longest search for a delivery day, in calendar days.
const MAX_DELIVERY_SEARCH_DAYS: u32 = 60;

impl DeliveryPresumption {
    fn counts(&self, date: Date) -> bool {
        !self.non_delivery_weekdays.contains(&date.weekday()) && !self.holidays.is_holiday(date)
    }

    /// The presumed day of receipt of a letter dispatched on `dispatched`.
    pub fn receipt_date(&self, dispatched: Date, channel: Channel) -> Result<Date, TermError> {
        match channel {
            Channel::Email => add_days(
                dispatched,
                i32::try_from(self.email_delay_days).map_err(|_| TermError::OutOfRange)?,
            )
            .ok_or(TermError::OutOfRange),
            Channel::Post if self.post_delivery_day == 0 => Ok(dispatched),
            Channel::Post => {
                let mut counted = 0u32;
                let mut day = dispatched;
                for _ in 0..MAX_DELIVERY_SEARCH_DAYS {
                    day = add_days(day, 1).ok_or(TermError::OutOfRange)?;
                    if self.counts(day) {
                        counted = counted.saturating_add(1);
                        if counted >= self.post_delivery_day {
                            return Ok(day);
                        }
                    }
                }
                Err(TermError::OutOfRange)
            }
        }
    }
}

/// The term of a fourteen-day letter (or a Belgian waiting period), every day of it explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FourteenDayLetterTerm {
    /// When the letter was sent, if known.
    pub dispatched: Option<Date>,
    /// The (presumed) day of receipt. The term starts the next day.
    pub received: Date,
    /// The first day of the term.
    pub first_day: Date,
    /// `received + days`, before any extension.
    pub nominal_last_day: Date,
    /// The last day on which the debtor can pay without costs (after extension).
    pub last_day: Date,
    /// The first day collection costs (NL) or damages (BE) are due if still unpaid.
    pub costs_due_from: Date,
}

/// The term counted from the day of receipt: it starts the day after receipt ("aanvangende de
/// dag na aanmaning", art. 6:96 lid 6 BW, receipt theory HR 25-11-2016) and ends `days` days
/// later.
///
/// - NL: extended under the Algemene termijnenwet (art. 1 and 2).
/// - BE: convention: a last day on a Saturday, Sunday or Belgian holiday is moved to the next
///   business day (the conservative reading, so damages are never charged early; Book XIX WER only
///   says "at least 14 calendar days").
/// - EU baseline: as NL but on the TARGET2 calendar (no national holiday list applies).
pub fn term_from_receipt(
    received: Date,
    days: u32,
    jurisdiction: Jurisdiction,
) -> Result<FourteenDayLetterTerm, TermError> {
    let first_day = add_days(received, 1).ok_or(TermError::OutOfRange)?;
    let nominal_last_day = add_days(
        received,
        i32::try_from(days).map_err(|_| TermError::OutOfRange)?,
    )
    .ok_or(TermError::OutOfRange)?;
    let last_day = match jurisdiction {
        Jurisdiction::Netherlands => {
            BusinessCalendar::netherlands_atw().atw_last_day(first_day, nominal_last_day)?
        }
        Jurisdiction::Belgium => {
            BusinessCalendar::belgium().extend_to_business_day(nominal_last_day)?
        }
        Jurisdiction::EuBaseline => {
            BusinessCalendar::target2().extend_to_business_day(nominal_last_day)?
        }
    };
    let costs_due_from = add_days(last_day, 1).ok_or(TermError::OutOfRange)?;
    Ok(FourteenDayLetterTerm {
        dispatched: None,
        received,
        first_day,
        nominal_last_day,
        last_day,
        costs_due_from,
    })
}

/// The NL fourteen-day letter's term from its dispatch date, with the delivery presumption.
pub fn fourteen_day_letter_term(
    dispatched: Date,
    channel: Channel,
    presumption: &DeliveryPresumption,
    days: u32,
) -> Result<FourteenDayLetterTerm, TermError> {
    let received = presumption.receipt_date(dispatched, channel)?;
    let term = term_from_receipt(received, days, Jurisdiction::Netherlands)?;
    Ok(FourteenDayLetterTerm {
        dispatched: Some(dispatched),
        ..term
    })
}

/// The Belgian waiting period after a first reminder to a consumer (art. XIX.2 §1 WER): at least
/// `days` (14) calendar days, starting on the third working day after a paper reminder is sent, or
/// the next calendar day after an e-mail. `received` in the result is the day before the period
/// starts.
pub fn be_waiting_period(
    sent: Date,
    channel: Channel,
    days: u32,
) -> Result<FourteenDayLetterTerm, TermError> {
    let first_day = match channel {
        Channel::Post => BusinessCalendar::belgium().add_business_days(sent, 3)?,
        Channel::Email => add_days(sent, 1).ok_or(TermError::OutOfRange)?,
    };
    let received = add_days(first_day, -1).ok_or(TermError::OutOfRange)?;
    let term = term_from_receipt(received, days, Jurisdiction::Belgium)?;
    Ok(FourteenDayLetterTerm {
        dispatched: Some(sent),
        ..term
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

    #[test]
    fn bw_6_96_lid6_atw_term_examples() {
        // RULES.md §10.4: received Thursday 2025-04-03 → last day Thursday 2025-04-17.
        let t = term_from_receipt(d("2025-04-03"), 14, Jurisdiction::Netherlands).unwrap();
        assert_eq!(
            (
                t.first_day,
                t.nominal_last_day,
                t.last_day,
                t.costs_due_from
            ),
            (
                d("2025-04-04"),
                d("2025-04-17"),
                d("2025-04-17"),
                d("2025-04-18")
            )
        );
        // CLI contract: received 2025-04-04 → nominal Good Friday 18 April → Tuesday 22 April.
        let t = term_from_receipt(d("2025-04-04"), 14, Jurisdiction::Netherlands).unwrap();
        assert_eq!(
            (t.nominal_last_day, t.last_day),
            (d("2025-04-18"), d("2025-04-22"))
        );
        // King's Day 2026 (Monday 27 April): received 2026-04-13 → 27 April → 28 April.
        assert_eq!(
            term_from_receipt(d("2026-04-13"), 14, Jurisdiction::Netherlands)
                .unwrap()
                .last_day,
            d("2026-04-28")
        );
        // 5 May every year: received 2026-04-21 → Tuesday 5 May 2026 → Wednesday 6 May.
        assert_eq!(
            term_from_receipt(d("2026-04-21"), 14, Jurisdiction::Netherlands)
                .unwrap()
                .last_day,
            d("2026-05-06")
        );
    }

    #[test]
    fn hr_delivery_presumption_second_day_without_sundays_and_mondays() {
        let p = DeliveryPresumption::default();
        // Posted Friday → delivered Tuesday (RULES.md §2.3), term starts Wednesday.
        assert_eq!(
            p.receipt_date(d("2025-03-07"), Channel::Post).unwrap(),
            d("2025-03-11")
        );
        // Posted Tuesday → Thursday.
        assert_eq!(
            p.receipt_date(d("2025-03-04"), Channel::Post).unwrap(),
            d("2025-03-06")
        );
        // Posted Thursday 17 April 2025: Good Friday is a holiday, Saturday counts (1), Sunday and
        // Easter Monday do not, Tuesday 22nd (2).
        assert_eq!(
            p.receipt_date(d("2025-04-17"), Channel::Post).unwrap(),
            d("2025-04-22")
        );
        assert_eq!(
            p.receipt_date(d("2025-04-17"), Channel::Email).unwrap(),
            d("2025-04-17")
        );
        let t = fourteen_day_letter_term(d("2025-04-01"), Channel::Post, &p, 14).unwrap();
        assert_eq!(
            (t.received, t.nominal_last_day, t.last_day),
            (d("2025-04-03"), d("2025-04-17"), d("2025-04-17"))
        );
    }

    #[test]
    fn be_book_xix_art2_waiting_period() {
        // Paper reminder sent Monday 2025-03-03: working days Tue, Wed, Thu → starts Thursday 6th,
        // 14 calendar days → Wednesday 19th; damages from Thursday 20th.
        let t = be_waiting_period(d("2025-03-03"), Channel::Post, 14).unwrap();
        assert_eq!(
            (t.first_day, t.last_day, t.costs_due_from),
            (d("2025-03-06"), d("2025-03-19"), d("2025-03-20"))
        );
        // Sent Friday 2025-03-07: Mon, Tue, Wed → starts Wednesday 12th.
        assert_eq!(
            be_waiting_period(d("2025-03-07"), Channel::Post, 14)
                .unwrap()
                .first_day,
            d("2025-03-12")
        );
        // E-mail: starts the next calendar day.
        let t = be_waiting_period(d("2025-03-07"), Channel::Email, 14).unwrap();
        assert_eq!(
            (t.first_day, t.last_day),
            (d("2025-03-08"), d("2025-03-21"))
        );
    }

    #[test]
    fn first_and_last_day_of_a_term() {
        // A payment on the last day is in time; costs are due only the day after.
        let t = term_from_receipt(d("2025-06-02"), 14, Jurisdiction::Netherlands).unwrap();
        assert_eq!(t.first_day, d("2025-06-03"));
        assert_eq!(t.last_day, d("2025-06-16"));
        assert_eq!(t.costs_due_from, d("2025-06-17"));
    }

    proptest::proptest! {
        #[test]
        fn deadlines_never_end_on_a_non_business_day(start in 10_000i32..30_000, days in 1u32..60, post in proptest::bool::ANY) {
            let received = incasso_calendar::from_day_number(start).unwrap();
            let nl = term_from_receipt(received, days, Jurisdiction::Netherlands).unwrap();
            proptest::prop_assert!(BusinessCalendar::netherlands_atw().is_business_day(nl.last_day));
            proptest::prop_assert!(nl.last_day >= nl.nominal_last_day);
            let be = term_from_receipt(received, days, Jurisdiction::Belgium).unwrap();
            proptest::prop_assert!(BusinessCalendar::belgium().is_business_day(be.last_day));
            let channel = if post { Channel::Post } else { Channel::Email };
            let letter = fourteen_day_letter_term(received, channel, &DeliveryPresumption::default(), days).unwrap();
            proptest::prop_assert!(BusinessCalendar::netherlands_atw().is_business_day(letter.last_day));
            proptest::prop_assert!(letter.received >= received);
        }
    }
}
