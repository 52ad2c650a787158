//! Tests of the hash chain: a known vector, and properties (any change, deletion, reordering or
//! insertion is detected).

use super::*;
use proptest::prelude::*;
use serde_json::json;

fn ev(seq: u64, kind: &str, text: &str) -> Event {
    Event {
        tenant: 1,
        case: 7,
        seq,
        on: "2026-01-15".into(),
        kind: kind.into(),
        text: text.into(),
        payload: json!({"b": 1, "a": [true, null, "x"]}),
        document: None,
    }
}

#[test]
fn encoding_is_the_documented_one() {
    let e = ev(1, "opened", "case opened");
    let bytes = encode(&e, GENESIS);
    let expected = format!(
        "incasso-dossier-event-v1\ntenant 1:1\ncase 1:7\nseq 1:1\non 10:2026-01-15\nkind 6:opened\ntext 11:case opened\npayload 27:{{\"a\":[true,null,\"x\"],\"b\":1}}\ndocument 0:\nprev 64:{GENESIS}\n"
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    assert_eq!(link(GENESIS, &e), sha256_hex(expected.as_bytes()));
}

#[test]
fn sha256_of_a_known_input() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let mut h = DocumentHasher::new();
    h.update(b"a");
    h.update(b"bc");
    assert_eq!(h.finish(), (sha256_hex(b"abc"), 3));
}

#[test]
fn canonical_json_sorts_nested_keys_and_escapes() {
    let v = json!({"z": {"y": 1, "x": "é\"\n"}, "a": []});
    assert_eq!(canonical_json(&v), r#"{"a":[],"z":{"x":"é\"\n","y":1}}"#);
}

#[test]
fn a_fresh_chain_verifies_and_names_the_broken_event() {
    let chain = chain_from(None, (1..=4).map(|i| ev(i, "k", "t")).collect());
    assert_eq!(verify(&chain), Ok(()));
    assert_eq!(head(&chain), chain[3].hash);
    let mut bad = chain.clone();
    bad[2].event.text = "changed".into();
    let err = verify(&bad).unwrap_err();
    assert_eq!(err.seq, 3);
    assert_eq!(err.reason, BreakReason::Hash);
    assert_eq!(err.found, chain[2].hash);
    // continuing a chain from its head gives the same hashes as chaining at once
    let first = chain_from(None, (1..=2).map(|i| ev(i, "k", "t")).collect());
    let rest = chain_from(
        Some(head(&first)),
        (3..=4).map(|i| ev(i, "k", "t")).collect(),
    );
    assert_eq!([first, rest].concat(), chain);
}

#[test]
fn a_non_canonical_stored_payload_is_reported() {
    let chain = chain_from(None, vec![ev(1, "k", "t"), ev(2, "k", "t")]);
    let mut stored: Vec<(Chained, String)> = chain
        .iter()
        .map(|c| (c.clone(), canonical_json(&c.event.payload)))
        .collect();
    assert_eq!(verify_stored(&stored), Ok(()));
    stored[1].1 = r#"{"b":1,"a":[true,null,"x"]}"#.into();
    let err = verify_stored(&stored).unwrap_err();
    assert_eq!((err.seq, err.reason), (2, BreakReason::Payload));
}

fn arb_event() -> impl Strategy<Value = Event> {
    (
        1i64..4,
        1i64..4,
        "[a-z_]{1,12}",
        ".{0,40}",
        proptest::option::of("[0-9a-f]{64}"),
        proptest::collection::btree_map("[a-z]{1,5}", ".{0,8}", 0..4),
    )
        .prop_map(|(tenant, case, kind, text, document, map)| Event {
            tenant,
            case,
            seq: 0,
            on: "2026-03-01".into(),
            kind,
            text,
            payload: serde_json::to_value(map).unwrap(),
            document,
        })
}

fn arb_chain() -> impl Strategy<Value = Vec<Chained>> {
    proptest::collection::vec(arb_event(), 1..8).prop_map(|events| {
        let (t, c) = (events[0].tenant, events[0].case);
        let events = events
            .into_iter()
            .enumerate()
            .map(|(i, mut e)| {
                e.seq = i as u64 + 1;
                e.tenant = t;
                e.case = c;
                e
            })
            .collect();
        chain_from(None, events)
    })
}

proptest! {
    #[test]
    fn every_chain_built_verifies(chain in arb_chain()) {
        prop_assert_eq!(verify(&chain), Ok(()));
    }

    #[test]
    fn changing_any_field_is_detected(chain in arb_chain(), at in any::<prop::sample::Index>(), which in 0usize..10, s in "[a-z]{1,6}") {
        let mut bad = chain.clone();
        let i = at.index(bad.len());
        let c = &mut bad[i];
        match which {
            0 => c.event.tenant += 1,
            1 => c.event.case += 1,
            2 => c.event.seq += 1,
            3 => c.event.on = "2026-03-02".into(),
            4 => c.event.kind.push_str(&s),
            5 => c.event.text.push_str(&s),
            6 => { c.event.payload.as_object_mut().unwrap().insert(format!("new{s}"), json!(s)); }
            7 => c.event.document = match &c.event.document { Some(_) => None, None => Some("0".repeat(64)) },
            8 => c.prev = sha256_hex(s.as_bytes()),
            _ => c.hash = sha256_hex(s.as_bytes()),
        }
        let err = verify(&bad).unwrap_err();
        // the break is found at the changed event (the last one has no successor to tell)
        prop_assert_eq!(err.seq, bad[i].event.seq);
    }

    #[test]
    fn rehashing_a_changed_event_still_breaks_its_successor(chain in arb_chain().prop_filter("two or more", |c| c.len() >= 2), at in any::<prop::sample::Index>()) {
        let mut bad = chain.clone();
        let i = at.index(bad.len() - 1);
        bad[i].event.text.push('!');
        bad[i].hash = link(&bad[i].prev, &bad[i].event);
        let err = verify(&bad).unwrap_err();
        prop_assert_eq!((err.seq, err.reason), (bad[i + 1].event.seq, BreakReason::Prev));
    }

    #[test]
    fn deleting_an_event_other_than_the_last_is_detected(chain in arb_chain().prop_filter("two or more", |c| c.len() >= 2), at in any::<prop::sample::Index>()) {
        let mut bad = chain.clone();
        let i = at.index(bad.len() - 1);
        bad.remove(i);
        prop_assert!(verify(&bad).is_err());
    }

    #[test]
    fn reordering_events_is_detected(chain in arb_chain().prop_filter("two or more", |c| c.len() >= 2), a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let mut bad = chain.clone();
        let (i, j) = (a.index(bad.len()), b.index(bad.len()));
        prop_assume!(i != j);
        bad.swap(i, j);
        prop_assert!(verify(&bad).is_err());
    }

    #[test]
    fn inserting_an_event_is_detected(chain in arb_chain(), at in any::<prop::sample::Index>(), extra in arb_event()) {
        let mut bad = chain.clone();
        let i = at.index(bad.len() + 1);
        let mut e = extra;
        e.tenant = chain[0].event.tenant;
        e.case = chain[0].event.case;
        e.seq = i as u64 + 1;
        let prev = if i == 0 { GENESIS.to_string() } else { bad[i - 1].hash.clone() };
        let hash = link(&prev, &e);
        bad.insert(i, Chained { event: e, prev, hash });
        // even a correctly linked insertion breaks: the successors' seq and prev no longer fit
        if i < chain.len() {
            prop_assert!(verify(&bad).is_err());
        }
    }
}
