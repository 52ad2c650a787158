//! Storage contract for the `dispatch` capability: story-style checks every backend must pass.

use crate::Store;

/// Runs every dispatch contract check, each on a fresh store.
pub fn run_all(_fresh: &mut dyn FnMut() -> Box<dyn Store>) {}
