//! `incasso dispatch consent`, `dispatch consents` and `dispatch resolve`: a person records a
//! debtor's consent to SMS or e-mail (or its withdrawal, with the source kept as evidence and a
//! `consent_changed` event on the debtor's open cases), lists a debtor's consents and their
//! history, and decides about an in-doubt message (it did leave, or it may be sent again).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use incasso_app::dispatch::stamp;
use incasso_domain::{Creditor, DebtorId};
use incasso_messaging::Channel;
use incasso_messaging::rules::{from_local, to_local};
use incasso_store::{AttemptStatus, ConsentChange, Store};
use serde_json::{Value, json};

use crate::args::TenantArg;
use crate::commands::{open_store, print_json, resolve_tenant};
use crate::table::{Align, Table};

#[derive(Debug, clap::Args)]
pub struct ConsentArgs {
    #[command(flatten)]
    pub tenant: TenantArg,
    /// The debtor's number (as in the import; `incasso debtors list` shows them).
    #[arg(long)]
    pub debtor: String,
    /// sms or email.
    #[arg(long)]
    pub channel: String,
    /// Withdraw the consent instead of giving it.
    #[arg(long)]
    pub withdraw: bool,
    /// Where the consent or its withdrawal comes from (a signed form, a phone call, the portal).
    #[arg(long, default_value = "")]
    pub source: String,
    /// The moment, Dutch/Belgian local time (`2026-12-03T10:00`) or RFC 3339 (default: now).
    #[arg(long)]
    pub now: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ConsentsArgs {
    #[command(flatten)]
    pub tenant: TenantArg,
    /// The debtor's number.
    #[arg(long)]
    pub debtor: String,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["sent", "not_sent"])))]
pub struct ResolveArgs {
    #[command(flatten)]
    pub tenant: TenantArg,
    /// The in-doubt attempt (the `attempt` column of `incasso dispatch failed`).
    pub attempt: i64,
    /// The message did leave (the recipient has it): it counts as sent and is never resent.
    #[arg(long)]
    pub sent: bool,
    /// The message did not leave: the next dispatch sends it again (as a new attempt).
    #[arg(long)]
    pub not_sent: bool,
    /// Why you decided so (kept with the attempt).
    #[arg(long)]
    pub note: Option<String>,
    /// The moment, Dutch/Belgian local time or RFC 3339 (default: now).
    #[arg(long)]
    pub now: Option<String>,
}

/// `--now`, or the clock (the composition root is the one place that reads it).
#[allow(clippy::disallowed_methods)]
fn moment(v: Option<&str>) -> anyhow::Result<jiff::Timestamp> {
    let Some(v) = v else {
        return Ok(jiff::Timestamp::now());
    };
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let dt: jiff::civil::DateTime = v.parse().map_err(|_| {
        anyhow!("--now {v:?} is not a moment: expected YYYY-MM-DDTHH:MM (local time) or RFC 3339")
    })?;
    Ok(from_local(dt))
}

/// The debtor with this number (exact, then ignoring case).
fn debtor_by_number(
    store: &mut dyn Store,
    creditor: &Creditor,
    number: &str,
) -> anyhow::Result<(DebtorId, String, String)> {
    let wanted = number.trim();
    if wanted.is_empty() {
        bail!("--debtor is empty: give the debtor's number (see `incasso debtors list`)");
    }
    let rows = store.debtors(creditor.id).map_err(|e| anyhow!("{e}"))?;
    let found = rows
        .iter()
        .find(|d| d.number.as_deref() == Some(wanted))
        .or_else(|| {
            rows.iter().find(|d| {
                d.number
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
            })
        });
    match found {
        Some(d) => Ok((d.id, d.number.clone().unwrap_or_default(), d.name.clone())),
        None => bail!(
            "--debtor {wanted:?}: no debtor with that number for {} (see `incasso debtors list`)",
            creditor.details.name
        ),
    }
}

fn channel_arg(c: &str) -> anyhow::Result<Channel> {
    Channel::parse(c.trim()).ok_or_else(|| anyhow!("--channel {c:?}: expected sms or email"))
}

/// The timeline line of a consent change (Dutch, like the rest of the case log).
fn consent_text(channel: Channel, given: bool, source: &str) -> String {
    let what = if given { "gegeven" } else { "ingetrokken" };
    let source = source.trim();
    if source.is_empty() {
        format!("toestemming voor {} {what}", channel.code())
    } else {
        format!(
            "toestemming voor {} {what} (bron: {source})",
            channel.code()
        )
    }
}

