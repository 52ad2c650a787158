//! The real hooks of `dispatch::dispatch`: [`CaseLetters`] renders the action's letter as a PDF
//! with the letters crate (the same `letters::letter_data` as `incasso letter preview`, dated
//! by the run's moment, with the case's payment and portal links) for the e-mail to carry, and
//! [`CaseDossier`] records every sent message (raw `.eml` or SMS text) and its letter in the
//! case's dossier (the documents of `dossier::new_document`, recorded by the run with the
//! attempt's outcome).

use std::sync::Arc;

use anyhow::anyhow;
use incasso_domain::{Creditor, CreditorId, Debtor};
use incasso_letters::{LetterError, Templates};
use incasso_messaging::rules::to_local;
use incasso_messaging::{Attachment, Channel};
use incasso_store::{ActionRow, NewDocument, Store};
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::dispatch::{DocumentRecorder, Letter, LetterJob, LetterRenderer, SentDocument, stamp};
use crate::dossier::{DocumentKind, Record, new_document};
use crate::letter_links::PaymentLinks;
use crate::letters::{LetterOptions, created_at, language, letter_data};

/// Renders the letter of an action's step as a PDF attachment `<step>-<case>.pdf`. The
/// templates are loaded once (built in, or a creditor's directory checked beforehand with
/// `Templates::check_all`); the creditor, the open payment links and the collection policies are
/// read once per tenant.
/// The letter's data is read on the dispatching thread, the PDF rendered by the job (on a
/// worker thread).
pub struct CaseLetters {
    templates: Templates,
    portal_url: Option<String>,
    loaded: Option<Loaded>,
}

/// What [`CaseLetters`] reads once per tenant.
struct Loaded {
    tenant: CreditorId,
    creditor: Creditor,
    links: Arc<PaymentLinks>,
    policies: Arc<std::sync::Mutex<crate::run::Policies>>,
}

impl CaseLetters {
    /// `portal_url`: the debtor-portal URL with `{case}`, printed in the letter.
    pub fn new(templates: Templates, portal_url: Option<String>) -> CaseLetters {
        CaseLetters {
            templates,
            portal_url,
            loaded: None,
        }
    }
}

impl LetterRenderer for CaseLetters {
    fn prepare(
        &mut self,
        store: &mut dyn Store,
        tenant: CreditorId,
        action: &ActionRow,
        debtor: &Debtor,
        now: Timestamp,
    ) -> anyhow::Result<LetterJob> {
        let name = &action.action.template;
        let template = match self.templates.get(name, language(debtor.details.language)) {
            Ok(t) => t,
            // The step has no letter (in the debtor's language): the message goes alone.
            Err(LetterError::UnknownTemplate { .. }) => return Ok(LetterJob::Done(Letter::None)),
            Err(e) => return Err(e.into()),
        };
        if self.loaded.as_ref().is_none_or(|l| l.tenant != tenant) {
            self.loaded = Some(Loaded {
                tenant,
                creditor: store.creditor(tenant)?,
                links: Arc::new(PaymentLinks::load(store, tenant)?),
                policies: LetterOptions::load_policies(store, tenant)?,
            });
        }
        let Some(Loaded {
            creditor,
            links,
            policies,
            ..
        }) = &self.loaded
        else {
            return Err(anyhow!("creditor {tenant} not loaded"));
        };
        let date = to_local(now).date();
        let postal = crate::letters::is_post(action);
        let opts = LetterOptions {
            email: !postal,
            portal_url: self.portal_url.clone(),
            payment_links: Some(links.clone()),
            policies: Some(policies.clone()),
            ..LetterOptions::default()
        };
        let data = match letter_data(store, creditor, action.case_id, name, date, &opts) {
            Ok(d) => d,
            Err(e) => return Ok(LetterJob::Done(Letter::CannotMake(format!("{e:#}")))),
        };
        let (action_id, case_id) = (action.id, action.case_id);
        let filename = format!("{}-{}.pdf", action.action.step_id, action.case_id);
        Ok(LetterJob::Render(Box::new(move || {
            let pdf = incasso_letters::render(&data, &template, created_at(date));
            incasso_letters::trim_after_letter();
            let pdf = match pdf {
                Ok(pdf) => pdf,
                // A broken template stops the run before this message is sent.
                Err(e @ LetterError::Template(_)) => {
                    return Err(anyhow!(
                        "the letter of action {action_id} (case {case_id}): {e}"
                    ));
                }
                Err(e) => return Ok(Letter::CannotMake(e.to_string())),
            };
            Ok(Letter::Pdf(Attachment {
                filename,
                content_type: "application/pdf".into(),
                bytes: pdf,
            }))
        })))
    }
}

