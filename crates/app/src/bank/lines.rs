//! Reading bank entries: one booked or pending entry of a camt.052/053/054 or MT940/MT942
//! statement turned into a [`Line`] (signed amount in minor units, references, remittance text,
//! return reason, identity), with problems that name the element path or line and the field.

use std::fmt;

use incasso_calendar::Date;
use incasso_money::{Currency, Money};

use super::MAX_PROBLEMS;
use crate::import::Problem;

/// One booked or pending entry, read from either format.
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub(super) location: String,
    pub(super) booked: bool,
    pub(super) booking_date: Date,
    pub(super) value_date: Option<Date>,
    /// Signed: money in positive.
    pub(super) amount: Money,
    pub(super) reversal: bool,
    pub(super) counterparty_name: Option<String>,
    pub(super) counterparty_iban: Option<String>,
    pub(super) references: Vec<String>,
    pub(super) end_to_end_id: Option<String>,
    pub(super) remittance: Option<String>,
    pub(super) return_reason: Option<String>,
    /// The entry identity without account and occurrence.
    pub(super) identity: String,
}

pub(super) fn problem(location: &str, field: &str, message: impl Into<String>) -> Problem {
    Problem {
        location: location.to_string(),
        field: field.to_string(),
        message: message.into(),
    }
}

pub(super) fn date_of(year: u16, month: u8, day: u8) -> Option<Date> {
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()
}

pub(super) fn camt_date(d: &incasso_camt::DateChoice) -> Option<Date> {
    let i = d.date();
    date_of(i.year, i.month, i.day)
}

pub(super) fn currency_of(code: &str, location: &str, field: &str) -> Result<Currency, Problem> {
    Currency::parse(code)
        .map_err(|_| problem(location, field, format!("unknown currency {code:?}")))
}

pub(super) fn minor_units(
    units: i128,
    scale: u8,
    currency: Currency,
    location: &str,
    field: &str,
    text: &dyn fmt::Display,
) -> Result<Money, Problem> {
    let digits = u8::try_from(currency.exponent()).unwrap_or(2);
    let minor = if scale <= digits {
        10i128
            .checked_pow(u32::from(digits - scale))
            .and_then(|f| units.checked_mul(f))
    } else {
        10i128
            .checked_pow(u32::from(scale - digits))
            .filter(|f| units % f == 0)
            .map(|f| units / f)
    };
    let minor = minor.and_then(|m| i64::try_from(m).ok()).ok_or_else(|| {
        problem(
            location,
            field,
            format!(
                "amount {text} is not a whole number of {} minor units ({digits} decimals)",
                currency.code()
            ),
        )
    })?;
    Ok(Money::from_minor(minor, currency))
}

pub(super) fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("NOTPROVIDED"))
        .map(str::to_string)
}

pub(super) fn content_hash(parts: &[&str]) -> String {
    let joined = parts.join("\u{1f}");
    let hex = crate::sha256_hex(joined.as_bytes());
    format!("hash:{}", hex.get(..32).unwrap_or(&hex))
}

