//! Webhooks v1: `POST /v1/notifications/verify-webhook-signature`.
//!
//! PayPal verifies a delivery from its five `PAYPAL-*` headers, the webhook's id and the event
//! exactly as delivered, and answers `{"verification_status": "SUCCESS" | "FAILURE"}`
//! (https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature_post). The real
//! check is an RSA-SHA256 signature over `transmission_id|transmission_time|webhook_id|crc32`
//! of the body with PayPal's certificate; the fake has no such key, so it decides from what it
//! signed itself: [`PayPalControl::sign_webhook`] makes the header values of a delivery and
//! remembers them, and verification answers `SUCCESS` exactly when the request carries that
//! transmission id with the same time, signature and webhook id, and an event equal (as JSON)
//! to the one signed; anything else is `FAILURE`. Missing fields are 400
//! `MISSING_REQUIRED_PARAMETER`.
//!
//! [`PayPalControl::sign_webhook`]: super::PayPalControl::sign_webhook

use axum::http::StatusCode;
use serde_json::json;

use super::api::{Answer, Call, missing};

/// The header values of a webhook delivery, as PayPal sends them (`PAYPAL-TRANSMISSION-ID`,
/// `PAYPAL-TRANSMISSION-TIME`, `PAYPAL-TRANSMISSION-SIG`, `PAYPAL-CERT-URL`,
/// `PAYPAL-AUTH-ALGO`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayPalWebhookHeaders {
    pub transmission_id: String,
    pub transmission_time: String,
    pub transmission_sig: String,
    pub cert_url: String,
    pub auth_algo: String,
}

impl PayPalWebhookHeaders {
    /// (header name, value) pairs, to put on a delivery.
    pub fn pairs(&self) -> [(&'static str, String); 5] {
        [
            ("PAYPAL-TRANSMISSION-ID", self.transmission_id.clone()),
            ("PAYPAL-TRANSMISSION-TIME", self.transmission_time.clone()),
            ("PAYPAL-TRANSMISSION-SIG", self.transmission_sig.clone()),
            ("PAYPAL-CERT-URL", self.cert_url.clone()),
            ("PAYPAL-AUTH-ALGO", self.auth_algo.clone()),
        ]
    }
}

const REQUIRED: [&str; 7] = [
    "auth_algo",
    "cert_url",
    "transmission_id",
    "transmission_sig",
    "transmission_time",
    "webhook_id",
    "webhook_event",
];

pub(crate) fn verify(call: &mut Call<'_>) -> Answer {
    let body = match call.json_body() {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    for field in REQUIRED {
        let present = match &body[field] {
            serde_json::Value::String(s) => !s.is_empty(),
            serde_json::Value::Object(_) => field == "webhook_event",
            _ => false,
        };
        if !present {
            return missing(&format!("/{field}"), "body");
        }
    }
    let text = |k: &str| body[k].as_str().unwrap_or_default();
    let verified = call
        .ledger
        .transmissions
        .get(text("transmission_id"))
        .is_some_and(|t| {
            t.webhook_id == text("webhook_id")
                && t.time == text("transmission_time")
                && t.signature == text("transmission_sig")
                && t.event == body["webhook_event"]
        });
    let status = if verified { "SUCCESS" } else { "FAILURE" };
    Answer::json(StatusCode::OK, json!({ "verification_status": status }))
}
