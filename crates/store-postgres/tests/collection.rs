//! PostgreSQL-specific guarantees of the collection tables (the behaviour itself is checked by
//! the contract suite in `contract.rs`): the case event log refuses UPDATE, DELETE and TRUNCATE
//! at the database level, and a case cannot point at another tenant's debtor.

use incasso_calendar::parse_iso;
use incasso_store::contract::{creditor, debtor};
use incasso_store::{CaseEvent, CaseRef, NewCase, RunBatch, Store, StoreError};
use incasso_store_postgres::PgStore;

fn url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A fresh schema, dropped when the guard goes.
struct Schema(String);

impl Schema {
    fn new(tag: &str) -> Schema {
        use std::hash::BuildHasher;
        let salt = std::collections::hash_map::RandomState::new().hash_one(tag) as u32;
        Schema(format!("c_{}_{tag}_{salt:08x}", std::process::id()))
    }

    fn store(&self) -> PgStore {
        PgStore::connect_in_schema(&url(), &self.0).unwrap_or_else(|e| {
            panic!(
                "cannot reach PostgreSQL at {} ({e}): start it or set TEST_DATABASE_URL",
                url()
            )
        })
    }

    fn raw(&self) -> postgres::Client {
        let mut client = postgres::Client::connect(&url(), postgres::NoTls).expect("connect");
        client
            .batch_execute(&format!("SET search_path TO \"{}\"", self.0))
            .expect("search_path");
        client
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&url(), postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.0));
        }
    }
}

fn event(text: &str) -> CaseEvent {
    CaseEvent {
        on: parse_iso("2026-03-01").expect("date"),
        kind: "run".into(),
        text: text.into(),
    }
}

#[test]
fn case_events_are_append_only_in_the_database() {
    let schema = Schema::new("events");
    let mut store = schema.store();
    let t = store.add_creditor(&creditor("A")).expect("creditor");
    let jan = store.add_debtor(t, &debtor("Jan", "D1")).expect("debtor");
    let batch = RunBatch {
        new_cases: vec![NewCase {
            debtor_id: jan,
            state: "open".into(),
            opened_on: parse_iso("2026-03-01").expect("date"),
        }],
        events: vec![(CaseRef::New(0), event("opened"))],
        ..RunBatch::default()
    };
    store.apply_run(t, &batch).expect("run");
    drop(store);
    let mut raw = schema.raw();
    for sql in [
        "UPDATE case_events SET text = 'changed'",
        "DELETE FROM case_events",
        "TRUNCATE case_events",
    ] {
        let err = raw.batch_execute(sql).expect_err(sql);
        assert_eq!(err.code().map(|c| c.code()), Some("23000"), "{sql}: {err}");
    }
    let n: i64 = raw
        .query_one("SELECT COUNT(*) FROM case_events", &[])
        .expect("count")
        .get(0);
    assert_eq!(n, 1);
}

#[test]
fn a_case_cannot_point_at_another_tenants_debtor() {
    let schema = Schema::new("tenants");
    let mut store = schema.store();
    let a = store.add_creditor(&creditor("A")).expect("a");
    let b = store.add_creditor(&creditor("B")).expect("b");
    let a_debtor = store.add_debtor(a, &debtor("Jan", "D1")).expect("debtor");
    let batch = RunBatch {
        new_cases: vec![NewCase {
            debtor_id: a_debtor,
            state: "open".into(),
            opened_on: parse_iso("2026-03-01").expect("date"),
        }],
        ..RunBatch::default()
    };
    assert!(matches!(
        store.apply_run(b, &batch),
        Err(StoreError::Conflict(_))
    ));
    assert!(store.cases(b, false).expect("cases").is_empty());
}
