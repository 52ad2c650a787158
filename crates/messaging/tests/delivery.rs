//! Delivery against real servers: e-mails sent over SMTP (plain, STARTTLS, implicit TLS) to
//! the in-process sink and read back with a MIME parser (headers, both bodies, attachments),
//! delivery failures classified, the connection pool's reuse and replacement of dead
//! connections, and the MessageBird client against a local HTTP server that checks the
//! documented request shape.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use incasso_messaging::email::{Attachment, OutgoingEmail, domain_of};
use incasso_messaging::sink::{SinkMode, SinkOptions, SinkSecurity, SmtpSink, test_ca_file};
use incasso_messaging::{
    ComposedEmail, EmailSender, FailureKind, MessageBird, Secret, SmsMessage, SmsSender,
    SmtpConfig, SmtpSecurity, SmtpSender, Templates, compose, message_id,
};

const PASSWORD: &str = "s3cret-Pa55word!";

fn letter_pdf() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/letter.pdf"
    ))
    .unwrap()
}

fn outgoing() -> OutgoingEmail {
    let data = incasso_messaging::MessageData {
        creditor_name: "Bakkerij <De Korf>".into(),
        debtor_name: "Jansen & Co".into(),
        amount_total: "€ 1.234,56".into(),
        deadline: "17-12-2026".into(),
        iban: "NL91ABNA0417164300".into(),
        payment_reference: "RF18 5390 0754 7034".into(),
        portal_link: Some("https://portal.example/p/x1".into()),
        ..Default::default()
    };
    let r = Templates::builtin()
        .unwrap()
        .email("payment_reminder", "nl", &data)
        .unwrap();
    let from = "debiteuren@dekorf.example";
    OutgoingEmail {
        from_name: "Bakkerij De Korf".into(),
        from_address: from.into(),
        reply_to: Some("administratie@dekorf.example".into()),
        to: vec!["jansen@klant.example".into()],
        subject: r.subject,
        text: r.text,
        html: r.html,
        attachments: vec![
            Attachment {
                filename: "aanmaning.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: letter_pdf(),
            },
            Attachment {
                filename: "factuur-F-1.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: b"%PDF-1.4 invoice bytes".to_vec(),
            },
        ],
        message_id: message_id(7, 42, 1, domain_of(from)),
        date: "2026-12-03T09:00:00Z".parse().unwrap(),
    }
}

fn config(port: u16) -> SmtpConfig {
    let mut c = SmtpConfig::from_url(
        &format!("smtp://mailer%40dekorf.example@127.0.0.1:{port}?tls=none"),
        Some(Secret::new(PASSWORD)),
    )
    .unwrap();
    c.timeout = Duration::from_secs(2);
    c
}

