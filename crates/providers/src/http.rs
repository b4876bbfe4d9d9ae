//! The HTTP client every adapter shares: a user agent naming the app, connect and whole-request
//! timeouts, gzip, keep-alive. Every exchange goes through [`execute_guarded`], which applies a
//! connection's [`Guard`] (its circuit breaker, then its rate limiter) around the request.

use crate::{ProviderError, ProviderErrorKind};
use std::sync::Arc;
use std::time::{Duration, Instant};
pub use switchboard_core::records::RequestRecord;

pub const USER_AGENT: &str = concat!(
    "Switchboard/",
    env!("CARGO_PKG_VERSION"),
    " (+https://switchboard.app)"
);

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .gzip(true)
        .pool_idle_timeout(Duration::from_secs(90))
        // Providers answer directly; a redirect would be a misconfigured base URL.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a static reqwest configuration builds")
}

/// Describes a transport failure without the URL (which may carry codes or tokens).
pub fn transport_error(provider: &str, e: reqwest::Error) -> ProviderError {
    let e = e.without_url();
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not be reached"
    } else {
        "failed to answer"
    };
    ProviderError::new(
        ProviderErrorKind::Network,
        format!(
            "{provider} {what}. Check your internet connection; the next sync will try again. ({e})"
        ),
    )
}

/// Where adapters report each exchange (the sync engine writes them to the request log).
pub type RequestSink = Arc<dyn Fn(RequestRecord) + Send + Sync>;

/// An answer, read fully.
#[derive(Debug)]
pub struct Exchange {
    pub status: u16,
    pub request_id: Option<String>,
    pub retry_after_secs: Option<u64>,
    /// The body as the client received it (not copied: a list page is a few hundred KB).
    pub body: bytes::Bytes,
}

/// A connection's protection around each request: its circuit breaker and its rate limiter
/// (see `breaker` and `limiter`). Adapters carry one per connection (`with_guard`).
#[derive(Clone, Debug)]
pub struct Guard {
    pub limiter: Arc<crate::limiter::Limiter>,
    pub breaker: Arc<crate::breaker::Breaker>,
}

/// [`execute`] under a connection's guard: an open circuit fails at once (nothing is sent), a
/// spent daily budget fails at once, otherwise the request waits for its rate budget, goes, and
/// its outcome (an answer, or a 5xx / no answer) is recorded by the breaker.
pub async fn execute_guarded(
    client: &reqwest::Client,
    request: reqwest::Request,
    provider: &str,
    request_id_header: &str,
    sink: Option<&RequestSink>,
    guard: Option<&Guard>,
) -> Result<Exchange, ProviderError> {
    let Some(guard) = guard else {
        return execute(client, request, provider, request_id_header, sink).await;
    };
    let ticket = guard.breaker.admit().await?;
    let permit = guard.limiter.acquire().await?;
    let result = execute(client, request, provider, request_id_header, sink).await;
    drop(permit);
    let outcome = crate::breaker::Outcome::of(result.as_ref().ok().map(|e| e.status));
    guard.breaker.record(ticket, outcome).await;
    result
}

/// Sends `request`, reads the whole answer, and reports the exchange to `sink`.
/// `request_id_header` names the provider's request-id header (`request-id` at Stripe).
/// Unguarded: adapters send through [`execute_guarded`].
pub async fn execute(
    client: &reqwest::Client,
    request: reqwest::Request,
    provider: &str,
    request_id_header: &str,
    sink: Option<&RequestSink>,
) -> Result<Exchange, ProviderError> {
    let at = switchboard_core::now_rfc3339();
    let method = request.method().to_string();
    let host = request.url().host_str().unwrap_or_default().to_string();
    let path = request.url().path().to_string();
    let started = Instant::now();
    let report =
        |status: Option<u16>, request_id: Option<String>, bytes: usize, error: Option<String>| {
            if let Some(sink) = sink {
                sink(RequestRecord {
                    at: at.clone(),
                    method: method.clone(),
                    host: host.clone(),
                    path: path.clone(),
                    status,
                    duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
                    attempt: 1,
                    request_id,
                    bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
                    error,
                });
            }
        };
    let response = match client.execute(request).await {
        Ok(r) => r,
        Err(e) => {
            let err = transport_error(provider, e);
            report(None, None, 0, Some(err.message.clone()));
            return Err(err);
        }
    };
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let request_id = header(request_id_header);
    let retry_after_secs = header("retry-after").and_then(|v| v.trim().parse().ok());
    match response.bytes().await {
        Ok(body) => {
            report(Some(status), request_id.clone(), body.len(), None);
            Ok(Exchange {
                status,
                request_id,
                retry_after_secs,
                body,
            })
        }
        Err(e) => {
            let err = transport_error(provider, e);
            report(Some(status), request_id, 0, Some(err.message.clone()));
            Err(err)
        }
    }
}
