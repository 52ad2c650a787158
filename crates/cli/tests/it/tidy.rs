//! Tidy checks over the whole repository: every Rust file starts with a `//!` paragraph saying
//! what it is for, and the pure core never reads the clock.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&crates_dir(), &mut files);
    assert!(
        files.len() > 50,
        "found only {} files under {}",
        files.len(),
        crates_dir().display()
    );
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .map(|s| s.starts_with("//!"))
                .unwrap_or(false)
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! doc paragraph: {missing:#?}"
    );
}

#[test]
fn the_pure_core_never_reads_the_clock() {
    for krate in ["money", "calendar", "banking", "domain", "rules", "dunning"] {
        let mut files = Vec::new();
        rust_files(&crates_dir().join(krate).join("src"), &mut files);
        assert!(!files.is_empty(), "{krate} has no sources");
        for f in files {
            let text = std::fs::read_to_string(&f).expect("read");
            for banned in [
                "SystemTime::now",
                "Zoned::now",
                "Timestamp::now",
                "Instant::now",
                "std::fs::",
                "std::net::",
            ] {
                assert!(
                    !text.contains(banned),
                    "{} uses {banned}: the pure core takes today as a parameter and does no IO",
                    f.display()
                );
            }
        }
    }
}
