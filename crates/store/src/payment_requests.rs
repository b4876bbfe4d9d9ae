//! Payment requests: what the user asked for, and the link once the provider made it. Their
//! sending state is the outbox item with the same id.

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
        r.external_id, o.last_error_message, r.fallback_from, r.created_at
     FROM payment_requests r
     JOIN connections c ON c.id = r.connection_id
     JOIN outbox o ON o.id = r.id";

fn view(r: &Row<'_>) -> rusqlite::Result<PaymentRequestView> {
    let outbox_status: String = r.get(9)?;
    let id: String = r.get(0)?;
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
        status: match outbox_status.as_str() {
            "succeeded" => "created",
            "dead" | "discarded" => "failed",
            other => other,
        }
        .to_string(),
        url: r.get(10)?,
        external_id: r.get(11)?,
        error: match outbox_status.as_str() {
            "succeeded" => None,
            _ => r.get(12)?,
        },
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
