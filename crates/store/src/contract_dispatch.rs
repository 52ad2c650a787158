//! Storage contract for the `dispatch` capability: story-style checks every backend must pass.

use incasso_calendar::parse_iso;
use incasso_domain::{CreditorId, DebtorId, DebtorKind, Language, NewDebtor};
use incasso_money::Money;

use crate::contract::creditor;
use crate::*;

/// Runs every dispatch contract check, each on a fresh store.
pub fn run_all(fresh: &mut dyn FnMut() -> Box<dyn Store>) {
    attempts_are_recorded_once_and_finished_once(fresh().as_mut());
    a_sent_message_is_recorded_with_its_documents_all_or_nothing(fresh().as_mut());
    temporary_failures_allow_a_new_attempt(fresh().as_mut());
    in_doubt_attempts_block_resending_until_resolved(fresh().as_mut());
    tenants_never_see_each_others_dispatch(fresh().as_mut());
    consents_round_trip(fresh().as_mut());
    consent_changes_are_logged_with_source_and_chained_on_open_cases(fresh().as_mut());
}

/// A tenant with one debtor, one case and one queued e-mail action.
fn fixture(store: &mut dyn Store, name: &str) -> (CreditorId, DebtorId, i64) {
    let t = store.add_creditor(&creditor(name)).expect("creditor");
    let debtor = store
        .add_debtor(
            t,
            &NewDebtor::named("Jansen", DebtorKind::Consumer, Language::Nl),
        )
        .expect("debtor");
    let day = parse_iso("2026-12-01").expect("date");
    let batch = RunBatch {
        new_cases: vec![NewCase {
            debtor_id: debtor,
            state: "open".into(),
            opened_on: day,
        }],
        actions: vec![(
            CaseRef::New(0),
            NewAction {
                idempotency_key: format!("{name}-1"),
                policy_name: "nl-b2c".into(),
                policy_version: 1,
                step_id: "reminder".into(),
                template: "payment_reminder".into(),
                channels: "email,sms".into(),
                status: ActionStatus::Queued,
                status_reason: String::new(),
                created_on: day,
                deadline: parse_iso("2026-12-15").expect("date"),
                principal: Money::eur_cents(10_000),
                interest: None,
                costs: None,
                total: Money::eur_cents(10_000),
                why: "test".into(),
            },
        )],
        ..RunBatch::default()
    };
    store.apply_run(t, &batch).expect("run");
    let action = store.actions(t, None).expect("actions")[0].id;
    (t, debtor, action)
}

fn attempt(action: i64, debtor: DebtorId, channel: &str, n: u32, at: &str) -> NewAttempt {
    NewAttempt {
        action_id: action,
        debtor_id: debtor,
        channel: channel.into(),
        attempt: n,
        recipient: if channel == "email" {
            "jansen@example.nl".into()
        } else {
            "+31612345678".into()
        },
        message_id: format!("incasso.1.{action}.{n}@example.nl"),
        sha256: "ab".repeat(32),
        at: at.into(),
    }
}

fn conflict<T: std::fmt::Debug>(r: StoreResult<T>, what: &str) {
    match r {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected a conflict, got {other:?}"),
    }
}

fn sent_doc(case: i64, kind: &str, bytes: &[u8]) -> NewDocument {
    NewDocument {
        case_id: case,
        kind: kind.into(),
        filename: format!("{kind}-1.bin"),
        media_type: "application/octet-stream".into(),
        bytes: bytes.to_vec(),
        recorded_at: "2026-12-03T09:00:01Z".into(),
        on: parse_iso("2026-12-03").expect("date"),
        text: format!("{kind} recorded"),
        meta: r#"{"message_id":"m1"}"#.into(),
    }
}

