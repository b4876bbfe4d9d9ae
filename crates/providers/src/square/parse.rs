//! Square's objects as normalised records. Each list item stays the provider's own text (its
//! `raw_json`) and is read once into a typed view of the fields Switchboard uses; an object
//! that cannot be used is rejected with its id and the reason, never the whole page.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;
use switchboard_core::Currency;
use switchboard_core::records::{
    CustomerRecord, DisputeRecord, PaymentRecord, PayoutEntryRecord, PayoutRecord, RefundRecord,
    SubscriptionRecord,
};

use crate::{ProviderError, ProviderErrorKind, Record, Rejected};

pub(crate) type Parsed<T> = Result<T, String>;

fn bad_answer(what: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::BadResponse,
        format!("Square sent an answer Switchboard cannot read ({what})."),
    )
}

/// The members of a JSON object answer, each kept as its own text.
fn members(body: &[u8]) -> Result<HashMap<String, &RawValue>, ProviderError> {
    let map: HashMap<String, &RawValue> = serde_json::from_slice(body)
        .map_err(|e| bad_answer(format!("truncated or not a JSON object: {e}")))?;
    // "Either errors or <the result> is present": a 200 carrying errors is a failure.
    if let Some(errors) = map.get("errors") {
        return Err(bad_answer(format!("errors on a success: {}", errors.get())));
    }
    Ok(map)
}

/// One page of a list answer: `{"<key>": [...], "cursor": "..."}`, where Square leaves out an
/// empty list (`{}`) and the cursor on the last page.
pub(crate) struct ListPage<'a> {
    pub(crate) items: Vec<&'a RawValue>,
    pub(crate) cursor: Option<String>,
}

pub(crate) fn list<'a>(body: &'a [u8], key: &str) -> Result<ListPage<'a>, ProviderError> {
    let map = members(body)?;
    let items = match map.get(key) {
        None => Vec::new(),
        Some(raw) => serde_json::from_str::<Vec<&RawValue>>(raw.get())
            .map_err(|e| bad_answer(format!("`{key}` is not a list: {e}")))?,
    };
    let cursor = match map.get("cursor") {
        None => None,
        Some(raw) => serde_json::from_str::<Option<String>>(raw.get())
            .map_err(|e| bad_answer(format!("`cursor` is not text: {e}")))?
            .filter(|c| !c.is_empty()),
    };
    Ok(ListPage { items, cursor })
}

/// The object under `key` of a single-object answer (`{"refund": {...}}`), as its own text.
pub(crate) fn object<'a>(body: &'a [u8], key: &str) -> Result<&'a RawValue, ProviderError> {
    members(body)?
        .remove(key)
        .ok_or_else(|| bad_answer(format!("no `{key}`")))
}

/// RFC 3339 to Unix seconds.
pub(crate) fn unix(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp())
}

/// `YYYY-MM-DD` to Unix seconds of that day's midnight UTC.
pub(crate) fn day(text: &str) -> Option<i64> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
}

fn required<T>(value: Option<T>, field: &str) -> Parsed<T> {
    value.ok_or_else(|| format!("missing required field `{field}`"))
}

fn time(value: Option<Cow<'_, str>>, field: &str) -> Parsed<i64> {
    let text = required(value, field)?;
    unix(&text).ok_or_else(|| format!("`{field}` is not an RFC 3339 time: `{text}`"))
}

/// Square's `Money`: amounts are in the currency's smallest unit, which is ISO 4217's
/// (cents for USD, whole yen for JPY).
#[derive(Deserialize, Clone)]
pub(crate) struct Money<'a> {
    amount: Option<i64>,
    #[serde(borrow)]
    currency: Option<Cow<'a, str>>,
}

impl Money<'_> {
    fn read(&self, field: &str) -> Parsed<(i64, Currency)> {
        let amount = required(self.amount, &format!("{field}.amount"))?;
        let code = required(self.currency.as_deref(), &format!("{field}.currency"))?;
        let currency = Currency::parse(code).map_err(|e| format!("{field}: {e}"))?;
        Ok((amount, currency))
    }
}

fn money(value: Option<Money<'_>>, field: &str) -> Parsed<(i64, Currency)> {
    required(value, field)?.read(field)
}

