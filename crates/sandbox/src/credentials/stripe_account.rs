//! `GET /v1/account` of the Stripe fake: the account the key belongs to
//! (https://docs.stripe.com/api/accounts/retrieve), in the shape of the `account` object of
//! `shared/specs/stripe.json` (checked by `tests/credential_fakes.rs`; built after the
//! `account` fixture of `stripe.fixtures.json`).
//!
//! Besides its secret key the Stripe fake accepts one restricted key (`rk_test_…`,
//! [`crate::StripeControl::restricted_api_key`]) that reads everything the secret key reads
//! except this endpoint, where it gets Stripe's 403 permission error: an
//! `invalid_request_error` (https://docs.stripe.com/keys/restricted-api-keys) whose message
//! names the key (masked), the account and the missing permission. The permission's name,
//! `rak_accounts_kyc_basic_read`, is as seen in third-party code, not in Stripe's docs.
//!
//! Deliberate simplifications: the account is a Standard account with card payments; `expand`
//! is refused for every field; any other parameter is refused as Stripe refuses unknown ones.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::StripeControl;

/// The route, as counted in [`crate::Counters::by_path`].
pub const ROUTE: &str = "/v1/account";

/// The business name of every fake account.
pub const BUSINESS_NAME: &str = "Switchboard Sandbox Coffee";

/// The restricted key the fake accepts besides `api_key`: derived from it, so it follows the
/// seed without any state.
pub(crate) fn restricted_key(api_key: &str) -> String {
    let tail = api_key.strip_prefix("sk_test_").unwrap_or(api_key);
    let mut key = String::with_capacity(tail.len() + 8);
    key.push_str("rk_test_");
    // A different key, same length and alphabet: the secret key's characters rotated.
    key.extend(tail.chars().rev());
    key
}

/// `acct_1…`: 16 characters after `acct_`, from the key.
pub(crate) fn account_id(api_key: &str) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest = Sha256::digest(format!("stripe.account:{api_key}").as_bytes());
    let mut id = String::from("acct_1");
    id.extend(
        digest
            .iter()
            .take(15)
            .map(|b| BASE62[*b as usize % 62] as char),
    );
    id
}

impl StripeControl {
    /// The restricted key (`rk_test_…`) the fake accepts: like the secret key, except that it
    /// may not read `GET /v1/account`.
    pub fn restricted_api_key(&self) -> String {
        restricted_key(self.api_key())
    }

    /// The id of the fake's account (`acct_…`).
    pub fn account_id(&self) -> String {
        account_id(self.api_key())
    }
}

/// Stripe's masking of a key in error messages: prefix and last four kept.
fn mask(key: &str) -> String {
    let prefix = key
        .find('_')
        .and_then(|i| key[i + 1..].find('_').map(|j| i + j + 2));
    let prefix = prefix.unwrap_or(0).min(key.len());
    let tail_start = key.len().saturating_sub(4).max(prefix);
    format!(
        "{}{}{}",
        &key[..prefix],
        "*".repeat(tail_start - prefix),
        &key[tail_start..]
    )
}

/// The answer to an authenticated `GET /v1/account`: status and body.
pub(crate) fn answer(api_key: &str, presented: &str, query: &str) -> (StatusCode, Value) {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    if let Some((key, value)) = pairs.first() {
        let is_expand = key == "expand" || key.starts_with("expand[");
        let (message, param, code) = if is_expand {
            (
                format!("This property cannot be expanded ({value})."),
                "expand".to_string(),
                None,
            )
        } else {
            (
                format!("Received unknown parameter: {key}"),
                key.clone(),
                Some("parameter_unknown"),
            )
        };
        let mut error =
            json!({"message": message, "param": param, "type": "invalid_request_error"});
        if let Some(code) = code {
            error["code"] = json!(code);
            error["doc_url"] = json!("https://stripe.com/docs/error-codes/parameter-unknown");
        }
        return (StatusCode::BAD_REQUEST, json!({ "error": error }));
    }
    let id = account_id(api_key);
    if presented != api_key {
        let message = format!(
            "The provided key '{}' does not have the required permissions for this endpoint on \
             account '{id}'. Having the 'rak_accounts_kyc_basic_read' permission would allow \
             this request to continue.",
            mask(presented)
        );
        return (
            StatusCode::FORBIDDEN,
            json!({"error": {"message": message, "type": "invalid_request_error"}}),
        );
    }
    (StatusCode::OK, account_json(&id))
}

fn account_json(id: &str) -> Value {
    json!({
        "id": id,
        "object": "account",
        "business_profile": {
            "mcc": "5814",
            "name": BUSINESS_NAME,
            "product_description": "Coffee beans and workshops",
            "support_address": null,
            "support_email": "help@sandbox-coffee.example",
            "support_phone": null,
            "support_url": null,
            "url": "https://sandbox-coffee.example",
        },
        "business_type": "company",
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": true,
        "controller": {"type": "account"},
        "country": "US",
        "created": 1_700_000_000,
        "default_currency": "usd",
        "details_submitted": true,
        "email": "owner@sandbox-coffee.example",
        "external_accounts": {
            "data": [],
            "has_more": false,
            "object": "list",
            "url": format!("/v1/accounts/{id}/external_accounts"),
        },
        "future_requirements": {
            "alternatives": [],
            "current_deadline": null,
            "currently_due": [],
            "disabled_reason": null,
            "errors": [],
            "eventually_due": [],
            "past_due": [],
            "pending_verification": [],
        },
        "metadata": {},
        "payouts_enabled": true,
        "requirements": {
            "alternatives": [],
            "current_deadline": null,
            "currently_due": [],
            "disabled_reason": null,
            "errors": [],
            "eventually_due": [],
            "past_due": [],
            "pending_verification": [],
        },
        "settings": {
            "bacs_debit_payments": {},
            "branding": {"icon": null, "logo": null, "primary_color": null, "secondary_color": null},
            "card_issuing": {"tos_acceptance": {"date": null, "ip": null}},
            "card_payments": {
                "decline_on": {"avs_failure": false, "cvc_failure": true},
                "statement_descriptor_prefix": "SANDBOX",
                "statement_descriptor_prefix_kana": null,
                "statement_descriptor_prefix_kanji": null,
            },
            "dashboard": {"display_name": "Sandbox Coffee", "timezone": "Etc/UTC"},
            "payments": {
                "statement_descriptor": "SANDBOX COFFEE",
                "statement_descriptor_kana": null,
                "statement_descriptor_kanji": null,
            },
            "payouts": {
                "debit_negative_balances": true,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": null,
            },
            "sepa_debit_payments": {},
        },
        "tos_acceptance": {"date": 1_700_000_000, "ip": "203.0.113.7", "user_agent": null},
        "type": "standard",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_ids_are_stable_and_distinct() {
        let sk = "sk_test_51AbCdEfGh";
        let rk = restricted_key(sk);
        assert!(rk.starts_with("rk_test_"));
        assert_ne!(rk, sk);
        assert_eq!(rk.len(), sk.len());
        assert_eq!(account_id(sk), account_id(sk));
        assert!(account_id(sk).starts_with("acct_1"));
        assert_eq!(account_id(sk).len(), "acct_1".len() + 15);
        assert_eq!(mask("rk_test_abcdefgh1234"), "rk_test_********1234");
    }
}
