//! The SQLite side of the collection engine: overdue claims per debtor, cases, the outbox and
//! the case event log. Every query is scoped by the tenant.

use anyhow::anyhow;
use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId, DebtorKind, InvoiceId};
use incasso_money::{Currency, Money};
use incasso_store::codec;
use incasso_store::{
    ActionRow, ActionStatus, CaseChange, CaseEvent, CaseRef, CaseRow, DebtorClaims, NewAction,
    OverdueClaim, RunApplied, RunBatch, StoreError, StoreResult,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use crate::dossier::{Chain, no_payload};
use crate::{map_sql, other};

const CASE_COLUMNS: &str =
    "id, debtor_id, state, pause_reason, pause_until, pause_note, resumed_on, opened_on, closed_on";

fn case_row(r: &Row<'_>) -> rusqlite::Result<RawCase> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

type RawCase = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    Option<String>,
);

fn to_case(
    (id, debtor, state, reason, until, note, resumed, opened, closed): RawCase,
) -> StoreResult<CaseRow> {
    Ok(CaseRow {
        id,
        debtor_id: DebtorId::new(debtor),
        state,
        pause_reason: reason,
        pause_until: codec::opt_date(until).map_err(other)?,
        pause_note: note,
        resumed_on: codec::opt_date(resumed).map_err(other)?,
        opened_on: codec::date(&opened).map_err(other)?,
        closed_on: codec::opt_date(closed).map_err(other)?,
    })
}

const ACTION_COLUMNS: &str = "id, case_id, idempotency_key, policy_name, policy_version, step_id, template, channels, status, status_reason, created_on, deadline, principal_minor, interest_minor, costs_minor, total_minor, currency, why, dispatched_on";

fn action_row(r: &Row<'_>) -> rusqlite::Result<Result<ActionRow, anyhow::Error>> {
    let currency: String = r.get(16)?;
    let status: String = r.get(8)?;
    let created: String = r.get(10)?;
    let deadline: String = r.get(11)?;
    let dispatched: Option<String> = r.get(18)?;
    let principal: i64 = r.get(12)?;
    let interest: Option<i64> = r.get(13)?;
    let costs: Option<i64> = r.get(14)?;
    let total: i64 = r.get(15)?;
    let id: i64 = r.get(0)?;
    let case_id: i64 = r.get(1)?;
    let key: String = r.get(2)?;
    let policy_name: String = r.get(3)?;
    let policy_version: i64 = r.get(4)?;
    let step_id: String = r.get(5)?;
    let template: String = r.get(6)?;
    let channels: String = r.get(7)?;
    let status_reason: String = r.get(9)?;
    let why: String = r.get(17)?;
    Ok((|| {
        let c = Currency::parse(&currency)?;
        let m = |v| Money::from_minor(v, c);
        Ok(ActionRow {
            id,
            case_id,
            action: NewAction {
                idempotency_key: key,
                policy_name,
                policy_version: u32::try_from(policy_version)?,
                step_id,
                template,
                channels,
                status: ActionStatus::parse(&status)
                    .ok_or_else(|| codec::bad("status", &status))?,
                status_reason,
                created_on: codec::date(&created)?,
                deadline: codec::date(&deadline)?,
                principal: m(principal),
                interest: interest.map(m),
                costs: costs.map(m),
                total: m(total),
                why,
            },
            dispatched_on: codec::opt_date(dispatched)?,
        })
    })())
}

fn resolve(r: CaseRef, new_ids: &[i64]) -> StoreResult<i64> {
    match r {
        CaseRef::Existing(id) => Ok(id),
        CaseRef::New(i) => new_ids
            .get(i)
            .copied()
            .ok_or_else(|| other(anyhow!("case reference {i} out of range"))),
    }
}

fn insert_event(tx: &Transaction<'_>, tenant: i64, case: i64, e: &CaseEvent) -> StoreResult<()> {
    Chain::new().append(
        tx,
        tenant,
        case,
        e.on.to_string(),
        &e.kind,
        &e.text,
        &no_payload(),
        None,
    )?;
    Ok(())
}

fn apply_change(tx: &Transaction<'_>, tenant: i64, case: i64, c: &CaseChange) -> StoreResult<()> {
    let mut stmt = tx
        .prepare_cached(
            "UPDATE cases SET
                state = COALESCE(?3, state),
                pause_reason = CASE WHEN ?4 THEN ?5 ELSE pause_reason END,
                pause_until = CASE WHEN ?4 THEN ?6 ELSE pause_until END,
                pause_note = CASE WHEN ?4 THEN ?7 ELSE pause_note END,
                resumed_on = COALESCE(?8, resumed_on),
                closed_on = COALESCE(?9, closed_on)
             WHERE creditor_id = ?1 AND id = ?2",
        )
        .map_err(map_sql)?;
    let (set_pause, reason, until, note) = match &c.pause {
        None => (false, None, None, String::new()),
        Some(None) => (true, None, None, String::new()),
        Some(Some((reason, until, note))) => (
            true,
            Some(reason.clone()),
            until.map(|d| d.to_string()),
            note.clone(),
        ),
    };
    let n = stmt
        .execute(params![
            tenant,
            case,
            c.state,
            set_pause,
            reason,
            until,
            note,
            c.resumed_on.map(|d| d.to_string()),
            c.closed_on.map(|d| d.to_string())
        ])
        .map_err(map_sql)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("case {case}")));
    }
    Ok(())
}

