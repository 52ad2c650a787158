//! The postgres implementation of [`incasso_store::DispatchStore`].

use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId};
use incasso_store::{
    ActionStatus, AttemptOutcome, AttemptRow, AttemptStatus, CONSENT_CHANGED, ConsentChange,
    ConsentEntry, ConsentRecorded, DISPATCH_RESOLVED, DispatchStore, InDoubtResolved, NewAttempt,
    SentRecord, StoreError, StoreResult, consent_payload,
};
use postgres::Row;

use crate::collection::set_action_status_in;
use crate::dossier::{Chain, add_document_in};
use crate::{PgStore, Prepared, get, map_pg, other};

const ATTEMPT_COLUMNS: &str = "id, action_id, debtor_id, channel, attempt, status, recipient, message_id, provider_id, sha256, reason, next_retry_at, created_at, updated_at";

fn attempt_row(r: &Row) -> StoreResult<AttemptRow> {
    let status: String = get(r, 5)?;
    let attempt: i32 = get(r, 4)?;
    Ok(AttemptRow {
        id: get(r, 0)?,
        action_id: get(r, 1)?,
        debtor_id: DebtorId::new(get(r, 2)?),
        channel: get(r, 3)?,
        attempt: u32::try_from(attempt).map_err(other)?,
        status: AttemptStatus::parse(&status)
            .ok_or_else(|| other(anyhow::anyhow!("unknown attempt status {status:?}")))?,
        recipient: get(r, 6)?,
        message_id: get(r, 7)?,
        provider_id: get(r, 8)?,
        sha256: get(r, 9)?,
        reason: get(r, 10)?,
        next_retry_at: get(r, 11)?,
        created_at: get(r, 12)?,
        updated_at: get(r, 13)?,
    })
}

fn log_contact(
    tx: &mut postgres::Transaction<'_>,
    p: &mut Prepared,
    t: i64,
    attempt_id: i64,
    at: &str,
) -> StoreResult<()> {
    let st = p.get(
        tx,
        "INSERT INTO dispatch_contacts (creditor_id, debtor_id, channel, attempt_id, at) SELECT creditor_id, debtor_id, channel, id, $3 FROM dispatch_attempts WHERE creditor_id = $1 AND id = $2",
    )?;
    tx.execute(&st, &[&t, &attempt_id, &at]).map_err(map_pg)?;
    Ok(())
}

/// [`DispatchStore::finish_attempt`] inside the caller's transaction.
fn finish_attempt_in(
    tx: &mut postgres::Transaction<'_>,
    p: &mut Prepared,
    t: i64,
    attempt_id: i64,
    outcome: &AttemptOutcome,
    at: &str,
) -> StoreResult<()> {
    let (status, provider, reason, retry) = outcome.columns();
    let st = p.get(
        tx,
        "UPDATE dispatch_attempts SET status = $3, provider_id = $4, reason = $5, next_retry_at = $6, updated_at = $7 WHERE creditor_id = $1 AND id = $2 AND status = 'sending'",
    )?;
    let n = tx
        .execute(
            &st,
            &[&t, &attempt_id, &status, &provider, &reason, &retry, &at],
        )
        .map_err(map_pg)?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "attempt {attempt_id} is not sending"
        )));
    }
    if status == "sent" {
        log_contact(tx, p, t, attempt_id, at)?;
    }
    Ok(())
}

