//! Column codecs shared by both backends: how lists, enums, dates and money facts are written to
//! and read from plain SQL columns, so that SQLite and PostgreSQL store exactly the same values.

use anyhow::{Context, anyhow};
use incasso_banking::Iban;
use incasso_calendar::Date;
use incasso_domain::{EmailAddress, NewInvoice, PhoneNumber, Tag};

/// Joins list values with a newline (none of the list value types can contain one).
pub fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn split(s: &str) -> impl Iterator<Item = &str> {
    s.split('\n').filter(|x| !x.is_empty())
}

pub fn emails(s: &str) -> anyhow::Result<Vec<EmailAddress>> {
    split(s)
        .map(|x| EmailAddress::parse(x).map_err(anyhow::Error::from))
        .collect()
}

pub fn phones(s: &str) -> anyhow::Result<Vec<PhoneNumber>> {
    split(s)
        .map(|x| PhoneNumber::parse(x).map_err(anyhow::Error::from))
        .collect()
}

pub fn ibans(s: &str) -> anyhow::Result<Vec<Iban>> {
    split(s)
        .map(|x| Iban::parse(x).map_err(anyhow::Error::from))
        .collect()
}

pub fn tags(s: &str) -> anyhow::Result<Vec<Tag>> {
    split(s)
        .map(|x| Tag::parse(x).map_err(anyhow::Error::from))
        .collect()
}

pub fn date(s: &str) -> anyhow::Result<Date> {
    incasso_calendar::parse_iso(s).with_context(|| format!("stored date {s:?}"))
}

pub fn opt_date(s: Option<String>) -> anyhow::Result<Option<Date>> {
    s.map(|x| date(&x)).transpose()
}

