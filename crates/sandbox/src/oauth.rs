//! Fake OAuth 2.0 authorization servers for Xero, QuickBooks Online, Google, Square, MYOB and
//! Mautic: one generic server ([`OAuthControl`]) parametrised by a per-provider profile
//! (`oauth/profiles.rs`, which also records the facts each profile relies on and where they
//! are documented).
//!
//! What every fake does, as the real app's OAuth client will meet it:
//! - Authorization code grant with PKCE (RFC 7636): `code_challenge_method=S256` is required;
//!   `plain` or no challenge is refused with a redirect carrying `error=invalid_request`.
//!   `state` comes back unchanged. Redirect URIs must be loopback `http` URIs (RFC 8252
//!   section 7.3: `127.0.0.1`, `[::1]` or `localhost`, any port) unless a test registers exact
//!   ones ([`OAuthControl::set_registered_redirect_uris`]; Google then still ignores the port).
//!   A bad client id or redirect URI gets an error page, never a redirect (RFC 6749 4.1.2.1).
//! - With `auto_approve` (the default) `GET authorize` answers 302 to
//!   `redirect_uri?code=…&state=…` plus the provider's extras (QuickBooks' `realmId`, MYOB's
//!   `businessId`/`businessName`, the granted `scope` where the provider echoes it). Without
//!   it, a small consent page whose Approve button (a form POST to the same path) redirects,
//!   and whose Deny button redirects with `error=access_denied`.
//! - Token endpoint: codes are single-use (any attempt burns the code) and short-lived; the
//!   `redirect_uri` must equal the authorize one; the verifier must hash to the challenge.
//!   Refreshes follow the provider: rotation with a grace period (Xero, 30 min), rotation with
//!   the old token refused at once (QuickBooks, Square, MYOB, Mautic), no rotation (Google).
//!   Answers follow RFC 6749 section 5.1 except where the provider differs (Square's
//!   `expires_at`, MYOB's string `expires_in`, Intuit's `x_refresh_token_expires_in`); errors
//!   follow section 5.2 (400 `invalid_grant`…, 401 `invalid_client`) except Square's own shape.
//! - Revocation the provider's way (RFC 7009 form for Xero and Google, Intuit's JSON, Square's
//!   `Authorization: Client`), and the identity endpoints the app reads: Xero `/connections`,
//!   QuickBooks `companyinfo`, Google `userinfo`, Square `merchants/me`, MYOB `/accountright/`,
//!   Mautic `/api/users/self`. A revoked or expired access token gets the provider's 401.
//!
//! Time is the fake's own clock: the wall clock plus [`OAuthControl::advance`], so tests expire
//! codes, tokens and grace periods without sleeping. [`OAuthControl::revoke_all_grants`]
//! simulates the user removing the app at the provider. [`OAuthControl::counters`] tells what
//! reached the server (token requests by grant type, refreshes, uses of each refresh token,
//! revocations, API calls).
//!
//! Each fake has its own listener on 127.0.0.1 (paths mirror the provider's, which span several
//! hosts in reality); [`crate::Sandbox::ready_line`] announces every URL under
//! `providers.<key>`. Ids and tokens are drawn from the sandbox seed.

mod authorize;
mod identity;
mod profiles;
mod revoke;
mod token;
mod util;

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use profiles::OAuthProfile;
use profiles::{PROFILES, RevokeStyle};

use crate::seed::{self, Person, SeedRng};

/// The ready-line keys of the OAuth fakes, in order.
pub const OAUTH_PROVIDERS: [&str; 6] = ["xero", "quickbooks", "google", "square", "myob", "mautic"];

/// The most Xero tenants a grant can connect ([`OAuthControl::set_tenant_count`]).
pub const MAX_TENANTS: usize = 10;

/// What reached one fake so far ([`OAuthControl::counters`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OAuthCounters {
    /// Requests to the authorize endpoint (GET, and consent POSTs).
    pub authorize_requests: usize,
    /// Consent pages shown (`auto_approve` off).
    pub consent_pages: usize,
    /// Authorizations approved (automatically or with the Approve button).
    pub approvals: usize,
    /// Authorizations denied with the Deny button.
    pub denials: usize,
    /// Token endpoint requests by `grant_type`, whatever their answer (`(none)` when absent).
    pub token_requests: BTreeMap<String, usize>,
    /// Token endpoint refusals by error code (`invalid_grant`, `invalid_client`, …).
    pub token_errors: BTreeMap<String, usize>,
    /// Codes exchanged for tokens successfully.
    pub codes_exchanged: usize,
    /// Successful refreshes.
    pub refreshes: usize,
    /// Refresh requests per refresh token presented, whatever their answer.
    pub refresh_token_uses: BTreeMap<String, usize>,
    /// Requests to the revocation endpoint, whatever their answer.
    pub revokes: usize,
    /// Requests to the identity endpoints, whatever their answer.
    pub api_requests: usize,
    /// Of those, the ones refused with 401.
    pub api_unauthorized: usize,
}

