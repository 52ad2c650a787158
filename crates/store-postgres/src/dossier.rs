//! The postgres implementation of [`incasso_store::DossierStore`], and the one routine every
//! writer of case events goes through: [`Chain`] numbers events in their case and links them to
//! the case's last hash (read once per batch for all its cases, in one query); the rows are then
//! inserted with their hashes, one at a time or as arrays (UNNEST) for the daily run.

use std::collections::HashMap;

use incasso_domain::CreditorId;
use incasso_dossier::{Event, GENESIS};
use incasso_store::{
    ChainRow, DOCUMENT_ADDED, DocumentAdded, DocumentRow, DossierStore, NewDocument, StoreError,
    StoreResult,
};
use postgres::{GenericClient, Row, Transaction};

use crate::{PgStore, Prepared, get, map_pg};

/// The line of migration 0008 where the runner chains the existing events.
pub(crate) const CHAIN_LEGACY_MARKER: &str = "-- @chain-legacy-events";

/// An event ready to insert: numbered and hashed.
pub(crate) struct Linked {
    pub(crate) event: Event,
    pub(crate) payload: String,
    pub(crate) prev: String,
    pub(crate) hash: String,
}

/// The heads (last sequence number and hash) of the cases a transaction appends to.
#[derive(Default)]
pub(crate) struct Chain {
    heads: HashMap<i64, (u64, String)>,
}

impl Chain {
    pub(crate) fn new() -> Chain {
        Chain::default()
    }

    /// Declares a case created in this transaction: its chain starts at [`GENESIS`].
    pub(crate) fn fresh_case(&mut self, case: i64) {
        self.heads.insert(case, (0, GENESIS.to_string()));
    }

    /// Reads the heads of the given cases not known yet, in one query.
    pub(crate) fn load(
        &mut self,
        tx: &mut impl GenericClient,
        tenant: i64,
        cases: &[i64],
    ) -> StoreResult<()> {
        let mut missing: Vec<i64> = cases
            .iter()
            .copied()
            .filter(|c| !self.heads.contains_key(c))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let rows = tx
            .query(
                "SELECT DISTINCT ON (case_id) case_id, seq, hash FROM case_events
                 WHERE creditor_id = $1 AND case_id = ANY($2) ORDER BY case_id, seq DESC",
                &[&tenant, &missing],
            )
            .map_err(map_pg)?;
        for c in &missing {
            self.heads.insert(*c, (0, GENESIS.to_string()));
        }
        for r in &rows {
            let case: i64 = get(r, 0)?;
            let seq: i64 = get(r, 1)?;
            self.heads.insert(case, (seq as u64, get(r, 2)?));
        }
        Ok(())
    }

    /// Numbers and hashes the next event of `case` (whose head must be loaded or fresh).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn link(
        &mut self,
        tenant: i64,
        case: i64,
        on: String,
        kind: &str,
        text: &str,
        payload: &serde_json::Value,
        document: Option<&str>,
    ) -> StoreResult<Linked> {
        let (seq, prev) = self.heads.get(&case).cloned().ok_or_else(|| {
            StoreError::Other(anyhow::anyhow!("chain head of case {case} not loaded"))
        })?;
        let event = Event {
            tenant,
            case,
            seq: seq + 1,
            on,
            kind: kind.to_string(),
            text: text.to_string(),
            payload: payload.clone(),
            document: document.map(str::to_string),
        };
        let hash = incasso_dossier::link(&prev, &event);
        self.heads.insert(case, (event.seq, hash.clone()));
        Ok(Linked {
            payload: incasso_dossier::canonical_json(&event.payload),
            event,
            prev,
            hash,
        })
    }

    /// Appends one event (loading the case's head if needed); returns its sequence number.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn append(
        &mut self,
        tx: &mut impl GenericClient,
        tenant: i64,
        case: i64,
        on: String,
        kind: &str,
        text: &str,
        payload: &serde_json::Value,
        document: Option<&str>,
    ) -> StoreResult<u64> {
        self.load(tx, tenant, &[case])?;
        let l = self.link(tenant, case, on, kind, text, payload, document)?;
        insert(tx, &[l])
    }
}

