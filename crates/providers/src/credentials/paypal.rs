//! PayPal REST authentication: OAuth 2.0 client credentials.
//!
//! Facts relied on (https://developer.paypal.com/api/rest/authentication/ and
//! https://developer.paypal.com/docs/api/reference/get-an-access-token/):
//! - `POST {base}/v1/oauth2/token`, HTTP Basic with the app's client id and secret,
//!   `Content-Type: application/x-www-form-urlencoded`, body `grant_type=client_credentials`.
//! - The answer: `{"scope", "access_token", "token_type": "Bearer", "app_id":
//!   "APP-80W284485P519543T", "expires_in": 31349, "nonce"}`; `expires_in` is in seconds
//!   (about 9 hours in practice). The token goes in `Authorization: Bearer …` of API calls.
//! - Two environments with their own credentials: sandbox `https://api-m.sandbox.paypal.com`,
//!   live `https://api-m.paypal.com` (both listed as the servers of `shared/specs/paypal.json`).
//! - Wrong credentials: `401 {"error":"invalid_client","error_description":"Client
//!   Authentication failed"}` (RFC 6749 section 5.2's shape; PayPal's exact body is not in its
//!   reference pages nor in `shared/specs/paypal.json`, which has the token URL only as the
//!   `tokenUrl` of its security scheme: taken from PayPal's answers as reported by developers).
//! - PayPal sends a `paypal-debug-id` header on its answers (its request id for support).
//!
//! Identity: plain client credentials identify an app, not a merchant. PayPal has no
//! "who am I" call for them (the Identity API's `userinfo` needs a user's Log in with PayPal
//! grant), so the account is the token answer's `app_id` together with the environment.

use super::token_cache::{ClientCredentialsCache, FreshToken, Now, system_now};
use super::{Http, answer_error, generic_status_message, kind_of, quoted, trim_base};
use crate::http::{Guard, RequestSink, transport_error};
use crate::{ProviderError, ProviderErrorKind};
use serde::Deserialize;
use std::sync::Arc;
use switchboard_core::secret::SecretString;

pub const SANDBOX_API_BASE: &str = "https://api-m.sandbox.paypal.com";
pub const LIVE_API_BASE: &str = "https://api-m.paypal.com";
pub const TOKEN_PATH: &str = "/v1/oauth2/token";
/// PayPal's request id header.
pub const REQUEST_ID_HEADER: &str = "paypal-debug-id";

/// Which PayPal: the sandbox (test accounts) or live; each has its own app credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Sandbox,
    Live,
}

impl Environment {
    pub fn api_base(self) -> &'static str {
        match self {
            Environment::Sandbox => SANDBOX_API_BASE,
            Environment::Live => LIVE_API_BASE,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Sandbox => "sandbox",
            Environment::Live => "live",
        }
    }

    pub fn parse(s: &str) -> Option<Environment> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sandbox" => Some(Environment::Sandbox),
            "live" | "production" => Some(Environment::Live),
            _ => None,
        }
    }
}

/// A token answer.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub access_token: SecretString,
    pub token_type: String,
    /// `APP-…`: the REST app the credentials belong to.
    pub app_id: Option<String>,
    pub scopes: Vec<String>,
    /// Seconds.
    pub expires_in: u64,
}

/// Who the credentials are, as far as PayPal tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayPalIdentity {
    pub app_id: String,
    pub environment: Environment,
    pub scopes: Vec<String>,
}

impl PayPalIdentity {
    /// `sandbox:APP-80W284485P519543T`: the app id is only unique within its environment.
    pub fn account_id(&self) -> String {
        format!("{}:{}", self.environment.as_str(), self.app_id)
    }
}

#[derive(Deserialize)]
struct TokenBody {
    scope: Option<String>,
    access_token: Option<String>,
    token_type: Option<String>,
    app_id: Option<String>,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
    error_description: Option<String>,
}

/// A PayPal REST client with client credentials.
#[derive(Clone)]
pub struct PayPal {
    http: Http,
    api_base: String,
    environment: Environment,
    client_id: String,
    secret: SecretString,
    cache: Arc<ClientCredentialsCache>,
    now: Now,
}

impl std::fmt::Debug for PayPal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayPal")
            .field("api_base", &self.api_base)
            .field("environment", &self.environment)
            .field("client_id", &self.client_id)
            .field("secret", &self.secret)
            .finish()
    }
}

