//! The durable outbox: everything Switchboard sends to a provider goes through here (refunds
//! now; invoices, emails and SMS later). See "The outbox" in docs/ARCHITECTURE.md.
//!
//! - **Written first:** an item (with its idempotency key, made once) is committed to SQLite
//!   before anything is sent; enqueueing checks the amount against stored data and the refunds
//!   already queued, in the same transaction.
//! - **Sent under a lock:** one process at a time works on the outbox (an OS file lock,
//!   `<workspace>/locks/outbox.send.lock`, as for sync streams), so two processes never send
//!   the same item at once and an item left `sending` belongs to a process that died.
//! - **Uncertain outcomes are looked up:** `sending` is committed before the request leaves; a
//!   send whose answer was lost (crash, dropped connection, 5xx, unreadable answer) leaves
//!   `needs_lookup`, and the next attempt first asks the provider for the object carrying the
//!   item's id in its metadata. Found: it succeeded, nothing is resent. Not found: it is sent
//!   again, with the same idempotency key.
//! - **Retries and dead letters:** transient failures are retried with exponential backoff
//!   (full jitter, `Retry-After` as a floor) across restarts (`next_attempt_at`); a permanent
//!   refusal (a 4xx), or the configured number of failures, makes a dead letter, which a person
//!   retries or discards.

use crate::adapters::PaymentsAdapter;
use crate::sync::{RetryPolicy, blocking, retry_wait};
use crate::workspace::Workspace;
use crate::{Result, errors, locks};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_core::money::decimal_string;
use switchboard_core::records::PaymentRecord;
use switchboard_core::views::{NewRefund, OutboxItemView, OutboxRunView, RefundQuoteView};
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::http::{RequestRecord, RequestSink};
use switchboard_providers::{
    IssuedRefund, LinkProgress, PaymentLink, PaymentLinkRequest, ProviderError, ProviderErrorKind,
    RefundRequest,
};
use switchboard_store::outbox::{self, Failure, Item, NewItem};
use switchboard_store::rusqlite::TransactionBehavior;
use switchboard_store::{payment_requests, payments, refunds, request_log, subscriptions};

/// The actions an outbox item can carry. Kinds are `<provider>.<action>` (`stripe.refund`,
/// `paypal.payment_link`, `square.subscription_cancel`): the action says what to send, the
/// provider is kept for people reading the outbox.
pub(crate) const REFUND: &str = "refund";
pub(crate) const PAYMENT_LINK: &str = "payment_link";
pub(crate) const SUBSCRIPTION_CANCEL: &str = "subscription_cancel";
/// Capturing an approved PayPal order (`paypal.order_capture`, target: the order id; payload:
/// the payment request's id). See `requests/paypal_capture.rs`.
pub(crate) const ORDER_CAPTURE: &str = "order_capture";

/// The kind of an item doing `action` at `provider`.
pub(crate) fn kind(provider: &str, action: &str) -> String {
    format!("{provider}.{action}")
}

/// The action of a kind (`refund` of `stripe.refund`).
fn action_of(kind: &str) -> &str {
    kind.rsplit_once('.').map_or(kind, |(_, action)| action)
}
/// Reasons Stripe accepts for a refund.
pub const REFUND_REASONS: &[&str] = &["duplicate", "fraudulent", "requested_by_customer"];
/// Overrides [`OutboxPolicy::max_attempts`] (a positive integer).
pub const MAX_ATTEMPTS_ENV: &str = "SWITCHBOARD_OUTBOX_MAX_ATTEMPTS";
/// Items one pass works on at most.
const BATCH: usize = 100;

/// When items are retried and when they become dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxPolicy {
    /// Failed attempts after which an item becomes a dead letter (default 5).
    pub max_attempts: i64,
    /// Backoff before try 2; doubles each time (full jitter) up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for OutboxPolicy {
    fn default() -> Self {
        OutboxPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(60 * 60),
        }
    }
}

impl OutboxPolicy {
    /// The default, with `SWITCHBOARD_OUTBOX_MAX_ATTEMPTS` when set to a positive integer.
    pub fn from_env() -> Self {
        let mut policy = OutboxPolicy::default();
        if let Some(n) = std::env::var(MAX_ATTEMPTS_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|n| *n > 0)
        {
            policy.max_attempts = n;
        }
        policy
    }

    fn next_attempt_at(&self, attempts: i64, retry_after_secs: Option<u64>) -> String {
        let retry = RetryPolicy {
            attempts: u32::MAX,
            base_delay: self.base_delay,
            max_delay: self.max_delay,
        };
        let attempt = u32::try_from(attempts.max(1)).unwrap_or(u32::MAX);
        let wait = retry_wait(retry, attempt, retry_after_secs, rand::random());
        let at = chrono::Utc::now()
            + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
        at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

/// The payload of a refund item (JSON in `outbox.payload_json`; never a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RefundPayload {
    payment_id: String,
    payment_external_id: String,
    amount_minor: i64,
    currency: String,
    currency_exponent: u8,
    reason: Option<String>,
}

impl RefundPayload {
    fn to_json(&self) -> String {
        json!({
            "payment_id": self.payment_id,
            "payment_external_id": self.payment_external_id,
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "currency_exponent": self.currency_exponent,
            "reason": self.reason,
        })
        .to_string()
    }

