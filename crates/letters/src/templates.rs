//! The letter templates: Typst files embedded in the binary (`templates/`), optionally overridden
//! file by file from a directory a creditor adapts, looked up by name and language, and checked
//! all at once before anything is sent.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use typst::syntax::FileId;

use crate::world::{File, file_id};
use crate::{Language, LetterError, TemplateProblem};

/// The template names the shipped dunning policies and the app use.
pub const TEMPLATE_NAMES: [&str; 9] = [
    "payment_reminder",
    "formal_notice",
    "fourteen_day_letter",
    "final_demand",
    "handover_notice",
    "be_first_reminder",
    "be_reminder",
    "rent_arrears",
    "payment_plan_confirmation",
];

/// Files that are includes, not letters.
const INCLUDES: [&str; 2] = ["lib.typ", "lang.typ"];

macro_rules! tfile {
    ($lang:literal, $name:literal) => {
        (
            concat!($lang, "/", $name, ".typ"),
            include_str!(concat!("../templates/", $lang, "/", $name, ".typ")),
        )
    };
}

macro_rules! per_language {
    ($lang:literal) => {
        &[
            tfile!($lang, "lang"),
            tfile!($lang, "payment_reminder"),
            tfile!($lang, "formal_notice"),
            tfile!($lang, "fourteen_day_letter"),
            tfile!($lang, "final_demand"),
            tfile!($lang, "handover_notice"),
            tfile!($lang, "be_first_reminder"),
            tfile!($lang, "be_reminder"),
            tfile!($lang, "rent_arrears"),
            tfile!($lang, "payment_plan_confirmation"),
        ]
    };
}

const BUILTIN_COMMON: &[(&str, &str)] = &[("lib.typ", include_str!("../templates/lib.typ"))];
const BUILTIN_NL: &[(&str, &str)] = per_language!("nl");
const BUILTIN_EN: &[(&str, &str)] = per_language!("en");
const BUILTIN_FR: &[(&str, &str)] = per_language!("fr");
const BUILTIN_DE: &[(&str, &str)] = per_language!("de");

/// Where a template file comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    Dir(PathBuf),
}

struct Inner {
    /// By path relative to the template root (`nl/payment_reminder.typ`).
    origins: BTreeMap<String, Origin>,
    files: HashMap<FileId, File>,
    ids: BTreeMap<String, FileId>,
}

/// A set of templates: the built-in ones, or a directory laid over them. Cheap to clone and to
/// share between threads.
#[derive(Clone)]
pub struct Templates {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("files", &self.inner.origins)
            .finish()
    }
}

/// One template of a set, resolved for a language: what [`crate::render`] compiles.
#[derive(Clone, Debug)]
pub struct Template {
    pub(crate) set: Templates,
    pub(crate) name: String,
    pub(crate) language: Language,
    pub(crate) main: FileId,
}

impl Template {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn language(&self) -> Language {
        self.language
    }

    /// The template file's path in the set, `nl/payment_reminder.typ`.
    pub fn path(&self) -> String {
        format!("{}/{}.typ", self.language.code(), self.name)
    }

    pub(crate) fn files(&self) -> &HashMap<FileId, File> {
        &self.set.inner.files
    }
}

fn build(files: BTreeMap<String, (String, Origin)>) -> Result<Templates, LetterError> {
    let mut origins = BTreeMap::new();
    let mut map = HashMap::new();
    let mut ids = BTreeMap::new();
    for (path, (text, origin)) in files {
        let id = file_id(&path).ok_or_else(|| LetterError::Io {
            path: path.clone(),
            message: "not a valid template path".into(),
        })?;
        map.insert(id, File::new(id, text));
        ids.insert(path.clone(), id);
        origins.insert(path, origin);
    }
    Ok(Templates {
        inner: Arc::new(Inner {
            origins,
            files: map,
            ids,
        }),
    })
}

fn builtin_map() -> BTreeMap<String, (String, Origin)> {
    [
        BUILTIN_COMMON,
        BUILTIN_NL,
        BUILTIN_EN,
        BUILTIN_FR,
        BUILTIN_DE,
    ]
    .iter()
    .flat_map(|files| files.iter())
    .map(|(p, t)| ((*p).to_string(), ((*t).to_string(), Origin::Builtin)))
    .collect()
}

impl Templates {
    /// The templates shipped in the binary: `lib.typ` (the shared layout) and, per language
    /// (nl, en, fr, de), `lang.typ` (labels) and one file per template name.
    pub fn builtin() -> Templates {
        // The built-in paths are fixed and valid.
        build(builtin_map()).unwrap_or_else(|_| Templates {
            inner: Arc::new(Inner {
                origins: BTreeMap::new(),
                files: HashMap::new(),
                ids: BTreeMap::new(),
            }),
        })
    }

