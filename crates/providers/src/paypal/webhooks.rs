//! Verifying a webhook delivery with PayPal: `POST /v1/notifications/verify-webhook-signature`
//! (https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature_post).
//!
//! A delivery carries `PAYPAL-AUTH-ALGO`, `PAYPAL-CERT-URL`, `PAYPAL-TRANSMISSION-ID`,
//! `PAYPAL-TRANSMISSION-SIG` and `PAYPAL-TRANSMISSION-TIME`; PayPal checks them against the
//! webhook's id (the app's webhook that received it) and the event, and answers
//! `{"verification_status": "SUCCESS" | "FAILURE"}`. The event goes back exactly as it was
//! delivered (its bytes, not a re-serialised copy): the signature covers the body, and a
//! re-encoding that changes a number's or a string's spelling would fail it.

use serde::Serialize;
use serde_json::value::RawValue;

use super::{Call, PayPalPayments, api_error, unreadable};
use crate::{ProviderError, ProviderErrorKind};

/// The signature headers of one webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHeaders {
    pub auth_algo: String,
    pub cert_url: String,
    pub transmission_id: String,
    pub transmission_sig: String,
    pub transmission_time: String,
}

impl WebhookHeaders {
    /// Reads them from a delivery's headers (names in any case); a missing one is an
    /// `InvalidRequest` naming it (such a delivery is not PayPal's).
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Result<Self, ProviderError> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| {
                    ProviderError::new(
                        ProviderErrorKind::InvalidRequest,
                        format!(
                            "The webhook delivery has no {name} header; it is not from PayPal."
                        ),
                    )
                })
        };
        Ok(WebhookHeaders {
            auth_algo: get("paypal-auth-algo")?,
            cert_url: get("paypal-cert-url")?,
            transmission_id: get("paypal-transmission-id")?,
            transmission_sig: get("paypal-transmission-sig")?,
            transmission_time: get("paypal-transmission-time")?,
        })
    }
}

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

impl PayPalPayments {
    /// Whether PayPal vouches for a delivery of `event_body` with `headers` to webhook
    /// `webhook_id`. A body that is not JSON is no PayPal event: `false` without asking.
    pub async fn verify_webhook_signature(
        &self,
        headers: &WebhookHeaders,
        webhook_id: &str,
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
        let err = WebhookHeaders::from_headers(&map).unwrap_err();
        assert!(
            err.message.contains("paypal-transmission-time"),
            "{}",
            err.message
        );
        map.insert(
            "paypal-transmission-time",
            "2016-02-18T20:01:35Z".parse().unwrap(),
        );
        let h = WebhookHeaders::from_headers(&map).unwrap();
        assert_eq!(h.auth_algo, "SHA256withRSA");
        assert_eq!(h.transmission_time, "2016-02-18T20:01:35Z");
    }
}
