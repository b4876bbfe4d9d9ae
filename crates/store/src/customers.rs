//! Customers, keyed by (connection, external id).

use crate::Result;
use crate::raw::Storable;
use crate::upsert::{ObjectTable, ProviderObject, UpsertCounts, upsert_rows};
use rusqlite::Connection;
use rusqlite::types::ToSql;
use switchboard_core::records::CustomerRecord;

const TABLE: ObjectTable = ObjectTable {
    name: "customers",
    columns: &[
        "external_id",
        "name",
        "email",
        "phone",
        "created",
        "raw_json",
    ],
};

/// Inserts or updates by (connection, external id); identical objects are left untouched.
pub fn upsert_many<R: Storable<Record = CustomerRecord> + ProviderObject>(
    conn: &Connection,
    connection_id: &str,
    customers: &[R],
) -> Result<UpsertCounts> {
    upsert_rows(conn, &TABLE, connection_id, customers, |stored, v| {
        let c = stored.record();
        v.extend([
            c.external_id.to_sql()?,
            c.name.to_sql()?,
            c.email.to_sql()?,
            c.phone.to_sql()?,
            c.created.to_sql()?,
            stored.stored_raw_json()?,
        ]);
        Ok(())
    })
}
