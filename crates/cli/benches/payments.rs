//! The payments benchmark of BENCHMARKS.md (issue 6), run with
//! `cargo bench -p incasso-cli --bench payments`: builds a ledger of 1,000,000 open invoices for
//! 200,000 debtors (every debtor with a known IBAN, most invoices with a payment reference), then
//! imports one camt.053 of 100,000 entries into it: match and allocate, timed with the release
//! `incasso` binary under `/usr/bin/time` (wall time and peak memory).
//!
//! The entry mix (per 20 entries): 11 pay an invoice in full quoting its structured reference
//! (Dutch betalingskenmerk, Belgian OGM/VCS or RF), 2 pay part of it, 1 pays more than the
//! debtor owes (a credit balance), 3 quote only the invoice number in the remittance text, 2 pay the exact amount from
//! the debtor's known IBAN without any text, 1 matches nothing (the unmatched queue).
//!
//! Environment: `BENCH_INVOICES` (default 1000000), `BENCH_ENTRIES` (default 100000),
//! `BENCH_DIR` (default `target/bench-payments`), `BENCH_PG=1` and `TEST_DATABASE_URL` for the
//! PostgreSQL figure.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
mod common;
use common::run;

use incasso_banking::{Betalingskenmerk, CreditorReference, Ogm};

const CREDITOR_IBAN: &str = "NL91ABNA0417164300";
const INVOICES_PER_DEBTOR: u64 = 5;

/// Runs `incasso args` under /usr/bin/time; returns (seconds, peak KiB, stdout).
fn timed(label: &str, args: &[&str]) -> (f64, u64, String) {
    let t = common::timed(args);
    println!(
        "{label:<52} {:>7.2} s   peak {:>6.1} MB   cpu {:.2} s (user+sys; the wall time on a quiet machine)",
        t.secs,
        t.peak_kib as f64 / 1024.0,
        t.cpu
    );
    (t.secs, t.peak_kib, t.stdout)
}

/// A valid Dutch IBAN `NLkkABNA` + ten digits.
fn dutch_iban(account: u64) -> String {
    // Rearranged: ABNA + digits + NL00, letters as numbers (A=10 ... Z=35).
    let digits = format!("10112310{account:010}232100");
    let rest = digits
        .bytes()
        .fold(0u64, |acc, b| (acc * 10 + u64::from(b - b'0')) % 97);
    format!("NL{:02}ABNA{account:010}", 98 - rest)
}

fn debtor_iban(debtor: u64) -> String {
    dutch_iban(1_000_000_000 + debtor)
}

/// The gross amount in cents of invoice `k` (0-based).
fn gross_cents(k: u64) -> u64 {
    1_000 + (k * 7_919) % 500_000
}

fn invoice_number(k: u64) -> String {
    format!("B-{:07}", k + 1)
}

/// The structured reference of invoice `k`: a betalingskenmerk for most, OGM/VCS for every 7th,
/// RF for every 11th; every 10th has none (it is paid by invoice number or IBAN).
fn reference(k: u64) -> Option<String> {
    if k % 10 == 9 {
        None
    } else if k % 7 == 3 {
        Some(Ogm::generate(k + 1).expect("OGM").formatted())
    } else if k % 11 == 5 {
        Some(
            CreditorReference::generate(&format!("INV{k}"))
                .expect("RF")
                .as_str()
                .to_string(),
        )
    } else {
        Some(
            Betalingskenmerk::generate(k + 1)
                .expect("betalingskenmerk")
                .as_str()
                .to_string(),
        )
    }
}

fn write_invoices(path: &Path, invoices: u64) {
    let file = std::fs::File::create(path).expect("create CSV");
    let mut w = std::io::BufWriter::new(file);
    writeln!(w, "invoice_number;kind;issue_date;due_date;payment_terms_days;currency;net_amount;vat_amount;gross_amount;paid_amount;payment_reference;description;debtor_number;debtor_name;debtor_kind;contact_person;street;postal_code;city;country;email;phone;language;iban;registration_number;vat_number;tags").expect("write");
    for k in 0..invoices {
        let debtor = k / INVOICES_PER_DEBTOR;
        let gross = gross_cents(k);
        let vat = gross * 21 / 121;
        let net = gross - vat;
        let month = 1 + (k % 9);
        writeln!(
            w,
            "{};invoice;2026-{month:02}-01;2026-{month:02}-15;14;EUR;{}.{:02};{}.{:02};{}.{:02};0.00;{};Diensten;D{debtor:07};Klant {debtor} B.V.;business;;Dorpsstraat 1;1234 AB;Utrecht;NL;klant{debtor}@example.nl;;nl;{};;;",
            invoice_number(k),
            net / 100,
            net % 100,
            vat / 100,
            vat % 100,
            gross / 100,
            gross % 100,
            reference(k).unwrap_or_default(),
            debtor_iban(debtor),
        )
        .expect("write");
    }
    w.flush().expect("flush");
}

