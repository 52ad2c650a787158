//! Sans-IO reader for UBL 2.1 invoices and credit notes (work in progress).
