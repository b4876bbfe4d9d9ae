//! The loopback redirect (RFC 8252 section 7.3): a tiny HTTP server on this computer that
//! receives the browser's redirect after sign-in, once.
//!
//! [`LoopbackListener::bind`] reserves the port (so the redirect URI is known before the
//! authorize URL is built); [`LoopbackListener::wait`] serves until the first request to the
//! redirect path, answers it with a small page, and stops listening. Other paths (the
//! browser's `/favicon.ico`) get a 404 and do not count. Dropping the listener, or the
//! `wait` future, stops it at once.

use super::page::{self, Tone};
use super::pkce::CsrfState;
use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener as StdListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_core::catalogue::LoopbackRedirect;
use switchboard_core::secret::SecretString;
use switchboard_core::{CommandError, ErrorCode};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// How long stopping may take for a connection still open after the answer was sent.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// Tries to find an ephemeral port free on both 127.0.0.1 and ::1.
const EPHEMERAL_TRIES: usize = 5;
/// The longest provider-supplied text repeated in a message or page.
const MAX_PROVIDER_TEXT: usize = 200;

/// What the redirect brought: the authorization code and the extra parameters the catalogue
/// names (`realmId` at QuickBooks, `businessId` at MYOB). `Debug` redacts the code.
#[derive(Debug, Clone)]
pub struct Callback {
    pub code: SecretString,
    pub params: BTreeMap<String, String>,
}

/// Why no code came back.
#[derive(Debug)]
pub enum LoopbackError {
    /// The port could not be bound.
    Bind {
        provider: String,
        host: String,
        port: u16,
        /// Whether the provider only accepts this exact (registered) port.
        registered: bool,
        source: io::Error,
    },
    /// The catalogue's redirect is not a loopback address.
    Config(String),
    /// No redirect arrived in time.
    TimedOut { provider: String, after: Duration },
    /// The redirect's `state` was not this sign-in's.
    StateMismatch { provider: String },
    /// The user declined (`error=access_denied`).
    Denied { provider: String },
    /// The provider reported another error on the redirect.
    Provider {
        provider: String,
        error: String,
        description: Option<String>,
    },
    /// A redirect without `code` or `error`.
    MissingCode { provider: String },
    /// The listener stopped without an answer (it should not happen).
    Stopped,
}

impl fmt::Display for LoopbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoopbackError::Bind {
                provider,
                host,
                port,
                registered,
                source,
            } => {
                let why = match source.kind() {
                    io::ErrorKind::AddrInUse => "another program is using that port".to_string(),
                    io::ErrorKind::PermissionDenied => {
                        "this computer does not allow it".to_string()
                    }
                    _ => source.to_string(),
                };
                write!(
                    f,
                    "Switchboard could not listen for {provider}'s answer on {host} port \
                     {port}: {why}."
                )?;
                if *registered {
                    write!(
                        f,
                        " {provider} only sends you back to the address registered for \
                         Switchboard, which uses port {port}, so that port must be free. Close \
                         the program using it (or another Switchboard sign-in) and try again."
                    )
                } else {
                    f.write_str(" Try again.")
                }
            }
            LoopbackError::Config(message) => f.write_str(message),
            LoopbackError::TimedOut { provider, after } => write!(
                f,
                "No answer came back from {provider} within {}, so the sign-in was stopped. \
                 Start it again from Switchboard when you are ready.",
                duration_words(*after)
            ),
            LoopbackError::StateMismatch { provider } => write!(
                f,
                "The answer from {provider} could not be verified as belonging to this \
                 sign-in, so it was not used. Start the sign-in again from Switchboard."
            ),
            LoopbackError::Denied { provider } => write!(
                f,
                "Access was not allowed on {provider}'s page, so Switchboard is not connected. \
                 To connect, start again and choose Allow on {provider}'s page."
            ),
            LoopbackError::Provider {
                provider,
                error,
                description,
            } => {
                write!(f, "{provider} could not complete the sign-in ({error}")?;
                if let Some(d) = description {
                    write!(f, ": {d}")?;
                }
                write!(
                    f,
                    "). Start again; if it happens again, check Switchboard's app registration \
                     at {provider} (its redirect URI and permissions)."
                )
            }
            LoopbackError::MissingCode { provider } => write!(
                f,
                "{provider} sent the browser back without a sign-in code. Start the sign-in \
                 again from Switchboard."
            ),
            LoopbackError::Stopped => f.write_str(
                "The sign-in stopped before an answer arrived. Start it again from Switchboard.",
            ),
        }
    }
}

