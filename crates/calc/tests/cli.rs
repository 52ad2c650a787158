//! End-to-end tests of the `calc` and `ref` commands through their clap types and `run`
//! functions, asserting the exact JSON of the CLI contract (the binary itself belongs to the
//! integrator; this harness mirrors its `incasso [--json] calc|ref ...` shape).

use clap::Parser;
use incasso_calc::{CalcCommand, RefCommand, run_calc, run_ref};

#[derive(Debug, Parser)]
#[command(name = "incasso")]
struct Cli {
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Top,
}

#[derive(Debug, clap::Subcommand)]
enum Top {
    Calc {
        #[command(subcommand)]
        cmd: CalcCommand,
    },
    Ref {
        #[command(subcommand)]
        cmd: RefCommand,
    },
}

/// Runs `incasso <args>` and returns stdout, or the error message.
fn run(args: &str) -> Result<String, String> {
    let argv = std::iter::once("incasso").chain(args.split_whitespace());
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let result = match cli.command {
        Top::Calc { cmd } => run_calc(cmd, cli.json, &mut out),
        Top::Ref { cmd } => run_ref(cmd, cli.json, &mut out),
    };
    result.map_err(|e| format!("{e:#}"))?;
    Ok(String::from_utf8(out).unwrap())
}

/// Asserts the command prints exactly `expected` (one JSON line).
fn check(args: &str, expected: &str) {
    assert_eq!(
        run(args).unwrap_or_else(|e| panic!("{args}: {e}")),
        format!("{expected}\n"),
        "{args}"
    );
}

/// Asserts the command fails with a one-line message containing `needle`.
fn check_error(args: &str, needle: &str) {
    let e = run(args).expect_err(args);
    assert!(e.contains(needle), "{args}: {e}");
    assert!(!e.trim_end().contains('\n'), "{args}: not one line: {e}");
}

#[test]
fn bw_6_119a_calc_interest_contract_example() {
    check(
        "calc interest --principal 10000 --due 2024-03-31 --until 2025-06-30 --kind commercial --json",
        concat!(
            r#"{"principal":"10000.00","interest":"1515.57","total":"11515.57","periods":["#,
            r#"{"from":"2024-04-01","to":"2024-06-30","days":91,"rate":"12.50","base":"10000.00","interest":"311.64"},"#,
            r#"{"from":"2024-07-01","to":"2024-12-31","days":184,"rate":"12.25","base":"10000.00","interest":"617.53"},"#,
            r#"{"from":"2025-01-01","to":"2025-03-31","days":90,"rate":"11.15","base":"10000.00","interest":"274.93"},"#,
            r#"{"from":"2025-04-01","to":"2025-06-30","days":91,"rate":"11.15","base":"11204.11","interest":"311.46"}]}"#
        ),
    );
}

#[test]
fn calc_interest_contractual_and_other_jurisdictions() {
    check(
        "calc interest --principal 10000 --due 2024-03-31 --until 2024-06-30 --kind commercial --rate 8.5 --json",
        r#"{"principal":"10000.00","interest":"211.92","total":"10211.92","periods":[{"from":"2024-04-01","to":"2024-06-30","days":91,"rate":"8.50","base":"10000.00","interest":"211.92"}]}"#,
    );
    check(
        "calc interest --principal 10000 --due 2023-06-30 --until 2024-06-30 --kind commercial --jurisdiction be --json",
        r#"{"principal":"10000.00","interest":"1228.22","total":"11228.22","periods":[{"from":"2023-07-01","to":"2023-12-31","days":184,"rate":"12.00","base":"10000.00","interest":"604.93"},{"from":"2024-01-01","to":"2024-06-30","days":182,"rate":"12.50","base":"10000.00","interest":"623.29"}]}"#,
    );
    check(
        "calc interest --principal 1000 --due 2024-12-31 --until 2025-01-31 --kind commercial --jurisdiction eu --json",
        r#"{"principal":"1000.00","interest":"9.47","total":"1009.47","periods":[{"from":"2025-01-01","to":"2025-01-31","days":31,"rate":"11.15","base":"1000.00","interest":"9.47"}]}"#,
    );
    let text =
        run("calc interest --principal 100 --due 2024-03-31 --until 2024-04-30 --kind consumer")
            .unwrap();
    assert!(
        text.contains("2024-04-01") && text.contains("total 100.58"),
        "{text}"
    );
}

