//! `incasso letter preview` and `incasso letters print`: letters rendered to PDF without
//! sending, and the day's postal letters combined into print files (volumes) for a print service;
//! `incasso letter templates --check` compiles every template before anything is sent.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use incasso_app::letters::incasso_letters::{self, Language, Templates};
use incasso_app::letters::{
    DEFAULT_PER_FILE, LetterOptions, PrintOptions, counts, preview, print_day,
};
use serde_json::json;

use crate::args::TenantArg;
use crate::commands::{date_arg, open_store, print_json, resolve_tenant};

#[derive(Debug, clap::Args)]
pub struct CreditorArg {
    /// The creditor (id or exact name); may be left out when there is only one.
    #[arg(long, visible_alias = "tenant", env = "INCASSO_CREDITOR")]
    pub creditor: Option<String>,
}

impl CreditorArg {
    fn tenant(&self) -> TenantArg {
        TenantArg {
            creditor: self.creditor.clone(),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct TemplatesArg {
    /// A directory of adapted templates (`lib.typ`, `<lang>/<template>.typ`) laid over the
    /// built-in ones, file by file.
    #[arg(long = "templates", env = "INCASSO_LETTER_TEMPLATES")]
    pub templates: Option<PathBuf>,
}

impl TemplatesArg {
    fn load(&self) -> anyhow::Result<Templates> {
        match &self.templates {
            Some(dir) => Ok(Templates::from_dir(dir)?),
            None => Ok(Templates::builtin()),
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum LetterCommand {
    /// Render a case's letter for a step to PDF without sending it.
    Preview {
        #[command(flatten)]
        tenant: CreditorArg,
        /// The case id.
        #[arg(long)]
        case: i64,
        /// The template (policy step): payment_reminder, fourteen_day_letter, formal_notice, ...
        #[arg(long)]
        step: String,
        /// nl, en, fr or de (default: the debtor's language).
        #[arg(long)]
        lang: Option<String>,
        /// The letter (dispatch) date (default: today).
        #[arg(long)]
        date: Option<String>,
        /// Sent by e-mail rather than post (changes the presumed receipt of a statutory letter).
        #[arg(long)]
        email: bool,
        /// A payment link to print (default: the case's latest open payment link, if any).
        #[arg(long)]
        payment_link: Option<String>,
        /// A link to the debtor portal to print (default: made from --portal-url).
        #[arg(long)]
        portal_link: Option<String>,
        /// The debtor-portal URL; `{case}` becomes the case id.
        #[arg(long, env = "INCASSO_PORTAL_URL")]
        portal_url: Option<String>,
        #[command(flatten)]
        templates: TemplatesArg,
        /// Where to write the PDF.
        #[arg(long)]
        out: PathBuf,
    },
    /// List or check the letter templates.
    Templates {
        /// Compile every template in every language with a sample letter; report each problem
        /// with its template, file and line.
        #[arg(long)]
        check: bool,
        /// A directory of adapted templates laid over the built-in ones.
        #[arg(long, env = "INCASSO_LETTER_TEMPLATES")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum LettersCommand {
    /// Write the day's postal letters as print files (volumes of at most --per-file letters)
    /// plus one CSV manifest for a print service, record each letter in its case's dossier and
    /// register it as sent.
    Print {
        #[command(flatten)]
        tenant: CreditorArg,
        /// The print (dispatch) date (default: today).
        #[arg(long)]
        date: Option<String>,
        /// Where to write the volumes letters-<date>-<hash>-001.pdf, -002.pdf, ... and the
        /// manifest letters-<date>-<hash>.csv.
        #[arg(long)]
        out_dir: PathBuf,
        /// At most this many letters per print file; the run holds one file's letters in memory
        /// at a time. Run again after a failed run with the same value: it writes the same files.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_PER_FILE, value_parser = per_file, allow_hyphen_values = true)]
        per_file: usize,
        /// The debtor-portal URL printed in the letters; `{case}` becomes the case id.
        #[arg(long, env = "INCASSO_PORTAL_URL")]
        portal_url: Option<String>,
        #[command(flatten)]
        templates: TemplatesArg,
    },
}

pub fn letter(
    db: &str,
    cmd: LetterCommand,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    match cmd {
        LetterCommand::Preview {
            tenant,
            case,
            step,
            lang,
            date,
            email,
            payment_link,
            portal_link,
            portal_url,
            templates,
            out: path,
        } => {
            let date = date_arg("date", date.as_deref())?;
            let language = match lang.as_deref() {
                None => None,
                Some(l) => Some(
                    Language::parse(l)
                        .ok_or_else(|| anyhow!("--lang {l:?}: expected nl, en, fr or de"))?,
                ),
            };
            let templates = templates.load()?;
            let mut store = open_store(db)?;
            let creditor = resolve_tenant(store.as_mut(), &tenant.tenant())?;
            let opts = LetterOptions {
                language,
                email,
                payment_link,
                portal_link,
                portal_url,
                payment_links: None,
                policies: None,
            };
            let (data, pdf) = preview(
                store.as_mut(),
                &creditor,
                &templates,
                case,
                &step,
                date,
                &opts,
            )?;
            std::fs::write(&path, &pdf).with_context(|| format!("writing {}", path.display()))?;
            if json {
                print_json(
                    out,
                    &json!({
                        "file": path.display().to_string(), "bytes": pdf.len(),
                        "case": case, "template": step, "language": data.language.code(),
                        "date": date.to_string(), "deadline": data.deadline.to_string(),
                        "total_cents": data.total, "reference": data.payment.reference,
                    }),
                )?;
            } else {
                writeln!(
                    out,
                    "{}: {step} ({}) for case {case}, {} bytes; total {}, pay by {} (nothing was sent)",
                    path.display(),
                    data.language.code(),
                    pdf.len(),
                    incasso_letters::format::amount(data.total, data.language)
                        .replace('\u{a0}', " "),
                    data.deadline
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        LetterCommand::Templates { check, dir } => {
            let templates = match &dir {
                Some(d) => Templates::from_dir(d)?,
                None => Templates::builtin(),
            };
            if check {
                let n = templates.check_all()?;
                if json {
                    print_json(out, &json!({"checked": n, "ok": true}))?;
                } else {
                    writeln!(out, "{n} templates compile")?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            let mut rows = Vec::new();
            for path in templates.paths() {
                let origin = match templates.origin(&path) {
                    Some(incasso_letters::Origin::Dir(p)) => p.display().to_string(),
                    _ => "built in".to_string(),
                };
                rows.push((path, origin));
            }
            if json {
                print_json(
                    out,
                    &json!({"templates": rows.iter().map(|(p, o)| json!({"path": p, "origin": o})).collect::<Vec<_>>()}),
                )?;
            } else {
                for (p, o) in rows {
                    writeln!(out, "{p}\t{o}")?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn letters(
    db: &str,
    cmd: LettersCommand,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    match cmd {
        LettersCommand::Print {
            tenant,
            date,
            out_dir,
            per_file,
            portal_url,
            templates,
        } => {
            let date = date_arg("date", date.as_deref())?;
            let per_file = std::num::NonZeroUsize::new(per_file)
                .ok_or_else(|| anyhow!("--per-file 0: a print file holds at least 1 letter"))?;
            let templates = templates.load()?;
            let mut store = open_store(db)?;
            let creditor = resolve_tenant(store.as_mut(), &tenant.tenant())?;
            let run = print_day(
                store.as_mut(),
                &creditor,
                &templates,
                date,
                &PrintOptions {
                    out_dir: &out_dir,
                    portal_url: portal_url.as_deref(),
                    per_file,
                },
                recorded_now(),
            )?;
            if json {
                print_json(
                    out,
                    &json!({
                        "date": run.date,
                        "volumes": run.volumes.iter().map(|v| json!({
                            "file": v.path.display().to_string(), "letters": v.letters,
                            "pages": v.pages,
                        })).collect::<Vec<_>>(),
                        "manifest": run.manifest.as_ref().map(|p| p.display().to_string()),
                        "printed": run.letters.len(),
                        "pages": run.letters.iter().map(|l| l.pages).sum::<usize>(),
                        "already_printed": run.already_printed,
                        "letters": run.letters.iter().map(|l| json!({
                            "action_id": l.action_id, "case_id": l.case_id, "debtor": l.debtor,
                            "template": l.template, "language": l.language, "pages": l.pages,
                            "volume": l.volume, "first_page": l.first_page, "sha256": l.sha256,
                        })).collect::<Vec<_>>(),
                        "skipped": run.skipped.iter().map(|(id, why)| json!({"action_id": id, "reason": why})).collect::<Vec<_>>(),
                    }),
                )?;
            } else {
                match &run.manifest {
                    Some(csv) => {
                        writeln!(
                            out,
                            "{} letters ({} pages) for {date} in {} print file(s) and the manifest {}; registered as sent on {date}",
                            run.letters.len(),
                            run.letters.iter().map(|l| l.pages).sum::<usize>(),
                            run.volumes.len(),
                            csv.display()
                        )?;
                        for v in &run.volumes {
                            writeln!(
                                out,
                                "  {}: {} letters, {} pages",
                                v.path.display(),
                                v.letters,
                                v.pages
                            )?;
                        }
                    }
                    None => writeln!(
                        out,
                        "no postal letters to print for {date} ({} already printed)",
                        run.already_printed
                    )?,
                }
                for (k, n) in counts(&run) {
                    writeln!(out, "  {n} × {k}")?;
                }
                for (id, why) in &run.skipped {
                    writeln!(out, "  skipped action {id} (stays queued): {why}")?;
                }
            }
            Ok(if run.skipped.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            })
        }
    }
}

/// `--per-file N`: a whole number of letters, at least 1.
fn per_file(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number of letters per print file, at least 1".to_string()),
    }
}

/// The moment the print run's letters are recorded in the dossier.
#[allow(clippy::disallowed_methods)] // The composition root is the one place that reads the clock.
fn recorded_now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}
