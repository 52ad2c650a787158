//! The sqlite implementation of [`incasso_store::DossierStore`], and the one routine every
//! writer of case events goes through: [`Chain::append`] numbers the event in its case, links
//! it to the case's last hash (read once per case and batch) and inserts it with its hash.

use std::collections::HashMap;

use incasso_domain::CreditorId;
use incasso_dossier::{Event, GENESIS};
use incasso_store::{
    ChainRow, DOCUMENT_ADDED, DocumentAdded, DocumentRow, DossierStore, NewDocument, StoreError,
    StoreResult,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use crate::{SqliteStore, map_sql};

/// The heads (last sequence number and hash) of the cases a transaction appends to.
#[derive(Default)]
pub(crate) struct Chain {
    heads: HashMap<i64, (u64, String)>,
}

impl Chain {
    pub(crate) fn new() -> Chain {
        Chain::default()
    }

    /// Declares a case created in this transaction: its chain starts at [`GENESIS`] without
    /// a lookup.
    pub(crate) fn fresh_case(&mut self, case: i64) {
        self.heads.insert(case, (0, GENESIS.to_string()));
    }

    /// Appends one event to `case`'s chain; returns its sequence number.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn append(
        &mut self,
        conn: &Connection,
        tenant: i64,
        case: i64,
        on: String,
        kind: &str,
        text: &str,
        payload: &serde_json::Value,
        document: Option<&str>,
    ) -> StoreResult<u64> {
        let (seq, prev) = match self.heads.get(&case) {
            Some(h) => h.clone(),
            None => conn
                .prepare_cached("SELECT seq, hash FROM case_events WHERE creditor_id = ?1 AND case_id = ?2 ORDER BY seq DESC LIMIT 1")
                .map_err(map_sql)?
                .query_row(params![tenant, case], |r| {
                    Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
                })
                .optional()
                .map_err(map_sql)?
                .unwrap_or((0, GENESIS.to_string())),
        };
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
        conn.prepare_cached(
            "INSERT INTO case_events (creditor_id, case_id, seq, on_date, kind, text, payload, document_sha256, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(map_sql)?
        .execute(params![
            tenant,
            case,
            event.seq as i64,
            event.on,
            event.kind,
            event.text,
            incasso_dossier::canonical_json(&event.payload),
            event.document,
            prev,
            hash
        ])
        .map_err(map_sql)?;
        self.heads.insert(case, (event.seq, hash));
        Ok(event.seq)
    }
}

/// An empty JSON object: the payload of plain events.
pub(crate) fn no_payload() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// The line of migration 0008 where the runner chains the existing events.
pub(crate) const CHAIN_LEGACY_MARKER: &str = "-- @chain-legacy-events";

/// Chains the events written before migration 0008, per case in the order they were written;
/// runs inside the migration's transaction.
pub(crate) fn chain_legacy_events(conn: &Connection) -> anyhow::Result<()> {
    let rows: Vec<(i64, i64, i64, String, String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT id, creditor_id, case_id, on_date, kind, text FROM case_events ORDER BY creditor_id, case_id, id",
        )?;
        stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?
    };
    let mut stmt = conn.prepare(
        "UPDATE case_events SET seq = ?2, payload = '{}', prev_hash = ?3, hash = ?4 WHERE id = ?1",
    )?;
    let mut current: Option<(i64, i64)> = None;
    let (mut seq, mut prev) = (0u64, GENESIS.to_string());
    for (id, tenant, case, on, kind, text) in rows {
        if current != Some((tenant, case)) {
            current = Some((tenant, case));
            (seq, prev) = (0, GENESIS.to_string());
        }
        seq += 1;
        let event = Event {
            tenant,
            case,
            seq,
            on,
            kind,
            text,
            payload: no_payload(),
            document: None,
        };
        let hash = incasso_dossier::link(&prev, &event);
        stmt.execute(params![id, seq as i64, prev, hash])?;
        prev = hash;
    }
    Ok(())
}