pub(crate) fn for_each_overdue_debtor(
    conn: &Connection,
    tenant: CreditorId,
    as_of: Date,
    visit: &mut dyn FnMut(DebtorClaims) -> anyhow::Result<()>,
) -> StoreResult<u64> {
    // Two sequential scans instead of a join: the overdue claims come from the covering index
    // `invoices_open_by_due` (no table access), the debtors' facts from one pass over the
    // tenant's debtors; the claims are grouped by debtor in memory.
    let mut by_debtor: std::collections::BTreeMap<i64, Vec<OverdueClaim>> =
        std::collections::BTreeMap::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT debtor_id, id, gross_minor - paid_minor, open_minor, due_date, currency FROM invoices INDEXED BY invoices_open_by_due
                 WHERE creditor_id = ?1 AND open_minor > 0 AND defect IS NULL AND due_date < ?2
                 ORDER BY due_date, id",
            )
            .map_err(map_sql)?;
        let mut rows = stmt
            .query(params![tenant.get(), as_of.to_string()])
            .map_err(map_sql)?;
        let mut currency_cache: Option<(String, Currency)> = None;
        while let Some(r) = rows.next().map_err(map_sql)? {
            let code: String = r.get(5).map_err(map_sql)?;
            let currency = match &currency_cache {
                Some((c, cur)) if *c == code => *cur,
                _ => {
                    let cur = Currency::parse(&code).map_err(other)?;
                    currency_cache = Some((code, cur));
                    cur
                }
            };
            let due: String = r.get(4).map_err(map_sql)?;
            by_debtor
                .entry(r.get(0).map_err(map_sql)?)
                .or_default()
                .push(OverdueClaim {
                    invoice_id: InvoiceId::new(r.get(1).map_err(map_sql)?),
                    principal: Money::from_minor(r.get(2).map_err(map_sql)?, currency),
                    open: Money::from_minor(r.get(3).map_err(map_sql)?, currency),
                    due: codec::date(&due).map_err(other)?,
                });
        }
    }
    let mut stmt = conn
        .prepare("SELECT id, kind, tags, vulnerable, do_not_contact FROM debtors WHERE creditor_id = ?1 ORDER BY id")
        .map_err(map_sql)?;
    let mut rows = stmt.query([tenant.get()]).map_err(map_sql)?;
    let mut count = 0u64;
    while let Some(r) = rows.next().map_err(map_sql)? {
        let id: i64 = r.get(0).map_err(map_sql)?;
        let Some(claims) = by_debtor.remove(&id) else {
            continue;
        };
        let kind: String = r.get(1).map_err(map_sql)?;
        let tags: String = r.get(2).map_err(map_sql)?;
        visit(DebtorClaims {
            debtor_id: DebtorId::new(id),
            kind: DebtorKind::parse(&kind).ok_or_else(|| other(codec::bad("kind", &kind)))?,
            tags: codec::tags(&tags).map_err(other)?,
            vulnerable: r.get(3).map_err(map_sql)?,
            do_not_contact: r.get(4).map_err(map_sql)?,
            claims,
        })
        .map_err(StoreError::Other)?;
        count += 1;
    }
    Ok(count)
}

