-- Payment links at a payment provider (Mollie) and the webhook events that settle them.
-- A link is recorded (status 'pending', with its idempotency key) before the provider is
-- called; the provider's id and URL come in when it answers. Exactly one of case_id and
-- invoice_id says what the link is for. Events are recorded once per (provider, object, status).
-- The payment a link produced has the source '<provider>:<link id>'; the unique index on those
-- sources makes recording it twice impossible.

CREATE TABLE paylinks (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    idempotency_key TEXT NOT NULL,
    case_id INTEGER REFERENCES cases (id),
    invoice_id INTEGER REFERENCES invoices (id),
    debtor_id INTEGER NOT NULL REFERENCES debtors (id),
    provider TEXT NOT NULL,
    provider_id TEXT,
    url TEXT,
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'open', 'paid', 'failed', 'superseded')),
    created_on TEXT NOT NULL,
    expires_at TEXT,
    provider_payment_id TEXT,
    payment_id INTEGER REFERENCES payments (id),
    paid_on TEXT,
    error TEXT,
    webhook_base_url TEXT,
    redirect_url TEXT,
    requested_expiry TEXT,
    CHECK ((case_id IS NULL) <> (invoice_id IS NULL)),
    UNIQUE (creditor_id, idempotency_key),
    UNIQUE (creditor_id, provider, provider_id)
);
CREATE INDEX paylinks_by_debtor ON paylinks (creditor_id, debtor_id);

CREATE TABLE paylink_events (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    provider TEXT NOT NULL,
    object_id TEXT NOT NULL,
    status TEXT NOT NULL,
    paylink_id INTEGER REFERENCES paylinks (id),
    received_on TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (creditor_id, provider, object_id, status)
);

CREATE UNIQUE INDEX payments_by_provider_source ON payments (creditor_id, source) WHERE source LIKE 'mollie:%';
