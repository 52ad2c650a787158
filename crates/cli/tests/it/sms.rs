//! SMS end to end through the binary, against a fake MessageBird: a local HTTP server that checks
//! every request against the documented shape (`POST /messages`, `Authorization: AccessKey
//! <key>`, JSON with `originator`, `recipients`, `body`, `reference`) and answers 201 with an
//! id, 500, or nothing at all (to let the test kill the dispatcher mid-send). Without consent
//! the SMS is refused; `incasso dispatch consent` lets exactly one through, with the portal
//! link; a second run sends nothing; a night run defers; a 500 leaves a visible temporary
//! failure with its retry time; a dispatcher killed while sending leaves the message in doubt,
//! never resent until `incasso dispatch resolve --not-sent`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Db, both_backends};

const KEY: &str = "live_8c1Kq3xY0wZ7pT2mN4vB6dR9s";
const PHONE: &str = "+31612345678";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Accept,
    ServerError,
    /// Read the request, never answer (until the mode changes).
    Hang,
}

struct Fake {
    mode: Mode,
    /// Every request that reached the server, valid or not (body as JSON).
    requests: Vec<Value>,
    violations: Vec<String>,
}

/// A request as read: method, path, headers (lower-case names), body.
type Request = (String, String, Vec<(String, String)>, Vec<u8>);

fn read_req(stream: &TcpStream) -> Option<Request> {
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((method, path, headers, body))
}

/// What the documented API requires of a create-message request.
fn check(method: &str, path: &str, headers: &[(String, String)], body: &Value) -> Vec<String> {
    let mut v = Vec::new();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if method != "POST" || path != "/messages" {
        v.push(format!("{method} {path} is not POST /messages"));
    }
    if header("authorization") != Some(&format!("AccessKey {KEY}")) {
        v.push(format!("authorization {:?}", header("authorization")));
    }
    if !header("content-type").is_some_and(|c| c.starts_with("application/json")) {
        v.push(format!("content-type {:?}", header("content-type")));
    }
    let originator = body["originator"].as_str().unwrap_or_default();
    let alpha_ok = !originator.is_empty()
        && originator.len() <= 11
        && originator.chars().all(|c| c.is_ascii_alphanumeric());
    let number_ok = originator.trim_start_matches('+').len() >= 8
        && originator
            .trim_start_matches('+')
            .chars()
            .all(|c| c.is_ascii_digit());
    if !(alpha_ok || number_ok) {
        v.push(format!("originator {originator:?}"));
    }
    match body["recipients"].as_array() {
        Some(r) if r.len() == 1 && (r[0].is_u64() || r[0].is_string()) => {}
        other => v.push(format!("recipients {other:?}")),
    }
    if body["body"].as_str().is_none_or(str::is_empty) {
        v.push("body is empty".into());
    }
    if body["reference"].as_str().is_none_or(str::is_empty) {
        v.push("reference is missing".into());
    }
    v
}

fn handle(state: &Mutex<Fake>, mut stream: TcpStream) {
    let Some((method, path, headers, body)) = read_req(&stream) else {
        return;
    };
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mode = {
        let mut f = state.lock().expect("lock");
        let problems = check(&method, &path, &headers, &json);
        f.violations.extend(problems);
        f.requests.push(json);
        f.mode
    };
    let (status, answer) = match mode {
        Mode::Accept => {
            let n = state.lock().expect("lock").requests.len();
            (
                201,
                json!({"id": format!("e8077d803532c0b5937c639b6021{n:04}"), "href": "https://rest.messagebird.com/messages/x",
                       "direction": "mt", "type": "sms", "originator": "Incasso", "body": "...",
                       "recipients": {"totalCount": 1, "totalSentCount": 1}}),
            )
        }
        Mode::ServerError => (
            500,
            json!({"errors": [{"code": 99, "description": "internal error", "parameter": null}]}),
        ),
        Mode::Hang => {
            // Hold the connection open and answer nothing while the test kills the sender.
            while state.lock().expect("lock").mode == Mode::Hang {
                std::thread::sleep(Duration::from_millis(20));
            }
            return;
        }
    };
    let answer = answer.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
}

/// Starts the fake MessageBird; returns its base URL and state.
fn fake_messagebird() -> (String, Arc<Mutex<Fake>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let fake = Arc::new(Mutex::new(Fake {
        mode: Mode::Accept,
        requests: Vec::new(),
        violations: Vec::new(),
    }));
    let state = fake.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let state = state.clone();
            std::thread::spawn(move || handle(&state, stream));
        }
    });
    (base, fake)
}

fn requests(fake: &Mutex<Fake>) -> Vec<Value> {
    let f = fake.lock().expect("lock");
    assert!(f.violations.is_empty(), "{:?}", f.violations);
    f.requests.clone()
}

