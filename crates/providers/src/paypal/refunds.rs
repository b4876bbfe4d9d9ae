//! Refunds: `POST /v2/payments/captures/{capture_id}/refund`
//! (https://developer.paypal.com/docs/api/payments/v2/#captures_refund).
//!
//! The body names the amount (a partial or full refund) and carries the outbox item id as
//! `custom_id` ("the API caller-provided external ID", shown in PayPal's reports); the
//! `PayPal-Request-Id` header is the item's idempotency key. PayPal keeps those keys for 45
//! days and answers a repeated request with the refund the first one made, refunding nothing
//! more.
//!
//! Finding a refund after an uncertain send: PayPal has no call that lists a capture's refunds
//! or finds one by `custom_id`, and Transaction Search shows a refund only up to hours later.
//! So [`find_refund`](crate::IssueRefunds::find_refund) answers "not found", and the outbox
//! sends the refund again with the same `PayPal-Request-Id`: PayPal then returns the refund
//! already made instead of making a second one. That holds while PayPal keeps the key (45
//! days), far longer than the outbox retries.

use std::borrow::Cow;

use async_trait::async_trait;
use serde::Deserialize;
use switchboard_core::records::RefundRecord;

use super::amounts::to_paypal_value;
use super::fields::{MoneyFields, parse_time};
use super::{Call, PayPalPayments, api_error, unreadable};
use crate::{IssueRefunds, IssuedRefund, ProviderError, RefundRequest};

#[derive(Deserialize)]
struct RefundFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    amount: Option<MoneyFields<'a>>,
    #[serde(borrow)]
    create_time: Option<Cow<'a, str>>,
}

/// A Payments v2 refund (its raw JSON text) of capture `capture_id` as a record.
pub(crate) fn parse_refund(
    raw: &str,
    capture_id: &str,
    reason: Option<String>,
) -> Result<RefundRecord, String> {
    let r: RefundFields<'_> = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let id = r.id.as_deref().ok_or("no `id`")?.to_string();
    let (minor, currency, exponent) = r.amount.as_ref().ok_or("no `amount`")?.stored("amount")?;
    Ok(RefundRecord {
        external_id: id,
        payment_external_id: Some(capture_id.to_string()),
        amount_minor: minor,
        currency: currency.code().to_string(),
        currency_exponent: exponent,
        status: match r.status.as_deref().unwrap_or_default() {
            "COMPLETED" => "succeeded",
            "PENDING" => "pending",
            "FAILED" => "failed",
            "CANCELLED" => "canceled",
            _ => "unknown",
        }
        .to_string(),
        reason,
        balance_transaction_external_id: None,
        created: r
            .create_time
            .as_deref()
            .and_then(parse_time)
            .ok_or("no `create_time`")?,
        raw_json: raw.to_string(),
    })
}

#[async_trait]
impl IssueRefunds for PayPalPayments {
    async fn create_refund(&self, request: &RefundRequest) -> Result<IssuedRefund, ProviderError> {
        let value = to_paypal_value(
            request.amount_minor,
            &request.currency,
            request.currency_exponent,
        )?;
        let body = serde_json::json!({
            "amount": {"currency_code": request.currency.to_ascii_uppercase(), "value": value},
            "custom_id": request.outbox_id,
        })
        .to_string();
        let capture = &request.payment_external_id;
        let answer = self
            .send(
                reqwest::Method::POST,
                &format!("/v2/payments/captures/{capture}/refund"),
                &[],
                &[
                    ("PayPal-Request-Id", request.idempotency_key.as_str()),
                    ("Prefer", "return=representation"),
                ],
                Some(body.as_bytes()),
            )
            .await?;
        if !(200..300).contains(&answer.status) {
            return Err(api_error(&answer, Call::Refund));
        }
        let raw = std::str::from_utf8(&answer.body).map_err(|e| unreadable(&answer, e))?;
        let refund = parse_refund(raw, capture, request.reason.clone())
            .map_err(|e| unreadable(&answer, format!("refund: {e}")))?;
        Ok(IssuedRefund {
            refund,
            // A capture's refunded total is not a field of PayPal's capture; the refund row
            // is what records it.
            payment: None,
            request_id: answer.request_id,
        })
    }

    /// Always "not found": the outbox then resends with the same `PayPal-Request-Id`, which
    /// PayPal answers with the refund already made (see the module notes).
    async fn find_refund(
        &self,
        _payment_external_id: &str,
        _outbox_id: &str,
    ) -> Result<Option<IssuedRefund>, ProviderError> {
        Ok(None)
    }
}
