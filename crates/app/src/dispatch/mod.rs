//! Dispatch: sends the due outbox actions by e-mail and SMS, with quiet hours, the weekly
//! contact cap and channel consent applied (issue #5).
//!
//! For every message the order is: (1) compose the exact bytes (with the letter PDF) and
//! record the attempt as `sending` with its Message-ID and their SHA-256, in its own
//! transaction, durable before anything leaves; (2) send; (3) when accepted, record in one
//! transaction the message (and its letter) in the case's dossier, the attempt `sent` and,
//! with the action's last message, the action `sent` (`DispatchStore::record_sent`); when
//! refused, the outcome (`failed_temporary` with the next retry time, or `failed_permanent`).
//! A crash between (1) and (3) leaves the attempt `sending`; the next run marks it `in_doubt`
//! and never resends it by itself: SMTP offers no way to ask whether a message left. A person
//! decides (`incasso dispatch failed` lists them). An in-doubt attempt whose message the
//! dossier holds (left by versions that recorded the dossier and the outcome separately) did
//! leave, and the run resolves it as sent. A sent message of a still-queued action that the
//! dossier lacks is reported (`not_in_dossier`). See docs/dispatch.md.
//!
//! Parts: `hooks` (the letter and dossier hooks), `read_ahead` (which letters are read ahead
//! for the rendering threads), `message` (what a message says and carries).
//!
//! The letters are rendered ahead on worker threads (`crate::dispatch_ahead`) while this
//! thread does the store writes and the sending in action order: the letter's data is read
//! here, a few actions ahead but never before the debtor's earlier actions are done, and only
//! the rendering moves. The order of writes above is unchanged.

use std::collections::HashMap;

use anyhow::Context;
use incasso_calendar::Date;
use incasso_domain::{CreditorId, Debtor, DebtorId, InvoiceId};
use incasso_messaging::email::{OutgoingEmail, domain_of};
use incasso_messaging::rules::to_local;
use incasso_messaging::{
    Attachment, Channel, ContactFacts, ContactRules, Decision, EmailSender, FailureKind,
    InvoiceLine, MessageData, SmsMessage, SmsSender, Templates, compose, message_id, next_retry,
    sha256_hex,
};
use incasso_money::Money;
use incasso_store::{
    ActionRow, ActionStatus, AttemptOutcome, AttemptRow, AttemptStatus, InvoiceFilter, NewAttempt,
    NewDocument, SentRecord, Store, StoreError,
};
use jiff::Timestamp;

use crate::dispatch_ahead::Ahead;

mod hooks;
mod message;
mod read_ahead;
#[cfg(test)]
pub(crate) mod tests;

pub use hooks::*;
pub use message::format_money;
use message::{contact_facts, invoice_pdfs, message_data, open_invoices, recipient};
use read_ahead::{LETTERS_AHEAD_PER_WORKER, Lookahead, cached_debtor, read_ahead};

/// The creditor's dispatch settings.
pub struct DispatchConfig {
    pub rules: ContactRules,
    /// The channels this run sends (others wait for another run).
    pub channels: Vec<Channel>,
    pub from_name: String,
    pub from_address: String,
    pub reply_to: Option<String>,
    /// SMS sender name or number.
    pub sms_originator: String,
    /// The debtor-portal link; `{case}` is replaced by the case id.
    pub portal_url: Option<String>,
    pub templates: Templates,
}

/// The senders and hooks a run uses.
pub struct Senders<'a> {
    pub email: Option<&'a dyn EmailSender>,
    pub sms: Option<&'a dyn SmsSender>,
    pub letters: &'a mut dyn LetterRenderer,
    pub dossier: &'a mut dyn DocumentRecorder,
}

/// What happened to one message of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchItem {
    pub action_id: i64,
    pub channel: Channel,
    /// `sent`, `deferred`, `refused`, `failed_temporary`, `failed_permanent`, `in_doubt`,
    /// `waiting_retry`, `recovered`, `not_in_dossier`, `skipped`.
    pub outcome: &'static str,
    pub detail: String,
    /// For deferred and temporarily failed messages: when to try again (UTC RFC 3339).
    pub until: Option<String>,
}

