//! A deterministic simulation of incasso's collection engine (tracker issue 4, "Simulation and
//! invariants").
//!
//! Synthetic creditors (one Dutch, one Belgian) issue invoices over time to synthetic debtors
//! (businesses and consumers) who behave in one of eight ways: they pay on time, after the
//! reminder, after the notice or fourteen-day letter, after the handover, partially, in
//! instalments, after a dispute (a paused case, lifted later), or never. Every simulated day the
//! debtors act (payments with allocations of principal, oldest invoice first), the daily run
//! ([`incasso_app::run::run`], `force: true`) decides, and a dispatcher marks every queued action
//! sent on the creditor's business days (what is queued on a weekend or holiday waits, and is
//! cancelled when the debtor pays first). Random crashes interrupt the day midway (inside the run, between the run and the
//! dispatch, or halfway through the dispatch); the day is then restarted, which must create
//! nothing twice.
//!
//! Invariants are checked every simulated day and fail loudly with an [`InvariantViolation`]
//! naming the day, the case and the invariant (see [`check`]).
//!
//! Nothing here reads the clock: every date comes from the [`SimSpec`], every random choice from
//! a seeded [`SplitMix64`]; money is integer cents. The [`SimReport`] is a pure function of the
//! spec.

pub mod check;
pub mod command;
mod world;

use std::collections::BTreeMap;
use std::fmt;

use incasso_calendar::Date;
use incasso_store::Store;

pub use check::InvariantViolation;
pub use command::{SimulateArgs, run_command};
pub use incasso_app::demo::SplitMix64;

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimSpec {
    /// Debtors in total (about 85% at the Dutch creditor, 15% at the Belgian one).
    pub debtors: u64,
    /// Calendar days to simulate, starting with `start`.
    pub days: u32,
    pub seed: u64,
    /// The first simulated day.
    pub start: Date,
    /// The chance (0–100) that a day's work is interrupted by a crash and restarted.
    pub crash_percent: u64,
}

/// A deliberately broken fact, injected through the store on `day` (0-based) after the
/// dispatch, to prove that the invariant checker fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A second action for a step that was already created, under a different key.
    DuplicateAction { day: u32 },
    /// A payment of €10.00 of which only €9.99 is allocated.
    NonConservingAllocation { day: u32 },
    /// Collection costs charged to a Dutch consumer whose fourteen-day letter was never sent.
    CostsBeforeTerm { day: u32 },
}

/// What a simulation did. Money is in euro cents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimReport {
    pub debtors: u64,
    pub days: u32,
    pub seed: u64,
    pub start: String,
    pub crash_percent: u64,
    /// Debtors by behaviour.
    pub behaviours: BTreeMap<String, u64>,
    pub invoices_issued: u64,
    pub invoiced_cents: i64,
    pub payments: u64,
    pub collected_cents: i64,
    /// Open receivables after the last day.
    pub open_at_end_cents: i64,
    /// Actions sent (dispatched), by step id.
    pub sent_by_step: BTreeMap<String, u64>,
    /// Amount collected, by the last step sent on the debtor's case before the payment
    /// (`before_any_action` when no case was open or nothing had been sent yet).
    pub recovered_by_step: BTreeMap<String, i64>,
    /// Days sales outstanding in tenths of a day (average-balance method):
    /// `DSO = (Σ over simulated days of the open receivables at the end of the day) / (gross
    /// amount of all invoices of the simulation)`, that is the average receivables balance
    /// divided by the average daily sales over the simulated period. Invoices issued before
    /// `start` (the opening ledger) count as sales. Integer arithmetic, truncated to 0.1 day.
    pub dso_tenths: i64,
    pub actions_sent: u64,
    pub actions_cancelled: u64,
    pub cases_opened: u64,
    pub cases_closed_paid: u64,
    pub disputes: u64,
    /// Individual invariant checks performed (one per fact checked).
    pub invariant_checks: u64,
    pub crashes: u64,
    /// Crashes by where the day was interrupted.
    pub crashes_by_kind: BTreeMap<String, u64>,
}

fn euros(cents: i64) -> String {
    incasso_money::Money::eur_cents(cents).to_decimal_string()
}

impl SimReport {
    /// DSO as text with one decimal.
    pub fn dso(&self) -> String {
        format!("{}.{}", self.dso_tenths / 10, self.dso_tenths % 10)
    }

    /// The report as JSON (money as decimal strings).
    pub fn to_json(&self) -> serde_json::Value {
        let money_map = |m: &BTreeMap<String, i64>| {
            m.iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(euros(*v))))
                .collect::<serde_json::Map<_, _>>()
        };
        serde_json::json!({
            "debtors": self.debtors,
            "days": self.days,
            "seed": self.seed,
            "start": self.start,
            "crash_percent": self.crash_percent,
            "behaviours": self.behaviours,
            "invoices_issued": self.invoices_issued,
            "invoiced": euros(self.invoiced_cents),
            "payments": self.payments,
            "collected": euros(self.collected_cents),
            "open_at_end": euros(self.open_at_end_cents),
            "sent_by_step": self.sent_by_step,
            "recovered_by_step": money_map(&self.recovered_by_step),
            "dso_days": self.dso(),
            "actions_sent": self.actions_sent,
            "actions_cancelled": self.actions_cancelled,
            "cases_opened": self.cases_opened,
            "cases_closed_paid": self.cases_closed_paid,
            "disputes": self.disputes,
            "invariant_checks": self.invariant_checks,
            "crashes": self.crashes,
            "crashes_by_kind": self.crashes_by_kind,
        })
    }
}

