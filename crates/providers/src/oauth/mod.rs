//! The OAuth 2.0 client core: authorization code with PKCE in the system browser, a loopback
//! redirect (RFC 6749, 7636, 8252), and the token endpoint (exchange, refresh, revoke).
//!
//! Everything provider-specific is data in [`OAuthInfo`] (the catalogue): scopes, extra
//! authorize parameters, the loopback redirect, client authentication, body encoding, revoke
//! style, token lifetimes. Endpoints come from an [`Endpoints`] value so each connection can
//! override them. Nothing here stores tokens: the caller persists the [`TokenSet`] it gets.
//!
//! One sign-in:
//!
//! ```no_run
//! # async fn connect() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use switchboard_core::catalogue::provider;
//! use switchboard_providers::oauth::{
//!     Credentials, Endpoints, LoopbackListener, OAuthClient, TokenKind,
//! };
//!
//! let xero = provider("xero").unwrap();
//! let info = xero.oauth.unwrap();
//! let client = OAuthClient::new(
//!     xero.display_name,
//!     info,
//!     Endpoints::resolve(info, None)?,
//!     Credentials::public("client-id"),
//!     switchboard_providers::http::client(),
//! );
//! // 1. Listen first: the redirect URI names the port actually bound.
//! let listener = LoopbackListener::bind(xero.display_name, &info.redirect).await?;
//! // 2. The authorize URL, with fresh `state` and PKCE (plus scopes for an incremental grant).
//! let authorization = client.authorization(listener.redirect_uri(), &[]);
//! // 3. Open `authorization.url()` in the system browser, then wait for the redirect.
//! let callback = listener
//!     .wait(authorization.state(), info.redirect_params, Duration::from_secs(300))
//!     .await?;
//! // 4. Exchange the code for tokens; store them (and `callback.params`, e.g. `realmId`).
//! let tokens = client.exchange(&authorization, &callback.code).await?;
//! // 5. Later: refresh. Keep the old refresh token when the answer has none (Google).
//! let refresh = tokens.refresh_token.clone().unwrap();
//! let renewed = client.refresh(&refresh, &tokens.scopes).await?;
//! let current = renewed.refresh_token.unwrap_or(refresh);
//! // 6. On disconnect: revoke (a no-op where the provider offers no revocation).
//! client.revoke(&current, TokenKind::Refresh).await?;
//! # Ok(()) }
//! ```

mod authorize;
mod endpoints;
mod loopback;
mod page;
mod pkce;
mod token;

pub use authorize::Authorization;
pub use endpoints::{EndpointError, Endpoints};
pub use loopback::{Callback, LoopbackError, LoopbackListener};
pub use pkce::{CsrfState, Pkce};
pub use token::{TokenKind, TokenSet, needs_reconnect};

use crate::http::{Guard, RequestSink};
use std::fmt;
use switchboard_core::catalogue::OAuthInfo;
use switchboard_core::secret::SecretString;

/// The app's registration with the provider. The secret is `None` for public clients (PKCE
/// only); providers whose `client_auth` needs one refuse to send without it.
#[derive(Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    /// The token and revoke endpoints are the auth relay's (docs/RELAY.md), which adds the
    /// registration's secret: the app sends as a public client and revokes with an RFC 7009
    /// form whatever the provider's own style.
    pub via_relay: bool,
}

impl Credentials {
    /// A public client: PKCE instead of a secret.
    pub fn public(client_id: impl Into<String>) -> Self {
        Credentials {
            client_id: client_id.into(),
            client_secret: None,
            via_relay: false,
        }
    }

    /// A client whose secret the auth relay holds (see [`Credentials::via_relay`]).
    pub fn relayed(client_id: impl Into<String>) -> Self {
        Credentials {
            via_relay: true,
            ..Credentials::public(client_id)
        }
    }

    /// A client with a secret (the user's own app registration, or Google's desktop secret).
    pub fn with_secret(client_id: impl Into<String>, secret: SecretString) -> Self {
        Credentials {
            client_id: client_id.into(),
            client_secret: Some(secret),
            via_relay: false,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("via_relay", &self.via_relay)
            .finish()
    }
}

/// One connection's OAuth client: the provider's facts, its endpoints and the app's
/// credentials. Cheap to clone.
#[derive(Clone)]
pub struct OAuthClient {
    /// The provider's display name, for messages ("Xero").
    provider: String,
    info: OAuthInfo,
    endpoints: Endpoints,
    credentials: Credentials,
    http: reqwest::Client,
    request_sink: Option<RequestSink>,
    guard: Option<Guard>,
}

impl OAuthClient {
    /// `http` is the shared client (`crate::http::client()`).
    pub fn new(
        provider: impl Into<String>,
        info: &OAuthInfo,
        endpoints: Endpoints,
        credentials: Credentials,
        http: reqwest::Client,
    ) -> Self {
        OAuthClient {
            provider: provider.into(),
            info: *info,
            endpoints,
            credentials,
            http,
            request_sink: None,
            guard: None,
        }
    }

    /// Reports every exchange to `sink` (the request log; never with bodies).
    pub fn with_request_sink(mut self, sink: RequestSink) -> Self {
        self.request_sink = Some(sink);
        self
    }

    /// Sends token requests under the connection's rate budget and circuit breaker.
    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.guard = Some(guard);
        self
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    pub fn info(&self) -> &OAuthInfo {
        &self.info
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub fn client_id(&self) -> &str {
        &self.credentials.client_id
    }
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("provider", &self.provider)
            .field("endpoints", &self.endpoints)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}
