//! The operations of the Square fake: routing, parameters, and each answer's body.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::SquareState;
use super::catalog;
use super::data::{PaymentLink, SquareData};
use super::wire::{ApiError, Order, Query, Row, list_body, page, time_key};

const DAY_MS: i64 = 86_400_000;
/// Square's default `begin_time`: one year before the request.
const YEAR_MS: i64 = 365 * DAY_MS;
/// Most RefundPayment idempotency key characters Square accepts.
const REFUND_KEY_MAX: usize = 45;

/// An operation and its path parameters.
pub(crate) enum Route {
    ListLocations,
    ListPayments,
    GetPayment(String),
    ListRefunds,
    GetRefund(String),
    RefundPayment,
    ListDisputes,
    ListPayouts,
    ListPayoutEntries(String),
    ListCustomers,
    CreatePaymentLink,
    ListPaymentLinks,
    SearchSubscriptions,
    GetSubscription(String),
    CancelSubscription(String),
    BatchRetrieveCatalogObjects,
}

pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let get = method == Method::GET;
    let post = method == Method::POST;
    let id = |s: &str| s.to_string();
    Some(match segments.as_slice() {
        ["v2", "locations"] if get => Route::ListLocations,
        ["v2", "payments"] if get => Route::ListPayments,
        ["v2", "payments", p] if get => Route::GetPayment(id(p)),
        ["v2", "refunds"] if get => Route::ListRefunds,
        ["v2", "refunds"] if post => Route::RefundPayment,
        ["v2", "refunds", r] if get => Route::GetRefund(id(r)),
        ["v2", "disputes"] if get => Route::ListDisputes,
        ["v2", "payouts"] if get => Route::ListPayouts,
        ["v2", "payouts", p, "payout-entries"] if get => Route::ListPayoutEntries(id(p)),
        ["v2", "customers"] if get => Route::ListCustomers,
        ["v2", "online-checkout", "payment-links"] if post => Route::CreatePaymentLink,
        ["v2", "online-checkout", "payment-links"] if get => Route::ListPaymentLinks,
        ["v2", "subscriptions", "search"] if post => Route::SearchSubscriptions,
        ["v2", "subscriptions", s] if get => Route::GetSubscription(id(s)),
        ["v2", "subscriptions", s, "cancel"] if post => Route::CancelSubscription(id(s)),
        ["v2", "catalog", "batch-retrieve"] if post => Route::BatchRetrieveCatalogObjects,
        _ => return None,
    })
}

impl Route {
    /// The operation as counted: method and path template.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Route::ListLocations => "GET /v2/locations",
            Route::ListPayments => "GET /v2/payments",
            Route::GetPayment(_) => "GET /v2/payments/{payment_id}",
            Route::ListRefunds => "GET /v2/refunds",
            Route::GetRefund(_) => "GET /v2/refunds/{refund_id}",
            Route::RefundPayment => "POST /v2/refunds",
            Route::ListDisputes => "GET /v2/disputes",
            Route::ListPayouts => "GET /v2/payouts",
            Route::ListPayoutEntries(_) => "GET /v2/payouts/{payout_id}/payout-entries",
            Route::ListCustomers => "GET /v2/customers",
            Route::CreatePaymentLink => "POST /v2/online-checkout/payment-links",
            Route::ListPaymentLinks => "GET /v2/online-checkout/payment-links",
            Route::SearchSubscriptions => "POST /v2/subscriptions/search",
            Route::GetSubscription(_) => "GET /v2/subscriptions/{subscription_id}",
            Route::CancelSubscription(_) => "POST /v2/subscriptions/{subscription_id}/cancel",
            Route::BatchRetrieveCatalogObjects => "POST /v2/catalog/batch-retrieve",
        }
    }

    /// The OAuth scopes the spec's `security` (or, for payouts, the description) requires.
    pub(crate) fn scopes(&self) -> &'static [&'static str] {
        match self {
            Route::ListLocations => &["MERCHANT_PROFILE_READ"],
            Route::ListPayments | Route::GetPayment(_) => &["PAYMENTS_READ"],
            Route::ListRefunds | Route::GetRefund(_) => &["PAYMENTS_READ"],
            Route::RefundPayment => &["PAYMENTS_WRITE"],
            Route::ListDisputes => &["DISPUTES_READ"],
            Route::ListPayouts | Route::ListPayoutEntries(_) => &["PAYOUTS_READ"],
            Route::ListCustomers => &["CUSTOMERS_READ"],
            Route::CreatePaymentLink => &["PAYMENTS_WRITE", "ORDERS_READ", "ORDERS_WRITE"],
            Route::ListPaymentLinks => &["ORDERS_READ"],
            Route::SearchSubscriptions | Route::GetSubscription(_) => &["SUBSCRIPTIONS_READ"],
            Route::CancelSubscription(_) => &["SUBSCRIPTIONS_WRITE"],
            // Not in the trimmed spec: Square's reference lists ITEMS_READ.
            Route::BatchRetrieveCatalogObjects => &["ITEMS_READ"],
        }
    }
}

