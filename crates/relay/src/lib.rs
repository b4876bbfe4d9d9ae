//! The auth relay: a small, stateless HTTP server that holds what a desktop app cannot keep,
//! the OAuth client secret and an HTTPS redirect URI, for providers that require them
//! (QuickBooks Online in production; confidential-client apps of Xero, Google, Square, MYOB,
//! Mautic). See docs/RELAY.md for the why, the flow, the configuration and the deployment.
//!
//! Endpoints ([`router`]):
//!
//! - `GET /oauth/{provider}/callback`: the provider's browser redirect; `302` on to the app's
//!   loopback listener, whose port is the first part of `state` (`callback`).
//! - `POST /oauth/{provider}/token`: the app's code exchange or refresh; the relay adds the
//!   client credentials the catalogue's way and passes the provider's answer back unchanged
//!   (`token`, `client_auth`, `upstream`).
//! - `POST /oauth/{provider}/revoke`: a revocation the provider's way (`revoke`).
//! - `GET /healthz`: `200 ok`.
//!
//! Nothing is stored: every request stands alone. Logs hold the method, endpoint, provider,
//! status and duration, never a query string, body, header, token, code or secret.

pub mod callback;
pub mod client_auth;
pub mod config;
pub mod error;
pub mod page;
pub mod params;
pub mod revoke;
pub mod token;
pub mod upstream;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use config::{ConfigError, ProviderConfig, RelayConfig};
pub use error::RelayError;

/// The largest request body accepted (token and revoke requests are well under 4 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The relay's user agent towards providers.
pub const USER_AGENT: &str = concat!("switchboard-relay/", env!("CARGO_PKG_VERSION"));

/// What every handler shares: read-only.
struct Relay {
    config: RelayConfig,
    http: reqwest::Client,
}

/// The relay's routes over `config`, sending to providers with `http` (see [`http_client`]).
pub fn router(config: RelayConfig, http: reqwest::Client) -> Router {
    let relay = Arc::new(Relay { config, http });
    Router::new()
        .route("/healthz", get(healthz))
        .route("/oauth/{provider}/callback", get(callback))
        .route("/oauth/{provider}/token", post(token))
        .route("/oauth/{provider}/revoke", post(revoke))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(relay)
}

/// The HTTP client for provider requests: no redirects followed (a token endpoint answers
/// directly; its answer, whatever it is, goes back to the app), bounded connects. Each request
/// also gets the configured upstream timeout.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a static reqwest configuration builds")
}

async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> Response {
    tracing::info!(status = 404, "no such endpoint");
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn callback(
    State(relay): State<Arc<Relay>>,
    Path(provider): Path<String>,
    uri: Uri,
) -> Response {
    let started = Instant::now();
    let configured = relay.config.provider(&provider);
    let outcome = match configured {
        None => Err(callback::CallbackError::UnknownProvider),
        Some(p) => callback::location(&p.info().redirect, uri.query().unwrap_or_default()),
    };
    let response = callback::respond(outcome);
    log("GET", "callback", configured, response.status(), started);
    response
}

async fn token(
    State(relay): State<Arc<Relay>>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    relayed(&relay, "token", &provider, &headers, body, token::outgoing).await
}

async fn revoke(
    State(relay): State<Arc<Relay>>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    relayed(
        &relay,
        "revoke",
        &provider,
        &headers,
        body,
        revoke::outgoing,
    )
    .await
}

/// The shape of `token::outgoing` and `revoke::outgoing`.
type Build = fn(&ProviderConfig, Option<&str>, &[u8]) -> Result<upstream::Outgoing, RelayError>;

/// Reads the app's request, builds the provider's, sends it, and answers with the provider's
/// answer (or the relay's refusal), logging the outcome.
async fn relayed(
    relay: &Relay,
    endpoint: &'static str,
    key: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    build: Build,
) -> Response {
    let started = Instant::now();
    let provider = relay.config.provider(key);
    let outcome = async {
        let provider = provider.ok_or_else(|| RelayError::unknown_provider(key))?;
        let body = body.map_err(|rejection| match rejection {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
                RelayError::BodyTooLarge
            }
            _ => RelayError::invalid_request("The request body could not be read."),
        })?;
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let request = build(provider, content_type, &body)?;
        upstream::forward(
            &relay.http,
            relay.config.upstream_timeout(),
            provider,
            request,
        )
        .await
    }
    .await;
    let response = outcome.unwrap_or_else(IntoResponse::into_response);
    log("POST", endpoint, provider, response.status(), started);
    response
}

/// One line per request: method, endpoint, provider (only a configured one's key, never what
/// the path said), status, duration.
fn log(
    method: &'static str,
    endpoint: &'static str,
    provider: Option<&ProviderConfig>,
    status: StatusCode,
    started: Instant,
) {
    tracing::info!(
        method,
        endpoint,
        provider = provider.map_or("(not served)", ProviderConfig::key),
        status = status.as_u16(),
        duration_ms = started.elapsed().as_millis() as u64,
        "relay request"
    );
}
