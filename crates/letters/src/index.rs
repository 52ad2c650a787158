//! The index PDF of a case bundle (dossier export): `IndexData` (parties, claim, calculation
//! sheet, timeline, documents) rendered with the built-in Typst template
//! `templates/dossier_index.typ` in the same world as the letters (embedded fonts, no file
//! system, network or clock). Deterministic: the same data, language and `created_at` give the
//! same bytes.

use std::collections::HashMap;
use std::sync::LazyLock;

use incasso_dossier::IndexData;
use serde_json::{Value, json};
use typst::foundations::Bytes;
use typst::syntax::FileId;
use typst_layout::PagedDocument;

use crate::format::{amount, rate, short_date};
use crate::world::{File, LetterWorld, file_id};
use crate::{Language, LetterError, TemplateProblem};

/// The template's path in its own small set.
pub const INDEX_TEMPLATE: &str = "dossier_index.typ";

static FILES: LazyLock<(HashMap<FileId, File>, Option<FileId>)> = LazyLock::new(|| {
    let mut files = HashMap::new();
    let id = file_id(INDEX_TEMPLATE);
    if let Some(id) = id {
        files.insert(
            id,
            File::new(
                id,
                include_str!("../templates/dossier_index.typ").to_string(),
            ),
        );
    }
    (files, id)
});

/// A `YYYY-MM-DD` day as the language writes it in a table; anything else as it is.
fn day(s: &str, lang: Language) -> String {
    match s.parse::<jiff::civil::Date>() {
        Ok(d) => short_date(d, lang),
        Err(_) => s.to_string(),
    }
}

/// `2026-12-03T10:00:00Z` as `03-12-2026 10:00 UTC`; anything else as it is.
fn moment(s: &str, lang: Language) -> String {
    match s.parse::<jiff::Timestamp>() {
        Ok(ts) => {
            let dt = jiff::tz::Offset::UTC.to_datetime(ts);
            format!(
                "{} {:02}:{:02} UTC",
                short_date(dt.date(), lang),
                dt.hour(),
                dt.minute()
            )
        }
        Err(_) => s.to_string(),
    }
}

fn party(p: &incasso_dossier::IndexParty) -> Value {
    json!({
        "name": p.name,
        "address": p.address,
        "details": p.details.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
    })
}