    fn parse(text: &str) -> Option<RefundPayload> {
        let v: Value = serde_json::from_str(text).ok()?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(RefundPayload {
            payment_id: s("payment_id")?,
            payment_external_id: s("payment_external_id")?,
            amount_minor: v.get("amount_minor")?.as_i64()?,
            currency: s("currency")?,
            currency_exponent: u8::try_from(v.get("currency_exponent")?.as_u64()?).ok()?,
            reason: s("reason"),
        })
    }
}

/// The payload of a payment link item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkPayload {
    pub amount_minor: i64,
    pub currency: String,
    pub currency_exponent: u8,
    pub description: String,
    pub customer_email: Option<String>,
    /// The return URL setting when the request was made (see `PaymentLinkRequest`). The outer
    /// `None`: an item queued before payloads recorded it, sent with the setting at send time,
    /// as such items were.
    pub return_url: Option<Option<String>>,
}

impl LinkPayload {
    pub(crate) fn to_json(&self) -> String {
        json!({
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "currency_exponent": self.currency_exponent,
            "description": self.description,
            "customer_email": self.customer_email,
            "return_url": self.return_url,
        })
        .to_string()
    }

    fn parse(text: &str) -> Option<LinkPayload> {
        let v: Value = serde_json::from_str(text).ok()?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(LinkPayload {
            amount_minor: v.get("amount_minor")?.as_i64()?,
            currency: s("currency")?,
            currency_exponent: u8::try_from(v.get("currency_exponent")?.as_u64()?).ok()?,
            description: s("description")?,
            customer_email: s("customer_email"),
            return_url: v.get("return_url").map(|u| u.as_str().map(str::to_string)),
        })
    }
}

fn is_final(status: &str) -> bool {
    matches!(status, outbox::SUCCEEDED | outbox::DEAD | outbox::DISCARDED)
}

fn view(item: &Item, policy: &OutboxPolicy) -> OutboxItemView {
    let refund = (action_of(&item.kind) == REFUND)
        .then(|| RefundPayload::parse(&item.payload_json))
        .flatten();
    let summary = match &refund {
        Some(r) => format!(
            "Refund {} {} of {}{}",
            decimal_string(r.amount_minor, r.currency_exponent),
            r.currency,
            r.payment_external_id,
            r.reason
                .as_deref()
                .map(|why| format!(" ({})", why.replace('_', " ")))
                .unwrap_or_default()
        ),
        None => match (
            action_of(&item.kind),
            LinkPayload::parse(&item.payload_json),
        ) {
            (PAYMENT_LINK, Some(link)) => format!(
                "Payment request {} {}: {}",
                decimal_string(link.amount_minor, link.currency_exponent),
                link.currency,
                link.description
            ),
            (SUBSCRIPTION_CANCEL, _) => format!(
                "Cancel subscription {} at period end",
                item.target.as_deref().unwrap_or("")
            ),
            (ORDER_CAPTURE, _) => format!(
                "Capture the approved order {} (take the customer's payment)",
                item.target.as_deref().unwrap_or("")
            ),
            _ => format!("{} {}", item.kind, item.target.as_deref().unwrap_or("")),
        },
    };
    OutboxItemView {
        id: item.id.clone(),
        connection_id: item.connection_id.clone(),
        connection: item.connection_name.clone(),
        kind: item.kind.clone(),
        summary,
        target: item.target.clone(),
        payment_id: refund.as_ref().map(|r| r.payment_id.clone()),
        amount_minor: refund.as_ref().map(|r| r.amount_minor),
        currency: refund.as_ref().map(|r| r.currency.clone()),
        currency_exponent: refund.as_ref().map(|r| r.currency_exponent),
        reason: refund.as_ref().and_then(|r| r.reason.clone()),
        status: item.status.clone(),
        is_final: is_final(&item.status),
        attempts: item.attempts,
        max_attempts: policy.max_attempts,
        next_attempt_at: (item.status == outbox::QUEUED).then(|| item.next_attempt_at.clone()),
        last_error_code: item.last_error_code.clone(),
        last_error_message: item.last_error_message.clone(),
        result_external_id: item.result_external_id.clone(),
        created_at: item.created_at.clone(),
        updated_at: item.updated_at.clone(),
    }
}

