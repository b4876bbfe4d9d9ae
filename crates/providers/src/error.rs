//! What can go wrong talking to a provider, with what the provider said about it.

use switchboard_core::{CommandError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderErrorKind {
    /// The credentials were refused (401/403): the user must fix them.
    Auth,
    /// 429: slow down; `retry_after_secs` when the provider said.
    RateLimited,
    /// The request was refused as invalid (400, 404).
    InvalidRequest,
    /// The provider failed (5xx).
    Server,
    /// The provider could not be reached (DNS, connection refused, timeout).
    Network,
    /// The provider answered with something unusable (truncated, not JSON, wrong shape).
    BadResponse,
    /// Not sent: the connection's circuit breaker is open after repeated failures
    /// (`retry_after_secs` says when it lets a trial through).
    CircuitOpen,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ProviderErrorKind,
    /// A message a person can act on. Never holds a secret.
    pub message: String,
    /// The provider's own error code (`resource_missing`), when given.
    pub provider_code: Option<String>,
    pub http_status: Option<u16>,
    pub request_id: Option<String>,
    pub retry_after_secs: Option<u64>,
}

impl ProviderError {
    pub fn new(kind: ProviderErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            message: message.into(),
            provider_code: None,
            http_status: None,
            request_id: None,
            retry_after_secs: None,
        }
    }

    /// Whether trying the same request again soon may succeed (the sync engine retries these).
    /// An open circuit is not: it is retryable by the user later, but retrying at once would
    /// only fail fast again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ProviderErrorKind::RateLimited
                | ProviderErrorKind::Server
                | ProviderErrorKind::Network
                | ProviderErrorKind::BadResponse
        )
    }

    pub fn code(&self) -> ErrorCode {
        match self.kind {
            ProviderErrorKind::Auth => ErrorCode::AuthFailed,
            ProviderErrorKind::RateLimited => ErrorCode::RateLimited,
            ProviderErrorKind::InvalidRequest => ErrorCode::ProviderError,
            ProviderErrorKind::Server => ErrorCode::ProviderError,
            ProviderErrorKind::Network => ErrorCode::Network,
            ProviderErrorKind::BadResponse => ErrorCode::BadResponse,
            ProviderErrorKind::CircuitOpen => ErrorCode::CircuitOpen,
        }
    }
}

impl From<ProviderError> for CommandError {
    fn from(e: ProviderError) -> Self {
        let mut message = e.message.clone();
        if let Some(id) = &e.request_id {
            message.push_str(&format!(" (request id {id})"));
        }
        let retryable = e.is_transient() || e.kind == ProviderErrorKind::CircuitOpen;
        CommandError::new(e.code(), message).retryable(retryable)
    }
}
