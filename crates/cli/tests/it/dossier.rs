//! The dossier end to end: a run writes hash-chained events, a proof is attached, the case
//! verifies, raw-SQL tampering is detected and named, and the exported zip holds the index
//! (PDF, text, JSON), every document, the event log and a manifest whose hashes match.

use std::io::Read;

use serde_json::Value;

use crate::{Db, both_backends, data};

/// Changes the text of event `seq` of `case` underneath the store, past the append-only
/// trigger (as someone with database access could).
fn tamper(db: &Db, case: i64, seq: i64) {
    if db.url.starts_with("postgres") {
        let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
        assert!(
            c.execute(
                "UPDATE case_events SET text = 'edited' WHERE case_id = $1 AND seq = $2",
                &[&case, &seq]
            )
            .is_err(),
            "the trigger refuses the update"
        );
        c.batch_execute("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only")
            .expect("disable");
        let n = c
            .execute(
                "UPDATE case_events SET text = 'edited' WHERE case_id = $1 AND seq = $2",
                &[&case, &seq],
            )
            .expect("tamper");
        assert_eq!(n, 1);
        c.batch_execute("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only")
            .expect("enable");
    } else {
        let c = rusqlite::Connection::open(&db.url).expect("open");
        assert!(
            c.execute(
                "UPDATE case_events SET text = 'edited' WHERE case_id = ?1 AND seq = ?2",
                [case, seq]
            )
            .is_err(),
            "the trigger refuses the update"
        );
        c.execute_batch("DROP TRIGGER case_events_no_update")
            .expect("drop");
        let n = c
            .execute(
                "UPDATE case_events SET text = 'edited' WHERE case_id = ?1 AND seq = ?2",
                [case, seq],
            )
            .expect("tamper");
        assert_eq!(n, 1);
    }
}

/// `pdftotext -layout` of a PDF (poppler-utils: table rows stay rows), whitespace collapsed and no-break spaces as spaces.
fn pdf_text(db: &Db, pdf: &[u8]) -> String {
    let path = db.dir.path().join("index-check.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
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

/// Cents as the Dutch index writes them: `€ 1.234,56`.
fn euro_nl(cents: i64) -> String {
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("€ {grouped},{:02}", cents % 100)
}

fn read_zip(path: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).expect("zip")).expect("read zip");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).expect("read entry");
            (f.name().expect("entry name").to_string(), bytes)
        })
        .collect()
}

