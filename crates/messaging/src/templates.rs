//! Message texts: e-mail (subject, plain text, HTML) and SMS, rendered with minijinja from one
//! template set per template name and language (`nl` default, `en`, `fr`, `de`). The plain
//! text and the HTML body come from the same template: the HTML rendering escapes every value
//! and wraps paragraphs, the text rendering does not escape.
//!
//! An e-mail template's first line is the subject; the rest is the body. Lookup order for a
//! name and language: `<lang>/email/<name>.txt`, `<lang>/email/generic.txt`, then the same in
//! `nl`. The built-in set lives in `crates/messaging/templates/`; a creditor's copy in a
//! directory of the same layout overrides it file by file.

use std::collections::BTreeMap;
use std::path::Path;

use minijinja::{AutoEscape, Environment, value::Value};
use serde::Serialize;

/// The languages with built-in texts.
pub const LANGUAGES: [&str; 4] = ["nl", "en", "fr", "de"];

const BUILTIN: &[(&str, &str)] = &[
    (
        "nl/email/generic.txt",
        include_str!("../templates/nl/email/generic.txt"),
    ),
    (
        "nl/email/payment_reminder.txt",
        include_str!("../templates/nl/email/payment_reminder.txt"),
    ),
    (
        "nl/email/fourteen_day_letter.txt",
        include_str!("../templates/nl/email/fourteen_day_letter.txt"),
    ),
    (
        "en/email/generic.txt",
        include_str!("../templates/en/email/generic.txt"),
    ),
    (
        "fr/email/generic.txt",
        include_str!("../templates/fr/email/generic.txt"),
    ),
    (
        "de/email/generic.txt",
        include_str!("../templates/de/email/generic.txt"),
    ),
    ("nl/sms.txt", include_str!("../templates/nl/sms.txt")),
    ("en/sms.txt", include_str!("../templates/en/sms.txt")),
    ("fr/sms.txt", include_str!("../templates/fr/sms.txt")),
    ("de/sms.txt", include_str!("../templates/de/sms.txt")),
];

/// One open invoice as a message lists it (values already formatted for the language).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceLine {
    pub number: String,
    pub issued: String,
    pub open: String,
}

/// What a message text may use. Amounts and dates come formatted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct MessageData {
    pub creditor_name: String,
    pub debtor_name: String,
    pub amount_total: String,
    pub costs: String,
    pub deadline: String,
    pub iban: String,
    pub payment_reference: String,
    pub portal_link: Option<String>,
    pub invoices: Vec<InvoiceLine>,
}

/// A rendered e-mail text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A template that could not be rendered: names the template file and line.
#[derive(Debug, thiserror::Error)]
#[error("template {template}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct TemplateError {
    pub template: String,
    pub line: Option<usize>,
    pub message: String,
}

fn template_error(name: &str, e: &minijinja::Error) -> TemplateError {
    TemplateError {
        template: e.name().unwrap_or(name).to_string(),
        line: e.line(),
        message: e
            .detail()
            .map(|d| format!("{} ({d})", e.kind()))
            .unwrap_or_else(|| e.kind().to_string()),
    }
}

/// The template set: built-in texts, optionally overridden by a creditor's directory.
pub struct Templates {
    text: Environment<'static>,
    html: Environment<'static>,
    names: BTreeMap<String, ()>,
}

impl Templates {
    /// The built-in texts.
    pub fn builtin() -> Result<Templates, TemplateError> {
        Self::build(
            BUILTIN
                .iter()
                .map(|(n, s)| (n.to_string(), s.to_string()))
                .collect(),
        )
    }

    /// The built-in texts with every `*.txt` under `dir` (same layout) taking precedence.
    pub fn with_overrides(dir: &Path) -> anyhow::Result<Templates> {
        let mut files: BTreeMap<String, String> = BUILTIN
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        for lang in LANGUAGES {
            for sub in ["", "email/"] {
                let d = dir.join(lang).join(sub);
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in entries {
                    let path = e?.path();
                    if path.extension().is_some_and(|x| x == "txt") {
                        let name = format!(
                            "{lang}/{sub}{}",
                            path.file_name().unwrap_or_default().to_string_lossy()
                        );
                        let text = std::fs::read_to_string(&path).map_err(|e| {
                            anyhow::anyhow!("reading template {}: {e}", path.display())
                        })?;
                        files.insert(name, text);
                    }
                }
            }
        }
        Ok(Self::build(files)?)
    }

