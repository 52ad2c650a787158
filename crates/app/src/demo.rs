//! A realistic, reproducible demo ledger: Dutch and Belgian debtors (businesses and consumers)
//! with invoices in every state. The same seed and reference date always give the same bytes.
//! The generator writes the documented CSV format, so the demo and the benchmarks exercise the
//! real import path.

use std::io::{self, Write};

use incasso_calendar::Date;
use jiff::Span;

/// A small, fast, deterministic PRNG (SplitMix64). Not for secrets.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Jan", "Piet", "Kees", "Anna", "Sanne", "Lotte", "Daan", "Sem", "Emma", "Julia", "Thomas",
    "Fleur", "Bram", "Eva", "Noah", "Mila", "Lucas", "Sophie", "Ruben", "Lieke", "Wout", "Marie",
    "Jef", "Elise",
];
const LAST: &[&str] = &[
    "de Vries",
    "Jansen",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Peeters",
    "Maes",
    "Claes",
    "Willems",
    "Janssens",
];
const TRADE: &[&str] = &[
    "Bouw",
    "Installatie",
    "Transport",
    "Bakkerij",
    "Drukkerij",
    "Schilders",
    "Techniek",
    "Advies",
    "Horeca",
    "Groothandel",
    "Metaal",
    "Hoveniers",
    "IT",
    "Catering",
    "Elektro",
    "Logistiek",
];
const SUFFIX: &[&str] = &[
    "B.V.",
    "V.O.F.",
    "B.V.",
    "Holding B.V.",
    "& Zn.",
    "BV",
    "N.V.",
];
const STREETS: &[&str] = &[
    "Kerkstraat",
    "Dorpsstraat",
    "Stationsweg",
    "Molenweg",
    "Schoolstraat",
    "Julianastraat",
    "Beatrixlaan",
    "Industrieweg",
    "Havenkade",
    "Marktplein",
    "Nieuwstraat",
    "Parallelweg",
];
const CITIES_NL: &[(&str, &str)] = &[
    ("Amsterdam", "10"),
    ("Rotterdam", "30"),
    ("Utrecht", "35"),
    ("Den Haag", "25"),
    ("Eindhoven", "56"),
    ("Groningen", "97"),
    ("Zwolle", "80"),
    ("Arnhem", "68"),
    ("Breda", "48"),
    ("Leeuwarden", "89"),
    ("Maastricht", "62"),
    ("Haarlem", "20"),
];
const CITIES_BE: &[(&str, &str)] = &[
    ("Antwerpen", "2000"),
    ("Gent", "9000"),
    ("Brugge", "8000"),
    ("Leuven", "3000"),
    ("Hasselt", "3500"),
    ("Mechelen", "2800"),
];
const BANKS_NL: &[&str] = &[
    "ABNA", "INGB", "RABO", "TRIO", "KNAB", "SNSB", "ASNB", "BUNQ",
];
const WORK: &[&str] = &[
    "Levering materialen",
    "Onderhoud installatie",
    "Adviesuren",
    "Transportkosten",
    "Reparatie",
    "Abonnement",
    "Catering evenement",
    "Drukwerk",
    "Licentie software",
    "Schilderwerk",
];

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoSpec {
    pub debtors: u64,
    /// Average invoices per debtor; each debtor gets between 1 and `2 × average − 1`.
    pub invoices_per_debtor: u64,
    pub seed: u64,
    /// The reference date: invoices are issued in the 400 days before it.
    pub as_of: Date,
}

/// The CSV header the generator writes (the documented column names).
pub const HEADER: &str = "invoice_number;kind;issue_date;due_date;payment_terms_days;currency;net_amount;vat_amount;gross_amount;paid_amount;payment_reference;description;debtor_number;debtor_name;debtor_kind;contact_person;street;postal_code;city;country;email;phone;language;iban;registration_number;vat_number;tags";

fn nl_iban(rng: &mut SplitMix64) -> String {
    let bank = rng.pick(BANKS_NL);
    let account = format!("{:010}", rng.below(10_000_000_000));
    let check = incasso_banking::mod97(&format!("{bank}{account}NL00")).map_or(0, |r| 98 - r);
    format!("NL{check:02}{bank}{account}")
}

