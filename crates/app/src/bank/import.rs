//! The two passes of an import: check the whole file first (amounts, dates, balances, the
//! account), refusing it with every problem found; then store the statements and hand every
//! entry to the [`Writer`], all in one transaction. camt files are read twice with
//! [`incasso_camt::parse_with`], so memory does not grow with the number of entries, and both
//! reads run on a second core: the check beside the loading of the open invoices, the second
//! read a bounded queue ahead of the matching and writing. MT940 files are small and parsed
//! whole.

use std::collections::HashMap;

use anyhow::{Context, anyhow};
use incasso_calendar::Date;
use incasso_domain::CreditorId;
use incasso_money::{Currency, Money};
use incasso_store::{BankFile, BankSink, NewBankStatement, Store};

use super::collections::{Collections, Ending, MANDATE_ENDING_CODES, end_mandates, looks_own};
use super::effects::{Preloaded, Writer};
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

/// `camt.053` (or .052, .054) from the namespace near the start of the file, else `camt`.
fn camt_kind(bytes: &[u8]) -> String {
    let head = bytes.get(..bytes.len().min(4096)).unwrap_or(bytes);
    head.windows(8)
        .find(|w| w.starts_with(b"camt.05"))
        .and_then(|w| std::str::from_utf8(w).ok())
        .map_or_else(|| "camt".to_string(), str::to_string)
}

/// What the check pass of a camt file found: the statements to store, or the problems that
/// refuse the file.
struct CamtChecked {
    kind: String,
    statements: u64,
    prepared: HashMap<usize, PreparedStatement>,
    warnings: Vec<Problem>,
    own: OwnDebits,
}

