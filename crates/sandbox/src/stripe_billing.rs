//! Subscription updates and Checkout Sessions of the Stripe fake (a child module of [`super`]);
//! `stripe_refunds.rs` routes the POSTs here after authentication, faults and the
//! `Idempotency-Key` check, which all writes share.
//!
//! - `POST /v1/subscriptions/{subscription_exposed_id}`: `cancel_at_period_end` (`true` ends it
//!   when the current period ends: `cancel_at` = `current_period_end`, `canceled_at` = now,
//!   `cancellation_details.reason` = `cancellation_requested`; `false` takes that back),
//!   `cancellation_details[comment|feedback]`, `description`, `metadata[…]`,
//!   `proration_behavior`. A change emits `customer.subscription.updated` with
//!   `previous_attributes`; setting what is already set changes nothing and emits nothing. A
//!   canceled subscription only takes `metadata` and `cancellation_details`, as at Stripe.
//! - `POST /v1/checkout/sessions` in `payment` mode: `line_items[n][price_data][currency |
//!   unit_amount | product_data][name | description]]` and `line_items[n][quantity]`,
//!   `success_url` (required in this API version), `cancel_url`, `customer_email`,
//!   `client_reference_id`, `expires_at` (30 minutes to 24 hours away; 24 hours by default),
//!   `metadata[…]`, `payment_intent_data[description | metadata[…]]`, `locale`,
//!   `submit_type`, `payment_method_types[]`. The answer is an `open`, `unpaid` session whose
//!   `url` is its hosted page. `GET /v1/checkout/sessions[/{session}]` lists and retrieves them.
//!   Simplifications: no Prices or Products (`line_items[n][price]` answers 404 like an unknown
//!   price), no `setup` or `subscription` mode, sessions are never paid or expired.

use super::events::EventRequest;
use super::*;

/// Route of the subscription update in [`Counters::by_path`].
pub const UPDATE_SUBSCRIPTION_ROUTE: &str = "POST /v1/subscriptions/{subscription_exposed_id}";
/// Route of the Checkout Session create in [`Counters::by_path`].
pub const CREATE_CHECKOUT_SESSION_ROUTE: &str = "POST /v1/checkout/sessions";

/// Checkout Sessions last 24 hours unless asked otherwise, at least 30 minutes.
const SESSION_DEFAULT_SECS: i64 = 24 * 3600;
const SESSION_MIN_SECS: i64 = 30 * 60;

pub(crate) struct CheckoutSession {
    pub(crate) id: String,
    pub(crate) created: i64,
    metadata: BTreeMap<String, String>,
    value: Value,
}

super::objects::object_row!(CheckoutSession);

impl CheckoutSession {
    pub(crate) fn json(&self) -> Value {
        self.value.clone()
    }
}

pub(super) fn page<'a>(
    sessions: &'a Table<CheckoutSession>,
    q: &ListParams,
    missing_cursor: &dyn Fn(&'static str) -> ApiError,
) -> Result<(Vec<Item<'a>>, bool), ApiError> {
    // Open sessions have no customer, customer details, payment intent, payment link or
    // subscription yet, so any of those filters matches none.
    let narrowed = [
        "customer",
        "customer_details[email]",
        "payment_intent",
        "payment_link",
        "subscription",
    ]
    .iter()
    .any(|f| q.filter(f).is_some());
    let page = sessions.page(q, |_| !narrowed).map_err(missing_cursor)?;
    Ok(objects::items(page, Item::CheckoutSession))
}

/// `key[inner]` → `inner`, for bracketed form keys.
fn bracket<'k>(key: &'k str, name: &str) -> Option<&'k str> {
    key.strip_prefix(name)?.strip_prefix('[')?.strip_suffix(']')
}

fn parse_bool(value: &str, param: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(format!("Invalid boolean: {value}"), param)),
    }
}

fn missing_param(param: &str) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        body: json!({
            "code": "parameter_missing",
            "doc_url": "https://stripe.com/docs/error-codes/parameter-missing",
            "message": format!("Missing required param: {param}."),
            "param": param,
            "type": "invalid_request_error",
        }),
    }
}

