//! Integration tests of the letters crate: real PDFs rendered from the built-in templates and read
//! back with poppler (`pdftotext`, `pdftoppm`, `pdfinfo`).

mod golden;
mod render;
mod templates;

use std::path::Path;
use std::process::Command;

use incasso_letters::{Language, LetterData, Template, Templates, render, sample};

/// Renders a letter with the built-in templates.
pub fn pdf(name: &str, data: &LetterData) -> Vec<u8> {
    let templates = Templates::builtin();
    let template: Template = templates.get(name, data.language).expect("template");
    render(data, &template, sample::created_at()).expect("renders")
}

/// Writes the bytes to a file in `dir` and returns its path.
pub fn write(dir: &Path, file: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(file);
    std::fs::write(&path, bytes).expect("write");
    path
}

/// The text of a PDF as `pdftotext` reads it, whitespace collapsed (no-break spaces included).
pub fn text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "letter.pdf", pdf);
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) is installed");
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .replace('\u{a0}', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The number of pages `pdfinfo` reports.
pub fn pages(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "letter.pdf", pdf);
    let out = Command::new("pdfinfo")
        .arg(&path)
        .output()
        .expect("pdfinfo");
    let info = String::from_utf8_lossy(&out.stdout).to_string();
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in {info}"))
}

/// Asserts that `text` contains every needle, showing the text when it does not.
pub fn assert_contains(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "missing {n:?} in:\n{text}");
    }
}

pub fn sample_for(name: &str, language: Language) -> LetterData {
    sample::for_template(name, language)
}

/// Renders page 1 of a PDF with `pdftoppm -gray` (a binary PGM) at `dpi`: (width, height, pixels).
pub fn page_gray(pdf: &[u8], dpi: u32) -> (usize, usize, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "letter.pdf", pdf);
    let out = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args([
            "-r",
            &dpi.to_string(),
            "-gray",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
        ])
        .arg(&path)
        .arg(&out)
        .status()
        .expect("pdftoppm (Debian poppler-utils) is installed");
    assert!(status.success());
    parse_pgm(&std::fs::read(dir.path().join("page.pgm")).expect("pgm"))
}

/// Parses a binary PGM (P5, maxval 255).
pub fn parse_pgm(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes[i] == b'#' {
            while bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).to_string());
    }
    assert_eq!(fields[0], "P5", "binary PGM");
    let w: usize = fields[1].parse().expect("width");
    let h: usize = fields[2].parse().expect("height");
    let data = bytes[i + 1..].to_vec();
    assert_eq!(data.len(), w * h, "8-bit PGM");
    (w, h, data)
}
