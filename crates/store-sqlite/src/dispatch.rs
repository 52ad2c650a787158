//! The sqlite implementation of [`incasso_store::DispatchStore`].

use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId};
use incasso_store::{
    ActionStatus, AttemptOutcome, AttemptRow, AttemptStatus, CONSENT_CHANGED, ConsentChange,
    ConsentEntry, ConsentRecorded, DISPATCH_RESOLVED, DispatchStore, InDoubtResolved, NewAttempt,
    SentRecord, StoreError, StoreResult, consent_payload,
};
use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params};

use crate::collection::set_action_status_in;
use crate::dossier::{Chain, add_document_in};
use crate::{SqliteStore, map_sql, other};

const ATTEMPT_COLUMNS: &str = "id, action_id, debtor_id, channel, attempt, status, recipient, message_id, provider_id, sha256, reason, next_retry_at, created_at, updated_at";

fn attempt_row(r: &Row<'_>) -> rusqlite::Result<(AttemptRow, String)> {
    let status: String = r.get(5)?;
    Ok((
        AttemptRow {
            id: r.get(0)?,
            action_id: r.get(1)?,
            debtor_id: DebtorId::new(r.get(2)?),
            channel: r.get(3)?,
            attempt: r.get(4)?,
            status: AttemptStatus::Sending,
            recipient: r.get(6)?,
            message_id: r.get(7)?,
            provider_id: r.get(8)?,
            sha256: r.get(9)?,
            reason: r.get(10)?,
            next_retry_at: r.get(11)?,
            created_at: r.get(12)?,
            updated_at: r.get(13)?,
        },
        status,
    ))
}

fn with_status((mut row, status): (AttemptRow, String)) -> StoreResult<AttemptRow> {
    row.status = AttemptStatus::parse(&status)
        .ok_or_else(|| other(anyhow::anyhow!("unknown attempt status {status:?}")))?;
    Ok(row)
}

/// [`DispatchStore::finish_attempt`] inside the caller's transaction.
fn finish_attempt_in(
    tx: &Transaction<'_>,
    t: i64,
    attempt_id: i64,
    outcome: &AttemptOutcome,
    at: &str,
) -> StoreResult<()> {
    let (status, provider, reason, retry) = outcome.columns();
    let n = tx
        .execute(
            "UPDATE dispatch_attempts SET status = ?3, provider_id = ?4, reason = ?5, next_retry_at = ?6, updated_at = ?7 WHERE creditor_id = ?1 AND id = ?2 AND status = 'sending'",
            params![t, attempt_id, status, provider, reason, retry, at],
        )
        .map_err(map_sql)?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "attempt {attempt_id} is not sending"
        )));
    }
    if status == "sent" {
        log_contact(tx, t, attempt_id, at)?;
    }
    Ok(())
}

impl SqliteStore {
    /// [`DispatchStore::begin_attempt`]'s transaction (run [`SqliteStore::durably`]).
    fn insert_attempt(&mut self, tenant: CreditorId, a: &NewAttempt) -> StoreResult<i64> {
        let t = tenant.get();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        let exists: Option<i64> = tx
            .query_row(
                "SELECT id FROM actions WHERE creditor_id = ?1 AND id = ?2",
                params![t, a.action_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(map_sql)?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("action {}", a.action_id)));
        }
        let busy: Option<String> = tx
            .query_row(
                "SELECT status FROM dispatch_attempts WHERE creditor_id = ?1 AND action_id = ?2 AND channel = ?3 AND status IN ('sending', 'sent', 'in_doubt') LIMIT 1",
                params![t, a.action_id, a.channel],
                |r| r.get(0),
            )
            .optional()
            .map_err(map_sql)?;
        if let Some(s) = busy {
            return Err(StoreError::Conflict(format!(
                "action {} already has a {} attempt that is {s}",
                a.action_id, a.channel
            )));
        }
        tx.execute(
            "INSERT INTO dispatch_attempts (creditor_id, action_id, debtor_id, channel, attempt, status, recipient, message_id, sha256, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'sending', ?6, ?7, ?8, ?9, ?9)",
            params![t, a.action_id, a.debtor_id.get(), a.channel, a.attempt, a.recipient, a.message_id, a.sha256, a.at],
        )
        .map_err(map_sql)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(map_sql)?;
        Ok(id)
    }
}