impl std::error::Error for LoopbackError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoopbackError::Bind { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<LoopbackError> for CommandError {
    fn from(e: LoopbackError) -> Self {
        let (code, retryable) = match &e {
            LoopbackError::Bind { .. } => (ErrorCode::Conflict, true),
            LoopbackError::Config(_) => (ErrorCode::Internal, false),
            LoopbackError::TimedOut { .. } => (ErrorCode::Cancelled, true),
            LoopbackError::Denied { .. } => (ErrorCode::Cancelled, true),
            LoopbackError::StateMismatch { .. } => (ErrorCode::AuthFailed, true),
            LoopbackError::Provider { .. } => (ErrorCode::AuthFailed, true),
            LoopbackError::MissingCode { .. } => (ErrorCode::BadResponse, true),
            LoopbackError::Stopped => (ErrorCode::Internal, true),
        };
        CommandError::new(code, e.to_string()).retryable(retryable)
    }
}

/// Bound loopback sockets waiting to serve one redirect.
pub struct LoopbackListener {
    provider: String,
    path: String,
    redirect_uri: String,
    addrs: Vec<SocketAddr>,
    listeners: Vec<StdListener>,
    /// The servers, once `wait` started them; aborted on drop.
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for LoopbackListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackListener")
            .field("provider", &self.provider)
            .field("redirect_uri", &self.redirect_uri)
            .field("addrs", &self.addrs)
            .finish()
    }
}

impl Drop for LoopbackListener {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl LoopbackListener {
    /// Binds the catalogue's redirect. `localhost` listens on both 127.0.0.1 and ::1 (a browser
    /// may resolve it to either); if ::1 is unavailable on this computer it goes on with IPv4
    /// alone. `127.0.0.1` listens on IPv4 only. No port means an ephemeral one, which then
    /// appears in [`LoopbackListener::redirect_uri`]. `provider` names it in messages.
    pub async fn bind(provider: &str, redirect: &LoopbackRedirect) -> Result<Self, LoopbackError> {
        Self::bind_with(provider, redirect, StdListener::bind)
    }

    /// [`LoopbackListener::bind`] with the socket binder given (tests simulate a missing ::1).
    pub(crate) fn bind_with(
        provider: &str,
        redirect: &LoopbackRedirect,
        bind: fn(SocketAddr) -> io::Result<StdListener>,
    ) -> Result<Self, LoopbackError> {
        let family = Family::of(redirect.host).ok_or_else(|| {
            LoopbackError::Config(format!(
                "The redirect host for {provider} (“{}”) is not a loopback address; only \
                 localhost, 127.0.0.1 or ::1 can receive the sign-in on this computer.",
                redirect.host
            ))
        })?;
        if !redirect.path.starts_with('/') {
            return Err(LoopbackError::Config(format!(
                "The redirect path for {provider} (“{}”) must start with /.",
                redirect.path
            )));
        }
        let bind_error = |port: u16, source: io::Error| LoopbackError::Bind {
            provider: provider.to_string(),
            host: redirect.host.to_string(),
            port,
            registered: redirect.port.is_some(),
            source,
        };
        let listeners = match family {
            Family::V4 => vec![
                bind(v4(redirect.port.unwrap_or(0)))
                    .map_err(|e| bind_error(redirect.port.unwrap_or(0), e))?,
            ],
            Family::V6 => vec![
                bind(v6(redirect.port.unwrap_or(0)))
                    .map_err(|e| bind_error(redirect.port.unwrap_or(0), e))?,
            ],
            Family::Both => bind_both(redirect.port, bind).map_err(|(p, e)| bind_error(p, e))?,
        };
        let addrs: Vec<SocketAddr> = listeners
            .iter()
            .map(StdListener::local_addr)
            .collect::<io::Result<_>>()
            .map_err(|e| bind_error(redirect.port.unwrap_or(0), e))?;
        let port = addrs[0].port();
        let host = match family {
            Family::V6 => "[::1]",
            _ => redirect.host,
        };
        Ok(LoopbackListener {
            provider: provider.to_string(),
            path: redirect.path.to_string(),
            redirect_uri: format!("http://{host}:{port}{}", redirect.path),
            addrs,
            listeners,
            tasks: Vec::new(),
        })
    }

    /// The `redirect_uri` for the authorize URL and the code exchange.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    pub fn port(&self) -> u16 {
        self.addrs[0].port()
    }

