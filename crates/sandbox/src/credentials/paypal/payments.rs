//! Payments v2: `GET /v2/payments/captures/{capture_id}`,
//! `POST /v2/payments/captures/{capture_id}/refund`, `GET /v2/payments/refunds/{refund_id}`.
//!
//! Faithful to the spec (`captures.get`, `captures.refund`, `refunds.get`) and PayPal's
//! Payments v2 reference (https://developer.paypal.com/docs/api/payments/v2/):
//! - A refund without `amount` refunds what is left of the capture; with one, that part
//!   (partial refunds). More than is left is 422 `REFUND_AMOUNT_EXCEEDED`, nothing left is
//!   `CAPTURE_FULLY_REFUNDED`, a pending capture `PENDING_CAPTURE`, another currency
//!   `CURRENCY_MISMATCH`, more decimals than the currency has `DECIMAL_PRECISION` (or
//!   `DECIMALS_NOT_SUPPORTED` for JPY, HUF, TWD), zero or less `CANNOT_BE_ZERO_OR_NEGATIVE`.
//! - `PayPal-Request-Id` ("the server stores keys for 45 days"): a second request with the
//!   same id answers with the refund the first one made and refunds nothing more.
//! - `Prefer: return=representation` answers the whole refund; the default
//!   (`return=minimal`) only `id`, `status` and `links`.
//! - The refund gives back the capture's fee minus its fixed part (`paypal_fee` of
//!   `seller_payable_breakdown`), and shows in Transaction Search as a `T1107` line whose
//!   `paypal_reference_id` is the capture.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::api::{
    Answer, Call, link, money, not_found, request_id, unprocessable, wants_representation,
};
use super::ledger::{self, BadValue, Capture, Ledger, Refund, Replay};
use crate::credentials::rfc3339;

/// A capture as Payments v2 answers it (`capture-2`).
pub(crate) fn capture_json(ledger: &Ledger, c: &Capture, base: &str) -> Value {
    let mut body = json!({
        "id": c.id,
        "status": c.status(),
        "amount": money(&c.currency, c.amount),
        "final_capture": true,
        "seller_protection": {
            "status": "ELIGIBLE",
            "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
        },
        "seller_receivable_breakdown": {
            "gross_amount": money(&c.currency, c.amount),
            "paypal_fee": money(&c.currency, c.fee),
            "net_amount": money(&c.currency, c.amount - c.fee),
        },
        "payee": {
            "email_address": ledger.merchant_email,
            "merchant_id": ledger.merchant_id,
        },
        "create_time": rfc3339(c.at),
        "update_time": rfc3339(c.updated),
        "links": [
            link(format!("{base}/v2/payments/captures/{}", c.id), "self", "GET"),
            link(format!("{base}/v2/payments/captures/{}/refund", c.id), "refund", "POST"),
        ],
    });
    if c.pending {
        body["status_details"] = json!({"reason": "ECHECK"});
    }
    if let Some(invoice) = &c.invoice_id {
        body["invoice_id"] = json!(invoice);
    }
    if let Some(custom) = &c.custom_id {
        body["custom_id"] = json!(custom);
    }
    if let Some(order) = &c.order_id {
        body["supplementary_data"] = json!({"related_ids": {"order_id": order}});
        body["links"]
            .as_array_mut()
            .expect("links is an array")
            .push(link(
                format!("{base}/v2/checkout/orders/{order}"),
                "up",
                "GET",
            ));
    }
    body
}

/// A refund as Payments v2 answers it (`refund`).
fn refund_json(ledger: &Ledger, r: &Refund, base: &str) -> Value {
    let refunded = ledger
        .capture_position(&r.capture_id)
        .map_or(r.amount, |i| ledger.captures[i].refunded);
    let mut body = json!({
        "id": r.id,
        "amount": money(&r.currency, r.amount),
        "status": "COMPLETED",
        "seller_payable_breakdown": {
            "gross_amount": money(&r.currency, r.amount),
            "paypal_fee": money(&r.currency, r.fee_returned),
            "net_amount": money(&r.currency, r.amount - r.fee_returned),
            "total_refunded_amount": money(&r.currency, refunded),
        },
        "payer": {
            "email_address": ledger.merchant_email,
            "merchant_id": ledger.merchant_id,
        },
        "create_time": rfc3339(r.at),
        "update_time": rfc3339(r.at),
        "links": [
            link(format!("{base}/v2/payments/refunds/{}", r.id), "self", "GET"),
            link(format!("{base}/v2/payments/captures/{}", r.capture_id), "up", "GET"),
        ],
    });
    if let Some(invoice) = &r.invoice_id {
        body["invoice_id"] = json!(invoice);
    }
    if let Some(custom) = &r.custom_id {
        body["custom_id"] = json!(custom);
    }
    if let Some(note) = &r.note_to_payer {
        body["note_to_payer"] = json!(note);
    }
    body
}

/// `id`, `status` and `links` only (`Prefer: return=minimal`).
pub(crate) fn minimal(full: Value) -> Value {
    json!({"id": full["id"], "status": full["status"], "links": full["links"]})
}

