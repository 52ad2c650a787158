//! Rendering a payload as a QR code symbol (SVG) with the `qrcode` crate:
//! error-correction level M and a version of at most 13, as EPC069-12
//! requires.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::error::Error;
use crate::payload::MAX_PAYLOAD_BYTES;

/// Highest QR version the EPC guidelines allow.
pub const MAX_QR_VERSION: u8 = 13;

fn code(payload: &[u8]) -> Result<(QrCode, u8), Error> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(Error::PayloadTooLong { len: payload.len() });
    }
    let code = QrCode::with_error_correction_level(payload, EcLevel::M)
        .map_err(|e| Error::Qr(e.to_string()))?;
    let version = match code.version() {
        qrcode::Version::Normal(v) => u8::try_from(v).unwrap_or(u8::MAX),
        qrcode::Version::Micro(_) => 0,
    };
    if version == 0 || version > MAX_QR_VERSION {
        return Err(Error::Qr(format!(
            "the symbol needs version {version}, at most {MAX_QR_VERSION} is allowed"
        )));
    }
    Ok((code, version))
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
    Ok(Matrix {
        version,
        width: code.width(),
        dark: code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect(),
    })
}

/// The QR version (1 ..= 13) the payload needs at error-correction level M.
pub fn qr_version(payload: &[u8]) -> Result<u8, Error> {
    code(payload).map(|(_, v)| v)
}

/// Renders the payload bytes (from [`crate::build`]) as an SVG document:
/// error-correction level M, version ≤ 13, 4-module quiet zone, 4 px per
/// module, black on white. The same payload gives the same SVG.
pub fn to_svg(payload: &[u8]) -> Result<String, Error> {
    let (code, _) = code(payload)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .module_dimensions(4, 4)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}