impl OAuthCounters {
    /// Token requests with this `grant_type` (`authorization_code`, `refresh_token`).
    pub fn token_requests(&self, grant_type: &str) -> usize {
        self.token_requests.get(grant_type).copied().unwrap_or(0)
    }

    /// Refresh requests that reached the token endpoint.
    pub fn refresh_requests(&self) -> usize {
        self.token_requests("refresh_token")
    }

    /// How many refresh requests presented `refresh_token`.
    pub fn refresh_token_uses(&self, refresh_token: &str) -> usize {
        self.refresh_token_uses
            .get(refresh_token)
            .copied()
            .unwrap_or(0)
    }

    /// Token endpoint refusals with this error code.
    pub fn token_errors(&self, error: &str) -> usize {
        self.token_errors.get(error).copied().unwrap_or(0)
    }
}

/// Who approves at a fake and what they connect: the same on every authorization, so a
/// reconnect finds the same company ([`OAuthControl::account`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthAccount {
    /// The user's id at the provider (Google `sub`, Xero user id, MYOB `uid`, Mautic user id).
    pub subject: String,
    pub name: String,
    pub email: String,
    /// QuickBooks company, Square business, MYOB company file.
    pub company: String,
    /// QuickBooks `realmId`.
    pub realm_id: String,
    /// Square `merchant_id`.
    pub merchant_id: String,
    /// MYOB `businessId` (the company file GUID).
    pub business_id: String,
    /// Xero organisations a grant connects: the first [`OAuthControl::set_tenant_count`] of them.
    pub tenants: Vec<OAuthTenant>,
}

/// A Xero organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthTenant {
    pub tenant_id: String,
    pub name: String,
}

/// Settings tests change through [`OAuthControl`].
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) auto_approve: bool,
    pub(crate) access_ttl: Duration,
    pub(crate) code_ttl: Duration,
    pub(crate) refresh_grace: Duration,
    pub(crate) refresh_lifetime: Option<Duration>,
    pub(crate) tenant_count: usize,
    pub(crate) registered_redirects: Option<Vec<String>>,
    /// Mautic: whether the instance accepts HTTP basic auth on its API (its "Enable HTTP basic
    /// auth?" setting).
    pub(crate) basic_auth: bool,
}

/// An authorization request that passed validation.
#[derive(Clone, Debug)]
pub(crate) struct AuthRequest {
    pub(crate) redirect_uri: String,
    /// Whether `redirect_uri` was in the request (else the registered one, Square).
    pub(crate) redirect_given: bool,
    pub(crate) state: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) challenge: String,
    pub(crate) offline_access_type: bool,
    pub(crate) prompt_consent: bool,
}

#[derive(Debug)]
pub(crate) struct Code {
    pub(crate) redirect_uri: Option<String>,
    pub(crate) challenge: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) offline: bool,
    pub(crate) expires_ms: i64,
    pub(crate) used: bool,
    pub(crate) auth_event_id: String,
}

#[derive(Debug)]
pub(crate) struct Grant {
    pub(crate) scopes: Vec<String>,
    pub(crate) revoked: bool,
    pub(crate) consent_ms: i64,
    pub(crate) auth_event_id: String,
}

