//! Storage contract for the `dossier` capability: story-style checks every backend must pass.
//!
//! Every writer of case events (the daily run, case changes, action status, payment plans, the
//! bank's cancellations, documents) leaves a chain that verifies; documents keep their bytes
//! and SHA-256; tenants are isolated; and tampering with the rows underneath (through the
//! backend's [`Tamper`] hook, raw SQL past the append-only triggers) is detected.

use incasso_calendar::{Date, parse_iso};
use incasso_domain::CreditorId;
use incasso_dossier::{BreakReason, GENESIS, sha256_hex, verify_stored};

use crate::contract::{creditor, debtor, import, invoice};
use crate::*;

fn d(s: &str) -> Date {
    parse_iso(s).expect("test date")
}

/// A change made underneath the store with raw SQL, as an attacker with database access
/// could. The backend's hook first checks that the plain statement is refused by the
/// append-only triggers, then drops the trigger, makes the change and restores the trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tamper {
    /// `UPDATE case_events SET text = .. WHERE creditor_id, case_id, seq`.
    EventText {
        tenant: i64,
        case: i64,
        seq: u64,
        text: String,
    },
    /// `DELETE FROM case_events WHERE creditor_id, case_id, seq`.
    DeleteEvent { tenant: i64, case: i64, seq: u64 },
    /// `UPDATE documents SET bytes = .. WHERE creditor_id, id`.
    DocumentBytes {
        tenant: i64,
        id: i64,
        bytes: Vec<u8>,
    },
}

/// A fresh store and the hook that tampers with its database.
pub type Fresh = (Box<dyn Store>, Box<dyn FnMut(Tamper)>);

/// Runs every dossier contract check, each on a fresh store.
pub fn run_all(fresh: &mut dyn FnMut() -> Fresh) {
    let (mut s, _) = fresh();
    every_event_writer_chains(s.as_mut());
    let (mut s, _) = fresh();
    documents_are_stored_once_with_their_hash(s.as_mut());
    let (mut s, _) = fresh();
    tenants_are_isolated(s.as_mut());
    let (mut s, mut tamper) = fresh();
    tampering_is_detected(s.as_mut(), tamper.as_mut());
}

fn verify(store: &mut dyn Store, t: CreditorId, case: i64) -> Result<(), incasso_dossier::Broken> {
    let rows = store.chain(t, case).expect("chain");
    verify_stored(&to_dossier_chain(t, case, &rows))
}

/// A tenant with one debtor whose open case was created by a run batch; returns (tenant, case).
fn case_with_run(store: &mut dyn Store, name: &str) -> (CreditorId, i64) {
    let t = store.add_creditor(&creditor(name)).expect("add");
    import(
        store,
        t,
        'd',
        vec![(
            debtor("Jan", "D1"),
            vec![invoice("F-1", 10_000, "2026-01-15")],
        )],
    );
    let mut jan = None;
    store
        .for_each_overdue_debtor(t, d("2026-03-01"), &mut |c| {
            jan = Some(c.debtor_id);
            Ok(())
        })
        .expect("overdue");
    let batch = RunBatch {
        new_cases: vec![NewCase {
            debtor_id: jan.expect("overdue debtor"),
            state: "open".into(),
            opened_on: d("2026-03-01"),
        }],
        actions: vec![(
            CaseRef::New(0),
            NewAction {
                idempotency_key: format!("dunning:1:nl-b2b:v1:reminder:{name}"),
                policy_name: "nl-b2b".into(),
                policy_version: 1,
                step_id: "reminder".into(),
                template: "reminder".into(),
                channels: "post".into(),
                status: ActionStatus::Queued,
                status_reason: String::new(),
                created_on: d("2026-03-01"),
                deadline: d("2026-03-15"),
                principal: incasso_money::Money::eur_cents(10_000),
                interest: None,
                costs: None,
                total: incasso_money::Money::eur_cents(10_000),
                why: "overdue".into(),
            },
        )],
        events: vec![
            (
                CaseRef::New(0),
                CaseEvent {
                    on: d("2026-03-01"),
                    kind: "opened".into(),
                    text: "case opened".into(),
                },
            ),
            (
                CaseRef::New(0),
                CaseEvent {
                    on: d("2026-03-01"),
                    kind: "action_queued".into(),
                    text: "reminder queued".into(),
                },
            ),
        ],
        ..RunBatch::default()
    };
    store.apply_run(t, &batch).expect("run");
    let case = store.cases(t, true).expect("cases")[0].id;
    (t, case)
}

