//! Pure contact rules: quiet hours, the weekly contact cap, channel consent, and the retry
//! schedule for temporary failures. No IO and no clock: `now` is always a parameter.
//!
//! Local time is the Netherlands' and Belgium's (both CET/CEST, UTC+1 / UTC+2 with the EU
//! summer-time rule: from the last Sunday of March 01:00 UTC to the last Sunday of October
//! 01:00 UTC), computed explicitly so no time-zone database is needed.

use incasso_calendar::{Date, HolidaySet, Weekday};
use jiff::Timestamp;
use jiff::civil::{DateTime, Time};
use serde::{Deserialize, Serialize};

/// A channel a message leaves by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s.trim() {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            _ => None,
        }
    }
}

/// The contact rules of one creditor. Defaults (see [`ContactRules::default`]): contact only
/// on working days Monday to Saturday between 08:00 and 21:00 local time, never on a public
/// holiday of the Netherlands (ATW list), at most 3 contacts per debtor per 7 days, e-mail
/// allowed without explicit consent, SMS only with consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactRules {
    /// First local hour (0-23) at which contact is allowed.
    pub day_starts_hour: u8,
    /// Local hour (1-24) from which contact is no longer allowed.
    pub day_ends_hour: u8,
    /// Allow contact on Saturdays.
    pub saturdays: bool,
    /// Allow contact on Sundays (default false).
    pub sundays: bool,
    /// Which public holidays are quiet days: `nl`, `be` or `none`.
    pub holidays: String,
    /// Contacts (e-mails and SMS messages sent) per debtor in any 7 days; 0 means no cap.
    pub max_contacts_per_week: u32,
    /// E-mail needs the debtor's recorded consent.
    pub email_needs_consent: bool,
    /// SMS needs the debtor's recorded consent.
    pub sms_needs_consent: bool,
}

impl Default for ContactRules {
    fn default() -> Self {
        ContactRules {
            day_starts_hour: 8,
            day_ends_hour: 21,
            saturdays: true,
            sundays: false,
            holidays: "nl".into(),
            max_contacts_per_week: 3,
            email_needs_consent: false,
            sms_needs_consent: true,
        }
    }
}

/// What a contact rule check decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Not now; the earliest moment it may be tried again, and why.
    DeferUntil(Timestamp, String),
    /// Not by this channel at all.
    Refuse(String),
}

/// The facts about one debtor the rules look at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactFacts {
    /// Moments of earlier contacts (sent e-mails and SMS messages), any order.
    pub recent_contacts: Vec<Timestamp>,
    pub email_consent: bool,
    pub sms_consent: bool,
    /// The debtor must not be contacted at all.
    pub do_not_contact: bool,
}

/// A contact-rules file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("contact rules {source_name}: {message}")]
pub struct RulesError {
    pub source_name: String,
    pub message: String,
}

impl ContactRules {
    /// Reads rules from TOML (missing keys take the defaults); `source_name` names the file in
    /// errors.
    pub fn from_toml(text: &str, source_name: &str) -> Result<ContactRules, RulesError> {
        let rules: ContactRules = toml::from_str(text).map_err(|e| RulesError {
            source_name: source_name.into(),
            message: e.to_string(),
        })?;
        rules.validate().map_err(|message| RulesError {
            source_name: source_name.into(),
            message,
        })?;
        Ok(rules)
    }

    fn validate(&self) -> Result<(), String> {
        if self.day_starts_hour > 23 {
            return Err(format!(
                "day_starts_hour {} must be 0-23",
                self.day_starts_hour
            ));
        }
        if self.day_ends_hour > 24 || self.day_ends_hour <= self.day_starts_hour {
            return Err(format!(
                "day_ends_hour {} must be after day_starts_hour and at most 24",
                self.day_ends_hour
            ));
        }
        if !self.saturdays && !self.sundays && self.holidays == "none" {
            // fine: weekdays remain
        }
        if !matches!(self.holidays.as_str(), "nl" | "be" | "none") {
            return Err(format!(
                "holidays {:?} must be \"nl\", \"be\" or \"none\"",
                self.holidays
            ));
        }
        Ok(())
    }

