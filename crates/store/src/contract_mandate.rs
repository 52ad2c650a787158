//! Storage contract for the `mandate` capability: story-style checks every backend must pass.

use incasso_banking::{Bic, Iban};
use incasso_calendar::{Date, parse_iso};
use incasso_domain::{CreditorId, DebtorId, InvoiceId};
use incasso_money::Money;

use crate::contract::{creditor, debtor, import, invoice};
use crate::*;

fn d(s: &str) -> Date {
    parse_iso(s).expect("test date")
}

fn iban(s: &str) -> Iban {
    Iban::parse(s).expect("iban")
}

const CI: &str = "NL57ZZZ999999999999";

/// A tenant with two debtors (one invoice each); returns the tenant, debtors and invoices.
fn ledger(
    store: &mut dyn Store,
    name: &str,
    seed: char,
) -> (CreditorId, Vec<DebtorId>, Vec<InvoiceId>) {
    let t = store.add_creditor(&creditor(name)).expect("creditor");
    import(
        store,
        t,
        seed,
        vec![
            (
                debtor("Jan", "D1"),
                vec![invoice("F-1", 12_000, "2026-02-01")],
            ),
            (
                debtor("Els", "D2"),
                vec![invoice("F-2", 5_050, "2026-02-01")],
            ),
        ],
    );
    let mut debtors: Vec<DebtorId> = store
        .debtors(t)
        .expect("debtors")
        .iter()
        .map(|r| r.id)
        .collect();
    debtors.sort();
    let invoices = ["F-1", "F-2"]
        .iter()
        .map(|n| store.invoice_by_number(t, n).expect("invoice").id)
        .collect();
    (t, debtors, invoices)
}

fn new_mandate(debtor: DebtorId, reference: &str, account: &str) -> NewMandate {
    NewMandate {
        debtor_id: debtor,
        reference: reference.into(),
        signed_on: d("2026-01-10"),
        iban: iban(account),
        bic: None,
        sequence: SequenceState::First,
    }
}

/// The collection the export would prepare for a mandate as it is now.
fn collection(m: &MandateRow, target: CollectionTarget, e2e: &str, cents: i64) -> NewCollection {
    NewCollection {
        items: vec![CollectionItem {
            target,
            amount: Money::eur_cents(cents),
        }],
        mandate: m.id,
        debtor_id: m.mandate.debtor_id,
        end_to_end_id: e2e.into(),
        amount: Money::eur_cents(cents),
        sequence: m.mandate.sequence,
        debtor_name: "Jan".into(),
        iban: m.mandate.iban.clone(),
        bic: m.mandate.bic.clone(),
        mandate_reference: m.mandate.reference.clone(),
        signed_on: m.mandate.signed_on,
        amendment: (!m.pending.is_empty()).then(|| m.pending.clone()),
        other_bank: false,
        remittance: "Factuur F-1".into(),
    }
}

fn batch(message_id: &str, day: &str, collections: Vec<NewCollection>) -> NewCollectionBatch {
    NewCollectionBatch {
        message_id: message_id.into(),
        collection_date: d(day),
        created_at: "2026-02-20T09:00:00".into(),
        scheme_id: CI.into(),
        collections,
    }
}