pub(crate) fn cases(
    conn: &Connection,
    tenant: CreditorId,
    open_only: bool,
) -> StoreResult<Vec<CaseRow>> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE creditor_id = ?1 {} ORDER BY id",
        if open_only {
            "AND closed_on IS NULL"
        } else {
            ""
        }
    );
    let mut stmt = conn.prepare(&sql).map_err(map_sql)?;
    let rows = stmt.query_map([tenant.get()], case_row).map_err(map_sql)?;
    rows.map(|r| r.map_err(map_sql).and_then(to_case)).collect()
}

pub(crate) fn case(conn: &Connection, tenant: CreditorId, id: i64) -> StoreResult<CaseRow> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE creditor_id = ?1 AND id = ?2");
    let raw = conn
        .query_row(&sql, params![tenant.get(), id], case_row)
        .optional()
        .map_err(map_sql)?
        .ok_or_else(|| StoreError::NotFound(format!("case {id}")))?;
    to_case(raw)
}

pub(crate) fn actions(
    conn: &Connection,
    tenant: CreditorId,
    case: Option<i64>,
) -> StoreResult<Vec<ActionRow>> {
    let sql = format!(
        "SELECT {ACTION_COLUMNS} FROM actions WHERE creditor_id = ?1 AND (?2 IS NULL OR case_id = ?2) ORDER BY id"
    );
    let mut stmt = conn.prepare(&sql).map_err(map_sql)?;
    let rows = stmt
        .query_map(params![tenant.get(), case], action_row)
        .map_err(map_sql)?;
    rows.map(|r| r.map_err(map_sql).and_then(|x| x.map_err(other)))
        .collect()
}

pub(crate) fn apply_run(
    conn: &mut Connection,
    tenant: CreditorId,
    batch: &RunBatch,
) -> StoreResult<RunApplied> {
    let t = tenant.get();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_sql)?;
    let mut applied = RunApplied::default();
    let mut new_ids = Vec::with_capacity(batch.new_cases.len());
    // A debtor has at most one open case: when another run opened it first, the new case
    // resolves to that one (and the batch's events for it are not written twice).
    let mut joined = Vec::with_capacity(batch.new_cases.len());
    // The chain heads of the cases this batch appends to: new cases start at the genesis
    // hash, existing ones are read once.
    let mut chain = Chain::new();
    let payload = no_payload();
    for c in &batch.new_cases {
        let n = tx
            .prepare_cached(
                "INSERT INTO cases (creditor_id, debtor_id, state, opened_on) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )
            .map_err(map_sql)?
            .execute(params![t, c.debtor_id.get(), c.state, c.opened_on.to_string()])
            .map_err(map_sql)?;
        if n == 1 {
            let id = tx.last_insert_rowid();
            chain.fresh_case(id);
            new_ids.push(id);
            joined.push(false);
            applied.cases_created += 1;
        } else {
            let id: i64 = tx
                .query_row(
                    "SELECT id FROM cases WHERE creditor_id = ?1 AND debtor_id = ?2 AND closed_on IS NULL",
                    params![t, c.debtor_id.get()],
                    |r| r.get(0),
                )
                .map_err(map_sql)?;
            new_ids.push(id);
            joined.push(true);
        }
    }
    for (r, change) in &batch.changes {
        apply_change(&tx, t, resolve(*r, &new_ids)?, change)?;
    }
    for (r, reason) in &batch.cancel_pending {
        let case = resolve(*r, &new_ids)?;
        let n = tx
            .prepare_cached(
                "UPDATE actions SET status = 'cancelled', status_reason = ?3 WHERE creditor_id = ?1 AND case_id = ?2 AND status IN ('queued', 'held')",
            )
            .map_err(map_sql)?
            .execute(params![t, case, reason])
            .map_err(map_sql)?;
        applied.actions_cancelled += n as u64;
    }
    for (r, a) in &batch.actions {
        let case = resolve(*r, &new_ids)?;
        let n = tx
            .prepare_cached(
                "INSERT INTO actions (creditor_id, case_id, idempotency_key, policy_name, policy_version, step_id, template, channels, status, status_reason, created_on, deadline, principal_minor, interest_minor, costs_minor, total_minor, currency, why)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                 ON CONFLICT (creditor_id, idempotency_key) DO NOTHING",
            )
            .map_err(map_sql)?
            .execute(params![
                t,
                case,
                a.idempotency_key,
                a.policy_name,
                i64::from(a.policy_version),
                a.step_id,
                a.template,
                a.channels,
                a.status.code(),
                a.status_reason,
                a.created_on.to_string(),
                a.deadline.to_string(),
                a.principal.minor(),
                a.interest.map(|m| m.minor()),
                a.costs.map(|m| m.minor()),
                a.total.minor(),
                a.total.currency().code(),
                a.why
            ])
            .map_err(map_sql)?;
        if n == 1 {
            applied.actions_created += 1;
        } else {
            applied.actions_existing += 1;
        }
    }
    for (r, e) in &batch.events {
        if let CaseRef::New(i) = r
            && joined.get(*i).copied().unwrap_or(false)
        {
            continue;
        }
        chain.append(
            &tx,
            t,
            resolve(*r, &new_ids)?,
            e.on.to_string(),
            &e.kind,
            &e.text,
            &payload,
            None,
        )?;
    }
    tx.commit().map_err(map_sql)?;
    Ok(applied)
}

