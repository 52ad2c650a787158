//! `incasso dispatch` with the real letter and dossier hooks, end to end: the e-mail carries the
//! step's letter PDF (the same bytes `incasso letter preview` renders, with the total, the
//! payment reference and the portal link), every sent message and its letter land in the
//! case's dossier (`case show`, `case verify`), a second run records nothing, a broken letter
//! template stops the run before anything is sent, an open payment link shows in letters, and
//! the PDF embedded in an imported UBL invoice goes along with the letter.

use std::path::Path;
use std::process::Command;

use incasso_messaging::sink::{SinkMode, SmtpSink};
use serde_json::Value;

use crate::paylink::{fake_mollie, incasso, json_of};
use crate::{Db, both_backends, data, ubl_sample};

const PORTAL: &str = "https://portaal.example/c/{case}";

fn pdftotext(pdf: &[u8], dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, pdf).expect("write pdf");
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(out.status.success(), "pdftotext {name}");
    String::from_utf8_lossy(&out.stdout)
        .replace('\u{a0}', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `€ 1.234,56`, as the Dutch letters write amounts.
fn nl_amount(cents: i64) -> String {
    let euros = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in euros.chars().enumerate() {
        if i > 0 && (euros.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("€ {grouped},{:02}", cents % 100)
}

/// The PDF attachments of a raw message: (file name, bytes).
fn pdf_attachments(raw: &[u8]) -> Vec<(String, Vec<u8>)> {
    fn walk(part: &mailparse::ParsedMail<'_>, out: &mut Vec<(String, Vec<u8>)>) {
        if part.ctype.mimetype == "application/pdf" {
            let name = part
                .get_content_disposition()
                .params
                .get("filename")
                .cloned()
                .unwrap_or_default();
            out.push((name, part.get_body_raw().expect("attachment body")));
        }
        for p in &part.subparts {
            walk(p, out);
        }
    }
    let mail = mailparse::parse_mail(raw).expect("a parseable message");
    let mut out = Vec::new();
    walk(&mail, &mut out);
    out
}

fn header(raw: &[u8], name: &str) -> String {
    use mailparse::MailHeaderMap;
    mailparse::parse_mail(raw)
        .expect("message")
        .headers
        .get_first_value(name)
        .unwrap_or_default()
}

fn setup(db: &Db) {
    db.add_creditor();
    db.ok(&["import", "invoices", data("ladder.csv").to_str().unwrap()]);
    let run = db.json(&["run", "--date", "2026-01-07", "--force"]);
    assert_eq!(run["actions_created"], 2, "{run}");
}

fn dispatch_args(sink: &SmtpSink, now: &str) -> Vec<String> {
    [
        "dispatch",
        "--now",
        now,
        "--channel",
        "email",
        "--smtp-url",
        &format!("smtp://127.0.0.1:{}?tls=none", sink.port()),
        "--from",
        "debiteuren@voorbeeld.example",
        "--portal-url",
        PORTAL,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn dispatch(db: &Db, sink: &SmtpSink, now: &str) -> Value {
    let args = dispatch_args(sink, now);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    db.json(&args)
}

fn documents(db: &Db, case: i64) -> Vec<Value> {
    let show = db.json(&["case", "show", &case.to_string()]);
    show["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e.get("document").filter(|d| !d.is_null()).cloned())
        .collect()
}

both_backends!(
    dispatched_emails_carry_the_letter_and_land_in_the_dossier,
    |db: &Db| {
        setup(db);
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let r = dispatch(db, &sink, "2026-01-08T10:00");
        assert_eq!(r["sent"], 2, "{r}");
        assert_eq!(sink.count(), 2);

        let mut cases = Vec::new();
        for (i, m) in sink.received().iter().enumerate() {
            let pdfs = pdf_attachments(&m.data);
            let (name, pdf) = pdfs
                .iter()
                .find(|(n, _)| n.starts_with("payment_reminder-"))
                .unwrap_or_else(|| panic!("no letter attached: {pdfs:?}"));
            let case: i64 = name
                .trim_start_matches("payment_reminder-")
                .trim_end_matches(".pdf")
                .parse()
                .expect("<step>-<case>.pdf");
            cases.push(case);
            assert!(
                header(&m.data, "Content-Type").starts_with("multipart/mixed"),
                "attachments make a mixed message"
            );

            // The letter is the very letter `letter preview` renders for that case and day.
            let preview_path = db.dir.path().join(format!("preview-{case}.pdf"));
            let preview = db.json(&[
                "letter",
                "preview",
                "--case",
                &case.to_string(),
                "--step",
                "payment_reminder",
                "--date",
                "2026-01-08",
                "--email",
                "--portal-url",
                PORTAL,
                "--out",
                preview_path.to_str().unwrap(),
            ]);
            assert_eq!(
                &std::fs::read(&preview_path).unwrap(),
                pdf,
                "the e-mailed letter is the previewed one"
            );
            let text = pdftotext(pdf, db.dir.path(), &format!("mail-{i}.pdf"));
            let total = nl_amount(preview["total_cents"].as_i64().expect("total"));
            let reference = preview["reference"].as_str().expect("reference");
            assert!(text.contains(&total), "{total} not in {text}");
            assert!(
                text.contains(reference) && !reference.is_empty(),
                "{reference} not in {text}"
            );
            assert!(
                text.contains(&format!("https://portaal.example/c/{case}")),
                "{text}"
            );

            // The dossier: the letter, then the e-mail with its Message-ID.
            let message_id = header(&m.data, "Message-ID");
            let message_id = message_id.trim_matches(['<', '>']);
            let show = db.ok(&["case", "show", &case.to_string()]);
            assert!(
                show.contains(&format!("brief vastgelegd: {name}")),
                "{show}"
            );
            assert!(
                show.contains(&format!("Message-ID <{message_id}>")),
                "{show}"
            );
            let docs = documents(db, case);
            assert_eq!(docs.len(), 2, "{docs:?}");
            assert_eq!(docs[0]["kind"], "letter");
            assert_eq!(docs[0]["media_type"], "application/pdf");
            assert_eq!(docs[0]["size"], pdf.len());
            assert_eq!(docs[1]["kind"], "email");
            assert_eq!(docs[1]["media_type"], "message/rfc822");
            assert!(docs[1]["filename"].as_str().unwrap().ends_with("-1.eml"));
            assert!(docs[1]["size"].as_u64().unwrap() > pdf.len() as u64);
            let verify = db.json(&["case", "verify", &case.to_string()]);
            assert_eq!(verify["ok"], true, "{verify}");
            assert_eq!(verify["documents"], 2, "{verify}");
        }
        cases.sort();
        cases.dedup();
        assert_eq!(cases.len(), 2, "one letter per case");

        // A second run sends and records nothing.
        let before: Vec<usize> = cases.iter().map(|c| documents(db, *c).len()).collect();
        let again = dispatch(db, &sink, "2026-01-08T11:00");
        assert_eq!(again["sent"], 0, "{again}");
        assert_eq!(again["not_in_dossier"], 0, "{again}");
        assert_eq!(sink.count(), 2);
        let after: Vec<usize> = cases.iter().map(|c| documents(db, *c).len()).collect();
        assert_eq!(before, after, "nothing new in the dossier");
    }
);

both_backends!(
    a_broken_letter_template_stops_dispatch_before_anything_is_sent,
    |db: &Db| {
        setup(db);
        let dir = db.dir.path().join("letters");
        std::fs::create_dir_all(dir.join("nl")).unwrap();
        std::fs::write(
            dir.join("nl/payment_reminder.typ"),
            "#import \"lang.typ\": *\n#show: letter.with(subject: [Herinnering]\n\n#invoice-table()\n",
        )
        .unwrap();
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let mut args = dispatch_args(&sink, "2026-01-08T10:00");
        args.push("--letter-templates".into());
        args.push(dir.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = db.run(&args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("nl/payment_reminder.typ"), "{err}");
        assert!(err.contains("line "), "{err}");
        assert_eq!(sink.count(), 0, "nothing was sent");
        let failed = db.json(&["dispatch", "failed"]);
        assert_eq!(failed["count"], 0, "nothing was even attempted: {failed}");
        let outbox = db.json(&["outbox", "list"]);
        assert!(
            outbox["actions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["status"] == "queued"),
            "{outbox}"
        );
    }
);

both_backends!(an_open_payment_link_is_printed_in_the_letters, |db: &Db| {
    let (base, _fake) = fake_mollie();
    setup(db);
    let cases = db.json(&["case", "list"]);
    let els = cases["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| db.json(&["case", "show", &c["id"].to_string()])["debtor"] == "Els de Boer")
        .expect("Els de Boer's case")["id"]
        .as_i64()
        .expect("id");
    let link = json_of(
        incasso(
            db,
            &base,
            &[
                "payments",
                "link",
                "create",
                "--case",
                &els.to_string(),
                "--as-of",
                "2026-01-07",
                "--json",
            ],
        )
        .output()
        .expect("run"),
        "create link",
    );
    let url = link["url"].as_str().expect("url").to_string();
    assert_eq!(url, "https://paymentlink.mollie.com/payment/fake1/");

    let out = db.dir.path().join("els.pdf");
    db.ok(&[
        "letter",
        "preview",
        "--case",
        &els.to_string(),
        "--step",
        "payment_reminder",
        "--date",
        "2026-01-08",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = pdftotext(&std::fs::read(&out).unwrap(), db.dir.path(), "els-text.pdf");
    assert!(text.contains(&url), "{text}");
    assert!(
        !text.contains("portaal.example"),
        "no portal link unless configured"
    );

    // The e-mailed letter carries it too; the other case has no link.
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let r = dispatch(db, &sink, "2026-01-08T10:00");
    assert_eq!(r["sent"], 2, "{r}");
    let mut with_link = 0;
    for (i, m) in sink.received().iter().enumerate() {
        let (name, pdf) = pdf_attachments(&m.data).into_iter().next().expect("letter");
        let text = pdftotext(&pdf, db.dir.path(), &format!("link-{i}.pdf"));
        if name == format!("payment_reminder-{els}.pdf") {
            assert!(text.contains(&url), "{text}");
            with_link += 1;
        } else {
            assert!(!text.contains("paymentlink.mollie.com"), "{text}");
        }
    }
    assert_eq!(with_link, 1);
});

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

both_backends!(
    the_pdf_of_an_imported_ubl_invoice_goes_with_the_letter,
    |db: &Db| {
        db.add_creditor();
        // A Peppol sample whose embedded document is made a real PDF.
        let invoice_pdf = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../messaging/tests/data/letter.pdf"),
        )
        .unwrap();
        let xml = std::fs::read_to_string(ubl_sample("peppol-bis3/snippets/payment-credit.xml"))
            .unwrap()
            .replace(
                r#"mimeCode="text/csv" filename="milage.csv">bWlsYWdlIHJlcG9ydA=="#,
                &format!(
                    r#"mimeCode="application/pdf" filename="Snippet1.pdf">{}"#,
                    base64(&invoice_pdf)
                ),
            );
        assert!(xml.contains("Snippet1.pdf"));
        let path = db.dir.path().join("snippet.xml");
        std::fs::write(&path, xml).unwrap();
        db.ok(&["import", "invoices", path.to_str().unwrap()]);
        let run = db.json(&["run", "--date", "2018-01-10", "--force"]);
        assert_eq!(run["actions_created"], 1, "{run}");

        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let r = dispatch(db, &sink, "2018-01-11T10:00");
        assert_eq!(r["sent"], 1, "{r}");
        let mail = &sink.received()[0];
        assert_eq!(mail.rcpt_to, vec!["lj@buyer.se"]);
        let pdfs = pdf_attachments(&mail.data);
        let names: Vec<&str> = pdfs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(
            names[0].ends_with(".pdf") && names[0] != "Snippet1.pdf",
            "{names:?}"
        );
        assert_eq!(pdfs[1].0, "Snippet1.pdf");
        assert_eq!(pdfs[1].1, invoice_pdf, "the invoice PDF as imported");
        let letter = pdftotext(&pdfs[0].1, db.dir.path(), "ubl-letter.pdf");
        assert!(letter.contains("Snippet1"), "{letter}");
        assert!(letter.contains("€ 3.762,50"), "the open amount: {letter}");
    }
);
