//! The law engine's CLI contract, through the real binary (exact JSON, as other tools rely on it).

use crate::Db;

fn run_json(args: &[&str]) -> String {
    let db = Db::sqlite();
    let mut all = args.to_vec();
    all.push("--json");
    db.ok(&all).trim().to_string()
}

#[test]
fn calc_interest_commercial_contract() {
    let out = run_json(&[
        "calc",
        "interest",
        "--principal",
        "10000",
        "--due",
        "2024-03-31",
        "--until",
        "2025-06-30",
        "--kind",
        "commercial",
    ]);
    assert!(out.starts_with(r#"{"principal":"10000.00","interest":"1515.57","total":"11515.57","periods":[{"from":"2024-04-01","to":"2024-06-30","days":91,"rate":"12.50","base":"10000.00","interest":"311.64"}"#), "{out}");
}

#[test]
fn calc_costs_deadline_allocate_contract() {
    assert_eq!(
        run_json(&["calc", "costs", "--principal", "3000"]),
        r#"{"principal":"3000.00","costs":"425.00","vat":"0.00","total_costs":"425.00"}"#
    );
    assert_eq!(
        run_json(&[
            "calc",
            "deadline",
            "--received",
            "2025-04-04",
            "--days",
            "14"
        ]),
        r#"{"received":"2025-04-04","nominal_last_day":"2025-04-18","last_day":"2025-04-22"}"#
    );
    assert_eq!(
        run_json(&[
            "calc",
            "allocate",
            "--payment",
            "200",
            "--costs",
            "150",
            "--interest",
            "20",
            "--principal",
            "1000"
        ]),
        r#"{"costs":"150.00","interest":"20.00","principal":"30.00","unapplied":"0.00"}"#
    );
}

#[test]
fn ref_generate_and_check_contract() {
    let generated = run_json(&["ref", "generate", "--kind", "ogm", "--number", "12345"]);
    let v: serde_json::Value = serde_json::from_str(&generated).expect("json");
    let reference = v["reference"].as_str().expect("reference").to_string();
    assert_eq!(
        run_json(&["ref", "check", &reference]),
        r#"{"valid":true,"kind":"ogm"}"#
    );
    assert_eq!(
        run_json(&["ref", "check", "5000056789012345"]),
        r#"{"valid":true,"kind":"betalingskenmerk"}"#
    );
}

#[test]
fn calc_errors_name_the_argument_and_exit_non_zero() {
    let db = Db::sqlite();
    let out = db.run(&[
        "calc",
        "interest",
        "--principal",
        "100",
        "--due",
        "2024-03-31",
        "--until",
        "2024-01-01",
        "--kind",
        "commercial",
        "--json",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--until"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one-line message: {err}");
    let out = db.run(&["calc", "costs", "--principal", "-5", "--json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--principal"));
    let out = db.run(&[
        "calc",
        "costs",
        "--principal",
        "100",
        "--jurisdiction",
        "xx",
        "--json",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--jurisdiction"));
}

#[test]
fn calc_rates_lists_unverified_rows() {
    let db = Db::sqlite();
    let v = db.json(&["calc", "rates", "--unverified"]);
    let text = v.to_string();
    assert!(
        text.contains("2026-01-01"),
        "the NL 6:119 2026 row rests on secondary sources: {text}"
    );
}
