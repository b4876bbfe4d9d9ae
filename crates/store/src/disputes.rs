//! Disputes (chargebacks), keyed by (connection, external id), linked to their payment by its
//! external id.

use crate::Result;
use crate::raw::Storable;
use crate::upsert::{ObjectTable, ProviderObject, UpsertCounts, upsert_rows};
use rusqlite::Connection;
use rusqlite::types::ToSql;
use switchboard_core::records::DisputeRecord;

const TABLE: ObjectTable = ObjectTable {
    name: "disputes",
    columns: &[
        "external_id",
        "payment_external_id",
        "amount_minor",
        "currency",
        "currency_exponent",
        "status",
        "reason",
        "evidence_due_by",
        "created",
        "raw_json",
    ],
};

/// Inserts or updates by (connection, external id); identical objects are left untouched.
pub fn upsert_many<R: Storable<Record = DisputeRecord> + ProviderObject>(
    conn: &Connection,
    connection_id: &str,
    disputes: &[R],
) -> Result<UpsertCounts> {
    upsert_rows(conn, &TABLE, connection_id, disputes, |stored, v| {
        let d = stored.record();
        v.extend([
            d.external_id.to_sql()?,
            d.payment_external_id.to_sql()?,
            d.amount_minor.to_sql()?,
            d.currency.to_sql()?,
            d.currency_exponent.to_sql()?,
            d.status.to_sql()?,
            d.reason.to_sql()?,
            d.evidence_due_by.to_sql()?,
            d.created.to_sql()?,
            stored.stored_raw_json()?,
        ]);
        Ok(())
    })
}

/// The disputes of one payment, oldest first.
pub fn for_payment(
    conn: &Connection,
    connection_id: &str,
    payment_external_id: &str,
) -> Result<Vec<switchboard_core::views::DisputeView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT external_id, amount_minor, currency, currency_exponent, status, reason,
                evidence_due_by, created
         FROM disputes WHERE connection_id = ?1 AND payment_external_id = ?2
         ORDER BY created, external_id",
    )?;
    let rows = stmt.query_map([connection_id, payment_external_id], |r| {
        Ok(switchboard_core::views::DisputeView {
            external_id: r.get(0)?,
            amount_minor: r.get(1)?,
            currency: r.get(2)?,
            currency_exponent: r.get(3)?,
            status: r.get(4)?,
            reason: r.get(5)?,
            evidence_due_by: r
                .get::<_, Option<i64>>(6)?
                .map(switchboard_core::unix_to_rfc3339),
            created_at: switchboard_core::unix_to_rfc3339(r.get(7)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
