//! Tests of the dispatch run: sending, crashes, deferrals, retries, SMS and reading ahead, on
//! a real SQLite file and a real SMTP server.

use std::cell::Cell;
use std::time::Duration;

use incasso_domain::{DebtorKind, EmailAddress, Language, NewDebtor, PhoneNumber};
use incasso_messaging::rules::from_local;
use incasso_messaging::sink::{SinkMode, SmtpSink};
use incasso_messaging::{Accepted, ComposedEmail, SendError, SmtpConfig, SmtpSender};
use incasso_store::{CaseRef, DispatchStore, NewAction, NewCase, RunBatch};
use incasso_store_sqlite::SqliteStore;

use super::*;

const LETTER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../messaging/tests/data/letter.pdf"
);

pub(crate) struct PdfLetter;
impl LetterRenderer for PdfLetter {
    fn prepare(
        &mut self,
        _: &mut dyn Store,
        _: CreditorId,
        action: &ActionRow,
        _: &Debtor,
        _: Timestamp,
    ) -> anyhow::Result<LetterJob> {
        let filename = format!("brief-{}.pdf", action.id);
        // Rendered on a worker thread, like the real letters.
        Ok(LetterJob::Render(Box::new(move || {
            Ok(Letter::Pdf(Attachment {
                filename,
                content_type: "application/pdf".into(),
                bytes: std::fs::read(LETTER)?,
            }))
        })))
    }
}

#[derive(Default)]
struct Recorded(Vec<(i64, String, String, Vec<u8>)>);
impl DocumentRecorder for Recorded {
    fn documents(
        &mut self,
        _: &mut dyn Store,
        _: CreditorId,
        doc: &SentDocument<'_>,
    ) -> anyhow::Result<Vec<NewDocument>> {
        self.0.push((
            doc.action_id,
            doc.message_id.to_string(),
            doc.sha256.to_string(),
            doc.bytes.to_vec(),
        ));
        Ok(Vec::new())
    }
}

/// Sends through the real sender but "crashes" (panics) instead of sending message `n`.
struct CrashAt<'a> {
    inner: &'a dyn EmailSender,
    n: u32,
    seen: Cell<u32>,
}
impl EmailSender for CrashAt<'_> {
    fn send(&self, mail: &ComposedEmail) -> Result<Accepted, SendError> {
        self.seen.set(self.seen.get() + 1);
        if self.seen.get() == self.n {
            panic!("injected crash before message {} left", self.n);
        }
        self.inner.send(mail)
    }
}

pub(crate) fn local(s: &str) -> Timestamp {
    from_local(s.parse().unwrap())
}

/// A tenant with `n` debtors (e-mail and phone), each with a case and a queued action.
pub(crate) fn ledger(n: usize, channels: &str) -> (tempfile::TempDir, SqliteStore, CreditorId) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("d.db")).unwrap();
    let t = store
        .add_creditor(&incasso_store::contract::creditor("Bakkerij De Korf"))
        .unwrap();
    let day = incasso_calendar::parse_iso("2026-12-01").unwrap();
    let mut batch = RunBatch::default();
    for i in 0..n {
        let mut d = NewDebtor::named(&format!("Debiteur {i}"), DebtorKind::Consumer, Language::Nl);
        d.emails = vec![EmailAddress::parse(&format!("d{i}@klant.example")).unwrap()];
        d.phones = vec![PhoneNumber::parse("+31612345678").unwrap()];
        let id = store.add_debtor(t, &d).unwrap();
        batch.new_cases.push(NewCase {
            debtor_id: id,
            state: "open".into(),
            opened_on: day,
        });
        batch.actions.push((
            CaseRef::New(i),
            NewAction {
                idempotency_key: format!("k{i}"),
                policy_name: "nl-b2c".into(),
                policy_version: 1,
                step_id: "payment_reminder".into(),
                template: "payment_reminder".into(),
                channels: channels.into(),
                status: ActionStatus::Queued,
                status_reason: String::new(),
                created_on: day,
                deadline: incasso_calendar::parse_iso("2026-12-15").unwrap(),
                principal: Money::eur_cents(123_456),
                interest: None,
                costs: Some(Money::eur_cents(4_000)),
                total: Money::eur_cents(127_456),
                why: "test".into(),
            },
        ));
    }
    store.apply_run(t, &batch).unwrap();
    (dir, store, t)
}

