//! Our own small blocking SMTP client with a pool of reused connections: plain, STARTTLS or
//! implicit TLS (rustls with the ring provider, webpki roots plus an optional private CA),
//! AUTH PLAIN or LOGIN, one transaction at a time per connection.
//!
//! Why not lettre's transport: it leaves Nagle's algorithm on and writes the message body and
//! the final `\r\n.\r\n` in two writes, so every message waits for the server's delayed ACK
//! (about 40 ms): one connection managed about 22 messages per second. Here the socket has
//! `TCP_NODELAY` and the terminator goes out in the same write as the end of the body.
//!
//! Nothing here retries a message that may have been handed over: the only retry is of a
//! reused connection that turns out dead before the server accepted `MAIL FROM`.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::email::{FailureKind, SendError, SmtpConfig, SmtpSecurity};

/// The longest reply line read (RFC 5321 allows 512 octets; servers are sometimes chattier).
const REPLY_LINE_BYTES_MAX: u64 = 8 * 1024;
/// The most lines of one multi-line reply (an EHLO reply has a dozen).
const REPLY_LINES_MAX: usize = 256;
/// Message data goes out in writes of about this size; the last one carries the terminator.
const DATA_CHUNK_BYTES: usize = 64 * 1024;

/// One reply of the server: the code and the text of each line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The first digit of the code: 2 done, 3 go on, 4 try later, 5 never.
    fn class(&self) -> u16 {
        self.code / 100
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        for line in &self.lines {
            if !line.is_empty() {
                write!(f, " {line}")?;
            }
        }
        Ok(())
    }
}

/// Reads one reply line: `Some((code, is_last, text))`, or `None` when it is no reply line.
fn parse_reply_line(line: &str) -> Option<(u16, bool, &str)> {
    let line = line.trim_end_matches(['\r', '\n']);
    let digits = line.get(..3)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u16 = digits.parse().ok()?;
    if !(200..600).contains(&code) {
        return None;
    }
    match line.as_bytes().get(3) {
        None => Some((code, true, "")),
        Some(b' ') => Some((code, true, &line[4..])),
        Some(b'-') => Some((code, false, &line[4..])),
        Some(_) => None,
    }
}

/// What the server offers after EHLO.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Capabilities {
    pub starttls: bool,
    /// AUTH mechanisms, upper case.
    pub auth: Vec<String>,
    pub eight_bit_mime: bool,
    pub smtp_utf8: bool,
    /// The SIZE limit in bytes, when announced with one (0 means no limit).
    pub size_max: Option<u64>,
}

impl Capabilities {
    /// Reads the EHLO reply: its first line is the greeting, each further line one keyword
    /// with its parameters.
    fn parse(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split([' ', '=']).filter(|w| !w.is_empty());
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "STARTTLS" => caps.starttls = true,
                "8BITMIME" => caps.eight_bit_mime = true,
                "SMTPUTF8" => caps.smtp_utf8 = true,
                "SIZE" => {
                    caps.size_max = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0))
                }
                "AUTH" => {
                    for mechanism in words {
                        let mechanism = mechanism.to_ascii_uppercase();
                        if !caps.auth.contains(&mechanism) {
                            caps.auth.push(mechanism);
                        }
                    }
                }
                _ => {}
            }
        }
        caps
    }
}

/// Writes message data for DATA: CRLF line ends (a bare LF becomes CRLF), a leading `.`
/// doubled, and the terminator `.\r\n` after the last line, in writes of about
/// `chunk_bytes`; the terminator is always part of the last write, never a write of its own.
fn write_data(w: &mut impl Write, raw: &[u8], chunk_bytes: usize) -> io::Result<()> {
    let mut buf = Vec::with_capacity(chunk_bytes.min(raw.len()) + 8);
    let mut lines = raw.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if lines.peek().is_none() && line.is_empty() {
            // The message ended with a line end: there is no further line.
            break;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            buf.push(b'.');
        }
        buf.extend_from_slice(line);
        buf.extend_from_slice(b"\r\n");
        if buf.len() >= chunk_bytes {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b".\r\n");
    w.write_all(&buf)?;
    w.flush()
}