    fn build(files: BTreeMap<String, String>) -> Result<Templates, TemplateError> {
        let mut text = Environment::new();
        text.set_auto_escape_callback(|_| AutoEscape::None);
        let mut html = Environment::new();
        html.set_auto_escape_callback(|_| AutoEscape::Html);
        let mut names = BTreeMap::new();
        for (name, source) in files {
            text.add_template_owned(name.clone(), source.clone())
                .map_err(|e| template_error(&name, &e))?;
            html.add_template_owned(name.clone(), source)
                .map_err(|e| template_error(&name, &e))?;
            names.insert(name, ());
        }
        Ok(Templates { text, html, names })
    }

    fn resolve(&self, name: &str, lang: &str) -> String {
        let lang = if LANGUAGES.contains(&lang) {
            lang
        } else {
            "nl"
        };
        for candidate in [
            format!("{lang}/email/{name}.txt"),
            format!("{lang}/email/generic.txt"),
            format!("nl/email/{name}.txt"),
        ] {
            if self.names.contains_key(&candidate) {
                return candidate;
            }
        }
        "nl/email/generic.txt".into()
    }

    /// Renders the e-mail for template `name` in `lang` (unknown languages fall back to `nl`).
    pub fn email(
        &self,
        name: &str,
        lang: &str,
        data: &MessageData,
    ) -> Result<RenderedEmail, TemplateError> {
        let file = self.resolve(name, lang);
        let ctx = Value::from(minijinja::value::Serde(data));
        let render = |env: &Environment<'static>| -> Result<String, TemplateError> {
            env.get_template(&file)
                .and_then(|t| t.render(&ctx))
                .map_err(|e| template_error(&file, &e))
        };
        let text = render(&self.text)?;
        let html = render(&self.html)?;
        let (subject, body) = split_subject(&text);
        let (_, html_body) = split_subject(&html);
        if subject.is_empty() {
            return Err(TemplateError {
                template: file,
                line: Some(1),
                message: "the first line (the subject) is empty".into(),
            });
        }
        let lang_attr = if LANGUAGES.contains(&lang) {
            lang
        } else {
            "nl"
        };
        Ok(RenderedEmail {
            subject: subject.to_string(),
            text: format!("{}\n", body.trim()),
            html: html_page(lang_attr, html_body.trim()),
        })
    }

    /// Renders the SMS text in `lang`.
    pub fn sms(&self, lang: &str, data: &MessageData) -> Result<String, TemplateError> {
        let lang = if LANGUAGES.contains(&lang) {
            lang
        } else {
            "nl"
        };
        let file = format!("{lang}/sms.txt");
        self.text
            .get_template(&file)
            .and_then(|t| t.render(Value::from(minijinja::value::Serde(data))))
            .map(|s| s.trim().to_string())
            .map_err(|e| template_error(&file, &e))
    }
}

fn split_subject(s: &str) -> (&str, &str) {
    match s.split_once('\n') {
        Some((a, b)) => (a.trim(), b),
        None => (s.trim(), ""),
    }
}