/// `metadata[key]=value` into `metadata` with Stripe's limits; an empty value unsets the key.
fn put_metadata(
    metadata: &mut BTreeMap<String, String>,
    param: &str,
    inner: &str,
    value: &str,
) -> Result<(), ApiError> {
    if inner.is_empty() || inner.chars().count() > 40 {
        return Err(invalid(
            "Metadata keys must be between 1 and 40 characters long.",
            param,
        ));
    }
    if value.chars().count() > 500 {
        return Err(invalid(
            "Metadata values can have up to 500 characters.",
            param,
        ));
    }
    if value.is_empty() {
        metadata.remove(inner);
    } else {
        metadata.insert(inner.to_string(), value.to_string());
    }
    if metadata.len() > 50 {
        return Err(invalid("You can have up to 50 metadata keys.", "metadata"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// POST /v1/subscriptions/{id}

/// Applies an update to subscription `id`. `Ok` is the subscription after it.
pub(super) fn update_subscription(
    data: &mut StripeData,
    id: &str,
    params: &[(String, String)],
    request: EventRequest,
) -> Result<Value, ApiError> {
    let sub = data
        .more
        .subscriptions
        .get(id)
        .ok_or_else(|| missing(Kind::Subscription, id, "id"))?;
    let canceled = matches!(sub.status, "canceled" | "incomplete_expired");
    let mut cancel_at_period_end = None;
    let mut description = None;
    let mut comment = None;
    let mut metadata = sub.metadata.clone();
    for (key, value) in params {
        let key = key.as_str();
        if let Some(inner) = bracket(key, "metadata") {
            put_metadata(&mut metadata, key, inner, value)?;
            continue;
        }
        if canceled
            && !matches!(key, "metadata" | "expand[]" | "expand")
            && bracket(key, "cancellation_details").is_none()
        {
            return Err(invalid(
                "A canceled subscription can only update its cancellation_details and metadata.",
                key,
            ));
        }
        match key {
            "cancel_at_period_end" => cancel_at_period_end = Some(parse_bool(value, key)?),
            "cancellation_details[comment]" => comment = Some(value.clone()),
            "cancellation_details[feedback]" => {
                const FEEDBACK: &[&str] = &[
                    "customer_service",
                    "low_quality",
                    "missing_features",
                    "other",
                    "switched_service",
                    "too_complex",
                    "too_expensive",
                    "unused",
                    "",
                ];
                if !FEEDBACK.contains(&value.as_str()) {
                    return Err(invalid(format!("Invalid feedback: {value}"), key));
                }
            }
            "description" => description = Some(value.clone()),
            "metadata" if value.is_empty() => metadata.clear(),
            "proration_behavior" => {
                if !matches!(
                    value.as_str(),
                    "always_invoice" | "create_prorations" | "none"
                ) {
                    return Err(invalid(
                        format!(
                            "Invalid proration_behavior: must be one of always_invoice, create_prorations, or none (got {value})"
                        ),
                        key,
                    ));
                }
            }
            "expand[]" | "expand" => {
                return Err(invalid(
                    format!("This property cannot be expanded ({value})."),
                    "expand",
                ));
            }
            _ => return Err(unknown_param(key)),
        }
    }
    let now = seed::now_unix();
    let sub = data.more.subscriptions.get_mut(id).expect("found above");
    let mut previous = Map::new();
    if let Some(wanted) = cancel_at_period_end
        && wanted != sub.cancel_at_period_end
    {
        previous.insert(
            "cancel_at_period_end".into(),
            json!(sub.cancel_at_period_end),
        );
        previous.insert("cancel_at".into(), json!(sub.cancel_at));
        previous.insert("canceled_at".into(), json!(sub.canceled_at));
        previous.insert(
            "cancellation_details".into(),
            json!({"comment": sub.cancellation_comment, "feedback": null, "reason": sub.cancellation_reason}),
        );
        sub.cancel_at_period_end = wanted;
        if wanted {
            sub.cancel_at = Some(sub.current_period_end);
            sub.canceled_at = Some(now);
            sub.cancellation_reason = Some("cancellation_requested");
        } else {
            sub.cancel_at = None;
            sub.canceled_at = None;
            sub.cancellation_reason = None;
        }
    }
    if let Some(comment) = comment
        && sub.cancellation_comment.as_deref() != Some(comment.as_str())
    {
        previous
            .entry("cancellation_details")
            .or_insert_with(|| {
                json!({"comment": sub.cancellation_comment, "feedback": null, "reason": sub.cancellation_reason})
            });
        sub.cancellation_comment = (!comment.is_empty()).then_some(comment);
    }
    if let Some(description) = description {
        let new = (!description.is_empty()).then_some(description);
        if new != sub.description {
            previous.insert("description".into(), json!(sub.description));
            sub.description = new;
        }
    }
    if metadata != sub.metadata {
        previous.insert("metadata".into(), json!(sub.metadata));
        sub.metadata = metadata;
    }
    if !previous.is_empty() {
        data.more.subscription_updates += 1;
        data.emit(
            "customer.subscription.updated",
            id,
            Some(Value::Object(previous)),
            Some(request),
        );
    }
    let sub = data.more.subscriptions.get(id).expect("found above");
    Ok(data.subscription_json(sub))
}

// ---------------------------------------------------------------------------------------------
// POST /v1/checkout/sessions

#[derive(Default)]
struct LineItem {
    currency: Option<String>,
    unit_amount: Option<i64>,
    name: Option<String>,
    description: Option<String>,
    quantity: Option<i64>,
    price: Option<String>,
}

/// Creates a Checkout Session. `Ok` is the new session.
pub(super) fn create_session(
    data: &mut StripeData,
    params: &[(String, String)],
) -> Result<Value, ApiError> {
    let now = seed::now_unix();
    let mut mode = None;
    let mut success_url = None;
    let mut cancel_url = None;
    let mut customer_email = None;
    let mut client_reference_id = None;
    let mut expires_at = None;
    let mut locale = None;
    let mut submit_type = None;
    let mut metadata = BTreeMap::new();
    let mut payment_intent_metadata = BTreeMap::new();
    let mut methods: Vec<String> = Vec::new();
    let mut items: BTreeMap<usize, LineItem> = BTreeMap::new();
    for (key, value) in params {
        let key = key.as_str();
        if let Some(inner) = bracket(key, "metadata") {
            put_metadata(&mut metadata, key, inner, value)?;
            continue;
        }
        if let Some(inner) = key
            .strip_prefix("payment_intent_data[metadata][")
            .and_then(|r| r.strip_suffix(']'))
        {
            put_metadata(&mut payment_intent_metadata, key, inner, value)?;
            continue;
        }
        if let Some(rest) = key.strip_prefix("line_items[") {
            let (index, field) = rest.split_once(']').unwrap_or(("", ""));
            let index: usize = index
                .parse()
                .map_err(|_| invalid(format!("Invalid array index in {key}."), key))?;
            let item = items.entry(index).or_default();
            match field {
                "[price_data][currency]" => item.currency = Some(value.to_ascii_lowercase()),
                "[price_data][unit_amount]" => {
                    let n = value.trim().parse::<i64>().ok().filter(|n| *n >= 0);
                    item.unit_amount = Some(n.ok_or_else(|| {
                        invalid(format!("Invalid non-negative integer: {value}"), key)
                    })?);
                }
                "[price_data][product_data][name]" => item.name = Some(value.clone()),
                "[price_data][product_data][description]" => {
                    item.description = Some(value.clone());
                }
                "[quantity]" => {
                    let n = value.trim().parse::<i64>().ok().filter(|n| *n >= 1);
                    item.quantity = Some(n.ok_or_else(|| {
                        invalid(format!("Invalid positive integer: {value}"), key)
                    })?);
                }
                "[price]" => item.price = Some(value.clone()),
                _ => return Err(unknown_param(key)),
            }
            continue;
        }
        match key {
            "mode" => mode = Some(value.clone()),
            "success_url" => success_url = Some(value.clone()),
            "cancel_url" => cancel_url = Some(value.clone()),
            "customer_email" => customer_email = Some(value.clone()),
            "client_reference_id" => client_reference_id = Some(value.clone()),
            "expires_at" => expires_at = Some(parse_int(value, key)?),
            "locale" => locale = Some(value.clone()),
            "submit_type" => {
                if !matches!(value.as_str(), "auto" | "book" | "donate" | "pay") {
                    return Err(invalid(
                        format!(
                            "Invalid submit_type: must be one of auto, book, donate, or pay (got {value})"
                        ),
                        key,
                    ));
                }
                submit_type = Some(value.clone());
            }
            "payment_method_types[]" => methods.push(value.clone()),
            k if bracket(k, "payment_method_types").is_some() => methods.push(value.clone()),
            "payment_intent_data[description]" => {}
            _ => return Err(unknown_param(key)),
        }
    }
    let mode = mode.ok_or_else(|| missing_param("mode"))?;
    if mode != "payment" {
        if matches!(mode.as_str(), "setup" | "subscription") {
            return Err(invalid(
                format!(
                    "The sandbox's Checkout Sessions support mode `payment` only (got `{mode}`)."
                ),
                "mode",
            ));
        }
        return Err(invalid(
            format!("Invalid mode: must be one of payment, setup, or subscription (got {mode})"),
            "mode",
        ));
    }
    let success_url = success_url.ok_or_else(|| missing_param("success_url"))?;
    for (param, url) in [
        ("success_url", Some(&success_url)),
        ("cancel_url", cancel_url.as_ref()),
    ] {
        if let Some(url) = url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(invalid("Not a valid URL", param));
        }
    }
    if let Some(email) = &customer_email
        && !email.contains('@')
    {
        return Err(invalid(
            format!("Invalid email address: {email}"),
            "customer_email",
        ));
    }
    let expires_at = expires_at.unwrap_or(now + SESSION_DEFAULT_SECS);
    if !(now + SESSION_MIN_SECS..=now + SESSION_DEFAULT_SECS).contains(&expires_at) {
        return Err(invalid(
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
            "expires_at",
        ));
    }
    if items.is_empty() {
        return Err(invalid(
            "You must provide at least one line item in `payment` mode.",
            "line_items",
        ));
    }
    let mut currency: Option<String> = None;
    let mut total = 0i64;
    for (index, item) in &items {
        let at = |field: &str| format!("line_items[{index}]{field}");
        if let Some(price) = &item.price {
            return Err(ApiError {
                status: StatusCode::BAD_REQUEST,
                body: json!({
                    "code": "resource_missing",
                    "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                    "message": format!("No such price: '{price}'"),
                    "param": at("[price]"),
                    "type": "invalid_request_error",
                }),
            });
        }
        let item_currency = item
            .currency
            .clone()
            .ok_or_else(|| missing_param(&at("[price_data][currency]")))?;
        if !PLANS.iter().any(|p| p.code == item_currency) && item_currency.len() != 3 {
            return Err(invalid(
                format!("Invalid currency: {item_currency}."),
                &at("[price_data][currency]"),
            ));
        }
        let unit = item
            .unit_amount
            .ok_or_else(|| missing_param(&at("[price_data][unit_amount]")))?;
        if item.name.as_deref().is_none_or(str::is_empty) {
            return Err(missing_param(&at("[price_data][product_data][name]")));
        }
        let quantity = item
            .quantity
            .ok_or_else(|| missing_param(&at("[quantity]")))?;
        if currency.as_ref().is_some_and(|c| *c != item_currency) {
            return Err(invalid(
                "All line items must have the same currency.",
                &at("[price_data][currency]"),
            ));
        }
        currency = Some(item_currency);
        total = unit
            .checked_mul(quantity)
            .and_then(|a| total.checked_add(a))
            .ok_or_else(|| invalid("Amount too large.", &at("[price_data][unit_amount]")))?;
    }
    if total <= 0 {
        return Err(invalid(
            "The Checkout Session's total amount due must add up to at least 1.",
            "line_items",
        ));
    }
    let id = format!("cs_test_a1{}", data.more.rng.base62(56));
    let methods = if methods.is_empty() {
        vec!["card".to_string()]
    } else {
        methods
    };
    let value = json!({
        "after_expiration": null,
        "allow_promotion_codes": null,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": false, "status": null},
        "billing_address_collection": null,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "consent": null,
        "consent_collection": null,
        "created": now,
        "currency": currency,
        "currency_conversion": null,
        "custom_fields": [],
        "custom_text": {"shipping_address": null, "submit": null},
        "customer": null,
        "customer_creation": "if_required",
        "customer_details": null,
        "customer_email": customer_email,
        "expires_at": expires_at,
        "id": id,
        "invoice": null,
        "invoice_creation": null,
        "livemode": false,
        "locale": locale,
        "metadata": metadata,
        "mode": "payment",
        "object": "checkout.session",
        "payment_intent": null,
        "payment_link": null,
        "payment_method_collection": "always",
        "payment_method_options": {},
        "payment_method_types": methods,
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": false},
        "recovered_from": null,
        "setup_intent": null,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_details": null,
        "shipping_options": [],
        "status": "open",
        "submit_type": submit_type,
        "subscription": null,
        "success_url": success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
    });
    data.more.sessions.insert(CheckoutSession {
        id,
        created: now,
        metadata,
        value: value.clone(),
    });
    data.more.sessions_created += 1;
    Ok(value)
}

impl StripeControl {
    /// Subscription `id` as `GET /v1/subscriptions/{id}` serves it.
    pub fn subscription(&self, id: &str) -> Option<Value> {
        let state = self.state();
        let data = &state.data;
        data.more
            .subscriptions
            .get(id)
            .map(|s| data.subscription_json(s))
    }

    /// Ids of the subscriptions the fake holds (canceled ones included), newest first.
    pub fn subscription_ids(&self) -> Vec<String> {
        let state = self.state();
        state
            .data
            .more
            .subscriptions
            .rows
            .iter()
            .map(|s| s.id.clone())
            .collect()
    }

    /// Subscription updates that changed something (replays and no-op updates not counted).
    pub fn subscription_updates(&self) -> usize {
        self.state().data.more.subscription_updates
    }

    /// Checkout Sessions created through `POST /v1/checkout/sessions` (replays not counted).
    pub fn checkout_sessions_created(&self) -> usize {
        self.state().data.more.sessions_created
    }

    /// Ids of the Checkout Sessions whose `metadata[key]` is `value`, newest first.
    pub fn checkout_sessions_with_metadata(&self, key: &str, value: &str) -> Vec<String> {
        let state = self.state();
        state
            .data
            .more
            .sessions
            .rows
            .iter()
            .filter(|s| s.metadata.get(key).map(String::as_str) == Some(value))
            .map(|s| s.id.clone())
            .collect()
    }
}