    /// The addresses listened on (127.0.0.1 and, where available, ::1).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Serves until the first request to the redirect path, then stops listening. The
    /// redirect must carry `state`; `keep_params` (the catalogue's `redirect_params`) are
    /// returned with the code. Gives up after `timeout`.
    pub async fn wait(
        mut self,
        state: &CsrfState,
        keep_params: &[&str],
        timeout: Duration,
    ) -> Result<Callback, LoopbackError> {
        let (answer_tx, answer_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            provider: self.provider.clone(),
            path: self.path.clone(),
            state: state.clone(),
            keep: keep_params.iter().map(|p| p.to_string()).collect(),
            answer: Mutex::new(Some(answer_tx)),
        });
        let port = self.port();
        for std_listener in std::mem::take(&mut self.listeners) {
            let ip = std_listener.local_addr().map(|a| a.ip().to_string());
            let listener = std_listener
                .set_nonblocking(true)
                .and_then(|()| tokio::net::TcpListener::from_std(std_listener))
                .map_err(|source| LoopbackError::Bind {
                    provider: self.provider.clone(),
                    host: ip.unwrap_or_else(|_| "loopback".into()),
                    port,
                    registered: false,
                    source,
                })?;
            let app = Router::new()
                .fallback(handle)
                .with_state(Arc::clone(&shared));
            let mut stop = stop_rx.clone();
            self.tasks.push(tokio::spawn(async move {
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await
                {
                    tracing::warn!(error = %e, "oauth loopback listener failed");
                }
            }));
        }
        let outcome = tokio::time::timeout(timeout, answer_rx).await;
        self.stop(stop_tx).await;
        match outcome {
            Err(_) => Err(LoopbackError::TimedOut {
                provider: self.provider.clone(),
                after: timeout,
            }),
            Ok(Err(_)) => Err(LoopbackError::Stopped),
            Ok(Ok(answer)) => answer,
        }
    }

    /// Stops accepting, lets the answer page finish, and closes the sockets.
    async fn stop(&mut self, stop_tx: watch::Sender<bool>) {
        let _ = stop_tx.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(STOP_GRACE, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

/// Which loopback addresses a redirect host needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
    Both,
}

impl Family {
    fn of(host: &str) -> Option<Family> {
        match host {
            "localhost" => Some(Family::Both),
            "127.0.0.1" => Some(Family::V4),
            "::1" | "[::1]" => Some(Family::V6),
            _ => None,
        }
    }
}

fn v4(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

fn v6(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv6Addr::LOCALHOST, port))
}

/// 127.0.0.1 and ::1 on the same port. A ::1 the computer does not have is logged and left
/// out; a ::1 port taken by another program is an error (the browser could reach it).
fn bind_both(
    port: Option<u16>,
    bind: fn(SocketAddr) -> io::Result<StdListener>,
) -> Result<Vec<StdListener>, (u16, io::Error)> {
    let tries = if port.is_some() { 1 } else { EPHEMERAL_TRIES };
    let mut last_in_use = None;
    for _ in 0..tries {
        let ipv4 = bind(v4(port.unwrap_or(0))).map_err(|e| (port.unwrap_or(0), e))?;
        let chosen = ipv4
            .local_addr()
            .map_err(|e| (port.unwrap_or(0), e))?
            .port();
        match bind(v6(chosen)) {
            Ok(ipv6) => return Ok(vec![ipv4, ipv6]),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                // An ephemeral port free on IPv4 but taken on IPv6: pick another.
                last_in_use = Some((chosen, e));
            }
            Err(e) => {
                tracing::info!(
                    error = %e,
                    "IPv6 loopback (::1) unavailable; listening for the sign-in on 127.0.0.1 only"
                );
                return Ok(vec![ipv4]);
            }
        }
    }
    Err(last_in_use.unwrap_or_else(|| (0, io::ErrorKind::AddrInUse.into())))
}

/// What the request handler shares with `wait`.
struct Shared {
    provider: String,
    path: String,
    state: CsrfState,
    keep: Vec<String>,
    /// Taken by the one request that counts.
    answer: Mutex<Option<oneshot::Sender<Result<Callback, LoopbackError>>>>,
}

async fn handle(State(shared): State<Arc<Shared>>, method: Method, uri: Uri) -> Response {
    if uri.path() != shared.path || method != Method::GET {
        return page_response(
            StatusCode::NOT_FOUND,
            page::render(Tone::Problem, "Not found", "Nothing here."),
        );
    }
    let Some(answer) = shared.answer.lock().ok().and_then(|mut a| a.take()) else {
        return page_response(
            StatusCode::OK,
            page::render(
                Tone::Done,
                "This sign-in is finished",
                "You can close this tab and return to Switchboard.",
            ),
        );
    };
    let outcome = read_redirect(&shared, uri.query().unwrap_or_default());
    let response = outcome_page(&shared.provider, &outcome);
    // `wait` may have given up (timeout) in the meantime; the page still tells the truth.
    let _ = answer.send(outcome);
    response
}

