//! Asking a customer for money (a payment link) and ending a subscription: both written to the
//! outbox first, then sent with their idempotency key (see `outbox.rs`).
//!
//! When the chosen connection is down (its circuit breaker open, or it needs a reconnect), the
//! request is refused with a message naming the next connection that can take it: the user
//! decides, and the request then records which connection it stands in for (`fallback_from`).
//! Nothing switches providers silently.

mod paypal_capture;
mod return_url;

pub use paypal_capture::{ORDER_VALID_DAYS, PaymentRequestCheck};

use crate::outbox::{LinkPayload, PAYMENT_LINK, SUBSCRIPTION_CANCEL, kind};
use crate::sync::blocking;
use crate::workspace::{Workspace, catalogue_name};
use crate::{Result, adapters, errors};
use switchboard_core::money::{ExtraDigits, MoneyError, parse_decimal};
use switchboard_core::views::{
    CircuitState, ConnectionStatus, ConnectionView, NewPaymentRequest, PaymentRequestOption,
    PaymentRequestView, SubscriptionView,
};
use switchboard_core::{CommandError, Currency, ErrorCode};
use switchboard_store::outbox::{self, NewItem};
use switchboard_store::payment_requests::{self, NewRequest};
use switchboard_store::rusqlite::TransactionBehavior;
use switchboard_store::subscriptions;

/// The longest description a payment link takes (Stripe's product name allows 250 characters;
/// the shortest limit of the three providers' wins).
const MAX_DESCRIPTION: usize = 250;

impl Workspace {
    /// Every payments connection and whether it can take a payment request now.
    pub async fn payment_request_options(&self) -> Result<Vec<PaymentRequestOption>> {
        let mut options = Vec::new();
        for c in self.list_connections().await? {
            if !adapters::is_payment_provider(&c.provider) {
                continue;
            }
            let unavailable_reason = self.unavailable_reason(&c).await?;
            options.push(PaymentRequestOption {
                connection_id: c.id.clone(),
                connection: c.name.clone(),
                provider: c.provider.clone(),
                available: unavailable_reason.is_none(),
                unavailable_reason,
            });
        }
        Ok(options)
    }

    /// Why `c` cannot take a request now, if it cannot.
    async fn unavailable_reason(&self, c: &ConnectionView) -> Result<Option<String>> {
        let name = catalogue_name(&c.provider);
        Ok(match c.status {
            ConnectionStatus::NeedsReconnect => Some(format!(
                "{name} “{}” needs you to reconnect it first.",
                c.name
            )),
            ConnectionStatus::Disconnected => Some(format!("{name} “{}” is disconnected.", c.name)),
            _ => {
                let health = self.connection_health(&c.id).await?;
                (health.circuit == CircuitState::Open).then(|| {
                    format!(
                        "{name} is not answering; Switchboard tries again {}.",
                        health
                            .circuit_retry_at
                            .as_deref()
                            .map_or("soon".to_string(), |at| format!("after {at}"))
                    )
                })
            }
        })
    }