/// The quote of one payment, from the store (call inside the enqueueing transaction).
fn quote(conn: &switchboard_store::rusqlite::Connection, key: &str) -> Result<RefundQuoteView> {
    let ids = outbox::payment_ids(conn, key).map_err(errors::store)?;
    let id = match ids.as_slice() {
        [] => {
            return Err(CommandError::new(
                ErrorCode::NotFound,
                format!(
                    "No payment `{key}`. Sync first, or give its id from `switchboard payments list`."
                ),
            ));
        }
        [one] => one.clone(),
        _ => {
            return Err(errors::invalid(format!(
                "`{key}` names payments of several connections; give Switchboard's id of the payment instead."
            )));
        }
    };
    let (p, _, _) = payments::get(conn, &id).map_err(errors::store)?;
    let open =
        outbox::open_for_target(conn, &p.connection_id, &p.external_id).map_err(errors::store)?;
    let pending_minor: i64 = open
        .iter()
        .filter(|i| action_of(&i.kind) == REFUND)
        .filter_map(|i| RefundPayload::parse(&i.payload_json))
        .map(|r| r.amount_minor)
        .sum();
    let refundable_minor = (p.amount_minor - p.refunded_minor - pending_minor).max(0);
    let blocked_reason = if !crate::adapters::can_refund(&p.provider) {
        Some(format!(
            "Refunding {} payments is not available yet.",
            p.provider
        ))
    } else if p.status == "failed" {
        Some("This payment failed; there is nothing to refund.".to_string())
    } else if p.status == "unknown" {
        Some("The payment's status is unknown; sync it again before refunding.".to_string())
    } else if p.amount_minor - p.refunded_minor <= 0 {
        Some("This payment is already fully refunded.".to_string())
    } else if refundable_minor == 0 {
        Some("Refunds already queued cover what is left of this payment.".to_string())
    } else {
        None
    };
    Ok(RefundQuoteView {
        payment_id: p.id,
        external_id: p.external_id,
        amount_minor: p.amount_minor,
        refunded_minor: p.refunded_minor,
        pending_minor,
        refundable_minor,
        currency: p.currency,
        currency_exponent: p.currency_exponent,
        blocked_reason,
        reasons: REFUND_REASONS.iter().map(|r| r.to_string()).collect(),
    })
}

/// Exchanges of one send, written to the request log with its outcome.
#[derive(Default)]
struct Exchanges(Mutex<Vec<RequestRecord>>);

impl Exchanges {
    fn sink(self: &Arc<Self>) -> RequestSink {
        let me = self.clone();
        Arc::new(move |r: RequestRecord| {
            me.0.lock().unwrap_or_else(|e| e.into_inner()).push(r);
        })
    }

    fn take(&self) -> Vec<RequestRecord> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// What happened to one item in a pass.
enum Outcome {
    Succeeded { by_lookup: bool },
    Retrying,
    Dead,
}

impl Workspace {
    /// Overrides when outbox items are retried and become dead letters (tests use no delay).
    pub fn set_outbox_policy(&mut self, policy: OutboxPolicy) {
        self.outbox_policy = policy;
    }

    /// What a payment (our id or the provider's) can still be refunded.
    pub async fn refund_quote(&self, payment: &str) -> Result<RefundQuoteView> {
        let key = payment.to_string();
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || quote(&store.conn(), &key))
            .await
            .map_err(|e| errors::internal(format!("database task failed: {e}")))?
    }

