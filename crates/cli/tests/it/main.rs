//! End-to-end tests of the `incasso` binary: each scenario runs the real program against a real
//! SQLite file and against the local PostgreSQL server (a fresh schema per test).

mod calc;
mod collection;
mod crash;
mod direct_debit;
mod dispatch;
mod dispatch_letters;
mod dossier;
mod ledger;
mod letters;
mod paylink;
mod payments;
mod sms;
mod tidy;
mod ubl_samples;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A database for one test: an SQLite file in a temporary directory, or a fresh PostgreSQL schema.
pub struct Db {
    pub url: String,
    pub dir: tempfile::TempDir,
    schema: Option<String>,
}

pub fn pg_base_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

impl Db {
    pub fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = dir.path().join("incasso.db").display().to_string();
        Db {
            url,
            dir,
            schema: None,
        }
    }

    pub fn postgres() -> Db {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        // A random suffix (from the process's hash keys, not the clock) keeps schemas of
        // concurrent test processes apart.
        let nanos = {
            use std::hash::{BuildHasher, Hasher};
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
                % 1_000_000_000
        };
        let schema = format!(
            "cli_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            nanos
        );
        let base = pg_base_url();
        let mut client = postgres::Client::connect(&base, postgres::NoTls).unwrap_or_else(|e| {
            panic!("PostgreSQL at {base} is required for this test (start it; see README): {e}")
        });
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .expect("create schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Db {
            url,
            dir: tempfile::tempdir().expect("tempdir"),
            schema: Some(schema),
        }
    }

    /// Runs `incasso --db <this db> args...` in the test's directory.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_incasso"))
            .arg("--db")
            .arg(&self.url)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("INCASSO_DB")
            .env_remove("INCASSO_CREDITOR")
            .output()
            .expect("run incasso")
    }

    /// Runs a command that must succeed and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "incasso {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf8")
    }

    /// Runs a command with `--json` that must succeed and parses its one JSON object.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let text = self.ok(&all);
        serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {text}"))
    }

    pub fn add_creditor(&self) {
        self.ok(&[
            "creditor",
            "add",
            "--name",
            "Voorbeeld B.V.",
            "--iban",
            "NL91ABNA0417164300",
            "--kind",
            "business",
            "--jurisdiction",
            "nl",
        ]);
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(schema) = &self.schema
            && let Ok(mut c) = postgres::Client::connect(&pg_base_url(), postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
        }
    }
}

/// A test data file of this crate.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A UBL sample (kept with the UBL reader's tests, with their licences).
pub fn ubl_sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../formats/ubl/tests/data")
        .join(rel)
}

/// Declares a scenario once and runs it on both backends.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sqlite() {
                let f: fn(&$crate::Db) = $body;
                f(&$crate::Db::sqlite());
            }
            #[test]
            fn postgres() {
                let f: fn(&$crate::Db) = $body;
                f(&$crate::Db::postgres());
            }
        }
    };
}
