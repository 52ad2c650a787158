//! The CSV invoice format: one invoice or credit note per line, a header line naming the columns
//! in English or Dutch, `;`, `,` or tab separated, UTF-8 with or without BOM, amounts with a
//! decimal point or comma, ISO or Dutch dates. The columns are documented in `docs/import-csv.md`.

use std::io::{BufRead, BufReader, Read};

use incasso_banking::Iban;
use incasso_calendar::parse_flexible;
use incasso_domain::{
    Address, CountryCode, DebtorKind, DebtorNumber, DocumentKind, DueDateSource, EmailAddress,
    InvoiceNumber, Language, NewDebtor, NewInvoice, PhoneNumber, RegistrationNumber, Tag,
    VatNumber,
};
use incasso_money::{Currency, Money, Rate};

use super::{ImportDefaults, ParsedRow, Problem};

/// The columns incasso understands. Each has one canonical English name and Dutch aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    InvoiceNumber,
    Kind,
    IssueDate,
    DueDate,
    PaymentTermsDays,
    Currency,
    NetAmount,
    VatAmount,
    GrossAmount,
    PaidAmount,
    PaymentReference,
    InterestRate,
    Description,
    Corrects,
    DebtorNumber,
    DebtorName,
    DebtorKind,
    ContactPerson,
    Street,
    PostalCode,
    City,
    Country,
    Email,
    Phone,
    Language,
    Iban,
    RegistrationNumber,
    VatNumber,
    Tags,
    Vulnerable,
    DoNotContact,
}

/// Canonical name and accepted aliases (compared after lower-casing and turning spaces, dots and
/// dashes into underscores).
pub const COLUMNS: &[(Column, &str, &[&str])] = &[
    (
        Column::InvoiceNumber,
        "invoice_number",
        &[
            "invoice",
            "invoice_no",
            "number",
            "factuurnummer",
            "factuurnr",
            "factuur",
            "nummer",
        ],
    ),
    (
        Column::Kind,
        "kind",
        &["type", "document_type", "soort", "documentsoort"],
    ),
    (
        Column::IssueDate,
        "issue_date",
        &["invoice_date", "date", "factuurdatum", "datum"],
    ),
    (
        Column::DueDate,
        "due_date",
        &["vervaldatum", "uiterste_betaaldatum", "betaaldatum"],
    ),
    (
        Column::PaymentTermsDays,
        "payment_terms_days",
        &[
            "payment_terms",
            "terms",
            "betalingstermijn",
            "betaaltermijn",
            "termijn",
        ],
    ),
    (Column::Currency, "currency", &["valuta", "munt"]),
    (
        Column::NetAmount,
        "net_amount",
        &[
            "net",
            "amount_excl_vat",
            "netto",
            "bedrag_excl_btw",
            "excl_btw",
        ],
    ),
    (
        Column::VatAmount,
        "vat_amount",
        &["vat", "tax", "btw", "btw_bedrag"],
    ),
    (
        Column::GrossAmount,
        "gross_amount",
        &[
            "amount",
            "total",
            "gross",
            "amount_incl_vat",
            "bedrag",
            "totaal",
            "bedrag_incl_btw",
            "incl_btw",
        ],
    ),
    (
        Column::PaidAmount,
        "paid_amount",
        &["paid", "betaald", "reeds_betaald"],
    ),
    (
        Column::PaymentReference,
        "payment_reference",
        &[
            "reference",
            "betalingskenmerk",
            "kenmerk",
            "betaalkenmerk",
            "ogm",
            "mededeling",
        ],
    ),
    (
        Column::InterestRate,
        "interest_rate",
        &["contractual_interest_rate", "rente", "rentepercentage"],
    ),
    (
        Column::Description,
        "description",
        &["omschrijving", "onderwerp"],
    ),
    (
        Column::Corrects,
        "corrects",
        &[
            "credited_invoice",
            "original_invoice",
            "creditnota_voor",
            "credit_voor",
            "oorspronkelijke_factuur",
        ],
    ),
    (
        Column::DebtorNumber,
        "debtor_number",
        &[
            "customer_number",
            "customer_id",
            "debiteurnummer",
            "debiteurnr",
            "klantnummer",
            "klantnr",
        ],
    ),
    (
        Column::DebtorName,
        "debtor_name",
        &[
            "customer",
            "customer_name",
            "debtor",
            "name",
            "debiteur",
            "debiteurnaam",
            "klant",
            "klantnaam",
            "naam",
            "bedrijfsnaam",
        ],
    ),
    (
        Column::DebtorKind,
        "debtor_kind",
        &[
            "customer_kind",
            "customer_type",
            "debtor_type",
            "soort_debiteur",
            "klanttype",
            "zakelijk_particulier",
        ],
    ),
    (
        Column::ContactPerson,
        "contact_person",
        &["contact", "attention", "contactpersoon", "tav", "t_a_v"],
    ),
    (
        Column::Street,
        "street",
        &[
            "address",
            "address_line",
            "adres",
            "straat",
            "straat_en_huisnummer",
        ],
    ),
    (
        Column::PostalCode,
        "postal_code",
        &["postcode", "zip", "zipcode", "postal"],
    ),
    (
        Column::City,
        "city",
        &["town", "plaats", "woonplaats", "stad", "gemeente"],
    ),
    (
        Column::Country,
        "country",
        &["country_code", "land", "landcode"],
    ),
    (
        Column::Email,
        "email",
        &[
            "e_mail",
            "email_address",
            "emailadres",
            "e_mailadres",
            "mail",
        ],
    ),
    (
        Column::Phone,
        "phone",
        &[
            "telephone",
            "phone_number",
            "telefoon",
            "telefoonnummer",
            "tel",
            "mobiel",
        ],
    ),
    (Column::Language, "language", &["taal", "langue"]),
    (
        Column::Iban,
        "iban",
        &["bank_account", "rekeningnummer", "rekening", "bankrekening"],
    ),
    (
        Column::RegistrationNumber,
        "registration_number",
        &[
            "kvk",
            "kvk_nummer",
            "kvk_number",
            "coc",
            "coc_number",
            "enterprise_number",
            "ondernemingsnummer",
            "kbo",
        ],
    ),
    (
        Column::VatNumber,
        "vat_number",
        &["vat_id", "btw_nummer", "btw_id", "btwnummer"],
    ),
    (Column::Tags, "tags", &["labels", "tag"]),
    (Column::Vulnerable, "vulnerable", &["kwetsbaar"]),
    (
        Column::DoNotContact,
        "do_not_contact",
        &["niet_benaderen", "geen_contact"],
    ),
];

