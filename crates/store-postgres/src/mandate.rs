//! The postgres implementation of [`incasso_store::MandateStore`]: mandates, their pending
//! amendments and history, the creditor identifier, and collection batches (the same statements
//! and semantics as the SQLite store).

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
use postgres::{GenericClient, Row};

use crate::{PgStore, get, map_pg, other};

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

fn opt_string(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

fn mandate_row(r: &Row) -> StoreResult<MandateRow> {
    let status: String = get(r, 7)?;
    Ok(MandateRow {
        id: get(r, 0)?,
        mandate: NewMandate {
            debtor_id: DebtorId::new(get(r, 1)?),
            reference: get(r, 2)?,
            signed_on: date(&get::<String>(r, 3)?)?,
            iban: iban(&get::<String>(r, 4)?)?,
            bic: bic(get(r, 5)?)?,
            sequence: sequence(&get::<String>(r, 6)?)?,
        },
        status: MandateStatus::parse(&status)
            .ok_or_else(|| other(codec::bad("status", &status)))?,
        revoked_on: opt_date(get(r, 8)?)?,
        last_collection: opt_date(get(r, 9)?)?,
        pending: PendingAmendment {
            since: opt_date(get(r, 10)?)?,
            original_reference: get(r, 11)?,
            original_iban: get::<Option<String>>(r, 12)?
                .as_deref()
                .map(iban)
                .transpose()?,
            original_bic: bic(get(r, 13)?)?,
            original_scheme_id: get(r, 14)?,
        },
    })
}

fn find(
    c: &mut impl GenericClient,
    tenant: CreditorId,
    reference: &str,
) -> StoreResult<MandateRow> {
    let row = c
        .query_opt(
            &format!(
                "SELECT {MANDATE_COLUMNS} FROM mandates WHERE creditor_id = $1 AND reference = $2"
            ),
            &[&tenant.get(), &reference],
        )
        .map_err(map_pg)?
        .ok_or_else(|| StoreError::NotFound(format!("mandate {reference:?}")))?;
    mandate_row(&row)
}

fn event(
    c: &mut impl GenericClient,
    tenant: CreditorId,
    mandate: i64,
    on: Date,
    kind: &str,
    text: &str,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO mandate_events (creditor_id, mandate_id, on_date, kind, text) VALUES ($1, $2, $3, $4, $5)",
        &[&tenant.get(), &mandate, &on.to_string(), &kind, &text],
    )
    .map_err(map_pg)?;
    Ok(())
}

