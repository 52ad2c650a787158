//! Bank statement import end to end on real stores (a SQLite file and a PostgreSQL schema):
//! every valid sample of the parser crates imports, re-imports change nothing, payments match
//! by reference, invoice number and IBAN with amount, allocation follows the law, paid debtors'
//! reminders are cancelled at once, returned direct debits reopen claims, and broken files are
//! refused whole.

use std::path::{Path, PathBuf};

use incasso_app::bank::{self, BankReport};
use incasso_app::import::ImportError;
use incasso_banking::{Betalingskenmerk, CreditorReference, Iban, Ogm};
use incasso_calendar::{Date, parse_iso};
use incasso_domain::{CreditorId, DebtorId};
use incasso_money::Money;
use incasso_store::contract::{creditor, debtor, import, invoice};
use incasso_store::{ActionStatus, CaseRef, EntryStatus, NewAction, NewCase, RunBatch, Store};
use incasso_store_postgres::PgStore;
use incasso_store_sqlite::SqliteStore;

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn d(s: &str) -> Date {
    parse_iso(s).expect("date")
}

fn sqlite(dir: &tempfile::TempDir, name: &str) -> Box<dyn Store> {
    Box::new(SqliteStore::open(&dir.path().join(format!("{name}.db"))).expect("sqlite"))
}

/// A store in a fresh PostgreSQL schema, dropped when the store goes.
struct PgSchema {
    store: PgStore,
    schema: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(PG_URL, postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.schema
            ));
        }
    }
}

fn postgres(name: &str) -> PgSchema {
    // A per-process random salt (not the clock: only the CLI reads it).
    let salt = {
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(name) as u32
    };
    let schema = format!("bank_{name}_{}_{salt:08x}", std::process::id());
    let store = PgStore::connect_in_schema(PG_URL, &schema)
        .unwrap_or_else(|e| panic!("PostgreSQL at {PG_URL} (schema {schema}): {e}"));
    PgSchema { store, schema }
}

