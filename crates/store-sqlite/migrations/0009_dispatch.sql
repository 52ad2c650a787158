-- Dispatch bookkeeping (issue #5): delivery attempts per action and channel, the contact log
-- that the weekly cap counts, and the debtors' channel consents. Moments are UTC RFC 3339 text.
CREATE TABLE dispatch_attempts (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors(id),
    action_id INTEGER NOT NULL,
    debtor_id INTEGER NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    attempt INTEGER NOT NULL CHECK (attempt >= 1),
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed_temporary', 'failed_permanent', 'in_doubt')),
    recipient TEXT NOT NULL,
    message_id TEXT NOT NULL,
    provider_id TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    next_retry_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (creditor_id, action_id, channel, attempt)
);
CREATE INDEX dispatch_attempts_status ON dispatch_attempts (creditor_id, status);
CREATE TABLE dispatch_contacts (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors(id),
    debtor_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    attempt_id INTEGER NOT NULL REFERENCES dispatch_attempts(id),
    at TEXT NOT NULL
);
CREATE INDEX dispatch_contacts_debtor ON dispatch_contacts (creditor_id, debtor_id, at);
CREATE TABLE contact_consents (
    creditor_id INTEGER NOT NULL REFERENCES creditors(id),
    debtor_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    given_at TEXT NOT NULL,
    PRIMARY KEY (creditor_id, debtor_id, channel)
);