pub(crate) fn config() -> DispatchConfig {
    DispatchConfig {
        rules: ContactRules::default(),
        channels: vec![Channel::Email, Channel::Sms],
        from_name: "Bakkerij De Korf".into(),
        from_address: "debiteuren@dekorf.example".into(),
        reply_to: Some("administratie@dekorf.example".into()),
        sms_originator: "DeKorf".into(),
        portal_url: Some("https://portal.example/c/{case}".into()),
        templates: Templates::builtin().unwrap(),
    }
}

pub(crate) fn smtp(sink: &SmtpSink) -> SmtpSender {
    let mut c =
        SmtpConfig::from_url(&format!("smtp://127.0.0.1:{}?tls=none", sink.port()), None).unwrap();
    c.timeout = Duration::from_secs(2);
    SmtpSender::new(c).unwrap()
}

/// A run that sends e-mails through `sender`, without letters or a dossier.
fn send_emails(
    store: &mut SqliteStore,
    t: CreditorId,
    now: Timestamp,
    sender: &dyn EmailSender,
) -> DispatchReport {
    dispatch(
        store,
        t,
        now,
        &config(),
        &mut Senders {
            email: Some(sender),
            sms: None,
            letters: &mut NoLetter,
            dossier: &mut NoDossier,
        },
    )
    .unwrap()
}

#[test]
fn due_emails_are_recorded_sent_and_never_sent_twice() {
    let (_dir, mut store, t) = ledger(3, "email");
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let sender = smtp(&sink);
    let mut dossier = Recorded::default();
    let now = local("2026-12-03T10:00");
    let report = dispatch(
        &mut store,
        t,
        now,
        &config(),
        &mut Senders {
            email: Some(&sender),
            sms: None,
            letters: &mut PdfLetter,
            dossier: &mut dossier,
        },
    )
    .unwrap();
    assert_eq!(report.sent, 3, "{report:?}");
    assert_eq!(report.actions_sent, 3);
    assert_eq!(sink.count(), 3);
    let actions = store.actions(t, None).unwrap();
    assert!(
        actions
            .iter()
            .all(|a| a.action.status == ActionStatus::Sent)
    );
    assert_eq!(
        actions[0].dispatched_on,
        Some(incasso_calendar::parse_iso("2026-12-03").unwrap())
    );
    // Every attempt row holds the Message-ID and the hash of the bytes the server got.
    let attempts = store.attempts(t, None).unwrap();
    assert_eq!(attempts.len(), 3);
    for (a, m) in attempts.iter().zip(sink.received()) {
        assert_eq!(a.status, AttemptStatus::Sent);
        assert!(a.provider_id.contains("queued as"), "{}", a.provider_id);
        let text = String::from_utf8_lossy(&m.data);
        assert!(text.contains(&format!("Message-ID: <{}>", a.message_id)));
        assert_eq!(
            a.message_id,
            format!("incasso.{}.{}.1@dekorf.example", t.get(), a.action_id)
        );
        let doc = dossier.0.iter().find(|d| d.0 == a.action_id).unwrap();
        assert_eq!(doc.2, a.sha256);
        assert_eq!(sha256_hex(&doc.3), a.sha256);
        assert!(text.contains("brief-"), "the letter is attached");
        assert!(text.contains("€ 1.274,56") || text.contains("=E2=82=AC 1.274,56"));
        assert!(
            text.contains(&format!("https://portal.example/c/{}", actions[0].case_id))
                || text.contains("portal.example/c/")
        );
    }
    // The next run sends nothing.
    let again = dispatch(
        &mut store,
        t,
        now,
        &config(),
        &mut Senders {
            email: Some(&sender),
            sms: None,
            letters: &mut PdfLetter,
            dossier: &mut dossier,
        },
    )
    .unwrap();
    assert_eq!(again.sent, 0);
    assert_eq!(sink.count(), 3);
}

