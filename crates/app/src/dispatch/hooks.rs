//! The hooks a dispatch run plugs in: the letter that goes with a message ([`LetterRenderer`],
//! rendered ahead as a [`LetterJob`]) and what keeps a sent message ([`DocumentRecorder`]).

use super::*;

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
