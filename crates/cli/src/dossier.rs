//! `incasso case verify`, `incasso case export` and `incasso case attach`: the hash-chained
//! event log checked end to end, the case bundle (index, documents, event log JSON) for an
//! agency or court, and recording a document in a case's dossier.
//!
//! The bundle's `index.pdf` is rendered by the letters crate's Typst template
//! (`templates/dossier_index.typ`), deterministically: its creation time is the bundle's time.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use incasso_app::dossier::{DocumentKind, Record};
use incasso_app::letters::incasso_letters::{Language, render_index};
use incasso_dossier::IndexData;
use serde_json::json;

use crate::args::TenantArg;
use crate::commands::{date_arg, open_store, print_json, resolve_tenant};

/// Renders the bundle's `index.pdf` in `language`; the PDF's creation date is the bundle's
/// `generated_at`, so the same bundle time gives the same bytes.
fn index_pdf(data: &IndexData, language: Language) -> anyhow::Result<Vec<u8>> {
    let created: jiff::Timestamp = data
        .generated_at
        .parse()
        .with_context(|| format!("bundle time {:?} is not RFC 3339", data.generated_at))?;
    render_index(data, language, created).map_err(|e| anyhow!("index.pdf: {e}"))
}

/// Now, as RFC 3339 in UTC: the moment a document is recorded or a bundle made.
#[allow(clippy::disallowed_methods)] // The composition root is the one place that reads the clock.
fn now() -> String {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Second).unwrap_or(now).to_string()
}

pub fn verify(
    db: &str,
    tenant: TenantArg,
    id: i64,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), &tenant)?;
    let v = incasso_app::dossier::verify_case(store.as_mut(), creditor.id, id)?;
    if json {
        print_json(
            out,
            &json!({"case": v.case_id, "ok": v.problem.is_none(), "events": v.events, "documents": v.documents,
            "head": v.head, "problem": v.problem.as_ref().map(|p| p.to_string()),
            "broken_event": v.problem.as_ref().map(|p| match p {
                incasso_app::dossier::Problem::Event(b) => b.seq,
                incasso_app::dossier::Problem::Document { event_seq, .. } => *event_seq,
            })}),
        )?;
    } else {
        match &v.problem {
            None => writeln!(
                out,
                "OK case {}: {} events, {} documents, head {}",
                v.case_id, v.events, v.documents, v.head
            )?,
            Some(p) => writeln!(out, "BROKEN case {}: {p}", v.case_id)?,
        }
    }
    Ok(if v.problem.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub fn export(
    db: &str,
    tenant: TenantArg,
    id: i64,
    path: PathBuf,
    language: &str,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let language = Language::parse(language)
        .ok_or_else(|| anyhow!("--language {language:?}: expected nl, en, fr or de"))?;
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), &tenant)?;
    // Written next to the target and renamed into place: no half-written bundle.
    let mut part = path.clone().into_os_string();
    part.push(".part");
    let part = PathBuf::from(part);
    let file =
        std::fs::File::create(&part).with_context(|| format!("creating {}", part.display()))?;
    let result = incasso_app::dossier::export_bundle(
        store.as_mut(),
        creditor.id,
        id,
        &now(),
        Some(&|data: &IndexData| index_pdf(data, language)),
        std::io::BufWriter::new(file),
    );
    let exported = match result {
        Ok(e) => e,
        Err(err) => {
            let _ = std::fs::remove_file(&part);
            return Err(err);
        }
    };
    std::fs::rename(&part, &path).with_context(|| format!("writing {}", path.display()))?;
    if json {
        print_json(
            out,
            &json!({"case": id, "out": path.display().to_string(), "events": exported.events, "documents": exported.documents,
                "head": exported.head, "index_pdf": exported.files.iter().any(|(n, _)| n == "index.pdf"),
                "files": exported.files.iter().map(|(n, h)| json!({"path": n, "sha256": h})).collect::<Vec<_>>()}),
        )?;
    } else {
        writeln!(
            out,
            "exported case {id} to {}: {} files, {} events, {} documents, head {}",
            path.display(),
            exported.files.len() + 1,
            exported.events,
            exported.documents,
            exported.head
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
pub fn attach(
    db: &str,
    tenant: TenantArg,
    id: i64,
    file: PathBuf,
    kind: &str,
    note: Option<String>,
    date: Option<String>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let kind = DocumentKind::parse(kind).ok_or_else(|| {
        anyhow!("--kind {kind:?}: expected proof, agreement, call_note, letter, email or sms")
    })?;
    let on = date_arg("date", date.as_deref())?;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    if bytes.is_empty() {
        bail!("{} is empty: nothing to record", file.display());
    }
    let mut store = open_store(db)?;
    let creditor = resolve_tenant(store.as_mut(), &tenant)?;
    let added = incasso_app::dossier::record_document(
        store.as_mut(),
        creditor.id,
        Record {
            case_id: id,
            kind,
            filename: file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
            media_type: None,
            bytes,
            note,
            meta: serde_json::Map::new(),
            on,
            recorded_at: now(),
        },
    )?;
    let d = &added.document;
    if json {
        print_json(
            out,
            &json!({"case": id, "document": d.id, "created": added.created, "kind": d.kind, "filename": d.filename,
                "media_type": d.media_type, "size": d.size, "sha256": d.sha256, "event_seq": d.event_seq, "recorded_at": d.recorded_at}),
        )?;
    } else if added.created {
        writeln!(
            out,
            "recorded {} {} on case {id} as document {} (event {}): {} bytes, sha256 {}",
            d.kind, d.filename, d.id, d.event_seq, d.size, d.sha256
        )?;
    } else {
        writeln!(
            out,
            "already recorded: {} {} on case {id} is document {} (sha256 {})",
            d.kind, d.filename, d.id, d.sha256
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
