//! PayPal payments: pulling the merchant's transactions, refunding captures, asking for money
//! with checkout orders, cancelling subscriptions and verifying webhook signatures.
//!
//! Authentication is the connection's client credentials ([`PayPal`]: environments, the
//! OAuth 2.0 token and its cache, the guard and request log); a 401 on an API call forgets the
//! cached token and tries once more with a new one (PayPal may end a token before its
//! `expires_in`). Facts relied on, from `shared/specs/paypal.json` and PayPal's REST reference
//! (https://developer.paypal.com/api/rest/):
//! - **Transaction Search** `GET /v1/reporting/transactions` (`transactions.rs`): `start_date`
//!   and `end_date` at most 31 days apart, the previous three years only, up to 500 items per
//!   page; "it takes a maximum of three hours for executed transactions to appear"
//!   (https://developer.paypal.com/docs/api/transaction-search/v1/). Needs the app's
//!   "Transaction search" feature; without it PayPal answers 403 `NOT_AUTHORIZED`.
//! - **Amounts** are decimal strings with the currency's decimals; JPY, HUF and TWD have none
//!   (https://developer.paypal.com/api/rest/reference/currency-codes/) (`amounts.rs`).
//! - **Idempotency**: `PayPal-Request-Id` on creating orders ("the server stores keys for 6
//!   hours") and on refunds ("for 45 days"), as the spec's header parameters say: a repeat
//!   answers with what the first request made
//!   (https://developer.paypal.com/api/rest/reference/idempotency/).
//! - **Errors**: `{"name", "message", "debug_id", "details": [{"field", "issue",
//!   "description"}], "links"}`; the token endpoint's and some expired-token answers use
//!   OAuth's `{"error", "error_description"}`. 429 is `RATE_LIMIT_REACHED` (PayPal publishes no
//!   limits and asks callers to back off,
//!   https://developer.paypal.com/api/rest/reference/rate-limiting/). `paypal-debug-id` is the
//!   request id to give PayPal's support.

mod amounts;
mod fields;
mod orders;
mod plans;
mod refunds;
mod subscriptions;
mod transactions;
mod webhooks;

pub use amounts::{paypal_decimals, to_paypal_value};
pub use transactions::{
    HORIZON_SECS, LOOKBACK_SECS, MAX_PAGE_SIZE, STREAM, SearchPosition, WINDOW_SECS,
};
pub use webhooks::webhook_event_summary;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::credentials::paypal::PayPal;
use crate::http::{Exchange, transport_error};
use crate::{Page, PageRequest, ProviderError, ProviderErrorKind, PullPayments};
use async_trait::async_trait;
use serde::Deserialize;

/// The streams a PayPal connection syncs: one, every money movement of the account.
pub const STREAMS: &[&str] = &[STREAM];

/// The PayPal payments adapter of one connection.
pub struct PayPalPayments {
    client: PayPal,
    page_size: u32,
    /// Subscriptions already read by this adapter (one `GET` each per sync, not one per
    /// payment).
    subscriptions_read: Mutex<HashSet<String>>,
    /// Billing plans already read by this adapter (`None`: PayPal does not know it).
    plans: Mutex<HashMap<String, Option<Arc<plans::PlanTerms>>>>,
}

impl std::fmt::Debug for PayPalPayments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayPalPayments")
            .field("client", &self.client)
            .field("page_size", &self.page_size)
            .finish()
    }
}

/// Which call an error answer was for, to say what the app may be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Search,
    CreateOrder,
    Refund,
    ShowSubscription,
    CancelSubscription,
    VerifyWebhook,
}

impl Call {
    fn what(self) -> &'static str {
        match self {
            Call::Search => "the transaction search",
            Call::CreateOrder => "the payment request (order)",
            Call::Refund => "the refund",
            Call::ShowSubscription => "reading the subscription",
            Call::CancelSubscription => "cancelling the subscription",
            Call::VerifyWebhook => "the webhook signature check",
        }
    }

    /// The REST app feature a 403 points at.
    fn feature(self) -> &'static str {
        match self {
            Call::Search => {
                "Turn on “Transaction search” in the app's features (PayPal Developer Dashboard → \
                 Apps & Credentials → the app), wait a few minutes, then sync again."
            }
            Call::CreateOrder | Call::Refund => {
                "Check that the app has “Accept payments” turned on (PayPal Developer Dashboard \
                 → Apps & Credentials → the app)."
            }
            Call::ShowSubscription | Call::CancelSubscription => {
                "Check that the app has “Subscriptions” turned on (PayPal Developer Dashboard → \
                 Apps & Credentials → the app)."
            }
            Call::VerifyWebhook => {
                "Check that the webhook belongs to this app (PayPal Developer Dashboard → Apps & \
                 Credentials → the app → Webhooks)."
            }
        }
    }
}

impl PayPalPayments {
    pub fn new(client: PayPal) -> Self {
        PayPalPayments {
            client,
            page_size: MAX_PAGE_SIZE,
            subscriptions_read: Mutex::new(HashSet::new()),
            plans: Mutex::new(HashMap::new()),
        }
    }

    /// Items per search page (1–500; PayPal's most, 500, by default: the fewest requests).
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The client credentials client underneath (tokens, environment).
    pub fn client(&self) -> &PayPal {
        &self.client
    }

    fn now(&self) -> i64 {
        (self.client.clock())().timestamp()
    }

