//! Square webhook signatures (<https://developer.squareup.com/docs/webhooks/step3validate>).
//!
//! `x-square-hmacsha256-signature` is the base64 of HMAC-SHA256 keyed with the subscription's
//! signature key (UTF-8), over the notification URL exactly as registered with Square followed
//! by the raw body. Square signs no timestamp: replays are caught by the event id
//! (`event_id`) and its `created_at`, which the receiver checks. As in Square's own helper an
//! empty body is refused, and the header must be the exact base64 text (no spaces, canonical
//! padding).

use super::{EventSummary, WebhookError, hmac_sha256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;
use switchboard_core::secret::SecretString;

/// The request header Square signs with (HTTP header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "x-square-hmacsha256-signature";

/// Verifies the signature header against the notification URL and the raw body with any of
/// `keys` (the current one first, then previous ones during a rotation). Returns the index of
/// the key that matched.
pub fn verify(
    signature: &str,
    notification_url: &str,
    body: &[u8],
    keys: &[SecretString],
) -> Result<usize, WebhookError> {
    if body.is_empty() {
        return Err(WebhookError::EmptyBody);
    }
    if keys.is_empty() {
        return Err(WebhookError::NoSecret);
    }
    let tag = STANDARD
        .decode(signature)
        .ok()
        .filter(|tag| tag.len() == 32)
        .ok_or_else(|| WebhookError::MalformedHeader {
            header: SIGNATURE_HEADER,
            detail: "not the base64 of a 32-byte HMAC-SHA256".into(),
        })?;
    keys.iter()
        .position(|key| {
            hmac_sha256(
                key.expose().as_bytes(),
                &[notification_url.as_bytes(), body],
            )
            .verify_slice(&tag)
            .is_ok()
        })
        .ok_or_else(|| WebhookError::SquareSignatureMismatch {
            keys: keys.len(),
            notification_url: notification_url.to_string(),
        })
}

/// The signature Square sends for `body` at `notification_url` (for tests and for checking a
/// setup; the vectors test it against Square's documented algorithm and helper).
pub fn signature(key: &SecretString, notification_url: &str, body: &[u8]) -> String {
    let tag = hmac_sha256(
        key.expose().as_bytes(),
        &[notification_url.as_bytes(), body],
    )
    .finalize()
    .into_bytes();
    STANDARD.encode(tag)
}

/// The event's id, type and creation time (`created_at`, RFC 3339), from a verified body.
pub fn event_summary(body: &[u8]) -> Option<EventSummary> {
    #[derive(serde::Deserialize)]
    struct Event {
        event_id: String,
        #[serde(rename = "type")]
        event_type: Option<String>,
        created_at: Option<String>,
    }
    let event: Event = serde_json::from_slice(body).ok()?;
    Some(EventSummary {
        id: event.event_id,
        event_type: event.event_type,
        created: event
            .created_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_here_verifies_with_the_right_url_only() {
        let key = SecretString::new("sig-key");
        let body = br#"{"event_id":"e1","type":"payment.updated"}"#;
        let sig = signature(&key, "https://x.example/hook", body);
        assert_eq!(
            verify(
                &sig,
                "https://x.example/hook",
                body,
                std::slice::from_ref(&key)
            ),
            Ok(0)
        );
        let err = verify(&sig, "https://x.example/hook/", body, &[key]).unwrap_err();
        assert_eq!(err.kind(), "signature_mismatch");
        assert!(err.to_string().contains("https://x.example/hook/"), "{err}");
    }

    #[test]
    fn the_summary_reads_event_id_type_and_created_at() {
        let s = event_summary(
            br#"{"merchant_id":"M","type":"payment.created","event_id":"e-1","created_at":"2025-10-09T08:53:15.123Z"}"#,
        )
        .unwrap();
        assert_eq!(s.id, "e-1");
        assert_eq!(s.event_type.as_deref(), Some("payment.created"));
        assert_eq!(s.created, Some(1_759_999_995));
    }
}
