//! Payment requests: a checkout order with intent `CAPTURE`
//! (`POST /v2/checkout/orders`, https://developer.paypal.com/docs/api/orders/v2/#orders_create),
//! whose buyer link is the one to give the customer: `approve`, or `payer-action` when the
//! order names the customer's PayPal email (`payment_source.paypal`, which PayPal answers with
//! `PAYER_ACTION_REQUIRED`). `PayPal-Request-Id` is the item's idempotency key; the outbox id
//! goes in `custom_id`.
//!
//! **Following up** ([`link_progress`](crate::RequestPayments::link_progress),
//! [`complete_link`](crate::RequestPayments::complete_link)): with intent `CAPTURE` PayPal
//! moves no money until the merchant captures the approved order
//! (`POST /v2/checkout/orders/{id}/capture`,
//! https://developer.paypal.com/docs/api/orders/v2/#orders_capture). `GET
//! /v2/checkout/orders/{id}` says where it stands (`CREATED`, `SAVED`, `PAYER_ACTION_REQUIRED`:
//! waiting; `APPROVED`: capture it; `COMPLETED`: captured, the capture is in
//! `purchase_units[0].payments.captures`; `VOIDED`). An approved order left uncaptured is
//! reversed by PayPal (3 hours by default for some payment methods,
//! https://developer.paypal.com/docs/checkout/apm/reference/handle-uncaptured-payments/; the
//! spec's `links` note gives the payer 3 hours to approve and the caller 3 hours to capture),
//! and an order id is valid 29 days
//! (https://developer.paypal.com/api/nvp-soap/troubleshooting/10621/). The capture carries
//! `PayPal-Request-Id` (the outbox item's key, one item per order) and `Prefer:
//! return=representation`, and its answer gives the capture id (the transaction id Transaction
//! Search reports later), status, amount and the seller's fee and net
//! (`seller_receivable_breakdown`). A second capture is 422 `ORDER_ALREADY_CAPTURED`: not an
//! error, the order is read and its capture returned. Any other 422 (`ORDER_NOT_APPROVED`, a
//! voided or expired order) is answered by reading the order too, so the caller learns where it
//! stands instead of a bare refusal.
//!
//! Finding a link after an uncertain send: PayPal cannot search orders, so
//! [`find_payment_link`](crate::RequestPayments::find_payment_link) answers "not found" and the
//! outbox sends again with the same `PayPal-Request-Id`: PayPal answers with the order already
//! made while it keeps the key (6 hours for orders). A send retried after that makes a second,
//! unpaid order; the customer can pay only the link they were given.

use std::borrow::Cow;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::value::RawValue;
use switchboard_core::records::{PaymentRecord, Settlement};

use super::amounts::{stored, to_paypal_value};
use super::fields::{MoneyFields, parse_time};
use super::{Call, PayPalPayments, api_error, unreadable};
use crate::{
    LinkProgress, PaymentLink, PaymentLinkRequest, ProviderError, ProviderErrorKind,
    RequestPayments,
};

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

#[derive(Deserialize)]
struct NameFields<'a> {
    #[serde(borrow)]
    given_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    surname: Option<Cow<'a, str>>,
    #[serde(borrow)]
    full_name: Option<Cow<'a, str>>,
}

impl NameFields<'_> {
    fn text(&self) -> Option<String> {
        if let Some(full) = self.full_name.as_deref().map(str::trim)
            && !full.is_empty()
        {
            return Some(full.to_string());
        }
        let parts: Vec<&str> = [self.given_name.as_deref(), self.surname.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// `payment_source.paypal`, or the deprecated `payer` (the same person).
#[derive(Deserialize)]
struct PersonFields<'a> {
    #[serde(borrow)]
    email_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<NameFields<'a>>,
}

#[derive(Deserialize)]
struct SourceFields<'a> {
    #[serde(borrow)]
    paypal: Option<PersonFields<'a>>,
}

#[derive(Deserialize)]
struct UnitPaymentsFields<'a> {
    #[serde(borrow, default)]
    captures: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct UnitFields<'a> {
    #[serde(borrow)]
    description: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payments: Option<UnitPaymentsFields<'a>>,
}

