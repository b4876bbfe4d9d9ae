//! Typed reads of Stripe's disputes, payouts, payout entries (balance transactions of a
//! payout), customers and subscriptions into the normalised records. Like the charge parser in
//! the parent module: every field optional so a missing one is named, a wrong type rejects the
//! object (not the page), the provider's own text kept as `raw_json`, unknown statuses stored
//! as `unknown` with a warning.

use super::{Expandable, Parsed, currency, fields, id_of, required, status, stripe_exponent};
use serde::Deserialize;
use std::borrow::Cow;
use switchboard_core::Money;
use switchboard_core::records::{
    CustomerRecord, DisputeRecord, PayoutEntryRecord, PayoutRecord, SubscriptionRecord,
};

/// Dispute statuses of API 2023-08-16 (`prevented` came later; known so it is not "unknown").
const DISPUTE_STATUSES: &[&str] = &[
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
    "needs_response",
    "under_review",
    "won",
    "lost",
    "prevented",
];
const PAYOUT_STATUSES: &[&str] = &["pending", "in_transit", "paid", "failed", "canceled"];

#[derive(Deserialize)]
struct EvidenceDetails {
    due_by: Option<i64>,
}

#[derive(Deserialize)]
struct DisputeFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    amount: Option<i64>,
    #[serde(borrow)]
    currency: Option<Cow<'a, str>>,
    created: Option<i64>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    charge: Option<Expandable<'a>>,
    evidence_details: Option<EvidenceDetails>,
}

/// One dispute object (as JSON text, stored verbatim as its raw JSON).
pub fn parse_dispute_raw(raw: &str, warnings: &mut Vec<String>) -> Parsed<DisputeRecord> {
    let o: DisputeFields<'_> = fields(raw)?;
    let id = required(o.id, "id")?;
    let amount = required(o.amount, "amount")?;
    let currency = currency(o.currency)?;
    let created = required(o.created, "created")?;
    let status = status(o.status, DISPUTE_STATUSES, "Dispute", &id, warnings)?;
    let money = Money::normalised(amount, currency, stripe_exponent(currency));
    Ok(DisputeRecord {
        external_id: id.into_owned(),
        payment_external_id: id_of(o.charge),
        amount_minor: money.amount_minor,
        currency: currency.code().to_string(),
        currency_exponent: money.exponent,
        status,
        reason: o.reason.map(Cow::into_owned),
        evidence_due_by: o.evidence_details.and_then(|e| e.due_by),
        created,
        raw_json: raw.to_string(),
    })
}

#[derive(Deserialize)]
struct PayoutFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    amount: Option<i64>,
    #[serde(borrow)]
    currency: Option<Cow<'a, str>>,
    created: Option<i64>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    arrival_date: Option<i64>,
    #[serde(borrow)]
    destination: Option<Expandable<'a>>,
    automatic: Option<bool>,
    #[serde(borrow)]
    reconciliation_status: Option<Cow<'a, str>>,
}

/// A payout, and whether Stripe can list what it paid out: only an automatic payout whose
/// reconciliation is `completed` (the `payout` filter of the balance transaction list is "for
/// automatic Stripe payouts only").
pub(super) struct ParsedPayout {
    pub record: PayoutRecord,
    pub contents_listable: bool,
}

pub(super) fn parse_payout_full(raw: &str, warnings: &mut Vec<String>) -> Parsed<ParsedPayout> {
    let o: PayoutFields<'_> = fields(raw)?;
    let id = required(o.id, "id")?;
    let amount = required(o.amount, "amount")?;
    let currency = currency(o.currency)?;
    let created = required(o.created, "created")?;
    let status = status(o.status, PAYOUT_STATUSES, "Payout", &id, warnings)?;
    let money = Money::normalised(amount, currency, stripe_exponent(currency));
    let contents_listable =
        o.automatic == Some(true) && o.reconciliation_status.as_deref() == Some("completed");
    Ok(ParsedPayout {
        record: PayoutRecord {
            external_id: id.into_owned(),
            amount_minor: money.amount_minor,
            currency: currency.code().to_string(),
            currency_exponent: money.exponent,
            status,
            arrival_date: o.arrival_date,
            destination: id_of(o.destination),
            created,
            raw_json: raw.to_string(),
        },
        contents_listable,
    })
}

