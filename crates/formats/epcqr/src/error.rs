//! Errors of building and parsing EPC QR payloads; each names the element.

use std::fmt;

/// The data elements of the payload, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    ServiceTag,
    Version,
    CharacterSet,
    Identification,
    Bic,
    Name,
    Iban,
    Amount,
    Purpose,
    StructuredReference,
    UnstructuredRemittance,
    Information,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::ServiceTag => "service tag",
            Field::Version => "version",
            Field::CharacterSet => "character set",
            Field::Identification => "identification",
            Field::Bic => "BIC of the beneficiary bank",
            Field::Name => "name of the beneficiary",
            Field::Iban => "account (IBAN) of the beneficiary",
            Field::Amount => "amount",
            Field::Purpose => "purpose code",
            Field::StructuredReference => "structured remittance (creditor reference)",
            Field::UnstructuredRemittance => "unstructured remittance",
            Field::Information => "beneficiary to originator information",
        })
    }
}

/// Every way building or parsing a payload can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{0} is missing")]
    Missing(Field),
    #[error("{field} is {len} characters long, at most {max} are allowed")]
    TooLong {
        field: Field,
        len: usize,
        max: usize,
    },
    #[error("{field} contains a control character or line break")]
    Control { field: Field },
    #[error("{field} contains {ch:?}, which character set {charset} cannot encode")]
    Unencodable { field: Field, ch: char, charset: u8 },
    #[error("{field} is invalid: {value:?}")]
    Invalid { field: Field, value: String },
    #[error("amount {cents} (cents) is outside EUR 0.01 ..= 999999999.99")]
    AmountOutOfRange { cents: u64 },
    #[error("both a structured and an unstructured remittance are given; only one is allowed")]
    BothReferences,
    #[error("version 001 requires the BIC of the beneficiary bank")]
    BicRequired,
    #[error("the payload is {len} bytes long, at most 331 are allowed")]
    PayloadTooLong { len: usize },
    #[error("the payload has more than 12 elements")]
    TooManyElements,
    #[error("the payload is not valid in its character set {charset}")]
    Decode { charset: u8 },
    #[error("QR code: {0}")]
    Qr(String),
}