pub(crate) fn answer(
    st: &mut SquareState,
    route: &Route,
    query: &str,
    body: &[u8],
    now: i64,
) -> Result<Value, ApiError> {
    match route {
        Route::ListLocations => {
            Query::parse(query, &[])?;
            let d = &st.data;
            let mut locations: Vec<&super::data::Location> = d.locations.iter().collect();
            // "Locations are listed alphabetically by name."
            locations.sort_by(|a, b| a.name.cmp(&b.name));
            let items = locations.iter().map(|l| l.json(&d.merchant)).collect();
            Ok(list_body("locations", items, None))
        }
        Route::ListPayments => list_payments(&st.data, query, now),
        Route::GetPayment(id) => {
            Query::parse(query, &[])?;
            let p = st
                .data
                .payments
                .iter()
                .find(|p| &p.id == id)
                .ok_or_else(|| {
                    ApiError::not_found(format!("Could not find payment with id: {id}"))
                })?;
            Ok(json!({ "payment": p.json() }))
        }
        Route::ListRefunds => list_refunds(&st.data, query, now),
        Route::GetRefund(id) => {
            Query::parse(query, &[])?;
            let r = st
                .data
                .refunds
                .iter()
                .find(|r| &r.id == id)
                .ok_or_else(|| {
                    ApiError::not_found(format!("Could not find refund with id: {id}"))
                })?;
            Ok(json!({ "refund": r.json() }))
        }
        Route::RefundPayment => {
            Query::parse(query, &[])?;
            refund_payment(st, body, now)
        }
        Route::ListDisputes => list_disputes(&st.data, query),
        Route::ListPayouts => list_payouts(&st.data, query, now),
        Route::ListPayoutEntries(id) => list_payout_entries(&st.data, id, query),
        Route::ListCustomers => list_customers(&st.data, query),
        Route::CreatePaymentLink => {
            Query::parse(query, &[])?;
            create_payment_link(st, body, now)
        }
        Route::ListPaymentLinks => {
            let q = Query::parse(query, &["cursor", "limit"])?;
            // "If the supplied limit is negative, zero, or greater than 1000, it is ignored."
            let limit = q
                .int("limit")?
                .filter(|l| (1..=1000).contains(l))
                .unwrap_or(100) as usize;
            let rows = st
                .data
                .payment_links
                .iter()
                .map(|l| Row {
                    key: time_key(l.created_ms),
                    id: l.id.clone(),
                    json: l.json(),
                })
                .collect();
            let (items, cursor) = page(rows, Order::Asc, q.get("cursor"), limit)?;
            Ok(list_body("payment_links", items, cursor))
        }
        Route::SearchSubscriptions => {
            Query::parse(query, &[])?;
            search_subscriptions(&st.data, body)
        }
        Route::GetSubscription(id) => {
            Query::parse(query, &["include"])?;
            let s = st
                .data
                .subscriptions
                .iter()
                .find(|s| &s.id == id)
                .ok_or_else(|| not_found_subscription(id))?;
            Ok(json!({ "subscription": s.json() }))
        }
        Route::CancelSubscription(id) => {
            Query::parse(query, &[])?;
            cancel_subscription(st, id, now)
        }
        Route::BatchRetrieveCatalogObjects => {
            Query::parse(query, &[])?;
            let map = json_object(body, catalog::BATCH_RETRIEVE_FIELDS)?;
            catalog::batch_retrieve(&st.data.catalog, &map)
        }
    }
}

fn not_found_subscription(id: &str) -> ApiError {
    ApiError::not_found(format!("Subscription not found: `{id}`."))
}