pub fn a_sent_message_is_recorded_with_its_documents_all_or_nothing(store: &mut dyn Store) {
    let (t, debtor, action) = fixture(store, "A");
    let (other, other_debtor, other_action) = fixture(store, "B");
    let case = store.actions(t, None).expect("actions")[0].case_id;
    let at = "2026-12-03T09:00:00Z";
    let day = parse_iso("2026-12-03").expect("date");
    let email = store
        .begin_attempt(t, &attempt(action, debtor, "email", 1, at))
        .expect("begin email");
    let sms = store
        .begin_attempt(t, &attempt(action, debtor, "sms", 1, at))
        .expect("begin sms");
    let foreign = store
        .begin_attempt(other, &attempt(other_action, other_debtor, "email", 1, at))
        .expect("begin other tenant");
    let events_before = store.chain(t, case).expect("chain").len();

    // Nothing is written when any part fails: an unknown case, another tenant's attempt.
    let wrong_case = [sent_doc(case + 1000, "letter", b"%PDF-1")];
    match store.record_sent(
        t,
        &SentRecord {
            attempt_id: email,
            provider_id: "250 ok",
            at: "2026-12-03T09:00:01Z",
            documents: &wrong_case,
            action_sent: None,
        },
    ) {
        Err(StoreError::NotFound(_)) => {}
        r => panic!("a document on an unknown case: expected NotFound, got {r:?}"),
    }
    let mine = [sent_doc(case, "email", b"From: a\r\n\r\nbody")];
    conflict(
        store.record_sent(
            t,
            &SentRecord {
                attempt_id: foreign,
                provider_id: "250 ok",
                at: "2026-12-03T09:00:01Z",
                documents: &mine,
                action_sent: Some((action, day)),
            },
        ),
        "another tenant's attempt",
    );
    assert!(
        store.documents(t, case).expect("docs").is_empty(),
        "nothing recorded"
    );
    assert_eq!(store.chain(t, case).expect("chain").len(), events_before);
    assert!(
        store
            .attempts(t, Some(action))
            .expect("attempts")
            .iter()
            .all(|a| a.status == AttemptStatus::Sending)
    );
    assert_eq!(
        store.actions(t, None).expect("actions")[0].action.status,
        ActionStatus::Queued
    );
    assert_eq!(
        store.attempts(other, Some(other_action)).expect("other")[0].status,
        AttemptStatus::Sending
    );

    // The e-mail: its letter and its .eml, the attempt sent and logged, the action still
    // queued (the SMS is not done).
    let docs = [
        sent_doc(case, "letter", b"%PDF-1.7 letter"),
        sent_doc(case, "email", b"From: a\r\n\r\nbody"),
    ];
    store
        .record_sent(
            t,
            &SentRecord {
                attempt_id: email,
                provider_id: "250 2.0.0 queued as X1",
                at: "2026-12-03T09:00:01Z",
                documents: &docs,
                action_sent: None,
            },
        )
        .expect("record the e-mail");
    let stored = store.documents(t, case).expect("docs");
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored[1].sha256,
        incasso_dossier::sha256_hex(&docs[1].bytes)
    );
    let rows = store.attempts(t, Some(action)).expect("attempts");
    let sent = rows.iter().find(|a| a.id == email).expect("email attempt");
    assert_eq!(sent.status, AttemptStatus::Sent);
    assert_eq!(sent.provider_id, "250 2.0.0 queued as X1");
    assert_eq!(
        store
            .contacts_since(t, debtor, "2026-12-01T00:00:00Z")
            .expect("contacts"),
        vec!["2026-12-03T09:00:01Z".to_string()]
    );
    assert_eq!(
        store.actions(t, None).expect("actions")[0].action.status,
        ActionStatus::Queued
    );
    // Recording it again is a conflict and adds nothing.
    conflict(
        store.record_sent(
            t,
            &SentRecord {
                attempt_id: email,
                provider_id: "250 again",
                at: "2026-12-03T09:00:05Z",
                documents: &[sent_doc(case, "email", b"another")],
                action_sent: None,
            },
        ),
        "recording a sent attempt again",
    );
    assert_eq!(store.documents(t, case).expect("docs").len(), 2);

    // The SMS, the action's last message: the action is sent on the day, with its event.
    let text = [sent_doc(case, "sms", b"Betaal EUR 100,00")];
    store
        .record_sent(
            t,
            &SentRecord {
                attempt_id: sms,
                provider_id: "sms-42",
                at: "2026-12-03T09:00:02Z",
                documents: &text,
                action_sent: Some((action, day)),
            },
        )
        .expect("record the SMS");
    let row = &store.actions(t, None).expect("actions")[0];
    assert_eq!(row.action.status, ActionStatus::Sent);
    assert_eq!(row.dispatched_on, Some(day));
    let chain = store.chain(t, case).expect("chain");
    assert_eq!(
        chain.len(),
        events_before + 4,
        "three documents and the action"
    );
    assert!(chain.last().expect("event").kind.contains("action_sent"));
    assert_eq!(
        incasso_dossier::verify_stored(&to_dossier_chain(t, case, &chain)),
        Ok(())
    );

    // An action cancelled while its message was on the way stays cancelled; the attempt
    // still records that the message left.
    let (c, c_debtor, c_action) = fixture(store, "C");
    let c_case = store.actions(c, None).expect("actions")[0].case_id;
    let c_attempt = store
        .begin_attempt(c, &attempt(c_action, c_debtor, "email", 1, at))
        .expect("begin");
    store
        .set_action_status(c, c_action, ActionStatus::Cancelled, None, "paid")
        .expect("cancel");
    store
        .record_sent(
            c,
            &SentRecord {
                attempt_id: c_attempt,
                provider_id: "250 ok",
                at: "2026-12-03T09:00:01Z",
                documents: &[sent_doc(c_case, "email", b"From: c")],
                action_sent: Some((c_action, day)),
            },
        )
        .expect("record despite the cancellation");
    assert_eq!(
        store.actions(c, None).expect("actions")[0].action.status,
        ActionStatus::Cancelled
    );
    assert_eq!(
        store.attempts(c, Some(c_action)).expect("attempts")[0].status,
        AttemptStatus::Sent
    );
    assert_eq!(store.documents(c, c_case).expect("docs").len(), 1);
}

