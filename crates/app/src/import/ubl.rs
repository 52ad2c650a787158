//! Mapping UBL 2.1 invoices and credit notes (Peppol BIS Billing 3.0, SI-UBL 2.0 / NLCIUS) to a
//! debtor (the AccountingCustomerParty) and an invoice: amounts, due date (stated, or derived
//! from the payment terms), payment reference (PaymentID), lines and the embedded PDF.

use incasso_banking::Iban;
use incasso_calendar::Date;
use incasso_domain::{
    Address, Attachment, CountryCode, DebtorKind, DebtorNumber, DocumentKind, DueDateSource,
    EmailAddress, InvoiceLine, InvoiceNumber, NewDebtor, NewInvoice, PhoneNumber,
    RegistrationNumber, VatNumber,
};
use incasso_money::{Currency, Money, Rate};
use incasso_ubl::{Amount, UblDate, UblDocument, UblError};

use super::{ImportDefaults, ParsedRow, Problem};

fn problem(location: String, field: &str, message: String) -> Problem {
    Problem {
        location,
        field: field.to_string(),
        message,
    }
}

/// Turns a reader error into a problem that names the element path or byte offset.
pub fn reader_problem(e: &UblError) -> Problem {
    match e {
        UblError::Xml {
            offset,
            line,
            message,
        } => problem(
            format!("line {line} (byte {offset})"),
            "",
            format!("malformed XML: {message}"),
        ),
        UblError::DoctypeRefused { offset } => problem(
            format!("byte {offset}"),
            "",
            "DOCTYPE declarations are refused (no external entities or entity expansion)".into(),
        ),
        UblError::InvalidValue {
            path,
            expected,
            found,
        } => problem(
            path.clone(),
            "",
            format!("expected {expected}, found {found:?}"),
        ),
        UblError::Missing { path } => {
            problem(path.clone(), "", "required element is missing".into())
        }
        other => problem("/".into(), "", other.to_string()),
    }
}

fn date(d: UblDate) -> Option<Date> {
    Date::new(
        i16::try_from(d.year).ok()?,
        i8::try_from(d.month).ok()?,
        i8::try_from(d.day).ok()?,
    )
    .ok()
}

