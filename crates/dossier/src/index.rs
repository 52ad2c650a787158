//! The data of a case bundle's index (parties, claim, calculation sheet, timeline): what the
//! index PDF shows, kept as plain serialisable data so any renderer (the letters crate's
//! Typst templates, or `index.json` itself) can present it.

use serde::{Deserialize, Serialize};

/// A party of the case: the creditor or the debtor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IndexParty {
    pub name: String,
    /// Address lines, as they appear on a letter.
    pub address: Vec<String>,
    /// Identifiers worth showing: IBAN, VAT number, e-mail, debtor reference.
    pub details: Vec<(String, String)>,
}

/// One claim (invoice) of the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexClaim {
    pub number: String,
    pub issued: String,
    pub due: String,
    /// Amounts formatted for display, with their currency (`EUR 1234.56`).
    pub principal: String,
    pub open: String,
}

/// One line of the calculation sheet (principal, interest, collection costs, paid, total).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexLine {
    pub label: String,
    pub amount: String,
    /// How the figure was found (rule, rate, period), empty when self-evident.
    pub explanation: String,
}

/// One period of statutory interest on one invoice (the law engine's specification).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetInterest {
    pub invoice: String,
    /// First and last day of the period (`YYYY-MM-DD`), both included.
    pub from: String,
    pub to: String,
    pub days: u32,
    /// The yearly rate in ten-thousandths of a percent (`80000` = 8%).
    pub rate: u32,
    pub base_cents: i64,
    pub amount_cents: i64,
}

/// One payment received from the debtor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetPayment {
    pub on: String,
    pub amount_cents: i64,
    pub reference: String,
}

/// One invoice on the calculation sheet, in cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetInvoice {
    pub number: String,
    pub due: String,
    pub principal_cents: i64,
    pub paid_cents: i64,
    pub open_cents: i64,
}

/// The calculation sheet as of one day, in cents (currency `currency`): what is owed and how
/// it was computed. `total_cents` = `open_cents` + `interest_total_cents` + `costs_cents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexSheet {
    /// The day interest is computed to (`YYYY-MM-DD`).
    pub as_of: String,
    pub currency: String,
    pub invoices: Vec<SheetInvoice>,
    /// The statute the interest follows (`art. 6:119a BW`), empty without interest.
    pub statute: String,
    pub interest: Vec<SheetInterest>,
    pub interest_total_cents: i64,
    /// Collection costs claimed by the case's latest step that claimed them.
    pub costs_cents: i64,
    /// Which step claimed them and why, empty without costs.
    pub costs_explanation: String,
    pub payments: Vec<SheetPayment>,
    pub paid_total_cents: i64,
    pub open_cents: i64,
    pub total_cents: i64,
}

/// One entry of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEvent {
    pub seq: u64,
    pub on: String,
    pub kind: String,
    pub text: String,
    /// The bundle path of the document this event recorded, if any.
    pub document: Option<String>,
    /// SHA-256 of that document.
    pub document_sha256: Option<String>,
    pub hash: String,
}

/// Everything the index of a case bundle shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexData {
    /// The event encoding the chain uses ([`crate::FORMAT`]).
    pub format: String,
    pub case_id: i64,
    pub case_state: String,
    pub opened_on: String,
    pub closed_on: Option<String>,
    /// The moment the bundle was made (from the caller's clock, RFC 3339).
    pub generated_at: String,
    pub creditor: IndexParty,
    pub debtor: IndexParty,
    pub claims: Vec<IndexClaim>,
    pub calculation: Vec<IndexLine>,
    pub timeline: Vec<IndexEvent>,
    /// The calculation sheet in cents (what the PDF shows); `None` in bundles made before it
    /// existed.
    #[serde(default)]
    pub sheet: Option<IndexSheet>,
    /// The hash of the last event: whoever keeps it can later prove nothing was appended or
    /// cut off.
    pub head_hash: String,
}

impl IndexData {
    /// A plain-text rendering (the bundle's `index.txt`): readable without any viewer.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(s, "Dossier case {} ({})", self.case_id, self.case_state);
        let _ = writeln!(
            s,
            "Opened {}{}; generated {}",
            self.opened_on,
            self.closed_on
                .as_deref()
                .map(|c| format!(", closed {c}"))
                .unwrap_or_default(),
            self.generated_at
        );
        for (title, p) in [("Creditor", &self.creditor), ("Debtor", &self.debtor)] {
            let _ = writeln!(s, "\n{title}: {}", p.name);
            for l in &p.address {
                let _ = writeln!(s, "  {l}");
            }
            for (k, v) in &p.details {
                let _ = writeln!(s, "  {k}: {v}");
            }
        }
        let _ = writeln!(s, "\nClaims");
        for c in &self.claims {
            let _ = writeln!(
                s,
                "  {:<20} issued {} due {} principal {} open {}",
                c.number, c.issued, c.due, c.principal, c.open
            );
        }
        let _ = writeln!(s, "\nCalculation");
        for l in &self.calculation {
            let _ = writeln!(s, "  {:<32} {:>16}  {}", l.label, l.amount, l.explanation);
        }
        if let Some(sh) = &self.sheet {
            let cents = |c: i64| {
                format!(
                    "{} {}{}.{:02}",
                    sh.currency,
                    if c < 0 { "-" } else { "" },
                    c.unsigned_abs() / 100,
                    c.unsigned_abs() % 100
                )
            };
            let _ = writeln!(s, "\nCalculation sheet as of {}", sh.as_of);
            for i in &sh.interest {
                let _ = writeln!(
                    s,
                    "  interest {:<16} {} to {} {:>4} days at {}.{:04}% on {}: {}",
                    i.invoice,
                    i.from,
                    i.to,
                    i.days,
                    i.rate / 10_000,
                    i.rate % 10_000,
                    cents(i.base_cents),
                    cents(i.amount_cents)
                );
            }
            for p in &sh.payments {
                let _ = writeln!(
                    s,
                    "  payment {} {} {}",
                    p.on,
                    cents(p.amount_cents),
                    p.reference
                );
            }
            for (label, c) in [
                ("open principal", sh.open_cents),
                ("interest", sh.interest_total_cents),
                ("collection costs", sh.costs_cents),
                ("total due", sh.total_cents),
                ("paid so far", sh.paid_total_cents),
            ] {
                let _ = writeln!(s, "  {label:<32} {:>16}", cents(c));
            }
        }
        let _ = writeln!(s, "\nTimeline");
        for e in &self.timeline {
            let _ = writeln!(
                s,
                "  {:>4} {} {:<16} {}{}",
                e.seq,
                e.on,
                e.kind,
                e.text,
                e.document_sha256
                    .as_deref()
                    .map(|h| format!(" [sha256 {}]", &h[..h.len().min(16)]))
                    .unwrap_or_default()
            );
        }
        let _ = writeln!(s, "\nChain format {}; head {}", self.format, self.head_hash);
        s
    }
}
