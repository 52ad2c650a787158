//! Storage of payment links at a payment provider (Mollie) and the webhook events that settle them (issue #6).

/// Payment-link storage; every method is tenant-scoped.
pub trait PaylinkStore {}
