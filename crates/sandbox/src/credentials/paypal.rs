//! A fake of PayPal's OAuth 2.0 token endpoint for client credentials.
//!
//! Faithful to https://developer.paypal.com/api/rest/authentication/ and
//! https://developer.paypal.com/docs/api/reference/get-an-access-token/:
//! - `POST /v1/oauth2/token` with HTTP Basic `client_id:secret` and the form body
//!   `grant_type=client_credentials` answers `{"scope", "access_token", "token_type": "Bearer",
//!   "app_id": "APP-…", "expires_in", "nonce"}`; tokens live 32,400 s (9 h) unless a test sets
//!   another lifetime ([`PayPalControl::set_token_lifetime`]).
//! - Missing or wrong client credentials: `401 {"error": "invalid_client",
//!   "error_description": "Client Authentication failed"}` (PayPal's answer as developers report
//!   it; RFC 6749 section 5.2's shape).
//! - Every answer carries a `paypal-debug-id` header.
//!
//! Not verified against PayPal (its docs do not show them): the 400 bodies for a missing
//! grant type (`unsupported_grant_type`, "Grant Type is NULL") or another one. Each token
//! request gets a new token (PayPal may hand out the same token again while it is valid).
//!
//! The payments APIs (Transaction Search, Orders, Payments, Subscriptions, webhook signature
//! verification) are served from the same listener by [`api`], with the tokens issued here as
//! their bearer tokens; see that module for what they do and leave out.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::{basic_credentials, hex, json_response, rfc3339, upper_alnum};
use crate::seed::{self, SeedRng};

mod api;
mod ledger;
mod orders;
mod payments;
mod plans;
mod search;
mod subscriptions;
mod webhooks;

pub use api::{PayPalSearch, PayPalTransaction};
pub use webhooks::PayPalWebhookHeaders;

/// PayPal's usual token lifetime, in seconds (9 hours).
pub const TOKEN_LIFETIME_SECS: u64 = 32_400;

/// The scopes a REST app's token carries (PayPal's example answer).
const SCOPES: &str = "https://uri.paypal.com/services/invoicing \
    https://uri.paypal.com/services/disputes/read-buyer \
    https://uri.paypal.com/services/payments/realtimepayment \
    https://uri.paypal.com/services/disputes/update-seller \
    https://uri.paypal.com/services/payments/payment/authcapture openid \
    https://uri.paypal.com/services/disputes/read-seller \
    https://uri.paypal.com/services/payments/refund \
    https://uri.paypal.com/services/subscriptions \
    https://uri.paypal.com/services/applications/webhooks \
    https://uri.paypal.com/services/reporting/search/read";

struct PayPalState {
    lifetime: u64,
    rng: SeedRng,
    token_requests: usize,
    tokens_issued: usize,
    token_errors: BTreeMap<String, usize>,
    /// Every token handed out, with when it expires (unix seconds): the payments APIs take
    /// only these.
    issued: BTreeMap<String, i64>,
}

struct Inner {
    client_id: String,
    client_secret: String,
    app_id: String,
    base: OnceLock<String>,
    state: Mutex<PayPalState>,
    /// The merchant's payments data and the payments APIs' test hooks.
    ledger: Mutex<ledger::Ledger>,
}

/// The PayPal fake's test hooks. Cheap to clone; thread-safe.
#[derive(Clone)]
pub struct PayPalControl {
    inner: Arc<Inner>,
}

