//! Field checks: the EPC Latin character set (with transliteration),
//! lengths, IBAN, BIC, SEPA creditor identifier (ISO 7064 mod 97-10) and
//! ISO 11649 creditor references.

use std::borrow::Cow;

use crate::error::Problem;
use crate::model::TextPolicy;

/// True for the EPC basic Latin set: `a-z A-Z 0-9 / - ? : ( ) . , ' +` and space.
pub fn is_epc_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '/' | '-' | '?' | ':' | '(' | ')' | '.' | ',' | '\'' | '+' | ' '
        )
}

/// Transliteration table: every character of the first string becomes the second.
const TRANSLIT: &[(&str, &str)] = &[
    ("ÀÁÂÃÄÅĀĂĄ", "A"),
    ("àáâãäåāăąª", "a"),
    ("Æ", "AE"),
    ("æ", "ae"),
    ("ÇĆĈĊČ", "C"),
    ("çćĉċč", "c"),
    ("ĎĐÐ", "D"),
    ("ďđð", "d"),
    ("ÈÉÊËĒĔĖĘĚ", "E"),
    ("èéêëēĕėęě", "e"),
    ("ĜĞĠĢ", "G"),
    ("ĝğġģ", "g"),
    ("ĤĦ", "H"),
    ("ĥħ", "h"),
    ("ÌÍÎÏĨĪĬĮİ", "I"),
    ("ìíîïĩīĭįı", "i"),
    ("Ĳ", "IJ"),
    ("ĳ", "ij"),
    ("Ĵ", "J"),
    ("ĵ", "j"),
    ("Ķ", "K"),
    ("ķĸ", "k"),
    ("ĹĻĽĿŁ", "L"),
    ("ĺļľŀł", "l"),
    ("ÑŃŅŇŊ", "N"),
    ("ñńņňŉŋ", "n"),
    ("ÒÓÔÕÖØŌŎŐ", "O"),
    ("òóôõöøōŏőº", "o"),
    ("Œ", "OE"),
    ("œ", "oe"),
    ("ŔŖŘ", "R"),
    ("ŕŗř", "r"),
    ("ŚŜŞŠȘ", "S"),
    ("śŝşšșſ", "s"),
    ("ß", "ss"),
    ("ŢŤŦȚ", "T"),
    ("ţťŧț", "t"),
    ("Þ", "TH"),
    ("þ", "th"),
    ("ÙÚÛÜŨŪŬŮŰŲ", "U"),
    ("ùúûüũūŭůűų", "u"),
    ("Ŵ", "W"),
    ("ŵ", "w"),
    ("ÝŸŶ", "Y"),
    ("ýÿŷ", "y"),
    ("ŹŻŽ", "Z"),
    ("źżž", "z"),
    ("&", "+"),
    ("_–—‐‑−=~", "-"),
    ("\"‘’‚‛“”„`´«»", "'"),
    ("@", "(at)"),
    ("€", "EUR"),
    (";", ","),
    ("!", "."),
    ("[{<", "("),
    ("]}>", ")"),
    ("\t\u{a0}\u{2009}\u{202f}", " "),
];

fn transliterate_char(c: char) -> Option<&'static str> {
    TRANSLIT
        .iter()
        .find(|(from, _)| from.contains(c))
        .map(|(_, to)| *to)
}

fn charset_problem(c: char) -> Problem {
    Problem::Charset {
        ch: c,
        code: u32::from(c),
    }
}

/// Checks (and under [`TextPolicy::Transliterate`] converts) free text to
/// the EPC set, then checks 1 ..= `max` characters.
pub fn free_text(value: &str, max: usize, policy: TextPolicy) -> Result<Cow<'_, str>, Problem> {
    let text: Cow<'_, str> = if value.chars().all(is_epc_char) {
        Cow::Borrowed(value)
    } else {
        let mut out = String::with_capacity(value.len());
        for c in value.chars() {
            if is_epc_char(c) {
                out.push(c);
            } else if policy == TextPolicy::Transliterate {
                out.push_str(transliterate_char(c).ok_or_else(|| charset_problem(c))?);
            } else {
                return Err(charset_problem(c));
            }
        }
        Cow::Owned(out)
    };
    length(&text, max)?;
    Ok(text)
}

/// Checks an identifier: EPC set only (never transliterated), 1 ..= `max`
/// characters, no leading or trailing `/` and no `//`.
pub fn identifier(value: &str, max: usize) -> Result<&str, Problem> {
    if let Some(c) = value.chars().find(|c| !is_epc_char(*c)) {
        return Err(charset_problem(c));
    }
    length(value, max)?;
    if value.starts_with('/') || value.ends_with('/') || value.contains("//") {
        return Err(Problem::Slashes);
    }
    Ok(value)
}

fn length(value: &str, max: usize) -> Result<(), Problem> {
    if value.is_empty() {
        return Err(Problem::Empty);
    }
    let len = value.chars().count();
    if len > max {
        return Err(Problem::TooLong { len, max });
    }
    Ok(())
}

