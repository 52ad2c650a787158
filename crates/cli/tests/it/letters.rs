//! Letters end to end: a preview renders without recording anything; the day's print run writes
//! one PDF and a manifest, records each letter in its case's dossier, registers the dispatch, and
//! prints nothing twice; templates are checked.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::{Db, both_backends};

const INVOICES: &str = "\
invoice_number;issue_date;due_date;gross_amount;debtor_number;debtor_name;debtor_kind;street;postal_code;city;email;description
C-1;2025-12-06;2026-01-05;300,00;K2;Els de Boer;consumer;Dorpsstraat 12;3511 AB;Utrecht;els@example.nl;Jaarabonnement 2026
";

fn setup(db: &Db) {
    db.ok(&[
        "creditor",
        "add",
        "--name",
        "Voorbeeld B.V.",
        "--iban",
        "NL91ABNA0417164300",
        "--bic",
        "ABNANL2A",
        "--registration-number",
        "12345678",
        "--street",
        "Marktplein 1",
        "--postal-code",
        "3511 AA",
        "--city",
        "Utrecht",
    ]);
    let csv = db.dir.path().join("letters.csv");
    std::fs::write(&csv, INVOICES).expect("write csv");
    db.ok(&["import", "invoices", csv.to_str().expect("path")]);
}

