//! The streaming reader: one pass over quick-xml's pull events, no DOM.
//!
//! The reader keeps the current element path (`/Document/BkToCstmrStmt/Stmt/Ntry/Amt`)
//! in one string and the record, balance, entry and transaction-details
//! being filled. Values are taken at the end tag of each leaf element,
//! matched on the path relative to the innermost open context. Memory is
//! bounded by the element depth and the largest single entry, plus the
//! entries themselves when the caller keeps them.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::decimal::Decimal;
use crate::error::Error;
use crate::model::{
    Amount, Balance, BankTransactionCode, CreditDebit, CreditorReference, DateChoice, Diagnostic,
    Document, Entry, GroupHeader, IsoDate, MessageKind, ReturnInformation, Severity, Statement,
    TransactionDetails,
};

/// Deepest element nesting accepted; camt needs about 15.
const DEPTH_MAX: usize = 128;

struct Frame {
    /// Length of `Parser::path` before this element's `/name` was appended.
    before: usize,
    /// 1-based index among same-named siblings, 0 when not tracked.
    index: usize,
}

struct BalanceState {
    balance: Balance,
    base: usize,
    last_rank: u8,
    last_name: &'static str,
}

pub(crate) struct Parser<F> {
    keep_entries: bool,
    on_entry: F,
    diagnostics: Vec<Diagnostic>,
    path: String,
    frames: Vec<Frame>,
    text: String,
    kind: Option<MessageKind>,
    namespace: String,
    version: String,
    header: GroupHeader,
    statements: Vec<Statement>,
    statement: Option<(Statement, usize)>,
    balance: Option<BalanceState>,
    entry: Option<(Entry, usize)>,
    transaction: Option<(TransactionDetails, usize)>,
    balance_count: usize,
    entry_count: usize,
    transaction_count: usize,
    currency: Option<String>,
    entry_amount_seen: bool,
    entry_direction_seen: bool,
    /// Reused buffer for the path relative to the innermost context.
    rel: String,
}

fn xml_error(position: u64, message: impl Into<String>) -> Error {
    Error::Xml {
        position,
        message: message.into(),
    }
}