/// Turns the redirect's query into the outcome. An `error` is reported as such (it grants
/// nothing, so it needs no `state`); a code is only accepted with this sign-in's `state`.
fn read_redirect(shared: &Shared, query: &str) -> Result<Callback, LoopbackError> {
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        // The first of a repeated parameter counts.
        params
            .entry(name.into_owned())
            .or_insert(value.into_owned());
    }
    let provider = shared.provider.clone();
    if let Some(error) = params.get("error") {
        return Err(if error == "access_denied" {
            LoopbackError::Denied { provider }
        } else {
            LoopbackError::Provider {
                provider,
                error: provider_text(error),
                description: params
                    .get("error_description")
                    .map(|d| provider_text(d))
                    .filter(|d| !d.is_empty()),
            }
        });
    }
    let state_ok = params
        .get("state")
        .is_some_and(|received| shared.state.matches(received));
    if !state_ok {
        return Err(LoopbackError::StateMismatch { provider });
    }
    let Some(code) = params.remove("code").filter(|c| !c.is_empty()) else {
        return Err(LoopbackError::MissingCode { provider });
    };
    let kept = shared
        .keep
        .iter()
        .filter_map(|name| params.remove_entry(name.as_str()))
        .collect();
    Ok(Callback {
        code: SecretString::new(code),
        params: kept,
    })
}

/// Text from the redirect, made safe to repeat: no control characters, bounded length.
fn provider_text(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_PROVIDER_TEXT)
        .collect();
    clean.trim().to_string()
}

fn outcome_page(provider: &str, outcome: &Result<Callback, LoopbackError>) -> Response {
    let (status, tone, heading, detail) = match outcome {
        Ok(_) => (
            StatusCode::OK,
            Tone::Done,
            format!("Signed in to {provider}"),
            "Switchboard received the sign-in. You can close this tab and return to Switchboard."
                .to_string(),
        ),
        Err(LoopbackError::StateMismatch { .. }) => (
            StatusCode::BAD_REQUEST,
            Tone::Problem,
            "The sign-in could not be verified".to_string(),
            "This answer does not belong to the sign-in Switchboard started, so it was not \
             used. Close this tab and start the sign-in again from Switchboard."
                .to_string(),
        ),
        Err(LoopbackError::Denied { .. }) => (
            StatusCode::OK,
            Tone::Problem,
            "Access was not allowed".to_string(),
            format!(
                "Switchboard is not connected to {provider}. You can close this tab; to \
                 connect, start again in Switchboard and choose Allow."
            ),
        ),
        Err(LoopbackError::Provider {
            error, description, ..
        }) => (
            StatusCode::OK,
            Tone::Problem,
            format!("{provider} could not complete the sign-in"),
            format!(
                "{provider} said: {error}{}. Close this tab and try again from Switchboard.",
                description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        ),
        Err(_) => (
            StatusCode::BAD_REQUEST,
            Tone::Problem,
            "The sign-in is incomplete".to_string(),
            format!(
                "{provider} sent the browser back without a sign-in code. Close this tab and \
                 start the sign-in again from Switchboard."
            ),
        ),
    };
    page_response(status, page::render(tone, &heading, &detail))
}

fn page_response(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            // The address bar holds the code: never send it on as a referrer.
            (header::REFERRER_POLICY, "no-referrer"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
            (header::CONNECTION, "close"),
        ],
        html,
    )
        .into_response()
}

