//! The sqlite implementation of [`incasso_store::MandateStore`]: mandates, their pending
//! amendments and history, the creditor identifier, and collection batches.

use incasso_banking::{Bic, Iban};
use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId, InvoiceId};
use incasso_money::{Currency, Money};
use incasso_store::codec;
use incasso_store::{
    CollectionBatchRow, CollectionItem, CollectionTarget, MandateAmendment, MandateEvent,
    MandateRow, MandateStatus, MandateStore, NewCollection, NewCollectionBatch, NewMandate,
    PendingAmendment, SequenceState, StoreError, StoreResult,
};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::{SqliteStore, map_sql, other};

const MANDATE_COLUMNS: &str = "id, debtor_id, reference, signed_on, iban, bic, sequence, status, revoked_on, last_collection, amended_since, orig_reference, orig_iban, orig_bic, orig_scheme_id";

fn iban(s: &str) -> StoreResult<Iban> {
    Iban::parse(s).map_err(|_| other(codec::bad("iban", s)))
}

fn bic(s: Option<String>) -> StoreResult<Option<Bic>> {
    s.map(|b| Bic::parse(&b).map_err(|_| other(codec::bad("bic", &b))))
        .transpose()
}

fn date(s: &str) -> StoreResult<Date> {
    codec::date(s).map_err(other)
}

fn opt_date(s: Option<String>) -> StoreResult<Option<Date>> {
    codec::opt_date(s).map_err(other)
}

fn sequence(s: &str) -> StoreResult<SequenceState> {
    SequenceState::parse(s).ok_or_else(|| other(codec::bad("sequence", s)))
}

type RawMandate = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
);

fn raw_mandate(r: &Row) -> rusqlite::Result<RawMandate> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        (r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?),
    ))
}

fn mandate_row(raw: RawMandate) -> StoreResult<MandateRow> {
    let (id, debtor, reference, signed, ib, bi, seq, status, revoked, last, pending) = raw;
    let (since, o_ref, o_iban, o_bic, o_scheme) = pending;
    Ok(MandateRow {
        id,
        mandate: NewMandate {
            debtor_id: DebtorId::new(debtor),
            reference,
            signed_on: date(&signed)?,
            iban: iban(&ib)?,
            bic: bic(bi)?,
            sequence: sequence(&seq)?,
        },
        status: MandateStatus::parse(&status)
            .ok_or_else(|| other(codec::bad("status", &status)))?,
        revoked_on: opt_date(revoked)?,
        last_collection: opt_date(last)?,
        pending: PendingAmendment {
            since: opt_date(since)?,
            original_reference: o_ref,
            original_iban: o_iban.as_deref().map(iban).transpose()?,
            original_bic: bic(o_bic)?,
            original_scheme_id: o_scheme,
        },
    })
}

fn find(conn: &Connection, tenant: CreditorId, reference: &str) -> StoreResult<MandateRow> {
    let raw = conn
        .query_row(
            &format!(
                "SELECT {MANDATE_COLUMNS} FROM mandates WHERE creditor_id = ?1 AND reference = ?2"
            ),
            params![tenant.get(), reference],
            raw_mandate,
        )
        .optional()
        .map_err(map_sql)?
        .ok_or_else(|| StoreError::NotFound(format!("mandate {reference:?}")))?;
    mandate_row(raw)
}

fn event(
    conn: &Connection,
    tenant: CreditorId,
    mandate: i64,
    on: Date,
    kind: &str,
    text: &str,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO mandate_events (creditor_id, mandate_id, on_date, kind, text) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![tenant.get(), mandate, on.to_string(), kind, text],
    )
    .map_err(map_sql)?;
    Ok(())
}

