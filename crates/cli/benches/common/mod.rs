//! What the CLI benchmarks share: the `incasso` binary they time, running it, and timing it
//! under `/usr/bin/time` (wall time, peak memory, CPU).

use std::process::Command;

/// The binary timed: the one cargo built, or `BENCH_INCASSO` (another build, to compare).
pub fn incasso() -> String {
    std::env::var("BENCH_INCASSO").unwrap_or_else(|_| env!("CARGO_BIN_EXE_incasso").into())
}

/// Runs `incasso args`; panics with its stderr when it fails. Returns stdout.
pub fn run(args: &[&str]) -> String {
    let out = Command::new(incasso())
        .args(args)
        .output()
        .expect("run incasso");
    assert!(
        out.status.success(),
        "incasso {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// One timed run of `incasso`.
pub struct Timed {
    pub secs: f64,
    pub peak_kib: u64,
    /// User + system seconds.
    pub cpu: f64,
    pub stdout: String,
}

/// Runs `incasso args` under `/usr/bin/time`. `BENCH_WRAP` puts a command in between (for
/// example `BENCH_WRAP="perf record -g -o run.perf --"` profiles the run).
pub fn timed(args: &[&str]) -> Timed {
    let wrap = std::env::var("BENCH_WRAP").unwrap_or_default();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("BENCH %e %M %U %S")
        .args(wrap.split_whitespace())
        .arg(incasso())
        .args(args)
        .output()
        .expect("run /usr/bin/time incasso");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "incasso {args:?} failed: {stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("BENCH "))
        .expect("time output");
    let mut parts = line.split_whitespace().skip(1);
    let secs: f64 = parts.next().and_then(|s| s.parse().ok()).expect("seconds");
    let peak_kib: u64 = parts.next().and_then(|s| s.parse().ok()).expect("KiB");
    let cpu: f64 = parts.filter_map(|s| s.parse::<f64>().ok()).sum();
    Timed {
        secs,
        peak_kib,
        cpu,
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
    }
}

/// With `BENCH_PG=1`, runs `bench` on PostgreSQL: with the URL of a fresh schema `schema` of
/// `TEST_DATABASE_URL` (its connections use only that schema) and the base URL; the schema is
/// dropped afterwards. Without `BENCH_PG=1` it does nothing.
pub fn on_postgres(schema: &str, bench: impl FnOnce(&str, &str)) {
    if std::env::var("BENCH_PG").as_deref() != Ok("1") {
        return;
    }
    let base = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut client = postgres::Client::connect(&base, postgres::NoTls).expect("PostgreSQL");
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .expect("schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    bench(&url, &base);
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .expect("drop schema");
}
