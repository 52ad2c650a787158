//! SEPA direct debit end to end through the binary: mandates, the creditor identifier, the
//! pain.008 export for a collection date (validated with xmllint against the ISO XSDs kept with
//! the pain.008 writer's tests), FRST then RCUR, a second export of the same date collecting
//! nothing twice, amendments reported once, plan instalments, and a returned collection
//! reopening its claim through the bank import.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::{Db, both_backends};

const CI: &str = "NL57ZZZ999999999999";

/// The ISO XSDs (copies with their licence note in `crates/formats/pain008/tests/data`).
fn xsd(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../formats/pain008/tests/data")
        .join(format!("{version}.xsd"))
}

/// Validates a file with xmllint (Debian: libxml2-utils) against the version's XSD.
fn xmllint(file: &Path, version: &str) {
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd(version))
        .arg(file)
        .output()
        .expect("xmllint must be installed (Debian package libxml2-utils)");
    assert!(
        out.status.success(),
        "{} does not validate against {version}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(db: &Db, name: &str, text: &str) -> String {
    let path = db.dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

const INVOICES: &str = "invoice_number;issue_date;due_date;gross_amount;debtor_number;debtor_name;debtor_kind;postal_code;email
A-1;2026-01-02;2026-02-01;120,00;K1;Jan Jansen;consumer;1011 AA;jan@example.nl
A-2;2026-01-05;2026-03-02;30,50;K1;Jan Jansen;consumer;1011 AA;jan@example.nl
A-3;2026-02-20;2026-03-25;10,00;K1;Jan Jansen;consumer;1011 AA;jan@example.nl
A-4;2026-03-20;2026-04-20;20,00;K1;Jan Jansen;consumer;1011 AA;jan@example.nl
B-1;2026-01-02;2026-02-01;99,99;K2;Els de Boer;consumer;3511 AB;els@example.nl
B-2;2026-02-20;2026-03-20;45,00;K2;Els de Boer;consumer;3511 AB;els@example.nl
C-1;2026-01-02;2026-02-01;70,00;K3;Geen Mandaat;consumer;1234 AB;c@example.nl
D-1;2026-01-02;2026-02-01;80,00;K4;Ingetrokken B.V.;business;1234 CD;d@example.nl
";

fn setup(db: &Db) {
    db.add_creditor();
    let file = write(db, "invoices.csv", INVOICES);
    db.ok(&["import", "invoices", &file]);
}

fn export(db: &Db, day: &str, created: &str, format: &str, out: &str) -> (Value, PathBuf) {
    let path = db.dir.path().join(out);
    let v = db.json(&[
        "export",
        "direct-debit",
        "--collection-date",
        day,
        "--created-at",
        created,
        "--format",
        format,
        "--out",
        path.to_str().unwrap(),
    ]);
    (v, path)
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

fn mandate<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["mandates"]
        .as_array()
        .expect("mandates")
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("mandate {id} in {list}"))
}

