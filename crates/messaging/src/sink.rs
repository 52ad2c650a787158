//! A small real SMTP server (in-process, one thread per connection) for tests and the
//! benchmark: it speaks enough ESMTP for lettre (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA with
//! dot-unstuffing, RSET, NOOP, QUIT) and keeps what arrived so tests can read it back. Modes
//! make it reject recipients (550), defer them (451) or never answer (timeouts).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;

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
}

struct Shared {
    mode: Mutex<SinkMode>,
    keep: bool,
    received: Mutex<Vec<Received>>,
    count: AtomicU64,
    bytes: AtomicU64,
}

/// A running sink on 127.0.0.1 (random port). It lives until the process ends.
#[derive(Clone)]
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl SmtpSink {
    /// Starts a sink that keeps every message.
    pub fn start(mode: SinkMode) -> std::io::Result<SmtpSink> {
        Self::start_with(mode, true)
    }

    /// Starts a sink; with `keep == false` it only counts messages and bytes (bounded memory
    /// for benchmarks).
    pub fn start_with(mode: SinkMode, keep: bool) -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            mode: Mutex::new(mode),
            keep,
            received: Mutex::new(Vec::new()),
            count: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &s);
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

    /// Waits until at least `n` messages arrived or `timeout` passed; returns the count.
    pub fn wait_for(&self, n: u64, timeout: Duration) -> u64 {
        let start = Instant::now();
        while self.count() < n && start.elapsed() < timeout {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.count()
    }
}

fn serve(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mode = *shared.mode.lock().expect("sink lock");
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut w = stream;
    if mode == SinkMode::Silent {
        // Hold the connection open and say nothing until the client gives up.
        let mut sink = Vec::new();
        let _ = reader.read_until(b'\n', &mut sink);
        std::thread::sleep(Duration::from_secs(5));
        return Ok(());
    }
    w.write_all(b"220 incasso-sink ESMTP ready\r\n")?;
    let mut mail_from = String::new();
    let mut rcpt: Vec<String> = Vec::new();
    let mut auth: (Option<String>, Option<String>) = (None, None);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let upper = text.to_ascii_uppercase();
        let mode = *shared.mode.lock().expect("sink lock");
        if upper.starts_with("EHLO") {
            w.write_all(
                b"250-incasso-sink\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800\r\n",
            )?;
        } else if upper.starts_with("HELO") {
            w.write_all(b"250 incasso-sink\r\n")?;
        } else if upper.starts_with("AUTH PLAIN") {
            let arg = text.get(10..).unwrap_or("").trim().to_string();
            let arg = if arg.is_empty() {
                w.write_all(b"334 \r\n")?;
                read_line(&mut reader)?
            } else {
                arg
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(arg.trim())
                .unwrap_or_default();
            let parts: Vec<String> = decoded
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).to_string())
                .collect();
            auth = (parts.get(1).cloned(), parts.get(2).cloned());
            w.write_all(b"235 2.7.0 Authentication successful\r\n")?;
        } else if upper.starts_with("AUTH LOGIN") {
            let b64 = base64::engine::general_purpose::STANDARD;
            w.write_all(b"334 VXNlcm5hbWU6\r\n")?;
            let u = b64
                .decode(read_line(&mut reader)?.trim())
                .unwrap_or_default();
            w.write_all(b"334 UGFzc3dvcmQ6\r\n")?;
            let p = b64
                .decode(read_line(&mut reader)?.trim())
                .unwrap_or_default();
            auth = (
                Some(String::from_utf8_lossy(&u).to_string()),
                Some(String::from_utf8_lossy(&p).to_string()),
            );
            w.write_all(b"235 2.7.0 Authentication successful\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            mail_from = angle(&text[10..]);
            rcpt.clear();
            w.write_all(b"250 2.1.0 Ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            match mode {
                SinkMode::RejectRecipients => {
                    w.write_all(b"550 5.1.1 Recipient address rejected: mailbox unavailable\r\n")?
                }
                SinkMode::DeferRecipients => {
                    w.write_all(b"451 4.3.0 Temporary failure, try again later\r\n")?
                }
                _ => {
                    rcpt.push(angle(&text[8..]));
                    w.write_all(b"250 2.1.5 Ok\r\n")?;
                }
            }
        } else if upper == "DATA" {
            if rcpt.is_empty() {
                w.write_all(b"554 5.5.1 No valid recipients\r\n")?;
                continue;
            }
            w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut data = Vec::new();
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line)? == 0 {
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
            if shared.keep {
                shared.received.lock().expect("sink lock").push(Received {
                    mail_from: mail_from.clone(),
                    rcpt_to: rcpt.clone(),
                    data,
                    auth_user: auth.0.clone(),
                    auth_password: auth.1.clone(),
                });
            }
            rcpt.clear();
            w.write_all(format!("250 2.0.0 Ok: queued as SINK{n}\r\n").as_bytes())?;
        } else if upper == "RSET" {
            rcpt.clear();
            w.write_all(b"250 2.0.0 Ok\r\n")?;
        } else if upper == "NOOP" {
            w.write_all(b"250 2.0.0 Ok\r\n")?;
        } else if upper == "QUIT" {
            w.write_all(b"221 2.0.0 Bye\r\n")?;
            return Ok(());
        } else {
            w.write_all(b"502 5.5.2 Command not recognized\r\n")?;
        }
    }
}

fn read_line(r: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut s = String::new();
    r.read_line(&mut s)?;
    Ok(s.trim_end().to_string())
}

fn angle(s: &str) -> String {
    let s = s.trim();
    let s = s.split_whitespace().next().unwrap_or("");
    s.trim_start_matches('<').trim_end_matches('>').to_string()
}