fn refusal(result: anyhow::Result<BankReport>) -> ImportError {
    match result {
        Ok(r) => panic!("expected a refusal, got {r:?}"),
        Err(e) => e
            .downcast::<ImportError>()
            .unwrap_or_else(|e| panic!("expected an ImportError, got {e:#}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Samples

fn data_dir(format: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../formats")
        .join(format)
        .join("tests/data")
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("data dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn sample_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for format in ["camt", "mt940"] {
        let root = data_dir(format);
        let mut files = Vec::new();
        files_under(&root, &mut files);
        for f in files {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let is_statement = if format == "camt" {
                name.ends_with(".xml")
            } else {
                name.ends_with(".sta") || name.ends_with(".txt")
            };
            if is_statement {
                let rel = f
                    .strip_prefix(&root)
                    .expect("relative")
                    .to_string_lossy()
                    .to_string();
                out.push((format!("{format}/{rel}"), std::fs::read(&f).expect("read")));
            }
        }
    }
    out
}

/// Every account a sample's statements are for, as written.
fn sample_accounts(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    if bank::detect_format(bytes) == bank::BankFormat::Camt {
        if let Ok((doc, _)) = incasso_camt::parse(bytes) {
            for s in &doc.statements {
                if let Some(a) = s.account.identification() {
                    out.push(a.to_string());
                }
            }
        }
    } else if let Ok((doc, _)) = incasso_mt940::parse(bytes) {
        for s in &doc.statements {
            if let Some(a) = s.account_iban.clone().or_else(|| s.account.clone()) {
                // `1291.99.348EUR`: the account without its currency suffix.
                if a.len() > 3 && a.ends_with(|c: char| c.is_ascii_uppercase()) {
                    out.push(a[..a.len() - 3].to_string());
                }
                out.push(a);
            }
        }
    }
    out
}

/// Samples that are not valid statements: their balances do not add up (as the parser crates'
/// own tests document), or they are not statements at all. Each is refused with the reason.
const NOT_VALID: &[(&str, &str)] = &[
    ("camt/camt053/genkgo/camt053.v2.wrong.xml", "no Stmt"),
    (
        "camt/camt053/genkgo/camt053.v2.minimal.xml",
        "closing balance in",
    ),
    (
        "camt/camt053/genkgo/camt053.v2.minimal.ultimate.xml",
        "closing balance in",
    ),
    (
        "camt/camt053/genkgo/camt053.v2.with-party-ids.xml",
        "closing balance in",
    ),
    ("camt/camt053/genkgo/camt053.v3.xml", "closing balance in"),
    ("camt/camt053/genkgo/camt053.v4.xml", "closing balance in"),
    ("camt/camt053/genkgo/camt053.v8.xml", "closing balance in"),
    (
        "camt/camt053/genkgo/camt053.v2.five.decimals.xml",
        "balance check failed",
    ),
    (
        "camt/camt053/genkgo/camt053.v2.all-balance-types.xml",
        "balance check failed",
    ),
    ("camt/camt053/oca/test-camt053.xml", "balance check failed"),
    (
        "mt940/wolph/self-provided-invalid_statement.sta",
        "no statement found",
    ),
    (
        "mt940/ing-libmt94x/ming-ing-provided-example-multiple-messages.txt",
        "balance check failed",
    ),
    (
        "mt940/ing-libmt94x/ming-ing-provided-example-single-message.txt",
        "balance check failed",
    ),
    ("mt940/wolph-jejik/abnamro.sta", "balance check failed"),
    ("mt940/wolph-jejik/ing.sta", "balance check failed"),
    ("mt940/wolph-jejik/knab.sta", "balance check failed"),
    ("mt940/wolph-jejik/rabobank.sta", "balance check failed"),
    ("mt940/wolph-jejik/triodos.sta", "balance check failed"),
];

/// Imports every sample, each for a tenant of its own in `store`.
fn import_every_sample(store: &mut dyn Store) -> (usize, u64, usize) {
    let mut imported = 0;
    let mut refused = 0;
    let mut entries = 0;
    for (name, bytes) in sample_files() {
        let tenant = store
            .add_creditor(&creditor("Sample B.V."))
            .expect("creditor");
        for a in sample_accounts(&bytes) {
            bank::add_account(store, tenant, &a).expect("account");
        }
        let result = bank::import_bank_file(store, tenant, &name, &bytes, d("2026-03-01"));
        if let Some((_, why)) = NOT_VALID.iter().find(|(f, _)| *f == name) {
            let e = refusal(result);
            assert!(
                e.to_string().contains(why),
                "{name}: expected {why:?} in {e}"
            );
            assert!(
                store
                    .bank_entries(tenant, None)
                    .expect("entries")
                    .is_empty(),
                "{name}"
            );
            assert!(
                store.payments(tenant).expect("payments").is_empty(),
                "{name}"
            );
            refused += 1;
            continue;
        }
        let report = result.unwrap_or_else(|e| panic!("{name}: {e:#}"));
        assert!(report.committed, "{name}: {report:?}");
        assert_eq!(report.entries_known, 0, "{name}");
        let stored = store.bank_entries(tenant, None).expect("entries");
        assert_eq!(stored.len() as u64, report.entries_new, "{name}");
        assert!(
            store
                .latest_bank_statement(tenant)
                .expect("latest")
                .is_some(),
            "{name}"
        );
        // Credits are payments; nothing matches (no invoices), so they wait in the queue.
        let credits = stored
            .iter()
            .filter(|e| e.entry.amount.is_positive())
            .count();
        assert_eq!(
            store.payments(tenant).expect("payments").len(),
            credits,
            "{name}"
        );
        entries += report.entries_new;
        // The same file again changes nothing.
        let again = bank::import_bank_file(store, tenant, &name, &bytes, d("2026-03-01"))
            .unwrap_or_else(|e| panic!("{name} again: {e:#}"));
        assert!(!again.committed, "{name}: {again:?}");
        assert_eq!(again.entries_new, 0, "{name}");
        assert_eq!(again.entries_known, report.entries_new, "{name}");
        assert_eq!(
            store.bank_entries(tenant, None).expect("entries").len(),
            stored.len(),
            "{name}"
        );
        imported += 1;
    }
    assert_eq!(refused, NOT_VALID.len());
    (imported, entries, refused)
}

#[test]
fn every_valid_sample_imports_once_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    let (imported, entries, refused) = import_every_sample(sqlite(&dir, "samples").as_mut());
    // 30 camt documents (10 refused) and 20 MT940 files (8 refused): 32 import, with 458 booked
    // entries.
    assert_eq!(imported, 32);
    assert_eq!(refused, 18);
    assert_eq!(entries, 458);
}

#[test]
fn every_valid_sample_imports_once_on_postgres() {
    let (imported, entries, refused) = import_every_sample(&mut postgres("samples").store);
    assert_eq!((imported, entries, refused), (32, 458, 18));
}

// ---------------------------------------------------------------------------------------------
// The matching story

const CREDITOR_IBAN: &str = "NL91ABNA0417164300";
const JAN_IBAN: &str = "BE68539007547034";
const PIET_IBAN: &str = "DE89370400440532013000";
const KEES_IBAN: &str = "GB82WEST12345698765432";

struct Ledger {
    tenant: CreditorId,
    jan: DebtorId,
    kenmerk_f1: String,
    rf_g1: String,
    ogm_k1: String,
}

fn ledger(store: &mut dyn Store) -> Ledger {
    let mut c = creditor("Voorbeeld B.V.");
    c.iban = Iban::parse(CREDITOR_IBAN).expect("iban");
    let tenant = store.add_creditor(&c).expect("creditor");
    let kenmerk_f1 = Betalingskenmerk::generate(1001)
        .expect("kenmerk")
        .to_string();
    let kenmerk_f2 = Betalingskenmerk::generate(1002)
        .expect("kenmerk")
        .to_string();
    let rf_g1 = CreditorReference::generate("G1").expect("rf").to_string();
    let ogm_k1 = Ogm::generate(4242).expect("ogm").to_string();
    let mut f1 = invoice("F-1", 10_000, "2026-01-01");
    f1.payment_reference = Some(kenmerk_f1.clone());
    let mut f2 = invoice("F-2", 5_000, "2026-01-15");
    f2.payment_reference = Some(kenmerk_f2);
    let mut g1 = invoice("G-1", 20_000, "2026-01-10");
    g1.payment_reference = Some(rf_g1.clone());
    let mut h1 = invoice("H-1", 7_500, "2026-02-01");
    h1.payment_reference = None;
    let mut k1 = invoice("K-1", 4_000, "2026-02-01");
    k1.payment_reference = Some(ogm_k1.clone());
    let mut jan = debtor("Jan", "D1");
    jan.ibans = vec![Iban::parse(JAN_IBAN).expect("iban")];
    let mut piet = debtor("Piet", "D2");
    piet.ibans = vec![Iban::parse(PIET_IBAN).expect("iban")];
    let mut kees = debtor("Kees", "D3");
    kees.ibans = vec![Iban::parse(KEES_IBAN).expect("iban")];
    let mut klaas = debtor("Klaas", "D4");
    klaas.ibans = Vec::new();
    import(
        store,
        tenant,
        'a',
        vec![
            (jan, vec![f1, f2]),
            (piet, vec![g1]),
            (kees, vec![h1]),
            (klaas, vec![k1]),
        ],
    );
    let jan = store
        .invoice_by_number(tenant, "F-1")
        .expect("F-1")
        .debtor_id;
    // Jan's case has a reminder queued; it must be cancelled once he has paid everything.
    let batch = RunBatch {
        new_cases: vec![NewCase {
            debtor_id: jan,
            state: "reminded".into(),
            opened_on: d("2026-03-01"),
        }],
        actions: vec![(
            CaseRef::New(0),
            NewAction {
                idempotency_key: "test:jan:reminder".into(),
                policy_name: "nl-b2b".into(),
                policy_version: 1,
                step_id: "reminder".into(),
                template: "payment_reminder".into(),
                channels: "post".into(),
                status: ActionStatus::Queued,
                status_reason: String::new(),
                created_on: d("2026-03-01"),
                deadline: d("2026-03-15"),
                principal: Money::eur_cents(15_000),
                interest: None,
                costs: None,
                total: Money::eur_cents(15_000),
                why: "overdue".into(),
            },
        )],
        ..RunBatch::default()
    };
    store.apply_run(tenant, &batch).expect("run");
    Ledger {
        tenant,
        jan,
        kenmerk_f1,
        rf_g1,
        ogm_k1,
    }
}

/// One camt.053 `Ntry`.
#[derive(Default, Clone, Copy)]
struct Ntry<'a> {
    amount: &'a str,
    debit: bool,
    reversal: bool,
    status: &'a str,
    date: &'a str,
    asr: Option<&'a str>,
    e2e: Option<&'a str>,
    iban: Option<&'a str>,
    name: Option<&'a str>,
    strd: Option<&'a str>,
    ustrd: Option<&'a str>,
    rtr: Option<&'a str>,
}

impl Ntry<'_> {
    fn xml(&self) -> String {
        let mut tx = String::new();
        if let Some(e) = self.e2e {
            tx.push_str(&format!("<Refs><EndToEndId>{e}</EndToEndId></Refs>"));
        }
        let party = if self.debit { "Cdtr" } else { "Dbtr" };
        if self.name.is_some() || self.iban.is_some() {
            tx.push_str("<RltdPties>");
            if let Some(n) = self.name {
                tx.push_str(&format!("<{party}><Nm>{n}</Nm></{party}>"));
            }
            if let Some(i) = self.iban {
                tx.push_str(&format!(
                    "<{party}Acct><Id><IBAN>{i}</IBAN></Id></{party}Acct>"
                ));
            }
            tx.push_str("</RltdPties>");
        }
        if self.ustrd.is_some() || self.strd.is_some() {
            tx.push_str("<RmtInf>");
            if let Some(u) = self.ustrd {
                tx.push_str(&format!("<Ustrd>{u}</Ustrd>"));
            }
            if let Some(s) = self.strd {
                tx.push_str(&format!(
                    "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{s}</Ref></CdtrRefInf></Strd>"
                ));
            }
            tx.push_str("</RmtInf>");
        }
        if let Some(r) = self.rtr {
            tx.push_str(&format!("<RtrInf><Rsn><Cd>{r}</Cd></Rsn></RtrInf>"));
        }
        format!(
            "<Ntry><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>{}</CdtDbtInd>{}<Sts>{}</Sts><BookgDt><Dt>{}</Dt></BookgDt><ValDt><Dt>{}</Dt></ValDt>{}<NtryDtls><TxDtls>{tx}</TxDtls></NtryDtls></Ntry>",
            self.amount,
            if self.debit { "DBIT" } else { "CRDT" },
            if self.reversal {
                "<RvslInd>true</RvslInd>"
            } else {
                ""
            },
            if self.status.is_empty() {
                "BOOK"
            } else {
                self.status
            },
            self.date,
            self.date,
            self.asr
                .map(|a| format!("<AcctSvcrRef>{a}</AcctSvcrRef>"))
                .unwrap_or_default(),
        )
    }
}

fn camt053(
    account: &str,
    id: &str,
    opening: &str,
    closing: &str,
    date: &str,
    entries: &[Ntry<'_>],
) -> String {
    let bal = |code: &str, amount: &str| {
        let (ind, value) = match amount.strip_prefix('-') {
            Some(v) => ("DBIT", v),
            None => ("CRDT", amount),
        };
        format!(
            "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{value}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>"
        )
    };
    let body: String = entries.iter().map(Ntry::xml).collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt><GrpHdr><MsgId>M-{id}</MsgId><CreDtTm>{date}T18:00:00</CreDtTm></GrpHdr><Stmt><Id>{id}</Id><CreDtTm>{date}T18:00:00</CreDtTm><Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>{}{}{body}</Stmt></BkToCstmrStmt></Document>",
        bal("OPBD", opening),
        bal("CLBD", closing),
    )
}

fn first_statement(l: &Ledger) -> String {
    camt053(
        CREDITOR_IBAN,
        "S-1",
        "1000.00",
        "1432.34",
        "2026-03-02",
        &[
            // 1. Betalingskenmerk, structured: F-1 in full.
            Ntry {
                amount: "100.00",
                date: "2026-03-02",
                asr: Some("A1"),
                e2e: Some("E2E-F1"),
                iban: Some(JAN_IBAN),
                name: Some("Jan"),
                strd: Some(&l.kenmerk_f1),
                ..Ntry::default()
            },
            // 2. Invoice number in the text, 10.00 too much: F-2 paid, 10.00 credit balance;
            //    Jan has nothing overdue any more, so his queued reminder is cancelled.
            Ntry {
                amount: "60.00",
                date: "2026-03-02",
                asr: Some("A2"),
                iban: Some("NL02ABNA0123456789"),
                ustrd: Some("Factuur F-2, bedankt"),
                ..Ntry::default()
            },
            // 3. RF reference written in the free text: half of G-1.
            Ntry {
                amount: "100.00",
                date: "2026-03-02",
                asr: Some("A3"),
                ustrd: Some(&format!("betaling {}", l.rf_g1)),
                ..Ntry::default()
            },
            // 4. Known IBAN, amount equal to the open amount: H-1 (no reference at all).
            Ntry {
                amount: "75.00",
                date: "2026-03-02",
                asr: Some("A4"),
                iban: Some(KEES_IBAN),
                ustrd: Some("bedankt"),
                ..Ntry::default()
            },
            // 5. Known IBAN, amount matches nothing: the unmatched queue (Piet suggested).
            Ntry {
                amount: "30.00",
                date: "2026-03-02",
                asr: Some("A5"),
                iban: Some(PIET_IBAN),
                ustrd: Some("deel"),
                ..Ntry::default()
            },
            // 6. Nothing known: the unmatched queue.
            Ntry {
                amount: "12.34",
                date: "2026-03-02",
                asr: Some("A6"),
                ustrd: Some("gift"),
                ..Ntry::default()
            },
            // 7. Bank costs: not a payment.
            Ntry {
                amount: "25.00",
                debit: true,
                date: "2026-03-02",
                asr: Some("A7"),
                ..Ntry::default()
            },
            // 8. Pending: not booked, not stored.
            Ntry {
                amount: "5.00",
                status: "PDNG",
                date: "2026-03-02",
                asr: Some("A8"),
                ..Ntry::default()
            },
            // 9. Belgian OGM written with +++ in the free text: K-1 in full.
            Ntry {
                amount: "40.00",
                date: "2026-03-02",
                ustrd: Some(&l.ogm_k1),
                ..Ntry::default()
            },
            // 10. The same content a second time on the same day (no bank reference): a
            //     second, distinct entry.
            Ntry {
                amount: "40.00",
                date: "2026-03-02",
                ustrd: Some(&l.ogm_k1),
                ..Ntry::default()
            },
        ],
    )
}

fn open_of(store: &mut dyn Store, tenant: CreditorId, number: &str) -> i64 {
    store
        .invoice_by_number(tenant, number)
        .expect("invoice")
        .open_amount
        .minor()
}

fn matching_story(store: &mut dyn Store) {
    let l = ledger(store);
    let t = l.tenant;
    let today = d("2026-03-03");
    let xml = first_statement(&l);
    let r = bank::import_bank_file(store, t, "s1.xml", xml.as_bytes(), today).expect("import");
    assert!(r.committed);
    assert_eq!(r.format, "camt.053");
    assert_eq!((r.statements, r.statements_new), (1, 1));
    assert_eq!(r.entries, 9, "{r:?}");
    assert_eq!(r.not_booked, 1);
    assert_eq!(r.entries_new, 9);
    assert_eq!(r.matched, 5, "{r:?}");
    assert_eq!(r.unmatched, 3, "{r:?}");
    assert_eq!(r.ignored, 1);
    assert_eq!(r.with_credit_balance, 1, "F-2's overpayment");
    assert_eq!(r.actions_cancelled, 1);

    assert_eq!(open_of(store, t, "F-1"), 0);
    assert_eq!(open_of(store, t, "F-2"), 0);
    assert_eq!(open_of(store, t, "G-1"), 10_000);
    assert_eq!(open_of(store, t, "H-1"), 0);
    assert_eq!(open_of(store, t, "K-1"), 0);
    let actions = store.actions(t, None).expect("actions");
    assert_eq!(actions[0].action.status, ActionStatus::Cancelled);
    assert!(actions[0].action.status_reason.contains("paid in full"));

    let entries = store.bank_entries(t, None).expect("entries");
    assert_eq!(entries.len(), 9);
    let by_asr = |asr: &str| {
        entries
            .iter()
            .find(|e| e.entry.key.contains(&format!("asr:{asr}|")))
            .unwrap_or_else(|| panic!("entry {asr}"))
    };
    let e1 = by_asr("A1");
    assert_eq!(e1.matched.status, EntryStatus::Matched);
    assert_eq!(e1.matched.confidence, 100);
    assert!(
        e1.matched.reason.starts_with("betalingskenmerk"),
        "{}",
        e1.matched.reason
    );
    assert_eq!(e1.matched.debtor_id, Some(l.jan));
    let e2 = by_asr("A2");
    assert_eq!(e2.matched.confidence, 90);
    assert!(
        e2.matched.reason.contains("invoice number"),
        "{}",
        e2.matched.reason
    );
    assert_eq!(e2.matched.unapplied, Some(Money::eur_cents(1_000)));
    let e3 = by_asr("A3");
    assert!(
        e3.matched.reason.starts_with("rf "),
        "{}",
        e3.matched.reason
    );
    let e4 = by_asr("A4");
    assert_eq!(e4.matched.confidence, 80);
    assert!(
        e4.matched.reason.contains("amount equals"),
        "{}",
        e4.matched.reason
    );
    let e5 = by_asr("A5");
    assert_eq!(e5.matched.status, EntryStatus::Unmatched);
    assert_eq!(e5.matched.confidence, 50);
    assert!(e5.matched.debtor_id.is_some(), "the debtor is suggested");
    assert_eq!(by_asr("A6").matched.confidence, 0);
    assert_eq!(by_asr("A7").matched.status, EntryStatus::Ignored);
    let ogm: Vec<_> = entries
        .iter()
        .filter(|e| e.entry.key.contains("hash:"))
        .collect();
    assert_eq!(ogm.len(), 2);
    assert_ne!(ogm[0].entry.key, ogm[1].entry.key);
    assert!(
        ogm[0].matched.reason.starts_with("ogm"),
        "{}",
        ogm[0].matched.reason
    );
    // The second OGM payment finds K-1 paid: nothing open any more, so it waits in the queue.
    assert_eq!(ogm[1].matched.status, EntryStatus::Unmatched);
    assert!(
        ogm[1].matched.reason.contains("matches no open invoice"),
        "{}",
        ogm[1].matched.reason
    );

    // Payments: every credit, once; allocations: F-1, F-2, G-1, H-1, K-1.
    let payments = store.payments(t).expect("payments");
    assert_eq!(payments.len(), 8);
    let f1 = store.invoice_by_number(t, "F-1").expect("F-1");
    let allocations = store.allocations(t, f1.id).expect("allocations");
    assert_eq!(allocations.len(), 1);
    assert_eq!(allocations[0].allocation.amount, Money::eur_cents(10_000));

    // The unmatched queue, and a manual match: Piet's 30.00 to G-1.
    let queue = bank::unmatched(store, t).expect("queue");
    assert_eq!(queue.len(), 3);
    let e5_id = e5.id;
    let m = bank::match_entry(store, t, e5_id, "G-1", today).expect("match");
    assert_eq!(m.allocated, Money::eur_cents(3_000));
    assert_eq!(m.unapplied, Money::eur_cents(0));
    assert_eq!(open_of(store, t, "G-1"), 7_000);
    assert_eq!(bank::unmatched(store, t).expect("queue").len(), 2);
    let again = bank::match_entry(store, t, e5_id, "G-1", today);
    assert!(again.is_err(), "an entry is matched once");
    let debit = by_asr("A7").id;
    assert!(bank::match_entry(store, t, debit, "G-1", today).is_err());

    // The same statement again: nothing changes.
    let r2 = bank::import_bank_file(store, t, "s1-copy.xml", xml.as_bytes(), today).expect("again");
    assert!(!r2.committed);
    assert_eq!(r2.entries_known, 9);
    assert_eq!(store.payments(t).expect("payments").len(), 8);
    assert_eq!(store.bank_entries(t, None).expect("entries").len(), 9);
    assert_eq!(open_of(store, t, "G-1"), 7_000);
    assert_eq!(
        store.latest_bank_statement(t).expect("latest"),
        Some(d("2026-03-02"))
    );

    // A returned direct debit: Jan's 100.00 for F-1 comes back (MD06). F-1 is open again.
    let ret = camt053(
        CREDITOR_IBAN,
        "S-2",
        "1432.34",
        "1332.34",
        "2026-03-05",
        &[Ntry {
            amount: "100.00",
            debit: true,
            reversal: true,
            date: "2026-03-05",
            asr: Some("R1"),
            e2e: Some("E2E-F1"),
            iban: Some(JAN_IBAN),
            rtr: Some("MD06"),
            ..Ntry::default()
        }],
    );
    let r3 = bank::import_bank_file(store, t, "s2.xml", ret.as_bytes(), today).expect("return");
    assert_eq!(r3.returned, 1, "{r3:?}");
    assert_eq!(open_of(store, t, "F-1"), 10_000);
    let allocations = store.allocations(t, f1.id).expect("allocations");
    assert_eq!(allocations.len(), 2);
    assert_eq!(allocations[1].allocation.amount, Money::eur_cents(-10_000));
    assert_eq!(allocations[1].allocation.reverses, Some(allocations[0].id));
    let entries = store
        .bank_entries(t, Some(EntryStatus::Returned))
        .expect("returned");
    assert_eq!(entries.len(), 1);
    assert!(
        entries[0].matched.reason.contains("MD06"),
        "{}",
        entries[0].matched.reason
    );
    assert_eq!(entries[0].entry.return_reason.as_deref(), Some("MD06"));
    let payments = store.payments(t).expect("payments");
    let reversal = payments.last().expect("reversal");
    assert_eq!(reversal.payment.amount, Money::eur_cents(-10_000));
    assert!(reversal.payment.reverses.is_some());
    assert_eq!(
        store.latest_bank_statement(t).expect("latest"),
        Some(d("2026-03-05"))
    );
    // The return again: nothing changes (F-1 is not reopened twice).
    let r4 = bank::import_bank_file(store, t, "s2.xml", ret.as_bytes(), today).expect("again");
    assert!(!r4.committed);
    assert_eq!(store.allocations(t, f1.id).expect("allocations").len(), 2);

    // Another tenant sees none of it.
    let mut c = creditor("Ander B.V.");
    c.iban = Iban::parse("NL69INGB0123456789").expect("iban");
    let other = store.add_creditor(&c).expect("other");
    assert!(store.bank_entries(other, None).expect("entries").is_empty());
    assert!(bank::unmatched(store, other).expect("queue").is_empty());
    assert_eq!(store.latest_bank_statement(other).expect("latest"), None);
    // ... and cannot import the first tenant's statement (not its account).
    let e = refusal(bank::import_bank_file(
        store,
        other,
        "s1.xml",
        xml.as_bytes(),
        today,
    ));
    assert!(
        e.to_string().contains("not an account of this creditor"),
        "{e}"
    );
}

#[test]
fn matching_allocation_and_returns_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    matching_story(sqlite(&dir, "story").as_mut());
}

