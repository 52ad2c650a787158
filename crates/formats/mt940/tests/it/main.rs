//! Integration tests for incasso-mt940: every sample file, the WoLpH/mt940
//! expected-result files, balance checks and hostile input.

mod hostile;
mod samples;
mod wolph;

use std::path::PathBuf;

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn read(rel: &str) -> Vec<u8> {
    let path = data_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every statement sample (`.sta`, `.txt`), sorted, relative to `tests/data`.
pub fn statement_files() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["ing-libmt94x", "wolph", "wolph-jejik"] {
        for e in std::fs::read_dir(data_dir().join(dir)).unwrap() {
            let p = e.unwrap().path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext == "sta" || ext == "txt" {
                out.push(format!(
                    "{dir}/{}",
                    p.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    out.sort();
    out
}
