-- The consent log (issue #5): every consent given or withdrawn, with its source and moment,
-- append-only. `contact_consents` keeps the consents that stand now.
CREATE TABLE contact_consent_log (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors(id),
    debtor_id INTEGER NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    given INTEGER NOT NULL CHECK (given IN (0, 1)),
    source TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX contact_consent_log_debtor ON contact_consent_log (creditor_id, debtor_id, id);
CREATE TRIGGER contact_consent_log_no_update BEFORE UPDATE ON contact_consent_log BEGIN SELECT RAISE(ABORT, 'the consent log is append-only'); END;
CREATE TRIGGER contact_consent_log_no_delete BEFORE DELETE ON contact_consent_log BEGIN SELECT RAISE(ABORT, 'the consent log is append-only'); END;
