//! A fake of a self-hosted BillionMail's API-key endpoint, `POST /api/batch_mail/api/send`.
//!
//! Built from BillionMail's source (aaPanel/BillionMail, read in the fork
//! volkanersumer/BillionMail: `core/api/batch_mail/v1/api_mail.go`,
//! `core/internal/controller/batch_mail/batch_mail_v1_api_mail_send.go`,
//! `core/utility/types/api_v1/common.go`), not from a running server:
//! - The key comes in the `X-API-Key` header; the body is JSON `{"recipient", "addresser"?}`.
//! - Checks in BillionMail's order, each answered HTTP 200 with
//!   `{"success": false, "code": …, "msg": …, "data": null}`: unknown or inactive key (1001
//!   "API key is invalid"), expired key (1002 "API key has expired"), the API's template gone
//!   (1004 "Email template does not exist"), recipient without `@` (1003 "Invalid recipient").
//!   A valid request "sends" (counted in [`BillionMailControl::sent`]) and answers
//!   `{"success": true, "code": 0, "msg": "Email sent successfully", "data": null}`.
//! - Other paths answer 404 without a body (BillionMail's catch-all for unknown `/api/` paths).
//!
//! Simplifications: one API (template, sender) per key; no IP allow-list; nothing is really
//! sent and no contact is created.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::{empty_response, hex, json_response};
use crate::seed::SeedRng;

/// The path of the API-key endpoint.
pub const SEND_PATH: &str = "/api/batch_mail/api/send";

struct BillionMailState {
    template_exists: bool,
    send_requests: usize,
    sent: Vec<String>,
}

struct Inner {
    api_key: String,
    expired_api_key: String,
    base: OnceLock<String>,
    state: Mutex<BillionMailState>,
}

/// The BillionMail fake's test hooks. Cheap to clone; thread-safe.
#[derive(Clone)]
pub struct BillionMailControl {
    inner: Arc<Inner>,
}

impl BillionMailControl {
    pub(crate) fn new(seed: u64) -> BillionMailControl {
        let mut rng = SeedRng::derive(seed, "billionmail.keys");
        BillionMailControl {
            inner: Arc::new(Inner {
                api_key: hex(&mut rng, 64),
                expired_api_key: hex(&mut rng, 64),
                base: OnceLock::new(),
                state: Mutex::new(BillionMailState {
                    template_exists: true,
                    send_requests: 0,
                    sent: Vec::new(),
                }),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, BillionMailState> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_base(&self, addr: SocketAddr) {
        let _ = self.inner.base.set(format!("http://{addr}"));
    }

    /// `http://127.0.0.1:PORT`: the "customer's BillionMail URL" (`/api/…` goes after it).
    pub fn api_base(&self) -> String {
        self.inner
            .base
            .get()
            .cloned()
            .unwrap_or_else(|| "http://127.0.0.1:0".into())
    }

    /// An active key.
    pub fn api_key(&self) -> &str {
        &self.inner.api_key
    }

    /// A key whose expiry has passed.
    pub fn expired_api_key(&self) -> &str {
        &self.inner.expired_api_key
    }

    /// Deletes (or restores) the email template the API sends with.
    pub fn set_template_exists(&self, exists: bool) {
        self.state().template_exists = exists;
    }

    /// Requests to the send endpoint, whatever their answer.
    pub fn send_requests(&self) -> usize {
        self.state().send_requests
    }

    /// Recipients of the mails "sent" so far.
    pub fn sent(&self) -> Vec<String> {
        self.state().sent.clone()
    }

    pub(crate) fn ready_entry(&self, rate_limits: Value) -> Value {
        json!({
            "api_base": self.api_base(),
            "api_key": self.api_key(),
            "rate_limits": rate_limits,
        })
    }

    pub(crate) fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }

    fn send(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        let mut st = self.state();
        st.send_requests += 1;
        let result = |success: bool, code: i64, msg: &str| {
            json_response(
                StatusCode::OK,
                &json!({"success": success, "code": code, "msg": msg, "data": null}),
                &[],
            )
        };
        let key = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if key != self.inner.api_key && key != self.inner.expired_api_key {
            return result(false, 1001, "API key is invalid");
        }
        if key == self.inner.expired_api_key {
            return result(false, 1002, "API key has expired");
        }
        if !st.template_exists {
            return result(false, 1004, "Email template does not exist");
        }
        let recipient = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("recipient")?.as_str().map(str::to_string))
            .unwrap_or_default();
        if recipient.is_empty() || !recipient.contains('@') {
            return result(false, 1003, "Invalid recipient");
        }
        st.sent.push(recipient);
        result(true, 0, "Email sent successfully")
    }
}

async fn handle(
    State(ctl): State<BillionMailControl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let response = if uri.path() == SEND_PATH && method == Method::POST {
        ctl.send(&headers, &body)
    } else {
        empty_response(StatusCode::NOT_FOUND)
    };
    tracing::debug!(%method, path = uri.path(), status = response.status().as_u16(), "billionmail sandbox");
    response
}
