//! The relay's own refusals at its API endpoints (`token`, `revoke`), answered in RFC 6749's
//! error shape (`{"error": …, "error_description": …}`) so the app reads them like a
//! provider's. Answers that come from the provider are passed through instead (`upstream`).
//! No message holds a request's values: only names, limits and the provider's name.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::MAX_BODY_BYTES;

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Not an OAuth provider of the catalogue, or not configured on this relay.
    #[error("This relay does not serve the provider “{0}”.")]
    UnknownProvider(String),
    #[error("{0}")]
    InvalidRequest(String),
    /// Only the grants the app uses are relayed: the relay must not lend its secret to others
    /// (`client_credentials` would get tokens for the app itself).
    #[error(
        "Only the authorization_code and refresh_token grants are relayed{}.",
        .0.as_deref().map(|g| format!(", not “{g}”")).unwrap_or_default()
    )]
    UnsupportedGrantType(Option<String>),
    #[error("The body must be application/x-www-form-urlencoded or application/json.")]
    UnsupportedMediaType,
    #[error("The body is larger than {} KiB.", MAX_BODY_BYTES / 1024)]
    BodyTooLarge,
    #[error("{0} offers no token revocation.")]
    RevocationNotOffered(&'static str),
    #[error("{provider} did not answer within {secs} s; try again.")]
    UpstreamTimeout { provider: &'static str, secs: u64 },
    #[error("{0} could not be reached; try again.")]
    UpstreamUnreachable(&'static str),
    #[error("{0} sent an answer the relay could not pass on.")]
    UpstreamUnreadable(&'static str),
}

impl RelayError {
    pub fn invalid_request(message: impl Into<String>) -> Self {
        RelayError::InvalidRequest(message.into())
    }

    /// An unknown provider, named as the request named it (made short and printable).
    pub fn unknown_provider(key: &str) -> Self {
        RelayError::UnknownProvider(printable(key, 40))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            RelayError::UnknownProvider(_) | RelayError::RevocationNotOffered(_) => {
                StatusCode::NOT_FOUND
            }
            RelayError::InvalidRequest(_) | RelayError::UnsupportedGrantType(_) => {
                StatusCode::BAD_REQUEST
            }
            RelayError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RelayError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RelayError::UpstreamTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            RelayError::UpstreamUnreachable(_) | RelayError::UpstreamUnreadable(_) => {
                StatusCode::BAD_GATEWAY
            }
        }
    }

    /// The `error` code: RFC 6749's where one fits.
    pub fn code(&self) -> &'static str {
        match self {
            RelayError::UnknownProvider(_) => "unknown_provider",
            RelayError::InvalidRequest(_)
            | RelayError::UnsupportedMediaType
            | RelayError::BodyTooLarge => "invalid_request",
            RelayError::UnsupportedGrantType(_) => "unsupported_grant_type",
            RelayError::RevocationNotOffered(_) => "revocation_not_offered",
            RelayError::UpstreamTimeout { .. }
            | RelayError::UpstreamUnreachable(_)
            | RelayError::UpstreamUnreadable(_) => "temporarily_unavailable",
        }
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code(), "error_description": self.to_string() });
        let mut response = (self.status(), Json(body)).into_response();
        no_store(&mut response);
        response
    }
}

/// Token answers and refusals are never cached (RFC 6749 section 5.1).
pub fn no_store(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Text from a request made safe to repeat: printable ASCII only, at most `max` characters.
pub fn printable(text: &str, max: usize) -> String {
    text.chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_follow_rfc_6749_where_they_can() {
        let e = RelayError::UnsupportedGrantType(Some("client_credentials".into()));
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.code(), "unsupported_grant_type");
        assert!(e.to_string().contains("client_credentials"), "{e}");
        let e = RelayError::unknown_provider("stripe\n<b>");
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert!(e.to_string().contains("stripe?<b>"), "{e}");
        assert_eq!(
            RelayError::BodyTooLarge.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert!(RelayError::BodyTooLarge.to_string().contains("64 KiB"));
    }
}
