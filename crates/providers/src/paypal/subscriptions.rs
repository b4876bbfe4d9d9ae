//! Subscriptions v1: `GET /v1/billing/subscriptions/{id}` and
//! `POST /v1/billing/subscriptions/{id}/cancel` (https://developer.paypal.com/docs/api/subscriptions/v1/).
//!
//! PayPal has no call that lists subscriptions: Switchboard learns of one from its payments
//! (`T0002` in Transaction Search, `paypal_reference_id` = the subscription) and reads it then,
//! once per sync. Cancelling ends a PayPal subscription at once (status `CANCELLED`, no more
//! billing): PayPal has no "at the end of the period", so the record returned is cancelled, not
//! "cancels at period end", and the reason PayPal keeps says so. The plan's name, regular
//! price and billing interval come from the plan (`plans.rs`, read once per plan); until then,
//! or for a plan PayPal no longer has, `description` is the plan id and the amount is the
//! last payment's.

use std::borrow::Cow;

use async_trait::async_trait;
use serde::Deserialize;
use switchboard_core::records::SubscriptionRecord;

use super::fields::{MoneyFields, parse_time};
use super::{Call, ErrorBody, PayPalPayments, api_error, unreadable};
use crate::{ManageSubscriptions, Page, ProviderError, Record};

/// What PayPal keeps as the reason of a cancel (at most 128 characters).
const CANCEL_REASON: &str =
    "Cancelled by the merchant in Switchboard. PayPal ends subscriptions at once.";

#[derive(Deserialize)]
struct LastPayment<'a> {
    #[serde(borrow)]
    amount: Option<MoneyFields<'a>>,
}

#[derive(Deserialize)]
struct BillingInfo<'a> {
    #[serde(borrow)]
    last_payment: Option<LastPayment<'a>>,
    #[serde(borrow)]
    next_billing_time: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Subscriber<'a> {
    #[serde(borrow)]
    payer_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct SubscriptionFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    plan_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    subscriber: Option<Subscriber<'a>>,
    #[serde(borrow)]
    billing_info: Option<BillingInfo<'a>>,
    #[serde(borrow)]
    create_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    start_time: Option<Cow<'a, str>>,
}

/// PayPal's subscription status in Switchboard's words (an expired subscription ran its
/// cycles and charges no more: `canceled`).
fn status(paypal: &str) -> &'static str {
    match paypal {
        "ACTIVE" => "active",
        "APPROVAL_PENDING" | "APPROVED" => "pending",
        "SUSPENDED" => "paused",
        "CANCELLED" | "EXPIRED" => "canceled",
        _ => "unknown",
    }
}

/// A subscription object (its raw JSON text) as a record.
pub(crate) fn parse_subscription(raw: &str) -> Result<SubscriptionRecord, String> {
    let s: SubscriptionFields<'_> = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let id = s.id.as_deref().ok_or("no `id`")?.to_string();
    let paypal_status = s.status.as_deref().unwrap_or_default();
    let created = s
        .create_time
        .as_deref()
        .or(s.start_time.as_deref())
        .and_then(parse_time)
        .ok_or("no `create_time`")?;
    let billing = s.billing_info.as_ref();
    let last = billing
        .and_then(|b| b.last_payment.as_ref())
        .and_then(|l| l.amount.as_ref());
    let (amount_minor, currency, currency_exponent) = match last {
        Some(m) => {
            let (minor, currency, exponent) = m.stored("last payment")?;
            (
                Some(minor),
                Some(currency.code().to_string()),
                Some(exponent),
            )
        }
        None => (None, None, None),
    };
    Ok(SubscriptionRecord {
        external_id: id,
        customer_external_id: s
            .subscriber
            .as_ref()
            .and_then(|p| p.payer_id.as_deref())
            .map(str::to_string),
        status: status(paypal_status).to_string(),
        description: s.plan_id.as_deref().map(|p| format!("PayPal plan {p}")),
        amount_minor,
        currency,
        currency_exponent,
        interval: None,
        interval_count: None,
        next_charge_at: billing
            .and_then(|b| b.next_billing_time.as_deref())
            .and_then(parse_time),
        cancel_at_period_end: false,
        created,
        raw_json: raw.to_string(),
    })
}

