//! Runs the `dispatch` storage contract against a real PostgreSQL server, one fresh schema per store.

mod support;

#[test]
fn postgres_passes_the_dispatch_contract() {
    let mut schemas = support::Schemas::new();
    incasso_store::contract_dispatch::run_all(&mut || schemas.store());
}
