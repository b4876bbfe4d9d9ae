//! Payment requests and subscription cancels: writes sent with the outbox item's
//! `Idempotency-Key`, so a resend never acts twice.
//!
//! **A payment request is a Checkout Session** (`POST /v1/checkout/sessions`, `mode=payment`),
//! not a Payment Link. A quote or a deposit is one payment from one customer: a session takes
//! the amount inline (`line_items[0][price_data]`, one request, no Product and Price left in the
//! merchant's catalogue per quote), can be paid once only, prefills the customer's email
//! (`customer_email`) and carries our outbox id in `metadata` and on the payment it creates
//! (`payment_intent_data[metadata]`). A Payment Link needs a Price made first (a second write),
//! stays payable by anyone until deactivated (a deposit could be paid twice) and cannot prefill
//! the email through the API. What a session costs: it expires (24 hours at most, the default
//! used here; a new request makes a new link), and this API version requires a `success_url`
//! ([`DEFAULT_SUCCESS_URL`] unless the request names the business's own page).

use super::{
    PAGE_LIMIT, Stripe, bad_object, bad_shape, is_object_id, parse_subscription_raw,
    to_stripe_amount,
};
use crate::http::transport_error;
use crate::{
    ManageSubscriptions, OUTBOX_METADATA_KEY, PaymentLink, PaymentLinkRequest, ProviderError,
    ProviderErrorKind, RequestPayments,
};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use switchboard_core::records::SubscriptionRecord;

/// Where Stripe sends the customer after paying, unless the request names the business's own
/// page (`PaymentLinkRequest::return_url`): Stripe's receipt email is what the customer keeps;
/// this page only has to exist.
pub const DEFAULT_SUCCESS_URL: &str = "https://stripe.com/";

/// How many pages of recent Checkout Sessions (100 each) a look-up reads before giving up.
const LOOKUP_PAGES: usize = 10;

#[derive(Deserialize)]
struct SessionHead<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    url: Option<Cow<'a, str>>,
    metadata: Option<std::collections::HashMap<String, String>>,
}

#[derive(Deserialize)]
struct SessionList<'a> {
    #[serde(borrow)]
    data: Option<Vec<&'a RawValue>>,
    has_more: Option<bool>,
}

/// A Checkout Session's JSON text as a [`PaymentLink`].
fn payment_link(raw: &str, request_id: Option<String>) -> Result<PaymentLink, ProviderError> {
    let head: SessionHead<'_> =
        serde_json::from_str(raw).map_err(|e| bad_object("Checkout Session", &e.to_string()))?;
    let id = head
        .id
        .ok_or_else(|| bad_object("Checkout Session", "no `id`"))?;
    let url = head
        .url
        .ok_or_else(|| bad_object("Checkout Session", "no `url` to give the customer"))?;
    Ok(PaymentLink {
        external_id: id.into_owned(),
        url: url.into_owned(),
        raw_json: raw.to_string(),
        request_id,
    })
}

#[async_trait]
impl RequestPayments for Stripe {
    async fn create_payment_link(
        &self,
        r: &PaymentLinkRequest,
    ) -> Result<PaymentLink, ProviderError> {
        let amount = to_stripe_amount(r.amount_minor, &r.currency, r.currency_exponent)?;
        if amount <= 0 {
            return Err(ProviderError::new(
                ProviderErrorKind::InvalidRequest,
                "A payment request needs an amount above zero.",
            ));
        }
        let metadata_key = format!("metadata[{OUTBOX_METADATA_KEY}]");
        let intent_metadata_key = format!("payment_intent_data[metadata][{OUTBOX_METADATA_KEY}]");
        let mut form: Vec<(&str, String)> = vec![
            ("mode", "payment".into()),
            (
                "line_items[0][price_data][currency]",
                r.currency.to_ascii_lowercase(),
            ),
            ("line_items[0][price_data][unit_amount]", amount.to_string()),
            (
                "line_items[0][price_data][product_data][name]",
                r.description.clone(),
            ),
            ("line_items[0][quantity]", "1".into()),
            (
                "success_url",
                r.return_url
                    .as_deref()
                    .unwrap_or(DEFAULT_SUCCESS_URL)
                    .into(),
            ),
            (&metadata_key, r.outbox_id.clone()),
            (&intent_metadata_key, r.outbox_id.clone()),
        ];
        if let Some(email) = &r.customer_email {
            form.push(("customer_email", email.clone()));
        }
        let request = self
            .client
            .post(format!("{}/v1/checkout/sessions", self.api_base))
            .bearer_auth(self.api_key.expose())
            .header("Stripe-Version", super::API_VERSION)
            .header("Idempotency-Key", &r.idempotency_key)
            .form(&form)
            .build()
            .map_err(|e| transport_error("Stripe", e))?;
        let (body, request_id) = self
            .send(request, "to request payments (Checkout Sessions: write)")
            .await?;
        let text = std::str::from_utf8(&body)
            .map_err(|e| bad_object("Checkout Session", &e.to_string()))?;
        payment_link(text, request_id)
    }

