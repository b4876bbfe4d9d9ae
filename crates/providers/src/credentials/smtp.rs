//! SMTP: verifying a mail server's login with `lettre` (connect, greeting, EHLO, STARTTLS when
//! asked, EHLO again, AUTH, NOOP, QUIT: `AsyncSmtpTransport::test_connection` without a pool).
//!
//! Facts relied on:
//! - Submission with STARTTLS on port 587 (RFC 6409, RFC 3207) and implicit TLS on port 465
//!   (RFC 8314 section 3.3, which recommends it); port 25 for plain relaying (RFC 5321).
//! - AUTH PLAIN and LOGIN (RFC 4954, RFC 4616); a refused login is `535 5.7.8 Authentication
//!   credentials invalid` (RFC 4954 section 6), `534`/`538` when the mechanism or the channel is
//!   too weak.
//! - Without TLS the password crosses the network readable, so `none` is allowed only for a
//!   server on this machine (a local relay, the sandbox).
//! - lettre's connection URL form (https://docs.rs/lettre/0.11/lettre/transport/smtp/struct.AsyncSmtpTransport.html#method.from_url):
//!   `smtp://user@host:port?tls=required` (STARTTLS required), `smtps://user@host:port` (implicit
//!   TLS), `smtp://user@host:port` (no TLS). A connection stores this form, without the password,
//!   as its API base.

use crate::{ProviderError, ProviderErrorKind};
use lettre::Tokio1Executor;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use std::time::Duration;
use switchboard_core::secret::SecretString;

/// How long any one step may take.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which must be offered (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a server on this machine.
    None,
}

