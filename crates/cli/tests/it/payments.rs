//! Bank statements end to end through the binary: `import bank` matches and allocates, cancels
//! a paid debtor's queued reminder at once, reports the rest in `payments unmatched`, and
//! `payments match` settles an entry by hand; the same file twice changes nothing; a broken
//! file is refused whole with its location.

use serde_json::Value;

use crate::{Db, both_backends, data};

fn camt053(entries: &str, closing: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-01-08T18:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-08</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-08</Dt></Dt></Bal>
{entries}
</Stmt></BkToCstmrStmt></Document>"#
    )
}

fn ntry(asr: &str, amount: &str, text: &str) -> String {
    format!(
        r#"<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-01-08</Dt></BookgDt><AcctSvcrRef>{asr}</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"#
    )
}

fn outbox(db: &Db) -> Vec<Value> {
    db.json(&["outbox", "list"])["actions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

both_backends!(bank_statement_pays_and_stops_reminders, |db: &Db| {
    db.add_creditor();
    db.ok(&["import", "invoices", data("ladder.csv").to_str().unwrap()]);
    let run = db.json(&["run", "--date", "2026-01-07", "--force"]);
    assert_eq!(run["actions_created"], 2, "{run}");

    let statement = camt053(
        &[
            ntry("A1", "1000.00", "Factuur B-1"),
            ntry("A2", "300.00", "C-1"),
            ntry("A3", "12.34", "onbekend"),
        ]
        .concat(),
        "1312.34",
    );
    let path = db.dir.path().join("statement.xml");
    std::fs::write(&path, &statement).expect("write");
    let file = path.to_str().unwrap();
    let report = db.json(&["import", "bank", file]);
    let imported = &report["imported"][0];
    assert_eq!(imported["format"], "camt.053", "{report}");
    assert_eq!(imported["entries_new"], 3);
    assert_eq!(imported["matched"], 2);
    assert_eq!(imported["unmatched"], 1);
    assert_eq!(
        imported["actions_cancelled"], 1,
        "Els de Boer paid everything"
    );

    let actions = outbox(db);
    let cancelled: Vec<_> = actions
        .iter()
        .filter(|a| a["status"] == "cancelled")
        .collect();
    assert_eq!(cancelled.len(), 1, "{actions:?}");
    assert_eq!(cancelled[0]["total"], "300.00");

    let queue = db.json(&["payments", "unmatched"]);
    assert_eq!(queue["count"], 1);
    let entry = queue["entries"][0]["id"].as_i64().expect("id").to_string();
    let matched = db.json(&["payments", "match", &entry, "B-2"]);
    assert_eq!(matched["allocated"], "12.34");
    assert_eq!(db.json(&["payments", "unmatched"])["count"], 0);
    let list = db.json(&["payments", "list", "--status", "matched"]);
    assert_eq!(list["count"], 3);

    // The same file again: nothing new, nothing changed.
    let again = db.json(&["import", "bank", file]);
    assert_eq!(again["imported"][0]["committed"], false);
    assert_eq!(again["imported"][0]["entries_known"], 3);
    assert_eq!(db.json(&["payments", "list"])["count"], 3);

    // A broken amount: refused whole, with the element path; exit code 1.
    let broken = camt053(&ntry("B1", "1O.00", "x"), "10.00");
    let bad = db.dir.path().join("broken.xml");
    std::fs::write(&bad, broken).expect("write");
    let out = db.run(&["import", "bank", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/Ntry[1]/Amt"), "{stderr}");
    assert_eq!(db.json(&["payments", "list"])["count"], 3);
});