/// Records sent messages in the case's dossier: the letter PDF (kind `letter`), then the
/// message itself (kind `email`, the raw `.eml`; kind `sms`, the text) with its Message-ID or
/// reference, recipient and provider answer. The message is recorded last: its document is
/// what [`DocumentRecorder::holds`] looks for to know that a message left.
pub struct CaseDossier;

fn meta(doc: &SentDocument<'_>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("message_id".into(), doc.message_id.into());
    m.insert("channel".into(), doc.channel.code().into());
    m.insert("recipient".into(), doc.recipient.into());
    m.insert("provider_id".into(), doc.provider_id.into());
    m.insert("action_id".into(), doc.action_id.into());
    m.insert("attempt".into(), doc.attempt.into());
    m.insert("step".into(), doc.step.into());
    m
}

impl DocumentRecorder for CaseDossier {
    fn documents(
        &mut self,
        _store: &mut dyn Store,
        _tenant: CreditorId,
        doc: &SentDocument<'_>,
    ) -> anyhow::Result<Vec<NewDocument>> {
        let on = to_local(doc.at).date();
        let mut documents = Vec::with_capacity(2);
        let recorded_at = stamp(doc.at);
        if let Some(letter) = doc.letter {
            let mut m = Map::new();
            m.insert("message_id".into(), doc.message_id.into());
            m.insert("action_id".into(), doc.action_id.into());
            m.insert("step".into(), doc.step.into());
            documents.push(new_document(Record {
                case_id: doc.case_id,
                kind: DocumentKind::Letter,
                filename: letter.filename.clone(),
                media_type: Some(letter.content_type.clone()),
                bytes: letter.bytes.clone(),
                note: Some(format!("bijlage bij e-mail <{}>", doc.message_id)),
                meta: m,
                on,
                recorded_at: recorded_at.clone(),
            })?);
        }
        let (kind, filename, media_type, note) = match doc.channel {
            Channel::Email => (
                DocumentKind::Email,
                format!("email-{}-{}.eml", doc.action_id, doc.attempt),
                "message/rfc822",
                format!("Message-ID <{}> aan {}", doc.message_id, doc.recipient),
            ),
            Channel::Sms => (
                DocumentKind::Sms,
                format!("sms-{}-{}.txt", doc.action_id, doc.attempt),
                "text/plain; charset=utf-8",
                format!("referentie {} aan {}", doc.message_id, doc.recipient),
            ),
        };
        documents.push(new_document(Record {
            case_id: doc.case_id,
            kind,
            filename,
            media_type: Some(media_type.into()),
            bytes: doc.bytes.to_vec(),
            note: Some(note),
            meta: meta(doc),
            on,
            recorded_at,
        })?);
        Ok(documents)
    }

    fn holds(
        &mut self,
        store: &mut dyn Store,
        tenant: CreditorId,
        case_id: i64,
        sha256: &str,
    ) -> anyhow::Result<Option<bool>> {
        let docs = store.documents(tenant, case_id)?;
        Ok(Some(docs.iter().any(|d| {
            d.sha256 == sha256 && (d.kind == "email" || d.kind == "sms")
        })))
    }
}