pub(crate) fn change_case(
    conn: &mut Connection,
    tenant: CreditorId,
    case: i64,
    change: &CaseChange,
    event: &CaseEvent,
) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_sql)?;
    apply_change(&tx, tenant.get(), case, change)?;
    insert_event(&tx, tenant.get(), case, event)?;
    tx.commit().map_err(map_sql)
}

pub(crate) fn set_action_status(
    conn: &mut Connection,
    tenant: CreditorId,
    action: i64,
    status: ActionStatus,
    dispatched_on: Option<Date>,
    reason: &str,
) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_sql)?;
    set_action_status_in(&tx, tenant, action, status, dispatched_on, reason)?;
    tx.commit().map_err(map_sql)
}

/// [`set_action_status`] inside the caller's transaction.
pub(crate) fn set_action_status_in(
    tx: &Transaction<'_>,
    tenant: CreditorId,
    action: i64,
    status: ActionStatus,
    dispatched_on: Option<Date>,
    reason: &str,
) -> StoreResult<()> {
    let found: Option<(i64, String, String)> = tx
        .query_row(
            "SELECT case_id, status, step_id FROM actions WHERE creditor_id = ?1 AND id = ?2",
            params![tenant.get(), action],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(map_sql)?;
    let (case, old, step) =
        found.ok_or_else(|| StoreError::NotFound(format!("action {action}")))?;
    if old == "sent" || old == "cancelled" {
        return Err(StoreError::Conflict(format!(
            "action {action} is already {old}"
        )));
    }
    tx.execute(
        "UPDATE actions SET status = ?3, status_reason = ?4, dispatched_on = COALESCE(?5, dispatched_on) WHERE creditor_id = ?1 AND id = ?2",
        params![tenant.get(), action, status.code(), reason, dispatched_on.map(|d| d.to_string())],
    )
    .map_err(map_sql)?;
    let on = dispatched_on.ok_or(()).or_else(|()| {
        tx.query_row(
            "SELECT created_on FROM actions WHERE id = ?1",
            [action],
            |r| r.get::<_, String>(0),
        )
        .map_err(map_sql)
        .and_then(|s| codec::date(&s).map_err(other))
    })?;
    insert_event(
        tx,
        tenant.get(),
        case,
        &CaseEvent {
            on,
            kind: format!("action_{}", status.code()),
            text: format!(
                "{step} (action {action}) {}{}",
                status.code(),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                }
            ),
        },
    )
}

