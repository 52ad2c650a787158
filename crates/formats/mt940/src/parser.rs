//! The line-based MT940/MT942 reader.
//!
//! Lines are split on LF (a CR before it is dropped). SWIFT block wrappers
//! (`{1:...}{2:...}{4:` before and `-}`/`-}{5:...}` after the text block)
//! and bank header lines before the first tag (`0000 01INGBNL2AXXXX00001`,
//! `940 00`, `ABNANL2A`, `:940:`) are skipped. A line starting with `:NN:`
//! or `:NNa:` starts a tag; other lines continue the previous tag. A line
//! `-` (or `-XXX`, `-}`) ends a message.

use crate::decimal::Decimal;
use crate::error::Error;
use crate::info;
use crate::model::{
    Balance, CreditDebit, Diagnostic, Document, Entry, EntryMark, MessageType, Severity, Statement,
    SwiftDate,
};

/// A tag with its content lines.
struct Tag<'a> {
    line: usize,
    name: &'a str,
    lines: Vec<&'a str>,
}

/// Decodes the input: UTF-8 when valid, else Latin-1 (ISO 8859-1), which
/// is what Dutch banks use for MT940; every byte then maps to one char.
fn decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// Splits `:61:`-style tag lines: returns `(name, content)` for a tag line.
fn tag_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let end = rest.find(':')?;
    let name = &rest[..end];
    let b = name.as_bytes();
    let ok = (2..=4).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[2..]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
    ok.then(|| (name, &rest[end + 1..]))
}

/// Strips a SWIFT `{1:...}{2:...}{3:{...}}{4:` prefix; returns the rest of
/// the line after `{4:` and whether the message type block says 942.
fn strip_block_header(line: &str) -> Option<(&str, bool)> {
    if !line.starts_with('{') {
        return None;
    }
    let at = line.find("{4:")?;
    let header = &line[..at];
    let is_942 = header
        .find("{2:")
        .is_some_and(|i| header[i + 3..].get(1..4) == Some("942"));
    Some((&line[at + 3..], is_942))
}

fn is_message_end(line: &str) -> bool {
    line == "-"
        || line.starts_with("-}")
        || line == "-XXX"
        || (line.starts_with('-') && line[1..].chars().all(|c| c == 'X' || c == '}'))
}

pub(crate) fn parse(bytes: &[u8]) -> Result<(Document, Vec<Diagnostic>), Error> {
    let text = decode(bytes);
    if text.trim().is_empty() {
        return Err(Error::Empty);
    }
    let mut reader = Reader::default();
    let mut current: Option<Tag<'_>> = None;
    let mut in_message = false;
    for (index, raw_line) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let mut line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        // `-}{5:...}{1:...}{2:...}{4:` chains the next message on the same line.
        if line.starts_with("-}")
            && let Some(next) = line.find("{1:")
        {
            if let Some(tag) = current.take() {
                reader.tag(tag);
            }
            reader.end_message();
            line = &line[next..];
        }
        if let Some((rest, is_942)) = strip_block_header(line) {
            if let Some(tag) = current.take() {
                reader.tag(tag);
            }
            reader.block_942 = is_942;
            in_message = true;
            line = rest;
            if line.trim().is_empty() {
                continue;
            }
        }
        let trimmed = line.trim_end();
        if is_message_end(trimmed.trim_start()) {
            if let Some(tag) = current.take() {
                reader.tag(tag);
            }
            reader.end_message();
            in_message = false;
            continue;
        }
        if let Some((name, content)) = tag_line(trimmed) {
            if let Some(tag) = current.take() {
                reader.tag(tag);
            }
            in_message = true;
            current = Some(Tag {
                line: line_no,
                name,
                lines: vec![content],
            });
            continue;
        }
        match &mut current {
            Some(tag) => tag.lines.push(line),
            None => {
                // Header lines before the first tag of a message.
                if in_message && !trimmed.is_empty() {
                    reader.warn(
                        line_no,
                        "",
                        "",
                        format!("line outside any tag ignored: {trimmed:?}"),
                    );
                }
            }
        }
    }
    if let Some(tag) = current.take() {
        reader.tag(tag);
    }
    reader.end_message();
    if reader.statements.is_empty() {
        return Err(Error::NoStatement);
    }
    Ok((
        Document {
            statements: reader.statements,
        },
        reader.diagnostics,
    ))
}

