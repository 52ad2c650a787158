//! The end-to-end dispatch benchmark of BENCHMARKS.md (issue 5), run with
//! `cargo bench -p incasso-cli --bench dispatch`: builds a ledger of N debtors (default 10,000),
//! each with an e-mail address and one overdue invoice, lets the daily run queue one payment
//! reminder per debtor, then times the release `incasso dispatch` under `/usr/bin/time` (wall
//! time and peak memory) against the in-process SMTP server of `incasso_messaging::sink`
//! (counting only). Every message carries its letter PDF (Typst) and lands with it in the
//! case's dossier, exactly as in production.
//!
//! Environment: `BENCH_MESSAGES` (default 10000), `BENCH_DIR` (default `target/bench-dispatch`),
//! `BENCH_WRAP` (a command put before `incasso dispatch`, for example
//! `perf record -g -o dispatch.perf --`; the figures then include its overhead),
//! `BENCH_INCASSO` (another `incasso` binary to time, for example an earlier build),
//! `BENCH_PG=1` (also on PostgreSQL, in schema `bench_dispatch` of `TEST_DATABASE_URL`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use incasso_messaging::sink::{SinkMode, SmtpSink};

mod common;
use common::{Timed, run, timed};

/// One overdue invoice per debtor, each debtor with its own e-mail address (the columns of
/// `crates/cli/tests/data/ladder.csv`).
fn write_invoices(path: &Path, debtors: u64) {
    let file = std::fs::File::create(path).expect("create CSV");
    let mut w = std::io::BufWriter::new(file);
    writeln!(
        w,
        "invoice_number;issue_date;due_date;gross_amount;debtor_number;debtor_name;debtor_kind;street;postal_code;city;email"
    )
    .expect("write");
    for k in 0..debtors {
        let cents = 10_000 + (k * 7_919) % 500_000;
        let kind = if k % 3 == 0 { "consumer" } else { "business" };
        writeln!(
            w,
            "D-{:06};2025-12-06;2026-01-05;{},{:02};K{k:06};Klant {k} B.V.;{kind};Dorpsstraat {};1011 AA;Amsterdam;klant{k}@example.nl",
            k + 1,
            cents / 100,
            cents % 100,
            1 + k % 200,
        )
        .expect("write");
    }
    w.flush().expect("flush");
}

/// The database file and its write-ahead log, in bytes.
fn db_size(db: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|s| {
            std::fs::metadata(format!("{}{s}", db.display()))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum()
}

fn ledger(db: &str, csv: &Path, debtors: u64) {
    run(&[
        "--db",
        db,
        "creditor",
        "add",
        "--name",
        "Voorbeeld B.V.",
        "--iban",
        "NL91ABNA0417164300",
        "--kind",
        "business",
        "--jurisdiction",
        "nl",
    ]);
    let report = run(&[
        "--db",
        db,
        "import",
        "invoices",
        csv.to_str().expect("path"),
    ]);
    println!("    ledger: {}", report.lines().next().unwrap_or(""));
    let out = run(&[
        "--db",
        db,
        "run",
        "--date",
        "2026-01-07",
        "--force",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("run JSON");
    assert_eq!(
        v["actions_created"].as_u64(),
        Some(debtors),
        "one payment reminder per debtor: {}",
        out.lines().next().unwrap_or("")
    );
}

/// The load average (1, 5 and 15 minutes), as `/proc/loadavg` has it.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let debtors: u64 = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let dir = PathBuf::from(std::env::var("BENCH_DIR").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench-dispatch").into()
    }));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let csv = dir.join(format!("overdue-{debtors}.csv"));
    if !csv.exists() {
        write_invoices(&csv, debtors);
    }

    // The ledger with its queued actions is built once and copied for each run (dispatch
    // changes it).
    let pristine = dir.join(format!("queued-{debtors}.db"));
    if !pristine.exists() {
        let building = dir.join("queued-building.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
        }
        ledger(building.to_str().expect("path"), &csv, debtors);
        assert_eq!(
            std::fs::metadata(format!("{}-wal", building.display()))
                .map(|m| m.len())
                .unwrap_or(0),
            0,
            "the ledger's WAL was not checkpointed"
        );
        std::fs::rename(&building, &pristine).expect("keep the ledger");
    }
    let db = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::copy(&pristine, &db).expect("copy the ledger");

    dispatch(db.to_str().expect("path"), debtors, "sqlite", || {
        db_size(&db)
    });

    common::on_postgres("bench_dispatch", |url, base| {
        ledger(url, &csv, debtors);
        let size = || {
            let mut c = postgres::Client::connect(base, postgres::NoTls).expect("PostgreSQL");
            let row = c
                .query_one(
                    "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = 'bench_dispatch' AND c.relkind = 'r'",
                    &[],
                )
                .expect("size");
            u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)
        };
        dispatch(url, debtors, "postgres", size);
    });
}

/// One timed `incasso dispatch` of the queued ledger in `db` (a SQLite path or a PostgreSQL URL)
/// to a fresh in-process SMTP server; `size` gives the database's size in bytes.
fn dispatch(db: &str, debtors: u64, backend: &str, size: impl Fn() -> u64) {
    let before = size();
    let sink = SmtpSink::start_with(SinkMode::Accept, false).expect("SMTP sink");
    let url = format!("smtp://127.0.0.1:{}?tls=none", sink.port());
    let load_before = load();
    let Timed {
        secs,
        peak_kib: kib,
        cpu,
        stdout: out,
    } = timed(&[
        "--db",
        db,
        "dispatch",
        "--now",
        "2026-01-08T10:00",
        "--channel",
        "email",
        "--smtp-url",
        &url,
        "--from",
        "debiteuren@voorbeeld.example",
        "--portal-url",
        "https://portaal.example/c/{case}",
        "--json",
    ]);
    let load_after = load();
    let report: serde_json::Value = serde_json::from_str(&out).expect("dispatch JSON");
    assert_eq!(report["sent"].as_u64(), Some(debtors), "sent");
    assert_eq!(report["actions_sent"].as_u64(), Some(debtors), "actions");
    let received = sink.wait_for(debtors, Duration::from_secs(10));
    assert_eq!(received, debtors, "the SMTP server received every message");
    let after = size();

    println!(
        "dispatch ({backend}): {debtors} e-mails, each with its letter PDF, recorded in the dossier, in {secs:.2} s = {:.0} msgs/s",
        debtors as f64 / secs.max(0.01)
    );
    println!(
        "    peak RSS {:.1} MiB; cpu {cpu:.2} s (user+sys, {:.1} ms per message); {:.1} MB received by the server",
        kib as f64 / 1024.0,
        cpu * 1000.0 / debtors as f64,
        sink.bytes() as f64 / 1e6
    );
    println!(
        "    database {:.1} MB -> {:.1} MB (+{:.1} KB per message)",
        before as f64 / 1e6,
        after as f64 / 1e6,
        after.saturating_sub(before) as f64 / 1e3 / debtors as f64
    );
    println!("    load average before {load_before}, after {load_after}");
    println!("target: >= 200 msgs/s with bounded memory");
}
