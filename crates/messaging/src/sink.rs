//! A small real SMTP server (in-process, one thread per connection) for tests and the
//! benchmark: it speaks enough ESMTP for our client (EHLO, STARTTLS, AUTH PLAIN/LOGIN, MAIL,
//! RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT), plain, with STARTTLS or with implicit
//! TLS (a self-signed test certificate for `127.0.0.1` and `localhost`), and keeps what
//! arrived so tests can read it back. Modes make it reject recipients (550), defer them (451),
//! never answer (timeouts) or vanish after taking a message; tests can also close its open
//! connections.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The sink's self-signed certificate (PEM; SANs `127.0.0.1` and `localhost`). A client
/// trusts the sink by taking this file as its CA file. See `tests/data/README.md`.
const TEST_CERT_PEM: &[u8] = include_bytes!("../tests/data/smtp-test-cert.pem");
/// The certificate's private key: a test key, published with the code, protecting nothing.
const TEST_KEY_PEM: &[u8] = include_bytes!("../tests/data/smtp-test-key.pem");

/// The path of the sink's certificate, to give a client as its CA file.
pub fn test_ca_file() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/smtp-test-cert.pem"
    ))
}

/// How the sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkMode {
    Accept,
    /// `550 5.1.1` at RCPT TO.
    RejectRecipients,
    /// `451 4.3.0` at RCPT TO.
    DeferRecipients,
    /// Accepts the connection and never says anything.
    Silent,
    /// Takes the message (it counts as received) and closes the connection without a reply,
    /// as a server that crashes at the worst moment.
    VanishAfterData,
}

/// How the sink's connections are secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkSecurity {
    /// Plain text only; STARTTLS is not offered.
    None,
    /// STARTTLS offered; AUTH is offered and MAIL accepted only after it, as real servers do.
    StartTls,
    /// TLS from the first byte.
    Tls,
}

/// Everything the sink can be told at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkOptions {
    pub mode: SinkMode,
    /// `false`: only count messages and bytes (bounded memory for benchmarks).
    pub keep: bool,
    pub security: SinkSecurity,
    /// The AUTH mechanisms offered, for example `PLAIN LOGIN`; empty offers no AUTH.
    pub auth: String,
}

impl SinkOptions {
    /// Plain, keeping every message, offering AUTH PLAIN and LOGIN.
    pub fn new(mode: SinkMode) -> SinkOptions {
        SinkOptions {
            mode,
            keep: true,
            security: SinkSecurity::None,
            auth: "PLAIN LOGIN".into(),
        }
    }
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message bytes after dot-unstuffing, without the final `.` line.
    pub data: Vec<u8>,
    /// The user name given with AUTH, if any.
    pub auth_user: Option<String>,
    pub auth_password: Option<String>,
    /// The AUTH mechanism used (`PLAIN` or `LOGIN`), if any.
    pub auth_mechanism: Option<String>,
    /// Whether the message came over TLS (implicit or after STARTTLS).
    pub tls: bool,
}

struct Shared {
    mode: Mutex<SinkMode>,
    options: SinkOptions,
    tls: Option<Arc<rustls::ServerConfig>>,
    received: Mutex<Vec<Received>>,
    count: AtomicU64,
    bytes: AtomicU64,
    connections: AtomicU64,
    /// A handle on each open connection, to close it from a test.
    open: Mutex<BTreeMap<u64, TcpStream>>,
}

