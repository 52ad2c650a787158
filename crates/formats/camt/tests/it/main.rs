//! Integration tests for incasso-camt: every sample file, the genkgo
//! expected-result files, balance checks, hostile input and streaming.

mod genkgo;
mod hostile;
mod samples;
mod streaming;

use std::path::{Path, PathBuf};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn read(rel: &str) -> Vec<u8> {
    let path = data_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// All `.xml` files below `tests/data/<kind>`, sorted, as paths relative to
/// `tests/data`.
pub fn xml_files(kind: &str) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().and_then(|e| e.to_str()) == Some("xml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&data_dir().join(kind), &mut out);
    let base = data_dir();
    let mut rel: Vec<String> = out
        .iter()
        .map(|p| {
            p.strip_prefix(&base)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    rel.sort();
    rel
}