    fn holiday_set(&self) -> Option<HolidaySet> {
        match self.holidays.as_str() {
            "nl" => Some(HolidaySet::NetherlandsAtw),
            "be" => Some(HolidaySet::Belgium),
            _ => None,
        }
    }

    /// Whether `date` is a day on which contact is allowed at all.
    pub fn is_contact_day(&self, date: Date) -> bool {
        match date.weekday() {
            Weekday::Sunday if !self.sundays => return false,
            Weekday::Saturday if !self.saturdays => return false,
            _ => {}
        }
        !self.holiday_set().is_some_and(|h| h.is_holiday(date))
    }

    /// The first moment at or after `now` inside the contact hours of a contact day.
    pub fn next_contact_moment(&self, now: Timestamp) -> Timestamp {
        let local = to_local(now);
        let start = Time::constant(self.day_starts_hour as i8, 0, 0, 0);
        let mut date = local.date();
        let mut time = local.time();
        // At most a few weeks of quiet days in a row (Christmas plus weekends): bounded loop.
        for _ in 0..60 {
            if self.is_contact_day(date) {
                let hour = time.hour() as u8;
                if hour < self.day_starts_hour {
                    return from_local(date.to_datetime(start));
                }
                if hour < self.day_ends_hour {
                    return from_local(date.to_datetime(time));
                }
            }
            date = date.tomorrow().unwrap_or(date);
            time = Time::midnight();
        }
        now
    }

    /// Decides whether a message may go to a debtor by `channel` at `now`.
    pub fn decide(&self, channel: Channel, facts: &ContactFacts, now: Timestamp) -> Decision {
        if facts.do_not_contact {
            return Decision::Refuse("the debtor must not be contacted".into());
        }
        let consent_needed = match channel {
            Channel::Email => self.email_needs_consent && !facts.email_consent,
            Channel::Sms => self.sms_needs_consent && !facts.sms_consent,
        };
        if consent_needed {
            return Decision::Refuse(format!("no consent for {}", channel.code()));
        }
        let next = self.next_contact_moment(now);
        if next > now {
            return Decision::DeferUntil(next, "quiet hours".into());
        }
        if self.max_contacts_per_week > 0 {
            let week = jiff::SignedDuration::from_hours(24 * 7);
            let since = now.checked_sub(week).unwrap_or(now);
            let mut within: Vec<Timestamp> = facts
                .recent_contacts
                .iter()
                .copied()
                .filter(|t| *t > since && *t <= now)
                .collect();
            if within.len() as u64 >= u64::from(self.max_contacts_per_week) {
                within.sort();
                // The cap frees up when the oldest counted contact is a week old.
                let excess = within.len() + 1 - self.max_contacts_per_week as usize;
                let free_at = within[excess - 1].checked_add(week).unwrap_or(now);
                let at = self.next_contact_moment(free_at);
                return Decision::DeferUntil(at, "weekly contact cap".into());
            }
        }
        Decision::Allow
    }
}

/// The offset of Dutch/Belgian local time from UTC at `t`, in hours (1 or 2).
pub fn local_offset_hours(t: Timestamp) -> i64 {
    let utc = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let year = utc.year();
    let start = last_sunday(year, 3).to_datetime(Time::constant(1, 0, 0, 0));
    let end = last_sunday(year, 10).to_datetime(Time::constant(1, 0, 0, 0));
    if utc >= start && utc < end { 2 } else { 1 }
}

fn last_sunday(year: i16, month: i8) -> Date {
    let mut d = Date::new(year, month, 1)
        .expect("valid month")
        .last_of_month();
    while d.weekday() != Weekday::Sunday {
        d = d.yesterday().expect("in range");
    }
    d
}

