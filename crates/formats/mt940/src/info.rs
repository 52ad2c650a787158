//! Recognising structure in `:86:` information to account owner.
//!
//! Three layouts are recognised; anything else is kept as free text:
//!
//! * **Slash codes** (ING, Rabobank IBAN format, ABN AMRO SEPA, bunq-like
//!   exports): `/EREF/...//MARF/...//RTRN/MS03//BENM/IBAN/BIC/NAME//REMI/...`.
//!   A code is a known upper-case word between slashes; its value runs to
//!   the next known code.
//! * **Question-mark subfields** (German banks, GVC first):
//!   `166?00SEPA-UEBERWEISUNG?20EREF+...?21SVWZ+...?30BIC?31IBAN?32NAME`.
//! * **Greater-than subfields** (Triodos): `000>10...>20...>21...>31...`.
//!
//! Continuation lines are joined without a separator before recognising
//! structure, because banks wrap these layouts at a fixed width in the
//! middle of words.

/// Which layout the `:86:` information had.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum InformationFormat {
    /// No recognised structure; see [`Information::remittance`].
    #[default]
    Unstructured,
    /// `/CODE/value` pairs (ING, Rabobank, ABN AMRO SEPA).
    SlashCodes,
    /// `?NN` subfields after a three-digit transaction code (German banks).
    QuestionMarkSubfields,
    /// `>NN` subfields after a three-digit code (Triodos).
    GreaterThanSubfields,
}

/// What could be recognised in the `:86:` information.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Information {
    /// Layout found.
    pub format: InformationFormat,
    /// Every code/subfield with its value in order: `("EREF", "...")` for
    /// slash codes, `("20", "...")` for subfields.
    pub fields: Vec<(String, String)>,
    /// Three-digit transaction code before `?`/`>` subfields (German GVC).
    pub transaction_code: Option<String>,
    /// SEPA end-to-end id: `/EREF/`, or `EREF+` in German purpose lines.
    pub end_to_end_id: Option<String>,
    /// SEPA mandate reference: `/MARF/`, or `MREF+`.
    pub mandate_reference: Option<String>,
    /// Creditor scheme id: `/CSID/`, or `CRED+`.
    pub creditor_id: Option<String>,
    /// Return/reject reason code: `/RTRN/` (e.g. `MS03`, `MD06`, `AC04`).
    pub return_reason: Option<String>,
    /// Counterparty name: `/NAME/`, the name part of `/BENM/`, `/ORDP/`,
    /// `/CNTP/`, `?32`+`?33`, or in free text `REK: <IBAN>/NAAM: <name>`
    /// (Knab) or the rest of a first line that starts with an IBAN (ASN/SNS).
    pub counterparty_name: Option<String>,
    /// Counterparty IBAN or account: `/IBAN/`, the first part of
    /// `/BENM/`/`/ORDP/`/`/CNTP/`, `?31`/`>31`, or an IBAN in free text as
    /// for the name.
    pub counterparty_account: Option<String>,
    /// Counterparty BIC: `/BIC/`, the second part of `/BENM/`/`/ORDP/`/
    /// `/CNTP/`, or `?30`.
    pub counterparty_bic: Option<String>,
    /// Free-text remittance information: `/REMI/` (`USTD` form or plain), or
    /// `SVWZ+`/the purpose lines `?20`..`?29`, `?60`..`?63`, or the whole
    /// text when unstructured.
    pub remittance: Option<String>,
    /// Structured payment reference (Dutch betalingskenmerk, RF reference):
    /// `/REMI/STRD/CUR/<ref>/`, or `BETALINGSKENM.` followed by digits in
    /// free text (older ABN AMRO).
    pub payment_reference: Option<String>,
    /// Issuer of the structured reference (`CUR` for a betalingskenmerk,
    /// `ISO` for RF).
    pub payment_reference_issuer: Option<String>,
    /// `/PURP/` purpose code.
    pub purpose: Option<String>,
    /// `/PREF/` payment information id of a batch.
    pub batch_reference: Option<String>,
    /// `/BUSP/` or `?00` booking text / business purpose.
    pub booking_text: Option<String>,
}