#[cfg(test)]
mod tests {
    use incasso_messaging::sink::{SinkMode, SmtpSink};
    use incasso_messaging::{EmailSender, sha256_hex};
    use incasso_store::{ActionStatus, AttemptStatus, DispatchStore, DossierStore};
    use incasso_store_sqlite::SqliteStore;

    use super::*;
    use crate::dispatch::tests::{PdfLetter, config, ledger, local, smtp};
    use crate::dispatch::{NoLetter, Senders, dispatch};
    use crate::dossier::verify_case;

    /// Gives the real dossier's documents, but the process "stops" (panics) before the run
    /// records them (`after: false`), or after storing them on their own, without the
    /// attempt's outcome (`after: true`: what a stop between those two writes left before
    /// they became one transaction, and what the next run still recovers).
    struct Stop {
        after: bool,
    }
    impl DocumentRecorder for Stop {
        fn documents(
            &mut self,
            store: &mut dyn Store,
            tenant: CreditorId,
            doc: &SentDocument<'_>,
        ) -> anyhow::Result<Vec<NewDocument>> {
            if self.after {
                for d in CaseDossier.documents(store, tenant, doc)? {
                    store.add_document(tenant, &d)?;
                }
            }
            panic!("injected stop after the server accepted the message");
        }
    }

    fn run(
        store: &mut SqliteStore,
        t: CreditorId,
        sender: &dyn EmailSender,
        dossier: &mut dyn DocumentRecorder,
    ) -> crate::dispatch::DispatchReport {
        dispatch(
            store,
            t,
            local("2026-12-03T10:00"),
            &config(),
            &mut Senders {
                email: Some(sender),
                sms: None,
                letters: &mut PdfLetter,
                dossier,
            },
        )
        .unwrap()
    }

    #[test]
    fn sent_messages_and_their_letters_land_in_the_dossier_once() {
        let (_dir, mut store, t) = ledger(2, "email");
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let sender = smtp(&sink);
        let r = run(&mut store, t, &sender, &mut CaseDossier);
        assert_eq!(r.sent, 2, "{r:?}");
        let attempts = store.attempts(t, None).unwrap();
        for a in &attempts {
            let action = &store.actions(t, None).unwrap()[(a.action_id - 1) as usize];
            let docs = store.documents(t, action.case_id).unwrap();
            assert_eq!(docs.len(), 2, "{docs:?}");
            assert_eq!(docs[0].kind, "letter");
            assert_eq!(docs[0].filename, format!("brief-{}.pdf", a.action_id));
            assert_eq!(docs[1].kind, "email");
            assert_eq!(docs[1].media_type, "message/rfc822");
            assert_eq!(
                docs[1].sha256, a.sha256,
                "the dossier holds the very bytes that were sent"
            );
            assert!(docs[1].meta.contains(&a.message_id), "{}", docs[1].meta);
            let (_, eml) = store.document(t, docs[1].id).unwrap();
            assert_eq!(sha256_hex(&eml), a.sha256);
            assert!(String::from_utf8_lossy(&eml).contains(&a.message_id));
            let v = verify_case(&mut store, t, action.case_id).unwrap();
            assert_eq!(v.problem, None);
            assert_eq!(v.documents, 2);
        }
        // A second run sends and records nothing.
        let again = run(&mut store, t, &sender, &mut CaseDossier);
        assert_eq!((again.sent, again.missing_documents), (0, 0));
        let case = store.actions(t, None).unwrap()[0].case_id;
        assert_eq!(store.documents(t, case).unwrap().len(), 2);
        assert_eq!(sink.count(), 2);
    }

