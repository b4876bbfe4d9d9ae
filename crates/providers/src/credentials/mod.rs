//! Providers connected with credentials (API keys, client credentials, passwords) rather than a
//! browser sign-in: each module verifies the credentials with one cheap authenticated call of
//! the provider's real API and tells which account they reach.
//!
//! - [`stripe`]: `GET /v1/account` (the account id and name) after the key was verified.
//! - [`paypal`]: OAuth 2.0 client credentials (`POST /v1/oauth2/token`), the token cached by
//!   [`ClientCredentialsCache`] until 5 minutes before it expires.
//! - [`twilio`]: `GET /2010-04-01/Accounts/{AccountSid}.json` with HTTP Basic.
//! - [`sendgrid`]: `GET /v3/user/account` (and `/v3/user/email`, `/v3/user/profile`), with
//!   `/v3/scopes` to explain a missing permission.
//! - [`billionmail`]: the `X-API-Key` of a self-hosted BillionMail, checked without sending.
//! - [`smtp`]: EHLO, STARTTLS or implicit TLS, AUTH and QUIT with `lettre`.
//!
//! Every HTTP request goes through [`crate::http::execute_guarded`] (the shared client, request
//! sink and guard); nothing here stores anything.

pub mod billionmail;
pub mod mautic;
pub mod paypal;
pub mod sendgrid;
pub mod smtp;
pub mod stripe;
pub mod token_cache;
pub mod twilio;

pub use token_cache::{ClientCredentialsCache, FreshToken, Now, system_now};

use crate::http::{self, Exchange, Guard, RequestSink};
use crate::{ProviderError, ProviderErrorKind};

/// The account a set of credentials reaches, as far as the provider tells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    /// The provider's id of the account (`acct_…`, `AC…`, an app id, `user@host`).
    pub account_id: Option<String>,
    /// The account as the provider names it (business, friendly name, email).
    pub account_name: Option<String>,
    /// What the person connecting should know (e.g. why the account could not be read).
    pub notes: Vec<String>,
}

/// What every credential client shares: the HTTP client, and optionally the request log's sink
/// and the connection's guard (none while connecting: the connection does not exist yet).
#[derive(Clone)]
pub(crate) struct Http {
    pub(crate) client: reqwest::Client,
    pub(crate) sink: Option<RequestSink>,
    pub(crate) guard: Option<Guard>,
}

impl Http {
    pub(crate) fn new(client: reqwest::Client) -> Http {
        Http {
            client,
            sink: None,
            guard: None,
        }
    }

    /// Sends `request` through the shared helpers (guard, request log) and reads the answer.
    pub(crate) async fn send(
        &self,
        request: reqwest::Request,
        provider: &str,
        request_id_header: &str,
    ) -> Result<Exchange, ProviderError> {
        http::execute_guarded(
            &self.client,
            request,
            provider,
            request_id_header,
            self.sink.as_ref(),
            self.guard.as_ref(),
        )
        .await
    }
}

/// `base` without a trailing slash.
pub(crate) fn trim_base(base: &str) -> String {
    base.trim().trim_end_matches('/').to_string()
}

/// A 2xx answer whose body is not the JSON expected.
pub(crate) fn unreadable(
    provider: &str,
    answer: &Exchange,
    e: impl std::fmt::Display,
) -> ProviderError {
    let mut err = ProviderError::new(
        ProviderErrorKind::BadResponse,
        format!("{provider} sent an answer Switchboard could not read ({e})."),
    );
    err.http_status = Some(answer.status);
    err.request_id = answer.request_id.clone();
    err
}

/// The kind of error an HTTP status means, for the statuses every provider shares.
pub(crate) fn kind_of(status: u16) -> ProviderErrorKind {
    match status {
        401 | 403 => ProviderErrorKind::Auth,
        429 => ProviderErrorKind::RateLimited,
        400 | 404 | 405 | 409 | 422 => ProviderErrorKind::InvalidRequest,
        s if s >= 500 => ProviderErrorKind::Server,
        _ => ProviderErrorKind::BadResponse,
    }
}

/// An error for a non-2xx answer: `message` plus what came with the answer.
pub(crate) fn answer_error(
    kind: ProviderErrorKind,
    message: String,
    answer: &Exchange,
) -> ProviderError {
    let mut err = ProviderError::new(kind, message);
    err.http_status = Some(answer.status);
    err.request_id = answer.request_id.clone();
    err.retry_after_secs = answer.retry_after_secs;
    err
}

/// The usual sentence for statuses a provider module does not explain itself.
pub(crate) fn generic_status_message(provider: &str, status: u16, said: &str) -> String {
    match status {
        429 => format!("{provider} asked Switchboard to slow down; try again in a minute.{said}"),
        s if s >= 500 => {
            format!("{provider} had a problem (HTTP {s}); try again in a few minutes.{said}")
        }
        s => format!("{provider} answered HTTP {s}.{said}"),
    }
}

/// ` Provider said: “…”` when there is something to quote.
pub(crate) fn quoted(provider: &str, text: Option<&str>) -> String {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => format!(" {provider} said: “{t}”."),
        None => String::new(),
    }
}
