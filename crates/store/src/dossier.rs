//! The evidence-grade case file: immutable documents with their SHA-256 and an append-only, hash-chained event log per case (issue #5).

/// Dossier storage; every method is tenant-scoped.
pub trait DossierStore {}