fn fails(db: &Db, args: &[&str]) -> String {
    let out = db.run(args);
    assert!(
        !out.status.success(),
        "incasso {args:?} should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

both_backends!(
    first_then_recurring_validates_and_collects_once,
    |db: &Db| {
        setup(db);
        // The dummy identifier of many bank manuals fails ISO 7064 and is refused, naming it.
        let e = fails(db, &["mandate", "creditor-id", "NL98ZZZ999999999999"]);
        assert!(
            e.contains("creditor identifier") && e.contains("mod 97-10"),
            "{e}"
        );
        // No identifier yet: the export says what to do.
        let e = fails(
            db,
            &[
                "export",
                "direct-debit",
                "--collection-date",
                "2026-03-02",
                "--out",
                "x.xml",
            ],
        );
        assert!(e.contains("creditor identifier"), "{e}");
        let ci = db.json(&["mandate", "creditor-id", CI]);
        assert_eq!(ci["creditor_id"], CI);

        let add = |debtor: &str, id: &str, iban: &str, extra: &[&str]| {
            let mut args = vec![
                "mandate",
                "add",
                "--debtor",
                debtor,
                "--id",
                id,
                "--signed",
                "2026-01-10",
                "--iban",
                iban,
            ];
            args.extend_from_slice(extra);
            db.json(&args)
        };
        let m1 = add("K1", "M-K1", "NL44RABO0123456789", &[]);
        assert_eq!(m1["sequence"], "FRST");
        add("K2", "M-K2", "NL20INGB0001234567", &["--bic", "INGBNL2A"]);
        add("K4", "M-K4", "NL91ABNA0417164300", &[]);
        db.ok(&["mandate", "revoke", "M-K4", "--on", "2026-02-15"]);

        // Bad input: each error names its field, and nothing is stored.
        let e = fails(
            db,
            &[
                "mandate",
                "add",
                "--debtor",
                "K9",
                "--id",
                "M-9",
                "--signed",
                "2026-01-10",
                "--iban",
                "NL44RABO0123456789",
            ],
        );
        assert!(e.contains("--debtor"), "{e}");
        let e = fails(
            db,
            &[
                "mandate",
                "add",
                "--debtor",
                "K3",
                "--id",
                "M-K1",
                "--signed",
                "2026-01-10",
                "--iban",
                "NL44RABO0123456789",
            ],
        );
        assert!(e.contains("--id") && e.contains("already used"), "{e}");
        let e = fails(
            db,
            &[
                "mandate",
                "add",
                "--debtor",
                "K3",
                "--id",
                "M_3",
                "--signed",
                "2026-01-10",
                "--iban",
                "NL44RABO0123456789",
            ],
        );
        assert!(e.contains("--id"), "{e}");
        let e = fails(
            db,
            &[
                "mandate",
                "add",
                "--debtor",
                "K3",
                "--id",
                "M-3",
                "--signed",
                "2026-01-10",
                "--iban",
                "NL44RABO0123456780",
            ],
        );
        assert!(e.contains("--iban"), "{e}");
        let e = fails(
            db,
            &[
                "mandate",
                "add",
                "--debtor",
                "K3",
                "--id",
                "M-3",
                "--signed",
                "2026-01-10",
                "--iban",
                "NL44RABO0123456789",
                "--sequence",
                "once",
            ],
        );
        assert!(e.contains("--sequence"), "{e}");
        let e = fails(
            db,
            &[
                "mandate",
                "add",
                "--debtor",
                "K3",
                "--id",
                "M-3",
                "--signed",
                "2999-01-10",
                "--iban",
                "NL44RABO0123456789",
            ],
        );
        assert!(e.contains("--signed"), "{e}");
        let list = db.json(&["mandate", "list"]);
        assert_eq!(list["count"], 3, "{list}");
        assert_eq!(list["creditor_id"], CI);

        // A Saturday is no TARGET2 business day; a wrong format is named.
        let e = fails(
            db,
            &[
                "export",
                "direct-debit",
                "--collection-date",
                "2026-02-28",
                "--created-at",
                "2026-02-26T10:00:00",
                "--out",
                "x.xml",
            ],
        );
        assert!(
            e.contains("--collection-date") && e.contains("2026-03-02"),
            "{e}"
        );
        let e = fails(
            db,
            &[
                "export",
                "direct-debit",
                "--collection-date",
                "2026-03-02",
                "--format",
                "pain.008.001.99",
                "--out",
                "x.xml",
            ],
        );
        assert!(e.contains("--format"), "{e}");
        assert!(!db.dir.path().join("x.xml").exists());

        // First export: K1 (A-1, A-2) and K2 (B-1) as FRST; not K3 (no mandate), K4 (revoked),
        // nor what falls due later (A-3, A-4, B-2).
        let (s, path) = export(
            db,
            "2026-03-02",
            "2026-02-26T10:00:00",
            "pain.008.001.02",
            "dd1.xml",
        );
        assert_eq!(s["recorded"], true, "{s}");
        assert_eq!(s["message_id"], "DD20260302-1");
        assert_eq!(s["count"], 2);
        assert_eq!(s["total"], "250.49");
        assert_eq!(s["by_sequence"].as_array().unwrap().len(), 1, "{s}");
        assert_eq!(s["by_sequence"][0]["sequence"], "FRST");
        assert_eq!(s["by_sequence"][0]["count"], 2);
        assert_eq!(s["by_sequence"][0]["total"], "250.49");
        assert_eq!(s["amendments"], 0);
        xmllint(&path, "pain.008.001.02");
        let xml = std::fs::read_to_string(&path).expect("read");
        assert!(xml.contains("xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.008.001.02\""));
        assert_eq!(count(&xml, "<NbOfTxs>2</NbOfTxs>"), 2, "header and block");
        assert_eq!(count(&xml, "<CtrlSum>250.49</CtrlSum>"), 2);
        assert_eq!(count(&xml, "<SeqTp>FRST</SeqTp>"), 1);
        assert_eq!(count(&xml, "<DrctDbtTxInf>"), 2);
        assert!(
            xml.contains("<InstdAmt Ccy=\"EUR\">150.50</InstdAmt>"),
            "A-1 + A-2 in one collection"
        );
        assert!(xml.contains("<InstdAmt Ccy=\"EUR\">99.99</InstdAmt>"));
        assert!(xml.contains("<Ustrd>Facturen A-1 A-2</Ustrd>"), "{xml}");
        assert!(xml.contains("<EndToEndId>DD20260302-1-1</EndToEndId>"));
        assert!(xml.contains("<Id>NL57ZZZ999999999999</Id>"));
        assert!(xml.contains("<BIC>INGBNL2A</BIC>"));
        assert_eq!(count(&xml, "<AmdmntInd>false</AmdmntInd>"), 2);
        assert!(!xml.contains("C-1") && !xml.contains("M-K4"));

        // The same date again: nothing new; the same file is written again, byte for byte.
        let (again, path2) = export(
            db,
            "2026-03-02",
            "2026-02-27T11:00:00",
            "pain.008.001.02",
            "dd1-again.xml",
        );
        assert_eq!(again["recorded"], false, "{again}");
        assert_eq!(again["message_id"], "DD20260302-1");
        assert_eq!(again["count"], 2);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&path2).unwrap()
        );

        // The sequence type moved on once.
        let list = db.json(&["mandate", "list"]);
        for id in ["M-K1", "M-K2"] {
            let m = mandate(&list, id);
            assert_eq!(m["sequence"], "RCUR", "{m}");
            assert_eq!(m["last_collection"], "2026-03-02");
        }
        assert_eq!(mandate(&list, "M-K4")["status"], "revoked");

        // Next month, pain.008.001.08: A-3 and B-2 as RCUR.
        let (s2, path3) = export(
            db,
            "2026-04-01",
            "2026-03-27T10:00:00",
            "pain.008.001.08",
            "dd2.xml",
        );
        assert_eq!(s2["recorded"], true);
        assert_eq!(s2["message_id"], "DD20260401-1");
        assert_eq!(s2["count"], 2);
        assert_eq!(s2["total"], "55.00");
        assert_eq!(s2["by_sequence"][0]["sequence"], "RCUR");
        assert_eq!(s2["by_sequence"][0]["count"], 2);
        xmllint(&path3, "pain.008.001.08");
        let xml = std::fs::read_to_string(&path3).expect("read");
        assert!(xml.contains("xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.008.001.08\""));
        assert!(xml.contains("<BICFI>INGBNL2A</BICFI>"));
        assert_eq!(count(&xml, "<SeqTp>RCUR</SeqTp>"), 1);
        assert_eq!(count(&xml, "<SeqTp>FRST</SeqTp>"), 0);
        assert_eq!(count(&xml, "<CtrlSum>55.00</CtrlSum>"), 2);
        assert!(
            !xml.contains("A-1") && !xml.contains("B-1"),
            "collected before"
        );

        // An earlier batch can be written again by its message id.
        let path4 = db.dir.path().join("dd1-copy.xml");
        let copy = db.json(&[
            "export",
            "direct-debit",
            "--collection-date",
            "2026-03-02",
            "--created-at",
            "2026-03-27T10:00:00",
            "--message-id",
            "DD20260302-1",
            "--out",
            path4.to_str().unwrap(),
        ]);
        assert_eq!(copy["recorded"], false);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&path4).unwrap()
        );
    }
);

