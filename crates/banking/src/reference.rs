//! Structured payment references: the Dutch betalingskenmerk (Betaalvereniging specification),
//! the Belgian OGM/VCS (gestructureerde mededeling) and the ISO 11649 RF creditor reference.
//! Each is parsed once into a type with a private field; `PaymentReference::parse_any` detects
//! the kind.

use std::fmt;

/// Why a string is not a valid payment reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("payment reference {0:?} has invalid characters")]
    Characters(String),
    #[error("payment reference {0:?} has an invalid length")]
    Length(String),
    #[error("payment reference {0:?} has a wrong length code")]
    LengthCode(String),
    #[error("payment reference {0:?} fails its check digits")]
    CheckDigits(String),
    #[error("number {0} does not fit in the reference")]
    NumberTooLarge(u64),
    #[error("payment reference {0:?} is not a betalingskenmerk, OGM or RF reference")]
    Unrecognised(String),
}

/// Betalingskenmerk weights, applied from the rightmost digit leftwards, repeating.
const BETALINGSKENMERK_WEIGHTS: [u32; 10] = [2, 4, 8, 5, 10, 9, 7, 3, 6, 1];

/// The check digit over `digits` (everything to the right of the check digit): 11 − (Σ digit ×
/// weight mod 11), with 10 → 1 and 11 → 0.
fn betalingskenmerk_check(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .zip(BETALINGSKENMERK_WEIGHTS.iter().cycle())
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    match 11 - sum % 11 {
        10 => 1,
        11 => 0,
        c => u8::try_from(c).unwrap_or(0),
    }
}

/// A Dutch betalingskenmerk: 7, 9–14 or 16 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Betalingskenmerk(String);

impl Betalingskenmerk {
    /// Parses a betalingskenmerk; spaces and dots (`5000 0567 8901 2345`, `5010.0021.6701.0010`)
    /// are ignored.
    pub fn parse(s: &str) -> Result<Betalingskenmerk, ReferenceError> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '.')
            .collect();
        let b = t.as_bytes();
        if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
            return Err(ReferenceError::Characters(s.trim().to_string()));
        }
        match b.len() {
            7 => {}
            9..=14 => {
                let following = b.len() - 2;
                if usize::from(b[1] - b'0') != following % 10 {
                    return Err(ReferenceError::LengthCode(t));
                }
                if betalingskenmerk_check(&b[1..]) != b[0] - b'0' {
                    return Err(ReferenceError::CheckDigits(t));
                }
            }
            16 => {
                if betalingskenmerk_check(&b[1..]) != b[0] - b'0' {
                    return Err(ReferenceError::CheckDigits(t));
                }
            }
            _ => return Err(ReferenceError::Length(t)),
        }
        Ok(Betalingskenmerk(t))
    }

    /// The 16-digit form for `number` (at most 15 digits): check digit + 15 digits.
    pub fn generate(number: u64) -> Result<Betalingskenmerk, ReferenceError> {
        Betalingskenmerk::generate_with_length(number, 16)
    }

    /// A betalingskenmerk of `length` digits (7, 9–14 or 16) for `number`. Length 7 has no check
    /// digit; 9–14 carry check digit + length code + number; 16 carries check digit + number.
    pub fn generate_with_length(
        number: u64,
        length: usize,
    ) -> Result<Betalingskenmerk, ReferenceError> {
        let body_digits = match length {
            7 => 7,
            9..=14 => length - 2,
            16 => 15,
            _ => return Err(ReferenceError::Length(format!("{length} digits"))),
        };
        let body = format!("{number:0body_digits$}");
        if body.len() > body_digits {
            return Err(ReferenceError::NumberTooLarge(number));
        }
        let text = match length {
            7 => body,
            16 => format!("{}{body}", betalingskenmerk_check(body.as_bytes())),
            _ => {
                let with_length = format!("{}{body}", body_digits % 10);
                format!(
                    "{}{with_length}",
                    betalingskenmerk_check(with_length.as_bytes())
                )
            }
        };
        Betalingskenmerk::parse(&text)
    }

    /// The digits without separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Betalingskenmerk {
    /// 16 digits in groups of four; other lengths as they are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Betalingskenmerk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Betalingskenmerk({})", self.0)
    }
}

/// A Belgian structured communication (OGM/VCS): 10 digits plus 2 check digits
/// (first 10 digits mod 97, with 0 written as 97).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ogm(String);

fn ogm_check(first_ten: u64) -> u64 {
    match first_ten % 97 {
        0 => 97,
        r => r,
    }
}