/// A known status mapped to ours, or `unknown` with a warning (Square adds values over time).
fn status(
    value: Option<Cow<'_, str>>,
    map: fn(&str) -> Option<&'static str>,
    what: &str,
    id: &str,
    warnings: &mut Vec<String>,
) -> Parsed<String> {
    let s = required(value, "status")?;
    Ok(match map(&s) {
        Some(ours) => ours.to_string(),
        None => {
            warnings.push(format!(
                "{what} {id} has an unknown status `{s}`; stored as `unknown`"
            ));
            "unknown".to_string()
        }
    })
}

fn payment_status(s: &str) -> Option<&'static str> {
    Some(match s {
        "COMPLETED" => "succeeded",
        // Authorized and not captured yet, or still processing.
        "APPROVED" | "PENDING" => "pending",
        // Voided authorizations moved no money.
        "CANCELED" | "FAILED" => "failed",
        _ => return None,
    })
}

fn refund_status(s: &str) -> Option<&'static str> {
    Some(match s {
        "PENDING" => "pending",
        "COMPLETED" => "succeeded",
        "REJECTED" | "FAILED" => "failed",
        _ => return None,
    })
}

/// Square's dispute states in the shared vocabulary (Stripe's words; inquiries are
/// `warning_…`, as Stripe calls its pre-dispute inquiries). Accepting a dispute loses it.
fn dispute_status(s: &str) -> Option<&'static str> {
    Some(match s {
        "EVIDENCE_REQUIRED" => "needs_response",
        "PROCESSING" => "under_review",
        "WON" => "won",
        "LOST" | "ACCEPTED" => "lost",
        "INQUIRY_EVIDENCE_REQUIRED" => "warning_needs_response",
        "INQUIRY_PROCESSING" => "warning_under_review",
        "INQUIRY_CLOSED" => "warning_closed",
        _ => return None,
    })
}

fn payout_status(s: &str) -> Option<&'static str> {
    Some(match s {
        "SENT" => "in_transit",
        "PAID" => "paid",
        "FAILED" => "failed",
        _ => return None,
    })
}

fn subscription_status(s: &str) -> Option<&'static str> {
    Some(match s {
        "PENDING" => "pending",
        "ACTIVE" => "active",
        "PAUSED" => "paused",
        // Square deactivates a subscription it cannot bill; it charges no more.
        "CANCELED" | "DEACTIVATED" => "canceled",
        _ => return None,
    })
}

/// Our method family for a payment's `source_type` (and an external payment's own type).
fn payment_method(source_type: &str, external_type: Option<&str>) -> &'static str {
    match source_type {
        "CARD" => "card",
        "CASH" => "cash",
        "WALLET" => "wallet",
        "BANK_ACCOUNT" => "bank_transfer",
        "EXTERNAL" => match external_type {
            Some("BANK_TRANSFER") => "bank_transfer",
            Some("CARD") => "card",
            Some("SQUARE_CASH" | "EMONEY") => "wallet",
            _ => "other",
        },
        _ => "other",
    }
}

// Typed views of the fields Switchboard reads; every field optional so a missing one is
// reported by name.

#[derive(Deserialize, Default)]
struct Head<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    updated_at: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Fee<'a> {
    #[serde(borrow)]
    amount_money: Option<Money<'a>>,
}

#[derive(Deserialize)]
struct Card<'a> {
    #[serde(borrow)]
    cardholder_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CardDetails<'a> {
    #[serde(borrow)]
    card: Option<Card<'a>>,
}

#[derive(Deserialize)]
struct ExternalDetails<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct PaymentFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    amount_money: Option<Money<'a>>,
    #[serde(borrow)]
    tip_money: Option<Money<'a>>,
    #[serde(borrow)]
    total_money: Option<Money<'a>>,
    #[serde(borrow)]
    refunded_money: Option<Money<'a>>,
    #[serde(borrow)]
    processing_fee: Option<Vec<Fee<'a>>>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    card_details: Option<CardDetails<'a>>,
    #[serde(borrow)]
    external_details: Option<ExternalDetails<'a>>,
    #[serde(borrow)]
    customer_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    buyer_email_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    note: Option<Cow<'a, str>>,
}

