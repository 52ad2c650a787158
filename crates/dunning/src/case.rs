//! Cases: the closed set of states a collection case moves through, the explicit table of allowed
//! transitions, and pauses (dispute, payment plan, promise to pay, manual hold, vulnerable
//! debtor) with a reason and an until-date.

use std::fmt;

use incasso_calendar::Date;

/// Identifies a case: one debtor's overdue claims at one creditor. The key comes from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId(i64);

impl CaseId {
    pub const fn new(raw: i64) -> CaseId {
        CaseId(raw)
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseState {
    /// Overdue, nothing sent yet.
    Open,
    /// A payment reminder went out.
    Reminded,
    /// A call task is with a person.
    InCall,
    /// A formal notice or final demand went out.
    Noticed,
    /// The Dutch fourteen-day letter went out.
    FourteenDayLetterSent,
    /// Handed over to collection (an agency or the agency mode).
    HandedOver,
    /// In court or with a bailiff.
    Judicial,
    /// Everything was paid.
    Paid,
    /// Closed by agreement for less than the full amount.
    Settled,
    /// Given up as uncollectable.
    WrittenOff,
    /// Archived.
    Closed,
}

impl CaseState {
    pub const ALL: [CaseState; 11] = [
        CaseState::Open,
        CaseState::Reminded,
        CaseState::InCall,
        CaseState::Noticed,
        CaseState::FourteenDayLetterSent,
        CaseState::HandedOver,
        CaseState::Judicial,
        CaseState::Paid,
        CaseState::Settled,
        CaseState::WrittenOff,
        CaseState::Closed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CaseState::Open => "open",
            CaseState::Reminded => "reminded",
            CaseState::InCall => "in_call",
            CaseState::Noticed => "noticed",
            CaseState::FourteenDayLetterSent => "fourteen_day_letter_sent",
            CaseState::HandedOver => "handed_over",
            CaseState::Judicial => "judicial",
            CaseState::Paid => "paid",
            CaseState::Settled => "settled",
            CaseState::WrittenOff => "written_off",
            CaseState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|c| c.code() == s)
    }

    /// States in which the dunning ladder runs.
    pub fn is_in_ladder(self) -> bool {
        matches!(
            self,
            CaseState::Open
                | CaseState::Reminded
                | CaseState::InCall
                | CaseState::Noticed
                | CaseState::FourteenDayLetterSent
        )
    }

    /// States that end the case's collection.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CaseState::Paid | CaseState::Settled | CaseState::WrittenOff | CaseState::Closed
        )
    }

    /// Whether `self → to` is allowed.
    ///
    /// - Within the ladder a case moves freely between the letter states (a final demand after a
    ///   fourteen-day letter is `Noticed` again), but never back to `Open`.
    /// - From the ladder: hand over, or end (paid, settled, written off, closed).
    /// - Handed over → judicial; handed over or judicial → an end state.
    /// - Paid → open again when a payment is reversed; every end state → closed.
    pub fn can_move_to(self, to: CaseState) -> bool {
        use CaseState::*;
        match (self, to) {
            (Closed, _) => false,
            (from, Reminded | InCall | Noticed | FourteenDayLetterSent) => from.is_in_ladder(),
            (Open, Open) => false,
            (from, HandedOver) => from.is_in_ladder(),
            (HandedOver, Judicial) => true,
            (_, Judicial) => false,
            (from, Paid | Settled | WrittenOff) => {
                from.is_in_ladder() || matches!(from, HandedOver | Judicial)
            }
            (Paid, Open) => true,
            (_, Open) => false,
            (_, Closed) => true,
        }
    }

    /// Moves to `to`, or refuses with a typed error.
    pub fn transition(self, to: CaseState) -> Result<CaseState, InvalidTransition> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(InvalidTransition { from: self, to })
        }
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A transition the state table does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a case cannot move from {from} to {to}")]
pub struct InvalidTransition {
    pub from: CaseState,
    pub to: CaseState,
}

/// Why the ladder is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PauseReason {
    Dispute,
    PaymentPlan,
    PromiseToPay,
    ManualHold,
    VulnerableDebtor,
}