/// Wraps the escaped body in a small HTML page: paragraphs on blank lines, `<br>` on newlines,
/// and list items for lines starting with `- `.
fn html_page(lang: &str, body: &str) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"></head>\n<body style=\"font-family: Arial, sans-serif; font-size: 14px; color: #222\">\n"
    );
    for para in body.split("\n\n") {
        let lines: Vec<&str> = para.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            continue;
        }
        let mut in_list = false;
        let mut open_p = false;
        for l in lines {
            if let Some(item) = l.strip_prefix("- ") {
                if open_p {
                    out.push_str("</p>\n");
                    open_p = false;
                }
                if !in_list {
                    out.push_str("<ul>\n");
                    in_list = true;
                }
                out.push_str(&format!("<li>{item}</li>\n"));
            } else {
                if in_list {
                    out.push_str("</ul>\n");
                    in_list = false;
                }
                if open_p {
                    out.push_str("<br>\n");
                } else {
                    out.push_str("<p>");
                    open_p = true;
                }
                out.push_str(l);
            }
        }
        if in_list {
            out.push_str("</ul>\n");
        }
        if open_p {
            out.push_str("</p>\n");
        }
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> MessageData {
        MessageData {
            creditor_name: "Bakkerij <De Korf> & Zn".into(),
            debtor_name: "Jansen".into(),
            amount_total: "€ 1.234,56".into(),
            costs: "€ 40,00".into(),
            deadline: "17-12-2026".into(),
            iban: "NL91ABNA0417164300".into(),
            payment_reference: "1234 5678 9012 3456".into(),
            portal_link: Some("https://portal.example/p/abc".into()),
            invoices: vec![InvoiceLine {
                number: "F-1".into(),
                issued: "01-10-2026".into(),
                open: "€ 1.234,56".into(),
            }],
        }
    }

    #[test]
    fn text_and_html_come_from_one_template_and_html_escapes_data() {
        let t = Templates::builtin().unwrap();
        let m = t.email("payment_reminder", "nl", &data()).unwrap();
        assert_eq!(
            m.subject,
            "Betalingsherinnering Bakkerij <De Korf> & Zn: € 1.234,56"
        );
        assert!(
            m.text
                .contains("- factuur F-1 van 01-10-2026: € 1.234,56 open")
        );
        assert!(m.text.contains("https://portal.example/p/abc"));
        assert!(m.text.contains("Bakkerij <De Korf> & Zn"));
        assert!(m.html.contains("Bakkerij &lt;De Korf&gt; &amp; Zn"));
        assert!(!m.html.contains("<De Korf>"));
        assert!(m.html.contains("<li>factuur F-1 van 01-10-2026"));
        assert!(m.html.starts_with("<!DOCTYPE html>"));
    }

    #[test]
    fn languages_and_fallbacks() {
        let t = Templates::builtin().unwrap();
        let en = t.email("payment_reminder", "en", &data()).unwrap();
        assert!(en.text.starts_with("Dear Jansen"), "{}", en.text);
        let fr = t.email("formal_notice", "fr", &data()).unwrap();
        assert!(fr.text.contains("Veuillez payer"));
        let de = t.email("x", "de", &data()).unwrap();
        assert!(de.subject.contains("offene Zahlung"));
        let unknown = t.email("x", "zz", &data()).unwrap();
        assert!(unknown.text.starts_with("Beste Jansen"));
        let no_portal = MessageData {
            portal_link: None,
            ..data()
        };
        let m = t.email("generic", "nl", &no_portal).unwrap();
        assert!(!m.text.contains("via"), "{}", m.text);
    }

    #[test]
    fn sms_texts_carry_the_portal_link() {
        let t = Templates::builtin().unwrap();
        for lang in LANGUAGES {
            let s = t.sms(lang, &data()).unwrap();
            assert!(s.contains("https://portal.example/p/abc"), "{lang}: {s}");
            assert!(s.contains("€ 1.234,56"), "{lang}: {s}");
        }
    }

    #[test]
    fn a_broken_override_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("nl/email")).unwrap();
        std::fs::write(
            dir.path().join("nl/email/generic.txt"),
            "Onderwerp\nregel 2\n{% if %}\n",
        )
        .unwrap();
        let e = Templates::with_overrides(dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("nl/email/generic.txt"), "{e}");
        assert!(e.contains("line 3"), "{e}");
        // An override that renders replaces the built-in text.
        std::fs::write(
            dir.path().join("nl/email/generic.txt"),
            "Eigen onderwerp {{ debtor_name }}\nEigen tekst\n",
        )
        .unwrap();
        let t = Templates::with_overrides(dir.path()).unwrap();
        let m = t.email("generic", "nl", &data()).unwrap();
        assert_eq!(m.subject, "Eigen onderwerp Jansen");
        assert_eq!(m.text, "Eigen tekst\n");
    }
}
