//! Invoices and credit notes, and the rule that decides whether one is collectable:
//! a claim is collectable only when it is certain, defined and due.

use incasso_calendar::Date;
use incasso_money::{Currency, Money, Rate};

use crate::ids::{CreditorId, DebtorId, InvoiceId};
use crate::party::DebtorKind;
use crate::values::InvoiceNumber;

/// Invoice or credit note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

impl DocumentKind {
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "invoice" | "factuur" | "" => Some(DocumentKind::Invoice),
            "credit_note" | "credit note" | "creditnote" | "creditnota" | "credit" => {
                Some(DocumentKind::CreditNote)
            }
            _ => None,
        }
    }
}

/// Where the due date came from; a letter may need to say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DueDateSource {
    /// Stated on the invoice.
    Stated,
    /// Issue date plus the agreed payment term in days.
    PaymentTerms,
    /// No term agreed between businesses: 30 days (art. 6:119a lid 2 BW; Belgian law of
    /// 2 August 2002 art. 4), counted here from the issue date as the best available proxy
    /// for receipt.
    StatutoryDefault,
}

impl DueDateSource {
    pub fn code(self) -> &'static str {
        match self {
            DueDateSource::Stated => "stated",
            DueDateSource::PaymentTerms => "payment_terms",
            DueDateSource::StatutoryDefault => "statutory_default",
        }
    }

    pub fn parse(s: &str) -> Option<DueDateSource> {
        match s {
            "stated" => Some(DueDateSource::Stated),
            "payment_terms" => Some(DueDateSource::PaymentTerms),
            "statutory_default" => Some(DueDateSource::StatutoryDefault),
            _ => None,
        }
    }

    /// Derives a due date: the stated date, else issue date + payment term, else for a business
    /// debtor the statutory 30-day default. A consumer claim without a term has no derivable due
    /// date (the creditor must first put the debtor in default).
    pub fn derive(
        stated: Option<Date>,
        issue_date: Date,
        payment_terms_days: Option<u16>,
        kind: DebtorKind,
    ) -> Option<(Date, DueDateSource)> {
        if let Some(d) = stated {
            return Some((d, DueDateSource::Stated));
        }
        if let Some(days) = payment_terms_days {
            return issue_date
                .checked_add(jiff::Span::new().days(i64::from(days)))
                .ok()
                .map(|d| (d, DueDateSource::PaymentTerms));
        }
        match kind {
            DebtorKind::Business => issue_date
                .checked_add(jiff::Span::new().days(30))
                .ok()
                .map(|d| (d, DueDateSource::StatutoryDefault)),
            DebtorKind::Consumer => None,
        }
    }
}

/// One invoice line, kept for the letter's table and the dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    pub description: String,
    /// Quantity as written on the invoice (exact decimal text).
    pub quantity: String,
    pub net_amount: Money,
    pub vat_percent: Option<Rate>,
}

/// A document attached to an invoice (the original PDF, usually).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub mime_type: String,
    pub content: Vec<u8>,
}

/// Why an imported invoice is not (yet) collectable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotCollectable {
    /// No amount to pay (zero or missing): not defined.
    NoAmount,
    /// No due date and none can be derived: not due.
    NoDueDate,
    /// Already paid in full at import.
    AlreadyPaid,
    /// A credit note is not a claim on the debtor; it reduces their other claims.
    CreditNote,
}

impl NotCollectable {
    pub fn code(self) -> &'static str {
        match self {
            NotCollectable::NoAmount => "no_amount",
            NotCollectable::NoDueDate => "no_due_date",
            NotCollectable::AlreadyPaid => "already_paid",
            NotCollectable::CreditNote => "credit_note",
        }
    }

    pub fn parse(s: &str) -> Option<NotCollectable> {
        match s {
            "no_amount" => Some(NotCollectable::NoAmount),
            "no_due_date" => Some(NotCollectable::NoDueDate),
            "already_paid" => Some(NotCollectable::AlreadyPaid),
            "credit_note" => Some(NotCollectable::CreditNote),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            NotCollectable::NoAmount => "no amount to pay",
            NotCollectable::NoDueDate => "no due date and none can be derived",
            NotCollectable::AlreadyPaid => "already paid in full",
            NotCollectable::CreditNote => "credit note (not a claim)",
        }
    }
}

/// Whether a claim can be collected on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collectability {
    Collectable,
    NotYetDue { due_date: Date },
    Not(NotCollectable),
}

/// An invoice or credit note as imported, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    pub number: InvoiceNumber,
    pub kind: DocumentKind,
    pub issue_date: Date,
    pub due_date: Option<Date>,
    pub due_date_source: Option<DueDateSource>,
    pub payment_terms_days: Option<u16>,
    pub currency: Currency,
    pub net_amount: Money,
    pub vat_amount: Money,
    pub gross_amount: Money,
    /// Already paid at the time of import (prepaid amount, partial payment in the source system).
    pub paid_amount: Money,
    pub payment_reference: Option<String>,
    /// An interest rate agreed in the contract or terms, used instead of the statutory one.
    pub contractual_interest_rate: Option<Rate>,
    /// For a credit note: the number of the invoice it corrects.
    pub corrects: Option<InvoiceNumber>,
    pub description: Option<String>,
    pub lines: Vec<InvoiceLine>,
    pub attachment: Option<Attachment>,
}

