//! The ledger benchmarks of BENCHMARKS.md, run with `cargo bench -p incasso-cli --bench ledger`:
//! import 1,000,000 invoices for 200,000 debtors from one CSV into SQLite (and PostgreSQL when
//! `BENCH_PG=1`), list the overdue invoices, and re-import the same file. Each step runs the
//! release `incasso` binary under `/usr/bin/time` for wall time and peak memory. The same
//! ledger then gets the daily run (issue 4) twice: the first run and a re-run of the same date.
//!
//! Environment: `BENCH_DEBTORS` (default 200000), `BENCH_DIR` (default `target/bench-ledger`),
//! `BENCH_PG=1` and `TEST_DATABASE_URL` for the PostgreSQL figures.

use std::path::{Path, PathBuf};
mod common;
use common::run;

/// Runs `incasso args` under /usr/bin/time; returns (seconds, peak KiB, stdout).
fn timed(label: &str, args: &[&str]) -> (f64, u64, String) {
    let t = common::timed(args);
    println!(
        "{label:<48} {:>7.2} s   peak {:>6.1} MB   cpu {:.2} s",
        t.secs,
        t.peak_kib as f64 / 1024.0,
        t.cpu
    );
    (t.secs, t.peak_kib, t.stdout)
}

fn ledger(db: &str, csv: &Path, label: &str) {
    run(&[
        "--db",
        db,
        "creditor",
        "add",
        "--name",
        "Bench B.V.",
        "--iban",
        "NL91ABNA0417164300",
    ]);
    let csv = csv.to_str().expect("path");
    let (_, _, report) = timed(
        &format!("{label}: import 1M invoices"),
        &[
            "--db",
            db,
            "import",
            "invoices",
            csv,
            "--as-of",
            "2026-11-25",
        ],
    );
    println!("    {}", report.lines().next().unwrap_or(""));
    let (_, _, listing) = timed(
        &format!("{label}: invoices list --overdue"),
        &[
            "--db",
            db,
            "invoices",
            "list",
            "--overdue",
            "--as-of",
            "2026-11-25",
        ],
    );
    println!("    {}", listing.lines().last().unwrap_or(""));
    let (_, _, again) = timed(
        &format!("{label}: re-import the same file"),
        &["--db", db, "import", "invoices", csv],
    );
    println!("    {}", again.lines().next().unwrap_or(""));
    // Issue 4: the daily run over the same ledger, then the same date again.
    let run_args = ["--db", db, "run", "--date", "2026-11-25", "--force"];
    let (_, _, first) = timed(&format!("{label}: run (1M open invoices)"), &run_args);
    println!("    {}", first.lines().next().unwrap_or(""));
    let (_, _, second) = timed(&format!("{label}: re-run the same date"), &run_args);
    println!("    {}", second.lines().next().unwrap_or(""));
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to filter here.
    let debtors: u64 = std::env::var("BENCH_DEBTORS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let dir = PathBuf::from(std::env::var("BENCH_DIR").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench-ledger").into()
    }));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let csv = dir.join(format!("invoices-{debtors}.csv"));
    if !csv.exists() {
        let n = debtors.to_string();
        run(&[
            "demo",
            "--debtors",
            &n,
            "--invoices-per-debtor",
            "5",
            "--seed",
            "42",
            "--as-of",
            "2026-11-25",
            "--csv",
            csv.to_str().expect("path"),
        ]);
    }
    let lines = std::fs::read(&csv)
        .map(|b| b.iter().filter(|c| **c == b'\n').count())
        .unwrap_or(0);
    println!(
        "input: {} ({} invoices, {} debtors, {:.0} MB)",
        csv.display(),
        lines.saturating_sub(1),
        debtors,
        std::fs::metadata(&csv).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
    );

    let db = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    ledger(db.to_str().expect("path"), &csv, "sqlite");

    common::on_postgres("bench_ledger", |url, _| ledger(url, &csv, "postgres"));
}
