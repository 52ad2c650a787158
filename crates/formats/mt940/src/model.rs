//! The faithful low-level model of MT940/MT942 statements: plain structs
//! with public fields, tag contents as written (trimmed), amounts as exact
//! [`Decimal`]s, dates as [`SwiftDate`]s that keep their raw text.

use std::fmt;

use crate::decimal::Decimal;
use crate::info::Information;

/// A parsed MT940/MT942 file: one or more statements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    /// Statements (each starts at a `:20:` tag) in file order.
    pub statements: Vec<Statement>,
}

impl Document {
    /// Number of `:61:` entries over all statements.
    pub fn entry_count(&self) -> usize {
        self.statements.iter().map(|s| s.entries.len()).sum()
    }

    /// True when every entry and every balance of every statement is valid.
    pub fn is_valid(&self) -> bool {
        self.statements
            .iter()
            .all(|s| s.valid && s.entries.iter().all(|e| e.valid))
    }
}

/// MT940 (statement) or MT942 (interim transaction report).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum MessageType {
    /// Customer statement (`:60F:`/`:62F:` balances).
    #[default]
    Mt940,
    /// Interim report: `:34F:` floor limit or `:13D:` date-time, usually no
    /// opening/closing balances.
    Mt942,
}

/// One statement: the tags from a `:20:` to the next `:20:` or end of
/// message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Statement {
    /// 1-based line of the `:20:` tag.
    pub line: usize,
    /// MT940 or MT942 (from `:34F:`/`:13D:` or a `{2:...942...}` block).
    pub message_type: MessageType,
    /// False when a balance tag could not be read (see the diagnostics).
    pub valid: bool,
    /// `:20:` transaction reference number.
    pub transaction_reference: String,
    /// `:21:` related reference.
    pub related_reference: Option<String>,
    /// `:25:` account identification as written.
    pub account: Option<String>,
    /// The IBAN in `:25:` when it holds one (ING writes `NL20INGB0001234567EUR`).
    pub account_iban: Option<String>,
    /// The currency suffix of `:25:` after an IBAN, when present.
    pub account_currency: Option<String>,
    /// `:28C:`/`:28:` statement number.
    pub statement_number: Option<String>,
    /// `:28C:`/`:28:` sequence number (after `/`).
    pub sequence_number: Option<String>,
    /// `:60F:` (final) or `:60M:` (intermediate) opening balance.
    pub opening_balance: Option<Balance>,
    /// `:62F:` (final) or `:62M:` (intermediate) closing balance.
    pub closing_balance: Option<Balance>,
    /// `:64:` closing available balance.
    pub closing_available_balance: Option<Balance>,
    /// `:65:` forward available balances.
    pub forward_available_balances: Vec<Balance>,
    /// `:34F:` floor limit indicators (MT942) as written.
    pub floor_limits: Vec<String>,
    /// `:13D:`/`:13:` date-time indication (MT942) as written.
    pub date_time_indication: Option<String>,
    /// `:90D:` number and sum of debit entries (MT942) as written.
    pub sum_debit_entries: Option<String>,
    /// `:90C:` number and sum of credit entries (MT942) as written.
    pub sum_credit_entries: Option<String>,
    /// `:86:` not attached to an entry (after the balances), lines joined
    /// with `\n`.
    pub information: Option<String>,
    /// `:61:` entries in file order.
    pub entries: Vec<Entry>,
}

/// Credit/debit mark of a balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CreditDebit {
    /// `C`.
    Credit,
    /// `D`.
    Debit,
}

impl CreditDebit {
    /// Applies the mark as a sign: credit positive, debit negative.
    pub fn signed(self, amount: Decimal) -> Decimal {
        match self {
            CreditDebit::Credit => amount,
            CreditDebit::Debit => amount.negated(),
        }
    }
}

/// A SWIFT date (`YYMMDD`), kept as written.
///
/// Months 1..=12 and days 1..=31 are accepted; a day that does not exist
/// in that month (banks do issue 30 February) is kept as written, flagged
/// by [`SwiftDate::is_calendar_date`] and reported as a warning.
/// [`SwiftDate::clamped`] gives the last real day of that month, which is
/// what a caller that needs a calendar date should use.
/// Two-digit years are read as 2000..=2079 and 1980..=1999.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SwiftDate {
    /// The text as written, e.g. `160230`.
    pub raw: String,
    /// Four-digit year.
    pub year: u16,
    /// 1..=12.
    pub month: u8,
    /// 1..=31 (not necessarily valid for the month).
    pub day: u8,
}

/// Days in `month` of `year` (Gregorian).
pub(crate) fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

impl SwiftDate {
    /// True when the day exists in that month.
    pub fn is_calendar_date(&self) -> bool {
        self.day <= days_in_month(self.year, self.month)
    }

    /// `(year, month, day)` with the day limited to the last day of the
    /// month (2016-02-30 gives 2016-02-29).
    pub fn clamped(&self) -> (u16, u8, u8) {
        (
            self.year,
            self.month,
            self.day.min(days_in_month(self.year, self.month)),
        )
    }
}