fn doc(case: i64, kind: &str, bytes: &[u8]) -> NewDocument {
    NewDocument {
        case_id: case,
        kind: kind.into(),
        filename: format!("{kind}.txt"),
        media_type: "text/plain".into(),
        bytes: bytes.to_vec(),
        recorded_at: "2026-03-05T10:00:00Z".into(),
        on: d("2026-03-05"),
        text: format!("{kind} recorded"),
        meta: r#"{"note":"from the debtor","by":"clerk"}"#.into(),
    }
}

pub fn every_event_writer_chains(store: &mut dyn Store) {
    let (t, case) = case_with_run(store, "A");
    let chain = store.chain(t, case).expect("chain");
    assert_eq!(chain.len(), 2, "the run's two events");
    assert_eq!(chain[0].seq, 1);
    assert_eq!(chain[0].prev_hash, GENESIS);
    assert_eq!(chain[1].prev_hash, chain[0].hash);
    assert_eq!(chain[0].payload, "{}");
    assert_eq!(verify(store, t, case), Ok(()));

    // A second batch appends to the existing case: its head is read, not restarted.
    let again = RunBatch {
        events: vec![(
            CaseRef::Existing(case),
            CaseEvent {
                on: d("2026-03-02"),
                kind: "note".into(),
                text: "second run".into(),
            },
        )],
        ..RunBatch::default()
    };
    store.apply_run(t, &again).expect("run again");
    let action = store.actions(t, Some(case)).expect("actions")[0].id;
    store
        .set_action_status(t, action, ActionStatus::Sent, Some(d("2026-03-03")), "")
        .expect("sent");
    store
        .change_case(
            t,
            case,
            &CaseChange {
                state: Some("reminded".into()),
                ..CaseChange::default()
            },
            &CaseEvent {
                on: d("2026-03-03"),
                kind: "state".into(),
                text: "reminded".into(),
            },
        )
        .expect("change");
    store
        .add_plan(
            t,
            &NewPlan {
                case_id: case,
                agreed_on: d("2026-03-04"),
                grace_days: 3,
                instalments: vec![(d("2026-04-01"), incasso_money::Money::eur_cents(10_000))],
            },
            &CaseEvent {
                on: d("2026-03-04"),
                kind: "plan".into(),
                text: "plan agreed".into(),
            },
        )
        .expect("plan");
    // The bank's cancellation of pending actions writes an event too.
    let run2 = RunBatch {
        actions: vec![(
            CaseRef::Existing(case),
            NewAction {
                idempotency_key: "second".into(),
                policy_name: "nl-b2b".into(),
                policy_version: 1,
                step_id: "second".into(),
                template: "second".into(),
                channels: "post".into(),
                status: ActionStatus::Queued,
                status_reason: String::new(),
                created_on: d("2026-03-04"),
                deadline: d("2026-03-18"),
                principal: incasso_money::Money::eur_cents(10_000),
                interest: None,
                costs: None,
                total: incasso_money::Money::eur_cents(10_000),
                why: "overdue".into(),
            },
        )],
        ..RunBatch::default()
    };
    store.apply_run(t, &run2).expect("run 2");
    let debtor = store.case(t, case).expect("case").debtor_id;
    store
        .bank_transaction(t, None, &mut |sink| {
            sink.cancel_pending(debtor, "paid", d("2026-03-05"))?;
            Ok(true)
        })
        .expect("bank");
    let added = store
        .add_document(t, &doc(case, "proof", b"proof of delivery"))
        .expect("add");
    let chain = store.chain(t, case).expect("chain");
    let kinds: Vec<&str> = chain.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "opened",
            "action_queued",
            "note",
            "action_sent",
            "state",
            "plan",
            "cancelled",
            DOCUMENT_ADDED
        ]
    );
    assert_eq!(
        chain.iter().map(|c| c.seq).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    assert_eq!(added.document.event_seq, 8);
    assert_eq!(verify(store, t, case), Ok(()));
    // The old listing still shows the same timeline.
    assert_eq!(store.case_events(t, case).expect("events").len(), 8);
}

