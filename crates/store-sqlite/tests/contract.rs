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
    assert_eq!(again.schema_version().expect("version"), 1);
}