const DOCUMENT_COLUMNS: &str =
    "id, case_id, kind, filename, media_type, sha256, size, recorded_at, meta, event_seq";

fn document_row(r: &Row<'_>) -> rusqlite::Result<DocumentRow> {
    Ok(DocumentRow {
        id: r.get(0)?,
        case_id: r.get(1)?,
        kind: r.get(2)?,
        filename: r.get(3)?,
        media_type: r.get(4)?,
        sha256: r.get(5)?,
        size: r.get::<_, i64>(6)? as u64,
        recorded_at: r.get(7)?,
        meta: r.get(8)?,
        event_seq: r.get::<_, i64>(9)? as u64,
    })
}

/// The `document_added` payload: everything about the document except its bytes (whose hash
/// is the event's `document` field).
pub(crate) fn document_payload(doc: &NewDocument, sha256: &str) -> StoreResult<serde_json::Value> {
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
    tx: &Transaction<'_>,
    t: i64,
    doc: &NewDocument,
) -> StoreResult<DocumentAdded> {
    let sha = incasso_dossier::sha256_hex(&doc.bytes);
    let payload = document_payload(doc, &sha)?;
    let owned: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM cases WHERE creditor_id = ?1 AND id = ?2",
            params![t, doc.case_id],
            |r| r.get(0),
        )
        .map_err(map_sql)?;
    if owned == 0 {
        return Err(StoreError::NotFound(format!("case {}", doc.case_id)));
    }
    let existing = tx
        .query_row(
            &format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE creditor_id = ?1 AND case_id = ?2 AND kind = ?3 AND sha256 = ?4"),
            params![t, doc.case_id, doc.kind, sha],
            document_row,
        )
        .optional()
        .map_err(map_sql)?;
    if let Some(document) = existing {
        return Ok(DocumentAdded {
            document,
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
    tx.execute(
        "INSERT INTO documents (creditor_id, case_id, kind, filename, media_type, sha256, size, bytes, recorded_at, meta, event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            t,
            doc.case_id,
            doc.kind,
            doc.filename,
            doc.media_type,
            sha,
            doc.bytes.len() as i64,
            doc.bytes,
            doc.recorded_at,
            incasso_dossier::canonical_json(&payload["meta"]),
            seq as i64
        ],
    )
    .map_err(map_sql)?;
    let id = tx.last_insert_rowid();
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
            meta: incasso_dossier::canonical_json(&payload["meta"]),
            event_seq: seq,
        },
        created: true,
    })
}