/// FNV-1a, 64 bit: a stable hash (unlike std's), so fingerprints survive upgrades.
pub fn fnv1a(bytes: &[u8]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

/// The fingerprint of an invoice's money facts: kind, currency, amounts, paid, due date.
/// Re-importing an invoice with the same number and fingerprint changes nothing; a different
/// fingerprint is a changed invoice, reported and not overwritten.
pub fn fingerprint(inv: &NewInvoice) -> i64 {
    // The fields are fed as fixed-width bytes (no text formatting): a million imports a second.
    let mut buf = [0u8; 64];
    let mut n = 0;
    let mut put = |bytes: &[u8]| {
        for b in bytes {
            if let Some(slot) = buf.get_mut(n) {
                *slot = *b;
                n += 1;
            }
        }
    };
    put(inv.kind.code().as_bytes());
    put(inv.currency.code().as_bytes());
    put(&inv.gross_amount.minor().to_le_bytes());
    put(&inv.net_amount.minor().to_le_bytes());
    put(&inv.vat_amount.minor().to_le_bytes());
    put(&inv.paid_amount.minor().to_le_bytes());
    match inv.due_date {
        Some(d) => {
            put(&d.year().to_le_bytes());
            put(&[d.month().to_le_bytes()[0], d.day().to_le_bytes()[0]]);
        }
        None => put(b"none"),
    }
    fnv1a(&buf[..n])
}

pub fn bad(column: &str, value: &str) -> anyhow::Error {
    anyhow!("unexpected stored value {value:?} in column {column}")
}

/// A creditor row as plain column values, filled by a backend and turned into the domain type here.
#[derive(Debug, Clone, Default)]
pub struct CreditorColumns {
    pub id: i64,
    pub name: String,
    pub legal_form: Option<String>,
    pub registration_number: Option<String>,
    pub vat_number: Option<String>,
    pub vat_deductible: bool,
    pub iban: String,
    pub bic: Option<String>,
    pub jurisdiction: String,
    pub kind: String,
    pub language: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub country: Option<String>,
    pub website: Option<String>,
    pub letterhead: Option<String>,
}

/// The column list matching [`CreditorColumns`], in order.
pub const CREDITOR_COLUMNS: &str = "id, name, legal_form, registration_number, vat_number, vat_deductible, iban, bic, jurisdiction, kind, language, email, phone, street, postal_code, city, country, website, letterhead";

impl CreditorColumns {
    pub fn from_domain(c: &incasso_domain::NewCreditor) -> CreditorColumns {
        CreditorColumns {
            id: 0,
            name: c.name.clone(),
            legal_form: c.legal_form.clone(),
            registration_number: c.registration_number.as_ref().map(ToString::to_string),
            vat_number: c.vat_number.as_ref().map(ToString::to_string),
            vat_deductible: c.vat_deductible,
            iban: c.iban.to_string(),
            bic: c.bic.as_ref().map(ToString::to_string),
            jurisdiction: c.jurisdiction.code().to_string(),
            kind: c.kind.code().to_string(),
            language: c.language.code().to_string(),
            email: c.email.as_ref().map(ToString::to_string),
            phone: c.phone.as_ref().map(ToString::to_string),
            street: c.address.street.clone(),
            postal_code: c.address.postal_code.clone(),
            city: c.address.city.clone(),
            country: c.address.country.map(|x| x.to_string()),
            website: c.website.clone(),
            letterhead: c.letterhead.clone(),
        }
    }

    pub fn into_domain(self) -> anyhow::Result<incasso_domain::Creditor> {
        use incasso_domain::*;
        Ok(Creditor {
            id: CreditorId::new(self.id),
            details: NewCreditor {
                name: self.name,
                legal_form: self.legal_form,
                registration_number: self
                    .registration_number
                    .map(|x| RegistrationNumber::parse(&x))
                    .transpose()?,
                vat_number: self.vat_number.map(|x| VatNumber::parse(&x)).transpose()?,
                vat_deductible: self.vat_deductible,
                iban: Iban::parse(&self.iban)?,
                bic: self
                    .bic
                    .map(|x| incasso_banking::Bic::parse(&x))
                    .transpose()?,
                jurisdiction: Jurisdiction::parse(&self.jurisdiction)
                    .ok_or_else(|| bad("jurisdiction", &self.jurisdiction))?,
                kind: DebtorKind::parse(&self.kind).ok_or_else(|| bad("kind", &self.kind))?,
                language: Language::parse(&self.language)
                    .ok_or_else(|| bad("language", &self.language))?,
                email: self.email.map(|x| EmailAddress::parse(&x)).transpose()?,
                phone: self.phone.map(|x| PhoneNumber::parse(&x)).transpose()?,
                address: Address {
                    street: self.street,
                    postal_code: self.postal_code,
                    city: self.city,
                    country: self.country.map(|x| CountryCode::parse(&x)).transpose()?,
                },
                website: self.website,
                letterhead: self.letterhead,
            },
        })
    }
}

/// A debtor row as plain column values.
#[derive(Debug, Clone, Default)]
pub struct DebtorColumns {
    pub id: i64,
    pub creditor_id: i64,
    pub number: Option<String>,
    pub kind: String,
    pub name: String,
    pub contact_person: Option<String>,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub country: Option<String>,
    pub emails: String,
    pub phones: String,
    pub language: String,
    pub ibans: String,
    pub registration_number: Option<String>,
    pub vat_number: Option<String>,
    pub tags: String,
    pub vulnerable: bool,
    pub do_not_contact: bool,
    pub name_key: Option<String>,
}

/// The column list matching [`DebtorColumns`], in order.
pub const DEBTOR_COLUMNS: &str = "id, creditor_id, number, kind, name, contact_person, street, postal_code, city, country, emails, phones, language, ibans, registration_number, vat_number, tags, vulnerable, do_not_contact, name_key";

impl DebtorColumns {
    pub fn from_domain(id: i64, creditor_id: i64, d: &incasso_domain::NewDebtor) -> DebtorColumns {
        DebtorColumns {
            id,
            creditor_id,
            number: d.number.as_ref().map(ToString::to_string),
            kind: d.kind.code().to_string(),
            name: d.name.clone(),
            contact_person: d.contact_person.clone(),
            street: d.address.street.clone(),
            postal_code: d.address.postal_code.clone(),
            city: d.address.city.clone(),
            country: d.address.country.map(|x| x.to_string()),
            emails: join(&d.emails),
            phones: join(&d.phones),
            language: d.language.code().to_string(),
            ibans: join(&d.ibans),
            registration_number: d.registration_number.as_ref().map(ToString::to_string),
            vat_number: d.vat_number.as_ref().map(ToString::to_string),
            tags: join(&d.tags),
            vulnerable: d.vulnerable,
            do_not_contact: d.do_not_contact,
            name_key: d.name_postcode_key(),
        }
    }

    pub fn into_domain(self) -> anyhow::Result<incasso_domain::Debtor> {
        use incasso_domain::*;
        Ok(Debtor {
            id: DebtorId::new(self.id),
            creditor_id: CreditorId::new(self.creditor_id),
            details: NewDebtor {
                number: self.number.map(|x| DebtorNumber::parse(&x)).transpose()?,
                kind: DebtorKind::parse(&self.kind).ok_or_else(|| bad("kind", &self.kind))?,
                name: self.name,
                contact_person: self.contact_person,
                address: Address {
                    street: self.street,
                    postal_code: self.postal_code,
                    city: self.city,
                    country: self.country.map(|x| CountryCode::parse(&x)).transpose()?,
                },
                emails: emails(&self.emails)?,
                phones: phones(&self.phones)?,
                language: Language::parse(&self.language)
                    .ok_or_else(|| bad("language", &self.language))?,
                ibans: ibans(&self.ibans)?,
                registration_number: self
                    .registration_number
                    .map(|x| RegistrationNumber::parse(&x))
                    .transpose()?,
                vat_number: self.vat_number.map(|x| VatNumber::parse(&x)).transpose()?,
                tags: tags(&self.tags)?,
                vulnerable: self.vulnerable,
                do_not_contact: self.do_not_contact,
            },
        })
    }
}

/// An invoice row as plain column values.
#[derive(Debug, Clone, Default)]
pub struct InvoiceColumns {
    pub id: i64,
    pub creditor_id: i64,
    pub debtor_id: i64,
    pub number: String,
    pub kind: String,
    pub issue_date: String,
    pub due_date: Option<String>,
    pub due_date_source: Option<String>,
    pub payment_terms_days: Option<i64>,
    pub currency: String,
    pub net_minor: i64,
    pub vat_minor: i64,
    pub gross_minor: i64,
    pub paid_minor: i64,
    pub open_minor: i64,
    pub payment_reference: Option<String>,
    pub contractual_rate: Option<String>,
    pub corrects: Option<String>,
    pub description: Option<String>,
    pub defect: Option<String>,
    pub fingerprint: i64,
}

/// The column list matching [`InvoiceColumns`], in order.
pub const INVOICE_COLUMNS: &str = "id, creditor_id, debtor_id, number, kind, issue_date, due_date, due_date_source, payment_terms_days, currency, net_minor, vat_minor, gross_minor, paid_minor, open_minor, payment_reference, contractual_rate, corrects, description, defect, fingerprint";

impl InvoiceColumns {
    pub fn from_domain(
        id: i64,
        creditor_id: i64,
        debtor_id: i64,
        inv: &NewInvoice,
    ) -> InvoiceColumns {
        InvoiceColumns {
            id,
            creditor_id,
            debtor_id,
            number: inv.number.to_string(),
            kind: inv.kind.code().to_string(),
            issue_date: inv.issue_date.to_string(),
            due_date: inv.due_date.map(|d| d.to_string()),
            due_date_source: inv.due_date_source.map(|s| s.code().to_string()),
            payment_terms_days: inv.payment_terms_days.map(i64::from),
            currency: inv.currency.code().to_string(),
            net_minor: inv.net_amount.minor(),
            vat_minor: inv.vat_amount.minor(),
            gross_minor: inv.gross_amount.minor(),
            paid_minor: inv.paid_amount.minor(),
            open_minor: if inv.kind == incasso_domain::DocumentKind::CreditNote {
                0
            } else {
                inv.open_amount().minor()
            },
            payment_reference: inv.payment_reference.clone(),
            contractual_rate: inv
                .contractual_interest_rate
                .map(|r| r.percent().to_string()),
            corrects: inv.corrects.as_ref().map(ToString::to_string),
            description: inv.description.clone(),
            defect: inv.defect().map(|d| d.code().to_string()),
            fingerprint: fingerprint(inv),
        }
    }

    pub fn into_domain(
        self,
        lines: Vec<incasso_domain::InvoiceLine>,
        attachment: Option<incasso_domain::Attachment>,
    ) -> anyhow::Result<incasso_domain::Invoice> {
        use incasso_domain::*;
        use incasso_money::{Currency, Money, Rate};
        let currency = Currency::parse(&self.currency)?;
        let m = |minor| Money::from_minor(minor, currency);
        Ok(Invoice {
            id: InvoiceId::new(self.id),
            creditor_id: CreditorId::new(self.creditor_id),
            debtor_id: DebtorId::new(self.debtor_id),
            open_amount: m(self.open_minor),
            details: NewInvoice {
                number: InvoiceNumber::parse(&self.number)?,
                kind: DocumentKind::parse(&self.kind).ok_or_else(|| bad("kind", &self.kind))?,
                issue_date: date(&self.issue_date)?,
                due_date: opt_date(self.due_date)?,
                due_date_source: self
                    .due_date_source
                    .map(|s| DueDateSource::parse(&s).ok_or_else(|| bad("due_date_source", &s)))
                    .transpose()?,
                payment_terms_days: self.payment_terms_days.map(u16::try_from).transpose()?,
                currency,
                net_amount: m(self.net_minor),
                vat_amount: m(self.vat_minor),
                gross_amount: m(self.gross_minor),
                paid_amount: m(self.paid_minor),
                payment_reference: self.payment_reference,
                contractual_interest_rate: self
                    .contractual_rate
                    .map(|r| Rate::parse_percent(&r))
                    .transpose()?,
                corrects: self
                    .corrects
                    .map(|c| InvoiceNumber::parse(&c))
                    .transpose()?,
                description: self.description,
                lines,
                attachment,
            },
        })
    }
}

/// Parses a stored defect code.
pub fn defect(s: Option<String>) -> anyhow::Result<Option<incasso_domain::NotCollectable>> {
    s.map(|x| incasso_domain::NotCollectable::parse(&x).ok_or_else(|| bad("defect", &x)))
        .transpose()
}

/// Hex SHA-256 is computed by the caller; this checks the shape of one.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}