/// Codes recognised between slashes. Longer codes first where one is a
/// prefix of another does not matter, as the match is on `/CODE/` exactly.
const SLASH_CODES: &[&str] = &[
    "EREF", "MARF", "CSID", "RTRN", "BENM", "ORDP", "CNTP", "REMI", "PREF", "BUSP", "ISDT", "PURP",
    "IBAN", "BIC", "NAME", "ADDR", "TRTP", "ULTB", "ULTD", "ULTC", "SVCL", "RTYP", "FX", "CHGS",
    "BATCH", "NRTX", "PAYM", "INIT", "OCMT", "COAM", "TRCD", "CREF", "ID", "IREF", "RFRN", "MREF",
];

fn non_empty(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Recognises structure in `lines` (the `:86:` content lines).
pub(crate) fn recognise(lines: &[&str]) -> Information {
    let joined: String = lines.concat();
    let trimmed = joined.trim();
    let bytes = trimmed.as_bytes();
    if bytes.len() > 4
        && bytes[..3].iter().all(u8::is_ascii_digit)
        && (bytes[3] == b'?' || bytes[3] == b'>')
    {
        return subfields(trimmed, bytes[3] as char);
    }
    if let Some(info) = slash_codes(trimmed) {
        return info;
    }
    let free = lines
        .iter()
        .map(|l| l.trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    let mut info = Information {
        remittance: non_empty(&free),
        ..Information::default()
    };
    if let Some(reference) = betalingskenmerk(&free) {
        info.payment_reference = Some(reference);
        info.payment_reference_issuer = Some("CUR".to_owned());
    }
    free_text_counterparty(&mut info, &free);
    info
}

/// True for an IBAN-shaped token: two letters, two digits, 10..=30
/// letters or digits.
fn is_iban_like(token: &str) -> bool {
    let b = token.as_bytes();
    (14..=34).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric)
}

/// Counterparty in free text: Knab's `REK: <IBAN>/NAAM: <name>`, or ASN/SNS
/// style `<IBAN> <name>` on the first line.
fn free_text_counterparty(info: &mut Information, free: &str) {
    for line in free.lines() {
        if let Some(rest) = line.trim().strip_prefix("REK: ")
            && let Some((account, name)) = rest.split_once("/NAAM: ")
            && is_iban_like(account.trim())
        {
            info.counterparty_account = Some(account.trim().to_owned());
            info.counterparty_name = non_empty(name);
            return;
        }
    }
    let first = free.lines().next().unwrap_or("").trim();
    let (token, rest) = first.split_once(' ').unwrap_or((first, ""));
    if is_iban_like(token) {
        info.counterparty_account = Some(token.to_owned());
        info.counterparty_name = non_empty(rest);
    }
}

/// `BETALINGSKENM.  000000042188659` in older ABN AMRO free text.
fn betalingskenmerk(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    let at = upper.find("BETALINGSKENM")?;
    let rest = &text[at..];
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == '.' || c == ':');
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (7..=16).contains(&digits.len()).then_some(digits)
}

/// Finds `/CODE/` occurrences of known codes; `None` when the text does not
/// start with one.
fn slash_codes(text: &str) -> Option<Information> {
    let starts: Vec<(usize, &str)> = code_positions(text);
    if starts.first().map(|(at, _)| *at) != Some(0) {
        return None;
    }
    let mut info = Information {
        format: InformationFormat::SlashCodes,
        ..Information::default()
    };
    for (i, &(at, code)) in starts.iter().enumerate() {
        let value_start = at + code.len() + 2;
        let value_end = starts.get(i + 1).map_or(text.len(), |(next, _)| *next);
        let raw = text
            .get(value_start..value_end.max(value_start))
            .unwrap_or("");
        // One trailing `/` closes the field (`/EREF/abc//MARF/` -> `abc/`
        // up to the next code's slash); strip field separators.
        let value = raw.strip_suffix('/').unwrap_or(raw);
        apply_slash_code(&mut info, code, value);
        info.fields.push((code.to_owned(), value.to_owned()));
    }
    Some(info)
}

