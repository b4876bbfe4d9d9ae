//! Refunds, keyed by (connection, external id), linked to their payment by its external id.

use crate::Result;
use crate::raw::Storable;
use crate::upsert::{ObjectTable, ProviderObject, UpsertCounts, upsert_rows};
use rusqlite::types::ToSql;
use rusqlite::{Connection, params};
use switchboard_core::records::{RefundRecord, UpsertOutcome};
use switchboard_core::unix_to_rfc3339;
use switchboard_core::views::RefundView;

const TABLE: ObjectTable = ObjectTable {
    name: "refunds",
    columns: &[
        "external_id",
        "payment_external_id",
        "amount_minor",
        "currency",
        "currency_exponent",
        "status",
        "reason",
        "balance_transaction_external_id",
        "created",
        "raw_json",
    ],
};

/// Inserts or updates by (connection, external id); identical objects are left untouched.
pub fn upsert_many<R: Storable<Record = RefundRecord> + ProviderObject>(
    conn: &Connection,
    connection_id: &str,
    refunds: &[R],
) -> Result<UpsertCounts> {
    upsert_rows(conn, &TABLE, connection_id, refunds, |stored, v| {
        let r = stored.record();
        v.extend([
            r.external_id.to_sql()?,
            r.payment_external_id.to_sql()?,
            r.amount_minor.to_sql()?,
            r.currency.to_sql()?,
            r.currency_exponent.to_sql()?,
            r.status.to_sql()?,
            r.reason.to_sql()?,
            r.balance_transaction_external_id.to_sql()?,
            r.created.to_sql()?,
            stored.stored_raw_json()?,
        ]);
        Ok(())
    })
}

/// [`upsert_many`] for one refund.
pub fn upsert(conn: &Connection, connection_id: &str, r: &RefundRecord) -> Result<UpsertOutcome> {
    Ok(upsert_many(conn, connection_id, std::slice::from_ref(r))?.outcome())
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
