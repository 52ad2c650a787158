//! EPC069-12 QR code ("GiroCode", SEPA credit transfer QR): the payload
//! builder and parser, byte for byte, sans-IO.
//!
//! [`build`] turns a [`Payment`] into the payload bytes; [`parse`] reads
//! them back. The payload is the service tag `BCD`, the version `001` or
//! `002`, the character set (`1` = UTF-8 … `8` = ISO 8859-15, all eight
//! supported), `SCT`, the BIC (optional in `002`), the beneficiary's name
//! (≤ 70) and IBAN, the amount (`EUR12.3`, 0.01 ..= 999 999 999.99, from
//! integer cents), a purpose code, a structured reference *or* an
//! unstructured remittance (≤ 140; the [`Remittance`] enum makes "both"
//! impossible to build, and [`parse`] refuses it), and the beneficiary to
//! originator information (≤ 70); LF separated, nothing after the last
//! element present, at most 331 bytes.
//!
//! [`to_svg`] renders the payload as a QR symbol at error-correction level
//! M, version ≤ 13 (the `fast_qr` crate); [`to_matrix`] gives the modules
//! for other renderers.
//!
//! ```
//! use incasso_epcqr::*;
//!
//! let payment = Payment {
//!     version: Version::V002,
//!     charset: Charset::Utf8,
//!     bic: None,
//!     name: "Incasso Demo B.V.".into(),
//!     iban: "NL91ABNA0417164300".into(),
//!     amount_cents: Some(12_345),
//!     purpose: None,
//!     remittance: Some(Remittance::Structured("RF18539007547034".into())),
//!     information: None,
//! };
//! let bytes = build(&payment)?;
//! assert_eq!(bytes, b"BCD\n002\n1\nSCT\n\nIncasso Demo B.V.\nNL91ABNA0417164300\nEUR123.45\n\nRF18539007547034");
//! assert_eq!(parse(&bytes)?, payment);
//! # Ok::<(), incasso_epcqr::Error>(())
//! ```

mod charset;
mod error;
mod payload;
mod qr;
mod tables;

pub use charset::Charset;
pub use error::{Error, Field};
pub use payload::{
    MAX_AMOUNT_CENTS, MAX_PAYLOAD_BYTES, Payment, Remittance, Version, build, format_amount, parse,
    parse_amount,
};
pub use qr::{MAX_QR_VERSION, Matrix, qr_version, to_matrix, to_svg};
