//! Round trips: any valid payment in any character set builds to a payload
//! that parses back to the same payment.

use incasso_epcqr::*;
use proptest::prelude::*;

/// Characters each set can encode (ASCII letters plus a few of its own).
fn alphabet(charset: Charset) -> &'static str {
    match charset {
        Charset::Utf8 => "a-zA-Z0-9 .,'äöüßéçŁőЖΩ€",
        Charset::Iso8859_1 => "a-zA-Z0-9 .,'äöüßéçÆ",
        Charset::Iso8859_2 => "a-zA-Z0-9 .,'ŁőčřŽ",
        Charset::Iso8859_4 => "a-zA-Z0-9 .,'ĀēļŠ",
        Charset::Iso8859_5 => "a-zA-Z0-9 .,'ЖЯжя",
        Charset::Iso8859_7 => "a-zA-Z0-9 .,'ΩΣαβ",
        Charset::Iso8859_10 => "a-zA-Z0-9 .,'ĀĒŊþ",
        Charset::Iso8859_15 => "a-zA-Z0-9 .,'€ŠšŽžŒœŸ",
    }
}

fn text(charset: Charset, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[{}]{{1,{max}}}", alphabet(charset))).expect("regex")
}

fn payment() -> impl Strategy<Value = Payment> {
    (1u8..=8)
        .prop_map(|c| Charset::from_code(c).expect("1..=8"))
        .prop_flat_map(|charset| {
            (
                Just(charset),
                any::<bool>(),
                proptest::option::of(Just("GENODEF1S04".to_owned())),
                text(charset, 40),
                proptest::option::of(1..=MAX_AMOUNT_CENTS),
                proptest::option::of(Just("CHAR".to_owned())),
                0u8..3,
                text(charset, 60),
                proptest::option::of(text(charset, 40)),
            )
        })
        .prop_map(
            |(charset, v1, bic, name, amount, purpose, rmt, ustrd, info)| Payment {
                version: if v1 && bic.is_some() {
                    Version::V001
                } else {
                    Version::V002
                },
                charset,
                bic,
                name,
                iban: "DE33100205000001194700".into(),
                amount_cents: amount,
                purpose,
                remittance: match rmt {
                    0 => None,
                    1 => Some(Remittance::Structured("RF18539007547034".into())),
                    _ => Some(Remittance::Unstructured(ustrd)),
                },
                information: info,
            },
        )
}

proptest! {
    #[test]
    fn build_then_parse_is_identity(p in payment()) {
        let bytes = build(&p).expect("valid payment builds");
        prop_assert!(bytes.len() <= MAX_PAYLOAD_BYTES);
        prop_assert!(!bytes.ends_with(b"\n"));
        prop_assert_eq!(parse(&bytes).expect("parses"), p);
    }

    #[test]
    fn amounts_round_trip(cents in 1..=MAX_AMOUNT_CENTS) {
        prop_assert_eq!(parse_amount(&format_amount(cents)), Ok(cents));
    }

    #[test]
    fn mutated_examples_never_panic(
        file in 0usize..4,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        let names = [
            "epc-example1-v002-utf8-creditor-reference.bin",
            "epc-example2-v002-latin1-unstructured.bin",
            "epc-example3-v001-wikipedia-belgian-red-cross.bin",
            "epc-example4-v002-segno-docs-wikimedia.bin",
        ];
        let mut bytes = crate::read(names[file]);
        for (at, byte) in edits {
            let i = at % bytes.len();
            bytes[i] = byte;
        }
        if let Ok(p) = parse(&bytes) {
            // Whatever parses, builds again, and parses to the same.
            let rebuilt = build(&p).expect("a parsed payment builds");
            prop_assert_eq!(parse(&rebuilt).expect("parses"), p);
        }
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse(&bytes);
    }
}
