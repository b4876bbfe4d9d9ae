//! Stripe (API version pinned to 2023-08-16, the version of `shared/specs/stripe.json`).
//!
//! Streams: `charges` (payments), `refunds`, `balance_transactions` (fees, net, availability),
//! `disputes`, `payouts` (each with the balance transactions it paid out, `payouts.rs`),
//! `customers`, `subscriptions`, and `events` (updates to objects already synced, from the
//! Events API, with a windowed re-list when its 30 days of events no longer reach back to the
//! last run, `events.rs`). Lists use Stripe's cursor pagination (`limit=100`,
//! `starting_after`), newest first, and `created[gte]` for incremental runs. Amounts are
//! converted from Stripe's units to ISO minor units where exact (Stripe counts ISK in
//! hundredths; see `stripe_exponent`). Writes: refunds (below), payment requests as Checkout
//! Sessions and subscription cancels (`writes.rs`), each with the outbox's `Idempotency-Key`.

mod events;
mod objects;
mod payouts;
mod writes;

pub use events::{
    EVENT_RETENTION_SECS, EVENT_TYPES, EventsCursor, Phase, QUIET_SECS, RELIST_LOOKBACK_SECS,
    RELIST_STREAMS,
};
pub use objects::{
    entry_kind, parse_customer_raw, parse_dispute_raw, parse_payout_entry_raw, parse_payout_raw,
    parse_subscription_raw,
};
pub use payouts::{PAYOUT_LOOKBACK_SECS, PAYOUT_PAGE_LIMIT};
pub use writes::DEFAULT_SUCCESS_URL;

use crate::http::{self, Guard, RequestSink, transport_error};
use crate::{Page, PageRequest, ProviderError, ProviderErrorKind, PullPayments, Record, Rejected};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use switchboard_core::records::{BalanceTransactionRecord, PaymentRecord, RefundRecord};
use switchboard_core::secret::SecretString;
use switchboard_core::views::FeeLine;
use switchboard_core::{Currency, Money};

pub const API_VERSION: &str = "2023-08-16";
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
pub const PAGE_LIMIT: u32 = 100;
pub const STREAMS: &[&str] = &[
    "charges",
    "refunds",
    "balance_transactions",
    "disputes",
    "payouts",
    "customers",
    "subscriptions",
    "events",
];

/// Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal).
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
/// Stripe's three-decimal currencies.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// Decimal places of Stripe's `amount` fields for `currency`. Special cases: ISK is
/// zero-decimal in ISO 4217 but Stripe counts it in hundredths (amounts divisible by 100);
/// HUF and TWD are two-decimal in the API (only their payouts must be whole units).
pub fn stripe_exponent(currency: Currency) -> u8 {
    let code = currency.code();
    if ZERO_DECIMAL.contains(&code) {
        0
    } else if THREE_DECIMAL.contains(&code) {
        3
    } else {
        2
    }
}

const CHARGE_STATUSES: &[&str] = &["succeeded", "pending", "failed"];
const REFUND_STATUSES: &[&str] = &[
    "pending",
    "requires_action",
    "succeeded",
    "failed",
    "canceled",
];
const BT_STATUSES: &[&str] = &["available", "pending"];

/// The wall clock in unix seconds, injectable for tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub struct Stripe {
    client: reqwest::Client,
    api_base: String,
    api_key: SecretString,
    request_sink: Option<RequestSink>,
    /// The connection's rate limiter and circuit breaker, around every request.
    guard: Option<Guard>,
    /// Decides whether the events stream's last run is still within Stripe's retention.
    clock: Clock,
    /// Whether this adapter already warned that the events stream re-lists (once per sync).
    relist_warned: AtomicBool,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe")
            .field("api_base", &self.api_base)
            .field("api_key", &self.api_key)
            .finish()
    }
}

impl Stripe {
    pub fn new(client: reqwest::Client, api_base: Option<&str>, api_key: SecretString) -> Self {
        Stripe {
            client,
            api_base: api_base
                .unwrap_or(DEFAULT_API_BASE)
                .trim_end_matches('/')
                .to_string(),
            api_key,
            request_sink: None,
            guard: None,
            clock: Arc::new(|| chrono::Utc::now().timestamp()),
            relist_warned: AtomicBool::new(false),
        }
    }

