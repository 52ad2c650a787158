-- Collection policies kept per creditor as versioned TOML files, and which policy applies:
-- the creditor's default, overridden per debtor or per invoice.

CREATE TABLE policies (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    toml TEXT NOT NULL,
    UNIQUE (creditor_id, name, version)
);

CREATE TABLE policy_assignments (
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    -- 'default', 'debtor' or 'invoice'
    scope TEXT NOT NULL CHECK (scope IN ('default', 'debtor', 'invoice')),
    -- the debtor or invoice id; 0 for the default
    target_id INTEGER NOT NULL,
    policy_name TEXT NOT NULL,
    PRIMARY KEY (creditor_id, scope, target_id)
);