    /// Sends an authorized API request; the answer whatever its status. A 401 forgets the
    /// cached token and tries once more with a new one.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        headers: &[(&str, &str)],
        json_body: Option<&[u8]>,
    ) -> Result<Exchange, ProviderError> {
        let url = format!("{}{path}", self.client.api_base());
        for attempt in 0..2 {
            let token = self.client.access_token().await?;
            let mut builder = self
                .client
                .http_client()
                .request(method.clone(), &url)
                .bearer_auth(token.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .query(query);
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            if let Some(body) = json_body {
                builder = builder
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_vec());
            }
            let request = builder.build().map_err(|e| transport_error("PayPal", e))?;
            let answer = self.client.send(request).await?;
            if answer.status == 401 && attempt == 0 {
                self.client.cache().clear().await;
                continue;
            }
            return Ok(answer);
        }
        unreachable!("the loop returns on its second pass")
    }
}

/// PayPal's error body, or OAuth's.
#[derive(Deserialize, Default)]
struct ErrorBody {
    name: Option<String>,
    message: Option<String>,
    debug_id: Option<String>,
    #[serde(default)]
    details: Vec<ErrorDetail>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    field: Option<String>,
    issue: Option<String>,
    description: Option<String>,
}

impl ErrorBody {
    fn of(answer: &Exchange) -> ErrorBody {
        serde_json::from_slice(&answer.body).unwrap_or_default()
    }

    /// The first detail's `issue`, else the error's `name` (`REFUND_AMOUNT_EXCEEDED`,
    /// `RATE_LIMIT_REACHED`, `invalid_token`).
    fn code(&self) -> Option<String> {
        self.details
            .iter()
            .find_map(|d| d.issue.clone())
            .or_else(|| self.name.clone())
            .or_else(|| self.error.clone())
    }

    /// What PayPal said, its details included: ` PayPal said: “…”.`
    fn said(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(m) = self
            .message
            .as_deref()
            .or(self.error_description.as_deref())
        {
            parts.push(m.trim().trim_end_matches('.').to_string());
        }
        for d in &self.details {
            let text = d
                .description
                .as_deref()
                .or(d.issue.as_deref())
                .unwrap_or_default()
                .trim()
                .trim_end_matches('.');
            if text.is_empty() {
                continue;
            }
            parts.push(match &d.field {
                Some(field) => format!("{text} ({field})"),
                None => text.to_string(),
            });
        }
        crate::credentials::quoted("PayPal", Some(&parts.join("; ")))
    }

    /// Whether the words appear anywhere in the error.
    fn mentions(&self, words: &str) -> bool {
        let has = |t: &Option<String>| t.as_deref().is_some_and(|t| t.contains(words));
        has(&self.message)
            || has(&self.error_description)
            || self
                .details
                .iter()
                .any(|d| has(&d.description) || has(&d.issue))
    }
}

/// A [`ProviderError`] for a non-2xx answer to `call`, with a message that says what to do.
pub(crate) fn api_error(answer: &Exchange, call: Call) -> ProviderError {
    let body = ErrorBody::of(answer);
    let said = body.said();
    let code = body.code();
    let what = call.what();
    let rate_limited = answer.status == 429 || body.name.as_deref() == Some("RATE_LIMIT_REACHED");
    let (kind, message) = match answer.status {
        _ if rate_limited => (
            ProviderErrorKind::RateLimited,
            format!("PayPal asked Switchboard to slow down; it will try again shortly.{said}"),
        ),
        401 => (
            ProviderErrorKind::Auth,
            format!(
                "PayPal refused the app's credentials for {what}.{said} Check the client ID and \
                 secret under Apps & Credentials in the PayPal Developer Dashboard, then \
                 reconnect PayPal."
            ),
        ),
        403 => (
            ProviderErrorKind::Auth,
            format!(
                "This PayPal app may not do {what}.{said} {}",
                call.feature()
            ),
        ),
        404 => (
            ProviderErrorKind::InvalidRequest,
            format!("PayPal does not know the object of {what}.{said}"),
        ),
        409 => (
            // PREVIOUS_REQUEST_IN_PROGRESS: the same PayPal-Request-Id is still being worked
            // on; asking again later gets its outcome.
            ProviderErrorKind::Server,
            format!(
                "PayPal is still working on an earlier attempt of {what}; Switchboard will ask again.{said}"
            ),
        ),
        400 | 422 => (
            ProviderErrorKind::InvalidRequest,
            format!("PayPal refused {what}.{said}"),
        ),
        s if s >= 500 => (
            ProviderErrorKind::Server,
            format!("PayPal had a problem (HTTP {s}); Switchboard will try again later.{said}"),
        ),
        s => (
            ProviderErrorKind::BadResponse,
            format!("PayPal answered HTTP {s} to {what}.{said}"),
        ),
    };
    let mut err = crate::credentials::answer_error(kind, message, answer);
    err.provider_code = code;
    if err.request_id.is_none() {
        err.request_id = body.debug_id;
    }
    err
}

/// A 2xx answer whose body cannot be read.
pub(crate) fn unreadable(answer: &Exchange, why: impl std::fmt::Display) -> ProviderError {
    crate::credentials::unreadable("PayPal", answer, why)
}

#[async_trait]
impl PullPayments for PayPalPayments {
    fn streams(&self) -> &'static [&'static str] {
        STREAMS
    }

    async fn fetch_page(&self, stream: &str, request: &PageRequest) -> Result<Page, ProviderError> {
        if stream != STREAM {
            return Err(ProviderError::new(
                ProviderErrorKind::InvalidRequest,
                format!("PayPal has no stream `{stream}`; its one stream is `{STREAM}`."),
            ));
        }
        self.transactions_page(request).await
    }

    /// PayPal's documented delay (up to three hours) with room to spare: see
    /// [`LOOKBACK_SECS`].
    fn lookback_secs(&self, _stream: &str) -> i64 {
        LOOKBACK_SECS
    }

    /// A token, and one search of the last day (one item): proves both the credentials and
    /// the app's Transaction Search permission.
    async fn verify(&self) -> Result<(), ProviderError> {
        self.probe_search().await
    }
}