fn normalize_header(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .chars()
        .map(|c| {
            if c == ' ' || c == '-' || c == '.' || c == '/' {
                '_'
            } else {
                c
            }
        })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

fn column_for(header: &str) -> Option<Column> {
    let h = normalize_header(header);
    COLUMNS
        .iter()
        .find(|(_, name, aliases)| *name == h || aliases.contains(&h.as_str()))
        .map(|(c, _, _)| *c)
}

/// Picks the separator from the header line: the most frequent of `;`, tab and `,` outside quotes.
fn sniff_delimiter(header: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => counts[0] += 1,
            '\t' if !quoted => counts[1] += 1,
            ',' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    if counts[0] >= counts[1] && counts[0] >= counts[2] && counts[0] > 0 {
        b';'
    } else if counts[1] >= counts[2] && counts[1] > 0 {
        b'\t'
    } else {
        b','
    }
}

/// A reader that drops a UTF-8 byte-order mark at the start.
fn skip_bom<R: Read>(reader: R) -> std::io::Result<BufReader<R>> {
    let mut buf = BufReader::with_capacity(1 << 16, reader);
    let head = buf.fill_buf()?;
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        buf.consume(3);
    }
    Ok(buf)
}

/// The parsed rows of a file, each a row or the problem with it.
pub type Rows = Box<dyn Iterator<Item = Result<ParsedRow, Problem>> + Send>;