#[test]
fn bik_art2_calc_costs_contract_example() {
    check(
        "calc costs --principal 3000 --json",
        r#"{"principal":"3000.00","costs":"425.00","vat":"0.00","total_costs":"425.00"}"#,
    );
    check(
        "calc costs --principal 2500 --vat --json",
        r#"{"principal":"2500.00","costs":"375.00","vat":"78.75","total_costs":"453.75"}"#,
    );
    check(
        "calc costs --principal 300 --invoices 3 --json",
        r#"{"principal":"300.00","costs":"120.00","vat":"0.00","total_costs":"120.00"}"#,
    );
    check(
        "calc costs --principal 300 --invoices 3 --consumer --json",
        r#"{"principal":"300.00","costs":"45.00","vat":"0.00","total_costs":"45.00"}"#,
    );
    check(
        "calc costs --principal 1000 --jurisdiction be --consumer --json",
        r#"{"principal":"1000.00","costs":"90.00","vat":"0.00","total_costs":"90.00"}"#,
    );
    check(
        "calc costs --principal 1000 --jurisdiction be --invoices 2 --json",
        r#"{"principal":"1000.00","costs":"80.00","vat":"0.00","total_costs":"80.00"}"#,
    );
}

#[test]
fn atw_calc_deadline_contract_example() {
    check(
        "calc deadline --received 2025-04-04 --days 14 --json",
        r#"{"received":"2025-04-04","nominal_last_day":"2025-04-18","last_day":"2025-04-22"}"#,
    );
    check(
        "calc deadline --received 2025-04-03 --days 14 --jurisdiction nl --json",
        r#"{"received":"2025-04-03","nominal_last_day":"2025-04-17","last_day":"2025-04-17"}"#,
    );
    check(
        "calc deadline --dispatched 2025-04-01 --channel post --days 14 --json",
        r#"{"received":"2025-04-03","nominal_last_day":"2025-04-17","last_day":"2025-04-17"}"#,
    );
    check(
        "calc deadline --dispatched 2025-04-04 --channel email --days 14 --json",
        r#"{"received":"2025-04-04","nominal_last_day":"2025-04-18","last_day":"2025-04-22"}"#,
    );
    // BE: paper reminder sent Monday 2025-03-03 → waiting period from Thursday 6 March.
    check(
        "calc deadline --dispatched 2025-03-03 --channel post --days 14 --jurisdiction be --json",
        r#"{"received":"2025-03-05","nominal_last_day":"2025-03-19","last_day":"2025-03-19"}"#,
    );
    let text = run("calc deadline --received 2025-04-04").unwrap();
    assert!(text.contains("costs due from    2025-04-23"), "{text}");
}

#[test]
fn bw_6_44_calc_allocate_contract_example() {
    check(
        "calc allocate --payment 200 --costs 150 --interest 20 --principal 1000 --json",
        r#"{"costs":"150.00","interest":"20.00","principal":"30.00","unapplied":"0.00"}"#,
    );
    check(
        "calc allocate --payment 1200 --costs 150 --interest 20 --principal 1000 --json",
        r#"{"costs":"150.00","interest":"20.00","principal":"1000.00","unapplied":"30.00"}"#,
    );
}

