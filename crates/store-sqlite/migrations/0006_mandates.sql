-- SEPA direct debit (issue #6): the creditor's SEPA creditor identifier, mandates per debtor with
-- the sequence type of their next collection and their pending amendment, the mandate history,
-- and the collection batches recorded before a pain.008 file is written.

CREATE TABLE dd_creditors (
    creditor_id INTEGER PRIMARY KEY REFERENCES creditors (id),
    scheme_id TEXT NOT NULL
);

CREATE TABLE mandates (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    debtor_id INTEGER NOT NULL REFERENCES debtors (id),
    reference TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT,
    sequence TEXT NOT NULL CHECK (sequence IN ('frst', 'rcur', 'ooff', 'fnal')),
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'ended')),
    revoked_on TEXT,
    last_collection TEXT,
    -- The pending amendment: the values the bank knows, until a collection reports them.
    amended_since TEXT,
    orig_reference TEXT,
    orig_iban TEXT,
    orig_bic TEXT,
    orig_scheme_id TEXT,
    UNIQUE (creditor_id, reference)
);
-- At most one active mandate per debtor.
CREATE UNIQUE INDEX mandates_active ON mandates (creditor_id, debtor_id) WHERE status = 'active';

-- Append-only history of a mandate.
CREATE TABLE mandate_events (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    mandate_id INTEGER NOT NULL REFERENCES mandates (id),
    on_date TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX mandate_events_mandate ON mandate_events (creditor_id, mandate_id);

CREATE TABLE dd_batches (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    message_id TEXT NOT NULL,
    collection_date TEXT NOT NULL,
    created_at TEXT NOT NULL,
    scheme_id TEXT NOT NULL,
    UNIQUE (creditor_id, message_id)
);

CREATE TABLE dd_collections (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    batch_id INTEGER NOT NULL REFERENCES dd_batches (id),
    mandate_id INTEGER NOT NULL REFERENCES mandates (id),
    debtor_id INTEGER NOT NULL REFERENCES debtors (id),
    end_to_end_id TEXT NOT NULL,
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    sequence TEXT NOT NULL CHECK (sequence IN ('frst', 'rcur', 'ooff', 'fnal')),
    debtor_name TEXT NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT,
    mandate_reference TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    amended INTEGER NOT NULL,
    amended_since TEXT,
    orig_reference TEXT,
    orig_iban TEXT,
    orig_bic TEXT,
    orig_scheme_id TEXT,
    other_bank INTEGER NOT NULL,
    remittance TEXT NOT NULL,
    UNIQUE (creditor_id, end_to_end_id)
);
CREATE INDEX dd_collections_batch ON dd_collections (creditor_id, batch_id);

-- What one collection (one transaction) pays: invoices and plan instalments with their amounts.
CREATE TABLE dd_collection_items (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    collection_id INTEGER NOT NULL REFERENCES dd_collections (id),
    invoice_id INTEGER REFERENCES invoices (id),
    plan_id INTEGER REFERENCES payment_plans (id),
    instalment INTEGER,
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    CHECK ((invoice_id IS NOT NULL AND plan_id IS NULL AND instalment IS NULL) OR (invoice_id IS NULL AND plan_id IS NOT NULL AND instalment IS NOT NULL))
);
-- A claim or an instalment is collected at most once.
CREATE UNIQUE INDEX dd_collection_items_invoice ON dd_collection_items (creditor_id, invoice_id) WHERE invoice_id IS NOT NULL;
CREATE UNIQUE INDEX dd_collection_items_instalment ON dd_collection_items (creditor_id, plan_id, instalment) WHERE plan_id IS NOT NULL;
CREATE INDEX dd_collection_items_collection ON dd_collection_items (creditor_id, collection_id);
