//! Runs the storage contract suite against a real PostgreSQL server, each store in a fresh,
//! uniquely named schema that is dropped at the end, plus the PostgreSQL-specific guarantees:
//! append-only money rows at the database level, idempotent and concurrent migrations, and the
//! COPY path of bulk imports (escaping, binary attachments, id order).
//!
//! The server comes from `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! An unreachable server fails the tests: they are never skipped silently. Set
//! `INCASSO_PG_KEEP_SCHEMAS=1` to keep the test schemas for inspection.

use std::sync::atomic::{AtomicU64, Ordering};

use incasso_domain::{Attachment, DebtorId, InvoiceLine, NewDebtor, NewInvoice};
use incasso_money::{Money, Rate};
use incasso_store::contract::{creditor, debtor, invoice};
use incasso_store::{ImportCounts, ImportFile, InvoiceFilter, NewPayment, Store, StoreError};
use incasso_store_postgres::PgStore;

fn url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn raw() -> postgres::Client {
    let url = url();
    postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot reach PostgreSQL at {url}: {e} ({})\n\
             These tests need a running server: start one or set TEST_DATABASE_URL.",
            std::error::Error::source(&e)
                .map(ToString::to_string)
                .unwrap_or_default()
        )
    })
}

/// Unique schema names, dropped (with everything in them) when the guard goes.
struct Schemas {
    names: Vec<String>,
}

impl Schemas {
    fn new() -> Schemas {
        // Fail early and clearly when the server is not there.
        drop(raw());
        Schemas { names: Vec::new() }
    }

    fn fresh(&mut self) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        // A per-process random salt (not the clock: the workspace forbids reading it outside
        // the CLI), so a reused pid never meets a schema left over by an earlier run.
        let salt = {
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(n) as u32
        };
        let name = format!("t_{}_{n}_{salt:08x}", std::process::id());
        self.names.push(name.clone());
        name
    }

    fn store(&mut self) -> PgStore {
        let schema = self.fresh();
        PgStore::connect_in_schema(&url(), &schema)
            .unwrap_or_else(|e| panic!("connecting in schema {schema} at {}: {e}", url()))
    }
}

impl Drop for Schemas {
    fn drop(&mut self) {
        if std::env::var_os("INCASSO_PG_KEEP_SCHEMAS").is_some() {
            eprintln!("keeping schemas {:?}", self.names);
            return;
        }
        if let Ok(mut client) = postgres::Client::connect(&url(), postgres::NoTls) {
            for name in &self.names {
                let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"));
            }
        }
    }
}

fn in_schema(schema: &str) -> postgres::Client {
    let mut client = raw();
    client
        .batch_execute(&format!("SET search_path TO \"{schema}\""))
        .expect("search_path");
    client
}

fn payment(cents: i64) -> NewPayment {
    NewPayment {
        debtor_id: None,
        received_on: incasso_calendar::parse_iso("2026-01-01").expect("date"),
        amount: Money::eur_cents(cents),
        reference: None,
        counterparty_iban: None,
        description: None,
        source: "manual".into(),
        reverses: None,
    }
}

fn file(name: &str, sha: char) -> ImportFile {
    ImportFile {
        format: "csv".into(),
        filename: name.into(),
        sha256: std::iter::repeat_n(sha, 64).collect(),
    }
}

#[test]
fn postgres_passes_the_store_contract() {
    let mut schemas = Schemas::new();
    incasso_store::contract::run_all(&mut || Box::new(schemas.store()) as Box<dyn Store>);
}

