//! `incasso payments link ...`: payment links at the payment provider (Mollie) and the webhook
//! that settles them through the same allocation path as a bank payment.
//!
//! Configuration: the API key comes from `INCASSO_MOLLIE_API_KEY` or the file named by
//! `--api-key-file` / `INCASSO_MOLLIE_API_KEY_FILE` (never from a flag: flags show in `ps`);
//! `INCASSO_MOLLIE_BASE_URL` points the client elsewhere (tests); `INCASSO_WEBHOOK_BASE_URL`
//! is the public address the provider calls back on.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use incasso_app::paylink::mollie::{self, ApiKey, MollieClient, wire};
use incasso_app::paylink::{self, LinkOptions, Settlement, Target, WebhookError};
use incasso_store::{PaylinkRow, PaylinkScope, Store};
use serde_json::{Value, json};

use crate::args::TenantArg;
use crate::commands::{date_arg, open_store, print_json, resolve_tenant};
use crate::table::{Align, Table};

/// The creditor (tenant) a link command works for: `--creditor` as everywhere, or `--tenant`.
#[derive(Debug, clap::Args)]
pub struct LinkTenant {
    /// The creditor (id or exact name); may be left out when there is only one.
    #[arg(long = "creditor", visible_alias = "tenant", env = "INCASSO_CREDITOR")]
    creditor: Option<String>,
}

impl LinkTenant {
    fn arg(&self) -> TenantArg {
        TenantArg {
            creditor: self.creditor.clone(),
        }
    }
}

/// How the Mollie client is configured.
#[derive(Debug, clap::Args)]
pub struct MollieArgs {
    /// A file holding the Mollie API key (`live_...` or `test_...`); else the key is read from
    /// INCASSO_MOLLIE_API_KEY.
    #[arg(long, env = "INCASSO_MOLLIE_API_KEY_FILE")]
    api_key_file: Option<PathBuf>,
    /// The Mollie API base URL.
    #[arg(long, env = "INCASSO_MOLLIE_BASE_URL", default_value = mollie::DEFAULT_BASE_URL)]
    mollie_base_url: String,
}

#[derive(Debug, clap::Subcommand)]
pub enum LinkCommand {
    /// Create a payment link for a case's open total or for one invoice (recorded before Mollie
    /// is asked; running it again returns the same link).
    Create {
        #[command(flatten)]
        tenant: LinkTenant,
        /// The case whose open overdue claims the link pays.
        #[arg(long, required_unless_present = "invoice", conflicts_with = "invoice")]
        case: Option<i64>,
        /// The invoice (number) the link pays.
        #[arg(long)]
        invoice: Option<String>,
        /// The public base URL Mollie calls back on (`<base>/webhooks/mollie`).
        #[arg(long, env = "INCASSO_WEBHOOK_BASE_URL")]
        webhook_base_url: Option<String>,
        /// Where the debtor lands after paying.
        #[arg(long)]
        redirect_url: Option<String>,
        /// When the link expires (ISO 8601, e.g. 2026-12-31T23:59:59+01:00).
        #[arg(long)]
        expires_at: Option<String>,
        /// The day that decides what is overdue (default: today).
        #[arg(long)]
        as_of: Option<String>,
        #[command(flatten)]
        mollie: MollieArgs,
    },
    /// List payment links with their status.
    List {
        #[command(flatten)]
        tenant: LinkTenant,
    },
    /// Ask Mollie what became of a link (a pending one is created under its key; a paid one is
    /// settled).
    Sync {
        #[command(flatten)]
        tenant: LinkTenant,
        /// The link id (see `incasso payments link list`).
        id: i64,
        #[command(flatten)]
        mollie: MollieArgs,
    },
    /// Serve the webhook: POST /webhooks/mollie with a form `id=tr_...` (or `pl_...`). Answers
    /// 200 when handled, 4xx for a bad call (nothing changes), 5xx when Mollie should retry.
    Webhook {
        #[command(flatten)]
        tenant: LinkTenant,
        /// The address to listen on, e.g. 127.0.0.1:8080 (port 0: any free port; the address is
        /// printed).
        #[arg(long)]
        listen: String,
        /// Stop after this many requests (tests).
        #[arg(long, hide = true)]
        max_requests: Option<u64>,
        #[command(flatten)]
        mollie: MollieArgs,
    },
}

