//! `incasso mandate ...` and `incasso export direct-debit`: SEPA direct-debit mandates per
//! debtor and the pain.008 collection file for a collection date.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use incasso_app::direct_debit::{
    self as dd, AmendInput, CreatedAt, ExportOutcome, ExportRequest, MandateInput,
};
use incasso_domain::DebtorId;
use incasso_store::{MandateRow, SequenceState, Store};
use serde_json::{Value, json};

use crate::args::TenantArg;
use crate::commands::{date_arg, open_store, print_json, resolve_tenant};
use crate::table::{Align, Table};

#[derive(Debug, clap::Subcommand)]
pub enum MandateCommand {
    /// Register a debtor's mandate.
    Add {
        #[command(flatten)]
        tenant: TenantArg,
        /// The debtor's number (see `incasso debtors list`).
        #[arg(long)]
        debtor: String,
        /// The mandate reference (MndtId): unique for the creditor, at most 35 characters.
        #[arg(long)]
        id: String,
        /// The day the debtor signed (YYYY-MM-DD).
        #[arg(long)]
        signed: String,
        /// The account to collect from.
        #[arg(long)]
        iban: String,
        /// The debtor bank's BIC (optional).
        #[arg(long)]
        bic: Option<String>,
        /// The sequence type of the next collection: frst (a new recurrent mandate), rcur (a
        /// recurrent mandate collected on before), ooff (one-off), fnal (the last one).
        #[arg(long, default_value = "frst")]
        sequence: String,
    },
    /// List the mandates with their next sequence type and pending amendment.
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// One mandate with its history.
    Show {
        #[command(flatten)]
        tenant: TenantArg,
        /// The mandate reference.
        id: String,
    },
    /// Amend a mandate: a new reference, account or sequence type. The next collection
    /// reports the original values (AmdmntInd).
    Amend {
        #[command(flatten)]
        tenant: TenantArg,
        /// The current mandate reference.
        id: String,
        /// The new mandate reference.
        #[arg(long)]
        new_id: Option<String>,
        /// The new account.
        #[arg(long)]
        iban: Option<String>,
        /// The new BIC ("" removes it).
        #[arg(long)]
        bic: Option<String>,
        /// The sequence type of the next collection (fnal: the next collection is the last).
        #[arg(long)]
        sequence: Option<String>,
        /// The day of the amendment (default: today).
        #[arg(long)]
        on: Option<String>,
    },
    /// Revoke a mandate: it is never collected on again.
    Revoke {
        #[command(flatten)]
        tenant: TenantArg,
        id: String,
        /// The day of the revocation (default: today).
        #[arg(long)]
        on: Option<String>,
    },
    /// Show or set the creditor's SEPA creditor identifier (e.g. NL57ZZZ999999999999).
    CreditorId {
        #[command(flatten)]
        tenant: TenantArg,
        /// The identifier to set; without it the current one is shown.
        value: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// Write a pain.008 direct-debit file for a collection date.
    DirectDebit {
        #[command(flatten)]
        tenant: TenantArg,
        /// The requested collection date (a TARGET2 business day).
        #[arg(long)]
        collection_date: String,
        /// pain.008.001.02 (default) or pain.008.001.08.
        #[arg(long, default_value = "pain.008.001.02")]
        format: String,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// The creation time written into the file (YYYY-MM-DDTHH:MM:SS; default: now).
        #[arg(long)]
        created_at: Option<String>,
        /// Write this earlier batch's file again instead of selecting what is due.
        #[arg(long)]
        message_id: Option<String>,
    },
}

fn parse_sequence(field: &str, value: &str) -> anyhow::Result<SequenceState> {
    SequenceState::parse(value)
        .ok_or_else(|| anyhow!("{field} {value:?}: expected frst, rcur, ooff or fnal"))
}

fn debtor_by_number(
    store: &mut dyn Store,
    tenant: incasso_domain::CreditorId,
    number: &str,
) -> anyhow::Result<DebtorId> {
    let rows = store.debtors(tenant).map_err(|e| anyhow!("{e}"))?;
    rows.iter()
        .find(|r| r.number.as_deref() == Some(number.trim()))
        .map(|r| r.id)
        .ok_or_else(|| {
            anyhow!("--debtor {number:?}: no debtor with that number (see `incasso debtors list`)")
        })
}

fn mandate_json(m: &MandateRow, debtor: Option<&(Option<String>, String)>) -> Value {
    let p = &m.pending;
    json!({
        "id": m.mandate.reference,
        "debtor_id": m.mandate.debtor_id.get(),
        "debtor_number": debtor.and_then(|d| d.0.clone()),
        "debtor_name": debtor.map(|d| d.1.clone()),
        "signed": m.mandate.signed_on.to_string(),
        "iban": m.mandate.iban.as_str(),
        "bic": m.mandate.bic.as_ref().map(|b| b.as_str()),
        "sequence": m.mandate.sequence.code().to_uppercase(),
        "status": m.status.code(),
        "revoked_on": m.revoked_on.map(|d| d.to_string()),
        "last_collection": m.last_collection.map(|d| d.to_string()),
        "amendment_pending": !p.is_empty(),
        "original_id": p.original_reference,
        "original_iban": p.original_iban.as_ref().map(|i| i.as_str()),
        "original_creditor_id": p.original_scheme_id,
    })
}

fn today() -> anyhow::Result<incasso_calendar::Date> {
    date_arg("date", None)
}

pub fn mandate(
    db: &str,
    cmd: MandateCommand,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    match cmd {
        MandateCommand::Add {
            tenant,
            debtor,
            id,
            signed,
            iban,
            bic,
            sequence,
        } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let input = MandateInput {
                debtor: debtor_by_number(store.as_mut(), creditor.id, &debtor)?,
                reference: id,
                signed_on: date_arg("signed", Some(&signed))?,
                iban,
                bic,
                sequence: parse_sequence("--sequence", &sequence)?,
            };
            let m = dd::add_mandate(store.as_mut(), creditor.id, &input, today()?)?;
            if json {
                print_json(out, &mandate_json(&m, None))?;
            } else {
                writeln!(
                    out,
                    "mandate {} registered for debtor {debtor}: {} signed {}, next collection {}",
                    m.mandate.reference,
                    m.mandate.iban.to_paper(),
                    m.mandate.signed_on,
                    m.mandate.sequence.code().to_uppercase()
                )?;
            }
        }
        MandateCommand::List { tenant } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let mandates = store.mandates(creditor.id).map_err(|e| anyhow!("{e}"))?;
            let debtors: std::collections::HashMap<DebtorId, (Option<String>, String)> = store
                .debtors(creditor.id)
                .map_err(|e| anyhow!("{e}"))?
                .into_iter()
                .map(|r| (r.id, (r.number, r.name)))
                .collect();
            let scheme_id = store
                .creditor_scheme_id(creditor.id)
                .map_err(|e| anyhow!("{e}"))?;
            if json {
                print_json(
                    out,
                    &json!({
                        "creditor_id": scheme_id,
                        "count": mandates.len(),
                        "mandates": mandates.iter().map(|m| mandate_json(m, debtors.get(&m.mandate.debtor_id))).collect::<Vec<_>>(),
                    }),
                )?;
            } else {
                writeln!(
                    out,
                    "creditor identifier: {}",
                    scheme_id
                        .as_deref()
                        .unwrap_or("(none: set one with `incasso mandate creditor-id`)")
                )?;
                let mut t = Table::new(&[
                    ("mandate", Align::Left),
                    ("debtor", Align::Left),
                    ("signed", Align::Left),
                    ("IBAN", Align::Left),
                    ("next", Align::Left),
                    ("status", Align::Left),
                    ("last collection", Align::Left),
                    ("amendment", Align::Left),
                ]);
                for m in &mandates {
                    let d = debtors.get(&m.mandate.debtor_id);
                    let p = &m.pending;
                    let mut amended = Vec::new();
                    if let Some(r) = &p.original_reference {
                        amended.push(format!("was {r}"));
                    }
                    if let Some(i) = &p.original_iban {
                        amended.push(format!("was {}", i.as_str()));
                    }
                    if let Some(s) = &p.original_scheme_id {
                        amended.push(format!("creditor id was {s}"));
                    }
                    t.row(vec![
                        m.mandate.reference.clone(),
                        d.map(|(n, name)| match n {
                            Some(n) => format!("{n} {name}"),
                            None => name.clone(),
                        })
                        .unwrap_or_default(),
                        m.mandate.signed_on.to_string(),
                        m.mandate.iban.as_str().to_string(),
                        m.mandate.sequence.code().to_uppercase(),
                        m.status.code().to_string(),
                        m.last_collection.map(|d| d.to_string()).unwrap_or_default(),
                        amended.join(", "),
                    ]);
                }
                t.print(out)?;
            }
        }
        MandateCommand::Show { tenant, id } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let m = store
                .mandate(creditor.id, &id)
                .map_err(|e| anyhow!("mandate {id:?}: {e}"))?;
            let events = store
                .mandate_events(creditor.id, m.id)
                .map_err(|e| anyhow!("{e}"))?;
            if json {
                let mut v = mandate_json(&m, None);
                v["events"] = json!(
                    events
                        .iter()
                        .map(|e| json!({"on": e.on.to_string(), "kind": e.kind, "text": e.text}))
                        .collect::<Vec<_>>()
                );
                print_json(out, &v)?;
            } else {
                writeln!(
                    out,
                    "mandate {} ({}), signed {}, {} {}, next collection {}",
                    m.mandate.reference,
                    m.status.code(),
                    m.mandate.signed_on,
                    m.mandate.iban.to_paper(),
                    m.mandate.bic.as_ref().map(|b| b.as_str()).unwrap_or(""),
                    m.mandate.sequence.code().to_uppercase()
                )?;
                for e in &events {
                    writeln!(out, "  {}  {:<20} {}", e.on, e.kind, e.text)?;
                }
            }
        }
        MandateCommand::Amend {
            tenant,
            id,
            new_id,
            iban,
            bic,
            sequence,
            on,
        } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let input = AmendInput {
                reference: new_id,
                iban,
                bic,
                sequence: sequence
                    .as_deref()
                    .map(|s| parse_sequence("--sequence", s))
                    .transpose()?,
            };
            let on = date_arg("on", on.as_deref())?;
            let amended = dd::amend_mandate(store.as_mut(), creditor.id, &id, &input, on)?;
            let m = &amended.mandate;
            if json {
                let mut v = mandate_json(m, None);
                v["other_bank"] = json!(amended.other_bank);
                print_json(out, &v)?;
            } else {
                writeln!(
                    out,
                    "mandate {} amended: {}, next collection {}{}",
                    m.mandate.reference,
                    m.mandate.iban.to_paper(),
                    m.mandate.sequence.code().to_uppercase(),
                    if m.pending.is_empty() {
                        String::new()
                    } else {
                        "; the next collection reports the amendment".into()
                    }
                )?;
                if amended.other_bank {
                    writeln!(
                        out,
                        "the debtor moved to another bank: the next collection is reported with SMNDA"
                    )?;
                }
            }
        }
        MandateCommand::Revoke { tenant, id, on } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let on = date_arg("on", on.as_deref())?;
            dd::revoke_mandate(store.as_mut(), creditor.id, &id, on)?;
            if json {
                print_json(
                    out,
                    &json!({"id": id, "status": "revoked", "revoked_on": on.to_string()}),
                )?;
            } else {
                writeln!(out, "mandate {id} revoked on {on}")?;
            }
        }
        MandateCommand::CreditorId { tenant, value } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let current = match value {
                Some(v) => Some(
                    dd::set_creditor_identifier(store.as_mut(), creditor.id, &v, today()?)
                        .map_err(|e| anyhow!("{e}"))?,
                ),
                None => store
                    .creditor_scheme_id(creditor.id)
                    .map_err(|e| anyhow!("{e}"))?,
            };
            if json {
                print_json(
                    out,
                    &json!({"creditor": creditor.details.name, "creditor_id": current}),
                )?;
            } else {
                writeln!(
                    out,
                    "{}: creditor identifier {}",
                    creditor.details.name,
                    current.as_deref().unwrap_or("(none)")
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Now, as the file's creation time: the command's one clock read.
#[allow(clippy::disallowed_methods)] // The composition root is the one place that reads the clock.
fn now() -> CreatedAt {
    let t = jiff::Zoned::now();
    CreatedAt {
        date: t.date(),
        hour: u8::try_from(t.hour()).unwrap_or(0),
        minute: u8::try_from(t.minute()).unwrap_or(0),
        second: u8::try_from(t.second()).unwrap_or(0),
    }
}

/// Writes the file through a temporary file and a rename, so a crash leaves the old file or
/// the new one, never half of one.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("--out {}: not a file name", path.display()))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, bytes).with_context(|| format!("--out: writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("--out: writing {}", path.display()))?;
    Ok(())
}

fn outcome_json(o: &ExportOutcome, file: Option<&Path>, format: &str) -> Value {
    json!({
        "message_id": o.message_id,
        "recorded": o.recorded,
        "file": file.map(|f| f.display().to_string()),
        "format": format,
        "collection_date": o.collection_date.to_string(),
        "count": o.count,
        "total": o.total.to_string(),
        "by_sequence": o.by_sequence.iter().map(|s| json!({"sequence": s.sequence.code().to_uppercase(), "count": s.count, "total": s.total.to_string()})).collect::<Vec<_>>(),
        "amendments": o.amendments,
        "skipped": o.skipped.iter().map(|s| json!({"debtor_id": s.debtor.get(), "mandate": s.mandate, "reason": s.reason})).collect::<Vec<_>>(),
        "warnings": o.warnings,
        "batches_for_date": o.batches_for_date,
    })
}

pub fn export(
    db: &str,
    cmd: ExportCommand,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let ExportCommand::DirectDebit {
        tenant,
        collection_date,
        format,
        out: path,
        created_at,
        message_id,
    } = cmd;
    let version = match format.as_str() {
        "pain.008.001.02" => dd::Version::V02,
        "pain.008.001.08" => dd::Version::V08,
        other => bail!("--format {other:?}: expected pain.008.001.02 or pain.008.001.08"),
    };
    let collection_date = date_arg("collection-date", Some(&collection_date))?;
    let created_at = match created_at {
        Some(c) => CreatedAt::parse(&c).map_err(|e| anyhow!("--created-at: {e}"))?,
        None => now(),
    };
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), &tenant)?;
    let request = ExportRequest {
        collection_date,
        created_at,
        version,
        message_id,
    };
    let outcome = dd::export(store.as_mut(), creditor.id, &request)?;
    let file = if outcome.message_id.is_some() {
        write_file(&path, &outcome.xml)?;
        Some(path.as_path())
    } else {
        None
    };
    if json {
        print_json(out, &outcome_json(&outcome, file, version.id()))?;
        return Ok(ExitCode::SUCCESS);
    }
    for w in &outcome.warnings {
        writeln!(out, "warning: {w}")?;
    }
    match (&outcome.message_id, outcome.recorded) {
        (None, _) => writeln!(
            out,
            "nothing to collect on {}; no file written",
            outcome.collection_date
        )?,
        (Some(id), true) => writeln!(
            out,
            "{}: {id} ({}), collection date {}: {} collection(s), total {}",
            path.display(),
            version.id(),
            outcome.collection_date,
            outcome.count,
            outcome.total
        )?,
        (Some(id), false) => writeln!(
            out,
            "nothing new to collect on {}; {}: batch {id} written again ({}): {} collection(s), total {}",
            outcome.collection_date,
            path.display(),
            version.id(),
            outcome.count,
            outcome.total
        )?,
    }
    for s in &outcome.by_sequence {
        writeln!(
            out,
            "  {}: {} collection(s), {}",
            s.sequence.code().to_uppercase(),
            s.count,
            s.total
        )?;
    }
    if outcome.amendments > 0 {
        writeln!(out, "  {} amended mandate(s) reported", outcome.amendments)?;
    }
    for s in &outcome.skipped {
        writeln!(out, "  skipped mandate {}: {}", s.mandate, s.reason)?;
    }
    Ok(ExitCode::SUCCESS)
}