#[derive(Default)]
struct Reader {
    statements: Vec<Statement>,
    statement: Option<Statement>,
    diagnostics: Vec<Diagnostic>,
    /// The last tag was `:61:` (so a `:86:` belongs to that entry).
    after_entry: bool,
    block_942: bool,
}

impl Reader {
    fn diag(
        &mut self,
        severity: Severity,
        line: usize,
        tag: &str,
        field: &'static str,
        message: String,
    ) {
        self.diagnostics.push(Diagnostic {
            severity,
            line,
            tag: tag.to_owned(),
            field,
            message,
        });
    }

    fn warn(&mut self, line: usize, tag: &str, field: &'static str, message: String) {
        self.diag(Severity::Warning, line, tag, field, message);
    }

    fn error(&mut self, line: usize, tag: &str, field: &'static str, message: String) {
        self.diag(Severity::Error, line, tag, field, message);
    }

    fn end_message(&mut self) {
        if let Some(statement) = self.statement.take() {
            self.finish(statement);
        }
        self.after_entry = false;
        self.block_942 = false;
    }

    fn finish(&mut self, mut statement: Statement) {
        if self.block_942 {
            statement.message_type = MessageType::Mt942;
        }
        let line = statement.line;
        if statement.account.is_none() {
            self.error(
                line,
                "20",
                "account",
                "statement without :25: account identification".into(),
            );
            statement.valid = false;
        }
        if statement.message_type == MessageType::Mt940 {
            if statement.opening_balance.is_none() {
                self.warn(
                    line,
                    "20",
                    "opening balance",
                    "statement without :60F:/:60M: opening balance".into(),
                );
            }
            if statement.closing_balance.is_none() {
                self.warn(
                    line,
                    "20",
                    "closing balance",
                    "statement without :62F:/:62M: closing balance".into(),
                );
            }
        }
        // Drop the growth slack of a large statement.
        statement.entries.shrink_to_fit();
        self.statements.push(statement);
    }