pub(crate) fn case_events(
    conn: &Connection,
    tenant: CreditorId,
    case: i64,
) -> StoreResult<Vec<CaseEvent>> {
    let mut stmt = conn
        .prepare("SELECT on_date, kind, text FROM case_events WHERE creditor_id = ?1 AND case_id = ?2 ORDER BY id")
        .map_err(map_sql)?;
    let rows = stmt
        .query_map(params![tenant.get(), case], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(map_sql)?;
    rows.map(|r| {
        let (on, kind, text) = r.map_err(map_sql)?;
        Ok(CaseEvent {
            on: codec::date(&on).map_err(other)?,
            kind,
            text,
        })
    })
    .collect()
}

pub(crate) fn add_plan(
    conn: &mut Connection,
    tenant: CreditorId,
    plan: &incasso_store::NewPlan,
    event: &CaseEvent,
) -> StoreResult<i64> {
    let currency = plan
        .instalments
        .first()
        .map(|(_, m)| m.currency())
        .ok_or_else(|| StoreError::Conflict("a plan needs instalments".into()))?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_sql)?;
    let exists: Option<i64> = tx
        .query_row(
            "SELECT id FROM cases WHERE creditor_id = ?1 AND id = ?2",
            params![tenant.get(), plan.case_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(map_sql)?;
    if exists.is_none() {
        return Err(StoreError::NotFound(format!("case {}", plan.case_id)));
    }
    tx.execute(
        "INSERT INTO payment_plans (creditor_id, case_id, agreed_on, grace_days, currency, instalments, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active')",
        params![
            tenant.get(),
            plan.case_id,
            plan.agreed_on.to_string(),
            i64::from(plan.grace_days),
            currency.code(),
            incasso_store::encode_instalments(&plan.instalments)
        ],
    )
    .map_err(map_sql)?;
    let id = tx.last_insert_rowid();
    insert_event(&tx, tenant.get(), plan.case_id, event)?;
    tx.commit().map_err(map_sql)?;
    Ok(id)
}

pub(crate) fn plans(
    conn: &Connection,
    tenant: CreditorId,
    active_only: bool,
) -> StoreResult<Vec<incasso_store::PlanRow>> {
    let sql = format!(
        "SELECT id, case_id, agreed_on, grace_days, currency, instalments, status FROM payment_plans WHERE creditor_id = ?1 {} ORDER BY id",
        if active_only {
            "AND status = 'active'"
        } else {
            ""
        }
    );
    let mut stmt = conn.prepare(&sql).map_err(map_sql)?;
    let rows = stmt
        .query_map([tenant.get()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })
        .map_err(map_sql)?;
    rows.map(|row| {
        let (id, case_id, agreed, grace, currency, instalments, status) = row.map_err(map_sql)?;
        let currency = Currency::parse(&currency).map_err(other)?;
        Ok(incasso_store::PlanRow {
            id,
            plan: incasso_store::NewPlan {
                case_id,
                agreed_on: codec::date(&agreed).map_err(other)?,
                grace_days: u32::try_from(grace).map_err(other)?,
                instalments: incasso_store::decode_instalments(&instalments, currency)
                    .map_err(other)?,
            },
            status,
        })
    })
    .collect()
}

pub(crate) fn set_plan_status(
    conn: &Connection,
    tenant: CreditorId,
    plan: i64,
    status: &str,
) -> StoreResult<()> {
    if !matches!(status, "completed" | "lapsed" | "cancelled") {
        return Err(StoreError::Conflict(format!(
            "a plan cannot be set to {status:?}"
        )));
    }
    let n = conn
        .execute(
            "UPDATE payment_plans SET status = ?3 WHERE creditor_id = ?1 AND id = ?2 AND status = 'active'",
            params![tenant.get(), plan, status],
        )
        .map_err(map_sql)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("active plan {plan}")));
    }
    Ok(())
}

fn scope_key(scope: incasso_store::PolicyScope) -> (&'static str, i64) {
    match scope {
        incasso_store::PolicyScope::Default => ("default", 0),
        incasso_store::PolicyScope::Debtor(d) => ("debtor", d.get()),
        incasso_store::PolicyScope::Invoice(i) => ("invoice", i.get()),
    }
}

pub(crate) fn add_policy(
    conn: &mut Connection,
    tenant: CreditorId,
    p: &incasso_store::PolicyRow,
) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_sql)?;
    let existing: Option<String> = tx
        .query_row(
            "SELECT toml FROM policies WHERE creditor_id = ?1 AND name = ?2 AND version = ?3",
            params![tenant.get(), p.name, i64::from(p.version)],
            |r| r.get(0),
        )
        .optional()
        .map_err(map_sql)?;
    match existing {
        Some(text) if text == p.toml => return Ok(()),
        Some(_) => {
            return Err(StoreError::Conflict(format!(
                "policy {} version {} exists with other content: give it a new version",
                p.name, p.version
            )));
        }
        None => {}
    }
    tx.execute(
        "INSERT INTO policies (creditor_id, name, version, toml) VALUES (?1, ?2, ?3, ?4)",
        params![tenant.get(), p.name, i64::from(p.version), p.toml],
    )
    .map_err(map_sql)?;
    tx.commit().map_err(map_sql)
}

