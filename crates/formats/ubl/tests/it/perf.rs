//! Performance sanity: typical documents parse quickly, and parse time grows
//! linearly with the number of lines (no quadratic behaviour).

use std::time::{Duration, Instant};

use crate::common::{data, minimal_with};

fn best_of(runs: usize, f: impl Fn()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn typical_documents_parse_quickly() {
    let bytes = data("cen-tc434/ubl-tc434-example1.xml"); // 21 KB, 20 lines
    let per_doc = best_of(5, || {
        for _ in 0..20 {
            incasso_ubl::parse(&bytes).unwrap();
        }
    }) / 20;
    eprintln!("example1 (21 KB, 20 lines): {per_doc:?} per document");
    // A few hundred µs in release; the bound is loose for debug builds on
    // shared CI machines.
    assert!(
        per_doc < Duration::from_millis(20),
        "{per_doc:?} per document"
    );
}

fn invoice_with_lines(n: usize) -> String {
    let mut body = String::with_capacity(n * 400);
    for i in 1..=n {
        body.push_str(&format!(
            r#"<cac:InvoiceLine><cbc:ID>{i}</cbc:ID><cbc:InvoicedQuantity unitCode="C62">1</cbc:InvoicedQuantity>
<cbc:LineExtensionAmount currencyID="EUR">10.00</cbc:LineExtensionAmount>
<cac:Item><cbc:Name>Item {i}</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>21</cbc:Percent></cac:ClassifiedTaxCategory></cac:Item>
<cac:Price><cbc:PriceAmount currencyID="EUR">10.00</cbc:PriceAmount></cac:Price></cac:InvoiceLine>
"#
        ));
    }
    minimal_with(&body)
}

#[test]
fn parse_time_is_linear_in_document_size() {
    let small = invoice_with_lines(1_000);
    let large = invoice_with_lines(8_000);
    assert_eq!(
        incasso_ubl::parse(large.as_bytes()).unwrap().lines.len(),
        8_000
    );
    let t_small = best_of(3, || {
        incasso_ubl::parse(small.as_bytes()).unwrap();
    });
    let t_large = best_of(3, || {
        incasso_ubl::parse(large.as_bytes()).unwrap();
    });
    // Linear would be ~8x; quadratic ~64x. Allow generous noise.
    let ratio = t_large.as_secs_f64() / t_small.as_secs_f64().max(1e-9);
    assert!(
        ratio < 24.0,
        "1k lines {t_small:?}, 8k lines {t_large:?}, ratio {ratio:.1}"
    );
}

#[test]
fn large_embedded_attachment_is_decoded() {
    let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&payload);
    let wrapped: String = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let xml = minimal_with(&format!(
        r#"<cac:AdditionalDocumentReference><cbc:ID>pdf</cbc:ID><cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="invoice.pdf">{wrapped}</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>"#
    ));
    let t = Instant::now();
    let d = incasso_ubl::parse(xml.as_bytes()).unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(d.embedded_attachments().next().unwrap().1.content, payload);
}
