//! Runs the `dossier` storage contract against a real PostgreSQL server, one fresh schema per
//! store; the tamper hook edits the schema with a second connection and raw SQL.

#[allow(dead_code)]
mod support;

use incasso_store::contract_dossier::Tamper;
use incasso_store::{DossierStore, Store};
use incasso_store_postgres::PgStore;
use postgres::types::ToSql;

/// A raw client whose search path is `schema`.
fn raw(schema: &str) -> postgres::Client {
    let mut c = postgres::Client::connect(&support::url(), postgres::NoTls).expect("connect");
    c.batch_execute(&format!("SET search_path TO \"{schema}\""))
        .expect("search path");
    c
}

/// Runs `sql` with the append-only trigger `trigger` on `table` disabled (it is re-enabled
/// after), after checking that the trigger refuses it.
fn past_trigger(schema: &str, table: &str, trigger: &str, sql: &str, args: &[&(dyn ToSql + Sync)]) {
    let mut c = raw(schema);
    let err = c
        .execute(sql, args)
        .expect_err("the append-only trigger refuses the change");
    assert!(
        err.to_string().contains("append-only") || format!("{err:?}").contains("append-only"),
        "{err:?}"
    );
    c.batch_execute(&format!("ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
        .expect("disable");
    assert_eq!(c.execute(sql, args).expect("tamper"), 1);
    c.batch_execute(&format!("ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
        .expect("enable");
}

#[test]
fn postgres_passes_the_dossier_contract() {
    let _guard = support::Schemas::new();
    let mut schemas: Vec<String> = Vec::new();
    incasso_store::contract_dossier::run_all(&mut || {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let salt = {
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(n) as u32
        };
        let schema = format!("dossier_{}_{n}_{salt:08x}", std::process::id());
        schemas.push(schema.clone());
        let store = Box::new(
            PgStore::connect_in_schema(&support::url(), &schema).expect("connect in schema"),
        ) as Box<dyn Store>;
        let tamper = Box::new(move |t: Tamper| match t {
            Tamper::EventText {
                tenant,
                case,
                seq,
                text,
            } => past_trigger(
                &schema,
                "case_events",
                "case_events_append_only",
                "UPDATE case_events SET text = $4 WHERE creditor_id = $1 AND case_id = $2 AND seq = $3",
                &[&tenant, &case, &(seq as i64), &text],
            ),
            Tamper::DeleteEvent { tenant, case, seq } => past_trigger(
                &schema,
                "case_events",
                "case_events_append_only",
                "DELETE FROM case_events WHERE creditor_id = $1 AND case_id = $2 AND seq = $3",
                &[&tenant, &case, &(seq as i64)],
            ),
            Tamper::DocumentBytes { tenant, id, bytes } => past_trigger(
                &schema,
                "documents",
                "documents_append_only",
                "UPDATE documents SET bytes = $3 WHERE creditor_id = $1 AND id = $2",
                &[&tenant, &id, &bytes],
            ),
        }) as Box<dyn FnMut(Tamper)>;
        (store, tamper)
    });
    let mut c = postgres::Client::connect(&support::url(), postgres::NoTls).expect("connect");
    for s in schemas {
        let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE"));
    }
}

/// A schema with case events from before migration 0008 gets them chained by the migration.
#[test]
fn migration_0008_chains_existing_events() {
    let schema = format!("dossier_mig_{}", std::process::id());
    let mut c = postgres::Client::connect(&support::url(), postgres::NoTls).expect("connect");
    c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE; CREATE SCHEMA \"{schema}\"; SET search_path TO \"{schema}\";
         CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());"
    ))
    .expect("schema");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("migrations")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for (i, f) in files.iter().take(7).enumerate() {
        c.batch_execute(&std::fs::read_to_string(f).expect("read"))
            .expect("old migration");
        c.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, 'old')",
            &[&(i as i64 + 1)],
        )
        .expect("record");
    }
    c.batch_execute(
        "INSERT INTO creditors (id, name, vat_deductible, iban, jurisdiction, kind, language) VALUES (1, 'A', true, 'NL91ABNA0417164300', 'nl', 'business', 'nl');
         INSERT INTO debtors (id, creditor_id, kind, name, language) VALUES (1, 1, 'consumer', 'Jan', 'nl'), (2, 1, 'consumer', 'Piet', 'nl');
         INSERT INTO cases (id, creditor_id, debtor_id, state, opened_on) VALUES (1, 1, 1, 'open', '2026-01-01'), (2, 1, 2, 'open', '2026-01-02');
         INSERT INTO case_events (creditor_id, case_id, on_date, kind, text) VALUES
            (1, 1, '2026-01-01', 'opened', 'case opened'),
            (1, 2, '2026-01-02', 'opened', 'case opened'),
            (1, 1, '2026-01-03', 'action_sent', 'reminder sent'),
            (1, 2, '2026-01-04', 'note', 'called');",
    )
    .expect("old rows");
    let mut store = PgStore::connect_in_schema(&support::url(), &schema).expect("migrate");
    let t = incasso_domain::CreditorId::new(1);
    for case in [1i64, 2] {
        let rows = store.chain(t, case).expect("chain");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].seq, 2);
        let chain = incasso_store::to_dossier_chain(t, case, &rows);
        assert_eq!(incasso_dossier::verify_stored(&chain), Ok(()));
    }
    assert!(c.execute("UPDATE case_events SET text = 'x'", &[]).is_err());
    let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
}
