//! The daily run end to end: cases open, actions are queued once per step under their
//! idempotency keys, a re-run creates nothing, a dry run writes nothing, pauses stop the ladder.

use serde_json::Value;

use crate::{Db, both_backends, data};

fn setup(db: &Db) {
    db.add_creditor();
    db.ok(&["import", "invoices", data("ladder.csv").to_str().unwrap()]);
}

fn outbox(db: &Db) -> Vec<Value> {
    db.json(&["outbox", "list"])["actions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

both_backends!(run_queues_each_step_once, |db: &Db| {
    setup(db);
    // Due 2026-01-05; the reminder fires at due + 2.
    let early = db.json(&["run", "--date", "2026-01-06", "--force"]);
    assert_eq!(
        early["cases_evaluated"], 2,
        "two debtors are overdue; F-1 is not due yet"
    );
    assert_eq!(
        early["actions_created"], 0,
        "nothing is due before due + 2: {early}"
    );
    let first = db.json(&["run", "--date", "2026-01-07", "--force"]);
    assert_eq!(first["actions_created"], 2, "{first}");
    assert_eq!(first["actions_by_kind"]["payment_reminder"], 2);
    let actions = outbox(db);
    assert_eq!(actions.len(), 2);
    assert!(
        actions
            .iter()
            .all(|a| a["status"] == "queued" && a["step"] == "payment_reminder")
    );
    let jansen = actions
        .iter()
        .find(|a| a["total"] == "1000.00")
        .expect("one letter for K1's overdue invoice B-1 (B-2 not yet overdue on 01-07)");
    assert!(jansen["key"].as_str().unwrap().starts_with("dunning:"));

    // The same date again, and the day after: nothing twice.
    let again = db.json(&["run", "--date", "2026-01-07", "--force"]);
    assert_eq!(again["actions_created"], 0);
    assert_eq!(again["actions_existing"], 2);
    let next_day = db.json(&["run", "--date", "2026-01-08", "--force"]);
    assert_eq!(next_day["actions_created"], 0, "{next_day}");
    assert_eq!(outbox(db).len(), 2);

    // A dry run shows what would go out and why, and writes nothing.
    let cases = db.json(&["case", "list"]);
    assert_eq!(cases["count"], 2);
    for a in outbox(db) {
        db.ok(&[
            "outbox",
            "mark-sent",
            &a["id"].to_string(),
            "--date",
            "2026-01-07",
        ]);
    }
    let dry = db.json(&["run", "--date", "2026-01-20", "--force", "--dry-run"]);
    let planned = dry["planned"].as_array().unwrap();
    assert!(!planned.is_empty(), "{dry}");
    assert!(
        planned
            .iter()
            .all(|p| !p["why"].as_str().unwrap().is_empty())
    );
    assert_eq!(outbox(db).len(), 2, "dry run wrote nothing");
    let later = db.json(&["run", "--date", "2026-01-20", "--force"]);
    let kinds = later["actions_by_kind"].as_object().unwrap();
    assert!(
        kinds.contains_key("fourteen_day_letter")
            || kinds.contains_key("formal_notice")
            || kinds.contains_key("call"),
        "{later}"
    );
    assert_eq!(
        outbox(db).len() as u64,
        2 + later["actions_created"].as_u64().unwrap()
    );
});

both_backends!(held_without_bank_data_and_paused_cases_wait, |db: &Db| {
    setup(db);
    let run = db.json(&["run", "--date", "2026-01-07"]);
    assert_eq!(
        run["actions_held"], 2,
        "no bank statement imported: sending actions are held, not dropped"
    );
    assert!(
        run["held_reason"]
            .as_str()
            .unwrap()
            .contains("bank statement")
    );
    assert!(outbox(db).iter().all(|a| a["status"] == "held"));
    let id = outbox(db)[0]["id"].to_string();
    db.ok(&["outbox", "release", &id]);
    assert_eq!(
        outbox(db)
            .iter()
            .filter(|a| a["status"] == "queued")
            .count(),
        1
    );

    let cases = db.json(&["case", "list"]);
    let case_id = cases["cases"][0]["id"].to_string();
    db.ok(&[
        "case",
        "dispute",
        &case_id,
        "--note",
        "disputes the delivery",
        "--date",
        "2026-01-08",
    ]);
    for a in outbox(db) {
        if a["status"] != "sent" {
            let _ = db.run(&[
                "outbox",
                "mark-sent",
                &a["id"].to_string(),
                "--date",
                "2026-01-08",
            ]);
        }
    }
    let paused = db.json(&["run", "--date", "2026-02-20", "--force"]);
    assert_eq!(paused["skipped"]["paused"], 1, "{paused}");
    let show = db.json(&["case", "show", &case_id]);
    let kinds: Vec<&str> = show["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"dispute"), "{kinds:?}");
    db.ok(&[
        "case",
        "write-off",
        &case_id,
        "--note",
        "uneconomic",
        "--date",
        "2026-02-21",
    ]);
    assert_eq!(db.json(&["case", "show", &case_id])["state"], "written_off");
    assert_eq!(
        db.json(&["case", "list"])["count"],
        1,
        "a written-off case is closed"
    );
});

#[test]
fn policy_check_accepts_presets_and_names_errors() {
    let db = Db::sqlite();
    let preset = db.ok(&["policy", "show", "nl-b2c"]);
    let path = db.dir.path().join("mine.toml");
    std::fs::write(&path, &preset).expect("write");
    let ok = db.json(&["policy", "check", path.to_str().unwrap()]);
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["name"], "nl-b2c");
    // A B2C NL policy that claims costs without a fourteen-day letter before it is refused.
    let bad = preset.replace("\"fourteen_day_letter\"]", "\"announce_costs\"]");
    assert_ne!(bad, preset, "the preset marks its fourteen-day letter");
    std::fs::write(&path, &bad).expect("write");
    let out = db.run(&["policy", "check", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mine.toml"), "{err}");
    assert!(err.to_lowercase().contains("fourteen"), "{err}");
    std::fs::write(
        &path,
        preset.replace(
            "template = \"payment_reminder\"",
            "template = \"no_such_template\"",
        ),
    )
    .expect("write");
    let out = db.run(&["policy", "check", path.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_template"));
    let list = db.json(&["policy", "list"]);
    assert_eq!(list["presets"].as_array().unwrap().len(), 4);
}

both_backends!(call_list_orders_by_stake_and_records_outcomes, |db: &Db| {
    setup(db);
    db.ok(&["run", "--date", "2026-01-07", "--force"]);
    for a in outbox(db) {
        db.ok(&[
            "outbox",
            "mark-sent",
            &a["id"].to_string(),
            "--date",
            "2026-01-07",
        ]);
    }
    // nl-b2b: a call task follows the reminder's 5-day term; the consumer ladder has no call.
    // Reminder sent 01-07 with a 5-day term (deadline 01-12): the call task is due on 01-13.
    let run = db.json(&["run", "--date", "2026-01-13", "--force"]);
    assert!(
        run["actions_by_kind"]["call"].as_u64().unwrap_or(0) >= 1,
        "{run}"
    );
    let calls = db.json(&["calls", "list"]);
    let list = calls["calls"].as_array().unwrap();
    assert!(!list.is_empty(), "{calls}");
    assert_eq!(list[0]["debtor"], "Bouwbedrijf Jansen B.V.");
    let stakes: Vec<i64> = list
        .iter()
        .map(|c| {
            c["at_stake"]
                .as_str()
                .unwrap()
                .replace('.', "")
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        stakes.windows(2).all(|w| w[0] >= w[1]),
        "ordered by what is at stake: {stakes:?}"
    );
    let id = list[0]["id"].to_string();
    let case_id = list[0]["case_id"].to_string();
    let bad = db.run(&[
        "calls",
        "outcome",
        &id,
        "--outcome",
        "promise",
        "--date",
        "2026-01-15",
    ]);
    assert!(!bad.status.success(), "a promise needs --until");
    db.ok(&[
        "calls",
        "outcome",
        &id,
        "--outcome",
        "promise",
        "--until",
        "2026-01-30",
        "--date",
        "2026-01-15",
    ]);
    let case = db.json(&["case", "show", &case_id]);
    assert_eq!(case["pause"], "promise_to_pay");
    assert_eq!(
        db.json(&["calls", "list"])["count"],
        calls["count"].as_u64().unwrap() - 1,
        "the call is done"
    );
    let quiet = db.json(&["run", "--date", "2026-01-20", "--force"]);
    assert!(
        quiet["skipped"]["paused"].as_u64().unwrap_or(0) >= 1,
        "the promise pauses the ladder: {quiet}"
    );
});

both_backends!(
    a_missed_instalment_lapses_the_plan_and_the_ladder_resumes,
    |db: &Db| {
        setup(db);
        db.ok(&["run", "--date", "2026-01-07", "--force"]);
        for a in outbox(db) {
            db.ok(&[
                "outbox",
                "mark-sent",
                &a["id"].to_string(),
                "--date",
                "2026-01-07",
            ]);
        }
        let cases = db.json(&["case", "list"]);
        let jansen = cases["cases"].as_array().unwrap().iter().find(|c| {
            let id = c["id"].to_string();
            db.json(&["case", "show", &id])["debtor"] == "Bouwbedrijf Jansen B.V."
        });
        let case_id = jansen.expect("Jansen's case")["id"].to_string();
        let plan = db.json(&[
            "case",
            "plan",
            &case_id,
            "--instalments",
            "3",
            "--date",
            "2026-01-10",
        ]);
        assert_eq!(
            plan["total"], "1500.00",
            "the whole open balance (B-1 and B-2)"
        );
        let instalments = plan["instalments"].as_array().unwrap();
        assert_eq!(instalments.len(), 3);
        let sum: i64 = instalments
            .iter()
            .map(|i| {
                i["amount"]
                    .as_str()
                    .unwrap()
                    .replace('.', "")
                    .parse::<i64>()
                    .unwrap()
            })
            .sum();
        assert_eq!(sum, 150_000, "instalments add up to the balance exactly");
        let first_due = instalments[0]["due"].as_str().unwrap().to_string();
        assert!(
            first_due.as_str() <= "2026-01-24",
            "the first instalment falls due soon: {first_due}"
        );
        let again = db.run(&["case", "plan", &case_id, "--date", "2026-01-11"]);
        assert!(!again.status.success(), "one active plan per case");

        // On track: the ladder waits.
        let during = db.json(&["run", "--date", "2026-01-20", "--force"]);
        assert!(
            during["skipped"]["paused"].as_u64().unwrap_or(0) >= 1,
            "{during}"
        );
        let before = outbox(db).len();
        // Nothing paid: after the first instalment's due date plus 7 grace days the plan lapses and the ladder resumes.
        let after = db.json(&["run", "--date", "2026-02-10", "--force"]);
        assert!(after["actions_created"].as_u64().unwrap() >= 1, "{after}");
        assert!(outbox(db).len() > before);
        let show = db.json(&["case", "show", &case_id]);
        let texts: Vec<&str> = show["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["text"].as_str().unwrap())
            .collect();
        assert!(
            texts
                .iter()
                .any(|t| t.contains("payment plan ended") && t.contains("lapsed")),
            "{texts:?}"
        );
        // The lapsed plan is ended: a new plan may be agreed.
        db.ok(&["case", "plan", &case_id, "--date", "2026-02-11"]);
    }
);

both_backends!(policies_are_assigned_per_debtor_and_versioned, |db: &Db| {
    setup(db);
    let preset = db.ok(&["policy", "show", "nl-b2b"]);
    let quick = preset
        .replace("name = \"nl-b2b\"", "name = \"quick\"")
        .replace(
            "trigger = { after = \"due_date\", days = 2 }",
            "trigger = { after = \"due_date\", days = 1 }",
        );
    assert_ne!(quick, preset);
    let path = db.dir.path().join("quick.toml");
    std::fs::write(&path, &quick).expect("write");
    let stored = db.json(&["policy", "add", path.to_str().unwrap()]);
    assert_eq!(stored["name"], "quick");
    // A stored version never changes.
    std::fs::write(&path, quick.replace("term_days = 5", "term_days = 9")).expect("write");
    let out = db.run(&["policy", "add", path.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("new version"));
    let unknown = db.run(&["policy", "assign", "nope"]);
    assert!(!unknown.status.success());

    let debtors = db.json(&["debtors", "list"]);
    let jansen = debtors["debtors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["number"] == "K1")
        .expect("K1")["id"]
        .to_string();
    db.ok(&["policy", "assign", "quick", "--debtor", &jansen]);
    // Due 2026-01-05: the quick policy reminds on the due day's next run, the preset only at due + 2.
    let run = db.json(&["run", "--date", "2026-01-06", "--force"]);
    assert_eq!(run["actions_created"], 1, "{run}");
    let actions = outbox(db);
    assert!(
        actions[0]["key"].as_str().unwrap().contains(":quick:v1:"),
        "the key names the policy and version: {}",
        actions[0]["key"]
    );
    assert_eq!(actions[0]["policy"], "quick");
    db.ok(&["policy", "assign", "--debtor", &jansen, "--clear"]);
    db.ok(&["policy", "assign", "quick", "--invoice", "C-1"]);
    let run = db.json(&["run", "--date", "2026-01-06", "--force"]);
    assert_eq!(
        run["actions_created"], 0,
        "the consumer's invoice now follows quick, which applies to businesses only: {run}"
    );
    assert!(
        run["skipped"]
            .as_object()
            .unwrap()
            .contains_key("policy_does_not_apply"),
        "{run}"
    );
});

#[test]
fn two_runs_at_once_create_nothing_twice() {
    let db = Db::sqlite();
    db.ok(&[
        "demo",
        "--debtors",
        "400",
        "--seed",
        "9",
        "--as-of",
        "2026-11-25",
    ]);
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_incasso"))
            .args([
                "--db",
                &db.url,
                "run",
                "--date",
                "2026-11-25",
                "--force",
                "--json",
            ])
            .current_dir(db.dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn run")
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (
        a.wait_with_output().expect("a"),
        b.wait_with_output().expect("b"),
    );
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let created = |o: &std::process::Output| -> u64 {
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("json")["actions_created"]
            .as_u64()
            .expect("count")
    };
    let actions = outbox(&db);
    let mut keys: Vec<&str> = actions.iter().map(|a| a["key"].as_str().unwrap()).collect();
    let total = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), total, "no idempotency key twice");
    assert!(total > 0);
    assert_eq!(
        created(&a) + created(&b),
        total as u64,
        "together the two runs created each action once"
    );
    let cases = db.json(&["case", "list"])["count"].as_u64().unwrap();
    let debtors_with_cases: std::collections::HashSet<i64> = db.json(&["case", "list"])["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["debtor_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        debtors_with_cases.len() as u64,
        cases,
        "one open case per debtor"
    );
}