pub(crate) fn policies(
    conn: &Connection,
    tenant: CreditorId,
) -> StoreResult<Vec<incasso_store::PolicyRow>> {
    let mut stmt = conn
        .prepare("SELECT name, version, toml FROM policies WHERE creditor_id = ?1 ORDER BY name, version")
        .map_err(map_sql)?;
    let rows = stmt
        .query_map([tenant.get()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(map_sql)?;
    rows.map(|row| {
        let (name, version, toml) = row.map_err(map_sql)?;
        Ok(incasso_store::PolicyRow {
            name,
            version: u32::try_from(version).map_err(other)?,
            toml,
        })
    })
    .collect()
}

pub(crate) fn assign_policy(
    conn: &Connection,
    tenant: CreditorId,
    scope: incasso_store::PolicyScope,
    name: Option<&str>,
) -> StoreResult<()> {
    let (kind, target) = scope_key(scope);
    // The target must belong to the tenant.
    let owned: i64 = match scope {
        incasso_store::PolicyScope::Default => 1,
        incasso_store::PolicyScope::Debtor(_) => conn
            .query_row(
                "SELECT COUNT(*) FROM debtors WHERE creditor_id = ?1 AND id = ?2",
                params![tenant.get(), target],
                |r| r.get(0),
            )
            .map_err(map_sql)?,
        incasso_store::PolicyScope::Invoice(_) => conn
            .query_row(
                "SELECT COUNT(*) FROM invoices WHERE creditor_id = ?1 AND id = ?2",
                params![tenant.get(), target],
                |r| r.get(0),
            )
            .map_err(map_sql)?,
    };
    if owned == 0 {
        return Err(StoreError::NotFound(format!("{kind} {target}")));
    }
    match name {
        Some(n) => conn.execute(
            "INSERT INTO policy_assignments (creditor_id, scope, target_id, policy_name) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (creditor_id, scope, target_id) DO UPDATE SET policy_name = excluded.policy_name",
            params![tenant.get(), kind, target, n],
        ),
        None => conn.execute(
            "DELETE FROM policy_assignments WHERE creditor_id = ?1 AND scope = ?2 AND target_id = ?3",
            params![tenant.get(), kind, target],
        ),
    }
    .map_err(map_sql)?;
    Ok(())
}

pub(crate) fn policy_assignments(
    conn: &Connection,
    tenant: CreditorId,
) -> StoreResult<incasso_store::PolicyAssignments> {
    let mut stmt = conn
        .prepare(
            "SELECT scope, target_id, policy_name FROM policy_assignments WHERE creditor_id = ?1",
        )
        .map_err(map_sql)?;
    let rows = stmt
        .query_map([tenant.get()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(map_sql)?;
    let mut out = incasso_store::PolicyAssignments::default();
    for row in rows {
        let (scope, target, name) = row.map_err(map_sql)?;
        match scope.as_str() {
            "default" => out.default = Some(name),
            "debtor" => {
                out.debtors.insert(DebtorId::new(target), name);
            }
            "invoice" => {
                out.invoices.insert(InvoiceId::new(target), name);
            }
            other_scope => return Err(other(codec::bad("scope", other_scope))),
        }
    }
    Ok(out)
}

pub(crate) fn outbox_index(
    conn: &Connection,
    tenant: CreditorId,
) -> StoreResult<Vec<incasso_store::OutboxEntry>> {
    let mut stmt = conn
        .prepare(
            "SELECT case_id, idempotency_key, status, policy_name, policy_version, step_id, channels, dispatched_on FROM actions WHERE creditor_id = ?1 ORDER BY id",
        )
        .map_err(map_sql)?;
    let mut rows = stmt.query([tenant.get()]).map_err(map_sql)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(map_sql)? {
        let status: String = r.get(2).map_err(map_sql)?;
        let version: i64 = r.get(4).map_err(map_sql)?;
        out.push(incasso_store::OutboxEntry {
            case_id: r.get(0).map_err(map_sql)?,
            idempotency_key: r.get(1).map_err(map_sql)?,
            status: ActionStatus::parse(&status)
                .ok_or_else(|| other(codec::bad("status", &status)))?,
            policy_name: r.get(3).map_err(map_sql)?,
            policy_version: u32::try_from(version).map_err(other)?,
            step_id: r.get(5).map_err(map_sql)?,
            channels: r.get(6).map_err(map_sql)?,
            dispatched_on: codec::opt_date(r.get(7).map_err(map_sql)?).map_err(other)?,
        });
    }
    Ok(out)
}
