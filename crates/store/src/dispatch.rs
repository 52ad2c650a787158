//! Dispatch bookkeeping for e-mail and SMS: one delivery attempt row per action, channel and
//! attempt number (recorded as `sending` before the message leaves), its outcome (sent, failed
//! temporarily with the next retry time, failed permanently, or in doubt after a crash), the
//! contact log that the weekly cap counts, and the debtors' channel consents (issue #5).
//!
//! Moments are stored as UTC RFC 3339 text (`2026-12-03T09:00:00Z`) on both backends, which
//! sorts and compares correctly as text.

use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId};

use crate::StoreResult;
use crate::dossier::NewDocument;

/// The kind of the case event left when an in-doubt attempt is resolved.
pub const DISPATCH_RESOLVED: &str = "dispatch_resolved";

/// An in-doubt attempt and how it was resolved: the text and payload of its
/// [`DISPATCH_RESOLVED`] case event (the same on both backends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InDoubtResolved<'a> {
    pub attempt_id: i64,
    pub action_id: i64,
    pub attempt: u32,
    pub channel: &'a str,
    pub recipient: &'a str,
    pub message_id: &'a str,
    pub did_leave: bool,
    pub note: &'a str,
    pub at: &'a str,
}

impl InDoubtResolved<'_> {
    /// `email attempt 1 of action 12 to a@b.nl (Message-ID <x>) was in doubt; resolved: it did
    /// leave (note)`.
    pub fn text(&self) -> String {
        format!(
            "{} attempt {} of action {} to {} (Message-ID <{}>) was in doubt; resolved: {} ({})",
            self.channel,
            self.attempt,
            self.action_id,
            self.recipient,
            self.message_id,
            if self.did_leave {
                "it did leave"
            } else {
                "it did not leave, it is sent again"
            },
            self.note
        )
    }

    pub fn payload(&self) -> serde_json::Value {
        serde_json::json!({
            "attempt_id": self.attempt_id,
            "action_id": self.action_id,
            "attempt": self.attempt,
            "channel": self.channel,
            "recipient": self.recipient,
            "message_id": self.message_id,
            "did_leave": self.did_leave,
            "note": self.note,
            "at": self.at,
        })
    }
}

/// The state of a delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptStatus {
    /// Recorded, about to be handed to the server or provider.
    Sending,
    /// Accepted by the server or provider.
    Sent,
    /// Failed; may be retried at `next_retry_at` (none: retries exhausted).
    FailedTemporary,
    /// Failed for good (rejected recipient, bad credentials).
    FailedPermanent,
    /// Left in `sending` by a process that died: it may or may not have left. Never resent
    /// automatically; a person decides.
    InDoubt,
}

impl AttemptStatus {
    pub fn code(self) -> &'static str {
        match self {
            AttemptStatus::Sending => "sending",
            AttemptStatus::Sent => "sent",
            AttemptStatus::FailedTemporary => "failed_temporary",
            AttemptStatus::FailedPermanent => "failed_permanent",
            AttemptStatus::InDoubt => "in_doubt",
        }
    }

    pub fn parse(s: &str) -> Option<AttemptStatus> {
        Some(match s {
            "sending" => AttemptStatus::Sending,
            "sent" => AttemptStatus::Sent,
            "failed_temporary" => AttemptStatus::FailedTemporary,
            "failed_permanent" => AttemptStatus::FailedPermanent,
            "in_doubt" => AttemptStatus::InDoubt,
            _ => return None,
        })
    }
}

/// An attempt to record before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttempt {
    pub action_id: i64,
    pub debtor_id: DebtorId,
    /// `email` or `sms`.
    pub channel: String,
    /// 1 for the first attempt of this action and channel.
    pub attempt: u32,
    /// The e-mail address or phone number.
    pub recipient: String,
    /// The Message-ID (e-mail) or our reference (SMS).
    pub message_id: String,
    /// Hex SHA-256 of the exact bytes sent (the raw e-mail, the SMS text).
    pub sha256: String,
    /// When it was recorded (UTC RFC 3339).
    pub at: String,
}

