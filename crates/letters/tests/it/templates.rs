//! The template set: every built-in template compiles, a directory overrides file by file, a
//! broken template is reported with its name and line (also when only some templates are
//! checked), a missing one with what exists.

use incasso_letters::{Language, LetterError, Origin, TEMPLATE_NAMES, Templates, render, sample};

use crate::{sample_for, text};

#[test]
fn every_builtin_template_compiles_in_every_language() {
    let templates = Templates::builtin();
    for lang in Language::ALL {
        let mut names = templates.names(lang);
        names.sort();
        let mut expected: Vec<String> = TEMPLATE_NAMES.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(names, expected, "{lang:?}");
    }
    assert_eq!(templates.check_all().expect("all compile"), 36);
}

#[test]
fn unknown_template_or_include_is_a_clear_error() {
    let templates = Templates::builtin();
    let err = templates
        .get("call", Language::Nl)
        .expect_err("call is no letter");
    let msg = err.to_string();
    assert!(
        msg.contains("\"call\"") && msg.contains("payment_reminder"),
        "{msg}"
    );
    assert!(templates.get("lang", Language::Nl).is_err());
    assert!(templates.get("lib", Language::Nl).is_err());
}

#[test]
fn a_directory_overrides_one_template_and_keeps_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("nl")).expect("mkdir");
    let builtin = Templates::builtin();
    let original = builtin.text("nl/payment_reminder.typ").expect("text");
    let adapted = original.replace(
        "Mogelijk is dit aan uw aandacht ontsnapt.",
        "Misschien is de factuur zoekgeraakt; wij sturen graag een kopie.",
    );
    assert_ne!(original, adapted);
    std::fs::write(dir.path().join("nl/payment_reminder.typ"), adapted).expect("write");
    // A creditor-specific template next to the shipped ones.
    std::fs::write(
        dir.path().join("nl/thank_you.typ"),
        "#import \"lang.typ\": *\n#show: letter.with(subject: \"Bedankt\")\nDank voor uw betaling van #d.total.\n",
    )
    .expect("write");
    let templates = Templates::from_dir(dir.path()).expect("loads");
    assert!(matches!(
        templates.origin("nl/payment_reminder.typ"),
        Some(Origin::Dir(_))
    ));
    assert_eq!(
        templates.origin("nl/final_demand.typ"),
        Some(&Origin::Builtin)
    );
    let data = sample::letter(Language::Nl);
    let t = templates
        .get("payment_reminder", Language::Nl)
        .expect("template");
    let out = text(&render(&data, &t, sample::created_at()).expect("renders"));
    assert!(out.contains("Misschien is de factuur zoekgeraakt"), "{out}");
    let t = templates.get("thank_you", Language::Nl).expect("custom");
    let out = text(&render(&data, &t, sample::created_at()).expect("renders"));
    assert!(
        out.contains("Dank voor uw betaling van € 1.774,87"),
        "{out}"
    );
    assert_eq!(templates.check_all().expect("all compile"), 37);
}

#[test]
fn a_broken_template_is_reported_with_name_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("fr")).expect("mkdir");
    // Line 4 uses a field that does not exist; line 6 calls an unknown function.
    std::fs::write(
        dir.path().join("fr/formal_notice.typ"),
        "#import \"lang.typ\": *\n#show: letter.with(subject: \"Mise en demeure\")\n\nMontant : #d.totl\n\n#tableau-inconnu()\n",
    )
    .expect("write");
    let templates = Templates::from_dir(dir.path()).expect("loads");
    let err = templates.check_all().expect_err("broken template");
    let LetterError::Template(problems) = &err else {
        panic!("expected a template error, got {err}");
    };
    assert!(
        problems
            .iter()
            .all(|p| p.template == "fr/formal_notice.typ"),
        "{problems:?}"
    );
    let first = &problems[0];
    assert_eq!(first.file, "fr/formal_notice.typ");
    assert_eq!(first.line, 4, "{first}");
    assert!(first.message.contains("totl"), "{first}");
    let msg = err.to_string();
    assert!(
        msg.contains("template fr/formal_notice.typ line 4"),
        "{msg}"
    );
    // Checking some templates (what a print run does): only those are compiled.
    let fine = [
        ("formal_notice".to_string(), Language::Nl),
        ("payment_reminder".to_string(), Language::Fr),
    ];
    assert_eq!(templates.check(&fine).expect("these compile"), 2);
    let with_broken = [
        ("formal_notice".to_string(), Language::Nl),
        ("formal_notice".to_string(), Language::Fr),
    ];
    let err = templates.check(&with_broken).expect_err("broken template");
    assert!(
        err.to_string()
            .contains("template fr/formal_notice.typ line 4"),
        "{err}"
    );
    // The same error from render, before anything is written or sent.
    let t = templates
        .get("formal_notice", Language::Fr)
        .expect("template");
    let e = render(
        &sample_for("formal_notice", Language::Fr),
        &t,
        sample::created_at(),
    )
    .expect_err("fails");
    assert!(e.to_string().contains("line 4"), "{e}");
}

#[test]
fn a_broken_shared_layout_names_the_include() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lib = Templates::builtin()
        .text("lib.typ")
        .expect("lib")
        .to_string();
    let broken = lib.replacen("#let head-cell(x) =", "#let head-cell(x) = (", 1);
    std::fs::write(dir.path().join("lib.typ"), broken).expect("write");
    let templates = Templates::from_dir(dir.path()).expect("loads");
    let err = templates.check_all().expect_err("broken lib");
    let LetterError::Template(problems) = &err else {
        panic!("{err}");
    };
    assert!(
        problems.iter().any(|p| p.file == "lib.typ" && p.line > 0),
        "{problems:?}"
    );
}

#[test]
fn a_missing_directory_is_an_error() {
    let err =
        Templates::from_dir(std::path::Path::new("/nonexistent/letters")).expect_err("no dir");
    assert!(err.to_string().contains("/nonexistent/letters"), "{err}");
}
