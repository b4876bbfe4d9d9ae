//! Which Stripe account an API key belongs to: `GET /v1/account` ("Retrieves the details of an
//! account", https://docs.stripe.com/api/accounts/retrieve; the `account` object of
//! `shared/specs/stripe.json`). Called after the key was verified (`Stripe::verify`).
//!
//! - The account's id is `id` (`acct_…`); its name is `business_profile.name` ("The
//!   customer-facing business name"), else `settings.dashboard.display_name`, else `email`
//!   (all in the spec's `account` schema).
//! - A restricted key (`rk_…`) may lack the permission for this endpoint: Stripe then answers
//!   403 with an `invalid_request_error` ("If a restricted API key doesn't have the right
//!   permissions to complete an API request, Stripe issues an invalid request error",
//!   https://docs.stripe.com/keys/restricted-api-keys; the 403 status and the message "The
//!   provided key 'rk_…' does not have the required permissions for this endpoint on account
//!   'acct_…'. Having the 'rak_…' permission would allow this request to continue." are what
//!   Stripe's libraries map to a PermissionError, e.g. https://rubydoc.info/gems/stripe/Stripe/PermissionError).
//!   That is not a failure to connect: [`AccountLookup::NotPermitted`].

use super::{Http, quoted, trim_base};
use crate::ProviderError;
use crate::http::{Guard, RequestSink, transport_error};
use crate::stripe::{API_VERSION, DEFAULT_API_BASE, error_from_body};
use serde::Deserialize;
use switchboard_core::secret::SecretString;

/// The account behind a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeAccount {
    /// `acct_…`
    pub id: String,
    /// The business or dashboard display name, else the account's email.
    pub name: Option<String>,
}

/// What `GET /v1/account` told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountLookup {
    Found(StripeAccount),
    /// The key may not read the account (a restricted key without that permission): Stripe's
    /// own message, which names the permission.
    NotPermitted {
        stripe_message: Option<String>,
    },
}

#[derive(Deserialize)]
struct AccountBody {
    id: Option<String>,
    email: Option<String>,
    business_profile: Option<BusinessProfile>,
    settings: Option<Settings>,
}

#[derive(Deserialize)]
struct BusinessProfile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Settings {
    dashboard: Option<Dashboard>,
}

#[derive(Deserialize)]
struct Dashboard {
    display_name: Option<String>,
}

/// Reads the key's own account.
pub struct StripeAccountClient {
    http: Http,
    api_base: String,
    api_key: SecretString,
}

impl StripeAccountClient {
    pub fn new(client: reqwest::Client, api_base: Option<&str>, api_key: SecretString) -> Self {
        StripeAccountClient {
            http: Http::new(client),
            api_base: trim_base(api_base.unwrap_or(DEFAULT_API_BASE)),
            api_key,
        }
    }

    pub fn with_request_sink(mut self, sink: RequestSink) -> Self {
        self.http.sink = Some(sink);
        self
    }

    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.http.guard = Some(guard);
        self
    }

    /// `GET /v1/account` with the key (Bearer, `Stripe-Version` pinned like every request).
    pub async fn account(&self) -> Result<AccountLookup, ProviderError> {
        let request = self
            .http
            .client
            .get(format!("{}/v1/account", self.api_base))
            .bearer_auth(self.api_key.expose())
            .header("Stripe-Version", API_VERSION)
            .build()
            .map_err(|e| transport_error("Stripe", e))?;
        let answer = self.http.send(request, "Stripe", "request-id").await?;
        if answer.status == 403 {
            let message = serde_json::from_slice::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|v| v.pointer("/error/message")?.as_str().map(str::to_string));
            return Ok(AccountLookup::NotPermitted {
                stripe_message: message,
            });
        }
        if !(200..300).contains(&answer.status) {
            let mut err = error_from_body(answer.status, &answer.body);
            err.request_id = answer.request_id;
            err.retry_after_secs = answer.retry_after_secs;
            return Err(err);
        }
        let body: AccountBody = serde_json::from_slice(&answer.body)
            .map_err(|e| super::unreadable("Stripe", &answer, e))?;
        let id = body
            .id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| super::unreadable("Stripe", &answer, "the account has no `id`"))?;
        let non_empty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        let name = non_empty(body.business_profile.and_then(|b| b.name))
            .or_else(|| non_empty(body.settings.and_then(|s| s.dashboard?.display_name)))
            .or_else(|| non_empty(body.email));
        Ok(AccountLookup::Found(StripeAccount { id, name }))
    }
}

/// The note shown when the account could not be read.
pub fn not_permitted_note(stripe_message: Option<&str>) -> String {
    format!(
        "Connected, but this key may not read the Stripe account (GET /v1/account was refused), so \
         the account id is unknown. A restricted key needs {} (Stripe Dashboard → Developers \
         → API keys); syncing works without the account.{}",
        switchboard_core::catalogue::credentials::STRIPE_KEY_PERMISSIONS,
        quoted("Stripe", stripe_message)
    )
}
