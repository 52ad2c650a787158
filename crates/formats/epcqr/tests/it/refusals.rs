//! Refusals of the builder and the parser.

use incasso_epcqr::*;

use crate::payment;

fn refuse(change: impl FnOnce(&mut Payment)) -> Error {
    let mut p = payment();
    change(&mut p);
    build(&p).expect_err("must be refused")
}

#[test]
fn both_references_at_once() {
    // The builder cannot be given both (one `Remittance` value); a payload
    // carrying both is refused by the parser.
    let bytes = b"BCD\n002\n1\nSCT\n\nA\nNL91ABNA0417164300\nEUR1\n\nRF18539007547034\nInvoice 1";
    assert_eq!(parse(bytes), Err(Error::BothReferences));
}

#[test]
fn amount_out_of_range() {
    assert_eq!(
        refuse(|p| p.amount_cents = Some(0)),
        Error::AmountOutOfRange { cents: 0 }
    );
    assert_eq!(
        refuse(|p| p.amount_cents = Some(MAX_AMOUNT_CENTS + 1)),
        Error::AmountOutOfRange {
            cents: 100_000_000_000
        }
    );
    let bytes = b"BCD\n002\n1\nSCT\n\nA\nNL91ABNA0417164300\nEUR0.00";
    assert_eq!(parse(bytes), Err(Error::AmountOutOfRange { cents: 0 }));
    let bytes = b"BCD\n002\n1\nSCT\n\nA\nNL91ABNA0417164300\nEUR12,30";
    assert!(matches!(
        parse(bytes),
        Err(Error::Invalid {
            field: Field::Amount,
            ..
        })
    ));
}

#[test]
fn name_too_long() {
    let err = refuse(|p| p.name = "N".repeat(71));
    assert_eq!(
        err,
        Error::TooLong {
            field: Field::Name,
            len: 71,
            max: 70
        }
    );
    assert_eq!(
        err.to_string(),
        "name of the beneficiary is 71 characters long, at most 70 are allowed"
    );
    // 70 characters of two bytes each are fine.
    let mut p = payment();
    p.name = "ä".repeat(70);
    assert!(build(&p).is_ok());
}

#[test]
fn payload_too_long() {
    let err = refuse(|p| {
        p.name = "ä".repeat(70);
        p.remittance = Some(Remittance::Unstructured("é".repeat(140)));
    });
    assert!(
        matches!(err, Error::PayloadTooLong { len } if len > MAX_PAYLOAD_BYTES),
        "{err:?}"
    );
    // The same in ISO 8859-1 (one byte a character) fits.
    let mut p = payment();
    p.charset = Charset::Iso8859_1;
    p.name = "ä".repeat(70);
    p.remittance = Some(Remittance::Unstructured("é".repeat(140)));
    let bytes = build(&p).expect("fits in Latin-1");
    assert!(bytes.len() <= MAX_PAYLOAD_BYTES);
    assert_eq!(parse(&bytes).expect("parses"), p);
    let mut long = vec![b'x'; MAX_PAYLOAD_BYTES + 1];
    long[..4].copy_from_slice(b"BCD\n");
    assert_eq!(parse(&long), Err(Error::PayloadTooLong { len: 332 }));
}

#[test]
fn other_element_checks() {
    assert_eq!(
        refuse(|p| {
            p.version = Version::V001;
            p.bic = None
        }),
        Error::BicRequired
    );
    assert!(matches!(
        refuse(|p| p.bic = Some("ABNANL2".into())),
        Error::Invalid {
            field: Field::Bic,
            ..
        }
    ));
    assert!(matches!(
        refuse(|p| p.iban = "NL91ABNA0417164301".into()),
        Error::Invalid {
            field: Field::Iban,
            ..
        }
    ));
    assert!(matches!(
        refuse(|p| p.purpose = Some("gdds".into())),
        Error::Invalid {
            field: Field::Purpose,
            ..
        }
    ));
    assert!(matches!(
        refuse(|p| p.remittance = Some(Remittance::Structured("RF19539007547034".into()))),
        Error::Invalid {
            field: Field::StructuredReference,
            ..
        }
    ));
    assert_eq!(
        refuse(|p| p.remittance = Some(Remittance::Structured("X".repeat(36)))),
        Error::TooLong {
            field: Field::StructuredReference,
            len: 36,
            max: 35
        }
    );
    assert_eq!(
        refuse(|p| p.remittance = Some(Remittance::Unstructured("u".repeat(141)))),
        Error::TooLong {
            field: Field::UnstructuredRemittance,
            len: 141,
            max: 140
        }
    );
    assert_eq!(
        refuse(|p| p.information = Some("i".repeat(71))),
        Error::TooLong {
            field: Field::Information,
            len: 71,
            max: 70
        }
    );
    assert_eq!(
        refuse(|p| p.name = "Two\nlines".into()),
        Error::Control { field: Field::Name }
    );
    assert_eq!(
        refuse(|p| p.name = String::new()),
        Error::Missing(Field::Name)
    );
    assert_eq!(
        refuse(|p| {
            p.charset = Charset::Iso8859_1;
            p.name = "Łódź".into()
        }),
        Error::Unencodable {
            field: Field::Name,
            ch: 'Ł',
            charset: 2
        }
    );
    // ... which ISO 8859-2 can encode.
    let mut p = payment();
    p.charset = Charset::Iso8859_2;
    p.name = "Łódź".into();
    assert_eq!(parse(&build(&p).expect("builds")).expect("parses"), p);
}

#[test]
fn header_errors() {
    let ok = b"BCD\n002\n1\nSCT\n\nA\nNL91ABNA0417164300";
    assert!(parse(ok).is_ok());
    for (bad, field) in [
        (
            &b"BCE\n002\n1\nSCT\n\nA\nNL91ABNA0417164300"[..],
            Field::ServiceTag,
        ),
        (b"BCD\n003\n1\nSCT\n\nA\nNL91ABNA0417164300", Field::Version),
        (
            b"BCD\n002\n9\nSCT\n\nA\nNL91ABNA0417164300",
            Field::CharacterSet,
        ),
        (
            b"BCD\n002\n1\nINST\n\nA\nNL91ABNA0417164300",
            Field::Identification,
        ),
    ] {
        assert!(
            matches!(parse(bad), Err(Error::Invalid { field: f, .. }) if f == field),
            "{field}"
        );
    }
    assert_eq!(
        parse(b"BCD\n002\n1\nSCT\n\n\nNL91ABNA0417164300"),
        Err(Error::Missing(Field::Name))
    );
    assert_eq!(
        parse(b"BCD\n002\n1\nSCT\n\nA\n"),
        Err(Error::Invalid {
            field: Field::Iban,
            value: String::new()
        })
    );
    assert_eq!(
        parse(b"BCD\n002\n1\nSCT\n\nA\xff\nNL91ABNA0417164300"),
        Err(Error::Decode { charset: 1 })
    );
    assert_eq!(
        parse(b"BCD\n001\n1\nSCT\n\nA\nNL91ABNA0417164300"),
        Err(Error::BicRequired)
    );
    assert_eq!(
        parse(b"BCD\n002\n1"),
        Err(Error::Missing(Field::Identification))
    );
    assert_eq!(
        parse(b"BCD\n002\n1\nSCT\n\nA\nNL91ABNA0417164300\n\n\n\n\n\nextra"),
        Err(Error::TooManyElements)
    );
}