impl NewInvoice {
    /// The amount still to pay according to the source (gross minus paid); never below zero.
    pub fn open_amount(&self) -> Money {
        match self.gross_amount.checked_sub(self.paid_amount) {
            Ok(m) if m.is_positive() => m,
            _ => Money::zero(self.currency),
        }
    }

    /// The reason this document can never be collected as it stands, if any (certain and defined).
    pub fn defect(&self) -> Option<NotCollectable> {
        if self.kind == DocumentKind::CreditNote {
            return Some(NotCollectable::CreditNote);
        }
        if !self.gross_amount.is_positive() {
            return Some(NotCollectable::NoAmount);
        }
        if !self.open_amount().is_positive() {
            return Some(NotCollectable::AlreadyPaid);
        }
        if self.due_date.is_none() {
            return Some(NotCollectable::NoDueDate);
        }
        None
    }

    /// Collectable on `today`: certain, defined and due (the due date has passed).
    pub fn collectability(&self, today: Date) -> Collectability {
        if let Some(defect) = self.defect() {
            return Collectability::Not(defect);
        }
        match self.due_date {
            Some(due) if due < today => Collectability::Collectable,
            Some(due) => Collectability::NotYetDue { due_date: due },
            None => Collectability::Not(NotCollectable::NoDueDate),
        }
    }

    /// True when the same number arrives with different money facts: a changed invoice that must
    /// be reported, not silently overwritten.
    pub fn differs_in_amounts(&self, other: &NewInvoice) -> bool {
        self.gross_amount != other.gross_amount
            || self.net_amount != other.net_amount
            || self.vat_amount != other.vat_amount
            || self.paid_amount != other.paid_amount
            || self.due_date != other.due_date
            || self.kind != other.kind
    }
}

/// A stored invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: InvoiceId,
    pub creditor_id: CreditorId,
    pub debtor_id: DebtorId,
    pub details: NewInvoice,
    /// The amount still open after payments recorded in incasso.
    pub open_amount: Money,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        incasso_calendar::parse_iso(s).unwrap()
    }

    fn invoice(gross: i64, paid: i64, due: Option<&str>) -> NewInvoice {
        NewInvoice {
            number: InvoiceNumber::parse("F1").unwrap(),
            kind: DocumentKind::Invoice,
            issue_date: d("2026-01-01"),
            due_date: due.map(d),
            due_date_source: due.map(|_| DueDateSource::Stated),
            payment_terms_days: None,
            currency: Currency::EUR,
            net_amount: Money::eur_cents(gross),
            vat_amount: Money::eur_cents(0),
            gross_amount: Money::eur_cents(gross),
            paid_amount: Money::eur_cents(paid),
            payment_reference: None,
            contractual_interest_rate: None,
            corrects: None,
            description: None,
            lines: Vec::new(),
            attachment: None,
        }
    }

    #[test]
    fn collectable_only_when_certain_defined_and_due() {
        let today = d("2026-02-01");
        assert_eq!(
            invoice(1000, 0, Some("2026-01-31")).collectability(today),
            Collectability::Collectable
        );
        // Due today is not yet overdue: payment on the last day is in time.
        assert_eq!(
            invoice(1000, 0, Some("2026-02-01")).collectability(today),
            Collectability::NotYetDue {
                due_date: d("2026-02-01")
            }
        );
        assert_eq!(
            invoice(0, 0, Some("2026-01-01")).collectability(today),
            Collectability::Not(NotCollectable::NoAmount)
        );
        assert_eq!(
            invoice(1000, 1000, Some("2026-01-01")).collectability(today),
            Collectability::Not(NotCollectable::AlreadyPaid)
        );
        assert_eq!(
            invoice(1000, 0, None).collectability(today),
            Collectability::Not(NotCollectable::NoDueDate)
        );
    }

    #[test]
    fn due_date_derivation() {
        let issue = d("2026-01-10");
        assert_eq!(
            DueDateSource::derive(None, issue, Some(14), DebtorKind::Consumer),
            Some((d("2026-01-24"), DueDateSource::PaymentTerms))
        );
        assert_eq!(
            DueDateSource::derive(None, issue, None, DebtorKind::Business),
            Some((d("2026-02-09"), DueDateSource::StatutoryDefault))
        );
        assert_eq!(
            DueDateSource::derive(None, issue, None, DebtorKind::Consumer),
            None
        );
        assert_eq!(
            DueDateSource::derive(Some(d("2026-03-01")), issue, Some(14), DebtorKind::Consumer),
            Some((d("2026-03-01"), DueDateSource::Stated))
        );
    }
}