fn fields<'a, T: Deserialize<'a>>(raw: &'a str) -> Parsed<T> {
    serde_json::from_str(raw).map_err(|e| format!("unreadable object: {e}"))
}

/// One payment (stored verbatim as its raw JSON). The amount is `total_money` (with the tip:
/// what the buyer paid and what a refund is limited by); the fee is the sum of
/// `processing_fee` (initial fee and adjustments) once Square has assessed it.
pub fn payment(raw: &str, warnings: &mut Vec<String>) -> Parsed<PaymentRecord> {
    let o: PaymentFields<'_> = fields(raw)?;
    let id = required(o.id, "id")?;
    let created = time(o.created_at, "created_at")?;
    let (amount, currency) = match o.total_money {
        Some(total) => total.read("total_money")?,
        None => {
            let (amount, currency) = money(o.amount_money, "amount_money")?;
            let tip = match o.tip_money {
                Some(t) => t.read("tip_money")?.0,
                None => 0,
            };
            (amount + tip, currency)
        }
    };
    let refunded = match o.refunded_money {
        Some(r) => same_currency(r.read("refunded_money")?, currency, "refunded_money")?,
        None => 0,
    };
    let fee = match o.processing_fee {
        Some(lines) if !lines.is_empty() => {
            let mut sum = 0;
            for line in lines {
                let read = money(line.amount_money, "processing_fee.amount_money")?;
                sum += same_currency(read, currency, "processing_fee")?;
            }
            Some(sum)
        }
        _ => None,
    };
    let status = status(o.status, payment_status, "Payment", &id, warnings)?;
    let cardholder = o
        .card_details
        .and_then(|d| d.card)
        .and_then(|c| c.cardholder_name)
        .map(Cow::into_owned);
    let email = o.buyer_email_address.map(Cow::into_owned);
    let customer_id = o.customer_id.map(Cow::into_owned);
    let method = o.source_type.as_deref().map(|s| {
        payment_method(
            s,
            o.external_details.as_ref().and_then(|e| e.kind.as_deref()),
        )
        .to_string()
    });
    Ok(PaymentRecord {
        external_id: id.into_owned(),
        amount_minor: amount,
        refunded_minor: refunded,
        currency: currency.code().to_string(),
        currency_exponent: currency.iso_exponent(),
        status,
        customer: cardholder.or_else(|| email.clone()).or(customer_id),
        description: o.note.map(Cow::into_owned),
        balance_transaction_external_id: None,
        created,
        raw_json: raw.to_string(),
        fee_minor: fee,
        net_minor: fee.map(|f| amount - f),
        method,
        customer_email: email,
        // Square takes payments only in the location's own currency and settles them in it
        // (it does not convert currencies for sellers): there is no conversion to record.
        // `approved_money` differs from `amount_money` only for a partial authorization (a
        // card that approved less), still in the same currency, so it is no settlement.
        settlement: None,
    })
}

fn same_currency(read: (i64, Currency), currency: Currency, field: &str) -> Parsed<i64> {
    if read.1 == currency {
        Ok(read.0)
    } else {
        Err(format!("`{field}` is in {} on a {currency} object", read.1))
    }
}

#[derive(Deserialize)]
struct RefundFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    amount_money: Option<Money<'a>>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payment_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
}

/// One payment refund (stored verbatim).
pub fn refund(raw: &str, warnings: &mut Vec<String>) -> Parsed<RefundRecord> {
    let o: RefundFields<'_> = fields(raw)?;
    let id = required(o.id, "id")?;
    let created = time(o.created_at, "created_at")?;
    let (amount, currency) = money(o.amount_money, "amount_money")?;
    let status = status(o.status, refund_status, "Refund", &id, warnings)?;
    Ok(RefundRecord {
        external_id: id.into_owned(),
        payment_external_id: o.payment_id.map(Cow::into_owned),
        amount_minor: amount,
        currency: currency.code().to_string(),
        currency_exponent: currency.iso_exponent(),
        status,
        reason: o.reason.map(Cow::into_owned),
        balance_transaction_external_id: None,
        created,
        raw_json: raw.to_string(),
    })
}

