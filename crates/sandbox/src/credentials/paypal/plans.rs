//! Subscriptions v1 plans: `GET /v1/billing/plans/{id}` (`plans.get` in the spec), as PayPal's
//! reference shows a plan (https://developer.paypal.com/docs/api/subscriptions/v1/#plans_get):
//! `id`, `product_id`, `name`, `status`, `billing_cycles[]` (a `TRIAL` cycle without a
//! `pricing_scheme` for a free month, then the `REGULAR` one with `frequency` and
//! `pricing_scheme.fixed_price`), `payment_preferences`, `taxes`, times and links. An unknown
//! id is 404 `RESOURCE_NOT_FOUND` with `INVALID_RESOURCE_ID`.
//!
//! Simplification: the seeded subscription on the plan with a free month was charged from its
//! start like the others (the fake's captures do not follow the plan's trial).

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::api::{Answer, Call, link, money, not_found};
use super::ledger::Plan;
use crate::credentials::rfc3339;

fn plan_json(p: &Plan, base: &str) -> Value {
    let mut cycles = Vec::new();
    if let Some(months) = p.trial_months {
        cycles.push(json!({
            "frequency": {"interval_unit": "MONTH", "interval_count": 1},
            "tenure_type": "TRIAL",
            "sequence": 1,
            "total_cycles": months,
        }));
    }
    cycles.push(json!({
        "pricing_scheme": {
            "version": 1,
            "fixed_price": money(&p.currency, p.amount),
            "create_time": rfc3339(p.created),
            "update_time": rfc3339(p.created),
        },
        "frequency": {"interval_unit": "MONTH", "interval_count": 1},
        "tenure_type": "REGULAR",
        "sequence": cycles.len() + 1,
        "total_cycles": 0,
    }));
    json!({
        "id": p.id,
        "product_id": p.product_id,
        "name": p.name,
        "status": "ACTIVE",
        "description": format!("{} (billed monthly)", p.name),
        "usage_type": "LICENSED",
        "billing_cycles": cycles,
        "payment_preferences": {
            "auto_bill_outstanding": true,
            "setup_fee": money(&p.currency, 0),
            "setup_fee_failure_action": "CONTINUE",
            "payment_failure_threshold": 3,
        },
        "taxes": {"percentage": "0", "inclusive": false},
        "quantity_supported": false,
        "create_time": rfc3339(p.created),
        "update_time": rfc3339(p.created),
        "links": [link(format!("{base}/v1/billing/plans/{}", p.id), "self", "GET")],
    })
}

pub(crate) fn show(call: &mut Call<'_>, id: &str) -> Answer {
    match call.ledger.plans.iter().find(|p| p.id == id) {
        Some(p) => Answer::json(StatusCode::OK, plan_json(p, call.base)),
        None => not_found(id),
    }
}
