-- Bank statements: the tenant's extra accounts, imported statement files, statements and
-- entries. An entry's identity (`entry_key`, from the bank's references or a content hash) is
-- unique per tenant, so importing the same statement or entry twice changes nothing. The money
-- itself stays in the append-only payments and allocations tables; an entry points at the
-- payment it produced and records its match (status, reason, confidence).

CREATE TABLE bank_accounts (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    account TEXT NOT NULL,
    UNIQUE (creditor_id, account)
);

CREATE TABLE bank_files (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    format TEXT NOT NULL,
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    imported_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX bank_files_by_creditor ON bank_files (creditor_id);

CREATE TABLE bank_statements (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    file_id INTEGER REFERENCES bank_files (id),
    account TEXT NOT NULL,
    statement_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    statement_id TEXT,
    statement_date TEXT NOT NULL,
    opening_minor INTEGER,
    closing_minor INTEGER,
    currency TEXT,
    UNIQUE (creditor_id, statement_key)
);
CREATE INDEX bank_statements_by_date ON bank_statements (creditor_id, statement_date);

CREATE TABLE bank_entries (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    statement_id INTEGER NOT NULL REFERENCES bank_statements (id),
    file_id INTEGER REFERENCES bank_files (id),
    entry_key TEXT NOT NULL,
    location TEXT NOT NULL,
    booking_date TEXT NOT NULL,
    value_date TEXT,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    counterparty_name TEXT,
    counterparty_iban TEXT,
    reference TEXT,
    end_to_end_id TEXT,
    remittance TEXT,
    return_reason TEXT,
    status TEXT NOT NULL DEFAULT 'unmatched' CHECK (status IN ('matched', 'unmatched', 'ignored', 'returned')),
    payment_id INTEGER REFERENCES payments (id),
    debtor_id INTEGER REFERENCES debtors (id),
    invoice_id INTEGER REFERENCES invoices (id),
    match_reason TEXT NOT NULL DEFAULT '',
    confidence INTEGER NOT NULL DEFAULT 0,
    unapplied_minor INTEGER,
    UNIQUE (creditor_id, entry_key)
);
CREATE INDEX bank_entries_by_status ON bank_entries (creditor_id, status);
CREATE INDEX bank_entries_by_end_to_end ON bank_entries (creditor_id, end_to_end_id);
