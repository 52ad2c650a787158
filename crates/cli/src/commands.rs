//! The commands: each opens the store, resolves the tenant, calls the use case and prints a
//! table or one JSON object. The clock is read here and nowhere deeper.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use incasso_app::import::{ImportDefaults, ImportFailure, ImportReport, Outcome};
use incasso_banking::{Bic, Iban};
use incasso_calendar::Date;
use incasso_domain::{
    Address, CountryCode, Creditor, CreditorId, DebtorId, DebtorKind, EmailAddress, Jurisdiction,
    Language, NewCreditor, PhoneNumber, RegistrationNumber, VatNumber,
};
use incasso_store::{InvoiceFilter, Store};
use serde_json::{Value, json};

use crate::args::*;
use crate::table::{Align, Table, write_row};

/// Opens the store named by `--db`: a `postgres://` URL or an SQLite file path.
pub fn open_store(db: &str) -> anyhow::Result<Box<dyn Store>> {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        let store = incasso_store_postgres::PgStore::connect(db)
            .map_err(|e| anyhow!("{e}"))
            .context("connecting to PostgreSQL")?;
        Ok(Box::new(store))
    } else {
        let store =
            incasso_store_sqlite::SqliteStore::open(Path::new(db)).map_err(|e| anyhow!("{e}"))?;
        Ok(Box::new(store))
    }
}

/// Today in the local time zone: the only clock read of a command.
#[allow(clippy::disallowed_methods)] // The composition root is the one place that reads the clock.
fn today() -> Date {
    jiff::Zoned::now().date()
}

pub fn date_arg(name: &str, value: Option<&str>) -> anyhow::Result<Date> {
    match value {
        None => Ok(today()),
        Some(v) => incasso_calendar::parse_iso(v)
            .map_err(|_| anyhow!("--{name} {v:?} is not a date: expected YYYY-MM-DD")),
    }
}

pub fn resolve_tenant(store: &mut dyn Store, arg: &TenantArg) -> anyhow::Result<Creditor> {
    let creditors = store.creditors().map_err(|e| anyhow!("{e}"))?;
    match &arg.creditor {
        Some(key) => {
            let found = creditors
                .iter()
                .find(|c| c.id.get().to_string() == *key || c.details.name == *key);
            found.cloned().ok_or_else(|| anyhow!("--creditor {key:?}: no creditor with that id or name (see `incasso creditor list`)"))
        }
        None => match creditors.len() {
            0 => bail!(
                "no creditor yet: register one with `incasso creditor add --name ... --iban ...` (or run `incasso demo`)"
            ),
            1 => Ok(creditors[0].clone()),
            n => bail!(
                "{n} creditors exist: choose one with --creditor ID or INCASSO_CREDITOR (see `incasso creditor list`)"
            ),
        },
    }
}

pub fn print_json(out: &mut dyn Write, v: &Value) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, v)?;
    writeln!(out)?;
    Ok(())
}

pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    match cli.command {
        Command::Init => {
            let mut store = open_store(&cli.db)?;
            let version = store.schema_version().map_err(|e| anyhow!("{e}"))?;
            if json {
                print_json(
                    out,
                    &json!({"database": cli.db, "backend": store.backend(), "schema_version": version}),
                )?;
            } else {
                writeln!(
                    out,
                    "{} database {} is ready (schema version {version})",
                    store.backend(),
                    cli.db
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Creditor(CreditorCommand::Add(a)) => creditor_add(&cli.db, a, json, out),
        Command::Creditor(CreditorCommand::List) => creditor_list(&cli.db, json, out),
        Command::Import(ImportCommand::Invoices {
            tenant,
            as_of,
            files,
        }) => {
            let as_of = date_arg("as-of", as_of.as_deref())?;
            import_invoices(&cli.db, &tenant, as_of, &files, json, out)
        }
        Command::Import(ImportCommand::Bank { tenant, files }) => {
            crate::payments::import_bank(&cli.db, &tenant, &files, json, out)
        }
        Command::Payments(cmd) => crate::payments::payments(&cli.db, cmd, json, out),
        Command::Simulate(args) => {
            incasso_sim::run_command(args, json, out).map(|()| ExitCode::SUCCESS)
        }
        Command::Debtors(DebtorsCommand::List { tenant }) => {
            debtors_list(&cli.db, &tenant, json, out)
        }
        Command::Debtors(DebtorsCommand::Show { tenant, id }) => {
            debtor_show(&cli.db, &tenant, id, json, out)
        }
        Command::Invoices(InvoicesCommand::List {
            tenant,
            overdue,
            as_of,
            debtor,
            limit,
        }) => {
            let as_of = if overdue {
                Some(date_arg("as-of", as_of.as_deref())?)
            } else {
                None
            };
            invoices_list(&cli.db, &tenant, as_of, debtor, limit, json, out)
        }
        Command::Invoices(InvoicesCommand::Show { tenant, number }) => {
            invoice_show(&cli.db, &tenant, &number, json, out)
        }
        Command::Demo(a) => demo(&cli.db, a, json, out),
        Command::Run(a) => crate::collection::run(&cli.db, a, json, out),
        Command::Case(cmd) => crate::collection::case(&cli.db, cmd, json, out),
        Command::Policy(cmd) => crate::collection::policy(&cli.db, cmd, json, out),
        Command::Calls(cmd) => crate::collection::calls(&cli.db, cmd, json, out),
        Command::Outbox(cmd) => crate::collection::outbox(&cli.db, cmd, json, out),
        Command::Dispatch(a) => crate::dispatch::dispatch(&cli.db, a, json, out),
        Command::Letter(cmd) => crate::letters::letter(&cli.db, cmd, json, out),
        Command::Letters(cmd) => crate::letters::letters(&cli.db, cmd, json, out),
        Command::Mandate(cmd) => crate::direct_debit::mandate(&cli.db, cmd, json, out),
        Command::Export(cmd) => crate::direct_debit::export(&cli.db, cmd, json, out),
        Command::Calc { cmd } => incasso_calc::run_calc(cmd, json, out).map(|()| ExitCode::SUCCESS),
        Command::Ref { cmd } => incasso_calc::run_ref(cmd, json, out).map(|()| ExitCode::SUCCESS),
    }
}

fn parse_opt<T, E: std::fmt::Display>(
    name: &str,
    v: Option<&str>,
    f: impl FnOnce(&str) -> Result<T, E>,
) -> anyhow::Result<Option<T>> {
    v.map(|s| f(s).map_err(|e| anyhow!("--{name}: {e}")))
        .transpose()
}

fn creditor_add(
    db: &str,
    a: CreditorAddArgs,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let jurisdiction = Jurisdiction::parse(&a.jurisdiction)
        .ok_or_else(|| anyhow!("--jurisdiction {:?}: expected nl or be", a.jurisdiction))?;
    let country = match a.country.as_deref() {
        Some(c) => CountryCode::parse(c).map_err(|e| anyhow!("--country: {e}"))?,
        None => match jurisdiction {
            Jurisdiction::Nl => CountryCode::NL,
            Jurisdiction::Be => CountryCode::BE,
        },
    };
    if a.name.trim().is_empty() {
        bail!("--name: the creditor's name is empty");
    }
    let creditor = NewCreditor {
        name: a.name.trim().to_string(),
        legal_form: a.legal_form,
        registration_number: parse_opt(
            "registration-number",
            a.registration_number.as_deref(),
            RegistrationNumber::parse,
        )?,
        vat_number: parse_opt("vat-number", a.vat_number.as_deref(), VatNumber::parse)?,
        vat_deductible: !a.no_vat_deduction,
        iban: Iban::parse(&a.iban).map_err(|e| anyhow!("--iban: {e}"))?,
        bic: parse_opt("bic", a.bic.as_deref(), Bic::parse)?,
        jurisdiction,
        kind: DebtorKind::parse(&a.kind)
            .ok_or_else(|| anyhow!("--kind {:?}: expected business or consumer", a.kind))?,
        language: Language::parse(&a.language)
            .ok_or_else(|| anyhow!("--language {:?}: expected nl, en, fr or de", a.language))?,
        email: parse_opt("email", a.email.as_deref(), EmailAddress::parse)?,
        phone: parse_opt("phone", a.phone.as_deref(), PhoneNumber::parse)?,
        address: Address {
            street: a.street,
            postal_code: a.postal_code,
            city: a.city,
            country: Some(country),
        },
        website: a.website,
        letterhead: a.letterhead,
    };
    let mut store = open_store(db)?;
    let id = store.add_creditor(&creditor).map_err(|e| anyhow!("{e}"))?;
    if json {
        print_json(out, &json!({"id": id.get(), "name": creditor.name}))?;
    } else {
        writeln!(out, "creditor {} registered: {}", id, creditor.name)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn creditor_list(db: &str, json: bool, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    let creditors = store.creditors().map_err(|e| anyhow!("{e}"))?;
    if json {
        let items: Vec<Value> = creditors
            .iter()
            .map(|c| {
                json!({"id": c.id.get(), "name": c.details.name, "iban": c.details.iban.as_str(), "jurisdiction": c.details.jurisdiction.code(),
                       "kind": c.details.kind.code(), "language": c.details.language.code(), "vat_deductible": c.details.vat_deductible})
            })
            .collect();
        print_json(out, &json!({"creditors": items}))?;
    } else {
        let mut t = Table::new(&[
            ("id", Align::Right),
            ("name", Align::Left),
            ("jurisdiction", Align::Left),
            ("iban", Align::Left),
        ]);
        for c in &creditors {
            t.row(vec![
                c.id.to_string(),
                c.details.name.clone(),
                c.details.jurisdiction.code().into(),
                c.details.iban.to_paper(),
            ]);
        }
        t.print(out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn report_json(r: &ImportReport) -> Value {
    let (status, import_id, imported_at) = match &r.outcome {
        Outcome::Imported { import_id } => ("imported", import_id.get(), None),
        Outcome::AlreadyImported {
            import_id,
            imported_at,
        } => (
            "already_imported",
            import_id.get(),
            Some(imported_at.clone()),
        ),
    };
    json!({
        "file": r.file, "format": r.format, "status": status, "import_id": import_id, "imported_at": imported_at,
        "debtors_created": r.debtors_created, "debtors_matched": r.debtors_matched,
        "invoices_created": r.invoices_created, "invoices_unchanged": r.invoices_unchanged,
        "changed": r.changed.iter().map(|c| json!({"number": c.number, "location": c.location})).collect::<Vec<_>>(),
        "not_collectable": r.not_collectable.iter().map(|n| json!({"number": n.number, "location": n.location, "reason": n.reason.code()})).collect::<Vec<_>>(),
        "not_collectable_counts": r.not_collectable_counts,
        "not_yet_due": r.not_yet_due,
        "warnings": r.warnings,
    })
}

fn print_report(out: &mut dyn Write, r: &ImportReport) -> anyhow::Result<()> {
    match &r.outcome {
        Outcome::AlreadyImported {
            import_id,
            imported_at,
        } => {
            writeln!(
                out,
                "{}: already imported on {imported_at} (import {import_id}): nothing changed",
                r.file
            )?;
        }
        Outcome::Imported { import_id } => {
            writeln!(
                out,
                "{}: imported ({}, import {import_id}): {} invoices created, {} unchanged, {} changed; {} debtors created, {} matched",
                r.file,
                r.format,
                r.invoices_created,
                r.invoices_unchanged,
                r.changed.len(),
                r.debtors_created,
                r.debtors_matched
            )?;
            if r.invoices_created == 0 && r.changed.is_empty() {
                writeln!(
                    out,
                    "  nothing new: every invoice in the file was already known"
                )?;
            }
            for c in &r.changed {
                writeln!(
                    out,
                    "  changed: invoice {} ({}) differs from the stored one; the stored invoice was kept, not overwritten",
                    c.number, c.location
                )?;
            }
            for n in &r.not_collectable {
                writeln!(
                    out,
                    "  not collectable: invoice {} ({}): {}",
                    n.number,
                    n.location,
                    n.reason.describe()
                )?;
            }
            if r.not_yet_due > 0 {
                writeln!(out, "  {} invoices are not yet due", r.not_yet_due)?;
            }
        }
    }
    for w in &r.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    Ok(())
}

fn import_invoices(
    db: &str,
    tenant: &TenantArg,
    as_of: Date,
    files: &[PathBuf],
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), tenant)?;
    let defaults = ImportDefaults {
        language: creditor.details.language,
        country: creditor.details.address.country.unwrap_or(CountryCode::NL),
        today: as_of,
    };
    let mut reports = Vec::new();
    let mut failed = Vec::new();
    for path in files {
        match incasso_app::import::import_path(store.as_mut(), creditor.id, path, &defaults) {
            Ok(r) => {
                if !json {
                    print_report(out, &r)?;
                }
                reports.push(r);
            }
            Err(ImportFailure::Refused(e)) => {
                eprint!("{e}");
                failed.push(json!({"file": e.file, "problems": e.problems.iter().map(|p| json!({"location": p.location, "field": p.field, "message": p.message})).collect::<Vec<_>>()}));
            }
            Err(ImportFailure::Store { file, source }) => {
                eprintln!("{file}: not imported: {source:#}");
                failed.push(json!({"file": file, "problems": [{"location": "", "field": "", "message": format!("{source:#}")}]}));
            }
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

fn debtors_list(
    db: &str,
    tenant: &TenantArg,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), tenant)?;
    let rows = store.debtors(creditor.id).map_err(|e| anyhow!("{e}"))?;
    if json {
        let items: Vec<Value> = rows
            .iter()
            .map(|d| json!({"id": d.id.get(), "number": d.number, "name": d.name, "kind": d.kind.code(), "city": d.city, "invoices": d.invoices, "open_amount": d.open_amount.to_decimal_string()}))
            .collect();
        print_json(
            out,
            &json!({"creditor": creditor.id.get(), "count": items.len(), "debtors": items}),
        )?;
    } else {
        let mut t = Table::new(&[
            ("id", Align::Right),
            ("number", Align::Left),
            ("name", Align::Left),
            ("kind", Align::Left),
            ("city", Align::Left),
            ("invoices", Align::Right),
            ("open", Align::Right),
        ]);
        for d in &rows {
            t.row(vec![
                d.id.to_string(),
                d.number.clone().unwrap_or_default(),
                d.name.clone(),
                d.kind.code().into(),
                d.city.clone(),
                d.invoices.to_string(),
                d.open_amount.format_nl(),
            ]);
        }
        t.print(out)?;
        writeln!(out, "{} debtors", rows.len())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn debtor_show(
    db: &str,
    tenant: &TenantArg,
    id: i64,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), tenant)?;
    let d = store
        .debtor(creditor.id, DebtorId::new(id))
        .map_err(|e| anyhow!("debtor {id}: {e}"))?;
    let x = &d.details;
    let v = json!({
        "id": d.id.get(), "number": x.number.as_ref().map(|n| n.to_string()), "kind": x.kind.code(), "name": x.name,
        "contact_person": x.contact_person, "street": x.address.street, "postal_code": x.address.postal_code, "city": x.address.city,
        "country": x.address.country.map(|c| c.to_string()), "emails": x.emails.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        "phones": x.phones.iter().map(|p| p.to_string()).collect::<Vec<_>>(), "language": x.language.code(),
        "ibans": x.ibans.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
        "registration_number": x.registration_number.as_ref().map(|r| r.to_string()), "vat_number": x.vat_number.as_ref().map(|r| r.to_string()),
        "tags": x.tags.iter().map(|t| t.to_string()).collect::<Vec<_>>(), "vulnerable": x.vulnerable, "do_not_contact": x.do_not_contact,
    });
    if json {
        print_json(out, &v)?;
    } else if let Value::Object(map) = v {
        for (k, val) in map {
            let shown = match val {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            writeln!(out, "{k:>20}  {shown}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

const INVOICE_HEADERS: &[(&str, Align)] = &[
    ("number", Align::Left),
    ("debtor", Align::Left),
    ("issued", Align::Left),
    ("due", Align::Left),
    ("gross", Align::Right),
    ("open", Align::Right),
    ("status", Align::Left),
];

fn invoices_list(
    db: &str,
    tenant: &TenantArg,
    overdue_as_of: Option<Date>,
    debtor: Option<i64>,
    limit: Option<u64>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), tenant)?;
    let filter = InvoiceFilter {
        overdue_as_of,
        debtor: debtor.map(DebtorId::new),
        limit,
    };
    let widths = [16, 32, 10, 10, 12, 12, 12];
    let mut total_open: i64 = 0;
    if json {
        write!(
            out,
            "{{\"creditor\":{},\"as_of\":{},\"invoices\":[",
            creditor.id.get(),
            serde_json::to_string(&overdue_as_of.map(|d| d.to_string()))?
        )?;
    } else {
        let header: Vec<String> = INVOICE_HEADERS
            .iter()
            .map(|(h, _)| (*h).to_string())
            .collect();
        write_row(out, &header, INVOICE_HEADERS, &widths)?;
    }
    let mut first = true;
    let mut line = String::with_capacity(160);
    let mut cell = String::with_capacity(24);
    let count = store
        .for_each_invoice(creditor.id, &filter, &mut |r| {
            total_open = total_open.saturating_add(r.open_amount.minor());
            if !json {
                // The table is written straight into one reused line buffer: a listing prints
                // hundreds of thousands of rows, so no per-cell strings are allocated.
                line.clear();
                crate::table::push_cell(&mut line, &r.number, widths[0], Align::Left);
                crate::table::push_cell(&mut line, &r.debtor_name, widths[1], Align::Left);
                crate::table::push_date(&mut line, Some(r.issue_date), widths[2]);
                crate::table::push_date(&mut line, r.due_date, widths[3]);
                cell.clear();
                r.gross_amount.write_decimal(&mut cell);
                crate::table::push_cell(&mut line, &cell, widths[4], Align::Right);
                cell.clear();
                r.open_amount.write_decimal(&mut cell);
                crate::table::push_cell(&mut line, &cell, widths[5], Align::Right);
                match (r.defect, overdue_as_of, r.due_date) {
                    (Some(d), _, _) => line.push_str(d.code()),
                    (None, Some(as_of), Some(due)) => {
                        use std::fmt::Write as _;
                        let _ = write!(line, "{} days late", (as_of - due).get_days());
                    }
                    (None, Some(_), None) => {}
                    (None, None, _) => line.push_str(if r.open_amount.is_zero() { "paid" } else { "open" }),
                }
                while line.ends_with(' ') {
                    line.pop();
                }
                line.push('\n');
                out.write_all(line.as_bytes())?;
                return Ok(());
            }
            let status = match (r.defect, overdue_as_of) {
                (Some(d), _) => d.code().to_string(),
                (None, Some(as_of)) => match r.due_date {
                    Some(due) => format!("{} days late", (as_of - due).get_days()),
                    None => String::new(),
                },
                (None, None) => if r.open_amount.is_zero() { "paid".into() } else { "open".into() },
            };
            if json {
                if !first {
                    write!(out, ",")?;
                }
                first = false;
                serde_json::to_writer(
                    &mut *out,
                    &json!({"id": r.id.get(), "number": r.number, "kind": r.kind, "debtor_id": r.debtor_id.get(), "debtor": &*r.debtor_name,
                            "issue_date": r.issue_date.to_string(), "due_date": r.due_date.map(|d| d.to_string()),
                            "gross_amount": r.gross_amount.to_decimal_string(), "open_amount": r.open_amount.to_decimal_string(), "status": status}),
                )?;
            }
            Ok(())
        })
        .map_err(|e| anyhow!("{e}"))?;
    let total = incasso_money::Money::eur_cents(total_open).to_decimal_string();
    if json {
        writeln!(out, "],\"count\":{count},\"total_open\":\"{total}\"}}")?;
    } else {
        writeln!(out, "{count} invoices, {total} open")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn invoice_show(
    db: &str,
    tenant: &TenantArg,
    number: &str,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), tenant)?;
    let inv = store
        .invoice_by_number(creditor.id, number)
        .map_err(|e| anyhow!("invoice {number}: {e}"))?;
    let d = &inv.details;
    let v = json!({
        "id": inv.id.get(), "number": d.number.to_string(), "kind": d.kind.code(), "debtor_id": inv.debtor_id.get(),
        "issue_date": d.issue_date.to_string(), "due_date": d.due_date.map(|x| x.to_string()),
        "due_date_source": d.due_date_source.map(|s| s.code()), "payment_terms_days": d.payment_terms_days, "currency": d.currency.code(),
        "net_amount": d.net_amount.to_decimal_string(), "vat_amount": d.vat_amount.to_decimal_string(), "gross_amount": d.gross_amount.to_decimal_string(),
        "paid_amount": d.paid_amount.to_decimal_string(), "open_amount": inv.open_amount.to_decimal_string(),
        "payment_reference": d.payment_reference, "contractual_interest_rate": d.contractual_interest_rate.map(|r| r.to_percent_string()),
        "corrects": d.corrects.as_ref().map(|c| c.to_string()), "description": d.description,
        "not_collectable": d.defect().map(|x| x.code()),
        "lines": d.lines.iter().map(|l| json!({"description": l.description, "quantity": l.quantity, "net_amount": l.net_amount.to_decimal_string(), "vat_percent": l.vat_percent.map(|r| r.to_percent_string())})).collect::<Vec<_>>(),
        "attachment": d.attachment.as_ref().map(|a| json!({"filename": a.filename, "mime_type": a.mime_type, "bytes": a.content.len()})),
    });
    if json {
        print_json(out, &v)?;
    } else if let Value::Object(map) = v {
        for (k, val) in map {
            let shown = match val {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            writeln!(out, "{k:>26}  {shown}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn demo(db: &str, a: DemoArgs, json: bool, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let as_of = date_arg("as-of", a.as_of.as_deref())?;
    if a.debtors == 0 || a.invoices_per_debtor == 0 {
        bail!("--debtors and --invoices-per-debtor must be at least 1");
    }
    let spec = incasso_app::demo::DemoSpec {
        debtors: a.debtors,
        invoices_per_debtor: a.invoices_per_debtor,
        seed: a.seed,
        as_of,
    };
    if let Some(path) = &a.csv {
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let mut w = std::io::BufWriter::new(file);
        let n = incasso_app::demo::write_csv(&spec, &mut w)?;
        w.flush()?;
        if json {
            print_json(
                out,
                &json!({"csv": path.display().to_string(), "debtors": a.debtors, "invoices": n}),
            )?;
        } else {
            writeln!(
                out,
                "wrote {n} invoices for {} debtors to {}",
                a.debtors,
                path.display()
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut store = open_store(db)?;
    let creditor_id: CreditorId = match store.creditors().map_err(|e| anyhow!("{e}"))?.first() {
        Some(c) => c.id,
        None => store
            .add_creditor(&incasso_app::demo::demo_creditor()?)
            .map_err(|e| anyhow!("{e}"))?,
    };
    let creditor = store.creditor(creditor_id).map_err(|e| anyhow!("{e}"))?;
    let dir = tempfile_dir()?;
    let path = dir.join(format!(
        "demo-seed{}-debtors{}-{}.csv",
        a.seed, a.debtors, as_of
    ));
    {
        let file =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let mut w = std::io::BufWriter::new(file);
        incasso_app::demo::write_csv(&spec, &mut w)?;
        w.flush()?;
    }
    let defaults = ImportDefaults {
        language: creditor.details.language,
        country: CountryCode::NL,
        today: as_of,
    };
    let result = incasso_app::import::import_path(store.as_mut(), creditor.id, &path, &defaults);
    let _ = std::fs::remove_file(&path);
    let report = match result {
        Ok(r) => r,
        Err(e) => bail!("demo import failed: {e}"),
    };
    let mut overdue = 0u64;
    let mut overdue_open: i64 = 0;
    store
        .for_each_invoice(
            creditor.id,
            &InvoiceFilter {
                overdue_as_of: Some(as_of),
                ..InvoiceFilter::default()
            },
            &mut |r| {
                overdue += 1;
                overdue_open = overdue_open.saturating_add(r.open_amount.minor());
                Ok(())
            },
        )
        .map_err(|e| anyhow!("{e}"))?;
    let overdue_total = incasso_money::Money::eur_cents(overdue_open);
    if json {
        let mut v = report_json(&report);
        v["creditor"] = json!(creditor.id.get());
        v["overdue_invoices"] = json!(overdue);
        v["overdue_open"] = json!(overdue_total.to_decimal_string());
        print_json(out, &v)?;
    } else {
        writeln!(
            out,
            "demo ledger for creditor {} ({}) as of {as_of}, seed {}:",
            creditor.id, creditor.details.name, a.seed
        )?;
        print_report(out, &report)?;
        writeln!(
            out,
            "{overdue} invoices overdue on {as_of}, {} open; see `incasso invoices list --overdue --as-of {as_of}`",
            overdue_total.format_nl()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("incasso-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
