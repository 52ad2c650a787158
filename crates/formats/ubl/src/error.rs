//! Error type of the UBL reader: every error names where it happened (an
//! element path such as `/Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount`,
//! or a byte offset and line for malformed XML) and what was expected.

/// Everything that can go wrong while reading a UBL document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UblError {
    /// The input is not well-formed XML (or uses XML features this reader
    /// refuses, such as undeclared entities). `offset` is the 0-based byte
    /// offset into the input, `line` the 1-based line number.
    #[error("malformed XML at byte {offset} (line {line}): {message}")]
    Xml {
        /// 0-based byte offset into the input where the problem was detected.
        offset: u64,
        /// 1-based line number of `offset`.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The document contains a `<!DOCTYPE ...>` declaration. DTDs are refused
    /// outright, so external entities (XXE) and entity expansion ("billion
    /// laughs") can never happen.
    #[error("DOCTYPE declarations are refused (found at byte {offset})")]
    DoctypeRefused {
        /// 0-based byte offset just after the DOCTYPE declaration.
        offset: u64,
    },
    /// The root element is not a UBL 2.x `Invoice` or `CreditNote`.
    #[error("not a UBL Invoice or CreditNote: root element is <{root}>{}", namespace_suffix(.namespace))]
    NotUblInvoice {
        /// The root element's name as written (with prefix, if any).
        root: String,
        /// The namespace URI of the root element, if it has one.
        namespace: Option<String>,
    },
    /// An element or attribute is present but its value is not acceptable.
    #[error("{path}: expected {expected}, found {found:?}")]
    InvalidValue {
        /// Element path, e.g. `/Invoice/cbc:IssueDate`; attributes end in `/@name`.
        path: String,
        /// What was expected, e.g. "an ISO date YYYY-MM-DD".
        expected: &'static str,
        /// The offending text (shortened to at most 80 characters).
        found: String,
    },
    /// A required element or attribute is absent.
    #[error("{path}: required element is missing")]
    Missing {
        /// Path of the missing element, e.g. `/Invoice/cbc:ID`.
        path: String,
    },
}

fn namespace_suffix(ns: &Option<String>) -> String {
    match ns {
        Some(ns) => format!(" in namespace {ns}"),
        None => " without namespace".to_owned(),
    }
}

/// Shortens a found value for inclusion in an error message.
pub(crate) fn shorten(found: &str) -> String {
    const MAX: usize = 80;
    if found.chars().count() <= MAX {
        found.to_owned()
    } else {
        let mut s: String = found.chars().take(MAX).collect();
        s.push('…');
        s
    }
}