/// The camt.053 of `entries` credits against invoices spread over the whole ledger.
fn write_camt(path: &Path, entries: u64, invoices: u64) {
    let mut xml = String::with_capacity(usize::try_from(entries).unwrap_or(0) * 900 + 4096);
    xml.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>BENCH-PAY</MsgId><CreDtTm>2026-11-30T18:00:00</CreDtTm></GrpHdr><Stmt>\
         <Id>BENCH-PAY-1</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>2026-11-30T18:00:00</CreDtTm>\
         <Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>\
         <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt>\
         <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-29</Dt></Dt></Bal>",
    );
    let stride = (invoices / entries.max(1)).max(1);
    let mut total: u64 = 0;
    for i in 0..entries {
        // Spread over all debtors; the k % 10 == 9 invoices (no reference) take the number and
        // IBAN kinds.
        let kind = i % 20;
        let base = (i * stride) % invoices;
        let k = match kind {
            14..=18 => base - base % 10 + 9,
            _ => base - base % 10 + (i % 9),
        }
        .min(invoices - 1);
        let gross = gross_cents(k);
        let debtor = k / INVOICES_PER_DEBTOR;
        let (cents, iban, strd, ustrd) = match kind {
            0..=10 => (
                gross,
                debtor_iban(debtor),
                reference(k),
                format!("Betaling klant {debtor}"),
            ),
            11 | 12 => (
                gross / 2,
                debtor_iban(debtor),
                reference(k),
                "Deelbetaling".to_string(),
            ),
            13 => (
                // More than everything the debtor owes: a credit balance remains.
                (debtor * INVOICES_PER_DEBTOR..(debtor + 1) * INVOICES_PER_DEBTOR)
                    .map(gross_cents)
                    .sum::<u64>()
                    + 1_000,
                debtor_iban(debtor),
                reference(k),
                "Betaling".to_string(),
            ),
            14..=16 => (
                gross,
                dutch_iban(2_000_000_000 + i),
                None,
                format!("Factuur {} dank u", invoice_number(k)),
            ),
            17 | 18 => (gross, debtor_iban(debtor), None, String::new()),
            _ => (
                777 + i,
                dutch_iban(3_000_000_000 + i),
                None,
                "Gift".to_string(),
            ),
        };
        total += cents;
        write!(
            xml,
            "<Ntry><Amt Ccy=\"EUR\">{}.{:02}</Amt><CdtDbtInd>CRDT</CdtDbtInd>\
             <Sts>BOOK</Sts><BookgDt><Dt>2026-11-30</Dt></BookgDt><ValDt><Dt>2026-11-30</Dt></ValDt>\
             <AcctSvcrRef>PAY{i:010}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>\
             <SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs>\
             <EndToEndId>E2E-{i}</EndToEndId></Refs>\
             <RltdPties><Dbtr><Nm>Klant {debtor} B.V.</Nm></Dbtr><DbtrAcct><Id>\
             <IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties><RmtInf>",
            cents / 100,
            cents % 100,
        )
        .expect("write");
        if !ustrd.is_empty() {
            write!(xml, "<Ustrd>{ustrd}</Ustrd>").expect("write");
        }
        if let Some(r) = strd {
            write!(
                xml,
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{r}</Ref>\
                 </CdtrRefInf></Strd>"
            )
            .expect("write");
        }
        xml.push_str("</RmtInf></TxDtls></NtryDtls></Ntry>");
    }
    write!(
        xml,
        "<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{}.{:02}</Amt>\
         <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-30</Dt></Dt></Bal></Stmt></BkToCstmrStmt></Document>",
        total / 100,
        total % 100
    )
    .expect("write");
    std::fs::write(path, xml).expect("write camt");
}

fn ledger(db: &str, csv: &Path) {
    run(&[
        "--db",
        db,
        "creditor",
        "add",
        "--name",
        "Bench B.V.",
        "--iban",
        CREDITOR_IBAN,
    ]);
    let report = run(&[
        "--db",
        db,
        "import",
        "invoices",
        csv.to_str().expect("path"),
        "--as-of",
        "2026-11-25",
    ]);
    println!("    ledger: {}", report.lines().next().unwrap_or(""));
}

fn payments(db: &str, camt: &Path, label: &str, entries: u64) {
    let camt = camt.to_str().expect("path");
    let (secs, _, report) = timed(
        &format!("{label}: import + match + allocate"),
        &["--db", db, "import", "bank", camt],
    );
    for line in report.lines().take(4) {
        println!("    {line}");
    }
    println!(
        "    {:.0} entries/s",
        entries as f64 / if secs > 0.0 { secs } else { 0.01 }
    );
    let (_, _, again) = timed(
        &format!("{label}: the same file again"),
        &["--db", db, "import", "bank", camt],
    );
    println!("    {}", again.lines().next().unwrap_or(""));
}

fn main() {
    let env = |name: &str, default: u64| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let invoices = env("BENCH_INVOICES", 1_000_000);
    let entries = env("BENCH_ENTRIES", 100_000);
    let dir = PathBuf::from(std::env::var("BENCH_DIR").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench-payments").into()
    }));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let csv = dir.join(format!("open-invoices-{invoices}.csv"));
    if !csv.exists() {
        write_invoices(&csv, invoices);
    }
    let camt = dir.join(format!("camt053-{entries}-of-{invoices}-v2.xml"));
    if !camt.exists() {
        write_camt(&camt, entries, invoices);
    }
    println!(
        "input: {} ({invoices} open invoices, {:.0} MB); {} ({entries} entries, {:.0} MB)",
        csv.display(),
        std::fs::metadata(&csv).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
        camt.display(),
        std::fs::metadata(&camt).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
    );

    // The ledger is built once and copied for each run (the import changes it).
    let pristine = dir.join(format!("ledger-{invoices}.db"));
    if !pristine.exists() {
        let building = dir.join("ledger-building.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
        }
        ledger(building.to_str().expect("path"), &csv);
        let wal = format!("{}-wal", building.display());
        assert!(
            std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0,
            "the ledger's WAL was not checkpointed"
        );
        std::fs::rename(&building, &pristine).expect("keep the ledger");
    }
    let db = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::copy(&pristine, &db).expect("copy the ledger");
    payments(db.to_str().expect("path"), &camt, "sqlite", entries);

    common::on_postgres("bench_payments", |url, _| {
        ledger(url, &csv);
        payments(url, &camt, "postgres", entries);
    });
}
