//! Runs the storage contract suite against real SQLite files in a temporary directory.

use incasso_store::Store;
use incasso_store_sqlite::SqliteStore;

#[test]
fn sqlite_passes_the_store_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut n = 0;
    incasso_store::contract::run_all(&mut || {
        n += 1;
        let path = dir.path().join(format!("contract-{n}.db"));
        Box::new(SqliteStore::open(&path).expect("open")) as Box<dyn Store>
    });
}

#[test]
fn sqlite_file_is_in_wal_mode_and_money_rows_are_append_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal.db");
    let mut store = SqliteStore::open(&path).expect("open");
    let t = store
        .add_creditor(&incasso_store::contract::creditor("A"))
        .expect("creditor");
    store
        .record_payment(
            t,
            &incasso_store::NewPayment {
                debtor_id: None,
                received_on: incasso_calendar::parse_iso("2026-01-01").expect("date"),
                amount: incasso_money::Money::eur_cents(100),
                reference: None,
                counterparty_iban: None,
                description: None,
                source: "manual".into(),
                reverses: None,
            },
        )
        .expect("payment");
    drop(store);
    let raw = rusqlite::Connection::open(&path).expect("raw");
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!(mode, "wal");
    assert!(
        raw.execute("UPDATE payments SET amount_minor = 1", [])
            .is_err(),
        "payments must refuse UPDATE"
    );
    assert!(
        raw.execute("DELETE FROM payments", []).is_err(),
        "payments must refuse DELETE"
    );
    // Reopening applies no migration twice.
    let mut again = SqliteStore::open(&path).expect("reopen");
    let version = again.schema_version().expect("version");
    assert!(version >= 2, "ledger and collection migrations applied");
    drop(again);
    let mut third = SqliteStore::open(&path).expect("reopen");
    assert_eq!(
        third.schema_version().expect("version"),
        version,
        "reopening applies nothing twice"
    );
}

#[test]
fn a_large_import_rebuilds_exactly_the_migrated_indexes() {
    use incasso_store::{ImportCounts, ImportFile};
    let dir = tempfile::tempdir().expect("tempdir");
    let fresh_path = dir.path().join("fresh.db");
    drop(SqliteStore::open(&fresh_path).expect("fresh"));
    let index_sql = |path: &std::path::Path| -> Vec<(String, String)> {
        let raw = rusqlite::Connection::open(path).expect("raw");
        let mut stmt = raw.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    };
    let migrated = index_sql(&fresh_path);
    for (name, ddl) in incasso_store_sqlite::BULK_INDEXES {
        let found = migrated
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} missing from the migrations"));
        assert_eq!(
            found.1, *ddl,
            "BULK_INDEXES DDL must equal the migration's for {name}"
        );
    }

    let path = dir.path().join("bulk.db");
    let mut store = SqliteStore::open(&path).expect("open");
    let t = store
        .add_creditor(&incasso_store::contract::creditor("A"))
        .expect("creditor");
    let debtor = incasso_store::contract::debtor("Jan", "D1");
    let invoices: Vec<incasso_domain::NewInvoice> = (0..60_000)
        .map(|i| incasso_store::contract::invoice(&format!("B-{i:06}"), 100 + i, "2026-01-01"))
        .collect();
    let file = ImportFile {
        format: "csv".into(),
        filename: "bulk.csv".into(),
        sha256: "f".repeat(64),
    };
    store
        .import(t, &file, &mut |sink| {
            let ids = sink.insert_debtors(std::slice::from_ref(&debtor))?;
            for chunk in invoices.chunks(5_000) {
                let pairs: Vec<_> = chunk.iter().map(|inv| (ids[0], inv)).collect();
                sink.insert_invoices(&pairs)?;
            }
            Ok(ImportCounts {
                invoices_created: 60_000,
                debtors_created: 1,
                ..ImportCounts::default()
            })
        })
        .expect("import");
    drop(store);
    assert_eq!(
        index_sql(&path),
        migrated,
        "after a bulk import the same indexes exist with the same definitions"
    );
    let mut store = SqliteStore::open(&path).expect("reopen");
    let mut n = 0;
    store
        .for_each_invoice(
            t,
            &incasso_store::InvoiceFilter {
                overdue_as_of: incasso_calendar::parse_iso("2026-06-01").ok(),
                ..Default::default()
            },
            &mut |_| {
                n += 1;
                Ok(())
            },
        )
        .expect("list");
    assert_eq!(n, 60_000);
}