/// ISO 7064 mod 97-10 over alphanumerics (letters count as 10..35); `None`
/// when a character is not an ASCII letter or digit.
fn mod97(chars: impl Iterator<Item = u8>) -> Option<u32> {
    let mut rem: u32 = 0;
    for b in chars {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return None,
        };
        rem = if v < 10 {
            (rem * 10 + v) % 97
        } else {
            (rem * 100 + v) % 97
        };
    }
    Some(rem)
}

/// Removes spaces and the separators `-` and `.`, and upper-cases.
fn compact(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '.')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// IBAN lengths of the countries and territories in the SEPA schemes.
const SEPA_IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GI", 23),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("VA", 22),
    ("AL", 28),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
];

/// Checks an IBAN (spaces, `-`, `.` and lower case accepted) of a SEPA country and
/// returns it in electronic format.
pub fn iban(value: &str) -> Result<String, Problem> {
    let iban = compact(value);
    let bad = |reason| Problem::Iban {
        value: value.to_owned(),
        reason,
    };
    let b = iban.as_bytes();
    if b.len() < 5
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
    {
        return Err(bad(
            "it must start with a country code and two check digits",
        ));
    }
    if !b.iter().all(u8::is_ascii_alphanumeric) {
        return Err(bad("only letters and digits are allowed"));
    }
    let Some((_, len)) = SEPA_IBAN_LENGTHS
        .iter()
        .find(|(cc, _)| cc.as_bytes() == &b[..2])
    else {
        return Err(bad("the country is not in the SEPA schemes"));
    };
    if b.len() != *len {
        return Err(bad("wrong length for the country"));
    }
    if mod97(b[4..].iter().chain(&b[..4]).copied()) != Some(1) {
        return Err(bad("the check digits do not match"));
    }
    bban(&b[..2], &b[4..]).map_err(bad)?;
    Ok(iban)
}

/// The national account format of the main markets (letters `a`, digits
/// `n`, either `c`) and the Belgian national check digits. Other countries
/// get the length and mod 97 checks only.
fn bban(country: &[u8], bban: &[u8]) -> Result<(), &'static str> {
    let format: &[(u8, usize)] = match country {
        b"NL" => &[(b'a', 4), (b'n', 10)],
        b"BE" | b"DE" | b"AT" => &[(b'n', bban.len())],
        b"LU" => &[(b'n', 3), (b'c', 13)],
        b"FR" | b"MC" => &[(b'n', 10), (b'c', 11), (b'n', 2)],
        b"GB" => &[(b'a', 4), (b'n', 14)],
        b"BG" => &[(b'a', 4), (b'n', 6), (b'c', 8)],
        b"GI" => &[(b'a', 4), (b'c', 15)],
        _ => &[],
    };
    let mut rest = bban;
    for &(kind, count) in format {
        let (part, tail) = rest.split_at(count.min(rest.len()));
        let ok = part.iter().all(|c| match kind {
            b'a' => c.is_ascii_uppercase(),
            b'n' => c.is_ascii_digit(),
            _ => c.is_ascii_alphanumeric(),
        });
        if !ok {
            return Err("the account number does not have the country's format");
        }
        rest = tail;
    }
    if country == b"BE" {
        // 12 digits; the last two are the first ten mod 97, 97 for 0.
        let (number, check) = bban.split_at(10);
        let rem = mod97(number.iter().copied()).unwrap_or(0);
        let expected = if rem == 0 { 97 } else { rem };
        if check != format!("{expected:02}").as_bytes() {
            return Err("the Belgian national check digits do not match");
        }
    }
    Ok(())
}

/// ISO 3166-1 alpha-2 country codes (from Debian's iso-codes) plus `XK`
/// (Kosovo), which SWIFT uses; the country part of a BIC must be one.
const COUNTRIES: &[&str] = &[
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBE",
    "BFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCD",
    "CFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDM",
    "DODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGF",
    "GGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHU",
    "IDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKN",
    "KPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDME",
    "MFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNA",
    "NCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPM",
    "PNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSI",
    "SJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTK",
    "TLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVI",
    "VNVUWFWSXKYEYTZAZMZW",
];

fn is_country(code: &[u8]) -> bool {
    code.len() == 2
        && COUNTRIES
            .iter()
            .any(|chunk| chunk.as_bytes().chunks(2).any(|c| c == code))
}