both_backends!(amendments_are_reported_once, |db: &Db| {
    setup(db);
    db.ok(&["mandate", "creditor-id", CI]);
    db.ok(&[
        "mandate",
        "add",
        "--debtor",
        "K1",
        "--id",
        "M-K1",
        "--signed",
        "2026-01-10",
        "--iban",
        "NL44RABO0123456789",
    ]);
    // An amendment before the first collection is nothing the bank must hear of.
    let early = db.json(&[
        "mandate",
        "amend",
        "M-K1",
        "--iban",
        "NL39RABO0300065264",
        "--on",
        "2026-01-20",
    ]);
    assert_eq!(early["amendment_pending"], false, "{early}");
    let (s, _) = export(
        db,
        "2026-03-02",
        "2026-02-26T10:00:00",
        "pain.008.001.02",
        "dd1.xml",
    );
    assert_eq!(
        (s["count"].as_u64(), s["amendments"].as_u64()),
        (Some(1), Some(0))
    );

    // New reference and a new account at the same bank: the next collection reports both
    // originals, stays RCUR.
    let a = db.json(&[
        "mandate",
        "amend",
        "M-K1",
        "--new-id",
        "M-K1-B",
        "--iban",
        "NL44RABO0123456789",
        "--on",
        "2026-03-10",
    ]);
    assert_eq!(a["amendment_pending"], true, "{a}");
    assert_eq!(a["other_bank"], false);
    assert_eq!(a["original_id"], "M-K1");
    assert_eq!(a["original_iban"], "NL39RABO0300065264");
    assert_eq!(a["sequence"], "RCUR");
    let e = fails(
        db,
        &["mandate", "amend", "M-K1", "--iban", "NL44RABO0123456789"],
    );
    assert!(e.contains("M-K1") && e.contains("not found"), "{e}");
    let e = fails(db, &["mandate", "amend", "M-K1-B"]);
    assert!(e.contains("nothing to amend"), "{e}");

    let (s, path) = export(
        db,
        "2026-04-01",
        "2026-03-27T10:00:00",
        "pain.008.001.02",
        "dd2.xml",
    );
    assert_eq!(s["count"], 1);
    assert_eq!(s["amendments"], 1);
    assert_eq!(s["by_sequence"][0]["sequence"], "RCUR");
    xmllint(&path, "pain.008.001.02");
    let xml = std::fs::read_to_string(&path).expect("read");
    assert!(xml.contains("<MndtId>M-K1-B</MndtId>"));
    assert!(xml.contains("<AmdmntInd>true</AmdmntInd>"), "{xml}");
    assert!(xml.contains("<OrgnlMndtId>M-K1</OrgnlMndtId>"));
    assert!(xml.contains("<OrgnlDbtrAcct>\n                <Id>\n                  <IBAN>NL39RABO0300065264</IBAN>"), "{xml}");

    // Reported once: the mandate has nothing pending any more.
    let list = db.json(&["mandate", "list"]);
    assert_eq!(mandate(&list, "M-K1-B")["amendment_pending"], false);

    // The debtor moves to another bank: SMNDA, and the next collection is FRST.
    let b = db.json(&[
        "mandate",
        "amend",
        "M-K1-B",
        "--iban",
        "NL20INGB0001234567",
        "--on",
        "2026-04-05",
    ]);
    assert_eq!(b["other_bank"], true, "{b}");
    assert_eq!(b["sequence"], "FRST");
    let (s, path) = export(
        db,
        "2026-04-24",
        "2026-04-21T10:00:00",
        "pain.008.001.08",
        "dd3.xml",
    );
    assert_eq!(s["count"], 1);
    assert_eq!(s["amendments"], 1);
    assert_eq!(s["total"], "20.00");
    assert_eq!(s["by_sequence"][0]["sequence"], "FRST");
    xmllint(&path, "pain.008.001.08");
    let xml = std::fs::read_to_string(&path).expect("read");
    assert!(xml.contains("<AmdmntInd>true</AmdmntInd>"));
    assert!(xml.contains("<Id>SMNDA</Id>"), "{xml}");
    assert!(
        !xml.contains("<OrgnlMndtId>"),
        "the reference change was reported before"
    );
    let list = db.json(&["mandate", "list"]);
    let m = mandate(&list, "M-K1-B");
    assert_eq!(m["sequence"], "RCUR");
    assert_eq!(m["amendment_pending"], false);

    // The history tells the story.
    let show = db.json(&["mandate", "show", "M-K1-B"]);
    let kinds: Vec<&str> = show["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "added",
            "amended",
            "collected",
            "amended",
            "collected",
            "amended",
            "collected"
        ]
    );
});

