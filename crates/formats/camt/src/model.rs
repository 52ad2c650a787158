//! The faithful low-level model of a camt.052/053/054 message: plain structs
//! with public fields, element values as written (trimmed), amounts as exact
//! [`Decimal`]s and dates as checked [`IsoDate`]s. Missing optional elements
//! are `None`; nothing is defaulted or guessed.

use std::fmt;

use crate::decimal::Decimal;

/// Which camt message the document holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// camt.052 `BkToCstmrAcctRpt` (intraday account report, records are `Rpt`).
    AccountReport,
    /// camt.053 `BkToCstmrStmt` (end-of-day statement, records are `Stmt`).
    Statement,
    /// camt.054 `BkToCstmrDbtCdtNtfctn` (debit/credit notification, records are `Ntfctn`).
    Notification,
}

impl MessageKind {
    /// The message number: `"052"`, `"053"` or `"054"`.
    pub fn number(self) -> &'static str {
        match self {
            MessageKind::AccountReport => "052",
            MessageKind::Statement => "053",
            MessageKind::Notification => "054",
        }
    }

    /// The local name of the message element below `Document`.
    pub fn message_element(self) -> &'static str {
        match self {
            MessageKind::AccountReport => "BkToCstmrAcctRpt",
            MessageKind::Statement => "BkToCstmrStmt",
            MessageKind::Notification => "BkToCstmrDbtCdtNtfctn",
        }
    }

    /// The local name of one record (statement, report or notification).
    pub fn record_element(self) -> &'static str {
        match self {
            MessageKind::AccountReport => "Rpt",
            MessageKind::Statement => "Stmt",
            MessageKind::Notification => "Ntfctn",
        }
    }

    pub(crate) fn from_message_element(name: &str) -> Option<Self> {
        match name {
            "BkToCstmrAcctRpt" => Some(MessageKind::AccountReport),
            "BkToCstmrStmt" => Some(MessageKind::Statement),
            "BkToCstmrDbtCdtNtfctn" => Some(MessageKind::Notification),
            _ => None,
        }
    }
}

/// A parsed camt document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Message kind, from the message element.
    pub kind: MessageKind,
    /// The namespace URI of the root element, e.g.
    /// `urn:iso:std:iso:20022:tech:xsd:camt.053.001.02`.
    pub namespace: String,
    /// The message version from the namespace, e.g. `"001.02"`.
    pub version: String,
    /// `GrpHdr`.
    pub group_header: GroupHeader,
    /// The `Stmt`, `Rpt` or `Ntfctn` records in document order. With
    /// [`crate::parse_with`] their `entries` stay empty.
    pub statements: Vec<Statement>,
}

impl Document {
    /// Number of entries over all statements (also with [`crate::parse_with`]).
    pub fn entry_count(&self) -> usize {
        self.statements.iter().map(|s| s.entry_count).sum()
    }

    /// True when every entry of every statement is valid.
    pub fn all_entries_valid(&self) -> bool {
        self.statements.iter().all(|s| s.invalid_entry_count == 0)
    }
}

/// `GrpHdr`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupHeader {
    /// `MsgId`.
    pub message_id: Option<String>,
    /// `CreDtTm` as written.
    pub created: Option<String>,
}

/// One `Stmt` (camt.053), `Rpt` (camt.052) or `Ntfctn` (camt.054).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Statement {
    /// 1-based position among the records of the message.
    pub index: usize,
    /// Element path, e.g. `/Document/BkToCstmrStmt/Stmt[1]`.
    pub path: String,
    /// `Id`.
    pub id: Option<String>,
    /// `ElctrncSeqNb`.
    pub electronic_sequence_number: Option<String>,
    /// `LglSeqNb`.
    pub legal_sequence_number: Option<String>,
    /// `CreDtTm` as written.
    pub created: Option<String>,
    /// `FrToDt/FrDtTm` as written.
    pub from: Option<String>,
    /// `FrToDt/ToDtTm` as written.
    pub to: Option<String>,
    /// `Acct`.
    pub account: Account,
    /// `Bal` in document order.
    pub balances: Vec<Balance>,
    /// `Ntry` in document order (empty with [`crate::parse_with`]).
    pub entries: Vec<Entry>,
    /// Number of `Ntry` elements read.
    pub entry_count: usize,
    /// Number of entries marked invalid.
    pub invalid_entry_count: usize,
    /// Signed sum (credit positive) of the amounts of all booked entries
    /// (`Sts` `BOOK` or absent), kept while streaming so the balance check
    /// works without holding the entries. `None` when an entry amount or
    /// direction was unreadable or the sum overflowed.
    pub booked_sum: Option<Decimal>,
}

