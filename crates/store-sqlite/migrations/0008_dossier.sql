-- The dossier (issue #5): the case event log becomes hash-chained, and documents are stored
-- immutably with their SHA-256.
--
-- Every event gets its sequence number in the case (1, 2, 3, ...), a JSON payload (canonical:
-- sorted keys; '{}' for plain events), the SHA-256 of the document it records (if any), the
-- previous event's hash and its own hash (SHA-256 of the encoding in crates/dossier, see
-- docs/dossier.md). Events written before this migration are chained by the migration itself:
-- the runner computes their hashes in Rust between the two halves of this file (at the marker
-- line below), in the same transaction, in the order they were written (by id).

DROP TRIGGER case_events_no_update;
ALTER TABLE case_events ADD COLUMN seq INTEGER;
ALTER TABLE case_events ADD COLUMN payload TEXT NOT NULL DEFAULT '{}';
ALTER TABLE case_events ADD COLUMN document_sha256 TEXT;
ALTER TABLE case_events ADD COLUMN prev_hash TEXT;
ALTER TABLE case_events ADD COLUMN hash TEXT;

-- @chain-legacy-events

-- One event per position: two writers that both read the same head cannot fork the chain.
CREATE UNIQUE INDEX case_events_chain ON case_events (creditor_id, case_id, seq);
-- It serves every lookup of the old (creditor_id, case_id) index too: one index less per insert.
DROP INDEX case_events_by_case;
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;
-- Nothing enters the log unchained.
CREATE TRIGGER case_events_chained BEFORE INSERT ON case_events
    WHEN NEW.seq IS NULL OR NEW.prev_hash IS NULL OR length(NEW.hash) IS NOT 64
    BEGIN SELECT RAISE(ABORT, 'case events must be hash-chained'); END;

CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    case_id INTEGER NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    recorded_at TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    -- The `document_added` event that recorded it.
    event_seq INTEGER NOT NULL,
    UNIQUE (creditor_id, case_id, kind, sha256)
);
CREATE INDEX documents_by_case ON documents (creditor_id, case_id);
CREATE TRIGGER documents_no_update BEFORE UPDATE ON documents BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END;
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END;