/// Inserts linked events in order (one statement over arrays); returns the last sequence number.
pub(crate) fn insert(tx: &mut impl GenericClient, events: &[Linked]) -> StoreResult<u64> {
    let Some(first) = events.first() else {
        return Ok(0);
    };
    let tenant = first.event.tenant;
    let n = events.len();
    let (
        mut cases,
        mut seqs,
        mut on,
        mut kinds,
        mut texts,
        mut payloads,
        mut docs,
        mut prevs,
        mut hashes,
    ) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for l in events {
        cases.push(l.event.case);
        seqs.push(l.event.seq as i64);
        on.push(l.event.on.as_str());
        kinds.push(l.event.kind.as_str());
        texts.push(l.event.text.as_str());
        payloads.push(l.payload.as_str());
        docs.push(l.event.document.as_deref());
        prevs.push(l.prev.as_str());
        hashes.push(l.hash.as_str());
    }
    tx.execute(
        "INSERT INTO case_events (creditor_id, case_id, seq, on_date, kind, text, payload, document_sha256, prev_hash, hash)
         SELECT $1, x.case_id, x.seq, x.on_date::date, x.kind, x.text, x.payload, x.doc, x.prev, x.hash
         FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
              WITH ORDINALITY AS x(case_id, seq, on_date, kind, text, payload, doc, prev, hash, n)
         ORDER BY x.n",
        &[&tenant, &cases, &seqs, &on, &kinds, &texts, &payloads, &docs, &prevs, &hashes],
    )
    .map_err(map_pg)?;
    Ok(events.last().map(|l| l.event.seq).unwrap_or(0))
}

