//! Business Identifier Code (ISO 9362): 8 or 11 characters.

use std::fmt;

/// Why a string is not a BIC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("BIC {0:?} is invalid: expected 4 letters (bank), 2 letters (country), 2 letters or digits (location) and optionally 3 letters or digits (branch)")]
pub struct BicError(pub String);

/// A structurally valid BIC, upper case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bic(String);

impl Bic {
    pub fn parse(s: &str) -> Result<Bic, BicError> {
        let t: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        let b = t.as_bytes();
        let ok = (b.len() == 8 || b.len() == 11)
            && b[..6].iter().all(u8::is_ascii_uppercase)
            && b[6..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok { Ok(Bic(t)) } else { Err(BicError(s.trim().to_string())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country(&self) -> &str {
        &self.0[4..6]
    }
}

impl fmt::Display for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bic({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bic_shapes() {
        assert_eq!(Bic::parse("abnanl2a").unwrap().as_str(), "ABNANL2A");
        assert!(Bic::parse("ABNANL2AXXX").is_ok());
        assert!(Bic::parse("ABNANL2").is_err());
        assert!(Bic::parse("AB1ANL2A").is_err());
    }
}