fn write_pending(
    conn: &Connection,
    tenant: CreditorId,
    id: i64,
    p: &PendingAmendment,
) -> StoreResult<()> {
    let p = if p.is_empty() {
        &PendingAmendment::default()
    } else {
        p
    };
    conn.execute(
        "UPDATE mandates SET amended_since = ?3, orig_reference = ?4, orig_iban = ?5, orig_bic = ?6, orig_scheme_id = ?7 WHERE creditor_id = ?1 AND id = ?2",
        params![
            tenant.get(),
            id,
            p.since.map(|d| d.to_string()),
            p.original_reference,
            p.original_iban.as_ref().map(|i| i.as_str().to_string()),
            p.original_bic.as_ref().map(|b| b.as_str().to_string()),
            p.original_scheme_id,
        ],
    )
    .map_err(map_sql)?;
    Ok(())
}

fn target_columns(t: CollectionTarget) -> (Option<i64>, Option<i64>, Option<i64>) {
    match t {
        CollectionTarget::Invoice(i) => (Some(i.get()), None, None),
        CollectionTarget::Instalment { plan, index } => (None, Some(plan), Some(i64::from(index))),
    }
}

fn target(
    invoice: Option<i64>,
    plan: Option<i64>,
    index: Option<i64>,
) -> StoreResult<CollectionTarget> {
    match (invoice, plan, index) {
        (Some(i), None, None) => Ok(CollectionTarget::Invoice(InvoiceId::new(i))),
        (None, Some(plan), Some(index)) => Ok(CollectionTarget::Instalment {
            plan,
            index: u32::try_from(index)
                .map_err(|_| other(codec::bad("instalment", &index.to_string())))?,
        }),
        _ => Err(other(anyhow::anyhow!("collection without a target"))),
    }
}