/// `limit` of the payments, refunds and payouts lists: at most 100; a larger one is ignored.
fn list_limit(q: &Query) -> Result<usize, ApiError> {
    let limit = q.int("limit")?;
    match limit {
        Some(l) if l < 1 => Err(ApiError::invalid(
            "VALUE_TOO_LOW",
            "limit",
            format!("`limit` must be at least 1; got {l}."),
        )),
        Some(l) if l <= 100 => Ok(l as usize),
        _ => Ok(100),
    }
}

/// `[begin, end]` of a list's time filter on `created_at`: Square's defaults are one year
/// before the request and the request's time (an object made in the request's millisecond is
/// listed).
fn created_range(q: &Query, now: i64) -> Result<(i64, i64), ApiError> {
    let end = q.time("end_time")?.unwrap_or(now);
    let begin = q.time("begin_time")?.unwrap_or(end - YEAR_MS);
    if begin > end {
        return Err(ApiError::invalid(
            "INVALID_TIME_RANGE",
            "begin_time",
            "`begin_time` must not be after `end_time`.",
        ));
    }
    Ok((begin, end))
}

/// Filter and sort key for lists with `sort_field` (`CREATED_AT`, `UPDATED_AT`) and
/// `updated_at_begin_time`/`updated_at_end_time`.
struct TimeFilter {
    created: (i64, i64),
    updated: (Option<i64>, Option<i64>),
    by_updated: bool,
}

impl TimeFilter {
    fn parse(q: &Query, now: i64) -> Result<TimeFilter, ApiError> {
        let by_updated = match q.get("sort_field") {
            None | Some("CREATED_AT") | Some("OFFLINE_CREATED_AT") => false,
            Some("UPDATED_AT") => true,
            Some(other) => {
                return Err(ApiError::invalid(
                    "INVALID_ENUM_VALUE",
                    "sort_field",
                    format!("`{other}` is not a valid sort_field."),
                ));
            }
        };
        Ok(TimeFilter {
            created: created_range(q, now)?,
            updated: (
                q.time("updated_at_begin_time")?,
                q.time("updated_at_end_time")?,
            ),
            by_updated,
        })
    }

    fn keeps(&self, created: i64, updated: i64) -> bool {
        created >= self.created.0
            && created <= self.created.1
            && self.updated.0.is_none_or(|b| updated >= b)
            && self.updated.1.is_none_or(|e| updated <= e)
    }

    fn key(&self, created: i64, updated: i64) -> String {
        time_key(if self.by_updated { updated } else { created })
    }
}

/// The location a per-location list is for: `location_id`, else the main location.
fn location_param<'a>(d: &'a SquareData, q: &Query) -> Result<&'a str, ApiError> {
    match q.get("location_id") {
        None => Ok(&d.main_location().id),
        Some(id) => d
            .location(id)
            .map(|l| l.id.as_str())
            .ok_or_else(|| ApiError::not_found(format!("Location `{id}` not found."))),
    }
}

fn list_payments(d: &SquareData, query: &str, now: i64) -> Result<Value, ApiError> {
    let q = Query::parse(
        query,
        &[
            "begin_time",
            "end_time",
            "sort_order",
            "cursor",
            "location_id",
            "total",
            "last_4",
            "card_brand",
            "limit",
            "is_offline_payment",
            "offline_begin_time",
            "offline_end_time",
            "updated_at_begin_time",
            "updated_at_end_time",
            "sort_field",
        ],
    )?;
    let location = location_param(d, &q)?;
    let filter = TimeFilter::parse(&q, now)?;
    let order = q.order("sort_order", Order::Desc)?;
    let limit = list_limit(&q)?;
    let total = q.int("total")?;
    // Every payment of the fake was taken online: an offline filter matches none.
    let offline = q.boolean("is_offline_payment")?.unwrap_or(false)
        || q.get("offline_begin_time").is_some()
        || q.get("offline_end_time").is_some();
    let rows = d
        .payments
        .iter()
        .filter(|p| p.location_id == location && !offline)
        .filter(|p| filter.keeps(p.created_ms, p.updated_ms))
        .filter(|p| total.is_none_or(|t| p.total() == t))
        .filter(|p| match &p.source {
            super::data::Source::Card { brand, last_4, .. } => {
                q.get("last_4").is_none_or(|l| l == last_4)
                    && q.get("card_brand").is_none_or(|b| b == *brand)
            }
            _ => q.get("last_4").is_none() && q.get("card_brand").is_none(),
        })
        .map(|p| Row {
            key: filter.key(p.created_ms, p.updated_ms),
            id: p.id.clone(),
            json: p.json(),
        })
        .collect();
    let (items, cursor) = page(rows, order, q.get("cursor"), limit)?;
    Ok(list_body("payments", items, cursor))
}