both_backends!(attach_verify_tamper_export, |db: &Db| {
    db.add_creditor();
    db.ok(&["import", "invoices", data("ladder.csv").to_str().unwrap()]);
    db.json(&["run", "--date", "2026-01-07", "--force"]);
    let action = db.json(&["outbox", "list"])["actions"][0].clone();
    db.ok(&[
        "outbox",
        "mark-sent",
        &action["id"].to_string(),
        "--date",
        "2026-01-08",
    ]);
    let case = action["case"]
        .as_i64()
        .or_else(|| action["case_id"].as_i64())
        .expect("case of the action");
    let id = case.to_string();

    // Attach a proof: stored with its SHA-256, once.
    let proof: Vec<u8> = b"%PDF-1.4\nsigned delivery note\n\x00\x01\x02".to_vec();
    let file = db.dir.path().join("afleverbon.pdf");
    std::fs::write(&file, &proof).expect("write proof");
    let sha = incasso_dossier::sha256_hex(&proof);
    let attached = db.json(&[
        "case",
        "attach",
        &id,
        file.to_str().unwrap(),
        "--kind",
        "proof",
        "--note",
        "getekend",
        "--date",
        "2026-01-09",
    ]);
    assert_eq!(attached["sha256"], sha.as_str(), "{attached}");
    assert_eq!(attached["created"], true);
    assert_eq!(attached["media_type"], "application/pdf");
    let seq = attached["event_seq"].as_u64().expect("seq");
    let again = db.json(&[
        "case",
        "attach",
        &id,
        file.to_str().unwrap(),
        "--kind",
        "proof",
    ]);
    assert_eq!(
        again["created"], false,
        "the same proof twice is stored once"
    );
    let bad = db.run(&[
        "case",
        "attach",
        &id,
        file.to_str().unwrap(),
        "--kind",
        "selfie",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--kind"));

    // The timeline shows the document with its hash prefix.
    let shown = db.ok(&["case", "show", &id]);
    assert!(shown.contains("document_added"), "{shown}");
    assert!(shown.contains(&sha[..12]), "{shown}");
    assert!(shown.contains("afleverbon.pdf"), "{shown}");
    let shown_json = db.json(&["case", "show", &id]);
    let events = shown_json["events"].as_array().expect("events");
    assert_eq!(events.last().unwrap()["document"]["sha256"], sha.as_str());

    // Verify: OK with the counts and the head.
    let ok = db.ok(&["case", "verify", &id]);
    assert!(
        ok.starts_with(&format!(
            "OK case {id}: {} events, 1 documents, head ",
            events.len()
        )),
        "{ok}"
    );
    let head = events.last().unwrap()["hash"].as_str().unwrap().to_string();
    assert!(ok.trim_end().ends_with(&head), "{ok}");

    // Export: every file listed in the manifest with its hash; the document unchanged; the
    // event log verifies on its own.
    let zip_path = db.dir.path().join("case.zip");
    let exported = db.json(&["case", "export", &id, "--out", zip_path.to_str().unwrap()]);
    assert_eq!(exported["head"], head.as_str());
    assert_eq!(exported["index_pdf"], true, "{exported}");
    let files = read_zip(&zip_path);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let doc_name = format!("documents/{seq:04}-proof-afleverbon.pdf");
    for expected in [
        "index.pdf",
        "index.txt",
        "index.json",
        "events.json",
        doc_name.as_str(),
        "manifest.sha256",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let get = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .expect(name)
    };
    assert_eq!(get(&doc_name), proof);
    let manifest = String::from_utf8(get("manifest.sha256")).expect("utf8");
    assert_eq!(
        manifest.lines().count(),
        files.len() - 1,
        "every other file is listed"
    );
    for line in manifest.lines() {
        let (hash, name) = line.split_once("  ").expect("sha256sum line");
        assert_eq!(incasso_dossier::sha256_hex(&get(name)), hash, "{name}");
    }
    let log: Value = serde_json::from_slice(&get("events.json")).expect("events.json");
    assert_eq!(log["head"], head.as_str());
    let chain: Vec<incasso_dossier::Chained> =
        serde_json::from_value(log["events"].clone()).expect("chain");
    assert_eq!(incasso_dossier::verify(&chain), Ok(()));
    assert_eq!(
        chain.last().unwrap().event.document.as_deref(),
        Some(sha.as_str())
    );
    // The documented independent check (docs/dossier.md) agrees.
    let log_path = db.dir.path().join("events.json");
    std::fs::write(&log_path, get("events.json")).expect("write events.json");
    let py = std::process::Command::new("python3")
        .arg(data("verify_dossier.py"))
        .arg(&log_path)
        .output()
        .expect("python3 (Debian package python3) runs the documented verifier");
    let py_out = String::from_utf8_lossy(&py.stdout);
    assert!(
        py.status.success(),
        "{py_out} {}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert!(py_out.contains(&head), "{py_out}");
    let index: Value = serde_json::from_slice(&get("index.json")).expect("index.json");
    assert_eq!(index["case_id"], case);
    assert_eq!(index["creditor"]["name"], "Voorbeeld B.V.");
    assert!(!index["claims"].as_array().unwrap().is_empty());
    assert_eq!(
        index["timeline"].as_array().unwrap().last().unwrap()["document"],
        doc_name.as_str()
    );
    let text = String::from_utf8(get("index.txt")).unwrap();
    assert!(
        text.contains("Voorbeeld B.V.") && text.contains(&head),
        "{text}"
    );

    // index.pdf: listed in the manifest with its hash, and it shows the debtor, an invoice,
    // the total of the calculation sheet and the timeline.
    let pdf = get("index.pdf");
    assert!(pdf.starts_with(b"%PDF-"), "index.pdf is a PDF");
    assert!(
        manifest.contains(&format!(
            "{}  index.pdf\n",
            incasso_dossier::sha256_hex(&pdf)
        )),
        "{manifest}"
    );
    let shown = pdf_text(db, &pdf);
    let debtor = index["debtor"]["name"].as_str().expect("debtor name");
    let invoice = index["claims"][0]["number"].as_str().expect("invoice");
    let total = index["sheet"]["total_cents"].as_i64().expect("sheet total");
    assert!(total > 0, "{index}");
    let interest = index["sheet"]["interest_total_cents"]
        .as_i64()
        .expect("interest");
    assert_eq!(
        total,
        index["sheet"]["open_cents"].as_i64().unwrap()
            + interest
            + index["sheet"]["costs_cents"].as_i64().unwrap()
    );
    for needle in [
        debtor.to_string(),
        invoice.to_string(),
        format!("Totaal verschuldigd {}", euro_nl(total)),
        "document_added".to_string(),
        "afleverbon.pdf".to_string(),
        "Dossieroverzicht".to_string(),
    ] {
        assert!(shown.contains(&needle), "{needle:?} in {shown}");
    }
    // The English index of the same case.
    let en_path = db.dir.path().join("case-en.zip");
    db.ok(&[
        "case",
        "export",
        &id,
        "--out",
        en_path.to_str().unwrap(),
        "--language",
        "en",
    ]);
    let en = read_zip(&en_path);
    let en_pdf = &en
        .iter()
        .find(|(n, _)| n == "index.pdf")
        .expect("index.pdf")
        .1;
    let en_text = pdf_text(db, en_pdf);
    assert!(en_text.contains("Case file index"), "{en_text}");
    assert!(en_text.contains("Total due"), "{en_text}");
    let bad = db.run(&[
        "case",
        "export",
        &id,
        "--out",
        en_path.to_str().unwrap(),
        "--language",
        "xx",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--language"));

    // Tamper with the first event: verify names it and fails; export refuses.
    tamper(db, case, 1);
    let broken = db.run(&["case", "verify", &id]);
    assert!(!broken.status.success(), "verify must fail");
    let said = String::from_utf8_lossy(&broken.stdout);
    assert!(
        said.contains(&format!("BROKEN case {id}: event 1:")),
        "{said}"
    );
    assert!(said.contains("a field was changed"), "{said}");
    let verdict = db.run(&["case", "verify", &id, "--json"]);
    let v: Value = serde_json::from_slice(&verdict.stdout).expect("json");
    assert_eq!(v["ok"], false);
    assert_eq!(v["broken_event"], 1);
    let refused = db.run(&[
        "case",
        "export",
        &id,
        "--out",
        db.dir.path().join("bad.zip").to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not verify"));
    assert!(!db.dir.path().join("bad.zip").exists());
});

/// Replaces the bytes of document `id` underneath the store, past the append-only trigger.
fn swap_document(db: &Db, id: i64, bytes: &[u8]) {
    if db.url.starts_with("postgres") {
        let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
        c.batch_execute("ALTER TABLE documents DISABLE TRIGGER documents_append_only")
            .expect("disable");
        let n = c
            .execute(
                "UPDATE documents SET bytes = $2 WHERE id = $1",
                &[&id, &bytes],
            )
            .expect("tamper");
        assert_eq!(n, 1);
    } else {
        let c = rusqlite::Connection::open(&db.url).expect("open");
        c.execute_batch("DROP TRIGGER documents_no_update")
            .expect("drop");
        let n = c
            .execute(
                "UPDATE documents SET bytes = ?2 WHERE id = ?1",
                rusqlite::params![id, bytes],
            )
            .expect("tamper");
        assert_eq!(n, 1);
    }
}

both_backends!(a_swapped_document_is_named, |db: &Db| {
    db.add_creditor();
    db.ok(&["import", "invoices", data("ladder.csv").to_str().unwrap()]);
    db.json(&["run", "--date", "2026-01-07", "--force"]);
    let case = db.json(&["case", "list"])["cases"][0]["id"]
        .as_i64()
        .expect("case");
    let id = case.to_string();
    let file = db.dir.path().join("akkoord.txt");
    std::fs::write(&file, "Ik ga akkoord met de betalingsregeling.\n").expect("write");
    let added = db.json(&[
        "case",
        "attach",
        &id,
        file.to_str().unwrap(),
        "--kind",
        "agreement",
    ]);
    let doc = added["document"].as_i64().expect("document id");
    let seq = added["event_seq"].as_u64().expect("seq");
    db.ok(&["case", "verify", &id]);
    swap_document(db, doc, b"Ik ga niet akkoord.\n");
    let out = db.run(&["case", "verify", &id]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!(
            "document {doc} (akkoord.txt, event {seq}): bytes do not match the recorded SHA-256"
        )),
        "{said}"
    );
});
