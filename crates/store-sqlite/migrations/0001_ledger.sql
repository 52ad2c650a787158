-- The ledger: creditors (tenants), debtors, imports, invoices with lines and attachments,
-- and the append-only payment and allocation records.

CREATE TABLE creditors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    legal_form TEXT,
    registration_number TEXT,
    vat_number TEXT,
    vat_deductible INTEGER NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT,
    jurisdiction TEXT NOT NULL CHECK (jurisdiction IN ('nl', 'be')),
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    street TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    country TEXT,
    website TEXT,
    letterhead TEXT,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE debtors (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    number TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('business', 'consumer')),
    name TEXT NOT NULL,
    contact_person TEXT,
    street TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    country TEXT,
    emails TEXT NOT NULL DEFAULT '',
    phones TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL,
    ibans TEXT NOT NULL DEFAULT '',
    registration_number TEXT,
    vat_number TEXT,
    tags TEXT NOT NULL DEFAULT '',
    vulnerable INTEGER NOT NULL DEFAULT 0,
    do_not_contact INTEGER NOT NULL DEFAULT 0,
    name_key TEXT
);
CREATE UNIQUE INDEX debtors_by_number ON debtors (creditor_id, number) WHERE number IS NOT NULL;
CREATE INDEX debtors_by_creditor ON debtors (creditor_id, name);

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    format TEXT NOT NULL,
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    debtors_created INTEGER NOT NULL,
    invoices_created INTEGER NOT NULL,
    invoices_unchanged INTEGER NOT NULL,
    invoices_changed INTEGER NOT NULL,
    imported_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (creditor_id, sha256)
);

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    debtor_id INTEGER NOT NULL REFERENCES debtors (id),
    import_id INTEGER REFERENCES imports (id),
    number TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    issue_date TEXT NOT NULL,
    due_date TEXT,
    due_date_source TEXT,
    payment_terms_days INTEGER,
    currency TEXT NOT NULL,
    net_minor INTEGER NOT NULL,
    vat_minor INTEGER NOT NULL,
    gross_minor INTEGER NOT NULL,
    paid_minor INTEGER NOT NULL,
    open_minor INTEGER NOT NULL,
    payment_reference TEXT,
    contractual_rate TEXT,
    corrects TEXT,
    description TEXT,
    defect TEXT,
    fingerprint INTEGER NOT NULL,
    UNIQUE (creditor_id, number)
);
-- Covering index for the overdue listing and the daily run: the scan never touches the table.
CREATE INDEX invoices_open_by_due ON invoices (creditor_id, due_date, id, debtor_id, number, kind, issue_date, gross_minor, paid_minor, open_minor, currency, defect) WHERE open_minor > 0 AND defect IS NULL;
CREATE INDEX invoices_by_debtor ON invoices (creditor_id, debtor_id);

CREATE TABLE invoice_lines (
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    line_no INTEGER NOT NULL,
    description TEXT NOT NULL,
    quantity TEXT NOT NULL,
    net_minor INTEGER NOT NULL,
    vat_percent TEXT,
    PRIMARY KEY (invoice_id, line_no)
);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    filename TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    content BLOB NOT NULL
);
CREATE INDEX attachments_by_invoice ON attachments (creditor_id, invoice_id);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    debtor_id INTEGER REFERENCES debtors (id),
    received_on TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reference TEXT,
    counterparty_iban TEXT,
    description TEXT,
    source TEXT NOT NULL,
    reverses INTEGER REFERENCES payments (id),
    recorded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX payments_by_creditor ON payments (creditor_id, received_on);

CREATE TABLE allocations (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    payment_id INTEGER NOT NULL REFERENCES payments (id),
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    component TEXT NOT NULL CHECK (component IN ('costs', 'interest', 'principal')),
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reverses INTEGER REFERENCES allocations (id),
    recorded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX allocations_by_invoice ON allocations (creditor_id, invoice_id);
CREATE INDEX allocations_by_payment ON allocations (creditor_id, payment_id);

-- Money history is append-only: a correction is a new reversing entry.
CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER allocations_no_update BEFORE UPDATE ON allocations BEGIN SELECT RAISE(ABORT, 'allocations are append-only'); END;
CREATE TRIGGER allocations_no_delete BEFORE DELETE ON allocations BEGIN SELECT RAISE(ABORT, 'allocations are append-only'); END;