fn list_refunds(d: &SquareData, query: &str, now: i64) -> Result<Value, ApiError> {
    let q = Query::parse(
        query,
        &[
            "begin_time",
            "end_time",
            "sort_order",
            "cursor",
            "location_id",
            "status",
            "source_type",
            "limit",
            "updated_at_begin_time",
            "updated_at_end_time",
            "sort_field",
        ],
    )?;
    // Refunds of every location unless one is named.
    if let Some(id) = q.get("location_id")
        && d.location(id).is_none()
    {
        return Err(ApiError::not_found(format!("Location `{id}` not found.")));
    }
    let filter = TimeFilter::parse(&q, now)?;
    let order = q.order("sort_order", Order::Desc)?;
    let limit = list_limit(&q)?;
    let rows = d
        .refunds
        .iter()
        .filter(|r| q.get("location_id").is_none_or(|l| l == r.location_id))
        .filter(|r| q.get("status").is_none_or(|s| s == r.status))
        .filter(|r| q.get("source_type").is_none_or(|s| s == r.destination_type))
        .filter(|r| filter.keeps(r.created_ms, r.updated_ms))
        .map(|r| Row {
            key: filter.key(r.created_ms, r.updated_ms),
            id: r.id.clone(),
            json: r.json(),
        })
        .collect();
    let (items, cursor) = page(rows, order, q.get("cursor"), limit)?;
    Ok(list_body("refunds", items, cursor))
}

/// ListDisputes' page size (the spec has no `limit` and does not say).
const DISPUTES_PAGE: usize = 50;

const DISPUTE_STATES: &[&str] = &[
    "INQUIRY_EVIDENCE_REQUIRED",
    "INQUIRY_PROCESSING",
    "INQUIRY_CLOSED",
    "EVIDENCE_REQUIRED",
    "PROCESSING",
    "WON",
    "LOST",
    "ACCEPTED",
];

fn list_disputes(d: &SquareData, query: &str) -> Result<Value, ApiError> {
    let q = Query::parse(query, &["cursor", "states", "location_id"])?;
    let states: Option<Vec<&str>> = q.get("states").map(|s| s.split(',').collect());
    if let Some(bad) = states
        .iter()
        .flatten()
        .find(|s| !DISPUTE_STATES.contains(s))
    {
        return Err(ApiError::invalid(
            "INVALID_ENUM_VALUE",
            "states",
            format!("`{bad}` is not a valid dispute state."),
        ));
    }
    let rows = d
        .disputes
        .iter()
        .filter(|x| q.get("location_id").is_none_or(|l| l == x.location_id))
        .filter(|x| states.as_ref().is_none_or(|s| s.contains(&x.state)))
        .map(|x| Row {
            key: time_key(x.created_ms),
            id: x.id.clone(),
            json: x.json(),
        })
        .collect();
    let (items, cursor) = page(rows, Order::Desc, q.get("cursor"), DISPUTES_PAGE)?;
    Ok(list_body("disputes", items, cursor))
}

fn list_payouts(d: &SquareData, query: &str, now: i64) -> Result<Value, ApiError> {
    let q = Query::parse(
        query,
        &[
            "location_id",
            "status",
            "begin_time",
            "end_time",
            "sort_order",
            "cursor",
            "limit",
        ],
    )?;
    let location = location_param(d, &q)?;
    let (begin, end) = created_range(&q, now)?;
    if let Some(status) = q.get("status")
        && !["SENT", "FAILED", "PAID"].contains(&status)
    {
        return Err(ApiError::invalid(
            "INVALID_ENUM_VALUE",
            "status",
            format!("`{status}` is not a valid payout status."),
        ));
    }
    let order = q.order("sort_order", Order::Desc)?;
    let limit = list_limit(&q)?;
    let rows = d
        .payouts
        .iter()
        .filter(|p| p.location_id == location)
        .filter(|p| p.created_ms >= begin && p.created_ms <= end)
        .filter(|p| q.get("status").is_none_or(|s| s == p.status))
        .map(|p| Row {
            key: time_key(p.created_ms),
            id: p.id.clone(),
            json: p.json(),
        })
        .collect();
    let (items, cursor) = page(rows, order, q.get("cursor"), limit)?;
    Ok(list_body("payouts", items, cursor))
}

