//! Building and parsing the EPC069-12 payload.

use crate::charset::Charset;
use crate::error::{Error, Field};

/// Maximum payload size in bytes, after character encoding.
pub const MAX_PAYLOAD_BYTES: usize = 331;

/// Largest amount in cents (EUR 999 999 999.99).
pub const MAX_AMOUNT_CENTS: u64 = 99_999_999_999;

/// The payload version (element 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// `001`: the BIC is mandatory.
    V001,
    /// `002`: the BIC may be left empty (payments inside the EEA).
    #[default]
    V002,
}

impl Version {
    fn text(self) -> &'static str {
        match self {
            Version::V001 => "001",
            Version::V002 => "002",
        }
    }
}

/// Remittance information: element 10 (structured) or 11 (unstructured),
/// never both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remittance {
    /// A creditor reference, ≤ 35 characters; one starting with `RF` and
    /// two digits is checked as ISO 11649.
    Structured(String),
    /// Free text, ≤ 140 characters.
    Unstructured(String),
}

/// The data of one EPC QR code (a SEPA credit transfer pre-fill).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub version: Version,
    pub charset: Charset,
    /// Element 5: BIC (8 or 11); mandatory in version 001.
    pub bic: Option<String>,
    /// Element 6: ≤ 70 characters.
    pub name: String,
    /// Element 7: IBAN (electronic format, ≤ 34, mod 97 checked).
    pub iban: String,
    /// Element 8: cents, 1 ..= 99 999 999 999.
    pub amount_cents: Option<u64>,
    /// Element 9: ISO 20022 external purpose code, 4 characters (`CHAR`, `GDDS`).
    pub purpose: Option<String>,
    /// Elements 10 / 11.
    pub remittance: Option<Remittance>,
    /// Element 12: beneficiary to originator information, ≤ 70.
    pub information: Option<String>,
}

/// Writes an amount as the payload does: `EUR`, the euros, and the cents
/// with trailing zeros dropped (`1230` → `EUR12.3`, `2000` → `EUR20`,
/// `1305` → `EUR13.05`), as the EPC examples and segno write it.
pub fn format_amount(cents: u64) -> String {
    let (euros, rest) = (cents / 100, cents % 100);
    match rest {
        0 => format!("EUR{euros}"),
        r if r % 10 == 0 => format!("EUR{euros}.{}", r / 10),
        r => format!("EUR{euros}.{r:02}"),
    }
}

/// Reads an amount: `EUR` followed by digits, optionally `.` and one or
/// two decimals; `EUR12.30`, `EUR12.3` and `EUR12.` are all read.
pub fn parse_amount(text: &str) -> Result<u64, Error> {
    let invalid = || Error::Invalid {
        field: Field::Amount,
        value: text.to_owned(),
    };
    let number = text.strip_prefix("EUR").ok_or_else(invalid)?;
    let (units, frac) = number.split_once('.').unwrap_or((number, ""));
    if units.is_empty()
        || units.len() > 9
        || frac.len() > 2
        || !units
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let euros: u64 = units.parse().map_err(|_| invalid())?;
    let cents: u64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u64>().map_err(|_| invalid())? * 10,
        _ => frac.parse().map_err(|_| invalid())?,
    };
    let total = euros * 100 + cents;
    if total == 0 || total > MAX_AMOUNT_CENTS {
        return Err(Error::AmountOutOfRange { cents: total });
    }
    Ok(total)
}

fn check_text(field: Field, value: &str, max: usize) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::Missing(field));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::Control { field });
    }
    let len = value.chars().count();
    if len > max {
        return Err(Error::TooLong { field, len, max });
    }
    Ok(())
}

fn mod97(bytes: impl Iterator<Item = u8>) -> Option<u32> {
    let mut rem = 0u32;
    for b in bytes {
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(b - b'A') + 10) % 97,
            _ => return None,
        };
    }
    Some(rem)
}

fn check_iban(iban: &str) -> Result<(), Error> {
    let b = iban.as_bytes();
    let ok = (15..=34).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && mod97(b[4..].iter().chain(&b[..4]).copied()) == Some(1);
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: Field::Iban,
            value: iban.to_owned(),
        })
    }
}