fn non_empty(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// `BIC` (.001.02) was replaced by `BICFI` from camt.05x.001.03 on (see the
/// ISO XSDs).
fn expects_bicfi(version: &str) -> Option<bool> {
    let minor: u32 = version.strip_prefix("001.")?.parse().ok()?;
    Some(minor >= 3)
}

impl<F: FnMut(&Statement, Entry)> Parser<F> {
    pub(crate) fn new(keep_entries: bool, on_entry: F) -> Self {
        Parser {
            keep_entries,
            on_entry,
            diagnostics: Vec::new(),
            path: String::with_capacity(256),
            frames: Vec::with_capacity(32),
            text: String::with_capacity(256),
            kind: None,
            namespace: String::new(),
            version: String::new(),
            header: GroupHeader::default(),
            statements: Vec::new(),
            statement: None,
            balance: None,
            entry: None,
            transaction: None,
            balance_count: 0,
            entry_count: 0,
            transaction_count: 0,
            currency: None,
            entry_amount_seen: false,
            entry_direction_seen: false,
            rel: String::with_capacity(64),
        }
    }

    pub(crate) fn run(mut self, input: &[u8]) -> Result<(Document, Vec<Diagnostic>), Error> {
        let bom: usize = if input.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let body = &input[bom..];
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::Empty);
        }
        let offset = bom as u64;
        let mut reader = Reader::from_reader(body);
        reader.config_mut().trim_text(false);
        reader.config_mut().check_end_names = true;
        let mut root_seen = false;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| xml_error(reader.error_position() + offset, e.to_string()))?;
            let position = reader.buffer_position() + offset;
            match event {
                Event::DocType(_) => return Err(Error::DoctypeRefused { position }),
                Event::Start(e) => {
                    if self.frames.is_empty() && root_seen {
                        return Err(xml_error(position, "second root element"));
                    }
                    root_seen = true;
                    self.start(&e, &reader, position)?;
                }
                Event::Empty(e) => {
                    if self.frames.is_empty() && root_seen {
                        return Err(xml_error(position, "second root element"));
                    }
                    root_seen = true;
                    self.start(&e, &reader, position)?;
                    self.end();
                }
                Event::End(_) => self.end(),
                Event::Text(t) => {
                    let text = t.decode().map_err(|e| xml_error(position, e.to_string()))?;
                    if self.frames.is_empty() {
                        if !text.trim().is_empty() {
                            return Err(xml_error(position, "text outside the root element"));
                        }
                    } else {
                        self.text.push_str(&text);
                    }
                }
                Event::CData(t) => {
                    let text = t.decode().map_err(|e| xml_error(position, e.to_string()))?;
                    if self.frames.is_empty() {
                        return Err(xml_error(position, "CDATA outside the root element"));
                    }
                    self.text.push_str(&text);
                }
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        Ok(None) => None,
                        Err(e) => return Err(xml_error(position, e.to_string())),
                    };
                    if self.frames.is_empty() {
                        return Err(xml_error(position, "reference outside the root element"));
                    }
                    match c {
                        Some(c) => self.text.push(c),
                        None => {
                            let name =
                                r.decode().map_err(|e| xml_error(position, e.to_string()))?;
                            match quick_xml::escape::resolve_predefined_entity(&name) {
                                Some(s) => self.text.push_str(s),
                                None => {
                                    return Err(xml_error(
                                        position,
                                        format!(
                                            "undeclared entity &{name}; (only the five predefined XML entities are allowed)"
                                        ),
                                    ));
                                }
                            }
                        }
                    }
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        let end = input.len() as u64;
        if !self.frames.is_empty() {
            return Err(xml_error(
                end,
                format!("unexpected end of input inside {}", self.path),
            ));
        }
        let Some(kind) = self.kind else {
            return Err(xml_error(end, "no root element"));
        };
        if self.statements.is_empty() {
            return Err(Error::NoStatement {
                message: kind.message_element(),
                record: kind.record_element(),
            });
        }
        Ok((
            Document {
                kind,
                namespace: self.namespace,
                version: self.version,
                group_header: self.header,
                statements: self.statements,
            },
            self.diagnostics,
        ))
    }

    /// The current path with the tracked 1-based indices.
    fn display_path(&self) -> String {
        let mut out = String::with_capacity(self.path.len() + 16);
        for (i, frame) in self.frames.iter().enumerate() {
            let end = self.frames.get(i + 1).map_or(self.path.len(), |f| f.before);
            out.push_str(&self.path[frame.before..end]);
            if frame.index > 0 {
                out.push('[');
                out.push_str(&frame.index.to_string());
                out.push(']');
            }
        }
        out
    }

    fn diag(&mut self, severity: Severity, message: impl Into<String>) {
        let path = self.display_path();
        self.diagnostics.push(Diagnostic {
            severity,
            path,
            message: message.into(),
        });
    }

    /// Reports an unreadable value and marks the open entry invalid.
    fn entry_error(&mut self, message: impl Into<String>) {
        self.diag(Severity::Error, message);
        if let Some((entry, _)) = &mut self.entry {
            entry.valid = false;
        }
    }

    fn start<R>(
        &mut self,
        e: &BytesStart<'_>,
        reader: &Reader<R>,
        position: u64,
    ) -> Result<(), Error> {
        let local = e.local_name();
        let name = std::str::from_utf8(local.as_ref())
            .map_err(|_| xml_error(position, "element name is not UTF-8"))?;
        let depth = self.frames.len();
        if depth >= DEPTH_MAX {
            return Err(xml_error(position, "elements nested too deeply"));
        }
        if depth == 0 {
            if name != "Document" {
                return Err(Error::NotCamt {
                    reason: format!("root element is <{name}>, expected <Document>"),
                });
            }
            self.read_namespace(e, reader, position)?;
        }
        if depth == 1 {
            let Some(kind) = MessageKind::from_message_element(name) else {
                return Err(Error::NotCamt {
                    reason: format!("message element <{name}> is not a camt.052/053/054 message"),
                });
            };
            if !self.version.is_empty() && self.namespace_number() != Some(kind.number()) {
                self.diag(
                    Severity::Warning,
                    format!(
                        "message element <{name}> does not match namespace {}",
                        self.namespace
                    ),
                );
            }
            self.kind = Some(kind);
        }
        // Which sibling counters apply.
        let mut index = 0;
        let record = self.kind.map(MessageKind::record_element);
        if depth == 2 && Some(name) == record {
            index = self.statements.len() + 1;
        }
        let rel_statement = self.statement.as_ref().map(|(_, b)| *b);
        let rel_entry = self.entry.as_ref().map(|(_, b)| *b);
        if rel_statement == Some(self.path.len()) && self.entry.is_none() {
            if name == "Bal" {
                self.balance_count += 1;
                index = self.balance_count;
            } else if name == "Ntry" {
                self.entry_count += 1;
                index = self.entry_count;
            }
        }
        if let Some(base) = rel_entry
            && name == "TxDtls"
            && &self.path[base..] == "/NtryDtls"
        {
            self.transaction_count += 1;
            index = self.transaction_count;
        }
        // Element order inside Bal (a known real-world deviation).
        if let Some(state) = &mut self.balance
            && state.base == self.path.len()
        {
            let (rank, known) = match name {
                "Tp" => (0, "Tp"),
                "CdtLine" => (1, "CdtLine"),
                "Amt" => (2, "Amt"),
                "CdtDbtInd" => (3, "CdtDbtInd"),
                "Dt" => (4, "Dt"),
                "Avlbty" => (5, "Avlbty"),
                _ => (6, "?"),
            };
            let previous = state.last_name;
            let out_of_order = rank < state.last_rank;
            state.last_rank = state.last_rank.max(rank);
            state.last_name = known;
            if out_of_order {
                self.frames.push(Frame {
                    before: self.path.len(),
                    index,
                });
                self.path.push('/');
                self.path.push_str(name);
                self.diag(
                    Severity::Warning,
                    format!(
                        "element order inside Bal: <{name}> after <{previous}>; read leniently"
                    ),
                );
                self.text.clear();
                return self.opened(e, reader, name, position);
            }
        }
        self.frames.push(Frame {
            before: self.path.len(),
            index,
        });
        self.path.push('/');
        self.path.push_str(name);
        self.text.clear();
        self.opened(e, reader, name, position)
    }

    /// Opens contexts after the element was pushed.
    fn opened<R>(
        &mut self,
        e: &BytesStart<'_>,
        reader: &Reader<R>,
        name: &str,
        position: u64,
    ) -> Result<(), Error> {
        let depth = self.frames.len();
        if name == "Amt" {
            self.currency = None;
            for attr in e.attributes().with_checks(false) {
                let attr = attr.map_err(|err| xml_error(position, err.to_string()))?;
                if attr.key.local_name().as_ref() == b"Ccy" {
                    let value = attr
                        .decode_and_unescape_value(reader.decoder())
                        .map_err(|err| xml_error(position, err.to_string()))?;
                    self.currency = Some(value.trim().to_owned());
                }
            }
        }
        let record = self.kind.map(MessageKind::record_element);
        if depth == 3 && Some(name) == record {
            let index = self.statements.len() + 1;
            self.statement = Some((
                Statement {
                    index,
                    path: self.display_path(),
                    booked_sum: Some(Decimal::ZERO),
                    ..Statement::default()
                },
                self.path.len(),
            ));
            self.balance_count = 0;
            self.entry_count = 0;
            return Ok(());
        }
        let Some((statement, sbase)) = &self.statement else {
            return Ok(());
        };
        let sbase = *sbase;
        let statement_index = statement.index;
        if self.entry.is_none() && self.balance.is_none() {
            let rel = &self.path[sbase..];
            if rel == "/Bal" {
                self.balance = Some(BalanceState {
                    balance: Balance {
                        path: self.display_path(),
                        ..Balance::default()
                    },
                    base: self.path.len(),
                    last_rank: 0,
                    last_name: "Bal",
                });
            } else if rel == "/Ntry" {
                self.entry = Some((
                    Entry {
                        index: self.entry_count,
                        statement_index,
                        path: self.display_path(),
                        valid: true,
                        ..Entry::default()
                    },
                    self.path.len(),
                ));
                self.transaction_count = 0;
                self.entry_amount_seen = false;
                self.entry_direction_seen = false;
            }
            return Ok(());
        }
        if let Some((_, ebase)) = &self.entry {
            let ebase = *ebase;
            if self.transaction.is_none() {
                if &self.path[ebase..] == "/NtryDtls/TxDtls" {
                    self.transaction = Some((TransactionDetails::default(), self.path.len()));
                }
            } else if let Some((tx, tbase)) = &mut self.transaction {
                match &self.path[*tbase..] {
                    "/RmtInf/Strd/CdtrRefInf" => {
                        tx.creditor_references.push(CreditorReference::default());
                    }
                    "/RtrInf" => {
                        tx.return_information
                            .get_or_insert_with(ReturnInformation::default);
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn read_namespace<R>(
        &mut self,
        e: &BytesStart<'_>,
        reader: &Reader<R>,
        position: u64,
    ) -> Result<(), Error> {
        let qname = e.name();
        let prefix = qname.prefix().map(|p| p.as_ref().to_vec());
        for attr in e.attributes().with_checks(false) {
            let attr = attr.map_err(|err| xml_error(position, err.to_string()))?;
            let key = attr.key.as_ref();
            let matches = match &prefix {
                None => key == b"xmlns",
                Some(p) => key.strip_prefix(b"xmlns:") == Some(p.as_slice()),
            };
            if matches {
                let value = attr
                    .decode_and_unescape_value(reader.decoder())
                    .map_err(|err| xml_error(position, err.to_string()))?;
                self.namespace = value.trim().to_owned();
            }
        }
        // urn:iso:std:iso:20022:tech:xsd:camt.053.001.02
        let version = self
            .namespace
            .rsplit_once("camt.")
            .and_then(|(_, rest)| rest.split_once('.'))
            .filter(|(number, version)| {
                matches!(*number, "052" | "053" | "054")
                    && version.len() == 6
                    && version.starts_with("001.")
                    && version[4..].bytes().all(|b| b.is_ascii_digit())
            })
            .map(|(_, version)| version.to_owned());
        match version {
            Some(v) => self.version = v,
            None => {
                let ns = if self.namespace.is_empty() {
                    "no namespace".to_owned()
                } else {
                    format!("namespace {}", self.namespace)
                };
                // The message element decides; an unknown namespace is only
                // reported.
                self.diagnostics.push(Diagnostic {
                    severity: Severity::Warning,
                    path: "/Document".to_owned(),
                    message: format!("{ns} is not a camt.052/053/054 namespace; version unknown"),
                });
            }
        }
        Ok(())
    }

    fn namespace_number(&self) -> Option<&str> {
        self.namespace
            .rsplit_once("camt.")
            .map(|(_, rest)| rest.get(..3).unwrap_or(rest))
    }

    fn end(&mut self) {
        let text = std::mem::take(&mut self.text);
        self.value(&text);
        self.text = text;
        self.text.clear();
        if let Some(frame) = self.frames.pop() {
            self.path.truncate(frame.before);
        }
    }

    /// Handles the end of the current element whose content is `text`.
    fn value(&mut self, text: &str) {
        let len = self.path.len();
        if let Some((_, tbase)) = &self.transaction {
            let tbase = *tbase;
            if len == tbase {
                self.close_transaction();
            } else {
                let mut rel = std::mem::take(&mut self.rel);
                rel.clear();
                rel.push_str(&self.path[tbase + 1..]);
                self.transaction_value(&rel, text);
                self.rel = rel;
            }
            return;
        }
        if let Some((_, ebase)) = &self.entry {
            let ebase = *ebase;
            if len == ebase {
                self.close_entry();
            } else {
                let mut rel = std::mem::take(&mut self.rel);
                rel.clear();
                rel.push_str(&self.path[ebase + 1..]);
                self.entry_value(&rel, text);
                self.rel = rel;
            }
            return;
        }
        if let Some(state) = &self.balance {
            let base = state.base;
            if len == base {
                self.close_balance();
            } else {
                let mut rel = std::mem::take(&mut self.rel);
                rel.clear();
                rel.push_str(&self.path[base + 1..]);
                self.balance_value(&rel, text);
                self.rel = rel;
            }
            return;
        }
        if let Some((_, sbase)) = &self.statement {
            let sbase = *sbase;
            if len == sbase {
                if let Some((mut statement, _)) = self.statement.take() {
                    // Drop the growth slack of a large statement.
                    statement.entries.shrink_to_fit();
                    self.statements.push(statement);
                }
            } else {
                let mut rel = std::mem::take(&mut self.rel);
                rel.clear();
                rel.push_str(&self.path[sbase + 1..]);
                self.statement_value(&rel, text);
                self.rel = rel;
            }
            return;
        }
        if self.frames.len() == 4 {
            match self.path.rsplit_once("/BkToCstmr").map(|(_, r)| r) {
                Some(r) if r.ends_with("/GrpHdr/MsgId") => self.header.message_id = non_empty(text),
                Some(r) if r.ends_with("/GrpHdr/CreDtTm") => self.header.created = non_empty(text),
                _ => {}
            }
        }
    }

    fn amount(&mut self, text: &str, required_context: bool) -> Option<Amount> {
        let currency = self.currency.take();
        match Decimal::parse(text) {
            Ok(value) => {
                if value.is_negative() {
                    self.diag(
                        Severity::Warning,
                        format!("negative amount {text:?}; the sign is kept"),
                    );
                }
                let currency = match currency {
                    Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => c,
                    Some(c) => {
                        self.report(required_context, format!("invalid currency code {c:?}"));
                        c
                    }
                    None => {
                        self.report(required_context, "amount without Ccy attribute");
                        String::new()
                    }
                };
                Some(Amount { value, currency })
            }
            Err(err) => {
                self.report(required_context, format!("{err}: {:?}", text.trim()));
                None
            }
        }
    }

    /// Error inside an entry (marks it invalid), else a plain error.
    fn report(&mut self, in_entry: bool, message: impl Into<String>) {
        if in_entry {
            self.entry_error(message);
        } else {
            self.diag(Severity::Error, message);
        }
    }

    fn credit_debit(&mut self, text: &str, in_entry: bool) -> Option<CreditDebit> {
        match text.trim() {
            "CRDT" => Some(CreditDebit::Credit),
            "DBIT" => Some(CreditDebit::Debit),
            other => {
                self.report(
                    in_entry,
                    format!("CdtDbtInd must be CRDT or DBIT, found {other:?}"),
                );
                None
            }
        }
    }

    /// Reads `Dt`/`DtTm` text; `element` is the leaf name.
    fn date(&mut self, element: &str, text: &str, in_entry: bool) -> Option<DateChoice> {
        let t = text.trim();
        let date_part = t.get(..10).unwrap_or(t);
        let Some(date) = IsoDate::parse(date_part) else {
            self.report(in_entry, format!("invalid date {t:?}"));
            return None;
        };
        if t.len() == 10 {
            if element == "DtTm" {
                self.diag(Severity::Warning, format!("DtTm holds a date only: {t:?}"));
            }
            return Some(DateChoice::Date(date));
        }
        if t.as_bytes().get(10) != Some(&b'T') {
            self.report(in_entry, format!("invalid date-time {t:?}"));
            return None;
        }
        if element == "Dt" {
            self.diag(
                Severity::Warning,
                format!("Dt holds a date-time {t:?}; its date part is used"),
            );
        }
        Some(DateChoice::DateTime {
            date,
            raw: t.to_owned(),
        })
    }

    fn check_bic_element(&mut self, leaf: &str) {
        let Some(bicfi) = expects_bicfi(&self.version) else {
            return;
        };
        if bicfi && leaf == "BIC" {
            self.diag(
                Severity::Warning,
                format!(
                    "BIC where camt version {} has BICFI; read leniently",
                    self.version
                ),
            );
        } else if !bicfi && leaf == "BICFI" {
            self.diag(
                Severity::Warning,
                format!(
                    "BICFI where camt version {} has BIC; read leniently",
                    self.version
                ),
            );
        }
    }

    fn statement_value(&mut self, rel: &str, text: &str) {
        if matches!(
            rel,
            "Acct/Svcr/FinInstnId/BIC" | "Acct/Svcr/FinInstnId/BICFI"
        ) {
            self.check_bic_element(rel.rsplit('/').next().unwrap_or_default());
        }
        let Some((s, _)) = &mut self.statement else {
            return;
        };
        let v = || non_empty(text);
        match rel {
            "Id" => s.id = v(),
            "ElctrncSeqNb" => s.electronic_sequence_number = v(),
            "LglSeqNb" => s.legal_sequence_number = v(),
            "CreDtTm" => s.created = v(),
            "FrToDt/FrDtTm" => s.from = v(),
            "FrToDt/ToDtTm" => s.to = v(),
            "Acct/Id/IBAN" => s.account.iban = v(),
            "Acct/Id/Othr/Id" => s.account.other_id = v(),
            "Acct/Ccy" => s.account.currency = v(),
            "Acct/Nm" => s.account.name = v(),
            "Acct/Ownr/Nm" | "Acct/Ownr/Pty/Nm" => s.account.owner_name = v(),
            "Acct/Svcr/FinInstnId/BIC" | "Acct/Svcr/FinInstnId/BICFI" => {
                s.account.servicer_bic = v();
            }
            _ => {}
        }
    }

    fn balance_value(&mut self, rel: &str, text: &str) {
        match rel {
            "Amt" => {
                let amount = self.amount(text, false);
                if let Some(state) = &mut self.balance {
                    state.balance.amount = amount;
                }
            }
            "CdtDbtInd" => {
                let cd = self.credit_debit(text, false);
                if let Some(state) = &mut self.balance {
                    state.balance.credit_debit = cd;
                }
            }
            "Dt/Dt" | "Dt/DtTm" => {
                let leaf = if rel == "Dt/Dt" { "Dt" } else { "DtTm" };
                let date = self.date(leaf, text, false);
                if let Some(state) = &mut self.balance {
                    state.balance.date = date;
                }
            }
            "Tp/CdOrPrtry/Cd" => {
                if let Some(state) = &mut self.balance {
                    state.balance.type_code = non_empty(text);
                }
            }
            "Tp/CdOrPrtry/Prtry" => {
                if let Some(state) = &mut self.balance {
                    state.balance.type_proprietary = non_empty(text);
                }
            }
            _ => {}
        }
    }

    fn close_balance(&mut self) {
        let Some(state) = self.balance.take() else {
            return;
        };
        let balance = state.balance;
        let mut problems = Vec::new();
        if balance.amount.is_none() {
            problems.push((Severity::Error, "balance without a readable Amt"));
        }
        if balance.credit_debit.is_none() {
            problems.push((
                Severity::Warning,
                "balance without CdtDbtInd; the balance check takes it as a credit",
            ));
        }
        if balance.type_code.is_none() && balance.type_proprietary.is_none() {
            problems.push((Severity::Warning, "balance without a type code"));
        }
        for (severity, message) in problems {
            self.diag(severity, message);
        }
        if let Some((s, _)) = &mut self.statement {
            s.balances.push(balance);
        }
    }

    fn entry_value(&mut self, rel: &str, text: &str) {
        match rel {
            "Amt" => {
                self.entry_amount_seen = true;
                let amount = self.amount(text, true);
                if let Some((e, _)) = &mut self.entry {
                    e.amount = amount;
                }
                return;
            }
            "CdtDbtInd" => {
                self.entry_direction_seen = true;
                let cd = self.credit_debit(text, true);
                if let Some((e, _)) = &mut self.entry {
                    e.credit_debit = cd;
                }
                return;
            }
            "RvslInd" => {
                let reversal = match text.trim() {
                    "true" | "1" => Some(true),
                    "false" | "0" => Some(false),
                    other => {
                        self.entry_error(format!("RvslInd must be true or false, found {other:?}"));
                        None
                    }
                };
                if let (Some(r), Some((e, _))) = (reversal, &mut self.entry) {
                    e.reversal = r;
                }
                return;
            }
            "BookgDt/Dt" | "BookgDt/DtTm" | "ValDt/Dt" | "ValDt/DtTm" => {
                let (parent, leaf) = rel.split_once('/').unwrap_or_default();
                let date = self.date(leaf, text, true);
                if let Some((e, _)) = &mut self.entry {
                    if parent == "BookgDt" {
                        e.booking_date = date;
                    } else {
                        e.value_date = date;
                    }
                }
                return;
            }
            _ => {}
        }
        let Some((e, _)) = &mut self.entry else {
            return;
        };
        let v = || non_empty(text);
        if let Some(code) = rel.strip_prefix("BkTxCd/") {
            bank_code(&mut e.bank_transaction_code, code, text);
            return;
        }
        match rel {
            "NtryRef" => e.reference = v(),
            "Sts" | "Sts/Cd" | "Sts/Prtry" if !text.trim().is_empty() => e.status = v(),
            "AcctSvcrRef" => e.account_servicer_reference = v(),
            "AddtlNtryInf" => e.additional_info = v(),
            "NtryDtls/Btch/NbOfTxs" => e.batch_transaction_count = v(),
            _ => {}
        }
    }

    fn close_entry(&mut self) {
        let Some((mut entry, _)) = self.entry.take() else {
            return;
        };
        // The Ntry frame is still open, so diagnostics carry the entry path.
        if !self.entry_amount_seen {
            self.diag(Severity::Error, "entry without Amt");
        }
        if !self.entry_direction_seen {
            self.diag(Severity::Error, "entry without CdtDbtInd");
        }
        if entry.amount.is_none() || entry.credit_debit.is_none() {
            entry.valid = false;
        }
        // Vec growth leaves room for 4 transaction details; most entries
        // have one, and a kept 100k-entry file should not carry the slack.
        entry.transactions.shrink_to_fit();
        let Some((statement, _)) = &mut self.statement else {
            return;
        };
        statement.entry_count += 1;
        if !entry.valid {
            statement.invalid_entry_count += 1;
        }
        if entry.is_booked() {
            statement.booked_sum = match (statement.booked_sum, entry.signed_amount()) {
                (Some(sum), Some(amount)) => sum.checked_add(amount),
                _ => None,
            };
        }
        if self.keep_entries {
            statement.entries.push(entry);
        } else {
            (self.on_entry)(statement, entry);
        }
    }

    fn transaction_value(&mut self, rel: &str, text: &str) {
        match rel {
            "Amt" | "AmtDtls/TxAmt/Amt" => {
                let amount = self.amount(text, true);
                if let Some((tx, _)) = &mut self.transaction
                    && (rel == "Amt" || tx.amount.is_none())
                {
                    tx.amount = amount;
                }
                return;
            }
            "CdtDbtInd" => {
                let cd = self.credit_debit(text, true);
                if let Some((tx, _)) = &mut self.transaction {
                    tx.credit_debit = cd;
                }
                return;
            }
            _ => {}
        }
        if let Some(agent) = rel.strip_prefix("RltdAgts/")
            && let Some((_, leaf)) = agent.rsplit_once("/FinInstnId/")
            && (leaf == "BIC" || leaf == "BICFI")
        {
            self.check_bic_element(leaf);
        }
        let Some((tx, _)) = &mut self.transaction else {
            return;
        };
        let v = || non_empty(text);
        if let Some(code) = rel.strip_prefix("BkTxCd/") {
            bank_code(&mut tx.bank_transaction_code, code, text);
            return;
        }
        if let Some(reference) = rel.strip_prefix("RmtInf/Strd/CdtrRefInf/") {
            if let Some(cri) = tx.creditor_references.last_mut() {
                match reference {
                    "Ref" => cri.reference = v(),
                    "Tp/CdOrPrtry/Cd" => cri.type_code = v(),
                    "Tp/CdOrPrtry/Prtry" => cri.type_proprietary = v(),
                    "Tp/Issr" => cri.issuer = v(),
                    _ => {}
                }
            }
            return;
        }
        if let Some(party) = rel.strip_prefix("RltdPties/") {
            let (target, rest) = if let Some(rest) = party.strip_prefix("Dbtr") {
                (&mut tx.debtor, rest)
            } else if let Some(rest) = party.strip_prefix("Cdtr") {
                (&mut tx.creditor, rest)
            } else if let Some(rest) = party.strip_prefix("UltmtDbtr/") {
                if rest == "Nm" || rest == "Pty/Nm" {
                    tx.debtor.ultimate_name = v();
                }
                return;
            } else if let Some(rest) = party.strip_prefix("UltmtCdtr/") {
                if rest == "Nm" || rest == "Pty/Nm" {
                    tx.creditor.ultimate_name = v();
                }
                return;
            } else {
                return;
            };
            match rest {
                "/Nm" | "/Pty/Nm" => target.name = v(),
                "Acct/Id/IBAN" => target.iban = v(),
                "Acct/Id/Othr/Id" => target.other_account_id = v(),
                _ => {}
            }
            return;
        }
        match rel {
            "Refs/MsgId" => tx.message_id = v(),
            "Refs/PmtInfId" => tx.payment_information_id = v(),
            "Refs/InstrId" => tx.instruction_id = v(),
            "Refs/EndToEndId" => tx.end_to_end_id = v(),
            "Refs/UETR" => tx.uetr = v(),
            "Refs/TxId" => tx.transaction_id = v(),
            "Refs/MndtId" => tx.mandate_id = v(),
            "Refs/AcctSvcrRef" => tx.account_servicer_reference = v(),
            "RltdAgts/DbtrAgt/FinInstnId/BIC" | "RltdAgts/DbtrAgt/FinInstnId/BICFI" => {
                tx.debtor.bic = v();
            }
            "RltdAgts/CdtrAgt/FinInstnId/BIC" | "RltdAgts/CdtrAgt/FinInstnId/BICFI" => {
                tx.creditor.bic = v();
            }
            "RmtInf/Ustrd" => {
                if let Some(v) = v() {
                    tx.remittance_unstructured.push(v);
                }
            }
            "RmtInf/Strd/AddtlRmtInf" => {
                if let Some(v) = v() {
                    tx.remittance_additional.push(v);
                }
            }
            "RtrInf/Rsn/Cd" => {
                tx.return_information
                    .get_or_insert_with(ReturnInformation::default)
                    .reason_code = v();
            }
            "RtrInf/Rsn/Prtry" => {
                tx.return_information
                    .get_or_insert_with(ReturnInformation::default)
                    .reason_proprietary = v();
            }
            "RtrInf/AddtlInf" => {
                if let Some(v) = v() {
                    let info = tx
                        .return_information
                        .get_or_insert_with(ReturnInformation::default);
                    match &mut info.additional_info {
                        Some(existing) => {
                            existing.push(' ');
                            existing.push_str(&v);
                        }
                        None => info.additional_info = Some(v),
                    }
                }
            }
            "AddtlTxInf" => tx.additional_info = v(),
            _ => {}
        }
    }

    fn close_transaction(&mut self) {
        let Some((mut tx, _)) = self.transaction.take() else {
            return;
        };
        tx.remittance_unstructured.shrink_to_fit();
        tx.creditor_references.shrink_to_fit();
        tx.remittance_additional.shrink_to_fit();
        if let Some((entry, _)) = &mut self.entry {
            entry.transactions.push(tx);
        }
    }
}

fn bank_code(code: &mut BankTransactionCode, rel: &str, text: &str) {
    match rel {
        "Domn/Cd" => code.domain = non_empty(text),
        "Domn/Fmly/Cd" => code.family = non_empty(text),
        "Domn/Fmly/SubFmlyCd" => code.subfamily = non_empty(text),
        "Prtry/Cd" => code.proprietary_code = non_empty(text),
        "Prtry/Issr" => code.proprietary_issuer = non_empty(text),
        _ => {}
    }
}