/// A running sink on 127.0.0.1 (random port). It lives until the process ends.
#[derive(Clone)]
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl SmtpSink {
    /// Starts a plain sink that keeps every message.
    pub fn start(mode: SinkMode) -> io::Result<SmtpSink> {
        Self::start_with_options(SinkOptions::new(mode))
    }

    /// Starts a plain sink; with `keep == false` it only counts messages and bytes (bounded
    /// memory for benchmarks).
    pub fn start_with(mode: SinkMode, keep: bool) -> io::Result<SmtpSink> {
        Self::start_with_options(SinkOptions {
            keep,
            ..SinkOptions::new(mode)
        })
    }

    pub fn start_with_options(options: SinkOptions) -> io::Result<SmtpSink> {
        let tls = match options.security {
            SinkSecurity::None => None,
            SinkSecurity::StartTls | SinkSecurity::Tls => Some(server_config()?),
        };
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            mode: Mutex::new(options.mode),
            options,
            tls,
            received: Mutex::new(Vec::new()),
            count: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            open: Mutex::new(BTreeMap::new()),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                let id = s.connections.fetch_add(1, Ordering::SeqCst);
                if let Ok(handle) = stream.try_clone() {
                    s.open.lock().expect("sink lock").insert(id, handle);
                }
                std::thread::spawn(move || {
                    let _ = serve(stream, &s);
                    s.open.lock().expect("sink lock").remove(&id);
                });
            }
        });
        Ok(SmtpSink { addr, shared })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Changes how the sink answers new commands.
    pub fn set_mode(&self, mode: SinkMode) {
        *self.shared.mode.lock().expect("sink lock") = mode;
    }

    /// Messages received so far (empty when not keeping).
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("sink lock").clone()
    }

    /// How many messages were accepted.
    pub fn count(&self) -> u64 {
        self.shared.count.load(Ordering::SeqCst)
    }

    /// Total message bytes accepted.
    pub fn bytes(&self) -> u64 {
        self.shared.bytes.load(Ordering::SeqCst)
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Closes every open connection, as a server does with idle ones. With `farewell`, plain
    /// connections first get `421 4.4.2` (as Postfix says on its idle timeout); TLS ones are
    /// only closed.
    pub fn close_connections(&self, farewell: bool) {
        let open = std::mem::take(&mut *self.shared.open.lock().expect("sink lock"));
        for (_, mut stream) in open {
            if farewell && self.shared.options.security == SinkSecurity::None {
                let _ = stream.write_all(b"421 4.4.2 incasso-sink closing idle connection\r\n");
            }
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Waits until at least `n` messages arrived or `timeout` passed; returns the count.
    pub fn wait_for(&self, n: u64, timeout: Duration) -> u64 {
        let start = Instant::now();
        while self.count() < n && start.elapsed() < timeout {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.count()
    }
}

fn server_config() -> io::Result<Arc<rustls::ServerConfig>> {
    let invalid = |e: rustls::pki_types::pem::Error| io::Error::new(io::ErrorKind::InvalidData, e);
    let cert = CertificateDer::from_pem_slice(TEST_CERT_PEM).map_err(invalid)?;
    let key = PrivateKeyDer::from_pem_slice(TEST_KEY_PEM).map_err(invalid)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(vec![cert], key))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(Arc::new(config))
}

/// The sink's side of a connection, plain or inside TLS.
enum SinkStream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Read for SinkStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            SinkStream::Plain(s) => s.read(buf),
            SinkStream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for SinkStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            SinkStream::Plain(s) => s.write(buf),
            SinkStream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            SinkStream::Plain(s) => s.flush(),
            SinkStream::Tls(s) => s.flush(),
        }
    }
}

fn tls_stream(shared: &Shared, tcp: TcpStream) -> io::Result<SinkStream> {
    let config = shared
        .tls
        .clone()
        .ok_or_else(|| io::Error::other("TLS is not configured"))?;
    let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    Ok(SinkStream::Tls(Box::new(rustls::StreamOwned::new(
        conn, tcp,
    ))))
}

/// Writes one reply and flushes it (a TLS stream sends on flush).
fn reply(r: &mut BufReader<SinkStream>, text: &[u8]) -> io::Result<()> {
    let w = r.get_mut();
    w.write_all(text)?;
    w.flush()
}

