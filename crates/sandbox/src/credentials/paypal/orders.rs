//! Orders v2: `POST /v2/checkout/orders`, `GET /v2/checkout/orders/{id}`,
//! `POST /v2/checkout/orders/{id}/capture`.
//!
//! Faithful to the spec (`orders.create`, `orders.get`, `orders.capture`) and PayPal's Orders
//! v2 reference (https://developer.paypal.com/docs/api/orders/v2/):
//! - Create takes `intent` and one `purchase_units` entry with `amount` (PayPal allows up to
//!   ten; the fake refuses more with 400 `NOT_SUPPORTED`), answers 201 `CREATED` with the
//!   buyer's `approve` link, or `PAYER_ACTION_REQUIRED` with a `payer-action` link when the
//!   request names `payment_source.paypal` (its `experience_context`).
//! - `PayPal-Request-Id` ("the server stores keys for 6 hours"): the same id answers with the
//!   order the first request made, whatever the body.
//! - The buyer's `approve` / `payer-action` link points at the fake's own listener
//!   (`/checkoutnow?token=…`, PayPal's checkout page path): fetching it, as the customer's
//!   browser would, approves the order (a random payer pays), and so does
//!   [`PayPalControl::approve_order`]. [`PayPalControl::void_order`] plays PayPal voiding it.
//! - Capture needs an approved order; otherwise 422 `ORDER_NOT_APPROVED` (also for a voided
//!   order: PayPal does not document that refusal), or `ORDER_ALREADY_CAPTURED`. It makes a
//!   capture (with PayPal's fee) that Payments v2 and Transaction Search (`T0006`, after the
//!   search delay) then show under the same id. A capture repeated with the same
//!   `PayPal-Request-Id` answers 200 with the first result ("if a duplicate response is
//!   retried, returns the HTTP 200 OK status code", the spec's `orders.capture`).
//! - `Prefer: return=representation` answers the whole order, the default only `id`,
//!   `status` and `links`.
//!
//! Left out: `AUTHORIZE` orders are kept but cannot be authorized or captured here; `PATCH`;
//! items, shipping and the other payment sources.
//!
//! [`PayPalControl::approve_order`]: super::PayPalControl::approve_order
//! [`PayPalControl::void_order`]: super::PayPalControl::void_order