/// One payout object (as JSON text, stored verbatim as its raw JSON).
pub fn parse_payout_raw(raw: &str, warnings: &mut Vec<String>) -> Parsed<PayoutRecord> {
    parse_payout_full(raw, warnings).map(|p| p.record)
}

#[derive(Deserialize)]
struct EntryFields<'a> {
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
    reporting_category: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source: Option<Expandable<'a>>,
}

/// Our kind of a payout entry from a balance transaction's `type` (and, for adjustments,
/// its `reporting_category`, which says when one is a dispute).
/// <https://docs.stripe.com/reports/balance-transaction-types>
pub fn entry_kind(stripe_type: &str, reporting_category: Option<&str>) -> &'static str {
    match stripe_type {
        "charge" | "payment" => "charge",
        "refund"
        | "payment_refund"
        | "refund_failure"
        | "payment_failure_refund"
        | "payment_reversal" => "refund",
        "stripe_fee"
        | "stripe_fx_fee"
        | "tax_fee"
        | "application_fee"
        | "application_fee_refund" => "fee",
        "adjustment" if matches!(reporting_category, Some("dispute" | "dispute_reversal")) => {
            "dispute"
        }
        "issuing_dispute" => "dispute",
        "adjustment" | "reserve_transaction" | "reserved_funds" => "adjustment",
        "payout"
        | "payout_cancel"
        | "payout_failure"
        | "payout_minimum_balance_hold"
        | "payout_minimum_balance_release" => "payout",
        _ => "other",
    }
}

/// One balance transaction of payout `payout` as its entry. `Ok(None)` for the payout's own
/// transaction (`type: "payout"`, `source` = the payout), which Stripe lists with what the
/// payout contains: it is the payout itself (already a payout record), not part of it, so the
/// entries' net adds up to the payout's amount.
pub fn parse_payout_entry_raw(
    raw: &str,
    payout: &str,
    _warnings: &mut Vec<String>,
) -> Parsed<Option<PayoutEntryRecord>> {
    let o: EntryFields<'_> = fields(raw)?;
    let id = required(o.id, "id")?;
    let kind = required(o.kind, "type")?;
    let source = id_of(o.source);
    if kind == "payout" && source.as_deref() == Some(payout) {
        return Ok(None);
    }
    let amount = required(o.amount, "amount")?;
    let fee = required(o.fee, "fee")?;
    let net = required(o.net, "net")?;
    let currency = currency(o.currency)?;
    let created = required(o.created, "created")?;
    let (amounts, exponent) =
        Money::normalise_many(&[amount, fee, net], currency, stripe_exponent(currency));
    Ok(Some(PayoutEntryRecord {
        external_id: id.into_owned(),
        payout_external_id: payout.to_string(),
        kind: entry_kind(&kind, o.reporting_category.as_deref()).to_string(),
        source_external_id: source,
        gross_minor: amounts[0],
        fee_minor: amounts[1],
        net_minor: amounts[2],
        currency: currency.code().to_string(),
        currency_exponent: exponent,
        created,
        raw_json: raw.to_string(),
    }))
}

#[derive(Deserialize)]
struct CustomerFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    created: Option<i64>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    email: Option<Cow<'a, str>>,
    #[serde(borrow)]
    phone: Option<Cow<'a, str>>,
}

/// One customer object (as JSON text, stored verbatim as its raw JSON).
pub fn parse_customer_raw(raw: &str, _warnings: &mut Vec<String>) -> Parsed<CustomerRecord> {
    let o: CustomerFields<'_> = fields(raw)?;
    Ok(CustomerRecord {
        external_id: required(o.id, "id")?.into_owned(),
        name: o.name.map(Cow::into_owned),
        email: o.email.map(Cow::into_owned),
        phone: o.phone.map(Cow::into_owned),
        created: required(o.created, "created")?,
        raw_json: raw.to_string(),
    })
}

#[derive(Deserialize)]
struct Recurring<'a> {
    #[serde(borrow)]
    interval: Option<Cow<'a, str>>,
    interval_count: Option<i64>,
}

