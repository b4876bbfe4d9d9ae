//! Subscriptions, keyed by (connection, external id).

use crate::Result;
use crate::upsert::{ObjectTable, UpsertCounts, upsert_rows};
use rusqlite::Connection;
use rusqlite::types::ToSql;
use switchboard_core::records::SubscriptionRecord;

const TABLE: ObjectTable = ObjectTable {
    name: "subscriptions",
    columns: &[
        "external_id",
        "customer_external_id",
        "status",
        "description",
        "amount_minor",
        "currency",
        "currency_exponent",
        "interval",
        "interval_count",
        "next_charge_at",
        "cancel_at_period_end",
        "created",
        "raw_json",
    ],
};

/// Inserts or updates by (connection, external id); identical objects are left untouched.
pub fn upsert_many(
    conn: &Connection,
    connection_id: &str,
    subscriptions: &[SubscriptionRecord],
) -> Result<UpsertCounts> {
    upsert_rows(conn, &TABLE, connection_id, subscriptions, |s, v| {
        v.extend([
            s.external_id.to_sql()?,
            s.customer_external_id.to_sql()?,
            s.status.to_sql()?,
            s.description.to_sql()?,
            s.amount_minor.to_sql()?,
            s.currency.to_sql()?,
            s.currency_exponent.to_sql()?,
            s.interval.to_sql()?,
            s.interval_count.to_sql()?,
            s.next_charge_at.to_sql()?,
            s.cancel_at_period_end.to_sql()?,
            s.created.to_sql()?,
            s.raw_json.to_sql()?,
        ]);
        Ok(())
    })
}
