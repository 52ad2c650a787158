//! The QR symbol: produced as SVG, level M, version at most 13 even for the
//! largest payload.

use incasso_epcqr::*;

use crate::{payment, read};

#[test]
fn examples_render_as_svg() {
    for file in [
        "epc-example1-v002-utf8-creditor-reference.bin",
        "epc-example2-v002-latin1-unstructured.bin",
        "epc-example3-v001-wikipedia-belgian-red-cross.bin",
        "epc-example4-v002-segno-docs-wikimedia.bin",
    ] {
        let payload = read(file);
        let svg = to_svg(&payload).expect("renders");
        assert!(
            svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
            "{file}"
        );
        assert_eq!(svg, to_svg(&payload).expect("renders"), "deterministic");
        let version = qr_version(&payload).expect("version");
        assert!((1..=MAX_QR_VERSION).contains(&version), "{file}: {version}");
    }
}

#[test]
fn largest_payload_fits_version_13() {
    let mut p = payment();
    p.charset = Charset::Iso8859_1;
    p.bic = Some("ABNANL2AXXX".into());
    p.name = "ÿ".repeat(70);
    p.amount_cents = Some(MAX_AMOUNT_CENTS);
    p.remittance = Some(Remittance::Unstructured("þ".repeat(140)));
    p.information = Some("x".repeat(50));
    let payload = build(&p).expect("builds");
    assert!(payload.len() > 320, "{}", payload.len());
    assert_eq!(qr_version(&payload), Ok(13));
    assert!(to_svg(&payload).is_ok());
    let too_long = vec![b'a'; MAX_PAYLOAD_BYTES + 1];
    assert_eq!(to_svg(&too_long), Err(Error::PayloadTooLong { len: 332 }));
}
