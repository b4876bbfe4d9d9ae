//! Verifying provider webhook events: pure functions over the raw body, the signature header
//! and the connection's secrets (several during a rotation). No I/O, no clock: the caller
//! passes `now`. Secrets stay `SecretString`s and are never part of an error or a log.
//!
//! - Stripe (`stripe`): `Stripe-Signature: t=…,v1=…` — HMAC-SHA256 of `"{t}.{body}"` in hex,
//!   a timestamp tolerance (300 s by default).
//! - Square (`square`): `x-square-hmacsha256-signature` — base64 HMAC-SHA256 of the
//!   notification URL followed by the body; Square signs no timestamp.
//! - PayPal verifies through its own API (`POST /v1/notifications/verify-webhook-signature`), so
//!   it is not a pure function: [`VerifyPayPalWebhook`] is the hook its adapter implements.
//!
//! Every comparison is constant-time (`hmac`'s `verify_slice`). The tests run vectors made and
//! judged by the providers' own libraries (`tests/webhook_vectors.rs`,
//! `scripts/webhook-vectors.py`).

pub mod square;
pub mod stripe;

use async_trait::async_trait;

/// HMAC-SHA256 over the parts given, in order.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> hmac::Hmac<sha2::Sha256> {
    use hmac::{KeyInit, Mac};
    // HMAC takes a key of any length (a long key is hashed first), so this cannot fail.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC accepts any key");
    for part in parts {
        mac.update(part);
    }
    mac
}

/// Why an event was refused. The messages say what is wrong and what to check; none carries a
/// secret or the body. [`WebhookError::kind`] is a stable short name for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    #[error(
        "the request has no {header} header: check the endpoint is registered with the right provider and that a proxy in between keeps the header"
    )]
    MissingSignature { header: &'static str },
    #[error(
        "the {header} header is not in the provider's format ({detail}); pass the header exactly as received"
    )]
    MalformedHeader {
        header: &'static str,
        detail: String,
    },
    #[error(
        "the {header} header carries no `{scheme}` signature, the only scheme Switchboard verifies; pass the header exactly as received (unchanged spacing included)"
    )]
    NoSignature {
        header: &'static str,
        scheme: &'static str,
    },
    #[error(
        "no webhook secret is set for this connection: copy the endpoint's signing secret from the provider's dashboard and set it (`switchboard webhook secret set NAME --secret-env VAR`)"
    )]
    NoSecret,
    #[error(
        "no v1 signature matches the body signed with {} — check that it is this endpoint's signing secret (whsec_…: Stripe Dashboard → Developers → Webhooks → the endpoint; `stripe listen` prints its own), and that nothing between Stripe and here (a proxy, a framework that parses and re-encodes JSON) changed the body",
        secrets_text(*secrets)
    )]
    StripeSignatureMismatch { secrets: usize },
    #[error(
        "the signature does not match the body signed with {} for the notification URL {notification_url:?} — check the signature key (Square Developer Console → Webhooks → the subscription), that the URL is exactly the one registered with Square (scheme, host, path, query, trailing slash: the public tunnel URL, not this machine's address), and that nothing changed the body on the way",
        keys_text(*keys)
    )]
    SquareSignatureMismatch {
        keys: usize,
        notification_url: String,
    },
    #[error(
        "the event was signed {age_secs} s ago, more than the {tolerance_secs} s tolerance: an old event replayed, a delivery held up on the way, or this machine's clock is wrong (check it is synchronised)"
    )]
    TimestampTooOld { age_secs: i64, tolerance_secs: u64 },
    #[error(
        "the event is signed {ahead_secs} s in the future, more than the {tolerance_secs} s tolerance: this machine's clock is probably wrong (check it is synchronised)"
    )]
    TimestampInFuture {
        ahead_secs: i64,
        tolerance_secs: u64,
    },
    #[error(
        "the body is empty: a provider never sends an empty event; check that a proxy in between forwards the body"
    )]
    EmptyBody,
    #[error("{0}")]
    Provider(String),
}

