//! `LetterData`: everything a letter says, as plain serialisable values (amounts in cents, dates
//! as civil dates), and the EPC QR payment it carries.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::LetterError;

/// The language a letter is written in. Dutch is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Nl,
    En,
    Fr,
    De,
}

impl Language {
    pub const ALL: [Language; 4] = [Language::Nl, Language::En, Language::Fr, Language::De];

    pub fn code(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::En => "en",
            Language::Fr => "fr",
            Language::De => "de",
        }
    }

    pub fn parse(s: &str) -> Option<Language> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" => Some(Language::Nl),
            "en" => Some(Language::En),
            "fr" => Some(Language::Fr),
            "de" => Some(Language::De),
            _ => None,
        }
    }
}

/// A postal address as printed: the lines after the name, in order (street, postcode and city,
/// country).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PostalAddress {
    pub lines: Vec<String>,
}

/// The creditor: the letterhead and the footer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Creditor {
    pub name: String,
    pub address: PostalAddress,
    /// KvK number (NL) or enterprise number (BE).
    pub registration_number: Option<String>,
    pub vat_number: Option<String>,
    /// IBAN in paper format or electronic format (printed as given).
    pub iban: String,
    pub bic: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Free text under the name in the letterhead.
    pub letterhead: Option<String>,
}

/// The addressee, printed in the window of the envelope.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Recipient {
    pub name: String,
    /// Printed as "t.a.v." / "Attn." / "À l'attention de" / "z. Hd." line.
    pub contact_person: Option<String>,
    pub address: PostalAddress,
}

/// One open invoice in the letter's table. Amounts in cents (EUR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub number: String,
    /// What the invoice was for (Book XIX WER: the first reminder describes the product or
    /// service).
    #[serde(default)]
    pub description: Option<String>,
    pub date: Date,
    pub due_date: Option<Date>,
    pub amount: i64,
    pub paid: i64,
    pub open: i64,
}

/// One period of the interest specification (from the law engine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestLine {
    /// The invoice the period belongs to.
    pub invoice: String,
    pub from: Date,
    /// Inclusive.
    pub to: Date,
    pub days: u32,
    /// Annual rate in ten-thousandths of a percent (`81_500` is 8.15 %).
    pub rate: u32,
    /// The base the interest runs on, in cents.
    pub base: i64,
    /// The period's interest in cents (rounded for display; the total is rounded once).
    pub amount: i64,
}

/// The interest specification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interest {
    /// The statute, for example `art. 6:119a BW`.
    pub statute: String,
    pub lines: Vec<InterestLine>,
    /// Interest up to the letter date, cents.
    pub total: i64,
}

/// Whether the letter claims the collection costs or only announces them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostsStatus {
    /// Due now: part of the total to pay.
    Claimed,
    /// Will be due if the debtor does not pay within the term (fourteen-day letter, BE first
    /// reminder, formal notice): stated with its exact amount, not part of the total.
    Announced,
}

/// Collection costs (NL: BIK/WIK; BE consumer: damages under Book XIX WER; B2B: fixed sum).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Costs {
    pub status: CostsStatus,
    /// Excluding VAT, cents.
    pub amount: i64,
    /// VAT uplift (BIK art. 2 lid 3), cents; zero when the creditor deducts VAT.
    pub vat: i64,
    /// `amount + vat`.
    pub total: i64,
    /// The law engine's explanation (printed under the amount).
    pub explanation: String,
}

/// The statutory term of a fourteen-day letter or the Belgian waiting period, from the law engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatutoryTerm {
    pub days: u32,
    /// The presumed day of receipt (the term starts the next day).
    pub received: Date,
    pub first_day: Date,
    /// The last day to pay without costs (after the Algemene termijnenwet extension).
    pub last_day: Date,
    pub costs_due_from: Date,
}

/// How to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentInstructions {
    /// The account holder (the EPC QR beneficiary name, at most 70 characters).
    pub beneficiary: String,
    /// IBAN, electronic format (no spaces) or paper format.
    pub iban: String,
    pub bic: Option<String>,
    /// Cents.
    pub amount: i64,
    /// The payment reference to quote.
    pub reference: String,
    /// Whether `reference` is a structured creditor reference (betalingskenmerk, OGM/VCS, RF):
    /// it then goes into the EPC QR's structured field, else into the free-text field.
    pub structured: bool,
}

/// One instalment of a payment plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instalment {
    pub due: Date,
    /// Cents.
    pub amount: i64,
}

/// Everything one letter says. Amounts are in cents (EUR); all text is already in the letter's
/// language except the fixed wording, which comes from the template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterData {
    pub language: Language,
    pub creditor: Creditor,
    pub debtor: Recipient,
    pub letter_date: Date,
    /// Printed as "Ons kenmerk".
    pub our_reference: String,
    /// The case number (dossier).
    pub case_number: String,
    pub invoices: Vec<InvoiceLine>,
    pub interest: Option<Interest>,
    pub costs: Option<Costs>,
    /// A Belgian reminder fee (Book XIX WER, at most €7.50), cents.
    pub reminder_fee: Option<i64>,
    /// The annual interest rate that applies (or will be charged), in ten-thousandths of a
    /// percent; stated in letters that announce interest.
    #[serde(default)]
    pub interest_rate: Option<u32>,
    /// Open principal + interest + claimed costs + fee, cents.
    pub total: i64,
    pub payment: PaymentInstructions,
    /// Print the EPC QR code ("GiroCode") with the payment pre-filled.
    pub qr: bool,
    pub payment_link: Option<String>,
    pub portal_link: Option<String>,
    /// The last day to pay.
    pub deadline: Date,
    pub term: Option<StatutoryTerm>,
    /// Payment plan confirmation: the instalments.
    pub instalments: Vec<Instalment>,
    /// The name under the closing.
    pub signatory: Option<String>,
}

impl LetterData {
    /// The EPC069-12 payment the letter's QR code carries: beneficiary, IBAN, BIC, the amount to
    /// pay and the reference (structured or as text). Version 002 (the BIC is optional), UTF-8.
    pub fn epc_payment(&self) -> Result<incasso_epcqr::Payment, LetterError> {
        let p = &self.payment;
        let amount = u64::try_from(p.amount)
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| LetterError::Data {
                field: "payment.amount".into(),
                message: format!("must be positive for a QR code, is {} cents", p.amount),
            })?;
        let iban: String = p.iban.chars().filter(|c| !c.is_whitespace()).collect();
        let reference = p.reference.trim();
        Ok(incasso_epcqr::Payment {
            version: incasso_epcqr::Version::V002,
            charset: incasso_epcqr::Charset::Utf8,
            bic: p.bic.clone().filter(|b| !b.trim().is_empty()),
            name: p.beneficiary.chars().take(70).collect(),
            iban,
            amount_cents: Some(amount),
            purpose: None,
            remittance: if reference.is_empty() {
                None
            } else if p.structured {
                Some(incasso_epcqr::Remittance::Structured(
                    reference.chars().filter(|c| !c.is_whitespace()).collect(),
                ))
            } else {
                Some(incasso_epcqr::Remittance::Unstructured(
                    reference.chars().take(140).collect(),
                ))
            },
            information: None,
        })
    }

    /// The EPC QR payload bytes (see [`LetterData::epc_payment`]).
    pub fn epc_payload(&self) -> Result<Vec<u8>, LetterError> {
        incasso_epcqr::build(&self.epc_payment()?).map_err(|e| LetterError::Data {
            field: "payment".into(),
            message: format!("EPC QR code: {e}"),
        })
    }
}