fn client(args: &MollieArgs) -> anyhow::Result<MollieClient> {
    let text = match &args.api_key_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("--api-key-file {}: cannot read", path.display()))?,
        None => std::env::var("INCASSO_MOLLIE_API_KEY").map_err(|_| {
            anyhow!("no Mollie API key: set INCASSO_MOLLIE_API_KEY or --api-key-file")
        })?,
    };
    let key = ApiKey::parse(&text).map_err(|e| anyhow!("the Mollie API key: {e}"))?;
    let base = args.mollie_base_url.trim();
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        bail!("--mollie-base-url {base:?}: expected an http(s) URL");
    }
    Ok(MollieClient::with_base_url(key, base))
}

fn link_json(r: &PaylinkRow) -> Value {
    let (case, invoice) = match r.link.scope {
        PaylinkScope::Case(c) => (Some(c), None),
        PaylinkScope::Invoice(i) => (None, Some(i.get())),
    };
    json!({
        "id": r.id,
        "status": r.status.code(),
        "case": case,
        "invoice": invoice,
        "debtor": r.link.debtor_id.get(),
        "provider": r.link.provider,
        "provider_id": r.provider_id,
        "url": r.url,
        "amount": r.link.amount.to_decimal_string(),
        "currency": r.link.amount.currency().code(),
        "description": r.link.description,
        "created_on": r.link.created_on.to_string(),
        "expires_at": r.expires_at,
        "idempotency_key": r.link.idempotency_key,
        "payment": r.payment_id.map(|p| p.get()),
        "provider_payment_id": r.provider_payment_id,
        "paid_on": r.paid_on.map(|d| d.to_string()),
        "error": r.error,
    })
}

fn settlement_json(s: &Settlement) -> Value {
    json!({
        "link": s.link,
        "payment": s.payment.get(),
        "recorded_now": s.recorded_now,
        "allocated": s.allocated.to_decimal_string(),
        "unapplied": s.unapplied.to_decimal_string(),
        "actions_cancelled": s.actions_cancelled,
        "cases_closed": s.cases_closed,
    })
}

fn print_links(out: &mut dyn Write, rows: &[PaylinkRow]) -> anyhow::Result<()> {
    let mut t = Table::new(&[
        ("id", Align::Right),
        ("for", Align::Left),
        ("amount", Align::Right),
        ("status", Align::Left),
        ("created", Align::Left),
        ("url", Align::Left),
    ]);
    for r in rows {
        let what = match r.link.scope {
            PaylinkScope::Case(c) => format!("case {c}"),
            PaylinkScope::Invoice(_) => r.link.description.clone(),
        };
        t.row(vec![
            r.id.to_string(),
            what,
            r.link.amount.format_nl(),
            r.status.code().into(),
            r.link.created_on.to_string(),
            r.url.clone().unwrap_or_default(),
        ]);
    }
    t.print(out)?;
    Ok(())
}