fn set_mode(fake: &Mutex<Fake>, mode: Mode) {
    fake.lock().expect("lock").mode = mode;
}

/// `incasso dispatch --channel sms` at `now` against the fake.
fn dispatch_cmd(db: &Db, base: &str, now: &str, json: bool) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_incasso"));
    c.arg("--db")
        .arg(&db.url)
        .args([
            "dispatch",
            "--now",
            now,
            "--channel",
            "sms",
            "--sms-url",
            base,
            "--sms-from",
            "Voorbeeld",
            "--portal-url",
            "https://portal.voorbeeld.example/dossier/{case}",
        ])
        .current_dir(db.dir.path())
        .env_remove("INCASSO_DB")
        .env_remove("INCASSO_CREDITOR")
        .env_remove("INCASSO_SMS_URL")
        .env_remove("INCASSO_PORTAL_URL")
        .env("INCASSO_SMS_KEY", KEY);
    if json {
        c.arg("--json");
    }
    c
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

fn dispatch(db: &Db, base: &str, now: &str) -> Value {
    let text = ok(dispatch_cmd(db, base, now, true)
        .output()
        .expect("run incasso"));
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A creditor, a business debtor with a mobile number, one overdue invoice, a policy whose
/// first step is an SMS, and the run that queues it. Returns the case id.
fn setup(db: &Db) -> i64 {
    db.add_creditor();
    let csv = db.dir.path().join("facturen.csv");
    std::fs::write(
        &csv,
        format!(
            "invoice_number;issue_date;due_date;gross_amount;debtor_number;debtor_name;debtor_kind;postal_code;email;phone\n\
             S-1;2026-10-20;2026-11-19;250,00;K7;Bakkerij Smit B.V.;business;1011 AA;info@smit.example;{PHONE}\n"
        ),
    )
    .expect("write csv");
    db.ok(&["import", "invoices", csv.to_str().unwrap()]);
    let policy = db.dir.path().join("sms.toml");
    std::fs::write(
        &policy,
        r#"name = "sms-b2b"
version = 1
catch_up = "highest"

[applies_to]
debtor_kind = "business"
jurisdiction = "nl"

[[steps]]
id = "sms_reminder"
template = "payment_reminder"
channels = ["sms"]
trigger = { after = "due_date", days = 2 }
term_days = 5
"#,
    )
    .expect("write policy");
    db.ok(&["policy", "add", policy.to_str().unwrap()]);
    db.ok(&["policy", "assign", "sms-b2b"]);
    let run = db.json(&["run", "--date", "2026-12-02", "--force"]);
    assert_eq!(run["actions_created"], 1, "{run}");
    let action = &db.json(&["outbox", "list"])["actions"][0];
    assert_eq!(action["channels"], "sms", "{action}");
    action["case"]
        .as_i64()
        .or_else(|| action["case_id"].as_i64())
        .expect("case of the action")
}

both_backends!(
    sms_needs_consent_goes_out_once_and_respects_quiet_hours,
    |db: &Db| {
        let case = setup(db);
        let (base, fake) = fake_messagebird();

        // No consent: refused with the reason, nothing reaches the provider.
        let r = dispatch(db, &base, "2026-12-03T10:00");
        assert_eq!(r["refused"], 1, "{r}");
        assert_eq!(r["sent"], 0, "{r}");
        assert_eq!(r["items"][0]["detail"], "no consent for sms", "{r}");
        let table = ok(dispatch_cmd(db, &base, "2026-12-03T10:01", false)
            .output()
            .expect("run"));
        assert!(table.contains("no consent for sms"), "{table}");
        assert!(requests(&fake).is_empty());

        // Bad input to the consent command is named.
        for (args, said) in [
            (
                vec!["--debtor", "K99", "--channel", "sms"],
                "no debtor with that number",
            ),
            (vec!["--debtor", "K7", "--channel", "fax"], "--channel"),
        ] {
            let mut all = vec!["dispatch", "consent"];
            all.extend(args);
            let out = db.run(&all);
            assert!(!out.status.success());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(said), "{err}");
        }

        // Consent, with its source: kept in the consent log and in the case's chain.
        let given = db.json(&[
            "dispatch",
            "consent",
            "--debtor",
            "K7",
            "--channel",
            "sms",
            "--source",
            "getekend formulier",
            "--now",
            "2026-12-03T10:30",
        ]);
        assert_eq!(given["changed"], true, "{given}");
        assert_eq!(given["cases"], json!([case]));
        assert_eq!(given["consents"], json!(["sms"]));
        let listed = db.json(&["dispatch", "consents", "--debtor", "K7"]);
        assert_eq!(listed["consents"][0]["channel"], "sms", "{listed}");
        assert_eq!(listed["consents"][0]["source"], "getekend formulier");
        assert_eq!(listed["consents"][0]["given_at"], "2026-12-03T09:30:00Z");
        let human = db.ok(&["dispatch", "consents", "--debtor", "K7"]);
        assert!(human.contains("getekend formulier"), "{human}");
        let shown = db.ok(&["case", "show", &case.to_string()]);
        assert!(shown.contains("consent_changed"), "{shown}");
        assert!(
            shown.contains("toestemming voor sms gegeven (bron: getekend formulier)"),
            "{shown}"
        );
        db.ok(&["case", "verify", &case.to_string()]);

        // Thursday 3 December 2026, 23:00 local: quiet hours defer it to the morning.
        let night = dispatch(db, &base, "2026-12-03T23:00");
        assert_eq!(night["deferred_quiet_hours"], 1, "{night}");
        assert_eq!(night["sent"], 0);
        assert_eq!(night["items"][0]["until"], "2026-12-04T07:00:00Z");
        assert!(requests(&fake).is_empty());

        // The morning: exactly one SMS, with the portal link.
        let morning = dispatch(db, &base, "2026-12-04T10:00");
        assert_eq!(morning["sent"], 1, "{morning}");
        assert_eq!(morning["actions_sent"], 1);
        let sent = requests(&fake);
        assert_eq!(sent.len(), 1, "{sent:?}");
        let sms = &sent[0];
        assert_eq!(sms["originator"], "Voorbeeld");
        assert_eq!(sms["recipients"], json!([31612345678u64]));
        let body = sms["body"].as_str().unwrap();
        assert!(
            body.contains(&format!("https://portal.voorbeeld.example/dossier/{case}")),
            "{body}"
        );
        assert!(body.contains("250,00"), "{body}");
        let reference = sms["reference"].as_str().unwrap();
        assert!(reference.starts_with("incasso."), "{reference}");

        // Again: nothing is sent twice.
        let again = dispatch(db, &base, "2026-12-04T10:05");
        assert_eq!(again["sent"], 0, "{again}");
        assert_eq!(requests(&fake).len(), 1);
        let outbox = db.json(&["outbox", "list"]);
        assert_eq!(outbox["actions"][0]["status"], "sent", "{outbox}");

        // Withdrawing is recorded too; the log keeps both.
        let withdrawn = db.json(&[
            "dispatch",
            "consent",
            "--debtor",
            "K7",
            "--channel",
            "sms",
            "--withdraw",
            "--source",
            "telefoon",
        ]);
        assert_eq!(withdrawn["consents"], json!([]), "{withdrawn}");
        let listed = db.json(&["dispatch", "consents", "--debtor", "K7"]);
        assert_eq!(listed["log"].as_array().unwrap().len(), 2, "{listed}");
        assert_eq!(listed["log"][1]["given"], false);
    }
);