    fn tag(&mut self, tag: Tag<'_>) {
        let name = tag.name;
        if name == "20" {
            if let Some(previous) = self.statement.take() {
                self.finish(previous);
            }
            self.statement = Some(Statement {
                line: tag.line,
                valid: true,
                transaction_reference: tag.lines.join("\n").trim().to_owned(),
                ..Statement::default()
            });
            self.after_entry = false;
            return;
        }
        if name == "940" || name == "942" {
            // Rabobank writes `:940:` as a header line.
            return;
        }
        if self.statement.is_none() {
            self.warn(
                tag.line,
                name,
                "",
                "tag before the first :20: ignored".into(),
            );
            return;
        }
        let content = tag.lines[0].trim();
        let was_after_entry = std::mem::replace(&mut self.after_entry, false);
        match name {
            "21" => self.with(|s| s.related_reference = non_empty(content)),
            "25" => {
                let (iban, currency) = account_iban(content);
                self.with(|s| {
                    s.account = non_empty(content);
                    s.account_iban = iban;
                    s.account_currency = currency;
                });
            }
            "28" | "28C" => {
                let (number, sequence) = match content.split_once('/') {
                    Some((n, s)) => (non_empty(n), non_empty(s)),
                    None => (non_empty(content), None),
                };
                self.with(|s| {
                    s.statement_number = number;
                    s.sequence_number = sequence;
                });
            }
            "60F" | "60M" | "62F" | "62M" | "64" | "65" => {
                let balance = self.balance(tag.line, name, content);
                self.with(|s| match (name, balance) {
                    (_, None) => s.valid = false,
                    ("60F" | "60M", Some(b)) => s.opening_balance = Some(b),
                    ("62F" | "62M", Some(b)) => s.closing_balance = Some(b),
                    ("64", Some(b)) => s.closing_available_balance = Some(b),
                    (_, Some(b)) => s.forward_available_balances.push(b),
                });
            }
            "34F" => self.with(|s| {
                s.floor_limits.push(content.to_owned());
                s.message_type = MessageType::Mt942;
            }),
            "13" | "13D" => self.with(|s| {
                s.date_time_indication = non_empty(content);
                s.message_type = MessageType::Mt942;
            }),
            "90D" => self.with(|s| s.sum_debit_entries = non_empty(content)),
            "90C" => self.with(|s| s.sum_credit_entries = non_empty(content)),
            "61" => {
                let entry = self.entry(&tag);
                self.with(|s| s.entries.push(entry));
                self.after_entry = true;
            }
            "86" => {
                let lines: Vec<&str> = tag.lines.iter().map(|l| l.trim_end()).collect();
                let text = join_information(&lines);
                if was_after_entry {
                    self.after_entry = true;
                    self.with(|s| {
                        if let Some(entry) = s.entries.last_mut() {
                            match entry.information.take() {
                                Some(existing) => {
                                    // Several :86: for one entry (old Rabobank).
                                    let combined = format!("{existing}\n{text}");
                                    let all: Vec<&str> = combined.split('\n').collect();
                                    entry.details = info::recognise(&all);
                                    entry.information = non_empty_keep(&combined);
                                }
                                None => {
                                    entry.details = info::recognise(&lines);
                                    entry.information = (!text.trim().is_empty()).then_some(text);
                                }
                            }
                        }
                    });
                } else {
                    self.with(|s| {
                        s.information = match s.information.take() {
                            Some(existing) => Some(format!("{existing}\n{text}")),
                            None => non_empty_keep(&text),
                        };
                    });
                }
            }
            _ => self.warn(tag.line, name, "", format!("unknown tag :{name}: ignored")),
        }
    }

    fn with(&mut self, f: impl FnOnce(&mut Statement)) {
        if let Some(s) = &mut self.statement {
            f(s);
        }
    }

    /// Reads `YYMMDD`; `None` (with an error) when unreadable, a warning when
    /// the day does not exist in that month.
    fn date(
        &mut self,
        line: usize,
        tag: &str,
        field: &'static str,
        text: &str,
    ) -> Option<SwiftDate> {
        let date = swift_date(text);
        match &date {
            None => self.error(line, tag, field, format!("invalid date {text:?} (YYMMDD)")),
            Some(d) if !d.is_calendar_date() => self.warn(
                line,
                tag,
                field,
                format!("{} is not a calendar date; kept as written ({text})", d),
            ),
            Some(_) => {}
        }
        date
    }

