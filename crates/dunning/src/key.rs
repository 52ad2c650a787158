//! Idempotency keys for actions: a deterministic string from (case id, policy name, policy
//! version, step id), so a repeated or crashed run can never queue the same letter twice.

use std::fmt;

use crate::case::CaseId;

/// The key under which the shell queues an action in the outbox (unique index).
///
/// Format: `dunning:{case id}:{policy name}:v{version}:{step id}`. Policy names and step ids are
/// limited to `[a-z0-9_-]` by policy validation, so the `:` separator is unambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn new(
        case_id: CaseId,
        policy_name: &str,
        policy_version: u32,
        step_id: &str,
    ) -> IdempotencyKey {
        IdempotencyKey(format!(
            "dunning:{case_id}:{policy_name}:v{policy_version}:{step_id}"
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_deterministic_and_distinguishes_each_part() {
        let key =
            |case, name, version, step| IdempotencyKey::new(CaseId::new(case), name, version, step);
        assert_eq!(
            key(42, "nl-b2c", 3, "fourteen_day_letter").as_str(),
            "dunning:42:nl-b2c:v3:fourteen_day_letter"
        );
        assert_eq!(key(42, "nl-b2c", 3, "x"), key(42, "nl-b2c", 3, "x"));
        let all = [
            key(42, "nl-b2c", 3, "x"),
            key(43, "nl-b2c", 3, "x"),
            key(42, "nl-b2b", 3, "x"),
            key(42, "nl-b2c", 4, "x"),
            key(42, "nl-b2c", 3, "y"),
        ];
        let unique: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
    }
}