impl PauseReason {
    pub fn code(self) -> &'static str {
        match self {
            PauseReason::Dispute => "dispute",
            PauseReason::PaymentPlan => "payment_plan",
            PauseReason::PromiseToPay => "promise_to_pay",
            PauseReason::ManualHold => "manual_hold",
            PauseReason::VulnerableDebtor => "vulnerable_debtor",
        }
    }

    pub fn parse(s: &str) -> Option<PauseReason> {
        [
            PauseReason::Dispute,
            PauseReason::PaymentPlan,
            PauseReason::PromiseToPay,
            PauseReason::ManualHold,
            PauseReason::VulnerableDebtor,
        ]
        .into_iter()
        .find(|r| r.code() == s)
    }
}

impl fmt::Display for PauseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A pause on the ladder. `until` is the last paused day; `None` means until lifted by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub reason: PauseReason,
    pub until: Option<Date>,
    /// Free text from the person who set it (for a manual hold).
    pub note: String,
}

impl Pause {
    /// Whether the pause holds on `today` (inclusive of `until`).
    pub fn is_active(&self, today: Date) -> bool {
        self.until.is_none_or(|until| today <= until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseState::*;

    #[test]
    fn transition_table() {
        // (from, allowed targets); everything else is refused.
        let table: [(CaseState, &[CaseState]); 11] = [
            (
                Open,
                &[
                    Reminded,
                    InCall,
                    Noticed,
                    FourteenDayLetterSent,
                    HandedOver,
                    Paid,
                    Settled,
                    WrittenOff,
                    Closed,
                ],
            ),
            (
                Reminded,
                &[
                    Reminded,
                    InCall,
                    Noticed,
                    FourteenDayLetterSent,
                    HandedOver,
                    Paid,
                    Settled,
                    WrittenOff,
                    Closed,
                ],
            ),
            (
                InCall,
                &[
                    Reminded,
                    InCall,
                    Noticed,
                    FourteenDayLetterSent,
                    HandedOver,
                    Paid,
                    Settled,
                    WrittenOff,
                    Closed,
                ],
            ),
            (
                Noticed,
                &[
                    Reminded,
                    InCall,
                    Noticed,
                    FourteenDayLetterSent,
                    HandedOver,
                    Paid,
                    Settled,
                    WrittenOff,
                    Closed,
                ],
            ),
            (
                FourteenDayLetterSent,
                &[
                    Reminded,
                    InCall,
                    Noticed,
                    FourteenDayLetterSent,
                    HandedOver,
                    Paid,
                    Settled,
                    WrittenOff,
                    Closed,
                ],
            ),
            (HandedOver, &[Judicial, Paid, Settled, WrittenOff, Closed]),
            (Judicial, &[Paid, Settled, WrittenOff, Closed]),
            (Paid, &[Open, Closed]),
            (Settled, &[Closed]),
            (WrittenOff, &[Closed]),
            (Closed, &[]),
        ];
        for (from, allowed) in table {
            for to in CaseState::ALL {
                let expected = allowed.contains(&to);
                assert_eq!(from.can_move_to(to), expected, "{from} → {to}");
                match from.transition(to) {
                    Ok(state) => assert_eq!(state, to),
                    Err(e) => assert_eq!(e, InvalidTransition { from, to }),
                }
            }
        }
        assert_eq!(
            HandedOver.transition(Reminded).unwrap_err().to_string(),
            "a case cannot move from handed_over to reminded"
        );
    }

    #[test]
    fn codes_round_trip() {
        for s in CaseState::ALL {
            assert_eq!(CaseState::parse(s.code()), Some(s));
        }
        for r in [
            "dispute",
            "payment_plan",
            "promise_to_pay",
            "manual_hold",
            "vulnerable_debtor",
        ] {
            assert_eq!(PauseReason::parse(r).map(PauseReason::code), Some(r));
        }
    }

    #[test]
    fn a_pause_holds_through_its_until_date() {
        let until = Date::new(2025, 3, 20).unwrap();
        let pause = Pause {
            reason: PauseReason::ManualHold,
            until: Some(until),
            note: "waiting for the bookkeeper".into(),
        };
        assert!(pause.is_active(until));
        assert!(!pause.is_active(until.tomorrow().unwrap()));
        let open_ended = Pause {
            until: None,
            ..pause
        };
        assert!(open_ended.is_active(Date::new(2099, 1, 1).unwrap()));
    }
}
