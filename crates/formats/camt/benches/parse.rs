//! Throughput and memory sanity check (not a timed test): generates a
//! camt.053 statement with 100,000 entries in memory and reports entries/s
//! for `parse` (keeping entries) and `parse_with` (streaming), and the peak
//! resident memory from `/proc/self/status` where available.
//!
//! Run with `cargo bench -p incasso-camt --bench parse`. Targets (issue 6):
//! 100k entries within 1 s and 100 MB.

use std::fmt::Write as _;
use std::time::Instant;

const ENTRIES: usize = 100_000;

fn generate(entries: usize) -> String {
    let mut xml = String::with_capacity(entries * 1100 + 4096);
    xml.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2024-11-30T18:00:00</CreDtTm></GrpHdr><Stmt>\
         <Id>BENCH-1</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>2024-11-30T18:00:00</CreDtTm>\
         <Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>\
         <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">1000.00</Amt>\
         <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-11-29</Dt></Dt></Bal>",
    );
    let mut total_cents: i64 = 100_000;
    for i in 0..entries {
        let cents = 100 + (i as i64 * 7919) % 500_000;
        let credit = i % 3 != 0;
        total_cents += if credit { cents } else { -cents };
        let (cd, party, counter) = if credit {
            ("CRDT", "Dbtr", "DbtrAcct")
        } else {
            ("DBIT", "Cdtr", "CdtrAcct")
        };
        write!(
            xml,
            "<Ntry><NtryRef>{i}</NtryRef><Amt Ccy=\"EUR\">{}.{:02}</Amt><CdtDbtInd>{cd}</CdtDbtInd>\
             <Sts>BOOK</Sts><BookgDt><Dt>2024-11-30</Dt></BookgDt><ValDt><Dt>2024-11-30</Dt></ValDt>\
             <AcctSvcrRef>SVC{i:010}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>\
             <SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs>\
             <EndToEndId>E2E-{i}</EndToEndId><TxId>TX{i}</TxId></Refs>\
             <RltdPties><{party}><Nm>Klant {i} B.V.</Nm></{party}><{counter}><Id>\
             <IBAN>NL02ABNA0123456789</IBAN></Id></{counter}></RltdPties>\
             <RltdAgts><DbtrAgt><FinInstnId><BIC>ABNANL2A</BIC></FinInstnId></DbtrAgt></RltdAgts>\
             <RmtInf><Ustrd>Factuur F-2024-{i:06}</Ustrd><Strd><CdtrRefInf><Tp><CdOrPrtry>\
             <Cd>SCOR</Cd></CdOrPrtry><Issr>CUR</Issr></Tp><Ref>{:016}</Ref></CdtrRefInf></Strd>\
             </RmtInf></TxDtls></NtryDtls></Ntry>",
            cents / 100,
            cents % 100,
            i,
        )
        .unwrap();
    }
    let (cd, abs) = if total_cents >= 0 {
        ("CRDT", total_cents)
    } else {
        ("DBIT", -total_cents)
    };
    write!(
        xml,
        "<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{}.{:02}</Amt>\
         <CdtDbtInd>{cd}</CdtDbtInd><Dt><Dt>2024-11-30</Dt></Dt></Bal></Stmt></BkToCstmrStmt></Document>",
        abs / 100,
        abs % 100
    )
    .unwrap();
    xml
}

/// Peak and current resident set size in MB (Linux only).
fn memory_mb() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

fn main() {
    let xml = generate(ENTRIES);
    let size_mb = xml.len() as f64 / 1_048_576.0;
    println!("camt.053 with {ENTRIES} entries: {size_mb:.1} MB of XML");
    let base = memory_mb();
    if let Some((peak, rss)) = base {
        println!("  after generating: rss {rss:.1} MB (peak {peak:.1} MB)");
    }

    // Baseline: quick-xml's pull reader alone, no model.
    let start = Instant::now();
    let mut reader = quick_xml::Reader::from_reader(xml.as_bytes());
    let mut events = 0usize;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => events += 1,
            Err(e) => panic!("{e}"),
        }
    }
    println!(
        "  baseline quick-xml pull reader alone: {:.3} s ({events} events)",
        start.elapsed().as_secs_f64()
    );

    // Streaming first, so the peak reading is not hidden by `parse`.
    let start = Instant::now();
    let mut count = 0usize;
    let (doc, diagnostics) =
        incasso_camt::parse_with(xml.as_bytes(), |_, _| count += 1).expect("parse_with");
    let elapsed = start.elapsed();
    assert_eq!(count, ENTRIES);
    assert!(diagnostics.is_empty());
    assert!(
        incasso_camt::check_balances(&doc.statements[0])
            .unwrap()
            .is_some()
    );
    println!(
        "  parse_with (streaming): {:.3} s, {:.0} entries/s",
        elapsed.as_secs_f64(),
        ENTRIES as f64 / elapsed.as_secs_f64()
    );
    if let (Some((_, rss0)), Some((peak, _))) = (base, memory_mb()) {
        println!(
            "  peak rss during streaming: {peak:.1} MB (+{:.1} MB over the input)",
            peak - rss0
        );
    }

    let start = Instant::now();
    let (doc, diagnostics) = incasso_camt::parse(xml.as_bytes()).expect("parse");
    let elapsed = start.elapsed();
    assert_eq!(doc.statements[0].entries.len(), ENTRIES);
    assert!(diagnostics.is_empty());
    assert!(
        incasso_camt::check_balances(&doc.statements[0])
            .unwrap()
            .is_some()
    );
    println!(
        "  parse (keeping all entries): {:.3} s, {:.0} entries/s",
        elapsed.as_secs_f64(),
        ENTRIES as f64 / elapsed.as_secs_f64()
    );
    if let (Some((_, rss0)), Some((peak, rss))) = (base, memory_mb()) {
        println!(
            "  peak rss with all entries kept: {peak:.1} MB (+{:.1} MB over the input; rss now {rss:.1} MB)",
            peak - rss0
        );
    }
    drop(doc);
}