/// The rows of a CSV file. The header is read at once (a problem with it refuses the file);
/// each data line then yields a parsed row or the problem with that line.
pub fn rows<R: Read + Send + 'static>(
    reader: R,
    defaults: ImportDefaults,
) -> Result<(Vec<String>, Rows), Problem> {
    let header_problem = |message: String| Problem {
        location: "line 1".into(),
        field: String::new(),
        message,
    };
    let mut buf =
        skip_bom(reader).map_err(|e| header_problem(format!("cannot read the file: {e}")))?;
    let delimiter = {
        let head = buf
            .fill_buf()
            .map_err(|e| header_problem(format!("cannot read the file: {e}")))?;
        let first_line_end = head.iter().position(|b| *b == b'\n').unwrap_or(head.len());
        let first = String::from_utf8_lossy(&head[..first_line_end]).to_string();
        sniff_delimiter(&first)
    };
    let mut csv = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(buf);
    let headers = csv
        .headers()
        .map_err(|e| header_problem(format!("cannot read the header line: {e}")))?
        .clone();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(header_problem(
            "the file is empty or has no header line".into(),
        ));
    }
    let mut columns: Vec<Option<Column>> = Vec::with_capacity(headers.len());
    let mut warnings = Vec::new();
    for h in headers.iter() {
        let c = column_for(h);
        if c.is_none() && !h.trim().is_empty() {
            warnings.push(format!(
                "line 1: column {:?} is not known and was ignored",
                h.trim()
            ));
        }
        if let Some(col) = c
            && columns.contains(&Some(col))
        {
            return Err(header_problem(format!(
                "column {:?} appears twice (as {:?})",
                canonical(col),
                h.trim()
            )));
        }
        columns.push(c);
    }
    let has = |c: Column| columns.contains(&Some(c));
    let mut missing = Vec::new();
    if !has(Column::InvoiceNumber) {
        missing.push("invoice_number (factuurnummer)");
    }
    if !has(Column::DebtorName) && !has(Column::DebtorNumber) {
        missing.push("debtor_name (debiteur) or debtor_number (debiteurnummer)");
    }
    if !has(Column::IssueDate) {
        missing.push("issue_date (factuurdatum)");
    }
    if !has(Column::GrossAmount) && !has(Column::NetAmount) {
        missing.push("gross_amount (bedrag) or net_amount (netto)");
    }
    if !missing.is_empty() {
        return Err(header_problem(format!(
            "required column missing: {}",
            missing.join(", ")
        )));
    }

    let positions = positions(&columns);
    let mut record = ::csv::StringRecord::new();
    let iter = std::iter::from_fn(move || {
        loop {
            match csv.read_record(&mut record) {
                Ok(false) => return None,
                Ok(true) => {
                    let line = record.position().map(|p| p.line()).unwrap_or(0);
                    if record.iter().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    return Some(parse_record(&record, &positions, line, &defaults));
                }
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    let message = match e.kind() {
                        ::csv::ErrorKind::Utf8 { .. } => {
                            "the text is not valid UTF-8 (save the file as UTF-8)".to_string()
                        }
                        _ => format!("unreadable CSV: {e}"),
                    };
                    // A broken record cannot be resynchronised reliably: report and stop.
                    let p = Problem {
                        location: format!("line {line}"),
                        field: String::new(),
                        message,
                    };
                    return Some(Err(p));
                }
            }
        }
    });
    Ok((warnings, Box::new(iter)))
}

/// The canonical column name.
pub fn canonical(c: Column) -> &'static str {
    COLUMNS
        .iter()
        .find(|(col, _, _)| *col == c)
        .map(|(_, n, _)| *n)
        .unwrap_or("?")
}

/// Where each known column sits in a record: `positions[column as usize]`, computed once from
/// the header (a lookup per field per line is on the import's hot path).
type Positions = [Option<usize>; COLUMNS.len()];

fn positions(columns: &[Option<Column>]) -> Positions {
    let mut out: Positions = [None; COLUMNS.len()];
    for (pos, c) in columns.iter().enumerate() {
        if let Some(c) = c {
            out[*c as usize] = Some(pos);
        }
    }
    out
}

struct Fields<'a> {
    record: &'a ::csv::StringRecord,
    positions: &'a Positions,
    line: u64,
}

impl Fields<'_> {
    fn get(&self, c: Column) -> Option<&str> {
        let pos = self.positions[c as usize]?;
        let v = self.record.get(pos)?.trim();
        if v.is_empty() { None } else { Some(v) }
    }

    fn problem(&self, c: Column, message: String) -> Problem {
        Problem {
            location: format!("line {}", self.line),
            field: canonical(c).to_string(),
            message,
        }
    }

    fn parse<T, E: std::fmt::Display>(
        &self,
        c: Column,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, Problem> {
        match self.get(c) {
            None => Ok(None),
            Some(v) => f(v).map(Some).map_err(|e| self.problem(c, e.to_string())),
        }
    }

    fn list<T, E: std::fmt::Display>(
        &self,
        c: Column,
        f: impl Fn(&str) -> Result<T, E>,
    ) -> Result<Vec<T>, Problem> {
        match self.get(c) {
            None => Ok(Vec::new()),
            Some(v) => v
                .split([';', '|', ' ', ','])
                .filter(|x| !x.trim().is_empty())
                .map(|x| f(x.trim()).map_err(|e| self.problem(c, e.to_string())))
                .collect(),
        }
    }

    fn flag(&self, c: Column) -> Result<bool, Problem> {
        match self.get(c).map(str::to_lowercase).as_deref() {
            None | Some("0" | "no" | "nee" | "false" | "n") => Ok(false),
            Some("1" | "yes" | "ja" | "true" | "j" | "y" | "x") => Ok(true),
            Some(other) => {
                Err(self.problem(c, format!("expected yes/no (ja/nee, 1/0), found {other:?}")))
            }
        }
    }
}

