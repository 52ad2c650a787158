//! The letter as the templates see it: `LetterData` checked and turned into JSON with every
//! amount and date already written in the letter's language, plus the EPC QR code as SVG.

use serde_json::{Value, json};

use crate::format::{amount, iban_paper, long_date, rate, short_date};
use crate::{CostsStatus, LetterData, LetterError};

/// At most this many lines in the window: name, attention line and address.
pub const MAX_ADDRESS_LINES: usize = 6;

fn bad(field: &str, message: impl Into<String>) -> LetterError {
    LetterError::Data {
        field: field.into(),
        message: message.into(),
    }
}

fn opt(s: &Option<String>) -> Value {
    match s.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => Value::String(t.to_string()),
        _ => Value::Null,
    }
}

/// Checks that the letter is complete and adds up. The total must be the open principal plus
/// interest, claimed costs and fee; a letter never states a sum that does not add up.
pub fn check(data: &LetterData) -> Result<(), LetterError> {
    if data.creditor.name.trim().is_empty() {
        return Err(bad("creditor.name", "is empty"));
    }
    if data.creditor.iban.trim().is_empty() {
        return Err(bad("creditor.iban", "is empty"));
    }
    if data.debtor.name.trim().is_empty() {
        return Err(bad("debtor.name", "is empty"));
    }
    if data.debtor.address.lines.is_empty() {
        return Err(bad(
            "debtor.address",
            "has no lines: a letter needs a postal address",
        ));
    }
    let lines =
        1 + usize::from(data.debtor.contact_person.is_some()) + data.debtor.address.lines.len();
    if lines > MAX_ADDRESS_LINES {
        return Err(bad(
            "debtor.address",
            format!("{lines} lines do not fit the envelope window (at most {MAX_ADDRESS_LINES})"),
        ));
    }
    if data.invoices.is_empty() {
        return Err(bad("invoices", "a letter lists at least one invoice"));
    }
    let mut principal: i64 = 0;
    for (i, inv) in data.invoices.iter().enumerate() {
        if inv.open < 0 || inv.paid < 0 {
            return Err(bad(
                &format!("invoices[{i}] ({})", inv.number),
                "negative amount",
            ));
        }
        principal = principal
            .checked_add(inv.open)
            .ok_or_else(|| bad("invoices", "amounts overflow"))?;
    }
    let interest = data.interest.as_ref().map_or(0, |i| i.total);
    let costs = data
        .costs
        .as_ref()
        .filter(|c| c.status == CostsStatus::Claimed)
        .map_or(0, |c| c.total);
    if let Some(c) = &data.costs
        && c.amount.checked_add(c.vat) != Some(c.total)
    {
        return Err(bad(
            "costs.total",
            format!("{} is not amount {} + VAT {}", c.total, c.amount, c.vat),
        ));
    }
    let fee = data.reminder_fee.unwrap_or(0);
    let expected = [interest, costs, fee]
        .iter()
        .try_fold(principal, |acc, x| acc.checked_add(*x))
        .ok_or_else(|| bad("total", "amounts overflow"))?;
    if expected != data.total {
        return Err(bad(
            "total",
            format!(
                "{} cents is not open principal {principal} + interest {interest} + costs {costs} + fee {fee} = {expected}",
                data.total
            ),
        ));
    }
    if data.payment.amount <= 0 || data.payment.amount > data.total {
        return Err(bad(
            "payment.amount",
            format!(
                "{} cents: must be positive and at most the total {}",
                data.payment.amount, data.total
            ),
        ));
    }
    if data.payment.reference.trim().is_empty() {
        return Err(bad("payment.reference", "is empty"));
    }
    Ok(())
}

