//! `incasso simulate`: the command's arguments and its body, for the CLI to wire in as
//! `Simulate(incasso_sim::SimulateArgs)` calling [`run_command`].

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use incasso_store::Store;
use incasso_store_sqlite::SqliteStore;

use crate::{SimSpec, simulate_reopening};

/// Simulate the collection engine over synthetic debtors, with crashes, checking its invariants
/// every simulated day.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Number of synthetic debtors.
    #[arg(long, default_value_t = 10_000)]
    pub debtors: u64,
    /// Number of calendar days to simulate.
    #[arg(long, default_value_t = 730)]
    pub days: u32,
    /// Seed of the pseudo-random generator: the same seed gives the same report.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First simulated day (YYYY-MM-DD).
    #[arg(long, default_value = "2025-01-01")]
    pub start: String,
    /// Chance in percent (0-100) that a day's work is interrupted by a crash and restarted.
    #[arg(long, default_value_t = 2)]
    pub crash_percent: u64,
    /// SQLite file to simulate in (created if missing); default: a temporary file, removed
    /// afterwards. Deliberately not the global `--db`, which defaults to the user's ledger
    /// (`incasso.db`): a simulation never writes into it by accident.
    #[arg(long)]
    pub sim_db: Option<PathBuf>,
}

/// Runs the simulation described by `args` and writes the report (text, or one JSON object).
/// A broken invariant is an error naming the day, the case and the invariant.
pub fn run_command(args: SimulateArgs, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let start = incasso_calendar::parse_iso(&args.start)
        .map_err(|e| anyhow!("--start {:?}: {e}", args.start))?;
    if args.crash_percent > 100 {
        anyhow::bail!("--crash-percent {} is above 100", args.crash_percent);
    }
    let spec = SimSpec {
        debtors: args.debtors,
        days: args.days,
        seed: args.seed,
        start,
        crash_percent: args.crash_percent,
    };
    let (_dir, path) = match &args.sim_db {
        Some(p) => (None, p.clone()),
        None => {
            let dir = tempfile::tempdir().context("creating a temporary directory")?;
            let path = dir.path().join("simulation.db");
            (Some(dir), path)
        }
    };
    let mut open = || -> anyhow::Result<Box<dyn Store>> {
        let store =
            SqliteStore::open(&path).map_err(|e| anyhow!("opening {}: {e}", path.display()))?;
        Ok(Box::new(store))
    };
    let report = simulate_reopening(&spec, &mut open)?;
    if json {
        writeln!(out, "{}", report.to_json())?;
    } else {
        writeln!(out, "{report}")?;
    }
    Ok(())
}