/// The name this machine gives in EHLO: its host name if that is a plain DNS name, otherwise
/// `localhost`.
fn ehlo_name() -> String {
    let name = hostname::get()
        .ok()
        .and_then(|n| n.into_string().ok())
        .unwrap_or_default();
    let plain = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if plain { name } else { "localhost".into() }
}

/// Why a step failed, before it becomes a [`SendError`].
#[derive(Debug)]
pub(crate) enum Failure {
    /// The connection broke, was refused or timed out.
    Io { doing: String, error: io::Error },
    /// The server answered with a code other than the one the step needs.
    Reply { doing: String, reply: Reply },
    /// The TLS handshake failed (an untrusted certificate, for example).
    Tls(String),
    /// The server said something that is no SMTP reply.
    Protocol(String),
    /// We will not go on: the server lacks something the configuration requires, or the
    /// message cannot be sent as it is. Nothing was handed over.
    Refused(String),
}

impl Failure {
    fn io(doing: impl Into<String>) -> impl FnOnce(io::Error) -> Failure {
        let doing = doing.into();
        move |error| Failure::Io { doing, error }
    }

    fn kind(&self) -> FailureKind {
        match self {
            Failure::Reply { reply, .. } if reply.class() == 5 => FailureKind::Permanent,
            Failure::Refused(_) => FailureKind::Permanent,
            // An untrusted certificate is not the message's fault: once the relay's certificate
            // or our CA file is fixed, the retry delivers it.
            Failure::Io { .. } | Failure::Reply { .. } | Failure::Tls(_) | Failure::Protocol(_) => {
                FailureKind::Temporary
            }
        }
    }

    fn detail(&self) -> String {
        match self {
            Failure::Io { doing, error } if is_timeout(error) => format!("{doing}: timed out"),
            Failure::Io { doing, error } => format!("{doing}: {error}"),
            Failure::Reply { doing, reply } => format!("{doing}: the server answered {reply}"),
            Failure::Tls(detail) => format!("TLS handshake failed: {detail}"),
            Failure::Protocol(detail) | Failure::Refused(detail) => detail.clone(),
        }
    }

    /// Whether the connection can still carry the next transaction (after RSET).
    fn leaves_connection_usable(&self) -> bool {
        match self {
            // 421: the server is closing the connection.
            Failure::Reply { reply, .. } => reply.code != 421,
            Failure::Refused(_) => true,
            Failure::Io { .. } | Failure::Tls(_) | Failure::Protocol(_) => false,
        }
    }