impl DispatchStore for SqliteStore {
    fn begin_attempt(&mut self, tenant: CreditorId, a: &NewAttempt) -> StoreResult<i64> {
        // The attempt must survive a power cut before the message leaves.
        self.durably(|s| s.insert_attempt(tenant, a))
    }

    fn finish_attempt(
        &mut self,
        tenant: CreditorId,
        attempt_id: i64,
        outcome: &AttemptOutcome,
        at: &str,
    ) -> StoreResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        finish_attempt_in(&tx, tenant.get(), attempt_id, outcome, at)?;
        tx.commit().map_err(map_sql)
    }

    fn record_sent(&mut self, tenant: CreditorId, sent: &SentRecord<'_>) -> StoreResult<()> {
        let t = tenant.get();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        for doc in sent.documents {
            add_document_in(&tx, t, doc)?;
        }
        finish_attempt_in(
            &tx,
            t,
            sent.attempt_id,
            &AttemptOutcome::Sent {
                provider_id: sent.provider_id.to_string(),
            },
            sent.at,
        )?;
        if let Some((action, on)) = sent.action_sent {
            match set_action_status_in(&tx, tenant, action, ActionStatus::Sent, Some(on), "") {
                // Cancelled (or sent) meanwhile: it stays so; the attempt records what left.
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        tx.commit().map_err(map_sql)
    }

    fn mark_in_doubt(&mut self, tenant: CreditorId, at: &str) -> StoreResult<u64> {
        let n = self
            .conn
            .execute(
                "UPDATE dispatch_attempts SET status = 'in_doubt', reason = 'the process stopped while sending: it may or may not have left', updated_at = ?2 WHERE creditor_id = ?1 AND status = 'sending'",
                params![tenant.get(), at],
            )
            .map_err(map_sql)?;
        Ok(n as u64)
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        let status = if did_leave {
            "sent"
        } else {
            "failed_temporary"
        };
        let n = tx
            .execute(
                "UPDATE dispatch_attempts SET status = ?3, reason = ?4, updated_at = ?5, next_retry_at = CASE WHEN ?3 = 'sent' THEN NULL ELSE ?5 END WHERE creditor_id = ?1 AND id = ?2 AND status = 'in_doubt'",
                params![t, attempt_id, status, note, at],
            )
            .map_err(map_sql)?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "attempt {attempt_id} is not in doubt"
            )));
        }
        if did_leave {
            log_contact(&tx, t, attempt_id, at)?;
        }
        let (case, action_id, attempt, channel, recipient, message_id): (
            i64,
            i64,
            u32,
            String,
            String,
            String,
        ) = tx
            .query_row(
                "SELECT a.case_id, d.action_id, d.attempt, d.channel, d.recipient, d.message_id FROM dispatch_attempts d JOIN actions a ON a.creditor_id = d.creditor_id AND a.id = d.action_id WHERE d.creditor_id = ?1 AND d.id = ?2",
                params![t, attempt_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .map_err(map_sql)?;
        let resolved = InDoubtResolved {
            attempt_id,
            action_id,
            attempt,
            channel: &channel,
            recipient: &recipient,
            message_id: &message_id,
            did_leave,
            note,
            at,
        };
        Chain::new().append(
            &tx,
            t,
            case,
            on.to_string(),
            DISPATCH_RESOLVED,
            &resolved.text(),
            &resolved.payload(),
            None,
        )?;
        tx.commit().map_err(map_sql)
    }

    fn attempts(
        &mut self,
        tenant: CreditorId,
        action: Option<i64>,
    ) -> StoreResult<Vec<AttemptRow>> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM dispatch_attempts WHERE creditor_id = ?1 AND (?2 IS NULL OR action_id = ?2) ORDER BY id"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(map_sql)?;
        let rows = stmt
            .query_map(params![tenant.get(), action], attempt_row)
            .map_err(map_sql)?;
        rows.map(|r| with_status(r.map_err(map_sql)?)).collect()
    }

    fn contacts_since(
        &mut self,
        tenant: CreditorId,
        debtor: DebtorId,
        since: &str,
    ) -> StoreResult<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT at FROM dispatch_contacts WHERE creditor_id = ?1 AND debtor_id = ?2 AND at >= ?3 ORDER BY at")
            .map_err(map_sql)?;
        let rows = stmt
            .query_map(params![tenant.get(), debtor.get(), since], |r| r.get(0))
            .map_err(map_sql)?;
        rows.map(|r| r.map_err(map_sql)).collect()
    }

    fn record_consent(
        &mut self,
        tenant: CreditorId,
        change: &ConsentChange,
    ) -> StoreResult<ConsentRecorded> {
        let t = tenant.get();
        let debtor = change.debtor.get();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        let known: Option<i64> = tx
            .query_row(
                "SELECT id FROM debtors WHERE creditor_id = ?1 AND id = ?2",
                params![t, debtor],
                |r| r.get(0),
            )
            .optional()
            .map_err(map_sql)?;
        if known.is_none() {
            return Err(StoreError::NotFound(format!("debtor {debtor}")));
        }
        let stands: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM contact_consents WHERE creditor_id = ?1 AND debtor_id = ?2 AND channel = ?3)",
                params![t, debtor, change.channel],
                |r| r.get(0),
            )
            .map_err(map_sql)?;
        if stands == change.given {
            return Ok(ConsentRecorded {
                changed: false,
                cases: Vec::new(),
            });
        }
        if change.given {
            tx.execute(
                "INSERT INTO contact_consents (creditor_id, debtor_id, channel, given_at) VALUES (?1, ?2, ?3, ?4)",
                params![t, debtor, change.channel, change.at],
            )
            .map_err(map_sql)?;
        } else {
            tx.execute(
                "DELETE FROM contact_consents WHERE creditor_id = ?1 AND debtor_id = ?2 AND channel = ?3",
                params![t, debtor, change.channel],
            )
            .map_err(map_sql)?;
        }
        tx.execute(
            "INSERT INTO contact_consent_log (creditor_id, debtor_id, channel, given, source, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![t, debtor, change.channel, change.given, change.source, change.at],
        )
        .map_err(map_sql)?;
        let mut cases = Vec::new();
        if let Some(on) = change.on {
            let open: Vec<i64> = {
                let mut stmt = tx
                    .prepare("SELECT id FROM cases WHERE creditor_id = ?1 AND debtor_id = ?2 AND closed_on IS NULL ORDER BY id")
                    .map_err(map_sql)?;
                let rows = stmt
                    .query_map(params![t, debtor], |r| r.get(0))
                    .map_err(map_sql)?;
                rows.collect::<Result<_, _>>().map_err(map_sql)?
            };
            let payload = consent_payload(change);
            let mut chain = Chain::new();
            for case in open {
                chain.append(
                    &tx,
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
        tx.commit().map_err(map_sql)?;
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
        let mut stmt = self
            .conn
            .prepare("SELECT id, channel, given, source, at FROM contact_consent_log WHERE creditor_id = ?1 AND debtor_id = ?2 ORDER BY id")
            .map_err(map_sql)?;
        let rows = stmt
            .query_map(params![tenant.get(), debtor.get()], |r| {
                Ok(ConsentEntry {
                    id: r.get(0)?,
                    channel: r.get(1)?,
                    given: r.get(2)?,
                    source: r.get(3)?,
                    at: r.get(4)?,
                })
            })
            .map_err(map_sql)?;
        rows.map(|r| r.map_err(map_sql)).collect()
    }

    fn consents(&mut self, tenant: CreditorId, debtor: DebtorId) -> StoreResult<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT channel FROM contact_consents WHERE creditor_id = ?1 AND debtor_id = ?2 ORDER BY channel")
            .map_err(map_sql)?;
        let rows = stmt
            .query_map(params![tenant.get(), debtor.get()], |r| r.get(0))
            .map_err(map_sql)?;
        rows.map(|r| r.map_err(map_sql)).collect()
    }
}

fn log_contact(
    tx: &rusqlite::Transaction<'_>,
    t: i64,
    attempt_id: i64,
    at: &str,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO dispatch_contacts (creditor_id, debtor_id, channel, attempt_id, at) SELECT creditor_id, debtor_id, channel, id, ?3 FROM dispatch_attempts WHERE creditor_id = ?1 AND id = ?2",
        params![t, attempt_id, at],
    )
    .map_err(map_sql)?;
    Ok(())
}
