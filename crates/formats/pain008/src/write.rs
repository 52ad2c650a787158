//! The writer: checks the whole message, then writes the document as
//! indented UTF-8 XML with a fixed element order and no variable parts
//! (same input, same bytes).

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::check;
use crate::error::{Error, Location, Problem};
use crate::model::{
    Amendment, CreditorReference, Message, OriginalDebtorAccount, Remittance, TextPolicy, Version,
};

/// Largest instructed amount in cents (999 999 999.99 EUR, the SEPA maximum).
pub const MAX_AMOUNT_CENTS: u64 = 99_999_999_999;

/// Largest control sum in cents the schema's 18 total digits allow.
const MAX_CTRL_SUM_CENTS: u64 = 999_999_999_999_999_999;

/// Writing options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Options {
    pub version: Version,
    pub text: TextPolicy,
}

impl Options {
    /// The given version with the default [`TextPolicy::Transliterate`].
    pub fn new(version: Version) -> Options {
        Options {
            version,
            text: TextPolicy::default(),
        }
    }
}

/// Number of transactions and control sum (in cents) of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Totals {
    pub transactions: u64,
    pub sum_cents: u64,
}

/// Writes `message` as a pain.008 document of `options.version`.
///
/// The whole message is checked first; the first problem is returned with
/// its location and field. On success the bytes are UTF-8 XML.
pub fn write(message: &Message, options: Options) -> Result<Vec<u8>, Error> {
    write_string(message, options).map(String::into_bytes)
}

/// As [`write()`], returning a `String`.
pub fn write_string(message: &Message, options: Options) -> Result<String, Error> {
    let batch_totals = batch_totals(message)?;
    let mut w = Writer::new(message, options);
    w.document(message, &batch_totals)?;
    Ok(w.out)
}

/// The message's `NbOfTxs` and `CtrlSum` (in cents) as [`write()`] writes
/// them; checks the amounts and that no block is empty.
pub fn totals(message: &Message) -> Result<Totals, Error> {
    let all = batch_totals(message)?;
    all.last().copied().ok_or(Error::NoBatches)
}

/// Checks amounts and block structure and returns per-block totals (the
/// last element is the message total).
fn batch_totals(message: &Message) -> Result<Vec<Totals>, Error> {
    if message.batches.is_empty() {
        return Err(Error::NoBatches);
    }
    let mut all = Totals {
        transactions: 0,
        sum_cents: 0,
    };
    let mut per_batch = Vec::with_capacity(message.batches.len() + 1);
    for (b, batch) in message.batches.iter().enumerate() {
        if batch.transactions.is_empty() {
            return Err(Error::EmptyBatch {
                at: Location::Batch {
                    index: b + 1,
                    id: batch.id.clone(),
                },
            });
        }
        let mut t = Totals {
            transactions: 0,
            sum_cents: 0,
        };
        for (i, tx) in batch.transactions.iter().enumerate() {
            if tx.amount_cents == 0 || tx.amount_cents > MAX_AMOUNT_CENTS {
                return Err(Error::Invalid {
                    at: Location::Transaction {
                        batch: b + 1,
                        index: i + 1,
                        end_to_end_id: tx.end_to_end_id.clone(),
                    },
                    field: "amount",
                    problem: Problem::Amount {
                        minor: tx.amount_cents,
                    },
                });
            }
            t.transactions += 1;
            t.sum_cents = t
                .sum_cents
                .checked_add(tx.amount_cents)
                .filter(|s| *s <= MAX_CTRL_SUM_CENTS)
                .ok_or(Error::Overflow)?;
        }
        all.transactions += t.transactions;
        all.sum_cents = all
            .sum_cents
            .checked_add(t.sum_cents)
            .filter(|s| *s <= MAX_CTRL_SUM_CENTS)
            .ok_or(Error::Overflow)?;
        per_batch.push(t);
    }
    per_batch.push(all);
    Ok(per_batch)
}