/// Runs a dispatch that hangs in the provider call and kills it there: the attempt stays
/// recorded as `sending`, exactly what a crash between "recorded" and "answered" leaves.
fn crash_while_sending(db: &Db, base: &str, fake: &Mutex<Fake>, now: &str) {
    set_mode(fake, Mode::Hang);
    let before = fake.lock().expect("lock").requests.len();
    let mut child = dispatch_cmd(db, base, now, true)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn incasso dispatch");
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.lock().expect("lock").requests.len() == before {
        assert!(
            Instant::now() < deadline,
            "the dispatcher never reached the provider"
        );
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("the dispatcher ended before sending: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill the dispatcher");
    let _ = child.wait();
    set_mode(fake, Mode::Accept);
}

both_backends!(
    sms_failures_retry_and_in_doubt_waits_for_a_person,
    |db: &Db| {
        setup(db);
        db.ok(&[
            "dispatch",
            "consent",
            "--debtor",
            "K7",
            "--channel",
            "sms",
            "--source",
            "portaal",
        ]);
        let (base, fake) = fake_messagebird();

        // The provider fails: a temporary failure with its retry time, listed.
        set_mode(&fake, Mode::ServerError);
        let r = dispatch(db, &base, "2026-12-03T10:00");
        assert_eq!(r["failed_temporary"], 1, "{r}");
        assert_eq!(requests(&fake).len(), 1);
        let failed = db.json(&["dispatch", "failed"]);
        assert_eq!(failed["count"], 1, "{failed}");
        let first = &failed["attempts"][0];
        assert_eq!(first["status"], "failed_temporary");
        assert_eq!(first["channel"], "sms");
        assert_eq!(first["next_retry_at"], "2026-12-03T09:05:00Z");
        assert!(
            first["reason"]
                .as_str()
                .unwrap()
                .contains("MessageBird answered 500"),
            "{first}"
        );
        assert!(!first["reason"].as_str().unwrap().contains(KEY));
        let table = db.ok(&["dispatch", "failed"]);
        assert!(
            table.contains("failed_temporary") && table.contains("2026-12-03T09:05:00Z"),
            "{table}"
        );
        // Before the retry time nothing goes out.
        let early = dispatch(db, &base, "2026-12-03T10:02");
        assert_eq!(early["waiting_retry"], 1, "{early}");
        assert_eq!(requests(&fake).len(), 1);
        // Resolving an attempt that is not in doubt is refused.
        let attempt1 = first["attempt_id"].as_i64().unwrap().to_string();
        let out = db.run(&["dispatch", "resolve", &attempt1, "--sent"]);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("not in doubt"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = db.run(&["dispatch", "resolve", "999999", "--not-sent"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no such delivery attempt"));

        // The retry reaches the provider, and the dispatcher dies before the answer.
        crash_while_sending(db, &base, &fake, "2026-12-03T10:06");
        assert_eq!(requests(&fake).len(), 2);

        // The next run finds it in doubt and does not resend it, however often it runs.
        for now in ["2026-12-03T10:10", "2026-12-03T11:00"] {
            let r = dispatch(db, &base, now);
            assert_eq!(r["in_doubt"], 1, "{r}");
            assert_eq!(r["sent"], 0, "{r}");
        }
        assert_eq!(requests(&fake).len(), 2, "an in-doubt SMS is never resent");
        let failed = db.json(&["dispatch", "failed"]);
        let doubt = failed["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["status"] == "in_doubt")
            .cloned()
            .unwrap_or_else(|| panic!("an in-doubt attempt in {failed}"));
        assert_eq!(doubt["attempt"], 2);
        let id = doubt["attempt_id"].as_i64().unwrap().to_string();

        // A person checked with the provider: it did not leave. The next run sends it again.
        let resolved = db.json(&[
            "dispatch",
            "resolve",
            &id,
            "--not-sent",
            "--note",
            "niet in het MessageBird-dashboard",
            "--now",
            "2026-12-03T11:05",
        ]);
        assert_eq!(resolved["status"], "failed_temporary", "{resolved}");
        assert_eq!(resolved["note"], "niet in het MessageBird-dashboard");
        // The decision is on the case's timeline, dated by --now.
        let case = db.json(&["outbox", "list"])["actions"][0]["case_id"]
            .as_i64()
            .expect("case id")
            .to_string();
        let show = db.json(&["case", "show", &case]);
        let event = show["events"]
            .as_array()
            .expect("events")
            .iter()
            .find(|e| e["kind"] == "dispatch_resolved")
            .cloned()
            .unwrap_or_else(|| panic!("a dispatch_resolved event in {show}"));
        assert_eq!(event["on"], "2026-12-03", "{event}");
        let text = event["text"].as_str().expect("text");
        assert!(
            text.contains("sms attempt 2") && text.contains("niet in het MessageBird-dashboard"),
            "{text}"
        );
        assert_eq!(db.json(&["case", "verify", &case])["ok"], true);
        let r = dispatch(db, &base, "2026-12-03T11:10");
        assert_eq!(r["sent"], 1, "{r}");
        let sent = requests(&fake);
        assert_eq!(sent.len(), 3);
        assert!(
            sent[2]["reference"].as_str().unwrap().ends_with(".3"),
            "the third attempt: {}",
            sent[2]
        );
        let again = dispatch(db, &base, "2026-12-03T11:15");
        assert_eq!(again["sent"], 0, "{again}");
        assert_eq!(requests(&fake).len(), 3);
        assert_eq!(db.json(&["outbox", "list"])["actions"][0]["status"], "sent");
    }
);

both_backends!(
    an_sms_in_doubt_resolved_as_sent_is_never_resent,
    |db: &Db| {
        setup(db);
        db.ok(&["dispatch", "consent", "--debtor", "K7", "--channel", "sms"]);
        let (base, fake) = fake_messagebird();
        crash_while_sending(db, &base, &fake, "2026-12-03T10:00");
        let r = dispatch(db, &base, "2026-12-03T10:05");
        assert_eq!(r["newly_in_doubt"], 1, "{r}");
        let failed = db.json(&["dispatch", "failed"]);
        let id = failed["attempts"][0]["attempt_id"]
            .as_i64()
            .expect("attempt id")
            .to_string();
        let said = db.ok(&["dispatch", "resolve", &id, "--sent"]);
        assert!(said.contains("marked sent"), "{said}");
        let r = dispatch(db, &base, "2026-12-03T10:10");
        assert_eq!(r["sent"], 0, "{r}");
        assert_eq!(r["actions_sent"], 1, "the action is done: {r}");
        assert_eq!(requests(&fake).len(), 1, "one SMS in all");
        assert_eq!(db.json(&["dispatch", "failed"])["count"], 0);
    }
);