pub fn consent(
    db: &str,
    a: ConsentArgs,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let channel = channel_arg(&a.channel)?;
    let now = moment(a.now.as_deref())?;
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), &a.tenant)?;
    let (debtor, number, name) = debtor_by_number(store.as_mut(), &creditor, &a.debtor)?;
    let given = !a.withdraw;
    let source = a.source.trim().to_string();
    let recorded = store
        .record_consent(
            creditor.id,
            &ConsentChange {
                debtor,
                channel: channel.code().into(),
                given,
                source: source.clone(),
                at: stamp(now),
                on: Some(to_local(now).date()),
                text: consent_text(channel, given, &source),
            },
        )
        .map_err(|e| anyhow!("debtor {}: {e}", a.debtor))?;
    let consents = store
        .consents(creditor.id, debtor)
        .map_err(|e| anyhow!("{e}"))?;
    if json {
        print_json(
            out,
            &json!({"debtor": {"id": debtor.get(), "number": number, "name": name},
                "channel": channel.code(), "given": given, "changed": recorded.changed,
                "source": source, "at": stamp(now), "cases": recorded.cases, "consents": consents}),
        )?;
    } else {
        let verb = if given { "given" } else { "withdrawn" };
        if recorded.changed {
            writeln!(
                out,
                "consent for {} {verb} for debtor {} ({name}) at {}{}",
                channel.code(),
                number,
                stamp(now),
                if recorded.cases.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; recorded on case {}",
                        recorded
                            .cases
                            .iter()
                            .map(|c| c.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            )?;
        } else {
            writeln!(
                out,
                "consent for {} was already {verb} for debtor {} ({name}): nothing changed",
                channel.code(),
                number
            )?;
        }
        writeln!(
            out,
            "consents now: {}",
            if consents.is_empty() {
                "none".to_string()
            } else {
                consents.join(", ")
            }
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn consents(
    db: &str,
    a: ConsentsArgs,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), &a.tenant)?;
    let (debtor, number, name) = debtor_by_number(store.as_mut(), &creditor, &a.debtor)?;
    let current = store
        .consents(creditor.id, debtor)
        .map_err(|e| anyhow!("{e}"))?;
    let log = store
        .consent_log(creditor.id, debtor)
        .map_err(|e| anyhow!("{e}"))?;
    // For each standing consent: the log entry that gave it (none for consents recorded
    // before the log existed).
    let standing: Vec<(String, Option<&incasso_store::ConsentEntry>)> = current
        .iter()
        .map(|c| {
            let entry = log.iter().rev().find(|e| &e.channel == c && e.given);
            (c.clone(), entry)
        })
        .collect();
    if json {
        print_json(
            out,
            &json!({
                "debtor": {"id": debtor.get(), "number": number, "name": name},
                "consents": standing.iter().map(|(c, e)| json!({"channel": c,
                    "given_at": e.map(|e| e.at.clone()), "source": e.map(|e| e.source.clone())})).collect::<Vec<_>>(),
                "log": log.iter().map(|e| json!({"id": e.id, "channel": e.channel, "given": e.given,
                    "source": e.source, "at": e.at})).collect::<Vec<_>>(),
            }),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "Debtor {} ({name})", number)?;
    if standing.is_empty() {
        writeln!(out, "No consents: SMS is not sent to this debtor.")?;
    } else {
        let mut t = Table::new(&[
            ("channel", Align::Left),
            ("given at", Align::Left),
            ("source", Align::Left),
        ]);
        for (c, e) in &standing {
            t.row(vec![
                c.clone(),
                e.map(|e| e.at.clone()).unwrap_or_default(),
                e.map(|e| e.source.clone()).unwrap_or_default(),
            ]);
        }
        t.print(out)?;
    }
    if !log.is_empty() {
        writeln!(out, "History")?;
        let mut t = Table::new(&[
            ("at", Align::Left),
            ("channel", Align::Left),
            ("change", Align::Left),
            ("source", Align::Left),
        ]);
        for e in &log {
            t.row(vec![
                e.at.clone(),
                e.channel.clone(),
                if e.given { "given" } else { "withdrawn" }.into(),
                e.source.clone(),
            ]);
        }
        t.print(out)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn resolve(
    db: &str,
    a: ResolveArgs,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let did_leave = a.sent;
    let now = moment(a.now.as_deref())?;
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), &a.tenant)?;
    let attempts = store
        .attempts(creditor.id, None)
        .map_err(|e| anyhow!("{e}"))?;
    let Some(attempt) = attempts.iter().find(|r| r.id == a.attempt) else {
        bail!(
            "attempt {}: no such delivery attempt for {} (see `incasso dispatch failed`)",
            a.attempt,
            creditor.details.name
        );
    };
    if attempt.status != AttemptStatus::InDoubt {
        bail!(
            "attempt {} ({} of action {}) is {}, not in doubt: nothing to resolve",
            a.attempt,
            attempt.channel,
            attempt.action_id,
            attempt.status.code()
        );
    }
    let note = match a.note.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => n.to_string(),
        _ if did_leave => "resolved: it did leave".to_string(),
        _ => "resolved: it did not leave; send again".to_string(),
    };
    store
        .resolve_in_doubt(
            creditor.id,
            a.attempt,
            did_leave,
            &note,
            &stamp(now),
            incasso_messaging::rules::to_local(now).date(),
        )
        .map_err(|e| anyhow!("attempt {}: {e}", a.attempt))?;
    let status = if did_leave {
        AttemptStatus::Sent
    } else {
        AttemptStatus::FailedTemporary
    };
    if json {
        let v: Value = json!({"attempt": a.attempt, "action": attempt.action_id, "channel": attempt.channel,
            "recipient": attempt.recipient, "status": status.code(), "note": note, "at": stamp(now)});
        print_json(out, &v)?;
    } else if did_leave {
        writeln!(
            out,
            "attempt {} ({} to {}, action {}) marked sent: it is not sent again",
            a.attempt, attempt.channel, attempt.recipient, attempt.action_id
        )?;
    } else {
        writeln!(
            out,
            "attempt {} ({} to {}, action {}) marked not sent: the next `incasso dispatch` sends it again",
            a.attempt, attempt.channel, attempt.recipient, attempt.action_id
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