impl PayPalPayments {
    /// The subscription `id`, or `None` when PayPal does not know it.
    async fn read_subscription(
        &self,
        id: &str,
    ) -> Result<Option<SubscriptionRecord>, ProviderError> {
        let path = format!("/v1/billing/subscriptions/{id}");
        let answer = self
            .send(reqwest::Method::GET, &path, &[], &[], None)
            .await?;
        if answer.status == 404 {
            return Ok(None);
        }
        if !(200..300).contains(&answer.status) {
            return Err(api_error(&answer, Call::ShowSubscription));
        }
        let raw = std::str::from_utf8(&answer.body).map_err(|e| unreadable(&answer, e))?;
        let mut record = parse_subscription(raw)
            .map_err(|e| unreadable(&answer, format!("subscription {id}: {e}")))?;
        self.add_plan(&mut record).await?;
        Ok(Some(record))
    }

    /// Adds the subscriptions of a page's subscription payments not yet read in this sync.
    /// They count as read only once the whole page is in hand (a failed page is fetched again,
    /// its subscriptions with it).
    pub(crate) async fn add_subscriptions(
        &self,
        ids: &[String],
        page: &mut Page,
    ) -> Result<(), ProviderError> {
        let unread: Vec<&String> = {
            let read = self
                .subscriptions_read
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            ids.iter().filter(|id| !read.contains(*id)).collect()
        };
        for id in &unread {
            match self.read_subscription(id).await? {
                Some(record) => page.records.push(Record::Subscription(record)),
                None => page.warnings.push(format!(
                    "PayPal does not know subscription {id}, which payments on this page name."
                )),
            }
        }
        self.subscriptions_read
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(unread.into_iter().cloned());
        Ok(())
    }
}

#[async_trait]
impl ManageSubscriptions for PayPalPayments {
    /// PayPal cannot end a subscription at the end of its period: this cancels it now (see the
    /// module notes). Cancelling one already cancelled is no error: it is returned as it is.
    async fn cancel_at_period_end(
        &self,
        subscription_external_id: &str,
        _idempotency_key: &str,
    ) -> Result<SubscriptionRecord, ProviderError> {
        let id = subscription_external_id;
        let body = serde_json::json!({ "reason": CANCEL_REASON }).to_string();
        let answer = self
            .send(
                reqwest::Method::POST,
                &format!("/v1/billing/subscriptions/{id}/cancel"),
                &[],
                &[],
                Some(body.as_bytes()),
            )
            .await?;
        let already = answer.status == 422
            && ErrorBody::of(&answer).code().as_deref() == Some("SUBSCRIPTION_STATUS_INVALID");
        if !(200..300).contains(&answer.status) && !already {
            return Err(api_error(&answer, Call::CancelSubscription));
        }
        let record = self.read_subscription(id).await?.ok_or_else(|| {
            ProviderError::new(
                crate::ProviderErrorKind::BadResponse,
                format!("PayPal cancelled subscription {id} but then did not find it."),
            )
        })?;
        if already && record.status != "canceled" {
            // Not a repeat: PayPal refused to cancel a subscription in this state.
            return Err(api_error(&answer, Call::CancelSubscription));
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_subscription_reads_with_its_last_payment_and_next_billing() {
        let raw = json!({
            "id": "I-BW452GLLEP1G", "plan_id": "P-5ML4271244454362WXNWU5NQ", "status": "ACTIVE",
            "subscriber": {"payer_id": "2J6QB8YJQSJRJ", "email_address": "a@example.com"},
            "billing_info": {
                "outstanding_balance": {"currency_code": "JPY", "value": "0"},
                "last_payment": {"amount": {"currency_code": "JPY", "value": "1500"},
                                 "time": "2024-05-01T10:00:00Z"},
                "next_billing_time": "2024-05-31T10:00:00Z",
                "failed_payments_count": 0},
            "create_time": "2024-01-01T10:00:00Z"})
        .to_string();
        let s = parse_subscription(&raw).unwrap();
        assert_eq!(s.status, "active");
        assert_eq!(
            (s.amount_minor, s.currency.as_deref(), s.currency_exponent),
            (Some(1500), Some("JPY"), Some(0))
        );
        assert_eq!(s.next_charge_at, Some(1_717_149_600));
        assert_eq!(s.customer_external_id.as_deref(), Some("2J6QB8YJQSJRJ"));
        assert!(!s.cancel_at_period_end);
        assert_eq!(s.raw_json, raw);
        assert_eq!(status("CANCELLED"), "canceled");
        assert_eq!(status("SUSPENDED"), "paused");
        assert!(CANCEL_REASON.len() <= 128);
    }
}
