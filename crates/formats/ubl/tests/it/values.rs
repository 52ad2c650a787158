//! The small value types: exact decimals (canonical text, no floats) and
//! ISO dates.

use incasso_ubl::{Decimal, UblDate};

#[test]
fn decimals_are_validated_and_canonicalised() {
    let ok = [
        ("0", "0"),
        ("1656.25", "1656.25"),
        ("-1656.25", "-1656.25"),
        ("+5", "5"),
        ("25.0", "25.0"),
        ("007.50", "7.50"),
        (".5", "0.5"),
        ("5.", "5"),
        ("-0.00", "0.00"),
        ("-0", "0"),
        (
            "12345678901234567890123456789.123456789",
            "12345678901234567890123456789.123456789",
        ),
    ];
    for (input, canonical) in ok {
        let d = Decimal::parse(input).unwrap_or_else(|| panic!("{input}"));
        assert_eq!(d.as_str(), canonical, "{input}");
        assert_eq!(d.to_string(), canonical);
    }
    for bad in [
        "", "-", "+", ".", "1,5", "1.2.3", "1e5", " 1", "1 ", "0x10", "--1", "+-1", "NaN", "١٢",
    ] {
        assert!(Decimal::parse(bad).is_none(), "{bad:?}");
    }
    let d = Decimal::parse("-12.50").unwrap();
    assert!(d.is_negative());
    assert_eq!(
        (d.integer_digits(), d.fraction_digits(), d.scale()),
        ("12", "50", 2)
    );
    assert!(!Decimal::parse("-0.0").unwrap().is_negative());
    assert_eq!(Decimal::parse("8550").unwrap().scale(), 0);
}

#[test]
fn dates_are_validated() {
    let d = UblDate::parse("2024-02-29").unwrap();
    assert_eq!(
        d,
        UblDate {
            year: 2024,
            month: 2,
            day: 29
        }
    );
    assert_eq!(d.to_string(), "2024-02-29");
    assert!(UblDate::parse("2000-02-29").is_some());
    for bad in [
        "1900-02-29",
        "2023-02-29",
        "2024-04-31",
        "2024-00-01",
        "2024-01-00",
        "0000-01-01",
        "2024-1-1",
        "20240101",
        "2024/01/01",
        "2024-01-01+01:00",
        "",
        "+024-01-01",
    ] {
        assert!(UblDate::parse(bad).is_none(), "{bad}");
    }
    assert!(UblDate::parse("2024-01-31").unwrap() < UblDate::parse("2024-02-01").unwrap());
}
