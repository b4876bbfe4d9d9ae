//! A fake of Twilio's REST API (2010-04-01) for what connecting uses: the Account resource and an
//! empty Messages list.
//!
//! Faithful to Twilio where the app can tell:
//! - HTTP Basic with the Account SID and Auth Token, or an API key SID (`SK…`) and its secret
//!   (https://www.twilio.com/docs/usage/requests-to-twilio); the account is the one in the path.
//! - `GET /2010-04-01/Accounts/{Sid}.json`: the account (`sid`, `friendly_name`, `status`,
//!   `type`, `owner_account_sid`, `auth_token`, RFC 2822 dates, `subresource_uris`, `uri`;
//!   https://www.twilio.com/docs/iam/api/account). The API key is a Standard key unless a test
//!   makes it a Main key: a Standard key may not read Accounts
//!   (https://www.twilio.com/docs/iam/api-keys/keys-in-console) and gets 401 error 20003, as
//!   Twilio answers it (twilio/twilio-python#259).
//! - `GET /2010-04-01/Accounts/{AccountSid}/Messages.json`: an empty page in the shape of
//!   `shared/specs/twilio-messaging.json` (`PageSize` 1..=1000, default 50).
//! - Wrong or missing credentials, or credentials of another account: 401 `{"code": 20003,
//!   "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003",
//!   "status": 401}` with `WWW-Authenticate: Basic realm="Twilio API"`. Unknown resources: 404
//!   error 20404. Every answer has a `Twilio-Request-Id: RQ…` header.
//!
//! Simplifications: no subaccounts; [`TwilioControl::set_status`] changes only the answer's
//! `status` (real Twilio refuses a suspended or closed account's credentials with 20003).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::{basic_credentials, hex, json_response, rfc2822};
use crate::seed::{self, SeedRng};

struct TwilioState {
    rng: SeedRng,
    status: String,
    main_key: bool,
    by_path: BTreeMap<String, usize>,
    unauthorized: usize,
}

struct Inner {
    account_sid: String,
    auth_token: String,
    api_key_sid: String,
    api_key_secret: String,
    friendly_name: String,
    created: i64,
    base: OnceLock<String>,
    state: Mutex<TwilioState>,
}

/// Who a request authenticated as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caller {
    AuthToken,
    ApiKey,
}

/// The Twilio fake's test hooks. Cheap to clone; thread-safe.
#[derive(Clone)]
pub struct TwilioControl {
    inner: Arc<Inner>,
}

