//! Dispatch: sends the due outbox actions by e-mail and SMS, with quiet hours, the weekly
//! contact cap and channel consent applied (issue #5).
//!
//! For every message the order is: (1) compose the exact bytes (with the letter PDF) and
//! record the attempt as `sending` with its Message-ID and their SHA-256, in its own
//! transaction; (2) send; (3) when accepted, record the message (and its letter) in the case's
//! dossier; (4) record the outcome (`sent`, `failed_temporary` with the next retry time, or
//! `failed_permanent`) and, when every e-mail/SMS channel of an action without a postal
//! channel is sent, mark the action `sent`.
//! A crash between (1) and (4) leaves the attempt `sending`; the next run marks it `in_doubt`
//! and never resends it by itself: SMTP offers no way to ask whether a message left. When the
//! dossier holds the message, it did leave (step 3 comes after the server's answer) and the
//! run resolves the attempt as sent; otherwise a person decides (`incasso dispatch failed`
//! lists them). A sent message of a still-queued action that the dossier lacks is reported
//! (`not_in_dossier`). See docs/dispatch.md.
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

/// What the letter hook made for an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Letter {
    /// The letter PDF, to attach.
    Pdf(Attachment),
    /// The step has no letter: the message goes without one.
    None,
    /// The letter cannot be made for this case now (for example: nothing is overdue on the
    /// dispatch date); the message waits, and the reason is reported.
    CannotMake(String),
}

/// A letter on its way: made already, or a rendering job that needs no store and may run on
/// another thread (see [`LetterRenderer::prepare`]).
pub enum LetterJob {
    Done(Letter),
    /// Renders the letter. An error stops the run before the message is sent (a broken
    /// template).
    Render(Box<dyn FnOnce() -> anyhow::Result<Letter> + Send>),
}

impl LetterJob {
    /// The letter, rendered on this thread if it still has to be.
    pub fn finish(self) -> anyhow::Result<Letter> {
        match self {
            LetterJob::Done(letter) => Ok(letter),
            LetterJob::Render(render) => render(),
        }
    }
}

/// Makes the letter PDF that goes with an action (`crate::dispatch_hooks::CaseLetters` plugs
/// in the letters crate), in two parts: [`LetterRenderer::prepare`] reads what the letter
/// needs from the store on the dispatching thread, and the [`LetterJob`] it returns renders
/// the PDF without the store, on a worker thread while earlier messages are sent.
pub trait LetterRenderer {
    /// Reads what the letter for `action` to `debtor`, dated by `now` (the run's moment),
    /// needs. Only reads: a run calls it a few actions ahead of sending, never before the
    /// debtor's earlier actions of the run are done, and drops the job when the message does
    /// not go after all. An error stops the run before the message is sent.
    fn prepare(
        &mut self,
        store: &mut dyn Store,
        tenant: CreditorId,
        action: &ActionRow,
        debtor: &Debtor,
        now: Timestamp,
    ) -> anyhow::Result<LetterJob>;
}

/// No letter is attached.
pub struct NoLetter;

impl LetterRenderer for NoLetter {
    fn prepare(
        &mut self,
        _: &mut dyn Store,
        _: CreditorId,
        _: &ActionRow,
        _: &Debtor,
        _: Timestamp,
    ) -> anyhow::Result<LetterJob> {
        Ok(LetterJob::Done(Letter::None))
    }
}

/// A message that left, as it should be kept in the case's dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentDocument<'a> {
    pub case_id: i64,
    pub action_id: i64,
    /// The policy step of the action.
    pub step: &'a str,
    pub attempt_id: i64,
    /// The attempt number (1 for the first).
    pub attempt: u32,
    pub channel: Channel,
    pub recipient: &'a str,
    pub message_id: &'a str,
    /// The server's or provider's answer (`250 2.0.0 queued as ...`, the SMS id).
    pub provider_id: &'a str,
    pub sha256: &'a str,
    /// The raw `.eml` bytes or the SMS text.
    pub bytes: &'a [u8],
    /// The letter PDF attached to the e-mail.
    pub letter: Option<&'a Attachment>,
    pub at: Timestamp,
}

/// What keeps sent messages as documents (`crate::dispatch_hooks::CaseDossier` keeps them in
/// the case's dossier). Asked after the server accepted a message; the run then records the
/// documents, the attempt `sent` and (for the action's last message) the action `sent` in one
/// transaction ([`incasso_store::DispatchStore::record_sent`]); see docs/dispatch.md.
pub trait DocumentRecorder {
    /// The documents that keep `doc` (none: only the attempt row remains). Only reads.
    fn documents(
        &mut self,
        store: &mut dyn Store,
        tenant: CreditorId,
        doc: &SentDocument<'_>,
    ) -> anyhow::Result<Vec<NewDocument>>;

    /// Whether the case's dossier holds the message with this SHA-256; `None` when this
    /// recorder keeps no documents (nothing to check).
    fn holds(
        &mut self,
        _store: &mut dyn Store,
        _tenant: CreditorId,
        _case_id: i64,
        _sha256: &str,
    ) -> anyhow::Result<Option<bool>> {
        Ok(None)
    }
}

