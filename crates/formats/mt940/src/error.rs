//! Fatal errors: the file as a whole is not an MT940/MT942 statement file.
//! Problems inside one entry or balance are [`crate::Diagnostic`]s instead.

/// Why a file was refused as a whole.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input is empty or only whitespace.
    #[error("empty file")]
    Empty,
    /// No `:20:` tag anywhere: not an MT940/MT942 statement.
    #[error("no statement found: the file contains no :20: tag")]
    NoStatement,
}