    /// Reads the time from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Sends every request under the connection's rate budget and circuit breaker.
    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.guard = Some(guard);
        self
    }

    /// Whether the key is a test-mode key (`sk_test_`, `rk_test_`): Stripe's test mode has its
    /// own, lower rate limits.
    pub fn is_test_key(api_key: &str) -> bool {
        api_key.starts_with("sk_test_") || api_key.starts_with("rk_test_")
    }

    /// Reports every exchange to `sink` (the request log).
    pub fn with_request_sink(mut self, sink: RequestSink) -> Self {
        self.request_sink = Some(sink);
        self
    }

    /// `GET {base}{path}` with Stripe's auth and version headers; the JSON body on success,
    /// Stripe's error mapped to a [`ProviderError`] otherwise.
    async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(Value, Option<String>), ProviderError> {
        let (body, request_id) = self.get_bytes(path, query).await?;
        let value = serde_json::from_slice(&body).map_err(|e| {
            let mut err = ProviderError::new(
                ProviderErrorKind::BadResponse,
                format!("Stripe sent an unreadable answer (truncated or not JSON: {e})."),
            );
            err.http_status = Some(200);
            err.request_id = request_id.clone();
            err
        })?;
        Ok((value, request_id))
    }

    /// [`Stripe::get`] without decoding: the body of a 2xx answer as bytes.
    async fn get_bytes(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(bytes::Bytes, Option<String>), ProviderError> {
        let request = self
            .client
            .get(format!("{}{}", self.api_base, path))
            .bearer_auth(self.api_key.expose())
            .header("Stripe-Version", API_VERSION)
            .query(query)
            .build()
            .map_err(|e| transport_error("Stripe", e))?;
        let answer = http::execute_guarded(
            &self.client,
            request,
            "Stripe",
            "request-id",
            self.request_sink.as_ref(),
            self.guard.as_ref(),
        )
        .await?;
        if (200..300).contains(&answer.status) {
            return Ok((answer.body, answer.request_id));
        }
        let mut err = error_from_body(answer.status, &answer.body);
        err.request_id = answer.request_id;
        err.retry_after_secs = answer.retry_after_secs;
        Err(err)
    }
}

/// Maps a Stripe error answer (`{"error": {"type", "code", "message", "param"}}`) to a
/// [`ProviderError`] with a message that says what to do.
pub fn error_from_body(status: u16, body: &[u8]) -> ProviderError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let field = |name: &str| {
        error
            .and_then(|e| e.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let stripe_message = field("message");
    let code = field("code");
    let error_type = field("type");
    let said = stripe_message
        .clone()
        .map(|m| format!(" Stripe said: “{m}”"))
        .unwrap_or_default();
    let (kind, message) = match status {
        401 => (
            ProviderErrorKind::Auth,
            format!(
                "Stripe rejected the API key.{said} Check the key in the Stripe Dashboard (Developers → API keys) and connect again."
            ),
        ),
        403 => (
            ProviderErrorKind::Auth,
            format!(
                "The Stripe key lacks a permission Switchboard needs (read access to Charges, Refunds, Balance transactions, Disputes, Payouts, Customers, Subscriptions and Events).{said}"
            ),
        ),
        429 => (
            ProviderErrorKind::RateLimited,
            format!("Stripe asked Switchboard to slow down; it will try again shortly.{said}"),
        ),
        400 | 404 => (
            ProviderErrorKind::InvalidRequest,
            format!("Stripe refused the request.{said}"),
        ),
        s if s >= 500 => (
            ProviderErrorKind::Server,
            format!("Stripe had a problem (HTTP {s}); the next sync will try again.{said}"),
        ),
        s => (
            ProviderErrorKind::BadResponse,
            format!("Stripe answered HTTP {s}.{said}"),
        ),
    };
    let mut e = ProviderError::new(kind, message);
    e.http_status = Some(status);
    e.provider_code = code.or(error_type);
    e
}

#[async_trait]
impl PullPayments for Stripe {
    fn streams(&self) -> &'static [&'static str] {
        STREAMS
    }

    async fn fetch_page(&self, stream: &str, request: &PageRequest) -> Result<Page, ProviderError> {
        let page = match stream {
            "payouts" => self.payouts_page(request).await,
            "events" => self.events_page(request).await,
            _ => self.list_page(stream, request).await,
        };
        page.map_err(|e| missing_read_permission(stream, e))
    }

    fn lookback_secs(&self, stream: &str) -> i64 {
        match stream {
            "payouts" => PAYOUT_LOOKBACK_SECS,
            _ => crate::DEFAULT_LOOKBACK_SECS,
        }
    }

    async fn verify(&self) -> Result<(), ProviderError> {
        self.get("/v1/charges", &[("limit", "1".to_string())])
            .await
            .map(|_| ())
    }
}

/// A 403 on a stream a restricted key made for the first streams may not cover (it reads
/// charges, refunds and balance transactions) fails that stream only, saying which read
/// access to add: the key works, so the connection does not need a reconnect.
fn missing_read_permission(stream: &str, mut e: ProviderError) -> ProviderError {
    let what = match stream {
        "disputes" => "Disputes",
        "payouts" => "Payouts",
        "customers" => "Customers",
        "subscriptions" => "Subscriptions",
        "events" => "Events (and, for its re-list, Disputes, Payouts, Customers and Subscriptions)",
        _ => return e,
    };
    if e.http_status == Some(403) {
        e.kind = ProviderErrorKind::InvalidRequest;
        e.message = format!(
            "The Stripe key cannot read {what}. Give the restricted key read access to {what} in the Stripe Dashboard (Developers → API keys); the other streams still sync."
        );
    }
    e
}