/// The outcome of an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Sent {
        provider_id: String,
    },
    FailedTemporary {
        reason: String,
        next_retry_at: Option<String>,
    },
    FailedPermanent {
        reason: String,
    },
}

impl AttemptOutcome {
    /// How the outcome is stored: the attempt's status, the provider's answer, the reason and
    /// the next retry (both backends write these columns).
    pub fn columns(&self) -> (&'static str, &str, &str, Option<&str>) {
        match self {
            AttemptOutcome::Sent { provider_id } => ("sent", provider_id, "", None),
            AttemptOutcome::FailedTemporary {
                reason,
                next_retry_at,
            } => ("failed_temporary", "", reason, next_retry_at.as_deref()),
            AttemptOutcome::FailedPermanent { reason } => ("failed_permanent", "", reason, None),
        }
    }
}

/// What a message the server or provider accepted leaves behind, recorded at once by
/// [`DispatchStore::record_sent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRecord<'a> {
    /// The `sending` attempt that left.
    pub attempt_id: i64,
    /// The server's or provider's answer.
    pub provider_id: &'a str,
    /// The moment (UTC RFC 3339).
    pub at: &'a str,
    /// The documents that keep the message in its case's dossier (the letter, the `.eml` or
    /// the SMS text), each recorded as [`crate::DossierStore::add_document`] records it.
    pub documents: &'a [NewDocument],
    /// The action to set `sent`, dispatched on this day, when this was its last message.
    pub action_sent: Option<(i64, Date)>,
}

/// A stored attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    pub id: i64,
    pub action_id: i64,
    pub debtor_id: DebtorId,
    pub channel: String,
    pub attempt: u32,
    pub status: AttemptStatus,
    pub recipient: String,
    pub message_id: String,
    pub provider_id: String,
    pub sha256: String,
    pub reason: String,
    pub next_retry_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A change of a debtor's consent to be contacted by a channel, as a person records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentChange {
    pub debtor: DebtorId,
    /// `email` or `sms`.
    pub channel: String,
    /// True: consent given; false: withdrawn.
    pub given: bool,
    /// Where the consent (or its withdrawal) comes from: a signed form, a phone call, the
    /// portal. Kept as evidence.
    pub source: String,
    /// When it was recorded (UTC RFC 3339).
    pub at: String,
    /// With a day: a `consent_changed` event with `text` is appended to each open case of the
    /// debtor, in the same transaction. `None`: no case events.
    pub on: Option<incasso_calendar::Date>,
    /// The timeline line of those events.
    pub text: String,
}

/// One entry of a debtor's consent log (append-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEntry {
    pub id: i64,
    pub channel: String,
    pub given: bool,
    pub source: String,
    pub at: String,
}

/// What [`DispatchStore::record_consent`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecorded {
    /// False when the consent already stood as asked: nothing was written.
    pub changed: bool,
    /// The open cases that got a `consent_changed` event, in id order.
    pub cases: Vec<i64>,
}

/// The event kind that records a consent change in a case's log.
pub const CONSENT_CHANGED: &str = "consent_changed";

/// The payload of a [`CONSENT_CHANGED`] event: channel, given, source and moment.
pub fn consent_payload(change: &ConsentChange) -> serde_json::Value {
    serde_json::json!({
        "channel": change.channel,
        "given": change.given,
        "source": change.source,
        "at": change.at,
    })
}

/// Dispatch storage; every method is tenant-scoped.
pub trait DispatchStore {
    /// Records an attempt as `sending`, in its own transaction. A conflict when the same
    /// attempt number exists, or when the action and channel already have an attempt that is
    /// `sending`, `sent` or `in_doubt` (so a message can never be recorded for sending twice).
    /// Durable when it returns, also against a power cut: the message leaves right after.
    fn begin_attempt(&mut self, tenant: CreditorId, attempt: &NewAttempt) -> StoreResult<i64>;

