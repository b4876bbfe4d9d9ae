//! Payment requests: what the user asked for, the link once the provider made it, and what
//! came of it (`outcome`: paid or expired, migration 0015). The link's sending state is the
//! outbox item with the same id; a PayPal order's capture is an outbox item of its own
//! (`capture_item_id`).

use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};
use switchboard_core::views::PaymentRequestView;

/// A request to record (in the transaction that enqueues its outbox item).
pub struct NewRequest<'a> {
    pub id: &'a str,
    pub connection_id: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub currency_exponent: u8,
    pub description: &'a str,
    pub customer_email: Option<&'a str>,
    pub fallback_from: Option<&'a str>,
}

pub fn insert(conn: &Connection, r: &NewRequest<'_>) -> Result<()> {
    conn.execute(
        "INSERT INTO payment_requests (id, connection_id, amount_minor, currency,
             currency_exponent, description, customer_email, fallback_from, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            r.id,
            r.connection_id,
            r.amount_minor,
            r.currency,
            r.currency_exponent,
            r.description,
            r.customer_email,
            r.fallback_from,
            switchboard_core::now_rfc3339()
        ],
    )?;
    Ok(())
}

/// Stores the link the provider made.
pub fn set_link(conn: &Connection, id: &str, external_id: &str, url: &str) -> Result<()> {
    conn.execute(
        "UPDATE payment_requests SET external_id = ?2, url = ?3 WHERE id = ?1",
        params![id, external_id, url],
    )?;
    Ok(())
}

const SELECT: &str = "SELECT r.id, r.connection_id, c.name, c.provider, r.amount_minor,
        r.currency, r.currency_exponent, r.description, r.customer_email, o.status, r.url,
        r.external_id, o.last_error_message, r.fallback_from, r.created_at, r.outcome,
        r.outcome_reason, r.payment_external_id, k.status, k.last_error_message
     FROM payment_requests r
     JOIN connections c ON c.id = r.connection_id
     JOIN outbox o ON o.id = r.id
     LEFT JOIN outbox k ON k.id = r.capture_item_id";

fn view(r: &Row<'_>) -> rusqlite::Result<PaymentRequestView> {
    let outbox_status: String = r.get(9)?;
    let id: String = r.get(0)?;
    let outcome: Option<String> = r.get(15)?;
    let capture_status: Option<String> = r.get(18)?;
    // What came of it wins over how its link was sent; a capture under way shows as approved,
    // one in dead letters as failed (it waits for Retry or Discard), a discarded one as such.
    let (status, error) = match (outcome, capture_status.as_deref()) {
        (Some(outcome), _) => {
            let reason = (outcome == "expired").then(|| r.get(16)).transpose()?;
            (outcome, reason.flatten())
        }
        (None, Some("dead")) => ("capture_failed".to_string(), r.get(19)?),
        (None, Some("discarded")) => ("capture_discarded".to_string(), r.get(19)?),
        (None, Some(_)) => ("approved".to_string(), r.get(19)?),
        (None, None) => (
            match outbox_status.as_str() {
                "succeeded" => "created",
                "dead" | "discarded" => "failed",
                other => other,
            }
            .to_string(),
            match outbox_status.as_str() {
                "succeeded" => None,
                _ => r.get(12)?,
            },
        ),
    };
    Ok(PaymentRequestView {
        outbox_item_id: id.clone(),
        id,
        connection_id: r.get(1)?,
        connection: r.get(2)?,
        provider: r.get(3)?,
        amount_minor: r.get(4)?,
        currency: r.get(5)?,
        currency_exponent: r.get(6)?,
        description: r.get(7)?,
        customer_email: r.get(8)?,
        status,
        url: r.get(10)?,
        external_id: r.get(11)?,
        payment_external_id: r.get(17)?,
        error,
        fallback_from: r.get(13)?,
        created_at: r.get(14)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> Result<PaymentRequestView> {
    conn.query_row(&format!("{SELECT} WHERE r.id = ?1"), [id], view)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("payment request `{id}`")))
}

/// Newest first.
pub fn list(conn: &Connection, limit: usize) -> Result<Vec<PaymentRequestView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} ORDER BY r.created_at DESC, r.id DESC LIMIT ?1"
    ))?;
    let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], view)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An open request whose link was made: what a follow-up at the provider needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRequest {
    pub id: String,
    pub connection_id: String,
    /// The provider's link / order id.
    pub external_id: String,
    pub created_at: String,
    pub checked_at: Option<String>,
    /// The outbox item capturing it, and that item's status.
    pub capture_item: Option<(String, String)>,
}

/// Open requests (no outcome yet) of `provider`'s connections (one connection when given)
/// whose link was made, oldest first.
pub fn open_with_link(
    conn: &Connection,
    provider: &str,
    connection_id: Option<&str>,
) -> Result<Vec<OpenRequest>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.connection_id, r.external_id, r.created_at, r.checked_at,
                r.capture_item_id, k.status
         FROM payment_requests r
         JOIN connections c ON c.id = r.connection_id
         LEFT JOIN outbox k ON k.id = r.capture_item_id
         WHERE r.outcome IS NULL AND r.external_id IS NOT NULL AND c.provider = ?1
           AND (?2 IS NULL OR r.connection_id = ?2)
         ORDER BY r.created_at, r.id",
    )?;
    let rows = stmt.query_map(params![provider, connection_id], |r| {
        let item: Option<String> = r.get(5)?;
        let item_status: Option<String> = r.get(6)?;
        Ok(OpenRequest {
            id: r.get(0)?,
            connection_id: r.get(1)?,
            external_id: r.get(2)?,
            created_at: r.get(3)?,
            checked_at: r.get(4)?,
            capture_item: item.zip(item_status),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Records a look-up at the provider.
pub fn set_checked(conn: &Connection, id: &str, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE payment_requests SET checked_at = ?2 WHERE id = ?1",
        params![id, at],
    )?;
    Ok(())
}

/// Links the outbox item that captures the request (call in the transaction that enqueues
/// it). False, changing nothing, when the request has one already (another process queued
/// it first): one capture item per order, so its idempotency key is the order's.
pub fn set_capture_item(conn: &Connection, id: &str, item_id: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE payment_requests SET capture_item_id = ?2
         WHERE id = ?1 AND capture_item_id IS NULL",
        params![id, item_id],
    )?;
    Ok(n == 1)
}

/// The money is taken: the request is `paid` with the payment it became (whatever it was
/// marked before: a payment found is the truth).
pub fn mark_paid(conn: &Connection, id: &str, payment_external_id: &str, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE payment_requests SET outcome = 'paid', payment_external_id = ?2,
           outcome_reason = NULL, outcome_at = ?3
         WHERE id = ?1",
        params![id, payment_external_id, at],
    )?;
    Ok(())
}

/// It can no longer be paid (an open request only: a paid one stays paid).
pub fn mark_expired(conn: &Connection, id: &str, reason: &str, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE payment_requests SET outcome = 'expired', outcome_reason = ?2, outcome_at = ?3
         WHERE id = ?1 AND outcome IS NULL",
        params![id, reason, at],
    )?;
    Ok(())
}