impl Stripe {
    /// One page of a plain list stream.
    async fn list_page(&self, stream: &str, request: &PageRequest) -> Result<Page, ProviderError> {
        let path = list_path(stream)?;
        let mut query = vec![("limit", PAGE_LIMIT.to_string())];
        query.extend(list_filters(stream));
        if let Some(gte) = request.created_gte {
            query.push(("created[gte]", gte.to_string()));
        }
        if let Some(after) = &request.starting_after {
            query.push(("starting_after", after.clone()));
        }
        let (body, request_id) = self.get_bytes(path, &query).await?;
        let mut page = parse_list(stream, &body).map_err(|mut e| {
            e.http_status = Some(200);
            e.request_id = request_id.clone();
            e
        })?;
        page.request_id = request_id;
        Ok(page)
    }
}

/// The list endpoint of `stream`.
fn list_path(stream: &str) -> Result<&'static str, ProviderError> {
    Ok(match stream {
        "charges" => "/v1/charges",
        "refunds" => "/v1/refunds",
        "balance_transactions" => "/v1/balance_transactions",
        "disputes" => "/v1/disputes",
        "payouts" => "/v1/payouts",
        "customers" => "/v1/customers",
        "subscriptions" => "/v1/subscriptions",
        other => {
            return Err(ProviderError::new(
                ProviderErrorKind::InvalidRequest,
                format!("Stripe has no stream `{other}`"),
            ));
        }
    })
}

/// Filters a stream's list always sends: subscriptions leave canceled ones out unless asked.
fn list_filters(stream: &str) -> Vec<(&'static str, String)> {
    match stream {
        "subscriptions" => vec![("status", "all".to_string())],
        _ => Vec::new(),
    }
}

/// Whether `id` looks like a Stripe object id (`prefix_…`), safe in a URL path.
fn is_object_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id.contains('_')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The error of a 200 answer that is not the JSON it should be.
fn unreadable(e: serde_json::Error, request_id: &Option<String>) -> ProviderError {
    let mut err = ProviderError::new(
        ProviderErrorKind::BadResponse,
        format!("Stripe sent an unreadable answer (truncated or not JSON: {e})."),
    );
    err.http_status = Some(200);
    err.request_id = request_id.clone();
    err
}

fn bad_shape(what: &str) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::BadResponse,
        format!("Stripe sent a list in an unexpected shape ({what})."),
    )
}

/// A list answer's envelope; each item stays raw text until its own parse, which keeps the
/// provider's exact bytes as the stored `raw_json`.
#[derive(Deserialize)]
struct ListEnvelope<'a> {
    #[serde(borrow)]
    data: Option<Vec<&'a RawValue>>,
    has_more: Option<bool>,
}

/// Parses a Stripe list answer into normalised records. Objects that cannot be used are
/// rejected with their id and reason; the page itself only fails if its envelope is wrong.
pub fn parse_list(stream: &str, body: &[u8]) -> Result<Page, ProviderError> {
    let envelope: ListEnvelope<'_> = serde_json::from_slice(body).map_err(|e| {
        ProviderError::new(
            ProviderErrorKind::BadResponse,
            format!("Stripe sent an unreadable answer (truncated or not JSON: {e})."),
        )
    })?;
    let data = envelope.data.ok_or_else(|| bad_shape("no `data` array"))?;
    let has_more = envelope
        .has_more
        .ok_or_else(|| bad_shape("no `has_more`"))?;
    let mut page = Page {
        has_more,
        fetched: data.len(),
        ..Page::default()
    };
    for object in data {
        let raw = object.get();
        let warnings = &mut page.warnings;
        let parsed = match stream {
            "charges" => parse_charge_raw(raw, warnings).map(Record::Payment),
            "refunds" => parse_refund_raw(raw, warnings).map(Record::Refund),
            "disputes" => parse_dispute_raw(raw, warnings).map(Record::Dispute),
            "payouts" => parse_payout_raw(raw, warnings).map(Record::Payout),
            "customers" => parse_customer_raw(raw, warnings).map(Record::Customer),
            "subscriptions" => parse_subscription_raw(raw, warnings).map(Record::Subscription),
            _ => parse_balance_transaction_raw(raw, warnings).map(Record::BalanceTransaction),
        };
        // Paging moves past every object, usable or not: a usable one carries its id and
        // `created`; only an unusable one is read again for them (one pass per object, not two).
        let (id, created) = match parsed {
            Ok(record) => {
                let head = (record.external_id().to_string(), record.created());
                page.records.push(record);
                (Some(head.0), Some(head.1))
            }
            Err(reason) => {
                let head: ObjectHead<'_> = serde_json::from_str(raw).unwrap_or_default();
                let id = head.id.map(Cow::into_owned);
                page.rejected.push(Rejected {
                    external_id: id.clone(),
                    reason,
                });
                (id, head.created)
            }
        };
        if id.is_some() {
            page.last_id = id;
        }
        if let Some(created) = created {
            page.max_created = Some(page.max_created.map_or(created, |m| m.max(created)));
        }
    }
    if page.has_more && page.last_id.is_none() {
        return Err(bad_shape("has_more without object ids"));
    }
    Ok(page)
}

type Parsed<T> = Result<T, String>;

// Typed views of the fields Switchboard reads (serde skips the rest without building them).
// Every field is optional so a missing one is reported by name; a field of the wrong type
// rejects the object with serde's reason.

