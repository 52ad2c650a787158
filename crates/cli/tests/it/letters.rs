//! Letters end to end: a preview renders without recording anything; the day's print run writes
//! its letters in volumes of at most `--per-file` letters with one manifest whose volume and
//! first page match the pages of each file, records each letter in its case's dossier naming its
//! volume, registers the dispatch, and prints nothing twice; a broken template stops the run
//! before anything is written, one that fails on a later letter's data stops it before the
//! manifest and the dispatch, and the run after it writes the same files; templates are checked.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::{Db, both_backends};

const INVOICES: &str = "\
invoice_number;issue_date;due_date;gross_amount;debtor_number;debtor_name;debtor_kind;street;postal_code;city;email;description
C-1;2025-12-06;2026-01-05;300,00;K2;Els de Boer;consumer;Dorpsstraat 12;3511 AB;Utrecht;els@example.nl;Jaarabonnement 2026
";

fn add_creditor(db: &Db) {
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
}

fn setup(db: &Db) {
    add_creditor(db);
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
    // One volume, numbered like any other.
    let volumes = first["volumes"].as_array().expect("volumes");
    assert_eq!(volumes.len(), 1, "{first}");
    let pdf = Path::new(volumes[0]["file"].as_str().expect("pdf")).to_path_buf();
    let volume = file_name(&pdf);
    assert!(
        volume.starts_with("letters-2026-01-20-") && volume.ends_with("-001.pdf"),
        "{volume}"
    );
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
    assert_eq!(lines[0], MANIFEST_HEADER);
    assert_eq!(lines.len(), 2, "{manifest}");
    let row = Row::parse(lines[1]);
    assert_eq!(row.case_id, case);
    assert!(lines[1].contains("Els de Boer") && lines[1].contains("fourteen_day_letter"));
    assert_eq!(row.volume, volume);
    assert_eq!(row.first_page, 1);
    assert_eq!(row.pages, pdf_pages(&pdf));
    let sha = &row.sha256;
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
        text_show.contains(&format!("per post, printbestand {volume} vanaf pagina 1")),
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
    assert_eq!(second["volumes"], serde_json::json!([]));
    assert!(second["manifest"].is_null());
    assert_eq!(
        std::fs::read_dir(&out_dir).expect("dir").count(),
        files_before
    );
});

const MANIFEST_HEADER: &str =
    "action_id,case_id,debtor,address,template,language,pages,first_page,sha256,volume";

/// A row of the print manifest. The address (quoted, with commas) is the only field that can
/// hold a comma, so the fields after it are taken from the end.
#[derive(Debug, Clone)]
struct Row {
    case_id: i64,
    debtor: String,
    pages: usize,
    first_page: usize,
    sha256: String,
    volume: String,
}

