//! Subscriptions v1: `GET /v1/billing/subscriptions/{id}` and
//! `POST /v1/billing/subscriptions/{id}/cancel`.
//!
//! Faithful to the spec (`subscriptions.get`, `subscriptions.cancel`) and PayPal's reference
//! (https://developer.paypal.com/docs/api/subscriptions/v1/): cancel needs a `reason` of at
//! most 128 characters (400 without one, 400 `INVALID_STRING_MAX_LENGTH` when longer), ends the subscription at once (status
//! `CANCELLED`, no next billing; PayPal has no "at period end") and answers 204 with no body;
//! a subscription that is not `ACTIVE` or `SUSPENDED` is 422 `SUBSCRIPTION_STATUS_INVALID`.
//! PayPal has no call that lists subscriptions (see `shared/specs/README.md`): their ids
//! come from the `paypal_reference_id` of their payments in Transaction Search.
//!
//! Left out: the `plan` expansion (plans are read on their own, `plans.rs`), creating,
//! suspending and activating.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::api::{Answer, Call, Detail, error, link, money, not_found, unprocessable};
use super::ledger::Subscription;
use crate::credentials::rfc3339;

fn subscription_json(s: &Subscription, base: &str) -> Value {
    let self_href = format!("{base}/v1/billing/subscriptions/{}", s.id);
    let mut billing = json!({
        "outstanding_balance": money(&s.currency, 0),
        "cycle_executions": [{
            "tenure_type": "REGULAR",
            "sequence": 1,
            "cycles_completed": s.cycles_completed,
            "cycles_remaining": 0,
            "current_pricing_scheme_version": 1,
            "total_cycles": 0,
        }],
        "failed_payments_count": 0,
    });
    if let Some((amount, at)) = s.last_payment {
        billing["last_payment"] =
            json!({"amount": money(&s.currency, amount), "time": rfc3339(at)});
    }
    if let Some(next) = s.next_billing {
        billing["next_billing_time"] = json!(rfc3339(next));
    }
    let mut links = vec![link(self_href.clone(), "self", "GET")];
    if matches!(s.status, "ACTIVE" | "SUSPENDED") {
        links.push(link(format!("{self_href}/cancel"), "cancel", "POST"));
        links.push(link(format!("{self_href}/suspend"), "suspend", "POST"));
    }
    let mut body = json!({
        "id": s.id,
        "plan_id": s.plan_id,
        "status": s.status,
        "status_update_time": rfc3339(s.status_updated),
        "start_time": rfc3339(s.start),
        "quantity": "1",
        "shipping_amount": money(&s.currency, 0),
        "subscriber": {
            "email_address": s.payer.person.email(),
            "payer_id": s.payer.account_id,
            "name": {"given_name": s.payer.given_name(), "surname": s.payer.surname()},
        },
        "billing_info": billing,
        "create_time": rfc3339(s.created),
        "update_time": rfc3339(s.updated),
        "plan_overridden": false,
        "links": links,
    });
    if let Some(note) = &s.status_note {
        body["status_change_note"] = json!(note);
    }
    body
}

pub(crate) fn show(call: &mut Call<'_>, id: &str) -> Answer {
    match call.ledger.subscriptions.iter().find(|s| s.id == id) {
        Some(s) => Answer::json(StatusCode::OK, subscription_json(s, call.base)),
        None => not_found(id),
    }
}

pub(crate) fn cancel(call: &mut Call<'_>, id: &str) -> Answer {
    let Some(index) = call.ledger.subscriptions.iter().position(|s| s.id == id) else {
        return not_found(id);
    };
    let Ok(body) = call.json_body() else {
        return error(StatusCode::BAD_REQUEST, &[]);
    };
    let Some(reason) = body["reason"].as_str().filter(|r| !r.trim().is_empty()) else {
        // The spec lists no `details` issue for this refusal (only INVALID_STRING_MAX_LENGTH),
        // so the fake sends none.
        return error(StatusCode::BAD_REQUEST, &[]);
    };
    if reason.chars().count() > 128 {
        return error(
            StatusCode::BAD_REQUEST,
            &[Detail {
                field: Some("/reason"),
                value: None,
                location: "body",
                issue: "INVALID_STRING_MAX_LENGTH",
                description: "The value of a field is too long.",
            }],
        );
    }
    let s = &mut call.ledger.subscriptions[index];
    if !matches!(s.status, "ACTIVE" | "SUSPENDED") {
        return unprocessable(
            None,
            "SUBSCRIPTION_STATUS_INVALID",
            "Invalid subscription status for cancel action; subscription status should be active or suspended.",
        );
    }
    s.status = "CANCELLED";
    s.status_note = Some(reason.to_string());
    s.status_updated = call.now;
    s.updated = call.now;
    s.next_billing = None;
    Answer::no_content()
}