/// An order as `GET /v2/checkout/orders/{id}` and the capture answer show it.
#[derive(Deserialize)]
struct OrderState<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    purchase_units: Vec<UnitFields<'a>>,
    #[serde(borrow)]
    payment_source: Option<SourceFields<'a>>,
    #[serde(borrow)]
    payer: Option<PersonFields<'a>>,
}

#[derive(Deserialize)]
struct BreakdownFields<'a> {
    #[serde(borrow)]
    paypal_fee: Option<MoneyFields<'a>>,
    #[serde(borrow)]
    net_amount: Option<MoneyFields<'a>>,
    #[serde(borrow)]
    receivable_amount: Option<MoneyFields<'a>>,
}

#[derive(Deserialize)]
struct CaptureFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    amount: Option<MoneyFields<'a>>,
    #[serde(borrow)]
    seller_receivable_breakdown: Option<BreakdownFields<'a>>,
    #[serde(borrow)]
    create_time: Option<Cow<'a, str>>,
}

/// Where the order (its JSON text, the whole representation) stands.
pub(crate) fn order_progress(raw: &str) -> Result<LinkProgress, String> {
    let order: OrderState<'_> = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let id = order.id.as_deref().unwrap_or("?");
    let status = order.status.as_deref().ok_or("no `status`")?;
    Ok(match status {
        "CREATED" | "SAVED" | "PAYER_ACTION_REQUIRED" => LinkProgress::Open {
            status: status.to_string(),
        },
        "APPROVED" => LinkProgress::Approved,
        "VOIDED" => LinkProgress::Expired {
            reason: format!(
                "PayPal voided order {id}: it was not paid in time. Nothing was taken; send the \
                 customer a new payment request."
            ),
        },
        "COMPLETED" => {
            let unit = order.purchase_units.first().ok_or("no `purchase_units`")?;
            let capture = unit
                .payments
                .as_ref()
                .and_then(|p| p.captures.first())
                .ok_or("a COMPLETED order without a capture")?;
            let person = order
                .payment_source
                .as_ref()
                .and_then(|s| s.paypal.as_ref())
                .or(order.payer.as_ref());
            capture_progress(capture.get(), id, unit, person)?
        }
        other => {
            return Err(format!(
                "an order status Switchboard does not know: `{other}`"
            ));
        }
    })
}

/// A capture of order `order_id` as a payment, or why it took no money.
fn capture_progress(
    raw: &str,
    order_id: &str,
    unit: &UnitFields<'_>,
    person: Option<&PersonFields<'_>>,
) -> Result<LinkProgress, String> {
    let c: CaptureFields<'_> = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let id = c.id.as_deref().ok_or("a capture without `id`")?.to_string();
    let status = match c.status.as_deref().unwrap_or_default() {
        // Refunds of a capture are records of their own; the capture itself was paid.
        "COMPLETED" | "PARTIALLY_REFUNDED" | "REFUNDED" => "succeeded",
        "PENDING" => "pending",
        declined @ ("DECLINED" | "FAILED") => {
            return Ok(LinkProgress::Expired {
                reason: format!(
                    "PayPal did not take the customer's payment for order {order_id} (capture \
                     {id} {declined}). Nothing was taken; send the customer a new payment \
                     request."
                ),
            });
        }
        other => return Err(format!("capture {id} has an unknown status `{other}`")),
    };
    let money = c.amount.as_ref().ok_or("a capture without `amount`")?;
    let currency = money.currency("amount")?;
    let amount = money.units_in(currency, "amount")?;
    let breakdown = c.seller_receivable_breakdown.as_ref();
    // Not available for pending captures (the spec): fee and net stay unknown then.
    let fee = breakdown
        .and_then(|b| b.paypal_fee.as_ref())
        .map(|f| f.units_in(currency, "paypal_fee"))
        .transpose()?;
    let net = breakdown
        .and_then(|b| b.net_amount.as_ref())
        .map(|n| n.units_in(currency, "net_amount"))
        .transpose()?;
    let (minor, exponent) = stored(&[amount, fee.unwrap_or(0), net.unwrap_or(0)], currency);
    let settlement = breakdown
        .and_then(|b| b.receivable_amount.as_ref())
        .map(|r| r.stored("receivable_amount"))
        .transpose()?
        .filter(|(_, other, _)| *other != currency)
        .map(|(amount_minor, other, currency_exponent)| Settlement {
            amount_minor,
            currency: other.code().to_string(),
            currency_exponent,
        });
    let text = |t: &Option<Cow<'_, str>>| {
        t.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    Ok(LinkProgress::Paid(Box::new(PaymentRecord {
        external_id: id,
        amount_minor: minor[0],
        refunded_minor: 0,
        currency: currency.code().to_string(),
        currency_exponent: exponent,
        status: status.to_string(),
        customer: person
            .and_then(|p| p.name.as_ref())
            .and_then(NameFields::text),
        description: text(&unit.description),
        balance_transaction_external_id: None,
        created: c
            .create_time
            .as_deref()
            .and_then(parse_time)
            .ok_or("a capture without `create_time`")?,
        raw_json: raw.to_string(),
        fee_minor: fee.map(|_| minor[1]),
        net_minor: net.map(|_| minor[2]),
        method: Some("paypal".to_string()),
        customer_email: person.and_then(|p| text(&p.email_address)),
        settlement,
    })))
}