pub fn attempts_are_recorded_once_and_finished_once(store: &mut dyn Store) {
    let (t, debtor, action) = fixture(store, "A");
    let at = "2026-12-03T09:00:00Z";
    let id = store
        .begin_attempt(t, &attempt(action, debtor, "email", 1, at))
        .expect("begin");
    let rows = store.attempts(t, Some(action)).expect("attempts");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, AttemptStatus::Sending);
    assert_eq!(
        rows[0].message_id,
        format!("incasso.1.{action}.1@example.nl")
    );
    assert_eq!(rows[0].sha256, "ab".repeat(32));
    assert_eq!(rows[0].created_at, at);
    assert_eq!(rows[0].debtor_id, debtor);
    // While one is sending, no second attempt for the same channel can be recorded.
    conflict(
        store.begin_attempt(t, &attempt(action, debtor, "email", 2, at)),
        "a second attempt while sending",
    );
    conflict(
        store.begin_attempt(t, &attempt(action, debtor, "email", 1, at)),
        "the same attempt number again",
    );
    // Another channel of the same action is independent.
    let sms = store
        .begin_attempt(t, &attempt(action, debtor, "sms", 1, at))
        .expect("sms attempt");
    store
        .finish_attempt(
            t,
            id,
            &AttemptOutcome::Sent {
                provider_id: "250 queued as X1".into(),
            },
            "2026-12-03T09:00:01Z",
        )
        .expect("sent");
    conflict(
        store.finish_attempt(
            t,
            id,
            &AttemptOutcome::FailedPermanent {
                reason: "late".into(),
            },
            "2026-12-03T09:00:02Z",
        ),
        "finishing twice",
    );
    conflict(
        store.begin_attempt(t, &attempt(action, debtor, "email", 2, at)),
        "a new attempt after sent",
    );
    let rows = store.attempts(t, Some(action)).expect("attempts");
    let email = rows.iter().find(|r| r.id == id).expect("row");
    assert_eq!(email.status, AttemptStatus::Sent);
    assert_eq!(email.provider_id, "250 queued as X1");
    assert_eq!(email.updated_at, "2026-12-03T09:00:01Z");
    // A sent message is a contact for the weekly cap.
    assert_eq!(
        store
            .contacts_since(t, debtor, "2026-11-26T09:00:00Z")
            .expect("contacts"),
        vec!["2026-12-03T09:00:01Z".to_string()]
    );
    assert!(
        store
            .contacts_since(t, debtor, "2026-12-03T09:00:02Z")
            .expect("contacts")
            .is_empty()
    );
    assert_eq!(
        sms,
        rows.iter().find(|r| r.channel == "sms").expect("sms").id
    );
    assert_eq!(store.attempts(t, None).expect("all").len(), 2);
}

