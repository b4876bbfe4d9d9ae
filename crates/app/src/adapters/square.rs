//! A Square connection's adapter: its OAuth access token, refreshed when due by the shared
//! token lifecycle (`tokens.rs`: single-flight, the rotated refresh token stored before use)
//! and renewed when Square refuses it; a grant Square no longer honours marks the connection
//! `needs_reconnect` there.

use super::PaymentsAdapter;
use crate::Result;
use crate::tokens::{ClientRefresher, Tokens};
use crate::workspace::Workspace;
use async_trait::async_trait;
use std::sync::Arc;
use switchboard_core::secret::SecretString;
use switchboard_core::views::ConnectionView;
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::http::RequestSink;
use switchboard_providers::oauth::OAuthClient;
use switchboard_providers::square::{AccessTokens, Square};
use switchboard_providers::{ProviderError, ProviderErrorKind};

/// A connection's stored grant as the adapter's token source.
struct ConnectionTokens {
    tokens: Tokens,
    client: OAuthClient,
    scopes: Vec<String>,
    connection_id: String,
}

#[async_trait]
impl AccessTokens for ConnectionTokens {
    async fn access_token(&self, renew: bool) -> Result<SecretString, ProviderError> {
        let refresher = ClientRefresher {
            client: &self.client,
            scopes: self.scopes.clone(),
        };
        self.tokens
            .access_token(&self.connection_id, &refresher, chrono::Utc::now(), renew)
            .await
            .map(|(token, _)| token)
            .map_err(provider_error)
    }
}

/// A token failure as the adapter reports it (a refused grant stays an auth error).
fn provider_error(e: CommandError) -> ProviderError {
    let kind = match e.code {
        ErrorCode::AuthFailed => ProviderErrorKind::Auth,
        ErrorCode::RateLimited => ProviderErrorKind::RateLimited,
        ErrorCode::Network => ProviderErrorKind::Network,
        ErrorCode::CircuitOpen => ProviderErrorKind::CircuitOpen,
        ErrorCode::BadResponse => ProviderErrorKind::BadResponse,
        _ if e.retryable => ProviderErrorKind::Server,
        _ => ProviderErrorKind::InvalidRequest,
    };
    ProviderError::new(kind, e.message)
}

impl Workspace {
    pub(super) async fn square_adapter(
        &self,
        target: &ConnectionView,
        sink: RequestSink,
    ) -> Result<PaymentsAdapter> {
        let (client, scopes) = self.oauth_client(target).await?;
        let tokens = Arc::new(ConnectionTokens {
            tokens: self.tokens(),
            client,
            scopes,
            connection_id: target.id.clone(),
        });
        let guard = self.guard_for(target, false).await?;
        let square = Square::new(self.client.clone(), Some(&target.api_base), tokens)
            .with_request_sink(sink)
            .with_guard(guard);
        Ok(PaymentsAdapter::full(square))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_failures_keep_what_to_do() {
        let refused = CommandError::new(ErrorCode::AuthFailed, "Reconnect Square.");
        let e = provider_error(refused);
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ProviderErrorKind::Auth, "Reconnect Square.")
        );
        let offline = CommandError::new(ErrorCode::Network, "offline").retryable(true);
        assert!(provider_error(offline).is_transient());
        let broken = CommandError::new(ErrorCode::Storage, "disk").retryable(false);
        assert!(!provider_error(broken).is_transient());
    }
}