    async fn find_payment_link(
        &self,
        outbox_id: &str,
    ) -> Result<Option<PaymentLink>, ProviderError> {
        let mut after: Option<String> = None;
        for _ in 0..LOOKUP_PAGES {
            let mut query = vec![("limit", PAGE_LIMIT.to_string())];
            if let Some(a) = &after {
                query.push(("starting_after", a.clone()));
            }
            let (body, request_id) = self.get_bytes("/v1/checkout/sessions", &query).await?;
            let list: SessionList<'_> =
                serde_json::from_slice(&body).map_err(|e| super::unreadable(e, &request_id))?;
            let data = list.data.ok_or_else(|| bad_shape("no `data` array"))?;
            for raw in &data {
                let head: SessionHead<'_> = serde_json::from_str(raw.get())
                    .map_err(|e| bad_object("Checkout Session", &e.to_string()))?;
                let ours = head
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get(OUTBOX_METADATA_KEY))
                    .is_some_and(|v| v == outbox_id);
                if ours {
                    return payment_link(raw.get(), request_id).map(Some);
                }
                after = head.id.map(Cow::into_owned);
            }
            if list.has_more != Some(true) || after.is_none() {
                return Ok(None);
            }
        }
        Err(ProviderError::new(
            ProviderErrorKind::BadResponse,
            format!(
                "Stripe holds more than {} recent Checkout Sessions; Switchboard could not check whether this payment request was already made.",
                LOOKUP_PAGES * PAGE_LIMIT as usize
            ),
        ))
    }
}

#[async_trait]
impl ManageSubscriptions for Stripe {
    async fn cancel_at_period_end(
        &self,
        subscription_external_id: &str,
        idempotency_key: &str,
    ) -> Result<SubscriptionRecord, ProviderError> {
        if !is_object_id(subscription_external_id) {
            return Err(ProviderError::new(
                ProviderErrorKind::InvalidRequest,
                format!("`{subscription_external_id}` is not a Stripe subscription id (sub_…)."),
            ));
        }
        let request = self
            .client
            .post(format!(
                "{}/v1/subscriptions/{subscription_external_id}",
                self.api_base
            ))
            .bearer_auth(self.api_key.expose())
            .header("Stripe-Version", super::API_VERSION)
            .header("Idempotency-Key", idempotency_key)
            .form(&[("cancel_at_period_end", "true")])
            .build()
            .map_err(|e| transport_error("Stripe", e))?;
        let (body, _) = self
            .send(request, "to change subscriptions (Subscriptions: write)")
            .await?;
        let text =
            std::str::from_utf8(&body).map_err(|e| bad_object("subscription", &e.to_string()))?;
        let mut warnings = Vec::new();
        parse_subscription_raw(text, &mut warnings).map_err(|e| bad_object("subscription", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_without_a_url_is_not_a_link() {
        let ok = payment_link(
            r#"{"id":"cs_1","url":"https://checkout.stripe.com/c/pay/cs_1"}"#,
            None,
        )
        .unwrap();
        assert_eq!(ok.external_id, "cs_1");
        assert!(payment_link(r#"{"id":"cs_1","url":null}"#, None).is_err());
    }
}
