//! Parties: the creditor (an administration, the tenant) and its debtors.

use incasso_banking::{Bic, Iban};

use crate::ids::{CreditorId, DebtorId};
use crate::values::{
    CountryCode, DebtorNumber, EmailAddress, PhoneNumber, RegistrationNumber, Tag, VatNumber,
};

/// Which body of law governs the creditor's collection process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Jurisdiction {
    /// The Netherlands: BW 6:96, 6:119/6:119a, BIK, Algemene termijnenwet.
    Nl,
    /// Belgium: law of 2 August 2002 (B2B), Book XIX WER (B2C).
    Be,
}

impl Jurisdiction {
    pub fn parse(s: &str) -> Option<Jurisdiction> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" => Some(Jurisdiction::Nl),
            "be" => Some(Jurisdiction::Be),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Jurisdiction::Nl => "nl",
            Jurisdiction::Be => "be",
        }
    }
}

/// The language letters and messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    Nl,
    En,
    Fr,
    De,
}

impl Language {
    pub fn parse(s: &str) -> Option<Language> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" | "nld" | "dutch" | "nederlands" => Some(Language::Nl),
            "en" | "eng" | "english" | "engels" => Some(Language::En),
            "fr" | "fra" | "french" | "frans" | "français" => Some(Language::Fr),
            "de" | "deu" | "german" | "duits" | "deutsch" => Some(Language::De),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::En => "en",
            Language::Fr => "fr",
            Language::De => "de",
        }
    }
}

/// Business or consumer: this decides which law applies (6:119a and 6:96 lid 4 vs 6:119 and
/// 6:96 lid 6 in the Netherlands; the 2002 law vs Book XIX in Belgium).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DebtorKind {
    Business,
    Consumer,
}

impl DebtorKind {
    pub fn parse(s: &str) -> Option<DebtorKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "business" | "b2b" | "zakelijk" | "bedrijf" | "company" => Some(DebtorKind::Business),
            "consumer" | "b2c" | "particulier" | "consument" | "private" => {
                Some(DebtorKind::Consumer)
            }
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            DebtorKind::Business => "business",
            DebtorKind::Consumer => "consumer",
        }
    }
}

/// A postal address as printed in the window of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub country: Option<CountryCode>,
}

impl Address {
    /// The postal code without spaces, upper case: the form used to match debtors.
    pub fn postal_code_key(&self) -> String {
        self.postal_code
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase()
    }

    pub fn is_empty(&self) -> bool {
        self.street.is_empty() && self.postal_code.is_empty() && self.city.is_empty()
    }
}

/// The facts needed to register a creditor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCreditor {
    pub name: String,
    pub legal_form: Option<String>,
    /// KvK number (NL) or enterprise number (BE).
    pub registration_number: Option<RegistrationNumber>,
    pub vat_number: Option<VatNumber>,
    /// Whether the creditor can deduct VAT; if not, collection costs may carry a VAT uplift (BIK art. 2 lid 3).
    pub vat_deductible: bool,
    pub iban: Iban,
    pub bic: Option<Bic>,
    pub jurisdiction: Jurisdiction,
    /// Whether the creditor itself is a business (`business`) or, rarely, a private person.
    pub kind: DebtorKind,
    pub language: Language,
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
    pub address: Address,
    pub website: Option<String>,
    /// Free text printed in the letterhead (for example a slogan or office hours).
    pub letterhead: Option<String>,
}

/// A registered creditor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creditor {
    pub id: CreditorId,
    pub details: NewCreditor,
}

/// The facts needed to register a debtor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDebtor {
    /// The creditor's own customer number, when known.
    pub number: Option<DebtorNumber>,
    pub kind: DebtorKind,
    pub name: String,
    pub contact_person: Option<String>,
    pub address: Address,
    pub emails: Vec<EmailAddress>,
    pub phones: Vec<PhoneNumber>,
    pub language: Language,
    pub ibans: Vec<Iban>,
    pub registration_number: Option<RegistrationNumber>,
    pub vat_number: Option<VatNumber>,
    pub tags: Vec<Tag>,
    /// A vulnerable debtor: the collection process pauses for a person to decide.
    pub vulnerable: bool,
    /// The debtor must not be contacted (for example during debt counselling).
    pub do_not_contact: bool,
}

/// A registered debtor of one creditor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    pub id: DebtorId,
    pub creditor_id: CreditorId,
    pub details: NewDebtor,
}

impl NewDebtor {
    /// A debtor with only a name; other facts default to empty.
    pub fn named(name: &str, kind: DebtorKind, language: Language) -> NewDebtor {
        NewDebtor {
            number: None,
            kind,
            name: name.trim().to_string(),
            contact_person: None,
            address: Address::default(),
            emails: Vec::new(),
            phones: Vec::new(),
            language,
            ibans: Vec::new(),
            registration_number: None,
            vat_number: None,
            tags: Vec::new(),
            vulnerable: false,
            do_not_contact: false,
        }
    }

    /// The key used to match a debtor by name and postcode when no number, KvK or VAT is known:
    /// the name lower-cased with whitespace collapsed, and the postcode without spaces.
    pub fn name_postcode_key(&self) -> Option<String> {
        let name = self
            .name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let pc = self.address.postal_code_key();
        if name.is_empty() || pc.is_empty() {
            None
        } else {
            Some(format!("{name}|{pc}"))
        }
    }
}
