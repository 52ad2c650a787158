//! Delivery against real servers: e-mails sent over SMTP to the in-process sink and read back
//! with a MIME parser (headers, both bodies, attachments), delivery failures classified, and
//! the MessageBird client against a local HTTP server that checks the documented request shape.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use incasso_messaging::email::{Attachment, OutgoingEmail, domain_of};
use incasso_messaging::sink::{SinkMode, SmtpSink};
use incasso_messaging::{
    EmailSender, FailureKind, MessageBird, Secret, SmsMessage, SmsSender, SmtpConfig, SmtpSecurity,
    SmtpSender, Templates, compose, message_id,
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
    for i in 0..20 {
        let mut o = outgoing();
        o.message_id = message_id(7, i, 1, "dekorf.example");
        sender.send(&compose(&o).unwrap()).unwrap();
    }
    assert_eq!(sink.count(), 20);
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
    assert!(!e.reason.contains(PASSWORD));
    assert_eq!(sink.count(), 0);
    assert!(sink.received().is_empty());
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
