//! Following up PayPal payment requests: a PayPal order (intent `CAPTURE`) moves no money until
//! Switchboard captures it after the customer approved, and PayPal reverses an approval left
//! uncaptured (3 hours by default for some payment methods) and keeps an order 29 days. So
//! every open PayPal request is looked up (`GET` its order, one request each, under the
//! connection's rate budget and circuit breaker):
//!
//! - waiting for the customer (`CREATED`, `PAYER_ACTION_REQUIRED`): nothing to do;
//! - `APPROVED`: a `paypal.order_capture` outbox item, written first and then sent with its
//!   idempotency key like every write (one item per order, so the key is the order's: a resend
//!   never captures twice; see `outbox.rs`). A request whose capture is in dead letters is not
//!   looked up until a person retries it; one whose capture was discarded is looked up (so it
//!   still ends paid or expired) but never captured;
//! - `COMPLETED` (captured already): the request is `paid` and the capture stored as a payment;
//! - `VOIDED`, unknown to PayPal, or older than 29 days: `expired` (no request for the last).
//!
//! Stripe and Square requests are not followed up: their links take the money by themselves
//! when the customer pays, and the payment arrives with a sync.
//!
//! When: after each sync of a PayPal connection (its requests), on demand
//! (`Workspace::check_payment_requests`: `switchboard payments requests`), and in each
//! scheduler tick for the requests whose last look-up is older than [`follow_up_every`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use switchboard_core::ErrorCode;
use switchboard_core::views::{ConnectionStatus, ConnectionView};
use switchboard_providers::http::{RequestRecord, RequestSink};
use switchboard_providers::{LinkProgress, ProviderErrorKind, RequestPayments};
use switchboard_store::outbox::{self, NewItem};
use switchboard_store::payment_requests::{self, OpenRequest};
use switchboard_store::rusqlite::TransactionBehavior;
use switchboard_store::{payments, request_log};

use crate::Result;
use crate::outbox::{ORDER_CAPTURE, capture_payload, kind};
use crate::sync::blocking;
use crate::workspace::Workspace;

/// How long PayPal keeps an order id valid
/// (https://developer.paypal.com/api/nvp-soap/troubleshooting/10621/).
pub const ORDER_VALID_DAYS: i64 = 29;

/// The provider whose requests are followed up.
const PAYPAL: &str = "paypal";

/// How often the scheduler looks a request up, by its age: every 2 minutes in its first day
/// (customers mostly pay soon after they get the link), then every 15 minutes. Both stay far
/// inside the 3 hours PayPal gives to capture an approval.
pub fn follow_up_every(age: Duration) -> Duration {
    if age < Duration::days(1) {
        Duration::minutes(2)
    } else {
        Duration::minutes(15)
    }
}

/// What one follow-up did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PaymentRequestCheck {
    /// Orders looked up at PayPal.
    pub looked_up: usize,
    /// Approved orders whose capture was queued (and sent, unless another process is sending
    /// the outbox).
    pub captures_queued: usize,
    /// Requests that became `paid` (found captured, or captured now).
    pub paid: usize,
    /// Requests that became `expired`.
    pub expired: usize,
    /// Look-ups that failed (kept for the next follow-up), with why.
    pub errors: Vec<String>,
}

/// Which open requests a follow-up looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    /// All of them.
    All,
    /// Those whose last look-up is older than [`follow_up_every`] (the scheduler).
    Due,
}