impl fmt::Display for SimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "simulation: {} debtors x {} days from {}, seed {}, crash chance {}% per day",
            self.debtors, self.days, self.start, self.seed, self.crash_percent
        )?;
        let behaviours: Vec<String> = self
            .behaviours
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(f, "behaviours: {}", behaviours.join(", "))?;
        writeln!(
            f,
            "invoices issued: {} (EUR {}); payments: {} (EUR {}); open at the end: EUR {}",
            self.invoices_issued,
            euros(self.invoiced_cents),
            self.payments,
            euros(self.collected_cents),
            euros(self.open_at_end_cents)
        )?;
        writeln!(
            f,
            "DSO: {} days (average open receivables / average daily sales)",
            self.dso()
        )?;
        writeln!(
            f,
            "cases opened: {}, closed as paid: {}; disputes: {}",
            self.cases_opened, self.cases_closed_paid, self.disputes
        )?;
        writeln!(
            f,
            "actions sent: {} (cancelled before dispatch: {})",
            self.actions_sent, self.actions_cancelled
        )?;
        let mut steps: Vec<&String> = self
            .sent_by_step
            .keys()
            .chain(self.recovered_by_step.keys())
            .collect();
        steps.sort();
        steps.dedup();
        writeln!(
            f,
            "  {:<22} {:>8} {:>16}",
            "step", "sent", "recovered after"
        )?;
        for s in steps {
            writeln!(
                f,
                "  {:<22} {:>8} {:>16}",
                s,
                self.sent_by_step.get(s).copied().unwrap_or(0),
                euros(self.recovered_by_step.get(s).copied().unwrap_or(0))
            )?;
        }
        let kinds: Vec<String> = self
            .crashes_by_kind
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            f,
            "crashes simulated: {}{}",
            self.crashes,
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({})", kinds.join(", "))
            }
        )?;
        write!(
            f,
            "invariant checks performed: {} (all passed)",
            self.invariant_checks
        )
    }
}

/// Where the simulation gets its store from. A crash drops the current connection and reopens
/// it when the handle can (a file or a server), or keeps it (a borrowed store).
pub(crate) trait StoreHandle {
    fn store(&mut self) -> anyhow::Result<&mut dyn Store>;
    fn reopen(&mut self) -> anyhow::Result<()>;
}

struct Borrowed<'a>(&'a mut dyn Store);

impl StoreHandle for Borrowed<'_> {
    fn store(&mut self) -> anyhow::Result<&mut dyn Store> {
        Ok(&mut *self.0)
    }
    fn reopen(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

struct Reopening<'a> {
    open: &'a mut dyn FnMut() -> anyhow::Result<Box<dyn Store>>,
    current: Option<Box<dyn Store>>,
}

impl StoreHandle for Reopening<'_> {
    fn store(&mut self) -> anyhow::Result<&mut dyn Store> {
        match self.current.as_mut() {
            Some(s) => Ok(s.as_mut()),
            None => anyhow::bail!("the store is closed"),
        }
    }
    fn reopen(&mut self) -> anyhow::Result<()> {
        // The old connection is dropped first, as a crashed process would lose it.
        self.current = None;
        self.current = Some((self.open)()?);
        Ok(())
    }
}

/// Runs the simulation on `store` (which should be empty of the simulation's creditors; other
/// tenants are left alone). A crash interrupts the day's work and restarts it on the same
/// connection.
pub fn simulate(spec: &SimSpec, store: &mut dyn Store) -> anyhow::Result<SimReport> {
    world::simulate(spec, &mut Borrowed(store), None)
}

/// As [`simulate`], but a crash drops the store and reopens it with `open` (a real restart:
/// nothing survives but what was committed).
pub fn simulate_reopening(
    spec: &SimSpec,
    open: &mut dyn FnMut() -> anyhow::Result<Box<dyn Store>>,
) -> anyhow::Result<SimReport> {
    let current = open()?;
    world::simulate(
        spec,
        &mut Reopening {
            open,
            current: Some(current),
        },
        None,
    )
}

/// As [`simulate`], with one deliberately broken fact injected: the run must fail with an
/// [`InvariantViolation`].
pub fn simulate_with_fault(
    spec: &SimSpec,
    store: &mut dyn Store,
    fault: Fault,
) -> anyhow::Result<SimReport> {
    world::simulate(spec, &mut Borrowed(store), Some(fault))
}