/// What paging needs from any object, read even when the object is otherwise unusable.
#[derive(Deserialize, Default)]
struct ObjectHead<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    created: Option<i64>,
}

/// An expandable field: an id, or the expanded object (of which only the `id` is kept).
#[derive(Deserialize)]
#[serde(untagged)]
enum Expandable<'a> {
    Id(#[serde(borrow)] Cow<'a, str>),
    Object {
        #[serde(borrow)]
        id: Option<Cow<'a, str>>,
    },
}

fn id_of(field: Option<Expandable<'_>>) -> Option<String> {
    match field? {
        Expandable::Id(id) => Some(id.into_owned()),
        Expandable::Object { id } => id.map(Cow::into_owned),
    }
}

#[derive(Deserialize)]
struct BillingDetails<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    email: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ChargeFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    amount: Option<i64>,
    amount_refunded: Option<i64>,
    #[serde(borrow)]
    currency: Option<Cow<'a, str>>,
    created: Option<i64>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    billing_details: Option<BillingDetails<'a>>,
    #[serde(borrow)]
    receipt_email: Option<Cow<'a, str>>,
    #[serde(borrow)]
    customer: Option<Expandable<'a>>,
    #[serde(borrow)]
    description: Option<Cow<'a, str>>,
    #[serde(borrow)]
    balance_transaction: Option<Expandable<'a>>,
    #[serde(borrow)]
    payment_method_details: Option<PaymentMethodDetails<'a>>,
}

#[derive(Deserialize)]
struct PaymentMethodDetails<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RefundFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    amount: Option<i64>,
    #[serde(borrow)]
    currency: Option<Cow<'a, str>>,
    created: Option<i64>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    charge: Option<Expandable<'a>>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    balance_transaction: Option<Expandable<'a>>,
}

#[derive(Deserialize)]
struct FeeDetail<'a> {
    amount: Option<i64>,
    #[serde(borrow)]
    currency: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    description: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct BalanceTransactionFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    amount: Option<i64>,
    fee: Option<i64>,
    net: Option<i64>,
    #[serde(borrow)]
    currency: Option<Cow<'a, str>>,
    created: Option<i64>,
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    fee_details: Option<Vec<FeeDetail<'a>>>,
    #[serde(borrow)]
    source: Option<Expandable<'a>>,
    available_on: Option<i64>,
}

fn fields<'a, T: Deserialize<'a>>(raw: &'a str) -> Parsed<T> {
    serde_json::from_str(raw).map_err(|e| format!("unreadable object: {e}"))
}

fn required<T>(value: Option<T>, field: &str) -> Parsed<T> {
    value.ok_or_else(|| format!("missing required field `{field}`"))
}

fn currency(code: Option<Cow<'_, str>>) -> Parsed<Currency> {
    Currency::parse(&required(code, "currency")?).map_err(|e| e.to_string())
}

/// A known status, or `unknown` with a warning (Stripe adds values over time).
fn status(
    value: Option<Cow<'_, str>>,
    known: &[&str],
    what: &str,
    id: &str,
    warnings: &mut Vec<String>,
) -> Parsed<String> {
    let s = required(value, "status")?;
    if known.contains(&s.as_ref()) {
        Ok(s.into_owned())
    } else {
        warnings.push(format!(
            "{what} {id} has an unknown status `{s}`; stored as `unknown`"
        ));
        Ok("unknown".to_string())
    }
}

/// One charge object (as JSON text, stored verbatim as its raw JSON).
pub fn parse_charge_raw(raw: &str, warnings: &mut Vec<String>) -> Parsed<PaymentRecord> {
    let o: ChargeFields<'_> = fields(raw)?;
    let id = required(o.id, "id")?;
    let amount = required(o.amount, "amount")?;
    let refunded = o.amount_refunded.unwrap_or(0);
    let currency = currency(o.currency)?;
    let created = required(o.created, "created")?;
    let status = status(o.status, CHARGE_STATUSES, "Charge", &id, warnings)?;
    let (amounts, exponent) =
        Money::normalise_many(&[amount, refunded], currency, stripe_exponent(currency));
    let (name, email) = o
        .billing_details
        .map_or((None, None), |b| (b.name, b.email));
    let customer_email = email.clone().or(o.receipt_email).map(Cow::into_owned);
    let customer = name
        .or(email)
        .map(Cow::into_owned)
        .or_else(|| customer_email.clone())
        .or_else(|| id_of(o.customer));
    Ok(PaymentRecord {
        external_id: id.into_owned(),
        amount_minor: amounts[0],
        refunded_minor: amounts[1],
        currency: currency.code().to_string(),
        currency_exponent: exponent,
        status,
        customer,
        description: o.description.map(Cow::into_owned),
        balance_transaction_external_id: id_of(o.balance_transaction),
        created,
        raw_json: raw.to_string(),
        // Stripe states fee and net on the balance transaction, not the charge.
        fee_minor: None,
        net_minor: None,
        method: o
            .payment_method_details
            .and_then(|d| d.kind)
            .map(|k| payment_method(&k).to_string()),
        customer_email,
        settlement: None,
    })
}

