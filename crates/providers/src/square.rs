//! Square (Square-Version 2025-08-20, the version of `shared/specs/square.json`): payments,
//! refunds, payouts with their entries, customers, disputes and subscriptions pulled; refunds,
//! payment links and subscription cancels sent.
//!
//! How Square lists, and what follows from it:
//! - ListPayments and ListPayouts cover one location (the main one unless `location_id` is
//!   given), so those streams walk every location the seller has (inactive ones too: their
//!   history stays), one after the other; the continuation is `<location id>|<cursor>`.
//! - Payments, refunds and payouts are listed from one year ago unless `begin_time` says
//!   otherwise, so every list names [`EARLIEST`].
//! - Payments and refunds change after they are made (refunds of a payment, fee adjustments,
//!   a refund completing), and both lists filter and sort by `updated_at`: those two streams
//!   page oldest-updated first from `updated_at_begin_time`, and their watermark (the engine's
//!   `max_created`) is the newest `updated_at` seen, so an incremental run reads exactly what
//!   changed. Payouts only filter by creation: their stream looks back [`PAYOUTS_LOOKBACK_SECS`]
//!   so a payout is read again until it is paid (`SENT` → `PAID`) or returned. Customers are
//!   listed newest first and read until the run's floor. Disputes and subscriptions have no
//!   time filter; they are few, and read whole each run (their states change).
//! - Cursors are opaque; a page without one is the last.
//!
//! Auth: `Authorization: Bearer <OAuth access token>`, `Square-Version` on every request. A
//! 401 (`UNAUTHORIZED`, `ACCESS_TOKEN_EXPIRED`, `ACCESS_TOKEN_REVOKED`) renews the token once
//! ([`AccessTokens`]) and tries again; refused again, or a renewal refused, is an auth error
//! (the connection needs a reconnect). A write refused for a scope the grant lacks
//! (`INSUFFICIENT_SCOPES`: connections made before payment links or cancels were first used
//! have no `ORDERS_WRITE` or `SUBSCRIPTIONS_WRITE`) says to reconnect for the catalogue's
//! incremental grant ([`PAYMENT_LINKS_GRANT`], [`CANCEL_SUBSCRIPTIONS_GRANT`]).
//! <https://developer.squareup.com/reference/square>

mod catalog;
mod parse;

pub use parse::{customer, dispute, payment, payout, payout_entry, refund, subscription};

use crate::http::{self, Guard, RequestSink, transport_error};
use crate::{
    IssuedRefund, Page, PageRequest, PaymentLink, PaymentLinkRequest, ProviderError,
    ProviderErrorKind, PullPayments, Record, RefundRequest,
};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use switchboard_core::Currency;
use switchboard_core::records::SubscriptionRecord;
use switchboard_core::secret::SecretString;

/// The API version every request pins with the `Square-Version` header: the version of the
/// official spec in `../shared/specs/square.json`, so the fake and the client agree.
/// <https://developer.squareup.com/docs/build-basics/versioning-overview>
pub const API_VERSION: &str = "2025-08-20";
pub const DEFAULT_API_BASE: &str = "https://connect.squareup.com";
/// The most ListPayments, ListPaymentRefunds, ListPayouts, ListPayoutEntries and
/// ListCustomers return per page.
pub const PAGE_LIMIT: u32 = 100;
/// Streams in the order they run. Disputes and subscriptions need scopes of their own
/// (`DISPUTES_READ`, `SUBSCRIPTIONS_READ`): last.
pub const STREAMS: &[&str] = &[
    "payments",
    "refunds",
    "payouts",
    "customers",
    "disputes",
    "subscriptions",
];
/// `begin_time` of every list: before Square took its first payment, so nothing is left out
/// (the default is one year back).
pub const EARLIEST: &str = "2009-01-01T00:00:00Z";
/// How long a payout is read again after it was first seen: a standard transfer is `SENT` for
/// one to two business days before `PAID`, longer over holidays, and a transfer the bank
/// returns turns `FAILED` days later.
pub const PAYOUTS_LOOKBACK_SECS: i64 = 14 * 24 * 60 * 60;
/// Square's error code for a grant without a scope the operation needs.
const INSUFFICIENT_SCOPES: &str = "INSUFFICIENT_SCOPES";
/// What a missing scope says when nothing more specific is known (a stream).
const MISSING_PERMISSION: &str = "Square has not given Switchboard a permission this needs; the rest keeps syncing. Reconnect Square and allow it.";
/// The catalogue's incremental grants (`switchboard_core::catalogue`, Square's `incremental`)
/// the writes need: connections made before a feature was first used lack its scopes.
pub const PAYMENT_LINKS_GRANT: &str = "payment_links";
pub const CANCEL_SUBSCRIPTIONS_GRANT: &str = "cancel_subscriptions";
/// What the payment-links grant lets Switchboard do, in a refusal's words.
const LINKS: &str = "create payment links";
/// Square documents no request-id header; one is kept if sent.
const REQUEST_ID_HEADER: &str = "x-request-id";
/// The most characters of a RefundPayment `idempotency_key`.
const REFUND_KEY_MAX: usize = 45;
/// Pages of payment links a look-up reads (100 each) before giving up.
const LOOKUP_PAGES: usize = 50;