#[test]
fn an_email_arrives_with_headers_both_bodies_and_attachments() {
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let composed = compose(&outgoing()).unwrap();
    let sender = SmtpSender::new(config(sink.port())).unwrap();
    let accepted = sender.send(&composed).unwrap();
    assert!(
        accepted.provider_id.contains("queued as SINK1"),
        "{accepted:?}"
    );

    let got = sink.received();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, "debiteuren@dekorf.example");
    assert_eq!(m.rcpt_to, vec!["jansen@klant.example".to_string()]);
    assert_eq!(m.auth_user.as_deref(), Some("mailer@dekorf.example"));
    assert_eq!(m.auth_password.as_deref(), Some(PASSWORD));
    // The server got exactly the bytes whose hash was recorded.
    let trim = |b: &[u8]| -> Vec<u8> {
        let mut v = b.to_vec();
        while v.ends_with(b"\r\n") {
            v.truncate(v.len() - 2);
        }
        v
    };
    assert!(
        trim(&m.data) == trim(&composed.raw),
        "the server got other bytes"
    );
    assert_eq!(
        incasso_messaging::sha256_hex(&composed.raw),
        composed.sha256
    );

    let parsed = mailparse::parse_mail(&m.data).unwrap();
    let h = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|x| x.get_key().eq_ignore_ascii_case(name))
            .map(|x| x.get_value())
            .unwrap_or_default()
    };
    assert_eq!(
        h("From"),
        "\"Bakkerij De Korf\" <debiteuren@dekorf.example>"
    );
    assert_eq!(h("To"), "jansen@klant.example");
    assert_eq!(h("Reply-To"), "administratie@dekorf.example");
    assert_eq!(h("Message-ID"), "<incasso.7.42.1@dekorf.example>");
    assert_eq!(
        h("Subject"),
        "Betalingsherinnering Bakkerij <De Korf>: € 1.234,56"
    );
    assert!(h("Date").contains("3 Dec 2026 09:00:00"), "{}", h("Date"));

    let mut texts = Vec::new();
    let mut htmls = Vec::new();
    let mut attachments = Vec::new();
    fn walk<'a>(
        p: &'a mailparse::ParsedMail<'a>,
        t: &mut Vec<String>,
        h: &mut Vec<String>,
        a: &mut Vec<(String, Vec<u8>)>,
    ) {
        let disp = p.get_content_disposition();
        if disp.disposition == mailparse::DispositionType::Attachment {
            a.push((
                disp.params.get("filename").cloned().unwrap_or_default(),
                p.get_body_raw().unwrap(),
            ));
        } else if p.ctype.mimetype == "text/plain" {
            t.push(p.get_body().unwrap());
        } else if p.ctype.mimetype == "text/html" {
            h.push(p.get_body().unwrap());
        }
        for s in &p.subparts {
            walk(s, t, h, a);
        }
    }
    walk(&parsed, &mut texts, &mut htmls, &mut attachments);
    assert_eq!(texts.len(), 1);
    assert_eq!(htmls.len(), 1);
    assert!(texts[0].contains("Beste Jansen & Co,"), "{}", texts[0]);
    assert!(texts[0].contains("https://portal.example/p/x1"));
    assert!(htmls[0].contains("Beste Jansen &amp; Co,"), "{}", htmls[0]);
    assert!(htmls[0].contains("Bakkerij &lt;De Korf&gt;"));
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0].0, "aanmaning.pdf");
    assert_eq!(attachments[0].1, letter_pdf());
    assert_eq!(attachments[1].0, "factuur-F-1.pdf");
    assert_eq!(attachments[1].1, b"%PDF-1.4 invoice bytes");

    // The attached letter is a real PDF: pdftotext reads its text.
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("a.pdf");
    std::fs::write(&pdf, &attachments[0].1).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Aanmaning factuur F-2026-001"));
}

#[test]
fn the_pool_reuses_connections_for_many_messages() {
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let sender = SmtpSender::new(config(sink.port())).unwrap();
    let clone = sender.clone();
    for i in 0..20 {
        let mut o = outgoing();
        o.message_id = message_id(7, i, 1, "dekorf.example");
        let s = if i % 2 == 0 { &sender } else { &clone };
        s.send(&compose(&o).unwrap()).unwrap();
    }
    assert_eq!(sink.count(), 20);
    // One connection carried all twenty, from both clones: they share the pool.
    assert_eq!(sink.connections(), 1);
    let ids: std::collections::BTreeSet<String> = sink
        .received()
        .iter()
        .map(|m| {
            let p = mailparse::parse_mail(&m.data).unwrap();
            p.headers
                .iter()
                .find(|h| h.get_key() == "Message-ID")
                .unwrap()
                .get_value()
        })
        .collect();
    assert_eq!(ids.len(), 20);
}

#[test]
fn a_rejected_recipient_is_a_permanent_failure_without_the_password() {
    let sink = SmtpSink::start(SinkMode::RejectRecipients).unwrap();
    let e = SmtpSender::new(config(sink.port()))
        .unwrap()
        .send(&compose(&outgoing()).unwrap())
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent, "{e:?}");
    assert!(e.reason.contains("550"), "{}", e.reason);
    assert!(!e.reason.contains(PASSWORD));
    assert!(!format!("{e:?}").contains(PASSWORD));
    assert_eq!(sink.count(), 0);
}

#[test]
fn a_deferred_recipient_is_a_temporary_failure() {
    let sink = SmtpSink::start(SinkMode::DeferRecipients).unwrap();
    let e = SmtpSender::new(config(sink.port()))
        .unwrap()
        .send(&compose(&outgoing()).unwrap())
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Temporary, "{e:?}");
    assert!(e.reason.contains("451"), "{}", e.reason);
}