fn list_payout_entries(d: &SquareData, id: &str, query: &str) -> Result<Value, ApiError> {
    let q = Query::parse(query, &["sort_order", "cursor", "limit"])?;
    let payout = d
        .payouts
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ApiError::not_found(format!("Payout `{id}` not found.")))?;
    let order = q.order("sort_order", Order::Desc)?;
    let limit = list_limit(&q)?;
    let rows = payout
        .entries
        .iter()
        .map(|e| Row {
            key: time_key(e.effective_ms),
            id: e.id.clone(),
            json: e.json(),
        })
        .collect();
    let (items, cursor) = page(rows, order, q.get("cursor"), limit)?;
    Ok(list_body("payout_entries", items, cursor))
}

fn list_customers(d: &SquareData, query: &str) -> Result<Value, ApiError> {
    let q = Query::parse(
        query,
        &["cursor", "limit", "sort_field", "sort_order", "count"],
    )?;
    let limit = match q.int("limit")? {
        None => 100,
        Some(l) if l < 1 => {
            return Err(ApiError::invalid(
                "VALUE_TOO_LOW",
                "limit",
                format!("`limit` must be at least 1; got {l}."),
            ));
        }
        Some(l) if l > 100 => {
            return Err(ApiError::invalid(
                "VALUE_TOO_HIGH",
                "limit",
                format!("`limit` must be at most 100; got {l}."),
            ));
        }
        Some(l) => l as usize,
    };
    let by_created = match q.get("sort_field") {
        None | Some("DEFAULT") => false,
        Some("CREATED_AT") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "INVALID_ENUM_VALUE",
                "sort_field",
                format!("`{other}` is not a valid sort_field."),
            ));
        }
    };
    let order = q.order("sort_order", Order::Asc)?;
    let count = q.boolean("count")?.unwrap_or(false);
    let rows = d
        .customers
        .iter()
        .map(|c| Row {
            // DEFAULT sorts by name.
            key: if by_created {
                time_key(c.created_ms)
            } else {
                format!("{} {}", c.given_name, c.family_name)
            },
            id: c.id.clone(),
            json: c.json(),
        })
        .collect();
    let (items, cursor) = page(rows, order, q.get("cursor"), limit)?;
    let mut body = list_body("customers", items, cursor);
    if count {
        body["count"] = json!(d.customers.len());
    }
    Ok(body)
}

/// A JSON request body as an object; Square refuses anything else.
fn json_object(body: &[u8], known: &[&str]) -> Result<Map<String, Value>, ApiError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::invalid(
                "EXPECTED_JSON_BODY",
                "body",
                format!("The request body is not JSON: {e}"),
            )
        })?
    };
    let Value::Object(map) = value else {
        return Err(ApiError::invalid(
            "EXPECTED_OBJECT",
            "body",
            "The request body must be a JSON object.",
        ));
    };
    if let Some(name) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(ApiError::invalid(
            "UNKNOWN_BODY_PARAMETER",
            name,
            format!("Unknown body parameter `{name}`."),
        ));
    }
    Ok(map)
}

fn string_field<'a>(
    map: &'a Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<Option<&'a str>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(
            "EXPECTED_STRING",
            path,
            format!("Expected a string value for `{path}`."),
        )),
    }
}

fn too_long(path: &str, max: usize) -> ApiError {
    ApiError::invalid(
        "VALUE_TOO_LONG",
        path,
        format!("`{path}` must be at most {max} characters long."),
    )
}

