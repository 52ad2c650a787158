//! What a message says and carries: the recipient, the facts the contact rules look at, the
//! debtor's open invoices, the template data and the invoice PDFs, and the money and date
//! formats of each language.

use super::*;

/// The debtor's first e-mail address or phone number.
pub(super) fn recipient(debtor: &Debtor, channel: Channel) -> Option<String> {
    match channel {
        Channel::Email => debtor
            .details
            .emails
            .first()
            .map(|e| e.as_str().to_string()),
        Channel::Sms => debtor
            .details
            .phones
            .first()
            .map(|p| p.as_str().to_string()),
    }
}

/// What the contact rules look at for the debtor now: consents and the contacts since
/// `week_ago`.
pub(super) fn contact_facts(
    store: &mut dyn Store,
    tenant: CreditorId,
    debtor: &Debtor,
    week_ago: &str,
) -> anyhow::Result<ContactFacts> {
    let consents = store.consents(tenant, debtor.id)?;
    Ok(ContactFacts {
        recent_contacts: store
            .contacts_since(tenant, debtor.id, week_ago)?
            .iter()
            .map(|s| parse_stamp(s))
            .collect::<anyhow::Result<_>>()?,
        email_consent: consents.iter().any(|c| c == "email"),
        sms_consent: consents.iter().any(|c| c == "sms"),
        do_not_contact: debtor.details.do_not_contact,
    })
}

/// An open invoice of the debtor, as the message and its attachments need it.
pub(super) struct OpenInvoice {
    id: InvoiceId,
    number: String,
    issue_date: Date,
    open_amount: Money,
    /// Whether the invoice has a data defect (it is not named in the message).
    defect: bool,
}

/// The debtor's invoices with an open amount, in one listing for the message text and the
/// invoice PDFs.
pub(super) fn open_invoices(
    store: &mut dyn Store,
    tenant: CreditorId,
    debtor: DebtorId,
) -> anyhow::Result<Vec<OpenInvoice>> {
    let mut open = Vec::new();
    store.for_each_invoice(
        tenant,
        &InvoiceFilter {
            debtor: Some(debtor),
            ..InvoiceFilter::default()
        },
        &mut |row| {
            if row.open_amount.minor() > 0 {
                open.push(OpenInvoice {
                    id: row.id,
                    number: row.number,
                    issue_date: row.issue_date,
                    open_amount: row.open_amount,
                    defect: row.defect.is_some(),
                });
            }
            Ok(())
        },
    )?;
    Ok(open)
}

pub(super) fn message_data(
    open: &[OpenInvoice],
    creditor: &incasso_domain::Creditor,
    debtor: &Debtor,
    action: &ActionRow,
    config: &DispatchConfig,
    lang: &str,
) -> MessageData {
    let named: Vec<&OpenInvoice> = open.iter().filter(|i| !i.defect).collect();
    let a = &action.action;
    MessageData {
        creditor_name: creditor.details.name.clone(),
        debtor_name: debtor.details.name.clone(),
        amount_total: format_money(a.total, lang),
        costs: a.costs.map(|c| format_money(c, lang)).unwrap_or_default(),
        deadline: format_date(a.deadline, lang),
        iban: creditor.details.iban.to_string(),
        payment_reference: named
            .iter()
            .map(|i| i.number.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        portal_link: config
            .portal_url
            .as_ref()
            .map(|u| u.replace("{case}", &action.case_id.to_string())),
        invoices: named
            .iter()
            .map(|i| InvoiceLine {
                number: i.number.clone(),
                issued: format_date(i.issue_date, lang),
                open: format_money(i.open_amount, lang),
            })
            .collect(),
    }
}

/// The PDF attachments of the debtor's open invoices.
pub(super) fn invoice_pdfs(
    store: &mut dyn Store,
    tenant: CreditorId,
    open: &[OpenInvoice],
) -> anyhow::Result<Vec<Attachment>> {
    let mut out = Vec::new();
    for invoice in open {
        if let Some(a) = store.attachment(tenant, invoice.id)?
            && a.mime_type == "application/pdf"
        {
            out.push(Attachment {
                filename: a.filename,
                content_type: a.mime_type,
                bytes: a.content,
            });
        }
    }
    Ok(out)
}

/// Formats money the way the language writes it (`€ 1.234,56`, `€1,234.56`).
pub fn format_money(m: Money, lang: &str) -> String {
    let s = m.to_decimal_string();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let (group, dec) = if lang == "en" { (',', '.') } else { ('.', ',') };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let sign = if neg { "-" } else { "" };
    if lang == "en" {
        format!("{sign}€{grouped}{dec}{frac}")
    } else {
        format!("{sign}€ {grouped}{dec}{frac}")
    }
}

fn format_date(d: Date, lang: &str) -> String {
    match lang {
        "de" => d.strftime("%d.%m.%Y").to_string(),
        "en" | "fr" => d.strftime("%d/%m/%Y").to_string(),
        _ => d.strftime("%d-%m-%Y").to_string(),
    }
}
