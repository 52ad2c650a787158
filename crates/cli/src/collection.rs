//! The collection commands: `incasso run`, `incasso case ...` and `incasso outbox ...`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use incasso_app::run::{RunOptions, RunSummary};
use incasso_dunning::{CaseState, PauseReason};
use incasso_store::{ActionStatus, CaseChange, CaseEvent};
use serde_json::{Value, json};

use crate::args::{CallsCommand, CaseCommand, OutboxCommand, PolicyCommand, RunArgs};
use crate::commands::{date_arg, open_store, print_json, resolve_tenant};
use crate::table::{Align, Table};

fn summary_json(s: &RunSummary) -> Value {
    json!({
        "date": s.date, "dry_run": s.dry_run,
        "cases_evaluated": s.cases_evaluated, "cases_opened": s.cases_opened, "cases_closed_paid": s.cases_closed_paid,
        "actions_created": s.actions_created, "actions_existing": s.actions_existing, "actions_held": s.actions_held,
        "actions_cancelled": s.actions_cancelled, "actions_by_kind": s.actions_by_kind, "skipped": s.skipped,
        "claims_awaiting_direct_debit": s.claims_awaiting_direct_debit, "held_reason": s.held_reason,
        "planned": s.planned.iter().map(|p| json!({"case": p.case, "debtor_id": p.debtor_id, "step": p.step_id, "template": p.template,
            "channels": p.channels, "total": p.total, "why": p.why, "already_created": p.exists})).collect::<Vec<_>>(),
    })
}

