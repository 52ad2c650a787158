//! Small value types with invariants: e-mail address, invoice number, KvK/VAT numbers, phone
//! numbers, country codes and tags. Each is parsed once; holding one means it is valid.

use std::fmt;

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("invalid e-mail address {0:?}")]
    Email(String),
    #[error("invalid invoice number {0:?}: expected 1 to 64 printable characters")]
    InvoiceNumber(String),
    #[error("invalid debtor number {0:?}: expected 1 to 64 printable characters")]
    DebtorNumber(String),
    #[error(
        "invalid VAT number {0:?}: expected a country prefix and 2 to 13 letters or digits, such as NL123456789B01"
    )]
    VatNumber(String),
    #[error(
        "invalid registration number {0:?}: expected 4 to 20 letters or digits (KvK: 8 digits, BE enterprise number: 10 digits)"
    )]
    RegistrationNumber(String),
    #[error("invalid phone number {0:?}: expected digits with an optional leading +")]
    Phone(String),
    #[error("invalid country code {0:?}: expected two letters such as NL or BE")]
    Country(String),
    #[error("invalid tag {0:?}: expected 1 to 40 letters, digits, '-' or '_'")]
    Tag(String),
}

fn printable(s: &str, max: usize) -> bool {
    !s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
}

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

string_value!(
    /// An e-mail address (syntax checked: one `@`, a local part, a domain with a dot).
    EmailAddress
);
string_value!(
    /// An invoice or credit-note number, unique per creditor.
    InvoiceNumber
);
string_value!(
    /// The creditor's own customer number for a debtor.
    DebtorNumber
);
string_value!(
    /// A VAT identification number, upper case without spaces or dots (`NL123456789B01`, `BE0123456789`).
    VatNumber
);
string_value!(
    /// A chamber-of-commerce or enterprise registration number (KvK, KBO/BCE), digits and letters only.
    RegistrationNumber
);
string_value!(
    /// A phone number with only digits and an optional leading `+`.
    PhoneNumber
);
string_value!(
    /// A free label on a debtor used by policies (`key-account`, `risk-high`).
    Tag
);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<EmailAddress, ValueError> {
        let t = s.trim();
        let err = || ValueError::Email(t.to_string());
        let (local, domain) = t.split_once('@').ok_or_else(err)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && domain.len() <= 253
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@')
            && t.chars().all(|c| {
                c.is_ascii_graphic() || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
            })
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if ok {
            Ok(EmailAddress(t.to_string()))
        } else {
            Err(err())
        }
    }
}

impl InvoiceNumber {
    pub fn parse(s: &str) -> Result<InvoiceNumber, ValueError> {
        let t = s.trim();
        if printable(t, 64) {
            Ok(InvoiceNumber(t.to_string()))
        } else {
            Err(ValueError::InvoiceNumber(t.to_string()))
        }
    }
}

impl DebtorNumber {
    pub fn parse(s: &str) -> Result<DebtorNumber, ValueError> {
        let t = s.trim();
        if printable(t, 64) {
            Ok(DebtorNumber(t.to_string()))
        } else {
            Err(ValueError::DebtorNumber(t.to_string()))
        }
    }
}

impl VatNumber {
    pub fn parse(s: &str) -> Result<VatNumber, ValueError> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        let b = t.as_bytes();
        let ok = b.len() >= 4
            && b.len() <= 15
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2..].iter().all(u8::is_ascii_alphanumeric)
            && b[2..].iter().any(u8::is_ascii_digit);
        if ok {
            Ok(VatNumber(t))
        } else {
            Err(ValueError::VatNumber(s.trim().to_string()))
        }
    }
}

impl RegistrationNumber {
    pub fn parse(s: &str) -> Result<RegistrationNumber, ValueError> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        let ok = (4..=20).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(RegistrationNumber(t))
        } else {
            Err(ValueError::RegistrationNumber(s.trim().to_string()))
        }
    }
}

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<PhoneNumber, ValueError> {
        let trimmed = s.trim();
        let t: String = trimmed
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '/'))
            .collect();
        let digits = t.strip_prefix('+').unwrap_or(&t);
        let ok = (6..=16).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(PhoneNumber(t))
        } else {
            Err(ValueError::Phone(trimmed.to_string()))
        }
    }
}

impl Tag {
    pub fn parse(s: &str) -> Result<Tag, ValueError> {
        let t = s.trim().to_lowercase();
        let ok = (1..=40).contains(&t.chars().count())
            && t.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Tag(t))
        } else {
            Err(ValueError::Tag(s.trim().to_string()))
        }
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub const NL: CountryCode = CountryCode(*b"NL");
    pub const BE: CountryCode = CountryCode(*b"BE");

    pub fn parse(s: &str) -> Result<CountryCode, ValueError> {
        let t = s.trim();
        let b = t.as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic) {
            Ok(CountryCode([
                b[0].to_ascii_uppercase(),
                b[1].to_ascii_uppercase(),
            ]))
        } else {
            Err(ValueError::Country(t.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_syntax() {
        assert!(EmailAddress::parse("jan@voorbeeld.nl").is_ok());
        assert!(EmailAddress::parse(" jan.de.vries+factuur@sub.example.be ").is_ok());
        for bad in [
            "",
            "jan",
            "jan@",
            "@x.nl",
            "jan@nl",
            "jan@x..nl",
            "ja n@x.nl",
            "jan@x.nl@y.nl",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(
            VatNumber::parse("nl 1234.56.789.B01").unwrap().as_str(),
            "NL123456789B01"
        );
        assert!(VatNumber::parse("12345").is_err());
        assert_eq!(
            RegistrationNumber::parse("0123.456.789").unwrap().as_str(),
            "0123456789"
        );
        assert_eq!(
            PhoneNumber::parse("+31 (0)20-123 4567").unwrap().as_str(),
            "+310201234567"
        );
        assert!(PhoneNumber::parse("call me").is_err());
        assert!(InvoiceNumber::parse("   ").is_err());
        assert!(InvoiceNumber::parse("F-2026\n01").is_err());
        assert_eq!(CountryCode::parse("be").unwrap(), CountryCode::BE);
    }
}