/// Where the adapter gets its access token: the connection's stored grant, refreshed when due.
#[async_trait]
pub trait AccessTokens: Send + Sync {
    /// A usable access token; with `renew`, a new one even if the stored one looks valid
    /// (Square refused it). A refused renewal is an [`ProviderErrorKind::Auth`] error.
    async fn access_token(&self, renew: bool) -> Result<SecretString, ProviderError>;
}

/// One token, never renewed (tests, scripts).
pub struct FixedToken(pub SecretString);

#[async_trait]
impl AccessTokens for FixedToken {
    async fn access_token(&self, _renew: bool) -> Result<SecretString, ProviderError> {
        Ok(self.0.clone())
    }
}

/// A seller location as the streams need it.
#[derive(Debug, Clone)]
struct Location {
    id: String,
    active: bool,
    created_at: String,
    currency: String,
}

pub struct Square {
    client: reqwest::Client,
    api_base: String,
    tokens: Arc<dyn AccessTokens>,
    /// The token in use, until Square refuses it.
    token: tokio::sync::Mutex<Option<SecretString>>,
    request_sink: Option<RequestSink>,
    guard: Option<Guard>,
    /// The seller's locations, read once per adapter (one sync, one send).
    locations: tokio::sync::Mutex<Option<Arc<Vec<Location>>>>,
}

impl std::fmt::Debug for Square {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Square")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// The provider's error body: `{"errors":[{"category","code","detail","field"}]}`, mapped to
/// a [`ProviderError`] whose message says what to do.
pub fn error_from_body(status: u16, body: &[u8]) -> ProviderError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let first = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(|e| e.get(0));
    let field = |name: &str| {
        first
            .and_then(|e| e.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let code = field("code");
    let said = field("detail")
        .map(|d| format!(" Square said: “{d}”"))
        .unwrap_or_default();
    let (kind, message) = match status {
        401 => (
            ProviderErrorKind::Auth,
            format!(
                "Square no longer accepts Switchboard's access ({}). Reconnect Square to continue.{said}",
                code.as_deref().unwrap_or("UNAUTHORIZED")
            ),
        ),
        // A scope the grant lacks stops only what needs it (reconnecting with the same scopes
        // would not help, so it is no reason to mark the connection).
        403 if code.as_deref() == Some(INSUFFICIENT_SCOPES) => (
            ProviderErrorKind::InvalidRequest,
            format!("{MISSING_PERMISSION}{said}"),
        ),
        403 => (
            ProviderErrorKind::Auth,
            format!("Square refused Switchboard's access. Reconnect Square to continue.{said}"),
        ),
        429 => (
            ProviderErrorKind::RateLimited,
            format!("Square asked Switchboard to slow down; it will try again shortly.{said}"),
        ),
        s if s >= 500 => (
            ProviderErrorKind::Server,
            format!("Square had a problem (HTTP {s}); Switchboard will try again.{said}"),
        ),
        400..=499 => (
            ProviderErrorKind::InvalidRequest,
            format!("Square refused the request.{said}"),
        ),
        s => (
            ProviderErrorKind::BadResponse,
            format!("Square answered HTTP {s}.{said}"),
        ),
    };
    let mut e = ProviderError::new(kind, message);
    e.http_status = Some(status);
    e.provider_code = code.or_else(|| field("category"));
    e
}

/// A refusal for a scope the grant lacks, turned into what to do: reconnect for the feature's
/// incremental grant (`what` the feature does, `grant` its catalogue key), then retry. Other
/// errors pass unchanged.
fn needs_grant(mut e: ProviderError, what: &str, grant: &str) -> ProviderError {
    if e.provider_code.as_deref() == Some(INSUFFICIENT_SCOPES) {
        let said = e
            .message
            .strip_prefix(MISSING_PERMISSION)
            .unwrap_or_default();
        e.message = format!(
            "This Square connection does not allow Switchboard to {what}. Reconnect it to \
             allow that (in a terminal: `switchboard connections reconnect <name> --for {grant}`), \
             then retry this from the outbox.{said}"
        );
    }
    e
}

fn bad_object(what: &str, reason: &str) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::BadResponse,
        format!("Square sent a {what} Switchboard cannot read ({reason})."),
    )
}