/// `Acct` of a statement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// `Id/IBAN`.
    pub iban: Option<String>,
    /// `Id/Othr/Id` (non-IBAN account number).
    pub other_id: Option<String>,
    /// `Ccy`.
    pub currency: Option<String>,
    /// `Nm`.
    pub name: Option<String>,
    /// `Ownr/Nm` (or `Ownr/Pty/Nm`).
    pub owner_name: Option<String>,
    /// `Svcr/FinInstnId/BIC` (.001.02) or `BICFI` (.001.03 on).
    pub servicer_bic: Option<String>,
}

impl Account {
    /// The IBAN, or else the other identification.
    pub fn identification(&self) -> Option<&str> {
        self.iban.as_deref().or(self.other_id.as_deref())
    }
}

/// Credit or debit, from `CdtDbtInd` (`CRDT`/`DBIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CreditDebit {
    /// `CRDT`: money in (or a credit balance).
    Credit,
    /// `DBIT`: money out (or a debit balance).
    Debit,
}

impl CreditDebit {
    /// Applies the direction as a sign: credit positive, debit negative.
    pub fn signed(self, amount: Decimal) -> Decimal {
        match self {
            CreditDebit::Credit => amount,
            CreditDebit::Debit => amount.negated(),
        }
    }
}

/// An amount with the currency of its `Ccy` attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amount {
    /// Exact value as written (never negative in a schema-valid file).
    pub value: Decimal,
    /// `Ccy` attribute (empty when missing, which is reported).
    pub currency: String,
}

/// A calendar date (checked: month 1..=12, day valid for the month).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoDate {
    /// Four-digit year.
    pub year: u16,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
}