/// Our payment method family for Stripe's `payment_method_details.type`.
fn payment_method(stripe_type: &str) -> &'static str {
    match stripe_type {
        "card" | "card_present" | "interac_present" => "card",
        "paypal" => "paypal",
        "ach_debit"
        | "ach_credit_transfer"
        | "us_bank_account"
        | "sepa_debit"
        | "bacs_debit"
        | "au_becs_debit"
        | "acss_debit"
        | "customer_balance" => "bank_transfer",
        "link" | "cashapp" | "alipay" | "wechat_pay" | "klarna" | "affirm"
        | "afterpay_clearpay" => "wallet",
        _ => "other",
    }
}

/// One refund object (as JSON text, stored verbatim as its raw JSON).
pub fn parse_refund_raw(raw: &str, warnings: &mut Vec<String>) -> Parsed<RefundRecord> {
    let o: RefundFields<'_> = fields(raw)?;
    let id = required(o.id, "id")?;
    let amount = required(o.amount, "amount")?;
    let currency = currency(o.currency)?;
    let created = required(o.created, "created")?;
    let status = status(o.status, REFUND_STATUSES, "Refund", &id, warnings)?;
    let money = Money::normalised(amount, currency, stripe_exponent(currency));
    Ok(RefundRecord {
        external_id: id.into_owned(),
        payment_external_id: id_of(o.charge),
        amount_minor: money.amount_minor,
        currency: currency.code().to_string(),
        currency_exponent: money.exponent,
        status,
        reason: o.reason.map(Cow::into_owned),
        balance_transaction_external_id: id_of(o.balance_transaction),
        created,
        raw_json: raw.to_string(),
    })
}

/// One balance transaction (as JSON text, stored verbatim as its raw JSON).
pub fn parse_balance_transaction_raw(
    raw: &str,
    warnings: &mut Vec<String>,
) -> Parsed<BalanceTransactionRecord> {
    let o: BalanceTransactionFields<'_> = fields(raw)?;
    let id = required(o.id, "id")?;
    let amount = required(o.amount, "amount")?;
    let fee = required(o.fee, "fee")?;
    let net = required(o.net, "net")?;
    let currency = currency(o.currency)?;
    let created = required(o.created, "created")?;
    let kind = required(o.kind, "type")?.into_owned();
    let status = status(o.status, BT_STATUSES, "Balance transaction", &id, warnings)?;
    let from = stripe_exponent(currency);
    let mut fee_amounts = Vec::new();
    let mut fee_meta = Vec::new();
    for line in o.fee_details.into_iter().flatten() {
        let line_currency = match line.currency {
            Some(code) => Currency::parse(&code).ok(),
            None => None,
        }
        .unwrap_or(currency);
        if line_currency != currency {
            return Err(format!(
                "fee line in {line_currency} on a {currency} balance transaction"
            ));
        }
        fee_amounts.push(required(line.amount, "amount")?);
        fee_meta.push((
            required(line.kind, "type")?.into_owned(),
            line.description.map(Cow::into_owned),
        ));
    }
    let mut all = vec![amount, fee, net];
    all.extend(&fee_amounts);
    let (converted, exponent) = Money::normalise_many(&all, currency, from);
    let fee_lines = fee_meta
        .into_iter()
        .zip(&converted[3..])
        .map(|((kind, description), amount)| FeeLine {
            amount_minor: *amount,
            currency: currency.code().to_string(),
            currency_exponent: exponent,
            kind,
            description,
        })
        .collect();
    // Payouts are balance transactions themselves; a payment's payout arrives with the payouts
    // stream (payments issue), via `GET /v1/balance_transactions?payout=`.
    let source = id_of(o.source);
    let payout = source
        .clone()
        .filter(|s| s.starts_with("po_") && kind == "payout");
    Ok(BalanceTransactionRecord {
        external_id: id.into_owned(),
        source_external_id: source,
        kind,
        amount_minor: converted[0],
        fee_minor: converted[1],
        net_minor: converted[2],
        currency: currency.code().to_string(),
        currency_exponent: exponent,
        status,
        available_on: o.available_on,
        payout_external_id: payout,
        fee_lines,
        created,
        raw_json: raw.to_string(),
    })
}