/// A page's failure to decode, with the exchange's status and request id.
fn undecodable(mut e: ProviderError, request_id: &Option<String>) -> ProviderError {
    e.http_status = Some(200);
    e.request_id = request_id.clone();
    e
}

/// Reads one list item into a record (warnings go to the page).
type ReadItem = fn(&str, &mut Vec<String>) -> parse::Parsed<Record>;

/// One list request of a stream: `GET path?query`, or a search `POST` with `body`.
struct List<'a> {
    method: Method,
    path: &'a str,
    query: Vec<(&'a str, String)>,
    body: Option<Value>,
    /// The member of the answer holding the items (`payments`).
    key: &'a str,
    /// Whether the page's watermark is the items' `updated_at` (else when they were created).
    by_updated: bool,
}

impl<'a> List<'a> {
    fn get(path: &'a str, key: &'a str, query: Vec<(&'a str, String)>) -> Self {
        List {
            method: Method::GET,
            path,
            query,
            body: None,
            key,
            by_updated: false,
        }
    }

    fn by_updated(mut self) -> Self {
        self.by_updated = true;
        self
    }
}

impl Square {
    pub fn new(
        client: reqwest::Client,
        api_base: Option<&str>,
        tokens: Arc<dyn AccessTokens>,
    ) -> Self {
        Square {
            client,
            api_base: api_base
                .unwrap_or(DEFAULT_API_BASE)
                .trim_end_matches('/')
                .to_string(),
            tokens,
            token: tokio::sync::Mutex::new(None),
            request_sink: None,
            guard: None,
            locations: tokio::sync::Mutex::new(None),
        }
    }

    /// Sends every request under the connection's rate budget and circuit breaker.
    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.guard = Some(guard);
        self
    }

    /// Reports every exchange to `sink` (the request log).
    pub fn with_request_sink(mut self, sink: RequestSink) -> Self {
        self.request_sink = Some(sink);
        self
    }

    async fn token(&self, renew: bool) -> Result<SecretString, ProviderError> {
        let mut held = self.token.lock().await;
        if !renew && let Some(token) = held.as_ref() {
            return Ok(token.clone());
        }
        let token = self.tokens.access_token(renew).await?;
        *held = Some(token.clone());
        Ok(token)
    }

    /// One request with Square's auth and version headers; the body of a 2xx answer, Square's
    /// error otherwise. A 401 renews the token once and tries again (nothing was applied).
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(bytes::Bytes, Option<String>), ProviderError> {
        let mut renewed = false;
        loop {
            let token = self.token(renewed).await?;
            let mut builder = self
                .client
                .request(method.clone(), format!("{}{path}", self.api_base))
                .bearer_auth(token.expose())
                .header("Square-Version", API_VERSION)
                .query(query);
            if let Some(body) = body {
                builder = builder.json(body);
            }
            let request = builder.build().map_err(|e| transport_error("Square", e))?;
            let answer = http::execute_guarded(
                &self.client,
                request,
                "Square",
                REQUEST_ID_HEADER,
                self.request_sink.as_ref(),
                self.guard.as_ref(),
            )
            .await?;
            if (200..300).contains(&answer.status) {
                return Ok((answer.body, answer.request_id));
            }
            if answer.status == 401 && !renewed {
                renewed = true;
                continue;
            }
            let mut err = error_from_body(answer.status, &answer.body);
            err.request_id = answer.request_id;
            err.retry_after_secs = answer.retry_after_secs;
            return Err(err);
        }
    }

    async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(bytes::Bytes, Option<String>), ProviderError> {
        self.call(Method::GET, path, query, None).await
    }