    /// Writes a refund to the outbox (nothing is sent yet). The amount (default: all that is
    /// left) must not exceed what stored data and refunds already queued leave refundable.
    pub async fn enqueue_refund(&self, input: NewRefund) -> Result<OutboxItemView> {
        if let Some(reason) = &input.reason
            && !REFUND_REASONS.contains(&reason.as_str())
        {
            return Err(errors::invalid(format!(
                "“{reason}” is not a refund reason; use one of: {}.",
                REFUND_REASONS.join(", ")
            )));
        }
        let store = self.store.clone();
        let item = tokio::task::spawn_blocking(move || -> Result<Item> {
            let mut conn = store.conn();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| errors::store(e.into()))?;
            let q = quote(&tx, &input.payment)?;
            if let Some(why) = &q.blocked_reason {
                return Err(errors::invalid(why.clone()));
            }
            let amount = input.amount_minor.unwrap_or(q.refundable_minor);
            let money = |m: i64| format!("{} {}", decimal_string(m, q.currency_exponent), q.currency);
            if amount <= 0 {
                return Err(errors::invalid(format!(
                    "A refund must be more than zero (in {}ths of {}: the amount is in minor units).",
                    10i64.pow(u32::from(q.currency_exponent)),
                    q.currency
                )));
            }
            if amount > q.refundable_minor {
                return Err(errors::invalid(format!(
                    "At most {} of {} can be refunded ({} paid, {} refunded, {} queued); {} is more.",
                    money(q.refundable_minor),
                    q.external_id,
                    money(q.amount_minor),
                    money(q.refunded_minor),
                    money(q.pending_minor),
                    money(amount)
                )));
            }
            let (payment, _, _) = payments::get(&tx, &q.payment_id).map_err(errors::store)?;
            let payload = RefundPayload {
                payment_id: q.payment_id.clone(),
                payment_external_id: q.external_id.clone(),
                amount_minor: amount,
                currency: q.currency.clone(),
                currency_exponent: q.currency_exponent,
                reason: input.reason.clone(),
            };
            let item = outbox::enqueue(
                &tx,
                &NewItem {
                    connection_id: &payment.connection_id,
                    kind: &kind(&payment.provider, REFUND),
                    target: Some(&q.external_id),
                    payload_json: &payload.to_json(),
                },
            )
            .map_err(errors::store)?;
            tx.commit().map_err(|e| errors::store(e.into()))?;
            Ok(item)
        })
        .await
        .map_err(|e| errors::internal(format!("database task failed: {e}")))??;
        tracing::info!(item = %item.id, "refund queued in the outbox");
        Ok(view(&item, &self.outbox_policy))
    }

    /// Queues a refund and sends what is due at once; returns the item as it is then (final,
    /// or queued for a retry, or queued because another process is sending).
    pub async fn refund_payment(&self, input: NewRefund) -> Result<OutboxItemView> {
        let item = self.enqueue_refund(input).await?;
        self.send_outbox_now().await?;
        self.get_outbox_item(&item.id).await
    }

    /// A pass unless another process holds the outbox (it then sends the item later).
    pub(crate) async fn send_outbox_now(&self) -> Result<()> {
        match self.process_outbox().await {
            Ok(_) => Ok(()),
            Err(e) if e.code == ErrorCode::Conflict => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn get_outbox_item(&self, id: &str) -> Result<OutboxItemView> {
        let id = id.to_string();
        let item = blocking(&self.store, move |s| outbox::get(&s.conn(), &id)).await?;
        Ok(view(&item, &self.outbox_policy))
    }

    /// The outbox, newest first; only dead letters when `dead_only`.
    pub async fn list_outbox(&self, dead_only: bool, limit: usize) -> Result<Vec<OutboxItemView>> {
        let items = blocking(&self.store, move |s| {
            outbox::list(&s.conn(), dead_only, limit)
        })
        .await?;
        Ok(items.iter().map(|i| view(i, &self.outbox_policy)).collect())
    }

    /// A dead letter goes back to the queue (attempts counted afresh) and is sent at once.
    pub async fn retry_dead_letter(&self, id: &str) -> Result<OutboxItemView> {
        let key = id.to_string();
        blocking(&self.store, move |s| outbox::retry(&s.conn(), &key)).await?;
        self.send_outbox_now().await?;
        self.get_outbox_item(id).await
    }

    /// A dead letter is given up; it stays listed as `discarded`.
    pub async fn discard_dead_letter(&self, id: &str) -> Result<OutboxItemView> {
        let key = id.to_string();
        let item = blocking(&self.store, move |s| outbox::discard(&s.conn(), &key)).await?;
        Ok(view(&item, &self.outbox_policy))
    }

    /// Sends every due item once (items left `sending` by a dead process first get looked
    /// up). Fails with a retryable `conflict` when another process is working on the outbox.
    pub async fn process_outbox(&self) -> Result<OutboxRunView> {
        let _lock = match locks::try_lock(&self.folder, locks::OUTBOX_SCOPE, "send") {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                return Err(CommandError::new(
                    ErrorCode::Conflict,
                    "Another Switchboard window or command is sending the outbox; it sends these items too.",
                )
                .retryable(true));
            }
            Err(e) => {
                return Err(errors::internal(format!(
                    "cannot take the outbox lock in {}: {e}",
                    self.folder.display()
                )));
            }
        };
        let now = switchboard_core::now_rfc3339();
        let due = blocking(&self.store, move |s| outbox::due(&s.conn(), &now, BATCH)).await?;
        let mut run = OutboxRunView::default();
        for item in due {
            run.processed += 1;
            match self.process_item(&item).await? {
                Outcome::Succeeded { by_lookup } => {
                    run.succeeded += 1;
                    run.found_by_lookup += i64::from(by_lookup);
                }
                Outcome::Retrying => run.retrying += 1,
                Outcome::Dead => run.dead += 1,
            }
        }
        if run.processed > 0 {
            tracing::info!(?run, "outbox pass");
        }
        Ok(run)
    }

    async fn process_item(&self, item: &Item) -> Result<Outcome> {
        match action_of(&item.kind) {
            REFUND => self.send_refund(item).await,
            PAYMENT_LINK => self.send_payment_link(item).await,
            SUBSCRIPTION_CANCEL => self.send_subscription_cancel(item).await,
            ORDER_CAPTURE => self.send_order_capture(item).await,
            _ => self.unreadable(item).await,
        }
    }

    /// An item this version cannot send (a payload it cannot read): a dead letter at once.
    async fn unreadable(&self, item: &Item) -> Result<Outcome> {
        let message = format!(
            "Switchboard cannot send outbox items of kind `{}`.",
            item.kind
        );
        self.fail(
            item,
            ErrorCode::Internal,
            &message,
            FailureShape::permanent(),
            Vec::new(),
        )
        .await
    }

    async fn send_refund(&self, item: &Item) -> Result<Outcome> {
        let Some(payload) = RefundPayload::parse(&item.payload_json) else {
            return self.unreadable(item).await;
        };
        let exchanges = Arc::new(Exchanges::default());
        let Some(adapter) = self.capability(item, &exchanges, |a| a.refunds).await? else {
            return self.unavailable(item, "Refunding").await;
        };

        // An earlier send may have reached the provider: look before sending again.
        if item.needs_lookup {
            match adapter
                .find_refund(&payload.payment_external_id, &item.id)
                .await
            {
                Ok(Some(found)) => {
                    tracing::info!(item = %item.id, refund = %found.refund.external_id, "outbox item found at the provider; not resent");
                    return self.succeed(item, found, exchanges.take(), true).await;
                }
                Ok(None) => {
                    let id = item.id.clone();
                    blocking(&self.store, move |s| outbox::clear_lookup(&s.conn(), &id)).await?;
                }
                Err(e) => return self.lookup_failed(item, &e, exchanges.take()).await,
            }
        }

        self.mark_sending(item).await?;
        let request = RefundRequest {
            payment_external_id: payload.payment_external_id.clone(),
            amount_minor: payload.amount_minor,
            currency: payload.currency.clone(),
            currency_exponent: payload.currency_exponent,
            reason: payload.reason.clone(),
            idempotency_key: item.idempotency_key.clone(),
            outbox_id: item.id.clone(),
        };
        match adapter.create_refund(&request).await {
            Ok(issued) => self.succeed(item, issued, exchanges.take(), false).await,
            Err(e) => self.send_failed(item, &e, exchanges.take()).await,
        }
    }

    /// One capability of the item's connection's adapter, under the connection's rate budget
    /// and circuit breaker like its syncs; `None` when the provider cannot do it.
    async fn capability<T>(
        &self,
        item: &Item,
        exchanges: &Arc<Exchanges>,
        pick: impl FnOnce(PaymentsAdapter) -> Option<T>,
    ) -> Result<Option<T>> {
        let connection = self.find_connection(&item.connection_id).await?;
        match self.payments_adapter(&connection, exchanges.sink()).await {
            Ok(adapter) => Ok(pick(adapter)),
            Err(e) if e.code == ErrorCode::InvalidInput => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The provider cannot do what the item asks: a dead letter at once, saying so.
    async fn unavailable(&self, item: &Item, what: &str) -> Result<Outcome> {
        let provider = item.kind.split('.').next().unwrap_or(&item.kind);
        let message = format!(
            "{what} through {} is not available yet.",
            crate::workspace::catalogue_name(provider)
        );
        self.fail(
            item,
            ErrorCode::InvalidInput,
            &message,
            FailureShape::permanent(),
            Vec::new(),
        )
        .await
    }

    /// A look-up of an uncertain send failed: still uncertain; the look-up counts as an
    /// attempt unless the circuit breaker held it back (then nothing was sent).
    async fn lookup_failed(
        &self,
        item: &Item,
        e: &ProviderError,
        exchanges: Vec<RequestRecord>,
    ) -> Result<Outcome> {
        let shape = FailureShape {
            uncertain: true,
            permanent: refused_for_good(e),
            count_attempt: e.kind != ProviderErrorKind::CircuitOpen,
            retry_after_secs: e.retry_after_secs,
            held_back: e.kind == ProviderErrorKind::CircuitOpen,
        };
        let message = CommandError::from(e.clone()).message;
        self.fail(item, e.code(), &message, shape, exchanges).await
    }

    /// A send failed: uncertain when the provider may have applied it, a dead letter when it
    /// refused it for good, else retried later (`mark_sending` counted the attempt).
    async fn send_failed(
        &self,
        item: &Item,
        e: &ProviderError,
        exchanges: Vec<RequestRecord>,
    ) -> Result<Outcome> {
        let shape = FailureShape {
            uncertain: outcome_unknown(e),
            permanent: refused_for_good(e),
            count_attempt: false,
            retry_after_secs: e.retry_after_secs,
            held_back: e.kind == ProviderErrorKind::CircuitOpen,
        };
        let message = CommandError::from(e.clone()).message;
        tracing::warn!(item = %item.id, "outbox send failed: {message}");
        self.fail(item, e.code(), &message, shape, exchanges).await
    }

    /// Committed before the request leaves: a crash from here on is an uncertain outcome.
    async fn mark_sending(&self, item: &Item) -> Result<()> {
        let id = item.id.clone();
        blocking(&self.store, move |s| outbox::mark_sending(&s.conn(), &id)).await
    }

    async fn send_payment_link(&self, item: &Item) -> Result<Outcome> {
        let Some(payload) = LinkPayload::parse(&item.payload_json) else {
            return self.unreadable(item).await;
        };
        let exchanges = Arc::new(Exchanges::default());
        let Some(adapter) = self
            .capability(item, &exchanges, |a| a.payment_links)
            .await?
        else {
            return self.unavailable(item, "Requesting payments").await;
        };
        if item.needs_lookup {
            match adapter.find_payment_link(&item.id).await {
                Ok(Some(link)) => {
                    tracing::info!(item = %item.id, link = %link.external_id, "payment link found at the provider; not made again");
                    return self.link_made(item, link, exchanges.take(), true).await;
                }
                Ok(None) => {
                    let id = item.id.clone();
                    blocking(&self.store, move |s| outbox::clear_lookup(&s.conn(), &id)).await?;
                }
                Err(e) => return self.lookup_failed(item, &e, exchanges.take()).await,
            }
        }
        self.mark_sending(item).await?;
        let request = PaymentLinkRequest {
            amount_minor: payload.amount_minor,
            currency: payload.currency,
            currency_exponent: payload.currency_exponent,
            description: payload.description,
            customer_email: payload.customer_email,
            return_url: match payload.return_url {
                Some(recorded) => recorded,
                None => self.payment_return_url().await?,
            },
            idempotency_key: item.idempotency_key.clone(),
            outbox_id: item.id.clone(),
        };
        match adapter.create_payment_link(&request).await {
            Ok(link) => self.link_made(item, link, exchanges.take(), false).await,
            Err(e) => self.send_failed(item, &e, exchanges.take()).await,
        }
    }

    async fn link_made(
        &self,
        item: &Item,
        link: PaymentLink,
        exchanges: Vec<RequestRecord>,
        by_lookup: bool,
    ) -> Result<Outcome> {
        let (id, conn_id) = (item.id.clone(), item.connection_id.clone());
        blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            payment_requests::set_link(&tx, &id, &link.external_id, &link.url)?;
            request_log::append(&tx, &conn_id, &exchanges)?;
            outbox::record_success(&tx, &id, &link.external_id)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
        Ok(Outcome::Succeeded { by_lookup })
    }

    /// Captures an approved order. Capturing twice is refused by PayPal, and the item's key
    /// (one item per order) makes a resend answer the first capture; still, an uncertain
    /// earlier send is looked up first (`GET` the order: captured already → done, nothing
    /// sent).
    async fn send_order_capture(&self, item: &Item) -> Result<Outcome> {
        let (Some(order), Some(request_id)) = (item.target.clone(), capture_request_id(item))
        else {
            return self.unreadable(item).await;
        };
        let exchanges = Arc::new(Exchanges::default());
        let Some(adapter) = self
            .capability(item, &exchanges, |a| a.payment_links)
            .await?
        else {
            return self.unavailable(item, "Capturing payments").await;
        };
        if item.needs_lookup {
            match adapter.link_progress(&order).await {
                Ok(LinkProgress::Paid(payment)) => {
                    tracing::info!(item = %item.id, capture = %payment.external_id, "order found captured at PayPal; not sent again");
                    return self
                        .order_captured(item, &request_id, *payment, exchanges.take(), true)
                        .await;
                }
                Ok(LinkProgress::Expired { reason }) => {
                    return self
                        .order_lapsed(item, &request_id, &reason, exchanges.take())
                        .await;
                }
                // Still approved (or waiting): nothing was captured; send it.
                Ok(_) => {
                    let id = item.id.clone();
                    blocking(&self.store, move |s| outbox::clear_lookup(&s.conn(), &id)).await?;
                }
                Err(e) => return self.lookup_failed(item, &e, exchanges.take()).await,
            }
        }
        self.mark_sending(item).await?;
        match adapter.complete_link(&order, &item.idempotency_key).await {
            Ok(LinkProgress::Paid(payment)) => {
                self.order_captured(item, &request_id, *payment, exchanges.take(), false)
                    .await
            }
            Ok(LinkProgress::Expired { reason }) => {
                self.order_lapsed(item, &request_id, &reason, exchanges.take())
                    .await
            }
            Ok(other) => {
                let state = match &other {
                    LinkProgress::Open { status } => status.as_str(),
                    LinkProgress::Approved => "still approved",
                    _ => "a link that collects by itself",
                };
                let message = format!(
                    "The provider did not take the payment of order {order} ({state}); nothing \
                     was captured."
                );
                self.fail(
                    item,
                    ErrorCode::ProviderError,
                    &message,
                    FailureShape::permanent(),
                    exchanges.take(),
                )
                .await
            }
            Err(e) => self.send_failed(item, &e, exchanges.take()).await,
        }
    }

    /// The money is taken: the payment (under the capture id Transaction Search reports
    /// later, so the next sync updates this row), the request `paid`, the item done, together.
    async fn order_captured(
        &self,
        item: &Item,
        request_id: &str,
        payment: PaymentRecord,
        exchanges: Vec<RequestRecord>,
        by_lookup: bool,
    ) -> Result<Outcome> {
        let (id, conn_id, request_id) = (
            item.id.clone(),
            item.connection_id.clone(),
            request_id.to_string(),
        );
        blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            payments::upsert(&tx, &conn_id, &payment)?;
            let now = switchboard_core::now_rfc3339();
            payment_requests::mark_paid(&tx, &request_id, &payment.external_id, &now)?;
            request_log::append(&tx, &conn_id, &exchanges)?;
            outbox::record_success(&tx, &id, &payment.external_id)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
        Ok(Outcome::Succeeded { by_lookup })
    }

    /// The order can no longer be captured (voided, expired, declined): the request is
    /// `expired` and the item a dead letter saying why (nothing was taken).
    async fn order_lapsed(
        &self,
        item: &Item,
        request_id: &str,
        reason: &str,
        exchanges: Vec<RequestRecord>,
    ) -> Result<Outcome> {
        let (request_id, why) = (request_id.to_string(), reason.to_string());
        blocking(&self.store, move |s| {
            let now = switchboard_core::now_rfc3339();
            payment_requests::mark_expired(&s.conn(), &request_id, &why, &now)
        })
        .await?;
        self.fail(
            item,
            ErrorCode::ProviderError,
            reason,
            FailureShape::permanent(),
            exchanges,
        )
        .await
    }

    async fn send_subscription_cancel(&self, item: &Item) -> Result<Outcome> {
        let Some(subscription) = item.target.clone() else {
            return self.unreadable(item).await;
        };
        let exchanges = Arc::new(Exchanges::default());
        let Some(adapter) = self
            .capability(item, &exchanges, |a| a.subscriptions)
            .await?
        else {
            return self.unavailable(item, "Cancelling subscriptions").await;
        };
        // Cancelling at period end is the same request however often it is sent, so an
        // uncertain earlier send needs no look-up: sending again is safe.
        self.mark_sending(item).await?;
        match adapter
            .cancel_at_period_end(&subscription, &item.idempotency_key)
            .await
        {
            Ok(record) => {
                let (id, conn_id) = (item.id.clone(), item.connection_id.clone());
                let exchanges = exchanges.take();
                blocking(&self.store, move |s| {
                    let mut conn = s.conn();
                    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                    subscriptions::upsert_many(&tx, &conn_id, std::slice::from_ref(&record))?;
                    request_log::append(&tx, &conn_id, &exchanges)?;
                    outbox::record_success(&tx, &id, &record.external_id)?;
                    tx.commit()?;
                    Ok(())
                })
                .await?;
                Ok(Outcome::Succeeded { by_lookup: false })
            }
            Err(e) => self.send_failed(item, &e, exchanges.take()).await,
        }
    }

    async fn succeed(
        &self,
        item: &Item,
        issued: IssuedRefund,
        exchanges: Vec<RequestRecord>,
        by_lookup: bool,
    ) -> Result<Outcome> {
        let (id, conn_id) = (item.id.clone(), item.connection_id.clone());
        blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            refunds::upsert(&tx, &conn_id, &issued.refund)?;
            if let Some(payment) = &issued.payment {
                payments::upsert(&tx, &conn_id, payment)?;
            }
            // A provider that returns no updated payment (PayPal): its refunds say how much.
            if let Some(payment) = issued.refund.payment_external_id.as_deref() {
                payments::raise_refunded_from_refunds(&tx, &conn_id, &[payment])?;
            }
            request_log::append(&tx, &conn_id, &exchanges)?;
            outbox::record_success(&tx, &id, &issued.refund.external_id)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
        Ok(Outcome::Succeeded { by_lookup })
    }

    async fn fail(
        &self,
        item: &Item,
        code: ErrorCode,
        message: &str,
        shape: FailureShape,
        exchanges: Vec<RequestRecord>,
    ) -> Result<Outcome> {
        // `mark_sending` counted the send; a look-up or a refusal before sending counts here.
        let attempts = item.attempts + 1;
        let dead =
            shape.permanent || (!shape.held_back && attempts >= self.outbox_policy.max_attempts);
        let retry_at = (!dead).then(|| {
            self.outbox_policy
                .next_attempt_at(attempts, shape.retry_after_secs)
        });
        let (id, conn_id) = (item.id.clone(), item.connection_id.clone());
        let (code, message) = (code.as_str().to_string(), message.to_string());
        blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            request_log::append(&tx, &conn_id, &exchanges)?;
            outbox::record_failure(
                &tx,
                &id,
                &Failure {
                    code: &code,
                    message: &message,
                    uncertain: shape.uncertain,
                    retry_at: retry_at.as_deref(),
                    count_attempt: shape.count_attempt,
                },
            )?;
            tx.commit()?;
            Ok(())
        })
        .await?;
        Ok(if dead {
            Outcome::Dead
        } else {
            Outcome::Retrying
        })
    }
}