impl DossierStore for SqliteStore {
    fn add_document(
        &mut self,
        tenant: CreditorId,
        doc: &NewDocument,
    ) -> StoreResult<DocumentAdded> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_sql)?;
        let added = add_document_in(&tx, tenant.get(), doc)?;
        tx.commit().map_err(map_sql)?;
        Ok(added)
    }

    fn document(&mut self, tenant: CreditorId, id: i64) -> StoreResult<(DocumentRow, Vec<u8>)> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {DOCUMENT_COLUMNS}, bytes FROM documents WHERE creditor_id = ?1 AND id = ?2"
                ),
                params![tenant.get(), id],
                |r| Ok((document_row(r)?, r.get::<_, Vec<u8>>(10)?)),
            )
            .optional()
            .map_err(map_sql)?
            .ok_or_else(|| StoreError::NotFound(format!("document {id}")))
    }

    fn documents(&mut self, tenant: CreditorId, case: i64) -> StoreResult<Vec<DocumentRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE creditor_id = ?1 AND case_id = ?2 ORDER BY id"
            ))
            .map_err(map_sql)?;
        let rows = stmt
            .query_map(params![tenant.get(), case], document_row)
            .map_err(map_sql)?;
        rows.collect::<Result<_, _>>().map_err(map_sql)
    }

    fn chain(&mut self, tenant: CreditorId, case: i64) -> StoreResult<Vec<ChainRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, on_date, kind, text, payload, document_sha256, prev_hash, hash FROM case_events WHERE creditor_id = ?1 AND case_id = ?2 ORDER BY id",
            )
            .map_err(map_sql)?;
        let rows = stmt
            .query_map(params![tenant.get(), case], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .map_err(map_sql)?;
        rows.map(|row| {
            let (seq, on, kind, text, payload, document_sha256, prev_hash, hash) =
                row.map_err(map_sql)?;
            Ok(ChainRow {
                seq: seq as u64,
                on,
                kind,
                text,
                payload,
                document_sha256,
                prev_hash,
                hash,
            })
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database at version 7 with case events written the old way gets them chained by
    /// migration 0008, per case in the order they were written.
    #[test]
    fn migration_0008_chains_existing_events() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)").expect("table");
        for (version, name, sql) in &crate::migrate::MIGRATIONS[..7] {
            conn.execute_batch(sql).expect("old migration");
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
                params![version, name],
            )
            .expect("record");
        }
        conn.execute_batch(
            "INSERT INTO creditors (id, name, vat_deductible, iban, jurisdiction, kind, language) VALUES (1, 'A', 1, 'NL91ABNA0417164300', 'nl', 'business', 'nl');
             INSERT INTO debtors (id, creditor_id, kind, name, language) VALUES (1, 1, 'consumer', 'Jan', 'nl'), (2, 1, 'consumer', 'Piet', 'nl');
             INSERT INTO cases (id, creditor_id, debtor_id, state, opened_on) VALUES (1, 1, 1, 'open', '2026-01-01'), (2, 1, 2, 'open', '2026-01-02');
             INSERT INTO case_events (creditor_id, case_id, on_date, kind, text) VALUES
                (1, 1, '2026-01-01', 'opened', 'case opened'),
                (1, 2, '2026-01-02', 'opened', 'case opened'),
                (1, 1, '2026-01-03', 'action_sent', 'reminder sent'),
                (1, 2, '2026-01-04', 'note', 'called');",
        )
        .expect("old rows");
        crate::migrate::apply(&mut conn).expect("migrate");
        for case in [1i64, 2] {
            let mut stmt = conn
                .prepare("SELECT seq, on_date, kind, text, payload, document_sha256, prev_hash, hash FROM case_events WHERE case_id = ?1 ORDER BY id")
                .expect("prepare");
            let chain: Vec<incasso_dossier::Chained> = stmt
                .query_map([case], |r| {
                    Ok(incasso_dossier::Chained {
                        event: Event {
                            tenant: 1,
                            case,
                            seq: r.get::<_, i64>(0)? as u64,
                            on: r.get(1)?,
                            kind: r.get(2)?,
                            text: r.get(3)?,
                            payload: serde_json::from_str(&r.get::<_, String>(4)?).expect("json"),
                            document: r.get(5)?,
                        },
                        prev: r.get(6)?,
                        hash: r.get(7)?,
                    })
                })
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows");
            assert_eq!(chain.len(), 2);
            assert_eq!(chain[1].event.seq, 2);
            assert_eq!(incasso_dossier::verify(&chain), Ok(()));
        }
        // The log is append-only again, and new events must come chained.
        assert!(
            conn.execute("UPDATE case_events SET text = 'x'", [])
                .is_err()
        );
        assert!(
            conn.execute(
                "INSERT INTO case_events (creditor_id, case_id, on_date, kind, text) VALUES (1, 1, '2026-01-05', 'note', 'unchained')",
                []
            )
            .is_err()
        );
        let mut chain = Chain::new();
        chain
            .append(
                &conn,
                1,
                1,
                "2026-01-05".into(),
                "note",
                "chained",
                &no_payload(),
                None,
            )
            .expect("append");
        let seq: i64 = conn
            .query_row(
                "SELECT MAX(seq) FROM case_events WHERE case_id = 1",
                [],
                |r| r.get(0),
            )
            .expect("seq");
        assert_eq!(seq, 3);
    }
}