/// A `Money` field: (amount, currency), amount above zero.
fn money_field(map: &Map<String, Value>, path: &str) -> Result<(i64, String), ApiError> {
    let object = match map.get(path.rsplit('.').next().unwrap_or(path)) {
        Some(Value::Object(o)) => o,
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "MISSING_REQUIRED_PARAMETER",
                path,
                format!("Field `{path}` is required."),
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "EXPECTED_OBJECT",
                path,
                format!("Expected an object for `{path}`."),
            ));
        }
    };
    let amount = object
        .get("amount")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            ApiError::invalid(
                "EXPECTED_INTEGER",
                &format!("{path}.amount"),
                "Expected an integer amount.",
            )
        })?;
    let currency = object
        .get("currency")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::invalid(
                "MISSING_REQUIRED_PARAMETER",
                &format!("{path}.currency"),
                "A currency is required.",
            )
        })?;
    if amount <= 0 {
        return Err(ApiError::invalid(
            "VALUE_TOO_LOW",
            &format!("{path}.amount"),
            "The amount must be greater than zero.",
        ));
    }
    Ok((amount, currency.to_string()))
}

/// Idempotency: the id the same key made before with the same body, an error for another
/// body, or `None` for a key not seen.
fn replayed(
    st: &SquareState,
    operation: &'static str,
    key: &str,
    body: &Value,
) -> Result<Option<String>, ApiError> {
    match st.idempotency.get(&(operation, key.to_string())) {
        None => Ok(None),
        Some((first, id)) if first == body => Ok(Some(id.clone())),
        Some(_) => Err(ApiError::invalid(
            "IDEMPOTENCY_KEY_REUSED",
            "idempotency_key",
            "The idempotency key has already been used with a different request.",
        )),
    }
}

fn refund_payment(st: &mut SquareState, body: &[u8], now: i64) -> Result<Value, ApiError> {
    let map = json_object(
        body,
        &[
            "idempotency_key",
            "amount_money",
            "app_fee_money",
            "payment_id",
            "destination_id",
            "unlinked",
            "location_id",
            "customer_id",
            "reason",
            "payment_version_token",
            "team_member_id",
            "cash_details",
            "external_details",
        ],
    )?;
    let key = string_field(&map, "idempotency_key", "idempotency_key")?.ok_or_else(|| {
        ApiError::invalid(
            "MISSING_REQUIRED_PARAMETER",
            "idempotency_key",
            "Field `idempotency_key` is required.",
        )
    })?;
    if key.chars().count() > REFUND_KEY_MAX {
        return Err(too_long("idempotency_key", REFUND_KEY_MAX));
    }
    let request = Value::Object(map.clone());
    if let Some(id) = replayed(st, "refund", key, &request)? {
        let refund = st.data.refunds.iter().find(|r| r.id == id).unwrap();
        return Ok(json!({ "refund": refund.json() }));
    }
    let (amount, currency) = money_field(&map, "amount_money")?;
    if map.get("unlinked").and_then(Value::as_bool) == Some(true) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST_ERROR",
            "BAD_REQUEST",
            "The sandbox does not record unlinked refunds.",
        ));
    }
    let payment_id = string_field(&map, "payment_id", "payment_id")?.ok_or_else(|| {
        ApiError::invalid(
            "MISSING_REQUIRED_PARAMETER",
            "payment_id",
            "Field `payment_id` is required for a linked refund.",
        )
    })?;
    let reason = string_field(&map, "reason", "reason")?;
    if reason.is_some_and(|r| r.chars().count() > 192) {
        return Err(too_long("reason", 192));
    }
    let index = st
        .data
        .payments
        .iter()
        .position(|p| p.id == payment_id)
        .ok_or_else(|| {
            ApiError::not_found(format!("Could not find payment with id: {payment_id}"))
        })?;
    let p = &st.data.payments[index];
    if p.currency != currency {
        return Err(ApiError::invalid(
            "CURRENCY_MISMATCH",
            "amount_money.currency",
            format!(
                "The refund's currency ({currency}) differs from the payment's ({}).",
                p.currency
            ),
        ));
    }
    if p.status != "COMPLETED" {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "REFUND_ERROR",
            "PAYMENT_NOT_REFUNDABLE",
            format!(
                "Payment {payment_id} is {} and cannot be refunded.",
                p.status
            ),
        ));
    }
    if amount > p.total() - p.refunded {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "REFUND_ERROR",
            "REFUND_AMOUNT_INVALID",
            format!(
                "The requested refund amount exceeds the amount available to refund ({} {}).",
                p.total() - p.refunded,
                p.currency
            ),
        ));
    }
    let index = st
        .data
        .add_refund(index, amount, reason.map(str::to_string), now, "COMPLETED");
    let refund = &mut st.data.refunds[index];
    refund.updated_ms = now;
    let id = refund.id.clone();
    // Square answers a new refund as PENDING; it completes right after.
    let mut answer = refund.json();
    answer["status"] = json!("PENDING");
    if let Some(p) = st.data.payments.iter_mut().find(|p| p.id == payment_id) {
        p.updated_ms = now;
    }
    st.idempotency
        .insert(("refund", key.to_string()), (request, id));
    Ok(json!({ "refund": answer }))
}

