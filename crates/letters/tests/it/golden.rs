//! Golden images: three letters rendered at 50 dpi by `pdftoppm` (greyscale) and compared with
//! the images in `tests/golden` with a tolerance (font rasterisation may differ slightly between
//! poppler versions). The goldens are binary PGM files (`pdftoppm -r 50 -gray`), which the test
//! reads without an image library. Regenerate with
//! `LETTERS_UPDATE_GOLDEN=1 cargo test -p incasso-letters --test it golden`.

use std::path::PathBuf;

use incasso_letters::Language;

use crate::{page_gray, parse_pgm, pdf, sample_for};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn check(name: &str, lang: Language) {
    let file = golden_dir().join(format!("{}-{name}.pgm", lang.code()));
    let (w1, h1, a) = page_gray(&pdf(name, &sample_for(name, lang)), 50);
    if std::env::var_os("LETTERS_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).expect("mkdir");
        let mut bytes = format!("P5\n{w1} {h1}\n255\n").into_bytes();
        bytes.extend_from_slice(&a);
        std::fs::write(&file, bytes).expect("write golden");
        return;
    }
    let expected = std::fs::read(&file).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run with LETTERS_UPDATE_GOLDEN=1",
            file.display()
        )
    });
    let (w2, h2, e) = parse_pgm(&expected);
    assert_eq!((w1, h1), (w2, h2), "page size of {}", file.display());
    // Pixels that differ clearly, and the summed difference, per thousand pixels.
    let differing = a
        .iter()
        .zip(&e)
        .filter(|(x, y)| x.abs_diff(**y) > 64)
        .count();
    let total: u64 = a
        .iter()
        .zip(&e)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    let n = a.len() as u64;
    assert!(
        differing * 1000 <= a.len() * 5 && total <= 2 * n,
        "{} differs: {differing} of {n} pixels, summed difference {total} \
         (LETTERS_UPDATE_GOLDEN=1 regenerates after an intended change)",
        file.display()
    );
}

#[test]
fn golden_nl_fourteen_day_letter() {
    check("fourteen_day_letter", Language::Nl);
}

#[test]
fn golden_fr_be_first_reminder() {
    check("be_first_reminder", Language::Fr);
}

#[test]
fn golden_en_payment_plan_confirmation() {
    check("payment_plan_confirmation", Language::En);
}