    /// The seller's locations, ordered by id (a stable walk order across runs).
    async fn locations(&self) -> Result<Arc<Vec<Location>>, ProviderError> {
        let mut held = self.locations.lock().await;
        if let Some(known) = held.as_ref() {
            return Ok(known.clone());
        }
        let (body, request_id) = self.get("/v2/locations", &[]).await?;
        let page = parse::list(&body, "locations").map_err(|e| undecodable(e, &request_id))?;
        let mut locations = Vec::with_capacity(page.items.len());
        for item in page.items {
            let v: Value = serde_json::from_str(item.get())
                .map_err(|e| bad_object("location", &e.to_string()))?;
            let text = |f: &str| v.get(f).and_then(Value::as_str).unwrap_or_default();
            if text("id").is_empty() {
                return Err(bad_object("location", "no id"));
            }
            locations.push(Location {
                id: text("id").to_string(),
                active: text("status") == "ACTIVE",
                created_at: text("created_at").to_string(),
                currency: text("currency").to_string(),
            });
        }
        locations.sort_by(|a, b| a.id.cmp(&b.id));
        let locations = Arc::new(locations);
        *held = Some(locations.clone());
        Ok(locations)
    }

    /// The location a payment link is made at: the seller's first active location (the main
    /// location is the one the account was opened with) among those taking `currency` when
    /// there are any (a location takes its own currency only).
    async fn link_location(&self, currency: &str) -> Result<String, ProviderError> {
        let locations = self.locations().await?;
        let active = || locations.iter().filter(|l| l.active);
        let first =
            |l: &&Location, m: &&Location| (&l.created_at, &l.id).cmp(&(&m.created_at, &m.id));
        active()
            .filter(|l| l.currency.eq_ignore_ascii_case(currency))
            .min_by(first)
            .or_else(|| active().min_by(first))
            .map(|l| l.id.clone())
            .ok_or_else(|| {
                ProviderError::new(
                    ProviderErrorKind::InvalidRequest,
                    "This Square account has no active location to take the payment. Activate a location in the Square Dashboard (Account & Settings → Locations).",
                )
            })
    }

    /// Where a per-location stream is: the location and Square's cursor within it (`None`:
    /// its first page). A continuation naming a location that is gone moves to the next one.
    async fn position(
        &self,
        continuation: Option<&str>,
    ) -> Result<Option<(String, Option<String>)>, ProviderError> {
        let locations = self.locations().await?;
        let Some(continuation) = continuation else {
            return Ok(locations.first().map(|l| (l.id.clone(), None)));
        };
        let (location, cursor) = continuation.split_once('|').unwrap_or((continuation, ""));
        if locations.iter().any(|l| l.id == location) {
            let cursor = (!cursor.is_empty()).then(|| cursor.to_string());
            return Ok(Some((location.to_string(), cursor)));
        }
        Ok(locations
            .iter()
            .find(|l| l.id.as_str() > location)
            .map(|l| (l.id.clone(), None)))
    }

    /// The continuation after a page of `location` that ended with `cursor`: the same location
    /// while Square has a cursor, then the next location's start, then the end.
    async fn next_position(
        &self,
        location: &str,
        cursor: Option<String>,
    ) -> Result<Option<String>, ProviderError> {
        if let Some(cursor) = cursor {
            return Ok(Some(format!("{location}|{cursor}")));
        }
        let locations = self.locations().await?;
        Ok(locations
            .iter()
            .find(|l| l.id.as_str() > location)
            .map(|l| format!("{}|", l.id)))
    }

    /// One page of a stream: the items under `list.key` read with `read` (unusable ones
    /// rejected), and Square's cursor as the continuation (`has_more` while there is one).
    /// Streams that walk locations or stop at a floor change the continuation afterwards.
    async fn list_page(&self, list: List<'_>, read: ReadItem) -> Result<Page, ProviderError> {
        let (body, request_id) = self
            .call(list.method, list.path, &list.query, list.body.as_ref())
            .await?;
        let items = parse::list(&body, list.key).map_err(|e| undecodable(e, &request_id))?;
        let mut page = Page {
            request_id,
            ..Page::default()
        };
        parse::records(&items.items, read, list.by_updated, &mut page);
        page.has_more = items.cursor.is_some();
        page.last_id = items.cursor;
        Ok(page)
    }

    async fn payments_page(&self, request: &PageRequest) -> Result<Page, ProviderError> {
        let Some((location, cursor)) = self.position(request.starting_after.as_deref()).await?
        else {
            return Ok(Page::default());
        };
        let mut query = vec![
            ("location_id", location.clone()),
            ("begin_time", EARLIEST.to_string()),
            ("sort_field", "UPDATED_AT".to_string()),
            ("sort_order", "ASC".to_string()),
            ("limit", PAGE_LIMIT.to_string()),
        ];
        if let Some(floor) = request.created_gte {
            query.push(("updated_at_begin_time", rfc3339(floor)));
        }
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        let list = List::get("/v2/payments", "payments", query).by_updated();
        let mut page = self
            .list_page(list, |raw, w| parse::payment(raw, w).map(Record::Payment))
            .await?;
        page.last_id = self.next_position(&location, page.last_id.take()).await?;
        page.has_more = page.last_id.is_some();
        Ok(page)
    }