/// `incasso payments link ...`.
pub fn link(
    db: &str,
    cmd: LinkCommand,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut store = open_store(db)?;
    match cmd {
        LinkCommand::Create {
            tenant,
            case,
            invoice,
            webhook_base_url,
            redirect_url,
            expires_at,
            as_of,
            mollie,
        } => {
            let today = date_arg("as-of", as_of.as_deref())?;
            let creditor = resolve_tenant(store.as_mut(), &tenant.arg())?;
            let provider = client(&mollie)?;
            let target = match (case, invoice) {
                (Some(c), None) => Target::Case(c),
                (None, Some(n)) => Target::Invoice(n),
                _ => bail!("give --case ID or --invoice NUMBER"),
            };
            let options = LinkOptions {
                webhook_base_url,
                redirect_url,
                expires_at,
            };
            let created = paylink::create_link(
                store.as_mut(),
                &provider,
                creditor.id,
                &target,
                &options,
                today,
            )?;
            if json {
                let mut v = link_json(&created.link);
                v["existing"] = json!(created.existing);
                v["superseded"] = json!(created.superseded);
                print_json(out, &v)?;
            } else {
                writeln!(
                    out,
                    "payment link {} ({}) for {}: {}{}",
                    created.link.id,
                    created.link.status.code(),
                    created.link.link.amount.format_nl(),
                    created.link.url.as_deref().unwrap_or("-"),
                    if created.existing {
                        " (existing link)"
                    } else {
                        ""
                    }
                )?;
                for s in &created.superseded {
                    writeln!(out, "  link {s} superseded")?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        LinkCommand::List { tenant } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant.arg())?;
            let rows = store.paylinks(creditor.id)?;
            let events = store.paylink_events(creditor.id)?;
            if json {
                print_json(
                    out,
                    &json!({"creditor": creditor.id.get(), "count": rows.len(), "links": rows.iter().map(link_json).collect::<Vec<_>>(), "events": events.len()}),
                )?;
            } else {
                print_links(out, &rows)?;
                writeln!(
                    out,
                    "{} payment link(s), {} webhook event(s)",
                    rows.len(),
                    events.len()
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        LinkCommand::Sync { tenant, id, mollie } => {
            let today = date_arg("as-of", None)?;
            let creditor = resolve_tenant(store.as_mut(), &tenant.arg())?;
            let provider = client(&mollie)?;
            let (row, settled) =
                paylink::sync_link(store.as_mut(), &provider, creditor.id, id, today)?;
            if json {
                let mut v = link_json(&row);
                v["settled"] = settled.as_ref().map(settlement_json).unwrap_or(Value::Null);
                print_json(out, &v)?;
            } else {
                writeln!(out, "payment link {}: {}", row.id, row.status.code())?;
                if let Some(s) = settled {
                    writeln!(
                        out,
                        "  settled: payment {}, {} allocated, {} credit balance, {} reminder(s) cancelled, {} case(s) closed",
                        s.payment.get(),
                        s.allocated.format_nl(),
                        s.unapplied.format_nl(),
                        s.actions_cancelled,
                        s.cases_closed.len()
                    )?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        LinkCommand::Webhook {
            tenant,
            listen,
            max_requests,
            mollie,
        } => {
            let creditor = resolve_tenant(store.as_mut(), &tenant.arg())?;
            let provider = client(&mollie)?;
            let listener = TcpListener::bind(&listen)
                .with_context(|| format!("--listen {listen}: cannot listen"))?;
            let addr = listener.local_addr()?;
            writeln!(out, "listening on http://{addr}/webhooks/mollie")?;
            out.flush()?;
            let mut served = 0u64;
            for stream in listener.incoming() {
                let stream = match stream {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("webhook: accepting a connection failed: {e}");
                        continue;
                    }
                };
                serve_one(store.as_mut(), &provider, creditor.id, stream);
                served += 1;
                if max_requests.is_some_and(|m| served >= m) {
                    break;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Handles one webhook connection; every outcome is answered and logged to stderr.
fn serve_one(
    store: &mut dyn Store,
    provider: &MollieClient,
    tenant: incasso_domain::CreditorId,
    stream: TcpStream,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("webhook: {e}");
            return;
        }
    };
    let mut reader = BufReader::new(stream);
    let (status, message) = match wire::read_request(&mut reader) {
        Err(wire::WireError::Closed) => return,
        Err(e) => (400, e.to_string()),
        Ok(req) => answer(store, provider, tenant, &req),
    };
    eprintln!("webhook: {status} {message}");
    let _ = wire::write_response(
        &mut writer,
        status,
        "text/plain; charset=utf-8",
        format!("{message}\n").as_bytes(),
    );
}

fn answer(
    store: &mut dyn Store,
    provider: &MollieClient,
    tenant: incasso_domain::CreditorId,
    req: &wire::Request,
) -> (u16, String) {
    if req.path() != "/webhooks/mollie" {
        return (404, format!("no such endpoint: {}", req.path()));
    }
    if req.method != "POST" {
        return (
            405,
            format!("{} is not allowed: POST the form id=...", req.method),
        );
    }
    let form = req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return (
            415,
            "expected Content-Type application/x-www-form-urlencoded".into(),
        );
    }
    let id = match wire::form_value(&req.body, "id") {
        Ok(Some(id)) => id,
        Ok(None) => return (400, "the form has no id".into()),
        Err(e) => return (400, format!("the form cannot be read: {e}")),
    };
    let hint = match req.query("link") {
        None => None,
        Some(l) => match l.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => return (400, format!("link {l:?} is not a link id")),
        },
    };
    let today = match date_arg("as-of", None) {
        Ok(d) => d,
        Err(e) => return (500, e.to_string()),
    };
    match paylink::handle_webhook(store, provider, tenant, &id, hint, today) {
        Ok(o) => {
            let what = match (&o.settled, o.link) {
                (Some(s), _) => format!(
                    "link {} settled: payment {}, {} allocated, {} case(s) closed",
                    s.link,
                    s.payment.get(),
                    s.allocated.to_decimal_string(),
                    s.cases_closed.len()
                ),
                (None, Some(l)) => format!("link {l}"),
                (None, None) => "no link of this creditor".into(),
            };
            (
                200,
                format!(
                    "{id}: {} ({what}{})",
                    o.status,
                    if o.new_event { "" } else { "; seen before" }
                ),
            )
        }
        Err(WebhookError::BadRequest(m)) => (400, m),
        Err(WebhookError::Failed(e)) => {
            // The details go to the log, not to whoever called.
            eprintln!("webhook: {id}: {e:#}");
            (
                500,
                format!("{id}: not processed; the provider should retry"),
            )
        }
    }
}
