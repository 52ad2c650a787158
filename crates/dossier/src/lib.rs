//! Dossier: the hash chain over a case's event log, document hashing, and the case bundle (index, documents, log) for an agency or court (issue #5).