impl fmt::Display for SwiftDate {
    /// `YYYY-MM-DD` as written (so possibly `2016-02-30`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// `:60F:`, `:60M:`, `:62F:`, `:62M:`, `:64:` or `:65:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    /// 1-based line of the tag.
    pub line: usize,
    /// The tag, e.g. `60F`.
    pub tag: String,
    /// `C` or `D`.
    pub credit_debit: CreditDebit,
    /// Balance date.
    pub date: SwiftDate,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Exact amount as written.
    pub amount: Decimal,
}

impl Balance {
    /// Signed amount: credit positive.
    pub fn signed_amount(&self) -> Decimal {
        self.credit_debit.signed(self.amount)
    }
}

/// Debit/credit mark of a `:61:` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryMark {
    /// `C`: credit (money in).
    Credit,
    /// `D`: debit (money out).
    Debit,
    /// `RC`: reversal of a credit, i.e. money out.
    ReversalOfCredit,
    /// `RD`: reversal of a debit, i.e. money in.
    ReversalOfDebit,
    /// `EC`: expected credit (MT942 variants).
    ExpectedCredit,
    /// `ED`: expected debit (MT942 variants).
    ExpectedDebit,
}

impl EntryMark {
    /// Applies the mark as a sign from the account owner's view: money in
    /// is positive (`C`, `RD`, `EC`), money out negative (`D`, `RC`, `ED`).
    pub fn signed(self, amount: Decimal) -> Decimal {
        match self {
            EntryMark::Credit | EntryMark::ReversalOfDebit | EntryMark::ExpectedCredit => amount,
            EntryMark::Debit | EntryMark::ReversalOfCredit | EntryMark::ExpectedDebit => {
                amount.negated()
            }
        }
    }

    /// True for `RC` and `RD`.
    pub fn is_reversal(self) -> bool {
        matches!(
            self,
            EntryMark::ReversalOfCredit | EntryMark::ReversalOfDebit
        )
    }

    /// The mark as written.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryMark::Credit => "C",
            EntryMark::Debit => "D",
            EntryMark::ReversalOfCredit => "RC",
            EntryMark::ReversalOfDebit => "RD",
            EntryMark::ExpectedCredit => "EC",
            EntryMark::ExpectedDebit => "ED",
        }
    }
}

/// One `:61:` statement line with its `:86:` information.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line of the `:61:` tag.
    pub line: usize,
    /// False when a required subfield (value date, mark, amount, type) could
    /// not be read; the diagnostics name the line and field. Callers should
    /// refuse files with invalid entries rather than import them partly.
    pub valid: bool,
    /// The `:61:` content as written (continuation lines joined with `\n`).
    pub raw: String,
    /// Value date (`YYMMDD`).
    pub value_date: Option<SwiftDate>,
    /// Entry (booking) date (`MMDD`), its year taken from the value date
    /// (adjusted across a year end).
    pub entry_date: Option<SwiftDate>,
    /// `C`, `D`, `RC`, `RD` (and `EC`/`ED`).
    pub mark: Option<EntryMark>,
    /// Funds code (third letter of the currency code), e.g. `R`.
    pub funds_code: Option<char>,
    /// Exact amount as written (unsigned; see [`Entry::signed_amount`]).
    pub amount: Option<Decimal>,
    /// Transaction type identification code, e.g. `NTRF`, `N426`.
    pub transaction_type: Option<String>,
    /// Reference for the account owner (up to 16 characters), e.g. `NONREF`,
    /// `EREF`, `PREF` or a real reference.
    pub customer_reference: Option<String>,
    /// Reference of the account servicing institution (after `//`).
    pub bank_reference: Option<String>,
    /// Supplementary details: the rest of the first line beyond the
    /// references, then the continuation line(s) of `:61:`.
    pub supplementary_details: Option<String>,
    /// The `:86:` information as written, lines joined with `\n` (several
    /// `:86:` tags for one entry, as old Rabobank files have, are joined too).
    pub information: Option<String>,
    /// What could be recognised in the `:86:` information.
    pub details: Information,
}

impl Entry {
    /// Signed amount (money in positive) when mark and amount are known.
    pub fn signed_amount(&self) -> Option<Decimal> {
        Some(self.mark?.signed(self.amount?))
    }
}

/// How serious a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A known real-world deviation read leniently (30 February, an unknown
    /// tag). The value was kept.
    Warning,
    /// A value could not be read; the entry (or statement) is marked invalid.
    Error,
}

/// A problem found at one line of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Warning or error.
    pub severity: Severity,
    /// 1-based line of the tag concerned.
    pub line: usize,
    /// The tag, e.g. `61`, or empty for lines outside tags.
    pub tag: String,
    /// The field within the tag, e.g. `amount`, `value date`.
    pub field: &'static str,
    /// What is wrong, with the offending text where useful.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{level}: line {}", self.line)?;
        if !self.tag.is_empty() {
            write!(f, " :{}:", self.tag)?;
        }
        if !self.field.is_empty() {
            write!(f, " {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}