/// Mandates: registered per tenant with a unique reference, one active per debtor, revoked,
/// and invisible to other tenants.
pub fn mandates_are_unique_and_tenant_scoped(store: &mut dyn Store) {
    let (t, debtors, _) = ledger(store, "A", 'm');
    let (other, other_debtors, _) = ledger(store, "B", 'n');

    assert_eq!(store.creditor_scheme_id(t).expect("ci"), None);
    store
        .set_creditor_scheme_id(t, CI, d("2026-01-01"))
        .expect("set ci");
    assert_eq!(
        store.creditor_scheme_id(t).expect("ci").as_deref(),
        Some(CI)
    );
    assert_eq!(
        store.creditor_scheme_id(other).expect("ci"),
        None,
        "CI is per tenant"
    );

    let mut m = new_mandate(debtors[0], "M-1", "NL44RABO0123456789");
    m.bic = Some(Bic::parse("RABONL2U").expect("bic"));
    let id = store.add_mandate(t, &m).expect("add");
    let rows = store.mandates(t).expect("list");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, id);
    assert_eq!(rows[0].mandate, m, "round trip");
    assert_eq!(rows[0].status, MandateStatus::Active);
    assert!(rows[0].pending.is_empty() && rows[0].last_collection.is_none());

    // The same reference again, and a second active mandate for the same debtor: conflicts.
    let same_ref = new_mandate(debtors[1], "M-1", "NL91ABNA0417164300");
    assert!(matches!(
        store.add_mandate(t, &same_ref),
        Err(StoreError::Conflict(_))
    ));
    let second = new_mandate(debtors[0], "M-2", "NL91ABNA0417164300");
    assert!(matches!(
        store.add_mandate(t, &second),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.mandates(t).expect("list").len(),
        1,
        "a refused add writes nothing"
    );

    // Another tenant: cannot see it, cannot attach a mandate to this tenant's debtor, and may
    // use the same reference for its own debtor.
    assert!(store.mandates(other).expect("list").is_empty());
    assert!(matches!(
        store.mandate(other, "M-1"),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.add_mandate(other, &new_mandate(debtors[1], "X-1", "NL91ABNA0417164300")),
        Err(StoreError::NotFound(_))
    ));
    store
        .add_mandate(
            other,
            &new_mandate(other_debtors[0], "M-1", "NL91ABNA0417164300"),
        )
        .expect("same reference in another tenant");
    assert!(matches!(
        store.revoke_mandate(other, "M-2", d("2026-03-01"), ""),
        Err(StoreError::NotFound(_))
    ));

    // Revoked: no longer active, a new mandate for the debtor may follow.
    store
        .revoke_mandate(t, "M-1", d("2026-03-01"), "closed account")
        .expect("revoke");
    let r = store.mandate(t, "M-1").expect("get");
    assert_eq!(r.status, MandateStatus::Revoked);
    assert_eq!(r.revoked_on, Some(d("2026-03-01")));
    assert!(matches!(
        store.revoke_mandate(t, "M-1", d("2026-03-02"), ""),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.amend_mandate(
            t,
            "M-1",
            &MandateAmendment {
                reference: Some("M-9".into()),
                ..Default::default()
            }
        ),
        Err(StoreError::Conflict(_))
    ));
    store
        .add_mandate(t, &second)
        .expect("new mandate after revocation");
    assert_eq!(
        store.mandate(other, "M-1").expect("other").status,
        MandateStatus::Active
    );
    let kinds: Vec<String> = store
        .mandate_events(t, id)
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["added", "revoked"]);
    let revoked = store
        .mandate_events(t, id)
        .expect("events")
        .pop()
        .expect("revoked event");
    assert_eq!(
        revoked.text, "mandate M-1 revoked: closed account",
        "reason kept"
    );
    assert!(
        store.mandate_events(other, id).expect("events").is_empty(),
        "tenant-scoped"
    );
}