pub(crate) fn show_capture(call: &mut Call<'_>, id: &str) -> Answer {
    match call.ledger.capture_position(id) {
        Some(i) => Answer::json(
            StatusCode::OK,
            capture_json(call.ledger, &call.ledger.captures[i], call.base),
        ),
        None => not_found(id),
    }
}

pub(crate) fn show_refund(call: &mut Call<'_>, id: &str) -> Answer {
    match call.ledger.refunds.iter().find(|r| r.id == id) {
        Some(r) => Answer::json(StatusCode::OK, refund_json(call.ledger, r, call.base)),
        None => not_found(id),
    }
}

fn refund_answer(call: &Call<'_>, status: StatusCode, index: usize) -> Answer {
    let full = refund_json(call.ledger, &call.ledger.refunds[index], call.base);
    let body = if wants_representation(call.headers) {
        full
    } else {
        minimal(full)
    };
    Answer::json(status, body)
}

const ROUTE: &str = "captures.refund";

pub(crate) fn refund(call: &mut Call<'_>, capture_id: &str) -> Answer {
    let key = request_id(call.headers).map(|id| (ROUTE.to_string(), id));
    if let Some(replay) = key.as_ref().and_then(|k| call.ledger.replays.get(k)) {
        let status = StatusCode::from_u16(replay.status).unwrap_or(StatusCode::CREATED);
        if let Some(i) = call
            .ledger
            .refunds
            .iter()
            .position(|r| r.id == replay.object_id)
        {
            return refund_answer(call, status, i);
        }
    }
    let Some(index) = call.ledger.capture_position(capture_id) else {
        return not_found(capture_id);
    };
    let Ok(body) = call.json_body() else {
        // The spec's refusal list for refunds has no MALFORMED_REQUEST_JSON.
        return super::api::error(
            StatusCode::BAD_REQUEST,
            &[super::api::Detail {
                field: None,
                value: None,
                location: "body",
                issue: "INVALID_PARAMETER_SYNTAX",
                description: "The request JSON is not well formed.",
            }],
        );
    };
    let c = &call.ledger.captures[index];
    if c.pending {
        return unprocessable(
            None,
            "PENDING_CAPTURE",
            "Cannot initiate a refund as the capture is pending. Capture is typically pending when the payer has funded the transaction using e-check/bank funded.",
        );
    }
    let left = c.amount - c.refunded;
    if left <= 0 {
        return unprocessable(
            None,
            "CAPTURE_FULLY_REFUNDED",
            "The capture has already been fully refunded",
        );
    }
    let amount = match body.get("amount") {
        None | Some(Value::Null) => left,
        Some(requested) => {
            let currency = requested["currency_code"].as_str().unwrap_or_default();
            let Some(text) = requested["value"].as_str() else {
                return super::api::missing("/amount/value", "body");
            };
            if !currency.eq_ignore_ascii_case(&c.currency) {
                return unprocessable(
                    Some("/amount/currency_code"),
                    "CURRENCY_MISMATCH",
                    "Refund must be in the same currency as the capture.",
                );
            }
            match ledger::parse_value(text, &c.currency) {
                Ok(v) if v <= 0 => {
                    return unprocessable(
                        Some("/amount/value"),
                        "CANNOT_BE_ZERO_OR_NEGATIVE",
                        "Must be greater than zero.",
                    );
                }
                Ok(v) if v > left => {
                    return unprocessable(
                        Some("/amount/value"),
                        "REFUND_AMOUNT_EXCEEDED",
                        "The refund amount must be less than or equal to the capture amount that has not yet been refunded.",
                    );
                }
                Ok(v) => v,
                Err(BadValue::Precision) if ledger::decimals(&c.currency) == 0 => {
                    return unprocessable(
                        Some("/amount/value"),
                        "DECIMALS_NOT_SUPPORTED",
                        "Currency does not support decimals.",
                    );
                }
                Err(BadValue::Precision) => {
                    return unprocessable(
                        Some("/amount/value"),
                        "DECIMAL_PRECISION",
                        "If the currency supports decimals, only two decimal place precision is supported.",
                    );
                }
                Err(BadValue::Syntax) => {
                    return super::api::error(
                        StatusCode::BAD_REQUEST,
                        &[super::api::Detail {
                            field: Some("/amount/value"),
                            value: Some(text),
                            location: "body",
                            issue: "INVALID_PARAMETER_SYNTAX",
                            description: "The value of a field does not conform to the expected format.",
                        }],
                    );
                }
            }
        }
    };
    let text = |k: &str| body[k].as_str().map(str::to_string);
    let id = ledger::transaction_id(&mut call.ledger.rng);
    let refund = call.ledger.record_refund(
        index,
        id.clone(),
        amount,
        call.now,
        text("custom_id"),
        text("note_to_payer"),
    );
    if let Some(invoice) = text("invoice_id") {
        call.ledger.refunds[refund].invoice_id = Some(invoice);
    }
    if let Some(key) = key {
        call.ledger.replays.insert(
            key,
            Replay {
                status: 201,
                object_id: id,
            },
        );
    }
    refund_answer(call, StatusCode::CREATED, refund)
}
