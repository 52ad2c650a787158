//! The print run: the day's postal letters as print files (volumes of at most N letters) with
//! one CSV manifest, each letter recorded in its case's dossier and its action registered as
//! dispatched on that date.
//!
//! Idempotency of a print run: only outbox actions that are `queued` with channel `post` are
//! printed, and each printed action is set to `sent` with the print date. A second run for the
//! same date finds them sent and prints nothing again. The files are named after the sorted ids
//! of the actions the run sets out to print and the volume size (`letters-<date>-<hash>-001.pdf`,
//! `-002.pdf`, ..., and `letters-<date>-<hash>.csv`) and rendered deterministically (the PDF's
//! creation time is the print date). The run writes every volume, recording each volume's
//! letters in their cases' dossiers (kind `letter`, with the volume file and page) right after
//! the volume is written, then the manifest, and only then registers the actions as sent. So a
//! run that stopped anywhere before the registration (a crash, a full disk, a template that
//! fails on one letter's data in a later volume) left every action queued, and running it again
//! with the same volume size writes the very same bytes to the very same names; the dossier
//! stores the same bytes once per case, so it adds nothing twice. A run that stopped in the
//! middle of registering (the actions are registered one by one) has registered some: those are
//! not printed again; the others are printed again by the next run, under a new name. A volume
//! without its manifest belongs to a run that did not finish and must not be printed.

use super::*;

/// How many letters a print file holds unless the caller chooses: a volume a print service
/// takes in one go, and what bounds the memory of a print run (see [`print_day`]).
pub const DEFAULT_PER_FILE: usize = 500;

/// One letter of a print run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedLetter {
    pub action_id: i64,
    pub case_id: i64,
    pub debtor: String,
    pub address: String,
    pub template: String,
    pub language: String,
    pub pages: usize,
    /// The print file (volume) the letter is in, `letters-<date>-<hash>-<vvv>.pdf`.
    pub volume: String,
    /// The first page of the letter in its volume (1-based).
    pub first_page: usize,
    /// SHA-256 of the letter's own PDF.
    pub sha256: String,
}

/// One print file of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub path: PathBuf,
    pub letters: usize,
    pub pages: usize,
}

/// What a print run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrintRun {
    pub date: String,
    /// The print files in order: `letters-<date>-<hash>-001.pdf`, `-002.pdf`, ...
    pub volumes: Vec<Volume>,
    /// The run's one manifest, `letters-<date>-<hash>.csv`.
    pub manifest: Option<PathBuf>,
    pub letters: Vec<PrintedLetter>,
    /// Queued postal actions that could not be made into a letter (they stay queued), and why.
    pub skipped: Vec<(i64, String)>,
    /// Postal actions already printed (sent) on this date by an earlier run.
    pub already_printed: usize,
}

/// Where a print run writes and how it splits its letters.
#[derive(Debug, Clone)]
pub struct PrintOptions<'a> {
    /// The directory of the print files and the manifest (made when missing).
    pub out_dir: &'a Path,
    /// The debtor-portal URL printed in the letters; `{case}` becomes the case id.
    pub portal_url: Option<&'a str>,
    /// At most this many letters per print file (volume).
    pub per_file: std::num::NonZeroUsize,
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("part");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The file name of a run's volume `number` (1-based): `<stem>-001.pdf`, always with the number,
/// also when the run has one volume.
fn volume_name(stem: &str, number: usize) -> String {
    format!("{stem}-{number:03}.pdf")
}