#[test]
fn calc_rates_lists_tables_and_unverified_rows() {
    let all: serde_json::Value = serde_json::from_str(&run("calc rates --json").unwrap()).unwrap();
    let tables = all["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 6);
    assert_eq!(tables[0]["table"], "nl_6_119");
    assert_eq!(
        tables[0]["rows"][0],
        serde_json::json!({"effective_from":"2002-01-01","rate":"7.00","verified":true,"source":"raadvanarbitrage.nl; code table (Stb. 2001, 581)"})
    );
    let unverified: serde_json::Value =
        serde_json::from_str(&run("calc rates --unverified --json").unwrap()).unwrap();
    let rows: Vec<(String, String)> = unverified["tables"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| {
            t["rows"].as_array().unwrap().iter().map(move |r| {
                (
                    t["table"].as_str().unwrap().to_string(),
                    r["effective_from"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect();
    assert!(rows.contains(&("nl_6_119".into(), "2025-07-01".into())));
    assert!(rows.contains(&("be_legal_interest".into(), "2010-01-01".into())));
    assert!(!rows.contains(&("nl_6_119a".into(), "2024-01-01".into())));
    let text = run("calc rates --unverified").unwrap();
    assert!(text.contains("UNVERIFIED"), "{text}");
}

#[test]
fn ref_generate_and_check() {
    check(
        "ref generate --kind betalingskenmerk --number 12345 --json",
        r#"{"reference":"7000000000012345"}"#,
    );
    check(
        "ref generate --kind betalingskenmerk --number 12345 --length 9 --json",
        r#"{"reference":"5700012345"}"#.replace("5700012345", &expected_short()).as_str(),
    );
    check(
        "ref generate --kind ogm --number 12345 --json",
        r#"{"reference":"+++000/0012/34526+++"}"#,
    );
    check(
        "ref generate --kind rf --number 12345 --json",
        r#"{"reference":"RF7812345"}"#,
    );
    check(
        "ref check 5000056789012345 --json",
        r#"{"valid":true,"kind":"betalingskenmerk"}"#,
    );
    check(
        "ref check +++090/9337/55493+++ --json",
        r#"{"valid":true,"kind":"ogm"}"#,
    );
    check(
        "ref check RF18539007547034 --json",
        r#"{"valid":true,"kind":"rf"}"#,
    );
    let invalid: serde_json::Value =
        serde_json::from_str(&run("ref check 4000056789012345 --json").unwrap()).unwrap();
    assert_eq!(invalid["valid"], false);
}

/// The 9-digit betalingskenmerk for 12345, computed independently: C + L(7) + 0012345.
fn expected_short() -> String {
    let body = "70012345";
    let weights = [2u32, 4, 8, 5, 10, 9, 7, 3, 6, 1];
    let sum: u32 = body
        .bytes()
        .rev()
        .zip(weights.iter().cycle())
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let c = match 11 - sum % 11 {
        10 => 1,
        11 => 0,
        c => c,
    };
    format!("{c}{body}")
}

#[test]
fn errors_name_the_argument() {
    check_error(
        "calc interest --principal 100 --due 2024-03-31 --until 2024-01-01 --kind commercial",
        "--until 2024-01-01 is before --due 2024-03-31",
    );
    check_error(
        "calc interest --principal -5 --due 2024-03-31 --until 2024-06-30 --kind commercial",
        "--principal -5 must not be negative",
    );
    check_error(
        "calc interest --principal 100 --due 2024-13-01 --until 2024-06-30 --kind commercial",
        "--due 2024-13-01 is not a date",
    );
    check_error(
        "calc interest --principal 100 --due 2024-03-31 --until 2024-06-30 --kind commercial --jurisdiction xx",
        "--jurisdiction xx is unknown",
    );
    check_error(
        "calc interest --principal 100 --due 2024-03-31 --until 2024-06-30 --kind other",
        "--kind other is unknown",
    );
    check_error(
        "calc interest --principal 10.001 --due 2024-03-31 --until 2024-06-30 --kind commercial",
        "--principal 10.001 has more than two decimals",
    );
    check_error(
        "calc interest --principal abc --due 2024-03-31 --until 2024-06-30 --kind commercial",
        "--principal abc is not an amount",
    );
    check_error(
        "calc costs --principal 100 --jurisdiction de",
        "--jurisdiction de is unknown",
    );
    check_error(
        "calc costs --principal -1",
        "--principal -1 must not be negative",
    );
    check_error(
        "calc costs --principal 100 --jurisdiction be --vat",
        "--vat applies only with --jurisdiction nl",
    );
    check_error(
        "calc deadline --received 2025-02-30",
        "--received 2025-02-30 is not a date",
    );
    check_error(
        "calc deadline --dispatched 2025-04-01 --channel pigeon",
        "--channel pigeon is unknown",
    );
    check_error(
        "calc allocate --payment -1 --principal 5",
        "--payment -1 must not be negative",
    );
    check_error(
        "ref generate --kind iban --number 5",
        "--kind iban is unknown",
    );
    check_error(
        "ref generate --kind ogm --number 12345678901",
        "--number 12345678901",
    );
}