/// A field of a JSON value as text.
fn text<'v>(o: &'v Value, field: &str) -> Option<&'v str> {
    o.get(field).and_then(Value::as_str)
}

fn value_money(o: &Value, field: &str) -> Parsed<(i64, Currency)> {
    let m = o
        .get(field)
        .filter(|m| !m.is_null())
        .ok_or_else(|| format!("missing required field `{field}`"))?;
    let view: Money<'_> =
        Money::deserialize(m).map_err(|e| format!("`{field}` is not Money: {e}"))?;
    view.read(field)
}

fn value_time(o: &Value, field: &str) -> Parsed<i64> {
    let t = text(o, field).ok_or_else(|| format!("missing required field `{field}`"))?;
    unix(t).ok_or_else(|| format!("`{field}` is not an RFC 3339 time: `{t}`"))
}

fn value_of(raw: &str) -> Parsed<Value> {
    let v: Value = serde_json::from_str(raw).map_err(|e| format!("unreadable object: {e}"))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err("not an object".into())
    }
}

fn value_status(
    o: &Value,
    field: &str,
    map: fn(&str) -> Option<&'static str>,
    what: &str,
    id: &str,
    warnings: &mut Vec<String>,
) -> Parsed<String> {
    status(text(o, field).map(Cow::Borrowed), map, what, id, warnings)
}

/// One dispute (stored verbatim).
pub fn dispute(raw: &str, warnings: &mut Vec<String>) -> Parsed<DisputeRecord> {
    let o = value_of(raw)?;
    let id = text(&o, "id")
        .or_else(|| text(&o, "dispute_id"))
        .ok_or("missing required field `id`")?
        .to_string();
    let (amount, currency) = value_money(&o, "amount_money")?;
    let status = value_status(&o, "state", dispute_status, "Dispute", &id, warnings)?;
    Ok(DisputeRecord {
        payment_external_id: o
            .get("disputed_payment")
            .and_then(|p| text(p, "payment_id"))
            .map(str::to_string),
        amount_minor: amount,
        currency: currency.code().to_string(),
        currency_exponent: currency.iso_exponent(),
        status,
        reason: text(&o, "reason").map(str::to_ascii_lowercase),
        evidence_due_by: text(&o, "due_at").and_then(unix),
        created: value_time(&o, "created_at")?,
        external_id: id,
        raw_json: raw.to_string(),
    })
}

/// One payout (stored verbatim).
pub fn payout(raw: &str, warnings: &mut Vec<String>) -> Parsed<PayoutRecord> {
    let o = value_of(raw)?;
    let id = text(&o, "id")
        .ok_or("missing required field `id`")?
        .to_string();
    let (amount, currency) = value_money(&o, "amount_money")?;
    let status = value_status(&o, "status", payout_status, "Payout", &id, warnings)?;
    Ok(PayoutRecord {
        amount_minor: amount,
        currency: currency.code().to_string(),
        currency_exponent: currency.iso_exponent(),
        status,
        arrival_date: text(&o, "arrival_date").and_then(day),
        destination: o
            .get("destination")
            .and_then(|d| text(d, "id"))
            .map(str::to_string),
        created: value_time(&o, "created_at")?,
        external_id: id,
        raw_json: raw.to_string(),
    })
}

/// Our kind of a payout entry's Square activity `type`.
fn entry_kind(activity: &str) -> &'static str {
    match activity {
        "CHARGE" => "charge",
        "REFUND" => "refund",
        "DISPUTE" | "OPEN_DISPUTE" => "dispute",
        "PAYOUT" | "RETURNED_PAYOUT" => "payout",
        a if a.contains("FEE") => "fee",
        a if a.contains("ADJUSTMENT") || a.starts_with("RESERVE_") => "adjustment",
        _ => "other",
    }
}

