//! A PayPal connection's adapter: its client credentials (sealed under `client_id` and
//! `client_secret` when it connected), its environment, and one access token per connection
//! kept across syncs and sends, as PayPal asks ("cache tokens rather than generate one for each
//! transaction", https://developer.paypal.com/api/rest/reference/rate-limiting/).

use super::PaymentsAdapter;
use crate::Result;
use crate::credential_connect::purpose;
use crate::workspace::Workspace;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use switchboard_core::views::ConnectionView;
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::credentials::ClientCredentialsCache;
use switchboard_providers::credentials::paypal::{Environment, PayPal};
use switchboard_providers::http::RequestSink;
use switchboard_providers::paypal::PayPalPayments;

/// The PayPal access tokens of a workspace's connections, one cache per (connection id,
/// client id, API base): a reconnect with other credentials gets a cache of its own. Kept in
/// the [`Workspace`] (next to the guards), so two workspaces in one process never share a
/// token; in memory only (client-credentials tokens are cheap to get again).
#[derive(Default)]
pub(crate) struct PayPalTokenCaches(Mutex<HashMap<String, Arc<ClientCredentialsCache>>>);

impl PayPalTokenCaches {
    fn for_connection(
        &self,
        connection_id: &str,
        client_id: &str,
        api_base: &str,
    ) -> Arc<ClientCredentialsCache> {
        let key = format!("{connection_id}\n{client_id}\n{api_base}");
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone()
    }
}

/// The environment a connection was made in: its account id says (`sandbox:APP-…`); a
/// connection without one is live unless its host is PayPal's sandbox.
fn environment_of(account_id: Option<&str>, api_base: &str) -> Environment {
    account_id
        .and_then(|a| a.split_once(':'))
        .and_then(|(env, _)| Environment::parse(env))
        .unwrap_or(if api_base.contains("sandbox.paypal.com") {
            Environment::Sandbox
        } else {
            Environment::Live
        })
}

impl Workspace {
    pub(super) async fn paypal_adapter(
        &self,
        target: &ConnectionView,
        sink: RequestSink,
    ) -> Result<PaymentsAdapter> {
        Ok(PaymentsAdapter::full(
            self.paypal_payments(target, sink).await?,
        ))
    }

    /// The PayPal client of `target` itself (the webhook receiver verifies events with it).
    pub(crate) async fn paypal_payments(
        &self,
        target: &ConnectionView,
        sink: RequestSink,
    ) -> Result<PayPalPayments> {
        let tokens = self.tokens();
        let missing = || {
            CommandError::new(
                ErrorCode::AuthFailed,
                "This PayPal connection has no stored client ID and secret. Reconnect it with \
                 the app's credentials (Apps & Credentials in the PayPal Developer Dashboard).",
            )
        };
        let client_id = tokens
            .stored(&target.id, purpose::CLIENT_ID)
            .await?
            .ok_or_else(missing)?;
        let secret = tokens
            .stored(&target.id, purpose::CLIENT_SECRET)
            .await?
            .ok_or_else(missing)?;
        let environment = environment_of(target.account_id.as_deref(), &target.api_base);
        let guard = self
            .guard_for(target, environment == Environment::Sandbox)
            .await?;
        let paypal = PayPal::new(
            self.client.clone(),
            environment,
            Some(&target.api_base),
            client_id.expose(),
            secret,
        )
        .with_cache(self.paypal_tokens.for_connection(
            &target.id,
            client_id.expose(),
            &target.api_base,
        ))
        .with_request_sink(sink)
        .with_guard(guard);
        Ok(PayPalPayments::new(paypal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_comes_from_the_account_else_the_host() {
        let env = environment_of;
        assert_eq!(
            env(Some("sandbox:APP-1"), "http://127.0.0.1:9"),
            Environment::Sandbox
        );
        assert_eq!(
            env(Some("live:APP-1"), "https://api-m.paypal.com"),
            Environment::Live
        );
        assert_eq!(
            env(None, "https://api-m.sandbox.paypal.com"),
            Environment::Sandbox
        );
        assert_eq!(env(None, "https://api-m.paypal.com"), Environment::Live);
    }

    #[test]
    fn one_token_cache_per_connection_and_credentials() {
        let caches = PayPalTokenCaches::default();
        let live = "https://api-m.paypal.com";
        let a = caches.for_connection("c1", "A1", live);
        assert!(Arc::ptr_eq(&a, &caches.for_connection("c1", "A1", live)));
        assert!(!Arc::ptr_eq(&a, &caches.for_connection("c1", "A2", live)));
        assert!(!Arc::ptr_eq(&a, &caches.for_connection("c2", "A1", live)));
        // Another workspace's caches share nothing.
        let other = PayPalTokenCaches::default();
        assert!(!Arc::ptr_eq(&a, &other.for_connection("c1", "A1", live)));
    }
}
