//! The HTTP client every adapter shares: a user agent naming the app, connect and whole-request
//! timeouts, gzip, keep-alive. (Retries, rate budgets and circuit breakers arrive with the sync
//! engine issue, in this one place.)

use crate::{ProviderError, ProviderErrorKind};
use std::time::Duration;

pub const USER_AGENT: &str = concat!(
    "Switchboard/",
    env!("CARGO_PKG_VERSION"),
    " (+https://switchboard.app)"
);

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .gzip(true)
        .pool_idle_timeout(Duration::from_secs(90))
        // Providers answer directly; a redirect would be a misconfigured base URL.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a static reqwest configuration builds")
}

/// Describes a transport failure without the URL (which may carry codes or tokens).
pub fn transport_error(provider: &str, e: reqwest::Error) -> ProviderError {
    let e = e.without_url();
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not be reached"
    } else {
        "failed to answer"
    };
    ProviderError::new(
        ProviderErrorKind::Network,
        format!(
            "{provider} {what}. Check your internet connection; the next sync will try again. ({e})"
        ),
    )
}