    /// Queues a payment link at `input.connection` and sends it at once; returns the request
    /// as it is then (`created` with its link, or `queued` for a retry).
    pub async fn request_payment(&self, input: NewPaymentRequest) -> Result<PaymentRequestView> {
        let connection = self.find_connection(&input.connection).await?;
        if !adapters::is_payment_provider(&connection.provider) {
            return Err(errors::invalid(format!(
                "{} cannot take payments; choose a Stripe, PayPal or Square connection.",
                connection.name
            )));
        }
        let currency =
            Currency::parse(&input.currency).map_err(|e| errors::invalid(e.to_string()))?;
        let amount_minor = match (&input.amount, input.amount_minor) {
            (Some(text), None) => parse_decimal(text, currency.iso_exponent(), ExtraDigits::Reject)
                .map_err(|e| match e {
                    MoneyError::TooPrecise(..) => errors::invalid(format!(
                        "{} has {} decimal(s): {text} has more.",
                        currency.code(),
                        currency.iso_exponent()
                    )),
                    other => errors::invalid(other.to_string()),
                })?,
            (None, Some(minor)) => minor,
            _ => {
                return Err(errors::invalid(
                    "Give the amount once: as a decimal (`amount`) or in minor units (`amount_minor`).",
                ));
            }
        };
        if amount_minor <= 0 {
            return Err(errors::invalid("Ask for more than zero."));
        }
        let description = input.description.trim().to_string();
        if description.is_empty() {
            return Err(errors::invalid(
                "Say what the payment is for; the customer sees it on the payment page.",
            ));
        }
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(errors::invalid(format!(
                "Keep the description under {MAX_DESCRIPTION} characters."
            )));
        }
        let email = input
            .customer_email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_string);
        if let Some(e) = &email
            && !plausible_email(e)
        {
            return Err(errors::invalid(format!(
                "“{e}” does not look like an email address."
            )));
        }
        if let Some(why) = self.unavailable_reason(&connection).await? {
            return Err(self.refusal_with_fallback(&connection, why).await?);
        }
        let payload = LinkPayload {
            amount_minor,
            currency: currency.code().to_string(),
            currency_exponent: currency.iso_exponent(),
            description,
            customer_email: email,
            return_url: Some(self.payment_return_url().await?),
        };
        let fallback_from = input.fallback_from.clone();
        let item_kind = kind(&connection.provider, PAYMENT_LINK);
        let connection_id = connection.id.clone();
        let id = blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let item = outbox::enqueue(
                &tx,
                &NewItem {
                    connection_id: &connection_id,
                    kind: &item_kind,
                    target: None,
                    payload_json: &payload.to_json(),
                },
            )?;
            payment_requests::insert(
                &tx,
                &NewRequest {
                    id: &item.id,
                    connection_id: &connection_id,
                    amount_minor: payload.amount_minor,
                    currency: &payload.currency,
                    currency_exponent: payload.currency_exponent,
                    description: &payload.description,
                    customer_email: payload.customer_email.as_deref(),
                    fallback_from: fallback_from.as_deref(),
                },
            )?;
            tx.commit()?;
            Ok(item.id)
        })
        .await?;
        tracing::info!(item = %id, "payment request queued in the outbox");
        self.send_outbox_now().await?;
        let key = id.clone();
        blocking(&self.store, move |s| payment_requests::get(&s.conn(), &key)).await
    }

    /// `circuit_open` (or `auth_failed`) naming the next connection that could take the request.
    async fn refusal_with_fallback(
        &self,
        down: &ConnectionView,
        why: String,
    ) -> Result<CommandError> {
        let mut fallback = None;
        for option in self.payment_request_options().await? {
            if option.available && option.connection_id != down.id {
                fallback = Some(option);
                break;
            }
        }
        let message = match fallback {
            Some(f) => format!(
                "{why} You can ask through {} “{}” instead.",
                catalogue_name(&f.provider),
                f.connection
            ),
            None => format!("{why} No other payment connection can take it now."),
        };
        let code = if down.status == ConnectionStatus::NeedsReconnect {
            ErrorCode::AuthFailed
        } else {
            ErrorCode::CircuitOpen
        };
        Ok(CommandError::new(code, message).retryable(true))
    }

    /// One payment request by id.
    pub async fn payment_request(&self, id: &str) -> Result<PaymentRequestView> {
        let id = id.to_string();
        blocking(&self.store, move |s| payment_requests::get(&s.conn(), &id)).await
    }

    pub async fn list_payment_requests(&self, limit: usize) -> Result<Vec<PaymentRequestView>> {
        blocking(&self.store, move |s| {
            payment_requests::list(&s.conn(), limit.clamp(1, 1_000))
        })
        .await
    }

    /// Queues "cancel at period end" for a subscription (our id or the provider's) and sends
    /// it at once; returns the subscription as stored then.
    pub async fn cancel_subscription(&self, id: &str) -> Result<SubscriptionView> {
        let key = id.to_string();
        let (connection_id, external_id, status, at_end) =
            blocking(&self.store, move |s| subscriptions::find(&s.conn(), &key)).await?;
        if status == "canceled" {
            return Err(errors::invalid("This subscription has already ended."));
        }
        if at_end {
            return Err(errors::invalid(
                "This subscription already ends when its current period ends.",
            ));
        }
        let connection = self.find_connection(&connection_id).await?;
        if !adapters::is_payment_provider(&connection.provider) {
            return Err(errors::invalid(format!(
                "Subscriptions of {} cannot be cancelled from Switchboard.",
                connection.name
            )));
        }
        let item_kind = kind(&connection.provider, SUBSCRIPTION_CANCEL);
        let target = external_id.clone();
        blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // One cancel in flight per subscription: a second click changes nothing.
            let open = outbox::open_for_target(&tx, &connection_id, &target)?;
            if !open.iter().any(|i| i.kind == item_kind) {
                outbox::enqueue(
                    &tx,
                    &NewItem {
                        connection_id: &connection_id,
                        kind: &item_kind,
                        target: Some(&target),
                        payload_json: "{}",
                    },
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
        self.send_outbox_now().await?;
        let found = self
            .list_subscriptions(Some(&connection.id))
            .await?
            .into_iter()
            .find(|s| s.external_id == external_id);
        found.ok_or_else(|| {
            CommandError::new(
                ErrorCode::NotFound,
                format!("subscription {external_id} is no longer stored"),
            )
        })
    }
}

/// A light check that catches typos (a full RFC 5322 parse would accept far worse).
fn plausible_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_with_obvious_typos_are_refused() {
        assert!(plausible_email("ada@example.com"));
        assert!(plausible_email("a.b+c@mail.example.co.uk"));
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada @example.com",
            "ada@.com",
        ] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }
}