/// Reads a camt entry. `Ok(None)` for an entry the parser marked invalid (its diagnostics are
/// reported separately).
pub(super) fn camt_line(
    statement: &incasso_camt::Statement,
    e: &incasso_camt::Entry,
    warnings: &mut Vec<Problem>,
) -> Result<Option<Line>, Problem> {
    if !e.valid {
        return Ok(None);
    }
    let path = &e.path;
    let Some(amount) = &e.amount else {
        return Err(problem(path, "Amt", "missing amount"));
    };
    let Some(direction) = e.credit_debit else {
        return Err(problem(path, "CdtDbtInd", "missing credit/debit indicator"));
    };
    let currency = currency_of(&amount.currency, path, "Amt/@Ccy")?;
    let signed = direction.signed(amount.value);
    let money = minor_units(
        signed.units(),
        signed.scale(),
        currency,
        &format!("{path}/Amt"),
        "Amt",
        &amount.value,
    )?;
    let booking = e.booking_date.as_ref().and_then(camt_date);
    let value = e.value_date.as_ref().and_then(camt_date);
    let booking_date = match booking.or(value) {
        Some(date) => date,
        None => {
            // Some banks leave the dates of an entry out: the statement's date stands in.
            let fallback = find_balance(statement, &["CLBD", "ITBD", "OPBD", "PRCD"], true)
                .and_then(|b| b.date.as_ref())
                .and_then(camt_date)
                .or_else(|| iso_prefix_date(statement.to.as_deref()))
                .or_else(|| iso_prefix_date(statement.created.as_deref()));
            let Some(date) = fallback else {
                return Err(problem(
                    path,
                    "BookgDt",
                    "no booking date, no value date and no statement date",
                ));
            };
            if warnings.len() < MAX_PROBLEMS {
                warnings.push(problem(
                    path,
                    "BookgDt",
                    format!("no booking date or value date; the statement date {date} is used"),
                ));
            }
            date
        }
    };
    let single = e.transactions.len() == 1;
    let first = e.transactions.first();
    let party = first.map(|t| t.counterparty(e.credit_debit));
    let mut references = Vec::new();
    let mut remittance: Vec<String> = Vec::new();
    let mut return_reason = None;
    for t in &e.transactions {
        for r in &t.creditor_references {
            if let Some(x) = nonempty(r.reference.as_deref()) {
                references.push(x);
            }
        }
        remittance.extend(t.remittance_unstructured.iter().cloned());
        remittance.extend(t.remittance_additional.iter().cloned());
        if let Some(rt) = &t.return_information {
            return_reason = rt
                .reason_code
                .clone()
                .or_else(|| rt.reason_proprietary.clone())
                .or_else(|| Some("unspecified".into()));
        }
    }
    if remittance.is_empty()
        && let Some(info) = nonempty(e.additional_info.as_deref())
    {
        remittance.push(info);
    }
    let end_to_end_id = first.and_then(|t| nonempty(t.end_to_end_id.as_deref()));
    let amount_text = money.minor().to_string();
    let date_text = booking_date.to_string();
    let identity = if let Some(r) = nonempty(e.account_servicer_reference.as_deref()) {
        format!("asr:{r}|{amount_text}")
    } else if let Some(r) = nonempty(e.reference.as_deref()) {
        format!("ntry:{r}|{date_text}|{amount_text}")
    } else if let Some(r) = first.and_then(|t| nonempty(t.account_servicer_reference.as_deref())) {
        format!("txasr:{r}|{amount_text}")
    } else if let Some(r) = &end_to_end_id {
        format!("e2e:{r}|{date_text}|{amount_text}")
    } else {
        let value_text = value.map(|d| d.to_string()).unwrap_or_default();
        let joined = remittance.join("\n");
        let name = party.and_then(|p| p.name.clone()).unwrap_or_default();
        let iban = party.and_then(|p| p.iban.clone()).unwrap_or_default();
        content_hash(&[&date_text, &value_text, &amount_text, &name, &iban, &joined])
    };
    Ok(Some(Line {
        location: path.clone(),
        booked: e.is_booked(),
        booking_date,
        value_date: value,
        amount: money,
        reversal: e.reversal,
        counterparty_name: if single {
            party.and_then(|p| p.name.clone())
        } else {
            None
        },
        counterparty_iban: if single {
            party.and_then(|p| p.iban.clone())
        } else {
            None
        },
        references,
        end_to_end_id,
        remittance: (!remittance.is_empty()).then(|| remittance.join(" ")),
        return_reason,
        identity,
    }))
}

pub(super) fn swift_date(d: &incasso_mt940::SwiftDate) -> Option<Date> {
    let (y, m, day) = d.clamped();
    date_of(y, m, day)
}

