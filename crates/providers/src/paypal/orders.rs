//! Payment requests: a checkout order with intent `CAPTURE`
//! (`POST /v2/checkout/orders`, https://developer.paypal.com/docs/api/orders/v2/#orders_create),
//! whose buyer link is the one to give the customer: `approve`, or `payer-action` when the
//! order names the customer's PayPal email (`payment_source.paypal`, which PayPal answers with
//! `PAYER_ACTION_REQUIRED`). `PayPal-Request-Id` is the item's idempotency key; the outbox id
//! goes in `custom_id`.
//!
//! Capturing the approved order is not part of this (a webhook or the merchant does it);
//! PayPal lets an order be approved for 3 hours by default.
//!
//! Finding a link after an uncertain send: PayPal cannot search orders, so
//! [`find_payment_link`](crate::RequestPayments::find_payment_link) answers "not found" and the
//! outbox sends again with the same `PayPal-Request-Id`: PayPal answers with the order already
//! made while it keeps the key (6 hours for orders). A send retried after that makes a second,
//! unpaid order; the customer can pay only the link they were given.

use std::borrow::Cow;

use async_trait::async_trait;
use serde::Deserialize;

use super::amounts::to_paypal_value;
use super::{Call, PayPalPayments, api_error, unreadable};
use crate::{PaymentLink, PaymentLinkRequest, ProviderError, RequestPayments};

/// PayPal's limit on `purchase_units[].description`.
const DESCRIPTION_MAX: usize = 127;

#[derive(Deserialize)]
struct Link<'a> {
    #[serde(borrow)]
    href: Option<Cow<'a, str>>,
    #[serde(borrow)]
    rel: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct OrderFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    links: Vec<Link<'a>>,
}

/// The order's id and the link the buyer follows.
pub(crate) fn buyer_link(raw: &str) -> Result<(String, String), String> {
    let order: OrderFields<'_> = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let id = order.id.as_deref().ok_or("no `id`")?.to_string();
    let url = ["payer-action", "approve"]
        .iter()
        .find_map(|rel| {
            order
                .links
                .iter()
                .find(|l| l.rel.as_deref() == Some(rel))
                .and_then(|l| l.href.as_deref())
        })
        .ok_or("no `approve` or `payer-action` link")?
        .to_string();
    Ok((id, url))
}

#[async_trait]
impl RequestPayments for PayPalPayments {
    async fn create_payment_link(
        &self,
        request: &PaymentLinkRequest,
    ) -> Result<PaymentLink, ProviderError> {
        let value = to_paypal_value(
            request.amount_minor,
            &request.currency,
            request.currency_exponent,
        )?;
        let description: String = request.description.chars().take(DESCRIPTION_MAX).collect();
        let mut body = serde_json::json!({
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": request.outbox_id,
                "custom_id": request.outbox_id,
                "description": description,
                "amount": {
                    "currency_code": request.currency.to_ascii_uppercase(),
                    "value": value,
                },
            }],
        });
        if let Some(email) = &request.customer_email {
            body["payment_source"] = serde_json::json!({"paypal": {
                "email_address": email,
                "experience_context": {
                    "user_action": "PAY_NOW",
                    "shipping_preference": "NO_SHIPPING",
                },
            }});
        }
        let body = body.to_string();
        let answer = self
            .send(
                reqwest::Method::POST,
                "/v2/checkout/orders",
                &[],
                &[
                    ("PayPal-Request-Id", request.idempotency_key.as_str()),
                    ("Prefer", "return=representation"),
                ],
                Some(body.as_bytes()),
            )
            .await?;
        if !(200..300).contains(&answer.status) {
            return Err(api_error(&answer, Call::CreateOrder));
        }
        let raw = std::str::from_utf8(&answer.body).map_err(|e| unreadable(&answer, e))?;
        let (external_id, url) =
            buyer_link(raw).map_err(|e| unreadable(&answer, format!("order: {e}")))?;
        Ok(PaymentLink {
            external_id,
            url,
            raw_json: raw.to_string(),
            request_id: answer.request_id,
        })
    }

    /// Always "not found": the outbox then resends with the same `PayPal-Request-Id` (see the
    /// module notes).
    async fn find_payment_link(
        &self,
        _outbox_id: &str,
    ) -> Result<Option<PaymentLink>, ProviderError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buyer_link_is_payer_action_or_approve() {
        let approve = r#"{"id":"5O190127TN364715T","status":"CREATED","links":[
            {"href":"https://api-m.paypal.com/v2/checkout/orders/5O190127TN364715T","rel":"self","method":"GET"},
            {"href":"https://www.paypal.com/checkoutnow?token=5O190127TN364715T","rel":"approve","method":"GET"}]}"#;
        assert_eq!(
            buyer_link(approve).unwrap(),
            (
                "5O190127TN364715T".to_string(),
                "https://www.paypal.com/checkoutnow?token=5O190127TN364715T".to_string()
            )
        );
        let action = r#"{"id":"X","links":[{"href":"https://p/a","rel":"payer-action"}]}"#;
        assert_eq!(buyer_link(action).unwrap().1, "https://p/a");
        assert!(buyer_link(r#"{"id":"X","links":[]}"#).is_err());
    }
}
