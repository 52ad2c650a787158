//! The eight character sets of the EPC QR code: encoding text to bytes
//! and decoding bytes to text.

use crate::tables;

/// The character set of the payload (element 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Charset {
    /// `1`: UTF-8.
    #[default]
    Utf8,
    /// `2`: ISO 8859-1 (Latin-1).
    Iso8859_1,
    /// `3`: ISO 8859-2 (Latin-2, Central European).
    Iso8859_2,
    /// `4`: ISO 8859-4 (Latin-4, Baltic).
    Iso8859_4,
    /// `5`: ISO 8859-5 (Cyrillic).
    Iso8859_5,
    /// `6`: ISO 8859-7 (Greek).
    Iso8859_7,
    /// `7`: ISO 8859-10 (Latin-6, Nordic).
    Iso8859_10,
    /// `8`: ISO 8859-15 (Latin-9).
    Iso8859_15,
}

impl Charset {
    /// The digit written in the payload (1 ..= 8).
    pub fn code(self) -> u8 {
        match self {
            Charset::Utf8 => 1,
            Charset::Iso8859_1 => 2,
            Charset::Iso8859_2 => 3,
            Charset::Iso8859_4 => 4,
            Charset::Iso8859_5 => 5,
            Charset::Iso8859_7 => 6,
            Charset::Iso8859_10 => 7,
            Charset::Iso8859_15 => 8,
        }
    }

    /// The set for a digit of the payload.
    pub fn from_code(code: u8) -> Option<Charset> {
        Some(match code {
            1 => Charset::Utf8,
            2 => Charset::Iso8859_1,
            3 => Charset::Iso8859_2,
            4 => Charset::Iso8859_4,
            5 => Charset::Iso8859_5,
            6 => Charset::Iso8859_7,
            7 => Charset::Iso8859_10,
            8 => Charset::Iso8859_15,
            _ => return None,
        })
    }

    /// The upper half (0xA0 ..= 0xFF) for the single-byte sets other than
    /// ISO 8859-1, whose upper half is U+00A0 ..= U+00FF.
    fn upper(self) -> Option<&'static [char; 96]> {
        match self {
            Charset::Utf8 | Charset::Iso8859_1 => None,
            Charset::Iso8859_2 => Some(&tables::ISO_8859_2),
            Charset::Iso8859_4 => Some(&tables::ISO_8859_4),
            Charset::Iso8859_5 => Some(&tables::ISO_8859_5),
            Charset::Iso8859_7 => Some(&tables::ISO_8859_7),
            Charset::Iso8859_10 => Some(&tables::ISO_8859_10),
            Charset::Iso8859_15 => Some(&tables::ISO_8859_15),
        }
    }

    /// Appends `c` encoded; `false` when the set has no such character.
    pub(crate) fn encode_char(self, c: char, out: &mut Vec<u8>) -> bool {
        if c.is_ascii() {
            out.push(c as u8);
            return true;
        }
        if self == Charset::Utf8 {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            return true;
        }
        let byte = match self.upper() {
            None => u8::try_from(u32::from(c)).ok().filter(|b| *b >= 0xA0),
            Some(table) => table
                .iter()
                .position(|t| *t == c && *t != '\0')
                .and_then(|i| u8::try_from(i + 0xA0).ok()),
        };
        match byte {
            Some(b) => {
                out.push(b);
                true
            }
            None => false,
        }
    }

    /// Decodes a whole payload; `None` for invalid UTF-8 or a byte the set
    /// leaves undefined.
    pub(crate) fn decode(self, bytes: &[u8]) -> Option<String> {
        if self == Charset::Utf8 {
            return std::str::from_utf8(bytes).ok().map(str::to_owned);
        }
        let mut out = String::with_capacity(bytes.len());
        for &b in bytes {
            let c = if b < 0xA0 {
                char::from(b)
            } else {
                match self.upper() {
                    None => char::from(b),
                    Some(table) => {
                        let c = table[usize::from(b - 0xA0)];
                        if c == '\0' {
                            return None;
                        }
                        c
                    }
                }
            };
            out.push(c);
        }
        Some(out)
    }
}
