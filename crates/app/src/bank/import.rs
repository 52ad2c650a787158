//! The two passes of an import: check the whole file first (amounts, dates, balances, the
//! account), refusing it with every problem found; then, in one transaction, store the
//! statements and hand every entry to the [`Writer`]. camt files are read twice with
//! [`incasso_camt::parse_with`] (check, then write), so memory does not grow with the number of
//! entries. MT940 files are small and parsed whole.

use std::collections::HashMap;

use anyhow::{Context, anyhow};
use incasso_calendar::Date;
use incasso_domain::CreditorId;
use incasso_money::{Currency, Money};
use incasso_store::{BankFile, NewBankStatement, Store};

use super::effects::Writer;
use super::lines::{
    Line, camt_date, camt_line, find_balance, iso_prefix_date, minor_units, mt940_line, problem,
    swift_date,
};
use super::{Accounts, BankReport, MAX_PROBLEMS};
use crate::import::{ImportError, Problem};

pub(super) fn refused(file: &str, mut problems: Vec<Problem>) -> anyhow::Error {
    let truncated = problems.len() > MAX_PROBLEMS;
    problems.truncate(MAX_PROBLEMS);
    anyhow::Error::new(ImportError {
        file: file.to_string(),
        problems,
        truncated,
    })
}

/// The statement facts prepared in the check pass.
pub(super) struct PreparedStatement {
    account: String,
    statement: NewBankStatement,
}

pub(super) fn balance_money(
    b: Option<&incasso_camt::Balance>,
    warnings: &mut Vec<Problem>,
) -> Option<Money> {
    let b = b?;
    let amount = b.amount.as_ref()?;
    let signed = b
        .credit_debit
        .unwrap_or(incasso_camt::CreditDebit::Credit)
        .signed(amount.value);
    let currency = Currency::parse(&amount.currency).ok()?;
    match minor_units(
        signed.units(),
        signed.scale(),
        currency,
        &b.path,
        "Amt",
        &amount.value,
    ) {
        Ok(m) => Some(m),
        Err(p) => {
            warnings.push(p);
            None
        }
    }
}

