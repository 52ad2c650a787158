//! `incasso import bank` and `incasso payments ...`: bank statements in (camt.052/053/054,
//! MT940), the unmatched queue, matching an entry by hand, the list of payments with their
//! match, and the creditor's extra bank accounts.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use incasso_app::bank::{self, BankReport};
use incasso_app::import::ImportError;
use incasso_store::{BankEntryRow, EntryStatus};
use serde_json::{Value, json};

use crate::args::TenantArg;
use crate::commands::{date_arg, open_store, print_json, resolve_tenant};
use crate::table::{Align, Table};

#[derive(Debug, clap::Subcommand)]
pub enum PaymentsCommand {
    /// The unmatched queue: money in that no rule matched with enough confidence, and returns
    /// without a known original payment.
    Unmatched {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Match a bank entry of the unmatched queue to an invoice by hand; its payment goes to that
    /// invoice first, then to the debtor's other open claims (art. 6:43/6:44 BW).
    Match {
        #[command(flatten)]
        tenant: TenantArg,
        /// The bank entry id (see `incasso payments unmatched`).
        entry: i64,
        /// The invoice number.
        invoice: String,
        /// The day that decides what is still overdue (default: today).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// List imported bank entries with their match: status, reason, confidence, payment.
    List {
        #[command(flatten)]
        tenant: TenantArg,
        /// Only entries with this status: matched, unmatched, ignored or returned.
        #[arg(long)]
        status: Option<String>,
    },
    /// Register another bank account of the creditor (beside its own IBAN) whose statements may
    /// be imported.
    AddAccount {
        #[command(flatten)]
        tenant: TenantArg,
        /// IBAN or account number as the bank writes it in the statements.
        account: String,
    },
    /// Payment links at the payment provider (Mollie) and their webhook.
    #[command(subcommand)]
    Link(crate::paylink::LinkCommand),
}

fn problems_json(e: &ImportError) -> Value {
    json!({
        "file": e.file,
        "problems": e.problems.iter().map(|p| json!({"location": p.location, "field": p.field, "message": p.message})).collect::<Vec<_>>(),
        "truncated": e.truncated,
    })
}

fn report_json(r: &BankReport) -> Value {
    json!({
        "file": r.file,
        "format": r.format,
        "committed": r.committed,
        "statements": r.statements,
        "statements_new": r.statements_new,
        "entries": r.entries,
        "entries_new": r.entries_new,
        "entries_known": r.entries_known,
        "not_booked": r.not_booked,
        "matched": r.matched,
        "unmatched": r.unmatched,
        "ignored": r.ignored,
        "returned": r.returned,
        "with_credit_balance": r.with_credit_balance,
        "actions_cancelled": r.actions_cancelled,
        "mandates_ended": r.mandates_ended,
        "warnings": r.warnings.iter().map(|p| json!({"location": p.location, "field": p.field, "message": p.message})).collect::<Vec<_>>(),
    })
}

fn print_report(out: &mut dyn Write, r: &BankReport) -> anyhow::Result<()> {
    if !r.committed {
        writeln!(
            out,
            "{}: {}, nothing new ({} booked entr{} imported before)",
            r.file,
            r.format,
            r.entries_known,
            if r.entries_known == 1 { "y" } else { "ies" }
        )?;
    } else {
        writeln!(
            out,
            "{}: {}, {} statement(s) ({} new), {} booked entries ({} new, {} imported before)",
            r.file,
            r.format,
            r.statements,
            r.statements_new,
            r.entries,
            r.entries_new,
            r.entries_known
        )?;
        writeln!(
            out,
            "  {} matched, {} unmatched, {} not payments, {} returned; {} with a credit balance; {} reminder(s) cancelled",
            r.matched,
            r.unmatched,
            r.ignored,
            r.returned,
            r.with_credit_balance,
            r.actions_cancelled
        )?;
        if r.not_booked > 0 {
            writeln!(
                out,
                "  {} pending entr{} skipped (not booked yet)",
                r.not_booked,
                if r.not_booked == 1 { "y" } else { "ies" }
            )?;
        }
    }
    for m in &r.mandates_ended {
        writeln!(out, "  {m}")?;
    }
    for w in &r.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    Ok(())
}

/// `incasso import bank FILE...`: each file all-or-nothing; exit code 1 when one was refused.
pub fn import_bank(
    db: &str,
    tenant: &TenantArg,
    files: &[PathBuf],
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let today = date_arg("as-of", None)?;
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), tenant)?;
    let mut reports = Vec::new();
    let mut failed = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{name}: cannot read: {e}");
                failed.push(json!({"file": name, "problems": [{"location": "", "field": "", "message": format!("cannot read: {e}")}], "truncated": false}));
                continue;
            }
        };
        match bank::import_bank_file(store.as_mut(), creditor.id, &name, &bytes, today) {
            Ok(r) => {
                if !json {
                    print_report(out, &r)?;
                }
                reports.push(r);
            }
            Err(e) => match e.downcast::<ImportError>() {
                Ok(refused) => {
                    eprint!("{refused}");
                    failed.push(problems_json(&refused));
                }
                Err(e) => {
                    eprintln!("{name}: not imported: {e:#}");
                    failed.push(json!({"file": name, "problems": [{"location": "", "field": "", "message": format!("{e:#}")}], "truncated": false}));
                }
            },
        }
    }
    if json {
        print_json(
            out,
            &json!({"imported": reports.iter().map(report_json).collect::<Vec<_>>(), "refused": failed}),
        )?;
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn entry_json(e: &BankEntryRow) -> Value {
    json!({
        "id": e.id,
        "status": e.matched.status.code(),
        "booking_date": e.entry.booking_date.to_string(),
        "value_date": e.entry.value_date.map(|d| d.to_string()),
        "amount": e.entry.amount.to_decimal_string(),
        "currency": e.entry.amount.currency().code(),
        "counterparty_name": e.entry.counterparty_name,
        "counterparty_iban": e.entry.counterparty_iban,
        "reference": e.entry.reference,
        "end_to_end_id": e.entry.end_to_end_id,
        "remittance": e.entry.remittance,
        "return_reason": e.entry.return_reason,
        "location": e.entry.location,
        "payment": e.matched.payment_id.map(|p| p.get()),
        "debtor": e.matched.debtor_id.map(|d| d.get()),
        "invoice": e.matched.invoice_id.map(|i| i.get()),
        "reason": e.matched.reason,
        "confidence": e.matched.confidence,
        "unapplied": e.matched.unapplied.map(|u| u.to_decimal_string()),
    })
}

fn short(s: Option<&str>, max: usize) -> String {
    let s = s.unwrap_or("");
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn print_entries(out: &mut dyn Write, rows: &[BankEntryRow]) -> anyhow::Result<()> {
    let mut t = Table::new(&[
        ("id", Align::Right),
        ("date", Align::Left),
        ("amount", Align::Right),
        ("status", Align::Left),
        ("counterparty", Align::Left),
        ("reference / text", Align::Left),
        ("conf", Align::Right),
        ("reason", Align::Left),
    ]);
    for e in rows {
        let who = e
            .entry
            .counterparty_name
            .clone()
            .or_else(|| e.entry.counterparty_iban.clone());
        let text = e
            .entry
            .reference
            .clone()
            .or_else(|| e.entry.remittance.clone());
        t.row(vec![
            e.id.to_string(),
            e.entry.booking_date.to_string(),
            e.entry.amount.format_nl(),
            e.matched.status.code().into(),
            short(who.as_deref(), 28),
            short(text.as_deref(), 36),
            e.matched.confidence.to_string(),
            short(Some(&e.matched.reason), 60),
        ]);
    }
    t.print(out)?;
    Ok(())
}

/// `incasso payments ...`.
pub fn payments(
    db: &str,
    cmd: PaymentsCommand,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    if let PaymentsCommand::Link(cmd) = cmd {
        return crate::paylink::link(db, cmd, json, out);
    }
    let mut store = open_store(db)?;
    match cmd {
        PaymentsCommand::Link(_) => unreachable!("handled above"),
        PaymentsCommand::Unmatched { tenant } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let rows = bank::unmatched(store.as_mut(), creditor.id)?;
            if json {
                print_json(
                    out,
                    &json!({"creditor": creditor.id.get(), "count": rows.len(), "entries": rows.iter().map(entry_json).collect::<Vec<_>>()}),
                )?;
            } else {
                print_entries(out, &rows)?;
                writeln!(
                    out,
                    "{} unmatched entr{}; match one with `incasso payments match ENTRY INVOICE`",
                    rows.len(),
                    if rows.len() == 1 { "y" } else { "ies" }
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        PaymentsCommand::Match {
            tenant,
            entry,
            invoice,
            as_of,
        } => {
            let today = date_arg("as-of", as_of.as_deref())?;
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let m = bank::match_entry(store.as_mut(), creditor.id, entry, &invoice, today)
                .map_err(|e| anyhow!("payments match {entry} {invoice}: {e:#}"))?;
            if json {
                print_json(
                    out,
                    &json!({"entry": m.entry, "invoice": m.invoice, "allocated": m.allocated.to_decimal_string(), "unapplied": m.unapplied.to_decimal_string(), "actions_cancelled": m.actions_cancelled}),
                )?;
            } else {
                writeln!(
                    out,
                    "bank entry {} matched to invoice {}: {} allocated, {} left as credit balance; {} reminder(s) cancelled",
                    m.entry,
                    m.invoice,
                    m.allocated.format_nl(),
                    m.unapplied.format_nl(),
                    m.actions_cancelled
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        PaymentsCommand::List { tenant, status } => {
            let status = match status.as_deref() {
                None => None,
                Some(s) => Some(EntryStatus::parse(s).ok_or_else(|| {
                    anyhow!("--status {s:?}: expected matched, unmatched, ignored or returned")
                })?),
            };
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let rows = store
                .bank_entries(creditor.id, status)
                .map_err(|e| anyhow!("{e}"))?;
            if json {
                print_json(
                    out,
                    &json!({"creditor": creditor.id.get(), "count": rows.len(), "entries": rows.iter().map(entry_json).collect::<Vec<_>>()}),
                )?;
            } else {
                print_entries(out, &rows)?;
                writeln!(out, "{} entries", rows.len())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        PaymentsCommand::AddAccount { tenant, account } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let added = bank::add_account(store.as_mut(), creditor.id, &account)?;
            if json {
                print_json(
                    out,
                    &json!({"creditor": creditor.id.get(), "account": added}),
                )?;
            } else {
                writeln!(out, "account {added} registered")?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