/// Keeps nothing beyond the attempt rows.
pub struct NoDossier;

impl DocumentRecorder for NoDossier {
    fn documents(
        &mut self,
        _: &mut dyn Store,
        _: CreditorId,
        _: &SentDocument<'_>,
    ) -> anyhow::Result<Vec<NewDocument>> {
        Ok(Vec::new())
    }
}

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

/// Formats money the way the language writes it (`€ 1.234,56`, `€1,234.56`).
pub fn format_money(m: Money, lang: &str) -> String {
    let s = m.to_decimal_string();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let (group, dec) = if lang == "en" { (',', '.') } else { ('.', ',') };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let sign = if neg { "-" } else { "" };
    if lang == "en" {
        format!("{sign}€{grouped}{dec}{frac}")
    } else {
        format!("{sign}€ {grouped}{dec}{frac}")
    }
}

fn format_date(d: Date, lang: &str) -> String {
    match lang {
        "de" => d.strftime("%d.%m.%Y").to_string(),
        "en" | "fr" => d.strftime("%d/%m/%Y").to_string(),
        _ => d.strftime("%d-%m-%Y").to_string(),
    }
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
            if !lookahead.open.contains_key(&debtor) {
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
        let postal = action
            .action
            .channels
            .split(',')
            .any(|c| c.trim() == "post");
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
            let (msg_id, bytes, prepared) = match channel {
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
                    (id, composed.raw.clone(), Prepared::Email(composed))
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
                        body: text.clone(),
                        reference: id.clone(),
                    };
                    (id, text.into_bytes(), Prepared::Sms(msg))
                }
            };
            let sha = sha256_hex(&bytes);
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
                            bytes: &bytes,
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

/// Letters read ahead per rendering thread: enough to keep the threads busy while this thread
/// sends, few enough that memory stays bounded (each is one letter's data or PDF).
const LETTERS_AHEAD_PER_WORKER: usize = 4;

/// What a run reads once and every action looks at.
struct RunContext<'a> {
    tenant: CreditorId,
    now: Timestamp,
    config: &'a DispatchConfig,
    by_action: &'a HashMap<(i64, Channel), Vec<&'a AttemptRow>>,
    /// The start of the weekly contact cap's week (UTC RFC 3339).
    week_ago: String,
}

/// Which due actions were considered for reading their letter ahead (those before `next`):
/// per debtor, those of them not done yet (in order), and those whose letter waits for an
/// earlier action of the same debtor to be done.
#[derive(Default)]
struct Lookahead {
    next: usize,
    open: HashMap<DebtorId, std::collections::VecDeque<usize>>,
    waiting: Vec<(usize, DebtorId)>,
}

impl Lookahead {
    /// The action at `index` is done: its writes are in the store.
    fn done(&mut self, index: usize, debtor: DebtorId) {
        if let Some(open) = self.open.get_mut(&debtor) {
            open.retain(|i| *i != index);
            if open.is_empty() {
                self.open.remove(&debtor);
            }
        }
    }

    /// Whether every earlier action of the debtor considered so far is done.
    fn first_open(&self, index: usize, debtor: DebtorId) -> bool {
        self.open
            .get(&debtor)
            .and_then(|open| open.front())
            .is_none_or(|first| *first == index)
    }
}

/// Reads ahead the letters of the due actions after the one at `index` (and of that one),
/// as far as the window allows. A letter is read only when every earlier action of the same
/// debtor is done: the reads see what they would see when the message is sent, since only
/// the debtor's own actions write what a letter reads (its case, its actions, its
/// invoices). Nothing here stops the run: an action whose letter is not read ahead gets it
/// read when its message is sent, as without reading ahead.
fn read_ahead(
    run: &RunContext<'_>,
    store: &mut dyn Store,
    senders: &mut Senders<'_>,
    (due, index, cases): (&[ActionRow], usize, &HashMap<i64, DebtorId>),
    lookahead: &mut Lookahead,
    ahead: &mut Ahead,
    debtors: &mut HashMap<DebtorId, Debtor>,
) {
    ahead.skip_before(index);
    // First the actions whose earlier same-debtor actions are done by now.
    let mut waiting = std::mem::take(&mut lookahead.waiting);
    waiting.retain(|&(j, debtor_id)| {
        if j < index {
            return false;
        }
        if !ahead.has_room() || !lookahead.first_open(j, debtor_id) {
            return true;
        }
        if let Some(action) = due.get(j)
            && let Some(job) = letter_ahead(run, store, senders, debtors, action, debtor_id)
        {
            ahead.push(j, job);
        }
        false
    });
    lookahead.waiting = waiting;
    while lookahead.next < due.len()
        && lookahead.next < index.saturating_add(ahead.window())
        && ahead.has_room()
    {
        let next = lookahead.next;
        lookahead.next += 1;
        let Some(action) = due.get(next) else { break };
        let Some(&debtor_id) = cases.get(&action.case_id) else {
            continue;
        };
        lookahead.open.entry(debtor_id).or_default().push_back(next);
        if !lookahead.first_open(next, debtor_id) {
            lookahead.waiting.push((next, debtor_id));
            continue;
        }
        if let Some(job) = letter_ahead(run, store, senders, debtors, action, debtor_id) {
            ahead.push(next, job);
        }
    }
}