impl DispatchStore for PgStore {
    fn begin_attempt(&mut self, tenant: CreditorId, a: &NewAttempt) -> StoreResult<i64> {
        let t = tenant.get();
        let PgStore { client, prepared } = self;
        let mut tx = client.transaction().map_err(map_pg)?;
        // The action row is locked so two dispatchers cannot record the same message.
        let st = prepared.get(
            &mut tx,
            "SELECT id FROM actions WHERE creditor_id = $1 AND id = $2 FOR UPDATE",
        )?;
        let exists = tx.query_opt(&st, &[&t, &a.action_id]).map_err(map_pg)?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("action {}", a.action_id)));
        }
        let st = prepared.get(
            &mut tx,
            "SELECT status FROM dispatch_attempts WHERE creditor_id = $1 AND action_id = $2 AND channel = $3 AND status IN ('sending', 'sent', 'in_doubt') LIMIT 1",
        )?;
        let busy = tx
            .query_opt(&st, &[&t, &a.action_id, &a.channel])
            .map_err(map_pg)?;
        if let Some(row) = busy {
            let s: String = get(&row, 0)?;
            return Err(StoreError::Conflict(format!(
                "action {} already has a {} attempt that is {s}",
                a.action_id, a.channel
            )));
        }
        let attempt = i32::try_from(a.attempt).map_err(other)?;
        let st = prepared.get(
            &mut tx,
            "INSERT INTO dispatch_attempts (creditor_id, action_id, debtor_id, channel, attempt, status, recipient, message_id, sha256, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'sending', $6, $7, $8, $9, $9) RETURNING id",
        )?;
        let row = tx
            .query_one(
                &st,
                &[
                    &t,
                    &a.action_id,
                    &a.debtor_id.get(),
                    &a.channel,
                    &attempt,
                    &a.recipient,
                    &a.message_id,
                    &a.sha256,
                    &a.at,
                ],
            )
            .map_err(map_pg)?;
        let id: i64 = get(&row, 0)?;
        tx.commit().map_err(map_pg)?;
        Ok(id)
    }

    fn finish_attempt(
        &mut self,
        tenant: CreditorId,
        attempt_id: i64,
        outcome: &AttemptOutcome,
        at: &str,
    ) -> StoreResult<()> {
        let PgStore { client, prepared } = self;
        let mut tx = client.transaction().map_err(map_pg)?;
        finish_attempt_in(&mut tx, prepared, tenant.get(), attempt_id, outcome, at)?;
        tx.commit().map_err(map_pg)
    }

    fn record_sent(&mut self, tenant: CreditorId, sent: &SentRecord<'_>) -> StoreResult<()> {
        let t = tenant.get();
        let PgStore { client, prepared } = self;
        let mut tx = client.transaction().map_err(map_pg)?;
        // This commit does not wait for the disk: the next attempt's commit, which does (as
        // every commit by default), flushes the write-ahead log in order and so this one with
        // it, and the WAL writer flushes it within a fraction of a second otherwise. A server
        // crash in that window leaves the attempt `sending`, which the next run marks in
        // doubt: the same as a stop between the send and this commit; never a second send.
        tx.batch_execute("SET LOCAL synchronous_commit = off")
            .map_err(map_pg)?;
        for doc in sent.documents {
            add_document_in(&mut tx, prepared, t, doc)?;
        }
        finish_attempt_in(
            &mut tx,
            prepared,
            t,
            sent.attempt_id,
            &AttemptOutcome::Sent {
                provider_id: sent.provider_id.to_string(),
            },
            sent.at,
        )?;
        if let Some((action, on)) = sent.action_sent {
            match set_action_status_in(
                &mut tx,
                prepared,
                tenant,
                action,
                ActionStatus::Sent,
                Some(on),
                "",
            ) {
                // Cancelled (or sent) meanwhile: it stays so; the attempt records what left.
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        tx.commit().map_err(map_pg)
    }

    fn mark_in_doubt(&mut self, tenant: CreditorId, at: &str) -> StoreResult<u64> {
        self.client
            .execute(
                "UPDATE dispatch_attempts SET status = 'in_doubt', reason = 'the process stopped while sending: it may or may not have left', updated_at = $2 WHERE creditor_id = $1 AND status = 'sending'",
                &[&tenant.get(), &at],
            )
            .map_err(map_pg)
    }

    fn resolve_in_doubt(
        &mut self,
        tenant: CreditorId,
        attempt_id: i64,
        did_leave: bool,
        note: &str,
        at: &str,
        on: Date,
    ) -> StoreResult<()> {
        let t = tenant.get();
        let status = if did_leave {
            "sent"
        } else {
            "failed_temporary"
        };
        let PgStore { client, prepared } = self;
        let mut tx = client.transaction().map_err(map_pg)?;
        let n = tx
            .execute(
                "UPDATE dispatch_attempts SET status = $3, reason = $4, updated_at = $5, next_retry_at = CASE WHEN $3 = 'sent' THEN NULL ELSE $5 END WHERE creditor_id = $1 AND id = $2 AND status = 'in_doubt'",
                &[&t, &attempt_id, &status, &note, &at],
            )
            .map_err(map_pg)?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "attempt {attempt_id} is not in doubt"
            )));
        }
        if did_leave {
            log_contact(&mut tx, prepared, t, attempt_id, at)?;
        }
        let row = tx
            .query_one(
                "SELECT a.case_id, d.action_id, d.attempt, d.channel, d.recipient, d.message_id FROM dispatch_attempts d JOIN actions a ON a.creditor_id = d.creditor_id AND a.id = d.action_id WHERE d.creditor_id = $1 AND d.id = $2",
                &[&t, &attempt_id],
            )
            .map_err(map_pg)?;
        let case: i64 = get(&row, 0)?;
        let attempt: i32 = get(&row, 2)?;
        let (channel, recipient, message_id): (String, String, String) =
            (get(&row, 3)?, get(&row, 4)?, get(&row, 5)?);
        let resolved = InDoubtResolved {
            attempt_id,
            action_id: get(&row, 1)?,
            attempt: u32::try_from(attempt).map_err(other)?,
            channel: &channel,
            recipient: &recipient,
            message_id: &message_id,
            did_leave,
            note,
            at,
        };
        Chain::new().append(
            &mut tx,
            t,
            case,
            on.to_string(),
            DISPATCH_RESOLVED,
            &resolved.text(),
            &resolved.payload(),
            None,
        )?;
        tx.commit().map_err(map_pg)
    }

    fn attempts(
        &mut self,
        tenant: CreditorId,
        action: Option<i64>,
    ) -> StoreResult<Vec<AttemptRow>> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM dispatch_attempts WHERE creditor_id = $1 AND ($2::bigint IS NULL OR action_id = $2) ORDER BY id"
        );
        self.client
            .query(&sql, &[&tenant.get(), &action])
            .map_err(map_pg)?
            .iter()
            .map(attempt_row)
            .collect()
    }

    fn contacts_since(
        &mut self,
        tenant: CreditorId,
        debtor: DebtorId,
        since: &str,
    ) -> StoreResult<Vec<String>> {
        let st = self.prepared.get(
            &mut self.client,
            "SELECT at FROM dispatch_contacts WHERE creditor_id = $1 AND debtor_id = $2 AND at >= $3 ORDER BY at",
        )?;
        self.client
            .query(&st, &[&tenant.get(), &debtor.get(), &since])
            .map_err(map_pg)?
            .iter()
            .map(|r| get(r, 0))
            .collect()
    }

    fn record_consent(
        &mut self,
        tenant: CreditorId,
        change: &ConsentChange,
    ) -> StoreResult<ConsentRecorded> {
        let t = tenant.get();
        let debtor = change.debtor.get();
        let mut tx = self.client.transaction().map_err(map_pg)?;
        // The debtor row is locked: consent changes of one debtor happen one after another.
        let known = tx
            .query_opt(
                "SELECT id FROM debtors WHERE creditor_id = $1 AND id = $2 FOR UPDATE",
                &[&t, &debtor],
            )
            .map_err(map_pg)?;
        if known.is_none() {
            return Err(StoreError::NotFound(format!("debtor {debtor}")));
        }
        let stands: bool = get(
            &tx.query_one(
                "SELECT EXISTS (SELECT 1 FROM contact_consents WHERE creditor_id = $1 AND debtor_id = $2 AND channel = $3)",
                &[&t, &debtor, &change.channel],
            )
            .map_err(map_pg)?,
            0,
        )?;
        if stands == change.given {
            return Ok(ConsentRecorded {
                changed: false,
                cases: Vec::new(),
            });
        }
        if change.given {
            tx.execute(
                "INSERT INTO contact_consents (creditor_id, debtor_id, channel, given_at) VALUES ($1, $2, $3, $4)",
                &[&t, &debtor, &change.channel, &change.at],
            )
            .map_err(map_pg)?;
        } else {
            tx.execute(
                "DELETE FROM contact_consents WHERE creditor_id = $1 AND debtor_id = $2 AND channel = $3",
                &[&t, &debtor, &change.channel],
            )
            .map_err(map_pg)?;
        }
        tx.execute(
            "INSERT INTO contact_consent_log (creditor_id, debtor_id, channel, given, source, at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&t, &debtor, &change.channel, &change.given, &change.source, &change.at],
        )
        .map_err(map_pg)?;
        let mut cases = Vec::new();
        if let Some(on) = change.on {
            let open: Vec<i64> = tx
                .query(
                    "SELECT id FROM cases WHERE creditor_id = $1 AND debtor_id = $2 AND closed_on IS NULL ORDER BY id FOR UPDATE",
                    &[&t, &debtor],
                )
                .map_err(map_pg)?
                .iter()
                .map(|r| get(r, 0))
                .collect::<StoreResult<_>>()?;
            let payload = consent_payload(change);
            let mut chain = Chain::new();
            for case in open {
                chain.append(
                    &mut tx,
                    t,
                    case,
                    on.to_string(),
                    CONSENT_CHANGED,
                    &change.text,
                    &payload,
                    None,
                )?;
                cases.push(case);
            }
        }
        tx.commit().map_err(map_pg)?;
        Ok(ConsentRecorded {
            changed: true,
            cases,
        })
    }

    fn consent_log(
        &mut self,
        tenant: CreditorId,
        debtor: DebtorId,
    ) -> StoreResult<Vec<ConsentEntry>> {
        self.client
            .query(
                "SELECT id, channel, given, source, at FROM contact_consent_log WHERE creditor_id = $1 AND debtor_id = $2 ORDER BY id",
                &[&tenant.get(), &debtor.get()],
            )
            .map_err(map_pg)?
            .iter()
            .map(|r| {
                Ok(ConsentEntry {
                    id: get(r, 0)?,
                    channel: get(r, 1)?,
                    given: get(r, 2)?,
                    source: get(r, 3)?,
                    at: get(r, 4)?,
                })
            })
            .collect()
    }

    fn consents(&mut self, tenant: CreditorId, debtor: DebtorId) -> StoreResult<Vec<String>> {
        let st = self.prepared.get(
            &mut self.client,
            "SELECT channel FROM contact_consents WHERE creditor_id = $1 AND debtor_id = $2 ORDER BY channel",
        )?;
        self.client
            .query(&st, &[&tenant.get(), &debtor.get()])
            .map_err(map_pg)?
            .iter()
            .map(|r| get(r, 0))
            .collect()
    }
}
