//! Robustness: `parse` must never panic, whatever the input (random bytes,
//! random mutations and truncations of real samples, XML-ish token soup).

use proptest::prelude::*;

use crate::common::data;

fn sample() -> &'static [u8] {
    static SAMPLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SAMPLE.get_or_init(|| data("peppol-bis3/snippets/payment-credit.xml"))
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop::sample::select(vec![
        b"<".to_vec(),
        b">".to_vec(),
        b"</".to_vec(),
        b"/>".to_vec(),
        b"&".to_vec(),
        b"&amp;".to_vec(),
        b"&#0;".to_vec(),
        b"&#x110000;".to_vec(),
        b"<![CDATA[".to_vec(),
        b"]]>".to_vec(),
        b"<!--".to_vec(),
        b"<?".to_vec(),
        b"\"".to_vec(),
        b"=".to_vec(),
        b"<!DOCTYPE x>".to_vec(),
        b"\xFF\xFE".to_vec(),
        b"\xE2\x82".to_vec(),
        b"cbc:".to_vec(),
        b"-".to_vec(),
        b".".to_vec(),
        b"9999-99-99".to_vec(),
        b"xmlns:cbc=\"\"".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop_oneof![tokens, prop::collection::vec(any::<u8>(), 0..8)]
        )
            .prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len().max(1);
    match m {
        Mutation::Flip(i, b) => {
            if !bytes.is_empty() {
                let i = i % bytes.len();
                bytes[i] = *b;
            }
        }
        Mutation::Insert(i, t) => {
            let i = i % (bytes.len() + 1);
            bytes.splice(i..i, t.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = i % len;
            let end = (i + n).min(bytes.len());
            if i < end {
                bytes.drain(i..end);
            }
        }
        Mutation::Truncate(i) => bytes.truncate(i % len),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = incasso_ubl::parse(&bytes);
    }

    #[test]
    fn mutated_samples_never_panic(mutations in prop::collection::vec(mutation(), 1..6)) {
        let mut bytes = sample().to_vec();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let _ = incasso_ubl::parse(&bytes);
    }

    #[test]
    fn arbitrary_field_values_never_panic(value in "\\PC{0,40}", attr in "\\PC{0,10}") {
        let xml = crate::common::MINIMAL
            .replace("121.00", &quick_escape(&value))
            .replace("2024-02-29", &quick_escape(&value))
            .replace("\"EUR\"", &format!("\"{}\"", quick_escape(&attr)));
        let _ = incasso_ubl::parse(xml.as_bytes());
    }
}

fn quick_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

#[test]
fn every_truncation_of_a_sample_is_an_error_not_a_panic() {
    let bytes = data("peppol-bis3/base-example.xml");
    let full = incasso_ubl::parse(&bytes);
    assert!(full.is_ok());
    // Cut inside the root element at many points: always an error.
    let root_end = bytes.windows(10).rposition(|w| w == b"</Invoice>").unwrap();
    for cut in (0..root_end).step_by(7) {
        assert!(incasso_ubl::parse(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}
