//! Shared by the capability contract test files: fresh, uniquely named schemas on the server
//! from `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`), dropped at the
//! end. An unreachable server fails the tests: they are never skipped silently.

use std::sync::atomic::{AtomicU64, Ordering};

use incasso_store::Store;
use incasso_store_postgres::PgStore;

pub fn url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Unique schema names, dropped (with everything in them) when the guard goes.
pub struct Schemas {
    names: Vec<String>,
}

impl Schemas {
    pub fn new() -> Schemas {
        if let Err(e) = postgres::Client::connect(&url(), postgres::NoTls) {
            panic!("cannot reach PostgreSQL at {}: {e}", url());
        }
        Schemas { names: Vec::new() }
    }

    pub fn store(&mut self) -> Box<dyn Store> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let salt = {
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(n) as u32
        };
        let schema = format!("c_{}_{n}_{salt:08x}", std::process::id());
        self.names.push(schema.clone());
        Box::new(
            PgStore::connect_in_schema(&url(), &schema)
                .unwrap_or_else(|e| panic!("connecting in schema {schema}: {e}")),
        )
    }
}

impl Drop for Schemas {
    fn drop(&mut self) {
        if std::env::var_os("INCASSO_PG_KEEP_SCHEMAS").is_some() {
            return;
        }
        if let Ok(mut client) = postgres::Client::connect(&url(), postgres::NoTls) {
            for name in &self.names {
                let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"));
            }
        }
    }
}