/// One payout entry (stored verbatim). Its source is what the activity is about: the refund
/// of a `REFUND`, the dispute of a `DISPUTE`, else the payment. `payout_created` stands in for
/// an entry without `effective_at`.
pub fn payout_entry(
    raw: &str,
    payout_created: i64,
    _warnings: &mut Vec<String>,
) -> Parsed<PayoutEntryRecord> {
    let o = value_of(raw)?;
    let id = text(&o, "id")
        .ok_or("missing required field `id`")?
        .to_string();
    let payout_id = text(&o, "payout_id")
        .ok_or("missing required field `payout_id`")?
        .to_string();
    let activity = text(&o, "type").unwrap_or("OTHER");
    let (net, currency) = value_money(&o, "net_amount_money")?;
    let amount_or_zero = |field: &str| -> Parsed<i64> {
        match o.get(field).filter(|m| !m.is_null()) {
            None => Ok(0),
            Some(_) => same_currency(value_money(&o, field)?, currency, field),
        }
    };
    let fee = amount_or_zero("fee_amount_money")?;
    let gross = match o.get("gross_amount_money").filter(|m| !m.is_null()) {
        None => net + fee,
        Some(_) => amount_or_zero("gross_amount_money")?,
    };
    // The `type_*_details` object of the activity (there is one per type).
    let details = o
        .as_object()
        .into_iter()
        .flatten()
        .find(|(k, v)| k.starts_with("type_") && k.ends_with("_details") && v.is_object())
        .map(|(_, v)| v);
    let detail = |field: &str| details.and_then(|d| text(d, field)).map(str::to_string);
    let source = detail("refund_id")
        .or_else(|| detail("dispute_id"))
        .or_else(|| detail("payment_id"));
    Ok(PayoutEntryRecord {
        external_id: id,
        payout_external_id: payout_id,
        kind: entry_kind(activity).to_string(),
        source_external_id: source,
        gross_minor: gross,
        fee_minor: fee,
        net_minor: net,
        currency: currency.code().to_string(),
        currency_exponent: currency.iso_exponent(),
        created: text(&o, "effective_at")
            .and_then(unix)
            .unwrap_or(payout_created),
        raw_json: raw.to_string(),
    })
}

/// One customer profile (stored verbatim).
pub fn customer(raw: &str, _warnings: &mut Vec<String>) -> Parsed<CustomerRecord> {
    let o = value_of(raw)?;
    let id = text(&o, "id")
        .ok_or("missing required field `id`")?
        .to_string();
    let full = [text(&o, "given_name"), text(&o, "family_name")]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let name = Some(full)
        .filter(|n| !n.is_empty())
        .or_else(|| text(&o, "company_name").map(str::to_string))
        .or_else(|| text(&o, "nickname").map(str::to_string));
    Ok(CustomerRecord {
        name,
        email: text(&o, "email_address").map(str::to_string),
        phone: text(&o, "phone_number").map(str::to_string),
        created: value_time(&o, "created_at")?,
        external_id: id,
        raw_json: raw.to_string(),
    })
}

/// One subscription (stored verbatim). Its plan's name, price and cadence live in Square's
/// catalog: the subscriptions stream adds them (`catalog.rs`); here the price is known only
/// when the subscription overrides it.
pub fn subscription(raw: &str, warnings: &mut Vec<String>) -> Parsed<SubscriptionRecord> {
    let o = value_of(raw)?;
    let id = text(&o, "id")
        .ok_or("missing required field `id`")?
        .to_string();
    let status = value_status(
        &o,
        "status",
        subscription_status,
        "Subscription",
        &id,
        warnings,
    )?;
    let price = match o.get("price_override_money").filter(|m| !m.is_null()) {
        Some(_) => Some(value_money(&o, "price_override_money")?),
        None => None,
    };
    let canceled_date = text(&o, "canceled_date");
    let ends = canceled_date.is_some() && status != "canceled";
    Ok(SubscriptionRecord {
        customer_external_id: text(&o, "customer_id").map(str::to_string),
        description: None,
        amount_minor: price.map(|p| p.0),
        currency: price.map(|p| p.1.code().to_string()),
        currency_exponent: price.map(|p| p.1.iso_exponent()),
        interval: None,
        interval_count: None,
        next_charge_at: if status == "canceled" || ends {
            None
        } else {
            text(&o, "charged_through_date").and_then(day)
        },
        cancel_at_period_end: ends,
        created: value_time(&o, "created_at")?,
        status,
        external_id: id,
        raw_json: raw.to_string(),
    })
}