impl PayPalControl {
    pub(crate) fn new(seed: u64) -> PayPalControl {
        let mut rng = SeedRng::derive(seed, "paypal.app");
        // Client ids and secrets are 80 characters (A… and E…), app ids `APP-` and 17 more.
        let client_id = format!("A{}", rng.base62(79));
        let client_secret = format!("E{}", rng.base62(79));
        let app_id = format!("APP-{}", upper_alnum(&mut rng, 17));
        PayPalControl {
            inner: Arc::new(Inner {
                client_id,
                client_secret,
                app_id,
                base: OnceLock::new(),
                state: Mutex::new(PayPalState {
                    lifetime: TOKEN_LIFETIME_SECS,
                    rng: SeedRng::derive(seed, "paypal.tokens"),
                    token_requests: 0,
                    tokens_issued: 0,
                    token_errors: BTreeMap::new(),
                    issued: BTreeMap::new(),
                }),
                ledger: Mutex::new(ledger::Ledger::seeded(seed, seed::now_unix())),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, PayPalState> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_base(&self, addr: SocketAddr) {
        let _ = self.inner.base.set(format!("http://{addr}"));
    }

    /// `http://127.0.0.1:PORT` (PayPal's paths, `/v1/oauth2/token`, go right after it).
    pub fn api_base(&self) -> String {
        self.inner
            .base
            .get()
            .cloned()
            .unwrap_or_else(|| "http://127.0.0.1:0".into())
    }

    /// The only client id the fake accepts.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// Its secret.
    pub fn client_secret(&self) -> &str {
        &self.inner.client_secret
    }

    /// The `app_id` of every token answer.
    pub fn app_id(&self) -> &str {
        &self.inner.app_id
    }

    /// `expires_in` of the tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.state().lifetime = secs;
    }

    pub fn token_lifetime_secs(&self) -> u64 {
        self.state().lifetime
    }

    /// Requests to the token endpoint so far, whatever their answer.
    pub fn token_requests(&self) -> usize {
        self.state().token_requests
    }

    /// Tokens handed out so far.
    pub fn tokens_issued(&self) -> usize {
        self.state().tokens_issued
    }

    /// Token refusals by error code (`invalid_client`, `unsupported_grant_type`).
    pub fn token_errors(&self, error: &str) -> usize {
        self.state().token_errors.get(error).copied().unwrap_or(0)
    }

    pub(crate) fn ready_entry(&self, rate_limits: Value) -> Value {
        json!({
            "api_base": self.api_base(),
            "token_url": format!("{}/v1/oauth2/token", self.api_base()),
            "environment": "sandbox",
            "client_id": self.client_id(),
            "client_secret": self.client_secret(),
            "rate_limits": rate_limits,
        })
    }

    pub(crate) fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }

    fn token(&self, headers: &HeaderMap, body: &[u8], debug_id: &str) -> Response {
        let mut st = self.state();
        st.token_requests += 1;
        let refuse = |st: &mut PayPalState, status: StatusCode, error: &str, description: &str| {
            *st.token_errors.entry(error.to_string()).or_default() += 1;
            json_response(
                status,
                &json!({"error": error, "error_description": description}),
                &[("paypal-debug-id", debug_id.to_string())],
            )
        };
        let authenticated = basic_credentials(headers).is_some_and(|(id, secret)| {
            id == self.inner.client_id && secret == self.inner.client_secret
        });
        if !authenticated {
            return refuse(
                &mut st,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client Authentication failed",
            );
        }
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let grant = form
            .iter()
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty());
        match grant {
            Some("client_credentials") => {}
            None => {
                return refuse(
                    &mut st,
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    "Grant Type is NULL",
                );
            }
            Some(_) => {
                return refuse(
                    &mut st,
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    "unsupported grant_type",
                );
            }
        }
        st.tokens_issued += 1;
        let access_token = format!("A21AA{}", st.rng.base62(92));
        let expires_at = seed::now_unix() + i64::try_from(st.lifetime).unwrap_or(i64::MAX / 2);
        st.issued.insert(access_token.clone(), expires_at);
        let nonce = format!("{}{}", rfc3339(seed::now_unix()), st.rng.base62(43));
        json_response(
            StatusCode::OK,
            &json!({
                "scope": SCOPES,
                "access_token": access_token,
                "token_type": "Bearer",
                "app_id": self.inner.app_id,
                "expires_in": st.lifetime,
                "nonce": nonce,
            }),
            &[("paypal-debug-id", debug_id.to_string())],
        )
    }
}

async fn handle(
    State(ctl): State<PayPalControl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let debug_id = hex(&mut ctl.state().rng, 13);
    let response = if uri.path() == "/v1/oauth2/token" && method == Method::POST {
        ctl.token(&headers, &body, &debug_id)
    } else if uri.path() == orders::CHECKOUT_PATH && method == Method::GET {
        orders::checkout_page(&ctl, &uri)
    } else {
        api::handle(&ctl, &method, &uri, &headers, &body, &debug_id)
    };
    tracing::debug!(%method, path = uri.path(), status = response.status().as_u16(), "paypal sandbox");
    response
}
