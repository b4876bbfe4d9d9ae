//! A small SMTP submission server on loopback, enough to verify a login the way mail clients do.
//!
//! What it speaks (RFC 5321, RFC 4954 for AUTH, RFC 4616 for PLAIN, RFC 3463 enhanced codes):
//! - `220` greeting; `EHLO` lists `PIPELINING`, `8BITMIME`, `ENHANCEDSTATUSCODES` and
//!   `AUTH PLAIN LOGIN`; `HELO`, `NOOP`, `RSET`, `QUIT` (`221`).
//! - `AUTH PLAIN` (initial response or after `334`) and `AUTH LOGIN` (`334 VXNlcm5hbWU6`,
//!   `334 UGFzc3dvcmQ6`): `235 2.7.0 Authentication successful`, or
//!   `535 5.7.8 Authentication credentials invalid` (RFC 4954 section 6); `*` cancels (`501`).
//! - `MAIL`/`RCPT`/`DATA` after a login (counted in [`SmtpCounters::messages`]); before it
//!   `530 5.7.0 Authentication required`.
//! - No TLS: `STARTTLS` answers `454 4.7.0 TLS not available`, so clients connect with
//!   security `none` (which the app allows only on loopback).
//!
//! Lines are capped at 4 KiB and a connection idle for 60 s is closed with `421`.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::Served;
use crate::seed::SeedRng;

const DOMAIN: &str = "sandbox.switchboard.test";
const MAX_LINE: u64 = 4096;
const IDLE: Duration = Duration::from_secs(60);

/// What reached the SMTP fake so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmtpCounters {
    pub connections: usize,
    pub ehlo: usize,
    pub auth_successes: usize,
    pub auth_failures: usize,
    pub noops: usize,
    pub quits: usize,
    pub messages: usize,
}

struct Inner {
    user: String,
    password: String,
    addr: OnceLock<SocketAddr>,
    counters: Mutex<SmtpCounters>,
}

/// The SMTP fake's test hooks. Cheap to clone; thread-safe.
#[derive(Clone)]
pub struct SmtpControl {
    inner: Arc<Inner>,
}

impl SmtpControl {
    pub(crate) fn new(seed: u64) -> SmtpControl {
        let mut rng = SeedRng::derive(seed, "smtp.login");
        SmtpControl {
            inner: Arc::new(Inner {
                user: "mailer@sandbox-coffee.example".into(),
                password: rng.base62(24),
                addr: OnceLock::new(),
                counters: Mutex::new(SmtpCounters::default()),
            }),
        }
    }

    fn counters_mut(&self) -> MutexGuard<'_, SmtpCounters> {
        self.inner
            .counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// `127.0.0.1`
    pub fn host(&self) -> String {
        Ipv4Addr::LOCALHOST.to_string()
    }

    pub fn port(&self) -> u16 {
        self.inner.addr.get().map_or(0, SocketAddr::port)
    }

    /// The only user the server accepts.
    pub fn user(&self) -> &str {
        &self.inner.user
    }

    pub fn password(&self) -> &str {
        &self.inner.password
    }

    pub fn counters(&self) -> SmtpCounters {
        self.counters_mut().clone()
    }

    pub(crate) fn ready_entry(&self, rate_limits: Value) -> Value {
        json!({
            "host": self.host(),
            "port": self.port(),
            "security": "none",
            "user": self.user(),
            "password": self.password(),
            "rate_limits": rate_limits,
        })
    }