/// What a dispatch run did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DispatchReport {
    pub sent: u64,
    pub deferred_quiet_hours: u64,
    pub deferred_cap: u64,
    pub refused: u64,
    pub failed_temporary: u64,
    pub failed_permanent: u64,
    pub in_doubt: u64,
    pub waiting_retry: u64,
    /// Attempts this run found left in `sending` by a stopped process.
    pub newly_in_doubt: u64,
    /// In-doubt attempts resolved as sent because the case's dossier holds the message (it is
    /// recorded there only after the server accepted it).
    pub recovered: u64,
    /// Sent messages of still-queued actions that the case's dossier does not hold (a stop
    /// between sending and recording; see docs/dispatch.md).
    pub missing_documents: u64,
    /// Messages not sent because their letter cannot be made now (they wait).
    pub skipped: u64,
    pub actions_sent: u64,
    pub items: Vec<DispatchItem>,
}

/// A moment as stored: UTC RFC 3339 to the second.
pub fn stamp(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .to_string()
}

fn parse_stamp(s: &str) -> anyhow::Result<Timestamp> {
    s.parse()
        .with_context(|| format!("stored moment {s:?} is not RFC 3339"))
}

/// The e-mail and SMS channels of an action's channel list.
fn messaging_channels(channels: &str) -> Vec<Channel> {
    channels.split(',').filter_map(Channel::parse).collect()
}

/// Where an action's channel stands, from its earlier attempts.
enum ChannelState {
    Done,
    Blocked(AttemptStatus),
    FailedForGood(String),
    WaitingRetry(String),
    Next(u32),
}

fn channel_state(attempts: &[&AttemptRow], now: Timestamp) -> anyhow::Result<ChannelState> {
    if attempts.iter().any(|a| a.status == AttemptStatus::Sent) {
        return Ok(ChannelState::Done);
    }
    if let Some(a) = attempts
        .iter()
        .find(|a| matches!(a.status, AttemptStatus::Sending | AttemptStatus::InDoubt))
    {
        return Ok(ChannelState::Blocked(a.status));
    }
    let Some(last) = attempts.iter().max_by_key(|a| a.attempt) else {
        return Ok(ChannelState::Next(1));
    };
    match last.status {
        AttemptStatus::FailedPermanent => Ok(ChannelState::FailedForGood(last.reason.clone())),
        AttemptStatus::FailedTemporary => match &last.next_retry_at {
            None => Ok(ChannelState::FailedForGood(format!(
                "retries exhausted: {}",
                last.reason
            ))),
            Some(at) if parse_stamp(at)? > now => Ok(ChannelState::WaitingRetry(at.clone())),
            Some(_) => Ok(ChannelState::Next(last.attempt + 1)),
        },
        _ => Ok(ChannelState::Next(last.attempt + 1)),
    }
}