#[derive(Debug)]
pub(crate) struct AccessToken {
    pub(crate) grant: usize,
    pub(crate) expires_ms: i64,
    pub(crate) revoked: bool,
    pub(crate) scopes: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct RefreshToken {
    pub(crate) grant: usize,
    pub(crate) expires_ms: Option<i64>,
    /// When it was first used for a refresh that rotated it.
    pub(crate) rotated_ms: Option<i64>,
    pub(crate) revoked: bool,
}

/// A Xero connection: one tenant connected to the app.
#[derive(Clone, Debug)]
pub(crate) struct Connection {
    pub(crate) id: String,
    pub(crate) tenant: usize,
    pub(crate) auth_event_id: String,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
}

pub(crate) struct FakeState {
    pub(crate) offset_ms: i64,
    pub(crate) settings: Settings,
    pub(crate) rng: SeedRng,
    pub(crate) account: OAuthAccount,
    pub(crate) person: Person,
    pub(crate) pending: HashMap<String, AuthRequest>,
    pub(crate) codes: HashMap<String, Code>,
    pub(crate) grants: Vec<Grant>,
    pub(crate) access: HashMap<String, AccessToken>,
    pub(crate) refresh: HashMap<String, RefreshToken>,
    pub(crate) connections: Vec<Connection>,
    /// Google: the user has already given offline consent (a re-grant without
    /// `prompt=consent` then gets no refresh token).
    pub(crate) offline_consented: bool,
    pub(crate) counters: OAuthCounters,
}

impl FakeState {
    /// Ends a grant: every token of it stops working; Xero's connections of it go.
    pub(crate) fn revoke_grant(&mut self, grant: usize) {
        let Some(g) = self.grants.get_mut(grant) else {
            return;
        };
        g.revoked = true;
        let event = g.auth_event_id.clone();
        self.connections.retain(|c| c.auth_event_id != event);
    }
}

pub(crate) struct Inner {
    pub(crate) profile: &'static OAuthProfile,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<String>,
    /// Mautic: the API user's password for HTTP basic auth.
    pub(crate) basic_password: String,
    base: OnceLock<String>,
    /// Square: its payments API, served behind this fake's token check.
    pub(crate) square: OnceLock<crate::square::SquareControl>,
    epoch: Instant,
    wall_start_ms: i64,
    state: Mutex<FakeState>,
}

impl Inner {
    pub(crate) fn state(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fake's now, in Unix milliseconds: the wall clock plus every `advance`.
    pub(crate) fn now_ms(&self, st: &FakeState) -> i64 {
        self.wall_start_ms + self.epoch.elapsed().as_millis() as i64 + st.offset_ms
    }

    fn base(&self) -> &str {
        self.base.get().map_or("http://127.0.0.1:0", String::as_str)
    }
}

/// One OAuth fake: its test hooks and its router. Cheap to clone; thread-safe.
#[derive(Clone)]
pub struct OAuthControl {
    inner: Arc<Inner>,
}

fn profile(key: &str) -> Option<&'static OAuthProfile> {
    PROFILES.iter().copied().find(|p| p.key == key)
}

impl OAuthControl {
    /// The fake for `key` (one of [`OAUTH_PROVIDERS`]) with client credentials and account data
    /// drawn from `seed`; [`crate::Sandbox::start`] serves one of each.
    pub(crate) fn new(key: &str, seed: u64) -> Option<OAuthControl> {
        let profile = profile(key)?;
        let mut rng = SeedRng::derive(seed, &format!("oauth.{key}"));
        let client_id = (profile.client_id)(&mut rng);
        let client_secret = profile.client_secret.map(|make| make(&mut rng));
        let person = Person::random(&mut rng);
        let tenants = (0..MAX_TENANTS)
            .map(|i| OAuthTenant {
                tenant_id: util::uuid(&mut rng),
                name: match i {
                    0 => "Demo Company (NZ)".to_string(),
                    1 => "Switchboard Sandbox Ltd".to_string(),
                    n => format!("{} Trading {n}", seed::LAST_NAMES[rng.below(20) as usize]),
                },
            })
            .collect();
        let account = OAuthAccount {
            subject: match profile.key {
                "google" => rng.digits(21),
                "mautic" => rng.range(1, 40).to_string(),
                _ => util::uuid(&mut rng),
            },
            name: person.name(),
            email: person.email(),
            company: format!("{} Supplies", seed::LAST_NAMES[rng.below(20) as usize]),
            realm_id: format!("93414{}", rng.digits(11)),
            merchant_id: rng.base62(13).to_ascii_uppercase(),
            business_id: util::uuid(&mut rng),
            tenants,
        };
        let now = seed::now_unix() * 1000;
        let settings = Settings {
            auto_approve: true,
            access_ttl: profile.access_ttl,
            code_ttl: profile.code_ttl,
            refresh_grace: profile.refresh.grace,
            refresh_lifetime: profile.refresh.lifetime,
            tenant_count: 2,
            registered_redirects: None,
            basic_auth: true,
        };
        // Its own stream, so the rest of the seeded data does not move.
        let basic_password = SeedRng::derive(seed, &format!("oauth.{key}.basic")).base62(24);
        Some(OAuthControl {
            inner: Arc::new(Inner {
                profile,
                client_id,
                client_secret,
                basic_password,
                base: OnceLock::new(),
                square: OnceLock::new(),
                epoch: Instant::now(),
                wall_start_ms: now,
                state: Mutex::new(FakeState {
                    offset_ms: 0,
                    settings,
                    rng,
                    account,
                    person,
                    pending: HashMap::new(),
                    codes: HashMap::new(),
                    grants: Vec::new(),
                    access: HashMap::new(),
                    refresh: HashMap::new(),
                    connections: Vec::new(),
                    offline_consented: false,
                    counters: OAuthCounters::default(),
                }),
            }),
        })
    }