fn parse_record(
    record: &::csv::StringRecord,
    positions: &Positions,
    line: u64,
    defaults: &ImportDefaults,
) -> Result<ParsedRow, Problem> {
    let f = Fields {
        record,
        positions,
        line,
    };
    let number = f
        .parse(Column::InvoiceNumber, InvoiceNumber::parse)?
        .ok_or_else(|| {
            f.problem(
                Column::InvoiceNumber,
                "required: the invoice number is empty".into(),
            )
        })?;
    let kind = f
        .parse(Column::Kind, |s| {
            DocumentKind::parse(s).ok_or_else(|| {
                format!("expected invoice or credit_note (factuur/creditnota), found {s:?}")
            })
        })?
        .unwrap_or(DocumentKind::Invoice);
    let issue_date = f.parse(Column::IssueDate, parse_flexible)?.ok_or_else(|| {
        f.problem(
            Column::IssueDate,
            "required: the issue date is empty".into(),
        )
    })?;
    let due_date = f.parse(Column::DueDate, parse_flexible)?;
    let terms = f.parse(Column::PaymentTermsDays, |s| {
        let digits = s.trim_end_matches(|c: char| c.is_alphabetic() || c.is_whitespace());
        digits
            .parse::<u16>()
            .ok()
            .filter(|d| *d <= 3650)
            .ok_or_else(|| format!("expected a number of days such as 30, found {s:?}"))
    })?;
    let currency = f
        .parse(Column::Currency, Currency::parse)?
        .unwrap_or(Currency::EUR);
    let money = |c: Column| f.parse(c, |s| Money::parse_localized(s, currency));
    let net = money(Column::NetAmount)?;
    let vat = money(Column::VatAmount)?;
    let gross = money(Column::GrossAmount)?;
    let paid = money(Column::PaidAmount)?.unwrap_or(Money::zero(currency));
    let overflow = |c| f.problem(c, "amount too large".into());
    let (net, vat, gross) = match (net, vat, gross) {
        (n, v, Some(g)) => {
            let v = v.unwrap_or(Money::zero(currency));
            let n = match n {
                Some(n) => n,
                None => g.checked_sub(v).map_err(|_| overflow(Column::NetAmount))?,
            };
            if n.checked_add(v)
                .map_err(|_| overflow(Column::GrossAmount))?
                != g
            {
                return Err(f.problem(
                    Column::GrossAmount,
                    format!(
                        "gross {} is not net {} plus VAT {}",
                        g.to_decimal_string(),
                        n.to_decimal_string(),
                        v.to_decimal_string()
                    ),
                ));
            }
            (n, v, g)
        }
        (Some(n), v, None) => {
            let v = v.unwrap_or(Money::zero(currency));
            (
                n,
                v,
                n.checked_add(v)
                    .map_err(|_| overflow(Column::GrossAmount))?,
            )
        }
        (None, v, None) => (
            Money::zero(currency),
            v.unwrap_or(Money::zero(currency)),
            Money::zero(currency),
        ),
    };
    let (net, vat, gross) = if kind == DocumentKind::CreditNote && gross.is_negative() {
        // Credit notes are stored with positive amounts; the kind says which way they go.
        (
            net.checked_neg().map_err(|_| overflow(Column::NetAmount))?,
            vat.checked_neg().map_err(|_| overflow(Column::VatAmount))?,
            gross
                .checked_neg()
                .map_err(|_| overflow(Column::GrossAmount))?,
        )
    } else {
        (net, vat, gross)
    };
    if gross.is_negative() {
        return Err(f.problem(
            Column::GrossAmount,
            "a negative invoice amount: use kind credit_note for a credit note".into(),
        ));
    }
    if paid.is_negative() {
        return Err(f.problem(
            Column::PaidAmount,
            "the paid amount cannot be negative".into(),
        ));
    }
    let rate = f.parse(Column::InterestRate, Rate::parse_percent)?;
    let registration = f.parse(Column::RegistrationNumber, RegistrationNumber::parse)?;
    let vat_number = f.parse(Column::VatNumber, VatNumber::parse)?;
    let debtor_kind = f
        .parse(Column::DebtorKind, |s| {
            DebtorKind::parse(s).ok_or_else(|| {
                format!("expected business or consumer (zakelijk/particulier), found {s:?}")
            })
        })?
        .unwrap_or_else(|| super::default_kind(registration.is_some() || vat_number.is_some()));
    let debtor_number = f.parse(Column::DebtorNumber, DebtorNumber::parse)?;
    let name = match f.get(Column::DebtorName) {
        Some(n) => n.to_string(),
        None => match &debtor_number {
            Some(n) => n.to_string(),
            None => {
                return Err(f.problem(
                    Column::DebtorName,
                    "required: the debtor name is empty".into(),
                ));
            }
        },
    };
    let language = f
        .parse(Column::Language, |s| {
            Language::parse(s).ok_or_else(|| format!("expected nl, en, fr or de, found {s:?}"))
        })?
        .unwrap_or(defaults.language);
    let country = f
        .parse(Column::Country, CountryCode::parse)?
        .unwrap_or(defaults.country);
    let due = DueDateSource::derive(due_date, issue_date, terms, debtor_kind);
    if let Some((d, _)) = due
        && d < issue_date
    {
        return Err(f.problem(
            Column::DueDate,
            format!("the due date {d} is before the issue date {issue_date}"),
        ));
    }
    let debtor = NewDebtor {
        number: debtor_number,
        kind: debtor_kind,
        name,
        contact_person: f.get(Column::ContactPerson).map(str::to_string),
        address: Address {
            street: f.get(Column::Street).unwrap_or_default().to_string(),
            postal_code: f.get(Column::PostalCode).unwrap_or_default().to_string(),
            city: f.get(Column::City).unwrap_or_default().to_string(),
            country: Some(country),
        },
        emails: f.list(Column::Email, EmailAddress::parse)?,
        phones: match f.get(Column::Phone) {
            None => Vec::new(),
            Some(v) => v
                .split([';', '|', ','])
                .filter(|x| !x.trim().is_empty())
                .map(|x| PhoneNumber::parse(x).map_err(|e| f.problem(Column::Phone, e.to_string())))
                .collect::<Result<_, _>>()?,
        },
        language,
        ibans: match f.get(Column::Iban) {
            None => Vec::new(),
            Some(v) => v
                .split([';', '|', ','])
                .filter(|x| !x.trim().is_empty())
                .map(|x| Iban::parse(x).map_err(|e| f.problem(Column::Iban, e.to_string())))
                .collect::<Result<_, _>>()?,
        },
        registration_number: registration,
        vat_number,
        tags: f.list(Column::Tags, Tag::parse)?,
        vulnerable: f.flag(Column::Vulnerable)?,
        do_not_contact: f.flag(Column::DoNotContact)?,
    };
    let invoice = NewInvoice {
        number,
        kind,
        issue_date,
        due_date: due.map(|(d, _)| d),
        due_date_source: due.map(|(_, s)| s),
        payment_terms_days: terms,
        currency,
        net_amount: net,
        vat_amount: vat,
        gross_amount: gross,
        paid_amount: paid,
        payment_reference: f.get(Column::PaymentReference).map(str::to_string),
        contractual_interest_rate: rate,
        corrects: f.parse(Column::Corrects, InvoiceNumber::parse)?,
        description: f.get(Column::Description).map(str::to_string),
        lines: Vec::new(),
        attachment: None,
    };
    Ok(ParsedRow {
        line,
        location: format!("line {line}"),
        debtor,
        invoice,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_english_and_dutch() {
        assert_eq!(column_for("Factuurnummer"), Some(Column::InvoiceNumber));
        assert_eq!(
            column_for("\u{feff}invoice_number"),
            Some(Column::InvoiceNumber)
        );
        assert_eq!(column_for("Bedrag incl. BTW"), Some(Column::GrossAmount));
        assert_eq!(column_for("e-mail"), Some(Column::Email));
        assert_eq!(column_for("KvK-nummer"), Some(Column::RegistrationNumber));
        assert_eq!(column_for("unknown thing"), None);
    }

    #[test]
    fn every_column_has_one_entry_in_its_variant_slot() {
        // `Positions` is indexed by `Column as usize`: COLUMNS must list every variant once, in
        // declaration order.
        for (i, (c, _, _)) in COLUMNS.iter().enumerate() {
            assert_eq!(*c as usize, i, "{c:?}");
        }
        assert_eq!(
            COLUMNS.last().map(|(c, _, _)| *c as usize),
            Some(Column::DoNotContact as usize)
        );
    }

    #[test]
    fn delimiter_sniffing() {
        assert_eq!(sniff_delimiter("a;b;c"), b';');
        assert_eq!(sniff_delimiter("a,b,c"), b',');
        assert_eq!(sniff_delimiter("\"a;x\",b,c"), b',');
        assert_eq!(sniff_delimiter("a\tb\tc"), b'\t');
    }
}