    /// The failure as the caller sees it: names host and port, never the password.
    pub(crate) fn into_send_error(self, config: &SmtpConfig) -> SendError {
        let reason = format!("SMTP {}:{}: {}", config.host, config.port, self.detail());
        SendError {
            kind: self.kind(),
            reason: redact(reason, config),
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    // A read or write timeout on a blocking socket is EAGAIN (WouldBlock) on Unix.
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Removes the password (and its base64 forms sent with AUTH) from a text. Defence in depth:
/// a server may echo what it was sent.
fn redact(mut text: String, config: &SmtpConfig) -> String {
    let Some(password) = config.password.as_ref().map(|p| p.expose()) else {
        return text;
    };
    if password.is_empty() {
        return text;
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let user = config.username.as_deref().unwrap_or("");
    for secret in [
        password.to_string(),
        b64.encode(password),
        b64.encode(format!("\0{user}\0{password}")),
    ] {
        text = text.replace(&secret, "***");
    }
    text
}

/// The socket, plain or inside TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// An envelope as the client sends it: `from` may be empty (the null reverse path).
pub(crate) struct Envelope<'a> {
    pub from: &'a str,
    pub to: &'a [String],
}

/// One open, greeted (and, when configured, secured and authenticated) connection.
struct Connection {
    /// Reads replies; commands are written to the stream inside (`get_mut`), which leaves
    /// the read buffer alone.
    reader: BufReader<Stream>,
    caps: Capabilities,
}

impl Connection {
    fn write_command(&mut self, command: &str) -> io::Result<()> {
        let mut line = Vec::with_capacity(command.len() + 2);
        line.extend_from_slice(command.as_bytes());
        line.extend_from_slice(b"\r\n");
        let stream = self.reader.get_mut();
        stream.write_all(&line)?;
        stream.flush()
    }

    fn read_reply(&mut self, doing: &str) -> Result<Reply, Failure> {
        let mut lines = Vec::new();
        let mut code = None;
        let mut raw = Vec::new();
        loop {
            raw.clear();
            let n = (&mut self.reader)
                .take(REPLY_LINE_BYTES_MAX)
                .read_until(b'\n', &mut raw)
                .map_err(Failure::io(doing))?;
            if n == 0 {
                return Err(Failure::Io {
                    doing: doing.to_string(),
                    error: io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    ),
                });
            }
            if !raw.ends_with(b"\n") {
                return Err(Failure::Protocol(format!(
                    "{doing}: a reply line longer than {REPLY_LINE_BYTES_MAX} bytes"
                )));
            }
            let text = String::from_utf8_lossy(&raw);
            let Some((line_code, last, rest)) = parse_reply_line(&text) else {
                return Err(Failure::Protocol(format!(
                    "{doing}: not an SMTP reply: {:?}",
                    text.trim_end()
                )));
            };
            if *code.get_or_insert(line_code) != line_code {
                return Err(Failure::Protocol(format!(
                    "{doing}: a reply mixes codes {} and {line_code}",
                    code.unwrap_or(line_code)
                )));
            }
            if lines.len() >= REPLY_LINES_MAX {
                return Err(Failure::Protocol(format!(
                    "{doing}: a reply of more than {REPLY_LINES_MAX} lines"
                )));
            }
            lines.push(rest.trim().to_string());
            if last {
                return Ok(Reply {
                    code: line_code,
                    lines,
                });
            }
        }
    }

    /// Sends a command and reads its reply, which must be of `class` (2 or 3). `doing`
    /// names the step in errors; the command itself may hold a secret and is never shown.
    fn command(&mut self, command: &str, doing: &str, class: u16) -> Result<Reply, Failure> {
        self.write_command(command)
            .map_err(Failure::io(format!("sending {doing}")))?;
        let reply = self.read_reply(&format!("reply to {doing}"))?;
        expect(reply, doing, class)
    }

    fn ehlo(&mut self, name: &str) -> Result<(), Failure> {
        let reply = self.command(&format!("EHLO {name}"), "EHLO", 2)?;
        self.caps = Capabilities::parse(&reply);
        Ok(())
    }

    fn authenticate(&mut self, user: &str, password: &str) -> Result<(), Failure> {
        let b64 = base64::engine::general_purpose::STANDARD;
        if self.caps.auth.iter().any(|m| m == "PLAIN") {
            let token = b64.encode(format!("\0{user}\0{password}"));
            self.command(&format!("AUTH PLAIN {token}"), "AUTH PLAIN", 2)?;
        } else if self.caps.auth.iter().any(|m| m == "LOGIN") {
            self.command("AUTH LOGIN", "AUTH LOGIN", 3)?;
            self.command(&b64.encode(user), "AUTH LOGIN (user name)", 3)?;
            self.command(&b64.encode(password), "AUTH LOGIN (password)", 2)?;
        } else {
            let offered = if self.caps.auth.is_empty() {
                "none".to_string()
            } else {
                self.caps.auth.join(" ")
            };
            return Err(Failure::Refused(format!(
                "a user name is configured but the server offers neither AUTH PLAIN nor AUTH LOGIN (offered: {offered}); nothing was sent"
            )));
        }
        Ok(())
    }

    /// One mail transaction. The error says whether the server had accepted `MAIL FROM`.
    fn transaction(&mut self, envelope: &Envelope<'_>, raw: &[u8]) -> Result<Reply, TxFailure> {
        let before_mail = |failure| TxFailure {
            failure,
            mail_accepted: false,
        };
        let mut mail = format!("MAIL FROM:<{}>", envelope.from);
        if !raw.is_ascii() {
            if !self.caps.eight_bit_mime {
                return Err(before_mail(Failure::Refused(
                    "the message has 8-bit content and the server does not offer 8BITMIME; nothing was sent".into(),
                )));
            }
            mail.push_str(" BODY=8BITMIME");
        }
        let ascii_addresses = envelope.from.is_ascii() && envelope.to.iter().all(|a| a.is_ascii());
        if !ascii_addresses {
            if !self.caps.smtp_utf8 {
                return Err(before_mail(Failure::Refused(
                    "an address is not ASCII and the server does not offer SMTPUTF8; nothing was sent".into(),
                )));
            }
            mail.push_str(" SMTPUTF8");
        }
        if let Some(size_max) = self.caps.size_max {
            let size = u64::try_from(raw.len()).unwrap_or(u64::MAX);
            if size_max > 0 && size > size_max {
                return Err(before_mail(Failure::Refused(format!(
                    "the message has {size} bytes, more than the server's limit of {size_max}; nothing was sent"
                ))));
            }
            mail.push_str(&format!(" SIZE={size}"));
        }
        self.command(&mail, "MAIL FROM", 2).map_err(before_mail)?;

        let after_mail = |failure| TxFailure {
            failure,
            mail_accepted: true,
        };
        for to in envelope.to {
            self.command(&format!("RCPT TO:<{to}>"), &format!("RCPT TO <{to}>"), 2)
                .map_err(after_mail)?;
        }
        self.command("DATA", "DATA", 3).map_err(after_mail)?;
        write_data(self.reader.get_mut(), raw, DATA_CHUNK_BYTES)
            .map_err(Failure::io("sending the message"))
            .map_err(after_mail)?;
        let reply = self
            .read_reply("reply to the message")
            .map_err(after_mail)?;
        expect(reply, "the message", 2).map_err(after_mail)
    }

    /// Ends a failed transaction so the connection can carry the next one.
    fn reset(&mut self) -> Result<(), Failure> {
        self.command("RSET", "RSET", 2).map(|_| ())
    }
}

fn expect(reply: Reply, doing: &str, class: u16) -> Result<Reply, Failure> {
    if reply.class() == class {
        Ok(reply)
    } else {
        Err(Failure::Reply {
            doing: doing.to_string(),
            reply,
        })
    }
}

/// A failed transaction: the failure, and whether the server had accepted `MAIL FROM`
/// (before that nothing was handed over, so a dead reused connection may be replaced).
struct TxFailure {
    failure: Failure,
    mail_accepted: bool,
}

impl TxFailure {
    /// A reused connection the server had closed (or is closing): the broken pipe, the
    /// end of the stream or the 421 shows at the first command.
    fn is_stale_connection(&self) -> bool {
        !self.mail_accepted
            && match &self.failure {
                Failure::Io { .. } => true,
                Failure::Reply { reply, .. } => reply.code == 421,
                _ => false,
            }
    }
}

/// The SMTP client: the configuration, the TLS setup and the idle connections.
pub(crate) struct Client {
    config: SmtpConfig,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    ehlo_name: String,
    idle: Mutex<Vec<Connection>>,
}

impl Client {
    pub(crate) fn new(config: SmtpConfig) -> Result<Client, SendError> {
        let tls = match config.security {
            SmtpSecurity::None => None,
            SmtpSecurity::StartTls | SmtpSecurity::Tls => Some(tls_setup(&config)?),
        };
        Ok(Client {
            config,
            tls,
            ehlo_name: ehlo_name(),
            idle: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn config(&self) -> &SmtpConfig {
        &self.config
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        // A panic elsewhere while holding the lock leaves a valid list of connections.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends one message: on an idle connection if there is one, else on a new one.
    pub(crate) fn send(&self, envelope: &Envelope<'_>, raw: &[u8]) -> Result<Reply, Failure> {
        for address in std::iter::once(envelope.from).chain(envelope.to.iter().map(String::as_str))
        {
            if address
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>')
            {
                return Err(Failure::Refused(format!(
                    "envelope address {address:?} cannot be sent; nothing was sent"
                )));
            }
        }
        if envelope.to.is_empty() {
            return Err(Failure::Refused("the envelope has no recipient".into()));
        }
        let idle = self.idle().pop();
        let (mut connection, reused) = match idle {
            Some(c) => (c, true),
            None => (self.open()?, false),
        };
        let mut result = connection.transaction(envelope, raw);
        if reused && result.as_ref().is_err_and(TxFailure::is_stale_connection) {
            // Nothing was handed over on the dead connection: once more on a fresh one.
            connection = self.open()?;
            result = connection.transaction(envelope, raw);
        }
        match result {
            Ok(reply) => {
                self.give_back(connection);
                Ok(reply)
            }
            Err(TxFailure { failure, .. }) => {
                if failure.leaves_connection_usable() && connection.reset().is_ok() {
                    self.give_back(connection);
                }
                Err(failure)
            }
        }
    }

    fn give_back(&self, connection: Connection) {
        let mut idle = self.idle();
        if idle.len() < usize::try_from(self.config.max_connections.max(1)).unwrap_or(1) {
            idle.push(connection);
        }
    }

    /// Connects, reads the greeting, says EHLO, secures the connection and logs in as
    /// configured.
    fn open(&self) -> Result<Connection, Failure> {
        let timeout = self.config.timeout.max(Duration::from_millis(1));
        let tcp = connect(&self.config.host, self.config.port, timeout)?;
        let setup = |tcp: &TcpStream| -> io::Result<()> {
            // Without it every message waits for the server's delayed ACK (see the module doc).
            tcp.set_nodelay(true)?;
            tcp.set_read_timeout(Some(timeout))?;
            tcp.set_write_timeout(Some(timeout))
        };
        setup(&tcp).map_err(Failure::io("setting up the socket"))?;
        let stream = match self.config.security {
            SmtpSecurity::Tls => Stream::Tls(self.handshake(tcp)?),
            SmtpSecurity::None | SmtpSecurity::StartTls => Stream::Plain(tcp),
        };
        let mut connection = Connection {
            reader: BufReader::new(stream),
            caps: Capabilities::default(),
        };
        let greeting = connection.read_reply("reading the greeting")?;
        expect(greeting, "the greeting", 2)?;
        connection.ehlo(&self.ehlo_name)?;
        if self.config.security == SmtpSecurity::StartTls {
            if !connection.caps.starttls {
                return Err(Failure::Refused(
                    "the server does not offer STARTTLS, which the configuration requires (tls=starttls); nothing was sent".into(),
                ));
            }
            connection.command("STARTTLS", "STARTTLS", 2)?;
            if !connection.reader.buffer().is_empty() {
                // Anything sent before the handshake could be injected by a third party.
                return Err(Failure::Protocol(
                    "the server sent data after its STARTTLS reply".into(),
                ));
            }
            let Stream::Plain(tcp) = connection.reader.into_inner() else {
                return Err(Failure::Protocol("STARTTLS on a TLS connection".into()));
            };
            connection = Connection {
                reader: BufReader::new(Stream::Tls(self.handshake(tcp)?)),
                caps: Capabilities::default(),
            };
            // RFC 3207: forget what was learnt before TLS and ask again.
            connection.ehlo(&self.ehlo_name)?;
        }
        if let Some(user) = &self.config.username {
            let password = self.config.password.as_ref().map_or("", |p| p.expose());
            connection.authenticate(user, password)?;
        }
        Ok(connection)
    }

    fn handshake(
        &self,
        mut tcp: TcpStream,
    ) -> Result<Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>, Failure> {
        let Some((config, name)) = &self.tls else {
            return Err(Failure::Tls("TLS is not configured".into()));
        };
        let mut tls = rustls::ClientConnection::new(config.clone(), name.clone())
            .map_err(|e| Failure::Tls(e.to_string()))?;
        // Each round trip of the handshake is one call; a handshake has a handful.
        for _ in 0..32 {
            if !tls.is_handshaking() {
                return Ok(Box::new(rustls::StreamOwned::new(tls, tcp)));
            }
            tls.complete_io(&mut tcp).map_err(handshake_failure)?;
        }
        Err(Failure::Tls("the handshake did not finish".into()))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // Say goodbye on the idle connections; the replies are not awaited.
        for mut connection in self.idle().drain(..) {
            let _ = connection.write_command("QUIT");
        }
    }
}

fn handshake_failure(error: io::Error) -> Failure {
    if is_timeout(&error) {
        return Failure::Io {
            doing: "TLS handshake".into(),
            error,
        };
    }
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(_)) => Failure::Tls(format!(
            "the server's certificate is not trusted ({error}); for a relay with a private CA, give its certificate as the CA file (--smtp-ca)"
        )),
        _ => Failure::Tls(error.to_string()),
    }
}

fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, Failure> {
    let addresses = (host, port)
        .to_socket_addrs()
        .map_err(Failure::io("resolving the host"))?;
    let mut last = None;
    for address in addresses {
        match TcpStream::connect_timeout(&address, timeout) {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some(e),
        }
    }
    Err(Failure::Io {
        doing: "connecting".into(),
        error: last
            .unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the host has no address")),
    })
}

/// The TLS client configuration: webpki's roots plus the configured CA file, and the name
/// the certificate must carry (a DNS name or an IP address).
fn tls_setup(
    config: &SmtpConfig,
) -> Result<(Arc<rustls::ClientConfig>, ServerName<'static>), SendError> {
    let permanent = |reason: String| SendError {
        kind: FailureKind::Permanent,
        reason: redact(reason, config),
    };
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = &config.ca_file {
        let shown = path.display();
        let mut added = 0_usize;
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| permanent(format!("SMTP CA file {shown}: {e}")))?;
        for cert in certs {
            let cert = cert.map_err(|e| permanent(format!("SMTP CA file {shown}: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| permanent(format!("SMTP CA file {shown}: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(permanent(format!(
                "SMTP CA file {shown}: no PEM certificate in it"
            )));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| permanent(format!("TLS setup for {}: {e}", config.host)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(config.host.clone()).map_err(|e| {
        permanent(format!(
            "TLS setup for {}: not a host name or IP address: {e}",
            config.host
        ))
    })?;
    Ok((Arc::new(tls), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, lines: &[&str]) -> Reply {
        Reply {
            code,
            lines: lines.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn reply_lines_are_read_with_their_continuation_mark() {
        assert_eq!(
            parse_reply_line("250-mail.example\r\n"),
            Some((250, false, "mail.example"))
        );
        assert_eq!(
            parse_reply_line("250 2.0.0 Ok: queued as X\r\n"),
            Some((250, true, "2.0.0 Ok: queued as X"))
        );
        assert_eq!(parse_reply_line("354\r\n"), Some((354, true, "")));
        assert_eq!(parse_reply_line("25O ok\r\n"), None);
        assert_eq!(parse_reply_line("250_x\r\n"), None);
        assert_eq!(parse_reply_line("099 x\r\n"), None);
        assert_eq!(parse_reply_line("+OK pop3\r\n"), None);
        assert_eq!(parse_reply_line(""), None);
    }

    #[test]
    fn a_multi_line_reply_is_read_to_its_last_line() {
        let input = b"250-mail.example greets you\r\n250-STARTTLS\r\n250 SIZE 1000\r\n220 next\r\n";
        let mut c = Connection {
            reader: BufReader::new(Stream::Plain(loopback_with(input))),
            caps: Capabilities::default(),
        };
        let r = c.read_reply("test").unwrap();
        assert_eq!(
            r,
            reply(250, &["mail.example greets you", "STARTTLS", "SIZE 1000"])
        );
        assert_eq!(c.read_reply("test").unwrap(), reply(220, &["next"]));
        // The server closed the connection: an IO error, so a reused connection is replaced.
        assert!(matches!(c.read_reply("test"), Err(Failure::Io { .. })));
    }

    #[test]
    fn a_reply_mixing_codes_or_no_reply_at_all_is_a_protocol_error() {
        for input in [
            &b"250-a\r\n251 b\r\n"[..],
            b"hello there\r\n",
            b"250-a\r\nnot a line\r\n",
        ] {
            let mut c = Connection {
                reader: BufReader::new(Stream::Plain(loopback_with(input))),
                caps: Capabilities::default(),
            };
            let e = c.read_reply("test").unwrap_err();
            assert!(matches!(e, Failure::Protocol(_)), "{e:?}");
        }
    }

    /// A connected socket whose peer sends `bytes` and closes.
    fn loopback_with(bytes: &[u8]) -> TcpStream {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        server.write_all(bytes).unwrap();
        drop(server);
        client
    }

    #[test]
    fn capabilities_come_from_the_ehlo_reply() {
        let caps = Capabilities::parse(&reply(
            250,
            &[
                "mail.example",
                "PIPELINING",
                "SIZE 10240000",
                "starttls",
                "AUTH PLAIN LOGIN",
                "AUTH=LOGIN",
                "8BITMIME",
                "SMTPUTF8",
            ],
        ));
        assert_eq!(
            caps,
            Capabilities {
                starttls: true,
                auth: vec!["PLAIN".into(), "LOGIN".into()],
                eight_bit_mime: true,
                smtp_utf8: true,
                size_max: Some(10_240_000),
            }
        );
        // The greeting line is no capability, and SIZE without a number means no limit.
        let caps = Capabilities::parse(&reply(250, &["STARTTLS", "SIZE"]));
        assert!(!caps.starttls);
        assert_eq!(caps.size_max, Some(0));
    }

    /// Records each write, to see how the data was split.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);

    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn data(raw: &[u8], chunk: usize) -> Writes {
        let mut w = Writes::default();
        write_data(&mut w, raw, chunk).unwrap();
        w
    }

    #[test]
    fn data_is_dot_stuffed_with_crlf_line_ends() {
        let w = data(b"Subject: x\r\n\r\n.hidden\r\n.\r\nbare lf\nend", 1 << 20);
        assert_eq!(
            w.0.concat(),
            b"Subject: x\r\n\r\n..hidden\r\n..\r\nbare lf\r\nend\r\n.\r\n"
        );
        assert_eq!(data(b"a\r\n", 1 << 20).0.concat(), b"a\r\n.\r\n");
        assert_eq!(data(b"", 1 << 20).0.concat(), b".\r\n");
    }

    #[test]
    fn the_terminator_goes_out_with_the_end_of_the_message() {
        // One write for a small message: Nagle cannot hold back a lone terminator.
        let w = data(b"line one\r\nline two\r\n", 1 << 20);
        assert_eq!(w.0, vec![b"line one\r\nline two\r\n.\r\n".to_vec()]);
        // A large message goes in chunks; the last one still carries the end of the body.
        let big: Vec<u8> = b"0123456789abcdef\r\n".repeat(1000);
        let w = data(&big, 1024);
        assert!(w.0.len() > 10);
        let last = w.0.last().unwrap();
        assert!(last.len() > 3, "the terminator was written alone");
        assert!(last.ends_with(b"0123456789abcdef\r\n.\r\n"));
        assert_eq!(w.0.concat(), [big.as_slice(), b".\r\n"].concat());
    }

    #[test]
    fn the_ehlo_name_is_a_plain_dns_name() {
        let name = ehlo_name();
        assert!(!name.is_empty());
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
            "{name}"
        );
    }

    #[test]
    fn failures_are_classified_and_never_show_the_password() {
        let config = SmtpConfig::from_url(
            "smtp://user@mail.example:587",
            Some(crate::email::Secret::new("hunter2")),
        )
        .unwrap();
        let e = Failure::Reply {
            doing: "RCPT TO <a@b.example>".into(),
            reply: reply(550, &["5.1.1 no such user hunter2"]),
        }
        .into_send_error(&config);
        assert_eq!(e.kind, FailureKind::Permanent);
        assert_eq!(
            e.reason,
            "SMTP mail.example:587: RCPT TO <a@b.example>: the server answered 550 5.1.1 no such user ***"
        );
        let e = Failure::Reply {
            doing: "MAIL FROM".into(),
            reply: reply(451, &["4.3.0 later"]),
        }
        .into_send_error(&config);
        assert_eq!(e.kind, FailureKind::Temporary);
        let e = Failure::Io {
            doing: "reply to DATA".into(),
            error: io::Error::from(io::ErrorKind::WouldBlock),
        }
        .into_send_error(&config);
        assert_eq!(e.kind, FailureKind::Temporary);
        assert_eq!(e.reason, "SMTP mail.example:587: reply to DATA: timed out");
        let token = base64::engine::general_purpose::STANDARD.encode("\0user\0hunter2");
        let e = Failure::Protocol(format!("not an SMTP reply: {token}")).into_send_error(&config);
        assert!(!e.reason.contains(&token), "{}", e.reason);
        assert_eq!(Failure::Refused("x".into()).kind(), FailureKind::Permanent);
    }
}
