-- Payment plans agreed on a case: instalments with dates and amounts, the grace days after
-- which a missed instalment lapses the plan, and its status (active, completed, lapsed).

CREATE TABLE payment_plans (
    id INTEGER PRIMARY KEY,
    creditor_id INTEGER NOT NULL REFERENCES creditors (id),
    case_id INTEGER NOT NULL REFERENCES cases (id),
    agreed_on TEXT NOT NULL,
    grace_days INTEGER NOT NULL,
    currency TEXT NOT NULL,
    -- Instalments as `YYYY-MM-DD:minor` joined with `;`, in date order.
    instalments TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'lapsed', 'cancelled'))
);
-- At most one active plan per case.
CREATE UNIQUE INDEX payment_plans_active ON payment_plans (creditor_id, case_id) WHERE status = 'active';