/// Sends the tenant's due e-mail and SMS actions at `now`. See the module docs for the order
/// of writes and what a crash leaves.
pub fn dispatch(
    store: &mut dyn Store,
    tenant: CreditorId,
    now: Timestamp,
    config: &DispatchConfig,
    senders: &mut Senders<'_>,
) -> anyhow::Result<DispatchReport> {
    let mut report = DispatchReport::default();
    let at = stamp(now);
    let today = to_local(now).date();
    report.newly_in_doubt = store.mark_in_doubt(tenant, &at)?;
    let creditor = store.creditor(tenant)?;
    let all_actions = store.actions(tenant, None)?;
    recover_in_doubt(
        store,
        tenant,
        &all_actions,
        (&at, today),
        senders,
        &mut report,
    )?;
    let cases: HashMap<i64, DebtorId> = store
        .cases(tenant, false)?
        .into_iter()
        .map(|c| (c.id, c.debtor_id))
        .collect();
    let all_attempts = store.attempts(tenant, None)?;
    let mut by_action: HashMap<(i64, Channel), Vec<&AttemptRow>> = HashMap::new();
    for a in &all_attempts {
        if let Some(ch) = Channel::parse(&a.channel) {
            by_action.entry((a.action_id, ch)).or_default().push(a);
        }
    }
    let due: Vec<ActionRow> = all_actions
        .into_iter()
        .filter(|a| a.action.status == ActionStatus::Queued && a.action.created_on <= today)
        .filter(|a| !messaging_channels(&a.action.channels).is_empty())
        .collect();
    let mut debtors: HashMap<DebtorId, Debtor> = HashMap::new();
    let run = RunContext {
        tenant,
        now,
        config,
        by_action: &by_action,
        week_ago: stamp(
            now.checked_sub(jiff::SignedDuration::from_hours(24 * 7))
                .unwrap_or(now),
        ),
    };
    // The letters are rendered ahead on worker threads while this thread sends.
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut ahead = Ahead::new(workers, LETTERS_AHEAD_PER_WORKER * workers);
    let mut lookahead = Lookahead::default();

    for (index, action) in due.iter().enumerate() {
        if let Some(previous) = index.checked_sub(1).and_then(|i| due.get(i))
            && let Some(&debtor) = cases.get(&previous.case_id)
        {
            lookahead.done(index - 1, debtor);
            if !lookahead.has_open(debtor) {
                // No action of the debtor within reach: a later one reads it again, so the
                // cache holds the window's debtors, not every debtor of the run.
                debtors.remove(&debtor);
            }
        }
        read_ahead(
            &run,
            store,
            senders,
            (&due, index, &cases),
            &mut lookahead,
            &mut ahead,
            &mut debtors,
        );
        let case_id = action.case_id;
        let debtor_id = *cases
            .get(&case_id)
            .with_context(|| format!("action {}: case {case_id} not found", action.id))?;
        let debtor = cached_debtor(store, tenant, &mut debtors, debtor_id)?;
        let lang = debtor.details.language.code();
        let channels = messaging_channels(&action.action.channels);
        let postal = crate::letters::is_post(action);
        let mut done = 0usize;
        // Whether the action went `sent` with its last message (in the same transaction).
        let mut marked_sent = false;
        let mut failed_for_good: Vec<String> = Vec::new();
        for &channel in &channels {
            let item =
                |outcome: &'static str, detail: String, until: Option<String>| DispatchItem {
                    action_id: action.id,
                    channel,
                    outcome,
                    detail,
                    until,
                };
            let earlier = by_action
                .get(&(action.id, channel))
                .cloned()
                .unwrap_or_default();
            let attempt_no = match channel_state(&earlier, now)? {
                ChannelState::Done => {
                    done += 1;
                    if let Some(sent) = earlier.iter().find(|a| a.status == AttemptStatus::Sent)
                        && senders
                            .dossier
                            .holds(store, tenant, case_id, &sent.sha256)?
                            == Some(false)
                    {
                        report.missing_documents += 1;
                        report.items.push(item(
                            "not_in_dossier",
                            format!(
                                "attempt {} ({}) was sent but the case's dossier does not hold it (SHA-256 {})",
                                sent.attempt, sent.message_id, sent.sha256
                            ),
                            None,
                        ));
                    }
                    continue;
                }
                ChannelState::Blocked(status) => {
                    report.in_doubt += 1;
                    report.items.push(item(
                        "in_doubt",
                        format!(
                            "an earlier attempt is {}: it may or may not have left; a person decides",
                            status.code()
                        ),
                        None,
                    ));
                    continue;
                }
                ChannelState::FailedForGood(reason) => {
                    failed_for_good.push(format!("{}: {reason}", channel.code()));
                    continue;
                }
                ChannelState::WaitingRetry(until) => {
                    report.waiting_retry += 1;
                    report.items.push(item(
                        "waiting_retry",
                        "retry not yet due".into(),
                        Some(until),
                    ));
                    continue;
                }
                ChannelState::Next(n) => n,
            };
            if !config.channels.contains(&channel) {
                continue;
            }
            let Some(recipient) = recipient(&debtor, channel) else {
                report.refused += 1;
                report.items.push(item(
                    "refused",
                    format!("the debtor has no {} contact", channel.code()),
                    None,
                ));
                continue;
            };
            let facts = contact_facts(store, tenant, &debtor, &run.week_ago)?;
            match config.rules.decide(channel, &facts, now) {
                Decision::Allow => {}
                Decision::DeferUntil(until, why) => {
                    if why == "weekly contact cap" {
                        report.deferred_cap += 1;
                    } else {
                        report.deferred_quiet_hours += 1;
                    }
                    report.items.push(item("deferred", why, Some(stamp(until))));
                    continue;
                }
                Decision::Refuse(why) => {
                    report.refused += 1;
                    report.items.push(item("refused", why, None));
                    continue;
                }
            }
            let open = open_invoices(store, tenant, debtor_id)?;
            let data = message_data(&open, &creditor, &debtor, action, config, lang);
            // Compose the exact bytes first: their hash is recorded before anything leaves.
            let mut letter = None;
            let (msg_id, prepared) = match channel {
                Channel::Email => {
                    let Some(_) = senders.email else {
                        continue;
                    };
                    let rendered = config
                        .templates
                        .email(&action.action.template, lang, &data)?;
                    let mut attachments = Vec::new();
                    let letter_made = match ahead.take(index) {
                        Some(made) => made,
                        None => senders
                            .letters
                            .prepare(store, tenant, action, &debtor, now)?
                            .finish(),
                    };
                    match letter_made? {
                        Letter::Pdf(pdf) => {
                            attachments.push(pdf.clone());
                            letter = Some(pdf);
                        }
                        Letter::None => {}
                        Letter::CannotMake(why) => {
                            report.skipped += 1;
                            report.items.push(item(
                                "skipped",
                                format!("the letter cannot be made: {why}"),
                                None,
                            ));
                            continue;
                        }
                    }
                    attachments.extend(invoice_pdfs(store, tenant, &open)?);
                    let id = message_id(
                        tenant.get(),
                        action.id,
                        attempt_no,
                        domain_of(&config.from_address),
                    );
                    let composed = compose(&OutgoingEmail {
                        from_name: config.from_name.clone(),
                        from_address: config.from_address.clone(),
                        reply_to: config.reply_to.clone(),
                        to: vec![recipient.clone()],
                        subject: rendered.subject,
                        text: rendered.text,
                        html: rendered.html,
                        attachments,
                        message_id: id.clone(),
                        date: now,
                    })?;
                    (id, Prepared::Email(composed))
                }
                Channel::Sms => {
                    let Some(_) = senders.sms else {
                        continue;
                    };
                    let text = config.templates.sms(lang, &data)?;
                    let id = format!("incasso.{}.{}.{attempt_no}", tenant.get(), action.id);
                    let msg = SmsMessage {
                        originator: config.sms_originator.clone(),
                        recipient: recipient.clone(),
                        body: text,
                        reference: id.clone(),
                    };
                    (id, Prepared::Sms(msg))
                }
            };
            // The exact bytes that leave: the raw e-mail or the SMS text.
            let bytes: &[u8] = match &prepared {
                Prepared::Email(m) => &m.raw,
                Prepared::Sms(m) => m.body.as_bytes(),
            };
            let sha = sha256_hex(bytes);
            let attempt_id = match store.begin_attempt(
                tenant,
                &NewAttempt {
                    action_id: action.id,
                    debtor_id,
                    channel: channel.code().into(),
                    attempt: attempt_no,
                    recipient: recipient.clone(),
                    message_id: msg_id.clone(),
                    sha256: sha.clone(),
                    at: at.clone(),
                },
            ) {
                Ok(id) => id,
                // Another dispatcher recorded it first: it is theirs to send.
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            let result = match (&prepared, senders.email, senders.sms) {
                (Prepared::Email(m), Some(s), _) => s.send(m),
                (Prepared::Sms(m), _, Some(s)) => s.send(m),
                _ => unreachable!("a sender was checked before composing"),
            };
            match result {
                Ok(accepted) => {
                    // What the message leaves behind is recorded at once: its documents in
                    // the dossier, the attempt sent and, with the action's last message, the
                    // action sent. A stop before this commits leaves the attempt `sending`,
                    // which the next run marks in doubt.
                    let documents = senders.dossier.documents(
                        store,
                        tenant,
                        &SentDocument {
                            case_id,
                            action_id: action.id,
                            step: &action.action.step_id,
                            attempt_id,
                            attempt: attempt_no,
                            channel,
                            recipient: &recipient,
                            message_id: &msg_id,
                            provider_id: &accepted.provider_id,
                            sha256: &sha,
                            bytes,
                            letter: letter.as_ref(),
                            at: now,
                        },
                    )?;
                    let last = done + 1 == channels.len() && !postal;
                    store.record_sent(
                        tenant,
                        &SentRecord {
                            attempt_id,
                            provider_id: &accepted.provider_id,
                            at: &at,
                            documents: &documents,
                            action_sent: last.then_some((action.id, today)),
                        },
                    )?;
                    if last {
                        marked_sent = true;
                        report.actions_sent += 1;
                    }
                    report.sent += 1;
                    done += 1;
                    report
                        .items
                        .push(item("sent", format!("{recipient} ({msg_id})"), None));
                }
                Err(e) if e.kind == FailureKind::Temporary => {
                    let retry = next_retry(attempt_no, now).map(stamp);
                    store.finish_attempt(
                        tenant,
                        attempt_id,
                        &AttemptOutcome::FailedTemporary {
                            reason: e.reason.clone(),
                            next_retry_at: retry.clone(),
                        },
                        &at,
                    )?;
                    if retry.is_none() {
                        failed_for_good.push(format!(
                            "{}: retries exhausted: {}",
                            channel.code(),
                            e.reason
                        ));
                        report.failed_permanent += 1;
                    } else {
                        report.failed_temporary += 1;
                    }
                    report.items.push(item("failed_temporary", e.reason, retry));
                }
                Err(e) => {
                    store.finish_attempt(
                        tenant,
                        attempt_id,
                        &AttemptOutcome::FailedPermanent {
                            reason: e.reason.clone(),
                        },
                        &at,
                    )?;
                    failed_for_good.push(format!("{}: {}", channel.code(), e.reason));
                    report.failed_permanent += 1;
                    report.items.push(item("failed_permanent", e.reason, None));
                }
            }
        }
        if done == channels.len() && !postal && !marked_sent {
            store.set_action_status(tenant, action.id, ActionStatus::Sent, Some(today), "")?;
            report.actions_sent += 1;
        } else if done == 0 && !postal && failed_for_good.len() == channels.len() {
            store.set_action_status(
                tenant,
                action.id,
                ActionStatus::Failed,
                None,
                &failed_for_good.join("; "),
            )?;
        }
    }
    Ok(report)
}

