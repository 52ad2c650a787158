//! The ledger scenarios of the README: init, creditor, CSV import (Dutch and English), listings,
//! idempotent re-import, changed invoices, refused files, the demo.

use crate::{Db, both_backends, data};

fn invoice_count(db: &Db) -> u64 {
    db.json(&["invoices", "list"])["count"]
        .as_u64()
        .expect("count")
}

both_backends!(dutch_csv_imports_and_lists_overdue, |db: &Db| {
    let init = db.json(&["init"]);
    assert!(init["schema_version"].as_i64().unwrap_or(0) >= 1);
    db.add_creditor();
    let file = data("facturen-nl.csv");
    let report = db.json(&[
        "import",
        "invoices",
        file.to_str().unwrap(),
        "--as-of",
        "2026-11-25",
    ]);
    let r = &report["imported"][0];
    assert_eq!(r["status"], "imported");
    assert_eq!(r["invoices_created"], 5);
    assert_eq!(
        r["debtors_created"], 3,
        "D001 and D002 by number, Marie Claes new"
    );
    let reasons: Vec<(String, String)> = r["not_collectable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["number"].as_str().unwrap().to_string(),
                n["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("2026-004".into(), "already_paid".into()),
            ("2026-005".into(), "no_amount".into())
        ]
    );
    assert_eq!(r["not_yet_due"], 1, "2026-003 is due 2026-11-29");

    let overdue = db.json(&["invoices", "list", "--overdue", "--as-of", "2026-11-25"]);
    let numbers: Vec<&str> = overdue["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, vec!["2026-001", "2026-002"]);
    assert_eq!(
        overdue["invoices"][1]["open_amount"], "2025.61",
        "3025.61 gross minus 1000.00 paid"
    );
    assert_eq!(overdue["invoices"][0]["status"], "71 days late");
    assert_eq!(overdue["total_open"], "3235.61");
    // On the due date of 2026-003 it is not overdue yet; the day after it is.
    let later = db.json(&["invoices", "list", "--overdue", "--as-of", "2026-11-30"]);
    assert_eq!(later["count"], 3);

    let debtors = db.json(&["debtors", "list"]);
    assert_eq!(debtors["count"], 3);
    let bakkerij = debtors["debtors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["number"] == "D001")
        .expect("D001");
    assert_eq!(bakkerij["kind"], "business");
    assert_eq!(bakkerij["invoices"], 2);
    assert_eq!(bakkerij["open_amount"], "3235.61");
    let show = db.json(&["invoices", "show", "2026-002"]);
    assert_eq!(show["net_amount"], "2500.50");
    assert_eq!(show["vat_amount"], "525.11");
    assert_eq!(show["due_date"], "2026-10-31");
    let first = db.json(&["invoices", "show", "2026-001"]);
    assert_eq!(first["payment_reference"], "5000056789012345");
    assert_eq!(first["issue_date"], "2026-09-01", "Dutch date 01-09-2026");
});

both_backends!(reimporting_the_same_file_changes_nothing, |db: &Db| {
    db.add_creditor();
    let file = data("facturen-nl.csv");
    let path = file.to_str().unwrap();
    db.ok(&["import", "invoices", path]);
    let before = db.ok(&["invoices", "list"]);
    let again = db.ok(&["import", "invoices", path]);
    assert!(again.contains("already imported"), "{again}");
    assert!(again.contains("nothing changed"), "{again}");
    assert_eq!(db.ok(&["invoices", "list"]), before);
    assert_eq!(db.json(&["debtors", "list"])["count"], 3);
});

both_backends!(a_changed_invoice_is_reported_not_overwritten, |db: &Db| {
    db.add_creditor();
    db.ok(&[
        "import",
        "invoices",
        data("facturen-nl.csv").to_str().unwrap(),
    ]);
    let report = db.json(&["import", "invoices", data("changed.csv").to_str().unwrap()]);
    let r = &report["imported"][0];
    assert_eq!(
        r["invoices_unchanged"], 1,
        "2026-001 comes back with the same facts"
    );
    let changed: Vec<&str> = r["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap())
        .collect();
    assert_eq!(changed, vec!["2026-002"], "{report}");
    assert_eq!(r["invoices_created"], 1, "2026-006 is new");
    assert_eq!(r["debtors_matched"], 1, "D001 matched by debtor number");
    let kept = db.json(&["invoices", "show", "2026-002"]);
    assert_eq!(
        kept["gross_amount"], "3025.61",
        "the stored invoice is kept"
    );
});

both_backends!(bad_input_is_refused_whole_with_line_and_field, |db: &Db| {
    db.add_creditor();
    let out = db.run(&[
        "import",
        "invoices",
        data("bad-amount.csv").to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "a refused file exits non-zero");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad-amount.csv"), "{err}");
    assert!(err.contains("line 3, field gross_amount"), "{err}");
    assert!(err.contains("\"twelve euro\""), "{err}");
    assert!(err.contains("line 4, field issue_date"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(
        invoice_count(db),
        0,
        "OK-1 on line 2 must not be stored either"
    );
    assert_eq!(db.json(&["debtors", "list"])["count"], 0);

    let xxe = db.run(&["import", "invoices", data("xxe.xml").to_str().unwrap()]);
    assert!(!xxe.status.success());
    let err = String::from_utf8_lossy(&xxe.stderr);
    assert!(err.contains("DOCTYPE declarations are refused"), "{err}");
    assert_eq!(invoice_count(db), 0);
});

both_backends!(english_comma_separated_csv, |db: &Db| {
    db.add_creditor();
    let report = db.json(&[
        "import",
        "invoices",
        data("invoices-en.csv").to_str().unwrap(),
    ]);
    assert_eq!(report["imported"][0]["invoices_created"], 2);
    assert_eq!(
        report["imported"][0]["debtors_created"], 1,
        "same name and postcode: one debtor"
    );
    let inv = db.json(&["invoices", "show", "INV-1"]);
    assert_eq!(inv["gross_amount"], "1234.56");
    let debtors = db.json(&["debtors", "list"]);
    assert_eq!(debtors["debtors"][0]["name"], "Acme, Ltd");
    assert_eq!(debtors["debtors"][0]["open_amount"], "1334.55");
});

both_backends!(demo_is_reproducible, |db: &Db| {
    let a = db.json(&[
        "demo",
        "--debtors",
        "60",
        "--seed",
        "42",
        "--as-of",
        "2026-11-25",
    ]);
    assert!(a["invoices_created"].as_i64().unwrap() >= 60);
    assert_eq!(a["debtors_created"], 60);
    assert!(a["overdue_invoices"].as_u64().unwrap() > 0);
    let list_a = db.ok(&["invoices", "list", "--overdue", "--as-of", "2026-11-25"]);
    let other = Db::sqlite();
    other.ok(&[
        "demo",
        "--debtors",
        "60",
        "--seed",
        "42",
        "--as-of",
        "2026-11-25",
    ]);
    assert_eq!(
        other.ok(&["invoices", "list", "--overdue", "--as-of", "2026-11-25"]),
        list_a,
        "same seed, same ledger"
    );
    let third = Db::sqlite();
    third.ok(&[
        "demo",
        "--debtors",
        "60",
        "--seed",
        "7",
        "--as-of",
        "2026-11-25",
    ]);
    assert_ne!(
        third.ok(&["invoices", "list", "--overdue", "--as-of", "2026-11-25"]),
        list_a,
        "another seed, another ledger"
    );
});

#[test]
fn tenants_choose_and_never_mix() {
    let db = Db::sqlite();
    db.add_creditor();
    db.ok(&[
        "creditor",
        "add",
        "--name",
        "Tweede B.V.",
        "--iban",
        "BE68539007547034",
        "--jurisdiction",
        "be",
    ]);
    let out = db.run(&["debtors", "list"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--creditor"),
        "asks to choose a creditor"
    );
    db.ok(&[
        "import",
        "invoices",
        "--creditor",
        "1",
        data("invoices-en.csv").to_str().unwrap(),
    ]);
    assert_eq!(
        db.json(&["invoices", "list", "--creditor", "1"])["count"],
        2
    );
    assert_eq!(
        db.json(&["invoices", "list", "--creditor", "Tweede B.V."])["count"],
        0
    );
    let bad = db.run(&[
        "creditor",
        "add",
        "--name",
        "X",
        "--iban",
        "NL91ABNA0417164301",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--iban"));
}
