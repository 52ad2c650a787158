//! Rendered letters: the figures, the statutory sentences, the languages, determinism, the QR
//! code and combined print runs.

use incasso_letters::{
    CostsStatus, Language, LetterError, Templates, combine, layout, render, sample,
};

use crate::{assert_contains, pages, pdf, sample_for, text};

#[test]
fn fourteen_day_letter_states_term_from_day_after_receipt_and_exact_costs() {
    let data = sample_for("fourteen_day_letter", Language::Nl);
    let t = text(&pdf("fourteen_day_letter", &data));
    assert_contains(
        &t,
        &[
            "Bakkerij De Vries B.V.",
            "J. Jansen",
            "Dorpsstraat 12",
            "1234 AB Amsterdam",
            // The open invoices with Dutch amounts.
            "F2026-0101",
            "€ 1.234,56",
            "€ 200,00",
            "€ 300,00",
            "€ 1.534,56",
            // The statutory sentence: fourteen days from the day after receipt.
            "binnen veertien dagen, te rekenen vanaf de dag na ontvangst van deze brief",
            "Wij gaan ervan uit dat u deze brief op 7 december 2026 ontvangt",
            "tot en met 21 december 2026",
            // The exact collection costs, and that this letter is free of charge.
            "buitengerechtelijke incassokosten verschuldigd van € 230,18",
            "Aan deze brief zijn voor u geen kosten verbonden",
            // Payment instructions.
            "NL91 ABNA 0417 1643 00",
            "7000 0000 0000 0042",
            "Ons kenmerk",
            "D-000042",
            "3 december 2026",
            "KvK 12345678",
            "Pagina 1 van",
        ],
    );
    // Nothing wrong like "na dagtekening" (defective wording, HR 25-11-2016).
    assert!(!t.contains("dagtekening"), "{t}");
    assert!(!t.contains("na heden"), "{t}");
}

#[test]
fn final_demand_claims_interest_and_costs_with_total() {
    let data = sample::letter(Language::Nl);
    let t = text(&pdf("final_demand", &data));
    assert_contains(
        &t,
        &[
            "Laatste aanmaning",
            "Specificatie wettelijke rente",
            "02-10-2026 – 03-12-2026",
            "63",
            "4,00%",
            "€ 8,52",
            "€ 1,61",
            "Totaal rente",
            "€ 10,13",
            "Buitengerechtelijke incassokosten",
            "€ 230,18",
            "Totaal te betalen",
            "€ 1.774,87",
            "BIK art. 2: 15% of € 1.534,56",
            "21 december 2026",
            "https://pay.example/l/D-000042",
        ],
    );
}

#[test]
fn belgian_first_reminder_has_the_book_xix_content_in_dutch_and_french() {
    let mut data = sample_for("be_first_reminder", Language::Nl);
    data.creditor.registration_number = Some("0123.456.789".into());
    let t = text(&pdf("be_first_reminder", &data));
    assert_contains(
        &t,
        &[
            // 1. creditor and enterprise number
            "Bakkerij De Vries B.V. (ondernemingsnummer 0123.456.789)",
            // 2. balance, damages and interest if unpaid
            "Het openstaande saldo bedraagt € 1.534,56",
            "een schadevergoeding van € 230,18",
            "interesten op het openstaande saldo tegen 4,00% per jaar",
            // 3. description and due date
            "Levering brood en banket september",
            "01-10-2026",
            // 4. a term of at least fourteen days
            "ten minste veertien kalenderdagen",
            "21 december 2026",
            // free of charge
            "Deze eerste herinnering is kosteloos",
        ],
    );
    data.language = Language::Fr;
    let t = text(&pdf("be_first_reminder", &data));
    assert_contains(
        &t,
        &[
            "Premier rappel",
            "0123.456.789)",
            "1.534,56 €",
            "une indemnité de 230,18 €",
            "au moins quatorze jours calendrier",
            "Ce premier rappel est gratuit",
            "21 décembre 2026",
            "Madame, Monsieur,",
        ],
    );
}