/// Resolves as sent every in-doubt attempt whose message the case's dossier holds: the
/// dossier records a message only after the server accepted it, so the run that stopped did
/// send it and only failed to record the outcome.
fn recover_in_doubt(
    store: &mut dyn Store,
    tenant: CreditorId,
    actions: &[ActionRow],
    (at, today): (&str, Date),
    senders: &mut Senders<'_>,
    report: &mut DispatchReport,
) -> anyhow::Result<()> {
    let in_doubt: Vec<AttemptRow> = store
        .attempts(tenant, None)?
        .into_iter()
        .filter(|a| a.status == AttemptStatus::InDoubt)
        .collect();
    if in_doubt.is_empty() {
        return Ok(());
    }
    let case_of: HashMap<i64, i64> = actions.iter().map(|a| (a.id, a.case_id)).collect();
    for a in in_doubt {
        let Some(&case_id) = case_of.get(&a.action_id) else {
            continue;
        };
        if senders.dossier.holds(store, tenant, case_id, &a.sha256)? != Some(true) {
            continue;
        }
        store.resolve_in_doubt(
            tenant,
            a.id,
            true,
            "the case's dossier holds the message: the server had accepted it",
            at,
            today,
        )?;
        report.recovered += 1;
        report.items.push(DispatchItem {
            action_id: a.action_id,
            channel: Channel::parse(&a.channel).unwrap_or(Channel::Email),
            outcome: "recovered",
            detail: format!(
                "attempt {} ({}) was in doubt; the dossier holds it, so it left",
                a.attempt, a.message_id
            ),
            until: None,
        });
    }
    Ok(())
}

/// What a run reads once and every action looks at.
struct RunContext<'a> {
    tenant: CreditorId,
    now: Timestamp,
    config: &'a DispatchConfig,
    by_action: &'a HashMap<(i64, Channel), Vec<&'a AttemptRow>>,
    /// The start of the weekly contact cap's week (UTC RFC 3339).
    week_ago: String,
}

enum Prepared {
    Email(incasso_messaging::ComposedEmail),
    Sms(SmsMessage),
}

/// The latest attempt of every action and channel that did not end sent (failed, waiting for
/// a retry, in doubt), for a person to look at.
pub fn failed_attempts(
    store: &mut dyn Store,
    tenant: CreditorId,
) -> anyhow::Result<Vec<AttemptRow>> {
    let mut latest: HashMap<(i64, String), AttemptRow> = HashMap::new();
    for a in store.attempts(tenant, None)? {
        let key = (a.action_id, a.channel.clone());
        if latest.get(&key).is_none_or(|b| b.attempt < a.attempt) {
            latest.insert(key, a);
        }
    }
    let mut out: Vec<AttemptRow> = latest
        .into_values()
        .filter(|a| a.status != AttemptStatus::Sent)
        .collect();
    out.sort_by_key(|a| a.id);
    Ok(out)
}