    async fn refunds_page(&self, request: &PageRequest) -> Result<Page, ProviderError> {
        let mut query = vec![
            ("begin_time", EARLIEST.to_string()),
            ("sort_field", "UPDATED_AT".to_string()),
            ("sort_order", "ASC".to_string()),
            ("limit", PAGE_LIMIT.to_string()),
        ];
        if let Some(floor) = request.created_gte {
            query.push(("updated_at_begin_time", rfc3339(floor)));
        }
        if let Some(cursor) = &request.starting_after {
            query.push(("cursor", cursor.clone()));
        }
        let list = List::get("/v2/refunds", "refunds", query).by_updated();
        self.list_page(list, |raw, w| parse::refund(raw, w).map(Record::Refund))
            .await
    }

    /// A page of one location's payouts, each with all its entries (their own cursor
    /// pagination). Entries never change once a payout is made, so a payout read again within
    /// the lookback (for its status) is read without them; only payouts beyond what the
    /// previous run reached (less an hour for late arrivals) get their entries.
    async fn payouts_page(&self, request: &PageRequest) -> Result<Page, ProviderError> {
        let Some((location, cursor)) = self.position(request.starting_after.as_deref()).await?
        else {
            return Ok(Page::default());
        };
        let mut query = vec![
            ("location_id", location.clone()),
            (
                "begin_time",
                request
                    .created_gte
                    .map_or_else(|| EARLIEST.to_string(), rfc3339),
            ),
            ("sort_order", "ASC".to_string()),
            ("limit", PAGE_LIMIT.to_string()),
        ];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        let list = List::get("/v2/payouts", "payouts", query);
        let mut page = self
            .list_page(list, |raw, w| parse::payout(raw, w).map(Record::Payout))
            .await?;
        let cursor = page.last_id.take();
        let entries_from = request
            .created_gte
            .map(|floor| floor + PAYOUTS_LOOKBACK_SECS - crate::DEFAULT_LOOKBACK_SECS);
        let payouts: Vec<(String, i64)> = page
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Payout(p) => Some((p.external_id.clone(), p.created)),
                _ => None,
            })
            .filter(|(_, created)| entries_from.is_none_or(|from| *created >= from))
            .collect();
        for (payout, created) in payouts {
            self.payout_entries(&payout, created, &mut page).await?;
        }
        page.last_id = self.next_position(&location, cursor).await?;
        page.has_more = page.last_id.is_some();
        Ok(page)
    }

    async fn payout_entries(
        &self,
        payout: &str,
        created: i64,
        page: &mut Page,
    ) -> Result<(), ProviderError> {
        let path = format!("/v2/payouts/{}/payout-entries", segment(payout));
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![
                ("sort_order", "ASC".to_string()),
                ("limit", PAGE_LIMIT.to_string()),
            ];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let (body, request_id) = self.get(&path, &query).await?;
            let list =
                parse::list(&body, "payout_entries").map_err(|e| undecodable(e, &request_id))?;
            // Entries are not part of the page's watermark (the payouts are).
            let mark = page.max_created;
            parse::records(
                &list.items,
                |raw, w| parse::payout_entry(raw, created, w).map(Record::PayoutEntry),
                false,
                page,
            );
            page.max_created = mark;
            match list.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// Customers newest first, down to the run's floor (a customer made before it was read by
    /// an earlier run).
    async fn customers_page(&self, request: &PageRequest) -> Result<Page, ProviderError> {
        let mut query = vec![
            ("sort_field", "CREATED_AT".to_string()),
            ("sort_order", "DESC".to_string()),
            ("limit", PAGE_LIMIT.to_string()),
        ];
        if let Some(cursor) = &request.starting_after {
            query.push(("cursor", cursor.clone()));
        }
        let list = List::get("/v2/customers", "customers", query);
        let mut page = self
            .list_page(list, |raw, w| parse::customer(raw, w).map(Record::Customer))
            .await?;
        let reached_floor = request.created_gte.is_some_and(|floor| {
            page.records
                .iter()
                .map(Record::created)
                .min()
                .is_some_and(|oldest| oldest < floor)
        });
        if reached_floor {
            page.has_more = false;
            page.last_id = None;
        }
        Ok(page)
    }

    async fn disputes_page(&self, request: &PageRequest) -> Result<Page, ProviderError> {
        let mut query = Vec::new();
        if let Some(cursor) = &request.starting_after {
            query.push(("cursor", cursor.clone()));
        }
        let list = List::get("/v2/disputes", "disputes", query);
        self.list_page(list, |raw, w| parse::dispute(raw, w).map(Record::Dispute))
            .await
    }

    async fn subscriptions_page(&self, request: &PageRequest) -> Result<Page, ProviderError> {
        let mut search = json!({ "limit": PAGE_LIMIT });
        if let Some(cursor) = &request.starting_after {
            search["cursor"] = json!(cursor);
        }
        let list = List {
            method: Method::POST,
            path: "/v2/subscriptions/search",
            query: Vec::new(),
            body: Some(search),
            key: "subscriptions",
            by_updated: false,
        };
        let mut page = self
            .list_page(list, |raw, w| {
                parse::subscription(raw, w).map(Record::Subscription)
            })
            .await?;
        self.add_plans_to_page(&mut page).await?;
        Ok(page)
    }

    /// A payment as it is now (after a refund).
    async fn fetch_payment(
        &self,
        id: &str,
    ) -> Result<(Value, switchboard_core::records::PaymentRecord), ProviderError> {
        let (body, request_id) = self
            .get(&format!("/v2/payments/{}", segment(id)), &[])
            .await?;
        let raw = parse::object(&body, "payment").map_err(|e| undecodable(e, &request_id))?;
        let record =
            parse::payment(raw.get(), &mut Vec::new()).map_err(|e| bad_object("payment", &e))?;
        let value =
            serde_json::from_str(raw.get()).map_err(|e| bad_object("payment", &e.to_string()))?;
        Ok((value, record))
    }
}

