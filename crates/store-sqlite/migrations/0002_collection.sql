-- The collection engine: cases (one debtor's overdue claims at one creditor), the outbox of
-- actions (letters, messages, call tasks) with their idempotency keys, and the case event log.

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    debtor_id INTEGER NOT NULL REFERENCES debtors (id),
    state TEXT NOT NULL,
    pause_reason TEXT,
    pause_until TEXT,
    pause_note TEXT NOT NULL DEFAULT '',
    resumed_on TEXT,
    opened_on TEXT NOT NULL,
    closed_on TEXT
);
-- At most one open case per debtor: new invoices of the same debtor join it.
CREATE UNIQUE INDEX cases_open_per_debtor ON cases (creditor_id, debtor_id) WHERE closed_on IS NULL;

CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    case_id INTEGER NOT NULL REFERENCES cases (id),
    idempotency_key TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    step_id TEXT NOT NULL,
    template TEXT NOT NULL,
    channels TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'held', 'sent', 'cancelled', 'failed')),
    created_on TEXT NOT NULL,
    deadline TEXT NOT NULL,
    principal_minor INTEGER NOT NULL,
    interest_minor INTEGER,
    costs_minor INTEGER,
    total_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    why TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    dispatched_on TEXT,
    UNIQUE (creditor_id, idempotency_key)
);
CREATE INDEX actions_by_case ON actions (creditor_id, case_id);
CREATE INDEX actions_by_status ON actions (creditor_id, status);

CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    case_id INTEGER NOT NULL REFERENCES cases (id),
    on_date TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    recorded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX case_events_by_case ON case_events (creditor_id, case_id);
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;