fn serve(tcp: TcpStream, shared: &Shared) -> io::Result<()> {
    let mode = *shared.mode.lock().expect("sink lock");
    if mode == SinkMode::Silent {
        // Hold the connection open and say nothing until the client gives up.
        let mut reader = BufReader::new(tcp);
        let mut sink = Vec::new();
        let _ = reader.read_until(b'\n', &mut sink);
        std::thread::sleep(Duration::from_secs(5));
        return Ok(());
    }
    let security = shared.options.security;
    let mut tls_active = security == SinkSecurity::Tls;
    let stream = if tls_active {
        tls_stream(shared, tcp)?
    } else {
        SinkStream::Plain(tcp)
    };
    let mut r = BufReader::new(stream);
    reply(&mut r, b"220 incasso-sink ESMTP ready\r\n")?;
    let mut mail_from = String::new();
    let mut rcpt: Vec<String> = Vec::new();
    let mut auth: (Option<String>, Option<String>, Option<String>) = (None, None, None);
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let upper = text.to_ascii_uppercase();
        let mode = *shared.mode.lock().expect("sink lock");
        // With STARTTLS, as on a real submission server, AUTH and mail only after TLS.
        let before_tls = security == SinkSecurity::StartTls && !tls_active;
        let auth_offered: Vec<String> = if before_tls {
            Vec::new()
        } else {
            shared
                .options
                .auth
                .split_whitespace()
                .map(str::to_ascii_uppercase)
                .collect()
        };
        if upper.starts_with("EHLO") {
            let mut caps = String::from("250-incasso-sink\r\n");
            if before_tls {
                caps.push_str("250-STARTTLS\r\n");
            }
            if !auth_offered.is_empty() {
                caps.push_str(&format!("250-AUTH {}\r\n", auth_offered.join(" ")));
            }
            caps.push_str("250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800\r\n");
            reply(&mut r, caps.as_bytes())?;
        } else if upper.starts_with("HELO") {
            reply(&mut r, b"250 incasso-sink\r\n")?;
        } else if upper == "STARTTLS" {
            if !before_tls {
                reply(&mut r, b"502 5.5.1 STARTTLS not available\r\n")?;
                continue;
            }
            reply(&mut r, b"220 2.0.0 Ready to start TLS\r\n")?;
            let SinkStream::Plain(tcp) = r.into_inner() else {
                return Ok(());
            };
            r = BufReader::new(tls_stream(shared, tcp)?);
            tls_active = true;
            // RFC 3207: the session starts over.
            mail_from.clear();
            rcpt.clear();
            auth = (None, None, None);
        } else if upper.starts_with("AUTH ") {
            let mechanism = upper.split_whitespace().nth(1).unwrap_or("").to_string();
            if !auth_offered.contains(&mechanism) {
                reply(&mut r, b"504 5.5.4 Unrecognized authentication type\r\n")?;
                continue;
            }
            let b64 = base64::engine::general_purpose::STANDARD;
            if mechanism == "PLAIN" {
                let arg = text.split_whitespace().nth(2).unwrap_or("").to_string();
                let arg = if arg.is_empty() {
                    reply(&mut r, b"334 \r\n")?;
                    read_line(&mut r)?
                } else {
                    arg
                };
                let decoded = b64.decode(arg.trim()).unwrap_or_default();
                let parts: Vec<String> = decoded
                    .split(|b| *b == 0)
                    .map(|p| String::from_utf8_lossy(p).to_string())
                    .collect();
                auth = (
                    parts.get(1).cloned(),
                    parts.get(2).cloned(),
                    Some(mechanism),
                );
            } else {
                reply(&mut r, b"334 VXNlcm5hbWU6\r\n")?;
                let u = b64.decode(read_line(&mut r)?.trim()).unwrap_or_default();
                reply(&mut r, b"334 UGFzc3dvcmQ6\r\n")?;
                let p = b64.decode(read_line(&mut r)?.trim()).unwrap_or_default();
                auth = (
                    Some(String::from_utf8_lossy(&u).to_string()),
                    Some(String::from_utf8_lossy(&p).to_string()),
                    Some(mechanism),
                );
            }
            reply(&mut r, b"235 2.7.0 Authentication successful\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            if before_tls {
                reply(&mut r, b"530 5.7.0 Must issue a STARTTLS command first\r\n")?;
                continue;
            }
            mail_from = angle(&text[10..]);
            rcpt.clear();
            reply(&mut r, b"250 2.1.0 Ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            match mode {
                SinkMode::RejectRecipients => reply(
                    &mut r,
                    b"550 5.1.1 Recipient address rejected: mailbox unavailable\r\n",
                )?,
                SinkMode::DeferRecipients => {
                    reply(&mut r, b"451 4.3.0 Temporary failure, try again later\r\n")?
                }
                _ => {
                    rcpt.push(angle(&text[8..]));
                    reply(&mut r, b"250 2.1.5 Ok\r\n")?;
                }
            }
        } else if upper == "DATA" {
            if rcpt.is_empty() {
                reply(&mut r, b"554 5.5.1 No valid recipients\r\n")?;
                continue;
            }
            reply(&mut r, b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut data = Vec::new();
            loop {
                line.clear();
                if r.read_until(b'\n', &mut line)? == 0 {
                    return Ok(());
                }
                if line == b".\r\n" || line == b".\n" {
                    break;
                }
                if line.starts_with(b"..") {
                    data.extend_from_slice(&line[1..]);
                } else {
                    data.extend_from_slice(&line);
                }
            }
            let n = shared.count.fetch_add(1, Ordering::SeqCst) + 1;
            shared.bytes.fetch_add(data.len() as u64, Ordering::SeqCst);
            if shared.options.keep {
                shared.received.lock().expect("sink lock").push(Received {
                    mail_from: mail_from.clone(),
                    rcpt_to: rcpt.clone(),
                    data,
                    auth_user: auth.0.clone(),
                    auth_password: auth.1.clone(),
                    auth_mechanism: auth.2.clone(),
                    tls: tls_active,
                });
            }
            rcpt.clear();
            if mode == SinkMode::VanishAfterData {
                return Ok(());
            }
            reply(
                &mut r,
                format!("250 2.0.0 Ok: queued as SINK{n}\r\n").as_bytes(),
            )?;
        } else if upper == "RSET" {
            rcpt.clear();
            reply(&mut r, b"250 2.0.0 Ok\r\n")?;
        } else if upper == "NOOP" {
            reply(&mut r, b"250 2.0.0 Ok\r\n")?;
        } else if upper == "QUIT" {
            reply(&mut r, b"221 2.0.0 Bye\r\n")?;
            return Ok(());
        } else {
            reply(&mut r, b"502 5.5.2 Command not recognized\r\n")?;
        }
    }
}

fn read_line(r: &mut BufReader<SinkStream>) -> io::Result<String> {
    let mut s = String::new();
    r.read_line(&mut s)?;
    Ok(s.trim_end().to_string())
}

fn angle(s: &str) -> String {
    let s = s.trim();
    let s = s.split_whitespace().next().unwrap_or("");
    s.trim_start_matches('<').trim_end_matches('>').to_string()
}