/// An empty JSON object: the payload of plain events.
pub(crate) fn no_payload() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// Chains the events written before migration 0008, per case in the order they were written;
/// runs inside the migration's transaction.
pub(crate) fn chain_legacy_events(tx: &mut Transaction<'_>) -> anyhow::Result<()> {
    let rows = tx.query(
        "SELECT id, creditor_id, case_id, to_char(on_date, 'YYYY-MM-DD'), kind, text FROM case_events ORDER BY creditor_id, case_id, id",
        &[],
    )?;
    let (mut ids, mut seqs, mut prevs, mut hashes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut current: Option<(i64, i64)> = None;
    let (mut seq, mut prev) = (0u64, GENESIS.to_string());
    for r in &rows {
        let (id, tenant, case): (i64, i64, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        if current != Some((tenant, case)) {
            current = Some((tenant, case));
            (seq, prev) = (0, GENESIS.to_string());
        }
        seq += 1;
        let event = Event {
            tenant,
            case,
            seq,
            on: r.try_get(3)?,
            kind: r.try_get(4)?,
            text: r.try_get(5)?,
            payload: no_payload(),
            document: None,
        };
        let hash = incasso_dossier::link(&prev, &event);
        ids.push(id);
        seqs.push(seq as i64);
        prevs.push(std::mem::replace(&mut prev, hash.clone()));
        hashes.push(hash);
    }
    tx.execute(
        "UPDATE case_events e SET seq = x.seq, payload = '{}', prev_hash = x.prev, hash = x.hash
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS x(id, seq, prev, hash)
         WHERE e.id = x.id",
        &[&ids, &seqs, &prevs, &hashes],
    )?;
    Ok(())
}

const DOCUMENT_COLUMNS: &str =
    "id, case_id, kind, filename, media_type, sha256, size, recorded_at, meta, event_seq";

fn document_row(r: &Row) -> StoreResult<DocumentRow> {
    Ok(DocumentRow {
        id: get(r, 0)?,
        case_id: get(r, 1)?,
        kind: get(r, 2)?,
        filename: get(r, 3)?,
        media_type: get(r, 4)?,
        sha256: get(r, 5)?,
        size: get::<i64>(r, 6)? as u64,
        recorded_at: get(r, 7)?,
        meta: get(r, 8)?,
        event_seq: get::<i64>(r, 9)? as u64,
    })
}

/// The `document_added` payload: everything about the document except its bytes (whose hash
/// is the event's `document` field).
fn document_payload(doc: &NewDocument, sha256: &str) -> StoreResult<serde_json::Value> {
    let meta: serde_json::Value = serde_json::from_str(&doc.meta)
        .map_err(|e| StoreError::Conflict(format!("document meta is not JSON: {e}")))?;
    if !meta.is_object() {
        return Err(StoreError::Conflict(
            "document meta must be a JSON object".into(),
        ));
    }
    Ok(serde_json::json!({
        "kind": doc.kind,
        "filename": doc.filename,
        "media_type": doc.media_type,
        "size": doc.bytes.len() as u64,
        "sha256": sha256,
        "recorded_at": doc.recorded_at,
        "meta": meta,
    }))
}

/// [`DossierStore::add_document`] inside the caller's transaction.
pub(crate) fn add_document_in(
    tx: &mut Transaction<'_>,
    prepared: &mut Prepared,
    t: i64,
    doc: &NewDocument,
) -> StoreResult<DocumentAdded> {
    let sha = incasso_dossier::sha256_hex(&doc.bytes);
    let payload = document_payload(doc, &sha)?;
    let meta = incasso_dossier::canonical_json(&payload["meta"]);
    // The case row is locked: documents of one case are chained one after another.
    let st = prepared.get(
        tx,
        "SELECT id FROM cases WHERE creditor_id = $1 AND id = $2 FOR UPDATE",
    )?;
    let owned = tx.query_opt(&st, &[&t, &doc.case_id]).map_err(map_pg)?;
    if owned.is_none() {
        return Err(StoreError::NotFound(format!("case {}", doc.case_id)));
    }
    let st = prepared.get(
        tx,
        &format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE creditor_id = $1 AND case_id = $2 AND kind = $3 AND sha256 = $4"),
    )?;
    let existing = tx
        .query_opt(&st, &[&t, &doc.case_id, &doc.kind, &sha])
        .map_err(map_pg)?;
    if let Some(r) = existing {
        return Ok(DocumentAdded {
            document: document_row(&r)?,
            created: false,
        });
    }
    let seq = Chain::new().append(
        tx,
        t,
        doc.case_id,
        doc.on.to_string(),
        DOCUMENT_ADDED,
        &doc.text,
        &payload,
        Some(&sha),
    )?;
    let size = doc.bytes.len() as i64;
    let seq_i = seq as i64;
    let st = prepared.get(
        tx,
        "INSERT INTO documents (creditor_id, case_id, kind, filename, media_type, sha256, size, bytes, recorded_at, meta, event_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )?;
    let id: i64 = tx
        .query_one(
            &st,
            &[
                &t,
                &doc.case_id,
                &doc.kind,
                &doc.filename,
                &doc.media_type,
                &sha,
                &size,
                &doc.bytes,
                &doc.recorded_at,
                &meta,
                &seq_i,
            ],
        )
        .map_err(map_pg)?
        .try_get(0)
        .map_err(map_pg)?;
    Ok(DocumentAdded {
        document: DocumentRow {
            id,
            case_id: doc.case_id,
            kind: doc.kind.clone(),
            filename: doc.filename.clone(),
            media_type: doc.media_type.clone(),
            sha256: sha,
            size: doc.bytes.len() as u64,
            recorded_at: doc.recorded_at.clone(),
            meta,
            event_seq: seq,
        },
        created: true,
    })
}

impl DossierStore for PgStore {
    fn add_document(
        &mut self,
        tenant: CreditorId,
        doc: &NewDocument,
    ) -> StoreResult<DocumentAdded> {
        let PgStore { client, prepared } = self;
        let mut tx = client.transaction().map_err(map_pg)?;
        let added = add_document_in(&mut tx, prepared, tenant.get(), doc)?;
        tx.commit().map_err(map_pg)?;
        Ok(added)
    }

    fn document(&mut self, tenant: CreditorId, id: i64) -> StoreResult<(DocumentRow, Vec<u8>)> {
        let r = self
            .client
            .query_opt(
                &format!(
                    "SELECT {DOCUMENT_COLUMNS}, bytes FROM documents WHERE creditor_id = $1 AND id = $2"
                ),
                &[&tenant.get(), &id],
            )
            .map_err(map_pg)?
            .ok_or_else(|| StoreError::NotFound(format!("document {id}")))?;
        Ok((document_row(&r)?, get(&r, 10)?))
    }

    fn documents(&mut self, tenant: CreditorId, case: i64) -> StoreResult<Vec<DocumentRow>> {
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE creditor_id = $1 AND case_id = $2 ORDER BY id"
                ),
                &[&tenant.get(), &case],
            )
            .map_err(map_pg)?;
        rows.iter().map(document_row).collect()
    }

    fn chain(&mut self, tenant: CreditorId, case: i64) -> StoreResult<Vec<ChainRow>> {
        let rows = self
            .client
            .query(
                "SELECT seq, to_char(on_date, 'YYYY-MM-DD'), kind, text, payload, document_sha256, prev_hash, hash FROM case_events WHERE creditor_id = $1 AND case_id = $2 ORDER BY id",
                &[&tenant.get(), &case],
            )
            .map_err(map_pg)?;
        rows.iter()
            .map(|r| {
                Ok(ChainRow {
                    seq: get::<i64>(r, 0)? as u64,
                    on: get(r, 1)?,
                    kind: get(r, 2)?,
                    text: get(r, 3)?,
                    payload: get(r, 4)?,
                    document_sha256: get(r, 5)?,
                    prev_hash: get(r, 6)?,
                    hash: get(r, 7)?,
                })
            })
            .collect()
    }
}
