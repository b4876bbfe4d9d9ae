//! Stripe webhook signatures (<https://docs.stripe.com/webhooks#verify-manually>).
//!
//! `Stripe-Signature: t=1492774577,v1=5257a869…,v0=…`: `t` is when Stripe signed (unix
//! seconds); each `v1` is the lower-case hex HMAC-SHA256 of `"{t}.{raw body}"` keyed with an
//! endpoint secret (`whsec_…`, the whole string as UTF-8). While a secret is being rolled Stripe
//! sends one `v1` per active secret. Other schemes (`v0`, test mode's) are ignored. As in
//! Stripe's libraries the header is split on `,` and each item on its first `=` exactly (no
//! trimming), and a `v1` compares as text, so upper-case hex never matches.
//!
//! Stripe's libraries refuse only timestamps older than the tolerance; this also refuses one
//! more than the tolerance in the future (a clock that is badly wrong, or a header made ahead
//! of time). A tolerance of 0 turns the timestamp check off, as in Stripe's libraries.

use super::{EventSummary, WebhookError, hmac_sha256};
use hmac::Mac;
use switchboard_core::secret::SecretString;

/// The request header Stripe signs with.
pub const SIGNATURE_HEADER: &str = "Stripe-Signature";
/// The signature scheme verified; others are ignored.
pub const SCHEME: &str = "v1";
/// Stripe's libraries' default: five minutes.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

/// A verified signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// When Stripe signed (the header's `t`).
    pub timestamp: i64,
    /// Which of the secrets given matched (0: the first; a later one means a previous secret
    /// is still in use at Stripe).
    pub secret_index: usize,
}

/// The header's parts: the first `t` and every `v1`.
struct Parsed<'h> {
    timestamp: i64,
    signatures: Vec<&'h str>,
}

fn parse(header: &str) -> Result<Parsed<'_>, WebhookError> {
    let malformed = |detail: &str| WebhookError::MalformedHeader {
        header: SIGNATURE_HEADER,
        detail: detail.to_string(),
    };
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.split_once('=') else {
            continue;
        };
        if key == "t" && timestamp.is_none() {
            timestamp = Some(value);
        } else if key == SCHEME {
            signatures.push(value);
        }
    }
    let timestamp = timestamp.ok_or_else(|| malformed("no `t=` timestamp"))?;
    let timestamp = timestamp
        .parse::<i64>()
        .map_err(|_| malformed("the `t=` timestamp is not a number of seconds"))?;
    Ok(Parsed {
        timestamp,
        signatures,
    })
}

/// Lower-case hex only (what Stripe sends and its libraries compare as text); anything else
/// cannot match.
fn decode_lower_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Verifies a `Stripe-Signature` header against the raw body with any of `secrets` (the
/// current one first, then previous ones during a rotation), at `now` (unix seconds).
pub fn verify(
    header: &str,
    body: &[u8],
    secrets: &[SecretString],
    now: i64,
    tolerance_secs: u64,
) -> Result<Verified, WebhookError> {
    let parsed = parse(header)?;
    if parsed.signatures.is_empty() {
        return Err(WebhookError::NoSignature {
            header: SIGNATURE_HEADER,
            scheme: SCHEME,
        });
    }
    if secrets.is_empty() {
        return Err(WebhookError::NoSecret);
    }
    let candidates: Vec<Vec<u8>> = parsed
        .signatures
        .iter()
        .filter_map(|s| decode_lower_hex(s))
        .collect();
    let t = parsed.timestamp.to_string();
    let matched = secrets.iter().position(|secret| {
        let mac = hmac_sha256(secret.expose().as_bytes(), &[t.as_bytes(), b".", body]);
        // Each candidate is compared in constant time; which one matched is not secret.
        candidates
            .iter()
            .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
    });
    let Some(secret_index) = matched else {
        return Err(WebhookError::StripeSignatureMismatch {
            secrets: secrets.len(),
        });
    };
    if tolerance_secs > 0 {
        let tolerance = i64::try_from(tolerance_secs).unwrap_or(i64::MAX);
        let age = now.saturating_sub(parsed.timestamp);
        if age > tolerance {
            return Err(WebhookError::TimestampTooOld {
                age_secs: age,
                tolerance_secs,
            });
        }
        if -age > tolerance {
            return Err(WebhookError::TimestampInFuture {
                ahead_secs: -age,
                tolerance_secs,
            });
        }
    }
    Ok(Verified {
        timestamp: parsed.timestamp,
        secret_index,
    })
}

/// A `Stripe-Signature` header for `body` signed with `secret` at `timestamp`, as Stripe makes
/// it (for tests and for checking a setup; the vectors test it against Stripe's library).
pub fn signature_header(secret: &SecretString, timestamp: i64, body: &[u8]) -> String {
    let t = timestamp.to_string();
    let tag = hmac_sha256(secret.expose().as_bytes(), &[t.as_bytes(), b".", body])
        .finalize()
        .into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},{SCHEME}={hex}")
}

/// The event's id (`evt_…`), type and creation time, from a verified body.
pub fn event_summary(body: &[u8]) -> Option<EventSummary> {
    #[derive(serde::Deserialize)]
    struct Event {
        id: String,
        #[serde(rename = "type")]
        event_type: Option<String>,
        created: Option<i64>,
    }
    let event: Event = serde_json::from_slice(body).ok()?;
    Some(EventSummary {
        id: event.id,
        event_type: event.event_type,
        created: event.created,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::new(s)
    }

    #[test]
    fn a_header_made_here_verifies_and_names_the_matching_secret() {
        let body = br#"{"id":"evt_1","type":"charge.succeeded"}"#;
        let header = signature_header(&secret("whsec_b"), 1_000, body);
        let ok = verify(
            &header,
            body,
            &[secret("whsec_a"), secret("whsec_b")],
            1_010,
            300,
        )
        .unwrap();
        assert_eq!(
            ok,
            Verified {
                timestamp: 1_000,
                secret_index: 1
            }
        );
        let err = verify(&header, body, &[], 1_010, 300).unwrap_err();
        assert_eq!(err, WebhookError::NoSecret);
    }

    #[test]
    fn tolerance_zero_turns_the_age_check_off() {
        let body = b"{}";
        let header = signature_header(&secret("whsec_a"), 1_000, body);
        assert!(verify(&header, body, &[secret("whsec_a")], 1_000_000, 0).is_ok());
        let err = verify(&header, body, &[secret("whsec_a")], 1_000_000, 300).unwrap_err();
        assert_eq!(err.kind(), "timestamp_too_old");
        assert!(err.to_string().contains("999000 s ago"), "{err}");
    }

    #[test]
    fn messages_never_carry_the_secret() {
        let err = verify("t=1,v1=00", b"{}", &[secret("whsec_secretvalue")], 1, 300).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("secretvalue"));
    }

    #[test]
    fn the_summary_reads_id_type_and_created() {
        let s = event_summary(
            br#"{"id":"evt_9","object":"event","type":"charge.refunded","created":5}"#,
        )
        .unwrap();
        assert_eq!(s.id, "evt_9");
        assert_eq!(s.event_type.as_deref(), Some("charge.refunded"));
        assert_eq!(s.created, Some(5));
        assert!(event_summary(b"not json").is_none());
    }
}