/// Formats cents as a decimal with two fraction digits (`1234` → `12.34`).
pub fn format_cents(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Escapes element content: `&`, `<` and `>` (quotes need no escaping
/// outside attributes, and the only attribute written is the fixed `Ccy`).
/// With the EPC character set only the apostrophe of the three can
/// normally occur, but the escaping does not rely on the check.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
}

struct Writer {
    out: String,
    depth: usize,
    options: Options,
    at: Location,
}

impl Writer {
    fn new(message: &Message, options: Options) -> Writer {
        let txs: usize = message.batches.iter().map(|b| b.transactions.len()).sum();
        Writer {
            out: String::with_capacity(2048 + txs * 1400),
            depth: 0,
            options,
            at: Location::Message,
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        escape_into(&mut self.out, text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn err(&self, field: &'static str, problem: Problem) -> Error {
        Error::Invalid {
            at: self.at.clone(),
            field,
            problem,
        }
    }

    /// A free-text leaf (name, unstructured remittance).
    fn text(
        &mut self,
        name: &str,
        field: &'static str,
        value: &str,
        max: usize,
    ) -> Result<(), Error> {
        let text =
            check::free_text(value, max, self.options.text).map_err(|p| self.err(field, p))?;
        self.leaf(name, &text);
        Ok(())
    }

    /// An identifier leaf (EPC set, no transliteration, slash rules).
    fn id(&mut self, name: &str, field: &'static str, value: &str) -> Result<(), Error> {
        let id = check::identifier(value, 35).map_err(|p| self.err(field, p))?;
        self.leaf(name, id);
        Ok(())
    }

    fn account(&mut self, name: &str, field: &'static str, iban: &str) -> Result<(), Error> {
        let iban = check::iban(iban).map_err(|p| self.err(field, p))?;
        self.open(name);
        self.open("Id");
        self.leaf("IBAN", &iban);
        self.close("Id");
        self.close(name);
        Ok(())
    }

    /// An agent: the BIC, or `Othr/Id` `NOTPROVIDED` without one.
    fn agent(&mut self, name: &str, field: &'static str, bic: Option<&str>) -> Result<(), Error> {
        self.open(name);
        self.open("FinInstnId");
        match bic {
            Some(bic) => {
                let bic = check::bic(bic).map_err(|p| self.err(field, p))?;
                let tag = match self.options.version {
                    Version::V02 => "BIC",
                    Version::V08 => "BICFI",
                };
                self.leaf(tag, bic);
            }
            None => self.othr_id("NOTPROVIDED"),
        }
        self.close("FinInstnId");
        self.close(name);
        Ok(())
    }

    fn othr_id(&mut self, id: &str) {
        self.open("Othr");
        self.leaf("Id", id);
        self.close("Othr");
    }

    /// `Id/PrvtId/Othr/Id` + `SchmeNm/Prtry` `SEPA` for a creditor scheme id.
    fn scheme_id(&mut self, field: &'static str, value: &str) -> Result<(), Error> {
        let id = check::creditor_id(value).map_err(|p| self.err(field, p))?;
        self.open("Id");
        self.open("PrvtId");
        self.open("Othr");
        self.leaf("Id", &id);
        self.open("SchmeNm");
        self.leaf("Prtry", "SEPA");
        self.close("SchmeNm");
        self.close("Othr");
        self.close("PrvtId");
        self.close("Id");
        Ok(())
    }

    fn document(&mut self, m: &Message, totals: &[Totals]) -> Result<(), Error> {
        let version = self.options.version;
        self.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self.out.push_str("<Document xmlns=\"");
        self.out.push_str(version.namespace());
        self.out
            .push_str("\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n");
        self.depth = 1;
        self.open("CstmrDrctDbtInitn");

        let all = totals.last().copied().unwrap_or(Totals {
            transactions: 0,
            sum_cents: 0,
        });
        self.open("GrpHdr");
        self.id("MsgId", "message id", &m.message_id)?;
        self.leaf("CreDtTm", &m.created_at.to_string());
        self.leaf("NbOfTxs", &all.transactions.to_string());
        self.leaf("CtrlSum", &format_cents(all.sum_cents));
        self.open("InitgPty");
        self.text("Nm", "initiating party name", &m.initiating_party, 70)?;
        self.close("InitgPty");
        self.close("GrpHdr");

        let mut ids = HashSet::with_capacity(m.batches.len());
        for (b, batch) in m.batches.iter().enumerate() {
            self.at = Location::Batch {
                index: b + 1,
                id: batch.id.clone(),
            };
            if !ids.insert(batch.id.as_str()) {
                return Err(self.err(
                    "payment information id",
                    Problem::Duplicate {
                        value: batch.id.clone(),
                    },
                ));
            }
            let t = totals.get(b).copied().unwrap_or(all);
            self.open("PmtInf");
            self.id("PmtInfId", "payment information id", &batch.id)?;
            self.leaf("PmtMtd", "DD");
            if let Some(booking) = batch.batch_booking {
                self.leaf("BtchBookg", if booking { "true" } else { "false" });
            }
            self.leaf("NbOfTxs", &t.transactions.to_string());
            self.leaf("CtrlSum", &format_cents(t.sum_cents));
            self.open("PmtTpInf");
            self.open("SvcLvl");
            self.leaf("Cd", "SEPA");
            self.close("SvcLvl");
            self.open("LclInstrm");
            self.leaf("Cd", m.scheme.code());
            self.close("LclInstrm");
            self.leaf("SeqTp", batch.sequence_type.code());
            self.close("PmtTpInf");
            if batch.collection_date < m.created_at.date() {
                return Err(self.err(
                    "requested collection date",
                    Problem::BeforeCreation {
                        date: batch.collection_date.to_string(),
                        created: m.created_at.date().to_string(),
                    },
                ));
            }
            self.leaf("ReqdColltnDt", &batch.collection_date.to_string());

            self.at = Location::Creditor;
            self.open("Cdtr");
            self.text("Nm", "name", &m.creditor.name, 70)?;
            self.close("Cdtr");
            self.account("CdtrAcct", "IBAN", &m.creditor.iban)?;
            self.agent("CdtrAgt", "BIC", m.creditor.bic.as_deref())?;
            self.leaf("ChrgBr", "SLEV");
            self.open("CdtrSchmeId");
            self.scheme_id("creditor scheme id", &m.creditor.scheme_id)?;
            self.close("CdtrSchmeId");

            for (i, tx) in batch.transactions.iter().enumerate() {
                self.at = Location::Transaction {
                    batch: b + 1,
                    index: i + 1,
                    end_to_end_id: tx.end_to_end_id.clone(),
                };
                if tx.mandate.signed_on > m.created_at.date() {
                    return Err(self.err(
                        "mandate date of signature",
                        Problem::AfterCreation {
                            date: tx.mandate.signed_on.to_string(),
                            created: m.created_at.date().to_string(),
                        },
                    ));
                }
                self.transaction(tx)?;
            }
            self.close("PmtInf");
        }
        self.close("CstmrDrctDbtInitn");
        self.out.push_str("</Document>\n");
        Ok(())
    }

    fn transaction(&mut self, tx: &crate::model::Transaction) -> Result<(), Error> {
        self.open("DrctDbtTxInf");
        self.open("PmtId");
        self.id("EndToEndId", "end-to-end id", &tx.end_to_end_id)?;
        self.close("PmtId");
        self.indent();
        let _ = writeln!(
            self.out,
            "<InstdAmt Ccy=\"EUR\">{}</InstdAmt>",
            format_cents(tx.amount_cents)
        );
        self.open("DrctDbtTx");
        self.open("MndtRltdInf");
        self.id("MndtId", "mandate id", &tx.mandate.id)?;
        self.leaf("DtOfSgntr", &tx.mandate.signed_on.to_string());
        match &tx.mandate.amendment {
            None => self.leaf("AmdmntInd", "false"),
            Some(a) => {
                self.leaf("AmdmntInd", "true");
                self.amendment(a)?;
            }
        }
        self.close("MndtRltdInf");
        self.close("DrctDbtTx");
        self.agent("DbtrAgt", "debtor BIC", tx.debtor.bic.as_deref())?;
        self.open("Dbtr");
        self.text("Nm", "debtor name", &tx.debtor.name, 70)?;
        self.close("Dbtr");
        self.account("DbtrAcct", "debtor IBAN", &tx.debtor.iban)?;
        if let Some(r) = &tx.remittance {
            self.open("RmtInf");
            match r {
                Remittance::Unstructured(text) => {
                    self.text("Ustrd", "unstructured remittance", text, 140)?;
                }
                Remittance::Structured(reference) => self.creditor_reference(reference)?,
            }
            self.close("RmtInf");
        }
        self.close("DrctDbtTxInf");
        Ok(())
    }

    fn creditor_reference(&mut self, reference: &CreditorReference) -> Result<(), Error> {
        const FIELD: &str = "creditor reference";
        let (reference, issuer) = match reference {
            CreditorReference::Iso11649(r) => (
                check::iso11649(r).map_err(|p| self.err(FIELD, p))?,
                Some("ISO"),
            ),
            CreditorReference::Other { reference, issuer } => (
                check::identifier(reference, 35)
                    .map_err(|p| self.err(FIELD, p))?
                    .to_owned(),
                match issuer {
                    Some(i) => Some(
                        check::identifier(i, 35)
                            .map_err(|p| self.err("creditor reference issuer", p))?,
                    ),
                    None => None,
                },
            ),
        };
        self.open("Strd");
        self.open("CdtrRefInf");
        self.open("Tp");
        self.open("CdOrPrtry");
        self.leaf("Cd", "SCOR");
        self.close("CdOrPrtry");
        if let Some(issuer) = issuer {
            self.leaf("Issr", issuer);
        }
        self.close("Tp");
        self.leaf("Ref", &reference);
        self.close("CdtrRefInf");
        self.close("Strd");
        Ok(())
    }

    fn amendment(&mut self, a: &Amendment) -> Result<(), Error> {
        let creditor_empty = a
            .original_creditor
            .as_ref()
            .is_none_or(|c| c.name.is_none() && c.scheme_id.is_none());
        if a.original_mandate_id.is_none()
            && creditor_empty
            && a.original_debtor_account.is_none()
            && !a.debtor_agent_changed
        {
            return Err(self.err("amendment", Problem::EmptyAmendment));
        }
        self.open("AmdmntInfDtls");
        if let Some(id) = &a.original_mandate_id {
            self.id("OrgnlMndtId", "original mandate id", id)?;
        }
        if let Some(c) = a.original_creditor.as_ref().filter(|_| !creditor_empty) {
            self.open("OrgnlCdtrSchmeId");
            if let Some(name) = &c.name {
                self.text("Nm", "original creditor name", name, 70)?;
            }
            if let Some(id) = &c.scheme_id {
                self.scheme_id("original creditor scheme id", id)?;
            }
            self.close("OrgnlCdtrSchmeId");
        }
        match &a.original_debtor_account {
            None => {}
            Some(OriginalDebtorAccount::Iban(iban)) => {
                self.account("OrgnlDbtrAcct", "original debtor IBAN", iban)?;
            }
            Some(OriginalDebtorAccount::Smnda) => {
                self.open("OrgnlDbtrAcct");
                self.open("Id");
                self.othr_id("SMNDA");
                self.close("Id");
                self.close("OrgnlDbtrAcct");
            }
        }
        if a.debtor_agent_changed {
            self.open("OrgnlDbtrAgt");
            self.open("FinInstnId");
            self.othr_id("SMNDA");
            self.close("FinInstnId");
            self.close("OrgnlDbtrAgt");
        }
        self.close("AmdmntInfDtls");
        Ok(())
    }
}
