//! Runs the `dossier` storage contract against real SQLite files in a temporary directory; the
//! tamper hook edits the file with a second connection and raw SQL.

use incasso_store::Store;
use incasso_store::contract_dossier::Tamper;
use incasso_store_sqlite::SqliteStore;
use rusqlite::{Connection, params};

/// Runs `sql` past the append-only trigger `trigger` (whose definition is restored after),
/// after checking that the trigger refuses it.
fn past_trigger(path: &std::path::Path, trigger: &str, sql: &str, args: &[&dyn rusqlite::ToSql]) {
    let conn = Connection::open(path).expect("open raw");
    let err = conn
        .execute(sql, args)
        .expect_err("the append-only trigger refuses the change");
    assert!(err.to_string().contains("append-only"), "{err}");
    let definition: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            [trigger],
            |r| r.get(0),
        )
        .expect("trigger");
    conn.execute_batch(&format!("DROP TRIGGER {trigger}"))
        .expect("drop trigger");
    assert_eq!(conn.execute(sql, args).expect("tamper"), 1);
    conn.execute_batch(&definition).expect("restore trigger");
}

#[test]
fn sqlite_passes_the_dossier_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut n = 0;
    incasso_store::contract_dossier::run_all(&mut || {
        n += 1;
        let path = dir.path().join(format!("dossier-{n}.db"));
        let store = Box::new(SqliteStore::open(&path).expect("open")) as Box<dyn Store>;
        let tamper = Box::new(move |t: Tamper| match t {
            Tamper::EventText {
                tenant,
                case,
                seq,
                text,
            } => past_trigger(
                &path,
                "case_events_no_update",
                "UPDATE case_events SET text = ?4 WHERE creditor_id = ?1 AND case_id = ?2 AND seq = ?3",
                params![tenant, case, seq as i64, text],
            ),
            Tamper::DeleteEvent { tenant, case, seq } => past_trigger(
                &path,
                "case_events_no_delete",
                "DELETE FROM case_events WHERE creditor_id = ?1 AND case_id = ?2 AND seq = ?3",
                params![tenant, case, seq as i64],
            ),
            Tamper::DocumentBytes { tenant, id, bytes } => past_trigger(
                &path,
                "documents_no_update",
                "UPDATE documents SET bytes = ?3 WHERE creditor_id = ?1 AND id = ?2",
                params![tenant, id, bytes],
            ),
        }) as Box<dyn FnMut(Tamper)>;
        (store, tamper)
    });
}