fn create_payment_link(st: &mut SquareState, body: &[u8], now: i64) -> Result<Value, ApiError> {
    let map = json_object(
        body,
        &[
            "idempotency_key",
            "description",
            "quick_pay",
            "order",
            "checkout_options",
            "pre_populated_data",
            "payment_note",
        ],
    )?;
    let key = string_field(&map, "idempotency_key", "idempotency_key")?;
    if key.is_some_and(|k| k.chars().count() > 192) {
        return Err(too_long("idempotency_key", 192));
    }
    let request = Value::Object(map.clone());
    if let Some(key) = key
        && let Some(id) = replayed(st, "payment_link", key, &request)?
    {
        let link = st.data.payment_links.iter().find(|l| l.id == id).unwrap();
        return Ok(link_answer(link));
    }
    if map.get("order").is_some_and(|o| !o.is_null()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST_ERROR",
            "BAD_REQUEST",
            "The sandbox makes quick pay links only; send `quick_pay`.",
        ));
    }
    let Some(Value::Object(quick)) = map.get("quick_pay") else {
        return Err(ApiError::invalid(
            "MISSING_REQUIRED_PARAMETER",
            "quick_pay",
            "One of `quick_pay` or `order` is required.",
        ));
    };
    let name = string_field(quick, "name", "quick_pay.name")?.unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::invalid(
            "VALUE_EMPTY",
            "quick_pay.name",
            "`quick_pay.name` must not be empty.",
        ));
    }
    if name.chars().count() > 255 {
        return Err(too_long("quick_pay.name", 255));
    }
    let price = money_field(quick, "quick_pay.price_money")?;
    let location_id =
        string_field(quick, "location_id", "quick_pay.location_id")?.ok_or_else(|| {
            ApiError::invalid(
                "MISSING_REQUIRED_PARAMETER",
                "quick_pay.location_id",
                "Field `quick_pay.location_id` is required.",
            )
        })?;
    let location = st
        .data
        .location(location_id)
        .filter(|l| l.active)
        .ok_or_else(|| {
            ApiError::invalid(
                "INVALID_VALUE",
                "quick_pay.location_id",
                format!("`{location_id}` is not an active location of this seller."),
            )
        })?;
    if location.currency != price.1 {
        return Err(ApiError::invalid(
            "CURRENCY_MISMATCH",
            "quick_pay.price_money.currency",
            format!(
                "The location takes {}; the price is in {}.",
                location.currency, price.1
            ),
        ));
    }
    let description = string_field(&map, "description", "description")?;
    if description.is_some_and(|d| d.chars().count() > 4096) {
        return Err(too_long("description", 4096));
    }
    let buyer_email = match map.get("pre_populated_data") {
        Some(Value::Object(data)) => {
            string_field(data, "buyer_email", "pre_populated_data.buyer_email")?
        }
        _ => None,
    };
    let payment_note = string_field(&map, "payment_note", "payment_note")?;
    if payment_note.is_some_and(|n| n.chars().count() > 500) {
        return Err(too_long("payment_note", 500));
    }
    let redirect_url = match map.get("checkout_options") {
        Some(Value::Object(options)) => {
            string_field(options, "redirect_url", "checkout_options.redirect_url")?
        }
        _ => None,
    };
    if redirect_url.is_some_and(|u| u.chars().count() > 2048) {
        return Err(too_long("checkout_options.redirect_url", 2048));
    }
    let rng = &mut st.data.rng;
    let link = PaymentLink {
        id: rng.base62(16).to_ascii_uppercase(),
        version: 1,
        description: description.map(str::to_string),
        order_id: rng.base62(28),
        location_id: location_id.to_string(),
        name: name.to_string(),
        price,
        buyer_email: buyer_email.map(str::to_string),
        payment_note: payment_note.map(str::to_string),
        redirect_url: redirect_url.map(str::to_string),
        code: rng.base62(8),
        created_ms: now,
    };
    let answer = link_answer(&link);
    if let Some(key) = key {
        st.idempotency.insert(
            ("payment_link", key.to_string()),
            (request, link.id.clone()),
        );
    }
    st.data.payment_links.push(link);
    Ok(answer)
}

