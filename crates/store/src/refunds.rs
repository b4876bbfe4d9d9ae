//! Refunds, keyed by (connection, external id), linked to their payment by its external id.

use crate::Result;
use rusqlite::{Connection, params};
use switchboard_core::records::{RefundRecord, UpsertOutcome};
use switchboard_core::unix_to_rfc3339;
use switchboard_core::views::RefundView;

pub fn upsert(conn: &Connection, connection_id: &str, r: &RefundRecord) -> Result<UpsertOutcome> {
    let id = crate::new_id();
    crate::upsert_object(
        conn,
        "INSERT INTO refunds (id, connection_id, external_id, payment_external_id, amount_minor,
               currency, currency_exponent, status, reason, balance_transaction_external_id, created,
               raw_json, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (connection_id, external_id) DO UPDATE SET
               payment_external_id = excluded.payment_external_id,
               amount_minor = excluded.amount_minor, currency = excluded.currency,
               currency_exponent = excluded.currency_exponent, status = excluded.status,
               reason = excluded.reason,
               balance_transaction_external_id = excluded.balance_transaction_external_id,
               created = excluded.created, raw_json = excluded.raw_json,
               updated_at = excluded.updated_at
             WHERE refunds.raw_json IS NOT excluded.raw_json
             RETURNING id",
        &id,
        params![
            id,
            connection_id,
            r.external_id,
            r.payment_external_id,
            r.amount_minor,
            r.currency,
            r.currency_exponent,
            r.status,
            r.reason,
            r.balance_transaction_external_id,
            r.created,
            r.raw_json,
            switchboard_core::now_rfc3339()
        ],
    )
}

pub fn for_payment(
    conn: &Connection,
    connection_id: &str,
    payment_external_id: &str,
) -> Result<Vec<RefundView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT external_id, amount_minor, currency, currency_exponent, status, reason, created
         FROM refunds WHERE connection_id = ?1 AND payment_external_id = ?2
         ORDER BY created, external_id",
    )?;
    let rows = stmt.query_map(params![connection_id, payment_external_id], |r| {
        Ok(RefundView {
            external_id: r.get(0)?,
            amount_minor: r.get(1)?,
            currency: r.get(2)?,
            currency_exponent: r.get(3)?,
            status: r.get(4)?,
            reason: r.get(5)?,
            created_at: unix_to_rfc3339(r.get(6)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
