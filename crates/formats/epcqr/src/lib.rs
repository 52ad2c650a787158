//! EPC069-12 (GiroCode) payload builder and parser.