/// The statement currency of an MT940 statement: its balances' or the `:25:` suffix.
pub(super) fn mt940_currency(s: &incasso_mt940::Statement) -> Option<String> {
    s.opening_balance
        .as_ref()
        .or(s.closing_balance.as_ref())
        .map(|b| b.currency.clone())
        .or_else(|| s.account_currency.clone())
        .or_else(|| {
            // MT942: `:34F:EURD0,00` (floor limit) or `:90D:1EUR2,30` (sum of debits).
            s.floor_limits
                .iter()
                .filter_map(|f| f.get(..3))
                .chain(
                    s.sum_debit_entries
                        .iter()
                        .chain(s.sum_credit_entries.iter())
                        .filter_map(|x| {
                            let i = x.find(|c: char| c.is_ascii_alphabetic())?;
                            x.get(i..i.checked_add(3)?)
                        }),
                )
                .find(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
                .map(str::to_string)
        })
}

pub(super) fn mt940_line(
    s: &incasso_mt940::Statement,
    e: &incasso_mt940::Entry,
    warnings: &mut Vec<Problem>,
) -> Result<Option<Line>, Problem> {
    if !e.valid {
        return Ok(None);
    }
    let location = format!("line {}", e.line);
    let (Some(mark), Some(amount)) = (e.mark, e.amount) else {
        return Err(problem(&location, ":61: amount", "missing mark or amount"));
    };
    let Some(code) = mt940_currency(s) else {
        return Err(problem(
            &format!("line {}", s.line),
            ":60F: currency",
            "no currency: the statement has no balance and :25: names none",
        ));
    };
    let currency = currency_of(&code, &location, ":61: currency")?;
    let signed = mark.signed(amount);
    let money = minor_units(
        signed.units(),
        signed.scale(),
        currency,
        &location,
        ":61: amount",
        &amount,
    )?;
    let value = e.value_date.as_ref().and_then(swift_date);
    let booking = e.entry_date.as_ref().and_then(swift_date);
    for d in e.value_date.iter().chain(e.entry_date.iter()) {
        if !d.is_calendar_date() {
            warnings.push(problem(
                &location,
                ":61: date",
                format!(
                    "date {} does not exist; read as the last day of the month",
                    d.raw
                ),
            ));
        }
    }
    let Some(booking_date) = booking.or(value) else {
        return Err(problem(&location, ":61: value date", "no readable date"));
    };
    let info = &e.details;
    let end_to_end_id = nonempty(info.end_to_end_id.as_deref());
    let amount_text = money.minor().to_string();
    let date_text = booking_date.to_string();
    let real = |r: &Option<String>| {
        nonempty(r.as_deref()).filter(|r| {
            !matches!(
                r.to_ascii_uppercase().as_str(),
                "NONREF" | "EREF" | "PREF" | "MARF" | "NONE" | "0"
            )
        })
    };
    let identity = if let Some(r) = real(&e.bank_reference) {
        format!("ref:{r}|{date_text}|{amount_text}")
    } else if let Some(r) = real(&e.customer_reference) {
        format!("cref:{r}|{date_text}|{amount_text}")
    } else if let Some(r) = &end_to_end_id {
        format!("e2e:{r}|{date_text}|{amount_text}")
    } else {
        let value_text = value.map(|d| d.to_string()).unwrap_or_default();
        content_hash(&[
            &date_text,
            &value_text,
            &amount_text,
            &e.raw,
            e.information.as_deref().unwrap_or(""),
        ])
    };
    let iban = info
        .counterparty_account
        .as_deref()
        .and_then(|a| incasso_banking::Iban::parse(a).ok())
        .map(|i| i.as_str().to_string())
        .or_else(|| info.counterparty_account.clone());
    Ok(Some(Line {
        location,
        booked: !matches!(
            mark,
            incasso_mt940::EntryMark::ExpectedCredit | incasso_mt940::EntryMark::ExpectedDebit
        ),
        booking_date,
        value_date: value,
        amount: money,
        reversal: mark.is_reversal(),
        counterparty_name: info.counterparty_name.clone(),
        counterparty_iban: iban,
        references: info.payment_reference.iter().cloned().collect(),
        end_to_end_id,
        remittance: nonempty(info.remittance.as_deref()).or_else(|| {
            if info.format == incasso_mt940::InformationFormat::Unstructured {
                nonempty(e.information.as_deref())
            } else {
                None
            }
        }),
        return_reason: nonempty(info.return_reason.as_deref()),
        identity,
    }))
}

pub(super) fn find_balance<'a>(
    s: &'a incasso_camt::Statement,
    codes: &[&str],
    last: bool,
) -> Option<&'a incasso_camt::Balance> {
    codes.iter().find_map(|code| {
        let mut m = s
            .balances
            .iter()
            .filter(|b| b.type_code.as_deref() == Some(*code));
        if last { m.next_back() } else { m.next() }
    })
}

pub(super) fn iso_prefix_date(text: Option<&str>) -> Option<Date> {
    text.and_then(|t| t.get(..10))
        .and_then(|t| incasso_calendar::parse_iso(t).ok())
}
