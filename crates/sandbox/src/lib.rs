//! Fake providers on loopback, faithful to the providers' official API specs, with seeded data.
//!
//! [`Sandbox::start`] binds `127.0.0.1` (an ephemeral port unless one is given), generates every
//! provider's data from one seed, and serves until [`Sandbox::shutdown`] or drop. What is served
//! is announced by [`Sandbox::ready_line`], the one JSON line `switchboard sandbox serve` prints:
//! `{"providers":{"stripe":{"api_base":"http://127.0.0.1:PORT","api_key":"sk_test_…"}}}`.
//! Clients take each provider's base URL from that object and never assume a layout.
//!
//! Layout, and how it grows: one module per provider (`stripe.rs` now; PayPal, Square, Xero…
//! later), each a self-contained fake with its own seeded stream from [`seed`] and its own
//! control handle for tests (fault injection, adding objects, counting requests). Stripe owns
//! the root of the main port because its paths start at `/v1`; providers whose paths would
//! collide (PayPal also uses `/v1`) get a listener of their own, announced in the ready line.
//!
//! How faithful each fake is, and what it leaves out, is written at the top of its module.
//!
//! OAuth 2.0 authorization servers ([`oauth`]) for Xero, QuickBooks Online, Google, Square, MYOB
//! and Mautic each get a listener of their own and a `providers.<key>` entry in the ready line
//! (`api_base`, `authorize_url`, `token_url`, `revoke_url`, `client_id`, `client_secret` where
//! the provider has one, `rate_limits`); [`Sandbox::oauth`] gives their test hooks.
//!
//! Random, replayable fault injection ([`faults`]): [`Sandbox::start_with_faults`] with a
//! [`FaultConfig`] (`switchboard sandbox serve --faults SPEC --fault-seed N`); the ready line
//! then echoes the spec as `providers.stripe.faults`.

// The charge object is one large `json!` literal.
#![recursion_limit = "256"]

pub mod credentials;
pub mod faults;
pub mod oauth;
pub mod seed;
pub mod square;
pub mod stripe;

use std::net::{Ipv4Addr, SocketAddr};

use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use credentials::{
    BillionMailControl, PayPalControl, PayPalSearch, PayPalTransaction, PayPalWebhookHeaders,
    SendGridControl, SmtpControl, TwilioControl,
};
pub use faults::{FaultConfig, FaultCounts, FaultKind, FaultSpec, FaultSpecError};
pub use oauth::{OAUTH_PROVIDERS, OAuthAccount, OAuthControl, OAuthCounters, OAuthTenant};
pub use square::{SquareControl, SquareCounters, SquareFault, SquareSnapshot};
pub use stripe::{
    CREATE_REFUND_ROUTE, Corruption, Counters, Fault, ObjectCounts, PostFault, StripeControl,
};

/// The request budget the fakes announce (per second; no per-minute, daily or concurrency
/// limit). Generous on purpose: clients apply it to sandbox connections instead of the real
/// providers' budgets (Stripe test mode allows 25/s), so benchmarks measure the engine, not
/// the limiter. The fakes themselves never refuse a request for rate (faults aside).
pub const RATE_LIMITS_PER_SECOND: u32 = 10_000;

/// `rate_limits` of the ready line, in the shape of the catalogue's `RateLimits`.
fn rate_limits() -> Value {
    json!({
        "per_second": RATE_LIMITS_PER_SECOND,
        "per_minute": null,
        "per_day": null,
        "concurrent": null,
    })
}

/// What to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of all generated data (same seed, same data).
    pub seed: u64,
    /// Number of Stripe charges to generate (at least the two demo charges are always present).
    pub stripe_charges: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            port: 0,
            seed: 42,
            stripe_charges: 3000,
        }
    }
}