    fn update(&self, f: impl FnOnce(&mut FakeState)) {
        f(&mut self.inner.state());
    }

    /// The ready-line key (`xero`, …).
    pub fn key(&self) -> &'static str {
        self.inner.profile.key
    }

    /// The provider's profile (its name and the documentation its facts come from).
    pub fn profile(&self) -> &'static OAuthProfile {
        self.inner.profile
    }

    /// The only client id the fake knows.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The client secret, for providers that have one (not Xero's PKCE apps).
    pub fn client_secret(&self) -> Option<&str> {
        self.inner.client_secret.as_deref()
    }

    /// `http://127.0.0.1:PORT` once served (the API paths go right after it).
    pub fn api_base(&self) -> String {
        self.inner.base().to_string()
    }

    pub fn authorize_url(&self) -> String {
        format!("{}{}", self.inner.base(), self.inner.profile.authorize_path)
    }

    pub fn token_url(&self) -> String {
        format!("{}{}", self.inner.base(), self.inner.profile.token_path)
    }

    /// `None` where the provider offers no revocation (MYOB, Mautic).
    pub fn revoke_url(&self) -> Option<String> {
        let p = self.inner.profile;
        p.revoke_path
            .map(|path| format!("{}{path}", self.inner.base()))
    }

    /// Who approves and what they connect.
    pub fn account(&self) -> OAuthAccount {
        let st = self.inner.state();
        let mut account = st.account.clone();
        account.tenants.truncate(st.settings.tenant_count);
        account
    }

    /// Move the fake's clock forward (codes, tokens and grace periods expire by it).
    pub fn advance(&self, by: Duration) {
        self.update(|st| st.offset_ms += by.as_millis() as i64);
    }

    /// The fake's now, in Unix seconds.
    pub fn now_unix(&self) -> i64 {
        let st = self.inner.state();
        self.inner.now_ms(&st).div_euclid(1000)
    }

    /// On (the default): `GET authorize` redirects at once. Off: it shows a consent page.
    pub fn set_auto_approve(&self, on: bool) {
        self.update(|st| st.settings.auto_approve = on);
    }

    /// The lifetime of access tokens issued from now on (default: the provider's).
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        self.update(|st| st.settings.access_ttl = lifetime);
    }

    /// The lifetime of authorization codes issued from now on.
    pub fn set_code_lifetime(&self, lifetime: Duration) {
        self.update(|st| st.settings.code_ttl = lifetime);
    }

    /// How long a rotated refresh token keeps working (Xero: 30 minutes; others: zero).
    pub fn set_refresh_grace(&self, grace: Duration) {
        self.update(|st| st.settings.refresh_grace = grace);
    }

    /// The lifetime of refresh tokens issued from now on (`None`: they never lapse).
    pub fn set_refresh_token_lifetime(&self, lifetime: Option<Duration>) {
        self.update(|st| st.settings.refresh_lifetime = lifetime);
    }

    /// Mautic: the user name and password HTTP basic auth accepts (the user of `users/self`).
    pub fn basic_auth(&self) -> (String, String) {
        let st = self.inner.state();
        (
            st.account
                .email
                .split('@')
                .next()
                .unwrap_or("admin")
                .to_string(),
            self.inner.basic_password.clone(),
        )
    }

    /// Mautic: turns the instance's HTTP basic auth on or off (on by default).
    pub fn set_basic_auth(&self, on: bool) {
        self.update(|st| st.settings.basic_auth = on);
    }

    /// How many Xero organisations an authorization connects (default 2, at most
    /// [`MAX_TENANTS`]).
    pub fn set_tenant_count(&self, count: usize) {
        self.update(|st| st.settings.tenant_count = count.min(MAX_TENANTS));
    }

    /// Accept only these redirect URIs (exact match; Google ignores a loopback port). `None`,
    /// the default, accepts any loopback `http` URI.
    pub fn set_registered_redirect_uris(&self, uris: Option<Vec<String>>) {
        self.update(|st| st.settings.registered_redirects = uris);
    }

    /// The user removes the app at the provider: every grant ends, so refreshes get
    /// `invalid_grant` and API calls 401. Returns how many grants were active.
    pub fn revoke_all_grants(&self) -> usize {
        let mut st = self.inner.state();
        let active: Vec<usize> = (0..st.grants.len())
            .filter(|i| !st.grants[*i].revoked)
            .collect();
        for g in &active {
            st.revoke_grant(*g);
        }
        active.len()
    }

    /// Ends the grant `token` (an access or refresh token) belongs to; false if unknown.
    pub fn revoke_grant_of(&self, token: &str) -> bool {
        let mut st = self.inner.state();
        let grant = st
            .access
            .get(token)
            .map(|t| t.grant)
            .or_else(|| st.refresh.get(token).map(|t| t.grant));
        grant.inspect(|g| st.revoke_grant(*g)).is_some()
    }

    /// Grants not revoked.
    pub fn active_grants(&self) -> usize {
        self.inner
            .state()
            .grants
            .iter()
            .filter(|g| !g.revoked)
            .count()
    }

    /// What reached the fake so far.
    pub fn counters(&self) -> OAuthCounters {
        self.inner.state().counters.clone()
    }

    pub fn reset_counters(&self) {
        self.update(|st| st.counters = OAuthCounters::default());
    }

    /// Square: serves the payments fake on this listener, after this fake's token check and
    /// on this fake's clock.
    pub(crate) fn serve_square_payments(&self, payments: crate::square::SquareControl) {
        let inner = Arc::downgrade(&self.inner);
        payments.set_clock(Arc::new(move || match inner.upgrade() {
            Some(inner) => inner.now_ms(&inner.state()),
            None => seed::now_unix() * 1000,
        }));
        let _ = self.inner.square.set(payments);
    }

    /// `providers.<key>` of the ready line.
    pub(crate) fn ready_entry(&self, rate_limits: Value) -> Value {
        let mut entry = json!({
            "api_base": self.api_base(),
            "authorize_url": self.authorize_url(),
            "token_url": self.token_url(),
            "revoke_url": self.revoke_url(),
            "client_id": self.client_id(),
            "rate_limits": rate_limits,
        });
        if let Some(secret) = self.client_secret() {
            entry["client_secret"] = json!(secret);
        }
        entry
    }

    /// An axum router serving the fake at the root.
    pub(crate) fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }

    /// Bind 127.0.0.1 on an ephemeral port and serve on a tokio task.
    pub(crate) async fn serve(self) -> std::io::Result<Served> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr: SocketAddr = listener.local_addr()?;
        let _ = self.inner.base.set(format!("http://{addr}"));
        let app = self.router();
        let (stop, stopped) = oneshot::channel::<()>();
        let key = self.key();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = served.await {
                tracing::warn!(provider = key, error = %e, "oauth sandbox stopped with an error");
            }
        });
        Ok(Served {
            control: self,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A fake being served; stopped by [`Served::stop`] or on drop.
pub(crate) struct Served {
    pub(crate) control: OAuthControl,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Served {
    /// Stop accepting connections; the task to await for in-flight requests to finish.
    pub(crate) fn stop(&mut self) -> Option<JoinHandle<()>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn handle(
    State(ctl): State<OAuthControl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let inner = &ctl.inner;
    let p = inner.profile;
    let path = uri.path();
    let query = uri.query().unwrap_or("");
    let response = if path == p.authorize_path {
        match method {
            Method::GET => inner.authorize(query),
            Method::POST => inner.consent(&body),
            _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        }
    } else if path == p.token_path {
        match method {
            Method::POST => inner.token(&headers, &body),
            _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        }
    } else if Some(path) == p.revoke_path && p.revoke != RevokeStyle::None {
        match method {
            Method::POST => inner.revoke(query, &headers, &body),
            _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        }
    } else if let Some(answer) = inner.square_payments(&method, path, query, &headers, &body) {
        answer
    } else {
        inner.identity(&method, path, query, &headers)
    };
    // Never the query: it carries codes and states.
    tracing::debug!(provider = p.key, %method, path, status = response.status().as_u16(), "oauth sandbox");
    response
}