/// Recording a batch advances FRST to RCUR once, refuses to collect a target twice (writing
/// nothing), and round-trips the batch.
pub fn collections_advance_sequence_once(store: &mut dyn Store) {
    let (t, debtors, invoices) = ledger(store, "A", 'o');
    let (other, _, _) = ledger(store, "B", 'p');
    store
        .set_creditor_scheme_id(t, CI, d("2026-01-01"))
        .expect("ci");
    store
        .add_mandate(t, &new_mandate(debtors[0], "M-1", "NL44RABO0123456789"))
        .expect("add");
    let mut ooff = new_mandate(debtors[1], "M-2", "NL91ABNA0417164300");
    ooff.sequence = SequenceState::OneOff;
    store.add_mandate(t, &ooff).expect("add");

    let m1 = store.mandate(t, "M-1").expect("m1");
    let m2 = store.mandate(t, "M-2").expect("m2");
    let first = batch(
        "DD-1",
        "2026-03-02",
        vec![
            collection(
                &m1,
                CollectionTarget::Invoice(invoices[0]),
                "DD-1-1",
                12_000,
            ),
            collection(&m2, CollectionTarget::Invoice(invoices[1]), "DD-1-2", 5_050),
        ],
    );
    let id = store.record_collection_batch(t, &first).expect("record");
    let after = store.mandate(t, "M-1").expect("m1");
    assert_eq!(
        after.mandate.sequence,
        SequenceState::Recurring,
        "FRST -> RCUR"
    );
    assert_eq!(after.last_collection, Some(d("2026-03-02")));
    assert_eq!(
        store.mandate(t, "M-2").expect("m2").status,
        MandateStatus::Ended,
        "OOFF used up"
    );

    let stored = store.collection_batches(t, None).expect("batches");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, id);
    assert_eq!(stored[0].batch, first, "round trip");
    assert_eq!(
        store
            .collection_batches(t, Some(d("2026-03-02")))
            .expect("by day")
            .len(),
        1
    );
    assert!(
        store
            .collection_batches(t, Some(d("2026-03-03")))
            .expect("by day")
            .is_empty()
    );
    assert!(
        store
            .collection_batches(other, None)
            .expect("other")
            .is_empty(),
        "tenant-scoped"
    );
    assert!(store.collected_targets(other).expect("other").is_empty());
    let mut targets = store.collected_targets(t).expect("targets");
    targets.sort_by_key(|x| format!("{x:?}"));
    assert_eq!(
        targets,
        [
            CollectionTarget::Invoice(invoices[0]),
            CollectionTarget::Invoice(invoices[1])
        ]
    );

    assert_eq!(
        store
            .collected_invoices_since(t, d("2026-03-02"))
            .expect("since"),
        [
            (invoices[0], d("2026-03-02")),
            (invoices[1], d("2026-03-02"))
        ],
        "collected invoices from the collection date on"
    );
    assert!(
        store
            .collected_invoices_since(t, d("2026-03-03"))
            .expect("since")
            .is_empty(),
        "nothing collected on or after the next day"
    );
    assert!(
        store
            .collected_invoices_since(other, d("2000-01-01"))
            .expect("other")
            .is_empty(),
        "tenant-scoped"
    );

    let (message, found) = store
        .collection_by_end_to_end(t, "DD-1-2")
        .expect("lookup")
        .expect("found");
    assert_eq!(message, "DD-1");
    assert_eq!(found, first.collections[1]);
    assert!(
        store
            .collection_by_end_to_end(other, "DD-1-2")
            .expect("other")
            .is_none()
    );
    assert!(
        store
            .collection_by_end_to_end(t, "DD-9-9")
            .expect("unknown")
            .is_none()
    );

    // Items that do not add up to the amount: refused.
    let mut wrong = collection(
        &after,
        CollectionTarget::Instalment { plan: 1, index: 0 },
        "DD-5-1",
        100,
    );
    wrong.amount = Money::eur_cents(101);
    assert!(matches!(
        store.record_collection_batch(t, &batch("DD-5", "2026-04-01", vec![wrong])),
        Err(StoreError::Conflict(_))
    ));

    // The same invoice again (with the mandate as it is now): refused, nothing written, the
    // sequence type does not move.
    let again = batch(
        "DD-2",
        "2026-04-01",
        vec![collection(
            &after,
            CollectionTarget::Invoice(invoices[0]),
            "DD-2-1",
            12_000,
        )],
    );
    assert!(matches!(
        store.record_collection_batch(t, &again),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.collection_batches(t, None).expect("batches").len(), 1);
    assert_eq!(
        store.mandate(t, "M-1").expect("m1").last_collection,
        Some(d("2026-03-02"))
    );

    // A snapshot taken before the first batch (FRST) is stale now: refused.
    let stale = batch(
        "DD-3",
        "2026-04-01",
        vec![collection(
            &m1,
            CollectionTarget::Instalment { plan: 1, index: 0 },
            "DD-3-1",
            100,
        )],
    );
    assert!(matches!(
        store.record_collection_batch(t, &stale),
        Err(StoreError::Conflict(_))
    ));
    // The ended one-off mandate cannot be collected on.
    let ended = store.mandate(t, "M-2").expect("m2");
    let on_ended = batch(
        "DD-4",
        "2026-04-01",
        vec![collection(
            &ended,
            CollectionTarget::Invoice(invoices[0]),
            "DD-4-1",
            100,
        )],
    );
    assert!(matches!(
        store.record_collection_batch(t, &on_ended),
        Err(StoreError::Conflict(_))
    ));
    // A message id used before: refused.
    let dup_msg = batch("DD-1", "2026-04-01", vec![]);
    assert!(matches!(
        store.record_collection_batch(t, &dup_msg),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.collection_batches(t, None).expect("batches").len(), 1);
}

/// Amendments after a collection keep the values the bank knows until a collection reports
/// them; before the first collection nothing is pending; a changed creditor identifier is
/// pending on every mandate collected under the old one.
pub fn amendments_are_pending_until_collected(store: &mut dyn Store) {
    let (t, debtors, invoices) = ledger(store, "A", 'q');
    store
        .set_creditor_scheme_id(t, CI, d("2026-01-01"))
        .expect("ci");
    store
        .add_mandate(t, &new_mandate(debtors[0], "M-1", "NL44RABO0123456789"))
        .expect("add");

    // Before any collection the bank has not seen the mandate: nothing pending.
    let before = store
        .amend_mandate(
            t,
            "M-1",
            &MandateAmendment {
                on: Some(d("2026-01-20")),
                iban: Some(iban("NL20INGB0001234567")),
                ..Default::default()
            },
        )
        .expect("amend");
    assert!(before.pending.is_empty(), "{:?}", before.pending);
    assert_eq!(before.mandate.iban, iban("NL20INGB0001234567"));

    let m = store.mandate(t, "M-1").expect("m");
    store
        .record_collection_batch(
            t,
            &batch(
                "DD-1",
                "2026-02-02",
                vec![collection(
                    &m,
                    CollectionTarget::Invoice(invoices[0]),
                    "DD-1-1",
                    100,
                )],
            ),
        )
        .expect("record");

    // New reference and new IBAN: the originals are kept.
    let a = store
        .amend_mandate(
            t,
            "M-1",
            &MandateAmendment {
                on: Some(d("2026-02-10")),
                reference: Some("M-1B".into()),
                iban: Some(iban("NL44RABO0123456789")),
                bic: Some(Some(Bic::parse("RABONL2U").expect("bic"))),
                sequence: None,
            },
        )
        .expect("amend");
    assert_eq!(a.mandate.reference, "M-1B");
    assert_eq!(a.pending.original_reference.as_deref(), Some("M-1"));
    assert_eq!(a.pending.original_iban, Some(iban("NL20INGB0001234567")));
    assert_eq!(a.pending.since, Some(d("2026-02-10")));
    assert!(matches!(
        store.mandate(t, "M-1"),
        Err(StoreError::NotFound(_))
    ));
    // The old reference stays taken.
    assert!(matches!(
        store.add_mandate(t, &new_mandate(debtors[1], "M-1", "NL91ABNA0417164300")),
        Err(StoreError::Conflict(_))
    ));

    // A second amendment keeps the first originals; changing the IBAN back clears that part.
    let b = store
        .amend_mandate(
            t,
            "M-1B",
            &MandateAmendment {
                on: Some(d("2026-02-12")),
                iban: Some(iban("NL20INGB0001234567")),
                ..Default::default()
            },
        )
        .expect("amend");
    assert_eq!(b.pending.original_reference.as_deref(), Some("M-1"));
    assert_eq!(
        b.pending.original_iban, None,
        "back to the IBAN the bank knows"
    );
    assert_eq!(b.pending.since, Some(d("2026-02-10")));

    // A new creditor identifier: pending on the collected mandate.
    store
        .set_creditor_scheme_id(t, "BE69ZZZ050D000000008", d("2026-02-15"))
        .expect("new ci");
    let c = store.mandate(t, "M-1B").expect("m");
    assert_eq!(c.pending.original_scheme_id.as_deref(), Some(CI));

    // A collection reporting the amendment clears it; the events tell the story.
    store
        .record_collection_batch(
            t,
            &batch(
                "DD-2",
                "2026-03-02",
                vec![collection(
                    &c,
                    CollectionTarget::Invoice(invoices[1]),
                    "DD-2-1",
                    100,
                )],
            ),
        )
        .expect("record");
    let done = store.mandate(t, "M-1B").expect("m");
    assert!(done.pending.is_empty(), "{:?}", done.pending);
    assert_eq!(done.pending, PendingAmendment::default());
    let stored = store
        .collection_batches(t, Some(d("2026-03-02")))
        .expect("batch");
    let reported = stored[0].batch.collections[0]
        .amendment
        .clone()
        .expect("amendment kept");
    assert_eq!(reported.original_reference.as_deref(), Some("M-1"));
    assert_eq!(reported.original_scheme_id.as_deref(), Some(CI));
    let kinds: Vec<String> = store
        .mandate_events(t, done.id)
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "added",
            "amended",
            "collected",
            "amended",
            "amended",
            "creditor_id_changed",
            "collected"
        ]
    );
}

/// Runs every mandate contract check, each on a fresh store.
pub fn run_all(fresh: &mut dyn FnMut() -> Box<dyn Store>) {
    mandates_are_unique_and_tenant_scoped(fresh().as_mut());
    collections_advance_sequence_once(fresh().as_mut());
    amendments_are_pending_until_collected(fresh().as_mut());
}