impl MandateStore for SqliteStore {
    fn set_creditor_scheme_id(
        &mut self,
        tenant: CreditorId,
        scheme_id: &str,
        on: Date,
    ) -> StoreResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        let old: Option<String> = tx
            .query_row(
                "SELECT scheme_id FROM dd_creditors WHERE creditor_id = ?1",
                [tenant.get()],
                |r| r.get(0),
            )
            .optional()
            .map_err(map_sql)?;
        if old.as_deref() == Some(scheme_id) {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO dd_creditors (creditor_id, scheme_id) VALUES (?1, ?2) ON CONFLICT (creditor_id) DO UPDATE SET scheme_id = excluded.scheme_id",
            params![tenant.get(), scheme_id],
        )
        .map_err(map_sql)?;
        if let Some(old) = old {
            // Mandates collected under the old identifier report it on their next collection;
            // one that already carries an original identifier keeps the one the bank knows.
            let ids: Vec<i64> = {
                let mut stmt = tx
                    .prepare("SELECT id FROM mandates WHERE creditor_id = ?1 AND status = 'active' AND (last_collection IS NOT NULL OR sequence IN ('rcur', 'fnal'))")
                    .map_err(map_sql)?;
                stmt.query_map([tenant.get()], |r| r.get(0))
                    .map_err(map_sql)?
                    .collect::<Result<_, _>>()
                    .map_err(map_sql)?
            };
            for id in ids {
                tx.execute(
                    "UPDATE mandates SET orig_scheme_id = CASE WHEN orig_scheme_id IS NULL THEN ?3 WHEN orig_scheme_id = ?4 THEN NULL ELSE orig_scheme_id END, amended_since = COALESCE(amended_since, ?5) WHERE creditor_id = ?1 AND id = ?2",
                    params![tenant.get(), id, old, scheme_id, on.to_string()],
                )
                .map_err(map_sql)?;
                tx.execute(
                    "UPDATE mandates SET amended_since = NULL WHERE creditor_id = ?1 AND id = ?2 AND orig_reference IS NULL AND orig_iban IS NULL AND orig_scheme_id IS NULL",
                    params![tenant.get(), id],
                )
                .map_err(map_sql)?;
                event(
                    &tx,
                    tenant,
                    id,
                    on,
                    "creditor_id_changed",
                    &format!("creditor identifier {old} -> {scheme_id}"),
                )?;
            }
        }
        tx.commit().map_err(map_sql)
    }

    fn creditor_scheme_id(&mut self, tenant: CreditorId) -> StoreResult<Option<String>> {
        self.conn
            .query_row(
                "SELECT scheme_id FROM dd_creditors WHERE creditor_id = ?1",
                [tenant.get()],
                |r| r.get(0),
            )
            .optional()
            .map_err(map_sql)
    }

    fn add_mandate(&mut self, tenant: CreditorId, m: &NewMandate) -> StoreResult<i64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        let debtor: Option<i64> = tx
            .query_row(
                "SELECT id FROM debtors WHERE creditor_id = ?1 AND id = ?2",
                params![tenant.get(), m.debtor_id.get()],
                |r| r.get(0),
            )
            .optional()
            .map_err(map_sql)?;
        if debtor.is_none() {
            return Err(StoreError::NotFound(format!(
                "debtor {}",
                m.debtor_id.get()
            )));
        }
        let taken: Option<i64> = tx
            .query_row(
                "SELECT id FROM mandates WHERE creditor_id = ?1 AND (reference = ?2 OR orig_reference = ?2)",
                params![tenant.get(), m.reference],
                |r| r.get(0),
            )
            .optional()
            .map_err(map_sql)?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "mandate reference {:?} is already used",
                m.reference
            )));
        }
        let active: Option<String> = tx
            .query_row(
                "SELECT reference FROM mandates WHERE creditor_id = ?1 AND debtor_id = ?2 AND status = 'active'",
                params![tenant.get(), m.debtor_id.get()],
                |r| r.get(0),
            )
            .optional()
            .map_err(map_sql)?;
        if let Some(r) = active {
            return Err(StoreError::Conflict(format!(
                "the debtor already has the active mandate {r:?}; revoke it first"
            )));
        }
        tx.execute(
            "INSERT INTO mandates (creditor_id, debtor_id, reference, signed_on, iban, bic, sequence, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active')",
            params![
                tenant.get(),
                m.debtor_id.get(),
                m.reference,
                m.signed_on.to_string(),
                m.iban.as_str(),
                m.bic.as_ref().map(|b| b.as_str().to_string()),
                m.sequence.code(),
            ],
        )
        .map_err(map_sql)?;
        let id = tx.last_insert_rowid();
        event(
            &tx,
            tenant,
            id,
            m.signed_on,
            "added",
            &format!(
                "mandate {} signed, IBAN {}, next {}",
                m.reference,
                m.iban.as_str(),
                m.sequence.code()
            ),
        )?;
        tx.commit().map_err(map_sql)?;
        Ok(id)
    }

    fn mandates(&mut self, tenant: CreditorId) -> StoreResult<Vec<MandateRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {MANDATE_COLUMNS} FROM mandates WHERE creditor_id = ?1 ORDER BY id"
            ))
            .map_err(map_sql)?;
        let raws = stmt
            .query_map([tenant.get()], raw_mandate)
            .map_err(map_sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(map_sql)?;
        raws.into_iter().map(mandate_row).collect()
    }

    fn mandate(&mut self, tenant: CreditorId, reference: &str) -> StoreResult<MandateRow> {
        find(&self.conn, tenant, reference)
    }

    fn amend_mandate(
        &mut self,
        tenant: CreditorId,
        reference: &str,
        a: &MandateAmendment,
    ) -> StoreResult<MandateRow> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        let row = find(&tx, tenant, reference)?;
        if row.status != MandateStatus::Active {
            return Err(StoreError::Conflict(format!(
                "mandate {reference:?} is {}",
                row.status.code()
            )));
        }
        let on = a.on.unwrap_or(row.mandate.signed_on);
        let known_to_bank = row.last_collection.is_some()
            || matches!(
                row.mandate.sequence,
                SequenceState::Recurring | SequenceState::Final
            );
        let mut pending = row.pending.clone();
        let mut changes = Vec::new();
        let mut next = row.mandate.clone();
        if let Some(new_ref) = &a.reference
            && *new_ref != row.mandate.reference
        {
            let taken: Option<i64> = tx
                .query_row(
                    "SELECT id FROM mandates WHERE creditor_id = ?1 AND (reference = ?2 OR orig_reference = ?2) AND id <> ?3",
                    params![tenant.get(), new_ref, row.id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(map_sql)?;
            if taken.is_some() {
                return Err(StoreError::Conflict(format!(
                    "mandate reference {new_ref:?} is already used"
                )));
            }
            changes.push(format!("reference {} -> {new_ref}", row.mandate.reference));
            if known_to_bank {
                match &pending.original_reference {
                    None => pending.original_reference = Some(row.mandate.reference.clone()),
                    Some(o) if o == new_ref => pending.original_reference = None,
                    Some(_) => {}
                }
            }
            next.reference = new_ref.clone();
        }
        if let Some(new_iban) = &a.iban
            && *new_iban != row.mandate.iban
        {
            changes.push(format!(
                "IBAN {} -> {}",
                row.mandate.iban.as_str(),
                new_iban.as_str()
            ));
            if known_to_bank {
                match &pending.original_iban {
                    None => {
                        pending.original_iban = Some(row.mandate.iban.clone());
                        pending.original_bic = row.mandate.bic.clone();
                    }
                    Some(o) if o == new_iban => {
                        pending.original_iban = None;
                        pending.original_bic = None;
                    }
                    Some(_) => {}
                }
            }
            next.iban = new_iban.clone();
        }
        if let Some(new_bic) = &a.bic
            && *new_bic != row.mandate.bic
        {
            changes.push(format!(
                "BIC {} -> {}",
                row.mandate.bic.as_ref().map_or("-", |b| b.as_str()),
                new_bic.as_ref().map_or("-", |b| b.as_str())
            ));
            next.bic = new_bic.clone();
        }
        if let Some(s) = a.sequence
            && s != row.mandate.sequence
        {
            changes.push(format!(
                "next sequence type {} -> {}",
                row.mandate.sequence.code(),
                s.code()
            ));
            next.sequence = s;
        }
        if changes.is_empty() {
            return Ok(row);
        }
        if pending.is_empty() {
            pending = PendingAmendment::default();
        } else if pending.since.is_none() {
            pending.since = Some(on);
        }
        tx.execute(
            "UPDATE mandates SET reference = ?3, iban = ?4, bic = ?5, sequence = ?6 WHERE creditor_id = ?1 AND id = ?2",
            params![
                tenant.get(),
                row.id,
                next.reference,
                next.iban.as_str(),
                next.bic.as_ref().map(|b| b.as_str().to_string()),
                next.sequence.code(),
            ],
        )
        .map_err(map_sql)?;
        write_pending(&tx, tenant, row.id, &pending)?;
        event(&tx, tenant, row.id, on, "amended", &changes.join("; "))?;
        let after = find(&tx, tenant, &next.reference)?;
        tx.commit().map_err(map_sql)?;
        Ok(after)
    }

    fn revoke_mandate(
        &mut self,
        tenant: CreditorId,
        reference: &str,
        on: Date,
        reason: &str,
    ) -> StoreResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        let row = find(&tx, tenant, reference)?;
        if row.status != MandateStatus::Active {
            return Err(StoreError::Conflict(format!(
                "mandate {reference:?} is {}",
                row.status.code()
            )));
        }
        tx.execute(
            "UPDATE mandates SET status = 'revoked', revoked_on = ?3 WHERE creditor_id = ?1 AND id = ?2",
            params![tenant.get(), row.id, on.to_string()],
        )
        .map_err(map_sql)?;
        event(
            &tx,
            tenant,
            row.id,
            on,
            "revoked",
            &if reason.is_empty() {
                format!("mandate {reference} revoked")
            } else {
                format!("mandate {reference} revoked: {reason}")
            },
        )?;
        tx.commit().map_err(map_sql)
    }

    fn mandate_events(
        &mut self,
        tenant: CreditorId,
        mandate: i64,
    ) -> StoreResult<Vec<MandateEvent>> {
        let mut stmt = self
            .conn
            .prepare("SELECT on_date, kind, text FROM mandate_events WHERE creditor_id = ?1 AND mandate_id = ?2 ORDER BY id")
            .map_err(map_sql)?;
        let raws = stmt
            .query_map(params![tenant.get(), mandate], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(map_sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(map_sql)?;
        raws.into_iter()
            .map(|(on, kind, text)| {
                Ok(MandateEvent {
                    on: date(&on)?,
                    kind,
                    text,
                })
            })
            .collect()
    }

    fn record_collection_batch(
        &mut self,
        tenant: CreditorId,
        batch: &NewCollectionBatch,
    ) -> StoreResult<i64> {
        // Recorded before it leaves the system: it must survive a power cut.
        self.durably(|s| {
            let tx = s
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(map_sql)?;
            tx.execute(
                "INSERT INTO dd_batches (creditor_id, message_id, collection_date, created_at, scheme_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    tenant.get(),
                    batch.message_id,
                    batch.collection_date.to_string(),
                    batch.created_at,
                    batch.scheme_id
                ],
            )
            .map_err(map_sql)?;
            let batch_id = tx.last_insert_rowid();
            let mut advanced: Vec<i64> = Vec::new();
            for c in &batch.collections {
                incasso_store::check_collection_items(c)?;
                if advanced.contains(&c.mandate) {
                    return Err(StoreError::Conflict(format!(
                        "mandate {} is collected twice in one batch",
                        c.mandate_reference
                    )));
                }
                advanced.push(c.mandate);
                let raw = tx
                    .query_row(
                        &format!(
                            "SELECT {MANDATE_COLUMNS} FROM mandates WHERE creditor_id = ?1 AND id = ?2"
                        ),
                        params![tenant.get(), c.mandate],
                        raw_mandate,
                    )
                    .optional()
                    .map_err(map_sql)?
                    .ok_or_else(|| StoreError::NotFound(format!("mandate {}", c.mandate_reference)))?;
                let m = mandate_row(raw)?;
                incasso_store::check_collection_snapshot(&m, c)?;
                let a = c.amendment.clone().unwrap_or_default();
                tx.execute(
                    "INSERT INTO dd_collections (creditor_id, batch_id, mandate_id, debtor_id, end_to_end_id, amount_minor, currency, sequence, debtor_name, iban, bic, mandate_reference, signed_on, amended, amended_since, orig_reference, orig_iban, orig_bic, orig_scheme_id, other_bank, remittance) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
                    params![
                        tenant.get(),
                        batch_id,
                        c.mandate,
                        c.debtor_id.get(),
                        c.end_to_end_id,
                        c.amount.minor(),
                        c.amount.currency().code(),
                        c.sequence.code(),
                        c.debtor_name,
                        c.iban.as_str(),
                        c.bic.as_ref().map(|b| b.as_str().to_string()),
                        c.mandate_reference,
                        c.signed_on.to_string(),
                        c.amendment.is_some(),
                        a.since.map(|d| d.to_string()),
                        a.original_reference,
                        a.original_iban.as_ref().map(|i| i.as_str().to_string()),
                        a.original_bic.as_ref().map(|b| b.as_str().to_string()),
                        a.original_scheme_id,
                        c.other_bank,
                        c.remittance,
                    ],
                )
                .map_err(map_sql)?;
                let collection_id = tx.last_insert_rowid();
                for item in &c.items {
                    let (invoice, plan, index) = target_columns(item.target);
                    tx.execute(
                        "INSERT INTO dd_collection_items (creditor_id, collection_id, invoice_id, plan_id, instalment, amount_minor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![tenant.get(), collection_id, invoice, plan, index, item.amount.minor()],
                    )
                    .map_err(map_sql)?;
                }
                let (next, status) = match c.sequence.after_collection() {
                    Some(s) => (s, MandateStatus::Active),
                    None => (c.sequence, MandateStatus::Ended),
                };
                tx.execute(
                    "UPDATE mandates SET sequence = ?3, status = ?4, last_collection = ?5 WHERE creditor_id = ?1 AND id = ?2",
                    params![
                        tenant.get(),
                        c.mandate,
                        next.code(),
                        status.code(),
                        batch.collection_date.to_string()
                    ],
                )
                .map_err(map_sql)?;
                write_pending(&tx, tenant, c.mandate, &PendingAmendment::default())?;
                event(
                    &tx,
                    tenant,
                    c.mandate,
                    batch.collection_date,
                    "collected",
                    &format!(
                        "{} {} {} in {}",
                        c.sequence.code().to_uppercase(),
                        c.end_to_end_id,
                        c.amount,
                        batch.message_id
                    ),
                )?;
            }
            tx.commit().map_err(map_sql)?;
            Ok(batch_id)
        })
    }

    fn collection_batches(
        &mut self,
        tenant: CreditorId,
        collection_date: Option<Date>,
    ) -> StoreResult<Vec<CollectionBatchRow>> {
        let day = collection_date.map(|d| d.to_string());
        let mut stmt = self
            .conn
            .prepare("SELECT id, message_id, collection_date, created_at, scheme_id FROM dd_batches WHERE creditor_id = ?1 AND (?2 IS NULL OR collection_date = ?2) ORDER BY id")
            .map_err(map_sql)?;
        let raws = stmt
            .query_map(params![tenant.get(), day], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(map_sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(map_sql)?;
        let mut out = Vec::new();
        for (id, message_id, day, created_at, scheme_id) in raws {
            let collections = collections(&self.conn, tenant, "batch_id = ?2", id)?
                .into_iter()
                .map(|(_, c)| c)
                .collect();
            out.push(CollectionBatchRow {
                id,
                batch: NewCollectionBatch {
                    message_id,
                    collection_date: date(&day)?,
                    created_at,
                    scheme_id,
                    collections,
                },
            });
        }
        Ok(out)
    }

    fn collected_targets(&mut self, tenant: CreditorId) -> StoreResult<Vec<CollectionTarget>> {
        let mut stmt = self
            .conn
            .prepare("SELECT invoice_id, plan_id, instalment FROM dd_collection_items WHERE creditor_id = ?1 ORDER BY id")
            .map_err(map_sql)?;
        let raws = stmt
            .query_map([tenant.get()], |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })
            .map_err(map_sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(map_sql)?;
        raws.into_iter().map(|(i, p, x)| target(i, p, x)).collect()
    }

    fn collected_invoices_since(
        &mut self,
        tenant: CreditorId,
        from: Date,
    ) -> StoreResult<Vec<(InvoiceId, Date)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT i.invoice_id, b.collection_date FROM dd_batches b JOIN dd_collections c ON c.creditor_id = b.creditor_id AND c.batch_id = b.id JOIN dd_collection_items i ON i.creditor_id = c.creditor_id AND i.collection_id = c.id WHERE b.creditor_id = ?1 AND b.collection_date >= ?2 AND i.invoice_id IS NOT NULL ORDER BY i.invoice_id")
            .map_err(map_sql)?;
        let raws = stmt
            .query_map(params![tenant.get(), from.to_string()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(map_sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(map_sql)?;
        raws.into_iter()
            .map(|(i, d)| Ok((InvoiceId::new(i), date(&d)?)))
            .collect()
    }

    fn collection_by_end_to_end(
        &mut self,
        tenant: CreditorId,
        end_to_end_id: &str,
    ) -> StoreResult<Option<(String, NewCollection)>> {
        collection_by_end_to_end(&self.conn, tenant, end_to_end_id)
    }
}

/// The collection with this end-to-end id and its batch's message id (also used inside a bank
/// transaction).
pub(crate) fn collection_by_end_to_end(
    conn: &Connection,
    tenant: CreditorId,
    end_to_end_id: &str,
) -> StoreResult<Option<(String, NewCollection)>> {
    let found: Option<(i64, String)> = conn
        .query_row(
            "SELECT c.id, b.message_id FROM dd_collections c JOIN dd_batches b ON b.id = c.batch_id AND b.creditor_id = c.creditor_id WHERE c.creditor_id = ?1 AND c.end_to_end_id = ?2",
            params![tenant.get(), end_to_end_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(map_sql)?;
    let Some((id, message)) = found else {
        return Ok(None);
    };
    let mut rows = collections(conn, tenant, "id = ?2", id)?;
    Ok(rows.pop().map(|(_, c)| (message, c)))
}

/// The collections (with their batch id) selected by `filter` (on `?2`), in id order.
fn collections(
    conn: &Connection,
    tenant: CreditorId,
    filter: &str,
    value: i64,
) -> StoreResult<Vec<(i64, NewCollection)>> {
    let mut stmt = conn
        .prepare(&format!("SELECT id, batch_id, mandate_id, debtor_id, end_to_end_id, amount_minor, currency, sequence, debtor_name, iban, bic, mandate_reference, signed_on, amended, amended_since, orig_reference, orig_iban, orig_bic, orig_scheme_id, other_bank, remittance FROM dd_collections WHERE creditor_id = ?1 AND {filter} ORDER BY id"))
        .map_err(map_sql)?;
    type Raw = (
        (i64, i64, i64, i64, String),
        (i64, String, String, String, String),
        (Option<String>, String, String, bool),
        (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ),
        (bool, String),
    );
    let rows: Vec<Raw> = stmt
        .query_map(params![tenant.get(), value], |r| {
            Ok((
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                (r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?),
                (r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?),
                (r.get(14)?, r.get(15)?, r.get(16)?, r.get(17)?, r.get(18)?),
                (r.get(19)?, r.get(20)?),
            ))
        })
        .map_err(map_sql)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(map_sql)?;
    let mut out = Vec::new();
    for (
        (id, batch, mandate, debtor, e2e),
        (minor, cur, seq, name, ib),
        (bi, mref, signed, amended),
        (since, o_ref, o_iban, o_bic, o_scheme),
        (other_bank, remittance),
    ) in rows
    {
        let currency = Currency::parse(&cur).map_err(|_| other(codec::bad("currency", &cur)))?;
        let mut stmt = conn
            .prepare("SELECT invoice_id, plan_id, instalment, amount_minor FROM dd_collection_items WHERE creditor_id = ?1 AND collection_id = ?2 ORDER BY id")
            .map_err(map_sql)?;
        let raw_items = stmt
            .query_map(params![tenant.get(), id], |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(map_sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(map_sql)?;
        let items = raw_items
            .into_iter()
            .map(|(i, p, x, a)| {
                Ok(CollectionItem {
                    target: target(i, p, x)?,
                    amount: Money::from_minor(a, currency),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        out.push((
            batch,
            NewCollection {
                items,
                mandate,
                debtor_id: DebtorId::new(debtor),
                end_to_end_id: e2e,
                amount: Money::from_minor(minor, currency),
                sequence: sequence(&seq)?,
                debtor_name: name,
                iban: iban(&ib)?,
                bic: bic(bi)?,
                mandate_reference: mref,
                signed_on: date(&signed)?,
                amendment: if amended {
                    Some(PendingAmendment {
                        since: opt_date(since)?,
                        original_reference: o_ref,
                        original_iban: o_iban.as_deref().map(iban).transpose()?,
                        original_bic: bic(o_bic)?,
                        original_scheme_id: o_scheme,
                    })
                } else {
                    None
                },
                other_bank,
                remittance,
            },
        ));
    }
    Ok(out)
}
