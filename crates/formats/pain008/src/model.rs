//! The input model of a direct debit initiation: plain structs with public
//! fields, checked as a whole by [`crate::write`]. Dates are checked when
//! they are made; everything else when the message is written.

use crate::error::Error;

/// The pain.008 version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `pain.008.001.02` (ISO 2009; the version of the EPC implementation
    /// guidelines before the 2019 ISO migration). Agents use `<BIC>`.
    V02,
    /// `pain.008.001.08` (ISO 2019; the version of the current EPC
    /// implementation guidelines). Agents use `<BICFI>`.
    V08,
}

impl Version {
    /// The message identifier, e.g. `pain.008.001.02`.
    pub fn id(self) -> &'static str {
        match self {
            Version::V02 => "pain.008.001.02",
            Version::V08 => "pain.008.001.08",
        }
    }

    /// The XML namespace of the document.
    pub fn namespace(self) -> &'static str {
        match self {
            Version::V02 => "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02",
            Version::V08 => "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08",
        }
    }
}

/// The SEPA Direct Debit scheme (`LclInstrm/Cd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scheme {
    /// SEPA Core (`CORE`): consumers and businesses.
    #[default]
    Core,
    /// SEPA Business-to-Business (`B2B`): business debtors only, no refund right.
    B2b,
}

impl Scheme {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Scheme::Core => "CORE",
            Scheme::B2b => "B2B",
        }
    }
}

/// The sequence type of a payment information block (`SeqTp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SequenceType {
    /// `FRST`: first collection of a recurrent mandate.
    First,
    /// `RCUR`: follow-up collection of a recurrent mandate.
    Recurring,
    /// `OOFF`: one-off mandate.
    OneOff,
    /// `FNAL`: last collection of a recurrent mandate.
    Final,
}

impl SequenceType {
    /// The ISO code (`FRST`, `RCUR`, `OOFF`, `FNAL`).
    pub fn code(self) -> &'static str {
        match self {
            SequenceType::First => "FRST",
            SequenceType::Recurring => "RCUR",
            SequenceType::OneOff => "OOFF",
            SequenceType::Final => "FNAL",
        }
    }
}

/// A calendar date (ISO 8601 `YYYY-MM-DD`), checked on construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// A date from year (1000–9999), month and day; refuses dates that do
    /// not exist (2025-02-29).
    pub fn new(year: u16, month: u8, day: u8) -> Result<Date, Error> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => 0,
        };
        if !(1000..=9999).contains(&year) || day == 0 || day > days {
            return Err(Error::DateTime(format!("{year:04}-{month:02}-{day:02}")));
        }
        Ok(Date { year, month, day })
    }

    pub fn year(self) -> u16 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A creation date-time. Written as local time without a zone
/// (`2025-08-19T08:32:02`), as the EPC guidelines show, unless a UTC
/// offset is given (`2025-08-19T08:32:02+01:00`, `+00:00` for UTC).
/// Always a parameter: the writer never reads the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    date: Date,
    hour: u8,
    minute: u8,
    second: u8,
    offset_minutes: Option<i16>,
}

impl DateTime {
    /// A local date-time without zone.
    pub fn new(date: Date, hour: u8, minute: u8, second: u8) -> Result<DateTime, Error> {
        if hour > 23 || minute > 59 || second > 59 {
            return Err(Error::DateTime(format!(
                "{date}T{hour:02}:{minute:02}:{second:02}"
            )));
        }
        Ok(DateTime {
            date,
            hour,
            minute,
            second,
            offset_minutes: None,
        })
    }

    /// The same date-time with a UTC offset in minutes (−14:00 ..= +14:00).
    pub fn with_offset(self, offset_minutes: i16) -> Result<DateTime, Error> {
        if !(-840..=840).contains(&offset_minutes) {
            return Err(Error::DateTime(format!(
                "UTC offset of {offset_minutes} minutes"
            )));
        }
        Ok(DateTime {
            offset_minutes: Some(offset_minutes),
            ..self
        })
    }

    pub fn date(self) -> Date {
        self.date
    }
}

impl std::fmt::Display for DateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}T{:02}:{:02}:{:02}",
            self.date, self.hour, self.minute, self.second
        )?;
        match self.offset_minutes {
            None => Ok(()),
            Some(m) => {
                let sign = if m < 0 { '-' } else { '+' };
                let abs = m.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
            }
        }
    }
}

/// How text outside the SEPA (EPC) Latin character set is treated.
///
/// The EPC basic set is `a-z A-Z 0-9 / - ? : ( ) . , ' +` and space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TextPolicy {
    /// Free text (names, unstructured remittance) is transliterated to the
    /// EPC set: Latin letters with diacritics lose them (`é` → `e`,
    /// `ß` → `ss`, `Æ` → `AE`), `&` → `+`, `_` → `-`, quotes → `'`,
    /// `@` → `(at)`, `€` → `EUR`, other common punctuation to the nearest
    /// allowed sign. Characters with no Latin equivalent (Cyrillic, Greek,
    /// CJK, emoji, control characters) are refused. Identifiers (message,
    /// payment information, end-to-end and mandate ids, references) are
    /// never transliterated: they must already be in the set.
    #[default]
    Transliterate,
    /// Refuse any character outside the EPC set, also in free text.
    Refuse,
}

