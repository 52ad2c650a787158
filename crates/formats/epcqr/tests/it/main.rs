//! Integration tests for incasso-epcqr: the four published example
//! payloads built and parsed byte for byte, refusals, and round trips in
//! every character set.

mod examples;
mod props;
mod qr;
mod refusals;

use std::path::PathBuf;

use incasso_epcqr::*;

pub fn read(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A valid version 002 payment to vary in the refusal tests.
pub fn payment() -> Payment {
    Payment {
        version: Version::V002,
        charset: Charset::Utf8,
        bic: Some("ABNANL2A".into()),
        name: "Incasso Demo B.V.".into(),
        iban: "NL91ABNA0417164300".into(),
        amount_cents: Some(12_345),
        purpose: Some("GDDS".into()),
        remittance: Some(Remittance::Unstructured("Factuur 2025-001".into())),
        information: Some("Dank u wel".into()),
    }
}
