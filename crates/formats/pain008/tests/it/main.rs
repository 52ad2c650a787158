//! Integration tests for incasso-pain008: schema validation with xmllint
//! against the real ISO XSDs, a golden file, structure comparison with
//! published samples, refusals and property tests.

mod golden;
mod props;
mod refusals;
mod samples;
mod vectors;
mod xsd;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use incasso_pain008::*;

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn date(y: u16, m: u8, d: u8) -> Date {
    Date::new(y, m, d).expect("valid test date")
}

/// Validates `xml` against the XSD of `version` with `xmllint --schema`.
/// Panics when the document is invalid, and also when xmllint is missing
/// (install the Debian package `libxml2-utils`): never skips.
pub fn xmllint(xml: &[u8], version: Version) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join(format!(
        "pain008-{}-{}.xml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, xml).expect("write temp file");
    let xsd = data_dir().join(format!("{}.xsd", version.id()));
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "xmllint could not be run ({e}); the schema tests need it: \
                 install it with `apt-get install -y libxml2-utils`"
            )
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} does not validate against {}:\n{stderr}\n{}",
        file.display(),
        xsd.display(),
        String::from_utf8_lossy(xml)
    );
    let _ = std::fs::remove_file(&file);
}

pub fn creditor() -> Creditor {
    Creditor {
        name: "Incasso Demo B.V.".into(),
        iban: "NL91ABNA0417164300".into(),
        bic: Some("ABNANL2A".into()),
        scheme_id: "NL57ZZZ999999999999".into(),
    }
}

pub fn tx(e2e: &str, cents: u64) -> Transaction {
    Transaction {
        end_to_end_id: e2e.into(),
        amount_cents: cents,
        mandate: Mandate {
            id: format!("MNDT-{e2e}"),
            signed_on: date(2024, 1, 15),
            amendment: None,
        },
        debtor: Debtor {
            name: "Jan de Vries".into(),
            iban: "NL44RABO0123456789".into(),
            bic: Some("RABONL2U".into()),
        },
        remittance: Some(Remittance::Unstructured("Factuur 2025-001".into())),
    }
}

/// A message exercising everything: three blocks (FRST, RCUR, OOFF),
/// amendments of every kind, structured (ISO 11649 and Belgian) and
/// unstructured remittance, debtors with and without BIC, text that needs
/// transliteration and XML escaping in the source.
pub fn full_message() -> Message {
    let mut t1 = tx("E2E-0001", 12_345);
    t1.debtor.name = "Zoë Müller & Söhne".into();
    t1.remittance = Some(Remittance::Structured(CreditorReference::Iso11649(
        "RF18 5390 0754 7034".into(),
    )));
    let mut t2 = tx("E2E-0002", 1);
    t2.debtor = Debtor {
        name: "Bakkerij 't Hoekje".into(),
        iban: "BE68 5390 0754 7034".into(),
        bic: None,
    };
    t2.remittance = Some(Remittance::Structured(CreditorReference::Other {
        reference: "090933755493".into(),
        issuer: Some("BBA".into()),
    }));
    t2.mandate.amendment = Some(Amendment {
        original_mandate_id: Some("OLD-MANDATE-1".into()),
        original_creditor: Some(OriginalCreditor {
            name: Some("Oude Naam B.V.".into()),
            scheme_id: Some("DE98ZZZ09999999999".into()),
        }),
        original_debtor_account: None,
        debtor_agent_changed: false,
    });
    let mut t3 = tx("E2E-0003", 99_999_999_999);
    t3.mandate.amendment = Some(Amendment {
        original_debtor_account: Some(OriginalDebtorAccount::Iban("NL91ABNA0417164300".into())),
        ..Amendment::default()
    });
    t3.remittance = None;
    let mut t4 = tx("E2E-0004", 100);
    t4.mandate.amendment = Some(Amendment {
        original_debtor_account: Some(OriginalDebtorAccount::Smnda),
        debtor_agent_changed: true,
        ..Amendment::default()
    });
    t4.debtor.bic = Some("GEBABEBBXXX".into());
    t4.remittance = Some(Remittance::Unstructured(
        "Nota's 17, 18 en 19 <samen> \"betaald\" - dank u".into(),
    ));
    let t5 = tx("E2E-0005", 4_999);
    Message {
        message_id: "MSG-2025-03-01-001".into(),
        created_at: DateTime::new(date(2025, 3, 1), 9, 30, 5).expect("valid time"),
        initiating_party: "Incasso Demo B.V.".into(),
        creditor: creditor(),
        scheme: Scheme::Core,
        batches: vec![
            PaymentInformation {
                id: "PMT-FRST".into(),
                sequence_type: SequenceType::First,
                collection_date: date(2025, 3, 10),
                batch_booking: Some(true),
                transactions: vec![t1, t2],
            },
            PaymentInformation {
                id: "PMT-RCUR".into(),
                sequence_type: SequenceType::Recurring,
                collection_date: date(2025, 3, 7),
                batch_booking: None,
                transactions: vec![t3, t4],
            },
            PaymentInformation {
                id: "PMT-OOFF".into(),
                sequence_type: SequenceType::OneOff,
                collection_date: date(2025, 3, 7),
                batch_booking: Some(false),
                transactions: vec![t5],
            },
        ],
    }
}

/// The text of the first `<name>` element, or all of them.
pub fn leaves<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        rest = &rest[i + open.len()..];
        let Some(j) = rest.find(&close) else { break };
        out.push(&rest[..j]);
        rest = &rest[j..];
    }
    out
}