/// The letter job of `action` when its e-mail goes now as far as can be told before the
/// debtor's earlier messages of the run are sent (the same checks as the send loop), else
/// `None`. Only for an action whose first message is the e-mail: another message of the same
/// action sent before it would write between reading and sending.
fn letter_ahead(
    run: &RunContext<'_>,
    store: &mut dyn Store,
    senders: &mut Senders<'_>,
    debtors: &mut HashMap<DebtorId, Debtor>,
    action: &ActionRow,
    debtor_id: DebtorId,
) -> Option<LetterJob> {
    if messaging_channels(&action.action.channels).first() != Some(&Channel::Email)
        || senders.email.is_none()
        || !run.config.channels.contains(&Channel::Email)
    {
        return None;
    }
    let earlier = run
        .by_action
        .get(&(action.id, Channel::Email))
        .cloned()
        .unwrap_or_default();
    if !matches!(channel_state(&earlier, run.now), Ok(ChannelState::Next(_))) {
        return None;
    }
    let debtor = cached_debtor(store, run.tenant, debtors, debtor_id).ok()?;
    recipient(&debtor, Channel::Email)?;
    let facts = contact_facts(store, run.tenant, &debtor, &run.week_ago).ok()?;
    if run.config.rules.decide(Channel::Email, &facts, run.now) != Decision::Allow {
        return None;
    }
    senders
        .letters
        .prepare(store, run.tenant, action, &debtor, run.now)
        .ok()
}

/// The debtor, read once for the actions of the debtor within the read-ahead window.
fn cached_debtor(
    store: &mut dyn Store,
    tenant: CreditorId,
    debtors: &mut HashMap<DebtorId, Debtor>,
    id: DebtorId,
) -> anyhow::Result<Debtor> {
    Ok(match debtors.entry(id) {
        std::collections::hash_map::Entry::Occupied(e) => e.get().clone(),
        std::collections::hash_map::Entry::Vacant(e) => e.insert(store.debtor(tenant, id)?).clone(),
    })
}

/// The debtor's first e-mail address or phone number.
fn recipient(debtor: &Debtor, channel: Channel) -> Option<String> {
    match channel {
        Channel::Email => debtor
            .details
            .emails
            .first()
            .map(|e| e.as_str().to_string()),
        Channel::Sms => debtor
            .details
            .phones
            .first()
            .map(|p| p.as_str().to_string()),
    }
}

/// What the contact rules look at for the debtor now: consents and the contacts since
/// `week_ago`.
fn contact_facts(
    store: &mut dyn Store,
    tenant: CreditorId,
    debtor: &Debtor,
    week_ago: &str,
) -> anyhow::Result<ContactFacts> {
    let consents = store.consents(tenant, debtor.id)?;
    Ok(ContactFacts {
        recent_contacts: store
            .contacts_since(tenant, debtor.id, week_ago)?
            .iter()
            .map(|s| parse_stamp(s))
            .collect::<anyhow::Result<_>>()?,
        email_consent: consents.iter().any(|c| c == "email"),
        sms_consent: consents.iter().any(|c| c == "sms"),
        do_not_contact: debtor.details.do_not_contact,
    })
}

enum Prepared {
    Email(incasso_messaging::ComposedEmail),
    Sms(SmsMessage),
}

/// An open invoice of the debtor, as the message and its attachments need it.
struct OpenInvoice {
    id: InvoiceId,
    number: String,
    issue_date: Date,
    open_amount: Money,
    /// Whether the invoice has a data defect (it is not named in the message).
    defect: bool,
}

/// The debtor's invoices with an open amount, in one listing for the message text and the
/// invoice PDFs.
fn open_invoices(
    store: &mut dyn Store,
    tenant: CreditorId,
    debtor: DebtorId,
) -> anyhow::Result<Vec<OpenInvoice>> {
    let mut open = Vec::new();
    store.for_each_invoice(
        tenant,
        &InvoiceFilter {
            debtor: Some(debtor),
            ..InvoiceFilter::default()
        },
        &mut |row| {
            if row.open_amount.minor() > 0 {
                open.push(OpenInvoice {
                    id: row.id,
                    number: row.number,
                    issue_date: row.issue_date,
                    open_amount: row.open_amount,
                    defect: row.defect.is_some(),
                });
            }
            Ok(())
        },
    )?;
    Ok(open)
}