#[test]
fn a_server_that_never_answers_times_out_as_a_temporary_failure() {
    let sink = SmtpSink::start(SinkMode::Silent).unwrap();
    let mut c = config(sink.port());
    c.timeout = Duration::from_millis(500);
    let start = std::time::Instant::now();
    let e = SmtpSender::new(c)
        .unwrap()
        .send(&compose(&outgoing()).unwrap())
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Temporary, "{e:?}");
    assert!(e.reason.contains("timed out"), "{}", e.reason);
    assert!(
        e.reason.contains(&format!("127.0.0.1:{}", sink.port())),
        "{}",
        e.reason
    );
    assert!(start.elapsed() < Duration::from_secs(4));
    assert!(!e.reason.contains(PASSWORD));
}

#[test]
fn a_closed_port_is_a_temporary_failure() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = SmtpSender::new(config(port))
        .unwrap()
        .send(&compose(&outgoing()).unwrap())
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Temporary, "{e:?}");
}

#[test]
fn starttls_is_required_when_configured() {
    // The sink offers no STARTTLS: a STARTTLS configuration must refuse to send in the clear.
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let mut c = config(sink.port());
    c.security = SmtpSecurity::StartTls;
    let e = SmtpSender::new(c)
        .unwrap()
        .send(&compose(&outgoing()).unwrap())
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent, "{e:?}");
    assert!(e.reason.contains("does not offer STARTTLS"), "{}", e.reason);
    assert!(!e.reason.contains(PASSWORD));
    assert_eq!(sink.count(), 0);
    assert!(sink.received().is_empty());
}

/// A sink with the given security that keeps what it receives.
fn secure_sink(security: SinkSecurity) -> SmtpSink {
    SmtpSink::start_with_options(SinkOptions {
        security,
        ..SinkOptions::new(SinkMode::Accept)
    })
    .unwrap()
}

/// The test configuration with this security, trusting the sink's certificate.
fn trusting(port: u16, security: SmtpSecurity) -> SmtpConfig {
    let mut c = config(port);
    c.security = security;
    c.ca_file = Some(test_ca_file());
    c
}

#[test]
fn starttls_with_auth_delivers_over_tls() {
    // The sink offers AUTH and takes mail only after STARTTLS: the client must upgrade, say
    // EHLO again and log in inside TLS.
    let sink = secure_sink(SinkSecurity::StartTls);
    let composed = compose(&outgoing()).unwrap();
    let sender = SmtpSender::new(trusting(sink.port(), SmtpSecurity::StartTls)).unwrap();
    let accepted = sender.send(&composed).unwrap();
    assert!(
        accepted.provider_id.contains("queued as SINK1"),
        "{accepted:?}"
    );
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls, "the message must come over TLS");
    assert_eq!(got[0].auth_mechanism.as_deref(), Some("PLAIN"));
    assert_eq!(got[0].auth_user.as_deref(), Some("mailer@dekorf.example"));
    assert_eq!(got[0].auth_password.as_deref(), Some(PASSWORD));
    assert_eq!(got[0].rcpt_to, vec!["jansen@klant.example".to_string()]);
    assert_eq!(got[0].data, composed.raw);
    // The TLS connection is reused for the next message.
    sender.send(&composed).unwrap();
    assert_eq!(sink.count(), 2);
    assert_eq!(sink.connections(), 1);
}

#[test]
fn implicit_tls_delivers_to_an_ip_address_and_a_host_name() {
    let sink = secure_sink(SinkSecurity::Tls);
    let composed = compose(&outgoing()).unwrap();
    let mut by_name = trusting(sink.port(), SmtpSecurity::Tls);
    by_name.host = "localhost".into();
    for c in [trusting(sink.port(), SmtpSecurity::Tls), by_name] {
        let host = c.host.clone();
        SmtpSender::new(c)
            .unwrap()
            .send(&composed)
            .unwrap_or_else(|e| panic!("{host}: {e}"));
    }
    let got = sink.received();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|m| m.tls));
    assert_eq!(got[1].data, composed.raw);
}

