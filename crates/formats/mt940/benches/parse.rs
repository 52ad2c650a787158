//! Throughput sanity check (not a timed test): generates an MT940 file
//! with 100,000 ING-style structured transactions in memory and reports
//! transactions/s and peak resident memory (Linux `/proc/self/status`).
//!
//! Run with `cargo bench -p incasso-mt940 --bench parse`. Target (issue 6):
//! 100k transactions within 0.5 s.

use std::fmt::Write as _;
use std::time::Instant;

const TRANSACTIONS: usize = 100_000;

fn generate(transactions: usize) -> String {
    let mut sta = String::with_capacity(transactions * 260 + 1024);
    sta.push_str(
        "{1:F01INGBNL2ABXXX0000000000}{2:I940INGBNL2AXXXN}{3:{108:B12345678S000001}}{4:\r\n\
         :20:P240101000009999\r\n:25:NL20INGB0001234567EUR\r\n:28C:1\r\n:60F:C240101EUR1000,00\r\n",
    );
    let mut total: i64 = 100_000;
    for i in 0..transactions {
        let cents = 100 + (i as i64 * 7919) % 500_000;
        let credit = i % 3 != 0;
        total += if credit { cents } else { -cents };
        let mark = if credit { 'C' } else { 'D' };
        write!(
            sta,
            ":61:2401020102{mark}{},{:02}NTRFEREF//{i:014}\r\n/TRCD/00100/\r\n\
             :86:/EREF/E2E-{i}//CNTP/NL08INGB0000001234/INGBNL2A/Klant {i} B.V./AMSTER\r\n\
             DAM//REMI/STRD/CUR/{:016}/\r\n",
            cents / 100,
            cents % 100,
            i
        )
        .unwrap();
    }
    let (mark, abs) = if total >= 0 {
        ('C', total)
    } else {
        ('D', -total)
    };
    write!(
        sta,
        ":62F:{mark}240102EUR{},{:02}\r\n-}}\r\n",
        abs / 100,
        abs % 100
    )
    .unwrap();
    sta
}

fn memory_mb() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

fn main() {
    let sta = generate(TRANSACTIONS);
    println!(
        "MT940 with {TRANSACTIONS} transactions: {:.1} MB",
        sta.len() as f64 / 1_048_576.0
    );
    let base = memory_mb();
    let start = Instant::now();
    let (doc, diagnostics) = incasso_mt940::parse(sta.as_bytes()).expect("parse");
    let elapsed = start.elapsed();
    assert!(diagnostics.is_empty(), "{:?}", &diagnostics[..1]);
    assert_eq!(doc.entry_count(), TRANSACTIONS);
    assert!(
        incasso_mt940::check_balances(&doc.statements[0])
            .unwrap()
            .is_some()
    );
    println!(
        "  parse: {:.3} s, {:.0} transactions/s",
        elapsed.as_secs_f64(),
        TRANSACTIONS as f64 / elapsed.as_secs_f64()
    );
    if let (Some((_, rss0)), Some((peak, _))) = (base, memory_mb()) {
        println!(
            "  peak rss: {peak:.1} MB (+{:.1} MB over the input)",
            peak - rss0
        );
    }
    drop(doc);
}