impl Ogm {
    /// Parses `+++ddd/dddd/ddddd+++`, `***ddd/dddd/ddddd***` or the 12 digits alone (spaces,
    /// slashes and the `+`/`*` wrappers are ignored).
    pub fn parse(s: &str) -> Result<Ogm, ReferenceError> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '+' | '*' | '/'))
            .collect();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReferenceError::Characters(s.trim().to_string()));
        }
        if t.len() != 12 {
            return Err(ReferenceError::Length(t));
        }
        let first_ten: u64 = t[..10]
            .parse()
            .map_err(|_| ReferenceError::Characters(t.clone()))?;
        let check: u64 = t[10..]
            .parse()
            .map_err(|_| ReferenceError::Characters(t.clone()))?;
        if ogm_check(first_ten) != check {
            return Err(ReferenceError::CheckDigits(t));
        }
        Ok(Ogm(t))
    }

    /// The OGM for `number` (at most 10 digits).
    pub fn generate(number: u64) -> Result<Ogm, ReferenceError> {
        if number > 9_999_999_999 {
            return Err(ReferenceError::NumberTooLarge(number));
        }
        Ogm::parse(&format!("{number:010}{:02}", ogm_check(number)))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The printed form `+++ddd/dddd/ddddd+++`.
    pub fn formatted(&self) -> String {
        format!("+++{}/{}/{}+++", &self.0[..3], &self.0[3..7], &self.0[7..])
    }
}

impl fmt::Display for Ogm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

impl fmt::Debug for Ogm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ogm({})", self.formatted())
    }
}

/// An ISO 11649 creditor reference: `RF`, two check digits, 1 to 21 letters or digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CreditorReference(String);

impl CreditorReference {
    /// Parses an RF reference (case-insensitive, spaces ignored).
    pub fn parse(s: &str) -> Result<CreditorReference, ReferenceError> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let b = t.as_bytes();
        if !t.starts_with("RF")
            || !b.iter().all(u8::is_ascii_alphanumeric)
            || b.len() < 3
            || !b[2..4.min(b.len())].iter().all(u8::is_ascii_digit)
        {
            return Err(ReferenceError::Characters(s.trim().to_string()));
        }
        if b.len() < 5 || b.len() > 25 {
            return Err(ReferenceError::Length(t));
        }
        let rearranged = format!("{}{}", &t[4..], &t[..4]);
        if crate::mod97(&rearranged) != Some(1) {
            return Err(ReferenceError::CheckDigits(t));
        }
        Ok(CreditorReference(t))
    }

    /// The RF reference for `reference` (1 to 21 letters or digits; spaces ignored):
    /// check digits = 98 − (reference + "RF00" mod 97).
    pub fn generate(reference: &str) -> Result<CreditorReference, ReferenceError> {
        let body: String = reference
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if body.is_empty() || body.len() > 21 {
            return Err(ReferenceError::Length(body));
        }
        if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ReferenceError::Characters(body));
        }
        let remainder = crate::mod97(&format!("{body}RF00"))
            .ok_or_else(|| ReferenceError::Characters(body.clone()))?;
        CreditorReference::parse(&format!("RF{:02}{body}", 98 - remainder))
    }

    /// Electronic form without spaces: `RF18539007547034`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Paper form in groups of four: `RF18 5390 0754 7034`.
    pub fn to_paper(&self) -> String {
        let mut out = String::with_capacity(self.0.len() + self.0.len() / 4);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Display for CreditorReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CreditorReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CreditorReference({})", self.0)
    }
}

/// Any structured payment reference incasso understands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PaymentReference {
    Betalingskenmerk(Betalingskenmerk),
    Ogm(Ogm),
    Rf(CreditorReference),
}

impl PaymentReference {
    /// Detects the kind and validates it.
    ///
    /// Detection order: a value starting with `RF` is an RF reference; one with `+++`, `***` or
    /// `/` is an OGM; plain digits are a betalingskenmerk, except that 12 digits that fail as a
    /// betalingskenmerk are tried as an OGM (12 digits are valid lengths of both).
    pub fn parse_any(s: &str) -> Result<PaymentReference, ReferenceError> {
        let t = s.trim();
        if t.len() >= 2 && t[..2].eq_ignore_ascii_case("RF") {
            return CreditorReference::parse(t).map(PaymentReference::Rf);
        }
        if t.contains("+++") || t.contains("***") || t.contains('/') {
            return Ogm::parse(t).map(PaymentReference::Ogm);
        }
        let digits: String = t
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '.')
            .collect();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReferenceError::Unrecognised(t.to_string()));
        }
        match Betalingskenmerk::parse(&digits) {
            Ok(b) => Ok(PaymentReference::Betalingskenmerk(b)),
            Err(e) if digits.len() == 12 => Ogm::parse(&digits)
                .map(PaymentReference::Ogm)
                .map_err(|_| e),
            Err(e) => Err(e),
        }
    }

    /// `"betalingskenmerk"`, `"ogm"` or `"rf"`.
    pub fn kind(&self) -> &'static str {
        match self {
            PaymentReference::Betalingskenmerk(_) => "betalingskenmerk",
            PaymentReference::Ogm(_) => "ogm",
            PaymentReference::Rf(_) => "rf",
        }
    }
}