both_backends!(plan_instalments_are_collected_one_by_one, |db: &Db| {
    db.add_creditor();
    let file = write(
        db,
        "plan.csv",
        "invoice_number;issue_date;due_date;gross_amount;debtor_number;debtor_name;debtor_kind;postal_code;email
P-1;2026-01-02;2026-01-20;300,00;K5;Piet Plan;consumer;1011 AA;piet@example.nl
",
    );
    db.ok(&["import", "invoices", &file]);
    db.ok(&["run", "--date", "2026-02-02", "--force"]);
    let plan = db.json(&[
        "case",
        "plan",
        "1",
        "--instalments",
        "3",
        "--date",
        "2026-02-05",
    ]);
    assert_eq!(plan["instalments"][0]["due"], "2026-02-19", "{plan}");
    db.ok(&["mandate", "creditor-id", CI]);
    db.ok(&[
        "mandate",
        "add",
        "--debtor",
        "K5",
        "--id",
        "M-K5",
        "--signed",
        "2026-01-10",
        "--iban",
        "NL44RABO0123456789",
    ]);

    // The invoice is under the plan: only the first instalment is collected, not 300.00.
    let (s, path) = export(
        db,
        "2026-02-20",
        "2026-02-16T10:00:00",
        "pain.008.001.02",
        "p1.xml",
    );
    assert_eq!(s["count"], 1, "{s}");
    assert_eq!(s["total"], "100.00");
    assert_eq!(s["by_sequence"][0]["sequence"], "FRST");
    xmllint(&path, "pain.008.001.02");
    let xml = std::fs::read_to_string(&path).expect("read");
    assert!(
        xml.contains("<Ustrd>Termijn 1/3 Factuur P-1</Ustrd>"),
        "{xml}"
    );
    let (s, path) = export(
        db,
        "2026-03-20",
        "2026-03-16T10:00:00",
        "pain.008.001.02",
        "p2.xml",
    );
    assert_eq!(
        (s["count"].as_u64(), s["total"].as_str()),
        (Some(1), Some("100.00"))
    );
    assert_eq!(s["by_sequence"][0]["sequence"], "RCUR");
    xmllint(&path, "pain.008.001.02");
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("Termijn 2/3")
    );
});

