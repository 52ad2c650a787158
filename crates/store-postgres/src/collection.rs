//! The PostgreSQL side of the collection engine: overdue claims per debtor, cases, the outbox and
//! the case event log, with the SQLite store's semantics. Every query is scoped by the tenant.

use anyhow::anyhow;
use incasso_calendar::Date;
use incasso_domain::{CreditorId, DebtorId, DebtorKind, InvoiceId};
use incasso_money::{Currency, Money};
use incasso_store::codec;
use incasso_store::{
    ActionRow, ActionStatus, CaseChange, CaseEvent, CaseRef, CaseRow, DebtorClaims, NewAction,
    OverdueClaim, RunApplied, RunBatch, StoreError, StoreResult,
};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, Row, Transaction};

use crate::dossier::{Chain, no_payload};
use crate::{Prepared, get, map_pg, other};

const CASE_COLUMNS: &str = "id, debtor_id, state, pause_reason, to_char(pause_until, 'YYYY-MM-DD'), pause_note, to_char(resumed_on, 'YYYY-MM-DD'), to_char(opened_on, 'YYYY-MM-DD'), to_char(closed_on, 'YYYY-MM-DD')";

fn to_case(r: &Row) -> StoreResult<CaseRow> {
    let opened: String = get(r, 7)?;
    Ok(CaseRow {
        id: get(r, 0)?,
        debtor_id: DebtorId::new(get(r, 1)?),
        state: get(r, 2)?,
        pause_reason: get(r, 3)?,
        pause_until: codec::opt_date(get(r, 4)?).map_err(other)?,
        pause_note: get(r, 5)?,
        resumed_on: codec::opt_date(get(r, 6)?).map_err(other)?,
        opened_on: codec::date(&opened).map_err(other)?,
        closed_on: codec::opt_date(get(r, 8)?).map_err(other)?,
    })
}

const ACTION_COLUMNS: &str = "id, case_id, idempotency_key, policy_name, policy_version, step_id, template, channels, status, status_reason, to_char(created_on, 'YYYY-MM-DD'), to_char(deadline, 'YYYY-MM-DD'), principal_minor, interest_minor, costs_minor, total_minor, currency, why, to_char(dispatched_on, 'YYYY-MM-DD')";

fn to_action(r: &Row) -> StoreResult<ActionRow> {
    let currency: String = get(r, 16)?;
    let c = Currency::parse(&currency).map_err(other)?;
    let m = |v| Money::from_minor(v, c);
    let status: String = get(r, 8)?;
    let created: String = get(r, 10)?;
    let deadline: String = get(r, 11)?;
    let version: i64 = get(r, 4)?;
    let interest: Option<i64> = get(r, 13)?;
    let costs: Option<i64> = get(r, 14)?;
    Ok(ActionRow {
        id: get(r, 0)?,
        case_id: get(r, 1)?,
        action: NewAction {
            idempotency_key: get(r, 2)?,
            policy_name: get(r, 3)?,
            policy_version: u32::try_from(version).map_err(other)?,
            step_id: get(r, 5)?,
            template: get(r, 6)?,
            channels: get(r, 7)?,
            status: ActionStatus::parse(&status)
                .ok_or_else(|| other(codec::bad("status", &status)))?,
            status_reason: get(r, 9)?,
            created_on: codec::date(&created).map_err(other)?,
            deadline: codec::date(&deadline).map_err(other)?,
            principal: m(get(r, 12)?),
            interest: interest.map(m),
            costs: costs.map(m),
            total: m(get(r, 15)?),
            why: get(r, 17)?,
        },
        dispatched_on: codec::opt_date(get(r, 18)?).map_err(other)?,
    })
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

fn insert_event(
    tx: &mut Transaction<'_>,
    tenant: i64,
    case: i64,
    e: &CaseEvent,
) -> StoreResult<()> {
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

fn apply_change(
    tx: &mut Transaction<'_>,
    tenant: i64,
    case: i64,
    c: &CaseChange,
) -> StoreResult<()> {
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
    let resumed = c.resumed_on.map(|d| d.to_string());
    let closed = c.closed_on.map(|d| d.to_string());
    let n = tx
        .execute(
            "UPDATE cases SET
                state = COALESCE($3::text, state),
                pause_reason = CASE WHEN $4::boolean THEN $5::text ELSE pause_reason END,
                pause_until = CASE WHEN $4::boolean THEN $6::text::date ELSE pause_until END,
                pause_note = CASE WHEN $4::boolean THEN $7::text ELSE pause_note END,
                resumed_on = COALESCE($8::text::date, resumed_on),
                closed_on = COALESCE($9::text::date, closed_on)
             WHERE creditor_id = $1 AND id = $2",
            &[
                &tenant, &case, &c.state, &set_pause, &reason, &until, &note, &resumed, &closed,
            ],
        )
        .map_err(map_pg)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("case {case}")));
    }
    Ok(())
}