/// An expandable field of a JSON value: the id string, or the expanded object's `id`.
fn expandable_id(o: &Value, field: &str) -> Option<String> {
    match o.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => m.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// One charge object given as a JSON value (e.g. the `charge` expanded inside a refund).
pub fn parse_charge(o: &Value, warnings: &mut Vec<String>) -> Parsed<PaymentRecord> {
    parse_charge_raw(&o.to_string(), warnings)
}

/// One refund object given as a JSON value.
pub fn parse_refund(o: &Value, warnings: &mut Vec<String>) -> Parsed<RefundRecord> {
    parse_refund_raw(&o.to_string(), warnings)
}

/// One balance transaction given as a JSON value.
pub fn parse_balance_transaction(
    o: &Value,
    warnings: &mut Vec<String>,
) -> Parsed<BalanceTransactionRecord> {
    parse_balance_transaction_raw(&o.to_string(), warnings)
}

// ---------------------------------------------------------------------------------------------
// Refunds (the outbox's first writer): `POST /v1/refunds` with an `Idempotency-Key`, and the
// look-up of a refund by the outbox id it carries in its metadata.

/// How many pages of a charge's refunds a look-up reads (100 each) before giving up.
const LOOKUP_PAGES: usize = 10;

impl Stripe {
    /// Sends `request` (built by the caller) once: the body of a 2xx answer, or Stripe's error.
    /// `permission` says what a 403 lacks ("to refund (Refunds: write)").
    async fn send(
        &self,
        request: reqwest::Request,
        permission: &str,
    ) -> Result<(bytes::Bytes, Option<String>), ProviderError> {
        let answer = http::execute_guarded(
            &self.client,
            request,
            "Stripe",
            "request-id",
            self.request_sink.as_ref(),
            self.guard.as_ref(),
        )
        .await?;
        if (200..300).contains(&answer.status) {
            return Ok((answer.body, answer.request_id));
        }
        let mut err = error_from_body(answer.status, &answer.body);
        if answer.status == 403 {
            err.message = format!(
                "The Stripe key lacks a permission Switchboard needs {permission}. Give the restricted key that permission in the Stripe Dashboard, then retry."
            );
        }
        err.request_id = answer.request_id;
        err.retry_after_secs = answer.retry_after_secs;
        Err(err)
    }

    /// Sends a refund request once and decodes Stripe's JSON answer or error.
    async fn send_json(
        &self,
        request: reqwest::Request,
    ) -> Result<(Value, Option<String>), ProviderError> {
        let (body, request_id) = self.send(request, "to refund (Refunds: write)").await?;
        serde_json::from_slice(&body)
            .map(|v| (v, request_id.clone()))
            .map_err(|e| unreadable(e, &request_id))
    }

    /// A refund object (its `charge` expanded) as records: the refund with `charge` back to an
    /// id, as lists return it, and the charge as it is after the refund.
    fn issued(
        mut object: Value,
        request_id: Option<String>,
    ) -> Result<crate::IssuedRefund, ProviderError> {
        let mut warnings = Vec::new();
        let payment = match object.get("charge") {
            Some(charge @ Value::Object(_)) => {
                Some(parse_charge(charge, &mut warnings).map_err(|e| bad_object("charge", &e))?)
            }
            _ => None,
        };
        if let Some(id) = expandable_id(&object, "charge") {
            object["charge"] = Value::String(id);
        }
        let refund = parse_refund(&object, &mut warnings).map_err(|e| bad_object("refund", &e))?;
        Ok(crate::IssuedRefund {
            refund,
            payment,
            request_id,
        })
    }
}

fn bad_object(what: &str, reason: &str) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::BadResponse,
        format!("Stripe sent a {what} Switchboard cannot read ({reason})."),
    )
}

/// Our minor units in Stripe's (`stripe_exponent` decimals; ISK is sent in hundredths).
pub fn to_stripe_amount(
    amount_minor: i64,
    currency: &str,
    exponent: u8,
) -> Result<i64, ProviderError> {
    let bad = |why: &str| {
        ProviderError::new(
            ProviderErrorKind::InvalidRequest,
            format!("Cannot send {amount_minor} (10^-{exponent}) {currency} to Stripe: {why}."),
        )
    };
    let currency = Currency::parse(currency).map_err(|e| bad(&e.to_string()))?;
    let to = stripe_exponent(currency);
    let shift = to
        .checked_sub(exponent)
        .ok_or_else(|| bad("more decimals than Stripe uses"))?;
    10i64
        .checked_pow(u32::from(shift))
        .and_then(|f| amount_minor.checked_mul(f))
        .ok_or_else(|| bad("too large"))
}

#[async_trait]
impl crate::IssueRefunds for Stripe {
    async fn create_refund(
        &self,
        r: &crate::RefundRequest,
    ) -> Result<crate::IssuedRefund, ProviderError> {
        let amount = to_stripe_amount(r.amount_minor, &r.currency, r.currency_exponent)?;
        let mut form: Vec<(String, String)> = vec![
            ("charge".into(), r.payment_external_id.clone()),
            ("amount".into(), amount.to_string()),
            (
                format!("metadata[{}]", crate::OUTBOX_METADATA_KEY),
                r.outbox_id.clone(),
            ),
            ("expand[]".into(), "charge".into()),
        ];
        if let Some(reason) = &r.reason {
            form.push(("reason".into(), reason.clone()));
        }
        let request = self
            .client
            .post(format!("{}/v1/refunds", self.api_base))
            .bearer_auth(self.api_key.expose())
            .header("Stripe-Version", API_VERSION)
            .header("Idempotency-Key", &r.idempotency_key)
            .form(&form)
            .build()
            .map_err(|e| transport_error("Stripe", e))?;
        let (body, request_id) = self.send_json(request).await?;
        Self::issued(body, request_id)
    }

