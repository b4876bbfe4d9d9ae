//! A fake of Twilio SendGrid's v3 API for what connecting uses: the user's account, email and
//! profile, and the key's scopes.
//!
//! Faithful to SendGrid where the app can tell:
//! - `Authorization: Bearer <key>`; keys look like SendGrid's (69 characters, `SG.…`;
//!   https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions).
//! - Every key has its scopes; an endpoint needs its own one, as listed in SendGrid's
//!   permission lists: `GET /v3/user/account` → `user.account.read`, `GET /v3/user/email` →
//!   `user.email.read`, `GET /v3/user/profile` → `user.profile.read`. `GET /v3/scopes` lists the
//!   key's own scopes and needs none.
//! - Answers in the shapes of twilio/sendgrid-oai `tsg_user_v3.json` and `tsg_scopes_v3.json`
//!   (checked by `tests/credential_fakes.rs`).
//! - A wrong or missing key: 401 `{"errors":[{"field":null,"message":"authorization
//!   required"}]}`; a key without the scope: 403 `{"errors":[{"field":null,"message":"access
//!   forbidden"}]}` (the `ErrorResponse` of `shared/specs/sendgrid.json`).
//!
//! Two keys are announced: [`SendGridControl::api_key`] (full access) and
//! [`SendGridControl::restricted_api_key`] (only `mail.send`, the usual least-privilege key);
//! tests add others with [`SendGridControl::add_key`]. Unknown paths answer 404 with the same
//! error shape.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::{bearer, json_response};
use crate::seed::SeedRng;

/// The scopes of the full-access key the fake announces.
pub const FULL_ACCESS_SCOPES: &[&str] = &[
    "mail.send",
    "stats.read",
    "suppression.read",
    "templates.read",
    "user.account.read",
    "user.email.read",
    "user.profile.read",
];

struct SendGridState {
    rng: SeedRng,
    keys: HashMap<String, Vec<String>>,
    by_path: BTreeMap<String, usize>,
}

struct Inner {
    full_key: String,
    restricted_key: String,
    email: String,
    base: OnceLock<String>,
    state: Mutex<SendGridState>,
}

/// The SendGrid fake's test hooks. Cheap to clone; thread-safe.
#[derive(Clone)]
pub struct SendGridControl {
    inner: Arc<Inner>,
}

fn new_key(rng: &mut SeedRng) -> String {
    format!("SG.{}.{}", rng.base62(22), rng.base62(43))
}

impl SendGridControl {
    pub(crate) fn new(seed: u64) -> SendGridControl {
        let mut rng = SeedRng::derive(seed, "sendgrid.keys");
        let full_key = new_key(&mut rng);
        let restricted_key = new_key(&mut rng);
        let mut keys = HashMap::new();
        keys.insert(
            full_key.clone(),
            FULL_ACCESS_SCOPES.iter().map(|s| s.to_string()).collect(),
        );
        keys.insert(restricted_key.clone(), vec!["mail.send".to_string()]);
        SendGridControl {
            inner: Arc::new(Inner {
                full_key,
                restricted_key,
                email: "marketing@sandbox-coffee.example".into(),
                base: OnceLock::new(),
                state: Mutex::new(SendGridState {
                    rng,
                    keys,
                    by_path: BTreeMap::new(),
                }),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, SendGridState> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_base(&self, addr: SocketAddr) {
        let _ = self.inner.base.set(format!("http://{addr}"));
    }

    /// `http://127.0.0.1:PORT` (SendGrid's paths, `/v3/…`, go right after it).
    pub fn api_base(&self) -> String {
        self.inner
            .base
            .get()
            .cloned()
            .unwrap_or_else(|| "http://127.0.0.1:0".into())
    }

    /// A full-access key.
    pub fn api_key(&self) -> &str {
        &self.inner.full_key
    }

    /// A key with the scope `mail.send` only.
    pub fn restricted_api_key(&self) -> &str {
        &self.inner.restricted_key
    }

    /// A new key with these scopes.
    pub fn add_key(&self, scopes: &[&str]) -> String {
        let mut st = self.state();
        let key = new_key(&mut st.rng);
        st.keys
            .insert(key.clone(), scopes.iter().map(|s| s.to_string()).collect());
        key
    }

    /// The account's email (`GET /v3/user/email`).
    pub fn email(&self) -> &str {
        &self.inner.email
    }

    /// The profile's company (`GET /v3/user/profile`).
    pub fn company(&self) -> &str {
        "Sandbox Coffee Roasters"
    }

    /// Requests per path so far, whatever their answer.
    pub fn requests(&self, path: &str) -> usize {
        self.state().by_path.get(path).copied().unwrap_or(0)
    }

    pub(crate) fn ready_entry(&self, rate_limits: Value) -> Value {
        json!({
            "api_base": self.api_base(),
            "api_key": self.api_key(),
            "restricted_api_key": self.restricted_api_key(),
            "rate_limits": rate_limits,
        })
    }

    pub(crate) fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }

    fn answer(&self, method: &Method, path: &str, headers: &HeaderMap) -> Response {
        let error = |status: StatusCode, message: &str| {
            json_response(
                status,
                &json!({"errors": [{"field": null, "message": message}]}),
                &[],
            )
        };
        let needs = match (method, path) {
            (&Method::GET, "/v3/user/account") => Some("user.account.read"),
            (&Method::GET, "/v3/user/email") => Some("user.email.read"),
            (&Method::GET, "/v3/user/profile") => Some("user.profile.read"),
            (&Method::GET, "/v3/scopes") => None,
            _ => return error(StatusCode::NOT_FOUND, "resource not found"),
        };
        *self.state().by_path.entry(path.to_string()).or_default() += 1;
        let scopes = match bearer(headers).and_then(|key| self.state().keys.get(&key).cloned()) {
            Some(scopes) => scopes,
            None => return error(StatusCode::UNAUTHORIZED, "authorization required"),
        };
        if let Some(scope) = needs
            && !scopes.iter().any(|s| s == scope)
        {
            return error(StatusCode::FORBIDDEN, "access forbidden");
        }
        let body = match path {
            "/v3/user/account" => json!({"type": "paid", "reputation": 99.2}),
            "/v3/user/email" => json!({"email": self.inner.email}),
            "/v3/user/profile" => json!({
                "address": "1 Roastery Lane",
                "address2": "",
                "city": "Portland",
                "company": self.company(),
                "country": "US",
                "first_name": "Robin",
                "last_name": "Baker",
                "phone": "555-555-0100",
                "state": "OR",
                "website": "https://sandbox-coffee.example",
                "zip": "97201",
            }),
            _ => json!({ "scopes": scopes }),
        };
        json_response(StatusCode::OK, &body, &[])
    }
}

async fn handle(
    State(ctl): State<SendGridControl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let response = ctl.answer(&method, uri.path(), &headers);
    tracing::debug!(%method, path = uri.path(), status = response.status().as_u16(), "sendgrid sandbox");
    response
}
