//! Fatal errors: the document as a whole cannot be read. Problems inside one
//! entry are [`crate::Diagnostic`]s instead.

/// Why a document was refused as a whole.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input is empty or only whitespace.
    #[error("empty document")]
    Empty,
    /// Not well-formed XML (or not UTF-8).
    #[error("malformed XML at byte {position}: {message}")]
    Xml {
        /// Byte offset where the problem was found.
        position: u64,
        /// The XML reader's description.
        message: String,
    },
    /// A `<!DOCTYPE>` declaration: refused so that external entities and
    /// entity expansion (XXE, billion laughs) can never happen.
    #[error("DOCTYPE declarations are refused (byte {position})")]
    DoctypeRefused {
        /// Byte offset after the declaration.
        position: u64,
    },
    /// The root is not `Document` or the message is not camt.052/053/054.
    #[error("not a camt.052, camt.053 or camt.054 document: {reason}")]
    NotCamt {
        /// What was found instead.
        reason: String,
    },
    /// A camt message without any `Stmt`, `Rpt` or `Ntfctn` record.
    #[error("the {message} message contains no {record} element")]
    NoStatement {
        /// Message element, e.g. `BkToCstmrStmt`.
        message: &'static str,
        /// Record element, e.g. `Stmt`.
        record: &'static str,
    },
}