    /// `C160229EUR1200,00`.
    fn balance(&mut self, line: usize, tag: &str, content: &str) -> Option<Balance> {
        let mut chars = content.char_indices();
        let credit_debit = match chars.next() {
            Some((_, 'C')) => CreditDebit::Credit,
            Some((_, 'D')) => CreditDebit::Debit,
            _ => {
                self.error(
                    line,
                    tag,
                    "mark",
                    format!("balance must start with C or D: {content:?}"),
                );
                return None;
            }
        };
        let Some(date_text) = content.get(1..7) else {
            self.error(line, tag, "date", format!("balance too short: {content:?}"));
            return None;
        };
        let date = self.date(line, tag, "date", date_text)?;
        let currency = content.get(7..10).unwrap_or("");
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            self.error(
                line,
                tag,
                "currency",
                format!("invalid currency in {content:?}"),
            );
            return None;
        }
        let amount_text = content.get(10..).unwrap_or("");
        let amount = match Decimal::parse_swift(amount_text) {
            Ok(a) if !a.is_negative() => a,
            Ok(_) | Err(_) => {
                self.error(
                    line,
                    tag,
                    "amount",
                    format!("invalid amount {amount_text:?}"),
                );
                return None;
            }
        };
        Some(Balance {
            line,
            tag: tag.to_owned(),
            credit_debit,
            date,
            currency: currency.to_owned(),
            amount,
        })
    }

    /// `:61:` = value date 6!n, [entry date 4!n], mark (C, D, RC, RD, EC, ED),
    /// [funds code 1!a], amount 15d, type 1!a3!c, customer reference 16x,
    /// [//bank reference 16x], then supplementary details.
    fn entry(&mut self, tag: &Tag<'_>) -> Entry {
        let line = tag.line;
        let first = tag.lines[0].trim_end();
        let mut entry = Entry {
            line,
            valid: true,
            raw: tag
                .lines
                .iter()
                .map(|l| l.trim_end())
                .collect::<Vec<_>>()
                .join("\n"),
            ..Entry::default()
        };
        let b = first.as_bytes();
        let mut i = 0;
        // Value date.
        match first.get(0..6) {
            Some(text) => {
                entry.value_date = self.date(line, "61", "value date", text);
                i = 6;
            }
            None => self.error(
                line,
                "61",
                "value date",
                format!("statement line too short: {first:?}"),
            ),
        }
        if entry.value_date.is_none() {
            entry.valid = false;
            return entry;
        }
        // Entry date (MMDD), year from the value date.
        if b.len() >= i + 4 && b[i..i + 4].iter().all(u8::is_ascii_digit) {
            let text = &first[i..i + 4];
            if let Some(value) = &entry.value_date {
                entry.entry_date = self.entry_date(line, value, text);
            }
            i += 4;
        }
        // Mark.
        let rest = &first[i..];
        let (mark, len) = if rest.starts_with("RC") {
            (Some(EntryMark::ReversalOfCredit), 2)
        } else if rest.starts_with("RD") {
            (Some(EntryMark::ReversalOfDebit), 2)
        } else if rest.starts_with("EC") {
            (Some(EntryMark::ExpectedCredit), 2)
        } else if rest.starts_with("ED") {
            (Some(EntryMark::ExpectedDebit), 2)
        } else if rest.starts_with('C') {
            (Some(EntryMark::Credit), 1)
        } else if rest.starts_with('D') {
            (Some(EntryMark::Debit), 1)
        } else {
            (None, 0)
        };
        let Some(mark) = mark else {
            self.error(
                line,
                "61",
                "mark",
                format!("expected C, D, RC or RD at {rest:?}"),
            );
            entry.valid = false;
            return entry;
        };
        entry.mark = Some(mark);
        i += len;
        // Funds code.
        if let Some(&c) = b.get(i)
            && c.is_ascii_alphabetic()
        {
            entry.funds_code = Some(char::from(c));
            i += 1;
        }
        // Amount.
        let amount_len = b[i..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == b',')
            .count();
        let amount_text = &first[i..i + amount_len];
        match Decimal::parse_swift(amount_text) {
            Ok(amount) => entry.amount = Some(amount),
            Err(err) => {
                let shown = if amount_text.is_empty() {
                    &first[i..]
                } else {
                    amount_text
                };
                self.error(line, "61", "amount", format!("{err}: {shown:?}"));
                entry.valid = false;
                return entry;
            }
        }
        i += amount_len;
        // Transaction type: 1!a3!c.
        match first.get(i..i + 4) {
            Some(code) if code.chars().all(|c| c.is_ascii_alphanumeric()) => {
                entry.transaction_type = Some(code.to_owned());
                i += 4;
            }
            _ => {
                self.error(
                    line,
                    "61",
                    "transaction type",
                    format!(
                        "missing transaction type code at {:?}",
                        first.get(i..).unwrap_or("")
                    ),
                );
                entry.valid = false;
                return entry;
            }
        }
        // References.
        let rest = first.get(i..).unwrap_or("");
        let (customer, after) = match rest.find("//") {
            Some(at) => (&rest[..at], Some(&rest[at + 2..])),
            None => (rest, None),
        };
        let (customer, overflow) = split_chars(customer, 16);
        entry.customer_reference = non_empty(customer);
        let mut supplementary: Vec<String> = Vec::new();
        if let Some(o) = non_empty(overflow) {
            supplementary.push(o);
        }
        if let Some(after) = after {
            let (bank, overflow) = split_chars(after, 16);
            entry.bank_reference = non_empty(bank);
            if let Some(o) = non_empty(overflow) {
                supplementary.push(o);
            }
        }
        supplementary.extend(tag.lines[1..].iter().filter_map(|l| non_empty(l)));
        if !supplementary.is_empty() {
            entry.supplementary_details = Some(supplementary.join("\n"));
        }
        entry
    }

    fn entry_date(&mut self, line: usize, value: &SwiftDate, text: &str) -> Option<SwiftDate> {
        let month: u8 = text[..2].parse().ok()?;
        let day: u8 = text[2..].parse().ok()?;
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            self.error(
                line,
                "61",
                "entry date",
                format!("invalid entry date {text:?} (MMDD)"),
            );
            return None;
        }
        // The booking can fall in the next (or previous) year around a year end.
        let year = match (value.month, month) {
            (12, 1) => value.year + 1,
            (1, 12) => value.year.saturating_sub(1),
            _ => value.year,
        };
        let date = SwiftDate {
            raw: text.to_owned(),
            year,
            month,
            day,
        };
        if !date.is_calendar_date() {
            self.warn(
                line,
                "61",
                "entry date",
                format!("{date} is not a calendar date; kept as written ({text})"),
            );
        }
        Some(date)
    }
}

