//! SEPA direct debit: due instalments and invoices of debtors with a mandate collected into a pain.008 file, sequence types advanced (issue #6).
