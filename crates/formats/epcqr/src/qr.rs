//! Rendering a payload as a QR code symbol with the `fast_qr` crate: byte mode,
//! error-correction level M and a version of at most 13, as EPC069-12
//! requires; as a module matrix or as a compact SVG (one path, one rectangle per
//! horizontal run of dark modules).

use fast_qr::{ECL, Mode, QRBuilder, QRCode};

use crate::error::Error;
use crate::payload::MAX_PAYLOAD_BYTES;

/// Highest QR version the EPC guidelines allow.
pub const MAX_QR_VERSION: u8 = 13;

fn code(payload: &[u8]) -> Result<(Box<QRCode>, u8), Error> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(Error::PayloadTooLong { len: payload.len() });
    }
    let code = QRBuilder::new(payload)
        .ecl(ECL::M)
        .mode(Mode::Byte)
        .build()
        .map_err(|e| Error::Qr(e.to_string()))?;
    // 17 + 4 × version modules per side.
    let version = code
        .size
        .checked_sub(17)
        .filter(|n| n % 4 == 0)
        .and_then(|n| u8::try_from(n / 4).ok())
        .unwrap_or(0);
    if version == 0 || version > MAX_QR_VERSION {
        return Err(Error::Qr(format!(
            "the symbol needs version {version}, at most {MAX_QR_VERSION} is allowed"
        )));
    }
    Ok((Box::new(code), version))
}

/// The modules of a QR symbol, row by row, without quiet zone; for
/// renderers other than SVG (a PDF letter draws the dark modules itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// QR version, 1 ..= 13.
    pub version: u8,
    /// Modules per side (17 + 4 × version).
    pub width: usize,
    dark: Vec<bool>,
}

impl Matrix {
    /// True when the module in column `x`, row `y` is dark; false outside.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width
            && y < self.width
            && self.dark.get(y * self.width + x).copied().unwrap_or(false)
    }
}

/// The symbol for the payload bytes: level M, version ≤ 13.
pub fn to_matrix(payload: &[u8]) -> Result<Matrix, Error> {
    let (code, version) = code(payload)?;
    let width = code.size;
    Ok(Matrix {
        version,
        width,
        dark: code.data[..width * width]
            .iter()
            .map(|m| m.value())
            .collect(),
    })
}

/// The QR version (1 ..= 13) the payload needs at error-correction level M.
pub fn qr_version(payload: &[u8]) -> Result<u8, Error> {
    code(payload).map(|(_, v)| v)
}

/// Quiet zone around the symbol, in modules (ISO/IEC 18004 asks for 4).
const QUIET: usize = 4;

/// Renders the payload bytes (from [`crate::build`]) as an SVG document:
/// error-correction level M, version ≤ 13, a 4-module quiet zone, 4 px per
/// module, black on white, one `<path>` with a rectangle per horizontal run
/// of dark modules. The same payload gives the same SVG.
pub fn to_svg(payload: &[u8]) -> Result<String, Error> {
    use std::fmt::Write;

    let m = to_matrix(payload)?;
    let side = (m.width + 2 * QUIET) * 4;
    let mut svg = String::with_capacity(m.width * m.width * 4 + 400);
    // Writing to a String cannot fail.
    let _ = write!(
        svg,
        "<?xml version=\"1.0\" standalone=\"yes\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{side}\" height=\"{side}\" viewBox=\"0 0 {v} {v}\" shape-rendering=\"crispEdges\"><rect x=\"0\" y=\"0\" width=\"{v}\" height=\"{v}\" fill=\"#ffffff\"/><path fill=\"#000000\" d=\"",
        v = m.width + 2 * QUIET
    );
    for y in 0..m.width {
        let mut x = 0;
        while x < m.width {
            if !m.is_dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < m.width && m.is_dark(x, y) {
                x += 1;
            }
            let _ = write!(
                svg,
                "M{} {}h{}v1h-{}z",
                start + QUIET,
                y + QUIET,
                x - start,
                x - start
            );
        }
    }
    svg.push_str("\"/></svg>\n");
    Ok(svg)
}