pub(crate) fn for_each_overdue_debtor(
    client: &mut Client,
    tenant: CreditorId,
    as_of: Date,
    visit: &mut dyn FnMut(DebtorClaims) -> anyhow::Result<()>,
) -> StoreResult<u64> {
    let t = tenant.get();
    let as_of = as_of.to_string();
    let params: [&(dyn ToSql + Sync); 2] = [&t, &as_of];
    let mut rows = client
        .query_raw(
            "SELECT i.debtor_id, i.id, i.gross_minor - i.paid_minor, i.open_minor, to_char(i.due_date, 'YYYY-MM-DD'), i.currency, d.kind, d.tags, d.vulnerable, d.do_not_contact
             FROM invoices i JOIN debtors d ON d.id = i.debtor_id
             WHERE i.creditor_id = $1 AND d.creditor_id = $1 AND i.open_minor > 0 AND i.defect IS NULL AND i.due_date < $2::text::date
             ORDER BY i.debtor_id, i.due_date, i.id",
            params.iter().copied(),
        )
        .map_err(map_pg)?;
    let mut current: Option<DebtorClaims> = None;
    let mut count = 0u64;
    while let Some(r) = rows.next().map_err(map_pg)? {
        let debtor: i64 = get(&r, 0)?;
        if current
            .as_ref()
            .is_some_and(|c| c.debtor_id.get() != debtor)
            && let Some(done) = current.take()
        {
            visit(done).map_err(StoreError::Other)?;
            count += 1;
        }
        let currency = Currency::parse(get::<&str>(&r, 5)?).map_err(other)?;
        let due: &str = get(&r, 4)?;
        let claim = OverdueClaim {
            invoice_id: InvoiceId::new(get(&r, 1)?),
            principal: Money::from_minor(get(&r, 2)?, currency),
            open: Money::from_minor(get(&r, 3)?, currency),
            due: codec::date(due).map_err(other)?,
        };
        match &mut current {
            Some(c) => c.claims.push(claim),
            None => {
                let kind: &str = get(&r, 6)?;
                let tags: &str = get(&r, 7)?;
                current = Some(DebtorClaims {
                    debtor_id: DebtorId::new(debtor),
                    kind: DebtorKind::parse(kind).ok_or_else(|| other(codec::bad("kind", kind)))?,
                    tags: codec::tags(tags).map_err(other)?,
                    vulnerable: get(&r, 8)?,
                    do_not_contact: get(&r, 9)?,
                    claims: vec![claim],
                });
            }
        }
    }
    if let Some(done) = current.take() {
        visit(done).map_err(StoreError::Other)?;
        count += 1;
    }
    Ok(count)
}

pub(crate) fn cases(
    client: &mut Client,
    prepared: &mut Prepared,
    tenant: CreditorId,
    open_only: bool,
) -> StoreResult<Vec<CaseRow>> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE creditor_id = $1 {} ORDER BY id",
        if open_only {
            "AND closed_on IS NULL"
        } else {
            ""
        }
    );
    let st = prepared.get(client, &sql)?;
    let rows = client.query(&st, &[&tenant.get()]).map_err(map_pg)?;
    rows.iter().map(to_case).collect()
}

