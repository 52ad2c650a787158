//! Payment links end to end through the binary, against a fake Mollie: a local HTTP server that
//! checks every request against the documented shapes (method, path, `Authorization: Bearer`,
//! `Content-Type`, `Idempotency-Key`, JSON fields and formats) and answers like Mollie (the same
//! idempotency key returns the same link). `payments link create` makes the link once;
//! `payments link webhook` serves POST /webhooks/mollie, fetches the object from "Mollie",
//! settles a paid link through the bank allocation path (claim paid, reminder cancelled, case
//! closed); the same webhook again changes nothing; bad calls get 4xx and change nothing;
//! `payments link sync` polls.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::{Db, both_backends, data};

const KEY: &str = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM";

#[derive(Default)]
pub(crate) struct Fake {
    /// id -> (amount object, description, paid)
    links: Vec<(String, Value, String, bool)>,
    /// Idempotency-Key -> (link index, request body): Mollie answers a reused key with the
    /// first answer, and a reused key with other parameters with 400.
    keys: HashMap<String, (usize, Value)>,
    /// payment id -> link index
    payments: HashMap<String, usize>,
    violations: Vec<String>,
    posts: usize,
}

fn link_object(id: &str, amount: &Value, description: &str, paid: bool) -> Value {
    let token = id.trim_start_matches("pl_");
    json!({
        "resource": "payment-link",
        "id": id,
        "mode": "test",
        "profileId": "pfl_QkEhN94Ba",
        "createdAt": "2026-01-07T09:13:37+00:00",
        "paidAt": if paid { json!("2026-01-08T10:00:00+00:00") } else { Value::Null },
        "updatedAt": null,
        "expiresAt": null,
        "amount": amount,
        "description": description,
        "_links": {
            "self": {"href": format!("https://api.mollie.com/v2/payment-links/{id}"), "type": "application/json"},
            "paymentLink": {"href": format!("https://paymentlink.mollie.com/payment/{token}/"), "type": "text/html"}
        }
    })
}

fn payment_object(id: &str, amount: &Value, paid: bool) -> Value {
    let mut p = json!({
        "resource": "payment",
        "id": id,
        "mode": "test",
        "createdAt": "2026-01-08T09:59:00+00:00",
        "amount": amount,
        "description": "via payment link",
        "method": "ideal",
        "status": if paid { "paid" } else { "open" },
        "isCancelable": false,
        "profileId": "pfl_QkEhN94Ba",
        "sequenceType": "oneoff",
        "_links": {"self": {"href": format!("https://api.mollie.com/v2/payments/{id}"), "type": "application/hal+json"}}
    });
    if paid {
        p["paidAt"] = json!("2026-01-08T10:00:00+00:00");
    }
    p
}

fn check_create_body(body: &Value) -> Vec<String> {
    let mut v = Vec::new();
    let Some(map) = body.as_object() else {
        return vec!["body is not an object".into()];
    };
    for k in map.keys() {
        if ![
            "amount",
            "description",
            "redirectUrl",
            "webhookUrl",
            "expiresAt",
        ]
        .contains(&k.as_str())
        {
            v.push(format!("unknown field {k}"));
        }
    }
    if body.pointer("/amount/currency").and_then(Value::as_str) != Some("EUR") {
        v.push(format!(
            "amount.currency {:?}",
            body.pointer("/amount/currency")
        ));
    }
    let ok_value = body
        .pointer("/amount/value")
        .and_then(Value::as_str)
        .is_some_and(|s| {
            s.split_once('.').is_some_and(|(w, f)| {
                !w.is_empty()
                    && w.bytes().all(|b| b.is_ascii_digit())
                    && f.len() == 2
                    && f.bytes().all(|b| b.is_ascii_digit())
            })
        });
    if !ok_value {
        v.push(format!(
            "amount.value must be a string with two decimals: {:?}",
            body.pointer("/amount/value")
        ));
    }
    if body
        .get("description")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        v.push("description missing".into());
    }
    if let Some(w) = body.get("webhookUrl") {
        let ok = w
            .as_str()
            .is_some_and(|w| w.starts_with("https://incasso.example.nl/webhooks/mollie?link="));
        if !ok {
            v.push(format!("webhookUrl {w}"));
        }
    }
    v
}

