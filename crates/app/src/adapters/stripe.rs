//! A Stripe connection's adapter (every capability): its API key, and Stripe's test-mode rate
//! budget for test keys.

use super::PaymentsAdapter;
use crate::Result;
use crate::workspace::Workspace;
use switchboard_core::views::ConnectionView;
use switchboard_providers::http::RequestSink;
use switchboard_providers::stripe::Stripe;

impl Workspace {
    pub(super) async fn stripe_adapter(
        &self,
        target: &ConnectionView,
        sink: RequestSink,
    ) -> Result<PaymentsAdapter> {
        let api_key = self.api_key(&target.id).await?;
        let guard = self
            .guard_for(target, Stripe::is_test_key(api_key.expose()))
            .await?;
        // Pulls every stream, refunds, requests payments (Checkout Sessions) and cancels
        // subscriptions at period end.
        let stripe = Stripe::new(self.client.clone(), Some(&target.api_base), api_key)
            .with_request_sink(sink)
            .with_guard(guard);
        Ok(PaymentsAdapter::full(stripe))
    }
}