/// The objects of one list page parsed with `parse`; an unusable one is rejected (with its id
/// when it has one). Returns the page's largest `created` or, with `by_updated`, `updated_at`.
pub(crate) fn records(
    items: &[&RawValue],
    parse: impl Fn(&str, &mut Vec<String>) -> Parsed<Record>,
    by_updated: bool,
    page: &mut crate::Page,
) {
    page.fetched += items.len();
    for item in items {
        let raw = item.get();
        let head: Head<'_> = serde_json::from_str(raw).unwrap_or_default();
        let mark = if by_updated {
            head.updated_at.as_deref().and_then(unix)
        } else {
            None
        };
        match parse(raw, &mut page.warnings) {
            Ok(record) => {
                let mark = mark.unwrap_or_else(|| record.created());
                page.max_created = Some(page.max_created.map_or(mark, |m| m.max(mark)));
                page.records.push(record);
            }
            Err(reason) => {
                let at = mark.or_else(|| head.created_at.as_deref().and_then(unix));
                if let Some(at) = at {
                    page.max_created = Some(page.max_created.map_or(at, |m| m.max(at)));
                }
                page.rejected.push(Rejected {
                    external_id: head.id.map(Cow::into_owned),
                    reason,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn card_payment() -> Value {
        json!({
            "id": "bP9mAsEMYPUGjjGNaNO5ZDVyLhSZY",
            "created_at": "2021-10-13T19:34:33.524Z",
            "updated_at": "2021-10-13T19:34:37.261Z",
            "amount_money": {"amount": 555, "currency": "USD"},
            "tip_money": {"amount": 100, "currency": "USD"},
            "total_money": {"amount": 655, "currency": "USD"},
            "refunded_money": {"amount": 200, "currency": "USD"},
            "processing_fee": [
                {"amount_money": {"amount": 34, "currency": "USD"}, "type": "INITIAL"},
                {"amount_money": {"amount": -4, "currency": "USD"}, "type": "ADJUSTMENT"}
            ],
            "status": "COMPLETED",
            "source_type": "CARD",
            "card_details": {"status": "CAPTURED", "card": {"card_brand": "VISA", "last_4": "1111", "cardholder_name": "ADA LOVELACE"}},
            "location_id": "L88917AVBK2S5",
            "buyer_email_address": "ada@example.com",
            "note": "Walnut cutting board"
        })
    }

    #[test]
    fn a_card_payment_keeps_total_fee_net_method_and_email() {
        let mut w = Vec::new();
        let p = payment(&card_payment().to_string(), &mut w).unwrap();
        assert_eq!((p.amount_minor, p.refunded_minor), (655, 200));
        assert_eq!((p.currency.as_str(), p.currency_exponent), ("USD", 2));
        assert_eq!((p.fee_minor, p.net_minor), (Some(30), Some(625)));
        assert_eq!(p.status, "succeeded");
        assert_eq!(p.method.as_deref(), Some("card"));
        assert_eq!(p.customer.as_deref(), Some("ADA LOVELACE"));
        assert_eq!(p.customer_email.as_deref(), Some("ada@example.com"));
        assert_eq!(p.description.as_deref(), Some("Walnut cutting board"));
        assert_eq!(p.created, 1_634_153_673);
        assert!(w.is_empty());
    }

    #[test]
    fn yen_are_whole_units_and_statuses_map_to_ours() {
        let mut w = Vec::new();
        let mut o = card_payment();
        o["total_money"] = json!({"amount": 4500, "currency": "JPY"});
        o["refunded_money"] = json!({"amount": 500, "currency": "JPY"});
        o["processing_fee"] = json!([{"amount_money": {"amount": 146, "currency": "JPY"}}]);
        let p = payment(&o.to_string(), &mut w).unwrap();
        assert_eq!((p.amount_minor, p.currency_exponent), (4500, 0));
        assert_eq!(p.net_minor, Some(4354));
        for (square, ours) in [
            ("APPROVED", "pending"),
            ("PENDING", "pending"),
            ("CANCELED", "failed"),
            ("FAILED", "failed"),
        ] {
            o["status"] = json!(square);
            assert_eq!(payment(&o.to_string(), &mut w).unwrap().status, ours);
        }
        o["status"] = json!("TELEPORTED");
        assert_eq!(payment(&o.to_string(), &mut w).unwrap().status, "unknown");
        assert!(w[0].contains("TELEPORTED"), "{w:?}");
    }

    #[test]
    fn cash_wallet_and_external_payments_name_their_method() {
        let mut w = Vec::new();
        let mut o = card_payment();
        o.as_object_mut().unwrap().remove("processing_fee");
        o.as_object_mut().unwrap().remove("card_details");
        for (source, external, method) in [
            ("CASH", None, "cash"),
            ("WALLET", None, "wallet"),
            ("BANK_ACCOUNT", None, "bank_transfer"),
            ("EXTERNAL", Some("BANK_TRANSFER"), "bank_transfer"),
            ("EXTERNAL", Some("CHECK"), "other"),
            ("BUY_NOW_PAY_LATER", None, "other"),
        ] {
            o["source_type"] = json!(source);
            if let Some(kind) = external {
                o["external_details"] = json!({"type": kind, "source": "x"});
            }
            let p = payment(&o.to_string(), &mut w).unwrap();
            assert_eq!(p.method.as_deref(), Some(method), "{source}");
            assert_eq!((p.fee_minor, p.net_minor), (None, None), "no fee assessed");
            assert_eq!(p.customer.as_deref(), Some("ada@example.com"));
        }
    }

    #[test]
    fn a_malformed_payment_is_rejected_not_the_page() {
        let good = card_payment();
        let mut no_money = card_payment();
        no_money["id"] = json!("no-money");
        no_money.as_object_mut().unwrap().remove("total_money");
        no_money.as_object_mut().unwrap().remove("amount_money");
        let mut wrong_type = card_payment();
        wrong_type["id"] = json!("wrong-type");
        wrong_type["total_money"]["amount"] = json!("655");
        let mut bad_currency = card_payment();
        bad_currency["id"] = json!("bad-fee");
        bad_currency["processing_fee"][0]["amount_money"]["currency"] = json!("EUR");
        let body = json!({"payments": [good, no_money, wrong_type, bad_currency], "cursor": "c1"})
            .to_string();
        let list = list(body.as_bytes(), "payments").unwrap();
        assert_eq!(list.cursor.as_deref(), Some("c1"));
        let mut page = crate::Page::default();
        records(
            &list.items,
            |raw, w| payment(raw, w).map(Record::Payment),
            true,
            &mut page,
        );
        assert_eq!((page.fetched, page.records.len()), (4, 1));
        let rejected: Vec<_> = page
            .rejected
            .iter()
            .map(|r| (r.external_id.as_deref().unwrap(), r.reason.as_str()))
            .collect();
        assert_eq!(rejected[0].0, "no-money");
        assert!(rejected[0].1.contains("amount_money"), "{rejected:?}");
        assert!(rejected[1].1.contains("invalid type"), "{rejected:?}");
        assert!(rejected[2].1.contains("EUR"), "{rejected:?}");
        // The watermark is `updated_at`, and the raw JSON is the provider's own text.
        assert_eq!(page.max_created, Some(1_634_153_677));
        let Some(Record::Payment(p)) = page.records.first() else {
            panic!()
        };
        assert_eq!(
            serde_json::from_str::<Value>(&p.raw_json).unwrap(),
            card_payment()
        );
    }

    #[test]
    fn envelopes_empty_lists_and_errors() {
        let empty = list(b"{}", "payments").unwrap();
        assert!(empty.items.is_empty() && empty.cursor.is_none());
        assert!(list(b"{\"payments\": [", "payments").is_err());
        assert!(list(b"[]", "payments").is_err());
        let errors = br#"{"errors":[{"category":"API_ERROR","code":"INTERNAL_SERVER_ERROR"}]}"#;
        assert!(list(errors, "payments").is_err());
        assert!(object(br#"{"refund":{"id":"r"}}"#, "refund").is_ok());
        assert!(object(br#"{}"#, "refund").is_err());
    }

    #[test]
    fn refunds_disputes_and_payouts() {
        let mut w = Vec::new();
        let r = refund(
            &json!({"id": "p_r1", "status": "COMPLETED", "amount_money": {"amount": 1000, "currency": "USD"},
                "payment_id": "p", "reason": "Returned goods", "created_at": "2021-10-13T21:23:19.116Z"})
            .to_string(),
            &mut w,
        )
        .unwrap();
        assert_eq!((r.status.as_str(), r.amount_minor), ("succeeded", 1000));
        assert_eq!(r.payment_external_id.as_deref(), Some("p"));
        let d = dispute(
            &json!({"id": "d1", "amount_money": {"amount": 2500, "currency": "USD"}, "reason": "NO_KNOWLEDGE",
                "state": "ACCEPTED", "due_at": "2022-07-13T00:00:00.000Z", "disputed_payment": {"payment_id": "p"},
                "created_at": "2022-06-29T18:45:22.265Z"})
            .to_string(),
            &mut w,
        )
        .unwrap();
        assert_eq!(
            (d.status.as_str(), d.reason.as_deref()),
            ("lost", Some("no_knowledge"))
        );
        assert_eq!(d.evidence_due_by, Some(1_657_670_400));
        let p = payout(
            &json!({"id": "po_1", "status": "SENT", "location_id": "L", "amount_money": {"amount": -103, "currency": "USD"},
                "arrival_date": "2022-03-24", "created_at": "2022-03-24T03:07:09Z",
                "destination": {"id": "bact:Z", "type": "BANK_ACCOUNT"}})
            .to_string(),
            &mut w,
        )
        .unwrap();
        assert_eq!((p.status.as_str(), p.amount_minor), ("in_transit", -103));
        assert_eq!(p.arrival_date, Some(1_648_080_000));
        assert_eq!(p.destination.as_deref(), Some("bact:Z"));
        let e = payout_entry(
            &json!({"id": "poe_1", "payout_id": "po_1", "effective_at": "2021-12-14T23:31:49Z", "type": "REFUND",
                "gross_amount_money": {"amount": -50, "currency": "USD"}, "fee_amount_money": {"amount": -2, "currency": "USD"},
                "net_amount_money": {"amount": -48, "currency": "USD"},
                "type_refund_details": {"payment_id": "p", "refund_id": "p_r1"}})
            .to_string(),
            0,
            &mut w,
        )
        .unwrap();
        assert_eq!(
            (e.kind.as_str(), e.source_external_id.as_deref()),
            ("refund", Some("p_r1"))
        );
        assert_eq!((e.gross_minor, e.fee_minor, e.net_minor), (-50, -2, -48));
        assert_eq!(entry_kind("TAX_ON_FEE"), "fee");
        assert_eq!(entry_kind("HOLD_ADJUSTMENT"), "adjustment");
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn customers_and_subscriptions() {
        let mut w = Vec::new();
        let c = customer(
            &json!({"id": "C1", "created_at": "2016-03-23T20:21:54.859Z", "given_name": "Amelia",
                "family_name": "Earhart", "email_address": "amelia@example.com"})
            .to_string(),
            &mut w,
        )
        .unwrap();
        assert_eq!(c.name.as_deref(), Some("Amelia Earhart"));
        let company = customer(
            &json!({"id": "C2", "created_at": "2016-03-23T20:21:54.859Z", "company_name": "Acme"})
                .to_string(),
            &mut w,
        )
        .unwrap();
        assert_eq!(company.name.as_deref(), Some("Acme"));
        let ending = subscription(
            &json!({"id": "s1", "status": "ACTIVE", "customer_id": "C1", "created_at": "2022-01-19T21:53:10Z",
                "charged_through_date": "2023-12-31", "canceled_date": "2023-12-31",
                "price_override_money": {"amount": 1000, "currency": "USD"}})
            .to_string(),
            &mut w,
        )
        .unwrap();
        assert!(ending.cancel_at_period_end);
        assert_eq!(ending.next_charge_at, None);
        assert_eq!(ending.amount_minor, Some(1000));
        let active = subscription(
            &json!({"id": "s2", "status": "ACTIVE", "created_at": "2022-01-19T21:53:10Z",
                "charged_through_date": "2023-12-31"})
            .to_string(),
            &mut w,
        )
        .unwrap();
        assert_eq!(
            (active.status.as_str(), active.cancel_at_period_end),
            ("active", false)
        );
        assert_eq!(active.next_charge_at, Some(1_703_980_800));
        assert_eq!(active.amount_minor, None);
    }
}