pub fn temporary_failures_allow_a_new_attempt(store: &mut dyn Store) {
    let (t, debtor, action) = fixture(store, "A");
    let id = store
        .begin_attempt(
            t,
            &attempt(action, debtor, "email", 1, "2026-12-03T09:00:00Z"),
        )
        .expect("begin");
    store
        .finish_attempt(
            t,
            id,
            &AttemptOutcome::FailedTemporary {
                reason: "451 try again".into(),
                next_retry_at: Some("2026-12-03T09:05:00Z".into()),
            },
            "2026-12-03T09:00:01Z",
        )
        .expect("failed");
    let row = &store.attempts(t, Some(action)).expect("attempts")[0];
    assert_eq!(row.status, AttemptStatus::FailedTemporary);
    assert_eq!(row.reason, "451 try again");
    assert_eq!(row.next_retry_at.as_deref(), Some("2026-12-03T09:05:00Z"));
    assert!(
        store
            .contacts_since(t, debtor, "2026-01-01T00:00:00Z")
            .expect("contacts")
            .is_empty(),
        "a failed message is no contact"
    );
    let id2 = store
        .begin_attempt(
            t,
            &attempt(action, debtor, "email", 2, "2026-12-03T09:05:00Z"),
        )
        .expect("retry");
    store
        .finish_attempt(
            t,
            id2,
            &AttemptOutcome::FailedPermanent {
                reason: "550 no such user".into(),
            },
            "2026-12-03T09:05:01Z",
        )
        .expect("permanent");
    let rows = store.attempts(t, Some(action)).expect("attempts");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].attempt, 2);
    assert_eq!(rows[1].status, AttemptStatus::FailedPermanent);
    assert_eq!(rows[1].next_retry_at, None);
}