use axum::body::Body;
use axum::http::{StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::PayPalControl;
use super::api::{
    Answer, Call, Detail, error, link, missing, money, not_found, request_id, unprocessable,
    wants_representation,
};
use super::ledger::{self, BadValue, Ledger, Order, Replay};
use super::payments::{capture_json, minimal};
use crate::credentials::rfc3339;

/// Where the buyer approves: PayPal's checkout page path, on the fake's listener.
pub(crate) const CHECKOUT_PATH: &str = "/checkoutnow";

fn order_json(ledger: &Ledger, o: &Order, base: &str) -> Value {
    let self_href = format!("{base}/v2/checkout/orders/{}", o.id);
    let checkout = format!("{base}{CHECKOUT_PATH}?token={}", o.id);
    let mut unit = json!({
        "reference_id": o.reference_id,
        "amount": money(&o.currency, o.amount),
        "payee": {
            "email_address": ledger.merchant_email,
            "merchant_id": ledger.merchant_id,
        },
    });
    for (field, value) in [
        ("description", &o.description),
        ("custom_id", &o.custom_id),
        ("invoice_id", &o.invoice_id),
    ] {
        if let Some(v) = value {
            unit[field] = json!(v);
        }
    }
    if let Some(capture) = o
        .capture_id
        .as_deref()
        .and_then(|id| ledger.capture_position(id))
    {
        unit["payments"] = json!({
            "captures": [capture_json(ledger, &ledger.captures[capture], base)]
        });
    }
    let links = match o.status {
        "CREATED" => vec![
            link(self_href.clone(), "self", "GET"),
            link(checkout.clone(), "approve", "GET"),
            link(self_href.clone(), "update", "PATCH"),
            link(format!("{self_href}/capture"), "capture", "POST"),
        ],
        "PAYER_ACTION_REQUIRED" => vec![
            link(self_href.clone(), "self", "GET"),
            link(checkout, "payer-action", "GET"),
        ],
        "APPROVED" => vec![
            link(self_href.clone(), "self", "GET"),
            link(self_href.clone(), "update", "PATCH"),
            link(format!("{self_href}/capture"), "capture", "POST"),
        ],
        _ => vec![link(self_href, "self", "GET")],
    };
    let mut body = json!({
        "id": o.id,
        "intent": o.intent,
        "status": o.status,
        "purchase_units": [unit],
        "create_time": rfc3339(o.at),
        "update_time": rfc3339(o.updated),
        "links": links,
    });
    let email = o
        .payer
        .as_ref()
        .map(|p| p.person.email())
        .or_else(|| o.payer_email.clone());
    if o.payer_action || o.payer.is_some() {
        let mut paypal = json!({});
        if let Some(email) = &email {
            paypal["email_address"] = json!(email);
        }
        if let Some(p) = &o.payer {
            paypal["account_id"] = json!(p.account_id);
            paypal["name"] = json!({"given_name": p.given_name(), "surname": p.surname()});
        }
        body["payment_source"] = json!({ "paypal": paypal });
    }
    if let Some(p) = &o.payer {
        body["payer"] = json!({
            "name": {"given_name": p.given_name(), "surname": p.surname()},
            "email_address": email,
            "payer_id": p.account_id,
        });
    }
    body
}

fn order_answer(call: &Call<'_>, status: StatusCode, index: usize) -> Answer {
    let full = order_json(call.ledger, &call.ledger.orders[index], call.base);
    let body = if wants_representation(call.headers) {
        full
    } else {
        minimal(full)
    };
    Answer::json(status, body)
}

/// The answer to a request whose `PayPal-Request-Id` was seen before on `route`.
fn replayed(call: &Call<'_>, route: &str) -> Option<Answer> {
    let key = (route.to_string(), request_id(call.headers)?);
    let replay = call.ledger.replays.get(&key)?;
    let index = call
        .ledger
        .orders
        .iter()
        .position(|o| o.id == replay.object_id)?;
    let status = StatusCode::from_u16(replay.status).unwrap_or(StatusCode::CREATED);
    Some(order_answer(call, status, index))
}

fn remember(call: &mut Call<'_>, route: &str, status: u16, object_id: &str) {
    if let Some(id) = request_id(call.headers) {
        call.ledger.replays.insert(
            (route.to_string(), id),
            Replay {
                status,
                object_id: object_id.to_string(),
            },
        );
    }
}

fn bad_field(field: &str, value: &str, issue: &str, description: &str) -> Answer {
    error(
        StatusCode::BAD_REQUEST,
        &[Detail {
            field: Some(field),
            value: Some(value),
            location: "body",
            issue,
            description,
        }],
    )
}

pub(crate) fn create(call: &mut Call<'_>) -> Answer {
    const ROUTE: &str = "orders.create";
    if let Some(answer) = replayed(call, ROUTE) {
        return answer;
    }
    let body = match call.json_body() {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    let intent = match body["intent"].as_str() {
        Some(i @ ("CAPTURE" | "AUTHORIZE")) => i.to_string(),
        Some(other) => {
            return bad_field(
                "/intent",
                other,
                "INVALID_PARAMETER_VALUE",
                "A parameter value is not valid.",
            );
        }
        None => return missing("/intent", "body"),
    };
    let units = body["purchase_units"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let unit = match units.as_slice() {
        [] => return missing("/purchase_units", "body"),
        [one] => one,
        _ => {
            return bad_field(
                "/purchase_units",
                "[…]",
                "NOT_SUPPORTED",
                "This field is not currently supported.",
            );
        }
    };
    let Some(currency) = unit["amount"]["currency_code"].as_str() else {
        return missing("/purchase_units/0/amount/currency_code", "body");
    };
    let Some(value) = unit["amount"]["value"].as_str() else {
        return missing("/purchase_units/0/amount/value", "body");
    };
    let currency = currency.to_ascii_uppercase();
    let amount = match ledger::parse_value(value, &currency) {
        Ok(v) if v <= 0 => {
            return unprocessable(
                Some("/purchase_units/0/amount/value"),
                "CANNOT_BE_ZERO_OR_NEGATIVE",
                "Must be greater than zero. If the currency supports decimals, only two decimal place precision is supported.",
            );
        }
        Ok(v) => v,
        Err(BadValue::Precision) => {
            return unprocessable(
                Some("/purchase_units/0/amount/value"),
                "DECIMAL_PRECISION",
                "If the currency supports decimals, only two decimal place precision is supported.",
            );
        }
        Err(BadValue::Syntax) => {
            return bad_field(
                "/purchase_units/0/amount/value",
                value,
                "INVALID_PARAMETER_SYNTAX",
                "The value of a field does not conform to the expected format.",
            );
        }
    };
    let text = |k: &str| unit[k].as_str().map(str::to_string);
    let paypal_source = body.pointer("/payment_source/paypal");
    const RETURN_URL: &str = "/payment_source/paypal/experience_context/return_url";
    let return_url = match body.pointer(RETURN_URL) {
        None | Some(Value::Null) => None,
        // The spec's `url`: an absolute http(s) address.
        Some(Value::String(u))
            if url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https")) =>
        {
            Some(u.clone())
        }
        Some(other) => {
            return bad_field(
                RETURN_URL,
                &other.to_string(),
                "INVALID_PARAMETER_SYNTAX",
                "The value of a field does not conform to the expected format.",
            );
        }
    };
    let id = ledger::transaction_id(&mut call.ledger.rng);
    let order = Order {
        id: id.clone(),
        intent,
        status: if paypal_source.is_some() {
            "PAYER_ACTION_REQUIRED"
        } else {
            "CREATED"
        },
        currency,
        amount,
        reference_id: text("reference_id").unwrap_or_else(|| "default".into()),
        description: text("description"),
        custom_id: text("custom_id"),
        invoice_id: text("invoice_id"),
        payer_email: paypal_source
            .and_then(|p| p["email_address"].as_str())
            .map(str::to_string),
        payer_action: paypal_source.is_some(),
        return_url,
        payer: None,
        capture_id: None,
        at: call.now,
        updated: call.now,
    };
    call.ledger.orders.push(order);
    remember(call, ROUTE, 201, &id);
    order_answer(call, StatusCode::CREATED, call.ledger.orders.len() - 1)
}

pub(crate) fn show(call: &mut Call<'_>, id: &str) -> Answer {
    match call.ledger.orders.iter().position(|o| o.id == id) {
        Some(i) => Answer::json(
            StatusCode::OK,
            order_json(call.ledger, &call.ledger.orders[i], call.base),
        ),
        None => not_found(id),
    }
}

pub(crate) fn capture(call: &mut Call<'_>, id: &str) -> Answer {
    const ROUTE: &str = "orders.capture";
    if let Some(answer) = replayed(call, ROUTE) {
        return answer;
    }
    let Some(index) = call.ledger.orders.iter().position(|o| o.id == id) else {
        return not_found(id);
    };
    if let Err(answer) = call.json_body() {
        return answer;
    }
    let order = &call.ledger.orders[index];
    match (order.status, order.intent.as_str()) {
        ("APPROVED", "CAPTURE") => {}
        ("COMPLETED", _) => {
            return unprocessable(
                None,
                "ORDER_ALREADY_CAPTURED",
                "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
            );
        }
        ("APPROVED", _) => {
            return unprocessable(
                Some("/intent"),
                "INCOMPATIBLE_PARAMETER_VALUE",
                "The value of the field is incompatible/redundant with other fields in the order.",
            );
        }
        _ => {
            return unprocessable(
                None,
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid `payment_source` in the request.",
            );
        }
    }
    let (amount, currency) = (order.amount, order.currency.clone());
    let (payer, custom_id, invoice_id, description) = (
        order.payer.clone(),
        order.custom_id.clone(),
        order.invoice_id.clone(),
        order.description.clone(),
    );
    let now = call.now;
    let mut capture = call.ledger.new_capture(now, amount, &currency);
    if let Some(p) = payer {
        capture.payer = p;
    }
    capture.order_id = Some(id.to_string());
    capture.custom_id = custom_id;
    capture.invoice_id = invoice_id;
    if let Some(d) = description {
        capture.item = d;
    }
    let capture_id = capture.id.clone();
    call.ledger.push_capture(capture);
    let order = &mut call.ledger.orders[index];
    order.status = "COMPLETED";
    order.capture_id = Some(capture_id);
    order.updated = now;
    // What a repeat with this PayPal-Request-Id answers: the same order, 200 (the spec).
    remember(call, ROUTE, 200, id);
    order_answer(call, StatusCode::CREATED, index)
}

/// The buyer's browser on PayPal's checkout page (`GET /checkoutnow?token=ORDER`): the buyer
/// approves at once. A small HTML page either way, as a browser expects.
pub(crate) fn checkout_page(ctl: &PayPalControl, uri: &Uri) -> Response {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    let token = query
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let (status, text) = if ctl.approve_order(token) {
        (
            StatusCode::OK,
            "You approved the payment. You can close this page.",
        )
    } else {
        match ctl.order_status(token).as_deref() {
            Some("APPROVED" | "COMPLETED") => {
                (StatusCode::OK, "You already approved this payment.")
            }
            Some(_) => (StatusCode::GONE, "This payment can no longer be approved."),
            None => (StatusCode::NOT_FOUND, "There is no such payment."),
        }
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(format!(
            "<!doctype html><title>PayPal (sandbox)</title><p>{text}</p>"
        )))
        .expect("valid response")
}

impl PayPalControl {
    /// PayPal voids order `id` (an order left unpaid too long): it can no longer be approved
    /// or captured. Returns whether there was such an order not yet captured.
    pub fn void_order(&self, id: &str) -> bool {
        let mut ledger = self.ledger();
        let now = crate::seed::now_unix();
        match ledger.orders.iter_mut().find(|o| o.id == id) {
            Some(order) if order.status != "COMPLETED" => {
                order.status = "VOIDED";
                order.updated = now;
                true
            }
            _ => false,
        }
    }

    /// Captures made of order `id` (what money PayPal took for it): their ids.
    pub fn captures_of_order(&self, id: &str) -> Vec<String> {
        self.ledger()
            .captures
            .iter()
            .filter(|c| c.order_id.as_deref() == Some(id))
            .map(|c| c.id.clone())
            .collect()
    }
}