#[test]
fn a_crash_mid_batch_loses_nothing_and_duplicates_nothing() {
    let (_dir, mut store, t) = ledger(4, "email");
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let real = smtp(&sink);
    let crashing = CrashAt {
        inner: &real,
        n: 2,
        seen: Cell::new(0),
    };
    let now = local("2026-12-03T10:00");
    let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dispatch(
            &mut store,
            t,
            now,
            &config(),
            &mut Senders {
                email: Some(&crashing),
                sms: None,
                letters: &mut NoLetter,
                dossier: &mut NoDossier,
            },
        )
    }));
    assert!(crashed.is_err(), "the injected crash happened");
    assert_eq!(sink.count(), 1);
    let attempts = store.attempts(t, None).unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1].status, AttemptStatus::Sending);

    let report = send_emails(&mut store, t, now, &real);
    assert_eq!(report.newly_in_doubt, 1);
    assert_eq!(report.in_doubt, 1);
    assert_eq!(report.sent, 2, "the two never tried go out: {report:?}");
    assert_eq!(sink.count(), 3, "the in-doubt one is not resent");
    let failed = failed_attempts(&mut store, t).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].status, AttemptStatus::InDoubt);
    // The first message's action is sent; the in-doubt one waits for a person.
    let actions = store.actions(t, None).unwrap();
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.action.status == ActionStatus::Sent)
            .count(),
        3
    );
    // A person checks: it never left. The next run sends it, as attempt 2.
    store
        .resolve_in_doubt(
            t,
            failed[0].id,
            false,
            "not in the server log",
            &stamp(now),
            to_local(now).date(),
        )
        .unwrap();
    let later = send_emails(&mut store, t, now, &real);
    assert_eq!(
        later.sent,
        1,
        "{later:?} {:?}",
        store.attempts(t, None).unwrap()
    );
    assert_eq!(sink.count(), 4);
    let last = store.attempts(t, None).unwrap().pop().unwrap();
    assert_eq!(last.attempt, 2);
    assert!(last.message_id.ends_with(".2@dekorf.example"));
}

#[test]
fn quiet_hours_and_the_weekly_cap_defer() {
    let (_dir, mut store, t) = ledger(2, "email");
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let sender = smtp(&sink);
    let run = |store: &mut SqliteStore, now: Timestamp, rules: ContactRules| {
        let mut c = config();
        c.rules = rules;
        dispatch(
            store,
            t,
            now,
            &c,
            &mut Senders {
                email: Some(&sender),
                sms: None,
                letters: &mut NoLetter,
                dossier: &mut NoDossier,
            },
        )
        .unwrap()
    };
    // Sunday 6 December 2026: nothing goes out.
    let sunday = run(
        &mut store,
        local("2026-12-06T12:00"),
        ContactRules::default(),
    );
    assert_eq!(sunday.sent, 0);
    assert_eq!(sunday.deferred_quiet_hours, 2);
    assert_eq!(
        sunday.items[0].until.as_deref(),
        Some("2026-12-07T07:00:00Z")
    );
    assert_eq!(sink.count(), 0);
    // Night.
    let night = run(
        &mut store,
        local("2026-12-07T23:00"),
        ContactRules::default(),
    );
    assert_eq!(night.deferred_quiet_hours, 2);
    // A cap of 0 contacts... means no cap; a cap of 1 with one earlier contact defers.
    let cap = ContactRules {
        max_contacts_per_week: 1,
        ..ContactRules::default()
    };
    let first = run(&mut store, local("2026-12-08T10:00"), cap.clone());
    assert_eq!(first.sent, 2);
    let (_d2, mut store2, t2) = ledger(1, "email");
    // Same debtor, a second action: seed one contact, then the cap holds.
    let debtor = store2.cases(t2, false).unwrap()[0].debtor_id;
    let a = store2.actions(t2, None).unwrap()[0].id;
    let id = store2
        .begin_attempt(
            t2,
            &NewAttempt {
                action_id: a,
                debtor_id: debtor,
                channel: "sms".into(),
                attempt: 1,
                recipient: "+31612345678".into(),
                message_id: "x".into(),
                sha256: "00".into(),
                at: stamp(local("2026-12-07T10:00")),
            },
        )
        .unwrap();
    store2
        .finish_attempt(
            t2,
            id,
            &AttemptOutcome::Sent {
                provider_id: "p".into(),
            },
            &stamp(local("2026-12-07T10:00")),
        )
        .unwrap();
    let mut c = config();
    c.rules = cap;
    let capped = dispatch(
        &mut store2,
        t2,
        local("2026-12-08T10:00"),
        &c,
        &mut Senders {
            email: Some(&sender),
            sms: None,
            letters: &mut NoLetter,
            dossier: &mut NoDossier,
        },
    )
    .unwrap();
    assert_eq!(capped.deferred_cap, 1, "{capped:?}");
    assert_eq!(
        capped.items[0].until.as_deref(),
        Some("2026-12-14T09:00:00Z")
    );
}

