//! Errors of the pain.008 writer: every refusal names where (message,
//! creditor, payment information block or transaction) and which field.

use std::fmt;

/// Where in the input a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The group header (message id, initiating party).
    Message,
    /// The creditor (name, account, agent, scheme id).
    Creditor,
    /// A payment information block: 1-based position and its id.
    Batch { index: usize, id: String },
    /// A transaction: 1-based block position, 1-based position in the
    /// block, and its end-to-end id.
    Transaction {
        batch: usize,
        index: usize,
        end_to_end_id: String,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Message => f.write_str("message"),
            Location::Creditor => f.write_str("creditor"),
            Location::Batch { index, id } => write!(f, "payment information {index} ({id:?})"),
            Location::Transaction {
                batch,
                index,
                end_to_end_id,
            } => write!(
                f,
                "transaction {end_to_end_id:?} (payment information {batch}, transaction {index})"
            ),
        }
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("is empty")]
    Empty,
    #[error("is {len} characters long, at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("contains {ch:?} (U+{code:04X}), which is outside the SEPA (EPC) Latin character set")]
    Charset { ch: char, code: u32 },
    #[error("identifiers must not start or end with '/' nor contain '//'")]
    Slashes,
    #[error("{value:?} is not an IBAN ({reason})")]
    Iban { value: String, reason: &'static str },
    #[error(
        "{value:?} is not a BIC (4 letters bank, 2 letters country, 2 location, optional 3 branch)"
    )]
    Bic { value: String },
    #[error("{value:?} is not a SEPA creditor identifier ({reason})")]
    CreditorId { value: String, reason: &'static str },
    #[error("{value:?} is not an ISO 11649 creditor reference ({reason})")]
    CreditorReference { value: String, reason: &'static str },
    #[error("of {minor} cents is outside 0.01 ..= 999999999.99 EUR")]
    Amount { minor: u64 },
    #[error("{value:?} is used more than once in this message")]
    Duplicate { value: String },
    #[error("the amendment carries no original data")]
    EmptyAmendment,
    #[error("{date} lies after the message creation date {created}")]
    AfterCreation { date: String, created: String },
    #[error("{date} lies before the message creation date {created}")]
    BeforeCreation { date: String, created: String },
}

/// Every way writing a pain.008 message can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The message has no payment information block.
    #[error("empty batch: the message has no payment information block")]
    NoBatches,
    /// A payment information block has no transaction.
    #[error("empty batch: {at} has no transactions")]
    EmptyBatch { at: Location },
    /// A field is invalid.
    #[error("{at}: {field} {problem}")]
    Invalid {
        at: Location,
        field: &'static str,
        problem: Problem,
    },
    /// A date or time that does not exist.
    #[error("invalid date or time: {0}")]
    DateTime(String),
    /// The control sum does not fit the schema's 18 digits.
    #[error("control sum overflow: the total exceeds the 18 digits the schema allows")]
    Overflow,
}