/// ISO 9362 structure: `[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?`.
fn check_bic(bic: &str) -> Result<(), Error> {
    let b = bic.as_bytes();
    let ok = (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && (b[6].is_ascii_uppercase() || (b'2'..=b'9').contains(&b[6]))
        && ((b[7].is_ascii_uppercase() && b[7] != b'O') || b[7].is_ascii_digit())
        && b[8..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: Field::Bic,
            value: bic.to_owned(),
        })
    }
}

fn check_purpose(purpose: &str) -> Result<(), Error> {
    if purpose.len() == 4
        && purpose
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: Field::Purpose,
            value: purpose.to_owned(),
        })
    }
}

fn check_reference(reference: &str) -> Result<(), Error> {
    check_text(Field::StructuredReference, reference, 35)?;
    let b = reference.as_bytes();
    let is_rf = b.len() >= 4 && &b[..2] == b"RF" && b[2..4].iter().all(u8::is_ascii_digit);
    if is_rf && !(b.len() <= 25 && mod97(b[4..].iter().chain(&b[..4]).copied()) == Some(1)) {
        return Err(Error::Invalid {
            field: Field::StructuredReference,
            value: reference.to_owned(),
        });
    }
    Ok(())
}

impl Payment {
    /// Checks every element (presence, lengths, formats, the BIC rule of
    /// version 001) except the encoding and the payload size, which
    /// [`build`] checks.
    pub fn check(&self) -> Result<(), Error> {
        match (&self.bic, self.version) {
            (Some(bic), _) => check_bic(bic)?,
            (None, Version::V001) => return Err(Error::BicRequired),
            (None, Version::V002) => {}
        }
        check_text(Field::Name, &self.name, 70)?;
        check_iban(&self.iban)?;
        if let Some(cents) = self.amount_cents
            && (cents == 0 || cents > MAX_AMOUNT_CENTS)
        {
            return Err(Error::AmountOutOfRange { cents });
        }
        if let Some(purpose) = &self.purpose {
            check_purpose(purpose)?;
        }
        match &self.remittance {
            None => {}
            Some(Remittance::Structured(r)) => check_reference(r)?,
            Some(Remittance::Unstructured(t)) => check_text(Field::UnstructuredRemittance, t, 140)?,
        }
        if let Some(info) = &self.information {
            check_text(Field::Information, info, 70)?;
        }
        Ok(())
    }
}

/// Builds the payload bytes: the 12 elements separated by LF, empty
/// optional elements as empty lines, nothing after the last element
/// present, text encoded in `payment.charset`, at most 331 bytes.
pub fn build(payment: &Payment) -> Result<Vec<u8>, Error> {
    payment.check()?;
    let amount = payment.amount_cents.map(format_amount);
    let (structured, unstructured) = match &payment.remittance {
        None => (None, None),
        Some(Remittance::Structured(r)) => (Some(r.as_str()), None),
        Some(Remittance::Unstructured(t)) => (None, Some(t.as_str())),
    };
    let charset = payment.charset.code().to_string();
    let elements: [(Field, Option<&str>); 12] = [
        (Field::ServiceTag, Some("BCD")),
        (Field::Version, Some(payment.version.text())),
        (Field::CharacterSet, Some(&charset)),
        (Field::Identification, Some("SCT")),
        (Field::Bic, payment.bic.as_deref()),
        (Field::Name, Some(&payment.name)),
        (Field::Iban, Some(&payment.iban)),
        (Field::Amount, amount.as_deref()),
        (Field::Purpose, payment.purpose.as_deref()),
        (Field::StructuredReference, structured),
        (Field::UnstructuredRemittance, unstructured),
        (Field::Information, payment.information.as_deref()),
    ];
    let last = elements.iter().rposition(|(_, v)| v.is_some()).unwrap_or(0);
    let mut out = Vec::with_capacity(MAX_PAYLOAD_BYTES);
    for (i, (field, value)) in elements.iter().take(last + 1).enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        for c in value.unwrap_or("").chars() {
            if !payment.charset.encode_char(c, &mut out) {
                return Err(Error::Unencodable {
                    field: *field,
                    ch: c,
                    charset: payment.charset.code(),
                });
            }
        }
    }
    if out.len() > MAX_PAYLOAD_BYTES {
        return Err(Error::PayloadTooLong { len: out.len() });
    }
    Ok(out)
}

