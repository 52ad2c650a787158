//! Dispatch bookkeeping for letters, e-mail and SMS: delivery attempts, failures with retry schedule, contact log for caps, postal print batches (issue #5).

/// Dispatch storage; every method is tenant-scoped.
pub trait DispatchStore {}