/// The whole direct debit initiation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `GrpHdr/MsgId`, ≤ 35, unique per creditor for a long period.
    pub message_id: String,
    /// `GrpHdr/CreDtTm`.
    pub created_at: DateTime,
    /// `GrpHdr/InitgPty/Nm`, ≤ 70.
    pub initiating_party: String,
    /// The creditor, the same for every payment information block.
    pub creditor: Creditor,
    /// Core or B2B, written in every block.
    pub scheme: Scheme,
    /// The payment information blocks, at least one.
    pub batches: Vec<PaymentInformation>,
}

/// The creditor (`Cdtr`, `CdtrAcct`, `CdtrAgt`, `CdtrSchmeId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creditor {
    /// ≤ 70.
    pub name: String,
    /// IBAN; spaces and lower case are accepted and normalised.
    pub iban: String,
    /// BIC (8 or 11); without one the agent is written as `NOTPROVIDED`.
    pub bic: Option<String>,
    /// SEPA creditor identifier (e.g. `NL57ZZZ999999999999`), ISO 7064
    /// mod 97-10 checked. Note that the dummy `NL98ZZZ999999999999` found
    /// in many bank manuals fails that check and is refused.
    pub scheme_id: String,
}

/// One payment information block (`PmtInf`): one sequence type and one
/// requested collection date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentInformation {
    /// `PmtInfId`, ≤ 35, unique in the message.
    pub id: String,
    pub sequence_type: SequenceType,
    /// `ReqdColltnDt`.
    pub collection_date: Date,
    /// `BtchBookg`: `None` leaves it to the bank's default.
    pub batch_booking: Option<bool>,
    /// At least one.
    pub transactions: Vec<Transaction>,
}

/// One collection (`DrctDbtTxInf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// `PmtId/EndToEndId`, ≤ 35.
    pub end_to_end_id: String,
    /// `InstdAmt` in euro cents: 1 ..= 99 999 999 999 (0.01 to 999 999 999.99).
    pub amount_cents: u64,
    pub mandate: Mandate,
    pub debtor: Debtor,
    pub remittance: Option<Remittance>,
}

/// The mandate (`DrctDbtTx/MndtRltdInf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mandate {
    /// `MndtId`, ≤ 35.
    pub id: String,
    /// `DtOfSgntr`.
    pub signed_on: Date,
    /// Written with `AmdmntInd` true; `None` writes `AmdmntInd` false.
    pub amendment: Option<Amendment>,
}

/// What changed in the mandate since the last collection
/// (`AmdmntInfDtls`). At least one field must be set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Amendment {
    /// `OrgnlMndtId`: the mandate id used until now.
    pub original_mandate_id: Option<String>,
    /// `OrgnlCdtrSchmeId`: the creditor name and/or identifier used until now.
    pub original_creditor: Option<OriginalCreditor>,
    /// `OrgnlDbtrAcct`: the debtor's former account.
    pub original_debtor_account: Option<OriginalDebtorAccount>,
    /// `OrgnlDbtrAgt/FinInstnId/Othr/Id` = `SMNDA`: the debtor moved to
    /// another bank (same mandate, new debtor agent).
    pub debtor_agent_changed: bool,
}

/// The former creditor name and/or scheme identifier.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OriginalCreditor {
    /// `Nm`, ≤ 70.
    pub name: Option<String>,
    /// `Id/PrvtId/Othr/Id` with `SchmeNm/Prtry` `SEPA`; checked like the
    /// creditor's own identifier.
    pub scheme_id: Option<String>,
}

/// The debtor's former account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginalDebtorAccount {
    /// The former IBAN (account changed within the same bank).
    Iban(String),
    /// `Othr/Id` = `SMNDA` (account moved to another bank; the convention
    /// of the EPC guidelines before November 2016, still accepted).
    Smnda,
}

/// The debtor (`Dbtr`, `DbtrAcct`, `DbtrAgt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    /// ≤ 70.
    pub name: String,
    /// IBAN; spaces and lower case are accepted and normalised.
    pub iban: String,
    /// BIC; without one the agent is written as `NOTPROVIDED`.
    pub bic: Option<String>,
}

/// Remittance information (`RmtInf`): one of the two forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remittance {
    /// `Ustrd`, ≤ 140.
    Unstructured(String),
    /// `Strd/CdtrRefInf` with type `SCOR`.
    Structured(CreditorReference),
}

/// A structured creditor reference (`CdtrRefInf`, type `SCOR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditorReference {
    /// ISO 11649 (`RF` + 2 check digits + ≤ 21 characters), checked with
    /// mod 97; issuer written as `ISO`. Spaces are removed.
    Iso11649(String),
    /// Any other reference, e.g. the Belgian structured communication
    /// (issuer `BBA`) or a Dutch betalingskenmerk; ≤ 35, issuer ≤ 35.
    Other {
        reference: String,
        issuer: Option<String>,
    },
}