/// Unix seconds as RFC 3339 UTC.
fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An id as one URL path segment.
fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[async_trait]
impl PullPayments for Square {
    fn streams(&self) -> &'static [&'static str] {
        STREAMS
    }

    async fn fetch_page(&self, stream: &str, request: &PageRequest) -> Result<Page, ProviderError> {
        match stream {
            "payments" => self.payments_page(request).await,
            "refunds" => self.refunds_page(request).await,
            "payouts" => self.payouts_page(request).await,
            "customers" => self.customers_page(request).await,
            "disputes" => self.disputes_page(request).await,
            "subscriptions" => self.subscriptions_page(request).await,
            other => Err(ProviderError::new(
                ProviderErrorKind::InvalidRequest,
                format!("Square has no stream `{other}`"),
            )),
        }
    }

    fn lookback_secs(&self, stream: &str) -> i64 {
        match stream {
            "payouts" => PAYOUTS_LOOKBACK_SECS,
            _ => crate::DEFAULT_LOOKBACK_SECS,
        }
    }

    async fn verify(&self) -> Result<(), ProviderError> {
        self.get("/v2/locations", &[]).await.map(|_| ())
    }
}

/// Our minor units (`exponent` decimals) as Square's (the currency's ISO 4217 minor unit).
pub fn to_square_amount(
    amount_minor: i64,
    currency: &str,
    exponent: u8,
) -> Result<i64, ProviderError> {
    let bad = |why: &str| {
        ProviderError::new(
            ProviderErrorKind::InvalidRequest,
            format!("Cannot send {amount_minor} (10^-{exponent}) {currency} to Square: {why}."),
        )
    };
    let iso = Currency::parse(currency)
        .map_err(|e| bad(&e.to_string()))?
        .iso_exponent();
    if exponent <= iso {
        10i64
            .checked_pow(u32::from(iso - exponent))
            .and_then(|f| amount_minor.checked_mul(f))
            .ok_or_else(|| bad("too large"))
    } else {
        let factor = 10i64.pow(u32::from(exponent - iso));
        if amount_minor % factor == 0 {
            Ok(amount_minor / factor)
        } else {
            Err(bad("more decimals than the currency has"))
        }
    }
}

/// The outbox's idempotency key within Square's 45 characters for RefundPayment; the same key
/// always maps to the same one, so a resend stays idempotent.
pub fn refund_idempotency_key(key: &str) -> String {
    if key.chars().count() <= REFUND_KEY_MAX {
        return key.to_string();
    }
    let short = match key.strip_prefix("switchboard-") {
        Some(rest) => format!("sb-{rest}"),
        None => key.to_string(),
    };
    short.chars().take(REFUND_KEY_MAX).collect()
}