#[test]
fn temporary_failures_retry_on_schedule_and_permanent_ones_fail_the_action() {
    let (_dir, mut store, t) = ledger(1, "email");
    let sink = SmtpSink::start(SinkMode::DeferRecipients).unwrap();
    let sender = smtp(&sink);
    let run = |store: &mut SqliteStore, now: Timestamp| {
        dispatch(
            store,
            t,
            now,
            &config(),
            &mut Senders {
                email: Some(&sender),
                sms: None,
                letters: &mut NoLetter,
                dossier: &mut NoDossier,
            },
        )
        .unwrap()
    };
    let now = local("2026-12-03T10:00");
    let r = run(&mut store, now);
    assert_eq!(r.failed_temporary, 1);
    let failed = failed_attempts(&mut store, t).unwrap();
    assert_eq!(failed[0].status, AttemptStatus::FailedTemporary);
    assert!(failed[0].reason.contains("451"), "{}", failed[0].reason);
    assert_eq!(
        failed[0].next_retry_at.as_deref(),
        Some("2026-12-03T09:05:00Z")
    );
    // Before the retry time: nothing happens.
    let r = run(&mut store, local("2026-12-03T10:03"));
    assert_eq!(r.waiting_retry, 1);
    assert_eq!(store.attempts(t, None).unwrap().len(), 1);
    // After it: attempt 2, now rejected for good.
    sink.set_mode(SinkMode::RejectRecipients);
    let r = run(&mut store, local("2026-12-03T10:06"));
    assert_eq!(r.failed_permanent, 1);
    let attempts = store.attempts(t, None).unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1].status, AttemptStatus::FailedPermanent);
    let action = &store.actions(t, None).unwrap()[0];
    assert_eq!(action.action.status, ActionStatus::Failed);
    assert!(action.action.status_reason.contains("550"));
    assert_eq!(sink.count(), 0);
}

/// An SMS provider that accepts every message (id `e8077d803532c0b5937c639b60216938`) and
/// keeps what it was given.
#[derive(Default)]
pub(crate) struct RecordingSms(pub(crate) std::cell::RefCell<Vec<SmsMessage>>);

impl SmsSender for RecordingSms {
    fn send(&self, m: &SmsMessage) -> Result<Accepted, SendError> {
        self.0.borrow_mut().push(m.clone());
        Ok(Accepted {
            provider_id: "e8077d803532c0b5937c639b60216938".into(),
        })
    }
}