fn message_data(
    open: &[OpenInvoice],
    creditor: &incasso_domain::Creditor,
    debtor: &Debtor,
    action: &ActionRow,
    config: &DispatchConfig,
    lang: &str,
) -> MessageData {
    let named: Vec<&OpenInvoice> = open.iter().filter(|i| !i.defect).collect();
    let a = &action.action;
    MessageData {
        creditor_name: creditor.details.name.clone(),
        debtor_name: debtor.details.name.clone(),
        amount_total: format_money(a.total, lang),
        costs: a.costs.map(|c| format_money(c, lang)).unwrap_or_default(),
        deadline: format_date(a.deadline, lang),
        iban: creditor.details.iban.to_string(),
        payment_reference: named
            .iter()
            .map(|i| i.number.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        portal_link: config
            .portal_url
            .as_ref()
            .map(|u| u.replace("{case}", &action.case_id.to_string())),
        invoices: named
            .iter()
            .map(|i| InvoiceLine {
                number: i.number.clone(),
                issued: format_date(i.issue_date, lang),
                open: format_money(i.open_amount, lang),
            })
            .collect(),
    }
}

/// The PDF attachments of the debtor's open invoices.
fn invoice_pdfs(
    store: &mut dyn Store,
    tenant: CreditorId,
    open: &[OpenInvoice],
) -> anyhow::Result<Vec<Attachment>> {
    let mut out = Vec::new();
    for invoice in open {
        if let Some(a) = store.attachment(tenant, invoice.id)?
            && a.mime_type == "application/pdf"
        {
            out.push(Attachment {
                filename: a.filename,
                content_type: a.mime_type,
                bytes: a.content,
            });
        }
    }
    Ok(out)
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

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;
    use std::time::Duration;

    use incasso_domain::{DebtorKind, EmailAddress, Language, NewDebtor, PhoneNumber};
    use incasso_messaging::rules::from_local;
    use incasso_messaging::sink::{SinkMode, SmtpSink};
    use incasso_messaging::{Accepted, ComposedEmail, SendError, SmtpConfig, SmtpSender};
    use incasso_store::{CaseRef, DispatchStore, NewAction, NewCase, RunBatch};
    use incasso_store_sqlite::SqliteStore;

    use super::*;

    const LETTER: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../messaging/tests/data/letter.pdf"
    );

    pub(crate) struct PdfLetter;
    impl LetterRenderer for PdfLetter {
        fn prepare(
            &mut self,
            _: &mut dyn Store,
            _: CreditorId,
            action: &ActionRow,
            _: &Debtor,
            _: Timestamp,
        ) -> anyhow::Result<LetterJob> {
            let filename = format!("brief-{}.pdf", action.id);
            // Rendered on a worker thread, like the real letters.
            Ok(LetterJob::Render(Box::new(move || {
                Ok(Letter::Pdf(Attachment {
                    filename,
                    content_type: "application/pdf".into(),
                    bytes: std::fs::read(LETTER)?,
                }))
            })))
        }
    }

    #[derive(Default)]
    struct Recorded(Vec<(i64, String, String, Vec<u8>)>);
    impl DocumentRecorder for Recorded {
        fn documents(
            &mut self,
            _: &mut dyn Store,
            _: CreditorId,
            doc: &SentDocument<'_>,
        ) -> anyhow::Result<Vec<NewDocument>> {
            self.0.push((
                doc.action_id,
                doc.message_id.to_string(),
                doc.sha256.to_string(),
                doc.bytes.to_vec(),
            ));
            Ok(Vec::new())
        }
    }

    /// Sends through the real sender but "crashes" (panics) instead of sending message `n`.
    struct CrashAt<'a> {
        inner: &'a dyn EmailSender,
        n: u32,
        seen: Cell<u32>,
    }
    impl EmailSender for CrashAt<'_> {
        fn send(&self, mail: &ComposedEmail) -> Result<Accepted, SendError> {
            self.seen.set(self.seen.get() + 1);
            if self.seen.get() == self.n {
                panic!("injected crash before message {} left", self.n);
            }
            self.inner.send(mail)
        }
    }

    pub(crate) fn local(s: &str) -> Timestamp {
        from_local(s.parse().unwrap())
    }

    /// A tenant with `n` debtors (e-mail and phone), each with a case and a queued action.
    pub(crate) fn ledger(n: usize, channels: &str) -> (tempfile::TempDir, SqliteStore, CreditorId) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("d.db")).unwrap();
        let t = store
            .add_creditor(&incasso_store::contract::creditor("Bakkerij De Korf"))
            .unwrap();
        let day = incasso_calendar::parse_iso("2026-12-01").unwrap();
        let mut batch = RunBatch::default();
        for i in 0..n {
            let mut d =
                NewDebtor::named(&format!("Debiteur {i}"), DebtorKind::Consumer, Language::Nl);
            d.emails = vec![EmailAddress::parse(&format!("d{i}@klant.example")).unwrap()];
            d.phones = vec![PhoneNumber::parse("+31612345678").unwrap()];
            let id = store.add_debtor(t, &d).unwrap();
            batch.new_cases.push(NewCase {
                debtor_id: id,
                state: "open".into(),
                opened_on: day,
            });
            batch.actions.push((
                CaseRef::New(i),
                NewAction {
                    idempotency_key: format!("k{i}"),
                    policy_name: "nl-b2c".into(),
                    policy_version: 1,
                    step_id: "payment_reminder".into(),
                    template: "payment_reminder".into(),
                    channels: channels.into(),
                    status: ActionStatus::Queued,
                    status_reason: String::new(),
                    created_on: day,
                    deadline: incasso_calendar::parse_iso("2026-12-15").unwrap(),
                    principal: Money::eur_cents(123_456),
                    interest: None,
                    costs: Some(Money::eur_cents(4_000)),
                    total: Money::eur_cents(127_456),
                    why: "test".into(),
                },
            ));
        }
        store.apply_run(t, &batch).unwrap();
        (dir, store, t)
    }

    pub(crate) fn config() -> DispatchConfig {
        DispatchConfig {
            rules: ContactRules::default(),
            channels: vec![Channel::Email, Channel::Sms],
            from_name: "Bakkerij De Korf".into(),
            from_address: "debiteuren@dekorf.example".into(),
            reply_to: Some("administratie@dekorf.example".into()),
            sms_originator: "DeKorf".into(),
            portal_url: Some("https://portal.example/c/{case}".into()),
            templates: Templates::builtin().unwrap(),
        }
    }

    pub(crate) fn smtp(sink: &SmtpSink) -> SmtpSender {
        let mut c =
            SmtpConfig::from_url(&format!("smtp://127.0.0.1:{}?tls=none", sink.port()), None)
                .unwrap();
        c.timeout = Duration::from_secs(2);
        SmtpSender::new(c).unwrap()
    }

    #[test]
    fn due_emails_are_recorded_sent_and_never_sent_twice() {
        let (_dir, mut store, t) = ledger(3, "email");
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let sender = smtp(&sink);
        let mut dossier = Recorded::default();
        let now = local("2026-12-03T10:00");
        let report = dispatch(
            &mut store,
            t,
            now,
            &config(),
            &mut Senders {
                email: Some(&sender),
                sms: None,
                letters: &mut PdfLetter,
                dossier: &mut dossier,
            },
        )
        .unwrap();
        assert_eq!(report.sent, 3, "{report:?}");
        assert_eq!(report.actions_sent, 3);
        assert_eq!(sink.count(), 3);
        let actions = store.actions(t, None).unwrap();
        assert!(
            actions
                .iter()
                .all(|a| a.action.status == ActionStatus::Sent)
        );
        assert_eq!(
            actions[0].dispatched_on,
            Some(incasso_calendar::parse_iso("2026-12-03").unwrap())
        );
        // Every attempt row holds the Message-ID and the hash of the bytes the server got.
        let attempts = store.attempts(t, None).unwrap();
        assert_eq!(attempts.len(), 3);
        for (a, m) in attempts.iter().zip(sink.received()) {
            assert_eq!(a.status, AttemptStatus::Sent);
            assert!(a.provider_id.contains("queued as"), "{}", a.provider_id);
            let text = String::from_utf8_lossy(&m.data);
            assert!(text.contains(&format!("Message-ID: <{}>", a.message_id)));
            assert_eq!(
                a.message_id,
                format!("incasso.{}.{}.1@dekorf.example", t.get(), a.action_id)
            );
            let doc = dossier.0.iter().find(|d| d.0 == a.action_id).unwrap();
            assert_eq!(doc.2, a.sha256);
            assert_eq!(sha256_hex(&doc.3), a.sha256);
            assert!(text.contains("brief-"), "the letter is attached");
            assert!(text.contains("€ 1.274,56") || text.contains("=E2=82=AC 1.274,56"));
            assert!(
                text.contains(&format!("https://portal.example/c/{}", actions[0].case_id))
                    || text.contains("portal.example/c/")
            );
        }
        // The next run sends nothing.
        let again = dispatch(
            &mut store,
            t,
            now,
            &config(),
            &mut Senders {
                email: Some(&sender),
                sms: None,
                letters: &mut PdfLetter,
                dossier: &mut dossier,
            },
        )
        .unwrap();
        assert_eq!(again.sent, 0);
        assert_eq!(sink.count(), 3);
    }

    #[test]
    fn a_crash_mid_batch_loses_nothing_and_duplicates_nothing() {
        let (_dir, mut store, t) = ledger(4, "email");
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let real = smtp(&sink);
        let crashing = CrashAt {
            inner: &real,
            n: 2,
            seen: Cell::new(0),
        };
        let now = local("2026-12-03T10:00");
        let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            dispatch(
                &mut store,
                t,
                now,
                &config(),
                &mut Senders {
                    email: Some(&crashing),
                    sms: None,
                    letters: &mut NoLetter,
                    dossier: &mut NoDossier,
                },
            )
        }));
        assert!(crashed.is_err(), "the injected crash happened");
        assert_eq!(sink.count(), 1);
        let attempts = store.attempts(t, None).unwrap();
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[1].status, AttemptStatus::Sending);

        let report = dispatch(
            &mut store,
            t,
            now,
            &config(),
            &mut Senders {
                email: Some(&real),
                sms: None,
                letters: &mut NoLetter,
                dossier: &mut NoDossier,
            },
        )
        .unwrap();
        assert_eq!(report.newly_in_doubt, 1);
        assert_eq!(report.in_doubt, 1);
        assert_eq!(report.sent, 2, "the two never tried go out: {report:?}");
        assert_eq!(sink.count(), 3, "the in-doubt one is not resent");
        let failed = failed_attempts(&mut store, t).unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].status, AttemptStatus::InDoubt);
        // The first message's action is sent; the in-doubt one waits for a person.
        let actions = store.actions(t, None).unwrap();
        assert_eq!(
            actions
                .iter()
                .filter(|a| a.action.status == ActionStatus::Sent)
                .count(),
            3
        );
        // A person checks: it never left. The next run sends it, as attempt 2.
        store
            .resolve_in_doubt(
                t,
                failed[0].id,
                false,
                "not in the server log",
                &stamp(now),
                to_local(now).date(),
            )
            .unwrap();
        let later = dispatch(
            &mut store,
            t,
            now,
            &config(),
            &mut Senders {
                email: Some(&real),
                sms: None,
                letters: &mut NoLetter,
                dossier: &mut NoDossier,
            },
        )
        .unwrap();
        assert_eq!(
            later.sent,
            1,
            "{later:?} {:?}",
            store.attempts(t, None).unwrap()
        );
        assert_eq!(sink.count(), 4);
        let last = store.attempts(t, None).unwrap().pop().unwrap();
        assert_eq!(last.attempt, 2);
        assert!(last.message_id.ends_with(".2@dekorf.example"));
    }

    #[test]
    fn quiet_hours_and_the_weekly_cap_defer() {
        let (_dir, mut store, t) = ledger(2, "email");
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let sender = smtp(&sink);
        let run = |store: &mut SqliteStore, now: Timestamp, rules: ContactRules| {
            let mut c = config();
            c.rules = rules;
            dispatch(
                store,
                t,
                now,
                &c,
                &mut Senders {
                    email: Some(&sender),
                    sms: None,
                    letters: &mut NoLetter,
                    dossier: &mut NoDossier,
                },
            )
            .unwrap()
        };
        // Sunday 6 December 2026: nothing goes out.
        let sunday = run(
            &mut store,
            local("2026-12-06T12:00"),
            ContactRules::default(),
        );
        assert_eq!(sunday.sent, 0);
        assert_eq!(sunday.deferred_quiet_hours, 2);
        assert_eq!(
            sunday.items[0].until.as_deref(),
            Some("2026-12-07T07:00:00Z")
        );
        assert_eq!(sink.count(), 0);
        // Night.
        let night = run(
            &mut store,
            local("2026-12-07T23:00"),
            ContactRules::default(),
        );
        assert_eq!(night.deferred_quiet_hours, 2);
        // A cap of 0 contacts... means no cap; a cap of 1 with one earlier contact defers.
        let cap = ContactRules {
            max_contacts_per_week: 1,
            ..ContactRules::default()
        };
        let first = run(&mut store, local("2026-12-08T10:00"), cap.clone());
        assert_eq!(first.sent, 2);
        let (_d2, mut store2, t2) = ledger(1, "email");
        // Same debtor, a second action: seed one contact, then the cap holds.
        let debtor = store2.cases(t2, false).unwrap()[0].debtor_id;
        let a = store2.actions(t2, None).unwrap()[0].id;
        let id = store2
            .begin_attempt(
                t2,
                &NewAttempt {
                    action_id: a,
                    debtor_id: debtor,
                    channel: "sms".into(),
                    attempt: 1,
                    recipient: "+31612345678".into(),
                    message_id: "x".into(),
                    sha256: "00".into(),
                    at: stamp(local("2026-12-07T10:00")),
                },
            )
            .unwrap();
        store2
            .finish_attempt(
                t2,
                id,
                &AttemptOutcome::Sent {
                    provider_id: "p".into(),
                },
                &stamp(local("2026-12-07T10:00")),
            )
            .unwrap();
        let mut c = config();
        c.rules = cap;
        let capped = dispatch(
            &mut store2,
            t2,
            local("2026-12-08T10:00"),
            &c,
            &mut Senders {
                email: Some(&sender),
                sms: None,
                letters: &mut NoLetter,
                dossier: &mut NoDossier,
            },
        )
        .unwrap();
        assert_eq!(capped.deferred_cap, 1, "{capped:?}");
        assert_eq!(
            capped.items[0].until.as_deref(),
            Some("2026-12-14T09:00:00Z")
        );
    }

    #[test]
    fn temporary_failures_retry_on_schedule_and_permanent_ones_fail_the_action() {
        let (_dir, mut store, t) = ledger(1, "email");
        let sink = SmtpSink::start(SinkMode::DeferRecipients).unwrap();
        let sender = smtp(&sink);
        let run = |store: &mut SqliteStore, now: Timestamp| {
            dispatch(
                store,
                t,
                now,
                &config(),
                &mut Senders {
                    email: Some(&sender),
                    sms: None,
                    letters: &mut NoLetter,
                    dossier: &mut NoDossier,
                },
            )
            .unwrap()
        };
        let now = local("2026-12-03T10:00");
        let r = run(&mut store, now);
        assert_eq!(r.failed_temporary, 1);
        let failed = failed_attempts(&mut store, t).unwrap();
        assert_eq!(failed[0].status, AttemptStatus::FailedTemporary);
        assert!(failed[0].reason.contains("451"), "{}", failed[0].reason);
        assert_eq!(
            failed[0].next_retry_at.as_deref(),
            Some("2026-12-03T09:05:00Z")
        );
        // Before the retry time: nothing happens.
        let r = run(&mut store, local("2026-12-03T10:03"));
        assert_eq!(r.waiting_retry, 1);
        assert_eq!(store.attempts(t, None).unwrap().len(), 1);
        // After it: attempt 2, now rejected for good.
        sink.set_mode(SinkMode::RejectRecipients);
        let r = run(&mut store, local("2026-12-03T10:06"));
        assert_eq!(r.failed_permanent, 1);
        let attempts = store.attempts(t, None).unwrap();
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[1].status, AttemptStatus::FailedPermanent);
        let action = &store.actions(t, None).unwrap()[0];
        assert_eq!(action.action.status, ActionStatus::Failed);
        assert!(action.action.status_reason.contains("550"));
        assert_eq!(sink.count(), 0);
    }

    #[test]
    fn an_sms_with_consent_goes_out_with_the_portal_link_and_is_recorded() {
        let (_dir, mut store, t) = ledger(1, "sms");
        let debtor = store.cases(t, false).unwrap()[0].debtor_id;
        store
            .set_consent(t, debtor, "sms", true, "2026-12-01T00:00:00Z")
            .unwrap();
        struct Recording(std::cell::RefCell<Vec<SmsMessage>>);
        impl SmsSender for Recording {
            fn send(&self, m: &SmsMessage) -> Result<Accepted, SendError> {
                self.0.borrow_mut().push(m.clone());
                Ok(Accepted {
                    provider_id: "e8077d803532c0b5937c639b60216938".into(),
                })
            }
        }
        let sms = Recording(Default::default());
        let mut dossier = Recorded::default();
        let r = dispatch(
            &mut store,
            t,
            local("2026-12-03T10:00"),
            &config(),
            &mut Senders {
                email: None,
                sms: Some(&sms),
                letters: &mut NoLetter,
                dossier: &mut dossier,
            },
        )
        .unwrap();
        assert_eq!(r.sent, 1, "{r:?}");
        let sent = sms.0.borrow();
        assert_eq!(sent[0].recipient, "+31612345678");
        assert_eq!(sent[0].originator, "DeKorf");
        assert!(sent[0].body.contains("€ 1.274,56"), "{}", sent[0].body);
        assert!(
            sent[0].body.contains("https://portal.example/c/"),
            "{}",
            sent[0].body
        );
        let a = &store.attempts(t, None).unwrap()[0];
        assert_eq!(a.channel, "sms");
        assert_eq!(a.provider_id, "e8077d803532c0b5937c639b60216938");
        assert_eq!(a.sha256, sha256_hex(sent[0].body.as_bytes()));
        assert_eq!(a.message_id, sent[0].reference);
        assert_eq!(dossier.0[0].3, sent[0].body.as_bytes());
        assert_eq!(
            store.actions(t, None).unwrap()[0].action.status,
            ActionStatus::Sent
        );
    }

    /// Names each letter after what the store showed when its data was read (how many of the
    /// case's actions were sent by then), counts the letters rendered off the dispatching
    /// thread, and fails to render the letter of `fail_action` (a broken template).
    struct Observing {
        dispatching: std::thread::ThreadId,
        elsewhere: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        fail_action: Option<i64>,
    }
    impl LetterRenderer for Observing {
        fn prepare(
            &mut self,
            store: &mut dyn Store,
            tenant: CreditorId,
            action: &ActionRow,
            _: &Debtor,
            _: Timestamp,
        ) -> anyhow::Result<LetterJob> {
            let sent = store
                .actions(tenant, Some(action.case_id))?
                .iter()
                .filter(|a| a.action.status == ActionStatus::Sent)
                .count();
            let (id, fail) = (action.id, self.fail_action == Some(action.id));
            let (dispatching, elsewhere) = (self.dispatching, self.elsewhere.clone());
            Ok(LetterJob::Render(Box::new(move || {
                if std::thread::current().id() != dispatching {
                    elsewhere.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                if fail {
                    anyhow::bail!("broken template in the letter of action {id}");
                }
                Ok(Letter::Pdf(Attachment {
                    filename: format!("letter-{id}-after-{sent}-sent.pdf"),
                    content_type: "application/pdf".into(),
                    bytes: b"%PDF-1.7 test letter".to_vec(),
                }))
            })))
        }
    }

    fn observing(fail_action: Option<i64>) -> Observing {
        Observing {
            dispatching: std::thread::current().id(),
            elsewhere: Default::default(),
            fail_action,
        }
    }

    /// The attachment file names of the messages the sink received, in order.
    fn letter_names(sink: &SmtpSink) -> Vec<String> {
        sink.received()
            .iter()
            .filter_map(|m| {
                let text = String::from_utf8_lossy(&m.data);
                let start = text.find("letter-")?;
                let end = start + text[start..].find(".pdf")?;
                Some(text[start..end].to_string())
            })
            .collect()
    }

    #[test]
    fn letters_rendered_ahead_read_what_they_would_read_just_before_sending() {
        let (_dir, mut store, t) = ledger(5, "email");
        // A second reminder on the first debtor's case, due in the same run: its letter may
        // only be read once the first one is sent (here it counts the sent actions).
        let first = store.actions(t, None).unwrap()[0].clone();
        let mut again = RunBatch::default();
        let mut second = first.action.clone();
        second.idempotency_key = "k0-again".into();
        again
            .actions
            .push((CaseRef::Existing(first.case_id), second));
        store.apply_run(t, &again).unwrap();
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let sender = smtp(&sink);
        let mut letters = observing(None);
        let r = dispatch(
            &mut store,
            t,
            local("2026-12-03T10:00"),
            &config(),
            &mut Senders {
                email: Some(&sender),
                sms: None,
                letters: &mut letters,
                dossier: &mut NoDossier,
            },
        )
        .unwrap();
        assert_eq!((r.sent, r.actions_sent), (6, 6), "{r:?}");
        assert_eq!(
            letter_names(&sink),
            [
                "letter-1-after-0-sent",
                "letter-2-after-0-sent",
                "letter-3-after-0-sent",
                "letter-4-after-0-sent",
                "letter-5-after-0-sent",
                "letter-6-after-1-sent",
            ],
            "each message carries its own action's letter, read after the debtor's earlier action was sent"
        );
        assert_eq!(
            letters.elsewhere.load(std::sync::atomic::Ordering::SeqCst),
            6,
            "every letter was rendered on a worker thread"
        );
    }

    #[test]
    fn a_letter_that_fails_to_render_stops_the_run_before_its_message() {
        let (_dir, mut store, t) = ledger(5, "email");
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let sender = smtp(&sink);
        let now = local("2026-12-03T10:00");
        let third = store.actions(t, None).unwrap()[2].id;
        let err = dispatch(
            &mut store,
            t,
            now,
            &config(),
            &mut Senders {
                email: Some(&sender),
                sms: None,
                letters: &mut observing(Some(third)),
                dossier: &mut NoDossier,
            },
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("broken template in the letter of action {third}")),
            "{err:#}"
        );
        // The two messages before it went; it and those after it were not even attempted,
        // though their letters may have been rendered ahead.
        assert_eq!(sink.count(), 2);
        assert_eq!(store.attempts(t, None).unwrap().len(), 2);
        let statuses: Vec<ActionStatus> = store
            .actions(t, None)
            .unwrap()
            .iter()
            .map(|a| a.action.status)
            .collect();
        assert_eq!(
            statuses,
            [
                ActionStatus::Sent,
                ActionStatus::Sent,
                ActionStatus::Queued,
                ActionStatus::Queued,
                ActionStatus::Queued
            ]
        );
        // Fixed, the next run sends the other three, once.
        let r = dispatch(
            &mut store,
            t,
            now,
            &config(),
            &mut Senders {
                email: Some(&sender),
                sms: None,
                letters: &mut observing(None),
                dossier: &mut NoDossier,
            },
        )
        .unwrap();
        assert_eq!(r.sent, 3, "{r:?}");
        assert_eq!(sink.count(), 5);
    }

    #[test]
    fn sms_needs_consent_and_a_postal_action_stays_for_the_print_run() {
        let (_dir, mut store, t) = ledger(1, "post,email,sms");
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let sender = smtp(&sink);
        let now = local("2026-12-03T10:00");
        struct NoSms;
        impl SmsSender for NoSms {
            fn send(&self, _: &SmsMessage) -> Result<Accepted, SendError> {
                panic!("no SMS without consent")
            }
        }
        let r = dispatch(
            &mut store,
            t,
            now,
            &config(),
            &mut Senders {
                email: Some(&sender),
                sms: Some(&NoSms),
                letters: &mut NoLetter,
                dossier: &mut NoDossier,
            },
        )
        .unwrap();
        assert_eq!(r.sent, 1);
        assert_eq!(r.refused, 1);
        assert!(r.items.iter().any(|i| i.detail == "no consent for sms"));
        assert_eq!(
            store.actions(t, None).unwrap()[0].action.status,
            ActionStatus::Queued,
            "the letter still has to go by post"
        );
        assert_eq!(
            format_money(Money::eur_cents(12_345_678), "nl"),
            "€ 123.456,78"
        );
        assert_eq!(format_money(Money::eur_cents(5), "en"), "€0.05");
    }
}