/// The payload of an order capture item: `{"payment_request_id": …}`.
pub(crate) fn capture_payload(payment_request_id: &str) -> String {
    json!({ "payment_request_id": payment_request_id }).to_string()
}

fn capture_request_id(item: &Item) -> Option<String> {
    let v: Value = serde_json::from_str(&item.payload_json).ok()?;
    v.get("payment_request_id")?.as_str().map(str::to_string)
}

/// How a failure is recorded.
#[derive(Debug, Clone, Copy)]
struct FailureShape {
    uncertain: bool,
    permanent: bool,
    count_attempt: bool,
    retry_after_secs: Option<u64>,
    /// The connection's circuit breaker held the request back: no failure of the item's
    /// own, so it never makes a dead letter by count.
    held_back: bool,
}

impl FailureShape {
    fn permanent() -> Self {
        FailureShape {
            uncertain: false,
            permanent: true,
            count_attempt: true,
            retry_after_secs: None,
            held_back: false,
        }
    }
}

/// Whether the provider refused the item for good (a 4xx: a dead letter at once). An open
/// circuit breaker is no refusal: nothing was sent, and the item waits for the breaker's trial.
fn refused_for_good(e: &ProviderError) -> bool {
    !e.is_transient() && e.kind != ProviderErrorKind::CircuitOpen
}