    #[test]
    fn a_stop_after_the_dossier_record_is_recovered_as_sent() {
        let (_dir, mut store, t) = ledger(1, "email");
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let sender = smtp(&sink);
        let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(&mut store, t, &sender, &mut Stop { after: true })
        }));
        assert!(stopped.is_err());
        assert_eq!(sink.count(), 1);
        let a = &store.attempts(t, None).unwrap()[0];
        assert_eq!(a.status, AttemptStatus::Sending);
        let r = run(&mut store, t, &sender, &mut CaseDossier);
        assert_eq!(r.newly_in_doubt, 1, "{r:?}");
        assert_eq!(r.recovered, 1, "{r:?}");
        assert_eq!((r.sent, r.in_doubt, r.actions_sent), (0, 0, 1), "{r:?}");
        assert_eq!(sink.count(), 1, "not sent again");
        let a = &store.attempts(t, None).unwrap()[0];
        assert_eq!(a.status, AttemptStatus::Sent);
        let action = &store.actions(t, None).unwrap()[0];
        assert_eq!(action.action.status, ActionStatus::Sent);
        assert_eq!(store.documents(t, action.case_id).unwrap().len(), 2);
    }

    #[test]
    fn a_stop_before_the_dossier_record_stays_in_doubt_and_is_reported_when_resolved() {
        let (_dir, mut store, t) = ledger(1, "email");
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();
        let sender = smtp(&sink);
        let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(&mut store, t, &sender, &mut Stop { after: false })
        }));
        assert!(stopped.is_err());
        let r = run(&mut store, t, &sender, &mut CaseDossier);
        assert_eq!((r.recovered, r.in_doubt, r.sent), (0, 1, 0), "{r:?}");
        assert_eq!(sink.count(), 1);
        // A person finds it in the server log: it left. The next run notices the gap.
        let a = store.attempts(t, None).unwrap()[0].clone();
        store
            .resolve_in_doubt(
                t,
                a.id,
                true,
                "in the server log",
                "2026-12-03T09:10:00Z",
                incasso_calendar::parse_iso("2026-12-03").unwrap(),
            )
            .unwrap();
        let r = dispatch(
            &mut store,
            t,
            local("2026-12-03T10:15"),
            &config(),
            &mut Senders {
                email: Some(&sender),
                sms: None,
                letters: &mut NoLetter,
                dossier: &mut CaseDossier,
            },
        )
        .unwrap();
        assert_eq!(r.missing_documents, 1, "{r:?}");
        let item = r
            .items
            .iter()
            .find(|i| i.outcome == "not_in_dossier")
            .unwrap();
        assert!(item.detail.contains(&a.message_id), "{}", item.detail);
        assert_eq!(r.actions_sent, 1);
        assert_eq!(sink.count(), 1);
    }

    #[test]
    fn a_sent_sms_is_recorded_as_its_text() {
        let (_dir, mut store, t) = ledger(1, "sms");
        let case = store.actions(t, None).unwrap()[0].case_id;
        let debtor = store.cases(t, false).unwrap()[0].debtor_id;
        store
            .set_consent(t, debtor, "sms", true, "2026-12-01T00:00:00Z")
            .unwrap();
        let sms = crate::dispatch::tests::RecordingSms::default();
        let r = dispatch(
            &mut store,
            t,
            local("2026-12-03T10:00"),
            &config(),
            &mut Senders {
                email: None,
                sms: Some(&sms),
                letters: &mut PdfLetter,
                dossier: &mut CaseDossier,
            },
        )
        .unwrap();
        assert_eq!(r.sent, 1, "{r:?}");
        let docs = store.documents(t, case).unwrap();
        assert_eq!(docs.len(), 1, "an SMS has no letter: {docs:?}");
        assert_eq!(docs[0].kind, "sms");
        assert_eq!(docs[0].filename, "sms-1-1.txt");
        assert!(docs[0].meta.contains("e8077d80"), "{}", docs[0].meta);
        let (_, text) = store.document(t, docs[0].id).unwrap();
        assert_eq!(text, sms.0.borrow()[0].body.as_bytes());
        assert_eq!(docs[0].sha256, store.attempts(t, None).unwrap()[0].sha256);
    }
}