/// Exchanges of the look-ups, for the request log.
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

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Workspace {
    /// Looks up every open PayPal payment request now: captures the approved ones, marks paid
    /// and expired ones (see the module notes).
    pub async fn check_payment_requests(&self) -> Result<PaymentRequestCheck> {
        self.check_payment_requests_at(Utc::now()).await
    }

    /// [`Workspace::check_payment_requests`] as if it were `now` (tests pass the time they
    /// want; an order older than 29 days at `now` expires without a look-up).
    pub async fn check_payment_requests_at(
        &self,
        now: DateTime<Utc>,
    ) -> Result<PaymentRequestCheck> {
        self.follow_up(None, now, Which::All).await
    }

    /// The scheduler's follow-up: the requests due for a look-up at `now`.
    pub(crate) async fn follow_up_due_requests(
        &self,
        now: DateTime<Utc>,
    ) -> Result<PaymentRequestCheck> {
        self.follow_up(None, now, Which::Due).await
    }

    /// After a sync of `connection`: its open requests, if it is a PayPal connection. A
    /// failure is logged, never the sync's.
    pub(crate) async fn follow_up_after_sync(&self, connection: &ConnectionView) {
        if connection.provider != PAYPAL {
            return;
        }
        match self
            .follow_up(Some(connection.id.clone()), Utc::now(), Which::All)
            .await
        {
            Ok(check) if check != PaymentRequestCheck::default() => {
                tracing::info!(connection = %connection.name, ?check, "payment requests followed up");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(code = e.code.as_str(), "payment request follow-up: {e}"),
        }
    }

    async fn follow_up(
        &self,
        connection_id: Option<String>,
        now: DateTime<Utc>,
        which: Which,
    ) -> Result<PaymentRequestCheck> {
        let open = blocking(&self.store, move |s| {
            payment_requests::open_with_link(&s.conn(), PAYPAL, connection_id.as_deref())
        })
        .await?;
        let mut check = PaymentRequestCheck::default();
        let mut adapters: HashMap<String, Option<Arc<dyn RequestPayments>>> = HashMap::new();
        let exchanges = Arc::new(Exchanges::default());
        let mut queued = Vec::new();
        for request in open {
            // A capture under way is the outbox's; a stuck one (dead letter) waits for a
            // person (Retry or Discard in the outbox). A discarded one is looked up still, so
            // the request ends (paid if it was captured after all, or expired), but is never
            // captured again.
            let capture_discarded = match &request.capture_item {
                Some((_, status)) if status == "discarded" => true,
                Some(_) => continue,
                None => false,
            };
            let created = parse_time(&request.created_at).unwrap_or(now);
            if now - created >= Duration::days(ORDER_VALID_DAYS) {
                self.expire(
                    &request,
                    format!(
                        "PayPal order {} is over {ORDER_VALID_DAYS} days old and can no longer \
                         be paid; nothing was taken. Send the customer a new payment request.",
                        request.external_id
                    ),
                    Vec::new(),
                    now,
                )
                .await?;
                check.expired += 1;
                continue;
            }
            if which == Which::Due
                && request
                    .checked_at
                    .as_deref()
                    .and_then(parse_time)
                    .is_some_and(|at| now - at < follow_up_every(now - created))
            {
                continue;
            }
            if !adapters.contains_key(&request.connection_id) {
                let adapter = self
                    .request_adapter(&request.connection_id, exchanges.sink())
                    .await?;
                adapters.insert(request.connection_id.clone(), adapter);
            }
            let Some(adapter) = adapters[&request.connection_id].clone() else {
                continue;
            };
            check.looked_up += 1;
            let progress = adapter.link_progress(&request.external_id).await;
            let log = exchanges.take();
            match progress {
                Ok(LinkProgress::Approved) if capture_discarded => {
                    self.record_look_up(&request, log, now).await?;
                }
                Ok(LinkProgress::Approved) => {
                    if self.queue_capture(&request, log, now).await? {
                        check.captures_queued += 1;
                        queued.push(request.id.clone());
                    }
                }
                Ok(LinkProgress::Paid(payment)) => {
                    let (id, conn_id, at) = (
                        request.id.clone(),
                        request.connection_id.clone(),
                        rfc3339(now),
                    );
                    blocking(&self.store, move |s| {
                        let mut conn = s.conn();
                        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                        payments::upsert(&tx, &conn_id, &payment)?;
                        payment_requests::mark_paid(&tx, &id, &payment.external_id, &at)?;
                        payment_requests::set_checked(&tx, &id, &at)?;
                        request_log::append(&tx, &conn_id, &log)?;
                        tx.commit()?;
                        Ok(())
                    })
                    .await?;
                    check.paid += 1;
                }
                Ok(LinkProgress::Expired { reason }) => {
                    self.expire(&request, reason, log, now).await?;
                    check.expired += 1;
                }
                Ok(LinkProgress::Open { .. } | LinkProgress::CollectsItself) => {
                    self.record_look_up(&request, log, now).await?;
                }
                Err(e) => {
                    self.record_look_up(&request, log, now).await?;
                    let stop = matches!(
                        e.kind,
                        ProviderErrorKind::CircuitOpen | ProviderErrorKind::Auth
                    );
                    check.errors.push(e.message.clone());
                    if stop {
                        // Every other look-up of this connection would fail the same way.
                        adapters.insert(request.connection_id.clone(), None);
                    }
                }
            }
        }
        if !queued.is_empty() {
            self.send_outbox_now().await?;
            for id in queued {
                let key = id.clone();
                let now_paid =
                    blocking(&self.store, move |s| payment_requests::get(&s.conn(), &key))
                        .await?
                        .status
                        == "paid";
                check.paid += usize::from(now_paid);
            }
        }
        Ok(check)
    }

    /// The payment-link capability of a usable connection (`None`: skip its requests).
    async fn request_adapter(
        &self,
        connection_id: &str,
        sink: RequestSink,
    ) -> Result<Option<Arc<dyn RequestPayments>>> {
        let connection = self.find_connection(connection_id).await?;
        if matches!(
            connection.status,
            ConnectionStatus::NeedsReconnect | ConnectionStatus::Disconnected
        ) {
            return Ok(None);
        }
        match self.payments_adapter(&connection, sink).await {
            Ok(adapter) => Ok(adapter.payment_links),
            // No credentials stored (a half-made connection): nothing to look up with.
            Err(e) if e.code == ErrorCode::AuthFailed => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the capture item and links it to the request, in one transaction; false (nothing
    /// written) when the request has one already: one capture item per order.
    async fn queue_capture(
        &self,
        request: &OpenRequest,
        log: Vec<RequestRecord>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let (id, conn_id, order, at) = (
            request.id.clone(),
            request.connection_id.clone(),
            request.external_id.clone(),
            rfc3339(now),
        );
        let item_kind = kind(PAYPAL, ORDER_CAPTURE);
        let queued = blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let item = outbox::enqueue(
                &tx,
                &NewItem {
                    connection_id: &conn_id,
                    kind: &item_kind,
                    target: Some(&order),
                    payload_json: &capture_payload(&id),
                },
            )?;
            if !payment_requests::set_capture_item(&tx, &id, &item.id)? {
                // Another process queued its capture a moment ago: that one is sent.
                return Ok(false);
            }
            payment_requests::set_checked(&tx, &id, &at)?;
            request_log::append(&tx, &conn_id, &log)?;
            tx.commit()?;
            Ok(true)
        })
        .await?;
        if queued {
            tracing::info!(request = %request.id, order = %request.external_id, "approved PayPal order: capture queued");
        }
        Ok(queued)
    }

    async fn expire(
        &self,
        request: &OpenRequest,
        reason: String,
        log: Vec<RequestRecord>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (id, conn_id, at) = (
            request.id.clone(),
            request.connection_id.clone(),
            rfc3339(now),
        );
        blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            payment_requests::mark_expired(&tx, &id, &reason, &at)?;
            payment_requests::set_checked(&tx, &id, &at)?;
            request_log::append(&tx, &conn_id, &log)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn record_look_up(
        &self,
        request: &OpenRequest,
        log: Vec<RequestRecord>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (id, conn_id, at) = (
            request.id.clone(),
            request.connection_id.clone(),
            rfc3339(now),
        );
        blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            payment_requests::set_checked(&tx, &id, &at)?;
            request_log::append(&tx, &conn_id, &log)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn young_requests_are_looked_up_often_all_well_inside_the_capture_window() {
        assert_eq!(follow_up_every(Duration::minutes(5)), Duration::minutes(2));
        assert_eq!(follow_up_every(Duration::hours(23)), Duration::minutes(2));
        assert_eq!(follow_up_every(Duration::days(3)), Duration::minutes(15));
        for days in 0..ORDER_VALID_DAYS {
            assert!(follow_up_every(Duration::days(days)) < Duration::hours(3));
        }
    }
}
