//! Stripe (API version pinned to 2023-08-16, the version of `shared/specs/stripe.json`).
//!
//! Streams: `charges` (payments), `refunds`, `balance_transactions` (fees, net, availability).
//! Lists use Stripe's cursor pagination (`limit=100`, `starting_after`), newest first, and
//! `created[gte]` for incremental runs. Amounts are converted from Stripe's units to ISO minor
//! units where exact (Stripe counts ISK in hundredths; see `stripe_exponent`).

use crate::http::{self, RequestSink, transport_error};
use crate::{Page, PageRequest, ProviderError, ProviderErrorKind, PullPayments, Record, Rejected};
use async_trait::async_trait;
use serde_json::Value;
use switchboard_core::records::{BalanceTransactionRecord, PaymentRecord, RefundRecord};
use switchboard_core::secret::SecretString;
use switchboard_core::views::FeeLine;
use switchboard_core::{Currency, Money};

pub const API_VERSION: &str = "2023-08-16";
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
pub const PAGE_LIMIT: u32 = 100;
pub const STREAMS: &[&str] = &["charges", "refunds", "balance_transactions"];

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

pub struct Stripe {
    client: reqwest::Client,
    api_base: String,
    api_key: SecretString,
    request_sink: Option<RequestSink>,
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
        }
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
        let request = self
            .client
            .get(format!("{}{}", self.api_base, path))
            .bearer_auth(self.api_key.expose())
            .header("Stripe-Version", API_VERSION)
            .query(query)
            .build()
            .map_err(|e| transport_error("Stripe", e))?;
        let answer = http::execute(
            &self.client,
            request,
            "Stripe",
            "request-id",
            self.request_sink.as_ref(),
        )
        .await?;
        if (200..300).contains(&answer.status) {
            let value = serde_json::from_slice(&answer.body).map_err(|e| {
                let mut err = ProviderError::new(
                    ProviderErrorKind::BadResponse,
                    format!("Stripe sent an unreadable answer (truncated or not JSON: {e})."),
                );
                err.http_status = Some(answer.status);
                err.request_id = answer.request_id.clone();
                err
            })?;
            return Ok((value, answer.request_id));
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
                "The Stripe key lacks a permission Switchboard needs (read access to Charges, Refunds and Balance transactions).{said}"
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
        let path = match stream {
            "charges" => "/v1/charges",
            "refunds" => "/v1/refunds",
            "balance_transactions" => "/v1/balance_transactions",
            other => {
                return Err(ProviderError::new(
                    ProviderErrorKind::InvalidRequest,
                    format!("Stripe has no stream `{other}`"),
                ));
            }
        };
        let mut query = vec![("limit", PAGE_LIMIT.to_string())];
        if let Some(gte) = request.created_gte {
            query.push(("created[gte]", gte.to_string()));
        }
        if let Some(after) = &request.starting_after {
            query.push(("starting_after", after.clone()));
        }
        let (body, request_id) = self.get(path, &query).await?;
        let mut page = parse_list(stream, &body)?;
        page.request_id = request_id;
        Ok(page)
    }

    async fn verify(&self) -> Result<(), ProviderError> {
        self.get("/v1/charges", &[("limit", "1".to_string())])
            .await
            .map(|_| ())
    }
}

fn bad_shape(what: &str) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::BadResponse,
        format!("Stripe sent a list in an unexpected shape ({what})."),
    )
}

/// Parses a Stripe list object into normalised records. Objects that cannot be used are
/// rejected with their id and reason; the page itself only fails if its envelope is wrong.
pub fn parse_list(stream: &str, body: &Value) -> Result<Page, ProviderError> {
    let data = body
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_shape("no `data` array"))?;
    let has_more = body
        .get("has_more")
        .and_then(Value::as_bool)
        .ok_or_else(|| bad_shape("no `has_more`"))?;
    let mut page = Page {
        has_more,
        fetched: data.len(),
        ..Page::default()
    };
    for object in data {
        let id = object.get("id").and_then(Value::as_str).map(str::to_string);
        if let Some(id) = &id {
            page.last_id = Some(id.clone());
        }
        if let Some(created) = object.get("created").and_then(Value::as_i64) {
            page.max_created = Some(page.max_created.map_or(created, |m| m.max(created)));
        }
        let parsed = match stream {
            "charges" => parse_charge(object, &mut page.warnings).map(Record::Payment),
            "refunds" => parse_refund(object, &mut page.warnings).map(Record::Refund),
            _ => parse_balance_transaction(object, &mut page.warnings)
                .map(Record::BalanceTransaction),
        };
        match parsed {
            Ok(record) => page.records.push(record),
            Err(reason) => page.rejected.push(Rejected {
                external_id: id,
                reason,
            }),
        }
    }
    if page.has_more && page.last_id.is_none() {
        return Err(bad_shape("has_more without object ids"));
    }
    Ok(page)
}

type Parsed<T> = Result<T, String>;

fn req_str<'a>(o: &'a Value, field: &str) -> Parsed<&'a str> {
    o.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing required field `{field}`"))
}

fn req_i64(o: &Value, field: &str) -> Parsed<i64> {
    o.get(field)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("missing required field `{field}`"))
}

fn opt_str(o: &Value, field: &str) -> Option<String> {
    o.get(field).and_then(Value::as_str).map(str::to_string)
}