/// Checks a BIC (8 or 11 characters, `[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?`,
/// with a known country code).
pub fn bic(value: &str) -> Result<&str, Problem> {
    let b = value.as_bytes();
    let ok = (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && is_country(&b[4..6])
        && (b[6].is_ascii_uppercase() || (b'2'..=b'9').contains(&b[6]))
        && ((b[7].is_ascii_uppercase() && b[7] != b'O') || b[7].is_ascii_digit())
        && b[8..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok {
        Ok(value)
    } else {
        Err(Problem::Bic {
            value: value.to_owned(),
        })
    }
}

/// Checks a SEPA creditor identifier: country code, two check digits, a
/// three-character creditor business code (not part of the check) and a
/// national identifier of up to 28 characters; the check digits are
/// ISO 7064 mod 97-10 over national identifier + country code + check
/// digits. Spaces and lower case are accepted; returns the compact form.
pub fn creditor_id(value: &str) -> Result<String, Problem> {
    let id = compact(value);
    let bad = |reason| Problem::CreditorId {
        value: value.to_owned(),
        reason,
    };
    let b = id.as_bytes();
    if b.len() < 8 || b.len() > 35 {
        return Err(bad("it must be 8 to 35 characters long"));
    }
    if !b[..2].iter().all(u8::is_ascii_uppercase) || !b[2..4].iter().all(u8::is_ascii_digit) {
        return Err(bad(
            "it must start with a country code and two check digits",
        ));
    }
    if !b.iter().all(u8::is_ascii_alphanumeric) {
        return Err(bad("only letters and digits are allowed"));
    }
    if mod97(b[7..].iter().chain(&b[..4]).copied()) != Some(1) {
        return Err(bad("the ISO 7064 mod 97-10 check digits do not match"));
    }
    Ok(id)
}

/// Checks an ISO 11649 creditor reference (`RF` + two check digits + 1 ..= 21
/// letters or digits; spaces removed, upper-cased) and returns it compact.
pub fn iso11649(value: &str) -> Result<String, Problem> {
    let reference = compact(value);
    let bad = |reason| Problem::CreditorReference {
        value: value.to_owned(),
        reason,
    };
    let b = reference.as_bytes();
    if b.len() < 5 || b.len() > 25 {
        return Err(bad("it must be 5 to 25 characters long"));
    }
    if &b[..2] != b"RF" || !b[2..4].iter().all(u8::is_ascii_digit) {
        return Err(bad("it must start with RF and two check digits"));
    }
    if !b.iter().all(u8::is_ascii_alphanumeric) {
        return Err(bad("only letters and digits are allowed"));
    }
    if mod97(b[4..].iter().chain(&b[..4]).copied()) != Some(1) {
        return Err(bad("the check digits do not match"));
    }
    Ok(reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creditor_ids() {
        for ok in [
            "NL57ZZZ999999999999",
            "DE98ZZZ09999999999",
            "BE69ZZZ050D000000008",
            "nl57 zzz 999999999999",
        ] {
            assert!(creditor_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "NL98ZZZ999999999999",
            "BG40ZZZ507778",
            "NL98ZZZ",
            "98NLZZZ999999999999",
            "NL98ZZZ99999999999_",
        ] {
            assert!(creditor_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ibans() {
        assert_eq!(
            iban("nl91 abna 0417 1643 00").as_deref(),
            Ok("NL91ABNA0417164300")
        );
        assert!(iban("NL91ABNA0417164301").is_err());
        assert!(iban("NL91ABNA041716430").is_err());
        assert!(iban("US91ABNA0417164300").is_err());
        assert!(iban("BE68539007547034").is_ok());
    }

    #[test]
    fn bics() {
        for ok in ["ABNANL2A", "ABNANL2AXXX", "GEBABEBB", "BANKDEFFXXX"] {
            assert!(bic(ok).is_ok(), "{ok}");
        }
        for bad in ["ABNANL2", "ABNANL1A", "ABNANL2O", "abnanl2a", "ABNANL2AXX"] {
            assert!(bic(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn references() {
        assert_eq!(
            iso11649("RF18 5390 0754 7034").as_deref(),
            Ok("RF18539007547034")
        );
        assert!(iso11649("RF18539007547035").is_err());
        assert!(iso11649("RF18").is_err());
    }

    #[test]
    fn text() {
        assert_eq!(
            free_text("Café Zoë & Søn", 70, TextPolicy::Transliterate).as_deref(),
            Ok("Cafe Zoe + Son")
        );
        assert_eq!(
            free_text("Straße", 70, TextPolicy::Transliterate).as_deref(),
            Ok("Strasse")
        );
        assert!(matches!(
            free_text("Café", 70, TextPolicy::Refuse),
            Err(Problem::Charset { ch: 'é', .. })
        ));
        assert!(matches!(
            free_text("Москва", 70, TextPolicy::Transliterate),
            Err(Problem::Charset { ch: 'М', .. })
        ));
        assert_eq!(
            free_text("ab", 1, TextPolicy::Refuse),
            Err(Problem::TooLong { len: 2, max: 1 })
        );
        assert_eq!(free_text("", 1, TextPolicy::Refuse), Err(Problem::Empty));
        assert_eq!(identifier("/abc", 35), Err(Problem::Slashes));
        assert_eq!(identifier("a//b", 35), Err(Problem::Slashes));
        assert!(matches!(identifier("é", 35), Err(Problem::Charset { .. })));
    }
}
