//! Subscriptions, keyed by (connection, external id).

use crate::Result;
use crate::raw::Storable;
use crate::upsert::{ObjectTable, ProviderObject, UpsertCounts, upsert_rows};
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
pub fn upsert_many<R: Storable<Record = SubscriptionRecord> + ProviderObject>(
    conn: &Connection,
    connection_id: &str,
    subscriptions: &[R],
) -> Result<UpsertCounts> {
    upsert_rows(conn, &TABLE, connection_id, subscriptions, |stored, v| {
        let s = stored.record();
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
            stored.stored_raw_json()?,
        ]);
        Ok(())
    })
}

/// Subscriptions newest first (one connection, by name or id, or all), with the customer's
/// name or email when the customer is stored, and whether a cancel is waiting in the outbox.
pub fn list(
    conn: &Connection,
    connection: Option<&str>,
    limit: usize,
) -> Result<Vec<switchboard_core::views::SubscriptionView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.connection_id, c.name, c.provider, s.external_id,
                coalesce(cu.name, cu.email, s.customer_external_id), s.status, s.description,
                s.amount_minor, s.currency, s.currency_exponent, s.interval, s.interval_count,
                s.next_charge_at, s.cancel_at_period_end, s.created,
                EXISTS (SELECT 1 FROM outbox o WHERE o.connection_id = s.connection_id
                        AND o.target = s.external_id AND o.kind LIKE '%.subscription_cancel'
                        AND o.status IN ('queued', 'sending'))
         FROM subscriptions s
         JOIN connections c ON c.id = s.connection_id
         LEFT JOIN customers cu ON cu.connection_id = s.connection_id
              AND cu.external_id = s.customer_external_id
         WHERE (?1 IS NULL OR c.id = ?1 OR c.name = ?1)
         ORDER BY s.created DESC, s.id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(
        rusqlite::params![connection, i64::try_from(limit).unwrap_or(i64::MAX)],
        |r| {
            let status: String = r.get(6)?;
            let at_end: bool = r.get(14)?;
            Ok(switchboard_core::views::SubscriptionView {
                id: r.get(0)?,
                connection_id: r.get(1)?,
                connection: r.get(2)?,
                provider: r.get(3)?,
                external_id: r.get(4)?,
                customer: r.get(5)?,
                cancel_blocked: match status.as_str() {
                    "canceled" => Some("This subscription has ended.".to_string()),
                    _ if at_end => Some("It already ends when this period ends.".to_string()),
                    _ => None,
                },
                status,
                description: r.get(7)?,
                amount_minor: r.get(8)?,
                currency: r.get(9)?,
                currency_exponent: r.get(10)?,
                interval: r.get(11)?,
                interval_count: r.get(12)?,
                next_charge_at: r
                    .get::<_, Option<i64>>(13)?
                    .map(switchboard_core::unix_to_rfc3339),
                cancel_at_period_end: at_end,
                cancel_pending: r.get(16)?,
                created_at: switchboard_core::unix_to_rfc3339(r.get(15)?),
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One subscription by our id or the provider's: (connection id, external id, status).
pub fn find(conn: &Connection, key: &str) -> Result<(String, String, String, bool)> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT connection_id, external_id, status, cancel_at_period_end FROM subscriptions
         WHERE id = ?1 OR external_id = ?1 ORDER BY id = ?1 DESC LIMIT 1",
        [key],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .optional()?
    .ok_or_else(|| crate::StoreError::NotFound(format!("subscription `{key}`")))
}