/// A running sandbox. Stops serving on [`Sandbox::shutdown`] or when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    stripe: StripeControl,
    faults: FaultSpec,
    /// The OAuth fakes, in [`OAUTH_PROVIDERS`] order, each on its own listener.
    oauth: Vec<oauth::Served>,
    /// Square's payments API, served on the Square OAuth fake's listener.
    square: SquareControl,
    /// PayPal, Twilio, SendGrid, BillionMail and SMTP, each on its own listener.
    credentials: credentials::CredentialFakes,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Bind 127.0.0.1:`config.port`, generate the seeded data and serve on a tokio task.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        Sandbox::start_with_faults(config, FaultConfig::default()).await
    }

    /// [`Sandbox::start`], with random faults injected from the first request on (see
    /// [`faults`]).
    pub async fn start_with_faults(
        config: SandboxConfig,
        faults: FaultConfig,
    ) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
        let addr = listener.local_addr()?;
        let SandboxConfig {
            seed,
            stripe_charges,
            ..
        } = config;
        // Generating a large set is CPU work: keep it off the async workers.
        let stripe =
            tokio::task::spawn_blocking(move || StripeControl::seeded(seed, stripe_charges))
                .await
                .map_err(std::io::Error::other)?;
        let spec = faults.faults.clone();
        let fault_seed = faults.fault_seed;
        stripe.set_random_faults(faults);
        let app = stripe.router();
        let mut oauth = Vec::with_capacity(OAUTH_PROVIDERS.len());
        for key in OAUTH_PROVIDERS {
            let control = OAuthControl::new(key, seed)
                .ok_or_else(|| std::io::Error::other(format!("no OAuth profile {key}")))?;
            oauth.push(control.serve().await?);
        }
        let square_oauth = oauth
            .iter()
            .map(|served| &served.control)
            .find(|control| control.key() == "square")
            .ok_or_else(|| std::io::Error::other("no Square OAuth fake"))?;
        let merchant = square_oauth.account();
        let square = SquareControl::seeded(seed, &merchant.merchant_id, &merchant.company);
        square_oauth.serve_square_payments(square.clone());
        let credentials = credentials::CredentialFakes::start(seed).await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = served.await {
                tracing::warn!(error = %e, "sandbox server stopped with an error");
            }
        });
        tracing::info!(%addr, seed, stripe_charges, faults = %spec, fault_seed, "sandbox serving");
        Ok(Sandbox {
            addr,
            stripe,
            faults: spec,
            oauth,
            square,
            credentials,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The readiness announcement: every provider's API base, credentials and request budget
    /// (`rate_limits`, see [`RATE_LIMITS_PER_SECOND`]), and, when random faults are on, their
    /// spec as `faults`.
    pub fn ready_line(&self) -> Value {
        let mut stripe = json!({
            "api_base": self.stripe_api_base(),
            "api_key": self.stripe_api_key(),
            "rate_limits": rate_limits(),
        });
        if !self.faults.is_none() {
            stripe["faults"] = json!(self.faults.to_string());
        }
        let mut providers = serde_json::Map::new();
        providers.insert("stripe".into(), stripe);
        for served in &self.oauth {
            let control = &served.control;
            providers.insert(control.key().into(), control.ready_entry(rate_limits()));
        }
        self.credentials
            .ready_entries(&mut providers, rate_limits());
        json!({ "providers": providers })
    }

    /// `http://127.0.0.1:PORT` (Stripe's paths, `/v1/...`, go right after it).
    pub fn stripe_api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The only key the Stripe fake accepts: `sk_test_…`, deterministic from the seed.
    pub fn stripe_api_key(&self) -> String {
        self.stripe.api_key().to_string()
    }

    /// Test and fault-injection hooks of the Stripe fake.
    pub fn stripe(&self) -> &StripeControl {
        &self.stripe
    }

    /// Test hooks of the Square payments fake (served at `providers.square.api_base`).
    pub fn square(&self) -> &SquareControl {
        &self.square
    }

    /// Test hooks of the OAuth fake `key` (one of [`OAUTH_PROVIDERS`]: `xero`, `quickbooks`,
    /// `google`, `square`, `myob`, `mautic`). Panics on another key; see [`Sandbox::try_oauth`].
    pub fn oauth(&self, key: &str) -> &OAuthControl {
        self.try_oauth(key)
            .unwrap_or_else(|| panic!("no OAuth fake {key:?}; the keys are {OAUTH_PROVIDERS:?}"))
    }

    /// Test hooks of the OAuth fake `key`, if there is one.
    pub fn try_oauth(&self, key: &str) -> Option<&OAuthControl> {
        self.oauth
            .iter()
            .map(|served| &served.control)
            .find(|control| control.key() == key)
    }

    /// Stop accepting connections, let in-flight requests finish (up to 2 s), and return.
    pub async fn shutdown(mut self) {
        let mut tasks: Vec<JoinHandle<()>> =
            self.oauth.iter_mut().filter_map(|s| s.stop()).collect();
        tasks.extend(self.credentials.stop());
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tasks.extend(self.task.take());
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        for mut task in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