impl PayPalPayments {
    /// `GET /v2/checkout/orders/{id}`: where the order stands. An order PayPal no longer
    /// knows (404) can no longer be paid.
    async fn show_order(&self, order_id: &str) -> Result<LinkProgress, ProviderError> {
        let answer = self
            .send(
                reqwest::Method::GET,
                &format!("/v2/checkout/orders/{order_id}"),
                &[],
                &[],
                None,
            )
            .await?;
        if answer.status == 404 {
            return Ok(LinkProgress::Expired {
                reason: format!(
                    "PayPal no longer knows order {order_id} (orders last 29 days). Nothing was \
                     taken; send the customer a new payment request."
                ),
            });
        }
        if !(200..300).contains(&answer.status) {
            return Err(api_error(&answer, Call::CreateOrder));
        }
        let raw = std::str::from_utf8(&answer.body).map_err(|e| unreadable(&answer, e))?;
        order_progress(raw).map_err(|e| unreadable(&answer, format!("order {order_id}: {e}")))
    }
}

#[async_trait]
impl RequestPayments for PayPalPayments {
    async fn link_progress(&self, external_id: &str) -> Result<LinkProgress, ProviderError> {
        self.show_order(external_id).await
    }

    async fn complete_link(
        &self,
        external_id: &str,
        idempotency_key: &str,
    ) -> Result<LinkProgress, ProviderError> {
        // The spec's `order_capture_request` is optional; PayPal wants a JSON content type.
        let answer = self
            .send(
                reqwest::Method::POST,
                &format!("/v2/checkout/orders/{external_id}/capture"),
                &[],
                &[
                    ("PayPal-Request-Id", idempotency_key),
                    ("Prefer", "return=representation"),
                ],
                Some(b"{}"),
            )
            .await?;
        if (200..300).contains(&answer.status) {
            let raw = std::str::from_utf8(&answer.body).map_err(|e| unreadable(&answer, e))?;
            return order_progress(raw)
                .map_err(|e| unreadable(&answer, format!("capture of {external_id}: {e}")));
        }
        if matches!(answer.status, 404 | 422) {
            // ORDER_ALREADY_CAPTURED: ours, sent before (its answer lost) or under another
            // key; ORDER_NOT_APPROVED, voided, expired: the order itself says what it is.
            let refusal = api_error(&answer, Call::CreateOrder);
            return match self.show_order(external_id).await? {
                progress @ (LinkProgress::Paid(_) | LinkProgress::Expired { .. }) => Ok(progress),
                LinkProgress::Open { status } => Err(not_approved(external_id, &status, refusal)),
                _ => Err(refusal),
            };
        }
        Err(api_error(&answer, Call::CreateOrder))
    }

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
        // Naming the payer's email or a return page means naming `payment_source.paypal`
        // (the buyer's link is then `payer-action`, not `approve`).
        if request.customer_email.is_some() || request.return_url.is_some() {
            let mut experience = serde_json::json!({
                "user_action": "PAY_NOW",
                "shipping_preference": "NO_SHIPPING",
            });
            if let Some(url) = &request.return_url {
                experience["return_url"] = url.as_str().into();
            }
            let mut paypal = serde_json::json!({ "experience_context": experience });
            if let Some(email) = &request.customer_email {
                paypal["email_address"] = email.as_str().into();
            }
            body["payment_source"] = serde_json::json!({ "paypal": paypal });
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

/// A capture refused because the customer has not approved the order (yet): nothing was
/// taken; the refusal keeps PayPal's code and debug id.
fn not_approved(order_id: &str, status: &str, refusal: ProviderError) -> ProviderError {
    ProviderError {
        kind: ProviderErrorKind::InvalidRequest,
        message: format!(
            "PayPal says the customer has not approved order {order_id} (it is {status}), so \
             nothing was captured. Switchboard captures it once they approve; ask them to open \
             the payment link again if they meant to pay."
        ),
        ..refusal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An order as PayPal's reference shows it after a capture (fields trimmed).
    fn completed(capture_status: &str) -> String {
        serde_json::json!({
            "id": "5O190127TN364715T",
            "status": "COMPLETED",
            "payment_source": {"paypal": {
                "name": {"given_name": "John", "surname": "Doe"},
                "email_address": "customer@example.com",
                "account_id": "QYR5Z8XDVJNXQ",
            }},
            "purchase_units": [{
                "reference_id": "d9f80740-38f0-11e8-b467-0ed5f89f718b",
                "description": "Deposit for the kitchen",
                "payments": {"captures": [{
                    "id": "3C679366HH908993F",
                    "status": capture_status,
                    "amount": {"currency_code": "USD", "value": "100.00"},
                    "seller_receivable_breakdown": {
                        "gross_amount": {"currency_code": "USD", "value": "100.00"},
                        "paypal_fee": {"currency_code": "USD", "value": "3.00"},
                        "net_amount": {"currency_code": "USD", "value": "97.00"},
                    },
                    "create_time": "2018-04-01T21:20:49Z",
                }]},
            }],
        })
        .to_string()
    }

    #[test]
    fn a_completed_order_is_its_capture_with_the_sellers_fee_and_net() {
        let LinkProgress::Paid(p) = order_progress(&completed("COMPLETED")).unwrap() else {
            panic!()
        };
        assert_eq!(p.external_id, "3C679366HH908993F");
        assert_eq!(
            (p.amount_minor, p.currency.as_str(), p.currency_exponent),
            (10_000, "USD", 2)
        );
        assert_eq!((p.fee_minor, p.net_minor), (Some(300), Some(9_700)));
        assert_eq!(p.status, "succeeded");
        assert_eq!(p.customer.as_deref(), Some("John Doe"));
        assert_eq!(p.customer_email.as_deref(), Some("customer@example.com"));
        assert_eq!(p.description.as_deref(), Some("Deposit for the kitchen"));
        assert_eq!(p.created, 1_522_617_649);
        assert!(p.raw_json.contains("3C679366HH908993F") && !p.raw_json.contains("purchase_units"));
        assert_eq!(p.settlement, None);

        let LinkProgress::Paid(p) = order_progress(&completed("PENDING")).unwrap() else {
            panic!()
        };
        assert_eq!(p.status, "pending");
        let LinkProgress::Expired { reason } = order_progress(&completed("DECLINED")).unwrap()
        else {
            panic!()
        };
        assert!(
            reason.contains("DECLINED") && reason.contains("new payment request"),
            "{reason}"
        );
    }

    #[test]
    fn every_order_status_has_an_outcome() {
        let order = |status: &str| format!(r#"{{"id":"X","status":"{status}"}}"#);
        for waiting in ["CREATED", "SAVED", "PAYER_ACTION_REQUIRED"] {
            assert_eq!(
                order_progress(&order(waiting)).unwrap(),
                LinkProgress::Open {
                    status: waiting.to_string()
                }
            );
        }
        assert_eq!(
            order_progress(&order("APPROVED")).unwrap(),
            LinkProgress::Approved
        );
        assert!(matches!(
            order_progress(&order("VOIDED")).unwrap(),
            LinkProgress::Expired { reason } if reason.contains("voided order X")
        ));
        assert!(order_progress(&order("COMPLETED")).is_err(), "no capture");
        assert!(
            order_progress(&order("MYSTERY"))
                .unwrap_err()
                .contains("MYSTERY")
        );
        assert!(order_progress(r#"{"id":"X"}"#).is_err());
    }

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