fn camt053(id: &str, closing: &str, entry: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>{id}</MsgId><CreDtTm>2026-03-03T18:00:00</CreDtTm></GrpHdr>
<Stmt><Id>{id}</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-03</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>2026-03-03</Dt></Dt></Bal>
{entry}
</Stmt></BkToCstmrStmt></Document>"#,
        closing = closing.trim_start_matches('-'),
        ind = if closing.starts_with('-') {
            "DBIT"
        } else {
            "CRDT"
        },
    )
}

both_backends!(a_returned_collection_reopens_its_claim, |db: &Db| {
    setup(db);
    db.ok(&["mandate", "creditor-id", CI]);
    db.ok(&[
        "mandate",
        "add",
        "--debtor",
        "K2",
        "--id",
        "M-K2",
        "--signed",
        "2026-01-10",
        "--iban",
        "NL20INGB0001234567",
    ]);
    let (s, path) = export(
        db,
        "2026-03-02",
        "2026-02-26T10:00:00",
        "pain.008.001.02",
        "dd.xml",
    );
    assert_eq!(s["count"], 1);
    let xml = std::fs::read_to_string(&path).expect("read");
    assert!(xml.contains("<EndToEndId>DD20260302-1-1</EndToEndId>"));
    assert!(xml.contains("<Ustrd>Factuur B-1</Ustrd>"));

    // The bank credits the collection (booked per transaction: BtchBookg false), with the
    // end-to-end id and the remittance text the file carried: B-1 is paid.
    let credit = camt053(
        "S1",
        "99.99",
        r#"<Ntry><Amt Ccy="EUR">99.99</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-03</Dt></BookgDt><AcctSvcrRef>DD-CR-1</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>DD20260302-1-1</EndToEndId><MndtId>M-K2</MndtId></Refs><RltdPties><Dbtr><Nm>Els de Boer</Nm></Dbtr><DbtrAcct><Id><IBAN>NL20INGB0001234567</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Ustrd>Factuur B-1</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"#,
    );
    let file = write(db, "credit.xml", &credit);
    let r = db.json(&["import", "bank", &file]);
    assert_eq!(r["imported"][0]["matched"], 1, "{r}");
    assert_eq!(db.json(&["invoices", "show", "B-1"])["open_amount"], "0.00");

    // The debtor has it refunded (MD06): the return names the same end-to-end id, and the
    // claim is open again.
    let ret = camt053(
        "S2",
        "-99.99",
        r#"<Ntry><Amt Ccy="EUR">99.99</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-10</Dt></BookgDt><AcctSvcrRef>DD-RT-1</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>DD20260302-1-1</EndToEndId></Refs><RtrInf><Rsn><Cd>MD06</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>"#,
    );
    let file = write(db, "return.xml", &ret);
    let r = db.json(&["import", "bank", &file]);
    assert_eq!(r["imported"][0]["returned"], 1, "{r}");
    assert_eq!(
        db.json(&["invoices", "show", "B-1"])["open_amount"],
        "99.99"
    );

    // A returned collection is not collected again by itself: the claim goes back to the
    // collection process (the daily run), and the next export leaves B-1 alone.
    let (s, _) = export(
        db,
        "2026-04-01",
        "2026-03-27T10:00:00",
        "pain.008.001.02",
        "dd2.xml",
    );
    assert_eq!(s["count"], 1, "only B-2 (due 2026-03-20): {s}");
    assert_eq!(s["total"], "45.00");
});