/// Whether the provider may have applied a request that failed this way: the answer was lost
/// (connection dropped, timeout), unreadable, or a server error. A 4xx or 429 applied nothing.
fn outcome_unknown(e: &ProviderError) -> bool {
    matches!(
        e.kind,
        ProviderErrorKind::Network | ProviderErrorKind::Server | ProviderErrorKind::BadResponse
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_and_summarises() {
        let p = RefundPayload {
            payment_id: "p1".into(),
            payment_external_id: "ch_1".into(),
            amount_minor: 1234,
            currency: "EUR".into(),
            currency_exponent: 2,
            reason: Some("requested_by_customer".into()),
        };
        assert_eq!(RefundPayload::parse(&p.to_json()), Some(p.clone()));
        assert_eq!(RefundPayload::parse("{}"), None);
        let item = Item {
            id: "i".into(),
            connection_id: "c".into(),
            connection_name: "Main".into(),
            kind: kind("stripe", REFUND),
            target: Some("ch_1".into()),
            payload_json: p.to_json(),
            idempotency_key: "k".into(),
            status: "dead".into(),
            needs_lookup: false,
            attempts: 5,
            next_attempt_at: "x".into(),
            last_error_code: None,
            last_error_message: None,
            result_external_id: None,
            created_at: "t".into(),
            updated_at: "t".into(),
            finished_at: None,
        };
        let v = view(&item, &OutboxPolicy::default());
        assert_eq!(
            v.summary,
            "Refund 12.34 EUR of ch_1 (requested by customer)"
        );
        assert!(v.is_final);
        assert_eq!(v.next_attempt_at, None);
        assert_eq!(v.amount_minor, Some(1234));
    }

    #[test]
    fn a_link_payload_keeps_its_return_url_and_tells_an_older_one_apart() {
        let mut p = LinkPayload {
            amount_minor: 4000,
            currency: "EUR".into(),
            currency_exponent: 2,
            description: "Deposit".into(),
            customer_email: None,
            return_url: Some(Some("https://shop.example.com/thanks".into())),
        };
        assert_eq!(LinkPayload::parse(&p.to_json()), Some(p.clone()));
        p.return_url = Some(None);
        assert_eq!(LinkPayload::parse(&p.to_json()), Some(p.clone()));
        // Queued before payloads recorded it: no key at all.
        let older = r#"{"amount_minor":4000,"currency":"EUR","currency_exponent":2,
            "description":"Deposit","customer_email":null}"#;
        assert_eq!(LinkPayload::parse(older).unwrap().return_url, None);
    }

    #[test]
    fn backoff_grows_and_respects_retry_after() {
        let policy = OutboxPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(60),
            max_delay: Duration::from_secs(600),
        };
        let later = policy.next_attempt_at(3, Some(3_000));
        let soon = switchboard_core::now_rfc3339();
        // A Retry-After of 50 minutes wins over the 10-minute cap.
        let floor = (chrono::Utc::now() + chrono::Duration::seconds(2_990))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        assert!(later > floor && later > soon, "{later} vs {floor}");
    }

    #[test]
    fn only_lost_answers_and_server_errors_leave_the_outcome_open() {
        let e = |kind| ProviderError::new(kind, "x");
        assert!(outcome_unknown(&e(ProviderErrorKind::Network)));
        assert!(outcome_unknown(&e(ProviderErrorKind::Server)));
        assert!(outcome_unknown(&e(ProviderErrorKind::BadResponse)));
        assert!(!outcome_unknown(&e(ProviderErrorKind::RateLimited)));
        assert!(!outcome_unknown(&e(ProviderErrorKind::InvalidRequest)));
        assert!(!outcome_unknown(&e(ProviderErrorKind::Auth)));
    }
}
