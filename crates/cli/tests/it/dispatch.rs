//! `incasso dispatch` end to end: a small ledger, the daily run, then the due e-mails go to a
//! real SMTP server started by the test; quiet hours defer, a second dispatch sends nothing, a
//! rejecting server leaves visible permanent failures; a relay with a private CA is trusted
//! through `--smtp-ca`.

use incasso_messaging::sink::{SinkMode, SinkOptions, SinkSecurity, SmtpSink, test_ca_file};

use crate::{Db, both_backends, data};

fn setup(db: &Db) {
    db.add_creditor();
    db.ok(&["import", "invoices", data("ladder.csv").to_str().unwrap()]);
    let run = db.json(&["run", "--date", "2026-01-07", "--force"]);
    assert_eq!(run["actions_created"], 2, "{run}");
}

fn dispatch(db: &Db, sink: &SmtpSink, now: &str) -> serde_json::Value {
    let url = format!("smtp://127.0.0.1:{}?tls=none", sink.port());
    db.json(&[
        "dispatch",
        "--now",
        now,
        "--channel",
        "email",
        "--smtp-url",
        &url,
        "--from",
        "debiteuren@voorbeeld.example",
        "--reply-to",
        "administratie@voorbeeld.example",
    ])
}

both_backends!(
    dispatch_sends_due_emails_once_and_respects_quiet_hours,
    |db: &Db| {
        setup(db);
        let sink = SmtpSink::start(SinkMode::Accept).unwrap();

        // Wednesday 7 January 2026, 22:30 local: quiet hours.
        let night = dispatch(db, &sink, "2026-01-07T22:30");
        assert_eq!(night["sent"], 0, "{night}");
        assert_eq!(night["deferred_quiet_hours"], 2, "{night}");
        assert_eq!(night["items"][0]["until"], "2026-01-08T07:00:00Z");
        assert_eq!(sink.count(), 0);

        let morning = dispatch(db, &sink, "2026-01-08T10:00");
        assert_eq!(morning["sent"], 2, "{morning}");
        assert_eq!(morning["actions_sent"], 2);
        assert_eq!(sink.count(), 2);
        let mut to: Vec<String> = sink
            .received()
            .iter()
            .map(|m| m.rcpt_to[0].clone())
            .collect();
        to.sort();
        assert_eq!(to, vec!["ap@jansen.example", "els@example.nl"]);
        for m in sink.received() {
            let text = String::from_utf8_lossy(&m.data);
            assert!(
                text.contains("Subject: Betalingsherinnering Voorbeeld B.V."),
                "{text}"
            );
            assert!(text.contains("Reply-To: administratie@voorbeeld.example"));
            assert!(text.contains("Message-ID: <incasso."));
            assert!(text.contains("Content-Type: text/html"));
            assert_eq!(m.mail_from, "debiteuren@voorbeeld.example");
        }
        let outbox = db.json(&["outbox", "list"]);
        let actions = outbox["actions"].as_array().unwrap();
        assert!(actions.iter().all(|a| a["status"] == "sent"), "{outbox}");

        let again = dispatch(db, &sink, "2026-01-08T10:05");
        assert_eq!(again["sent"], 0, "{again}");
        assert_eq!(sink.count(), 2, "nothing is sent twice");
        let failed = db.json(&["dispatch", "failed"]);
        assert_eq!(failed["count"], 0);
    }
);

both_backends!(
    dispatch_failures_are_listed_with_reason_and_retry,
    |db: &Db| {
        setup(db);
        let deferring = SmtpSink::start(SinkMode::DeferRecipients).unwrap();
        let r = dispatch(db, &deferring, "2026-01-08T10:00");
        assert_eq!(r["failed_temporary"], 2, "{r}");
        let failed = db.json(&["dispatch", "failed"]);
        assert_eq!(failed["count"], 2, "{failed}");
        let first = &failed["attempts"][0];
        assert_eq!(first["status"], "failed_temporary");
        assert_eq!(first["next_retry_at"], "2026-01-08T09:05:00Z");
        assert!(first["reason"].as_str().unwrap().contains("451"), "{first}");
        let table = db.ok(&["dispatch", "failed"]);
        assert!(table.contains("failed_temporary"), "{table}");

        // At the retry time the server rejects for good: the actions fail visibly.
        let rejecting = SmtpSink::start(SinkMode::RejectRecipients).unwrap();
        let r = dispatch(db, &rejecting, "2026-01-08T10:06");
        assert_eq!(r["failed_permanent"], 2, "{r}");
        let failed = db.json(&["dispatch", "failed"]);
        assert_eq!(
            failed["attempts"][0]["status"], "failed_permanent",
            "{failed}"
        );
        assert_eq!(failed["attempts"][0]["attempt"], 2);
        let outbox = db.json(&["outbox", "list"]);
        assert!(
            outbox["actions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["status"] == "failed"),
            "{outbox}"
        );
        // Bad input is refused with a clear message.
        let out = db.run(&["dispatch", "--now", "gisteren", "--smtp-url", "smtp://x"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("--now"));
    }
);

both_backends!(
    dispatch_over_starttls_trusts_a_private_ca_given_with_smtp_ca,
    |db: &Db| {
        setup(db);
        let sink = SmtpSink::start_with_options(SinkOptions {
            security: SinkSecurity::StartTls,
            ..SinkOptions::new(SinkMode::Accept)
        })
        .unwrap();
        let url = format!("smtp://127.0.0.1:{}?tls=starttls", sink.port());
        let ca = test_ca_file();
        let send = |now: &str, ca: Option<&str>| {
            let mut args = vec![
                "dispatch",
                "--now",
                now,
                "--channel",
                "email",
                "--smtp-url",
                &url,
                "--from",
                "debiteuren@voorbeeld.example",
            ];
            if let Some(ca) = ca {
                args.extend(["--smtp-ca", ca]);
            }
            db.json(&args)
        };

        // The relay's certificate comes from a private CA: without --smtp-ca nothing leaves,
        // and the reason says why.
        let r = send("2026-01-08T10:00", None);
        assert_eq!(r["failed_temporary"], 2, "{r}");
        assert_eq!(sink.count(), 0);
        let failed = db.json(&["dispatch", "failed"]);
        let reason = failed["attempts"][0]["reason"].as_str().unwrap();
        assert!(reason.contains("certificate is not trusted"), "{reason}");

        // With the CA file, the retry goes out over TLS.
        let r = send("2026-01-08T10:06", Some(ca.to_str().unwrap()));
        assert_eq!(r["sent"], 2, "{r}");
        assert_eq!(sink.count(), 2);
        assert!(sink.received().iter().all(|m| m.tls));
    }
);