/// `t` as Dutch/Belgian local wall-clock time.
pub fn to_local(t: Timestamp) -> DateTime {
    let off = local_offset_hours(t);
    let shifted = t
        .checked_add(jiff::SignedDuration::from_hours(off))
        .unwrap_or(t);
    shifted.to_zoned(jiff::tz::TimeZone::UTC).datetime()
}

/// Local wall-clock time as a moment. In the autumn's repeated hour the earlier (summer)
/// reading is taken; a time in the spring's skipped hour maps one hour later.
pub fn from_local(dt: DateTime) -> Timestamp {
    let as_utc = |off: i64| -> Timestamp {
        dt.to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .checked_sub(jiff::SignedDuration::from_hours(off))
            .unwrap_or(Timestamp::UNIX_EPOCH)
    };
    let summer = as_utc(2);
    if local_offset_hours(summer) == 2 {
        return summer;
    }
    as_utc(1)
}

/// The retry schedule for temporary failures: after attempt `attempt` (1-based) failed
/// temporarily at `failed_at`, when to try again, or `None` when the action has failed for
/// good. Waits: 5 min, 30 min, 2 h, 8 h; after the 5th attempt it stops.
pub fn next_retry(attempt: u32, failed_at: Timestamp) -> Option<Timestamp> {
    const WAITS_MIN: [i64; 4] = [5, 30, 120, 480];
    let wait = *WAITS_MIN.get(attempt.checked_sub(1)? as usize)?;
    failed_at
        .checked_add(jiff::SignedDuration::from_mins(wait))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> Timestamp {
        from_local(s.parse().unwrap())
    }

    #[test]
    fn local_time_follows_eu_summer_time() {
        // 2026: summer time from 29 March to 25 October.
        let winter: Timestamp = "2026-12-03T09:00:00Z".parse().unwrap();
        assert_eq!(to_local(winter).to_string(), "2026-12-03T10:00:00");
        let summer: Timestamp = "2026-07-01T09:00:00Z".parse().unwrap();
        assert_eq!(to_local(summer).to_string(), "2026-07-01T11:00:00");
        let before: Timestamp = "2026-03-29T00:59:00Z".parse().unwrap();
        assert_eq!(local_offset_hours(before), 1);
        let after: Timestamp = "2026-03-29T01:00:00Z".parse().unwrap();
        assert_eq!(local_offset_hours(after), 2);
        assert_eq!(local("2026-12-03T10:00"), winter);
        assert_eq!(local("2026-07-01T11:00"), summer);
    }

    #[test]
    fn quiet_hours_defer_to_the_next_morning() {
        let rules = ContactRules::default();
        let facts = ContactFacts::default();
        // Thursday 3 December 2026, 22:30 local: deferred to Friday 08:00.
        let d = rules.decide(Channel::Email, &facts, local("2026-12-03T22:30"));
        assert_eq!(
            d,
            Decision::DeferUntil(local("2026-12-04T08:00"), "quiet hours".into())
        );
        // 07:59 → same day 08:00.
        let d = rules.decide(Channel::Email, &facts, local("2026-12-04T07:59"));
        assert_eq!(
            d,
            Decision::DeferUntil(local("2026-12-04T08:00"), "quiet hours".into())
        );
        assert_eq!(
            rules.decide(Channel::Email, &facts, local("2026-12-03T10:00")),
            Decision::Allow
        );
        // 21:00 is already quiet.
        assert!(matches!(
            rules.decide(Channel::Email, &facts, local("2026-12-03T21:00")),
            Decision::DeferUntil(..)
        ));
    }

    #[test]
    fn sundays_and_holidays_are_quiet() {
        let rules = ContactRules::default();
        let facts = ContactFacts::default();
        // Sunday 6 December 2026 → Monday 7 December 08:00.
        assert_eq!(
            rules.decide(Channel::Email, &facts, local("2026-12-06T12:00")),
            Decision::DeferUntil(local("2026-12-07T08:00"), "quiet hours".into())
        );
        // Christmas Day Friday 25 Dec 2026, Boxing Day Saturday 26, Sunday 27 → Monday 28.
        assert_eq!(
            rules.decide(Channel::Email, &facts, local("2026-12-25T12:00")),
            Decision::DeferUntil(local("2026-12-28T08:00"), "quiet hours".into())
        );
        // Belgian calendar: 21 July is quiet, 27 April (King's Day NL) is not.
        let be = ContactRules {
            holidays: "be".into(),
            ..ContactRules::default()
        };
        assert!(matches!(
            be.decide(Channel::Email, &facts, local("2026-07-21T12:00")),
            Decision::DeferUntil(..)
        ));
        assert_eq!(
            be.decide(Channel::Email, &facts, local("2026-04-27T12:00")),
            Decision::Allow
        );
        assert!(matches!(
            rules.decide(Channel::Email, &facts, local("2026-04-27T12:00")),
            Decision::DeferUntil(..)
        ));
    }

    #[test]
    fn weekly_cap_defers_until_the_oldest_contact_is_a_week_old() {
        let rules = ContactRules::default();
        let facts = ContactFacts {
            recent_contacts: vec![
                local("2026-11-30T10:00"),
                local("2026-12-01T10:00"),
                local("2026-12-02T10:00"),
                // older than a week: not counted
                local("2026-11-20T10:00"),
            ],
            ..ContactFacts::default()
        };
        assert_eq!(
            rules.decide(Channel::Email, &facts, local("2026-12-03T10:00")),
            Decision::DeferUntil(local("2026-12-07T10:00"), "weekly contact cap".into())
        );
        let two = ContactFacts {
            recent_contacts: facts.recent_contacts[1..].to_vec(),
            ..ContactFacts::default()
        };
        assert_eq!(
            rules.decide(Channel::Email, &two, local("2026-12-03T10:00")),
            Decision::Allow
        );
        let uncapped = ContactRules {
            max_contacts_per_week: 0,
            ..ContactRules::default()
        };
        assert_eq!(
            uncapped.decide(Channel::Email, &facts, local("2026-12-03T10:00")),
            Decision::Allow
        );
    }

    #[test]
    fn consent_and_do_not_contact_refuse() {
        let rules = ContactRules::default();
        let now = local("2026-12-03T10:00");
        let none = ContactFacts::default();
        assert_eq!(
            rules.decide(Channel::Sms, &none, now),
            Decision::Refuse("no consent for sms".into())
        );
        let sms_ok = ContactFacts {
            sms_consent: true,
            ..ContactFacts::default()
        };
        assert_eq!(rules.decide(Channel::Sms, &sms_ok, now), Decision::Allow);
        let dnc = ContactFacts {
            do_not_contact: true,
            sms_consent: true,
            ..ContactFacts::default()
        };
        assert!(matches!(
            rules.decide(Channel::Email, &dnc, now),
            Decision::Refuse(_)
        ));
    }

    #[test]
    fn rules_read_from_toml_with_defaults_and_errors() {
        let r =
            ContactRules::from_toml("day_starts_hour = 9\nsundays = true\n", "rules.toml").unwrap();
        assert_eq!(r.day_starts_hour, 9);
        assert!(r.sundays);
        assert_eq!(r.max_contacts_per_week, 3);
        let e = ContactRules::from_toml("day_ends_hour = 5\n", "rules.toml").unwrap_err();
        assert!(e.to_string().contains("rules.toml"), "{e}");
        assert!(e.to_string().contains("day_ends_hour"), "{e}");
        let e = ContactRules::from_toml("quiet = 1\n", "x.toml").unwrap_err();
        assert!(e.to_string().contains("quiet"), "{e}");
    }

    #[test]
    fn retry_schedule() {
        let t: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
        let mins = |n: u32| next_retry(n, t).map(|r| r.duration_since(t).as_secs() / 60);
        assert_eq!(mins(1), Some(5));
        assert_eq!(mins(2), Some(30));
        assert_eq!(mins(3), Some(120));
        assert_eq!(mins(4), Some(480));
        assert_eq!(mins(5), None);
        assert_eq!(mins(0), None);
    }
}
