//! Runs the `paylink` storage contract against a real PostgreSQL server, one fresh schema per store.

mod support;

#[test]
fn postgres_passes_the_paylink_contract() {
    let mut schemas = support::Schemas::new();
    incasso_store::contract_paylink::run_all(&mut || schemas.store());
}
