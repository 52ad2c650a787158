//! Benchmark: renders 10,000 one-page letters (payment reminder with invoice table, payment block
//! and EPC QR code) to PDF on all cores with `layout_many` (what the print run uses), sharing the
//! compiled templates and the fonts, and prints letters per second. `cargo bench -p incasso-letters --bench render`; `LETTERS_BENCH_N` changes
//! the count.

use std::time::Instant;

use incasso_letters::{Job, Language, Templates, layout, layout_many, sample};

fn main() {
    let n: usize = std::env::var("LETTERS_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let templates = Templates::builtin();
    let template = templates
        .get("payment_reminder", Language::Nl)
        .expect("template");
    let base = sample::letter(Language::Nl);
    let letter = |i: usize| {
        let mut d = base.clone();
        d.debtor.name = format!("Debiteur {i}");
        d.our_reference = format!("D-{i:06}");
        d.case_number = i.to_string();
        d.invoices[0].amount += i as i64;
        d.invoices[0].open += i as i64;
        d.total += i as i64;
        d.payment.amount = d.total;
        d.payment.reference = format!("7000 0000 {:04} {:04}", i / 10_000, i % 10_000);
        d
    };
    // Warm up, and check the letter is one page.
    let first = layout(&letter(0), &template, sample::created_at()).expect("renders");
    assert_eq!(first.pages(), 1, "the benchmark letter is one page");
    let pdf = first.pdf().expect("pdf");

    // The production path (`incasso letters print`): `layout_many` on every core, here in
    // batches of 128 so the bench holds at most one batch of letters and PDFs.
    let mut bytes = 0usize;
    let start = Instant::now();
    let mut from = 0;
    while from < n {
        let to = (from + 128).min(n);
        let data: Vec<_> = (from..to).map(letter).collect();
        let jobs: Vec<Job<'_>> = data
            .iter()
            .map(|data| Job {
                data,
                template: &template,
            })
            .collect();
        for r in layout_many(&jobs, sample::created_at()) {
            bytes += r.expect("renders").1.len();
        }
        from = to;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "letters/render: {n} one-page letters with EPC QR code on {threads} threads in {secs:.2} s = {:.0} letters/s ({:.1} ms per letter per thread; {} KB per PDF)",
        n as f64 / secs,
        secs * 1000.0 * threads as f64 / n as f64,
        pdf.len() / 1024
    );
    let peak_kib: u64 = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0);
    println!(
        "peak RSS {} MB (batches of 128 letters held at a time)",
        peak_kib / 1024
    );
    println!("target: >= 200 letters/s");
    assert!(bytes > n * 1024, "every letter is a PDF");
}