fn duration_words(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        60 => "1 minute".into(),
        s if s >= 60 && s % 60 == 0 => format!("{} minutes", s / 60),
        1 => "1 second".into(),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(keep: &[&str]) -> Shared {
        Shared {
            provider: "QuickBooks Online".into(),
            path: "/oauth/callback".into(),
            state: CsrfState::from_value("good-state"),
            keep: keep.iter().map(|s| s.to_string()).collect(),
            answer: Mutex::new(None),
        }
    }

    #[test]
    fn a_good_redirect_gives_the_code_and_the_kept_params() {
        let cb = read_redirect(
            &shared(&["realmId"]),
            "code=abc%2F123&state=good-state&realmId=4620816365&other=x",
        )
        .unwrap();
        assert_eq!(cb.code.expose(), "abc/123");
        assert_eq!(cb.params.len(), 1);
        assert_eq!(cb.params["realmId"], "4620816365");
        assert!(!format!("{cb:?}").contains("abc"));
    }

    #[test]
    fn wrong_or_missing_state_is_refused() {
        for q in ["code=c&state=bad", "code=c", "code=c&state="] {
            assert!(
                matches!(
                    read_redirect(&shared(&[]), q),
                    Err(LoopbackError::StateMismatch { .. })
                ),
                "{q}"
            );
        }
    }

    #[test]
    fn errors_are_told_apart() {
        let denied = read_redirect(&shared(&[]), "error=access_denied&state=good-state");
        assert!(matches!(denied, Err(LoopbackError::Denied { .. })));
        let other = read_redirect(
            &shared(&[]),
            "error=invalid_scope&error_description=bad%0Ascope",
        )
        .unwrap_err();
        let LoopbackError::Provider {
            error, description, ..
        } = &other
        else {
            panic!("{other:?}")
        };
        assert_eq!(error, "invalid_scope");
        assert_eq!(description.as_deref(), Some("badscope"));
        assert!(other.to_string().contains("invalid_scope"));
        let missing = read_redirect(&shared(&[]), "state=good-state");
        assert!(matches!(missing, Err(LoopbackError::MissingCode { .. })));
    }

    #[test]
    fn messages_say_what_to_do() {
        let timed_out = LoopbackError::TimedOut {
            provider: "Xero".into(),
            after: Duration::from_secs(300),
        };
        assert!(timed_out.to_string().contains("within 5 minutes"));
        let bind = LoopbackError::Bind {
            provider: "Xero".into(),
            host: "localhost".into(),
            port: 53682,
            registered: true,
            source: io::ErrorKind::AddrInUse.into(),
        };
        let text = bind.to_string();
        assert!(
            text.contains("53682") && text.contains("another program"),
            "{text}"
        );
        assert!(text.contains("registered"), "{text}");
        let command: CommandError = bind.into();
        assert_eq!(command.code, ErrorCode::Conflict);
    }

    fn no_ipv6(addr: SocketAddr) -> io::Result<StdListener> {
        if addr.is_ipv6() {
            Err(io::ErrorKind::AddrNotAvailable.into())
        } else {
            StdListener::bind(addr)
        }
    }

    fn ipv6_port_taken(addr: SocketAddr) -> io::Result<StdListener> {
        if addr.is_ipv6() {
            Err(io::ErrorKind::AddrInUse.into())
        } else {
            StdListener::bind(addr)
        }
    }

    const LOCALHOST: LoopbackRedirect = LoopbackRedirect {
        host: "localhost",
        port: None,
        path: "/cb",
    };

    #[test]
    fn localhost_without_ipv6_goes_on_with_ipv4_alone() {
        let listener = LoopbackListener::bind_with("Xero", &LOCALHOST, no_ipv6).unwrap();
        assert_eq!(listener.local_addrs().len(), 1);
        assert!(listener.local_addrs()[0].is_ipv4());
        let port = listener.port();
        assert_eq!(
            listener.redirect_uri(),
            format!("http://localhost:{port}/cb")
        );
    }

    #[test]
    fn an_ipv6_port_taken_by_another_program_is_not_ignored() {
        let err = LoopbackListener::bind_with("Xero", &LOCALHOST, ipv6_port_taken).unwrap_err();
        assert!(matches!(err, LoopbackError::Bind { .. }), "{err:?}");
        let free = StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let fixed = LoopbackRedirect {
            port: Some(free.port()),
            ..LOCALHOST
        };
        // A fixed port is tried once, and its IPv6 side taken is an error too.
        assert!(LoopbackListener::bind_with("Xero", &fixed, ipv6_port_taken).is_err());
    }

    #[test]
    fn non_loopback_hosts_are_refused() {
        let remote = LoopbackRedirect {
            host: "example.com",
            ..LOCALHOST
        };
        let err = LoopbackListener::bind_with("Xero", &remote, StdListener::bind).unwrap_err();
        assert!(matches!(err, LoopbackError::Config(_)));
    }

    #[test]
    fn ipv6_only_redirects_use_the_bracketed_literal() {
        if StdListener::bind("[::1]:0").is_err() {
            return;
        }
        let v6 = LoopbackRedirect {
            host: "::1",
            ..LOCALHOST
        };
        let listener = LoopbackListener::bind_with("Xero", &v6, StdListener::bind).unwrap();
        assert!(listener.redirect_uri().starts_with("http://[::1]:"));
    }

    #[test]
    fn hosts_map_to_address_families() {
        assert_eq!(Family::of("localhost"), Some(Family::Both));
        assert_eq!(Family::of("127.0.0.1"), Some(Family::V4));
        assert_eq!(Family::of("[::1]"), Some(Family::V6));
        assert_eq!(Family::of("example.com"), None);
    }
}