fn secrets_text(n: usize) -> String {
    match n {
        1 => "the webhook secret".into(),
        n => format!("any of the {n} webhook secrets (current and previous)"),
    }
}

fn keys_text(n: usize) -> String {
    match n {
        1 => "the signature key".into(),
        n => format!("any of the {n} signature keys (current and previous)"),
    }
}

impl WebhookError {
    /// A stable short name: `missing_signature`, `malformed_header`, `no_signature`,
    /// `no_secret`, `signature_mismatch`, `timestamp_too_old`, `timestamp_in_future`,
    /// `empty_body`, `provider`.
    pub fn kind(&self) -> &'static str {
        match self {
            WebhookError::MissingSignature { .. } => "missing_signature",
            WebhookError::MalformedHeader { .. } => "malformed_header",
            WebhookError::NoSignature { .. } => "no_signature",
            WebhookError::NoSecret => "no_secret",
            WebhookError::StripeSignatureMismatch { .. }
            | WebhookError::SquareSignatureMismatch { .. } => "signature_mismatch",
            WebhookError::TimestampTooOld { .. } => "timestamp_too_old",
            WebhookError::TimestampInFuture { .. } => "timestamp_in_future",
            WebhookError::EmptyBody => "empty_body",
            WebhookError::Provider(_) => "provider",
        }
    }
}

/// The transmission headers PayPal sends with every webhook event, which its
/// `verify-webhook-signature` API checks (with the webhook's id and the event itself).
/// <https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature_post>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayPalTransmission {
    /// `PAYPAL-AUTH-ALGO`
    pub auth_algo: String,
    /// `PAYPAL-CERT-URL`
    pub cert_url: String,
    /// `PAYPAL-TRANSMISSION-ID`
    pub transmission_id: String,
    /// `PAYPAL-TRANSMISSION-SIG`
    pub transmission_sig: String,
    /// `PAYPAL-TRANSMISSION-TIME`
    pub transmission_time: String,
}

impl PayPalTransmission {
    /// The headers PayPal's verification needs, read with `header` (case-insensitive lookup by
    /// the caller); the first missing one is named.
    pub fn from_headers<'a>(
        header: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<PayPalTransmission, WebhookError> {
        let get = |name: &'static str| {
            header(name)
                .map(str::to_string)
                .ok_or(WebhookError::MissingSignature { header: name })
        };
        Ok(PayPalTransmission {
            auth_algo: get("PAYPAL-AUTH-ALGO")?,
            cert_url: get("PAYPAL-CERT-URL")?,
            transmission_id: get("PAYPAL-TRANSMISSION-ID")?,
            transmission_sig: get("PAYPAL-TRANSMISSION-SIG")?,
            transmission_time: get("PAYPAL-TRANSMISSION-TIME")?,
        })
    }
}

/// How a PayPal event is verified: PayPal signs with its own certificate and checks the
/// signature through `POST /v1/notifications/verify-webhook-signature` (answer
/// `verification_status: SUCCESS | FAILURE`), with the connection's credentials. The PayPal
/// adapter implements this (`paypal/webhooks.rs`).
#[async_trait]
pub trait VerifyPayPalWebhook: Send + Sync {
    /// `Ok(true)` when PayPal answers `SUCCESS` for this event, its headers and `webhook_id`
    /// (the id of the webhook registered in the PayPal app, not a secret), `Ok(false)` for
    /// `FAILURE`; `Err` when PayPal could not be asked or refused the question (the receiver
    /// then answers so that PayPal delivers the event again).
    async fn verify_webhook(
        &self,
        webhook_id: &str,
        transmission: &PayPalTransmission,
        body: &[u8],
    ) -> Result<bool, crate::ProviderError>;
}

/// What a verified event says about itself: its id (for replay checks) and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSummary {
    pub id: String,
    pub event_type: Option<String>,
    /// When the provider created the event (unix seconds), if it says.
    pub created: Option<i64>,
}