impl fmt::Display for PaymentReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaymentReference::Betalingskenmerk(b) => b.fmt(f),
            PaymentReference::Ogm(o) => o.fmt(f),
            PaymentReference::Rf(r) => r.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn betalingskenmerk_betaalvereniging_spec() {
        // RULES.md §10.6 and §8.1.
        for valid in [
            "5000056789012345",
            "12234534622567",
            "5010002167010010",
            "1808980197629000",
            "0001041146910100",
            "5010.0021.6701.0010",
            "5000 0567 8901 2345",
            "1234567",
        ] {
            assert!(Betalingskenmerk::parse(valid).is_ok(), "{valid}");
        }
        assert!(matches!(
            Betalingskenmerk::parse("4000056789012345"),
            Err(ReferenceError::CheckDigits(_))
        ));
        assert!(matches!(
            Betalingskenmerk::parse("12345678"),
            Err(ReferenceError::Length(_))
        ));
        assert!(matches!(
            Betalingskenmerk::parse("123456789012345"),
            Err(ReferenceError::Length(_))
        ));
        assert!(matches!(
            Betalingskenmerk::parse("13234534622567"),
            Err(ReferenceError::LengthCode(_))
        ));
        assert!(matches!(
            Betalingskenmerk::parse("12a4567"),
            Err(ReferenceError::Characters(_))
        ));
    }

    #[test]
    fn betalingskenmerk_generation_round_trips_at_every_length() {
        assert_eq!(
            Betalingskenmerk::generate(56_789_012_345).unwrap().as_str(),
            "5000056789012345"
        );
        assert_eq!(
            Betalingskenmerk::generate_with_length(234_534_622_567, 14)
                .unwrap()
                .as_str(),
            "12234534622567"
        );
        for length in [7, 9, 10, 11, 12, 13, 14, 16] {
            let b = Betalingskenmerk::generate_with_length(12345, length).unwrap();
            assert_eq!(b.as_str().len(), length);
            assert!(Betalingskenmerk::parse(b.as_str()).is_ok());
        }
        assert!(Betalingskenmerk::generate_with_length(12345, 8).is_err());
        assert_eq!(
            Betalingskenmerk::generate_with_length(12_345_678, 9),
            Err(ReferenceError::NumberTooLarge(12_345_678))
        );
    }

    #[test]
    fn ogm_vcs_mod_97() {
        for valid in [
            "+++090/9337/55493+++",
            "+++090/9337/55897+++",
            "***000/0119/69897***",
            "090933755493",
        ] {
            assert!(Ogm::parse(valid).is_ok(), "{valid}");
        }
        assert!(matches!(
            Ogm::parse("+++090/9337/55492+++"),
            Err(ReferenceError::CheckDigits(_))
        ));
        assert_eq!(
            Ogm::generate(909_337_554).unwrap().formatted(),
            "+++090/9337/55493+++"
        );
        assert_eq!(
            Ogm::generate(909_337_558).unwrap().formatted(),
            "+++090/9337/55897+++"
        );
        assert!(Ogm::generate(10_000_000_000).is_err());
    }

    #[test]
    fn iso_11649_rf() {
        assert_eq!(
            CreditorReference::generate("12345 12345").unwrap().as_str(),
            "RF451234512345"
        );
        assert_eq!(
            CreditorReference::generate("AB2G5").unwrap().as_str(),
            "RF68AB2G5"
        );
        assert_eq!(
            CreditorReference::generate("AB2G5 9X56 V543")
                .unwrap()
                .as_str(),
            "RF19AB2G59X56V543"
        );
        assert_eq!(
            CreditorReference::generate("539007547034")
                .unwrap()
                .to_paper(),
            "RF18 5390 0754 7034"
        );
        assert!(CreditorReference::parse("RF4714508655422864").is_ok());
        assert!(matches!(
            CreditorReference::parse("RF71 4567 89"),
            Err(ReferenceError::CheckDigits(_))
        ));
        assert!(CreditorReference::generate("1234567890123456789012").is_err());
    }

    #[test]
    fn parse_any_detects_the_kind() {
        let kind = |s: &str| PaymentReference::parse_any(s).map(|r| r.kind());
        assert_eq!(kind("5000056789012345"), Ok("betalingskenmerk"));
        assert_eq!(kind("+++090/9337/55493+++"), Ok("ogm"));
        assert_eq!(kind("090933755493"), Ok("ogm"));
        assert_eq!(kind("rf18 5390 0754 7034"), Ok("rf"));
        assert!(kind("hello").is_err());
        assert!(kind("4000056789012345").is_err());
    }
}