impl TwilioControl {
    pub(crate) fn new(seed: u64) -> TwilioControl {
        let mut rng = SeedRng::derive(seed, "twilio.account");
        let account_sid = format!("AC{}", hex(&mut rng, 32));
        let auth_token = hex(&mut rng, 32);
        let api_key_sid = format!("SK{}", hex(&mut rng, 32));
        let api_key_secret = rng.base62(32);
        TwilioControl {
            inner: Arc::new(Inner {
                account_sid,
                auth_token,
                api_key_sid,
                api_key_secret,
                friendly_name: "Switchboard Sandbox SMS".to_string(),
                created: seed::reference_time(seed) - 400 * 86_400,
                base: OnceLock::new(),
                state: Mutex::new(TwilioState {
                    rng: SeedRng::derive(seed, "twilio.requests"),
                    status: "active".into(),
                    main_key: false,
                    by_path: BTreeMap::new(),
                    unauthorized: 0,
                }),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, TwilioState> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_base(&self, addr: SocketAddr) {
        let _ = self.inner.base.set(format!("http://{addr}"));
    }

    /// `http://127.0.0.1:PORT` (Twilio's paths, `/2010-04-01/…`, go right after it).
    pub fn api_base(&self) -> String {
        self.inner
            .base
            .get()
            .cloned()
            .unwrap_or_else(|| "http://127.0.0.1:0".into())
    }

    pub fn account_sid(&self) -> &str {
        &self.inner.account_sid
    }

    pub fn auth_token(&self) -> &str {
        &self.inner.auth_token
    }

    pub fn api_key_sid(&self) -> &str {
        &self.inner.api_key_sid
    }

    pub fn api_key_secret(&self) -> &str {
        &self.inner.api_key_secret
    }

    /// The account's `friendly_name`.
    pub fn friendly_name(&self) -> &str {
        &self.inner.friendly_name
    }

    /// Makes the API key a Main key (may read Accounts) or, the default, a Standard one.
    pub fn set_api_key_main(&self, main: bool) {
        self.state().main_key = main;
    }

    /// The `status` the account answers with (`active`, `suspended`, `closed`).
    pub fn set_status(&self, status: &str) {
        self.state().status = status.to_string();
    }

    /// Requests per route (`/2010-04-01/Accounts/{Sid}.json`, `…/Messages.json`).
    pub fn requests(&self, route: &str) -> usize {
        self.state().by_path.get(route).copied().unwrap_or(0)
    }

    /// Requests answered 401.
    pub fn unauthorized(&self) -> usize {
        self.state().unauthorized
    }

    pub(crate) fn ready_entry(&self, rate_limits: Value) -> Value {
        json!({
            "api_base": self.api_base(),
            "account_sid": self.account_sid(),
            "auth_token": self.auth_token(),
            "api_key_sid": self.api_key_sid(),
            "api_key_secret": self.api_key_secret(),
            "rate_limits": rate_limits,
        })
    }

    pub(crate) fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }

    fn caller(&self, headers: &HeaderMap, account: &str) -> Option<Caller> {
        let (user, password) = basic_credentials(headers)?;
        let inner = &self.inner;
        if account != inner.account_sid {
            return None;
        }
        if user == inner.account_sid && password == inner.auth_token {
            Some(Caller::AuthToken)
        } else if user == inner.api_key_sid && password == inner.api_key_secret {
            Some(Caller::ApiKey)
        } else {
            None
        }
    }

    fn account_json(&self) -> Value {
        let inner = &self.inner;
        let sid = &inner.account_sid;
        let base = format!("/2010-04-01/Accounts/{sid}");
        json!({
            "auth_token": inner.auth_token,
            "date_created": rfc2822(inner.created),
            "date_updated": rfc2822(inner.created + 86_400),
            "friendly_name": inner.friendly_name,
            "owner_account_sid": sid,
            "sid": sid,
            "status": self.state().status,
            "subresource_uris": {
                "addresses": format!("{base}/Addresses.json"),
                "balance": format!("{base}/Balance.json"),
                "calls": format!("{base}/Calls.json"),
                "incoming_phone_numbers": format!("{base}/IncomingPhoneNumbers.json"),
                "keys": format!("{base}/Keys.json"),
                "messages": format!("{base}/Messages.json"),
            },
            "type": "Full",
            "uri": format!("{base}.json"),
        })
    }

    fn answer(&self, method: &Method, uri: &Uri, headers: &HeaderMap, rid: &str) -> Response {
        let path = uri.path();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let route = match (method, segments.as_slice()) {
            (&Method::GET, ["2010-04-01", "Accounts", file]) if file.ends_with(".json") => Some((
                "/2010-04-01/Accounts/{Sid}.json",
                file.trim_end_matches(".json"),
            )),
            (&Method::GET, ["2010-04-01", "Accounts", account, "Messages.json"]) => {
                Some(("/2010-04-01/Accounts/{AccountSid}/Messages.json", *account))
            }
            _ => None,
        };
        let request_id = ("Twilio-Request-Id", rid.to_string());
        let Some((route, account)) = route else {
            return json_response(
                StatusCode::NOT_FOUND,
                &json!({
                    "code": 20404,
                    "message": format!("The requested resource {path} was not found"),
                    "more_info": "https://www.twilio.com/docs/errors/20404",
                    "status": 404,
                }),
                &[request_id],
            );
        };
        *self.state().by_path.entry(route.to_string()).or_default() += 1;
        let caller = self.caller(headers, account);
        let standard_key = caller == Some(Caller::ApiKey) && !self.state().main_key;
        let on_account = route == "/2010-04-01/Accounts/{Sid}.json";
        if caller.is_none() || (on_account && standard_key) {
            self.state().unauthorized += 1;
            return json_response(
                StatusCode::UNAUTHORIZED,
                &json!({
                    "code": 20003,
                    "message": "Authenticate",
                    "more_info": "https://www.twilio.com/docs/errors/20003",
                    "status": 401,
                }),
                &[
                    request_id,
                    ("WWW-Authenticate", "Basic realm=\"Twilio API\"".to_string()),
                ],
            );
        }
        if on_account {
            return json_response(StatusCode::OK, &self.account_json(), &[request_id]);
        }
        let page_size = uri
            .query()
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == "PageSize")
                    .map(|(_, v)| v)
            });
        let page_size = match page_size.map(|v| v.parse::<u32>()) {
            None => 50,
            Some(Ok(n)) if (1..=1000).contains(&n) => n,
            Some(_) => {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({
                        "code": 20001,
                        "message": "Invalid PageSize",
                        "more_info": "https://www.twilio.com/docs/errors/20001",
                        "status": 400,
                    }),
                    &[request_id],
                );
            }
        };
        let uri = format!(
            "/2010-04-01/Accounts/{}/Messages.json?PageSize={page_size}&Page=0",
            self.inner.account_sid
        );
        json_response(
            StatusCode::OK,
            &json!({
                "end": 0,
                "first_page_uri": uri,
                "messages": [],
                "next_page_uri": null,
                "page": 0,
                "page_size": page_size,
                "previous_page_uri": null,
                "start": 0,
                "uri": uri,
            }),
            &[request_id],
        )
    }
}

async fn handle(
    State(ctl): State<TwilioControl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let rid = format!("RQ{}", hex(&mut ctl.state().rng, 32));
    let response = ctl.answer(&method, &uri, &headers, &rid);
    tracing::debug!(%method, path = uri.path(), status = response.status().as_u16(), "twilio sandbox");
    response
}