/// The JSON document the index template reads as `/data.json`.
pub fn index_view(data: &IndexData, lang: Language) -> Value {
    let a = |cents: i64| amount(cents, lang);
    let (claims, claims_total) = match &data.sheet {
        Some(s) => {
            let issued: HashMap<&str, &str> = data
                .claims
                .iter()
                .map(|c| (c.number.as_str(), c.issued.as_str()))
                .collect();
            let sum = |f: fn(&incasso_dossier::SheetInvoice) -> i64| {
                s.invoices.iter().map(f).fold(0i64, i64::saturating_add)
            };
            (
                s.invoices
                    .iter()
                    .map(|i| {
                        json!({
                            "number": i.number,
                            "issued": day(issued.get(i.number.as_str()).copied().unwrap_or(""), lang),
                            "due": day(&i.due, lang),
                            "principal": a(i.principal_cents),
                            "paid": a(i.paid_cents),
                            "open": a(i.open_cents),
                        })
                    })
                    .collect::<Vec<_>>(),
                json!({
                    "principal": a(sum(|i| i.principal_cents)),
                    "paid": a(sum(|i| i.paid_cents)),
                    "open": a(sum(|i| i.open_cents)),
                }),
            )
        }
        None => (
            data.claims
                .iter()
                .map(|c| {
                    json!({"number": c.number, "issued": day(&c.issued, lang), "due": day(&c.due, lang),
                           "principal": c.principal, "paid": "", "open": c.open})
                })
                .collect(),
            Value::Null,
        ),
    };
    let sheet = data.sheet.as_ref().map(|s| {
        json!({
            "as_of": day(&s.as_of, lang),
            "statute": s.statute,
            "interest": s.interest.iter().map(|i| json!({
                "invoice": i.invoice,
                "from": day(&i.from, lang),
                "to": day(&i.to, lang),
                "days": i.days,
                "rate": rate(i.rate, lang),
                "base": a(i.base_cents),
                "amount": a(i.amount_cents),
            })).collect::<Vec<_>>(),
            "interest_total": a(s.interest_total_cents),
            "costs": a(s.costs_cents),
            "costs_explanation": s.costs_explanation,
            "payments": s.payments.iter().map(|p| json!({
                "on": day(&p.on, lang),
                "amount": a(p.amount_cents),
                "reference": p.reference,
            })).collect::<Vec<_>>(),
            "paid_total": a(s.paid_total_cents),
            "open": a(s.open_cents),
            "total": a(s.total_cents),
        })
    });
    let documents: Vec<Value> = data
        .timeline
        .iter()
        .filter_map(|e| {
            let sha = e.document_sha256.as_ref()?;
            Some(json!({"seq": e.seq, "path": e.document.clone().unwrap_or_default(), "sha256": sha}))
        })
        .collect();
    json!({
        "lang": lang.code(),
        "format": data.format,
        "case_id": data.case_id,
        "case_state": data.case_state,
        "opened_on": day(&data.opened_on, lang),
        "closed_on": data.closed_on.as_deref().map(|c| day(c, lang)),
        "generated_at": moment(&data.generated_at, lang),
        "creditor": party(&data.creditor),
        "debtor": party(&data.debtor),
        "claims": claims,
        "claims_total": claims_total,
        "calculation": data.calculation,
        "sheet": sheet,
        "timeline": data.timeline.iter().map(|e| json!({
            "seq": e.seq,
            "on": day(&e.on, lang),
            "kind": e.kind,
            "text": e.text,
            "document_sha256": e.document_sha256,
        })).collect::<Vec<_>>(),
        "documents": documents,
        "head_hash": data.head_hash,
    })
}

