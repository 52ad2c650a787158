//! The PostgreSQL migration runner: numbered SQL files embedded in the binary, applied in order,
//! each in its own transaction, recorded in `schema_migrations` of the current schema.
//!
//! Two processes starting at once are safe: every migration transaction first takes a
//! transaction-scoped advisory lock keyed by the current schema, so one waits for the other and
//! then sees its work recorded.

use anyhow::Context;
use postgres::Client;

/// Every migration, in order. Never edit one that has shipped: add a new file.
const MIGRATIONS: &[(i64, &str, &str)] = &[
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

/// The first key of the two-key advisory lock that serialises migrations ("incasso" in spirit).
const LOCK_CLASS: i32 = 0x1ca5_5001;

/// Takes the migration lock of the current schema for the rest of the transaction.
fn lock(tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))",
        &[&LOCK_CLASS],
    )?;
    Ok(())
}

/// Applies all pending migrations.
pub fn apply(client: &mut Client) -> anyhow::Result<()> {
    let mut tx = client.transaction()?;
    lock(&mut tx)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .context("creating schema_migrations")?;
    tx.commit()?;
    for (version, name, sql) in MIGRATIONS {
        let mut tx = client.transaction()?;
        lock(&mut tx)?;
        let done: i64 = tx
            .query_one(
                "SELECT COUNT(*) FROM schema_migrations WHERE version = $1",
                &[version],
            )?
            .try_get(0)?;
        if done == 0 {
            // A migration may need Rust between two halves of its SQL (0008 chains the
            // existing case events with the dossier's hash).
            match sql.split_once(crate::dossier::CHAIN_LEGACY_MARKER) {
                Some((before, after)) => {
                    tx.batch_execute(before)
                        .with_context(|| format!("applying migration {version} ({name})"))?;
                    crate::dossier::chain_legacy_events(&mut tx)
                        .with_context(|| format!("chaining case events in migration {version}"))?;
                    tx.batch_execute(after)
                        .with_context(|| format!("applying migration {version} ({name})"))?;
                }
                None => tx
                    .batch_execute(sql)
                    .with_context(|| format!("applying migration {version} ({name})"))?,
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}
