//! Benchmark: compose and send 10,000 e-mails (text + HTML + a PDF attachment) over SMTP to
//! the local in-process SMTP server through the pooled blocking client, once over one
//! connection (one thread), once with four threads over four pooled connections, and once
//! more with four over STARTTLS; prints messages per second and the process's peak RSS.
//! Run: `cargo bench -p incasso-messaging --bench smtp` (`BENCH_MESSAGES=n` for fewer).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use incasso_messaging::email::{Attachment, OutgoingEmail};
use incasso_messaging::sink::{SinkMode, SinkOptions, SinkSecurity, SmtpSink, test_ca_file};
use incasso_messaging::{
    EmailSender, MessageData, SmtpConfig, SmtpSecurity, SmtpSender, Templates, compose, message_id,
};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|v| v.parse().unwrap_or(0)))
        })
        .unwrap_or(0)
}

fn main() {
    let total: u64 = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let pdf = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/letter.pdf"
    ))
    .expect("letter.pdf");
    run(total, 1, SmtpSecurity::None, &pdf);
    run(total, 4, SmtpSecurity::None, &pdf);
    run(total, 4, SmtpSecurity::StartTls, &pdf);
}

fn run(total: u64, threads: u64, security: SmtpSecurity, pdf: &[u8]) {
    let sink = SmtpSink::start_with_options(SinkOptions {
        keep: false,
        security: match security {
            SmtpSecurity::None => SinkSecurity::None,
            SmtpSecurity::StartTls => SinkSecurity::StartTls,
            SmtpSecurity::Tls => SinkSecurity::Tls,
        },
        ..SinkOptions::new(SinkMode::Accept)
    })
    .expect("sink");
    let mut config =
        SmtpConfig::from_url(&format!("smtp://127.0.0.1:{}?tls=none", sink.port()), None)
            .expect("url");
    config.security = security;
    config.ca_file = Some(test_ca_file());
    config.max_connections = threads as u32;
    let sender = SmtpSender::new(config).expect("sender");
    let templates = Arc::new(Templates::builtin().expect("templates"));
    let next = Arc::new(AtomicU64::new(0));
    let rss_before = peak_rss_kib();
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let sender = sender.clone();
            let templates = templates.clone();
            let next = next.clone();
            let pdf = pdf.to_vec();
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        break;
                    }
                    let data = MessageData {
                        creditor_name: "Bakkerij De Korf".into(),
                        debtor_name: format!("Debiteur {i}"),
                        amount_total: format!("€ {},{:02}", 100 + i % 900, i % 100),
                        deadline: "17-12-2026".into(),
                        iban: "NL91ABNA0417164300".into(),
                        payment_reference: format!("{i:016}"),
                        portal_link: Some(format!("https://portal.example/p/{i}")),
                        ..MessageData::default()
                    };
                    let r = templates
                        .email("payment_reminder", "nl", &data)
                        .expect("render");
                    let mail = OutgoingEmail {
                        from_name: "Bakkerij De Korf".into(),
                        from_address: "debiteuren@dekorf.example".into(),
                        reply_to: Some("administratie@dekorf.example".into()),
                        to: vec![format!("debiteur{i}@klant.example")],
                        subject: r.subject,
                        text: r.text,
                        html: r.html,
                        attachments: vec![Attachment {
                            filename: "aanmaning.pdf".into(),
                            content_type: "application/pdf".into(),
                            bytes: pdf.clone(),
                        }],
                        message_id: message_id(1, i as i64, 1, "dekorf.example"),
                        date: "2026-12-03T09:00:00Z".parse().expect("ts"),
                    };
                    let composed = compose(&mail).expect("compose");
                    sender.send(&composed).expect("send");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let elapsed = start.elapsed();
    let arrived = sink.wait_for(total, Duration::from_secs(10));
    assert_eq!(arrived, total, "every message must arrive");
    let rate = total as f64 / elapsed.as_secs_f64();
    println!(
        "smtp: {total} e-mails with a {} byte PDF attachment in {:.2} s = {rate:.0} msgs/s ({threads} threads, {} connections, {security:?}); {:.1} MB received; peak RSS so far {} MiB (before this run {} MiB)",
        pdf.len(),
        elapsed.as_secs_f64(),
        sink.connections(),
        sink.bytes() as f64 / 1e6,
        peak_rss_kib() / 1024,
        rss_before / 1024
    );
}