/// Compiles every template the due actions name, in every language it exists in, with the
/// sample letters of `incasso letter templates --check`: a broken template stops the run before
/// the first volume is written. (Every language, because a letter's language is only known once
/// its data has been read, volume by volume.)
fn check_templates(templates: &letters::Templates, due: &[&ActionRow]) -> anyhow::Result<()> {
    let names: std::collections::BTreeSet<&str> =
        due.iter().map(|a| a.action.template.as_str()).collect();
    let which: Vec<(String, letters::Language)> = names
        .iter()
        .flat_map(|name| {
            letters::Language::ALL
                .iter()
                .filter(|l| templates.get(name, **l).is_ok())
                .map(|l| (name.to_string(), *l))
        })
        .collect();
    templates.check(&which).map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Prints the day's postal letters: every `queued` outbox action with channel `post` created on
/// or before `date`, rendered as letters dated `date`, in print files of at most
/// `print.per_file` letters (volumes `letters-<date>-<hash>-001.pdf`, `-002.pdf`, ...) plus one
/// CSV manifest `letters-<date>-<hash>.csv` in `print.out_dir`; then each printed action is set
/// to `sent` with dispatch date `date`.
///
/// The run goes volume by volume: it reads the data of the volume's letters from the store,
/// lays them out and exports them on every core, writes the volume, records its letters in
/// their dossiers and lets go of them before the next volume, so its memory is bounded by the
/// volume size, not by the number of letters (what it keeps per letter is the manifest row).
/// The manifest is written after the last volume and the actions are registered as sent after
/// that.
///
/// A template error stops the run: every template the day's actions name is compiled (in every
/// language it has) before the first volume is written, so a broken template stops it before
/// anything is written or registered. A template that only fails on some letter's data (which
/// the sample letters do not show) stops the run at that letter's volume: the volumes before it
/// stay written and their letters recorded in the dossier, but no manifest is written and no
/// action is registered; see the module docs for the run after it. A letter that cannot be made
/// (for example a debtor without an address) is skipped, reported and stays queued.
pub fn print_day(
    store: &mut dyn Store,
    creditor: &Creditor,
    templates: &letters::Templates,
    date: Date,
    print: &PrintOptions<'_>,
    now: jiff::Timestamp,
) -> anyhow::Result<PrintRun> {
    let tenant = creditor.id;
    let per_file = print.per_file.get();
    let actions = store.actions(tenant, None).map_err(|e| anyhow!("{e}"))?;
    let mut run = PrintRun {
        date: date.to_string(),
        ..PrintRun::default()
    };
    run.already_printed = actions
        .iter()
        .filter(|a| {
            is_post(a) && a.action.status == ActionStatus::Sent && a.dispatched_on == Some(date)
        })
        .count();
    let mut due: Vec<&ActionRow> = actions
        .iter()
        .filter(|a| {
            is_post(a) && a.action.status == ActionStatus::Queued && a.action.created_on <= date
        })
        .collect();
    if due.is_empty() {
        return Ok(run);
    }
    due.sort_by_key(|a| (a.case_id, a.id));
    check_templates(templates, &due)?;
    let opts = LetterOptions {
        portal_url: print.portal_url.map(str::to_string),
        payment_links: Some(std::sync::Arc::new(
            crate::letter_links::PaymentLinks::load(store, tenant)?,
        )),
        policies: Some(LetterOptions::load_policies(store, tenant)?),
        ..LetterOptions::default()
    };
    // The run's name: the actions it sets out to print and the volume size, so that the same
    // queue printed again (after a crash) gets the same names and the same volumes.
    let ids: Vec<String> = due.iter().map(|a| a.id.to_string()).collect();
    let hash = crate::sha256_hex(format!("{};{per_file}", ids.join(",")).as_bytes());
    let stem = format!("letters-{date}-{}", &hash[..12]);
    let created = created_at(date);
    let recorded_at = crate::dispatch::stamp(now);
    let mut queue = due.into_iter().peekable();
    while queue.peek().is_some() {
        // The next volume's letters: their data from the store, one after the other, until the
        // volume is full (a letter that cannot be made does not count).
        let mut prepared: Vec<(&ActionRow, letters::LetterData, letters::Template)> = Vec::new();
        while prepared.len() < per_file {
            let Some(a) = queue.next() else { break };
            let data =
                match letter_data(store, creditor, a.case_id, &a.action.template, date, &opts) {
                    Ok(d) => d,
                    Err(e) => {
                        run.skipped.push((a.id, format!("{e:#}")));
                        continue;
                    }
                };
            match templates.get(&a.action.template, data.language) {
                Ok(t) => prepared.push((a, data, t)),
                Err(e) => run.skipped.push((a.id, e.to_string())),
            }
        }
        if prepared.is_empty() {
            continue;
        }
        // Their layout and PDFs, on every core.
        let jobs: Vec<letters::Job<'_>> = prepared
            .iter()
            .map(|(_, data, template)| letters::Job { data, template })
            .collect();
        let made = letters::layout_many(&jobs, created);
        drop(jobs);
        let number = run.volumes.len() + 1;
        let name = volume_name(&stem, number);
        let mut laid = Vec::with_capacity(made.len());
        let mut pdfs = Vec::with_capacity(made.len());
        let start = run.letters.len();
        let mut first_page = 1usize;
        for ((a, data, _), r) in prepared.iter().zip(made) {
            let (l, pdf) = match r {
                Ok(made) => made,
                Err(e @ letters::LetterError::Template(_)) => {
                    return Err(if run.volumes.is_empty() {
                        anyhow!("{e}")
                    } else {
                        anyhow!(
                            "{e}\nthe print run stopped in volume {number}: volumes 1 to {} are \
                             written and their letters recorded in the dossiers, but no \
                             manifest was written and no action registered as sent; do not print \
                             them: fix the template and run again",
                            number - 1
                        )
                    });
                }
                Err(e) => {
                    run.skipped.push((a.id, e.to_string()));
                    continue;
                }
            };
            let pages = l.pages();
            run.letters.push(PrintedLetter {
                action_id: a.id,
                case_id: a.case_id,
                debtor: data.debtor.name.clone(),
                address: data.debtor.address.lines.join(", "),
                template: a.action.template.clone(),
                language: data.language.code().to_string(),
                pages,
                volume: name.clone(),
                first_page,
                sha256: crate::sha256_hex(&pdf),
            });
            first_page += pages;
            laid.push(l);
            pdfs.push(pdf);
        }
        drop(prepared);
        if laid.is_empty() {
            continue;
        }
        let combined = letters::combine(&laid, name.trim_end_matches(".pdf"), created)?;
        drop(laid);
        if number == 1 {
            std::fs::create_dir_all(print.out_dir)
                .with_context(|| format!("creating {}", print.out_dir.display()))?;
        }
        // The volume first, then its letters in their dossiers (a crash in between writes the
        // same file again next time).
        let path = print.out_dir.join(&name);
        write_atomically(&path, &combined)?;
        drop(combined);
        // Each letter in its case's dossier, before it counts as sent. A second run after a
        // crash renders the same bytes, which the dossier stores once.
        for (l, pdf) in run.letters[start..].iter().zip(pdfs) {
            let mut meta = serde_json::Map::new();
            meta.insert("action_id".into(), l.action_id.into());
            meta.insert("channel".into(), "post".into());
            meta.insert("template".into(), l.template.clone().into());
            meta.insert("print_run".into(), l.volume.clone().into());
            meta.insert("manifest".into(), format!("{stem}.csv").into());
            meta.insert("first_page".into(), l.first_page.into());
            meta.insert("pages".into(), l.pages.into());
            meta.insert("address".into(), l.address.clone().into());
            crate::dossier::record_document(
                store,
                tenant,
                crate::dossier::Record {
                    case_id: l.case_id,
                    kind: crate::dossier::DocumentKind::Letter,
                    filename: format!("{}-{}-{date}.pdf", l.template, l.case_id),
                    media_type: Some("application/pdf".into()),
                    bytes: pdf,
                    note: Some(format!(
                        "per post, printbestand {} vanaf pagina {}",
                        l.volume, l.first_page
                    )),
                    meta,
                    on: date,
                    recorded_at: recorded_at.clone(),
                },
            )
            .with_context(|| format!("recording the letter of action {}", l.action_id))?;
        }
        run.volumes.push(Volume {
            path,
            letters: run.letters.len() - start,
            pages: first_page - 1,
        });
    }
    if run.volumes.is_empty() {
        return Ok(run);
    }
    let csv_path = print.out_dir.join(format!("{stem}.csv"));
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record([
        "action_id",
        "case_id",
        "debtor",
        "address",
        "template",
        "language",
        "pages",
        "first_page",
        "sha256",
        "volume",
    ])?;
    for l in &run.letters {
        csv.write_record([
            l.action_id.to_string(),
            l.case_id.to_string(),
            l.debtor.clone(),
            l.address.clone(),
            l.template.clone(),
            l.language.clone(),
            l.pages.to_string(),
            l.first_page.to_string(),
            l.sha256.clone(),
            l.volume.clone(),
        ])?;
    }
    let csv_bytes = csv.into_inner().map_err(|e| anyhow!("{e}"))?;
    // The manifest after every volume, then the dispatch: a run that stops before this point
    // leaves every action queued, and the next run writes the same files again.
    write_atomically(&csv_path, &csv_bytes)?;
    for l in &run.letters {
        store
            .set_action_status(
                tenant,
                l.action_id,
                ActionStatus::Sent,
                Some(date),
                &format!("printed in {}", l.volume),
            )
            .map_err(|e| anyhow!("registering action {} as sent: {e}", l.action_id))?;
    }
    run.manifest = Some(csv_path);
    Ok(run)
}

/// How many letters per template and language a print run contains (for the summary line).
pub fn counts(run: &PrintRun) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for l in &run.letters {
        *m.entry(format!("{} ({})", l.template, l.language))
            .or_insert(0) += 1;
    }
    m
}