both_backends!(a_file_lost_after_recording_is_written_again, |db: &Db| {
    setup(db);
    db.ok(&["mandate", "creditor-id", CI]);
    db.ok(&[
        "mandate",
        "add",
        "--debtor",
        "K1",
        "--id",
        "M-K1",
        "--signed",
        "2026-01-10",
        "--iban",
        "NL44RABO0123456789",
    ]);
    // The batch is recorded, then the file cannot be written (as after a crash between the
    // two): the command fails naming --out.
    let missing = db.dir.path().join("no-such-dir").join("dd.xml");
    let e = fails(
        db,
        &[
            "export",
            "direct-debit",
            "--collection-date",
            "2026-03-02",
            "--created-at",
            "2026-02-26T10:00:00",
            "--out",
            missing.to_str().unwrap(),
        ],
    );
    assert!(e.contains("--out"), "{e}");
    let list = db.json(&["mandate", "list"]);
    assert_eq!(
        mandate(&list, "M-K1")["sequence"],
        "RCUR",
        "recorded before the file"
    );
    // Running it again writes the recorded batch: nothing lost, nothing collected twice.
    let (s, path) = export(
        db,
        "2026-03-02",
        "2026-02-26T12:00:00",
        "pain.008.001.02",
        "dd.xml",
    );
    assert_eq!(s["recorded"], false, "{s}");
    assert_eq!(s["message_id"], "DD20260302-1");
    assert_eq!(s["total"], "150.50");
    assert_eq!(s["by_sequence"][0]["sequence"], "FRST", "as recorded");
    xmllint(&path, "pain.008.001.02");
    let xml = std::fs::read_to_string(&path).expect("read");
    assert!(
        xml.contains("<CreDtTm>2026-02-26T10:00:00</CreDtTm>"),
        "the recorded creation time"
    );

    // A claim that appears later for the same date goes into a second batch of its own.
    db.ok(&[
        "mandate",
        "add",
        "--debtor",
        "K2",
        "--id",
        "M-K2",
        "--signed",
        "2026-01-10",
        "--iban",
        "NL20INGB0001234567",
    ]);
    let (s, path) = export(
        db,
        "2026-03-02",
        "2026-02-26T13:00:00",
        "pain.008.001.02",
        "dd-2.xml",
    );
    assert_eq!(s["recorded"], true, "{s}");
    assert_eq!(s["message_id"], "DD20260302-2");
    assert_eq!(s["total"], "99.99");
    assert_eq!(
        s["batches_for_date"],
        serde_json::json!(["DD20260302-1", "DD20260302-2"])
    );
    xmllint(&path, "pain.008.001.02");
});