#[test]
fn matching_allocation_and_returns_on_postgres() {
    matching_story(&mut postgres("story").store);
}

// ---------------------------------------------------------------------------------------------
// MT940

fn mt940_story(store: &mut dyn Store) {
    let mut c = creditor("ING klant B.V.");
    c.iban = Iban::parse("NL20INGB0001234567").expect("iban");
    let t = store.add_creditor(&c).expect("creditor");
    let kenmerk = Betalingskenmerk::generate(77).expect("kenmerk").to_string();
    let mut f = invoice("M-1", 12_100, "2026-01-01");
    f.payment_reference = Some(kenmerk.clone());
    import(store, t, 'm', vec![(debtor("Jan", "D1"), vec![f])]);
    let sta = format!(
        ":20:STARTUMSE\r\n:25:NL20INGB0001234567EUR\r\n:28C:3\r\n:60F:C260302EUR1000,00\r\n\
:61:2603020302C121,00NTRFEREF//00000000000005\r\n\
:86:/EREF/E2E-M1//CNTP/BE68539007547034/GKCCBEBB/Jan/GENT//REMI/STRD/CUR/{kenmerk}/\r\n\
:61:2603020302D1,50NMSCNONREF//00000000000006\r\n:86:Kosten\r\n\
:62F:C260302EUR1119,50\r\n-\r\n"
    );
    let r = bank::import_bank_file(store, t, "ing.sta", sta.as_bytes(), d("2026-03-03"))
        .expect("mt940");
    assert_eq!(r.format, "mt940");
    assert_eq!((r.entries_new, r.matched, r.ignored), (2, 1, 1), "{r:?}");
    assert_eq!(open_of(store, t, "M-1"), 0);
    let again = bank::import_bank_file(store, t, "ing.sta", sta.as_bytes(), d("2026-03-03"))
        .expect("again");
    assert!(!again.committed);
    // The return, in an old-style export that writes the account without IBAN.
    let ret = ":20:STARTUMSE\r\n:25:0001234567\r\n:28C:4\r\n:60F:C260304EUR1119,50\r\n\
:61:2603050305D121,00NTRFEREF//00000000000009\r\n\
:86:/RTRN/MD06//EREF/E2E-M1//CNTP/BE68539007547034/GKCCBEBB/Jan/GENT//REMI/USTD//\r\n\
:62F:C260305EUR998,50\r\n-\r\n";
    let r = bank::import_bank_file(store, t, "ret.sta", ret.as_bytes(), d("2026-03-06"))
        .expect("return");
    assert_eq!(r.returned, 1, "{r:?}");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("read as the IBAN")),
        "{:?}",
        r.warnings
    );
    assert_eq!(open_of(store, t, "M-1"), 12_100);
    assert_eq!(
        store.latest_bank_statement(t).expect("latest"),
        Some(d("2026-03-05"))
    );
}