pub fn in_doubt_attempts_block_resending_until_resolved(store: &mut dyn Store) {
    let (t, debtor, action) = fixture(store, "A");
    let id = store
        .begin_attempt(
            t,
            &attempt(action, debtor, "email", 1, "2026-12-03T09:00:00Z"),
        )
        .expect("begin");
    // The process died here. The next run marks the attempt in doubt.
    assert_eq!(
        store
            .mark_in_doubt(t, "2026-12-03T10:00:00Z")
            .expect("mark"),
        1
    );
    assert_eq!(
        store
            .mark_in_doubt(t, "2026-12-03T10:00:00Z")
            .expect("mark"),
        0
    );
    let row = &store.attempts(t, Some(action)).expect("attempts")[0];
    assert_eq!(row.status, AttemptStatus::InDoubt);
    assert!(!row.reason.is_empty());
    conflict(
        store.begin_attempt(
            t,
            &attempt(action, debtor, "email", 2, "2026-12-03T10:00:00Z"),
        ),
        "resending an in-doubt message",
    );
    conflict(
        store.finish_attempt(
            t,
            id,
            &AttemptOutcome::Sent {
                provider_id: "x".into(),
            },
            "2026-12-03T10:00:00Z",
        ),
        "finishing an in-doubt attempt",
    );
    // A person checked: it never left. Now a new attempt may be made.
    let case = store.actions(t, None).expect("actions")[0].case_id;
    let before = store.chain(t, case).expect("chain").len();
    store
        .resolve_in_doubt(
            t,
            id,
            false,
            "not in the provider's log",
            "2026-12-03T11:00:00Z",
            parse_iso("2026-12-03").expect("date"),
        )
        .expect("resolve");
    conflict(
        store.resolve_in_doubt(
            t,
            id,
            true,
            "again",
            "2026-12-03T11:00:00Z",
            parse_iso("2026-12-03").expect("date"),
        ),
        "resolving twice",
    );
    // The decision is on the case's hash chain, once.
    let chain = store.chain(t, case).expect("chain");
    assert_eq!(chain.len(), before + 1, "one event for one resolution");
    let last = chain.last().expect("event");
    assert_eq!(last.kind, DISPATCH_RESOLVED);
    assert_eq!(last.on, "2026-12-03");
    assert!(last.text.contains("did not leave"), "{}", last.text);
    assert!(
        last.payload.contains("not in the provider's log"),
        "{}",
        last.payload
    );
    assert!(
        last.payload.contains("\"did_leave\":false"),
        "{}",
        last.payload
    );
    let id2 = store
        .begin_attempt(
            t,
            &attempt(action, debtor, "email", 2, "2026-12-03T11:00:00Z"),
        )
        .expect("new attempt");
    store
        .mark_in_doubt(t, "2026-12-03T12:00:00Z")
        .expect("mark");
    // This time it did leave: it counts as a contact.
    store
        .resolve_in_doubt(
            t,
            id2,
            true,
            "seen at the recipient",
            "2026-12-03T12:30:00Z",
            parse_iso("2026-12-03").expect("date"),
        )
        .expect("resolve");
    let chain = store.chain(t, case).expect("chain");
    assert_eq!(chain.len(), before + 2);
    let last = chain.last().expect("event");
    assert!(last.text.contains("it did leave"), "{}", last.text);
    assert_eq!(
        incasso_dossier::verify_stored(&to_dossier_chain(t, case, &chain)),
        Ok(())
    );
    let rows = store.attempts(t, Some(action)).expect("attempts");
    assert_eq!(rows[0].status, AttemptStatus::FailedTemporary);
    assert_eq!(rows[0].reason, "not in the provider's log");
    assert_eq!(
        rows[0].next_retry_at.as_deref(),
        Some("2026-12-03T11:00:00Z")
    );
    assert_eq!(rows[1].next_retry_at, None);
    assert_eq!(rows[1].status, AttemptStatus::Sent);
    assert_eq!(
        store
            .contacts_since(t, debtor, "2026-12-01T00:00:00Z")
            .expect("contacts")
            .len(),
        1
    );
}

pub fn tenants_never_see_each_others_dispatch(store: &mut dyn Store) {
    let (a, debtor_a, action_a) = fixture(store, "A");
    let (b, _debtor_b, action_b) = fixture(store, "B");
    let id = store
        .begin_attempt(
            a,
            &attempt(action_a, debtor_a, "email", 1, "2026-12-03T09:00:00Z"),
        )
        .expect("begin");
    assert!(matches!(
        store.begin_attempt(
            b,
            &attempt(action_a, debtor_a, "email", 1, "2026-12-03T09:00:00Z")
        ),
        Err(StoreError::NotFound(_))
    ));
    assert!(store.attempts(b, None).expect("attempts").is_empty());
    assert!(
        store
            .attempts(b, Some(action_a))
            .expect("attempts")
            .is_empty()
    );
    conflict(
        store.finish_attempt(
            b,
            id,
            &AttemptOutcome::Sent {
                provider_id: "x".into(),
            },
            "2026-12-03T09:00:01Z",
        ),
        "finishing another tenant's attempt",
    );
    assert_eq!(
        store
            .mark_in_doubt(b, "2026-12-03T10:00:00Z")
            .expect("mark"),
        0
    );
    assert_eq!(
        store.attempts(a, None).expect("attempts")[0].status,
        AttemptStatus::Sending
    );
    store
        .finish_attempt(
            a,
            id,
            &AttemptOutcome::Sent {
                provider_id: "x".into(),
            },
            "2026-12-03T09:00:01Z",
        )
        .expect("sent");
    assert!(
        store
            .contacts_since(b, debtor_a, "2026-01-01T00:00:00Z")
            .expect("contacts")
            .is_empty()
    );
    assert!(matches!(
        store.set_consent(b, debtor_a, "sms", true, "2026-12-01T00:00:00Z"),
        Err(StoreError::NotFound(_))
    ));
    assert_ne!(action_a, action_b);
}