pub(crate) fn case(client: &mut Client, tenant: CreditorId, id: i64) -> StoreResult<CaseRow> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE creditor_id = $1 AND id = $2");
    let row = client
        .query_opt(&sql, &[&tenant.get(), &id])
        .map_err(map_pg)?
        .ok_or_else(|| StoreError::NotFound(format!("case {id}")))?;
    to_case(&row)
}

pub(crate) fn actions(
    client: &mut Client,
    prepared: &mut Prepared,
    tenant: CreditorId,
    case: Option<i64>,
) -> StoreResult<Vec<ActionRow>> {
    let sql = format!(
        "SELECT {ACTION_COLUMNS} FROM actions WHERE creditor_id = $1 AND ($2::bigint IS NULL OR case_id = $2::bigint) ORDER BY id"
    );
    let st = prepared.get(client, &sql)?;
    let rows = client.query(&st, &[&tenant.get(), &case]).map_err(map_pg)?;
    rows.iter().map(to_action).collect()
}

pub(crate) fn apply_run(
    client: &mut Client,
    tenant: CreditorId,
    batch: &RunBatch,
) -> StoreResult<RunApplied> {
    // Every part of the batch is one statement over arrays (UNNEST): a batch of a thousand
    // cases costs a handful of round trips instead of thousands.
    let t = tenant.get();
    let mut tx = client.transaction().map_err(map_pg)?;
    let mut applied = RunApplied::default();

    // New cases. A debtor has at most one open case: when another run opened it first, the
    // new case resolves to that one (and the batch's events for it are not written twice).
    let mut new_ids = Vec::with_capacity(batch.new_cases.len());
    let mut joined = Vec::with_capacity(batch.new_cases.len());
    if !batch.new_cases.is_empty() {
        let debtors: Vec<i64> = batch.new_cases.iter().map(|c| c.debtor_id.get()).collect();
        let states: Vec<&str> = batch.new_cases.iter().map(|c| c.state.as_str()).collect();
        let opened: Vec<String> = batch
            .new_cases
            .iter()
            .map(|c| c.opened_on.to_string())
            .collect();
        let created: std::collections::HashMap<i64, i64> = tx
            .query(
                "INSERT INTO cases (creditor_id, debtor_id, state, opened_on)
                 SELECT $1, x.debtor, x.state, x.opened::date FROM UNNEST($2::bigint[], $3::text[], $4::text[]) AS x(debtor, state, opened)
                 ON CONFLICT DO NOTHING RETURNING debtor_id, id",
                &[&t, &debtors, &states, &opened],
            )
            .map_err(map_pg)?
            .iter()
            .map(|r| Ok((get::<i64>(r, 0)?, get::<i64>(r, 1)?)))
            .collect::<StoreResult<_>>()?;
        let missing: Vec<i64> = debtors
            .iter()
            .copied()
            .filter(|d| !created.contains_key(d))
            .collect();
        let existing: std::collections::HashMap<i64, i64> = if missing.is_empty() {
            std::collections::HashMap::new()
        } else {
            tx.query(
                "SELECT debtor_id, id FROM cases WHERE creditor_id = $1 AND debtor_id = ANY($2) AND closed_on IS NULL",
                &[&t, &missing],
            )
            .map_err(map_pg)?
            .iter()
            .map(|r| Ok((get::<i64>(r, 0)?, get::<i64>(r, 1)?)))
            .collect::<StoreResult<_>>()?
        };
        for d in &debtors {
            if let Some(id) = created.get(d) {
                new_ids.push(*id);
                joined.push(false);
            } else {
                let id = existing.get(d).ok_or_else(|| {
                    other(anyhow!("case for debtor {d} neither created nor found"))
                })?;
                new_ids.push(*id);
                joined.push(true);
            }
        }
        applied.cases_created = created.len() as u64;
    }

    // Case changes, merged per case in batch order (a later field wins), then one UPDATE.
    if !batch.changes.is_empty() {
        let mut merged: Vec<(i64, CaseChange)> = Vec::new();
        let mut at: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        for (r, c) in &batch.changes {
            let id = resolve(*r, &new_ids)?;
            let slot = *at.entry(id).or_insert_with(|| {
                merged.push((id, CaseChange::default()));
                merged.len() - 1
            });
            let m = &mut merged[slot].1;
            if c.state.is_some() {
                m.state = c.state.clone();
            }
            if c.pause.is_some() {
                m.pause = c.pause.clone();
            }
            if c.resumed_on.is_some() {
                m.resumed_on = c.resumed_on;
            }
            if c.closed_on.is_some() {
                m.closed_on = c.closed_on;
            }
        }
        let ids: Vec<i64> = merged.iter().map(|(id, _)| *id).collect();
        let states: Vec<Option<String>> = merged.iter().map(|(_, c)| c.state.clone()).collect();
        let set_pause: Vec<bool> = merged.iter().map(|(_, c)| c.pause.is_some()).collect();
        let reasons: Vec<Option<String>> = merged
            .iter()
            .map(|(_, c)| {
                c.pause
                    .as_ref()
                    .and_then(|p| p.as_ref().map(|(r, _, _)| r.clone()))
            })
            .collect();
        let untils: Vec<Option<String>> = merged
            .iter()
            .map(|(_, c)| {
                c.pause
                    .as_ref()
                    .and_then(|p| p.as_ref().and_then(|(_, u, _)| u.map(|d| d.to_string())))
            })
            .collect();
        let notes: Vec<String> = merged
            .iter()
            .map(|(_, c)| {
                c.pause
                    .as_ref()
                    .and_then(|p| p.as_ref().map(|(_, _, n)| n.clone()))
                    .unwrap_or_default()
            })
            .collect();
        let resumed: Vec<Option<String>> = merged
            .iter()
            .map(|(_, c)| c.resumed_on.map(|d| d.to_string()))
            .collect();
        let closed: Vec<Option<String>> = merged
            .iter()
            .map(|(_, c)| c.closed_on.map(|d| d.to_string()))
            .collect();
        let n = tx
            .execute(
                "UPDATE cases c SET
                    state = COALESCE(x.state, c.state),
                    pause_reason = CASE WHEN x.set_pause THEN x.reason ELSE c.pause_reason END,
                    pause_until = CASE WHEN x.set_pause THEN x.until::date ELSE c.pause_until END,
                    pause_note = CASE WHEN x.set_pause THEN x.note ELSE c.pause_note END,
                    resumed_on = COALESCE(x.resumed::date, c.resumed_on),
                    closed_on = COALESCE(x.closed::date, c.closed_on)
                 FROM UNNEST($2::bigint[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                      AS x(id, state, set_pause, reason, until, note, resumed, closed)
                 WHERE c.creditor_id = $1 AND c.id = x.id",
                &[&t, &ids, &states, &set_pause, &reasons, &untils, &notes, &resumed, &closed],
            )
            .map_err(map_pg)?;
        if n != ids.len() as u64 {
            return Err(StoreError::NotFound(format!(
                "{} of {} cases",
                ids.len() as u64 - n,
                ids.len()
            )));
        }
    }

    // Cancellations of queued and held actions.
    if !batch.cancel_pending.is_empty() {
        let cases: Vec<i64> = batch
            .cancel_pending
            .iter()
            .map(|(r, _)| resolve(*r, &new_ids))
            .collect::<StoreResult<_>>()?;
        let reasons: Vec<&str> = batch
            .cancel_pending
            .iter()
            .map(|(_, why)| why.as_str())
            .collect();
        let n = tx
            .execute(
                "UPDATE actions a SET status = 'cancelled', status_reason = x.reason
                 FROM UNNEST($2::bigint[], $3::text[]) AS x(case_id, reason)
                 WHERE a.creditor_id = $1 AND a.case_id = x.case_id AND a.status IN ('queued', 'held')",
                &[&t, &cases, &reasons],
            )
            .map_err(map_pg)?;
        applied.actions_cancelled += n;
    }

    // Actions: an existing idempotency key writes nothing.
    if !batch.actions.is_empty() {
        let mut cases = Vec::with_capacity(batch.actions.len());
        for (r, _) in &batch.actions {
            cases.push(resolve(*r, &new_ids)?);
        }
        let a = |f: fn(&NewAction) -> String| -> Vec<String> {
            batch.actions.iter().map(|(_, x)| f(x)).collect()
        };
        let keys = a(|x| x.idempotency_key.clone());
        let names = a(|x| x.policy_name.clone());
        let versions: Vec<i64> = batch
            .actions
            .iter()
            .map(|(_, x)| i64::from(x.policy_version))
            .collect();
        let steps = a(|x| x.step_id.clone());
        let templates = a(|x| x.template.clone());
        let channels = a(|x| x.channels.clone());
        let statuses = a(|x| x.status.code().to_string());
        let status_reasons = a(|x| x.status_reason.clone());
        let created_on = a(|x| x.created_on.to_string());
        let deadlines = a(|x| x.deadline.to_string());
        let principals: Vec<i64> = batch
            .actions
            .iter()
            .map(|(_, x)| x.principal.minor())
            .collect();
        let interests: Vec<Option<i64>> = batch
            .actions
            .iter()
            .map(|(_, x)| x.interest.map(|m| m.minor()))
            .collect();
        let costs: Vec<Option<i64>> = batch
            .actions
            .iter()
            .map(|(_, x)| x.costs.map(|m| m.minor()))
            .collect();
        let totals: Vec<i64> = batch.actions.iter().map(|(_, x)| x.total.minor()).collect();
        let currencies = a(|x| x.total.currency().code().to_string());
        let whys = a(|x| x.why.clone());
        let created = tx
            .query(
                "INSERT INTO actions (creditor_id, case_id, idempotency_key, policy_name, policy_version, step_id, template, channels, status, status_reason, created_on, deadline, principal_minor, interest_minor, costs_minor, total_minor, currency, why)
                 SELECT $1, x.case_id, x.key, x.name, x.version, x.step, x.template, x.channels, x.status, x.status_reason, x.created_on::date, x.deadline::date, x.principal, x.interest, x.costs, x.total, x.currency, x.why
                 FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::text[], $18::text[])
                      AS x(case_id, key, name, version, step, template, channels, status, status_reason, created_on, deadline, principal, interest, costs, total, currency, why)
                 ON CONFLICT (creditor_id, idempotency_key) DO NOTHING
                 RETURNING id",
                &[
                    &t, &cases, &keys, &names, &versions, &steps, &templates, &channels, &statuses, &status_reasons, &created_on,
                    &deadlines, &principals, &interests, &costs, &totals, &currencies, &whys,
                ],
            )
            .map_err(map_pg)?
            .len() as u64;
        applied.actions_created += created;
        applied.actions_existing += batch.actions.len() as u64 - created;
    }

    // Events, in batch order, hash-chained per case: the heads of the existing cases are read
    // in one query, new cases start at the genesis hash; then one insert over arrays.
    let mut chain = Chain::new();
    for (i, id) in new_ids.iter().enumerate() {
        if !joined.get(i).copied().unwrap_or(false) {
            chain.fresh_case(*id);
        }
    }
    let mut event_cases = Vec::with_capacity(batch.events.len());
    for (r, _) in &batch.events {
        if let CaseRef::New(i) = r
            && joined.get(*i).copied().unwrap_or(false)
        {
            continue;
        }
        event_cases.push(resolve(*r, &new_ids)?);
    }
    chain.load(&mut tx, t, &event_cases)?;
    let payload = no_payload();
    let mut linked = Vec::with_capacity(event_cases.len());
    let mut cases = event_cases.into_iter();
    for (r, e) in &batch.events {
        if let CaseRef::New(i) = r
            && joined.get(*i).copied().unwrap_or(false)
        {
            continue;
        }
        let case = cases
            .next()
            .ok_or_else(|| other(anyhow!("event without a case")))?;
        linked.push(chain.link(t, case, e.on.to_string(), &e.kind, &e.text, &payload, None)?);
    }
    crate::dossier::insert(&mut tx, &linked)?;
    tx.commit().map_err(map_pg)?;
    Ok(applied)
}

pub(crate) fn change_case(
    client: &mut Client,
    tenant: CreditorId,
    case: i64,
    change: &CaseChange,
    event: &CaseEvent,
) -> StoreResult<()> {
    let mut tx = client.transaction().map_err(map_pg)?;
    apply_change(&mut tx, tenant.get(), case, change)?;
    insert_event(&mut tx, tenant.get(), case, event)?;
    tx.commit().map_err(map_pg)
}

pub(crate) fn set_action_status(
    client: &mut Client,
    prepared: &mut Prepared,
    tenant: CreditorId,
    action: i64,
    status: ActionStatus,
    dispatched_on: Option<Date>,
    reason: &str,
) -> StoreResult<()> {
    let mut tx = client.transaction().map_err(map_pg)?;
    set_action_status_in(
        &mut tx,
        prepared,
        tenant,
        action,
        status,
        dispatched_on,
        reason,
    )?;
    tx.commit().map_err(map_pg)
}

/// [`set_action_status`] inside the caller's transaction.
pub(crate) fn set_action_status_in(
    tx: &mut Transaction<'_>,
    prepared: &mut Prepared,
    tenant: CreditorId,
    action: i64,
    status: ActionStatus,
    dispatched_on: Option<Date>,
    reason: &str,
) -> StoreResult<()> {
    let t = tenant.get();
    // Locked, so two dispatchers cannot both move the same action on.
    let st = prepared.get(
        tx,
        "SELECT case_id, status, step_id, to_char(created_on, 'YYYY-MM-DD') FROM actions WHERE creditor_id = $1 AND id = $2 FOR UPDATE",
    )?;
    let row = tx
        .query_opt(&st, &[&t, &action])
        .map_err(map_pg)?
        .ok_or_else(|| StoreError::NotFound(format!("action {action}")))?;
    let case: i64 = get(&row, 0)?;
    let old: String = get(&row, 1)?;
    let step: String = get(&row, 2)?;
    let created: String = get(&row, 3)?;
    if old == "sent" || old == "cancelled" {
        return Err(StoreError::Conflict(format!(
            "action {action} is already {old}"
        )));
    }
    let st = prepared.get(
        tx,
        "UPDATE actions SET status = $3, status_reason = $4, dispatched_on = COALESCE($5::text::date, dispatched_on) WHERE creditor_id = $1 AND id = $2",
    )?;
    tx.execute(
        &st,
        &[
            &t,
            &action,
            &status.code(),
            &reason,
            &dispatched_on.map(|d| d.to_string()),
        ],
    )
    .map_err(map_pg)?;
    let on = match dispatched_on {
        Some(d) => d,
        None => codec::date(&created).map_err(other)?,
    };
    let text = format!(
        "{step} (action {action}) {}{}",
        status.code(),
        if reason.is_empty() {
            String::new()
        } else {
            format!(": {reason}")
        }
    );
    insert_event(
        tx,
        t,
        case,
        &CaseEvent {
            on,
            kind: format!("action_{}", status.code()),
            text,
        },
    )
}

pub(crate) fn case_events(
    client: &mut Client,
    tenant: CreditorId,
    case: i64,
) -> StoreResult<Vec<CaseEvent>> {
    let rows = client
        .query(
            "SELECT to_char(on_date, 'YYYY-MM-DD'), kind, text FROM case_events WHERE creditor_id = $1 AND case_id = $2 ORDER BY id",
            &[&tenant.get(), &case],
        )
        .map_err(map_pg)?;
    rows.iter()
        .map(|r| {
            let on: String = get(r, 0)?;
            Ok(CaseEvent {
                on: codec::date(&on).map_err(other)?,
                kind: get(r, 1)?,
                text: get(r, 2)?,
            })
        })
        .collect()
}

pub(crate) fn add_plan(
    client: &mut Client,
    tenant: CreditorId,
    plan: &incasso_store::NewPlan,
    event: &CaseEvent,
) -> StoreResult<i64> {
    let currency = plan
        .instalments
        .first()
        .map(|(_, m)| m.currency())
        .ok_or_else(|| StoreError::Conflict("a plan needs instalments".into()))?;
    let mut tx = client.transaction().map_err(map_pg)?;
    let exists = tx
        .query_opt(
            "SELECT id FROM cases WHERE creditor_id = $1 AND id = $2",
            &[&tenant.get(), &plan.case_id],
        )
        .map_err(map_pg)?;
    if exists.is_none() {
        return Err(StoreError::NotFound(format!("case {}", plan.case_id)));
    }
    let row = tx
        .query_one(
            "INSERT INTO payment_plans (creditor_id, case_id, agreed_on, grace_days, currency, instalments, status) VALUES ($1, $2, $3, $4, $5, $6, 'active') RETURNING id",
            &[
                &tenant.get(),
                &plan.case_id,
                &plan.agreed_on.to_string(),
                &i64::from(plan.grace_days),
                &currency.code(),
                &incasso_store::encode_instalments(&plan.instalments),
            ],
        )
        .map_err(map_pg)?;
    let id: i64 = get(&row, 0)?;
    insert_event(&mut tx, tenant.get(), plan.case_id, event)?;
    tx.commit().map_err(map_pg)?;
    Ok(id)
}

pub(crate) fn plans(
    client: &mut Client,
    tenant: CreditorId,
    active_only: bool,
) -> StoreResult<Vec<incasso_store::PlanRow>> {
    let sql = format!(
        "SELECT id, case_id, agreed_on, grace_days, currency, instalments, status FROM payment_plans WHERE creditor_id = $1 {} ORDER BY id",
        if active_only {
            "AND status = 'active'"
        } else {
            ""
        }
    );
    let rows = client.query(&sql, &[&tenant.get()]).map_err(map_pg)?;
    rows.iter()
        .map(|r| {
            let currency = Currency::parse(get::<&str>(r, 4)?).map_err(other)?;
            let grace: i64 = get(r, 3)?;
            Ok(incasso_store::PlanRow {
                id: get(r, 0)?,
                plan: incasso_store::NewPlan {
                    case_id: get(r, 1)?,
                    agreed_on: codec::date(get::<&str>(r, 2)?).map_err(other)?,
                    grace_days: u32::try_from(grace).map_err(other)?,
                    instalments: incasso_store::decode_instalments(get::<&str>(r, 5)?, currency)
                        .map_err(other)?,
                },
                status: get(r, 6)?,
            })
        })
        .collect()
}

pub(crate) fn set_plan_status(
    client: &mut Client,
    tenant: CreditorId,
    plan: i64,
    status: &str,
) -> StoreResult<()> {
    if !matches!(status, "completed" | "lapsed" | "cancelled") {
        return Err(StoreError::Conflict(format!(
            "a plan cannot be set to {status:?}"
        )));
    }
    let n = client
        .execute(
            "UPDATE payment_plans SET status = $3 WHERE creditor_id = $1 AND id = $2 AND status = 'active'",
            &[&tenant.get(), &plan, &status],
        )
        .map_err(map_pg)?;
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
    client: &mut Client,
    tenant: CreditorId,
    p: &incasso_store::PolicyRow,
) -> StoreResult<()> {
    let mut tx = client.transaction().map_err(map_pg)?;
    let version = i64::from(p.version);
    let existing = tx
        .query_opt(
            "SELECT toml FROM policies WHERE creditor_id = $1 AND name = $2 AND version = $3 FOR UPDATE",
            &[&tenant.get(), &p.name, &version],
        )
        .map_err(map_pg)?;
    if let Some(row) = existing {
        let text: String = get(&row, 0)?;
        if text == p.toml {
            return Ok(());
        }
        return Err(StoreError::Conflict(format!(
            "policy {} version {} exists with other content: give it a new version",
            p.name, p.version
        )));
    }
    tx.execute(
        "INSERT INTO policies (creditor_id, name, version, toml) VALUES ($1, $2, $3, $4)",
        &[&tenant.get(), &p.name, &version, &p.toml],
    )
    .map_err(map_pg)?;
    tx.commit().map_err(map_pg)
}

pub(crate) fn policies(
    client: &mut Client,
    tenant: CreditorId,
) -> StoreResult<Vec<incasso_store::PolicyRow>> {
    let rows = client
        .query(
            "SELECT name, version, toml FROM policies WHERE creditor_id = $1 ORDER BY name COLLATE \"C\", version",
            &[&tenant.get()],
        )
        .map_err(map_pg)?;
    rows.iter()
        .map(|r| {
            let version: i64 = get(r, 1)?;
            Ok(incasso_store::PolicyRow {
                name: get(r, 0)?,
                version: u32::try_from(version).map_err(other)?,
                toml: get(r, 2)?,
            })
        })
        .collect()
}

pub(crate) fn assign_policy(
    client: &mut Client,
    tenant: CreditorId,
    scope: incasso_store::PolicyScope,
    name: Option<&str>,
) -> StoreResult<()> {
    let (kind, target) = scope_key(scope);
    let owned = match scope {
        incasso_store::PolicyScope::Default => true,
        incasso_store::PolicyScope::Debtor(_) => client
            .query_opt(
                "SELECT 1 FROM debtors WHERE creditor_id = $1 AND id = $2",
                &[&tenant.get(), &target],
            )
            .map_err(map_pg)?
            .is_some(),
        incasso_store::PolicyScope::Invoice(_) => client
            .query_opt(
                "SELECT 1 FROM invoices WHERE creditor_id = $1 AND id = $2",
                &[&tenant.get(), &target],
            )
            .map_err(map_pg)?
            .is_some(),
    };
    if !owned {
        return Err(StoreError::NotFound(format!("{kind} {target}")));
    }
    match name {
        Some(n) => client.execute(
            "INSERT INTO policy_assignments (creditor_id, scope, target_id, policy_name) VALUES ($1, $2, $3, $4)
             ON CONFLICT (creditor_id, scope, target_id) DO UPDATE SET policy_name = excluded.policy_name",
            &[&tenant.get(), &kind, &target, &n],
        ),
        None => client.execute(
            "DELETE FROM policy_assignments WHERE creditor_id = $1 AND scope = $2 AND target_id = $3",
            &[&tenant.get(), &kind, &target],
        ),
    }
    .map_err(map_pg)?;
    Ok(())
}

pub(crate) fn policy_assignments(
    client: &mut Client,
    tenant: CreditorId,
) -> StoreResult<incasso_store::PolicyAssignments> {
    let rows = client
        .query(
            "SELECT scope, target_id, policy_name FROM policy_assignments WHERE creditor_id = $1",
            &[&tenant.get()],
        )
        .map_err(map_pg)?;
    let mut out = incasso_store::PolicyAssignments::default();
    for r in &rows {
        let scope: String = get(r, 0)?;
        let target: i64 = get(r, 1)?;
        let name: String = get(r, 2)?;
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
    client: &mut Client,
    tenant: CreditorId,
) -> StoreResult<Vec<incasso_store::OutboxEntry>> {
    let t = tenant.get();
    let params: [&(dyn ToSql + Sync); 1] = [&t];
    let mut rows = client
        .query_raw(
            "SELECT case_id, idempotency_key, status, policy_name, policy_version, step_id, channels, to_char(dispatched_on, 'YYYY-MM-DD') FROM actions WHERE creditor_id = $1 ORDER BY id",
            params.iter().copied(),
        )
        .map_err(map_pg)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(map_pg)? {
        let status: String = get(&r, 2)?;
        let version: i64 = get(&r, 4)?;
        let dispatched: Option<String> = get(&r, 7)?;
        out.push(incasso_store::OutboxEntry {
            case_id: get(&r, 0)?,
            idempotency_key: get(&r, 1)?,
            status: ActionStatus::parse(&status)
                .ok_or_else(|| other(codec::bad("status", &status)))?,
            policy_name: get(&r, 3)?,
            policy_version: u32::try_from(version).map_err(other)?,
            step_id: get(&r, 5)?,
            channels: get(&r, 6)?,
            dispatched_on: codec::opt_date(dispatched).map_err(other)?,
        });
    }
    Ok(out)
}