#[test]
fn mt940_payment_and_return_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    mt940_story(sqlite(&dir, "mt940").as_mut());
}

#[test]
fn mt940_payment_and_return_on_postgres() {
    mt940_story(&mut postgres("mt940").store);
}

// ---------------------------------------------------------------------------------------------
// Refusals

fn refusals(store: &mut dyn Store) {
    let mut c = creditor("Voorbeeld B.V.");
    c.iban = Iban::parse(CREDITOR_IBAN).expect("iban");
    let t = store.add_creditor(&c).expect("creditor");
    let today = d("2026-03-03");
    let good = Ntry {
        amount: "10.00",
        date: "2026-03-02",
        asr: Some("G1"),
        ..Ntry::default()
    };
    let cases: Vec<(String, String, &str)> = vec![
        (
            "malformed amount".into(),
            camt053(CREDITOR_IBAN, "X", "0.00", "10.00", "2026-03-02", &[Ntry { amount: "1O.00", ..good }]),
            "/Ntry[1]/Amt",
        ),
        (
            "three decimals in EUR".into(),
            camt053(CREDITOR_IBAN, "X", "0.00", "10.005", "2026-03-02", &[Ntry { amount: "10.005", ..good }]),
            "not a whole number of EUR minor units",
        ),
        (
            "malformed date".into(),
            camt053(CREDITOR_IBAN, "X", "0.00", "10.00", "2026-03-02", &[Ntry { date: "2026-02-30", ..good }]),
            "BookgDt",
        ),
        (
            "unbalanced".into(),
            camt053(CREDITOR_IBAN, "X", "0.00", "11.00", "2026-03-02", std::slice::from_ref(&good)),
            "balance check failed",
        ),
        (
            "foreign account".into(),
            camt053("NL02ABNA0123456789", "X", "0.00", "10.00", "2026-03-02", std::slice::from_ref(&good)),
            "not an account of this creditor",
        ),
        (
            "external entity".into(),
            format!(
                "<?xml version=\"1.0\"?><!DOCTYPE Document [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}",
                camt053(CREDITOR_IBAN, "X", "0.00", "10.00", "2026-03-02", std::slice::from_ref(&good))
                    .split_once("?>\n")
                    .map(|(_, b)| b.to_string())
                    .unwrap_or_default()
            ),
            "DOCTYPE",
        ),
        (
            "mt940 malformed amount".into(),
            ":20:X\r\n:25:NL91ABNA0417164300\r\n:60F:C260302EUR0,00\r\n:61:2613020302C1,00NTRFNONREF\r\n:62F:C260302EUR1,00\r\n-\r\n".into(),
            "line 4",
        ),
    ];
    for (what, text, expected) in cases {
        let e = refusal(bank::import_bank_file(
            store,
            t,
            "bad.xml",
            text.as_bytes(),
            today,
        ));
        let shown = e.to_string();
        assert!(
            shown.contains(expected),
            "{what}: expected {expected:?} in {shown}"
        );
        assert!(shown.starts_with("bad.xml: refused"), "{what}: {shown}");
        assert!(
            store.bank_entries(t, None).expect("entries").is_empty(),
            "{what}"
        );
        assert!(store.payments(t).expect("payments").is_empty(), "{what}");
        assert_eq!(
            store.latest_bank_statement(t).expect("latest"),
            None,
            "{what}"
        );
    }
}