/// Pass 1 of a camt file: reads every entry and checks amounts, dates, balances and the
/// account; keeps nothing but per-statement facts. Pure (no store): it runs on its own thread
/// while the store loads the open invoices.
fn check_camt(
    accounts: &Accounts,
    filename: &str,
    bytes: &[u8],
) -> Result<CamtChecked, anyhow::Error> {
    let mut problems: Vec<Problem> = Vec::new();
    let mut warnings: Vec<Problem> = Vec::new();
    let mut latest: HashMap<usize, Date> = HashMap::new();
    let mut own = OwnDebits::default();
    let parsed = incasso_camt::parse_with(bytes, |statement, entry| {
        match camt_line(statement, &entry, &mut warnings) {
            Ok(Some(line)) => {
                own.note(&line);
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
    Ok(CamtChecked {
        kind,
        statements: u64::try_from(doc.statements.len()).unwrap_or(u64::MAX),
        prepared,
        warnings,
        own,
    })
}

pub(super) fn import_camt(
    store: &mut dyn Store,
    tenant: CreditorId,
    accounts: &Accounts,
    filename: &str,
    bytes: &[u8],
    today: Date,
) -> anyhow::Result<BankReport> {
    let file = BankFile {
        format: camt_kind(bytes),
        filename: filename.to_string(),
        sha256: crate::sha256_hex(bytes),
    };
    // One transaction: pass 1 (the check) runs on a second thread while this one loads the
    // open invoices; a refused file rolls back and stores nothing.
    let mut refusal: Option<anyhow::Error> = None;
    let mut report = BankReport {
        file: filename.to_string(),
        ..BankReport::default()
    };
    let mut collections = Collections::default();
    let mut endings: Vec<Ending> = Vec::new();
    let committed = store.bank_transaction(tenant, Some(&file), &mut |sink| {
        // The same bytes again: every entry is most likely known, nothing needs the ledger.
        let preload = !sink.file_imported_before(&file.sha256)?;
        let (checked, preloaded) = std::thread::scope(|scope| {
            let check = scope.spawn(|| check_camt(accounts, filename, bytes));
            let preloaded = preload.then(|| Preloaded::load(sink));
            (check.join(), preloaded)
        });
        let checked =
            match checked.map_err(|_| anyhow!("the check of the file stopped unexpectedly"))? {
                Ok(c) => c,
                Err(refused) => {
                    refusal = Some(refused);
                    return Ok(false);
                }
            };
        let preloaded = preloaded.transpose()?;
        collections = checked.own.load(sink)?;
        endings = checked.own.endings;
        report.format = checked.kind;
        report.statements = checked.statements;
        report.warnings = checked.warnings;
        // Pass 2: write.
        let mut ids: HashMap<usize, (String, i64)> = HashMap::new();
        let mut statements_new = 0u64;
        for (index, p) in &checked.prepared {
            let (id, new) = sink.statement(&p.statement)?;
            if new {
                statements_new += 1;
            }
            ids.insert(*index, (p.account.clone(), id));
        }
        let mut pass = BankReport::default();
        let mut writer = Writer::new(sink, &mut pass, today, &collections, preloaded)?;
        // The second read runs on its own thread, a bounded queue ahead of the matching and
        // writing here: the two cores overlap, memory stays a few batches of lines.
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<ReadLine>>(READ_AHEAD);
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let reader = scope.spawn(move || read_lines(bytes, &send));
            for batch in receive {
                for item in batch {
                    let (index, path, line) = item?;
                    let (account, statement_id) = ids
                        .get(&index)
                        .cloned()
                        .ok_or_else(|| anyhow!("{path}: statement not prepared"))?;
                    writer
                        .write_line(&account, statement_id, line)
                        .with_context(|| path.clone())?;
                }
            }
            reader
                .join()
                .map_err(|_| anyhow!("the second read of the file stopped unexpectedly"))?
        })?;
        writer.finish()?;
        pass.statements_new = statements_new;
        let changed = pass.statements_new > 0 || pass.entries_new > 0;
        report.merge(pass);
        Ok(changed)
    });
    if let Some(refused) = refusal {
        return Err(refused);
    }
    report.committed = committed.with_context(|| format!("{filename}: storing"))?;
    report.mandates_ended = end_mandates(store, tenant, &collections, &endings)?;
    Ok(report)
}

/// Lines per batch handed from the reading thread to the writer, and batches read ahead.
const READ_BATCH: usize = 512;
const READ_AHEAD: usize = 8;

/// One entry of the second read: its statement, its element path and the line, or why it could
/// not be read.
type ReadLine = anyhow::Result<(usize, String, Line)>;

/// The second read of a camt file: every entry as a [`Line`], in batches. Stops early (without
/// error) when the writer has gone.
fn read_lines(
    bytes: &[u8],
    send: &std::sync::mpsc::SyncSender<Vec<ReadLine>>,
) -> anyhow::Result<()> {
    let mut batch: Vec<ReadLine> = Vec::with_capacity(READ_BATCH);
    let mut gone = false;
    let result = incasso_camt::parse_with(bytes, |statement, entry| {
        if gone {
            return;
        }
        let line = camt_line(statement, &entry, &mut Vec::new())
            .map_err(|p| anyhow!("{p}"))
            .and_then(|l| l.ok_or_else(|| anyhow!("invalid entry on the second read")))
            .map(|l| (entry.statement_index, entry.path.clone(), l))
            .map_err(|e| e.context(entry.path.clone()));
        batch.push(line);
        if batch.len() >= READ_BATCH && send.send(std::mem::take(&mut batch)).is_err() {
            gone = true;
        }
    });
    if !batch.is_empty() && !gone {
        let _ = send.send(batch);
    }
    result.map_err(|e| anyhow!("second read failed: {e}"))?;
    Ok(())
}

/// What pass 1 notes of the creditor's own direct debits: the end-to-end ids that may be ours,
/// and the returns that end a mandate (returns are rare: memory stays small).
#[derive(Default)]
struct OwnDebits {
    ids: std::collections::HashSet<String>,
    endings: Vec<Ending>,
}

impl OwnDebits {
    fn note(&mut self, line: &Line) {
        let Some(e2e) = line.end_to_end_id.as_deref().filter(|e| looks_own(e)) else {
            return;
        };
        if !self.ids.contains(e2e) {
            self.ids.insert(e2e.to_string());
        }
        if let Some(code) = &line.return_reason
            && line.booked
            && MANDATE_ENDING_CODES.contains(&code.as_str())
        {
            self.endings
                .push((e2e.to_string(), code.clone(), line.booking_date));
        }
    }

    fn load(&self, sink: &mut dyn BankSink) -> anyhow::Result<Collections> {
        if self.ids.is_empty() {
            return Ok(Collections::default());
        }
        Collections::load(sink, &self.ids)
    }
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
    let mut own = OwnDebits::default();
    for s in &doc.statements {
        let location = format!("line {}", s.line);
        if let Err(d) = incasso_mt940::check_balances(s) {
            problems.push(problem(&format!("line {}", d.line), d.field, d.message));
        }
        let mut lines = Vec::new();
        for e in &s.entries {
            match mt940_line(s, e, &mut warnings) {
                Ok(Some(l)) => {
                    own.note(&l);
                    lines.push(l);
                }
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
    let mut collections = Collections::default();
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
        collections = own.load(sink)?;
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
        let mut writer = Writer::new(sink, &mut pass, today, &collections, None)?;
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
    report.mandates_ended = end_mandates(store, tenant, &collections, &own.endings)?;
    Ok(report)
}