/// What a refund carries to be found again: Square's refunds have no metadata, so the outbox
/// item id goes at the end of the reason the seller sees.
fn refund_marker(outbox_id: &str) -> String {
    format!("(Switchboard {outbox_id})")
}

/// The reason a refund is sent with: the person's reason in words, and the marker.
fn refund_reason(reason: Option<&str>, outbox_id: &str) -> String {
    let words = match reason {
        Some("duplicate") => "Duplicate payment",
        Some("fraudulent") => "Fraudulent payment",
        Some("requested_by_customer") => "Requested by the customer",
        _ => "Refund",
    };
    format!("{words} {}", refund_marker(outbox_id))
}

/// What a payment link carries to be found again (its `description`, which only the app sees).
fn link_marker(outbox_id: &str) -> String {
    format!("{}={outbox_id}", crate::OUTBOX_METADATA_KEY)
}

impl Square {
    fn issued(
        &self,
        raw: &str,
        request_id: Option<String>,
    ) -> Result<crate::IssuedRefund, ProviderError> {
        let refund = parse::refund(raw, &mut Vec::new()).map_err(|e| bad_object("refund", &e))?;
        Ok(IssuedRefund {
            refund,
            payment: None,
            request_id,
        })
    }

    /// Adds the payment as it is after the refund; a failed read leaves it to the next sync
    /// (the refund itself is done).
    async fn with_payment(&self, mut issued: IssuedRefund, payment_id: &str) -> IssuedRefund {
        match self.fetch_payment(payment_id).await {
            Ok((_, payment)) => issued.payment = Some(payment),
            Err(e) => tracing::warn!("the refunded Square payment could not be read again: {e}"),
        }
        issued
    }
}

#[async_trait]
impl crate::IssueRefunds for Square {
    async fn create_refund(&self, r: &RefundRequest) -> Result<IssuedRefund, ProviderError> {
        let amount = to_square_amount(r.amount_minor, &r.currency, r.currency_exponent)?;
        let body = json!({
            "idempotency_key": refund_idempotency_key(&r.idempotency_key),
            "amount_money": {"amount": amount, "currency": r.currency.to_ascii_uppercase()},
            "payment_id": r.payment_external_id,
            "reason": refund_reason(r.reason.as_deref(), &r.outbox_id),
        });
        let (answer, request_id) = self
            .call(Method::POST, "/v2/refunds", &[], Some(&body))
            .await?;
        let raw = parse::object(&answer, "refund").map_err(|e| undecodable(e, &request_id))?;
        let issued = self.issued(raw.get(), request_id)?;
        Ok(self.with_payment(issued, &r.payment_external_id).await)
    }

