//! Disputes (chargebacks), keyed by (connection, external id), linked to their payment by its
//! external id.

use crate::Result;
use crate::upsert::{ObjectTable, UpsertCounts, upsert_rows};
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
pub fn upsert_many(
    conn: &Connection,
    connection_id: &str,
    disputes: &[DisputeRecord],
) -> Result<UpsertCounts> {
    upsert_rows(conn, &TABLE, connection_id, disputes, |d, v| {
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
            d.raw_json.to_sql()?,
        ]);
        Ok(())
    })
}
