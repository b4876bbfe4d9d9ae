//! The one way provider objects are stored: many objects per statement, keyed by (connection,
//! external id), an identical object left untouched.
//!
//! A statement is `INSERT … VALUES (…), (…), … ON CONFLICT (connection_id, external_id) DO
//! UPDATE … WHERE <table>.raw_json IS NOT excluded.raw_json RETURNING id`. Each row carries a
//! fresh id: our id back means the object was inserted, the stored row's id back means it was
//! updated, and no row back means it was already identical. Many rows per statement matter for
//! the import benchmark: inside a transaction SQLite copies every page a statement touches into
//! the statement's journal once per statement, so one row per statement copied the table's and
//! each index's page once per object (plus a statement's fixed cost per object).

use crate::Result;
use rusqlite::Connection;
use rusqlite::types::ToSqlOutput;
use std::collections::HashSet;
use std::fmt::Write;
use switchboard_core::records::UpsertOutcome;

/// A table of provider objects: its name and the columns an upsert writes besides `id`,
/// `connection_id` and `updated_at`, in bind order. It must have `external_id` and `raw_json`
/// and a UNIQUE (connection_id, external_id).
pub(crate) struct ObjectTable {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

/// What a batch upsert did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UpsertCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl UpsertCounts {
    /// What happened to the one object of a single-object upsert.
    pub fn outcome(self) -> UpsertOutcome {
        if self.inserted > 0 {
            UpsertOutcome::Inserted
        } else if self.updated > 0 {
            UpsertOutcome::Updated
        } else {
            UpsertOutcome::Unchanged
        }
    }
}

/// Objects per statement: a provider's page (Stripe's largest is 100), well under SQLite's
/// 32,766 bound parameters at 17 columns.
const ROWS_PER_STATEMENT: usize = 100;

/// Upserts `objects` into `table`; `bind` pushes one object's values for `table.columns`.
pub(crate) fn upsert_rows<T>(
    conn: &Connection,
    table: &ObjectTable,
    connection_id: &str,
    objects: &[T],
    bind: impl for<'v> Fn(&'v T, &mut Vec<ToSqlOutput<'v>>) -> Result<()>,
) -> Result<UpsertCounts> {
    let now = switchboard_core::now_rfc3339();
    let mut counts = UpsertCounts::default();
    for chunk in objects.chunks(ROWS_PER_STATEMENT) {
        let ids: Vec<String> = chunk.iter().map(|_| crate::new_id()).collect();
        let mut values = Vec::with_capacity(chunk.len() * (table.columns.len() + 3));
        for (object, id) in chunk.iter().zip(&ids) {
            values.push(ToSqlOutput::from(id.as_str()));
            values.push(ToSqlOutput::from(connection_id));
            bind(object, &mut values)?;
            values.push(ToSqlOutput::from(now.as_str()));
        }
        debug_assert_eq!(values.len(), chunk.len() * (table.columns.len() + 3));
        let new_ids: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let mut stmt = conn.prepare_cached(&statement(table, chunk.len()))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
        let mut returned = 0;
        while let Some(row) = rows.next()? {
            returned += 1;
            let id = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            if new_ids.contains(id) {
                counts.inserted += 1;
            } else {
                counts.updated += 1;
            }
        }
        counts.unchanged += chunk.len() - returned;
    }
    Ok(counts)
}

/// The upsert statement for `rows` objects.
fn statement(table: &ObjectTable, rows: usize) -> String {
    let columns = table.columns.len() + 3;
    let mut sql = format!(
        "INSERT INTO {} (id, connection_id, {}, updated_at) VALUES ",
        table.name,
        table.columns.join(", ")
    );
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            sql.push_str(if column == 0 { "?" } else { ", ?" });
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (connection_id, external_id) DO UPDATE SET ");
    for column in table.columns.iter().filter(|c| **c != "external_id") {
        let _ = write!(sql, "{column} = excluded.{column}, ");
    }
    let _ = write!(
        sql,
        "updated_at = excluded.updated_at WHERE {0}.raw_json IS NOT excluded.raw_json RETURNING id",
        table.name
    );
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_has_one_placeholder_per_value() {
        let table = ObjectTable {
            name: "t",
            columns: &["external_id", "raw_json"],
        };
        let sql = statement(&table, 2);
        assert_eq!(sql.matches('?').count(), 2 * 5);
        assert!(sql.starts_with(
            "INSERT INTO t (id, connection_id, external_id, raw_json, updated_at) VALUES (?, ?, ?, ?, ?), (?"
        ));
        assert!(sql.contains("DO UPDATE SET raw_json = excluded.raw_json, updated_at"));
        assert!(!sql.contains("external_id = excluded"));
    }
}