pub fn consents_round_trip(store: &mut dyn Store) {
    let (t, debtor, _) = fixture(store, "A");
    assert!(store.consents(t, debtor).expect("consents").is_empty());
    store
        .set_consent(t, debtor, "sms", true, "2026-12-01T00:00:00Z")
        .expect("consent");
    store
        .set_consent(t, debtor, "email", true, "2026-12-01T00:00:00Z")
        .expect("consent");
    store
        .set_consent(t, debtor, "sms", true, "2026-12-02T00:00:00Z")
        .expect("again");
    assert_eq!(
        store.consents(t, debtor).expect("consents"),
        vec!["email".to_string(), "sms".to_string()]
    );
    store
        .set_consent(t, debtor, "sms", false, "2026-12-03T00:00:00Z")
        .expect("withdraw");
    assert_eq!(
        store.consents(t, debtor).expect("consents"),
        vec!["email".to_string()]
    );
}

pub fn consent_changes_are_logged_with_source_and_chained_on_open_cases(store: &mut dyn Store) {
    let (t, debtor, _) = fixture(store, "A");
    let case = store.cases(t, true).expect("cases")[0].id;
    let before = store.chain(t, case).expect("chain").len();
    let on = parse_iso("2026-12-02").expect("date");
    let change = |given: bool, source: &str, at: &str| ConsentChange {
        debtor,
        channel: "sms".into(),
        given,
        source: source.into(),
        at: at.into(),
        on: Some(on),
        text: format!("sms {given}"),
    };
    let r = store
        .record_consent(t, &change(true, "signed form", "2026-12-02T09:00:00Z"))
        .expect("give");
    assert_eq!(
        r,
        ConsentRecorded {
            changed: true,
            cases: vec![case]
        }
    );
    assert_eq!(store.consents(t, debtor).expect("consents"), vec!["sms"]);
    // The same consent again changes nothing.
    let again = store
        .record_consent(t, &change(true, "again", "2026-12-02T09:01:00Z"))
        .expect("again");
    assert!(!again.changed && again.cases.is_empty());
    store
        .record_consent(t, &change(false, "phone call", "2026-12-02T10:00:00Z"))
        .expect("withdraw");
    assert!(store.consents(t, debtor).expect("consents").is_empty());
    let log = store.consent_log(t, debtor).expect("log");
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[0].given && log[0].source == "signed form" && log[0].at == "2026-12-02T09:00:00Z");
    assert!(!log[1].given && log[1].source == "phone call" && log[1].channel == "sms");
    // Both changes are in the case's hash chain, with their source in the payload.
    let chain = store.chain(t, case).expect("chain");
    assert_eq!(chain.len(), before + 2);
    let last = chain.last().expect("event");
    assert_eq!(last.kind, CONSENT_CHANGED);
    assert_eq!(last.on, "2026-12-02");
    assert!(last.payload.contains("phone call"), "{}", last.payload);
    let rows = to_dossier_chain(t, case, &chain);
    assert_eq!(incasso_dossier::verify_stored(&rows), Ok(()));
    // Another tenant cannot touch this debtor.
    let other = store.add_creditor(&creditor("B")).expect("creditor");
    assert!(matches!(
        store.record_consent(other, &change(true, "x", "2026-12-03T00:00:00Z")),
        Err(StoreError::NotFound(_))
    ));
    assert!(store.consent_log(other, debtor).expect("log").is_empty());
}
