//! The simulation end to end: a small run passes every invariant on a temporary SQLite file
//! (with real restarts: the store is dropped and reopened on every crash), the same seed gives the
//! same report, PostgreSQL gives the same report as SQLite, and forged facts are caught.

mod command;

use incasso_calendar::parse_iso;
use incasso_sim::{
    Fault, InvariantViolation, SimSpec, simulate, simulate_reopening, simulate_with_fault,
};
use incasso_store::Store;
use incasso_store_sqlite::SqliteStore;

fn spec(debtors: u64, days: u32) -> SimSpec {
    SimSpec {
        debtors,
        days,
        seed: 42,
        start: parse_iso("2025-01-01").expect("date"),
        crash_percent: 10,
    }
}

fn on_file(spec: &SimSpec) -> incasso_sim::SimReport {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sim.db");
    let mut open = || -> anyhow::Result<Box<dyn Store>> {
        Ok(Box::new(
            SqliteStore::open(&path).map_err(|e| anyhow::anyhow!("{e}"))?,
        ))
    };
    simulate_reopening(spec, &mut open).unwrap_or_else(|e| panic!("simulation failed: {e:#}"))
}

#[test]
fn small_simulation_passes_every_invariant_and_is_reproducible() {
    let spec = spec(200, 120);
    let first = on_file(&spec);
    println!("{first}");
    assert!(first.crashes > 0, "crashes on: {first}");
    assert!(first.actions_sent > 0, "{first}");
    assert!(first.invariant_checks > 1_000, "{first}");
    assert!(first.payments > 0 && first.collected_cents > 0);
    assert!(first.disputes > 0, "some debtors dispute: {first}");
    for step in ["payment_reminder", "handover"] {
        assert!(
            first.sent_by_step.contains_key(step),
            "{step} sent: {first}"
        );
    }
    let second = on_file(&spec);
    assert_eq!(first, second, "the same seed gives the same report");
    assert_eq!(first.to_string(), second.to_string());
    // The same spec on one in-memory connection (crashes without reopening): the same world.
    let mut mem = SqliteStore::open_in_memory().expect("memory");
    let third = simulate(&spec, &mut mem).expect("in memory");
    assert_eq!(first, third);
    let other = on_file(&SimSpec { seed: 43, ..spec });
    assert_ne!(first, other, "another seed, another world");
}

#[test]
fn crashes_change_nothing_but_the_crash_count() {
    let calm = SimSpec {
        crash_percent: 0,
        ..spec(150, 90)
    };
    let stormy = SimSpec {
        crash_percent: 30,
        ..spec(150, 90)
    };
    let mut a = simulate(&calm, &mut SqliteStore::open_in_memory().expect("memory")).expect("calm");
    let b = on_file(&stormy);
    assert_eq!(a.crashes, 0);
    assert!(b.crashes >= 10, "{b}");
    // The engine's outcome (actions sent per step, payments, cases, DSO) is the same whether or
    // not the days were interrupted and restarted.
    a.crash_percent = b.crash_percent;
    a.crashes = b.crashes;
    a.crashes_by_kind = b.crashes_by_kind.clone();
    a.invariant_checks = b.invariant_checks;
    assert_eq!(a, b);
}

fn caught(fault: Fault) -> InvariantViolation {
    let mut store = SqliteStore::open_in_memory().expect("memory");
    let err = simulate_with_fault(&spec(60, 60), &mut store, fault)
        .expect_err("the forged fact must be caught");
    err.downcast_ref::<InvariantViolation>()
        .unwrap_or_else(|| panic!("not an invariant violation: {err:#}"))
        .clone()
}

#[test]
fn a_forged_duplicate_action_is_caught() {
    let v = caught(Fault::DuplicateAction { day: 20 });
    assert_eq!(v.invariant, "no_action_twice", "{v}");
    assert_eq!(v.day, 20);
    assert!(v.case.is_some());
    assert!(v.to_string().contains("day 20 (2025-01-21), case "), "{v}");
}

#[test]
fn a_non_conserving_allocation_is_caught() {
    let v = caught(Fault::NonConservingAllocation { day: 10 });
    assert!(
        v.invariant == "payment_allocated_exactly_once" || v.invariant == "open_amount_consistent",
        "{v}"
    );
    // The full ledger check runs every 30 days.
    assert_eq!(v.day, 29, "{v}");
}

#[test]
fn costs_charged_to_a_consumer_before_the_term_are_caught() {
    let v = caught(Fault::CostsBeforeTerm { day: 20 });
    assert_eq!(v.invariant, "consumer_costs_after_term", "{v}");
    assert_eq!(v.day, 20);
}

#[test]
fn postgres_gives_the_same_report_as_sqlite() {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let schema = format!("sim_{}", std::process::id());
    let spec = spec(60, 60);
    let report = {
        let mut open = || -> anyhow::Result<Box<dyn Store>> {
            Ok(Box::new(
                incasso_store_postgres::PgStore::connect_in_schema(&url, &schema)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            ))
        };
        simulate_reopening(&spec, &mut open)
    };
    if let Ok(mut c) = postgres_drop(&url) {
        let _ = c(&schema);
    }
    let report = report.unwrap_or_else(|e| panic!("simulation on PostgreSQL failed: {e:#}"));
    assert_eq!(report, on_file(&spec));
}

/// Drops the test schema (best effort) through the store crate's own connection.
fn postgres_drop(url: &str) -> anyhow::Result<impl FnMut(&str) -> anyhow::Result<()>> {
    let url = url.to_string();
    Ok(move |schema: &str| -> anyhow::Result<()> {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))?;
        Ok(())
    })
}