#[test]
fn money_rows_are_append_only_in_the_database() {
    let mut schemas = Schemas::new();
    let mut store = schemas.store();
    let schema = schemas.names[0].clone();
    assert_eq!(store.backend(), "postgres");
    let t = store.add_creditor(&creditor("A")).expect("creditor");
    store
        .import(t, &file("a.csv", 'a'), &mut |sink| {
            let ids = sink.insert_debtors(&[debtor("Jan", "D1")])?;
            let inv = invoice("F-1", 1000, "2026-01-01");
            sink.insert_invoices(&[(ids[0], &inv)])?;
            Ok(ImportCounts::default())
        })
        .expect("import");
    let inv = store.invoice_by_number(t, "F-1").expect("invoice");
    let pay = store.record_payment(t, &payment(100)).expect("payment");
    store
        .record_allocations(
            t,
            &[incasso_store::NewAllocation {
                payment_id: pay,
                invoice_id: inv.id,
                component: incasso_store::Component::Principal,
                amount: Money::eur_cents(100),
                reverses: None,
            }],
        )
        .expect("allocation");
    drop(store);

    let mut client = in_schema(&schema);
    for sql in [
        "UPDATE payments SET amount_minor = 1",
        "DELETE FROM payments",
        "TRUNCATE payments CASCADE",
        "UPDATE allocations SET amount_minor = 1",
        "DELETE FROM allocations",
        "TRUNCATE allocations",
    ] {
        let err = client.batch_execute(sql).expect_err(sql);
        let code = err.code().map(|c| c.code().to_string()).unwrap_or_default();
        assert_eq!(
            code, "23000",
            "{sql} must be refused as an integrity violation, got {err}"
        );
    }
    let n: i64 = client
        .query_one("SELECT COUNT(*) FROM payments", &[])
        .expect("count")
        .get(0);
    assert_eq!(n, 1);
    let amount: i64 = client
        .query_one("SELECT amount_minor FROM allocations", &[])
        .expect("allocation")
        .get(0);
    assert_eq!(amount, 100);
}

#[test]
fn migrations_apply_once_on_reconnect_and_concurrently() {
    let mut schemas = Schemas::new();
    let schema = schemas.fresh();
    // Four processes' worth of connections start at once on an empty schema.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let schema = schema.clone();
            std::thread::spawn(move || {
                PgStore::connect_in_schema(&url(), &schema).map(|mut s| s.schema_version())
            })
        })
        .collect();
    let versions: Vec<i64> = handles
        .into_iter()
        .map(|h| {
            h.join()
                .expect("thread")
                .expect("concurrent connect")
                .expect("version")
        })
        .collect();
    let latest = versions[0];
    assert!(latest >= 1);
    assert!(versions.iter().all(|v| *v == latest), "{versions:?}");
    let mut store = PgStore::connect_in_schema(&url(), &schema).expect("reconnect");
    assert_eq!(store.schema_version().expect("version"), latest);
    let t = store.add_creditor(&creditor("A")).expect("creditor");
    drop(store);
    let mut again = PgStore::connect_in_schema(&url(), &schema).expect("reconnect again");
    assert_eq!(
        again.creditor(t).expect("still there").details,
        creditor("A")
    );
    let applied: i64 = in_schema(&schema)
        .query_one("SELECT COUNT(*) FROM schema_migrations", &[])
        .expect("count")
        .get(0);
    assert_eq!(applied, latest, "each migration recorded once");
}

/// A debtor whose free text needs every COPY escape.
fn awkward_debtor(i: usize) -> NewDebtor {
    let mut d = debtor(&format!("Klant {i}\\ \"de\" 'Vries'"), &format!("D{i}"));
    d.contact_person = Some(format!("Tab\there\nnewline\r\nback\\slash \\N é {i}"));
    d.address.street = "Straat\t1\\a".into();
    if i.is_multiple_of(3) {
        d.contact_person = None;
        d.address.country = None;
    }
    d.vulnerable = i.is_multiple_of(2);
    d
}

fn awkward_invoice(i: usize) -> NewInvoice {
    let mut inv = invoice(
        &format!("B-{i:05}"),
        1000 + i as i64,
        &format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
    );
    inv.description = if i.is_multiple_of(4) {
        None
    } else {
        Some(format!("Regel\tmet\\tab\nen {i}"))
    };
    inv.payment_terms_days = if i.is_multiple_of(5) { Some(30) } else { None };
    if i.is_multiple_of(7) {
        inv.due_date = None;
        inv.due_date_source = None;
    }
    inv.lines.push(InvoiceLine {
        description: format!("Tweede\rregel \\ {i}"),
        quantity: "1,5".into(),
        net_amount: Money::eur_cents(0),
        vat_percent: Some(Rate::parse_percent("21").expect("rate")),
    });
    if i.is_multiple_of(2) {
        inv.attachment = Some(Attachment {
            filename: format!("B-{i}.pdf"),
            mime_type: "application/pdf".into(),
            content: (0..=255u8)
                .chain(b"\\x\t\n\\N".iter().copied())
                .cycle()
                .take(300 + i)
                .collect(),
        });
    }
    inv
}