pub fn run(db: &str, a: RunArgs, json: bool, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let date = date_arg("date", a.date.as_deref())?;
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), &a.tenant)?;
    let bar = if !json && std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_message("evaluating cases");
        Some(b)
    } else {
        None
    };
    let opts = RunOptions {
        date,
        dry_run: a.dry_run,
        force: a.force,
    };
    let summary = incasso_app::run::run(store.as_mut(), &creditor, opts, &mut |n| {
        if let Some(b) = bar.as_ref().filter(|_| n % 1000 == 0) {
            b.set_position(n);
            b.tick();
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if json {
        print_json(out, &summary_json(&summary))?;
        return Ok(ExitCode::SUCCESS);
    }
    if summary.dry_run {
        writeln!(
            out,
            "dry run for {} on {date}: nothing was written",
            creditor.details.name
        )?;
        for p in &summary.planned {
            writeln!(
                out,
                "  case {} (debtor {}): {} via {} for {}{}: {}",
                p.case,
                p.debtor_id,
                p.template,
                p.channels,
                p.total,
                if p.exists { " (already created)" } else { "" },
                p.why
            )?;
        }
    }
    writeln!(
        out,
        "{} cases evaluated on {date}: {} opened, {} closed as paid; {} actions created ({} held), {} already existed, {} cancelled",
        summary.cases_evaluated,
        summary.cases_opened,
        summary.cases_closed_paid,
        summary.actions_created,
        summary.actions_held,
        summary.actions_existing,
        summary.actions_cancelled
    )?;
    for (kind, n) in &summary.actions_by_kind {
        writeln!(out, "  {kind}: {n}")?;
    }
    for (reason, n) in &summary.skipped {
        writeln!(out, "  nothing due ({reason}): {n}")?;
    }
    if summary.claims_awaiting_direct_debit > 0 {
        writeln!(
            out,
            "  {} overdue claim(s) left to a recent direct debit (within {} days of its collection date)",
            summary.claims_awaiting_direct_debit,
            incasso_app::run::DIRECT_DEBIT_WAIT_DAYS
        )?;
    }
    if let (Some(reason), true) = (&summary.held_reason, summary.actions_held > 0) {
        writeln!(out, "  held: {reason}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn event(on: incasso_calendar::Date, kind: &str, text: String) -> CaseEvent {
    CaseEvent {
        on,
        kind: kind.to_string(),
        text,
    }
}

pub fn case(
    db: &str,
    cmd: CaseCommand,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    match cmd {
        CaseCommand::Verify { tenant, id } => {
            return crate::dossier::verify(db, tenant, id, json, out);
        }
        CaseCommand::Export {
            tenant,
            id,
            out: path,
            language,
        } => {
            return crate::dossier::export(db, tenant, id, path, &language, json, out);
        }
        CaseCommand::Attach {
            tenant,
            id,
            file,
            kind,
            note,
            date,
        } => {
            return crate::dossier::attach(db, tenant, id, file, &kind, note, date, json, out);
        }
        _ => {}
    }
    let mut store = open_store(db)?;
    let e = |e: incasso_store::StoreError| anyhow!("{e}");
    match cmd {
        CaseCommand::Verify { .. } | CaseCommand::Export { .. } | CaseCommand::Attach { .. } => {
            unreachable!("handled above")
        }
        CaseCommand::List { tenant, all } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let cases = store.cases(creditor.id, !all).map_err(e)?;
            if json {
                let items: Vec<Value> = cases
                    .iter()
                    .map(|c| json!({"id": c.id, "debtor_id": c.debtor_id.get(), "state": c.state, "pause": c.pause_reason, "pause_until": c.pause_until.map(|d| d.to_string()), "opened_on": c.opened_on.to_string(), "closed_on": c.closed_on.map(|d| d.to_string())}))
                    .collect();
                print_json(out, &json!({"count": items.len(), "cases": items}))?;
            } else {
                let mut t = Table::new(&[
                    ("id", Align::Right),
                    ("debtor", Align::Right),
                    ("state", Align::Left),
                    ("pause", Align::Left),
                    ("opened", Align::Left),
                ]);
                for c in &cases {
                    let pause = c
                        .pause_reason
                        .as_ref()
                        .map(|r| {
                            format!(
                                "{r}{}",
                                c.pause_until
                                    .map(|d| format!(" until {d}"))
                                    .unwrap_or_default()
                            )
                        })
                        .unwrap_or_default();
                    t.row(vec![
                        c.id.to_string(),
                        c.debtor_id.to_string(),
                        c.state.clone(),
                        pause,
                        c.opened_on.to_string(),
                    ]);
                }
                t.print(out)?;
                writeln!(out, "{} cases", cases.len())?;
            }
        }
        CaseCommand::Show { tenant, id } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let c = store.case(creditor.id, id).map_err(e)?;
            let actions = store.actions(creditor.id, Some(id)).map_err(e)?;
            let events = store.chain(creditor.id, id).map_err(e)?;
            let documents = store.documents(creditor.id, id).map_err(e)?;
            let doc_at = |seq: u64| documents.iter().find(|d| d.event_seq == seq);
            let debtor = store.debtor(creditor.id, c.debtor_id).map_err(e)?;
            if json {
                print_json(
                    out,
                    &json!({"id": c.id, "debtor_id": c.debtor_id.get(), "debtor": debtor.details.name, "state": c.state, "pause": c.pause_reason,
                        "pause_until": c.pause_until.map(|d| d.to_string()), "pause_note": c.pause_note, "opened_on": c.opened_on.to_string(),
                        "actions": actions.iter().map(|a| json!({"id": a.id, "step": a.action.step_id, "template": a.action.template, "channels": a.action.channels,
                            "status": a.action.status.code(), "created_on": a.action.created_on.to_string(), "deadline": a.action.deadline.to_string(),
                            "total": a.action.total.to_decimal_string(), "dispatched_on": a.dispatched_on.map(|d| d.to_string()), "why": a.action.why})).collect::<Vec<_>>(),
                        "events": events.iter().map(|ev| json!({"seq": ev.seq, "on": ev.on, "kind": ev.kind, "text": ev.text, "hash": ev.hash,
                            "document": doc_at(ev.seq).map(|d| json!({"id": d.id, "kind": d.kind, "filename": d.filename, "media_type": d.media_type, "size": d.size, "sha256": d.sha256}))})).collect::<Vec<_>>()}),
                )?;
            } else {
                writeln!(
                    out,
                    "case {} — {} (debtor {}), {}",
                    c.id, debtor.details.name, c.debtor_id, c.state
                )?;
                if let Some(r) = &c.pause_reason {
                    writeln!(
                        out,
                        "paused: {r}{} {}",
                        c.pause_until
                            .map(|d| format!(" until {d}"))
                            .unwrap_or_default(),
                        c.pause_note
                    )?;
                }
                writeln!(out, "actions:")?;
                for a in &actions {
                    writeln!(
                        out,
                        "  {} {} via {} [{}] created {} deadline {} total {}",
                        a.id,
                        a.action.step_id,
                        a.action.channels,
                        a.action.status.code(),
                        a.action.created_on,
                        a.action.deadline,
                        a.action.total.format_nl()
                    )?;
                }
                writeln!(out, "timeline:")?;
                for ev in &events {
                    let doc = doc_at(ev.seq)
                        .map(|d| {
                            format!(
                                "  [document {} {}, {} bytes, sha256 {}]",
                                d.id,
                                d.filename,
                                d.size,
                                &d.sha256[..d.sha256.len().min(12)]
                            )
                        })
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "  {:>3} {} {:<16} {}{doc}",
                        ev.seq, ev.on, ev.kind, ev.text
                    )?;
                }
                writeln!(
                    out,
                    "{} events, {} documents, head {}",
                    events.len(),
                    documents.len(),
                    events
                        .last()
                        .map(|ev| ev.hash.as_str())
                        .unwrap_or(incasso_dossier::GENESIS)
                )?;
            }
        }
        CaseCommand::Pause {
            tenant,
            id,
            reason,
            until,
            note,
            date,
        } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let on = date_arg("date", date.as_deref())?;
            let r = PauseReason::parse(&reason).ok_or_else(|| anyhow!("--reason {reason:?}: expected manual_hold, promise_to_pay, vulnerable_debtor, payment_plan or dispute"))?;
            let until = until
                .as_deref()
                .map(|u| date_arg("until", Some(u)))
                .transpose()?;
            let change = CaseChange {
                pause: Some(Some((r.code().to_string(), until, note.clone()))),
                ..CaseChange::default()
            };
            store
                .change_case(
                    creditor.id,
                    id,
                    &change,
                    &event(
                        on,
                        "pause",
                        format!(
                            "{}{} {note}",
                            r.code(),
                            until.map(|d| format!(" until {d}")).unwrap_or_default()
                        ),
                    ),
                )
                .map_err(e)?;
            writeln!(out, "case {id} paused ({})", r.code())?;
        }
        CaseCommand::Resume { tenant, id, date } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let on = date_arg("date", date.as_deref())?;
            let next =
                incasso_calendar::add_days(on, 1).ok_or_else(|| anyhow!("--date out of range"))?;
            let change = CaseChange {
                pause: Some(None),
                resumed_on: Some(next),
                ..CaseChange::default()
            };
            store
                .change_case(
                    creditor.id,
                    id,
                    &change,
                    &event(
                        on,
                        "resume",
                        format!("pause lifted; the ladder resumes on {next}"),
                    ),
                )
                .map_err(e)?;
            writeln!(out, "case {id} resumes on {next}")?;
        }
        CaseCommand::Dispute {
            tenant,
            id,
            note,
            date,
        } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let on = date_arg("date", date.as_deref())?;
            let change = CaseChange {
                pause: Some(Some((
                    PauseReason::Dispute.code().to_string(),
                    None,
                    note.clone(),
                ))),
                ..CaseChange::default()
            };
            store
                .change_case(creditor.id, id, &change, &event(on, "dispute", note))
                .map_err(e)?;
            writeln!(
                out,
                "case {id} is disputed: collection paused until the dispute is resolved (incasso case resume {id})"
            )?;
        }
        CaseCommand::Promise {
            tenant,
            id,
            until,
            note,
            date,
        } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let on = date_arg("date", date.as_deref())?;
            let until = date_arg("until", Some(&until))?;
            if until < on {
                bail!("--until {until} is before --date {on}");
            }
            let change = CaseChange {
                pause: Some(Some((
                    PauseReason::PromiseToPay.code().to_string(),
                    Some(until),
                    note.clone(),
                ))),
                ..CaseChange::default()
            };
            store
                .change_case(
                    creditor.id,
                    id,
                    &change,
                    &event(on, "promise", format!("promise to pay by {until} {note}")),
                )
                .map_err(e)?;
            writeln!(out, "case {id}: promise to pay by {until}")?;
        }
        CaseCommand::Plan {
            tenant,
            id,
            instalments,
            date,
            grace_days,
            max_months,
            min_instalment,
            first_within_days,
        } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let on = date_arg("date", date.as_deref())?;
            let case = store.case(creditor.id, id).map_err(e)?;
            if case.closed_on.is_some() {
                bail!("case {id} is closed ({})", case.state);
            }
            let min = incasso_money::Money::parse_localized(
                &min_instalment,
                incasso_money::Currency::EUR,
            )
            .map_err(|err| anyhow!("--min-instalment: {err}"))?;
            let mut open = incasso_money::Money::zero(incasso_money::Currency::EUR);
            store
                .for_each_invoice(
                    creditor.id,
                    &incasso_store::InvoiceFilter {
                        debtor: Some(case.debtor_id),
                        ..Default::default()
                    },
                    &mut |r| {
                        open = open.checked_add(r.open_amount)?;
                        Ok(())
                    },
                )
                .map_err(e)?;
            let bounds = incasso_dunning::PlanBounds {
                max_months,
                min_instalment: min,
                first_instalment_max_days: first_within_days,
                grace_days,
            };
            let plan = incasso_dunning::propose_plan(open, on, instalments, &bounds)
                .map_err(|err| anyhow!("case {id}: {err}"))?;
            incasso_dunning::validate_plan(&plan, open, &bounds)
                .map_err(|err| anyhow!("case {id}: {err}"))?;
            let schedule: Vec<String> = plan
                .instalments
                .iter()
                .map(|i| format!("{} {}", i.due, i.amount.format_nl()))
                .collect();
            let new = incasso_store::NewPlan {
                case_id: id,
                agreed_on: on,
                grace_days,
                instalments: plan.instalments.iter().map(|i| (i.due, i.amount)).collect(),
            };
            let text = format!(
                "payment plan of {} in {} instalments: {}",
                open.format_nl(),
                schedule.len(),
                schedule.join(", ")
            );
            let plan_id = store
                .add_plan(creditor.id, &new, &event(on, "plan", text))
                .map_err(e)?;
            if json {
                print_json(
                    out,
                    &json!({"plan_id": plan_id, "case_id": id, "total": open.to_decimal_string(), "grace_days": grace_days,
                        "instalments": plan.instalments.iter().map(|i| json!({"due": i.due.to_string(), "amount": i.amount.to_decimal_string()})).collect::<Vec<_>>()}),
                )?;
            } else {
                writeln!(
                    out,
                    "payment plan {plan_id} for case {id}: {} in {} instalments",
                    open.format_nl(),
                    schedule.len()
                )?;
                for line in &schedule {
                    writeln!(out, "  {line}")?;
                }
            }
        }
        CaseCommand::Note {
            tenant,
            id,
            text,
            date,
        } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let on = date_arg("date", date.as_deref())?;
            store
                .change_case(
                    creditor.id,
                    id,
                    &CaseChange::default(),
                    &event(on, "note", text),
                )
                .map_err(e)?;
            writeln!(out, "note added to case {id}")?;
        }
        CaseCommand::WriteOff {
            tenant,
            id,
            note,
            date,
        } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let on = date_arg("date", date.as_deref())?;
            let c = store.case(creditor.id, id).map_err(e)?;
            let from = CaseState::parse(&c.state)
                .ok_or_else(|| anyhow!("case {id} has an unknown state {:?}", c.state))?;
            from.transition(CaseState::WrittenOff)
                .map_err(|err| anyhow!("case {id}: {err}"))?;
            let change = CaseChange {
                state: Some(CaseState::WrittenOff.code().to_string()),
                closed_on: Some(on),
                ..CaseChange::default()
            };
            store
                .change_case(creditor.id, id, &change, &event(on, "written_off", note))
                .map_err(e)?;
            let pending: Vec<i64> = store
                .actions(creditor.id, Some(id))
                .map_err(e)?
                .into_iter()
                .filter(|a| matches!(a.action.status, ActionStatus::Queued | ActionStatus::Held))
                .map(|a| a.id)
                .collect();
            for a in pending {
                store
                    .set_action_status(
                        creditor.id,
                        a,
                        ActionStatus::Cancelled,
                        None,
                        "case written off",
                    )
                    .map_err(e)?;
            }
            writeln!(out, "case {id} written off")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn outbox(
    db: &str,
    cmd: OutboxCommand,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    let e = |e: incasso_store::StoreError| anyhow!("{e}");
    match cmd {
        OutboxCommand::List { tenant, status } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let wanted = status
                .as_deref()
                .map(|s| {
                    ActionStatus::parse(s).ok_or_else(|| {
                        anyhow!("--status {s:?}: expected queued, held, sent, cancelled or failed")
                    })
                })
                .transpose()?;
            let actions: Vec<_> = store
                .actions(creditor.id, None)
                .map_err(e)?
                .into_iter()
                .filter(|a| wanted.is_none_or(|w| a.action.status == w))
                .collect();
            if json {
                let items: Vec<Value> = actions
                    .iter()
                    .map(|a| json!({"id": a.id, "case_id": a.case_id, "key": a.action.idempotency_key, "policy": a.action.policy_name, "policy_version": a.action.policy_version,
                        "step": a.action.step_id, "template": a.action.template, "channels": a.action.channels, "status": a.action.status.code(),
                        "status_reason": a.action.status_reason, "created_on": a.action.created_on.to_string(), "deadline": a.action.deadline.to_string(),
                        "principal": a.action.principal.to_decimal_string(), "interest": a.action.interest.map(|m| m.to_decimal_string()),
                        "costs": a.action.costs.map(|m| m.to_decimal_string()), "total": a.action.total.to_decimal_string(), "why": a.action.why,
                        "dispatched_on": a.dispatched_on.map(|d| d.to_string())}))
                    .collect();
                print_json(out, &json!({"count": items.len(), "actions": items}))?;
            } else {
                let mut t = Table::new(&[
                    ("id", Align::Right),
                    ("case", Align::Right),
                    ("step", Align::Left),
                    ("channels", Align::Left),
                    ("status", Align::Left),
                    ("created", Align::Left),
                    ("total", Align::Right),
                ]);
                for a in &actions {
                    t.row(vec![
                        a.id.to_string(),
                        a.case_id.to_string(),
                        a.action.step_id.clone(),
                        a.action.channels.clone(),
                        a.action.status.code().into(),
                        a.action.created_on.to_string(),
                        a.action.total.to_decimal_string(),
                    ]);
                }
                t.print(out)?;
                writeln!(out, "{} actions", actions.len())?;
            }
        }
        OutboxCommand::MarkSent { tenant, id, date } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let on = date_arg("date", date.as_deref())?;
            store
                .set_action_status(
                    creditor.id,
                    id,
                    ActionStatus::Sent,
                    Some(on),
                    "recorded as sent",
                )
                .map_err(e)?;
            writeln!(out, "action {id} recorded as sent on {on}")?;
        }
        OutboxCommand::Release { tenant, id } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            store
                .set_action_status(creditor.id, id, ActionStatus::Queued, None, "released")
                .map_err(e)?;
            writeln!(out, "action {id} released to the queue")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn policy_json(p: &incasso_dunning::Policy) -> Value {
    json!({
        "name": p.name, "version": p.version,
        "steps": p.steps.iter().map(|s| json!({"id": s.id, "template": s.template,
            "channels": s.channels.iter().map(|c| c.code()).collect::<Vec<_>>(), "term_days": s.term_days,
            "effects": s.effects.iter().map(|e| e.code()).collect::<Vec<_>>()})).collect::<Vec<_>>(),
    })
}