#[test]
fn an_sms_with_consent_goes_out_with_the_portal_link_and_is_recorded() {
    let (_dir, mut store, t) = ledger(1, "sms");
    let debtor = store.cases(t, false).unwrap()[0].debtor_id;
    store
        .set_consent(t, debtor, "sms", true, "2026-12-01T00:00:00Z")
        .unwrap();
    let sms = RecordingSms::default();
    let mut dossier = Recorded::default();
    let r = dispatch(
        &mut store,
        t,
        local("2026-12-03T10:00"),
        &config(),
        &mut Senders {
            email: None,
            sms: Some(&sms),
            letters: &mut NoLetter,
            dossier: &mut dossier,
        },
    )
    .unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    let sent = sms.0.borrow();
    assert_eq!(sent[0].recipient, "+31612345678");
    assert_eq!(sent[0].originator, "DeKorf");
    assert!(sent[0].body.contains("€ 1.274,56"), "{}", sent[0].body);
    assert!(
        sent[0].body.contains("https://portal.example/c/"),
        "{}",
        sent[0].body
    );
    let a = &store.attempts(t, None).unwrap()[0];
    assert_eq!(a.channel, "sms");
    assert_eq!(a.provider_id, "e8077d803532c0b5937c639b60216938");
    assert_eq!(a.sha256, sha256_hex(sent[0].body.as_bytes()));
    assert_eq!(a.message_id, sent[0].reference);
    assert_eq!(dossier.0[0].3, sent[0].body.as_bytes());
    assert_eq!(
        store.actions(t, None).unwrap()[0].action.status,
        ActionStatus::Sent
    );
}