both_backends!(
    a_debtor_the_file_cannot_carry_is_skipped_with_the_reason,
    |db: &Db| {
        db.add_creditor();
        let file = write(
        db,
        "names.csv",
        "invoice_number;issue_date;due_date;gross_amount;debtor_number;debtor_name;debtor_kind;postal_code;email
A-1;2026-01-02;2026-02-01;120,00;K1;Jan Jansen;consumer;1011 AA;jan@example.nl
E-1;2026-01-02;2026-02-01;64,00;K6;Иван Петров;consumer;1011 AB;ivan@example.nl
Z-1;2026-01-02;2026-02-01;12,00;K7;Zoë Müller & Søn;consumer;1011 AC;zoe@example.nl
",
    );
        db.ok(&["import", "invoices", &file]);
        db.ok(&["mandate", "creditor-id", CI]);
        for (debtor, id, iban) in [
            ("K1", "M-K1", "NL44RABO0123456789"),
            ("K6", "M-K6", "NL20INGB0001234567"),
            ("K7", "M-K7", "BE68539007547034"),
        ] {
            db.ok(&[
                "mandate",
                "add",
                "--debtor",
                debtor,
                "--id",
                id,
                "--signed",
                "2026-01-10",
                "--iban",
                iban,
            ]);
        }
        let (s, path) = export(
            db,
            "2026-03-02",
            "2026-02-26T10:00:00",
            "pain.008.001.02",
            "dd.xml",
        );
        assert_eq!(s["count"], 2, "{s}");
        assert_eq!(s["total"], "132.00");
        let skipped = s["skipped"].as_array().expect("skipped");
        assert_eq!(skipped.len(), 1, "{s}");
        assert_eq!(skipped[0]["mandate"], "M-K6");
        assert!(
            skipped[0]["reason"]
                .as_str()
                .unwrap()
                .contains("character set"),
            "{s}"
        );
        xmllint(&path, "pain.008.001.02");
        let xml = std::fs::read_to_string(&path).expect("read");
        assert!(
            xml.contains("<Nm>Zoe Muller + Son</Nm>"),
            "transliterated: {xml}"
        );
        // Skipped means not recorded: the mandate is still FRST.
        let list = db.json(&["mandate", "list"]);
        assert_eq!(mandate(&list, "M-K6")["sequence"], "FRST");
        assert_eq!(mandate(&list, "M-K7")["sequence"], "RCUR");
    }
);