impl Row {
    fn parse(line: &str) -> Row {
        let f: Vec<&str> = line.split(',').collect();
        let n = f.len();
        assert!(n >= 10, "{line}");
        Row {
            case_id: f[1].parse().expect("case id"),
            debtor: f[2].to_string(),
            pages: f[n - 4].parse().expect("pages"),
            first_page: f[n - 3].parse().expect("first page"),
            sha256: f[n - 2].to_string(),
            volume: f[n - 1].to_string(),
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

/// The number of pages of a PDF (pdfinfo).
fn pdf_pages(path: &Path) -> usize {
    let out = Command::new("pdfinfo")
        .arg(path)
        .output()
        .expect("pdfinfo (poppler-utils)");
    assert!(out.status.success(), "pdfinfo {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count for {}", path.display()))
}

/// The text of one page of a PDF.
fn page_text(path: &Path, page: usize) -> String {
    let p = page.to_string();
    let out = Command::new("pdftotext")
        .args(["-f", &p, "-l", &p])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext {} page {page}",
        path.display()
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Consumers with overdue invoices (Cor Claassen has so many that his letter runs over pages)
/// and a policy whose one step is a payment reminder by post.
const POSTAL_DEBTORS: [(&str, &str, usize); 5] = [
    ("K1", "Anna Aalbers", 1),
    ("K2", "Bram Bakker", 1),
    ("K3", "Cor Claassen", 60),
    ("K4", "Dirk Dekker", 2),
    ("K5", "Eva Evers", 1),
];

const POST_POLICY: &str = r#"name = "post-b2c"
version = 1
catch_up = "highest"

[applies_to]
debtor_kind = "consumer"
jurisdiction = "nl"

[[steps]]
id = "payment_reminder"
template = "payment_reminder"
channels = ["post"]
trigger = { after = "due_date", days = 2 }
term_days = 5
"#;

/// Queues one postal payment reminder per debtor of [`POSTAL_DEBTORS`] on 2026-01-20.
fn setup_postal(db: &Db) {
    add_creditor(db);
    let mut csv = String::from(
        "invoice_number;issue_date;due_date;gross_amount;debtor_number;debtor_name;debtor_kind;street;postal_code;city;email;description\n",
    );
    for (i, (number, name, invoices)) in POSTAL_DEBTORS.iter().enumerate() {
        for n in 0..*invoices {
            csv.push_str(&format!(
                "F-{number}-{n};2025-12-06;2026-01-05;{},00;{number};{name};consumer;Laan {};3512 AB;Utrecht;;Levering {n}\n",
                100 + n,
                i + 1
            ));
        }
    }
    let path = db.dir.path().join("postal.csv");
    std::fs::write(&path, csv).expect("write csv");
    db.ok(&["import", "invoices", path.to_str().expect("path")]);
    let policy = db.dir.path().join("post.toml");
    std::fs::write(&policy, POST_POLICY).expect("write policy");
    db.ok(&["policy", "add", policy.to_str().expect("path")]);
    db.ok(&["policy", "assign", "post-b2c"]);
    db.json(&["run", "--date", "2026-01-20", "--force"]);
    let queued: Vec<Value> = outbox(db)
        .into_iter()
        .filter(|a| a["status"] == "queued" && a["channels"] == "post")
        .collect();
    assert_eq!(queued.len(), POSTAL_DEBTORS.len(), "{:?}", outbox(db));
}

/// The letter documents in a case's dossier: (event text, sha256).
fn letter_documents(db: &Db, case: i64) -> Vec<(String, String)> {
    let show = db.json(&["case", "show", &case.to_string()]);
    show["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["document"]["kind"] == "letter")
        .map(|e| {
            (
                e["text"].as_str().unwrap_or_default().to_string(),
                e["document"]["sha256"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn print_args<'a>(out_dir: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "letters",
        "print",
        "--date",
        "2026-01-20",
        "--out-dir",
        out_dir,
    ];
    args.extend_from_slice(extra);
    args
}

both_backends!(print_run_splits_into_volumes, |db: &Db| {
    setup_postal(db);
    let out_dir = db.dir.path().join("print");
    let out_str = out_dir.to_str().expect("path").to_string();

    // A bad volume size is refused before anything is read or written.
    for bad in ["0", "-3", "many", "1.5"] {
        let r = db.run(&print_args(&out_str, &["--per-file", bad]));
        assert!(!r.status.success(), "--per-file {bad}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(
            err.contains("--per-file") && err.contains("at least 1"),
            "--per-file {bad}: {err}"
        );
    }
    assert!(files_in(&out_dir).is_empty());
    assert!(outbox(db).iter().all(|a| a["status"] == "queued"));

    let run = db.json(&print_args(&out_str, &["--per-file", "2"]));
    assert_eq!(run["printed"], 5, "{run}");
    let volumes = run["volumes"].as_array().expect("volumes");
    assert_eq!(volumes.len(), 3, "{run}");
    let manifest_path = Path::new(run["manifest"].as_str().expect("manifest")).to_path_buf();
    let stem = file_name(&manifest_path)
        .strip_suffix(".csv")
        .expect("a .csv manifest")
        .to_string();
    let names: Vec<String> = volumes
        .iter()
        .map(|v| file_name(Path::new(v["file"].as_str().expect("file"))))
        .collect();
    assert_eq!(
        names,
        ["001", "002", "003"].map(|n| format!("{stem}-{n}.pdf")),
        "{run}"
    );
    let mut expected_files = names.clone();
    expected_files.push(format!("{stem}.csv"));
    expected_files.sort();
    assert_eq!(files_in(&out_dir), expected_files);

    // The one manifest: every letter once, with its volume and its first page in that volume.
    let manifest = std::fs::read_to_string(&manifest_path).expect("manifest");
    let lines: Vec<&str> = manifest.lines().collect();
    assert_eq!(lines[0], MANIFEST_HEADER);
    let rows: Vec<Row> = lines[1..].iter().map(|l| Row::parse(l)).collect();
    assert_eq!(rows.len(), 5, "{manifest}");
    let mut debtors: Vec<&str> = rows.iter().map(|r| r.debtor.as_str()).collect();
    debtors.sort();
    assert_eq!(debtors, POSTAL_DEBTORS.map(|(_, n, _)| n));
    assert!(
        rows.iter().any(|r| r.pages > 1),
        "a letter over several pages: {manifest}"
    );
    for (v, name) in volumes.iter().zip(&names) {
        let path = out_dir.join(name);
        let in_volume: Vec<&Row> = rows.iter().filter(|r| &r.volume == name).collect();
        assert!(!in_volume.is_empty() && in_volume.len() <= 2, "{manifest}");
        assert_eq!(v["letters"], in_volume.len(), "{run}");
        let pages = pdf_pages(&path);
        assert_eq!(
            pages,
            in_volume.iter().map(|r| r.pages).sum::<usize>(),
            "{name}"
        );
        assert_eq!(v["pages"], pages, "{run}");
        let mut next = 1;
        for r in &in_volume {
            assert_eq!(r.first_page, next, "{manifest}");
            next += r.pages;
            // The letter starts on its first page (the address window names the debtor) and
            // the page before it belongs to another letter.
            let first = page_text(&path, r.first_page);
            assert!(
                first.contains(&r.debtor),
                "{name} p. {}: {first}",
                r.first_page
            );
            for (_, other, _) in POSTAL_DEBTORS {
                assert!(other == r.debtor || !first.contains(other), "{first}");
            }
            if r.first_page > 1 {
                let before = page_text(&path, r.first_page - 1);
                assert!(!before.contains(&r.debtor), "{before}");
            }
        }
    }
    assert_eq!(
        rows.iter().map(|r| r.volume.as_str()).collect::<Vec<_>>(),
        [&names[0], &names[0], &names[1], &names[1], &names[2]],
        "{manifest}"
    );

    // Each letter in its case's dossier, naming its volume and page, with the manifest's hash.
    for r in &rows {
        let docs = letter_documents(db, r.case_id);
        assert_eq!(docs.len(), 1, "{docs:?}");
        assert!(
            docs[0].0.contains(&format!(
                "per post, printbestand {} vanaf pagina {}",
                r.volume, r.first_page
            )),
            "{docs:?}"
        );
        assert_eq!(docs[0].1, r.sha256);
    }
    assert!(outbox(db).iter().all(|a| a["status"] == "sent"));

    // Run again: nothing is printed twice, no file written, nothing recorded again.
    let again = db.json(&print_args(&out_str, &["--per-file", "2"]));
    assert_eq!(again["printed"], 0, "{again}");
    assert_eq!(again["already_printed"], 5, "{again}");
    assert_eq!(files_in(&out_dir), expected_files);
    for r in &rows {
        assert_eq!(letter_documents(db, r.case_id).len(), 1);
    }
});

const BUILTIN_REMINDER: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../letters/templates/nl/payment_reminder.typ"
));

both_backends!(template_errors_stop_the_print_run, |db: &Db| {
    setup_postal(db);
    let out_dir = db.dir.path().join("print");
    let out_str = out_dir.to_str().expect("path").to_string();
    let tpl = db.dir.path().join("tpl");
    std::fs::create_dir_all(tpl.join("nl")).expect("mkdir");
    let tpl_str = tpl.to_str().expect("path").to_string();
    let cases: Vec<i64> = outbox(db)
        .iter()
        .map(|a| a["case_id"].as_i64().expect("case"))
        .collect();
    let no_letters = |db: &Db| cases.iter().all(|c| letter_documents(db, *c).is_empty());

    // A template that does not compile: nothing is written, recorded or registered.
    std::fs::write(
        tpl.join("nl/payment_reminder.typ"),
        format!("{BUILTIN_REMINDER}\n#d.nope\n"),
    )
    .expect("write");
    let r = db.run(&print_args(
        &out_str,
        &["--per-file", "2", "--templates", &tpl_str],
    ));
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("nl/payment_reminder.typ line"), "{err}");
    assert!(files_in(&out_dir).is_empty(), "{:?}", files_in(&out_dir));
    assert!(outbox(db).iter().all(|a| a["status"] == "queued"));
    assert!(no_letters(db));

    // A template that fails only on the data of the last letter (in the third volume): the first
    // two volumes are written and their letters recorded, but there is no manifest and nothing
    // is registered.
    let last = *cases.iter().max().expect("cases");
    let show = db.json(&["case", "show", &last.to_string()]);
    let name = show["debtor"].as_str().expect("debtor").to_string();
    std::fs::write(
        tpl.join("nl/payment_reminder.typ"),
        format!(
            "{BUILTIN_REMINDER}\n#if d.debtor.name == \"{name}\" {{ panic(\"geen brief voor {name}\") }}\n"
        ),
    )
    .expect("write");
    let r = db.run(&print_args(
        &out_str,
        &["--per-file", "2", "--templates", &tpl_str],
    ));
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains(&format!("geen brief voor {name}")) && err.contains("volume 3"),
        "{err}"
    );
    let written = files_in(&out_dir);
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(
        written[0].ends_with("-001.pdf") && written[1].ends_with("-002.pdf"),
        "{written:?}"
    );
    assert!(outbox(db).iter().all(|a| a["status"] == "queued"));
    let recorded: usize = cases.iter().map(|c| letter_documents(db, *c).len()).sum();
    assert_eq!(recorded, 4);
    assert!(letter_documents(db, last).is_empty());
    let before: Vec<Vec<u8>> = written
        .iter()
        .map(|f| std::fs::read(out_dir.join(f)).expect("volume"))
        .collect();

    // Run again with the template fixed: the same two volumes, byte for byte, then the third,
    // the manifest and the dispatch; every letter is in its dossier once.
    let run = db.json(&print_args(&out_str, &["--per-file", "2"]));
    assert_eq!(run["printed"], 5, "{run}");
    let files = files_in(&out_dir);
    assert_eq!(files.len(), 4, "{files:?}");
    assert_eq!(&files[..2], &written[..]);
    for (f, bytes) in written.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(out_dir.join(f)).expect("volume"),
            bytes,
            "{f}"
        );
    }
    assert!(
        files[2].ends_with("-003.pdf") && files[3].ends_with(".csv"),
        "{files:?}"
    );
    assert!(outbox(db).iter().all(|a| a["status"] == "sent"));
    for c in &cases {
        assert_eq!(letter_documents(db, *c).len(), 1, "case {c}");
        let verify = db.json(&["case", "verify", &c.to_string()]);
        assert_eq!(verify["ok"], true, "{verify}");
    }
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