pub fn documents_are_stored_once_with_their_hash(store: &mut dyn Store) {
    let (t, case) = case_with_run(store, "A");
    let bytes = b"Geachte heer,\nhierbij het bewijs.\n\x00\xff".to_vec();
    let added = store
        .add_document(t, &doc(case, "proof", &bytes))
        .expect("add");
    assert!(added.created);
    let row = &added.document;
    assert_eq!(row.sha256, sha256_hex(&bytes));
    assert_eq!(row.size, bytes.len() as u64);
    assert_eq!(row.kind, "proof");
    assert_eq!(
        row.meta, r#"{"by":"clerk","note":"from the debtor"}"#,
        "canonical meta"
    );
    let (stored, back) = store.document(t, row.id).expect("document");
    assert_eq!(&stored, row);
    assert_eq!(back, bytes, "bytes come back unchanged");
    let chain = store.chain(t, case).expect("chain");
    let last = chain.last().expect("event");
    assert_eq!(last.kind, DOCUMENT_ADDED);
    assert_eq!(last.document_sha256.as_deref(), Some(row.sha256.as_str()));
    let payload: serde_json::Value = serde_json::from_str(&last.payload).expect("json");
    assert_eq!(payload["filename"], "proof.txt");
    assert_eq!(payload["size"], bytes.len() as u64);
    assert_eq!(payload["recorded_at"], "2026-03-05T10:00:00Z");

    // The same bytes of the same kind again: nothing new.
    let again = store
        .add_document(t, &doc(case, "proof", &bytes))
        .expect("again");
    assert!(!again.created);
    assert_eq!(again.document.id, row.id);
    assert_eq!(store.chain(t, case).expect("chain").len(), chain.len());
    // Other bytes, or the same bytes as another kind: a new document.
    store
        .add_document(t, &doc(case, "agreement", &bytes))
        .expect("agreement");
    store
        .add_document(t, &doc(case, "call_note", b"called, promised to pay"))
        .expect("note");
    let docs = store.documents(t, case).expect("documents");
    assert_eq!(
        docs.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>(),
        ["proof", "agreement", "call_note"]
    );
    assert_eq!(verify(store, t, case), Ok(()));

    // Bad input changes nothing.
    let mut bad = doc(case, "proof", b"x");
    bad.meta = "not json".into();
    assert!(matches!(
        store.add_document(t, &bad),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.add_document(t, &doc(case + 1000, "proof", b"x")),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.documents(t, case).expect("documents").len(), 3);
}

pub fn tenants_are_isolated(store: &mut dyn Store) {
    let (a, case_a) = case_with_run(store, "A");
    let (b, case_b) = case_with_run(store, "B");
    let doc_a = store
        .add_document(a, &doc(case_a, "proof", b"secret of A"))
        .expect("add")
        .document;
    assert!(matches!(
        store.document(b, doc_a.id),
        Err(StoreError::NotFound(_))
    ));
    assert!(store.documents(b, case_a).expect("documents").is_empty());
    assert!(store.chain(b, case_a).expect("chain").is_empty());
    assert!(matches!(
        store.add_document(b, &doc(case_a, "proof", b"intrusion")),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.chain(a, case_a).expect("chain").len(), 3);
    // Each tenant's case chain starts at the genesis hash and verifies on its own.
    assert_eq!(verify(store, a, case_a), Ok(()));
    assert_eq!(verify(store, b, case_b), Ok(()));
    // A chain does not verify under another tenant's id: the tenant is hashed.
    let rows = store.chain(a, case_a).expect("chain");
    let as_b = to_dossier_chain(b, case_a, &rows);
    assert_eq!(
        verify_stored(&as_b).map_err(|e| e.reason),
        Err(BreakReason::Hash)
    );
}

pub fn tampering_is_detected(store: &mut dyn Store, tamper: &mut dyn FnMut(Tamper)) {
    let (t, case) = case_with_run(store, "A");
    let proof = b"signed delivery note".to_vec();
    let document = store
        .add_document(t, &doc(case, "proof", &proof))
        .expect("add")
        .document;
    store
        .add_document(t, &doc(case, "call_note", b"called"))
        .expect("add");
    assert_eq!(verify(store, t, case), Ok(()));

    tamper(Tamper::EventText {
        tenant: t.get(),
        case,
        seq: 2,
        text: "nothing was queued".into(),
    });
    let err = verify(store, t, case).expect_err("edited event");
    assert_eq!((err.seq, err.reason), (2, BreakReason::Hash));

    // The document's bytes are swapped: its stored SHA-256 (which the chain covers) no longer
    // matches them.
    tamper(Tamper::DocumentBytes {
        tenant: t.get(),
        id: document.id,
        bytes: b"forged delivery note".to_vec(),
    });
    let (row, bytes) = store.document(t, document.id).expect("document");
    assert_ne!(sha256_hex(&bytes), row.sha256);

    // A deletion in another case is detected at the event after the gap.
    let (t2, case2) = case_with_run(store, "B");
    store
        .add_document(t2, &doc(case2, "proof", b"p"))
        .expect("add");
    tamper(Tamper::DeleteEvent {
        tenant: t2.get(),
        case: case2,
        seq: 2,
    });
    let err = verify(store, t2, case2).expect_err("deleted event");
    assert_eq!((err.seq, err.reason), (3, BreakReason::Sequence));
}