fn link_answer(link: &PaymentLink) -> Value {
    json!({
        "payment_link": link.json(),
        "related_resources": {"orders": [link.order_json()]},
    })
}

fn search_subscriptions(d: &SquareData, body: &[u8]) -> Result<Value, ApiError> {
    let map = json_object(body, &["cursor", "limit", "query", "include"])?;
    let limit = match map.get("limit") {
        None | Some(Value::Null) => 200,
        Some(v) => match v.as_i64() {
            Some(l) if l >= 1 => l as usize,
            Some(l) => {
                return Err(ApiError::invalid(
                    "VALUE_TOO_LOW",
                    "limit",
                    format!("`limit` must be at least 1; got {l}."),
                ));
            }
            None => {
                return Err(ApiError::invalid(
                    "EXPECTED_INTEGER",
                    "limit",
                    "Expected an integer value for `limit`.",
                ));
            }
        },
    };
    let cursor = string_field(&map, "cursor", "cursor")?;
    let filter = map
        .get("query")
        .and_then(|q| q.get("filter"))
        .cloned()
        .unwrap_or(Value::Null);
    let ids = |field: &str| -> Option<Vec<String>> {
        filter.get(field).and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
    };
    let (locations, customers) = (ids("location_ids"), ids("customer_ids"));
    let sources = ids("source_names");
    let rows = d
        .subscriptions
        .iter()
        .filter(|s| {
            locations
                .as_ref()
                .is_none_or(|l| l.contains(&s.location_id))
        })
        .filter(|s| {
            customers
                .as_ref()
                .is_none_or(|c| c.contains(&s.customer_id))
        })
        // Every seeded subscription comes from one source.
        .filter(|_| {
            sources
                .as_ref()
                .is_none_or(|n| n.iter().any(|n| n == "Switchboard Sandbox"))
        })
        .map(|s| Row {
            // By location, then by creation date.
            key: format!("{} {}", s.location_id, time_key(s.created_ms)),
            id: s.id.clone(),
            json: s.json(),
        })
        .collect();
    let (items, cursor) = page(rows, Order::Asc, cursor, limit)?;
    Ok(list_body("subscriptions", items, cursor))
}

fn cancel_subscription(st: &mut SquareState, id: &str, now: i64) -> Result<Value, ApiError> {
    let d = &mut st.data;
    let rng_id = super::data::uuid(&mut d.rng);
    let s = d
        .subscriptions
        .iter_mut()
        .find(|s| s.id == id)
        .ok_or_else(|| not_found_subscription(id))?;
    if matches!(s.status, "CANCELED" | "DEACTIVATED") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST_ERROR",
            "BAD_REQUEST",
            format!(
                "Subscription `{id}` is {} and cannot be canceled.",
                s.status
            ),
        ));
    }
    if s.canceled_ms.is_some() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST_ERROR",
            "BAD_REQUEST",
            format!("Subscription `{id}` already has a pending cancellation."),
        ));
    }
    // The end of the billing period paid for; a subscription not started yet ends at once.
    let effective = match s.charged_through_ms {
        Some(end) => end,
        None => {
            s.status = "CANCELED";
            now
        }
    };
    s.canceled_ms = Some(effective);
    s.version += 1;
    Ok(json!({
        "subscription": s.json(),
        "actions": [{
            "id": rng_id,
            "type": "CANCEL",
            "effective_date": super::wire::date(effective),
        }],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_name_the_spec_templates() {
        let r = route(&Method::GET, "/v2/payouts/po_1/payout-entries").unwrap();
        assert_eq!(r.name(), "GET /v2/payouts/{payout_id}/payout-entries");
        assert!(route(&Method::DELETE, "/v2/payments").is_none());
        assert!(route(&Method::GET, "/v2/merchants/me").is_none());
    }
}