    async fn find_refund(
        &self,
        payment_external_id: &str,
        outbox_id: &str,
    ) -> Result<Option<crate::IssuedRefund>, ProviderError> {
        let mut after: Option<String> = None;
        for _ in 0..LOOKUP_PAGES {
            let mut query = vec![
                ("charge", payment_external_id.to_string()),
                ("limit", PAGE_LIMIT.to_string()),
                ("expand[]", "data.charge".to_string()),
            ];
            if let Some(a) = &after {
                query.push(("starting_after", a.clone()));
            }
            let request = self
                .client
                .get(format!("{}/v1/refunds", self.api_base))
                .bearer_auth(self.api_key.expose())
                .header("Stripe-Version", API_VERSION)
                .query(&query)
                .build()
                .map_err(|e| transport_error("Stripe", e))?;
            let (body, request_id) = self.send_json(request).await?;
            let data = body
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| bad_shape("no `data` array"))?;
            let found = data.iter().find(|o| {
                o.get("metadata")
                    .and_then(|m| m.get(crate::OUTBOX_METADATA_KEY))
                    .and_then(Value::as_str)
                    == Some(outbox_id)
            });
            if let Some(object) = found {
                return Self::issued(object.clone(), request_id).map(Some);
            }
            let has_more = body.get("has_more").and_then(Value::as_bool) == Some(true);
            after = data
                .last()
                .and_then(|o| o.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string);
            if !has_more || after.is_none() {
                return Ok(None);
            }
        }
        Err(ProviderError::new(
            ProviderErrorKind::BadResponse,
            format!(
                "Charge {payment_external_id} has more than {} refunds; Switchboard could not check whether this refund was already made.",
                LOOKUP_PAGES * PAGE_LIMIT as usize
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn charge(amount: i64, currency: &str, status: &str) -> Value {
        json!({"id": "ch_1", "object": "charge", "amount": amount, "amount_refunded": 0,
               "currency": currency, "created": 1_700_000_000, "status": status,
               "balance_transaction": "txn_1", "description": "x",
               "billing_details": {"name": "Ada"}})
    }

    #[test]
    fn exponents_follow_stripe_rules() {
        let c = |s| Currency::parse(s).unwrap();
        assert_eq!(stripe_exponent(c("jpy")), 0);
        assert_eq!(stripe_exponent(c("ugx")), 0);
        assert_eq!(stripe_exponent(c("kwd")), 3);
        assert_eq!(stripe_exponent(c("isk")), 2);
        assert_eq!(stripe_exponent(c("huf")), 2);
        assert_eq!(stripe_exponent(c("eur")), 2);
    }

    #[test]
    fn charges_normalise_amounts() {
        let mut w = Vec::new();
        let jpy = parse_charge(&charge(1234, "jpy", "succeeded"), &mut w).unwrap();
        assert_eq!(
            (
                jpy.amount_minor,
                jpy.currency.as_str(),
                jpy.currency_exponent
            ),
            (1234, "JPY", 0)
        );
        let isk = parse_charge(&charge(12300, "isk", "succeeded"), &mut w).unwrap();
        assert_eq!((isk.amount_minor, isk.currency_exponent), (123, 0));
        let kwd = parse_charge(&charge(1500, "kwd", "succeeded"), &mut w).unwrap();
        assert_eq!((kwd.amount_minor, kwd.currency_exponent), (1500, 3));
        assert_eq!(jpy.customer.as_deref(), Some("Ada"));
        assert_eq!(
            jpy.balance_transaction_external_id.as_deref(),
            Some("txn_1")
        );
        assert!(w.is_empty());
    }

    #[test]
    fn unknown_status_is_stored_as_unknown_with_a_warning() {
        let mut w = Vec::new();
        let p = parse_charge(&charge(100, "usd", "teleported"), &mut w).unwrap();
        assert_eq!(p.status, "unknown");
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("teleported"), "{w:?}");
    }

    #[test]
    fn missing_required_field_rejects_the_object_not_the_page() {
        let mut bad = charge(100, "usd", "succeeded");
        bad.as_object_mut().unwrap().remove("amount");
        let body = json!({"object": "list", "data": [charge(5, "usd", "succeeded"), bad], "has_more": false, "url": "/v1/charges"});
        let page = parse_list("charges", body.to_string().as_bytes()).unwrap();
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.rejected.len(), 1);
        assert_eq!(page.rejected[0].external_id.as_deref(), Some("ch_1"));
        assert!(page.rejected[0].reason.contains("amount"));
        assert_eq!(page.fetched, 2);
    }

    #[test]
    fn raw_json_is_the_providers_own_text_and_a_wrong_type_rejects_only_that_object() {
        let first = r#"{"id":"ch_a", "amount":100,"currency":"usd","created":1,"status":"succeeded","description":"Caf\u00e9 \"Zur Post\"","extra":{"nested":[1,2]}}"#;
        let second =
            r#"{"id":"ch_b","amount":"100","currency":"usd","created":2,"status":"succeeded"}"#;
        let body = format!(
            r#"{{"object":"list","has_more":false,"url":"/v1/charges","data":[{first},{second}]}}"#
        );
        let page = parse_list("charges", body.as_bytes()).unwrap();
        let Some(Record::Payment(p)) = page.records.first() else {
            panic!("{page:?}")
        };
        assert_eq!(p.raw_json, first);
        assert_eq!(p.description.as_deref(), Some("Café \"Zur Post\""));
        assert_eq!(page.rejected.len(), 1);
        assert_eq!(page.rejected[0].external_id.as_deref(), Some("ch_b"));
        assert!(page.rejected[0].reason.contains("invalid type"), "{page:?}");
        // Paging still moves past the rejected object.
        assert_eq!(
            (page.last_id.as_deref(), page.max_created),
            (Some("ch_b"), Some(2))
        );
    }

    #[test]
    fn every_list_stream_rejects_a_malformed_object_and_keeps_the_rest() {
        let good: &[(&str, Value)] = &[
            (
                "disputes",
                json!({"id": "dp_1", "amount": 100, "currency": "usd", "created": 1,
                "status": "won", "charge": "ch_1"}),
            ),
            (
                "payouts",
                json!({"id": "po_1", "amount": 100, "currency": "usd", "created": 1,
                "status": "paid", "arrival_date": 2}),
            ),
            (
                "customers",
                json!({"id": "cus_1", "created": 1, "email": "a@example.com"}),
            ),
            (
                "subscriptions",
                json!({"id": "sub_1", "created": 1, "status": "active"}),
            ),
        ];
        for (stream, object) in good {
            let mut bad = object.clone();
            bad["id"] = json!(format!("{}_bad", &stream[..3]));
            bad["created"] = json!("yesterday");
            let body = json!({"object": "list", "data": [object, bad], "has_more": false});
            let page = parse_list(stream, body.to_string().as_bytes()).unwrap();
            assert_eq!(
                (page.records.len(), page.rejected.len()),
                (1, 1),
                "{stream}"
            );
            assert!(
                page.rejected[0].reason.contains("invalid type"),
                "{stream}: {page:?}"
            );
            assert_eq!(page.max_created, Some(1), "{stream}");
            assert!(page.warnings.is_empty(), "{stream}");
        }
    }

    #[test]
    fn a_missing_read_permission_fails_only_its_new_stream() {
        let forbidden = || {
            let mut e = error_from_body(403, br#"{"error":{"type":"invalid_request_error","message":"The provided key does not have the required permissions"}}"#);
            e.request_id = Some("req_1".into());
            e
        };
        let e = missing_read_permission("disputes", forbidden());
        assert_eq!(e.kind, ProviderErrorKind::InvalidRequest);
        assert!(
            e.message.contains("read access to Disputes"),
            "{}",
            e.message
        );
        assert_eq!(e.request_id.as_deref(), Some("req_1"));
        assert_eq!(
            missing_read_permission("charges", forbidden()).kind,
            ProviderErrorKind::Auth
        );
        let unauthorized = error_from_body(401, b"{}");
        assert_eq!(
            missing_read_permission("events", unauthorized).kind,
            ProviderErrorKind::Auth
        );
    }

    #[test]
    fn bad_envelope_fails_the_page() {
        let parse = |v: Value| parse_list("charges", v.to_string().as_bytes());
        assert!(parse(json!({"data": "nope"})).is_err());
        assert!(parse(json!({"data": [], "has_more": true})).is_err());
        assert!(parse_list("charges", b"{\"data\": [").is_err());
    }

    #[test]
    fn error_bodies_map_to_kinds_and_keep_stripe_words() {
        let body = br#"{"error":{"message":"Invalid API Key provided: sk_test_****abcd","type":"invalid_request_error"}}"#;
        let e = error_from_body(401, body);
        assert_eq!(e.kind, ProviderErrorKind::Auth);
        assert!(e.message.contains("Invalid API Key provided"));
        assert_eq!(e.provider_code.as_deref(), Some("invalid_request_error"));
        let e = error_from_body(404, br#"{"error":{"code":"resource_missing","message":"No such charge","type":"invalid_request_error","param":"id"}}"#);
        assert_eq!(
            (e.kind, e.provider_code.as_deref()),
            (ProviderErrorKind::InvalidRequest, Some("resource_missing"))
        );
        assert_eq!(
            error_from_body(429, b"").kind,
            ProviderErrorKind::RateLimited
        );
        assert_eq!(
            error_from_body(503, b"<html>").kind,
            ProviderErrorKind::Server
        );
    }

    #[test]
    fn balance_transactions_keep_fee_lines_and_net() {
        let mut w = Vec::new();
        let bt = json!({"id": "txn_1", "object": "balance_transaction", "amount": 1234, "fee": 66,
            "net": 1168, "currency": "eur", "created": 1, "available_on": 2, "status": "pending",
            "type": "charge", "source": "ch_1", "fee_details": [
                {"amount": 66, "currency": "eur", "type": "stripe_fee", "description": "Stripe processing fees", "application": null}]});
        let r = parse_balance_transaction(&bt, &mut w).unwrap();
        assert_eq!((r.amount_minor, r.fee_minor, r.net_minor), (1234, 66, 1168));
        assert_eq!(r.fee_lines.len(), 1);
        assert_eq!(r.fee_lines[0].kind, "stripe_fee");
        assert_eq!(r.source_external_id.as_deref(), Some("ch_1"));
    }
}