    /// Records the outcome of a `sending` attempt at `at`; a sent one also goes into the
    /// contact log. A conflict when the attempt is not `sending` (for example: marked in doubt).
    fn finish_attempt(
        &mut self,
        tenant: CreditorId,
        attempt_id: i64,
        outcome: &AttemptOutcome,
        at: &str,
    ) -> StoreResult<()>;

    /// Records a message that left, in one transaction: its documents in the case's dossier
    /// (each once, as [`crate::DossierStore::add_document`]), the attempt `sent` with the
    /// provider's answer and a contact-log entry (as [`DispatchStore::finish_attempt`]), and
    /// the action `sent` when `action_sent` says so (as [`crate::Store::set_action_status`];
    /// an action cancelled meanwhile stays cancelled). All or nothing: a conflict when the
    /// attempt is not `sending`, `NotFound` for an unknown case or action, and then nothing is
    /// written.
    ///
    /// It need not wait for the disk: the next `begin_attempt` makes it durable with itself. A
    /// record lost to a crash of the machine leaves the attempt `sending`, so the next run
    /// marks it in doubt, as after a stop between the send and this call.
    fn record_sent(&mut self, tenant: CreditorId, sent: &SentRecord<'_>) -> StoreResult<()>;

    /// Marks every `sending` attempt of the tenant `in_doubt` (run at the start of a dispatch:
    /// those were left by a process that died); returns how many.
    fn mark_in_doubt(&mut self, tenant: CreditorId, at: &str) -> StoreResult<u64>;

    /// A decision on an in-doubt attempt: it did leave (`sent`, logged as contact) or it did
    /// not (`failed_temporary` with the note and `next_retry_at` = `at`, so the next dispatch
    /// makes a new attempt). In the same transaction a [`DISPATCH_RESOLVED`] event dated `on`
    /// goes on the action's case (text and payload from [`InDoubtResolved`]). `Conflict` when
    /// the attempt is not in doubt (nothing is written).
    fn resolve_in_doubt(
        &mut self,
        tenant: CreditorId,
        attempt_id: i64,
        did_leave: bool,
        note: &str,
        at: &str,
        on: Date,
    ) -> StoreResult<()>;

    /// The tenant's attempts, of one action or all, in id order.
    fn attempts(&mut self, tenant: CreditorId, action: Option<i64>)
    -> StoreResult<Vec<AttemptRow>>;

    /// Moments (UTC RFC 3339) of the debtor's logged contacts at or after `since`.
    fn contacts_since(
        &mut self,
        tenant: CreditorId,
        debtor: DebtorId,
        since: &str,
    ) -> StoreResult<Vec<String>>;

    /// Records (or withdraws) a debtor's consent to be contacted by `channel`, without a
    /// source or case events (see [`DispatchStore::record_consent`]).
    fn set_consent(
        &mut self,
        tenant: CreditorId,
        debtor: DebtorId,
        channel: &str,
        given: bool,
        at: &str,
    ) -> StoreResult<()> {
        self.record_consent(
            tenant,
            &ConsentChange {
                debtor,
                channel: channel.to_string(),
                given,
                source: String::new(),
                at: at.to_string(),
                on: None,
                text: String::new(),
            },
        )
        .map(|_| ())
    }

    /// Gives or withdraws a debtor's consent to a channel, in one transaction: the current
    /// consents, an entry in the append-only consent log (with source and time) and, with
    /// `change.on`, a [`CONSENT_CHANGED`] event on each of the debtor's open cases. A consent
    /// that already stands as asked writes nothing. `NotFound` for another tenant's or an
    /// unknown debtor.
    fn record_consent(
        &mut self,
        tenant: CreditorId,
        change: &ConsentChange,
    ) -> StoreResult<ConsentRecorded>;

    /// The debtor's consent log, oldest first.
    fn consent_log(
        &mut self,
        tenant: CreditorId,
        debtor: DebtorId,
    ) -> StoreResult<Vec<ConsentEntry>>;

    /// The channels the debtor consented to, sorted.
    fn consents(&mut self, tenant: CreditorId, debtor: DebtorId) -> StoreResult<Vec<String>>;
}