#[derive(Deserialize)]
struct Price<'a> {
    unit_amount: Option<i64>,
    #[serde(borrow)]
    currency: Option<Cow<'a, str>>,
    #[serde(borrow)]
    nickname: Option<Cow<'a, str>>,
    #[serde(borrow)]
    recurring: Option<Recurring<'a>>,
}

#[derive(Deserialize)]
struct SubscriptionItem<'a> {
    quantity: Option<i64>,
    #[serde(borrow)]
    price: Option<Price<'a>>,
}

#[derive(Deserialize)]
struct SubscriptionItems<'a> {
    #[serde(borrow)]
    data: Option<Vec<SubscriptionItem<'a>>>,
}

#[derive(Deserialize)]
struct SubscriptionFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    created: Option<i64>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    customer: Option<Expandable<'a>>,
    #[serde(borrow)]
    description: Option<Cow<'a, str>>,
    cancel_at_period_end: Option<bool>,
    current_period_end: Option<i64>,
    #[serde(borrow)]
    items: Option<SubscriptionItems<'a>>,
}

/// Our subscription status for Stripe's: `incomplete` is still `pending` its first payment,
/// `incomplete_expired` never started (so it is over: `canceled`), `unpaid` is overdue.
fn subscription_status(
    value: Option<Cow<'_, str>>,
    id: &str,
    warnings: &mut Vec<String>,
) -> Parsed<String> {
    let s = required(value, "status")?;
    Ok(match s.as_ref() {
        "active" | "trialing" | "past_due" | "paused" | "canceled" => s.into_owned(),
        "incomplete" => "pending".to_string(),
        "incomplete_expired" => "canceled".to_string(),
        "unpaid" => "past_due".to_string(),
        other => {
            warnings.push(format!(
                "Subscription {id} has an unknown status `{other}`; stored as `unknown`"
            ));
            "unknown".to_string()
        }
    })
}

/// What a subscription's items charge together: their sum, currency and interval (count).
struct ItemsCharge {
    sum: i64,
    currency: String,
    interval: Option<(String, i64)>,
}

