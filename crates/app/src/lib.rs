//! incasso's use cases, between the command line (or a server) and the store: importing
//! invoice files, generating the demo ledger. This crate owns transactions; it depends on the
//! store trait, never on a particular backend.

pub mod bank;
pub mod demo;
pub mod direct_debit;
pub mod dispatch;
mod dispatch_ahead;
pub mod dispatch_hooks;
pub mod dossier;
mod dossier_sheet;
pub mod import;
pub mod letter_links;
pub mod letters;
pub mod paylink;
pub mod run;

use sha2::{Digest, Sha256};

/// Hex SHA-256 of some bytes (file identity for idempotent imports, dossier hashes).
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}
