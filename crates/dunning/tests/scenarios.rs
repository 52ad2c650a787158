//! Scenario tests over the shipped presets with concrete dates (ATW holidays included): which
//! step goes out on which day, with which deadline and amounts.

mod common;

use common::*;
use incasso_domain::{DebtorKind, Jurisdiction};
use incasso_dunning::{Preset, decide};

#[test]
fn smoke() {
    for p in Preset::ALL {
        let policy = preset(p);
        let (kind, j) = match p {
            Preset::NlB2b => (DebtorKind::Business, Jurisdiction::Nl),
            Preset::NlB2c => (DebtorKind::Consumer, Jurisdiction::Nl),
            Preset::BeB2c => (DebtorKind::Consumer, Jurisdiction::Be),
            Preset::BeB2b => (DebtorKind::Business, Jurisdiction::Be),
        };
        let mut facts = case(kind, j, "1000.00", "2025-03-31");
        let log = run_daily(&mut facts, &policy, d("2025-03-31"), d("2025-06-30"));
        println!("{p}: {log:?}");
        let dec = decide(&facts, &policy, d("2025-07-01")).unwrap();
        println!("{}", dec.explain());
    }
}