/// An expandable field: the id string, or the expanded object's `id`.
fn expandable_id(o: &Value, field: &str) -> Option<String> {
    match o.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => m.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn currency(o: &Value) -> Parsed<Currency> {
    let code = req_str(o, "currency")?;
    Currency::parse(code).map_err(|e| e.to_string())
}

/// A known status, or `unknown` with a warning (Stripe adds values over time).
fn status(
    o: &Value,
    known: &[&str],
    what: &str,
    id: &str,
    warnings: &mut Vec<String>,
) -> Parsed<String> {
    let s = req_str(o, "status")?;
    if known.contains(&s) {
        Ok(s.to_string())
    } else {
        warnings.push(format!(
            "{what} {id} has an unknown status `{s}`; stored as `unknown`"
        ));
        Ok("unknown".to_string())
    }
}

fn raw(o: &Value) -> String {
    o.to_string()
}

pub fn parse_charge(o: &Value, warnings: &mut Vec<String>) -> Parsed<PaymentRecord> {
    let id = req_str(o, "id")?;
    let amount = req_i64(o, "amount")?;
    let refunded = o
        .get("amount_refunded")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let currency = currency(o)?;
    let created = req_i64(o, "created")?;
    let status = status(o, CHARGE_STATUSES, "Charge", id, warnings)?;
    let (amounts, exponent) =
        Money::normalise_many(&[amount, refunded], currency, stripe_exponent(currency));
    let billing = o.get("billing_details");
    let customer = billing
        .and_then(|b| opt_str(b, "name"))
        .or_else(|| billing.and_then(|b| opt_str(b, "email")))
        .or_else(|| opt_str(o, "receipt_email"))
        .or_else(|| expandable_id(o, "customer"));
    Ok(PaymentRecord {
        external_id: id.to_string(),
        amount_minor: amounts[0],
        refunded_minor: amounts[1],
        currency: currency.code().to_string(),
        currency_exponent: exponent,
        status,
        customer,
        description: opt_str(o, "description"),
        balance_transaction_external_id: expandable_id(o, "balance_transaction"),
        created,
        raw_json: raw(o),
    })
}

pub fn parse_refund(o: &Value, warnings: &mut Vec<String>) -> Parsed<RefundRecord> {
    let id = req_str(o, "id")?;
    let amount = req_i64(o, "amount")?;
    let currency = currency(o)?;
    let created = req_i64(o, "created")?;
    let status = status(o, REFUND_STATUSES, "Refund", id, warnings)?;
    let money = Money::normalised(amount, currency, stripe_exponent(currency));
    Ok(RefundRecord {
        external_id: id.to_string(),
        payment_external_id: expandable_id(o, "charge"),
        amount_minor: money.amount_minor,
        currency: currency.code().to_string(),
        currency_exponent: money.exponent,
        status,
        reason: opt_str(o, "reason"),
        balance_transaction_external_id: expandable_id(o, "balance_transaction"),
        created,
        raw_json: raw(o),
    })
}

pub fn parse_balance_transaction(
    o: &Value,
    warnings: &mut Vec<String>,
) -> Parsed<BalanceTransactionRecord> {
    let id = req_str(o, "id")?;
    let amount = req_i64(o, "amount")?;
    let fee = req_i64(o, "fee")?;
    let net = req_i64(o, "net")?;
    let currency = currency(o)?;
    let created = req_i64(o, "created")?;
    let kind = req_str(o, "type")?.to_string();
    let status = status(o, BT_STATUSES, "Balance transaction", id, warnings)?;
    let from = stripe_exponent(currency);
    let mut fee_amounts = Vec::new();
    let mut fee_meta = Vec::new();
    for line in o
        .get("fee_details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let line_currency = currency_of(line).unwrap_or(currency);
        if line_currency != currency {
            return Err(format!(
                "fee line in {line_currency} on a {currency} balance transaction"
            ));
        }
        fee_amounts.push(req_i64(line, "amount")?);
        fee_meta.push((
            req_str(line, "type")?.to_string(),
            opt_str(line, "description"),
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
    let payout = expandable_id(o, "source").filter(|s| s.starts_with("po_") && kind == "payout");
    Ok(BalanceTransactionRecord {
        external_id: id.to_string(),
        source_external_id: expandable_id(o, "source"),
        kind,
        amount_minor: converted[0],
        fee_minor: converted[1],
        net_minor: converted[2],
        currency: currency.code().to_string(),
        currency_exponent: exponent,
        status,
        available_on: o.get("available_on").and_then(Value::as_i64),
        payout_external_id: payout,
        fee_lines,
        created,
        raw_json: raw(o),
    })
}

fn currency_of(o: &Value) -> Option<Currency> {
    o.get("currency")
        .and_then(Value::as_str)
        .and_then(|c| Currency::parse(c).ok())
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
        let page = parse_list("charges", &body).unwrap();
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.rejected.len(), 1);
        assert_eq!(page.rejected[0].external_id.as_deref(), Some("ch_1"));
        assert!(page.rejected[0].reason.contains("amount"));
        assert_eq!(page.fetched, 2);
    }

    #[test]
    fn bad_envelope_fails_the_page() {
        assert!(parse_list("charges", &json!({"data": "nope"})).is_err());
        assert!(parse_list("charges", &json!({"data": [], "has_more": true})).is_err());
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