#[test]
fn broken_files_are_refused_whole_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    refusals(sqlite(&dir, "refusals").as_mut());
}

#[test]
fn broken_files_are_refused_whole_on_postgres() {
    refusals(&mut postgres("refusals").store);
}

// ---------------------------------------------------------------------------------------------
// Streaming

#[test]
fn a_large_statement_streams_and_reimports_as_a_no_op() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = sqlite(&dir, "large");
    let mut c = creditor("Voorbeeld B.V.");
    c.iban = Iban::parse(CREDITOR_IBAN).expect("iban");
    let t = store.add_creditor(&c).expect("creditor");
    const N: usize = 20_000;
    let refs: Vec<String> = (0..N).map(|i| format!("L{i}")).collect();
    let entries: Vec<Ntry<'_>> = refs
        .iter()
        .map(|r| Ntry {
            amount: "1.00",
            date: "2026-03-02",
            asr: Some(r),
            ustrd: Some("x"),
            ..Ntry::default()
        })
        .collect();
    let xml = camt053(
        CREDITOR_IBAN,
        "BIG",
        "0.00",
        &format!("{N}.00"),
        "2026-03-02",
        &entries,
    );
    let r = bank::import_bank_file(
        store.as_mut(),
        t,
        "big.xml",
        xml.as_bytes(),
        d("2026-03-03"),
    )
    .expect("large");
    assert_eq!(r.entries_new, N as u64);
    assert_eq!(r.unmatched, N as u64);
    let r = bank::import_bank_file(
        store.as_mut(),
        t,
        "big.xml",
        xml.as_bytes(),
        d("2026-03-03"),
    )
    .expect("again");
    assert!(!r.committed);
    assert_eq!(r.entries_known, N as u64);
}