#[test]
fn an_untrusted_certificate_is_a_clear_error_and_nothing_is_sent() {
    for (sink_security, security) in [
        (SinkSecurity::Tls, SmtpSecurity::Tls),
        (SinkSecurity::StartTls, SmtpSecurity::StartTls),
    ] {
        let sink = secure_sink(sink_security);
        // Only the public roots: the sink's self-signed certificate is not trusted.
        let mut c = trusting(sink.port(), security);
        c.ca_file = None;
        let e = SmtpSender::new(c)
            .unwrap()
            .send(&compose(&outgoing()).unwrap())
            .unwrap_err();
        assert!(
            e.reason.contains("certificate is not trusted"),
            "{security:?}: {}",
            e.reason
        );
        assert!(e.reason.contains("--smtp-ca"), "{}", e.reason);
        assert_eq!(e.kind, FailureKind::Temporary, "{e:?}");
        assert!(!e.reason.contains(PASSWORD));
        assert_eq!(sink.count(), 0);
    }
}

#[test]
fn a_missing_or_empty_ca_file_is_refused_at_setup() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let mut c = trusting(25, SmtpSecurity::StartTls);
    c.ca_file = Some(missing.clone());
    let e = SmtpSender::new(c.clone()).unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent);
    assert!(
        e.reason.contains(&missing.display().to_string()),
        "{}",
        e.reason
    );
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    c.ca_file = Some(empty);
    let e = SmtpSender::new(c).unwrap_err();
    assert!(e.reason.contains("no PEM certificate"), "{}", e.reason);
}

#[test]
fn auth_login_is_used_when_plain_is_not_offered() {
    let sink = SmtpSink::start_with_options(SinkOptions {
        auth: "LOGIN".into(),
        ..SinkOptions::new(SinkMode::Accept)
    })
    .unwrap();
    SmtpSender::new(config(sink.port()))
        .unwrap()
        .send(&compose(&outgoing()).unwrap())
        .unwrap();
    let got = sink.received();
    assert_eq!(got[0].auth_mechanism.as_deref(), Some("LOGIN"));
    assert_eq!(got[0].auth_user.as_deref(), Some("mailer@dekorf.example"));
    assert_eq!(got[0].auth_password.as_deref(), Some(PASSWORD));

    // A server without any AUTH: refused, nothing sent without the configured login.
    let sink = SmtpSink::start_with_options(SinkOptions {
        auth: String::new(),
        ..SinkOptions::new(SinkMode::Accept)
    })
    .unwrap();
    let e = SmtpSender::new(config(sink.port()))
        .unwrap()
        .send(&compose(&outgoing()).unwrap())
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent, "{e:?}");
    assert!(e.reason.contains("AUTH"), "{}", e.reason);
    assert_eq!(sink.count(), 0);
}

#[test]
fn a_reused_connection_the_server_closed_is_replaced() {
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let sender = SmtpSender::new(config(sink.port())).unwrap();
    let composed = compose(&outgoing()).unwrap();
    sender.send(&composed).unwrap();
    assert_eq!(sink.connections(), 1);
    // Closed silently (the next command meets a broken pipe or the end of the stream) and
    // closed with Postfix's 421 on idle timeout: both are replaced without a failure.
    for (farewell, connections) in [(false, 2), (true, 3)] {
        sink.close_connections(farewell);
        std::thread::sleep(Duration::from_millis(50));
        sender
            .send(&composed)
            .unwrap_or_else(|e| panic!("farewell {farewell}: {e}"));
        assert_eq!(sink.connections(), connections);
    }
    assert_eq!(sink.count(), 3, "each message exactly once");
}

#[test]
fn a_failure_after_the_message_was_handed_over_is_not_retried() {
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let sender = SmtpSender::new(config(sink.port())).unwrap();
    let composed = compose(&outgoing()).unwrap();
    sender.send(&composed).unwrap();
    // The server takes the next message and vanishes before its reply: it may have been
    // delivered, so the client must not send it again, even on a reused connection.
    sink.set_mode(SinkMode::VanishAfterData);
    let e = sender.send(&composed).unwrap_err();
    assert_eq!(e.kind, FailureKind::Temporary, "{e:?}");
    assert!(e.reason.contains("reply to the message"), "{}", e.reason);
    assert_eq!(sink.count(), 2);
    assert_eq!(sink.connections(), 1);
}

#[test]
fn after_a_rejected_recipient_the_connection_is_reset_and_reused() {
    let sink = SmtpSink::start(SinkMode::RejectRecipients).unwrap();
    let sender = SmtpSender::new(config(sink.port())).unwrap();
    let composed = compose(&outgoing()).unwrap();
    let e = sender.send(&composed).unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent);
    sink.set_mode(SinkMode::Accept);
    sender.send(&composed).unwrap();
    assert_eq!(sink.count(), 1);
    assert_eq!(sink.connections(), 1);
}