#[test]
fn english_french_and_german_wording() {
    let cases: [(Language, &str, &[&str]); 6] = [
        (
            Language::En,
            "payment_reminder",
            &[
                "Payment reminder",
                "€1,774.87",
                "21 December 2026",
                "Dear Sir or Madam,",
            ],
        ),
        (
            Language::En,
            "fourteen_day_letter",
            &[
                "within fourteen days, starting on the day after you receive this letter",
                "€230.18",
            ],
        ),
        (
            Language::Fr,
            "formal_notice",
            &["Mise en demeure", "1.774,87 €", "21 décembre 2026"],
        ),
        (
            Language::De,
            "payment_reminder",
            &[
                "Zahlungserinnerung",
                "1.774,87 €",
                "21. Dezember 2026",
                "Seite 1 von",
            ],
        ),
        (Language::De, "rent_arrears", &["Mietrückstand", "Räumung"]),
        (
            Language::Nl,
            "payment_plan_confirmation",
            &[
                "Bevestiging betalingsregeling",
                "1 januari 2027",
                "€ 600,00",
                "€ 574,87",
                "Handtekening voor akkoord",
            ],
        ),
    ];
    for (lang, name, needles) in cases {
        let data = sample_for(name, lang);
        let t = text(&pdf(name, &data));
        assert_contains(&t, needles);
    }
}

#[test]
fn same_input_gives_the_same_bytes() {
    let data = sample::letter(Language::Nl);
    let a = pdf("final_demand", &data);
    // Other letters in between (the compiler's caches change), then the same one again.
    let _ = pdf("payment_reminder", &sample::minimal(Language::Fr));
    let b = pdf("final_demand", &data);
    assert_eq!(a, b, "rendering is deterministic");
    // From another thread, with a fresh template set.
    let c = std::thread::spawn(move || pdf("final_demand", &data))
        .join()
        .expect("thread");
    assert_eq!(a, c);
    // The creation date comes from the parameter.
    let raw = String::from_utf8_lossy(&a);
    assert!(
        raw.contains("20261203080000"),
        "creation date from created_at"
    );
    // Another created_at changes the bytes.
    let templates = Templates::builtin();
    let template = templates
        .get("final_demand", Language::Nl)
        .expect("template");
    let later = jiff::Timestamp::from_second(1_796_371_200).expect("ts");
    let d = render(&sample::letter(Language::Nl), &template, later).expect("renders");
    assert_ne!(a, d);
}

#[test]
fn epc_qr_payload_is_built_from_the_letter_data() {
    let data = sample::letter(Language::Nl);
    let payload = data.epc_payload().expect("payload");
    assert_eq!(
        String::from_utf8(payload.clone()).expect("utf-8"),
        "BCD\n002\n1\nSCT\nABNANL2A\nBakkerij De Vries B.V.\nNL91ABNA0417164300\nEUR1774.87\n\n\n7000 0000 0000 0042"
    );
    // A structured reference goes into element 10.
    let mut structured = data.clone();
    structured.payment.reference = "RF18 5390 0754 7034".into();
    structured.payment.structured = true;
    let p = String::from_utf8(structured.epc_payload().expect("payload")).expect("utf-8");
    assert!(p.ends_with("EUR1774.87\n\nRF18539007547034"), "{p}");
    // A zero amount cannot make a QR code: a clear error.
    let mut zero = data;
    zero.payment.amount = 0;
    assert!(matches!(zero.epc_payload(), Err(LetterError::Data { .. })));
}

#[test]
fn the_printed_qr_code_scans_to_the_exact_payload() {
    // Page 1 rasterised at 150 dpi by poppler and scanned with rqrr: the symbol in the payment
    // block decodes to the very bytes `epc_payload` builds (EPC069-12), at level M.
    let data = sample::letter(Language::Nl);
    let payload = data.epc_payload().expect("payload");
    let (w, h, px) = crate::page_gray(&pdf("payment_reminder", &data), 150);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| px[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR symbol on the page");
    let mut bytes = Vec::new();
    let meta = grids[0]
        .decode_to(&mut bytes)
        .expect("the printed symbol decodes");
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(&payload)
    );
    assert_eq!(bytes, payload);
    assert_eq!(meta.ecc_level, 0, "level M");
    // Without the QR option there is no symbol.
    let mut without = data;
    without.qr = false;
    let (w, h, px) = crate::page_gray(&pdf("payment_reminder", &without), 150);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| px[y * w + x]);
    assert!(image.detect_grids().is_empty());
}

