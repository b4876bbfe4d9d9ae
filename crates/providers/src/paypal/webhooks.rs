//! Verifying a webhook delivery with PayPal: `POST /v1/notifications/verify-webhook-signature`
//! (https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature_post).
//!
//! A delivery carries `PAYPAL-AUTH-ALGO`, `PAYPAL-CERT-URL`, `PAYPAL-TRANSMISSION-ID`,
//! `PAYPAL-TRANSMISSION-SIG` and `PAYPAL-TRANSMISSION-TIME`; PayPal checks them against the
//! webhook's id (the app's webhook that received it) and the event, and answers
//! `{"verification_status": "SUCCESS" | "FAILURE"}`. The event goes back exactly as it was
//! delivered (its bytes, not a re-serialised copy): the signature covers the body, and a
//! re-encoding that changes a number's or a string's spelling would fail it.

use async_trait::async_trait;
use serde::Serialize;
use serde_json::value::RawValue;

use super::fields::parse_time;
use super::{Call, PayPalPayments, api_error, unreadable};
use crate::webhooks::{EventSummary, PayPalTransmission, VerifyPayPalWebhook};
use crate::{ProviderError, ProviderErrorKind};

#[derive(Serialize)]
struct VerifyRequest<'a> {
    auth_algo: &'a str,
    cert_url: &'a str,
    transmission_id: &'a str,
    transmission_sig: &'a str,
    transmission_time: &'a str,
    webhook_id: &'a str,
    webhook_event: &'a RawValue,
}

#[async_trait]
impl VerifyPayPalWebhook for PayPalPayments {
    /// A body that is not JSON is no PayPal event: `false` without asking.
    async fn verify_webhook(
        &self,
        webhook_id: &str,
        headers: &PayPalTransmission,
        event_body: &[u8],
    ) -> Result<bool, ProviderError> {
        let Ok(event) = serde_json::from_slice::<&RawValue>(event_body) else {
            return Ok(false);
        };
        let body = serde_json::to_vec(&VerifyRequest {
            auth_algo: &headers.auth_algo,
            cert_url: &headers.cert_url,
            transmission_id: &headers.transmission_id,
            transmission_sig: &headers.transmission_sig,
            transmission_time: &headers.transmission_time,
            webhook_id,
            webhook_event: event,
        })
        .map_err(|e| ProviderError::new(ProviderErrorKind::InvalidRequest, e.to_string()))?;
        let answer = self
            .send(
                reqwest::Method::POST,
                "/v1/notifications/verify-webhook-signature",
                &[],
                &[],
                Some(&body),
            )
            .await?;
        if !(200..300).contains(&answer.status) {
            return Err(api_error(&answer, Call::VerifyWebhook));
        }
        #[derive(serde::Deserialize)]
        struct Verdict {
            verification_status: Option<String>,
        }
        let verdict: Verdict =
            serde_json::from_slice(&answer.body).map_err(|e| unreadable(&answer, e))?;
        match verdict.verification_status.as_deref() {
            Some("SUCCESS") => Ok(true),
            Some("FAILURE") => Ok(false),
            other => Err(unreadable(
                &answer,
                format!("verification_status {other:?}"),
            )),
        }
    }
}

/// A PayPal event's id (`WH-…`), type and creation time (`create_time`), from a verified
/// body (https://developer.paypal.com/api/rest/webhooks/event-names/ shows the envelope).
pub fn webhook_event_summary(body: &[u8]) -> Option<EventSummary> {
    #[derive(serde::Deserialize)]
    struct Event {
        id: String,
        event_type: Option<String>,
        create_time: Option<String>,
    }
    let event: Event = serde_json::from_slice(body).ok()?;
    Some(EventSummary {
        created: event.create_time.as_deref().and_then(parse_time),
        id: event.id,
        event_type: event.event_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_in_any_case_and_a_missing_one_is_named() {
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in [
            ("PAYPAL-AUTH-ALGO", "SHA256withRSA"),
            (
                "Paypal-Cert-Url",
                "https://api.paypal.com/v1/notifications/certs/CERT-1",
            ),
            (
                "paypal-transmission-id",
                "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
            ),
            (
                "paypal-transmission-sig",
                "lmI95Jx3Y9nhR5SJWlHVIWpg4AgFk7n9bCHSRxbrd8A9zrhdu2",
            ),
        ] {
            map.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let read = |map: &reqwest::header::HeaderMap| {
            PayPalTransmission::from_headers(|name| map.get(name).and_then(|v| v.to_str().ok()))
        };
        let err = read(&map).unwrap_err();
        assert_eq!(
            err,
            crate::webhooks::WebhookError::MissingSignature {
                header: "PAYPAL-TRANSMISSION-TIME"
            }
        );
        map.insert(
            "paypal-transmission-time",
            "2016-02-18T20:01:35Z".parse().unwrap(),
        );
        let h = read(&map).unwrap();
        assert_eq!(h.auth_algo, "SHA256withRSA");
        assert_eq!(h.transmission_time, "2016-02-18T20:01:35Z");
    }

    #[test]
    fn an_event_summary_has_its_id_type_and_time() {
        let body = br#"{"id":"WH-2WR32451HC0233532-67976317FL4543714","create_time":"2024-05-01T10:00:00.000Z","event_type":"PAYMENT.CAPTURE.REFUNDED","resource":{}}"#;
        let s = webhook_event_summary(body).unwrap();
        assert_eq!(s.id, "WH-2WR32451HC0233532-67976317FL4543714");
        assert_eq!(s.event_type.as_deref(), Some("PAYMENT.CAPTURE.REFUNDED"));
        assert_eq!(s.created, Some(1_714_557_600));
        assert_eq!(webhook_event_summary(br#"{"event_type":"X"}"#), None);
    }
}