fn write_pending(
    c: &mut impl GenericClient,
    tenant: CreditorId,
    id: i64,
    p: &PendingAmendment,
) -> StoreResult<()> {
    let p = if p.is_empty() {
        &PendingAmendment::default()
    } else {
        p
    };
    c.execute(
        "UPDATE mandates SET amended_since = $3, orig_reference = $4, orig_iban = $5, orig_bic = $6, orig_scheme_id = $7 WHERE creditor_id = $1 AND id = $2",
        &[
            &tenant.get(),
            &id,
            &p.since.map(|d| d.to_string()),
            &p.original_reference,
            &p.original_iban.as_ref().map(|i| i.as_str().to_string()),
            &p.original_bic.as_ref().map(|b| b.as_str().to_string()),
            &p.original_scheme_id,
        ],
    )
    .map_err(map_pg)?;
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

impl MandateStore for PgStore {
    fn set_creditor_scheme_id(
        &mut self,
        tenant: CreditorId,
        scheme_id: &str,
        on: Date,
    ) -> StoreResult<()> {
        let mut tx = self.client.transaction().map_err(map_pg)?;
        let old: Option<String> = match tx
            .query_opt(
                "SELECT scheme_id FROM dd_creditors WHERE creditor_id = $1 FOR UPDATE",
                &[&tenant.get()],
            )
            .map_err(map_pg)?
        {
            Some(r) => Some(get(&r, 0)?),
            None => None,
        };
        if old.as_deref() == Some(scheme_id) {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO dd_creditors (creditor_id, scheme_id) VALUES ($1, $2) ON CONFLICT (creditor_id) DO UPDATE SET scheme_id = excluded.scheme_id",
            &[&tenant.get(), &scheme_id],
        )
        .map_err(map_pg)?;
        if let Some(old) = old {
            let ids: Vec<i64> = tx
                .query(
                    "SELECT id FROM mandates WHERE creditor_id = $1 AND status = 'active' AND (last_collection IS NOT NULL OR sequence IN ('rcur', 'fnal')) ORDER BY id",
                    &[&tenant.get()],
                )
                .map_err(map_pg)?
                .iter()
                .map(|r| get(r, 0))
                .collect::<StoreResult<_>>()?;
            for id in ids {
                tx.execute(
                    "UPDATE mandates SET orig_scheme_id = CASE WHEN orig_scheme_id IS NULL THEN $3 WHEN orig_scheme_id = $4 THEN NULL ELSE orig_scheme_id END, amended_since = COALESCE(amended_since, $5) WHERE creditor_id = $1 AND id = $2",
                    &[&tenant.get(), &id, &old, &scheme_id, &on.to_string()],
                )
                .map_err(map_pg)?;
                tx.execute(
                    "UPDATE mandates SET amended_since = NULL WHERE creditor_id = $1 AND id = $2 AND orig_reference IS NULL AND orig_iban IS NULL AND orig_scheme_id IS NULL",
                    &[&tenant.get(), &id],
                )
                .map_err(map_pg)?;
                event(
                    &mut tx,
                    tenant,
                    id,
                    on,
                    "creditor_id_changed",
                    &format!("creditor identifier {old} -> {scheme_id}"),
                )?;
            }
        }
        tx.commit().map_err(map_pg)
    }

    fn creditor_scheme_id(&mut self, tenant: CreditorId) -> StoreResult<Option<String>> {
        match self
            .client
            .query_opt(
                "SELECT scheme_id FROM dd_creditors WHERE creditor_id = $1",
                &[&tenant.get()],
            )
            .map_err(map_pg)?
        {
            Some(r) => Ok(Some(get(&r, 0)?)),
            None => Ok(None),
        }
    }

    fn add_mandate(&mut self, tenant: CreditorId, m: &NewMandate) -> StoreResult<i64> {
        let mut tx = self.client.transaction().map_err(map_pg)?;
        if tx
            .query_opt(
                "SELECT id FROM debtors WHERE creditor_id = $1 AND id = $2",
                &[&tenant.get(), &m.debtor_id.get()],
            )
            .map_err(map_pg)?
            .is_none()
        {
            return Err(StoreError::NotFound(format!(
                "debtor {}",
                m.debtor_id.get()
            )));
        }
        if tx
            .query_opt(
                "SELECT id FROM mandates WHERE creditor_id = $1 AND (reference = $2 OR orig_reference = $2)",
                &[&tenant.get(), &m.reference],
            )
            .map_err(map_pg)?
            .is_some()
        {
            return Err(StoreError::Conflict(format!("mandate reference {:?} is already used", m.reference)));
        }
        if let Some(r) = tx
            .query_opt(
                "SELECT reference FROM mandates WHERE creditor_id = $1 AND debtor_id = $2 AND status = 'active'",
                &[&tenant.get(), &m.debtor_id.get()],
            )
            .map_err(map_pg)?
        {
            let r: String = get(&r, 0)?;
            return Err(StoreError::Conflict(format!("the debtor already has the active mandate {r:?}; revoke it first")));
        }
        let row = tx
            .query_one(
                "INSERT INTO mandates (creditor_id, debtor_id, reference, signed_on, iban, bic, sequence, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'active') RETURNING id",
                &[
                    &tenant.get(),
                    &m.debtor_id.get(),
                    &m.reference,
                    &m.signed_on.to_string(),
                    &m.iban.as_str(),
                    &opt_string(m.bic.as_ref().map(|b| b.as_str())),
                    &m.sequence.code(),
                ],
            )
            .map_err(map_pg)?;
        let id: i64 = get(&row, 0)?;
        event(
            &mut tx,
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
        tx.commit().map_err(map_pg)?;
        Ok(id)
    }

    fn mandates(&mut self, tenant: CreditorId) -> StoreResult<Vec<MandateRow>> {
        self.client
            .query(
                &format!(
                    "SELECT {MANDATE_COLUMNS} FROM mandates WHERE creditor_id = $1 ORDER BY id"
                ),
                &[&tenant.get()],
            )
            .map_err(map_pg)?
            .iter()
            .map(mandate_row)
            .collect()
    }

    fn mandate(&mut self, tenant: CreditorId, reference: &str) -> StoreResult<MandateRow> {
        find(&mut self.client, tenant, reference)
    }

    fn amend_mandate(
        &mut self,
        tenant: CreditorId,
        reference: &str,
        a: &MandateAmendment,
    ) -> StoreResult<MandateRow> {
        let mut tx = self.client.transaction().map_err(map_pg)?;
        tx.execute(
            "SELECT id FROM mandates WHERE creditor_id = $1 AND reference = $2 FOR UPDATE",
            &[&tenant.get(), &reference],
        )
        .map_err(map_pg)?;
        let row = find(&mut tx, tenant, reference)?;
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
            if tx
                .query_opt(
                    "SELECT id FROM mandates WHERE creditor_id = $1 AND (reference = $2 OR orig_reference = $2) AND id <> $3",
                    &[&tenant.get(), new_ref, &row.id],
                )
                .map_err(map_pg)?
                .is_some()
            {
                return Err(StoreError::Conflict(format!("mandate reference {new_ref:?} is already used")));
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
            "UPDATE mandates SET reference = $3, iban = $4, bic = $5, sequence = $6 WHERE creditor_id = $1 AND id = $2",
            &[
                &tenant.get(),
                &row.id,
                &next.reference,
                &next.iban.as_str(),
                &opt_string(next.bic.as_ref().map(|b| b.as_str())),
                &next.sequence.code(),
            ],
        )
        .map_err(map_pg)?;
        write_pending(&mut tx, tenant, row.id, &pending)?;
        event(&mut tx, tenant, row.id, on, "amended", &changes.join("; "))?;
        let after = find(&mut tx, tenant, &next.reference)?;
        tx.commit().map_err(map_pg)?;
        Ok(after)
    }

    fn revoke_mandate(
        &mut self,
        tenant: CreditorId,
        reference: &str,
        on: Date,
        reason: &str,
    ) -> StoreResult<()> {
        let mut tx = self.client.transaction().map_err(map_pg)?;
        tx.execute(
            "SELECT id FROM mandates WHERE creditor_id = $1 AND reference = $2 FOR UPDATE",
            &[&tenant.get(), &reference],
        )
        .map_err(map_pg)?;
        let row = find(&mut tx, tenant, reference)?;
        if row.status != MandateStatus::Active {
            return Err(StoreError::Conflict(format!(
                "mandate {reference:?} is {}",
                row.status.code()
            )));
        }
        tx.execute(
            "UPDATE mandates SET status = 'revoked', revoked_on = $3 WHERE creditor_id = $1 AND id = $2",
            &[&tenant.get(), &row.id, &on.to_string()],
        )
        .map_err(map_pg)?;
        event(
            &mut tx,
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
        tx.commit().map_err(map_pg)
    }

    fn mandate_events(
        &mut self,
        tenant: CreditorId,
        mandate: i64,
    ) -> StoreResult<Vec<MandateEvent>> {
        self.client
            .query(
                "SELECT on_date, kind, text FROM mandate_events WHERE creditor_id = $1 AND mandate_id = $2 ORDER BY id",
                &[&tenant.get(), &mandate],
            )
            .map_err(map_pg)?
            .iter()
            .map(|r| {
                Ok(MandateEvent {
                    on: date(&get::<String>(r, 0)?)?,
                    kind: get(r, 1)?,
                    text: get(r, 2)?,
                })
            })
            .collect()
    }

    fn record_collection_batch(
        &mut self,
        tenant: CreditorId,
        batch: &NewCollectionBatch,
    ) -> StoreResult<i64> {
        let mut tx = self.client.transaction().map_err(map_pg)?;
        let row = tx
            .query_one(
                "INSERT INTO dd_batches (creditor_id, message_id, collection_date, created_at, scheme_id) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &tenant.get(),
                    &batch.message_id,
                    &batch.collection_date.to_string(),
                    &batch.created_at,
                    &batch.scheme_id,
                ],
            )
            .map_err(map_pg)?;
        let batch_id: i64 = get(&row, 0)?;
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
            let row = tx
                .query_opt(
                    &format!("SELECT {MANDATE_COLUMNS} FROM mandates WHERE creditor_id = $1 AND id = $2 FOR UPDATE"),
                    &[&tenant.get(), &c.mandate],
                )
                .map_err(map_pg)?
                .ok_or_else(|| StoreError::NotFound(format!("mandate {}", c.mandate_reference)))?;
            let m = mandate_row(&row)?;
            incasso_store::check_collection_snapshot(&m, c)?;
            let a = c.amendment.clone().unwrap_or_default();
            let row = tx
                .query_one(
                    "INSERT INTO dd_collections (creditor_id, batch_id, mandate_id, debtor_id, end_to_end_id, amount_minor, currency, sequence, debtor_name, iban, bic, mandate_reference, signed_on, amended, amended_since, orig_reference, orig_iban, orig_bic, orig_scheme_id, other_bank, remittance) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING id",
                    &[
                        &tenant.get(),
                        &batch_id,
                        &c.mandate,
                        &c.debtor_id.get(),
                        &c.end_to_end_id,
                        &c.amount.minor(),
                        &c.amount.currency().code(),
                        &c.sequence.code(),
                        &c.debtor_name,
                        &c.iban.as_str(),
                        &opt_string(c.bic.as_ref().map(|b| b.as_str())),
                        &c.mandate_reference,
                        &c.signed_on.to_string(),
                        &c.amendment.is_some(),
                        &a.since.map(|d| d.to_string()),
                        &a.original_reference,
                        &a.original_iban.as_ref().map(|i| i.as_str().to_string()),
                        &a.original_bic.as_ref().map(|b| b.as_str().to_string()),
                        &a.original_scheme_id,
                        &c.other_bank,
                        &c.remittance,
                    ],
                )
                .map_err(map_pg)?;
            let collection_id: i64 = get(&row, 0)?;
            for item in &c.items {
                let (invoice, plan, index) = target_columns(item.target);
                tx.execute(
                    "INSERT INTO dd_collection_items (creditor_id, collection_id, invoice_id, plan_id, instalment, amount_minor) VALUES ($1, $2, $3, $4, $5, $6)",
                    &[&tenant.get(), &collection_id, &invoice, &plan, &index, &item.amount.minor()],
                )
                .map_err(map_pg)?;
            }
            let (next, status) = match c.sequence.after_collection() {
                Some(s) => (s, MandateStatus::Active),
                None => (c.sequence, MandateStatus::Ended),
            };
            tx.execute(
                "UPDATE mandates SET sequence = $3, status = $4, last_collection = $5 WHERE creditor_id = $1 AND id = $2",
                &[&tenant.get(), &c.mandate, &next.code(), &status.code(), &batch.collection_date.to_string()],
            )
            .map_err(map_pg)?;
            write_pending(&mut tx, tenant, c.mandate, &PendingAmendment::default())?;
            event(
                &mut tx,
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
        tx.commit().map_err(map_pg)?;
        Ok(batch_id)
    }

    fn collection_batches(
        &mut self,
        tenant: CreditorId,
        collection_date: Option<Date>,
    ) -> StoreResult<Vec<CollectionBatchRow>> {
        let day = collection_date.map(|d| d.to_string());
        let batches = self
            .client
            .query(
                "SELECT id, message_id, collection_date, created_at, scheme_id FROM dd_batches WHERE creditor_id = $1 AND ($2::text IS NULL OR collection_date = $2) ORDER BY id",
                &[&tenant.get(), &day],
            )
            .map_err(map_pg)?;
        let mut out = Vec::new();
        for b in &batches {
            let id: i64 = get(b, 0)?;
            let collections = collections(&mut self.client, tenant, "batch_id = $2", id)?
                .into_iter()
                .map(|(_, c)| c)
                .collect();
            out.push(CollectionBatchRow {
                id,
                batch: NewCollectionBatch {
                    message_id: get(b, 1)?,
                    collection_date: date(&get::<String>(b, 2)?)?,
                    created_at: get(b, 3)?,
                    scheme_id: get(b, 4)?,
                    collections,
                },
            });
        }
        Ok(out)
    }

    fn collected_targets(&mut self, tenant: CreditorId) -> StoreResult<Vec<CollectionTarget>> {
        self.client
            .query(
                "SELECT invoice_id, plan_id, instalment FROM dd_collection_items WHERE creditor_id = $1 ORDER BY id",
                &[&tenant.get()],
            )
            .map_err(map_pg)?
            .iter()
            .map(|r| target(get(r, 0)?, get(r, 1)?, get(r, 2)?))
            .collect()
    }

    fn collected_invoices_since(
        &mut self,
        tenant: CreditorId,
        from: Date,
    ) -> StoreResult<Vec<(InvoiceId, Date)>> {
        self.client
            .query(
                "SELECT i.invoice_id, b.collection_date FROM dd_batches b JOIN dd_collections c ON c.creditor_id = b.creditor_id AND c.batch_id = b.id JOIN dd_collection_items i ON i.creditor_id = c.creditor_id AND i.collection_id = c.id WHERE b.creditor_id = $1 AND b.collection_date >= $2 AND i.invoice_id IS NOT NULL ORDER BY i.invoice_id",
                &[&tenant.get(), &from.to_string()],
            )
            .map_err(map_pg)?
            .iter()
            .map(|r| Ok((InvoiceId::new(get(r, 0)?), date(&get::<String>(r, 1)?)?)))
            .collect()
    }

    fn collection_by_end_to_end(
        &mut self,
        tenant: CreditorId,
        end_to_end_id: &str,
    ) -> StoreResult<Option<(String, NewCollection)>> {
        collection_by_end_to_end(&mut self.client, tenant, end_to_end_id)
    }
}

/// The collection with this end-to-end id and its batch's message id (also used inside a bank
/// transaction).
pub(crate) fn collection_by_end_to_end(
    client: &mut impl GenericClient,
    tenant: CreditorId,
    end_to_end_id: &str,
) -> StoreResult<Option<(String, NewCollection)>> {
    let Some(row) = client
        .query_opt(
            "SELECT c.id, b.message_id FROM dd_collections c JOIN dd_batches b ON b.id = c.batch_id AND b.creditor_id = c.creditor_id WHERE c.creditor_id = $1 AND c.end_to_end_id = $2",
            &[&tenant.get(), &end_to_end_id],
        )
        .map_err(map_pg)?
    else {
        return Ok(None);
    };
    let id: i64 = get(&row, 0)?;
    let message: String = get(&row, 1)?;
    let mut found = collections(client, tenant, "id = $2", id)?;
    Ok(found.pop().map(|(_, c)| (message, c)))
}

/// The collections (with their batch id) selected by `filter` (on `$2`), in id order.
fn collections(
    client: &mut impl GenericClient,
    tenant: CreditorId,
    filter: &str,
    value: i64,
) -> StoreResult<Vec<(i64, NewCollection)>> {
    let rows = client
        .query(
            &format!("SELECT id, batch_id, mandate_id, debtor_id, end_to_end_id, amount_minor, currency, sequence, debtor_name, iban, bic, mandate_reference, signed_on, amended, amended_since, orig_reference, orig_iban, orig_bic, orig_scheme_id, other_bank, remittance FROM dd_collections WHERE creditor_id = $1 AND {filter} ORDER BY id"),
            &[&tenant.get(), &value],
        )
        .map_err(map_pg)?;
    let mut out = Vec::new();
    for r in &rows {
        let id: i64 = get(r, 0)?;
        let cur: String = get(r, 6)?;
        let currency = Currency::parse(&cur).map_err(|_| other(codec::bad("currency", &cur)))?;
        let items = client
            .query(
                "SELECT invoice_id, plan_id, instalment, amount_minor FROM dd_collection_items WHERE creditor_id = $1 AND collection_id = $2 ORDER BY id",
                &[&tenant.get(), &id],
            )
            .map_err(map_pg)?
            .iter()
            .map(|i| {
                Ok(CollectionItem {
                    target: target(get(i, 0)?, get(i, 1)?, get(i, 2)?)?,
                    amount: Money::from_minor(get(i, 3)?, currency),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let amended: bool = get(r, 13)?;
        out.push((
            get(r, 1)?,
            NewCollection {
                items,
                mandate: get(r, 2)?,
                debtor_id: DebtorId::new(get(r, 3)?),
                end_to_end_id: get(r, 4)?,
                amount: Money::from_minor(get(r, 5)?, currency),
                sequence: sequence(&get::<String>(r, 7)?)?,
                debtor_name: get(r, 8)?,
                iban: iban(&get::<String>(r, 9)?)?,
                bic: bic(get(r, 10)?)?,
                mandate_reference: get(r, 11)?,
                signed_on: date(&get::<String>(r, 12)?)?,
                amendment: if amended {
                    Some(PendingAmendment {
                        since: opt_date(get(r, 14)?)?,
                        original_reference: get(r, 15)?,
                        original_iban: get::<Option<String>>(r, 16)?
                            .as_deref()
                            .map(iban)
                            .transpose()?,
                        original_bic: bic(get(r, 17)?)?,
                        original_scheme_id: get(r, 18)?,
                    })
                } else {
                    None
                },
                other_bank: get(r, 19)?,
                remittance: get(r, 20)?,
            },
        ));
    }
    Ok(out)
}
