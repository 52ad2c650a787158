//! The simulated world: creditors, debtors with behaviours, invoices issued over time, the
//! daily loop (debtors act, the run decides, the dispatcher sends), crashes and restarts, and the
//! daily invariant checks.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind, panic_any, resume_unwind};
use std::sync::Once;

use anyhow::{Context, anyhow};
use incasso_app::demo::SplitMix64;
use incasso_app::run::{RunOptions, run};
use incasso_calendar::{BusinessCalendar, Date, add_days, days_between};
use incasso_domain::{
    Address, CountryCode, Creditor, DebtorId, DebtorKind, DebtorNumber, DocumentKind,
    DueDateSource, InvoiceId, InvoiceLine, InvoiceNumber, Jurisdiction, Language, NewCreditor,
    NewDebtor, NewInvoice, PaymentId,
};
use incasso_dunning::PauseReason;
use incasso_money::{Currency, Money};
use incasso_store::{
    ActionRow, ActionStatus, CaseChange, CaseEvent, CaseRef, Component, ImportCounts, ImportFile,
    InvoiceFilter, NewAction, NewAllocation, NewPayment, RunBatch, Store,
};

use crate::check::{self, Ctx};
use crate::{Fault, SimReport, SimSpec, StoreHandle};

/// How a debtor behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    OnTime,
    AfterReminder,
    AfterNotice,
    AfterHandover,
    Partial,
    Instalments,
    Disputes,
    Never,
}

impl Behaviour {
    fn name(self) -> &'static str {
        match self {
            Behaviour::OnTime => "on_time",
            Behaviour::AfterReminder => "after_reminder",
            Behaviour::AfterNotice => "after_notice",
            Behaviour::AfterHandover => "after_handover",
            Behaviour::Partial => "partial",
            Behaviour::Instalments => "instalments",
            Behaviour::Disputes => "disputes",
            Behaviour::Never => "never",
        }
    }

    fn pick(rng: &mut SplitMix64) -> Behaviour {
        match rng.below(100) {
            0..35 => Behaviour::OnTime,
            35..55 => Behaviour::AfterReminder,
            55..67 => Behaviour::AfterNotice,
            67..73 => Behaviour::AfterHandover,
            73..81 => Behaviour::Partial,
            81..88 => Behaviour::Instalments,
            88..93 => Behaviour::Disputes,
            _ => Behaviour::Never,
        }
    }
}

/// What kind of letter a step is, for the debtors' reactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StepClass {
    Reminder,
    Notice,
    Handover,
    Other,
}

fn class_of(step: &str) -> StepClass {
    match step {
        "payment_reminder" | "first_reminder" => StepClass::Reminder,
        "fourteen_day_letter" | "formal_notice" | "reminder" => StepClass::Notice,
        "handover" => StepClass::Handover,
        _ => StepClass::Other,
    }
}

/// What a debtor will do next, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    PayAll(Date),
    PayPart(Date, i64),
    Instalment(Date, i64),
    Dispute(Date),
    Lift(Date, i64),
}

impl Plan {
    fn on(self) -> Date {
        match self {
            Plan::PayAll(d)
            | Plan::PayPart(d, _)
            | Plan::Instalment(d, _)
            | Plan::Dispute(d)
            | Plan::Lift(d, _) => d,
        }
    }
}

struct Inv {
    id: InvoiceId,
    debtor: usize,
    issue: Date,
    due: Date,
    gross: i64,
    open: i64,
    /// On-time payers pay on this day.
    pay_on: Option<Date>,
    paid_on: Option<Date>,
}

struct Deb {
    id: DebtorId,
    creditor: usize,
    kind: DebtorKind,
    behaviour: Behaviour,
    /// Indices into the invoices, in issue order.
    invoices: Vec<usize>,
    plan: Option<Plan>,
    /// After a dispute was lifted the debtor pays after the next notice.
    disputed: bool,
}

struct Cred {
    creditor: Creditor,
    by_debtor_id: HashMap<DebtorId, usize>,
    /// The open case of each debtor (by debtor index), refreshed after every run.
    open_case: HashMap<usize, i64>,
    case_debtor: HashMap<i64, usize>,
    case_opened: HashMap<i64, Date>,
    /// The last step sent on each case.
    last_step: HashMap<i64, String>,
    /// Cases the simulation paused (dispute).
    paused: HashSet<i64>,
    /// Actions already checked as new.
    seen_actions: HashSet<i64>,
    last_evaluated: u64,
}

/// The panic payload of a simulated crash inside the run.
struct SimCrash;

fn quiet_crashes() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<SimCrash>().is_none() {
                previous(info);
            }
        }));
    });
}

fn e(err: incasso_store::StoreError) -> anyhow::Error {
    anyhow!("{err}")
}

fn day_after(d: Date, n: i64) -> anyhow::Result<Date> {
    add_days(d, i32::try_from(n)?).ok_or_else(|| anyhow!("date out of range: {d} + {n}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Crash {
    MidRun,
    AfterRun,
    MidDispatch,
}

impl Crash {
    fn name(self) -> &'static str {
        match self {
            Crash::MidRun => "inside_run",
            Crash::AfterRun => "after_run",
            Crash::MidDispatch => "during_dispatch",
        }
    }
}

struct Sim<'h> {
    spec: SimSpec,
    h: &'h mut dyn StoreHandle,
    rng: SplitMix64,
    crash_rng: SplitMix64,
    debtors: Vec<Deb>,
    invoices: Vec<Inv>,
    creds: Vec<Cred>,
    report: SimReport,
    invoice_seq: u64,
    import_seq: u64,
    fault: Option<Fault>,
    open_total: i128,
    ar_sum: i128,
    sales: i128,
    /// Payments recorded today: (creditor, payment id, amount, invoices touched).
    todays_payments: Vec<(usize, PaymentId, i64, Vec<usize>)>,
}