/// Positions of `/CODE/` for known codes, in order, non-overlapping.
fn code_positions(text: &str) -> Vec<(usize, &'static str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' {
            let rest = &text[i + 1..];
            if let Some(code) = SLASH_CODES.iter().find(|code| {
                rest.len() > code.len()
                    && rest.starts_with(**code)
                    && rest.as_bytes()[code.len()] == b'/'
            }) {
                out.push((i, *code));
                i += code.len() + 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn apply_slash_code(info: &mut Information, code: &str, value: &str) {
    let parts: Vec<&str> = value.split('/').collect();
    match code {
        "EREF" => info.end_to_end_id = non_empty(value),
        "MARF" | "MREF" => info.mandate_reference = non_empty(value),
        "CSID" => info.creditor_id = non_empty(value),
        "RTRN" => info.return_reason = non_empty(parts[0]),
        "PURP" => info.purpose = non_empty(value),
        "PREF" => info.batch_reference = non_empty(value),
        "BUSP" | "TRTP" => info.booking_text = non_empty(value),
        "NAME" => info.counterparty_name = non_empty(value),
        "IBAN" => info.counterparty_account = non_empty(value),
        "BIC" => info.counterparty_bic = non_empty(value),
        "BENM" | "ORDP" | "CNTP" => {
            // account/BIC/name/city; Rabobank writes `/BENM//NAME/...`.
            if let Some(account) = parts.first().and_then(|p| non_empty(p)) {
                info.counterparty_account = Some(account);
            }
            if let Some(bic) = parts.get(1).and_then(|p| non_empty(p)) {
                info.counterparty_bic = Some(bic);
            }
            if let Some(name) = parts.get(2).and_then(|p| non_empty(p)) {
                info.counterparty_name = Some(name);
            }
        }
        "REMI" => remittance(info, value, &parts),
        _ => {}
    }
}

/// `/REMI/USTD//text/`, `/REMI/STRD/CUR/ref/`, `/REMI///ref/` (ING IBP:
/// code/issuer/reference) or plain text (Rabobank).
fn remittance(info: &mut Information, value: &str, parts: &[&str]) {
    match parts {
        ["USTD", rest @ ..] => {
            info.remittance = non_empty(rest.join("/").trim_start_matches('/'));
        }
        ["STRD", issuer, reference @ ..] => {
            info.payment_reference = non_empty(&reference.join("/"));
            info.payment_reference_issuer = non_empty(issuer);
        }
        ["", issuer, reference] if !reference.is_empty() => {
            // ING IBP: /REMI/<code>/<issuer>/<reference>/ with an empty code;
            // the reference is free text unless an issuer is given.
            if issuer.is_empty() {
                info.remittance = non_empty(reference);
            } else {
                info.payment_reference = non_empty(reference);
                info.payment_reference_issuer = non_empty(issuer);
            }
        }
        _ => info.remittance = non_empty(value.trim_start_matches('/')),
    }
}

/// German `?NN` (or Triodos `>NN`) subfields after a three-digit code.
fn subfields(text: &str, separator: char) -> Information {
    let mut info = Information {
        format: if separator == '?' {
            InformationFormat::QuestionMarkSubfields
        } else {
            InformationFormat::GreaterThanSubfields
        },
        transaction_code: Some(text[..3].to_owned()),
        ..Information::default()
    };
    let mut purpose = String::new();
    let mut breaks: Vec<usize> = Vec::new();
    let mut name = String::new();
    for piece in text[4..].split(separator) {
        let (key, value) = if piece.len() >= 2 && piece.is_char_boundary(2) {
            piece.split_at(2)
        } else {
            (piece, "")
        };
        if !key.bytes().all(|b| b.is_ascii_digit()) {
            // Not a subfield key: a literal separator inside the text.
            if let Some((_, last)) = info.fields.last_mut() {
                last.push(separator);
                last.push_str(piece);
            }
            continue;
        }
        info.fields.push((key.to_owned(), value.to_owned()));
    }
    for (key, value) in &info.fields {
        match key.as_str() {
            "00" => info.booking_text = non_empty(value),
            "20" | "21" | "22" | "23" | "24" | "25" | "26" | "27" | "28" | "29" | "60" | "61"
            | "62" | "63" => {
                // A purpose line opening with a bank's own `MTLG:`-style
                // label ends the SEPA keyword value before it.
                let b = value.as_bytes();
                if b.len() > 5 && b[..4].iter().all(u8::is_ascii_uppercase) && b[4] == b':' {
                    breaks.push(purpose.len());
                }
                purpose.push_str(value);
            }
            "30" => info.counterparty_bic = non_empty(value),
            "31" => info.counterparty_account = non_empty(value),
            "32" | "33" => name.push_str(value),
            _ => {}
        }
    }
    info.counterparty_name = non_empty(&name);
    sepa_purpose(&mut info, &purpose, &breaks);
    info
}

/// Splits German SEPA purpose text on its `EREF+`, `MREF+`, `CRED+`,
/// `SVWZ+` ... keywords; without keywords the whole text is remittance.
/// `breaks` are the starts of purpose lines with a bank's own label (such
/// as `MTLG:`), which end a keyword value; that text is remittance when
/// there is no `SVWZ+`.
fn sepa_purpose(info: &mut Information, purpose: &str, breaks: &[usize]) {
    const KEYS: [&str; 10] = [
        "EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "COAM+", "OAMT+",
    ];
    let mut marks: Vec<(usize, &str)> = KEYS
        .iter()
        .flat_map(|key| purpose.match_indices(key))
        .collect();
    if marks.is_empty() {
        info.remittance = non_empty(purpose);
        return;
    }
    marks.extend(breaks.iter().map(|&at| (at, "")));
    marks.sort_unstable();
    marks.dedup_by_key(|m| m.0);
    let mut other: Vec<String> = Vec::new();
    if marks[0].0 > 0 {
        other.extend(non_empty(&purpose[..marks[0].0]));
    }
    let mut svwz = None;
    for (i, &(at, key)) in marks.iter().enumerate() {
        let end = marks.get(i + 1).map_or(purpose.len(), |(next, _)| *next);
        let value = non_empty(&purpose[at + key.len()..end.max(at + key.len())]);
        match key {
            "EREF+" => info.end_to_end_id = value,
            "MREF+" => info.mandate_reference = value,
            "CRED+" => info.creditor_id = value,
            "SVWZ+" => svwz = value,
            "" => other.extend(value),
            _ => {}
        }
    }
    info.remittance = svwz.or_else(|| non_empty(&other.join(" ")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ing_structured() {
        let info = recognise(&[
            "/RTRN/MS03//BUSP/Europese Incasso/eenmalig//BENM/NL50INGB00012345",
            "67/INGBNL2A/ING Bank N.V. inzake WeB///CSID/NL32ZZZ999999991234//",
            "MARF/EV45451//EREF/EV45451REP170112T1106//REMI///EV45451REP170112",
            "T1106/",
        ]);
        assert_eq!(info.format, InformationFormat::SlashCodes);
        assert_eq!(info.return_reason.as_deref(), Some("MS03"));
        assert_eq!(
            info.counterparty_account.as_deref(),
            Some("NL50INGB0001234567")
        );
        assert_eq!(info.counterparty_bic.as_deref(), Some("INGBNL2A"));
        assert_eq!(
            info.counterparty_name.as_deref(),
            Some("ING Bank N.V. inzake WeB")
        );
        assert_eq!(info.creditor_id.as_deref(), Some("NL32ZZZ999999991234"));
        assert_eq!(info.mandate_reference.as_deref(), Some("EV45451"));
        assert_eq!(info.end_to_end_id.as_deref(), Some("EV45451REP170112T1106"));
        assert_eq!(info.remittance.as_deref(), Some("EV45451REP170112T1106"));
        assert_eq!(
            info.booking_text.as_deref(),
            Some("Europese Incasso/eenmalig")
        );
    }

    #[test]
    fn ing_structured_remittance() {
        let info = recognise(&[
            "/EREF/E2E2014030100899040//CNTP/NL08INGB0000001234/INGBNL2A/ING T",
            "estrekening/AMSTERDAM//REMI/STRD/CUR/5200150700013379/",
        ]);
        assert_eq!(info.payment_reference.as_deref(), Some("5200150700013379"));
        assert_eq!(info.payment_reference_issuer.as_deref(), Some("CUR"));
        assert_eq!(info.counterparty_name.as_deref(), Some("ING Testrekening"));
        let info = recognise(&["/PREF/PMTINFID1401038//REMI/USTD//TOTAAL 2 VZ/"]);
        assert_eq!(info.batch_reference.as_deref(), Some("PMTINFID1401038"));
        assert_eq!(info.remittance.as_deref(), Some("TOTAAL 2 VZ"));
    }

    #[test]
    fn rabobank_iban_format() {
        let info = recognise(&["/BENM//NAME/JOHN DOE/REMI/Reference 201301234/ISDT/2013-01-02"]);
        assert_eq!(info.counterparty_name.as_deref(), Some("JOHN DOE"));
        assert_eq!(info.remittance.as_deref(), Some("Reference 201301234"));
    }

    #[test]
    fn german_subfields() {
        let info = recognise(&[
            "159?00RETOURE?100399?20EREF+TFNR 40005 00005?21MTLG:Grund nicht s",
            "pezifizie?22rt Reject aus SEPA-Ueberwei?23sungsauftrag?34914",
        ]);
        assert_eq!(info.format, InformationFormat::QuestionMarkSubfields);
        assert_eq!(info.transaction_code.as_deref(), Some("159"));
        assert_eq!(info.booking_text.as_deref(), Some("RETOURE"));
        assert_eq!(info.end_to_end_id.as_deref(), Some("TFNR 40005 00005"));
        assert_eq!(
            info.remittance.as_deref(),
            Some("MTLG:Grund nicht spezifiziert Reject aus SEPA-Ueberweisungsauftrag")
        );
        // A keyword value continues over purpose lines.
        let info = recognise(&[
            "166?00GUTSCHRIFT?100399?20EREF+EndToEndIdTFNR52001000?2101?22SVWZ+Keine Buchung zu: TO13",
            "?23 TF52001 MINT?30PBNKDEFF100?31DE42100100100043921105?32Richter Renate",
        ]);
        assert_eq!(
            info.end_to_end_id.as_deref(),
            Some("EndToEndIdTFNR5200100001")
        );
        assert_eq!(
            info.remittance.as_deref(),
            Some("Keine Buchung zu: TO13 TF52001 MINT")
        );
        assert_eq!(info.counterparty_name.as_deref(), Some("Richter Renate"));
    }

    #[test]
    fn triodos_subfields_and_abn_betalingskenmerk() {
        let info = recognise(&["000>100987654321", ">20 HUUR>21 KANTOOR - FEB 2010"]);
        assert_eq!(info.format, InformationFormat::GreaterThanSubfields);
        assert_eq!(info.remittance.as_deref(), Some("HUUR KANTOOR - FEB 2010"));
        let info = recognise(&[
            "GIRO   428428 KPN - DIGITENNE    BETALINGSKENM.  000000042188659",
            "5314606715                       BETREFT FACTUUR D.D. 20-05-2011",
        ]);
        assert_eq!(info.format, InformationFormat::Unstructured);
        assert_eq!(info.payment_reference.as_deref(), Some("000000042188659"));
        assert_eq!(info.counterparty_account, None);
    }

    #[test]
    fn free_text_counterparties() {
        let info = recognise(&[
            "FACTUUR 201403110, 201403113",
            "REK: NL65INGB0123456789/NAAM: PICQER",
        ]);
        assert_eq!(
            info.counterparty_account.as_deref(),
            Some("NL65INGB0123456789")
        );
        assert_eq!(info.counterparty_name.as_deref(), Some("PICQER"));
        let info = recognise(&[
            "NL47INGB9999999999 hr gjlm paulissen",
            "",
            "Betaling sieraden",
        ]);
        assert_eq!(
            info.counterparty_account.as_deref(),
            Some("NL47INGB9999999999")
        );
        assert_eq!(info.counterparty_name.as_deref(), Some("hr gjlm paulissen"));
        assert_eq!(
            info.remittance.as_deref(),
            Some("NL47INGB9999999999 hr gjlm paulissen\n\nBetaling sieraden")
        );
        let info = recognise(&["0111111111 GPSEOUL SPOEDBETALING"]);
        assert_eq!(info.counterparty_account, None);
    }
}