/// Answers one request like Mollie, recording violations of the documented shapes.
fn respond(fake: &Mutex<Fake>, req: &Req) -> (u16, Value) {
    let mut f = fake.lock().expect("lock");
    if req.header("authorization") != Some(format!("Bearer {KEY}").as_str()) {
        f.violations.push(format!(
            "{} {}: Authorization header wrong",
            req.method, req.path
        ));
        return (
            401,
            json!({"status": 401, "title": "Unauthorized Request", "detail": "Missing authentication, or failed to authenticate"}),
        );
    }
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/v2/payment-links") => {
            f.posts += 1;
            if req.header("content-type") != Some("application/json") {
                f.violations
                    .push(format!("Content-Type {:?}", req.header("content-type")));
            }
            let Some(key) = req.header("idempotency-key").map(str::to_string) else {
                f.violations.push("no Idempotency-Key".into());
                return (
                    400,
                    json!({"status": 400, "title": "Bad Request", "detail": "no key"}),
                );
            };
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(b) => b,
                Err(e) => {
                    f.violations.push(format!("body is not JSON: {e}"));
                    return (
                        400,
                        json!({"status": 400, "title": "Bad Request", "detail": "json"}),
                    );
                }
            };
            let problems = check_create_body(&body);
            if !problems.is_empty() {
                f.violations.extend(problems.clone());
                return (
                    422,
                    json!({"status": 422, "title": "Unprocessable Entity", "detail": problems.join("; ")}),
                );
            }
            let index = match f.keys.get(&key) {
                Some((i, first)) if *first == body => *i,
                Some(_) => {
                    f.violations.push(format!(
                        "idempotency key {key} reused with other parameters"
                    ));
                    return (
                        400,
                        json!({"status": 400, "title": "Bad Request", "detail": "The idempotency key was used with other parameters"}),
                    );
                }
                None => {
                    let id = format!("pl_fake{}", f.links.len() + 1);
                    f.links.push((
                        id,
                        body["amount"].clone(),
                        body["description"].as_str().unwrap_or("").to_string(),
                        false,
                    ));
                    let i = f.links.len() - 1;
                    f.keys.insert(key, (i, body.clone()));
                    i
                }
            };
            let (id, amount, description, paid) = f.links[index].clone();
            (201, link_object(&id, &amount, &description, paid))
        }
        ("GET", p) if p.starts_with("/v2/payment-links/") => {
            let id = &p["/v2/payment-links/".len()..];
            match f.links.iter().find(|l| l.0 == id) {
                Some((id, amount, description, paid)) => {
                    (200, link_object(id, amount, description, *paid))
                }
                None => (
                    404,
                    json!({"status": 404, "title": "Not Found", "detail": format!("No payment link exists with token {id}.")}),
                ),
            }
        }
        ("GET", p) if p.starts_with("/v2/payments/") => {
            let id = &p["/v2/payments/".len()..];
            match f.payments.get(id).and_then(|i| f.links.get(*i)) {
                Some((_, amount, _, paid)) => (200, payment_object(id, amount, *paid)),
                None => (
                    404,
                    json!({"status": 404, "title": "Not Found", "detail": format!("No payment exists with token {id}.")}),
                ),
            }
        }
        (m, p) => {
            f.violations.push(format!("undocumented endpoint {m} {p}"));
            (
                404,
                json!({"status": 404, "title": "Not Found", "detail": "no such endpoint"}),
            )
        }
    }
}

struct Req {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn read_req(stream: &TcpStream) -> Option<Req> {
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
    Some(Req {
        method,
        path,
        headers,
        body,
    })
}

/// Starts the fake Mollie; returns its base URL and state.
pub(crate) fn fake_mollie() -> (String, Arc<Mutex<Fake>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let fake = Arc::new(Mutex::new(Fake::default()));
    let state = fake.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some(req) = read_req(&stream) else {
                continue;
            };
            let (status, body) = respond(&state, &req);
            let body = body.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/hal+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, fake)
}

/// Marks a link paid at the fake Mollie by payment `payment`.
fn pay(fake: &Mutex<Fake>, link: &str, payment: &str) {
    let mut f = fake.lock().expect("lock");
    let i = f
        .links
        .iter()
        .position(|l| l.0 == link)
        .expect("link at Mollie");
    f.links[i].3 = true;
    f.payments.insert(payment.to_string(), i);
}

pub(crate) fn incasso(db: &Db, base: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_incasso"));
    c.arg("--db")
        .arg(&db.url)
        .args(args)
        .current_dir(db.dir.path())
        .env_remove("INCASSO_DB")
        .env_remove("INCASSO_CREDITOR")
        .env_remove("INCASSO_MOLLIE_API_KEY_FILE")
        .env("INCASSO_MOLLIE_API_KEY", KEY)
        .env("INCASSO_MOLLIE_BASE_URL", base)
        .env("INCASSO_WEBHOOK_BASE_URL", "https://incasso.example.nl");
    c
}

pub(crate) fn json_of(out: Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: not JSON ({e})"))
}

/// The webhook server as a child process; killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_webhook(db: &Db, base: &str) -> Server {
    let mut child = incasso(
        db,
        base,
        &["payments", "link", "webhook", "--listen", "127.0.0.1:0"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn webhook server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|r| r.strip_suffix("/webhooks/mollie"))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server { child, addr }
}