fn amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Writes the demo ledger as CSV; returns the number of invoices written.
pub fn write_csv(spec: &DemoSpec, out: &mut dyn Write) -> io::Result<u64> {
    let mut rng = SplitMix64::new(spec.seed);
    writeln!(out, "{HEADER}")?;
    let mut invoices = 0u64;
    let mut line = String::with_capacity(512);
    for d in 0..spec.debtors {
        let belgian = rng.chance(15);
        let business = rng.chance(65);
        let first = *rng.pick(FIRST);
        let last = *rng.pick(LAST);
        let (name, contact) = if business {
            (
                format!(
                    "{} {} {}",
                    last.rsplit(' ').next().unwrap_or(last),
                    rng.pick(TRADE),
                    rng.pick(SUFFIX)
                ),
                format!("{first} {last}"),
            )
        } else {
            (format!("{first} {last}"), String::new())
        };
        let (city, postal_code, country) = if belgian {
            let (c, pc) = *rng.pick(CITIES_BE);
            (c, pc.to_string(), "BE")
        } else {
            let (c, prefix) = *rng.pick(CITIES_NL);
            let letters = [b'A' + rng.below(26) as u8, b'A' + rng.below(26) as u8];
            (
                c,
                format!(
                    "{prefix}{:02} {}",
                    rng.below(100),
                    String::from_utf8_lossy(&letters)
                ),
                "NL",
            )
        };
        let street = format!("{} {}", rng.pick(STREETS), 1 + rng.below(250));
        let slug: String = name
            .to_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(20)
            .collect();
        let email = if rng.chance(90) {
            format!("{slug}{d}@example.{}", if belgian { "be" } else { "nl" })
        } else {
            String::new()
        };
        let phone = if rng.chance(70) {
            format!("+31 6 {:08}", rng.below(100_000_000))
        } else {
            String::new()
        };
        let language = if belgian && rng.chance(40) {
            "fr"
        } else if rng.chance(5) {
            "en"
        } else {
            "nl"
        };
        let iban = if rng.chance(60) {
            nl_iban(&mut rng)
        } else {
            String::new()
        };
        let (kvk, vat) = if business {
            if belgian {
                let n = rng.below(1_000_000_000);
                (format!("0{n:09}"), format!("BE0{n:09}"))
            } else {
                (
                    format!("{:08}", rng.below(100_000_000)),
                    format!("NL{:09}B01", rng.below(1_000_000_000)),
                )
            }
        } else {
            (String::new(), String::new())
        };
        let tags = if rng.chance(5) { "key-account" } else { "" };
        let count = 1 + rng.below(
            spec.invoices_per_debtor
                .saturating_mul(2)
                .saturating_sub(1)
                .max(1),
        );
        for _ in 0..count {
            invoices += 1;
            let issue = spec
                .as_of
                .checked_sub(Span::new().days(rng.below(400) as i64))
                .unwrap_or(spec.as_of);
            let terms: i64 = if business {
                *rng.pick(&[14, 30, 30, 60])
            } else {
                14
            };
            let due = issue.checked_add(Span::new().days(terms)).unwrap_or(issue);
            let net: i64 = match rng.below(10) {
                0..=5 => 2_500 + rng.below(50_000) as i64,
                6..=8 => 50_000 + rng.below(450_000) as i64,
                _ => 500_000 + rng.below(5_000_000) as i64,
            };
            let vat_cents = net * 21 / 100;
            let gross = net + vat_cents;
            let paid = match rng.below(10) {
                0..=2 => gross,
                3 => gross / 2,
                _ => 0,
            };
            line.clear();
            use std::fmt::Write as _;
            let _ = write!(
                line,
                "{}-{:07};invoice;{issue};{due};{terms};EUR;{};{};{};{};;{};D{:06};{name};{};{contact};{street};{postal_code};{city};{country};{email};{phone};{language};{iban};{kvk};{vat};{tags}",
                spec.seed,
                invoices,
                amount(net),
                amount(vat_cents),
                amount(gross),
                amount(paid),
                rng.pick(WORK),
                d + 1,
                if business { "business" } else { "consumer" },
            );
            writeln!(out, "{line}")?;
        }
    }
    Ok(invoices)
}

/// The creditor the demo registers when the database has none.
pub fn demo_creditor() -> anyhow::Result<incasso_domain::NewCreditor> {
    use incasso_domain::*;
    Ok(NewCreditor {
        name: "Voorbeeld Groothandel B.V.".into(),
        legal_form: Some("B.V.".into()),
        registration_number: Some(RegistrationNumber::parse("12345678")?),
        vat_number: Some(VatNumber::parse("NL123456789B01")?),
        vat_deductible: true,
        iban: incasso_banking::Iban::parse("NL91ABNA0417164300")?,
        bic: Some(incasso_banking::Bic::parse("ABNANL2A")?),
        jurisdiction: Jurisdiction::Nl,
        kind: DebtorKind::Business,
        language: Language::Nl,
        email: Some(EmailAddress::parse("debiteuren@voorbeeld.example")?),
        phone: Some(PhoneNumber::parse("+31 20 123 4567")?),
        address: Address {
            street: "Keizersgracht 100".into(),
            postal_code: "1015 AA".into(),
            city: "Amsterdam".into(),
            country: Some(CountryCode::NL),
        },
        website: Some("https://voorbeeld.example".into()),
        letterhead: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let spec = DemoSpec {
            debtors: 50,
            invoices_per_debtor: 3,
            seed: 42,
            as_of: incasso_calendar::parse_iso("2026-11-25").unwrap(),
        };
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut c = Vec::new();
        write_csv(&spec, &mut a).unwrap();
        write_csv(&spec, &mut b).unwrap();
        write_csv(&DemoSpec { seed: 43, ..spec }, &mut c).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn generated_ibans_are_valid() {
        let mut rng = SplitMix64::new(7);
        for _ in 0..200 {
            let iban = nl_iban(&mut rng);
            assert!(incasso_banking::Iban::parse(&iban).is_ok(), "{iban}");
        }
    }
}
