//! E-mail: composing a message (plain text + HTML alternative, PDF attachments, per-creditor
//! From and Reply-To, a deterministic Message-ID) into raw RFC 5322 bytes, and sending those
//! exact bytes over SMTP (plain, STARTTLS or implicit TLS; AUTH optional) with our own
//! blocking, pooled client (module `smtp`). lettre only composes.
//!
//! The raw bytes are composed once: their SHA-256 is recorded before sending and the same
//! bytes are what the server receives.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use sha2::{Digest, Sha256};

use crate::smtp;

/// A file attached to an e-mail.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// MIME type, for example `application/pdf`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// Everything an e-mail consists of, before composing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// Display name and address of the sender (the creditor).
    pub from_name: String,
    pub from_address: String,
    pub reply_to: Option<String>,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
    /// Without angle brackets, see [`message_id`].
    pub message_id: String,
    /// The Date header.
    pub date: Timestamp,
}

/// A composed e-mail: the exact bytes that will be sent and their fingerprint.
#[derive(Clone, PartialEq, Eq)]
pub struct ComposedEmail {
    pub raw: Vec<u8>,
    /// Hex SHA-256 of `raw`.
    pub sha256: String,
    pub message_id: String,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
}

impl fmt::Debug for ComposedEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComposedEmail")
            .field("bytes", &self.raw.len())
            .field("sha256", &self.sha256)
            .field("message_id", &self.message_id)
            .field("envelope_to", &self.envelope_to)
            .finish()
    }
}

/// An e-mail that cannot be composed (a bad address, for example); names the field.
#[derive(Debug, thiserror::Error)]
#[error("e-mail {field}: {message}")]
pub struct ComposeError {
    pub field: &'static str,
    pub message: String,
}

fn bad(field: &'static str, message: impl fmt::Display) -> ComposeError {
    ComposeError {
        field,
        message: message.to_string(),
    }
}

/// The domain part of an address (`incasso.example` for `a@incasso.example`).
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or(address)
}

/// A deterministic Message-ID for one attempt of one action on one channel:
/// `incasso.<tenant>.<action>.<attempt>@<sender domain>`. The same attempt always gets the same
/// id, and a retry gets a new one.
pub fn message_id(tenant: i64, action: i64, attempt: u32, sender_domain: &str) -> String {
    format!("incasso.{tenant}.{action}.{attempt}@{sender_domain}")
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Composes the raw message.
pub fn compose(mail: &OutgoingEmail) -> Result<ComposedEmail, ComposeError> {
    let from_addr: Address = mail.from_address.parse().map_err(|e| bad("from", e))?;
    let from = Mailbox::new(Some(mail.from_name.clone()), from_addr);
    let mut builder = Message::builder()
        .from(from)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}>", mail.message_id)))
        .date(
            std::time::UNIX_EPOCH
                + Duration::from_secs(u64::try_from(mail.date.as_second()).unwrap_or(0)),
        )
        .user_agent("incasso".into());
    if let Some(rt) = &mail.reply_to {
        let mb: Mailbox = rt.parse().map_err(|e| bad("reply_to", e))?;
        builder = builder.reply_to(mb);
    }
    if mail.to.is_empty() {
        return Err(bad("to", "no recipient"));
    }
    for to in &mail.to {
        let mb: Mailbox = to.parse().map_err(|e| bad("to", format!("{to:?}: {e}")))?;
        builder = builder.to(mb);
    }
    let mut body = MultiPart::mixed().multipart(MultiPart::alternative_plain_html(
        mail.text.clone(),
        mail.html.clone(),
    ));
    for a in &mail.attachments {
        let ct = ContentType::parse(&a.content_type).map_err(|e| {
            bad(
                "attachment content type",
                format!("{}: {e}", a.content_type),
            )
        })?;
        let part: SinglePart = LettreAttachment::new(a.filename.clone()).body(a.bytes.clone(), ct);
        body = body.singlepart(part);
    }
    let message = builder.multipart(body).map_err(|e| bad("message", e))?;
    let envelope = message.envelope();
    let raw = message.formatted();
    Ok(ComposedEmail {
        sha256: sha256_hex(&raw),
        message_id: mail.message_id.clone(),
        envelope_from: envelope.from().map(|a| a.to_string()).unwrap_or_default(),
        envelope_to: envelope.to().iter().map(|a| a.to_string()).collect(),
        raw,
    })
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// No encryption (only for a local relay).
    None,
    /// Plain connection upgraded with STARTTLS (required: no fallback to plain).
    StartTls,
    /// Implicit TLS from the first byte (port 465).
    Tls,
}

/// A secret (password, API key) that never shows in Debug or Display output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The SMTP server of one creditor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Per-command timeout.
    pub timeout: Duration,
    /// Connections kept open for reuse.
    pub max_connections: u32,
    /// A PEM file of CA certificates trusted besides the public (webpki) roots, for a relay
    /// with a private CA.
    pub ca_file: Option<PathBuf>,
}