// ---------------------------------------------------------------------------------------------
// Allocation order

/// Art. 6:43 BW: the invoices a payment names come first, among them the due before the not yet
/// due and the oldest first; what is left goes to the debtor's other claims in the same order,
/// and only then stays as a credit balance.
#[test]
fn one_payment_for_several_invoices_follows_art_6_43() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut boxed = sqlite(&dir, "order");
    let store = boxed.as_mut();
    let mut c = creditor("Voorbeeld B.V.");
    c.iban = Iban::parse(CREDITOR_IBAN).expect("iban");
    let t = store.add_creditor(&c).expect("creditor");
    let mut a1 = invoice("A-1", 10_000, "2026-01-01");
    a1.payment_reference = None;
    let mut a2 = invoice("A-2", 10_000, "2026-02-01");
    a2.payment_reference = None;
    let mut a3 = invoice("A-3", 10_000, "2026-04-01");
    a3.payment_reference = None;
    import(store, t, 'o', vec![(debtor("Jan", "D1"), vec![a1, a2, a3])]);
    let xml = camt053(
        CREDITOR_IBAN,
        "S-O",
        "0.00",
        "350.00",
        "2026-03-02",
        &[
            Ntry {
                amount: "150.00",
                date: "2026-03-02",
                asr: Some("O1"),
                ustrd: Some("facturen A-2 en A-1"),
                ..Ntry::default()
            },
            Ntry {
                amount: "200.00",
                date: "2026-03-02",
                asr: Some("O2"),
                ustrd: Some("A-3"),
                ..Ntry::default()
            },
        ],
    );
    let r = bank::import_bank_file(store, t, "order.xml", xml.as_bytes(), d("2026-03-03"))
        .expect("import");
    assert_eq!(r.matched, 2, "{r:?}");
    // 150.00 for: A-1 (older) in full, A-2 half.
    // 200.00 for A-3 (not yet due, but designated): A-3 in full, then A-2's last 50.00, then
    // 50.00 credit balance.
    assert_eq!(open_of(store, t, "A-1"), 0);
    assert_eq!(open_of(store, t, "A-2"), 0);
    assert_eq!(open_of(store, t, "A-3"), 0);
    let entries = store.bank_entries(t, None).expect("entries");
    assert_eq!(entries[0].matched.unapplied, Some(Money::eur_cents(0)));
    assert_eq!(entries[1].matched.unapplied, Some(Money::eur_cents(5_000)));
    let a2 = store.invoice_by_number(t, "A-2").expect("A-2");
    let parts: Vec<i64> = store
        .allocations(t, a2.id)
        .expect("allocations")
        .iter()
        .map(|a| a.allocation.amount.minor())
        .collect();
    assert_eq!(parts, vec![5_000, 5_000]);
    assert_eq!(r.with_credit_balance, 1);
}

