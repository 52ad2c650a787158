//! Per-country BBAN structures of the SWIFT IBAN registry (from python-stdnum's `iban.dat`,
//! embedded as data) and the national check digits incasso verifies (Belgium, Spain).
//!
//! A structure such as `4!a10!n` reads: 4 upper-case letters, then 10 digits. `n` = digits,
//! `a` = upper-case letters, `c` = letters or digits; every element of the registry has a fixed
//! length (`!`).

use std::sync::OnceLock;

const IBAN_DAT: &str = include_str!("../data/iban.dat");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Digits,
    Letters,
    Alphanumeric,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CountryStructure {
    country: [u8; 2],
    elements: Vec<(usize, CharClass)>,
}

impl CountryStructure {
    fn bban_length(&self) -> usize {
        self.elements.iter().map(|(n, _)| n).sum()
    }

    fn matches(&self, bban: &[u8]) -> bool {
        if bban.len() != self.bban_length() {
            return false;
        }
        let mut rest = bban;
        for (n, class) in &self.elements {
            let (part, tail) = rest.split_at(*n);
            let ok = part.iter().all(|b| match class {
                CharClass::Digits => b.is_ascii_digit(),
                CharClass::Letters => b.is_ascii_uppercase(),
                CharClass::Alphanumeric => b.is_ascii_uppercase() || b.is_ascii_digit(),
            });
            if !ok {
                return false;
            }
            rest = tail;
        }
        true
    }
}

/// Parses `4!n4!n12!c` into elements; `None` for anything else.
fn parse_structure(spec: &str) -> Option<Vec<(usize, CharClass)>> {
    let mut out = Vec::new();
    let mut rest = spec;
    while !rest.is_empty() {
        let digits_end = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: usize = rest[..digits_end].parse().ok()?;
        let tail = rest[digits_end..].strip_prefix('!')?;
        let class = match tail.chars().next()? {
            'n' => CharClass::Digits,
            'a' => CharClass::Letters,
            'c' => CharClass::Alphanumeric,
            _ => return None,
        };
        out.push((n, class));
        rest = &tail[1..];
    }
    Some(out)
}

fn structures() -> &'static [CountryStructure] {
    static TABLE: OnceLock<Vec<CountryStructure>> = OnceLock::new();
    TABLE.get_or_init(|| {
        IBAN_DAT
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' '))
            .filter_map(|line| {
                let b = line.as_bytes();
                let country = [*b.first()?, *b.get(1)?];
                let spec = line.split("bban=\"").nth(1)?.split('"').next()?;
                Some(CountryStructure {
                    country,
                    elements: parse_structure(spec)?,
                })
            })
            .collect()
    })
}

/// What the registry says about a country's BBAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BbanCheck {
    /// The country is not in the registry table.
    UnknownCountry,
    WrongLength,
    WrongFormat,
    /// The national check digits are wrong.
    NationalCheck,
    Valid,
}

/// Checks a BBAN against the registry structure of `country` and, for BE and ES, the national
/// check digits.
pub(crate) fn check_bban(country: &str, bban: &str) -> BbanCheck {
    let Some(structure) = structures()
        .iter()
        .find(|s| s.country == country.as_bytes())
    else {
        return BbanCheck::UnknownCountry;
    };
    if bban.len() != structure.bban_length() {
        return BbanCheck::WrongLength;
    }
    if !structure.matches(bban.as_bytes()) {
        return BbanCheck::WrongFormat;
    }
    let national_ok = match country {
        "BE" => belgian_check(bban),
        "ES" => spanish_check(bban),
        _ => true,
    };
    if national_ok {
        BbanCheck::Valid
    } else {
        BbanCheck::NationalCheck
    }
}

/// Belgian account number: the last two digits are the first ten mod 97 (97 when 0).
fn belgian_check(bban: &str) -> bool {
    let (Ok(first), Ok(check)) = (bban[..10].parse::<u64>(), bban[10..].parse::<u64>()) else {
        return false;
    };
    let expected = match first % 97 {
        0 => 97,
        r => r,
    };
    expected == check
}

/// Spanish CCC: bank (4) branch (4) two check digits, account (10). Each check digit is
/// 11 − (Σ digit × weight mod 11), 11 → 0, 10 → 1, with weights 1, 2, 4, 8, 5, 10, 9, 7, 3, 6.
fn spanish_check(bban: &str) -> bool {
    fn digit(s: &str) -> u32 {
        const WEIGHTS: [u32; 10] = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6];
        let sum: u32 = s
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        match 11 - sum % 11 {
            11 => 0,
            10 => 1,
            d => d,
        }
    }
    let b = bban.as_bytes();
    let first = digit(&format!("00{}", &bban[..8]));
    let second = digit(&bban[10..20]);
    u32::from(b[8] - b'0') == first && u32::from(b[9] - b'0') == second
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_table_is_complete() {
        assert!(structures().len() >= 89);
        let nl = structures().iter().find(|s| &s.country == b"NL").unwrap();
        assert_eq!(nl.bban_length(), 14);
        assert_eq!(check_bban("NL", "ABNA0417164300"), BbanCheck::Valid);
        assert_eq!(check_bban("NL", "30030A17164300"), BbanCheck::WrongFormat);
        assert_eq!(check_bban("QQ", "12345678"), BbanCheck::UnknownCountry);
    }
}