impl PayPal {
    /// `api_base` overrides the environment's host (the sandbox fake, a proxy).
    pub fn new(
        client: reqwest::Client,
        environment: Environment,
        api_base: Option<&str>,
        client_id: &str,
        secret: SecretString,
    ) -> Self {
        PayPal {
            http: Http::new(client),
            api_base: trim_base(api_base.unwrap_or(environment.api_base())),
            environment,
            client_id: client_id.trim().to_string(),
            secret,
            cache: Arc::new(ClientCredentialsCache::new()),
            now: system_now(),
        }
    }

    /// Reads the time from `now` (tests move it).
    pub fn with_clock(mut self, now: Now) -> Self {
        self.now = now;
        self
    }

    /// Shares a token cache (one per connection).
    pub fn with_cache(mut self, cache: Arc<ClientCredentialsCache>) -> Self {
        self.cache = cache;
        self
    }

    pub fn with_request_sink(mut self, sink: RequestSink) -> Self {
        self.http.sink = Some(sink);
        self
    }

    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.http.guard = Some(guard);
        self
    }

    pub fn environment(&self) -> Environment {
        self.environment
    }

    pub fn cache(&self) -> &Arc<ClientCredentialsCache> {
        &self.cache
    }

    /// The host API calls go to (the environment's, or the override).
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    /// Where this client reads the time (the payments adapter's search windows use it too).
    pub fn clock(&self) -> Now {
        self.now.clone()
    }

    /// The HTTP client requests are built with.
    pub(crate) fn http_client(&self) -> &reqwest::Client {
        &self.http.client
    }

    /// Sends an API request through the connection's guard and request log.
    pub(crate) async fn send(
        &self,
        request: reqwest::Request,
    ) -> Result<crate::http::Exchange, ProviderError> {
        self.http.send(request, "PayPal", REQUEST_ID_HEADER).await
    }

    /// Asks the token endpoint for a new token (always a request; see [`PayPal::access_token`]).
    pub async fn request_token(&self) -> Result<AccessToken, ProviderError> {
        let request = self
            .http
            .client
            .post(format!("{}{TOKEN_PATH}", self.api_base))
            .basic_auth(&self.client_id, Some(self.secret.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body("grant_type=client_credentials")
            .build()
            .map_err(|e| transport_error("PayPal", e))?;
        let answer = self.http.send(request, "PayPal", REQUEST_ID_HEADER).await?;
        if !(200..300).contains(&answer.status) {
            let body: Option<ErrorBody> = serde_json::from_slice(&answer.body).ok();
            let code = body.as_ref().and_then(|b| b.error.clone());
            let said = quoted(
                "PayPal",
                body.as_ref().and_then(|b| b.error_description.as_deref()),
            );
            let env = self.environment.as_str();
            let message = match (answer.status, code.as_deref()) {
                (401, _) | (_, Some("invalid_client")) => format!(
                    "PayPal rejected the client id or secret.{said} Check both under Apps & \
                     Credentials in the PayPal Developer Dashboard, and that they are the \
                     {env} app's: sandbox and live apps have different credentials."
                ),
                (403, _) => format!(
                    "PayPal refused to issue a token for this app.{said} Check that the app \
                     is enabled in the PayPal Developer Dashboard."
                ),
                (400, _) => format!("PayPal refused the token request.{said}"),
                (s, _) => generic_status_message("PayPal", s, &said),
            };
            let kind = match code.as_deref() {
                Some("invalid_client") => ProviderErrorKind::Auth,
                _ => kind_of(answer.status),
            };
            let mut err = answer_error(kind, message, &answer);
            err.provider_code = code;
            return Err(err);
        }
        let body: TokenBody = serde_json::from_slice(&answer.body)
            .map_err(|e| super::unreadable("PayPal", &answer, e))?;
        let access_token = body
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| super::unreadable("PayPal", &answer, "no `access_token`"))?;
        let expires_in = body
            .expires_in
            .ok_or_else(|| super::unreadable("PayPal", &answer, "no `expires_in`"))?;
        Ok(AccessToken {
            access_token: SecretString::new(access_token),
            token_type: body.token_type.unwrap_or_else(|| "Bearer".into()),
            app_id: body.app_id.filter(|a| !a.is_empty()),
            scopes: body
                .scope
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            expires_in,
        })
    }

    /// A token for API calls: the cached one until 5 minutes before it expires, else a new one.
    pub async fn access_token(&self) -> Result<SecretString, ProviderError> {
        self.cache
            .get(&self.now, || async {
                let token = self.request_token().await?;
                Ok(FreshToken {
                    token: token.access_token,
                    expires_in: token.expires_in,
                })
            })
            .await
    }

    /// Verifies the credentials by getting a token (kept in the cache for the next call) and
    /// tells which app they belong to.
    pub async fn identify(&self) -> Result<PayPalIdentity, ProviderError> {
        let asked_at = (self.now)();
        let token = self.request_token().await?;
        let app_id = token
            .app_id
            .clone()
            .unwrap_or_else(|| self.client_id.clone());
        let scopes = token.scopes.clone();
        self.cache
            .put(
                asked_at,
                FreshToken {
                    token: token.access_token,
                    expires_in: token.expires_in,
                },
            )
            .await;
        Ok(PayPalIdentity {
            app_id,
            environment: self.environment,
            scopes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use switchboard_sandbox::{Sandbox, SandboxConfig};

    #[test]
    fn environments_have_their_hosts() {
        assert_eq!(
            Environment::Sandbox.api_base(),
            "https://api-m.sandbox.paypal.com"
        );
        assert_eq!(Environment::Live.api_base(), "https://api-m.paypal.com");
        assert_eq!(Environment::parse("Sandbox"), Some(Environment::Sandbox));
        assert_eq!(Environment::parse("live"), Some(Environment::Live));
        assert_eq!(Environment::parse("prod"), None);
        let id = PayPalIdentity {
            app_id: "APP-80W284485P519543T".into(),
            environment: Environment::Sandbox,
            scopes: vec![],
        };
        assert_eq!(id.account_id(), "sandbox:APP-80W284485P519543T");
    }

    /// The token cache against the PayPal fake: its counter shows one token request until the
    /// clock is 5 minutes from expiry, then exactly one more.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tokens_are_reused_until_near_expiry_then_renewed() {
        let sandbox = Sandbox::start(SandboxConfig {
            stripe_charges: 0,
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let fake = sandbox.paypal();
        let clock = Arc::new(Mutex::new(chrono::Utc::now()));
        let now: Now = {
            let clock = clock.clone();
            Arc::new(move || *clock.lock().unwrap())
        };
        let paypal = PayPal::new(
            crate::http::client(),
            Environment::Sandbox,
            Some(&fake.api_base()),
            fake.client_id(),
            SecretString::new(fake.client_secret()),
        )
        .with_clock(now);

        let identity = paypal.identify().await.unwrap();
        assert_eq!(identity.app_id, fake.app_id());
        assert_eq!(fake.token_requests(), 1);
        let first = paypal.access_token().await.unwrap();
        let again = paypal.access_token().await.unwrap();
        assert_eq!(first.expose(), again.expose());
        assert_eq!(
            fake.token_requests(),
            1,
            "the token from connecting is reused"
        );

        let lifetime = fake.token_lifetime_secs() as i64;
        *clock.lock().unwrap() += chrono::Duration::seconds(lifetime - 5 * 60 - 1);
        paypal.access_token().await.unwrap();
        assert_eq!(fake.token_requests(), 1, "still more than 5 minutes left");

        *clock.lock().unwrap() += chrono::Duration::seconds(2);
        let renewed = paypal.access_token().await.unwrap();
        assert_ne!(renewed.expose(), first.expose());
        assert_eq!(fake.token_requests(), 2, "renewed once, near expiry");
        paypal.access_token().await.unwrap();
        assert_eq!(fake.token_requests(), 2);
        sandbox.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_secret_is_an_auth_error_that_says_what_to_check() {
        let sandbox = Sandbox::start(SandboxConfig {
            stripe_charges: 0,
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let fake = sandbox.paypal();
        let paypal = PayPal::new(
            crate::http::client(),
            Environment::Live,
            Some(&fake.api_base()),
            fake.client_id(),
            SecretString::new("not-the-secret"),
        );
        let err = paypal.identify().await.unwrap_err();
        assert_eq!(err.kind, ProviderErrorKind::Auth);
        assert_eq!(err.http_status, Some(401));
        assert_eq!(err.provider_code.as_deref(), Some("invalid_client"));
        assert!(
            err.message.contains("Client Authentication failed"),
            "{}",
            err.message
        );
        assert!(err.message.contains("live app"), "{}", err.message);
        assert!(!err.message.contains("not-the-secret"));
        assert!(err.request_id.is_some(), "paypal-debug-id is kept");
        sandbox.shutdown().await;
    }
}