/// Reads "30 days", "binnen 14 dagen", "Net 30" from a payment-terms note.
pub fn terms_days(note: &str) -> Option<u16> {
    // Split into runs of digits and runs of letters, so "30dagen" reads as "30 dagen".
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in note.to_lowercase().chars() {
        let same_kind = current
            .chars()
            .last()
            .is_some_and(|p| p.is_ascii_digit() == c.is_ascii_digit());
        if (!c.is_alphanumeric() || (!current.is_empty() && !same_kind)) && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if c.is_alphanumeric() {
            current.push(c);
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    for (i, w) in words.iter().enumerate() {
        if let Ok(n) = w.parse::<u16>() {
            let next = words.get(i + 1).copied().unwrap_or("");
            let prev = if i > 0 { words[i - 1] } else { "" };
            if matches!(
                next,
                "days" | "day" | "dagen" | "dag" | "jours" | "tage" | "d"
            ) || matches!(prev, "net" | "netto")
            {
                return (n <= 3650).then_some(n);
            }
        }
    }
    None
}

/// Maps one parsed UBL document to a row.
pub fn row(doc: &UblDocument, defaults: &ImportDefaults) -> Result<ParsedRow, Problem> {
    let root = match doc.kind {
        incasso_ubl::DocumentKind::Invoice => "/Invoice",
        incasso_ubl::DocumentKind::CreditNote => "/CreditNote",
    };
    let total_path = format!("{root}/cac:LegalMonetaryTotal");
    let currency_code = doc
        .document_currency_code
        .as_deref()
        .unwrap_or(doc.monetary_total.payable_amount.currency_id.as_str());
    let currency = Currency::parse(currency_code).map_err(|e| {
        problem(
            format!("{root}/cbc:DocumentCurrencyCode"),
            "DocumentCurrencyCode",
            e.to_string(),
        )
    })?;
    let money = |a: &Amount, path: String, field: &str| -> Result<Money, Problem> {
        let c = Currency::parse(&a.currency_id)
            .map_err(|e| problem(format!("{path}/@currencyID"), field, e.to_string()))?;
        if c != currency {
            return Err(problem(
                path,
                field,
                format!("amount in {c} while the document currency is {currency}"),
            ));
        }
        Money::parse_decimal(a.value.as_str(), currency)
            .map_err(|e| problem(path, field, e.to_string()))
    };
    let mt = &doc.monetary_total;
    let payable = money(
        &mt.payable_amount,
        format!("{total_path}/cbc:PayableAmount"),
        "PayableAmount",
    )?;
    let prepaid = match &mt.prepaid_amount {
        Some(a) => money(
            a,
            format!("{total_path}/cbc:PrepaidAmount"),
            "PrepaidAmount",
        )?,
        None => Money::zero(currency),
    };
    let sum_err = |field: &str| problem(total_path.clone(), field, "amount too large".into());
    let gross = payable
        .checked_add(prepaid)
        .map_err(|_| sum_err("PayableAmount"))?;
    let vat = match doc.tax_amount() {
        Some(a) if a.currency_id == currency_code => {
            money(a, format!("{root}/cac:TaxTotal/cbc:TaxAmount"), "TaxAmount")?
        }
        _ => Money::zero(currency),
    };
    let net = match &mt.tax_exclusive_amount {
        Some(a) => money(
            a,
            format!("{total_path}/cbc:TaxExclusiveAmount"),
            "TaxExclusiveAmount",
        )?,
        None => gross
            .checked_sub(vat)
            .map_err(|_| sum_err("TaxExclusiveAmount"))?,
    };
    // A negative invoice is a correction: it is stored as a credit note with positive amounts.
    let (kind, net, vat, gross, prepaid) = match doc.kind {
        incasso_ubl::DocumentKind::CreditNote => {
            (DocumentKind::CreditNote, net, vat, gross, prepaid)
        }
        incasso_ubl::DocumentKind::Invoice if gross.is_negative() => {
            let neg = |m: Money| m.checked_neg().map_err(|_| sum_err("PayableAmount"));
            (
                DocumentKind::CreditNote,
                neg(net)?,
                neg(vat)?,
                neg(gross)?,
                neg(prepaid)?,
            )
        }
        incasso_ubl::DocumentKind::Invoice => (DocumentKind::Invoice, net, vat, gross, prepaid),
    };
    let (net, vat, gross, prepaid) = if kind == DocumentKind::CreditNote && gross.is_negative() {
        let neg = |m: Money| m.checked_neg().map_err(|_| sum_err("PayableAmount"));
        (neg(net)?, neg(vat)?, neg(gross)?, neg(prepaid)?)
    } else {
        (net, vat, gross, prepaid)
    };

    let issue_date = date(doc.issue_date).ok_or_else(|| {
        problem(
            format!("{root}/cbc:IssueDate"),
            "IssueDate",
            "not a valid date".into(),
        )
    })?;
    let number = InvoiceNumber::parse(&doc.id)
        .map_err(|e| problem(format!("{root}/cbc:ID"), "ID", e.to_string()))?;

    // The customer.
    let party_path = format!("{root}/cac:AccountingCustomerParty/cac:Party");
    let party = &doc.customer;
    let name = party
        .display_name()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            problem(
                format!("{party_path}/cac:PartyLegalEntity/cbc:RegistrationName"),
                "RegistrationName",
                "the customer has no name".into(),
            )
        })?
        .to_string();
    let mut registration: Option<RegistrationNumber> = None;
    let mut number_id: Option<DebtorNumber> = None;
    for id in &party.identifications {
        match id.scheme_id.as_deref() {
            Some("0106" | "0208" | "0190") => {
                registration = registration.or_else(|| RegistrationNumber::parse(&id.value).ok())
            }
            None => number_id = number_id.or_else(|| DebtorNumber::parse(&id.value).ok()),
            Some(_) => {}
        }
    }
    if let Some(company) = party
        .legal_entity
        .as_ref()
        .and_then(|l| l.company_id.as_ref())
        && registration.is_none()
    {
        registration = RegistrationNumber::parse(&company.value).ok();
    }
    let vat_number = match party.vat_id() {
        Some(v) => Some(VatNumber::parse(v).map_err(|e| {
            problem(
                format!("{party_path}/cac:PartyTaxScheme/cbc:CompanyID"),
                "CompanyID",
                e.to_string(),
            )
        })?),
        None => None,
    };
    let debtor_kind = super::default_kind(registration.is_some() || vat_number.is_some());
    let address = party.postal_address.as_ref().map(|a| {
        let street = [a.street_name.as_deref(), a.building_number.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let street = if street.is_empty() {
            a.address_lines.first().cloned().unwrap_or_default()
        } else {
            street
        };
        Address {
            street,
            postal_code: a.postal_zone.clone().unwrap_or_default(),
            city: a.city_name.clone().unwrap_or_default(),
            country: a
                .country_code
                .as_deref()
                .and_then(|c| CountryCode::parse(c).ok())
                .or(Some(defaults.country)),
        }
    });
    let contact = party.contact.as_ref();
    let email_path = format!("{party_path}/cac:Contact/cbc:ElectronicMail");
    let emails = match contact.and_then(|c| c.electronic_mail.as_deref()) {
        Some(m) => vec![
            EmailAddress::parse(m)
                .map_err(|e| problem(email_path, "ElectronicMail", e.to_string()))?,
        ],
        None => Vec::new(),
    };
    // Phone numbers in e-invoices are free text ("+31 20 123 45 67 ext. 3"): keep what parses.
    let phones = contact
        .and_then(|c| c.telephone.as_deref())
        .and_then(|t| PhoneNumber::parse(t).ok())
        .into_iter()
        .collect();
    let ibans = doc
        .payment_means
        .iter()
        .filter_map(|m| {
            m.payment_mandate
                .as_ref()
                .and_then(|p| p.payer_account_id.as_deref())
        })
        .filter_map(|i| Iban::parse(i).ok())
        .collect();
    let mut debtor = NewDebtor::named(&name, debtor_kind, defaults.language);
    debtor.number = number_id;
    debtor.registration_number = registration;
    debtor.vat_number = vat_number;
    debtor.address = address.unwrap_or(Address {
        country: Some(defaults.country),
        ..Address::default()
    });
    debtor.contact_person = contact.and_then(|c| c.name.clone());
    debtor.emails = emails;
    debtor.phones = phones;
    debtor.ibans = ibans;
    if debtor.kind == DebtorKind::Business
        && debtor.address.country == Some(CountryCode::BE)
        && defaults.language == incasso_domain::Language::Nl
    {
        // Keep the creditor's language; a Belgian customer's language is not stated in UBL.
    }

    // Due date: stated, else derived from the payment terms.
    let stated_due = doc.effective_due_date().and_then(date);
    let terms = doc.payment_terms_notes().find_map(terms_days);
    let due = DueDateSource::derive(stated_due, issue_date, terms, debtor_kind);

    let mut lines = Vec::with_capacity(doc.lines.len());
    for (i, l) in doc.lines.iter().enumerate() {
        let line_path = format!(
            "{root}/cac:{}Line[{}]",
            if kind == DocumentKind::CreditNote {
                "CreditNote"
            } else {
                "Invoice"
            },
            i + 1
        );
        let net_amount = match &l.line_extension_amount {
            Some(a) => money(
                a,
                format!("{line_path}/cbc:LineExtensionAmount"),
                "LineExtensionAmount",
            )?,
            None => Money::zero(currency),
        };
        lines.push(InvoiceLine {
            description: l
                .item_name
                .clone()
                .or_else(|| l.item_description.clone())
                .unwrap_or_default(),
            quantity: l
                .quantity
                .as_ref()
                .map(|q| q.value.as_str().to_string())
                .unwrap_or_default(),
            net_amount,
            vat_percent: l
                .tax_percent()
                .and_then(|p| Rate::parse_percent(p.as_str()).ok()),
        });
    }
    let attachment = doc
        .embedded_attachments()
        .find(|(_, e)| e.mime_code.as_deref() == Some("application/pdf"))
        .or_else(|| doc.embedded_attachments().next())
        .map(|(d, e)| Attachment {
            filename: e
                .filename
                .clone()
                .unwrap_or_else(|| format!("{}.pdf", d.id.value)),
            mime_type: e
                .mime_code
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            content: e.content.clone(),
        });
    let invoice = NewInvoice {
        number,
        kind,
        issue_date,
        due_date: due.map(|(d, _)| d),
        due_date_source: due.map(|(_, s)| s),
        payment_terms_days: terms,
        currency,
        net_amount: net,
        vat_amount: vat,
        gross_amount: gross,
        paid_amount: prepaid,
        payment_reference: doc.payment_id().map(str::to_string),
        contractual_interest_rate: None,
        corrects: doc
            .billing_references
            .first()
            .and_then(|r| InvoiceNumber::parse(&r.id).ok()),
        description: doc.notes.first().cloned(),
        lines,
        attachment,
    };
    Ok(ParsedRow {
        line: 0,
        location: root.to_string(),
        debtor,
        invoice,
    })
}

#[cfg(test)]
mod tests {
    use super::terms_days;

    #[test]
    fn reads_payment_terms_notes() {
        assert_eq!(terms_days("Payment within 30 days"), Some(30));
        assert_eq!(
            terms_days("Betaling binnen 14 dagen na factuurdatum"),
            Some(14)
        );
        assert_eq!(terms_days("Net 60"), Some(60));
        assert_eq!(terms_days("30dagen"), Some(30));
        assert_eq!(terms_days("Payment on delivery"), None);
        assert_eq!(terms_days("Order 4711"), None);
    }
}
