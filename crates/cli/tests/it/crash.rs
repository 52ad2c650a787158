//! The crash test of the daily run (tracker issue 4): a ledger of more than 100,000 invoices,
//! `incasso run --date D --force` killed with SIGKILL at least 20 times at pseudo-random moments
//! spread over a full run's duration, then run to completion. The outbox must hold every
//! idempotency key exactly once, no (case, step) twice, the same keys as a clean run on an
//! uninterrupted copy of the ledger, and a further run must create nothing.
//!
//! Expected timing (debug build, 2 shared cores, measured 2026-11-25): building the ledger (demo
//! CSV + import of 102,081 invoices) 6–16 s; one full run over the ledger 3–7 s; the 20 killed
//! runs, the outbox listing after each kill, the clean run and the final runs the rest: 1–2.5
//! minutes for the whole test (the upper figures with a release build running alongside). A
//! typical run: the outbox after each kill grew 0, 0, 0, 0, 1998, 5997, … 27977, 30399 (the run
//! commits in batches of 1,000 cases), 13 of the 20 kills left work undone, the final run
//! created nothing new. The numbers are printed (`--nocapture`).

use std::collections::{BTreeSet, HashSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use incasso_app::demo::SplitMix64;
use serde_json::Value;

use crate::Db;

const DATE: &str = "2026-11-02";
/// 34,000 debtors × 3 invoices on average: 101,9xx invoices with seed 7.
const DEBTORS: &str = "34000";
const KILLS: usize = 20;

fn copy_db(from: &Db) -> Db {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = dir.path().join("incasso.db").display().to_string();
    for suffix in ["", "-wal", "-shm"] {
        let src = format!("{}{suffix}", from.url);
        if std::path::Path::new(&src).exists() {
            std::fs::copy(&src, format!("{url}{suffix}")).expect("copy the ledger");
        }
    }
    Db {
        url,
        dir,
        schema: None,
    }
}

fn outbox(db: &Db) -> Vec<Value> {
    db.json(&["outbox", "list"])["actions"]
        .as_array()
        .cloned()
        .expect("actions")
}

fn keys(actions: &[Value]) -> BTreeSet<String> {
    actions
        .iter()
        .map(|a| a["key"].as_str().expect("key").to_string())
        .collect()
}

fn run_args(db: &Db) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_incasso"));
    cmd.arg("--db")
        .arg(&db.url)
        .args(["run", "--date", DATE, "--force"])
        .current_dir(db.dir.path())
        .env_remove("INCASSO_DB")
        .env_remove("INCASSO_CREDITOR")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

#[test]
fn killed_runs_create_nothing_twice_and_converge_on_the_clean_outbox() {
    let t0 = Instant::now();
    let db = Db::sqlite();
    db.add_creditor();
    let csv = db.dir.path().join("ledger.csv");
    db.ok(&[
        "demo",
        "--debtors",
        DEBTORS,
        "--invoices-per-debtor",
        "3",
        "--seed",
        "7",
        "--as-of",
        DATE,
        "--csv",
        csv.to_str().expect("path"),
    ]);
    let invoices = std::fs::read_to_string(&csv).expect("csv").lines().count() - 1;
    assert!(invoices >= 100_000, "{invoices} invoices");
    db.ok(&["import", "invoices", csv.to_str().expect("path")]);
    let built = t0.elapsed();

    // A clean run on an untouched copy: the reference outbox and the duration of one run.
    let clean = copy_db(&db);
    let t1 = Instant::now();
    let status = run_args(&clean).status().expect("clean run");
    let full_run = t1.elapsed();
    assert!(status.success(), "the clean run failed");
    let clean_outbox = outbox(&clean);
    let clean_keys = keys(&clean_outbox);
    assert!(!clean_keys.is_empty());

    // Kill runs at pseudo-random moments spread over the run's duration (stratified: one
    // delay in each of the KILLS slices of [0, full run), at a seeded random point within it).
    let mut rng = SplitMix64::new(0xC0FFEE);
    let full_ms = u64::try_from(full_run.as_millis()).expect("ms").max(50);
    let mut killed = 0usize;
    let mut finished_early = 0usize;
    let mut attempts = 0usize;
    // The outbox size after each kill: the killed runs commit part of the work, batch by batch.
    let mut progress: Vec<u64> = Vec::new();
    // The window shrinks whenever a run finishes before its kill: runs on the partly done
    // ledger are shorter than the clean one, and a loaded machine makes the clean run slow.
    let mut span_ms = full_ms;
    while killed < KILLS {
        attempts += 1;
        assert!(attempts <= 6 * KILLS, "runs kept finishing before the kill");
        let slice = (attempts - 1) % KILLS;
        let delay =
            span_ms * slice as u64 / KILLS as u64 + rng.below((span_ms / KILLS as u64).max(1));
        let mut child = run_args(&db).spawn().expect("spawn run");
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().expect("try_wait").is_some() {
            finished_early += 1;
            span_ms = (span_ms * 2 / 3).max(20);
            continue;
        }
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        if status.success() {
            // It finished between the check and the kill.
            finished_early += 1;
        } else {
            killed += 1;
            let n = db.json(&["outbox", "list"])["count"]
                .as_u64()
                .expect("count");
            progress.push(n);
        }
    }

    let total = clean_outbox.len() as u64;
    let cut_short = progress.iter().filter(|n| **n < total).count();
    assert!(
        cut_short >= 1,
        "no kill interrupted a run with work left: {progress:?} of {total}"
    );

    // Run to completion, then once more: nothing new.
    let done = db.json(&["run", "--date", DATE, "--force"]);
    let actions = outbox(&db);
    let mut seen_keys = HashSet::new();
    let mut seen_steps = HashSet::new();
    for a in &actions {
        let key = a["key"].as_str().expect("key").to_string();
        assert!(seen_keys.insert(key.clone()), "key {key} twice");
        let step = (a["case_id"].as_i64().expect("case"), a["step"].to_string());
        assert!(
            seen_steps.insert(step.clone()),
            "(case, step) {step:?} twice"
        );
    }
    assert_eq!(
        keys(&actions),
        clean_keys,
        "the interrupted outbox equals the clean one"
    );
    assert_eq!(actions.len(), clean_outbox.len());
    let again = db.json(&["run", "--date", DATE, "--force"]);
    assert_eq!(again["actions_created"], 0, "{again}");
    assert_eq!(outbox(&db).len(), clean_outbox.len());
    println!(
        "crash test: {invoices} invoices, ledger built in {built:?}, one full run {full_run:?}, \
         {killed} runs killed ({finished_early} finished before their kill; {cut_short} kills left \
         work undone; outbox after each kill: {progress:?}), final run created {}, {} actions; \
         total {:?}",
        done["actions_created"],
        actions.len(),
        t0.elapsed()
    );
}
