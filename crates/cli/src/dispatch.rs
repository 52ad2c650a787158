//! `incasso dispatch`: sends the due outbox actions (e-mail over SMTP, SMS through the
//! provider), each attempt recorded before it leaves, with quiet hours, contact caps and
//! consent applied; `incasso dispatch failed` lists the failed and in-doubt messages.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use incasso_app::dispatch::{self as app, DispatchConfig, Senders};
use incasso_app::dispatch_hooks::{CaseDossier, CaseLetters};
use incasso_app::letters::incasso_letters::Templates as LetterTemplates;
use incasso_messaging::rules::{from_local, to_local};
use incasso_messaging::sms::MESSAGEBIRD_URL;
use incasso_messaging::{
    Channel, ContactRules, MessageBird, Secret, SmtpConfig, SmtpSender, Templates,
};
use serde_json::{Value, json};

use crate::args::TenantArg;
use crate::commands::{open_store, print_json, resolve_tenant};
use crate::table::{Align, Table};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DispatchArgs {
    #[command(subcommand)]
    pub command: Option<DispatchCommand>,
    #[command(flatten)]
    pub send: SendArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum DispatchCommand {
    /// List the messages that failed, wait for a retry, or are in doubt (a run stopped while
    /// sending them), with the reason and the next retry time.
    Failed {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Give (or with --withdraw, withdraw) a debtor's consent to be contacted by SMS or e-mail;
    /// the source is kept and the change recorded on the debtor's open cases.
    Consent(crate::dispatch_admin::ConsentArgs),
    /// A debtor's consents, with when and from what source they were given, and their history.
    Consents(crate::dispatch_admin::ConsentsArgs),
    /// Decide about an in-doubt message: --sent (it did leave) or --not-sent (send it again).
    Resolve(crate::dispatch_admin::ResolveArgs),
}

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub tenant: TenantArg,
    /// The moment of the run, Dutch/Belgian local time (`2026-12-03T10:00`) or RFC 3339 with
    /// an offset (default: now).
    #[arg(long)]
    pub now: Option<String>,
    /// Only this channel: email or sms (default: both).
    #[arg(long)]
    pub channel: Option<String>,
    /// The SMTP server: smtp://[user@]host[:port][?tls=none|starttls|tls] or smtps://...; the
    /// password comes from INCASSO_SMTP_PASSWORD.
    #[arg(long, env = "INCASSO_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// A PEM file with the CA certificate(s) of a relay with a private CA, trusted besides the
    /// public roots (for tls=starttls and tls=tls).
    #[arg(long, value_name = "FILE")]
    pub smtp_ca: Option<PathBuf>,
    /// Sender address (default: the creditor's e-mail address).
    #[arg(long)]
    pub from: Option<String>,
    /// Reply-To address (default: the sender address).
    #[arg(long)]
    pub reply_to: Option<String>,
    /// MessageBird API base URL; the access key comes from INCASSO_SMS_KEY.
    #[arg(long, env = "INCASSO_SMS_URL", default_value = MESSAGEBIRD_URL)]
    pub sms_url: String,
    /// SMS sender name (up to 11 letters/digits) or number.
    #[arg(long, default_value = "Incasso")]
    pub sms_from: String,
    /// Contact rules (TOML: quiet hours, weekly cap, consent); defaults in docs/dispatch.md.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// A directory with the creditor's own message templates (same layout as the built-in).
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// The debtor-portal link for the messages and letters; `{case}` becomes the case id.
    #[arg(long, env = "INCASSO_PORTAL_URL")]
    pub portal_url: Option<String>,
    /// A directory of adapted letter templates (as `incasso letter preview --templates`);
    /// they are all compiled before anything is sent.
    #[arg(long, env = "INCASSO_LETTER_TEMPLATES")]
    pub letter_templates: Option<PathBuf>,
}

/// The run's moment: `--now`, or the clock (the composition root is the one place that reads it).
#[allow(clippy::disallowed_methods)]
fn parse_now(v: Option<&str>) -> anyhow::Result<jiff::Timestamp> {
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

pub fn dispatch(
    db: &str,
    args: DispatchArgs,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(DispatchCommand::Failed { tenant }) => failed(db, &tenant, json, out),
        Some(DispatchCommand::Consent(a)) => crate::dispatch_admin::consent(db, a, json, out),
        Some(DispatchCommand::Consents(a)) => crate::dispatch_admin::consents(db, a, json, out),
        Some(DispatchCommand::Resolve(a)) => crate::dispatch_admin::resolve(db, a, json, out),
        None => send(db, args.send, json, out),
    }
}

fn send(db: &str, a: SendArgs, json: bool, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let now = parse_now(a.now.as_deref())?;
    let channels = match a.channel.as_deref() {
        None => vec![Channel::Email, Channel::Sms],
        Some(c) => vec![
            Channel::parse(c).ok_or_else(|| anyhow!("--channel {c:?}: expected email or sms"))?,
        ],
    };
    let rules = match &a.rules {
        None => ContactRules::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading contact rules {}", p.display()))?;
            ContactRules::from_toml(&text, &p.display().to_string())?
        }
    };
    let templates = match &a.templates {
        None => Templates::builtin()?,
        Some(dir) => Templates::with_overrides(dir)?,
    };
    // A creditor's own letter templates are compiled before anything is sent: an error names
    // the template and line and stops the run here.
    let letter_templates = match &a.letter_templates {
        None => LetterTemplates::builtin(),
        Some(dir) => {
            let t = LetterTemplates::from_dir(dir)?;
            t.check_all()?;
            t
        }
    };
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), &a.tenant)?;
    let from = match (&a.from, &creditor.details.email) {
        (Some(f), _) => f.clone(),
        (None, Some(e)) => e.as_str().to_string(),
        (None, None) => String::new(),
    };
    let email_sender = if channels.contains(&Channel::Email) {
        match &a.smtp_url {
            Some(url) => {
                if from.is_empty() {
                    bail!(
                        "no sender address: the creditor has no e-mail address; pass --from ADDRESS"
                    );
                }
                let password = std::env::var("INCASSO_SMTP_PASSWORD").ok().map(Secret::new);
                let mut config = SmtpConfig::from_url(url, password)?;
                config.ca_file = a.smtp_ca.clone();
                Some(SmtpSender::new(config).map_err(|e| anyhow!("{}", e.reason))?)
            }
            None => None,
        }
    } else {
        None
    };
    let sms_sender = match (
        channels.contains(&Channel::Sms),
        std::env::var("INCASSO_SMS_KEY"),
    ) {
        (true, Ok(key)) if !key.is_empty() => Some(MessageBird::new(
            &a.sms_url,
            Secret::new(key),
            Duration::from_secs(30),
        )),
        _ => None,
    };
    if email_sender.is_none() && sms_sender.is_none() {
        bail!(
            "nothing to send with: give --smtp-url (or INCASSO_SMTP_URL) for e-mail and/or INCASSO_SMS_KEY for SMS"
        );
    }
    let config = DispatchConfig {
        rules,
        channels,
        from_name: creditor.details.name.clone(),
        reply_to: a.reply_to.clone().or_else(|| Some(from.clone())),
        from_address: from,
        sms_originator: a.sms_from.clone(),
        portal_url: a.portal_url.clone(),
        templates,
    };
    let report = app::dispatch(
        store.as_mut(),
        creditor.id,
        now,
        &config,
        &mut Senders {
            email: email_sender
                .as_ref()
                .map(|s| s as &dyn incasso_messaging::EmailSender),
            sms: sms_sender
                .as_ref()
                .map(|s| s as &dyn incasso_messaging::SmsSender),
            letters: &mut CaseLetters::new(letter_templates, a.portal_url.clone()),
            dossier: &mut CaseDossier,
        },
    )?;
    if json {
        let items: Vec<Value> = report
            .items
            .iter()
            .map(|i| {
                json!({"action": i.action_id, "channel": i.channel.code(), "outcome": i.outcome,
                       "detail": i.detail, "until": i.until})
            })
            .collect();
        print_json(
            out,
            &json!({
                "now": app::stamp(now),
                "sent": report.sent,
                "actions_sent": report.actions_sent,
                "deferred_quiet_hours": report.deferred_quiet_hours,
                "deferred_cap": report.deferred_cap,
                "refused": report.refused,
                "failed_temporary": report.failed_temporary,
                "failed_permanent": report.failed_permanent,
                "waiting_retry": report.waiting_retry,
                "in_doubt": report.in_doubt,
                "newly_in_doubt": report.newly_in_doubt,
                "recovered": report.recovered,
                "not_in_dossier": report.missing_documents,
                "skipped": report.skipped,
                "items": items,
            }),
        )?;
    } else {
        writeln!(
            out,
            "Dispatch at {} (local {}): {} sent ({} actions done), {} deferred by quiet hours, {} deferred by the weekly cap, {} refused, {} failed (temporary {}, permanent {}), {} waiting for a retry, {} in doubt, {} recovered from the dossier, {} skipped (no letter)",
            app::stamp(now),
            to_local(now),
            report.sent,
            report.actions_sent,
            report.deferred_quiet_hours,
            report.deferred_cap,
            report.refused,
            report.failed_temporary + report.failed_permanent,
            report.failed_temporary,
            report.failed_permanent,
            report.waiting_retry,
            report.in_doubt,
            report.recovered,
            report.skipped
        )?;
        if !report.items.is_empty() {
            let mut t = Table::new(&[
                ("action", Align::Right),
                ("channel", Align::Left),
                ("outcome", Align::Left),
                ("until", Align::Left),
                ("detail", Align::Left),
            ]);
            for i in &report.items {
                t.row(vec![
                    i.action_id.to_string(),
                    i.channel.code().into(),
                    i.outcome.into(),
                    i.until.clone().unwrap_or_default(),
                    i.detail.clone(),
                ]);
            }
            t.print(out)?;
        }
        if report.missing_documents > 0 {
            writeln!(
                out,
                "Not in the dossier: {} sent messages are missing from their case's dossier (a run stopped between sending and recording); see docs/dispatch.md.",
                report.missing_documents
            )?;
        }
        if report.in_doubt > 0 {
            writeln!(
                out,
                "In doubt: a run stopped while sending these; they are not resent automatically. See `incasso dispatch failed`."
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn failed(
    db: &str,
    tenant: &TenantArg,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), tenant)?;
    let rows = app::failed_attempts(store.as_mut(), creditor.id)?;
    if json {
        let list: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({"attempt_id": r.id, "action": r.action_id, "channel": r.channel,
                       "attempt": r.attempt, "status": r.status.code(), "recipient": r.recipient,
                       "message_id": r.message_id, "reason": r.reason,
                       "next_retry_at": r.next_retry_at, "updated_at": r.updated_at})
            })
            .collect();
        print_json(out, &json!({"count": rows.len(), "attempts": list}))?;
    } else if rows.is_empty() {
        writeln!(out, "No failed or in-doubt messages.")?;
    } else {
        let mut t = Table::new(&[
            ("attempt", Align::Right),
            ("action", Align::Right),
            ("channel", Align::Left),
            ("try", Align::Right),
            ("status", Align::Left),
            ("next retry", Align::Left),
            ("reason", Align::Left),
        ]);
        for r in &rows {
            t.row(vec![
                r.id.to_string(),
                r.action_id.to_string(),
                r.channel.clone(),
                r.attempt.to_string(),
                r.status.code().into(),
                r.next_retry_at.clone().unwrap_or_default(),
                r.reason.clone(),
            ]);
        }
        t.print(out)?;
    }
    Ok(ExitCode::SUCCESS)
}
