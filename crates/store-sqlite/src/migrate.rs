//! The SQLite migration runner: numbered SQL files embedded in the binary, applied in order,
//! each in its own transaction, recorded in `schema_migrations`.

use rusqlite::{Connection, params};

/// Every migration, in order. Never edit one that has shipped: add a new file.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "ledger", include_str!("../migrations/0001_ledger.sql")),
    (
        2,
        "collection",
        include_str!("../migrations/0002_collection.sql"),
    ),
    (3, "bank", include_str!("../migrations/0003_bank.sql")),
    (4, "plans", include_str!("../migrations/0004_plans.sql")),
    (
        5,
        "policies",
        include_str!("../migrations/0005_policies.sql"),
    ),
    (
        6,
        "mandates",
        include_str!("../migrations/0006_mandates.sql"),
    ),
    (
        7,
        "paylinks",
        include_str!("../migrations/0007_paylinks.sql"),
    ),
    (8, "dossier", include_str!("../migrations/0008_dossier.sql")),
    (
        9,
        "dispatch",
        include_str!("../migrations/0009_dispatch.sql"),
    ),
    (
        10,
        "consent_log",
        include_str!("../migrations/0010_consent_log.sql"),
    ),
];

/// Applies all pending migrations.
pub fn apply(conn: &mut Connection) -> anyhow::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    )?;
    for (version, name, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: i64 = tx.query_row(
            "SELECT COUNT(*) FROM schema_migrations WHERE version = ?1",
            [version],
            |r| r.get(0),
        )?;
        if done == 0 {
            // A migration may need Rust between two halves of its SQL (0008 chains the
            // existing case events with the dossier's hash).
            match sql.split_once(crate::dossier::CHAIN_LEGACY_MARKER) {
                Some((before, after)) => {
                    tx.execute_batch(before)?;
                    crate::dossier::chain_legacy_events(&tx)?;
                    tx.execute_batch(after)?;
                }
                None => tx.execute_batch(sql)?,
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
                params![version, name],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}