fn creditor_details(jurisdiction: Jurisdiction) -> anyhow::Result<NewCreditor> {
    let mut c = incasso_app::demo::demo_creditor()?;
    match jurisdiction {
        Jurisdiction::Nl => {
            c.name = "Simulatie Groothandel B.V.".into();
        }
        Jurisdiction::Be => {
            c.name = "Simulatie Verdeler BV".into();
            c.jurisdiction = Jurisdiction::Be;
            c.registration_number = None;
            c.vat_number = None;
            c.bic = None;
            c.address = Address {
                street: "Meir 1".into(),
                postal_code: "2000".into(),
                city: "Antwerpen".into(),
                country: Some(CountryCode::BE),
            };
        }
    }
    Ok(c)
}

pub(crate) fn simulate(
    spec: &SimSpec,
    h: &mut dyn StoreHandle,
    fault: Option<Fault>,
) -> anyhow::Result<SimReport> {
    if spec.crash_percent > 100 {
        anyhow::bail!("crash percent {} is above 100", spec.crash_percent);
    }
    quiet_crashes();
    let mut sim = Sim {
        spec: spec.clone(),
        h,
        rng: SplitMix64::new(spec.seed),
        crash_rng: SplitMix64::new(spec.seed ^ 0x5EED_C0FF_EE00_0001),
        debtors: Vec::new(),
        invoices: Vec::new(),
        creds: Vec::new(),
        report: SimReport {
            debtors: spec.debtors,
            days: spec.days,
            seed: spec.seed,
            start: spec.start.to_string(),
            crash_percent: spec.crash_percent,
            ..SimReport::default()
        },
        invoice_seq: 0,
        import_seq: 0,
        fault,
        open_total: 0,
        ar_sum: 0,
        sales: 0,
        todays_payments: Vec::new(),
    };
    sim.setup()?;
    for day in 0..spec.days {
        let today = day_after(spec.start, i64::from(day))?;
        sim.day(day, today)?;
    }
    sim.finish()?;
    Ok(sim.report)
}