/// Parses payload bytes into a [`Payment`] and checks it like [`build`].
///
/// Lines may be separated by LF or CR LF; one trailing separator is
/// tolerated (the builder never writes one). Refused: a payload over 331
/// bytes, a wrong service tag, version, character set or identification,
/// more than 12 elements, bytes invalid in the declared character set,
/// both remittance forms, and every element check of [`Payment::check`].
pub fn parse(bytes: &[u8]) -> Result<Payment, Error> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(Error::PayloadTooLong { len: bytes.len() });
    }
    // The header is ASCII in every set: read the character set first.
    let header_field = |i: usize, field: Field| -> Result<&[u8], Error> {
        bytes
            .split(|b| *b == b'\n')
            .nth(i)
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .ok_or(Error::Missing(field))
    };
    let code = header_field(2, Field::CharacterSet)?;
    let charset = match code {
        [d] => Charset::from_code(d.wrapping_sub(b'0')),
        _ => None,
    }
    .ok_or_else(|| Error::Invalid {
        field: Field::CharacterSet,
        value: String::from_utf8_lossy(code).into_owned(),
    })?;
    let text = charset.decode(bytes).ok_or(Error::Decode {
        charset: charset.code(),
    })?;
    let body = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    let lines: Vec<&str> = body
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if lines.len() > 12 {
        return Err(Error::TooManyElements);
    }
    let line = |i: usize| lines.get(i).copied().unwrap_or("");
    let opt = |i: usize| Some(line(i)).filter(|l| !l.is_empty()).map(str::to_owned);
    let expect = |i: usize, field: Field, allowed: &[&str]| -> Result<(), Error> {
        if allowed.contains(&line(i)) {
            Ok(())
        } else if line(i).is_empty() {
            Err(Error::Missing(field))
        } else {
            Err(Error::Invalid {
                field,
                value: line(i).to_owned(),
            })
        }
    };
    expect(0, Field::ServiceTag, &["BCD"])?;
    expect(1, Field::Version, &["001", "002"])?;
    expect(3, Field::Identification, &["SCT"])?;
    let version = if line(1) == "001" {
        Version::V001
    } else {
        Version::V002
    };
    let amount_cents = match line(7) {
        "" => None,
        a => Some(parse_amount(a)?),
    };
    let remittance = match (opt(9), opt(10)) {
        (Some(_), Some(_)) => return Err(Error::BothReferences),
        (Some(r), None) => Some(Remittance::Structured(r)),
        (None, Some(t)) => Some(Remittance::Unstructured(t)),
        (None, None) => None,
    };
    let payment = Payment {
        version,
        charset,
        bic: opt(4),
        name: line(5).to_owned(),
        iban: line(6).to_owned(),
        amount_cents,
        purpose: opt(8),
        remittance,
        information: opt(11),
    };
    payment.check()?;
    Ok(payment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        for (cents, text) in [
            (1230, "EUR12.3"),
            (2000, "EUR20"),
            (1305, "EUR13.05"),
            (1, "EUR0.01"),
            (100, "EUR1"),
            (MAX_AMOUNT_CENTS, "EUR999999999.99"),
        ] {
            assert_eq!(format_amount(cents), text);
            assert_eq!(parse_amount(text), Ok(cents));
        }
        assert_eq!(parse_amount("EUR12.30"), Ok(1230));
        assert_eq!(
            parse_amount("EUR0"),
            Err(Error::AmountOutOfRange { cents: 0 })
        );
        for bad in [
            "12.30",
            "EUR",
            "EUR.5",
            "EUR1.234",
            "EUR1,23",
            "EUR1000000000",
            "EUR-1",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
    }
}
