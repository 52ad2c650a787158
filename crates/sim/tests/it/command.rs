//! `incasso simulate` wired the way the CLI wires it: a subcommand next to the global `--db`
//! and `--json` flags.

use clap::{CommandFactory, Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[arg(long, global = true, default_value = "incasso.db")]
    db: String,
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Simulate(incasso_sim::SimulateArgs),
}

#[test]
fn the_arguments_fit_a_cli_with_a_global_db_flag() {
    Cli::command().debug_assert();
    let cli = Cli::try_parse_from(["incasso", "simulate", "--json"]).expect("defaults");
    let Cmd::Simulate(a) = cli.command;
    assert_eq!(
        (a.debtors, a.days, a.seed, a.start.as_str(), a.crash_percent),
        (10_000, 730, 42, "2025-01-01", 2)
    );
    assert!(a.sim_db.is_none());
    assert!(cli.json);
}

#[test]
fn the_command_prints_a_report_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("sim.db");
    let cli = Cli::try_parse_from([
        "incasso",
        "simulate",
        "--debtors",
        "30",
        "--days",
        "45",
        "--crash-percent",
        "20",
        "--sim-db",
        file.to_str().expect("path"),
    ])
    .expect("args");
    let Cmd::Simulate(a) = cli.command;
    let mut text = Vec::new();
    incasso_sim::run_command(a.clone(), false, &mut text).expect("text");
    let text = String::from_utf8(text).expect("utf8");
    assert!(text.contains("invariant checks performed"), "{text}");
    assert!(file.exists());
    let mut json = Vec::new();
    incasso_sim::run_command(
        incasso_sim::SimulateArgs { sim_db: None, ..a },
        true,
        &mut json,
    )
    .expect("json");
    let v: serde_json::Value = serde_json::from_slice(&json).expect("one JSON object");
    assert_eq!(v["debtors"], 30);
    assert!(v["dso_days"].as_str().expect("dso").contains('.'));
    // A bad start date is a plain error.
    let bad = incasso_sim::SimulateArgs {
        start: "2025-13-01".into(),
        ..incasso_sim::SimulateArgs {
            debtors: 1,
            days: 1,
            seed: 1,
            start: String::new(),
            crash_percent: 0,
            sim_db: None,
        }
    };
    assert!(incasso_sim::run_command(bad, false, &mut Vec::new()).is_err());
}
