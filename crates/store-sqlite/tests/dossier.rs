//! Runs the `dossier` storage contract against real SQLite files in a temporary directory.

use incasso_store::Store;
use incasso_store_sqlite::SqliteStore;

#[test]
fn sqlite_passes_the_dossier_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut n = 0;
    incasso_store::contract_dossier::run_all(&mut || {
        n += 1;
        let path = dir.path().join(format!("dossier-{n}.db"));
        Box::new(SqliteStore::open(&path).expect("open")) as Box<dyn Store>
    });
}
