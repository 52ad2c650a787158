//! Reading letters ahead: which due actions' letters are read (on the dispatching thread) and
//! handed to the rendering threads (`crate::dispatch_ahead`), a bounded window ahead of the
//! message being sent and never before the debtor's earlier actions are done.

use super::*;

/// Letters read ahead per rendering thread: enough to keep the threads busy while this thread
/// sends, few enough that memory stays bounded (each is one letter's data or PDF).
pub(super) const LETTERS_AHEAD_PER_WORKER: usize = 4;

/// Which due actions were considered for reading their letter ahead (those before `next`):
/// per debtor, those of them not done yet (in order), and those whose letter waits for an
/// earlier action of the same debtor to be done.
#[derive(Default)]
pub(super) struct Lookahead {
    next: usize,
    open: HashMap<DebtorId, std::collections::VecDeque<usize>>,
    waiting: Vec<(usize, DebtorId)>,
}

impl Lookahead {
    /// The action at `index` is done: its writes are in the store.
    pub(super) fn done(&mut self, index: usize, debtor: DebtorId) {
        if let Some(open) = self.open.get_mut(&debtor) {
            open.retain(|i| *i != index);
            if open.is_empty() {
                self.open.remove(&debtor);
            }
        }
    }

    /// Whether the debtor has an action within reach that is not done yet.
    pub(super) fn has_open(&self, debtor: DebtorId) -> bool {
        self.open.contains_key(&debtor)
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
pub(super) fn read_ahead(
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
pub(super) fn letter_ahead(
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
pub(super) fn cached_debtor(
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