/// Names each letter after what the store showed when its data was read (how many of the
/// case's actions were sent by then), counts the letters rendered off the dispatching
/// thread, and fails to render the letter of `fail_action` (a broken template).
struct Observing {
    dispatching: std::thread::ThreadId,
    elsewhere: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    fail_action: Option<i64>,
}
impl LetterRenderer for Observing {
    fn prepare(
        &mut self,
        store: &mut dyn Store,
        tenant: CreditorId,
        action: &ActionRow,
        _: &Debtor,
        _: Timestamp,
    ) -> anyhow::Result<LetterJob> {
        let sent = store
            .actions(tenant, Some(action.case_id))?
            .iter()
            .filter(|a| a.action.status == ActionStatus::Sent)
            .count();
        let (id, fail) = (action.id, self.fail_action == Some(action.id));
        let (dispatching, elsewhere) = (self.dispatching, self.elsewhere.clone());
        Ok(LetterJob::Render(Box::new(move || {
            if std::thread::current().id() != dispatching {
                elsewhere.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            if fail {
                anyhow::bail!("broken template in the letter of action {id}");
            }
            Ok(Letter::Pdf(Attachment {
                filename: format!("letter-{id}-after-{sent}-sent.pdf"),
                content_type: "application/pdf".into(),
                bytes: b"%PDF-1.7 test letter".to_vec(),
            }))
        })))
    }
}

fn observing(fail_action: Option<i64>) -> Observing {
    Observing {
        dispatching: std::thread::current().id(),
        elsewhere: Default::default(),
        fail_action,
    }
}

/// The attachment file names of the messages the sink received, in order.
fn letter_names(sink: &SmtpSink) -> Vec<String> {
    sink.received()
        .iter()
        .filter_map(|m| {
            let text = String::from_utf8_lossy(&m.data);
            let start = text.find("letter-")?;
            let end = start + text[start..].find(".pdf")?;
            Some(text[start..end].to_string())
        })
        .collect()
}

#[test]
fn letters_rendered_ahead_read_what_they_would_read_just_before_sending() {
    let (_dir, mut store, t) = ledger(5, "email");
    // A second reminder on the first debtor's case, due in the same run: its letter may
    // only be read once the first one is sent (here it counts the sent actions).
    let first = store.actions(t, None).unwrap()[0].clone();
    let mut again = RunBatch::default();
    let mut second = first.action.clone();
    second.idempotency_key = "k0-again".into();
    again
        .actions
        .push((CaseRef::Existing(first.case_id), second));
    store.apply_run(t, &again).unwrap();
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let sender = smtp(&sink);
    let mut letters = observing(None);
    let r = dispatch(
        &mut store,
        t,
        local("2026-12-03T10:00"),
        &config(),
        &mut Senders {
            email: Some(&sender),
            sms: None,
            letters: &mut letters,
            dossier: &mut NoDossier,
        },
    )
    .unwrap();
    assert_eq!((r.sent, r.actions_sent), (6, 6), "{r:?}");
    assert_eq!(
        letter_names(&sink),
        [
            "letter-1-after-0-sent",
            "letter-2-after-0-sent",
            "letter-3-after-0-sent",
            "letter-4-after-0-sent",
            "letter-5-after-0-sent",
            "letter-6-after-1-sent",
        ],
        "each message carries its own action's letter, read after the debtor's earlier action was sent"
    );
    assert_eq!(
        letters.elsewhere.load(std::sync::atomic::Ordering::SeqCst),
        6,
        "every letter was rendered on a worker thread"
    );
}

#[test]
fn a_letter_that_fails_to_render_stops_the_run_before_its_message() {
    let (_dir, mut store, t) = ledger(5, "email");
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let sender = smtp(&sink);
    let now = local("2026-12-03T10:00");
    let third = store.actions(t, None).unwrap()[2].id;
    let err = dispatch(
        &mut store,
        t,
        now,
        &config(),
        &mut Senders {
            email: Some(&sender),
            sms: None,
            letters: &mut observing(Some(third)),
            dossier: &mut NoDossier,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("broken template in the letter of action {third}")),
        "{err:#}"
    );
    // The two messages before it went; it and those after it were not even attempted,
    // though their letters may have been rendered ahead.
    assert_eq!(sink.count(), 2);
    assert_eq!(store.attempts(t, None).unwrap().len(), 2);
    let statuses: Vec<ActionStatus> = store
        .actions(t, None)
        .unwrap()
        .iter()
        .map(|a| a.action.status)
        .collect();
    assert_eq!(
        statuses,
        [
            ActionStatus::Sent,
            ActionStatus::Sent,
            ActionStatus::Queued,
            ActionStatus::Queued,
            ActionStatus::Queued
        ]
    );
    // Fixed, the next run sends the other three, once.
    let r = dispatch(
        &mut store,
        t,
        now,
        &config(),
        &mut Senders {
            email: Some(&sender),
            sms: None,
            letters: &mut observing(None),
            dossier: &mut NoDossier,
        },
    )
    .unwrap();
    assert_eq!(r.sent, 3, "{r:?}");
    assert_eq!(sink.count(), 5);
}

#[test]
fn sms_needs_consent_and_a_postal_action_stays_for_the_print_run() {
    let (_dir, mut store, t) = ledger(1, "post,email,sms");
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let sender = smtp(&sink);
    let now = local("2026-12-03T10:00");
    struct NoSms;
    impl SmsSender for NoSms {
        fn send(&self, _: &SmsMessage) -> Result<Accepted, SendError> {
            panic!("no SMS without consent")
        }
    }
    let r = dispatch(
        &mut store,
        t,
        now,
        &config(),
        &mut Senders {
            email: Some(&sender),
            sms: Some(&NoSms),
            letters: &mut NoLetter,
            dossier: &mut NoDossier,
        },
    )
    .unwrap();
    assert_eq!(r.sent, 1);
    assert_eq!(r.refused, 1);
    assert!(r.items.iter().any(|i| i.detail == "no consent for sms"));
    assert_eq!(
        store.actions(t, None).unwrap()[0].action.status,
        ActionStatus::Queued,
        "the letter still has to go by post"
    );
    assert_eq!(
        format_money(Money::eur_cents(12_345_678), "nl"),
        "€ 123.456,78"
    );
    assert_eq!(format_money(Money::eur_cents(5), "en"), "€0.05");
}
