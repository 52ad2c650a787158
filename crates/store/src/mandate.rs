//! Storage of SEPA direct-debit mandates, their amendments and the creditor identifier (issue #6).

/// Mandate storage; every method is tenant-scoped.
pub trait MandateStore {}
