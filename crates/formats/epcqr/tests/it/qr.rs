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

/// Decodes a greyscale image with rqrr: (payload bytes, version, ECC level
/// where 0 = M, 1 = L, 2 = H, 3 = Q).
fn decode(width: usize, height: usize, luma: impl Fn(usize, usize) -> u8) -> (Vec<u8>, usize, u16) {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR symbol");
    let mut bytes = Vec::new();
    let meta = grids[0].decode_to(&mut bytes).expect("decodes");
    (bytes, meta.version.0, meta.ecc_level)
}

#[test]
fn matrix_decodes_to_the_exact_payload_at_level_m() {
    for file in [
        "epc-example1-v002-utf8-creditor-reference.bin",
        "epc-example2-v002-latin1-unstructured.bin",
        "epc-example3-v001-wikipedia-belgian-red-cross.bin",
        "epc-example4-v002-segno-docs-wikimedia.bin",
    ] {
        let payload = read(file);
        let m = to_matrix(&payload).expect("matrix");
        assert_eq!(m.width, 17 + 4 * usize::from(m.version));
        let (scale, quiet) = (4, 4);
        let side = (m.width + 2 * quiet) * scale;
        let (bytes, version, ecc) = decode(side, side, |x, y| {
            let (mx, my) = (
                (x / scale).wrapping_sub(quiet),
                (y / scale).wrapping_sub(quiet),
            );
            if m.is_dark(mx, my) { 0 } else { 255 }
        });
        assert_eq!(bytes, payload, "{file}");
        assert_eq!(version, usize::from(m.version), "{file}");
        assert_eq!(ecc, 0, "{file}: level M");
    }
}

/// Decodes a greyscale PNG of tests/data with rqrr.
fn decode_png(file: &str) -> (Vec<u8>, usize, u16) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(read(file)));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale, "{file}");
    let (w, h) = (info.width as usize, info.height as usize);
    decode(w, h, |x, y| buf[y * info.line_size + x])
}

#[test]
fn segno_image_decodes_to_example4() {
    let (bytes, _, ecc) = decode_png("segno-spende-wikipedia.png");
    assert_eq!(bytes, read("epc-example4-v002-segno-docs-wikimedia.bin"));
    assert_eq!(ecc, 0, "segno uses level M");
    assert_eq!(parse(&bytes).expect("parses").amount_cents, Some(2000));
}

#[test]
fn segno_second_image_decodes_to_the_documented_utf8_payload() {
    let (bytes, _, _) = decode_png("segno-spende-wikipedia2.png");
    let p = parse(&bytes).expect("parses");
    assert_eq!(p.charset, Charset::Utf8);
    assert_eq!(p.amount_cents, Some(1305));
    // Our builder writes the same bytes for the same data.
    assert_eq!(build(&p).expect("builds"), bytes);
}

#[test]
fn matrix_outside_is_light() {
    let m = to_matrix(&read("epc-example1-v002-utf8-creditor-reference.bin")).expect("matrix");
    assert!(m.is_dark(0, 0), "finder pattern corner");
    assert!(!m.is_dark(m.width, 0) && !m.is_dark(0, m.width) && !m.is_dark(usize::MAX, usize::MAX));
}
