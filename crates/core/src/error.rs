//! The one error shape of the command edge (Tauri commands and the CLI's `--json` errors):
//! a stable machine code, a message a person can act on, and whether retrying may help.
//! Library crates keep their own `thiserror` enums and convert into this at the edge.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// The caller gave something unusable (bad name, bad URL, unknown id).
    InvalidInput,
    NotFound,
    /// The thing already exists (e.g. a connection name).
    Conflict,
    /// The provider refused the credentials.
    AuthFailed,
    /// The provider asked us to slow down, or the connection's own budget (e.g. a daily one)
    /// is spent; the message says when it resets.
    RateLimited,
    /// The connection's circuit breaker is open: the provider failed repeatedly, so requests
    /// are paused; the message says when the next try will be.
    CircuitOpen,
    /// The provider answered with an error of its own.
    ProviderError,
    /// The provider could not be reached.
    Network,
    /// The provider answered with something we could not understand.
    BadResponse,
    /// No master key, or the wrong one.
    SecretStore,
    /// The local database failed (disk full, corrupt, locked).
    Storage,
    Cancelled,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::AuthFailed => "auth_failed",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::CircuitOpen => "circuit_open",
            ErrorCode::ProviderError => "provider_error",
            ErrorCode::Network => "network",
            ErrorCode::BadResponse => "bad_response",
            ErrorCode::SecretStore => "secret_store",
            ErrorCode::Storage => "storage",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
#[ts(export)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
    pub retryable: bool,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let retryable = matches!(
            code,
            ErrorCode::RateLimited
                | ErrorCode::CircuitOpen
                | ErrorCode::Network
                | ErrorCode::Storage
        );
        CommandError {
            code,
            message: message.into(),
            retryable,
        }
    }

    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_to_the_stable_shape() {
        let e = CommandError::new(ErrorCode::AuthFailed, "Stripe rejected the API key.");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "auth_failed", "message": "Stripe rejected the API key.", "retryable": false})
        );
        assert_eq!(
            serde_json::to_value(ErrorCode::RateLimited).unwrap(),
            ErrorCode::RateLimited.as_str()
        );
    }
}