/// Splits after at most `n` characters.
fn split_chars(text: &str, n: usize) -> (&str, &str) {
    match text.char_indices().nth(n) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    }
}

/// `YYMMDD` with month 1..=12 and day 1..=31.
fn swift_date(text: &str) -> Option<SwiftDate> {
    let b = text.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    let (yy, month, day) = (two(0), two(2), two(4));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let year = if yy < 80 { 2000 } else { 1900 } + u16::from(yy);
    Some(SwiftDate {
        raw: text.to_owned(),
        year,
        month,
        day,
    })
}

fn non_empty(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Like [`non_empty`] but keeps inner line structure.
fn non_empty_keep(text: &str) -> Option<String> {
    (!text.trim().is_empty()).then(|| text.trim_end().to_owned())
}

/// `:86:` lines joined with `\n`, trailing blank lines dropped.
fn join_information(lines: &[&str]) -> String {
    let mut end = lines.len();
    while end > 0 && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    let mut text = lines[..end].join("\n");
    let start = text.len() - text.trim_start_matches(' ').len();
    text.drain(..start);
    text
}

/// IBAN lengths for the countries whose banks write `IBAN` + currency in
/// `:25:`.
fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "NL" => 18,
        "BE" => 16,
        "DE" => 22,
        "LU" => 20,
        "FR" | "MC" | "IT" => 27,
        "GB" | "IE" => 22,
        "AT" => 20,
        "CH" | "LI" => 21,
        "ES" => 24,
        "LT" | "EE" => 20,
        "PL" => 28,
        _ => return None,
    })
}

/// The IBAN (and currency suffix) in a `:25:` account identification.
fn account_iban(account: &str) -> (Option<String>, Option<String>) {
    let token = account
        .split(['/', ' '])
        .find(|t| !t.is_empty())
        .unwrap_or("");
    let b = token.as_bytes();
    let looks_like_iban = b.len() >= 15
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric);
    if !looks_like_iban {
        return (None, None);
    }
    match iban_length(&token[..2]) {
        Some(len) if token.len() == len => (Some(token.to_owned()), None),
        Some(len)
            if token.len() == len + 3 && token[len..].bytes().all(|c| c.is_ascii_uppercase()) =>
        {
            (Some(token[..len].to_owned()), Some(token[len..].to_owned()))
        }
        Some(_) => (None, None),
        None => (Some(token.to_owned()), None),
    }
}