/// An SMTP URL that could not be read. Never contains a password.
#[derive(Debug, thiserror::Error)]
#[error("SMTP URL: {0}")]
pub struct SmtpUrlError(String);

impl SmtpConfig {
    /// Reads `smtp://[user@]host[:port][?tls=none|starttls|tls]` or `smtps://...` (implicit
    /// TLS). The password is not part of the URL: it comes separately (the CLI reads it from
    /// `INCASSO_SMTP_PASSWORD`). Default ports: 25 (none), 587 (starttls), 465 (tls).
    pub fn from_url(url: &str, password: Option<Secret>) -> Result<SmtpConfig, SmtpUrlError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| SmtpUrlError("expected smtp://host or smtps://host".into()))?;
        let mut security = match scheme {
            "smtp" => SmtpSecurity::StartTls,
            "smtps" => SmtpSecurity::Tls,
            other => {
                return Err(SmtpUrlError(format!(
                    "scheme {other:?}: expected smtp or smtps"
                )));
            }
        };
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let authority = authority.trim_end_matches('/');
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if user.is_some_and(|u| u.contains(':')) {
            return Err(SmtpUrlError(
                "the URL must not contain a password: set INCASSO_SMTP_PASSWORD instead".into(),
            ));
        }
        if let Some(q) = query {
            for pair in q.split('&') {
                match pair.split_once('=') {
                    Some(("tls", "none")) => security = SmtpSecurity::None,
                    Some(("tls", "starttls")) => security = SmtpSecurity::StartTls,
                    Some(("tls", "tls")) => security = SmtpSecurity::Tls,
                    _ => {
                        return Err(SmtpUrlError(format!(
                            "unknown parameter {pair:?}: expected tls=none|starttls|tls"
                        )));
                    }
                }
            }
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| SmtpUrlError(format!("port {p:?} is not a number")))?,
                ),
            ),
            None => (hostport, None),
        };
        if host.is_empty() {
            return Err(SmtpUrlError("no host".into()));
        }
        let port = port.unwrap_or(match security {
            SmtpSecurity::None => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        });
        Ok(SmtpConfig {
            host: host.to_string(),
            port,
            security,
            username: user.map(|u| u.replace("%40", "@")),
            password,
            timeout: Duration::from_secs(30),
            max_connections: 4,
            ca_file: None,
        })
    }
}

/// Whether a failed delivery may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Retry later (4xx reply, connection refused, timeout).
    Temporary,
    /// Never retry (5xx reply: unknown mailbox, rejected content, bad credentials).
    Permanent,
}

/// A delivery that failed, with a reason fit for a person (never contains a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} failure: {reason}")]
pub struct SendError {
    pub kind: FailureKind,
    pub reason: String,
}

/// What the server said when it accepted a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The provider's id or reply (for SMTP: the final reply, often "queued as ...").
    pub provider_id: String,
}

/// Sends composed e-mails. Implemented by [`SmtpSender`]; tests add failing and crashing
/// variants.
pub trait EmailSender {
    fn send(&self, mail: &ComposedEmail) -> Result<Accepted, SendError>;
}

/// Sends over SMTP with a pool of reused connections; clones share the pool.
#[derive(Clone)]
pub struct SmtpSender {
    client: Arc<smtp::Client>,
}

impl fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSender")
            .field("config", self.client.config())
            .finish()
    }
}

impl SmtpSender {
    /// Checks the configuration and sets up TLS (reading the CA file); connects only when
    /// the first message is sent.
    pub fn new(config: SmtpConfig) -> Result<SmtpSender, SendError> {
        Ok(SmtpSender {
            client: Arc::new(smtp::Client::new(config)?),
        })
    }
}

impl EmailSender for SmtpSender {
    fn send(&self, mail: &ComposedEmail) -> Result<Accepted, SendError> {
        let envelope_error = |reason: String| SendError {
            kind: FailureKind::Permanent,
            reason,
        };
        if !mail.envelope_from.is_empty() && mail.envelope_from.parse::<Address>().is_err() {
            return Err(envelope_error(format!(
                "envelope: sender {:?} is not an address",
                mail.envelope_from
            )));
        }
        if let Some(bad) = mail
            .envelope_to
            .iter()
            .find(|a| a.parse::<Address>().is_err())
        {
            return Err(envelope_error(format!(
                "envelope: recipient {bad:?} is not an address"
            )));
        }
        let envelope = smtp::Envelope {
            from: &mail.envelope_from,
            to: &mail.envelope_to,
        };
        match self.client.send(&envelope, &mail.raw) {
            Ok(reply) => Ok(Accepted {
                provider_id: reply.to_string(),
            }),
            Err(failure) => Err(failure.into_send_error(self.client.config())),
        }
    }
}