#[test]
fn lines_starting_with_a_dot_arrive_intact() {
    let sink = SmtpSink::start(SinkMode::Accept).unwrap();
    let raw = b"From: a@dekorf.example\r\nTo: b@klant.example\r\nSubject: dots\r\n\r\n.\r\n.leading dot\r\n..two dots\r\nlast line\r\n".to_vec();
    let mail = ComposedEmail {
        sha256: incasso_messaging::sha256_hex(&raw),
        raw: raw.clone(),
        message_id: "dots@dekorf.example".into(),
        envelope_from: "a@dekorf.example".into(),
        envelope_to: vec!["b@klant.example".into()],
    };
    SmtpSender::new(config(sink.port()))
        .unwrap()
        .send(&mail)
        .unwrap();
    assert_eq!(sink.received()[0].data, raw);
}

#[test]
fn one_connection_sends_200_messages_without_waiting_for_delayed_acks() {
    // With Nagle's algorithm on and the terminator in a write of its own, each message waits
    // for the server's delayed ACK (about 40 ms): 200 messages would take 8 s or more.
    let sink = SmtpSink::start_with(SinkMode::Accept, false).unwrap();
    let mut c = config(sink.port());
    c.max_connections = 1;
    let sender = SmtpSender::new(c).unwrap();
    let composed = compose(&outgoing()).unwrap();
    let start = Instant::now();
    for _ in 0..200 {
        sender.send(&composed).unwrap();
    }
    let elapsed = start.elapsed();
    assert_eq!(sink.count(), 200);
    assert_eq!(sink.connections(), 1);
    assert!(
        elapsed < Duration::from_secs(2),
        "200 messages over one connection took {elapsed:?}"
    );
}

#[test]
fn smtp_urls_and_secrets() {
    let c = SmtpConfig::from_url(
        "smtp://user@mail.example:2525?tls=starttls",
        Some(Secret::new(PASSWORD)),
    )
    .unwrap();
    assert_eq!(c.host, "mail.example");
    assert_eq!(c.port, 2525);
    assert_eq!(c.security, SmtpSecurity::StartTls);
    assert_eq!(c.username.as_deref(), Some("user"));
    assert!(!format!("{c:?}").contains(PASSWORD));
    let sender = SmtpSender::new(c).unwrap();
    assert!(!format!("{sender:?}").contains(PASSWORD));
    assert_eq!(
        SmtpConfig::from_url("smtps://mail.example", None)
            .unwrap()
            .port,
        465
    );
    assert_eq!(
        SmtpConfig::from_url("smtp://mail.example?tls=none", None)
            .unwrap()
            .security,
        SmtpSecurity::None
    );
    let e = SmtpConfig::from_url("smtp://user:hunter2@mail.example", None).unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(SmtpConfig::from_url("http://x", None).is_err());
    assert!(SmtpConfig::from_url("smtp://x:port", None).is_err());
    assert!(SmtpConfig::from_url("smtp://x?tls=maybe", None).is_err());
}