pub(super) fn import_camt(
    store: &mut dyn Store,
    tenant: CreditorId,
    accounts: &Accounts,
    filename: &str,
    bytes: &[u8],
    today: Date,
) -> anyhow::Result<BankReport> {
    // Pass 1: check everything, keep nothing but per-statement facts.
    let mut problems: Vec<Problem> = Vec::new();
    let mut warnings: Vec<Problem> = Vec::new();
    let mut latest: HashMap<usize, Date> = HashMap::new();
    let parsed = incasso_camt::parse_with(bytes, |statement, entry| {
        match camt_line(statement, &entry, &mut warnings) {
            Ok(Some(line)) => {
                let d = latest
                    .entry(entry.statement_index)
                    .or_insert(line.booking_date);
                if line.booking_date > *d {
                    *d = line.booking_date;
                }
            }
            Ok(None) => {}
            Err(p) => {
                if problems.len() <= MAX_PROBLEMS {
                    problems.push(p);
                }
            }
        }
    });
    let (doc, diagnostics) = match parsed {
        Ok(x) => x,
        Err(e) => {
            return Err(refused(
                filename,
                vec![problem("document", "", e.to_string())],
            ));
        }
    };
    for d in diagnostics {
        let field = d.path.rsplit('/').next().unwrap_or("").to_string();
        let p = Problem {
            location: d.path.clone(),
            field,
            message: d.message.clone(),
        };
        match d.severity {
            incasso_camt::Severity::Warning => warnings.push(p),
            incasso_camt::Severity::Error => problems.push(p),
        }
    }
    let kind = format!("camt.{}", doc.kind.number());
    let mut prepared: HashMap<usize, PreparedStatement> = HashMap::new();
    for s in &doc.statements {
        if let Err(d) = incasso_camt::check_balances(s) {
            problems.push(problem(&d.path, "Bal", d.message));
        }
        let Some(written) = s.account.identification() else {
            problems.push(problem(
                &s.path,
                "Acct/Id",
                "the statement names no account",
            ));
            continue;
        };
        let Some((account, note)) = accounts.resolve(written) else {
            problems.push(problem(
                &format!("{}/Acct", s.path),
                "Id",
                format!("account {written} is not an account of this creditor (register it with `incasso payments add-account`)"),
            ));
            continue;
        };
        if let Some(n) = note {
            warnings.push(problem(&format!("{}/Acct", s.path), "Id", n));
        }
        let opening_b = find_balance(s, &["OPBD", "PRCD"], false);
        let closing_b = find_balance(s, &["CLBD", "ITBD"], true);
        let opening = balance_money(opening_b, &mut warnings);
        let closing = balance_money(closing_b, &mut warnings);
        let date = closing_b
            .and_then(|b| b.date.as_ref())
            .and_then(camt_date)
            .or_else(|| latest.get(&s.index).copied())
            .or_else(|| iso_prefix_date(s.to.as_deref()))
            .or_else(|| iso_prefix_date(s.created.as_deref()))
            .or_else(|| iso_prefix_date(doc.group_header.created.as_deref()));
        let Some(statement_date) = date else {
            problems.push(problem(&s.path, "CreDtTm", "the statement has no date"));
            continue;
        };
        let key = format!(
            "{account}|{kind}|{}|{}|{}|{}|{}|{}|{}",
            s.id.as_deref().unwrap_or(""),
            s.electronic_sequence_number.as_deref().unwrap_or(""),
            s.legal_sequence_number.as_deref().unwrap_or(""),
            s.from.as_deref().unwrap_or(""),
            s.to.as_deref().unwrap_or(""),
            opening.map(|m| m.minor().to_string()).unwrap_or_default(),
            closing
                .map(|m| format!("{}@{statement_date}", m.minor()))
                .unwrap_or_else(|| statement_date.to_string()),
        );
        prepared.insert(
            s.index,
            PreparedStatement {
                account: account.clone(),
                statement: NewBankStatement {
                    account,
                    key,
                    kind: kind.clone(),
                    statement_id: s.id.clone(),
                    statement_date,
                    opening,
                    closing,
                },
            },
        );
    }
    if !problems.is_empty() {
        return Err(refused(filename, problems));
    }
    warnings.truncate(MAX_PROBLEMS);

    // Pass 2: write, in one transaction.
    let mut report = BankReport {
        file: filename.to_string(),
        format: kind.clone(),
        statements: u64::try_from(doc.statements.len()).unwrap_or(u64::MAX),
        warnings,
        ..BankReport::default()
    };
    let file = BankFile {
        format: kind,
        filename: filename.to_string(),
        sha256: crate::sha256_hex(bytes),
    };
    let committed = store.bank_transaction(tenant, Some(&file), &mut |sink| {
        let mut ids: HashMap<usize, (String, i64)> = HashMap::new();
        let mut statements_new = 0u64;
        for (index, p) in &prepared {
            let (id, new) = sink.statement(&p.statement)?;
            if new {
                statements_new += 1;
            }
            ids.insert(*index, (p.account.clone(), id));
        }
        let mut pass = BankReport::default();
        let mut writer = Writer::new(sink, &mut pass, today)?;
        let mut failure: Option<anyhow::Error> = None;
        let result = incasso_camt::parse_with(bytes, |statement, entry| {
            if failure.is_some() {
                return;
            }
            let outcome = (|| -> anyhow::Result<()> {
                let line = camt_line(statement, &entry, &mut Vec::new())
                    .map_err(|p| anyhow!("{p}"))?
                    .ok_or_else(|| anyhow!("{}: invalid entry on the second read", entry.path))?;
                let (account, statement_id) = ids
                    .get(&entry.statement_index)
                    .cloned()
                    .ok_or_else(|| anyhow!("{}: statement not prepared", entry.path))?;
                writer.write_line(&account, statement_id, line)
            })();
            if let Err(e) = outcome {
                failure = Some(e.context(entry.path.clone()));
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        result.map_err(|e| anyhow!("second read failed: {e}"))?;
        writer.finish()?;
        pass.statements_new = statements_new;
        let changed = pass.statements_new > 0 || pass.entries_new > 0;
        report.merge(pass);
        Ok(changed)
    });
    report.committed = committed.with_context(|| format!("{filename}: storing"))?;
    Ok(report)
}

impl BankReport {
    fn merge(&mut self, pass: BankReport) {
        self.statements_new = pass.statements_new;
        self.entries = pass.entries;
        self.entries_new = pass.entries_new;
        self.entries_known = pass.entries_known;
        self.not_booked = pass.not_booked;
        self.matched = pass.matched;
        self.unmatched = pass.unmatched;
        self.ignored = pass.ignored;
        self.returned = pass.returned;
        self.with_credit_balance = pass.with_credit_balance;
        self.actions_cancelled = pass.actions_cancelled;
    }
}

pub(super) fn mt940_money(
    b: Option<&incasso_mt940::Balance>,
    warnings: &mut Vec<Problem>,
) -> Option<Money> {
    let b = b?;
    let currency = Currency::parse(&b.currency).ok()?;
    let signed = b.signed_amount();
    match minor_units(
        signed.units(),
        signed.scale(),
        currency,
        &format!("line {}", b.line),
        &format!(":{}: amount", b.tag),
        &b.amount,
    ) {
        Ok(m) => Some(m),
        Err(p) => {
            warnings.push(p);
            None
        }
    }
}

pub(super) fn import_mt940(
    store: &mut dyn Store,
    tenant: CreditorId,
    accounts: &Accounts,
    filename: &str,
    bytes: &[u8],
    today: Date,
) -> anyhow::Result<BankReport> {
    let (doc, diagnostics) = incasso_mt940::parse(bytes)
        .map_err(|e| refused(filename, vec![problem("file", "", e.to_string())]))?;
    let mut problems: Vec<Problem> = Vec::new();
    let mut warnings: Vec<Problem> = Vec::new();
    for d in diagnostics {
        let tag = if d.tag.is_empty() {
            String::new()
        } else {
            format!(":{}: ", d.tag)
        };
        let p = problem(
            &format!("line {}", d.line),
            &format!("{tag}{}", d.field),
            d.message.clone(),
        );
        match d.severity {
            incasso_mt940::Severity::Warning => warnings.push(p),
            incasso_mt940::Severity::Error => problems.push(p),
        }
    }
    let mut statements: Vec<(String, NewBankStatement, Vec<Line>)> = Vec::new();
    for s in &doc.statements {
        let location = format!("line {}", s.line);
        if let Err(d) = incasso_mt940::check_balances(s) {
            problems.push(problem(&format!("line {}", d.line), d.field, d.message));
        }
        let mut lines = Vec::new();
        for e in &s.entries {
            match mt940_line(s, e, &mut warnings) {
                Ok(Some(l)) => lines.push(l),
                Ok(None) => {}
                Err(p) => problems.push(p),
            }
        }
        let written = s.account_iban.clone().or_else(|| {
            s.account.as_deref().map(|a| {
                let t = a.trim();
                // `1291.99.348EUR`: a currency suffix after the number.
                match t
                    .len()
                    .checked_sub(3)
                    .and_then(|i| t.get(i..).map(|c| (i, c)))
                {
                    Some((i, c))
                        if c.bytes().all(|b| b.is_ascii_uppercase())
                            && t.get(..i)
                                .is_some_and(|n| n.ends_with(|ch: char| ch.is_ascii_digit())) =>
                    {
                        t.get(..i).unwrap_or(t).to_string()
                    }
                    _ => t.to_string(),
                }
            })
        });
        let Some(written) = written else {
            problems.push(problem(&location, ":25:", "the statement names no account"));
            continue;
        };
        let Some((account, note)) = accounts.resolve(&written) else {
            problems.push(problem(
                &location,
                ":25: account",
                format!("account {written} is not an account of this creditor (register it with `incasso payments add-account`)"),
            ));
            continue;
        };
        if let Some(n) = note {
            warnings.push(problem(&location, ":25: account", n));
        }
        let opening = mt940_money(s.opening_balance.as_ref(), &mut warnings);
        let closing = mt940_money(s.closing_balance.as_ref(), &mut warnings);
        let date = s
            .closing_balance
            .as_ref()
            .and_then(|b| swift_date(&b.date))
            .or_else(|| lines.iter().map(|l| l.booking_date).max())
            .or_else(|| s.opening_balance.as_ref().and_then(|b| swift_date(&b.date)));
        let Some(statement_date) = date else {
            problems.push(problem(
                &location,
                ":62F: date",
                "the statement has no date",
            ));
            continue;
        };
        let key = format!(
            "{account}|mt940|{}|{}|{}|{}|{}",
            s.transaction_reference,
            s.statement_number.as_deref().unwrap_or(""),
            s.sequence_number.as_deref().unwrap_or(""),
            opening.map(|m| m.minor().to_string()).unwrap_or_default(),
            closing
                .map(|m| format!("{}@{statement_date}", m.minor()))
                .unwrap_or_else(|| format!("{statement_date}:{}", s.line)),
        );
        let statement = NewBankStatement {
            account: account.clone(),
            key,
            kind: "mt940".into(),
            statement_id: Some(s.transaction_reference.clone()),
            statement_date,
            opening,
            closing,
        };
        statements.push((account, statement, lines));
    }
    if !problems.is_empty() {
        return Err(refused(filename, problems));
    }
    warnings.truncate(MAX_PROBLEMS);
    let mut report = BankReport {
        file: filename.to_string(),
        format: "mt940".into(),
        statements: u64::try_from(doc.statements.len()).unwrap_or(u64::MAX),
        warnings,
        ..BankReport::default()
    };
    let file = BankFile {
        format: "mt940".into(),
        filename: filename.to_string(),
        sha256: crate::sha256_hex(bytes),
    };
    let committed = store.bank_transaction(tenant, Some(&file), &mut |sink| {
        let mut statements_new = 0u64;
        let mut ids = Vec::with_capacity(statements.len());
        for (_, s, _) in &statements {
            let (id, new) = sink.statement(s)?;
            if new {
                statements_new += 1;
            }
            ids.push(id);
        }
        let mut pass = BankReport::default();
        let mut writer = Writer::new(sink, &mut pass, today)?;
        for ((account, _, lines), id) in statements.iter().zip(&ids) {
            for line in lines {
                writer
                    .write_line(account, *id, line.clone())
                    .with_context(|| line.location.clone())?;
            }
        }
        writer.finish()?;
        pass.statements_new = statements_new;
        let changed = pass.statements_new > 0 || pass.entries_new > 0;
        report.merge(pass);
        Ok(changed)
    });
    report.committed = committed.with_context(|| format!("{filename}: storing"))?;
    Ok(report)
}