/// Identical entries without bank references (same day, amount and text) are numbered per
/// statement: a later report with one more of them adds exactly that one.
#[test]
fn identical_entries_are_counted_not_collapsed() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut boxed = sqlite(&dir, "identical");
    let store = boxed.as_mut();
    let mut c = creditor("Voorbeeld B.V.");
    c.iban = Iban::parse(CREDITOR_IBAN).expect("iban");
    let t = store.add_creditor(&c).expect("creditor");
    let coffee = Ntry {
        amount: "40.00",
        date: "2026-03-02",
        ustrd: Some("koffie"),
        ..Ntry::default()
    };
    let two = camt053(
        CREDITOR_IBAN,
        "S-A",
        "0.00",
        "80.00",
        "2026-03-02",
        &[coffee; 2],
    );
    let r =
        bank::import_bank_file(store, t, "a.xml", two.as_bytes(), d("2026-03-03")).expect("two");
    assert_eq!(r.entries_new, 2);
    let three = camt053(
        CREDITOR_IBAN,
        "S-B",
        "0.00",
        "120.00",
        "2026-03-02",
        &[coffee; 3],
    );
    let r = bank::import_bank_file(store, t, "b.xml", three.as_bytes(), d("2026-03-03"))
        .expect("three");
    assert_eq!((r.entries_new, r.entries_known), (1, 2), "{r:?}");
    assert_eq!(store.bank_entries(t, None).expect("entries").len(), 3);
    assert_eq!(store.payments(t).expect("payments").len(), 3);
}