    async fn find_refund(
        &self,
        payment_external_id: &str,
        outbox_id: &str,
    ) -> Result<Option<IssuedRefund>, ProviderError> {
        let (payment, record) = self.fetch_payment(payment_external_id).await?;
        let marker = refund_marker(outbox_id);
        let refund_ids: Vec<String> = payment
            .get("refund_ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        for id in refund_ids {
            let (body, request_id) = self
                .get(&format!("/v2/refunds/{}", segment(&id)), &[])
                .await?;
            let raw = parse::object(&body, "refund").map_err(|e| undecodable(e, &request_id))?;
            let v: Value = serde_json::from_str(raw.get())
                .map_err(|e| bad_object("refund", &e.to_string()))?;
            let reason = v.get("reason").and_then(Value::as_str).unwrap_or_default();
            if reason.ends_with(&marker) {
                let mut issued = self.issued(raw.get(), request_id)?;
                issued.payment = Some(record);
                return Ok(Some(issued));
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl crate::RequestPayments for Square {
    async fn create_payment_link(
        &self,
        request: &PaymentLinkRequest,
    ) -> Result<PaymentLink, ProviderError> {
        let amount = to_square_amount(
            request.amount_minor,
            &request.currency,
            request.currency_exponent,
        )?;
        let location = self.link_location(&request.currency).await?;
        let name: String = request.description.trim().chars().take(255).collect();
        let mut body = json!({
            "idempotency_key": request.idempotency_key,
            "description": link_marker(&request.outbox_id),
            "quick_pay": {
                "name": if name.is_empty() { "Payment".to_string() } else { name },
                "price_money": {"amount": amount, "currency": request.currency.to_ascii_uppercase()},
                "location_id": location,
            },
        });
        if let Some(email) = &request.customer_email {
            body["pre_populated_data"] = json!({ "buyer_email": email });
        }
        if let Some(url) = &request.return_url {
            body["checkout_options"] = json!({ "redirect_url": url });
        }
        let (answer, request_id) = self
            .call(
                Method::POST,
                "/v2/online-checkout/payment-links",
                &[],
                Some(&body),
            )
            .await
            .map_err(|e| needs_grant(e, LINKS, PAYMENT_LINKS_GRANT))?;
        let raw =
            parse::object(&answer, "payment_link").map_err(|e| undecodable(e, &request_id))?;
        payment_link(raw.get(), request_id)
    }

    async fn find_payment_link(
        &self,
        outbox_id: &str,
    ) -> Result<Option<PaymentLink>, ProviderError> {
        let marker = link_marker(outbox_id);
        let mut cursor: Option<String> = None;
        for _ in 0..LOOKUP_PAGES {
            let mut query = vec![("limit", PAGE_LIMIT.to_string())];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let (body, request_id) = self
                .get("/v2/online-checkout/payment-links", &query)
                .await
                .map_err(|e| needs_grant(e, LINKS, PAYMENT_LINKS_GRANT))?;
            let list =
                parse::list(&body, "payment_links").map_err(|e| undecodable(e, &request_id))?;
            for item in &list.items {
                let v: Value = serde_json::from_str(item.get())
                    .map_err(|e| bad_object("payment link", &e.to_string()))?;
                if v.get("description").and_then(Value::as_str) == Some(marker.as_str()) {
                    return payment_link(item.get(), request_id).map(Some);
                }
            }
            match list.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(None),
            }
        }
        Err(ProviderError::new(
            ProviderErrorKind::BadResponse,
            format!(
                "This Square account has more than {} payment links; Switchboard could not check whether this one was already made.",
                LOOKUP_PAGES * PAGE_LIMIT as usize
            ),
        ))
    }
}

fn payment_link(raw: &str, request_id: Option<String>) -> Result<PaymentLink, ProviderError> {
    let v: Value =
        serde_json::from_str(raw).map_err(|e| bad_object("payment link", &e.to_string()))?;
    let text = |f: &str| v.get(f).and_then(Value::as_str).map(str::to_string);
    Ok(PaymentLink {
        external_id: text("id").ok_or_else(|| bad_object("payment link", "no id"))?,
        url: text("url").ok_or_else(|| bad_object("payment link", "no url"))?,
        raw_json: raw.to_string(),
        request_id,
    })
}

#[async_trait]
impl crate::ManageSubscriptions for Square {
    /// Square's CancelSubscription schedules the end for the end of the paid period. It takes
    /// no idempotency key; a second cancel is refused, so a refusal is checked against the
    /// subscription: already ending (or ended) counts as done.
    async fn cancel_at_period_end(
        &self,
        subscription_external_id: &str,
        _idempotency_key: &str,
    ) -> Result<SubscriptionRecord, ProviderError> {
        let id = segment(subscription_external_id);
        let cancel = self
            .call(
                Method::POST,
                &format!("/v2/subscriptions/{id}/cancel"),
                &[],
                None,
            )
            .await;
        let (body, request_id) = match cancel {
            Ok(answer) => answer,
            Err(e) if e.kind == ProviderErrorKind::InvalidRequest && e.http_status == Some(400) => {
                let (body, request_id) = self.get(&format!("/v2/subscriptions/{id}"), &[]).await?;
                let raw = parse::object(&body, "subscription")
                    .map_err(|e| undecodable(e, &request_id))?;
                let record = parse::subscription(raw.get(), &mut Vec::new())
                    .map_err(|e| bad_object("subscription", &e))?;
                return if record.cancel_at_period_end || record.status == "canceled" {
                    Ok(self.with_plan(record).await)
                } else {
                    Err(e)
                };
            }
            Err(e) => {
                return Err(needs_grant(
                    e,
                    "end subscriptions",
                    CANCEL_SUBSCRIPTIONS_GRANT,
                ));
            }
        };
        let raw = parse::object(&body, "subscription").map_err(|e| undecodable(e, &request_id))?;
        let record = parse::subscription(raw.get(), &mut Vec::new())
            .map_err(|e| bad_object("subscription", &e))?;
        Ok(self.with_plan(record).await)
    }
}

#[cfg(test)]
mod tests;
