//! The one place a connection becomes its provider's payments adapter: credentials read (and
//! refreshed), every request under the connection's rate budget and circuit breaker, and its
//! exchanges sent to the request log. Syncs, "Test connection", refunds, payment requests and
//! subscription cancels all start here, so each provider is wired once (one file each under
//! `adapters/`).

mod paypal;
mod square;
mod stripe;

pub(crate) use paypal::PayPalTokenCaches;

use crate::workspace::{Workspace, catalogue_name};
use crate::{Result, errors};
use std::sync::Arc;
use switchboard_core::views::ConnectionView;
use switchboard_providers::http::RequestSink;
use switchboard_providers::{IssueRefunds, ManageSubscriptions, PullPayments, RequestPayments};

/// What a payments connection can do. Pulling is always there; a provider without one of the
/// other capabilities leaves it `None` (and the caller says so).
pub(crate) struct PaymentsAdapter {
    pub pull: Arc<dyn PullPayments>,
    pub refunds: Option<Arc<dyn IssueRefunds>>,
    pub payment_links: Option<Arc<dyn RequestPayments>>,
    pub subscriptions: Option<Arc<dyn ManageSubscriptions>>,
}

impl PaymentsAdapter {
    /// An adapter that can do everything.
    pub(crate) fn full<A>(adapter: A) -> PaymentsAdapter
    where
        A: PullPayments + IssueRefunds + RequestPayments + ManageSubscriptions + 'static,
    {
        let adapter = Arc::new(adapter);
        PaymentsAdapter {
            pull: adapter.clone(),
            refunds: Some(adapter.clone()),
            payment_links: Some(adapter.clone()),
            subscriptions: Some(adapter),
        }
    }
}

/// The payment providers: they pull payments, refund, request payments and cancel
/// subscriptions (each adapter says which it can in [`PaymentsAdapter`]; this list lets the app
/// refuse early, before anything is queued).
const PAYMENT_PROVIDERS: [&str; 3] = ["stripe", "paypal", "square"];

/// Whether payments of `provider` can be refunded from Switchboard.
pub(crate) fn can_refund(provider: &str) -> bool {
    PAYMENT_PROVIDERS.contains(&provider)
}

/// Whether `provider` can make payment links and end subscriptions from Switchboard.
pub(crate) fn is_payment_provider(provider: &str) -> bool {
    PAYMENT_PROVIDERS.contains(&provider)
}

impl Workspace {
    /// The payments adapter of `target`, reporting its exchanges to `sink`.
    pub(crate) async fn payments_adapter(
        &self,
        target: &ConnectionView,
        sink: RequestSink,
    ) -> Result<PaymentsAdapter> {
        match target.provider.as_str() {
            "stripe" => self.stripe_adapter(target, sink).await,
            "square" => self.square_adapter(target, sink).await,
            "paypal" => self.paypal_adapter(target, sink).await,
            other => Err(errors::invalid(format!(
                "Syncing {} is not available yet.",
                catalogue_name(other)
            ))),
        }
    }
}
