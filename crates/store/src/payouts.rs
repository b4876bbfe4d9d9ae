//! Payouts and what each contains (its entries), keyed by (connection, external id).

use crate::Result;
use crate::upsert::{ObjectTable, UpsertCounts, upsert_rows};
use rusqlite::Connection;
use rusqlite::types::ToSql;
use switchboard_core::records::{PayoutEntryRecord, PayoutRecord};

const PAYOUTS: ObjectTable = ObjectTable {
    name: "payouts",
    columns: &[
        "external_id",
        "amount_minor",
        "currency",
        "currency_exponent",
        "status",
        "arrival_date",
        "destination",
        "created",
        "raw_json",
    ],
};

const ENTRIES: ObjectTable = ObjectTable {
    name: "payout_entries",
    columns: &[
        "external_id",
        "payout_external_id",
        "kind",
        "source_external_id",
        "gross_minor",
        "fee_minor",
        "net_minor",
        "currency",
        "currency_exponent",
        "created",
        "raw_json",
    ],
};

/// Inserts or updates payouts by (connection, external id).
pub fn upsert_many(
    conn: &Connection,
    connection_id: &str,
    payouts: &[PayoutRecord],
) -> Result<UpsertCounts> {
    upsert_rows(conn, &PAYOUTS, connection_id, payouts, |p, v| {
        v.extend([
            p.external_id.to_sql()?,
            p.amount_minor.to_sql()?,
            p.currency.to_sql()?,
            p.currency_exponent.to_sql()?,
            p.status.to_sql()?,
            p.arrival_date.to_sql()?,
            p.destination.to_sql()?,
            p.created.to_sql()?,
            p.raw_json.to_sql()?,
        ]);
        Ok(())
    })
}

/// Inserts or updates payout entries by (connection, external id).
pub fn upsert_entries(
    conn: &Connection,
    connection_id: &str,
    entries: &[PayoutEntryRecord],
) -> Result<UpsertCounts> {
    upsert_rows(conn, &ENTRIES, connection_id, entries, |e, v| {
        v.extend([
            e.external_id.to_sql()?,
            e.payout_external_id.to_sql()?,
            e.kind.to_sql()?,
            e.source_external_id.to_sql()?,
            e.gross_minor.to_sql()?,
            e.fee_minor.to_sql()?,
            e.net_minor.to_sql()?,
            e.currency.to_sql()?,
            e.currency_exponent.to_sql()?,
            e.created.to_sql()?,
            e.raw_json.to_sql()?,
        ]);
        Ok(())
    })
}