/// The JSON document the templates read as `/data.json`.
pub fn view_json(data: &LetterData) -> Result<Vec<u8>, LetterError> {
    check(data)?;
    let l = data.language;
    let qr = if data.qr {
        let payload = data.epc_payload()?;
        let svg = crate::epc_svg(&payload)?;
        Value::String(svg)
    } else {
        Value::Null
    };
    let sum = |f: fn(&crate::InvoiceLine) -> i64| -> i64 {
        data.invoices.iter().map(f).fold(0i64, i64::saturating_add)
    };
    let principal = sum(|i| i.open);
    let c = &data.creditor;
    let view = json!({
        "lang": l.code(),
        "creditor": {
            "name": c.name.trim(),
            "lines": c.address.lines,
            "registration": opt(&c.registration_number),
            "vat": opt(&c.vat_number),
            "iban": iban_paper(&c.iban),
            "bic": opt(&c.bic),
            "website": opt(&c.website),
            "email": opt(&c.email),
            "phone": opt(&c.phone),
            "letterhead": opt(&c.letterhead),
        },
        "debtor": {
            "name": data.debtor.name.trim(),
            "contact": opt(&data.debtor.contact_person),
            "lines": data.debtor.address.lines,
        },
        "date": long_date(data.letter_date, l),
        "our_reference": data.our_reference,
        "case_number": data.case_number,
        "invoices": data.invoices.iter().map(|i| json!({
            "number": i.number,
            "description": opt(&i.description),
            "date": short_date(i.date, l),
            "due": i.due_date.map(|d| short_date(d, l)),
            "amount": amount(i.amount, l),
            "paid": amount(i.paid, l),
            "open": amount(i.open, l),
        })).collect::<Vec<_>>(),
        "invoices_total": {
            "amount": amount(sum(|i| i.amount), l),
            "paid": amount(sum(|i| i.paid), l),
            "open": amount(principal, l),
        },
        "has_paid": data.invoices.iter().any(|i| i.paid != 0),
        "principal": amount(principal, l),
        "interest": data.interest.as_ref().map(|i| json!({
            "statute": i.statute,
            "lines": i.lines.iter().map(|p| json!({
                "invoice": p.invoice,
                "from": short_date(p.from, l),
                "to": short_date(p.to, l),
                "days": p.days,
                "rate": rate(p.rate, l),
                "base": amount(p.base, l),
                "amount": amount(p.amount, l),
            })).collect::<Vec<_>>(),
            "total": amount(i.total, l),
        })),
        "costs": data.costs.as_ref().map(|c| json!({
            "claimed": c.status == CostsStatus::Claimed,
            "amount": amount(c.amount, l),
            "vat": amount(c.vat, l),
            "has_vat": c.vat != 0,
            "total": amount(c.total, l),
            "explanation": c.explanation,
        })),
        "fee": data.reminder_fee.map(|f| amount(f, l)),
        "interest_rate": data.interest_rate.map(|r| rate(r, l)),
        "total": amount(data.total, l),
        "pay": {
            "beneficiary": data.payment.beneficiary,
            "iban": iban_paper(&data.payment.iban),
            "bic": opt(&data.payment.bic),
            "amount": amount(data.payment.amount, l),
            "reference": data.payment.reference,
        },
        "qr": qr,
        "payment_link": opt(&data.payment_link),
        "portal_link": opt(&data.portal_link),
        "deadline": long_date(data.deadline, l),
        "term": data.term.as_ref().map(|t| json!({
            "days": t.days,
            "received": long_date(t.received, l),
            "first_day": long_date(t.first_day, l),
            "last_day": long_date(t.last_day, l),
            "costs_due_from": long_date(t.costs_due_from, l),
        })),
        "instalments": data.instalments.iter().enumerate().map(|(n, i)| json!({
            "n": n + 1,
            "due": long_date(i.due, l),
            "amount": amount(i.amount, l),
        })).collect::<Vec<_>>(),
        "instalments_total": amount(data.instalments.iter().map(|i| i.amount).fold(0i64, i64::saturating_add), l),
        "signatory": opt(&data.signatory),
    });
    serde_json::to_vec(&view).map_err(|e| bad("data", e.to_string()))
}