/// Renders the index of a case bundle as a PDF in `lang`. `created_at` is the PDF's creation
/// date (the bundle's time, never the clock).
pub fn render_index(
    data: &IndexData,
    lang: Language,
    created_at: jiff::Timestamp,
) -> Result<Vec<u8>, LetterError> {
    let (files, main) = &*FILES;
    let main = main.ok_or_else(|| LetterError::Io {
        path: INDEX_TEMPLATE.into(),
        message: "not a valid template path".into(),
    })?;
    let json = serde_json::to_vec(&index_view(data, lang)).map_err(|e| LetterError::Data {
        field: "index".into(),
        message: e.to_string(),
    })?;
    let world = LetterWorld {
        files,
        main,
        data: Bytes::new(json),
        today: crate::typst_datetime(created_at),
    };
    let warned = typst::compile::<PagedDocument>(&world);
    let doc = warned.output.map_err(|errors| {
        LetterError::Template(
            errors
                .iter()
                .map(|e| {
                    use typst::{World, WorldExt};
                    let (line, column) = world
                        .range(e.span)
                        .and_then(|r| {
                            let source = world.source(main).ok()?;
                            source.lines().byte_to_line_column(r.start)
                        })
                        .map_or((0, 0), |(l, c)| (l + 1, c + 1));
                    TemplateProblem {
                        template: INDEX_TEMPLATE.into(),
                        file: INDEX_TEMPLATE.into(),
                        line,
                        column,
                        message: e.message.to_string(),
                    }
                })
                .collect(),
        )
    })?;
    crate::export(
        &doc,
        &format!("incasso:dossier:{}:{}", data.case_id, data.head_hash),
        created_at,
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use incasso_dossier::{
        IndexClaim, IndexEvent, IndexParty, IndexSheet, SheetInterest, SheetInvoice, SheetPayment,
    };

    fn sample() -> IndexData {
        IndexData {
            format: incasso_dossier::FORMAT.into(),
            case_id: 42,
            case_state: "handed_over".into(),
            opened_on: "2026-01-07".into(),
            closed_on: None,
            generated_at: "2026-12-03T09:15:00Z".into(),
            creditor: IndexParty {
                name: "Voorbeeld B.V.".into(),
                address: vec!["Keizersgracht 1".into(), "1015 CJ Amsterdam".into()],
                details: vec![("IBAN".into(), "NL91ABNA0417164300".into())],
            },
            debtor: IndexParty {
                name: "Bouwbedrijf Jansen B.V.".into(),
                address: vec!["Dorpsstraat 12".into(), "3511 AB Utrecht".into()],
                details: vec![("debtor number".into(), "K1".into())],
            },
            claims: vec![IndexClaim {
                number: "B-1".into(),
                issued: "2025-12-06".into(),
                due: "2026-01-05".into(),
                principal: "EUR 1000.00".into(),
                open: "EUR 800.00".into(),
            }],
            calculation: Vec::new(),
            timeline: vec![IndexEvent {
                seq: 1,
                on: "2026-01-07".into(),
                kind: "document_added".into(),
                text: "bewijsstuk vastgelegd: afleverbon.pdf".into(),
                document: Some("documents/0001-proof-afleverbon.pdf".into()),
                document_sha256: Some("ab".repeat(32)),
                hash: "cd".repeat(32),
            }],
            sheet: Some(IndexSheet {
                as_of: "2026-12-03".into(),
                currency: "EUR".into(),
                invoices: vec![SheetInvoice {
                    number: "B-1".into(),
                    due: "2026-01-05".into(),
                    principal_cents: 100_000,
                    paid_cents: 20_000,
                    open_cents: 80_000,
                }],
                statute: "art. 6:119a BW".into(),
                interest: vec![SheetInterest {
                    invoice: "B-1".into(),
                    from: "2026-01-06".into(),
                    to: "2026-12-03".into(),
                    days: 332,
                    rate: 101_500,
                    base_cents: 80_000,
                    amount_cents: 7_386,
                }],
                interest_total_cents: 7_386,
                costs_cents: 12_000,
                costs_explanation: "handover (nl-b2b, 2026-02-01)".into(),
                payments: vec![SheetPayment {
                    on: "2026-02-10".into(),
                    amount_cents: 20_000,
                    reference: "B-1".into(),
                }],
                paid_total_cents: 20_000,
                open_cents: 80_000,
                total_cents: 99_386,
            }),
            head_hash: "cd".repeat(32),
        }
    }

    #[test]
    fn the_index_renders_in_every_language_and_deterministically() {
        let data = sample();
        let at = jiff::Timestamp::from_second(1_796_288_100).unwrap();
        for lang in Language::ALL {
            let a = render_index(&data, lang, at).unwrap();
            let b = render_index(&data, lang, at).unwrap();
            assert!(a.starts_with(b"%PDF-"), "{lang:?}");
            assert_eq!(a, b, "{lang:?}: the same data and time give the same bytes");
        }
        let other = jiff::Timestamp::from_second(1_796_288_160).unwrap();
        assert_ne!(
            render_index(&data, Language::Nl, at).unwrap(),
            render_index(&data, Language::Nl, other).unwrap(),
            "the creation time is in the PDF"
        );
    }

    #[test]
    fn the_view_writes_amounts_and_dates_in_the_language() {
        let v = index_view(&sample(), Language::Nl);
        assert_eq!(v["sheet"]["total"], "€\u{a0}993,86");
        assert_eq!(v["claims"][0]["issued"], "06-12-2025");
        assert_eq!(v["sheet"]["interest"][0]["rate"], "10,15%");
        assert_eq!(
            v["documents"][0]["path"],
            "documents/0001-proof-afleverbon.pdf"
        );
        let en = index_view(&sample(), Language::En);
        assert_eq!(en["sheet"]["total"], "€993.86");
        assert_eq!(en["generated_at"], "03/12/2026 09:15 UTC");
    }
}