impl IsoDate {
    /// Parses `YYYY-MM-DD` exactly.
    pub fn parse(text: &str) -> Option<IsoDate> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |s: &[u8]| -> Option<u32> {
            s.iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let year = u16::try_from(num(&b[0..4])?).ok()?;
        let month = u8::try_from(num(&b[5..7])?).ok()?;
        let day = u8::try_from(num(&b[8..10])?).ok()?;
        let date = IsoDate { year, month, day };
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)).then_some(date)
    }
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

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A `Dt` or `DtTm` choice (`BookgDt`, `ValDt`, `Bal/Dt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateChoice {
    /// `Dt`.
    Date(IsoDate),
    /// `DtTm` (or a `Dt` carrying a date-time, which is reported): the date
    /// part and the full text as written.
    DateTime {
        /// Date part.
        date: IsoDate,
        /// Full text, e.g. `2007-10-18T10:15:00+01:00`.
        raw: String,
    },
}

impl DateChoice {
    /// The calendar date (date part of a date-time).
    pub fn date(&self) -> IsoDate {
        match self {
            DateChoice::Date(d) => *d,
            DateChoice::DateTime { date, .. } => *date,
        }
    }
}

/// `Bal`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    /// Element path, e.g. `/Document/BkToCstmrStmt/Stmt[1]/Bal[2]`.
    pub path: String,
    /// `Tp/CdOrPrtry/Cd`: OPBD, CLBD, PRCD, ITBD, CLAV, OPAV, FWAV, ...
    pub type_code: Option<String>,
    /// `Tp/CdOrPrtry/Prtry`.
    pub type_proprietary: Option<String>,
    /// `Amt`.
    pub amount: Option<Amount>,
    /// `CdtDbtInd` (missing in some real files, which is reported).
    pub credit_debit: Option<CreditDebit>,
    /// `Dt/Dt` or `Dt/DtTm`.
    pub date: Option<DateChoice>,
}

impl Balance {
    /// The signed amount (credit positive), when amount and direction are
    /// known.
    pub fn signed_amount(&self) -> Option<Decimal> {
        Some(self.credit_debit?.signed(self.amount.as_ref()?.value))
    }
}

/// `BkTxCd`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BankTransactionCode {
    /// `Domn/Cd` (e.g. `PMNT`).
    pub domain: Option<String>,
    /// `Domn/Fmly/Cd` (e.g. `RCDT`).
    pub family: Option<String>,
    /// `Domn/Fmly/SubFmlyCd` (e.g. `ESCT`).
    pub subfamily: Option<String>,
    /// `Prtry/Cd`.
    pub proprietary_code: Option<String>,
    /// `Prtry/Issr`.
    pub proprietary_issuer: Option<String>,
}

/// `Ntry`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// 1-based position within its statement.
    pub index: usize,
    /// 1-based position of its statement.
    pub statement_index: usize,
    /// Element path, e.g. `/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]`.
    pub path: String,
    /// False when a required value (amount, currency, direction) or any
    /// value that was present (a date, a decimal) could not be read; the
    /// diagnostics name the element. Callers should refuse files with
    /// invalid entries rather than import them partly.
    pub valid: bool,
    /// `NtryRef`.
    pub reference: Option<String>,
    /// `Amt`.
    pub amount: Option<Amount>,
    /// `CdtDbtInd`.
    pub credit_debit: Option<CreditDebit>,
    /// `RvslInd` (`true` means this entry reverses an earlier one).
    pub reversal: bool,
    /// `Sts` (`BOOK`, `PDNG`, `INFO`; `Sts/Cd` from .001.07 on).
    pub status: Option<String>,
    /// `BookgDt`.
    pub booking_date: Option<DateChoice>,
    /// `ValDt`.
    pub value_date: Option<DateChoice>,
    /// `AcctSvcrRef`.
    pub account_servicer_reference: Option<String>,
    /// `BkTxCd`.
    pub bank_transaction_code: BankTransactionCode,
    /// `AddtlNtryInf`.
    pub additional_info: Option<String>,
    /// `NtryDtls/Btch/NbOfTxs`.
    pub batch_transaction_count: Option<String>,
    /// `NtryDtls/TxDtls` in document order (several `NtryDtls` are merged).
    pub transactions: Vec<TransactionDetails>,
}

impl Entry {
    /// Signed amount (credit positive) when amount and direction are known.
    pub fn signed_amount(&self) -> Option<Decimal> {
        Some(self.credit_debit?.signed(self.amount.as_ref()?.value))
    }

    /// True when the entry counts toward the booked balance (`Sts` `BOOK`
    /// or absent).
    pub fn is_booked(&self) -> bool {
        matches!(self.status.as_deref(), None | Some("BOOK"))
    }
}

/// A party with its account and agent, as far as the model keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Party {
    /// `Nm` (or `Pty/Nm` from .001.08 on).
    pub name: Option<String>,
    /// `...Acct/Id/IBAN`.
    pub iban: Option<String>,
    /// `...Acct/Id/Othr/Id`.
    pub other_account_id: Option<String>,
    /// `RltdAgts/...Agt/FinInstnId/BIC` or `BICFI`.
    pub bic: Option<String>,
    /// `Ultmt.../Nm` (or `Ultmt.../Pty/Nm`).
    pub ultimate_name: Option<String>,
}

impl Party {
    fn is_empty(&self) -> bool {
        self == &Party::default()
    }
}

/// `RmtInf/Strd/CdtrRefInf`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreditorReference {
    /// `Ref` (for `SCOR`: an ISO 11649 RF reference, a Dutch betalingskenmerk
    /// or a Belgian structured communication).
    pub reference: Option<String>,
    /// `Tp/CdOrPrtry/Cd` (e.g. `SCOR`).
    pub type_code: Option<String>,
    /// `Tp/CdOrPrtry/Prtry`.
    pub type_proprietary: Option<String>,
    /// `Tp/Issr` (e.g. `CUR`, `BBA`, `ISO`).
    pub issuer: Option<String>,
}

/// `RtrInf`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReturnInformation {
    /// `Rsn/Cd` (e.g. `AC04`, `MD06`, `MS03`).
    pub reason_code: Option<String>,
    /// `Rsn/Prtry`.
    pub reason_proprietary: Option<String>,
    /// `AddtlInf` (all, joined by a space).
    pub additional_info: Option<String>,
}

/// `NtryDtls/TxDtls`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionDetails {
    /// `Refs/MsgId`.
    pub message_id: Option<String>,
    /// `Refs/PmtInfId`.
    pub payment_information_id: Option<String>,
    /// `Refs/InstrId`.
    pub instruction_id: Option<String>,
    /// `Refs/EndToEndId`.
    pub end_to_end_id: Option<String>,
    /// `Refs/UETR`.
    pub uetr: Option<String>,
    /// `Refs/TxId`.
    pub transaction_id: Option<String>,
    /// `Refs/MndtId`.
    pub mandate_id: Option<String>,
    /// `Refs/AcctSvcrRef`.
    pub account_servicer_reference: Option<String>,
    /// `Amt` (from .001.03 on) or `AmtDtls/TxAmt/Amt`.
    pub amount: Option<Amount>,
    /// `CdtDbtInd`.
    pub credit_debit: Option<CreditDebit>,
    /// `BkTxCd`.
    pub bank_transaction_code: BankTransactionCode,
    /// `RltdPties/Dbtr...`, `DbtrAcct`, `UltmtDbtr`, `RltdAgts/DbtrAgt`.
    pub debtor: Party,
    /// `RltdPties/Cdtr...`, `CdtrAcct`, `UltmtCdtr`, `RltdAgts/CdtrAgt`.
    pub creditor: Party,
    /// Every `RmtInf/Ustrd`, in order.
    pub remittance_unstructured: Vec<String>,
    /// Every `RmtInf/Strd/CdtrRefInf`, in order.
    pub creditor_references: Vec<CreditorReference>,
    /// Every `RmtInf/Strd/AddtlRmtInf`, in order.
    pub remittance_additional: Vec<String>,
    /// `RtrInf`.
    pub return_information: Option<ReturnInformation>,
    /// `AddtlTxInf`.
    pub additional_info: Option<String>,
}

impl TransactionDetails {
    /// The other party from the account owner's view: the debtor for a
    /// credit (money in), the creditor for a debit. The direction is this
    /// transaction's `CdtDbtInd`, else `entry_direction` (the entry's).
    /// Without any direction, whichever party is present (debtor first).
    pub fn counterparty(&self, entry_direction: Option<CreditDebit>) -> &Party {
        match self.credit_debit.or(entry_direction) {
            Some(CreditDebit::Credit) => &self.debtor,
            Some(CreditDebit::Debit) => &self.creditor,
            None if !self.debtor.is_empty() => &self.debtor,
            None => &self.creditor,
        }
    }
}

/// How serious a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A known real-world deviation read leniently (element order, `BIC`
    /// where `BICFI` is due, a date-time in a `Dt`). The value was kept.
    Warning,
    /// A value could not be read; the entry is marked invalid.
    Error,
}

/// A problem found in one place of the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Warning or error.
    pub severity: Severity,
    /// Element path with 1-based indices of records, balances, entries and
    /// transaction details, e.g. `/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt`.
    pub path: String,
    /// What is wrong, with the offending text where useful.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{level}: {}: {}", self.path, self.message)
    }
}