fn print_policy(out: &mut dyn Write, p: &incasso_dunning::Policy) -> anyhow::Result<()> {
    writeln!(
        out,
        "policy {} version {}: {} steps",
        p.name,
        p.version,
        p.steps.len()
    )?;
    for (i, s) in p.steps.iter().enumerate() {
        let channels: Vec<&str> = s.channels.iter().map(|c| c.code()).collect();
        let effects: Vec<&str> = s.effects.iter().map(|e| e.code()).collect();
        writeln!(
            out,
            "  {}. {} ({}) via {}, term {} days{}",
            i + 1,
            s.id,
            s.template,
            channels.join("+"),
            s.term_days,
            if effects.is_empty() {
                String::new()
            } else {
                format!(", effects: {}", effects.join(", "))
            }
        )?;
    }
    Ok(())
}

pub fn policy(
    db: &str,
    cmd: PolicyCommand,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Add { tenant, file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|err| anyhow!("{}: cannot read: {err}", file.display()))?;
            let policy = incasso_dunning::Policy::from_toml(&text, &[])
                .map_err(|err| anyhow!("{}: {err}", file.display()))?;
            let mut store = open_store(db)?;
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let row = incasso_store::PolicyRow {
                name: policy.name.clone(),
                version: policy.version,
                toml: text,
            };
            store
                .add_policy(creditor.id, &row)
                .map_err(|err| anyhow!("{}: {err}", file.display()))?;
            if json {
                print_json(
                    out,
                    &json!({"name": policy.name, "version": policy.version, "stored": true}),
                )?;
            } else {
                writeln!(
                    out,
                    "policy {} version {} stored for {}",
                    policy.name, policy.version, creditor.details.name
                )?;
            }
        }
        PolicyCommand::Assign {
            tenant,
            name,
            debtor,
            invoice,
            clear,
        } => {
            let mut store = open_store(db)?;
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let scope = match (debtor, &invoice) {
                (Some(d), _) => {
                    incasso_store::PolicyScope::Debtor(incasso_domain::DebtorId::new(d))
                }
                (None, Some(number)) => {
                    let inv = store
                        .invoice_by_number(creditor.id, number)
                        .map_err(|err| anyhow!("--invoice {number}: {err}"))?;
                    incasso_store::PolicyScope::Invoice(inv.id)
                }
                (None, None) => incasso_store::PolicyScope::Default,
            };
            let name = if clear {
                None
            } else {
                let n = name.ok_or_else(|| anyhow!("give a policy name, or --clear"))?;
                let known = incasso_app::run::Policies::new(
                    store
                        .policies(creditor.id)
                        .map_err(|err| anyhow!("{err}"))?,
                );
                if !known.knows(&n) {
                    bail!(
                        "{n:?}: no stored policy or preset of that name (see `incasso policy list`, `incasso policy add`)"
                    );
                }
                Some(n)
            };
            store
                .assign_policy(creditor.id, scope, name.as_deref())
                .map_err(|err| anyhow!("{err}"))?;
            writeln!(
                out,
                "{}",
                match (&name, scope) {
                    (Some(n), incasso_store::PolicyScope::Default) =>
                        format!("{n} is the default policy"),
                    (Some(n), incasso_store::PolicyScope::Debtor(d)) =>
                        format!("debtor {d} follows {n}"),
                    (Some(n), incasso_store::PolicyScope::Invoice(_)) =>
                        format!("invoice {} follows {n}", invoice.unwrap_or_default()),
                    (None, _) => "assignment removed".to_string(),
                }
            )?;
        }
        PolicyCommand::Check { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow!("{}: cannot read: {e}", file.display()))?;
            let policy = incasso_dunning::Policy::from_toml(&text, &[])
                .map_err(|e| anyhow!("{}: {e}", file.display()))?;
            if json {
                let mut v = policy_json(&policy);
                v["valid"] = json!(true);
                print_json(out, &v)?;
            } else {
                writeln!(out, "{}: valid", file.display())?;
                print_policy(out, &policy)?;
            }
        }
        PolicyCommand::List => {
            let mut items = Vec::new();
            for preset in incasso_dunning::Preset::ALL {
                let p = preset
                    .load()
                    .map_err(|e| anyhow!("preset {}: {e}", preset.name()))?;
                if json {
                    items.push(policy_json(&p));
                } else {
                    print_policy(out, &p)?;
                }
            }
            if json {
                print_json(out, &json!({"presets": items}))?;
            }
        }
        PolicyCommand::Show { name } => {
            let preset = incasso_dunning::Preset::parse(&name).ok_or_else(|| {
                anyhow!("{name:?}: no such preset (nl-b2b, nl-b2c, be-b2c, be-b2b)")
            })?;
            write!(out, "{}", preset.toml())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn calls(
    db: &str,
    cmd: CallsCommand,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    let e = |e: incasso_store::StoreError| anyhow!("{e}");
    match cmd {
        CallsCommand::List { tenant } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let mut tasks: Vec<_> = store
                .actions(creditor.id, None)
                .map_err(e)?
                .into_iter()
                .filter(|a| {
                    a.action.channels.split(',').any(|c| c == "call")
                        && matches!(a.action.status, ActionStatus::Queued | ActionStatus::Held)
                })
                .collect();
            // What is at stake first; then the oldest task.
            tasks.sort_by(|a, b| {
                b.action
                    .total
                    .minor()
                    .cmp(&a.action.total.minor())
                    .then(a.action.created_on.cmp(&b.action.created_on))
                    .then(a.id.cmp(&b.id))
            });
            let mut rows = Vec::with_capacity(tasks.len());
            for t in &tasks {
                let case = store.case(creditor.id, t.case_id).map_err(e)?;
                let debtor = store.debtor(creditor.id, case.debtor_id).map_err(e)?;
                rows.push((t, debtor));
            }
            if json {
                let items: Vec<Value> = rows
                    .iter()
                    .map(|(t, d)| json!({"id": t.id, "case_id": t.case_id, "debtor": d.details.name, "phones": d.details.phones.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                        "at_stake": t.action.total.to_decimal_string(), "created_on": t.action.created_on.to_string(), "why": t.action.why}))
                    .collect();
                print_json(out, &json!({"count": items.len(), "calls": items}))?;
            } else {
                let mut table = Table::new(&[
                    ("task", Align::Right),
                    ("case", Align::Right),
                    ("debtor", Align::Left),
                    ("phone", Align::Left),
                    ("at stake", Align::Right),
                    ("since", Align::Left),
                ]);
                for (t, d) in &rows {
                    table.row(vec![
                        t.id.to_string(),
                        t.case_id.to_string(),
                        d.details.name.clone(),
                        d.details
                            .phones
                            .first()
                            .map(|p| p.to_string())
                            .unwrap_or_default(),
                        t.action.total.format_nl(),
                        t.action.created_on.to_string(),
                    ]);
                }
                table.print(out)?;
                writeln!(out, "{} calls to make", rows.len())?;
            }
        }
        CallsCommand::Outcome {
            tenant,
            id,
            outcome,
            until,
            note,
            date,
        } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant)?;
            let on = date_arg("date", date.as_deref())?;
            let task = store
                .actions(creditor.id, None)
                .map_err(e)?
                .into_iter()
                .find(|a| a.id == id)
                .ok_or_else(|| anyhow!("call task {id}: not found"))?;
            if !task.action.channels.split(',').any(|c| c == "call") {
                bail!("action {id} is not a call task");
            }
            let until = until
                .as_deref()
                .map(|u| date_arg("until", Some(u)))
                .transpose()?;
            let pause = match outcome.as_str() {
                "promise" => {
                    let until =
                        until.ok_or_else(|| anyhow!("--until is required for a promise to pay"))?;
                    if until < on {
                        bail!("--until {until} is before the call on {on}");
                    }
                    Some((PauseReason::PromiseToPay, Some(until)))
                }
                "plan" => Some((PauseReason::PaymentPlan, until)),
                "dispute" => Some((PauseReason::Dispute, None)),
                "no_answer" | "wrong_number" => None,
                other => bail!(
                    "--outcome {other:?}: expected promise, plan, dispute, no_answer or wrong_number"
                ),
            };
            store
                .set_action_status(
                    creditor.id,
                    id,
                    ActionStatus::Sent,
                    Some(on),
                    &format!("call outcome: {outcome}"),
                )
                .map_err(e)?;
            let text = format!(
                "call outcome {outcome}{} {note}",
                until.map(|d| format!(" until {d}")).unwrap_or_default()
            );
            let change = match pause {
                Some((reason, until)) => CaseChange {
                    pause: Some(Some((reason.code().to_string(), until, note.clone()))),
                    ..CaseChange::default()
                },
                None => CaseChange::default(),
            };
            store
                .change_case(creditor.id, task.case_id, &change, &event(on, "call", text))
                .map_err(e)?;
            writeln!(
                out,
                "call task {id}: {outcome} recorded on case {}",
                task.case_id
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
