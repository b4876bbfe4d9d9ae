//! Sending a relayed request to the provider and passing its answer back: the provider's
//! status, `Content-Type` and body unchanged (plus its `Retry-After`), so the app handles the
//! provider's errors (`invalid_grant`…) exactly as if it had called the provider itself.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use switchboard_core::secret::SecretString;
use url::Url;

use crate::config::ProviderConfig;
use crate::error::{RelayError, no_store};

/// The largest provider answer passed on (token answers are a few KiB).
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// One request to the provider.
pub struct Outgoing {
    pub url: Url,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// `Authorization` (Basic, or Square's `Client`): it holds the secret.
    pub authorization: Option<SecretString>,
}

/// POSTs `request` to the provider and returns its answer as the relay's.
pub async fn forward(
    http: &reqwest::Client,
    timeout: Duration,
    provider: &ProviderConfig,
    request: Outgoing,
) -> Result<Response, RelayError> {
    let name = provider.display_name();
    let mut builder = http
        .post(request.url)
        .timeout(timeout)
        .header(header::CONTENT_TYPE, request.content_type)
        .header(header::ACCEPT, "application/json")
        .body(request.body);
    if let Some(value) = request.authorization {
        let mut value = HeaderValue::from_str(value.expose())
            .map_err(|_| RelayError::invalid_request("The client credentials cannot be sent."))?;
        // Kept out of any header dump by the HTTP stack.
        value.set_sensitive(true);
        builder = builder.header(header::AUTHORIZATION, value);
    }
    let failed = |e: reqwest::Error| {
        if e.is_timeout() {
            RelayError::UpstreamTimeout {
                provider: name,
                secs: timeout.as_secs().max(1),
            }
        } else {
            RelayError::UpstreamUnreachable(name)
        }
    };
    let mut answer = builder.send().await.map_err(failed)?;
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let retry_after = answer.headers().get(header::RETRY_AFTER).cloned();
    let mut body = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(RelayError::UpstreamUnreadable(name));
        }
        body.extend_from_slice(&chunk);
    }
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(v) = content_type {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Some(v) = retry_after {
        headers.insert(header::RETRY_AFTER, v);
    }
    no_store(&mut response);
    Ok(response)
}