#[test]
fn bad_data_is_refused_with_the_field() {
    let templates = Templates::builtin();
    let t = templates
        .get("final_demand", Language::Nl)
        .expect("template");
    let mut data = sample::letter(Language::Nl);
    data.total += 1;
    let err = render(&data, &t, sample::created_at()).expect_err("total does not add up");
    assert!(err.to_string().contains("total"), "{err}");

    let mut data = sample::letter(Language::Nl);
    data.debtor.address.lines.clear();
    let err = render(&data, &t, sample::created_at()).expect_err("no address");
    assert!(err.to_string().contains("debtor.address"), "{err}");

    // A fourteen-day letter without its term, or with claimed costs, is refused.
    let f = templates
        .get("fourteen_day_letter", Language::Nl)
        .expect("template");
    let mut data = sample_for("fourteen_day_letter", Language::Nl);
    data.term = None;
    let err = render(&data, &f, sample::created_at()).expect_err("no term");
    assert!(err.to_string().contains("term"), "{err}");
    let mut data = sample::letter(Language::Nl);
    data.costs.as_mut().expect("costs").status = CostsStatus::Claimed;
    assert!(render(&data, &f, sample::created_at()).is_err());
}

#[test]
fn letters_combine_into_one_print_file() {
    let templates = Templates::builtin();
    let mut laid = Vec::new();
    let mut expected_pages = 0;
    for (name, lang) in [
        ("payment_reminder", Language::Nl),
        ("final_demand", Language::Nl),
        ("be_first_reminder", Language::Fr),
    ] {
        let t = templates.get(name, lang).expect("template");
        let l = layout(&sample_for(name, lang), &t, sample::created_at()).expect("layout");
        expected_pages += l.pages();
        laid.push(l);
    }
    let combined = combine(&laid, "print 2026-12-03", sample::created_at()).expect("combine");
    assert_eq!(pages(&combined), expected_pages);
    let t = text(&combined);
    assert_contains(
        &t,
        &[
            "Betalingsherinnering",
            "Laatste aanmaning",
            "Premier rappel",
        ],
    );
    // Deterministic as well.
    assert_eq!(
        combined,
        combine(&laid, "print 2026-12-03", sample::created_at()).expect("combine")
    );
}

#[test]
fn a_long_invoice_list_runs_over_pages_with_page_numbers() {
    let mut data = sample::minimal(Language::Nl);
    let line = data.invoices[0].clone();
    data.invoices = (0..60)
        .map(|i| incasso_letters::InvoiceLine {
            number: format!("F-{i:04}"),
            ..line.clone()
        })
        .collect();
    data.total = 60 * 123_456;
    data.payment.amount = data.total;
    let bytes = pdf("payment_reminder", &data);
    let n = pages(&bytes);
    assert!(n >= 2, "{n} pages");
    let t = text(&bytes);
    assert_contains(&t, &["F-0059", &format!("Pagina 2 van {n}"), "€ 74.073,60"]);
}

#[test]
fn layout_many_gives_each_letter_in_order_as_render_does() {
    // More letters than cores, with different debtors and templates, and one that cannot be made
    // (a statutory letter without its term): every result is in its place, byte-identical to
    // rendering that letter alone, and the refusal stays with its own letter.
    let templates = Templates::builtin();
    let names = ["payment_reminder", "final_demand", "fourteen_day_letter"];
    let mut data = Vec::new();
    let mut chosen = Vec::new();
    for i in 0..9 {
        let name = names[i % names.len()];
        let mut d = sample_for(name, Language::Nl);
        d.debtor.name = format!("Debiteur {i}");
        if i == 5 {
            d.term = None;
        }
        data.push(d);
        chosen.push(templates.get(name, Language::Nl).expect("template"));
    }
    let jobs: Vec<incasso_letters::Job<'_>> = data
        .iter()
        .zip(&chosen)
        .map(|(data, template)| incasso_letters::Job { data, template })
        .collect();
    let results = incasso_letters::layout_many(&jobs, sample::created_at());
    assert_eq!(results.len(), 9);
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok((laid, pdf)) => {
                assert_ne!(i, 5);
                assert!(laid.pages() >= 1);
                let alone = render(&data[i], &chosen[i], sample::created_at()).expect("renders");
                assert_eq!(pdf, alone, "letter {i}");
                assert!(text(&pdf).contains(&format!("Debiteur {i}")), "letter {i}");
            }
            Err(e) => {
                assert_eq!(i, 5, "{e}");
                assert!(
                    matches!(e, LetterError::Data { ref field, .. } if field == "term"),
                    "{e}"
                );
            }
        }
    }
}
