//! International Bank Account Number (ISO 13616): checksum, per-country length and BBAN
//! structure (SWIFT IBAN registry), and national check digits where incasso verifies them.

use std::fmt;

use crate::bban::BbanCheck;

/// Why a string is not an IBAN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IbanError {
    #[error("IBAN {0:?} has invalid characters or structure")]
    Format(String),
    #[error("IBAN {0:?} has an unknown country code")]
    UnknownCountry(String),
    #[error("IBAN {0:?} has the wrong length for its country")]
    Length(String),
    #[error("IBAN {0:?} fails the check digits (mod 97)")]
    Checksum(String),
}

/// A valid IBAN in electronic form (upper case, no spaces).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Iban(String);

/// IBAN lengths per country (SWIFT IBAN registry).
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

impl Iban {
    /// Parses an IBAN in paper form (`NL91 ABNA 0417 1643 00`) or electronic form.
    pub fn parse(s: &str) -> Result<Iban, IbanError> {
        let compact: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != '.')
            .collect::<String>()
            .to_ascii_uppercase();
        let b = compact.as_bytes();
        if b.len() < 5
            || !b[..2].iter().all(u8::is_ascii_uppercase)
            || !b[2..4].iter().all(u8::is_ascii_digit)
            || !b
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(IbanError::Format(s.trim().to_string()));
        }
        let country = &compact[..2];
        let expected = LENGTHS
            .iter()
            .find(|(c, _)| *c == country)
            .map(|(_, l)| *l)
            .ok_or_else(|| IbanError::UnknownCountry(s.trim().to_string()))?;
        if compact.len() != expected {
            return Err(IbanError::Length(s.trim().to_string()));
        }
        // ISO 13616 check digits are 02 to 98.
        if matches!(&compact[2..4], "00" | "01" | "99") {
            return Err(IbanError::Checksum(s.trim().to_string()));
        }
        let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
        if crate::mod97(&rearranged) != Some(1) {
            return Err(IbanError::Checksum(s.trim().to_string()));
        }
        match crate::bban::check_bban(country, &compact[4..]) {
            // Countries in the length table but not in the registry table keep the length check.
            BbanCheck::Valid | BbanCheck::UnknownCountry => {}
            BbanCheck::WrongLength => return Err(IbanError::Length(s.trim().to_string())),
            BbanCheck::WrongFormat => return Err(IbanError::Format(s.trim().to_string())),
            BbanCheck::NationalCheck => return Err(IbanError::Checksum(s.trim().to_string())),
        }
        Ok(Iban(compact))
    }

    /// Electronic form: `NL91ABNA0417164300`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-letter country code.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// Paper form in groups of four: `NL91 ABNA 0417 1643 00`.
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

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iban({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paper_and_electronic_forms() {
        let a = Iban::parse("NL91 ABNA 0417 1643 00").unwrap();
        assert_eq!(a.as_str(), "NL91ABNA0417164300");
        assert_eq!(a.to_paper(), "NL91 ABNA 0417 1643 00");
        assert_eq!(Iban::parse("be68539007547034").unwrap().country(), "BE");
    }

    #[test]
    fn refuses_bad_ibans() {
        assert!(matches!(
            Iban::parse("NL91ABNA0417164301"),
            Err(IbanError::Checksum(_))
        ));
        assert!(matches!(
            Iban::parse("NL91ABNA041716430"),
            Err(IbanError::Length(_))
        ));
        assert!(matches!(
            Iban::parse("ZZ91ABNA0417164300"),
            Err(IbanError::UnknownCountry(_))
        ));
        assert!(matches!(
            Iban::parse("NL9!ABNA0417164300"),
            Err(IbanError::Format(_))
        ));
    }
}
