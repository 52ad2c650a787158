//! The dossier use cases: recording documents and events in the hash chain, verifying a case, exporting its bundle (issue #5).