/// A request as the local HTTP server saw it.
#[derive(Debug, Clone)]
struct SeenRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// Serves one response per connection from `answer`, recording each request.
fn http_server(
    answer: impl Fn(&SeenRequest) -> (u16, String) + Send + 'static,
) -> (String, Arc<Mutex<Vec<SeenRequest>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            r.read_line(&mut first).unwrap();
            let mut parts = first.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let path = parts.next().unwrap_or("").to_string();
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (k, v) = line.split_once(':').unwrap();
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map(|(_, v)| v.parse().unwrap())
                .unwrap_or(0);
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let req = SeenRequest {
                method,
                path,
                headers,
                body: String::from_utf8(body).unwrap(),
            };
            let (status, text) = answer(&req);
            s.lock().unwrap().push(req);
            let mut w = stream;
            let _ = write!(
                w,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (url, seen)
}

const KEY: &str = "test_gshuPaZoeEG6ovbc8M79w0QyM";

/// Answers like MessageBird's documented API: 401 with error code 2 for a wrong key, 422 with
/// code 9 for bad recipients, 201 with the message object otherwise.
fn messagebird(req: &SeenRequest) -> (u16, String) {
    let header = |k: &str| {
        req.headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if req.method != "POST" || req.path != "/messages" {
        return (
            404,
            r#"{"errors":[{"code":20,"description":"not found","parameter":null}]}"#.into(),
        );
    }
    if header("authorization") != format!("AccessKey {KEY}") {
        return (
            401,
            r#"{"errors":[{"code":2,"description":"Request not allowed (incorrect access_key)","parameter":"access_key"}]}"#.into(),
        );
    }
    if !header("content-type").starts_with("application/json") {
        return (
            400,
            r#"{"errors":[{"code":9,"description":"bad content type","parameter":null}]}"#.into(),
        );
    }
    let v: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    let recipients = v["recipients"].as_array().cloned().unwrap_or_default();
    if recipients.is_empty() || !recipients.iter().all(|r| r.is_u64()) {
        return (
            422,
            r#"{"errors":[{"code":9,"description":"no (correct) recipients found","parameter":"recipients"}]}"#.into(),
        );
    }
    if v["originator"].as_str().unwrap_or("").is_empty()
        || v["body"].as_str().unwrap_or("").is_empty()
    {
        return (422, r#"{"errors":[{"code":9,"description":"originator or body missing","parameter":"body"}]}"#.into());
    }
    let response = serde_json::json!({
        "id": "e8077d803532c0b5937c639b60216938",
        "href": "https://rest.messagebird.com/messages/e8077d803532c0b5937c639b60216938",
        "direction": "mt", "type": "sms",
        "originator": v["originator"], "body": v["body"], "reference": v["reference"],
        "validity": null, "gateway": 10, "typeDetails": {}, "datacoding": "plain", "mclass": 1,
        "scheduledDatetime": null, "createdDatetime": "2026-12-03T10:00:00+00:00",
        "recipients": {"totalCount": 1, "totalSentCount": 1, "totalDeliveredCount": 0,
            "totalDeliveryFailedCount": 0,
            "items": [{"recipient": recipients[0], "status": "sent",
                "statusDatetime": "2026-12-03T10:00:00+00:00"}]}
    });
    (201, response.to_string())
}

fn sms() -> SmsMessage {
    SmsMessage {
        originator: "DeKorf".into(),
        recipient: "+31 6 12345678".into(),
        body: "De Korf: er staat nog € 12,50 open. https://portal.example/p/x1".into(),
        reference: "attempt-7-42-1".into(),
    }
}

#[test]
fn messagebird_sends_the_documented_request_and_reads_the_id() {
    let (url, seen) = http_server(messagebird);
    let client = MessageBird::new(&url, Secret::new(KEY), Duration::from_secs(5));
    let ok = client.send(&sms()).unwrap();
    assert_eq!(ok.provider_id, "e8077d803532c0b5937c639b60216938");
    let reqs = seen.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&reqs[0].body).unwrap();
    assert_eq!(body["originator"], "DeKorf");
    assert_eq!(body["recipients"], serde_json::json!([31612345678u64]));
    assert_eq!(body["body"], sms().body);
    assert_eq!(body["reference"], "attempt-7-42-1");
}

#[test]
fn messagebird_errors_are_classified_and_hide_the_key() {
    let (url, _) = http_server(messagebird);
    let wrong = MessageBird::new(
        &url,
        Secret::new("live_wrongkey123"),
        Duration::from_secs(5),
    );
    let e = wrong.send(&sms()).unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent);
    assert!(e.reason.contains("401"), "{}", e.reason);
    assert!(e.reason.contains("incorrect access_key"), "{}", e.reason);
    assert!(!e.reason.contains("wrongkey123"));

    let (url, _) = http_server(|_| {
        (
            503,
            r#"{"errors":[{"code":99,"description":"internal error","parameter":null}]}"#.into(),
        )
    });
    let e = MessageBird::new(&url, Secret::new(KEY), Duration::from_secs(5))
        .send(&sms())
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Temporary);
    assert!(e.reason.contains("internal error"), "{}", e.reason);

    // A recipient that is no phone number never reaches the provider.
    let (url, seen) = http_server(messagebird);
    let mut bad = sms();
    bad.recipient = "jansen".into();
    let e = MessageBird::new(&url, Secret::new(KEY), Duration::from_secs(5))
        .send(&bad)
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent);
    assert!(seen.lock().unwrap().is_empty());
}