impl Sim<'_> {
    fn store(&mut self) -> anyhow::Result<&mut dyn Store> {
        self.h.store()
    }

    fn setup(&mut self) -> anyhow::Result<()> {
        for j in [Jurisdiction::Nl, Jurisdiction::Be] {
            let details = creditor_details(j)?;
            let store = self.store()?;
            let id = store.add_creditor(&details).map_err(e)?;
            let creditor = store.creditor(id).map_err(e)?;
            self.creds.push(Cred {
                creditor,
                by_debtor_id: HashMap::new(),
                open_case: HashMap::new(),
                case_debtor: HashMap::new(),
                case_opened: HashMap::new(),
                last_step: HashMap::new(),
                paused: HashSet::new(),
                seen_actions: HashSet::new(),
                last_evaluated: 0,
            });
        }
        // Debtors, each with one or two invoices issued in the 60 days before the start.
        let mut new_debtors: Vec<Vec<(usize, NewDebtor)>> = vec![Vec::new(), Vec::new()];
        let mut opening: Vec<(usize, Date)> = Vec::new();
        for i in 0..self.spec.debtors {
            let creditor = if self.rng.chance(15) { 1 } else { 0 };
            let kind = if self.rng.chance(60) {
                DebtorKind::Business
            } else {
                DebtorKind::Consumer
            };
            let behaviour = Behaviour::pick(&mut self.rng);
            *self
                .report
                .behaviours
                .entry(behaviour.name().to_string())
                .or_insert(0) += 1;
            let idx = self.debtors.len();
            self.debtors.push(Deb {
                id: DebtorId::new(0),
                creditor,
                kind,
                behaviour,
                invoices: Vec::new(),
                plan: None,
                disputed: false,
            });
            let mut d = NewDebtor::named(
                &format!(
                    "{} {i}",
                    if kind == DebtorKind::Business {
                        "Simulatie Bedrijf"
                    } else {
                        "Simulatie Klant"
                    }
                ),
                kind,
                Language::Nl,
            );
            d.number =
                Some(DebtorNumber::parse(&format!("D{:07}", i + 1)).map_err(|e| anyhow!("{e}"))?);
            d.address = if creditor == 1 {
                Address {
                    street: format!("Kerkstraat {}", 1 + i % 200),
                    postal_code: "9000".into(),
                    city: "Gent".into(),
                    country: Some(CountryCode::BE),
                }
            } else {
                Address {
                    street: format!("Dorpsstraat {}", 1 + i % 200),
                    postal_code: "3511 AB".into(),
                    city: "Utrecht".into(),
                    country: Some(CountryCode::NL),
                }
            };
            new_debtors[creditor].push((idx, d));
            for _ in 0..1 + self.rng.below(2) {
                let back = self.rng.below(60) as i64;
                opening.push((idx, day_after(self.spec.start, -back)?));
            }
        }
        let mut new_invoices: Vec<Vec<(usize, NewInvoice)>> = vec![Vec::new(), Vec::new()];
        for (idx, issue) in opening {
            let (inv_idx, inv) = self.issue(idx, issue)?;
            let c = self.debtors[idx].creditor;
            new_invoices[c].push((inv_idx, inv));
        }
        for c in 0..self.creds.len() {
            let debtors = std::mem::take(&mut new_debtors[c]);
            let invoices = std::mem::take(&mut new_invoices[c]);
            self.import(c, &debtors, &invoices)?;
        }
        Ok(())
    }

    /// A new invoice for debtor `idx` issued on `issue` (added to the model; its id comes with
    /// the import).
    fn issue(&mut self, idx: usize, issue: Date) -> anyhow::Result<(usize, NewInvoice)> {
        let business = self.debtors[idx].kind == DebtorKind::Business;
        let terms: i64 = if business {
            *self.rng.pick(&[14, 30, 30, 60])
        } else {
            14
        };
        let due = day_after(issue, terms)?;
        let gross: i64 = match self.rng.below(10) {
            0..=5 => 2_500 + self.rng.below(50_000) as i64,
            6..=8 => 50_000 + self.rng.below(450_000) as i64,
            _ => 500_000 + self.rng.below(5_000_000) as i64,
        };
        let lead = self.rng.below(6) as i64;
        let pay_on = if self.debtors[idx].behaviour == Behaviour::OnTime {
            Some(day_after(due, -lead)?.max(issue))
        } else {
            None
        };
        self.invoice_seq += 1;
        let number = format!("S{}-{:08}", self.spec.seed % 1_000_000, self.invoice_seq);
        let inv = NewInvoice {
            number: InvoiceNumber::parse(&number).map_err(|e| anyhow!("{e}"))?,
            kind: DocumentKind::Invoice,
            issue_date: issue,
            due_date: Some(due),
            due_date_source: Some(DueDateSource::Stated),
            payment_terms_days: None,
            currency: Currency::EUR,
            net_amount: Money::eur_cents(gross),
            vat_amount: Money::eur_cents(0),
            gross_amount: Money::eur_cents(gross),
            paid_amount: Money::eur_cents(0),
            payment_reference: None,
            contractual_interest_rate: None,
            corrects: None,
            description: Some("Levering".into()),
            lines: vec![InvoiceLine {
                description: "Levering".into(),
                quantity: "1".into(),
                net_amount: Money::eur_cents(gross),
                vat_percent: None,
            }],
            attachment: None,
        };
        let inv_idx = self.invoices.len();
        self.invoices.push(Inv {
            id: InvoiceId::new(0),
            debtor: idx,
            issue,
            due,
            gross,
            open: gross,
            pay_on,
            paid_on: None,
        });
        self.debtors[idx].invoices.push(inv_idx);
        self.report.invoices_issued += 1;
        self.report.invoiced_cents += gross;
        self.open_total += i128::from(gross);
        self.sales += i128::from(gross);
        Ok((inv_idx, inv))
    }

    /// Imports new debtors and invoices of creditor `c` through `Store::import`.
    fn import(
        &mut self,
        c: usize,
        debtors: &[(usize, NewDebtor)],
        invoices: &[(usize, NewInvoice)],
    ) -> anyhow::Result<()> {
        if debtors.is_empty() && invoices.is_empty() {
            return Ok(());
        }
        self.import_seq += 1;
        let file = ImportFile {
            format: "csv".into(),
            filename: format!("simulation-{}.csv", self.import_seq),
            sha256: format!(
                "{:016x}{:016x}{:016x}{:016x}",
                self.spec.seed, c as u64, self.import_seq, 0x51u64
            ),
        };
        let tenant = self.creds[c].creditor.id;
        let mut new_ids: Vec<DebtorId> = Vec::new();
        let mut inv_ids: Vec<InvoiceId> = Vec::new();
        let known: Vec<DebtorId> = invoices
            .iter()
            .map(|(i, _)| self.debtors[self.invoices[*i].debtor].id)
            .collect();
        let debtor_pos: HashMap<usize, usize> = debtors
            .iter()
            .enumerate()
            .map(|(pos, (idx, _))| (*idx, pos))
            .collect();
        let owners: Vec<usize> = invoices
            .iter()
            .map(|(i, _)| self.invoices[*i].debtor)
            .collect();
        let store = self.h.store()?;
        store
            .import(tenant, &file, &mut |sink| {
                let list: Vec<NewDebtor> = debtors.iter().map(|(_, d)| d.clone()).collect();
                new_ids = if list.is_empty() {
                    Vec::new()
                } else {
                    sink.insert_debtors(&list)?
                };
                let mut pairs: Vec<(DebtorId, &NewInvoice)> = Vec::with_capacity(invoices.len());
                for (k, (_, inv)) in invoices.iter().enumerate() {
                    let owner = owners[k];
                    let id = match debtor_pos.get(&owner) {
                        Some(pos) => new_ids[*pos],
                        None => known[k],
                    };
                    pairs.push((id, inv));
                }
                inv_ids = sink.insert_invoices(&pairs)?;
                Ok(ImportCounts {
                    debtors_created: list.len() as i64,
                    invoices_created: inv_ids.len() as i64,
                    ..ImportCounts::default()
                })
            })
            .map_err(e)
            .context("importing the simulation's invoices")?;
        for ((idx, _), id) in debtors.iter().zip(&new_ids) {
            self.debtors[*idx].id = *id;
            self.creds[c].by_debtor_id.insert(*id, *idx);
        }
        if inv_ids.len() != invoices.len() {
            anyhow::bail!(
                "the import returned {} invoice ids for {} invoices",
                inv_ids.len(),
                invoices.len()
            );
        }
        for ((i, _), id) in invoices.iter().zip(&inv_ids) {
            self.invoices[*i].id = *id;
        }
        Ok(())
    }

    fn overdue_open(&self, idx: usize, today: Date) -> i64 {
        self.debtors[idx]
            .invoices
            .iter()
            .map(|i| &self.invoices[*i])
            .filter(|i| i.due < today && i.open > 0)
            .map(|i| i.open)
            .sum()
    }

    /// The debtor pays `amount` (at most what is open), allocated to the principal of their open
    /// invoices, oldest first, exactly conserving the payment.
    fn pay(&mut self, idx: usize, amount: i64, today: Date) -> anyhow::Result<()> {
        let mut open: Vec<usize> = self.debtors[idx]
            .invoices
            .iter()
            .copied()
            .filter(|i| self.invoices[*i].open > 0)
            .collect();
        open.sort_by_key(|i| (self.invoices[*i].due, self.invoices[*i].issue, *i));
        let total: i64 = open.iter().map(|i| self.invoices[*i].open).sum();
        let amount = amount.min(total);
        if amount <= 0 {
            return Ok(());
        }
        let c = self.debtors[idx].creditor;
        let tenant = self.creds[c].creditor.id;
        let debtor_id = self.debtors[idx].id;
        let store = self.h.store()?;
        let payment = store
            .record_payment(
                tenant,
                &NewPayment {
                    debtor_id: Some(debtor_id),
                    received_on: today,
                    amount: Money::eur_cents(amount),
                    reference: None,
                    counterparty_iban: None,
                    description: Some("simulated payment".into()),
                    source: "manual".into(),
                    reverses: None,
                },
            )
            .map_err(e)?;
        let mut left = amount;
        let mut allocations = Vec::new();
        let mut touched = Vec::new();
        for i in open {
            if left == 0 {
                break;
            }
            let take = left.min(self.invoices[i].open);
            allocations.push(NewAllocation {
                payment_id: payment,
                invoice_id: self.invoices[i].id,
                component: Component::Principal,
                amount: Money::eur_cents(take),
                reverses: None,
            });
            touched.push((i, take));
            left -= take;
        }
        let store = self.h.store()?;
        store.record_allocations(tenant, &allocations).map_err(e)?;
        for (i, take) in &touched {
            let inv = &mut self.invoices[*i];
            inv.open -= take;
            if inv.open == 0 {
                inv.paid_on = Some(today);
            }
        }
        self.open_total -= i128::from(amount);
        self.report.payments += 1;
        self.report.collected_cents += amount;
        let step = self.creds[c]
            .open_case
            .get(&idx)
            .and_then(|case| self.creds[c].last_step.get(case))
            .cloned()
            .unwrap_or_else(|| "before_any_action".to_string());
        *self.report.recovered_by_step.entry(step).or_insert(0) += amount;
        self.todays_payments.push((
            c,
            payment,
            amount,
            touched.into_iter().map(|(i, _)| i).collect(),
        ));
        Ok(())
    }

    fn day(&mut self, day: u32, today: Date) -> anyhow::Result<()> {
        self.todays_payments.clear();
        // New invoices now and then.
        let mut new_invoices: Vec<Vec<(usize, NewInvoice)>> = vec![Vec::new(), Vec::new()];
        for idx in 0..self.debtors.len() {
            let every = if self.debtors[idx].kind == DebtorKind::Business {
                30
            } else {
                60
            };
            if self.rng.below(every) == 0 {
                let (i, inv) = self.issue(idx, today)?;
                new_invoices[self.debtors[idx].creditor].push((i, inv));
            }
        }
        for (c, invoices) in new_invoices.into_iter().enumerate() {
            self.import(c, &[], &invoices)?;
        }
        // Debtors act.
        for idx in 0..self.debtors.len() {
            self.act(idx, today)?;
        }
        // The run and the dispatch per creditor, maybe interrupted by a crash.
        let crash = if self.crash_rng.chance(self.spec.crash_percent) {
            let kind = match self.crash_rng.below(3) {
                0 => Crash::MidRun,
                1 => Crash::AfterRun,
                _ => Crash::MidDispatch,
            };
            let c = self.crash_rng.below(self.creds.len() as u64) as usize;
            Some((c, kind))
        } else {
            None
        };
        for c in 0..self.creds.len() {
            match crash {
                Some((cc, kind)) if cc == c => {
                    self.report.crashes += 1;
                    *self
                        .report
                        .crashes_by_kind
                        .entry(kind.name().to_string())
                        .or_insert(0) += 1;
                    match kind {
                        Crash::MidRun => {
                            let at = 1 + self.crash_rng.below(self.creds[c].last_evaluated.max(1));
                            self.run_until_crash(c, today, at)?;
                        }
                        Crash::AfterRun => {
                            self.run_day(c, today)?;
                        }
                        Crash::MidDispatch => {
                            self.run_day(c, today)?;
                            if self.post_goes_out(c, today) {
                                let actions = self.read_actions(c)?;
                                self.dispatch(c, today, &actions, true)?;
                            }
                        }
                    }
                    // The restart: a new connection, the same date again.
                    self.h.reopen()?;
                    self.run_day(c, today)?;
                }
                _ => {
                    self.run_day(c, today)?;
                }
            }
            if c == 0
                && let Some(f) = self.fault
            {
                self.inject(f, day, today)?;
            }
            // Check what the run wrote, then dispatch what it queued.
            let actions = self.read_actions(c)?;
            self.check_day(c, day, today, &actions)?;
            if self.post_goes_out(c, today) {
                self.dispatch(c, today, &actions, false)?;
            }
        }
        let full = (day + 1).is_multiple_of(30) && self.invoices.len() <= 50_000;
        if full {
            for c in 0..self.creds.len() {
                self.check_ledger(c, day, today)?;
            }
        }
        self.ar_sum += self.open_total;
        Ok(())
    }

    fn act(&mut self, idx: usize, today: Date) -> anyhow::Result<()> {
        if self.debtors[idx].behaviour == Behaviour::OnTime {
            let due_now: i64 = self.debtors[idx]
                .invoices
                .iter()
                .map(|i| &self.invoices[*i])
                .filter(|i| i.open > 0 && i.pay_on.is_some_and(|d| d <= today))
                .map(|i| i.open)
                .sum();
            if due_now > 0 {
                self.pay(idx, due_now, today)?;
            }
        }
        let Some(plan) = self.debtors[idx].plan else {
            return Ok(());
        };
        if plan.on() > today {
            return Ok(());
        }
        self.debtors[idx].plan = None;
        let c = self.debtors[idx].creditor;
        match plan {
            Plan::PayAll(_) => {
                let amount = self.overdue_open(idx, today);
                self.pay(idx, amount, today)?;
            }
            Plan::PayPart(_, percent) => {
                let amount = self.overdue_open(idx, today) * percent / 100;
                self.pay(idx, amount, today)?;
            }
            Plan::Instalment(_, amount) => {
                let open = self.overdue_open(idx, today);
                self.pay(idx, amount.min(open), today)?;
                if self.overdue_open(idx, today) > 0 {
                    self.debtors[idx].plan = Some(Plan::Instalment(day_after(today, 14)?, amount));
                }
            }
            Plan::Dispute(_) => {
                let Some(case) = self.creds[c].open_case.get(&idx).copied() else {
                    return Ok(());
                };
                if self.overdue_open(idx, today) == 0 {
                    return Ok(());
                }
                let tenant = self.creds[c].creditor.id;
                let store = self.h.store()?;
                store
                    .change_case(
                        tenant,
                        case,
                        &CaseChange {
                            pause: Some(Some((
                                PauseReason::Dispute.code().to_string(),
                                None,
                                "the debtor disputes the delivery (simulated)".into(),
                            ))),
                            ..CaseChange::default()
                        },
                        &CaseEvent {
                            on: today,
                            kind: "dispute".into(),
                            text: "the debtor disputes the delivery (simulated)".into(),
                        },
                    )
                    .map_err(e)?;
                self.creds[c].paused.insert(case);
                self.report.disputes += 1;
                let lift = day_after(today, 20 + self.rng.below(21) as i64)?;
                self.debtors[idx].plan = Some(Plan::Lift(lift, case));
            }
            Plan::Lift(_, case) => {
                let tenant = self.creds[c].creditor.id;
                let next = day_after(today, 1)?;
                let store = self.h.store()?;
                store
                    .change_case(
                        tenant,
                        case,
                        &CaseChange {
                            pause: Some(None),
                            resumed_on: Some(next),
                            ..CaseChange::default()
                        },
                        &CaseEvent {
                            on: today,
                            kind: "resume".into(),
                            text: format!("dispute resolved; the ladder resumes on {next}"),
                        },
                    )
                    .map_err(e)?;
                self.creds[c].paused.remove(&case);
                self.debtors[idx].disputed = true;
            }
        }
        Ok(())
    }

    /// How debtor `idx` reacts to a letter of step `step` sent on `today`.
    fn react(&mut self, idx: usize, step: &str, today: Date) -> anyhow::Result<()> {
        if self.debtors[idx].plan.is_some() {
            return Ok(());
        }
        let behaviour = if self.debtors[idx].disputed {
            Behaviour::AfterNotice
        } else {
            self.debtors[idx].behaviour
        };
        let class = class_of(step);
        let plan = match (behaviour, class) {
            (Behaviour::AfterReminder, StepClass::Reminder) => Some(Plan::PayAll(day_after(
                today,
                1 + self.rng.below(5) as i64,
            )?)),
            (Behaviour::AfterNotice | Behaviour::Partial, StepClass::Notice) => Some(Plan::PayAll(
                day_after(today, 1 + self.rng.below(10) as i64)?,
            )),
            (Behaviour::AfterHandover, StepClass::Handover) => Some(Plan::PayAll(day_after(
                today,
                3 + self.rng.below(20) as i64,
            )?)),
            (Behaviour::Partial, StepClass::Reminder) => Some(Plan::PayPart(
                day_after(today, 1 + self.rng.below(5) as i64)?,
                30 + self.rng.below(41) as i64,
            )),
            (Behaviour::Instalments, StepClass::Reminder) => {
                let open = self.overdue_open(idx, today);
                Some(Plan::Instalment(
                    day_after(today, 1 + self.rng.below(5) as i64)?,
                    (open + 2) / 3,
                ))
            }
            (Behaviour::Disputes, StepClass::Reminder) => Some(Plan::Dispute(day_after(
                today,
                1 + self.rng.below(3) as i64,
            )?)),
            _ => None,
        };
        self.debtors[idx].plan = plan;
        Ok(())
    }

    fn refresh_cases(&mut self, c: usize) -> anyhow::Result<()> {
        let tenant = self.creds[c].creditor.id;
        let store = self.h.store()?;
        let cases = store.cases(tenant, true).map_err(e)?;
        let cred = &mut self.creds[c];
        cred.open_case.clear();
        for case in cases {
            let Some(idx) = cred.by_debtor_id.get(&case.debtor_id).copied() else {
                anyhow::bail!(
                    "case {} belongs to an unknown debtor {}",
                    case.id,
                    case.debtor_id
                );
            };
            cred.open_case.insert(idx, case.id);
            cred.case_debtor.insert(case.id, idx);
            cred.case_opened.insert(case.id, case.opened_on);
        }
        Ok(())
    }

    fn options(today: Date) -> RunOptions {
        RunOptions {
            date: today,
            dry_run: false,
            force: true,
        }
    }

    fn run_day(&mut self, c: usize, today: Date) -> anyhow::Result<()> {
        let creditor = self.creds[c].creditor.clone();
        let store = self.h.store()?;
        let summary = run(store, &creditor, Self::options(today), &mut |_| {})
            .with_context(|| format!("the run of {today}"))?;
        self.creds[c].last_evaluated = summary.cases_evaluated;
        self.refresh_cases(c)
    }

    /// The run, interrupted after `at` evaluated debtors (a panic inside the progress callback,
    /// outside any transaction: what was committed stays).
    fn run_until_crash(&mut self, c: usize, today: Date, at: u64) -> anyhow::Result<()> {
        let creditor = self.creds[c].creditor.clone();
        let store = self.h.store()?;
        let result = catch_unwind(AssertUnwindSafe(|| {
            run(store, &creditor, Self::options(today), &mut |n| {
                if n >= at {
                    panic_any(SimCrash);
                }
            })
        }));
        match result {
            Ok(summary) => {
                // The run finished before the crash point: the crash came right after it.
                summary?;
            }
            Err(payload) => {
                if !payload.is::<SimCrash>() {
                    resume_unwind(payload);
                }
            }
        }
        Ok(())
    }

    /// Marks queued actions sent today (all, or the first half when `half`), and lets the
    /// debtors react.
    fn dispatch(
        &mut self,
        c: usize,
        today: Date,
        actions: &[ActionRow],
        half: bool,
    ) -> anyhow::Result<()> {
        let tenant = self.creds[c].creditor.id;
        let mut queued: Vec<&ActionRow> = actions
            .iter()
            .filter(|a| a.action.status == ActionStatus::Queued)
            .collect();
        queued.sort_by_key(|a| a.id);
        if half {
            queued.truncate(queued.len() / 2);
        }
        for a in queued {
            let store = self.h.store()?;
            store
                .set_action_status(
                    tenant,
                    a.id,
                    ActionStatus::Sent,
                    Some(today),
                    "dispatched by the simulation",
                )
                .map_err(e)?;
            self.report.actions_sent += 1;
            *self
                .report
                .sent_by_step
                .entry(a.action.step_id.clone())
                .or_insert(0) += 1;
            self.creds[c]
                .last_step
                .insert(a.case_id, a.action.step_id.clone());
            let idx = match self.creds[c].case_debtor.get(&a.case_id) {
                Some(i) => *i,
                None => {
                    let store = self.h.store()?;
                    let case = store.case(tenant, a.case_id).map_err(e)?;
                    let Some(i) = self.creds[c].by_debtor_id.get(&case.debtor_id).copied() else {
                        anyhow::bail!("action {} of an unknown debtor", a.id);
                    };
                    self.creds[c].case_debtor.insert(a.case_id, i);
                    i
                }
            };
            self.react(idx, &a.action.step_id, today)?;
        }
        Ok(())
    }

    /// The open amount of the creditor's invoices (of one debtor) as the store has it.
    fn stored_open(
        &mut self,
        c: usize,
        debtor: Option<DebtorId>,
    ) -> anyhow::Result<HashMap<i64, i64>> {
        let tenant = self.creds[c].creditor.id;
        let store = self.h.store()?;
        let mut out = HashMap::new();
        store
            .for_each_invoice(
                tenant,
                &InvoiceFilter {
                    debtor,
                    ..InvoiceFilter::default()
                },
                &mut |row| {
                    out.insert(row.id.get(), row.open_amount.minor());
                    Ok(())
                },
            )
            .map_err(e)?;
        Ok(out)
    }

    /// The dispatcher works on the creditor's business days only: what the run queues on a
    /// weekend or holiday waits (and is cancelled if the debtor pays first).
    fn post_goes_out(&self, c: usize, today: Date) -> bool {
        match self.creds[c].creditor.details.jurisdiction {
            Jurisdiction::Nl => BusinessCalendar::netherlands_atw().is_business_day(today),
            Jurisdiction::Be => BusinessCalendar::belgium().is_business_day(today),
        }
    }

    fn read_actions(&mut self, c: usize) -> anyhow::Result<Vec<ActionRow>> {
        let tenant = self.creds[c].creditor.id;
        let store = self.h.store()?;
        store.actions(tenant, None).map_err(e)
    }

    /// The invariants of one creditor after the day's run (before the dispatch).
    fn check_day(
        &mut self,
        c: usize,
        day: u32,
        today: Date,
        actions: &[ActionRow],
    ) -> anyhow::Result<()> {
        let ctx = Ctx { day, date: today };
        let tenant = self.creds[c].creditor.id;
        let jurisdiction = self.creds[c].creditor.details.jurisdiction;
        let vat_deductible = self.creds[c].creditor.details.vat_deductible;
        let mut checks = check::no_action_twice(ctx, actions)?;
        let mut by_case: HashMap<i64, Vec<&ActionRow>> = HashMap::new();
        for a in actions {
            by_case.entry(a.case_id).or_default().push(a);
        }
        let mut new: Vec<&ActionRow> = actions
            .iter()
            .filter(|a| !self.creds[c].seen_actions.contains(&a.id))
            .collect();
        new.sort_by_key(|a| a.id);
        for a in &new {
            let Some(idx) = self.creds[c].case_debtor.get(&a.case_id).copied() else {
                return Err(ctx
                    .fail(
                        Some(a.case_id),
                        "no_action_for_paid_case",
                        format!(
                            "action {} belongs to a case the simulation never saw open",
                            a.id
                        ),
                    )
                    .into());
            };
            if a.action.created_on != today {
                return Err(ctx
                    .fail(
                        Some(a.case_id),
                        "no_action_twice",
                        format!(
                            "action {} appeared today but says it was created on {}",
                            a.id, a.action.created_on
                        ),
                    )
                    .into());
            }
            checks += 1;
            if self.overdue_open(idx, today) == 0 {
                return Err(ctx
                    .fail(
                        Some(a.case_id),
                        "no_action_for_paid_case",
                        format!(
                            "action {} ({}) was created although the debtor has nothing overdue",
                            a.id, a.action.step_id
                        ),
                    )
                    .into());
            }
            checks += 1;
            if self.creds[c].paused.contains(&a.case_id) {
                return Err(ctx
                    .fail(
                        Some(a.case_id),
                        "no_action_for_paused_case",
                        format!(
                            "action {} ({}) was created while the case is paused (dispute)",
                            a.id, a.action.step_id
                        ),
                    )
                    .into());
            }
            checks += 1;
            let kind = self.debtors[idx].kind;
            if jurisdiction == Jurisdiction::Nl && kind == DebtorKind::Consumer {
                let case_actions = by_case.get(&a.case_id).cloned().unwrap_or_default();
                checks += check::consumer_costs_after_term(ctx, a, &case_actions)?;
            }
            if a.action.costs.is_some() {
                let opened = self.creds[c]
                    .case_opened
                    .get(&a.case_id)
                    .copied()
                    .unwrap_or(today);
                let claims: Vec<&Inv> = self.debtors[idx]
                    .invoices
                    .iter()
                    .map(|i| &self.invoices[*i])
                    .filter(|i| i.due < today && i.paid_on.is_none_or(|p| p >= opened))
                    .collect();
                let principals: Vec<i64> = claims.iter().map(|i| i.gross).collect();
                let oldest = claims.iter().map(|i| i.due).min().unwrap_or(today);
                let years = i64::from(days_between(oldest, today).max(0)) / 365;
                let cap = check::costs_cap(jurisdiction, kind, &principals, years, vat_deductible)?;
                checks += check::costs_within_cap(ctx, a, jurisdiction, cap)?;
            }
        }
        // Nothing waits to go out on a closed case (paid cases cancel what is pending).
        let open: HashSet<i64> = self.creds[c].open_case.values().copied().collect();
        for a in actions {
            if matches!(a.action.status, ActionStatus::Queued | ActionStatus::Held) {
                checks += 1;
                if !open.contains(&a.case_id) {
                    return Err(ctx
                        .fail(
                            Some(a.case_id),
                            "no_pending_action_on_closed_case",
                            format!(
                                "action {} ({}) is {} but its case is closed",
                                a.id,
                                a.action.step_id,
                                a.action.status.code()
                            ),
                        )
                        .into());
                }
            }
        }
        let ids: Vec<i64> = new.iter().map(|a| a.id).collect();
        self.creds[c].seen_actions.extend(ids);

        // Today's payments: each allocated exactly, the invoices' open amounts as paid.
        let todays: Vec<(PaymentId, i64, Vec<usize>)> = self
            .todays_payments
            .iter()
            .filter(|(pc, ..)| *pc == c)
            .map(|(_, p, a, i)| (*p, *a, i.clone()))
            .collect();
        let mut touched: Vec<usize> = todays.iter().flat_map(|(_, _, i)| i.clone()).collect();
        touched.sort_unstable();
        touched.dedup();
        let payments: HashMap<i64, i64> = todays.iter().map(|(p, a, _)| (p.get(), *a)).collect();
        let mut allocated: HashMap<i64, i64> = HashMap::new();
        let mut payers: Vec<DebtorId> = touched
            .iter()
            .map(|i| self.debtors[self.invoices[*i].debtor].id)
            .collect();
        payers.sort_unstable_by_key(|d| d.get());
        payers.dedup();
        let mut stored_open: HashMap<i64, i64> = HashMap::new();
        for d in payers {
            stored_open.extend(self.stored_open(c, Some(d))?);
        }
        for i in &touched {
            let (id, model_open) = (self.invoices[*i].id, self.invoices[*i].open);
            let store = self.h.store()?;
            for row in store.allocations(tenant, id).map_err(e)? {
                let p = row.allocation.payment_id.get();
                if payments.contains_key(&p) {
                    *allocated.entry(p).or_insert(0) += row.allocation.amount.minor();
                }
            }
            let stored = stored_open.get(&id.get()).copied().unwrap_or(-1);
            checks += 1;
            if stored != model_open {
                return Err(ctx
                    .fail(
                        None,
                        "open_amount_consistent",
                        format!(
                            "invoice {id} is open for {} in the store, the debtor paid down to {}",
                            Money::eur_cents(stored),
                            Money::eur_cents(model_open)
                        ),
                    )
                    .into());
            }
        }
        checks += check::payments_allocated_exactly(ctx, &payments, &allocated)?;
        self.report.invariant_checks += checks;
        Ok(())
    }

    /// The whole ledger of one creditor: every payment allocated exactly once, every invoice's
    /// open amount equal to its gross amount minus its principal allocations and to the model.
    fn check_ledger(&mut self, c: usize, day: u32, today: Date) -> anyhow::Result<()> {
        let ctx = Ctx { day, date: today };
        let tenant = self.creds[c].creditor.id;
        let store = self.h.store()?;
        let payments: HashMap<i64, i64> = store
            .payments(tenant)
            .map_err(e)?
            .into_iter()
            .map(|p| (p.id.get(), p.payment.amount.minor()))
            .collect();
        let mut allocated: HashMap<i64, i64> = HashMap::new();
        let mut checks = 0u64;
        let stored_open = self.stored_open(c, None)?;
        for inv in self
            .invoices
            .iter()
            .filter(|i| self.debtors[i.debtor].creditor == c)
        {
            let store = self.h.store()?;
            let mut principal = 0i64;
            for row in store.allocations(tenant, inv.id).map_err(e)? {
                *allocated
                    .entry(row.allocation.payment_id.get())
                    .or_insert(0) += row.allocation.amount.minor();
                if row.allocation.component == Component::Principal {
                    principal += row.allocation.amount.minor();
                }
            }
            let stored = stored_open.get(&inv.id.get()).copied().unwrap_or(-1);
            checks += 1;
            if stored != inv.gross - principal || stored != inv.open {
                return Err(ctx
                    .fail(
                        None,
                        "open_amount_consistent",
                        format!(
                            "invoice {} of {}: open {} in the store, allocations leave {}, the debtor paid down to {}",
                            inv.id,
                            Money::eur_cents(inv.gross),
                            Money::eur_cents(stored),
                            Money::eur_cents(inv.gross - principal),
                            Money::eur_cents(inv.open)
                        ),
                    )
                    .into());
            }
        }
        checks += check::payments_allocated_exactly(ctx, &payments, &allocated)?;
        self.report.invariant_checks += checks;
        Ok(())
    }

    fn inject(&mut self, fault: Fault, day: u32, today: Date) -> anyhow::Result<()> {
        let tenant = self.creds[0].creditor.id;
        match fault {
            Fault::DuplicateAction { day: d } if d == day => {
                let store = self.h.store()?;
                let actions = store.actions(tenant, None).map_err(e)?;
                let Some(first) = actions.iter().min_by_key(|a| a.id) else {
                    anyhow::bail!("fault injection: no action exists yet on day {day}");
                };
                let mut forged: NewAction = first.action.clone();
                forged.idempotency_key = format!("{}:forged", forged.idempotency_key);
                forged.created_on = today;
                forged.status = ActionStatus::Sent;
                store
                    .apply_run(
                        tenant,
                        &RunBatch {
                            actions: vec![(CaseRef::Existing(first.case_id), forged)],
                            ..RunBatch::default()
                        },
                    )
                    .map_err(e)?;
            }
            Fault::NonConservingAllocation { day: d } if d == day => {
                let Some(inv) = self.invoices.iter().find(|i| {
                    // A debtor who never pays: the forged payment stays unnoticed by the
                    // debtors' own payments until the ledger check finds it.
                    i.open > 1_000
                        && self.debtors[i.debtor].creditor == 0
                        && self.debtors[i.debtor].behaviour == Behaviour::Never
                }) else {
                    anyhow::bail!("fault injection: no open invoice on day {day}");
                };
                let (invoice_id, debtor_id) = (inv.id, self.debtors[inv.debtor].id);
                let store = self.h.store()?;
                let p = store
                    .record_payment(
                        tenant,
                        &NewPayment {
                            debtor_id: Some(debtor_id),
                            received_on: today,
                            amount: Money::eur_cents(1_000),
                            reference: None,
                            counterparty_iban: None,
                            description: Some("forged".into()),
                            source: "manual".into(),
                            reverses: None,
                        },
                    )
                    .map_err(e)?;
                store
                    .record_allocations(
                        tenant,
                        &[NewAllocation {
                            payment_id: p,
                            invoice_id,
                            component: Component::Principal,
                            amount: Money::eur_cents(999),
                            reverses: None,
                        }],
                    )
                    .map_err(e)?;
            }
            Fault::CostsBeforeTerm { day: d } if d == day => {
                let store = self.h.store()?;
                let actions = store.actions(tenant, None).map_err(e)?;
                let with_letter: HashSet<i64> = actions
                    .iter()
                    .filter(|a| a.action.template == "fourteen_day_letter")
                    .map(|a| a.case_id)
                    .collect();
                let mut candidates: Vec<(usize, i64)> = self.creds[0]
                    .open_case
                    .iter()
                    .filter(|(idx, case)| {
                        self.debtors[**idx].kind == DebtorKind::Consumer
                            && !with_letter.contains(case)
                            && !self.creds[0].paused.contains(case)
                            && self.overdue_open(**idx, today) > 0
                    })
                    .map(|(i, c)| (*i, *c))
                    .collect();
                candidates.sort_unstable();
                let Some((_, case)) = candidates.first().copied() else {
                    anyhow::bail!("fault injection: no open consumer case on day {day}");
                };
                let store = self.h.store()?;
                store
                    .apply_run(
                        tenant,
                        &RunBatch {
                            actions: vec![(
                                CaseRef::Existing(case),
                                NewAction {
                                    idempotency_key: format!("forged:{case}:costs"),
                                    policy_name: "forged".into(),
                                    policy_version: 1,
                                    step_id: "final_demand".into(),
                                    template: "final_demand".into(),
                                    channels: "post".into(),
                                    status: ActionStatus::Queued,
                                    status_reason: String::new(),
                                    created_on: today,
                                    deadline: today,
                                    principal: Money::eur_cents(10_000),
                                    interest: None,
                                    costs: Some(Money::eur_cents(4_000)),
                                    total: Money::eur_cents(14_000),
                                    why: "forged".into(),
                                },
                            )],
                            ..RunBatch::default()
                        },
                    )
                    .map_err(e)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        let last_day = self.spec.days.saturating_sub(1);
        let last = day_after(self.spec.start, i64::from(last_day))?;
        for c in 0..self.creds.len() {
            self.check_ledger(c, last_day, last)?;
            let tenant = self.creds[c].creditor.id;
            let store = self.h.store()?;
            let cases = store.cases(tenant, false).map_err(e)?;
            self.report.cases_opened += cases.len() as u64;
            self.report.cases_closed_paid +=
                cases.iter().filter(|c| c.state == "paid").count() as u64;
            // Counted in the store: a crashed run's summary is lost, its cancellations are not.
            self.report.actions_cancelled += store
                .actions(tenant, None)
                .map_err(e)?
                .iter()
                .filter(|a| a.action.status == ActionStatus::Cancelled)
                .count() as u64;
        }
        self.report.open_at_end_cents = i64::try_from(self.open_total)?;
        self.report.dso_tenths = if self.sales > 0 {
            i64::try_from(self.ar_sum * 10 / self.sales)?
        } else {
            0
        };
        Ok(())
    }
}