impl Security {
    pub fn default_port(self) -> u16 {
        match self {
            Security::StartTls => 587,
            Security::Tls => 465,
            Security::None => 25,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Security::StartTls => "starttls",
            Security::Tls => "tls",
            Security::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Security> {
        match s.trim().to_ascii_lowercase().as_str() {
            "starttls" => Some(Security::StartTls),
            "tls" | "ssl" | "smtps" => Some(Security::Tls),
            "none" | "plain" => Some(Security::None),
            _ => None,
        }
    }
}

/// A mail server login.
#[derive(Debug, Clone)]
pub struct SmtpLogin {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    pub password: SecretString,
}

/// Whether `host` is this machine (`localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpLogin {
    /// Checks the settings before anything is sent; the error says what to change.
    pub fn check(&self) -> Result<(), String> {
        let host = self.host.trim();
        if host.is_empty() || host.contains(char::is_whitespace) || host.contains('/') {
            return Err(format!(
                "“{host}” is not a mail server host name (e.g. smtp.example.com)."
            ));
        }
        if self.port == 0 {
            return Err("The port must be between 1 and 65535.".into());
        }
        if self.user.trim().is_empty() {
            return Err(
                "Give the user name the mail server expects (often the email address).".into(),
            );
        }
        if self.security == Security::None && !is_loopback(host) {
            return Err(format!(
                "Without TLS the password would cross the network readable. Use \
                 --security starttls (port 587) or tls (port 465) for {host}; none is only \
                 for a server on this machine."
            ));
        }
        Ok(())
    }

    /// The connection URL in lettre's form, without the password (see the module notes).
    pub fn connection_url(&self) -> String {
        let scheme = match self.security {
            Security::Tls => "smtps",
            Security::StartTls | Security::None => "smtp",
        };
        let host = self.host.trim();
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let mut url = match url::Url::parse(&format!("{scheme}://{host}:{}", self.port)) {
            Ok(url) => url,
            Err(_) => return format!("{scheme}://{host}:{}", self.port),
        };
        let _ = url.set_username(self.user.trim());
        if self.security == Security::StartTls {
            url.set_query(Some("tls=required"));
        }
        url.to_string()
    }

    /// `user@host`: the account a connection reaches.
    pub fn account_id(&self) -> String {
        format!("{}@{}", self.user.trim(), self.host.trim())
    }

    /// Connects, authenticates and quits (nothing is sent).
    pub async fn verify(&self) -> Result<(), ProviderError> {
        self.check()
            .map_err(|m| ProviderError::new(ProviderErrorKind::InvalidRequest, m))?;
        let host = self.host.trim().to_string();
        let tls = match self.security {
            Security::None => Tls::None,
            Security::StartTls => Tls::Required(tls_parameters(&host)?),
            Security::Tls => Tls::Wrapper(tls_parameters(&host)?),
        };
        let transport: AsyncSmtpTransport<Tokio1Executor> =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
                .port(self.port)
                .tls(tls)
                .timeout(Some(TIMEOUT))
                .credentials(Credentials::new(
                    self.user.trim().to_string(),
                    self.password.expose().to_string(),
                ))
                .authentication(vec![Mechanism::Plain, Mechanism::Login])
                .build();
        match transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ProviderError::new(
                ProviderErrorKind::BadResponse,
                format!("{host} accepted the login but did not answer NOOP; try again."),
            )),
            Err(e) => Err(self.error(&e)),
        }
    }

    fn error(&self, e: &lettre::transport::smtp::Error) -> ProviderError {
        let host = self.host.trim();
        let port = self.port;
        let code = e.status().map(u16::from);
        let (kind, message) = match code {
            Some(535) | Some(534) | Some(530) | Some(538) => (
                ProviderErrorKind::Auth,
                format!(
                    "The mail server refused the user name or password ({e}). Check the user \
                     (often the full email address) and the password; some providers need an \
                     app password instead of the account's own."
                ),
            ),
            Some(c) if (400..500).contains(&c) => (
                ProviderErrorKind::Server,
                format!("The mail server is busy or refused for now ({e}); try again later."),
            ),
            Some(_) => (
                ProviderErrorKind::InvalidRequest,
                format!("The mail server refused ({e})."),
            ),
            None if e.is_tls() => (
                ProviderErrorKind::Network,
                format!(
                    "The TLS connection to {host}:{port} failed ({e}). Check the host name (it \
                     must match the server's certificate) and the security: port 465 uses tls, \
                     587 starttls."
                ),
            ),
            None if e.is_timeout() => (
                ProviderErrorKind::Network,
                format!("{host}:{port} did not answer in time ({e}). Check the host and port."),
            ),
            None if e.is_client() => (
                ProviderErrorKind::InvalidRequest,
                format!(
                    "{host}:{port} cannot be used as configured ({e}). If the server offers no \
                     login without TLS, use --security starttls or tls."
                ),
            ),
            None if e.is_response() => (
                ProviderErrorKind::BadResponse,
                format!(
                    "{host}:{port} did not answer like a mail server ({e}). Check the port and \
                     the security (465 is tls, 587 starttls)."
                ),
            ),
            None => (
                ProviderErrorKind::Network,
                format!(
                    "{host}:{port} could not be reached ({e}). Check the host, the port and your \
                     internet connection."
                ),
            ),
        };
        let mut err = ProviderError::new(kind, message);
        err.provider_code = code.map(|c| c.to_string());
        err
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, ProviderError> {
    TlsParameters::new_rustls(host.to_string()).map_err(|e| {
        ProviderError::new(
            ProviderErrorKind::InvalidRequest,
            format!("TLS cannot be set up for “{host}” ({e})."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(host: &str, security: Security) -> SmtpLogin {
        SmtpLogin {
            host: host.into(),
            port: security.default_port(),
            security,
            user: "me@example.com".into(),
            password: SecretString::new("pw"),
        }
    }

    #[test]
    fn no_tls_only_on_this_machine() {
        assert!(login("127.0.0.1", Security::None).check().is_ok());
        assert!(login("localhost", Security::None).check().is_ok());
        assert!(login("::1", Security::None).check().is_ok());
        let err = login("smtp.example.com", Security::None)
            .check()
            .unwrap_err();
        assert!(err.contains("starttls"), "{err}");
        assert!(
            login("smtp.example.com", Security::StartTls)
                .check()
                .is_ok()
        );
    }

    #[test]
    fn the_connection_url_is_lettres_form_without_the_password() {
        assert_eq!(
            login("smtp.example.com", Security::StartTls).connection_url(),
            "smtp://me%40example.com@smtp.example.com:587?tls=required"
        );
        assert_eq!(
            login("smtp.example.com", Security::Tls).connection_url(),
            "smtps://me%40example.com@smtp.example.com:465"
        );
        assert_eq!(
            login("127.0.0.1", Security::None).connection_url(),
            "smtp://me%40example.com@127.0.0.1:25"
        );
        assert_eq!(
            login("smtp.example.com", Security::Tls).account_id(),
            "me@example.com@smtp.example.com"
        );
        assert_eq!(Security::parse("STARTTLS"), Some(Security::StartTls));
        assert_eq!(Security::parse("bogus"), None);
    }
}