    /// The built-in templates with every `.typ` file found in `dir` laid over them: `dir/lib.typ`
    /// replaces the shared layout, `dir/<lang>/<name>.typ` replaces (or adds) one template,
    /// `dir/<lang>/lang.typ` the labels of a language. A file that is not there falls back to the
    /// built-in one. Only `lib.typ` and the language directories `nl`, `en`, `fr`, `de` are read.
    pub fn from_dir(dir: &Path) -> Result<Templates, LetterError> {
        let io = |path: &Path, e: std::io::Error| LetterError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if !dir.is_dir() {
            return Err(LetterError::Io {
                path: dir.display().to_string(),
                message: "not a directory".into(),
            });
        }
        let mut files = builtin_map();
        let mut read = |rel: String, path: &Path| -> Result<(), LetterError> {
            let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
            let text = String::from_utf8(bytes).map_err(|e| LetterError::Io {
                path: path.display().to_string(),
                message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
            })?;
            files.insert(rel, (text, Origin::Dir(path.to_path_buf())));
            Ok(())
        };
        let lib = dir.join("lib.typ");
        if lib.is_file() {
            read("lib.typ".into(), &lib)?;
        }
        for lang in Language::ALL {
            let sub = dir.join(lang.code());
            if !sub.is_dir() {
                continue;
            }
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&sub)
                .map_err(|e| io(&sub, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "typ") && p.is_file())
                .collect();
            entries.sort();
            for path in entries {
                let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                if !stem
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    return Err(LetterError::Io {
                        path: path.display().to_string(),
                        message: "template names are lower-case letters, digits and _".into(),
                    });
                }
                read(format!("{}/{stem}.typ", lang.code()), &path)?;
            }
        }
        build(files)
    }

    /// The template `name` in `language`. There is no silent fallback to another language: a
    /// letter is never sent in a language the caller did not choose. An unknown name or a
    /// language without that template is an error naming what exists.
    pub fn get(&self, name: &str, language: Language) -> Result<Template, LetterError> {
        let path = format!("{}/{name}.typ", language.code());
        let is_include = INCLUDES.iter().any(|i| format!("{name}.typ") == *i);
        match self.inner.ids.get(&path) {
            Some(id) if !is_include => Ok(Template {
                set: self.clone(),
                name: name.to_string(),
                language,
                main: *id,
            }),
            _ => Err(LetterError::UnknownTemplate {
                name: name.to_string(),
                language: language.code().to_string(),
                available: self.names(language),
            }),
        }
    }

    /// The letter templates available in a language, sorted.
    pub fn names(&self, language: Language) -> Vec<String> {
        let prefix = format!("{}/", language.code());
        self.inner
            .ids
            .keys()
            .filter_map(|p| p.strip_prefix(&prefix))
            .filter(|f| !INCLUDES.contains(f))
            .filter_map(|f| f.strip_suffix(".typ"))
            .map(str::to_string)
            .collect()
    }

    /// Every letter template of every language, as `(name, language)`.
    pub fn all(&self) -> Vec<(String, Language)> {
        Language::ALL
            .iter()
            .flat_map(|l| self.names(*l).into_iter().map(move |n| (n, *l)))
            .collect()
    }

    /// Where a file of the set comes from (`nl/payment_reminder.typ`).
    pub fn origin(&self, path: &str) -> Option<&Origin> {
        self.inner.origins.get(path)
    }

    /// The text of a file of the set (to copy the built-in templates out for adapting).
    pub fn text(&self, path: &str) -> Option<&str> {
        let id = self.inner.ids.get(path)?;
        self.inner.files.get(id).map(|f| f.source.text())
    }

    /// Every file path of the set, sorted.
    pub fn paths(&self) -> Vec<String> {
        self.inner.ids.keys().cloned().collect()
    }

    /// Compiles every letter template of every language with a sample letter and reports every
    /// problem (template, file, line, message). Run it before sending anything with templates
    /// that were edited. Returns how many templates were checked.
    pub fn check_all(&self) -> Result<usize, LetterError> {
        self.check(&self.all())
    }

    /// Compiles the given templates as [`Templates::check_all`] does (with the complete sample
    /// letter of the template and, unless it is statutory, the bare one) and reports every
    /// problem. Returns how many templates were checked.
    pub fn check(&self, which: &[(String, Language)]) -> Result<usize, LetterError> {
        let mut problems: Vec<TemplateProblem> = Vec::new();
        let all = which;
        for (name, lang) in all {
            let template = self.get(name, *lang)?;
            let mut samples = vec![crate::sample::for_template(name, *lang)];
            if !crate::STATUTORY_TEMPLATES.contains(&name.as_str()) {
                samples.push(crate::sample::minimal(*lang));
            }
            for data in samples {
                match crate::layout(&data, &template, crate::sample::created_at()) {
                    Ok(_) => {}
                    Err(LetterError::Template(p)) => {
                        // One report per problem, even when both samples hit it.
                        for p in p {
                            if !problems.contains(&p) {
                                problems.push(p);
                            }
                        }
                    }
                    Err(other) => return Err(other),
                }
            }
        }
        if problems.is_empty() {
            Ok(all.len())
        } else {
            Err(LetterError::Template(problems))
        }
    }
}