fn outbox(db: &Db) -> Vec<Value> {
    db.json(&["outbox", "list"])["actions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn pdftotext(path: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .replace('\u{a0}', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the ladder to the fourteen-day letter (a postal letter) for the consumer.
fn queue_fourteen_day_letter(db: &Db) -> i64 {
    db.json(&["run", "--date", "2026-01-07", "--force"]);
    for a in outbox(db) {
        db.ok(&[
            "outbox",
            "mark-sent",
            &a["id"].to_string(),
            "--date",
            "2026-01-07",
        ]);
    }
    db.json(&["run", "--date", "2026-01-20", "--force"]);
    let letter = outbox(db)
        .into_iter()
        .find(|a| a["template"] == "fourteen_day_letter")
        .unwrap_or_else(|| panic!("fourteen-day letter queued: {:?}", outbox(db)));
    assert_eq!(letter["status"], "queued");
    assert!(letter["channels"].as_str().unwrap().contains("post"));
    letter["case_id"].as_i64().expect("case id")
}

both_backends!(print_run_writes_pdf_and_manifest_once, |db: &Db| {
    setup(db);
    let case = queue_fourteen_day_letter(db);
    let out_dir = db.dir.path().join("print");
    let out_str = out_dir.to_str().expect("path").to_string();
    let first = db.json(&[
        "letters",
        "print",
        "--date",
        "2026-01-20",
        "--out-dir",
        &out_str,
    ]);
    assert_eq!(first["printed"], 1, "{first}");
    assert_eq!(first["already_printed"], 0);
    let pdf = Path::new(first["pdf"].as_str().expect("pdf")).to_path_buf();
    let text = pdftotext(&pdf);
    for needle in [
        "Els de Boer",
        "Dorpsstraat 12",
        "3511 AB Utrecht",
        "C-1",
        "Jaarabonnement 2026",
        "€ 300,00",
        "binnen veertien dagen, te rekenen vanaf de dag na ontvangst van deze brief",
        // 15% of € 300 (BIK), stated exactly.
        "buitengerechtelijke incassokosten verschuldigd van € 45,00",
        "NL91 ABNA 0417 1643 00",
        "KvK 12345678",
        "20 januari 2026",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    // The manifest: one row per letter with pages and the letter's hash.
    let manifest = std::fs::read_to_string(first["manifest"].as_str().expect("csv")).expect("csv");
    let lines: Vec<&str> = manifest.lines().collect();
    assert_eq!(
        lines[0],
        "action_id,case_id,debtor,address,template,language,pages,first_page,sha256"
    );
    assert_eq!(lines.len(), 2, "{manifest}");
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(row[1], case.to_string());
    assert!(lines[1].contains("Els de Boer") && lines[1].contains("fourteen_day_letter"));
    let sha = row.last().expect("sha");
    assert_eq!(sha.len(), 64, "{sha}");
    // Dispatch registered on the print date.
    let sent: Vec<Value> = outbox(db)
        .into_iter()
        .filter(|a| a["template"] == "fourteen_day_letter")
        .collect();
    assert_eq!(sent[0]["status"], "sent", "{sent:?}");
    assert_eq!(sent[0]["dispatched_on"], "2026-01-20", "{sent:?}");
    // The printed letter is in the case's dossier, with the hash the manifest gives.
    let show = db.json(&["case", "show", &case.to_string()]);
    let letters: Vec<Value> = show["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e.get("document").filter(|d| !d.is_null()).cloned())
        .filter(|d| d["kind"] == "letter")
        .collect();
    assert_eq!(letters.len(), 1, "{show}");
    assert_eq!(letters[0]["sha256"], *sha, "{letters:?}");
    assert_eq!(
        letters[0]["filename"],
        format!("fourteen_day_letter-{case}-2026-01-20.pdf")
    );
    let text_show = db.ok(&["case", "show", &case.to_string()]);
    assert!(
        text_show.contains("per post, printbestand letters-2026-01-20-"),
        "{text_show}"
    );
    let verify = db.json(&["case", "verify", &case.to_string()]);
    assert_eq!(verify["ok"], true, "{verify}");

    // A second run for the same date prints nothing again and writes no file.
    let files_before = std::fs::read_dir(&out_dir).expect("dir").count();
    let second = db.json(&[
        "letters",
        "print",
        "--date",
        "2026-01-20",
        "--out-dir",
        &out_str,
    ]);
    assert_eq!(second["printed"], 0, "{second}");
    assert_eq!(second["already_printed"], 1);
    assert!(second["pdf"].is_null());
    assert_eq!(
        std::fs::read_dir(&out_dir).expect("dir").count(),
        files_before
    );
});

both_backends!(preview_renders_without_recording, |db: &Db| {
    setup(db);
    let case = queue_fourteen_day_letter(db);
    let before = outbox(db);
    let out = db.dir.path().join("preview.pdf");
    let out_str = out.to_str().expect("path");
    let r = db.json(&[
        "letter",
        "preview",
        "--tenant",
        "Voorbeeld B.V.",
        "--case",
        &case.to_string(),
        "--step",
        "payment_reminder",
        "--lang",
        "fr",
        "--date",
        "2026-01-20",
        "--out",
        out_str,
    ]);
    assert_eq!(r["language"], "fr");
    let text = pdftotext(&out);
    assert!(text.contains("Rappel de paiement"), "{text}");
    assert!(text.contains("300,00 €"), "{text}");
    assert!(text.contains("20 janvier 2026"), "{text}");
    // The fourteen-day letter in Dutch: the term runs from the dispatch (letter) date.
    let nl = db.dir.path().join("veertien.pdf");
    db.ok(&[
        "letter",
        "preview",
        "--case",
        &case.to_string(),
        "--step",
        "fourteen_day_letter",
        "--date",
        "2026-01-20",
        "--out",
        nl.to_str().expect("path"),
    ]);
    let text = pdftotext(&nl);
    assert!(
        text.contains("te rekenen vanaf de dag na ontvangst van deze brief"),
        "{text}"
    );
    // Same input, same bytes.
    let again = db.dir.path().join("veertien2.pdf");
    db.ok(&[
        "letter",
        "preview",
        "--case",
        &case.to_string(),
        "--step",
        "fourteen_day_letter",
        "--date",
        "2026-01-20",
        "--out",
        again.to_str().expect("path"),
    ]);
    assert_eq!(
        std::fs::read(&nl).expect("pdf"),
        std::fs::read(&again).expect("pdf")
    );
    // Nothing was recorded.
    assert_eq!(outbox(db), before);
    // An unknown template is a clear error.
    let bad = db.run(&[
        "letter",
        "preview",
        "--case",
        &case.to_string(),
        "--step",
        "no_such_letter",
        "--out",
        out_str,
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("no_such_letter"), "{err}");
});

#[test]
fn templates_check_reports_the_broken_template_and_line() {
    let db = Db::sqlite();
    let ok = db.ok(&["letter", "templates", "--check"]);
    assert!(ok.contains("36 templates compile"), "{ok}");
    let dir = db.dir.path().join("tpl");
    std::fs::create_dir_all(dir.join("nl")).expect("mkdir");
    std::fs::write(
        dir.join("nl/payment_reminder.typ"),
        "#import \"lang.typ\": *\n#show: letter.with(subject: \"Herinnering\")\n#d.nope\n",
    )
    .expect("write");
    let out = db.run(&[
        "letter",
        "templates",
        "--check",
        "--dir",
        dir.to_str().expect("path"),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nl/payment_reminder.typ line 3"),
        "template and line in: {err}"
    );
}