/// Sends one raw HTTP request to the webhook server; returns the status code.
fn post(server: &Server, method: &str, target: &str, content_type: &str, body: &str) -> u16 {
    let mut s = TcpStream::connect(&server.addr).expect("connect");
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: incasso.example.nl\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("answer");
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

const FORM: &str = "application/x-www-form-urlencoded";

fn open_of(db: &Db, number: &str) -> String {
    db.json(&["invoices", "show", number])["open_amount"]
        .as_str()
        .expect("open amount")
        .to_string()
}

/// Everything that would change if a webhook did something twice.
fn snapshot(db: &Db) -> Value {
    let open: Vec<String> = ["B-1", "B-2", "C-1"]
        .iter()
        .map(|n| open_of(db, n))
        .collect();
    json!({
        "links": db.json(&["payments", "link", "list"]),
        "cases": db.json(&["case", "list"]),
        "outbox": db.json(&["outbox", "list"]),
        "open": open,
    })
}

both_backends!(payment_link_webhook_settles_the_claim_once, |db: &Db| {
    let (base, fake) = fake_mollie();
    db.add_creditor();
    db.ok(&["import", "invoices", data("ladder.csv").to_str().unwrap()]);
    let run = db.json(&["run", "--date", "2026-01-07", "--force"]);
    assert_eq!(run["actions_created"], 2, "{run}");
    let cases = db.json(&["case", "list"]);
    let els = cases["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| db.json(&["case", "show", &c["id"].to_string()])["debtor"] == "Els de Boer")
        .expect("Els de Boer's case")["id"]
        .to_string();

    // Create: recorded, asked once, the documented request.
    let create = [
        "payments",
        "link",
        "create",
        "--case",
        &els,
        "--as-of",
        "2026-01-07",
        "--json",
    ];
    let link = json_of(incasso(db, &base, &create).output().expect("run"), "create");
    assert_eq!(link["status"], "open", "{link}");
    assert_eq!(link["amount"], "300.00");
    assert_eq!(link["provider_id"], "pl_fake1");
    assert_eq!(link["url"], "https://paymentlink.mollie.com/payment/fake1/");
    let link_id = link["id"].as_i64().expect("id");
    // Again: the same link, nothing new at Mollie.
    let again = json_of(
        incasso(db, &base, &create).output().expect("run"),
        "create again",
    );
    assert_eq!(again["id"], link_id);
    assert_eq!(again["existing"], true);
    assert_eq!(fake.lock().expect("lock").posts, 1);

    let server = start_webhook(db, &base);
    let hook = format!("/webhooks/mollie?link={link_id}");

    // Bad calls: 4xx, nothing changes.
    let before = snapshot(db);
    assert_eq!(post(&server, "POST", &hook, FORM, ""), 400, "no id");
    assert_eq!(
        post(&server, "POST", &hook, FORM, "id=../../etc"),
        400,
        "not an id"
    );
    assert_eq!(
        post(&server, "POST", &hook, FORM, "id=%ZZ"),
        400,
        "bad form"
    );
    assert_eq!(post(&server, "GET", &hook, FORM, ""), 405);
    assert_eq!(post(&server, "POST", "/other", FORM, "id=tr_x"), 404);
    assert_eq!(
        post(
            &server,
            "POST",
            &hook,
            "application/json",
            "{\"id\":\"tr_x\"}"
        ),
        415
    );
    // Unknown to Mollie: 200 as Mollie advises, nothing changes.
    assert_eq!(post(&server, "POST", &hook, FORM, "id=tr_unknown"), 200);
    // Known but not paid yet: recorded, nothing settled.
    assert_eq!(post(&server, "POST", &hook, FORM, "id=pl_fake1"), 200);
    let mut after = snapshot(db);
    assert_eq!(
        after["links"]["events"], 1,
        "the open link's event is recorded"
    );
    after["links"]["events"] = before["links"]["events"].clone();
    assert_eq!(after, before, "bad or early webhooks change nothing");

    // Paid at Mollie; the webhook names the payment.
    pay(&fake, "pl_fake1", "tr_fake1");
    assert_eq!(post(&server, "POST", &hook, FORM, "id=tr_fake1"), 200);
    assert_eq!(open_of(db, "C-1"), "0.00", "the claim is paid");
    assert_eq!(
        open_of(db, "B-1"),
        "1000.00",
        "another debtor's claim is untouched"
    );
    let case = db.json(&["case", "show", &els]);
    assert_eq!(case["state"], "paid", "{case}");
    assert!(
        case["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["kind"] == "closed"),
        "the case is closed: {case}"
    );
    assert_eq!(
        db.json(&["case", "list"])["count"],
        1,
        "only K1's case is open"
    );
    let outbox = db.json(&["outbox", "list"]);
    let statuses: Vec<(String, String)> = outbox["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| {
            (
                a["total"].as_str().unwrap_or("").to_string(),
                a["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("300.00".into(), "cancelled".into())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("1000.00".into(), "queued".into())),
        "{statuses:?}"
    );
    let list = db.json(&["payments", "link", "list"]);
    let row = &list["links"][0];
    assert_eq!(row["status"], "paid");
    assert_eq!(row["provider_payment_id"], "tr_fake1");
    assert!(row["payment"].is_i64());

    // The same webhook again, and the link's own id: nothing changes.
    let settled = snapshot(db);
    assert_eq!(post(&server, "POST", &hook, FORM, "id=tr_fake1"), 200);
    assert_eq!(
        post(&server, "POST", "/webhooks/mollie", FORM, "id=pl_fake1"),
        200
    );
    let mut again = snapshot(db);
    assert_eq!(
        again["links"]["events"].as_i64(),
        Some(settled["links"]["events"].as_i64().unwrap() + 1),
        "pl_fake1 paid is a new event"
    );
    again["links"]["events"] = settled["links"]["events"].clone();
    assert_eq!(again, settled, "the same payment twice changes nothing");

    // An invoice link, settled from the link id; B-2 stays open, so K1's case stays open.
    let inv = json_of(
        incasso(
            db,
            &base,
            &[
                "payments",
                "link",
                "create",
                "--tenant",
                "Voorbeeld B.V.",
                "--invoice",
                "B-1",
                "--json",
            ],
        )
        .output()
        .expect("run"),
        "create invoice link",
    );
    assert_eq!(inv["amount"], "1000.00");
    let provider_id = inv["provider_id"].as_str().expect("pl").to_string();
    pay(&fake, &provider_id, "tr_fake2");
    assert_eq!(
        post(
            &server,
            "POST",
            "/webhooks/mollie",
            FORM,
            &format!("id={provider_id}")
        ),
        200
    );
    assert_eq!(open_of(db, "B-1"), "0.00");
    assert_eq!(open_of(db, "B-2"), "500.00");
    assert_eq!(db.json(&["case", "list"])["count"], 1, "K1 still owes B-2");

    // Polling: a link for B-2, paid, synced without a webhook; K1's case closes.
    let b2 = json_of(
        incasso(
            db,
            &base,
            &["payments", "link", "create", "--invoice", "B-2", "--json"],
        )
        .output()
        .expect("run"),
        "create B-2 link",
    );
    let b2_provider = b2["provider_id"].as_str().expect("pl").to_string();
    pay(&fake, &b2_provider, "tr_fake3");
    let synced = json_of(
        incasso(
            db,
            &base,
            &["payments", "link", "sync", &b2["id"].to_string(), "--json"],
        )
        .output()
        .expect("run"),
        "sync",
    );
    assert_eq!(synced["status"], "paid", "{synced}");
    assert_eq!(synced["settled"]["allocated"], "500.00");
    assert_eq!(open_of(db, "B-2"), "0.00");
    assert_eq!(
        db.json(&["case", "list"])["count"],
        0,
        "every case is closed"
    );
    drop(server);

    let violations = fake.lock().expect("lock").violations.clone();
    assert!(
        violations.is_empty(),
        "requests broke the documented shapes: {violations:?}"
    );
});

both_backends!(
    payment_link_errors_are_clear_and_keep_the_key_secret,
    |db: &Db| {
        let (base, _fake) = fake_mollie();
        db.add_creditor();
        db.ok(&["import", "invoices", data("ladder.csv").to_str().unwrap()]);
        // A wrong key: Mollie's 401 in the error, never the key.
        let wrong = "test_WRONGWRONGWRONGWRONGWRONG";
        let out = incasso(
            db,
            &base,
            &["payments", "link", "create", "--invoice", "C-1"],
        )
        .env("INCASSO_MOLLIE_API_KEY", wrong)
        .output()
        .expect("run");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("401") && stderr.contains("failed to authenticate"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("WRONGWRONG") && !stderr.contains("dHar4XY7"),
            "the key leaked: {stderr}"
        );
        let list = db.json(&["payments", "link", "list"]);
        assert_eq!(list["links"][0]["status"], "failed", "{list}");
        // No key at all.
        let out = incasso(
            db,
            &base,
            &["payments", "link", "create", "--invoice", "C-1"],
        )
        .env_remove("INCASSO_MOLLIE_API_KEY")
        .output()
        .expect("run");
        assert!(String::from_utf8_lossy(&out.stderr).contains("INCASSO_MOLLIE_API_KEY"));
        // A paid invoice has nothing to pay.
        let out = incasso(
            db,
            &base,
            &["payments", "link", "create", "--invoice", "NOPE"],
        )
        .output()
        .expect("run");
        assert!(String::from_utf8_lossy(&out.stderr).contains("NOPE"));
    }
);