/// One subscription object (as JSON text, stored verbatim as its raw JSON). What it charges
/// is the sum of its items when they share a currency and an interval (otherwise left out:
/// the items stay in `raw_json`).
pub fn parse_subscription_raw(raw: &str, warnings: &mut Vec<String>) -> Parsed<SubscriptionRecord> {
    let o: SubscriptionFields<'_> = fields(raw)?;
    let id = required(o.id, "id")?;
    let created = required(o.created, "created")?;
    let status = subscription_status(o.status, &id, warnings)?;
    let cancel_at_period_end = o.cancel_at_period_end.unwrap_or(false);
    let items = o.items.and_then(|i| i.data).unwrap_or_default();
    let mut total: Option<ItemsCharge> = None;
    let mut uniform = !items.is_empty();
    for item in &items {
        let Some(price) = &item.price else {
            uniform = false;
            break;
        };
        let (Some(unit), Some(code)) = (price.unit_amount, price.currency.as_deref()) else {
            uniform = false;
            break;
        };
        let interval = price.recurring.as_ref().and_then(|r| {
            r.interval
                .as_deref()
                .map(|i| (i.to_string(), r.interval_count.unwrap_or(1)))
        });
        let line = unit.saturating_mul(item.quantity.unwrap_or(1));
        total = match total {
            None => Some(ItemsCharge {
                sum: line,
                currency: code.to_string(),
                interval,
            }),
            Some(t) if t.currency == code && t.interval == interval => Some(ItemsCharge {
                sum: t.sum.saturating_add(line),
                ..t
            }),
            Some(_) => {
                uniform = false;
                break;
            }
        };
    }
    let (amount_minor, currency, currency_exponent, interval, interval_count) = match total
        .filter(|_| uniform)
    {
        Some(t) => {
            let parsed = super::currency(Some(Cow::Owned(t.currency)))?;
            let money = Money::normalised(t.sum, parsed, stripe_exponent(parsed));
            let (interval, count) = t.interval.map_or((None, None), |(i, c)| (Some(i), Some(c)));
            (
                Some(money.amount_minor),
                Some(parsed.code().to_string()),
                Some(money.exponent),
                interval,
                count,
            )
        }
        None => (None, None, None, None, None),
    };
    let description = o
        .description
        .map(Cow::into_owned)
        .or_else(|| match items.as_slice() {
            [one] => one
                .price
                .as_ref()
                .and_then(|p| p.nickname.as_deref())
                .map(str::to_string),
            [] => None,
            many => Some(format!("{} items", many.len())),
        });
    let charges_again = matches!(status.as_str(), "active" | "trialing" | "past_due");
    Ok(SubscriptionRecord {
        external_id: id.into_owned(),
        customer_external_id: id_of(o.customer),
        status,
        description,
        amount_minor,
        currency,
        currency_exponent,
        interval,
        interval_count,
        next_charge_at: o
            .current_period_end
            .filter(|_| charges_again && !cancel_at_period_end),
        cancel_at_period_end,
        created,
        raw_json: raw.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn text(v: &Value) -> String {
        v.to_string()
    }

    #[test]
    fn disputes_keep_their_charge_due_date_and_status() {
        let mut w = Vec::new();
        let d = json!({"id": "dp_1", "object": "dispute", "amount": 1500, "currency": "kwd",
            "created": 10, "status": "needs_response", "reason": "fraudulent", "charge": "ch_1",
            "evidence_details": {"due_by": 99, "has_evidence": false, "past_due": false,
            "submission_count": 0}});
        let r = parse_dispute_raw(&text(&d), &mut w).unwrap();
        assert_eq!(
            (
                r.payment_external_id.as_deref(),
                r.amount_minor,
                r.currency_exponent
            ),
            (Some("ch_1"), 1500, 3)
        );
        assert_eq!(
            (r.status.as_str(), r.evidence_due_by),
            ("needs_response", Some(99))
        );
        let mut odd = d.clone();
        odd["status"] = json!("escalated");
        let r = parse_dispute_raw(&text(&odd), &mut w).unwrap();
        assert_eq!(r.status, "unknown");
        assert!(w.len() == 1 && w[0].contains("escalated"), "{w:?}");
    }

    #[test]
    fn payouts_say_whether_their_contents_can_be_listed() {
        let mut w = Vec::new();
        let p = json!({"id": "po_1", "amount": 12345, "currency": "isk", "created": 1,
            "arrival_date": 2, "status": "in_transit", "automatic": true, "destination": "ba_1",
            "reconciliation_status": "completed"});
        let parsed = parse_payout_full(&text(&p), &mut w).unwrap();
        assert!(parsed.contents_listable);
        // Stripe counts ISK in hundredths; 123.45 krónur is not whole, so it keeps them.
        assert_eq!(
            (parsed.record.currency.as_str(), parsed.record.amount_minor),
            ("ISK", 12345)
        );
        assert_eq!(parsed.record.currency_exponent, 2);
        assert_eq!(parsed.record.destination.as_deref(), Some("ba_1"));
        let mut manual = p.clone();
        manual["automatic"] = json!(false);
        manual["reconciliation_status"] = json!("not_applicable");
        assert!(
            !parse_payout_full(&text(&manual), &mut w)
                .unwrap()
                .contents_listable
        );
        let mut pending = p.clone();
        pending["reconciliation_status"] = json!("in_progress");
        assert!(
            !parse_payout_full(&text(&pending), &mut w)
                .unwrap()
                .contents_listable
        );
        let mut odd = p;
        odd["status"] = json!("vanished");
        assert_eq!(
            parse_payout_raw(&text(&odd), &mut w).unwrap().status,
            "unknown"
        );
        assert!(w.iter().any(|m| m.contains("vanished")));
    }

    #[test]
    fn payout_entries_normalise_kinds_and_leave_out_the_payout_itself() {
        let mut w = Vec::new();
        let bt = |kind: &str, category: &str, source: &str| {
            text(
                &json!({"id": "txn_1", "amount": -500, "fee": 0, "net": -500, "currency": "eur",
                "created": 3, "type": kind, "reporting_category": category, "source": source}),
            )
        };
        let own = parse_payout_entry_raw(&bt("payout", "payout", "po_1"), "po_1", &mut w);
        assert_eq!(own, Ok(None));
        let other_payout = parse_payout_entry_raw(&bt("payout", "payout", "po_0"), "po_1", &mut w)
            .unwrap()
            .unwrap();
        assert_eq!(other_payout.kind, "payout");
        let dispute = parse_payout_entry_raw(&bt("adjustment", "dispute", "dp_1"), "po_1", &mut w)
            .unwrap()
            .unwrap();
        assert_eq!(
            (dispute.kind.as_str(), dispute.net_minor),
            ("dispute", -500)
        );
        for (kind, category, want) in [
            ("charge", "charge", "charge"),
            ("payment_refund", "refund", "refund"),
            ("stripe_fee", "fee", "fee"),
            ("adjustment", "other_adjustment", "adjustment"),
            ("payout_failure", "payout_reversal", "payout"),
            ("topup", "topup", "other"),
        ] {
            assert_eq!(entry_kind(kind, Some(category)), want, "{kind}");
        }
        let mut broken: Value = serde_json::from_str(&bt("charge", "charge", "ch_1")).unwrap();
        broken.as_object_mut().unwrap().remove("net");
        let err = parse_payout_entry_raw(&text(&broken), "po_1", &mut w).unwrap_err();
        assert!(err.contains("net"), "{err}");
    }

    #[test]
    fn subscriptions_sum_their_items_and_map_statuses() {
        let mut w = Vec::new();
        let item = |amount: i64, qty: i64, interval: &str| {
            json!({"quantity": qty, "price": {"unit_amount": amount, "currency": "usd",
                "nickname": "Monthly subscription",
                "recurring": {"interval": interval, "interval_count": 1}}})
        };
        let sub = |status: &str, items: Vec<Value>, cancel: bool| {
            text(
                &json!({"id": "sub_1", "created": 5, "status": status, "customer": "cus_1",
                "description": null, "cancel_at_period_end": cancel, "current_period_end": 77,
                "items": {"object": "list", "data": items, "has_more": false, "url": "/x"}}),
            )
        };
        let r = parse_subscription_raw(&sub("active", vec![item(1500, 2, "month")], false), &mut w)
            .unwrap();
        assert_eq!(
            (r.amount_minor, r.interval.as_deref(), r.next_charge_at),
            (Some(3000), Some("month"), Some(77))
        );
        assert_eq!(r.description.as_deref(), Some("Monthly subscription"));
        assert_eq!(r.customer_external_id.as_deref(), Some("cus_1"));
        // Ending at the period's end: no next charge.
        let r = parse_subscription_raw(&sub("active", vec![item(1500, 1, "month")], true), &mut w)
            .unwrap();
        assert!(r.cancel_at_period_end && r.next_charge_at.is_none());
        // Items with different intervals have no one amount.
        let mixed = vec![item(1500, 1, "month"), item(9000, 1, "year")];
        let r = parse_subscription_raw(&sub("trialing", mixed, false), &mut w).unwrap();
        assert_eq!(
            (r.amount_minor, r.description.as_deref()),
            (None, Some("2 items"))
        );
        for (stripe, ours) in [
            ("incomplete", "pending"),
            ("incomplete_expired", "canceled"),
            ("unpaid", "past_due"),
            ("paused", "paused"),
        ] {
            let r = parse_subscription_raw(&sub(stripe, vec![], false), &mut w).unwrap();
            assert_eq!(r.status, ours);
        }
        assert!(w.is_empty(), "{w:?}");
        let r = parse_subscription_raw(&sub("hibernating", vec![], false), &mut w).unwrap();
        assert_eq!(r.status, "unknown");
        assert!(w[0].contains("hibernating"));
    }

    #[test]
    fn customers_keep_contact_details() {
        let mut w = Vec::new();
        let c = json!({"id": "cus_1", "created": 4, "name": "Ada", "email": "ada@example.com",
            "phone": null});
        let r = parse_customer_raw(&text(&c), &mut w).unwrap();
        assert_eq!(
            (r.name.as_deref(), r.email.as_deref(), r.phone),
            (Some("Ada"), Some("ada@example.com"), None)
        );
        assert!(
            parse_customer_raw(r#"{"id":"cus_2"}"#, &mut w)
                .unwrap_err()
                .contains("created")
        );
    }
}