#[test]
fn bulk_import_through_copy_round_trips_exactly() {
    let mut schemas = Schemas::new();
    let mut store = schemas.store();
    let t = store.add_creditor(&creditor("A")).expect("creditor");
    let debtors: Vec<NewDebtor> = (0..120).map(awkward_debtor).collect();
    let invoices: Vec<NewInvoice> = (0..600).map(awkward_invoice).collect();
    let mut debtor_ids = Vec::new();
    let mut invoice_ids = Vec::new();
    store
        .import(t, &file("bulk.csv", '1'), &mut |sink| {
            debtor_ids = sink.insert_debtors(&debtors)?;
            let pairs: Vec<(DebtorId, &NewInvoice)> = invoices
                .iter()
                .enumerate()
                .map(|(i, inv)| (debtor_ids[i % debtor_ids.len()], inv))
                .collect();
            invoice_ids = sink.insert_invoices(&pairs)?;
            // A second, small batch after the bulk one goes through the INSERT path.
            let small = invoice("S-1", 5, "2026-01-01");
            sink.insert_invoices(&[(debtor_ids[0], &small)])?;
            let keys = sink.debtor_keys()?;
            assert_eq!(keys.len(), 120);
            Ok(ImportCounts {
                debtors_created: 120,
                invoices_created: 601,
                ..ImportCounts::default()
            })
        })
        .expect("bulk import");
    assert_eq!(debtor_ids.len(), 120);
    assert!(
        debtor_ids.windows(2).all(|w| w[0].get() < w[1].get()),
        "debtor ids in order"
    );
    assert!(
        invoice_ids.windows(2).all(|w| w[0].get() < w[1].get()),
        "invoice ids in order"
    );
    for (i, d) in debtors.iter().enumerate() {
        assert_eq!(
            &store.debtor(t, debtor_ids[i]).expect("debtor").details,
            d,
            "debtor {i}"
        );
    }
    for (i, inv) in invoices.iter().enumerate() {
        let stored = store.invoice(t, invoice_ids[i]).expect("invoice");
        assert_eq!(&stored.details, inv, "invoice {i}");
        assert_eq!(stored.debtor_id, debtor_ids[i % 120]);
        assert_eq!(stored.open_amount, inv.open_amount());
    }
    let record = store
        .find_import(t, &"1".repeat(64))
        .expect("find")
        .expect("recorded");
    assert_eq!(record.invoices_created, 601);
    assert_eq!(
        record.imported_at.len(),
        19,
        "timestamp as YYYY-MM-DD HH:MM:SS: {}",
        record.imported_at
    );

    // Listing: NULL due dates first (as SQLite), then by due date and id; debtor filter.
    let mut rows = Vec::new();
    let n = store
        .for_each_invoice(t, &InvoiceFilter::default(), &mut |r| {
            rows.push(r);
            Ok(())
        })
        .expect("list");
    assert_eq!(n, 601);
    let keys: Vec<_> = rows
        .iter()
        .map(|r| (r.due_date.is_some(), r.due_date, r.id.get()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let mut for_first = 0;
    store
        .for_each_invoice(
            t,
            &InvoiceFilter {
                debtor: Some(debtor_ids[1]),
                limit: Some(3),
                ..InvoiceFilter::default()
            },
            &mut |r| {
                assert_eq!(r.debtor_id, debtor_ids[1]);
                for_first += 1;
                Ok(())
            },
        )
        .expect("debtor filter");
    assert_eq!(for_first, 3);
    // A visitor's error stops the listing and the connection stays usable.
    let stopped = store.for_each_invoice(t, &InvoiceFilter::default(), &mut |_| {
        anyhow::bail!("enough")
    });
    assert!(stopped.is_err());
    assert_eq!(store.debtors(t).expect("debtors").len(), 120);
    let names: Vec<String> = store
        .debtors(t)
        .expect("debtors")
        .into_iter()
        .map(|d| d.name)
        .collect();
    let mut bytewise = names.clone();
    bytewise.sort();
    assert_eq!(
        names, bytewise,
        "debtors ordered bytewise by name, as in SQLite"
    );
}

#[test]
fn an_import_that_goes_on_after_a_refused_call_does_not_commit() {
    let mut schemas = Schemas::new();
    let mut store = schemas.store();
    let t = store.add_creditor(&creditor("A")).expect("creditor");
    let result = store.import(t, &file("dup.csv", '4'), &mut |sink| {
        let ids = sink.insert_debtors(&[debtor("Jan", "D1")])?;
        let first = invoice("S-1", 5, "2026-01-01");
        sink.insert_invoices(&[(ids[0], &first)])?;
        let refused = sink.insert_invoices(&[(ids[0], &first)]);
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "duplicate number is a conflict: {refused:?}"
        );
        assert!(
            sink.debtor_keys().is_err(),
            "later calls fail: the transaction is aborted"
        );
        // The closure ignores the failures and reports success.
        Ok(ImportCounts::default())
    });
    assert!(result.is_err(), "nothing may be reported as committed");
    assert!(
        store
            .find_import(t, &"4".repeat(64))
            .expect("find")
            .is_none()
    );
    assert!(store.debtors(t).expect("debtors").is_empty());
}

#[test]
fn failing_bulk_import_leaves_nothing() {
    let mut schemas = Schemas::new();
    let mut store = schemas.store();
    let t = store.add_creditor(&creditor("A")).expect("creditor");
    let debtors: Vec<NewDebtor> = (0..100).map(awkward_debtor).collect();
    let mut invoices: Vec<NewInvoice> = (0..100).map(awkward_invoice).collect();
    invoices[99].number = invoices[3].number.clone();
    let result = store.import(t, &file("bad.csv", '2'), &mut |sink| {
        let ids = sink.insert_debtors(&debtors)?;
        let pairs: Vec<(DebtorId, &NewInvoice)> =
            invoices.iter().map(|inv| (ids[0], inv)).collect();
        sink.insert_invoices(&pairs)?;
        Ok(ImportCounts::default())
    });
    assert!(
        result.is_err(),
        "duplicate number inside a COPY batch is refused"
    );
    assert!(
        store
            .find_import(t, &"2".repeat(64))
            .expect("find")
            .is_none()
    );
    assert!(store.debtors(t).expect("debtors").is_empty());
    assert_eq!(
        store
            .for_each_invoice(t, &InvoiceFilter::default(), &mut |_| Ok(()))
            .expect("list"),
        0
    );
}

#[test]
fn rows_cannot_point_at_another_tenants_debtor() {
    let mut schemas = Schemas::new();
    let mut store = schemas.store();
    let a = store.add_creditor(&creditor("A")).expect("a");
    let b = store.add_creditor(&creditor("B")).expect("b");
    let a_debtor = store.add_debtor(a, &debtor("Jan", "D1")).expect("debtor");
    for n in [1usize, 60] {
        let invoices: Vec<NewInvoice> = (0..n)
            .map(|i| invoice(&format!("X-{i}"), 100, "2026-01-01"))
            .collect();
        let result = store.import(
            b,
            &file("x.csv", if n == 1 { 'x' } else { 'y' }),
            &mut |sink| {
                let pairs: Vec<(DebtorId, &NewInvoice)> =
                    invoices.iter().map(|inv| (a_debtor, inv)).collect();
                sink.insert_invoices(&pairs)?;
                Ok(ImportCounts::default())
            },
        );
        assert!(
            result.is_err(),
            "an invoice of B for A's debtor is refused ({n} rows)"
        );
        let refused = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("foreign key"), "{refused}");
    }
    assert_eq!(
        store
            .for_each_invoice(b, &InvoiceFilter::default(), &mut |_| Ok(()))
            .expect("list"),
        0
    );
}
