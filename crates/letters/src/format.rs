//! How amounts, dates and rates are written in each language: `€ 1.234,56` and `3 december 2026`
//! in Dutch, `€1,234.56` in English, `1.234,56 €` in French and German. Integer arithmetic only.

use jiff::civil::Date;

use crate::Language;

/// A no-break space: an amount never breaks between the euro sign and the number.
pub const NBSP: char = '\u{a0}';

fn group(mut units: u64, sep: char) -> String {
    let mut groups: Vec<String> = Vec::new();
    loop {
        let g = units % 1000;
        units /= 1000;
        if units == 0 {
            groups.push(g.to_string());
            break;
        }
        groups.push(format!("{g:03}"));
    }
    groups.reverse();
    groups.join(&sep.to_string())
}

/// An amount in cents as the language writes it, with the euro sign.
pub fn amount(cents: i64, lang: Language) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let (units, rest) = (abs / 100, abs % 100);
    match lang {
        Language::Nl => format!("€{NBSP}{sign}{},{rest:02}", group(units, '.')),
        Language::En => format!("{sign}€{}.{rest:02}", group(units, ',')),
        Language::Fr | Language::De => format!("{sign}{},{rest:02}{NBSP}€", group(units, '.')),
    }
}

const MONTHS_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// A date written out: `3 december 2026`, `3 December 2026`, `3 décembre 2026`, `3. Dezember 2026`.
pub fn long_date(d: Date, lang: Language) -> String {
    let m = usize::try_from(d.month()).unwrap_or(1).clamp(1, 12) - 1;
    match lang {
        Language::Nl => format!("{} {} {}", d.day(), MONTHS_NL[m], d.year()),
        Language::En => format!("{} {} {}", d.day(), MONTHS_EN[m], d.year()),
        Language::Fr => {
            let day = if d.day() == 1 {
                "1er".to_string()
            } else {
                d.day().to_string()
            };
            format!("{day} {} {}", MONTHS_FR[m], d.year())
        }
        Language::De => format!("{}. {} {}", d.day(), MONTHS_DE[m], d.year()),
    }
}

/// A date in a table: `03-12-2026` (nl), `03/12/2026` (en, fr), `03.12.2026` (de).
pub fn short_date(d: Date, lang: Language) -> String {
    let sep = match lang {
        Language::Nl => '-',
        Language::En | Language::Fr => '/',
        Language::De => '.',
    };
    format!("{:02}{sep}{:02}{sep}{}", d.day(), d.month(), d.year())
}

/// A rate in ten-thousandths of a percent with at least two decimals: `8,15%` (`8.15%` in English).
pub fn rate(units: u32, lang: Language) -> String {
    let whole = units / 10_000;
    let mut frac = format!("{:04}", units % 10_000);
    while frac.len() > 2 && frac.ends_with('0') {
        frac.pop();
    }
    let sep = if lang == Language::En { '.' } else { ',' };
    match lang {
        Language::Fr => format!("{whole}{sep}{frac}{NBSP}%"),
        _ => format!("{whole}{sep}{frac}%"),
    }
}

/// An IBAN in groups of four for reading.
pub fn iban_paper(iban: &str) -> String {
    let compact: String = iban
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    compact
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn amounts_per_language() {
        let nb = |s: String| s.replace(NBSP, " ");
        assert_eq!(nb(amount(123_456, Language::Nl)), "€ 1.234,56");
        assert_eq!(nb(amount(5, Language::Nl)), "€ 0,05");
        assert_eq!(nb(amount(100_000_000, Language::Nl)), "€ 1.000.000,00");
        assert_eq!(nb(amount(-4_000, Language::Nl)), "€ -40,00");
        assert_eq!(amount(123_456, Language::En), "€1,234.56");
        assert_eq!(amount(100_000_000, Language::En), "€1,000,000.00");
        assert_eq!(nb(amount(123_456, Language::Fr)), "1.234,56 €");
        assert_eq!(nb(amount(99, Language::De)), "0,99 €");
    }

    #[test]
    fn dates_and_rates() {
        assert_eq!(long_date(d("2026-12-03"), Language::Nl), "3 december 2026");
        assert_eq!(long_date(d("2026-03-01"), Language::Fr), "1er mars 2026");
        assert_eq!(long_date(d("2026-03-21"), Language::De), "21. März 2026");
        assert_eq!(short_date(d("2026-03-01"), Language::Nl), "01-03-2026");
        assert_eq!(short_date(d("2026-03-01"), Language::De), "01.03.2026");
        assert_eq!(rate(81_500, Language::Nl), "8,15%");
        assert_eq!(rate(80_000, Language::En), "8.00%");
        assert_eq!(rate(41_234, Language::Nl), "4,1234%");
        assert_eq!(iban_paper("nl91abna0417164300"), "NL91 ABNA 0417 1643 00");
    }
}