both_backends!(
    our_collections_match_by_end_to_end_id_and_a_closed_account_ends_the_mandate,
    |db: &Db| {
        setup(db);
        db.ok(&["mandate", "creditor-id", CI]);
        db.ok(&[
            "mandate",
            "add",
            "--debtor",
            "K2",
            "--id",
            "M-K2",
            "--signed",
            "2026-01-10",
            "--iban",
            "NL20INGB0001234567",
        ]);
        let (s, _) = export(
            db,
            "2026-03-02",
            "2026-02-26T10:00:00",
            "pain.008.001.02",
            "dd.xml",
        );
        assert_eq!(s["count"], 1, "B-1 is collected: {s}");

        // While the bank may still return it, the daily run leaves B-1 to the direct debit: K2
        // (nothing else overdue) gets no reminder.
        let r = db.json(&["run", "--date", "2026-03-05", "--force", "--dry-run"]);
        assert_eq!(r["claims_awaiting_direct_debit"], 1, "{r}");
        assert_eq!(r["skipped"]["direct_debit_pending"], 1, "{r}");
        let planned = r["planned"].as_array().expect("planned");
        assert!(
            planned
                .iter()
                .all(|p| p["debtor_id"] != planned_debtor(db, "K2")),
            "no reminder for K2 while its debit is pending: {r}"
        );
        // Ten days after the collection date the claim is back on the ladder.
        let r = db.json(&["run", "--date", "2026-03-13", "--force", "--dry-run"]);
        assert_eq!(r["claims_awaiting_direct_debit"], 0, "{r}");

        // The credit carries only the end-to-end id: no remittance text, an IBAN incasso does not
        // know. It is matched to exactly the collected invoice.
        let credit = camt053(
            "S1",
            "99.99",
            r#"<Ntry><Amt Ccy="EUR">99.99</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-03</Dt></BookgDt><AcctSvcrRef>DD-CR-1</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>DD20260302-1-1</EndToEndId></Refs><RltdPties><DbtrAcct><Id><IBAN>NL69INGB0123456789</IBAN></Id></DbtrAcct></RltdPties></TxDtls></NtryDtls></Ntry>"#,
        );
        let file = write(db, "credit.xml", &credit);
        let r = db.json(&["import", "bank", &file]);
        assert_eq!(r["imported"][0]["matched"], 1, "{r}");
        let entries = db.json(&["payments", "list"]);
        let reason = entries["entries"][0]["reason"].as_str().expect("reason");
        assert!(
            reason.starts_with("direct debit DD20260302-1-1 (mandate M-K2) for invoice B-1"),
            "{reason}"
        );
        assert_eq!(entries["entries"][0]["confidence"], 100);
        assert_eq!(db.json(&["invoices", "show", "B-1"])["open_amount"], "0.00");

        // The next collection is credited, then returned: the account is closed (AC04). The
        // mandate is ended, once, and the next export does not collect on it.
        let (s, _) = export(
            db,
            "2026-04-01",
            "2026-03-27T10:00:00",
            "pain.008.001.02",
            "dd2.xml",
        );
        assert_eq!(s["count"], 1, "B-2: {s}");
        let credit = camt053(
            "S2",
            "45.00",
            r#"<Ntry><Amt Ccy="EUR">45.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-04-01</Dt></BookgDt><AcctSvcrRef>DD-CR-2</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>DD20260401-1-1</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>"#,
        );
        let file = write(db, "credit2.xml", &credit);
        assert_eq!(
            db.json(&["import", "bank", &file])["imported"][0]["matched"],
            1
        );
        let ret = camt053(
            "S3",
            "-45.00",
            r#"<Ntry><Amt Ccy="EUR">45.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-04-03</Dt></BookgDt><AcctSvcrRef>DD-RT-2</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>DD20260401-1-1</EndToEndId></Refs><RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>"#,
        );
        let file = write(db, "return.xml", &ret);
        let r = db.json(&["import", "bank", &file]);
        assert_eq!(r["imported"][0]["returned"], 1, "{r}");
        let ended = r["imported"][0]["mandates_ended"]
            .as_array()
            .expect("ended");
        assert_eq!(ended.len(), 1, "{r}");
        assert!(ended[0].as_str().unwrap().contains("M-K2 ended"), "{r}");
        assert_eq!(
            db.json(&["invoices", "show", "B-2"])["open_amount"],
            "45.00"
        );
        let m = db.json(&["mandate", "show", "M-K2"]);
        assert_eq!(m["status"], "revoked", "{m}");
        let last = m["events"]
            .as_array()
            .and_then(|e| e.last())
            .expect("events");
        assert!(
            last["text"]
                .as_str()
                .unwrap()
                .contains("returned AC04 (closed account)"),
            "{m}"
        );
        // The same file again: nothing new, the mandate is not ended twice.
        let r = db.json(&["import", "bank", &file]);
        assert_eq!(r["imported"][0]["committed"], false, "{r}");
        assert_eq!(r["imported"][0]["mandates_ended"], serde_json::json!([]));
        let (s, _) = export(
            db,
            "2026-05-04",
            "2026-04-29T10:00:00",
            "pain.008.001.02",
            "dd3.xml",
        );
        assert_eq!(s["count"], 0, "no collection on an ended mandate: {s}");
    }
);

/// The stored id of a debtor, by its number.
fn planned_debtor(db: &Db, number: &str) -> Value {
    let list = db.json(&["debtors", "list"]);
    list["debtors"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["number"] == number))
        .map(|d| d["id"].clone())
        .unwrap_or_else(|| panic!("debtor {number} in {list}"))
}