    pub(crate) async fn serve(&self) -> std::io::Result<Served> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let _ = self.inner.addr.set(addr);
        let (stop, mut stopped) = oneshot::channel::<()>();
        let ctl = self.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            let ctl = ctl.clone();
                            tokio::spawn(async move {
                                if let Err(e) = ctl.session(stream).await {
                                    tracing::debug!(error = %e, "smtp sandbox session ended");
                                }
                            });
                        }
                        Err(e) => tracing::warn!(error = %e, "smtp sandbox accept failed"),
                    },
                }
            }
        });
        Ok(Served::new(addr, stop, task))
    }

    fn check_login(&self, user: &str, password: &str) -> bool {
        user == self.inner.user && password == self.inner.password
    }

    async fn session(&self, stream: TcpStream) -> std::io::Result<()> {
        self.counters_mut().connections += 1;
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        write
            .write_all(format!("220 {DOMAIN} ESMTP Switchboard sandbox\r\n").as_bytes())
            .await?;
        let mut greeted = false;
        let mut authenticated = false;
        let mut sender = false;
        let mut recipients = 0usize;
        loop {
            let Some(line) = read_line(&mut reader).await? else {
                write.write_all(b"421 4.4.2 Idle timeout\r\n").await?;
                return Ok(());
            };
            let (verb, rest) = match line.split_once(' ') {
                Some((v, r)) => (v.to_ascii_uppercase(), r.trim().to_string()),
                None => (line.to_ascii_uppercase(), String::new()),
            };
            let reply: String = match verb.as_str() {
                "" if line.is_empty() => continue,
                "EHLO" => {
                    greeted = true;
                    self.counters_mut().ehlo += 1;
                    format!(
                        "250-{DOMAIN} greets {rest}\r\n250-PIPELINING\r\n250-8BITMIME\r\n\
                         250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n"
                    )
                }
                "HELO" => {
                    greeted = true;
                    format!("250 {DOMAIN}\r\n")
                }
                "NOOP" => {
                    self.counters_mut().noops += 1;
                    "250 2.0.0 OK\r\n".into()
                }
                "RSET" => {
                    sender = false;
                    recipients = 0;
                    "250 2.0.0 OK\r\n".into()
                }
                "QUIT" => {
                    self.counters_mut().quits += 1;
                    write.write_all(b"221 2.0.0 Bye\r\n").await?;
                    return Ok(());
                }
                "STARTTLS" => "454 4.7.0 TLS not available\r\n".into(),
                "AUTH" if !greeted => "503 5.5.1 Send EHLO first\r\n".into(),
                "AUTH" if authenticated => "503 5.5.1 Already authenticated\r\n".into(),
                "AUTH" if !matches!(first_word(&rest).as_str(), "PLAIN" | "LOGIN") => {
                    "504 5.5.4 Unrecognized authentication type\r\n".into()
                }
                "AUTH" => match self.auth(&rest, &mut reader, &mut write).await? {
                    Some(true) => {
                        authenticated = true;
                        self.counters_mut().auth_successes += 1;
                        "235 2.7.0 Authentication successful\r\n".into()
                    }
                    Some(false) => {
                        self.counters_mut().auth_failures += 1;
                        "535 5.7.8 Authentication credentials invalid\r\n".into()
                    }
                    None => "501 5.7.0 Authentication cancelled\r\n".into(),
                },
                "MAIL" | "RCPT" | "DATA" if !authenticated => {
                    "530 5.7.0 Authentication required\r\n".into()
                }
                "MAIL" => {
                    sender = true;
                    recipients = 0;
                    "250 2.1.0 OK\r\n".into()
                }
                "RCPT" if !sender => "503 5.5.1 MAIL first\r\n".into(),
                "RCPT" => {
                    recipients += 1;
                    "250 2.1.5 OK\r\n".into()
                }
                "DATA" if recipients == 0 => "503 5.5.1 RCPT first\r\n".into(),
                "DATA" => {
                    write
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    loop {
                        match read_line(&mut reader).await? {
                            Some(l) if l == "." => break,
                            Some(_) => {}
                            None => return Ok(()),
                        }
                    }
                    sender = false;
                    recipients = 0;
                    self.counters_mut().messages += 1;
                    "250 2.0.0 OK queued\r\n".into()
                }
                _ => "500 5.5.2 Command not recognized\r\n".into(),
            };
            write.write_all(reply.as_bytes()).await?;
        }
    }

    /// One AUTH exchange: `Some(ok)`, or `None` when the client cancelled or sent garbage.
    async fn auth(
        &self,
        args: &str,
        reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
        write: &mut tokio::net::tcp::OwnedWriteHalf,
    ) -> std::io::Result<Option<bool>> {
        let (mechanism, initial) = match args.split_once(' ') {
            Some((m, i)) => (m.to_ascii_uppercase(), Some(i.trim().to_string())),
            None => (args.to_ascii_uppercase(), None),
        };
        let decode = |s: &str| {
            STANDARD
                .decode(s.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
        };
        match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(i) => i,
                    None => {
                        write.write_all(b"334 \r\n").await?;
                        match read_line(reader).await? {
                            Some(l) => l,
                            None => return Ok(None),
                        }
                    }
                };
                if response == "*" {
                    return Ok(None);
                }
                let Some(text) = decode(&response) else {
                    return Ok(None);
                };
                let mut parts = text.split('\0');
                let (_authzid, user, password) = (parts.next(), parts.next(), parts.next());
                Ok(Some(match (user, password) {
                    (Some(u), Some(p)) => self.check_login(u, p),
                    _ => false,
                }))
            }
            "LOGIN" => {
                let user = match initial {
                    Some(i) => i,
                    None => {
                        write.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                        match read_line(reader).await? {
                            Some(l) => l,
                            None => return Ok(None),
                        }
                    }
                };
                if user == "*" {
                    return Ok(None);
                }
                write.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                let Some(password) = read_line(reader).await? else {
                    return Ok(None);
                };
                if password == "*" {
                    return Ok(None);
                }
                match (decode(&user), decode(&password)) {
                    (Some(u), Some(p)) => Ok(Some(self.check_login(&u, &p))),
                    _ => Ok(None),
                }
            }
            // The session answers other mechanisms before calling.
            _ => Ok(None),
        }
    }
}

fn first_word(text: &str) -> String {
    text.split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

/// The next line without its line end; `None` at the end of the stream or after [`IDLE`].
async fn read_line(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let mut limited = reader.take(MAX_LINE);
    match tokio::time::timeout(IDLE, limited.read_until(b'\n', &mut buf)).await {
        Err(_) => Ok(None),
        Ok(Err(e)) => Err(e),
        Ok(Ok(0)) => Ok(None),
        Ok(Ok(_)) => {
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
        }
    }
}
